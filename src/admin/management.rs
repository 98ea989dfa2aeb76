//! Management relations: a manager administers the users they manage directly, and the users
//! with a current membership in the accounts (or account groups) they manage.

use super::users::{authorised_user, require_power_over_id};
use crate::domain::authz::{Caller, UserScope};
use crate::domain::permissions::admin;
use crate::domain::*;
use crate::store::Store;
use serde::Deserialize;

/// What kind of thing a manager manages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    User,
    Account,
    AccountGroup,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddManagement {
    pub kind: TargetKind,
    /// The id of the user, account or account group.
    pub id: String,
}

impl AddManagement {
    fn target(self) -> ManagementTarget {
        match self.kind {
            TargetKind::User => ManagementTarget::User(UserId(self.id)),
            TargetKind::Account => ManagementTarget::Account(AccountId(self.id)),
            TargetKind::AccountGroup => ManagementTarget::AccountGroup(AccountGroupId(self.id)),
        }
    }
}

/// Making someone a manager hands out administration scope: only callers who may change every
/// user (`castellan:users.write`, unscoped) may do it.
fn require_unscoped_write(caller: &Caller) -> Result<()> {
    match caller.user_write_scope()? {
        UserScope::All => Ok(()),
        UserScope::ManagedBy(_) => Err(DomainError::forbidden(format!(
            "changing who manages what needs the permission `{}`",
            admin::USERS_WRITE
        ))),
    }
}

/// What the user `manager` manages; the caller needs to be able to read that user.
pub async fn list(store: &Store, caller: &Caller, manager: &UserId) -> Result<Vec<Management>> {
    authorised_user(store, caller, manager, false).await?;
    store.list_management(caller.tenant_id(), manager).await
}

/// Who manages `user` today, and through what (the user, an account or an account group they
/// belong to now); the caller needs to be able to read that user.
pub async fn managers_of(store: &Store, caller: &Caller, user: &UserId) -> Result<Vec<Management>> {
    authorised_user(store, caller, user, false).await?;
    store.managers_of(caller.tenant_id(), user).await
}

/// Makes `manager` manage a user, account or account group of the tenant.
pub async fn add(
    store: &Store,
    caller: &Caller,
    manager: &UserId,
    req: AddManagement,
) -> Result<Management> {
    require_unscoped_write(caller)?;
    authorised_user(store, caller, manager, true).await?;
    if req.id.trim().is_empty() {
        return Err(DomainError::invalid("id", "`id` must not be empty"));
    }
    let target = req.target();
    if target == ManagementTarget::User(manager.clone()) {
        return Err(DomainError::invalid(
            "id",
            "a user cannot manage themselves",
        ));
    }
    if let ManagementTarget::User(user) = &target {
        require_power_over_id(store, caller, user).await?;
    }
    store
        .insert_management(caller.tenant_id(), manager, &target, &caller.actor())
        .await
}

/// Ends one of `manager`'s management relations.
pub async fn delete(
    store: &Store,
    caller: &Caller,
    manager: &UserId,
    id: &ManagementId,
) -> Result<()> {
    require_unscoped_write(caller)?;
    authorised_user(store, caller, manager, true).await?;
    store
        .delete_management(caller.tenant_id(), manager, id, &caller.actor())
        .await
}
