//! Per-user permission overrides, and the effective permissions they shape.

use super::users::authorised_user;
use super::validate;
use crate::domain::authz::Caller;
use crate::domain::permissions::EffectivePermissions;
use crate::domain::*;
use crate::store::Store;
use serde::Deserialize;

/// An override to set on a user.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetOverride {
    /// `grant` adds the permission, `deny` removes it whatever the roles say.
    pub effect: Effect,
    pub reason: Option<String>,
}

/// A user's overrides.
pub async fn list(
    store: &Store,
    caller: &Caller,
    user: &UserId,
) -> Result<Vec<PermissionOverride>> {
    authorised_user(store, caller, user, false).await?;
    store.list_overrides(caller.tenant_id(), user).await
}

/// The catalogue entry of `name`, which the caller must hold to override it.
async fn overridable(store: &Store, caller: &Caller, name: &str) -> Result<Permission> {
    let permission = store
        .permission_by_name(caller.tenant_id(), name)
        .await?
        .ok_or_else(|| {
            DomainError::invalid("permission", format!("permission `{name}` does not exist"))
        })?;
    caller.require_all_held([name])?;
    Ok(permission)
}

/// Creates or replaces a user's override of one permission. The tenant's owner cannot be
/// denied Castellan's own permissions.
pub async fn set(
    store: &Store,
    caller: &Caller,
    user: &UserId,
    name: &str,
    req: SetOverride,
) -> Result<PermissionOverride> {
    let target = authorised_user(store, caller, user, true).await?;
    let permission = overridable(store, caller, name).await?;
    if req.effect == Effect::Deny && target.is_owner && name.starts_with("castellan:") {
        return Err(DomainError::conflict(
            "the tenant's owner cannot be denied Castellan's own permissions",
        ));
    }
    let reason = validate::optional("reason", req.reason, 500)?;
    store
        .set_override(
            caller.tenant_id(),
            user,
            &permission.id,
            req.effect,
            reason.as_deref(),
            &caller.actor(),
        )
        .await
}

/// Removes a user's override of one permission.
pub async fn delete(store: &Store, caller: &Caller, user: &UserId, name: &str) -> Result<()> {
    authorised_user(store, caller, user, true).await?;
    let permission = overridable(store, caller, name).await?;
    store
        .delete_override(caller.tenant_id(), user, &permission.id, &caller.actor())
        .await
}

/// A user's effective permissions, each explained.
pub async fn effective(
    store: &Store,
    caller: &Caller,
    user: &UserId,
) -> Result<EffectivePermissions> {
    authorised_user(store, caller, user, false).await?;
    store.effective_permissions(caller.tenant_id(), user).await
}
