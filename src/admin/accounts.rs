//! Accounts (the organisations users belong to) and account groups.

use super::power::require_power_over_all;
use super::validate;
use crate::domain::authz::Caller;
use crate::domain::permissions::admin;
use crate::domain::*;
use crate::store::Store;
use serde::Deserialize;

/// The longest account or account group name.
const NAME_MAX: usize = 200;
/// The longest account group description.
const DESCRIPTION_MAX: usize = 1000;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListAccounts {
    /// Only accounts of this kind.
    pub kind: Option<AccountKind>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    pub name: String,
    /// `provider` or `customer` (the tenant has exactly one guest account, built in).
    pub kind: AccountKind,
}

/// A partial update: absent fields stay.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    pub name: Option<String>,
    pub kind: Option<AccountKind>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountGroup {
    pub name: String,
    pub description: Option<String>,
    #[serde(default)]
    pub account_ids: Vec<AccountId>,
}

/// A partial update: absent fields stay, `description: null` clears it, `account_ids`
/// replaces the group's accounts.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccountGroup {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "validate::nullable")]
    pub description: Option<Option<String>>,
    pub account_ids: Option<Vec<AccountId>>,
}

fn guest_refused() -> DomainError {
    DomainError::invalid(
        "kind",
        "there is only one guest account, the built-in one; use `provider` or `customer`",
    )
}

/// Lists the tenant's accounts.
pub async fn list(store: &Store, caller: &Caller, req: ListAccounts) -> Result<Vec<Account>> {
    caller.require(admin::ACCOUNTS_READ)?;
    store.list_accounts(caller.tenant_id(), req.kind).await
}

/// One page of the tenant's accounts by name, optionally of one kind (the console's list).
pub async fn page(
    store: &Store,
    caller: &Caller,
    req: ListAccounts,
    page: &NamedPage,
) -> Result<Listed<Account>> {
    caller.require(admin::ACCOUNTS_READ)?;
    store
        .page_accounts(caller.tenant_id(), req.kind, page)
        .await
}

/// Reads one account.
pub async fn get(store: &Store, caller: &Caller, id: &AccountId) -> Result<Account> {
    caller.require(admin::ACCOUNTS_READ)?;
    store
        .get_account(caller.tenant_id(), id)
        .await?
        .ok_or(DomainError::NotFound("account"))
}

/// Creates a provider or customer account.
pub async fn create(store: &Store, caller: &Caller, req: CreateAccount) -> Result<Account> {
    caller.require(admin::ACCOUNTS_WRITE)?;
    let name = validate::name("name", &req.name, NAME_MAX)?;
    if req.kind == AccountKind::Guest {
        return Err(guest_refused());
    }
    store
        .insert_account(caller.tenant_id(), &name, req.kind, &caller.actor())
        .await
}

/// Renames an account or changes its kind. The built-in Guest account keeps both (409).
pub async fn update(
    store: &Store,
    caller: &Caller,
    id: &AccountId,
    req: UpdateAccount,
) -> Result<Account> {
    caller.require(admin::ACCOUNTS_WRITE)?;
    let name = match req.name {
        Some(n) => Some(validate::name("name", &n, NAME_MAX)?),
        None => None,
    };
    store
        .update_account(
            caller.tenant_id(),
            id,
            name.as_deref(),
            req.kind,
            &caller.actor(),
        )
        .await
}

/// Deletes an account that has no memberships; never the Guest account (409). The caller needs
/// power over everyone with a membership or an account-scoped role in it.
pub async fn delete(store: &Store, caller: &Caller, id: &AccountId) -> Result<()> {
    caller.require(admin::ACCOUNTS_WRITE)?;
    let members = store.account_members(caller.tenant_id(), id).await?;
    require_power_over_all(store, caller, &members, "deleting this account").await?;
    store
        .delete_account(caller.tenant_id(), id, &caller.actor())
        .await
}

/// Lists the tenant's account groups.
pub async fn list_groups(store: &Store, caller: &Caller) -> Result<Vec<AccountGroup>> {
    caller.require(admin::ACCOUNTS_READ)?;
    store.list_account_groups(caller.tenant_id()).await
}

/// One page of the tenant's account groups by name (the console's list).
pub async fn page_groups(
    store: &Store,
    caller: &Caller,
    page: &NamedPage,
) -> Result<Listed<AccountGroupLine>> {
    caller.require(admin::ACCOUNTS_READ)?;
    store.page_account_groups(caller.tenant_id(), page).await
}

/// Reads one account group.
pub async fn get_group(
    store: &Store,
    caller: &Caller,
    id: &AccountGroupId,
) -> Result<AccountGroup> {
    caller.require(admin::ACCOUNTS_READ)?;
    store
        .get_account_group(caller.tenant_id(), id)
        .await?
        .ok_or(DomainError::NotFound("account group"))
}

/// Creates an account group, optionally with accounts.
pub async fn create_group(
    store: &Store,
    caller: &Caller,
    req: CreateAccountGroup,
) -> Result<AccountGroup> {
    caller.require(admin::ACCOUNTS_WRITE)?;
    let name = validate::name("name", &req.name, NAME_MAX)?;
    let description = validate::optional("description", req.description, DESCRIPTION_MAX)?;
    store
        .insert_account_group(
            caller.tenant_id(),
            &name,
            description.as_deref(),
            &req.account_ids,
            &caller.actor(),
        )
        .await
}

/// Changes an account group's name, description or accounts.
pub async fn update_group(
    store: &Store,
    caller: &Caller,
    id: &AccountGroupId,
    req: UpdateAccountGroup,
) -> Result<AccountGroup> {
    caller.require(admin::ACCOUNTS_WRITE)?;
    let name = match req.name {
        Some(n) => Some(validate::name("name", &n, NAME_MAX)?),
        None => None,
    };
    let description = match req.description {
        Some(d) => Some(validate::optional("description", d, DESCRIPTION_MAX)?),
        None => None,
    };
    store
        .update_account_group(
            caller.tenant_id(),
            id,
            name.as_deref(),
            description.as_ref().map(Option::as_deref),
            req.account_ids.as_deref(),
            &caller.actor(),
        )
        .await
}

/// Deletes an account group; its accounts stay.
pub async fn delete_group(store: &Store, caller: &Caller, id: &AccountGroupId) -> Result<()> {
    caller.require(admin::ACCOUNTS_WRITE)?;
    store
        .delete_account_group(caller.tenant_id(), id, &caller.actor())
        .await
}

/// Adds (`member`) or removes an account of an account group.
pub async fn set_group_account(
    store: &Store,
    caller: &Caller,
    id: &AccountGroupId,
    account: &AccountId,
    member: bool,
) -> Result<AccountGroup> {
    caller.require(admin::ACCOUNTS_WRITE)?;
    store
        .set_group_account(caller.tenant_id(), id, account, member, &caller.actor())
        .await
}
