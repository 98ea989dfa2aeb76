//! The permission catalogue: list, add, describe, remove.

use super::power::require_power_over_all;
use super::validate;
use crate::domain::authz::Caller;
use crate::domain::permissions::{admin, validate_permission_name};
use crate::domain::*;
use crate::store::Store;
use serde::Deserialize;

/// A permission to add to the catalogue.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePermission {
    /// `namespace:name`, lowercase.
    pub name: String,
    pub description: Option<String>,
}

/// A new description (`null` clears it; absent leaves it).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdatePermission {
    #[serde(default, deserialize_with = "validate::nullable")]
    pub description: Option<Option<String>>,
}

/// The catalogue, by name.
pub async fn list(store: &Store, caller: &Caller) -> Result<Vec<Permission>> {
    caller.require(admin::ROLES_READ)?;
    store.list_permissions(caller.tenant_id()).await
}

/// Adds a permission; the name must be well-formed and new.
pub async fn create(store: &Store, caller: &Caller, req: CreatePermission) -> Result<Permission> {
    caller.require(admin::ROLES_WRITE)?;
    validate_permission_name(&req.name).map_err(|m| DomainError::invalid("name", m))?;
    if req.name.starts_with("castellan:") {
        return Err(DomainError::invalid(
            "name",
            "the `castellan:` namespace is reserved for Castellan's own permissions",
        ));
    }
    let description = validate::optional("description", req.description, 500)?;
    store
        .create_permission(
            caller.tenant_id(),
            &req.name,
            description.as_deref(),
            &caller.actor(),
        )
        .await
}

/// Changes a permission's description.
pub async fn update(
    store: &Store,
    caller: &Caller,
    id: &PermissionId,
    req: UpdatePermission,
) -> Result<Permission> {
    caller.require(admin::ROLES_WRITE)?;
    let Some(description) = req.description else {
        return store
            .get_permission(caller.tenant_id(), id)
            .await?
            .ok_or(DomainError::NotFound("permission"));
    };
    let description = validate::optional("description", description, 500)?;
    store
        .update_permission(
            caller.tenant_id(),
            id,
            description.as_deref(),
            &caller.actor(),
        )
        .await
}

/// Removes a permission from the catalogue (and from every role and override); Castellan's own
/// permissions stay.
///
/// Its holders lose it: the caller needs power over each of them.
pub async fn delete(store: &Store, caller: &Caller, id: &PermissionId) -> Result<()> {
    caller.require(admin::ROLES_WRITE)?;
    let holders = store.permission_holders(caller.tenant_id(), id).await?;
    require_power_over_all(store, caller, &holders, "removing this permission").await?;
    store
        .delete_permission(caller.tenant_id(), id, &caller.actor())
        .await
}
