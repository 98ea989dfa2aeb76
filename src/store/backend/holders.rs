//! Who a change to a role, group, permission or account reaches: the users whose power it
//! changes, so that the caller can be asked for power over each of them.

use super::{Backend, Conn, DB, DIALECT, db_error};
use crate::domain::audit::Actor;
use crate::domain::clock::{format_date, today};
use crate::domain::permissions::{
    OWNER_OUT_OF_DIRECTORY_REACH, administrative_permission, directory_refusal,
};
use crate::domain::*;

impl Backend {
    /// Users holding `role`: directly (in any account) or through a group.
    pub async fn role_holders(&self, tenant: &TenantId, role: &RoleId) -> Result<Vec<UserId>> {
        self.user_ids(
            "SELECT user_id FROM user_roles WHERE tenant_id = $1 AND role_id = $2
             UNION
             SELECT gm.user_id FROM group_members gm
             JOIN group_roles gr ON gr.group_id = gm.group_id
             JOIN groups g ON g.id = gm.group_id
             WHERE g.tenant_id = $1 AND gr.role_id = $2
             ORDER BY 1",
            tenant,
            role.as_str(),
        )
        .await
    }

    /// Users holding the permission `id` through a role (directly or through a group) or an
    /// override.
    pub async fn permission_holders(
        &self,
        tenant: &TenantId,
        id: &PermissionId,
    ) -> Result<Vec<UserId>> {
        self.user_ids(
            "SELECT ur.user_id FROM user_roles ur
             JOIN role_permissions rp ON rp.role_id = ur.role_id
             WHERE ur.tenant_id = $1 AND rp.permission_id = $2
             UNION
             SELECT gm.user_id FROM group_members gm
             JOIN group_roles gr ON gr.group_id = gm.group_id
             JOIN role_permissions rp ON rp.role_id = gr.role_id
             JOIN groups g ON g.id = gm.group_id
             WHERE g.tenant_id = $1 AND rp.permission_id = $2
             UNION
             SELECT user_id FROM permission_overrides WHERE tenant_id = $1 AND permission_id = $2
             ORDER BY 1",
            tenant,
            id.as_str(),
        )
        .await
    }

    /// Users with a membership (past, present or future) or an account-scoped role in `account`.
    pub async fn account_members(
        &self,
        tenant: &TenantId,
        account: &AccountId,
    ) -> Result<Vec<UserId>> {
        self.user_ids(
            "SELECT user_id FROM memberships WHERE tenant_id = $1 AND account_id = $2
             UNION
             SELECT user_id FROM user_roles WHERE tenant_id = $1 AND account_id = $2
             ORDER BY 1",
            tenant,
            account.as_str(),
        )
        .await
    }

    async fn user_ids(
        &self,
        sql: &'static str,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Vec<UserId>> {
        let ids: Vec<String> = sqlx::query_scalar::<DB, String>(sql)
            .bind(tenant.as_str())
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(ids.into_iter().map(UserId).collect())
    }
}

/// The `castellan:` permissions `user` holds now (roles held directly, an account-scoped one
/// only while the membership is current; roles of their groups; grant overrides; minus deny
/// overrides), read on `conn`: inside a write transaction, after the user's row is locked, this
/// is what the user holds at write time.
pub(super) async fn castellan_permissions(
    conn: &mut Conn,
    tenant: &TenantId,
    user: &UserId,
) -> Result<Vec<String>> {
    let held = castellan_permissions_of(conn, tenant, &[user.as_str()]).await?;
    Ok(held.into_iter().map(|(_, name)| name).collect())
}

/// [`castellan_permissions`] of each of `users` in one statement, as (user, permission) pairs
/// ordered by user then permission; users holding none have no pair.
async fn castellan_permissions_of(
    conn: &mut Conn,
    tenant: &TenantId,
    users: &[&str],
) -> Result<Vec<(String, String)>> {
    sqlx::query_as::<DB, (String, String)>(sqlx::AssertSqlSafe(format!(
        "WITH wanted AS ({}) \
         SELECT user_id, name FROM (
           SELECT ur.user_id, p.name FROM user_roles ur
           JOIN role_permissions rp ON rp.role_id = ur.role_id
           JOIN permissions p ON p.id = rp.permission_id
           WHERE ur.tenant_id = $1 AND ur.user_id IN (SELECT value FROM wanted)
             AND (ur.account_id IS NULL OR EXISTS (
                  SELECT 1 FROM memberships ms WHERE ms.user_id = ur.user_id AND ms.account_id = ur.account_id
                    AND (ms.start_date IS NULL OR ms.start_date <= $3) AND (ms.end_date IS NULL OR ms.end_date >= $3)))
           UNION
           SELECT gm.user_id, p.name FROM group_members gm
           JOIN groups g ON g.id = gm.group_id
           JOIN group_roles gr ON gr.group_id = g.id
           JOIN role_permissions rp ON rp.role_id = gr.role_id
           JOIN permissions p ON p.id = rp.permission_id
           WHERE g.tenant_id = $1 AND gm.user_id IN (SELECT value FROM wanted)
           UNION
           SELECT o.user_id, p.name FROM permission_overrides o JOIN permissions p ON p.id = o.permission_id
           WHERE o.tenant_id = $1 AND o.user_id IN (SELECT value FROM wanted) AND o.effect = 'grant'
         ) held
         WHERE name LIKE 'castellan:%' AND NOT EXISTS (
           SELECT 1 FROM permission_overrides o JOIN permissions p ON p.id = o.permission_id
           WHERE o.tenant_id = $1 AND o.user_id = held.user_id AND o.effect = 'deny' AND p.name = held.name)
         ORDER BY user_id, name",
        DIALECT.text_rows("$2")
    )))
    .bind(tenant.as_str())
    .bind(super::text_list(users)?)
    .bind(format_date(today()))
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)
}

