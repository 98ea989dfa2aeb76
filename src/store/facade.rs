//! `Store`'s methods: each forwards to the backend of the database in use.

use super::{Db, Store};
use crate::domain::attributes::AttributeChanges;
use crate::domain::audit::Actor;
use crate::domain::changes::{NewUser, UserProfile};
use crate::domain::*;

/// Declares `Store` methods that forward to the same-named backend method.
macro_rules! forward {
    ($( $(#[$doc:meta])* fn $name:ident(&self $(, $arg:ident : $ty:ty)* $(,)?) -> $ret:ty; )*) => {
        impl Store {
            $(
                $(#[$doc])*
                pub async fn $name(&self $(, $arg: $ty)*) -> Result<$ret> {
                    match &self.db {
                        Db::Sqlite(b) => b.$name($($arg),*).await,
                        Db::Postgres(b) => b.$name($($arg),*).await,
                    }
                }
            )*
        }
    };
}

forward! {
    /// Applies pending migrations.
    fn migrate(&self) -> ();
    /// Answers when the database does.
    fn ping(&self) -> ();

    fn tenant_by_slug(&self, slug: &str) -> Option<Tenant>;
    fn list_tenants(&self) -> Vec<Tenant>;
    fn create_tenant(&self, slug: &str, name: &str, owner: NewUser, actor: &Actor) -> (Tenant, User);
    fn transfer_ownership(&self, tenant: &TenantId, new_owner: &UserId, actor: &Actor) -> Tenant;

    fn insert_user(&self, tenant: &TenantId, user: &NewUser, actor: &Actor) -> User;
    fn get_user(&self, tenant: &TenantId, id: &UserId) -> Option<User>;
    fn user_by_email(&self, tenant: &TenantId, email: &str) -> Option<User>;
    fn list_users(&self, tenant: &TenantId, query: &UserQuery) -> Page<User>;
    fn update_user(&self, tenant: &TenantId, id: &UserId, version: i64, profile: &UserProfile,
        attributes: &AttributeChanges, action: &'static str, actor: &Actor) -> User;
    fn delete_user(&self, tenant: &TenantId, id: &UserId, actor: &Actor) -> ();
    fn anonymise_user(&self, tenant: &TenantId, id: &UserId, profile: &UserProfile, actor: &Actor) -> User;
    fn manages_user(&self, tenant: &TenantId, manager: &UserId, user: &UserId) -> bool;
    fn count_users(&self, tenant: &TenantId) -> i64;
}

forward! {
    fn insert_token(&self, tenant: &TenantId, name: &str, user: Option<&UserId>, token_hash: &str, actor: &Actor) -> ApiToken;
    fn token_by_hash(&self, token_hash: &str) -> Option<(TenantId, ApiToken)>;
    fn list_tokens(&self, tenant: &TenantId) -> Vec<ApiToken>;
    fn revoke_token(&self, tenant: &TenantId, id: &TokenId, actor: &Actor) -> ();

    fn attribute_defs(&self, tenant: &TenantId) -> Vec<AttributeDef>;

    fn get_role(&self, tenant: &TenantId, id: &RoleId) -> Option<Role>;
    fn effective_permissions(&self, tenant: &TenantId, user: &UserId) -> crate::domain::permissions::EffectivePermissions;
}

forward! {
    fn role_by_template(&self, tenant: &TenantId, template: RoleTemplate) -> Role;
    fn manages_account(&self, tenant: &TenantId, manager: &UserId, account: &AccountId) -> bool;
}
