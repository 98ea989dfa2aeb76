//! Roles (named sets of permissions) and the roles users hold.

use super::mfa::policy_field;
use super::power::{require_castellan_held, require_power_over_holders};
use super::users::{authorised_user, check_grantable_role};
use super::validate;
use crate::domain::authz::{Caller, UserScope};
use crate::domain::permissions::admin;
use crate::domain::*;
use crate::store::Store;
use serde::Deserialize;

/// A role to create.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRole {
    pub name: String,
    pub description: Option<String>,
    /// Names of permissions of the catalogue.
    pub permissions: Vec<String>,
    /// `optional`, `required` or `passkey_required`; absent or `null` demands nothing.
    #[serde(default)]
    pub mfa_policy: serde_json::Value,
}

/// A partial update of a role: absent fields stay, a `null` description clears it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateRole {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "validate::nullable")]
    pub description: Option<Option<String>>,
    /// Replaces the role's permissions.
    pub permissions: Option<Vec<String>>,
    /// Sets the role's MFA policy; `null` clears it.
    #[serde(default, deserialize_with = "validate::nullable")]
    pub mfa_policy: Option<Option<serde_json::Value>>,
}

/// A role to give a user.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignRole {
    pub role_id: RoleId,
    /// Hold the role only within this account (where the user must have a membership).
    pub account_id: Option<AccountId>,
    /// Make this the user's main role (their first role is main anyway).
    #[serde(default)]
    pub main: bool,
}

/// A change of an assignment: only `{"main": true}` (the mark moves, it is never just removed).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateAssignment {
    pub main: bool,
}

/// The tenant's roles.
pub async fn list(store: &Store, caller: &Caller) -> Result<Vec<Role>> {
    caller.require(admin::ROLES_READ)?;
    store.list_roles(caller.tenant_id()).await
}

/// One role.
pub async fn get(store: &Store, caller: &Caller, id: &RoleId) -> Result<Role> {
    caller.require(admin::ROLES_READ)?;
    store
        .get_role(caller.tenant_id(), id)
        .await?
        .ok_or(DomainError::NotFound("role"))
}

/// Creates a role; every permission must be in the catalogue.
pub async fn create(store: &Store, caller: &Caller, req: CreateRole) -> Result<Role> {
    caller.require(admin::ROLES_WRITE)?;
    let name = validate::name("name", &req.name, 100)?;
    let description = validate::optional("description", req.description, 500)?;
    let mfa_policy = policy_field("mfa_policy", &req.mfa_policy)?;
    // Nobody makes a role more powerful than themselves, as for a role's update.
    require_castellan_held(caller, req.permissions.iter().map(String::as_str))?;
    store
        .create_role(
            caller.tenant_id(),
            &name,
            description.as_deref(),
            &req.permissions,
            mfa_policy,
            &caller.actor(),
        )
        .await
}

/// Changes a role. The Owner role's permissions are fixed. Changing a role changes the power of
/// everyone holding it: the caller needs power over each holder, and to hold every `castellan:`
/// permission added.
pub async fn update(store: &Store, caller: &Caller, id: &RoleId, req: UpdateRole) -> Result<Role> {
    caller.require(admin::ROLES_WRITE)?;
    let before = store
        .get_role(caller.tenant_id(), id)
        .await?
        .ok_or(DomainError::NotFound("role"))?;
    if let Some(wanted) = &req.permissions {
        require_castellan_held(
            caller,
            wanted
                .iter()
                .filter(|p| !before.permissions.contains(p))
                .map(String::as_str),
        )?;
    }
    require_power_over_holders(store, caller, id, "changing this role").await?;
    let name = req
        .name
        .map(|n| validate::name("name", &n, 100))
        .transpose()?;
    let description = req
        .description
        .map(|d| validate::optional("description", d, 500))
        .transpose()?;
    let mfa_policy = req
        .mfa_policy
        .map(|p| policy_field("mfa_policy", p.as_ref().unwrap_or(&serde_json::Value::Null)))
        .transpose()?;
    store
        .update_role(
            caller.tenant_id(),
            id,
            name.as_deref(),
            description.as_ref().map(Option::as_deref),
            req.permissions.as_deref(),
            mfa_policy,
            &caller.actor(),
        )
        .await
}

/// Deletes a role that is neither seeded nor held by a user or group.
pub async fn delete(store: &Store, caller: &Caller, id: &RoleId) -> Result<()> {
    caller.require(admin::ROLES_WRITE)?;
    require_power_over_holders(store, caller, id, "deleting this role").await?;
    store
        .delete_role(caller.tenant_id(), id, &caller.actor())
        .await
}

/// The roles a user holds.
pub async fn assignments(
    store: &Store,
    caller: &Caller,
    user: &UserId,
) -> Result<Vec<RoleAssignment>> {
    authorised_user(store, caller, user, false).await?;
    store.list_assignments(caller.tenant_id(), user).await
}

/// Refuses an account-scoped change by a manager who does not manage that account.
async fn check_account_scope(
    store: &Store,
    caller: &Caller,
    account: Option<&AccountId>,
) -> Result<()> {
    let (Some(account), UserScope::ManagedBy(manager)) = (account, caller.user_write_scope()?)
    else {
        return Ok(());
    };
    if store
        .manages_account(caller.tenant_id(), &manager, account)
        .await?
    {
        Ok(())
    } else {
        Err(DomainError::forbidden("you do not manage this account"))
    }
}

/// Gives a user a role the caller may hand out.
pub async fn assign(
    store: &Store,
    caller: &Caller,
    user: &UserId,
    req: AssignRole,
) -> Result<RoleAssignment> {
    authorised_user(store, caller, user, true).await?;
    check_grantable_role(store, caller, &req.role_id).await?;
    check_account_scope(store, caller, req.account_id.as_ref()).await?;
    store
        .assign_role(
            caller.tenant_id(),
            user,
            &req.role_id,
            req.account_id.as_ref(),
            req.main,
            &caller.actor(),
        )
        .await
}

/// Makes an assignment the user's main role.
pub async fn update_assignment(
    store: &Store,
    caller: &Caller,
    user: &UserId,
    id: &RoleAssignmentId,
    req: UpdateAssignment,
) -> Result<RoleAssignment> {
    authorised_user(store, caller, user, true).await?;
    if !req.main {
        return Err(DomainError::invalid(
            "main",
            "the main mark moves by setting `main: true` on another assignment",
        ));
    }
    store
        .set_main_assignment(caller.tenant_id(), user, id, &caller.actor())
        .await
}

/// Takes a role away from a user; only what the caller could hand out, and never the Owner role.
pub async fn unassign(
    store: &Store,
    caller: &Caller,
    user: &UserId,
    id: &RoleAssignmentId,
) -> Result<()> {
    authorised_user(store, caller, user, true).await?;
    let assignment = store.get_assignment(caller.tenant_id(), user, id).await?;
    let role = store
        .get_role(caller.tenant_id(), &assignment.role_id)
        .await?
        .ok_or(DomainError::NotFound("role"))?;
    if role.template == Some(RoleTemplate::Owner) {
        return Err(DomainError::conflict(
            "the Owner role moves only by ownership transfer",
        ));
    }
    caller.require_all_held(role.permissions.iter().map(String::as_str))?;
    check_account_scope(store, caller, assignment.account_id.as_ref()).await?;
    store
        .delete_assignment(caller.tenant_id(), user, id, &caller.actor())
        .await
}