/// Refuses (403) a directory write on an administrator unless the tenant's SCIM settings let
/// directories manage them; checked on `conn` inside the write transaction.
pub(super) async fn check_directory_reach(
    conn: &mut Conn,
    tenant: &TenantId,
    user: &UserId,
) -> Result<()> {
    if directory_manages_administrators(conn, tenant).await? {
        return Ok(());
    }
    refuse_administrators(conn, tenant, &[user.as_str()]).await
}

/// [`check_directory_reach`] for every user whose membership a directory's group write changes,
/// and the owner is never one of them: refused (403) as a whole if one is out of reach.
pub(super) async fn check_directory_reach_all(
    conn: &mut Conn,
    tenant: &TenantId,
    users: &[&str],
) -> Result<()> {
    if users.is_empty() {
        return Ok(());
    }
    let owner = tenant_owner(conn, tenant).await?;
    if owner.as_deref().is_some_and(|o| users.contains(&o)) {
        return Err(DomainError::forbidden(OWNER_OUT_OF_DIRECTORY_REACH));
    }
    if directory_manages_administrators(conn, tenant).await? {
        return Ok(());
    }
    refuse_administrators(conn, tenant, users).await
}

/// The tenant's SCIM setting `manage_administrators` (off when never set).
async fn directory_manages_administrators(conn: &mut Conn, tenant: &TenantId) -> Result<bool> {
    let allowed: Option<bool> =
        sqlx::query_scalar("SELECT manage_administrators FROM scim_settings WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?;
    Ok(allowed == Some(true))
}

/// 403 when one of `users` holds an administration permission now (the first in id order is
/// named), read for all of them in one statement.
async fn refuse_administrators(conn: &mut Conn, tenant: &TenantId, users: &[&str]) -> Result<()> {
    let held = castellan_permissions_of(conn, tenant, users).await?;
    for of_one in held.chunk_by(|a, b| a.0 == b.0) {
        if let Some(p) = administrative_permission(of_one.iter().map(|(_, name)| name.as_str())) {
            return Err(DomainError::forbidden(directory_refusal(p)));
        }
    }
    Ok(())
}

/// The id of the tenant's owner, read on `conn`.
async fn tenant_owner(conn: &mut Conn, tenant: &TenantId) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT owner_user_id FROM tenants WHERE id = $1")
            .bind(tenant.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
            .flatten(),
    )
}

/// Locks `user`'s row until the transaction ends (PostgreSQL; SQLite's write transaction already
/// excludes other writers) and checks the rule of power there ([`check_power_tx`]): changes of
/// one user queue behind each other, and none applies to a user the caller lost power over
/// meanwhile. Missing user: 404.
pub(super) async fn lock_user(
    conn: &mut Conn,
    tenant: &TenantId,
    user: &UserId,
    actor: &Actor,
) -> Result<()> {
    sqlx::query_scalar::<DB, String>(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM users WHERE tenant_id = $1 AND id = $2{}",
        super::DIALECT.for_update()
    )))
    .bind(tenant.as_str())
    .bind(user.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?
    .ok_or(DomainError::NotFound("user"))?;
    check_power_tx(conn, tenant, user, actor).await
}

/// The rule of power, checked again inside the write transaction once the target's row is
/// locked: a caller whose check passed before the transaction began cannot write on a user who
/// was promoted meanwhile (the promotion locks the same row, or committed before this read).
/// Nothing to check for actors without a standing (CLI, system, SCIM).
pub(super) async fn check_power_tx(
    conn: &mut Conn,
    tenant: &TenantId,
    user: &UserId,
    actor: &Actor,
) -> Result<()> {
    let Some(standing) = &actor.power else {
        return Ok(());
    };
    if standing.owner_standing || standing.user_id.as_ref() == Some(user) {
        return Ok(());
    }
    let owner = tenant_owner(conn, tenant).await?;
    let held = castellan_permissions(conn, tenant, user).await?;
    standing.require_power_over(
        user,
        held.iter().map(String::as_str),
        owner.as_deref() == Some(user.as_str()),
    )
}
