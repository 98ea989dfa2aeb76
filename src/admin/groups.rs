//! Groups of users, their members and the roles granted to them.

use super::power::require_power_over_all;
use super::users::{check_grantable_role, require_power_over_id};
use super::validate;
use crate::domain::authz::Caller;
use crate::domain::permissions::admin;
use crate::domain::*;
use crate::store::Store;
use serde::Deserialize;
use std::collections::BTreeSet;

/// A group to create.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    pub display_name: String,
    pub description: Option<String>,
    pub external_id: Option<String>,
}

/// A partial update: absent fields stay, `null` clears an optional field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateGroup {
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "validate::nullable")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::nullable")]
    pub external_id: Option<Option<String>>,
}

/// The tenant's groups.
pub async fn list(store: &Store, caller: &Caller) -> Result<Vec<Group>> {
    caller.require(admin::GROUPS_READ)?;
    store.list_groups(caller.tenant_id()).await
}

/// One page of the tenant's groups by name (the console's list).
pub async fn page(store: &Store, caller: &Caller, page: &NamedPage) -> Result<Listed<GroupLine>> {
    caller.require(admin::GROUPS_READ)?;
    store.page_groups(caller.tenant_id(), page).await
}

/// One group.
pub async fn get(store: &Store, caller: &Caller, id: &GroupId) -> Result<Group> {
    caller.require(admin::GROUPS_READ)?;
    existing(store, caller, id).await
}

async fn existing(store: &Store, caller: &Caller, id: &GroupId) -> Result<Group> {
    store
        .get_group(caller.tenant_id(), id)
        .await?
        .ok_or(DomainError::NotFound("group"))
}

/// Creates an empty group.
pub async fn create(store: &Store, caller: &Caller, req: CreateGroup) -> Result<Group> {
    caller.require(admin::GROUPS_WRITE)?;
    let display_name = validate::name("display_name", &req.display_name, 200)?;
    let description = validate::optional("description", req.description, 500)?;
    let external_id = validate::optional("external_id", req.external_id, 256)?;
    store
        .create_group(
            caller.tenant_id(),
            &display_name,
            description.as_deref(),
            external_id.as_deref(),
            &caller.actor(),
        )
        .await
}

/// Changes a group's name, description or external id.
pub async fn update(
    store: &Store,
    caller: &Caller,
    id: &GroupId,
    req: UpdateGroup,
) -> Result<Group> {
    caller.require(admin::GROUPS_WRITE)?;
    let display_name = req
        .display_name
        .map(|n| validate::name("display_name", &n, 200))
        .transpose()?;
    let description = req
        .description
        .map(|d| validate::optional("description", d, 500))
        .transpose()?;
    let external_id = req
        .external_id
        .map(|d| validate::optional("external_id", d, 256))
        .transpose()?;
    store
        .update_group(
            caller.tenant_id(),
            id,
            display_name.as_deref(),
            description.as_ref().map(Option::as_deref),
            external_id.as_ref().map(Option::as_deref),
            &caller.actor(),
        )
        .await
}

/// Deletes a group; its members lose the roles it granted, so the caller must hold their
/// permissions (nobody takes away what they could not give) and have power over every member.
pub async fn delete(store: &Store, caller: &Caller, id: &GroupId) -> Result<()> {
    caller.require(admin::GROUPS_WRITE)?;
    let group = existing(store, caller, id).await?;
    let perms = granted_by(store, caller, &group).await?;
    caller.require_all_held(perms.iter().map(String::as_str))?;
    require_power_over_all(store, caller, &group.member_ids, "deleting this group").await?;
    store
        .delete_group(caller.tenant_id(), id, &caller.actor())
        .await
}

/// The permissions a group's roles grant its members.
async fn granted_by(store: &Store, caller: &Caller, group: &Group) -> Result<BTreeSet<String>> {
    let mut perms = BTreeSet::new();
    for role in &group.role_ids {
        if let Some(r) = store.get_role(caller.tenant_id(), role).await? {
            perms.extend(r.permissions);
        }
    }
    Ok(perms)
}

/// Adds a user to a group. Joining hands out the group's roles, so the caller must hold their
/// permissions, and power over the user.
pub async fn add_member(
    store: &Store,
    caller: &Caller,
    id: &GroupId,
    user: &UserId,
) -> Result<Group> {
    caller.require(admin::GROUPS_WRITE)?;
    let group = existing(store, caller, id).await?;
    let perms = granted_by(store, caller, &group).await?;
    caller.require_all_held(perms.iter().map(String::as_str))?;
    require_power_over_id(store, caller, user).await?;
    store
        .add_group_member(caller.tenant_id(), id, user, &caller.actor())
        .await
}

/// Removes a user from a group (one the caller has power over).
pub async fn remove_member(
    store: &Store,
    caller: &Caller,
    id: &GroupId,
    user: &UserId,
) -> Result<Group> {
    caller.require(admin::GROUPS_WRITE)?;
    require_power_over_id(store, caller, user).await?;
    store
        .remove_group_member(caller.tenant_id(), id, user, &caller.actor())
        .await
}

/// Grants a role to a group: only a role the caller may hand out, never the Owner role, and
/// only with power over every member.
pub async fn add_role(
    store: &Store,
    caller: &Caller,
    id: &GroupId,
    role: &RoleId,
) -> Result<Group> {
    caller.require(admin::GROUPS_WRITE)?;
    let group = existing(store, caller, id).await?;
    known_role(store, caller, role).await?;
    check_grantable_role(store, caller, role).await?;
    require_power_over_all(
        store,
        caller,
        &group.member_ids,
        "changing this group's roles",
    )
    .await?;
    store
        .add_group_role(caller.tenant_id(), id, role, &caller.actor())
        .await
}

/// Takes a role away from a group; only a role the caller could hand out, and only with power
/// over every member.
pub async fn remove_role(
    store: &Store,
    caller: &Caller,
    id: &GroupId,
    role: &RoleId,
) -> Result<Group> {
    caller.require(admin::GROUPS_WRITE)?;
    let group = existing(store, caller, id).await?;
    let r = known_role(store, caller, role).await?;
    caller.require_all_held(r.permissions.iter().map(String::as_str))?;
    require_power_over_all(
        store,
        caller,
        &group.member_ids,
        "changing this group's roles",
    )
    .await?;
    store
        .remove_group_role(caller.tenant_id(), id, role, &caller.actor())
        .await
}

/// A role named in the path: 404 when the tenant has no such role.
async fn known_role(store: &Store, caller: &Caller, role: &RoleId) -> Result<Role> {
    store
        .get_role(caller.tenant_id(), role)
        .await?
        .ok_or(DomainError::NotFound("role"))
}
