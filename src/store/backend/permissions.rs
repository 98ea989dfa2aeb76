//! The permission catalogue and per-user permission overrides.

use super::{Backend, Conn, DB, Tx, commit, db_error, placeholders};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_ms;
use crate::domain::*;

#[derive(sqlx::FromRow)]
struct PermissionRow {
    id: String,
    name: String,
    description: Option<String>,
    builtin: bool,
}

impl From<PermissionRow> for Permission {
    fn from(r: PermissionRow) -> Self {
        Permission {
            id: PermissionId(r.id),
            name: r.name,
            description: r.description,
            builtin: r.builtin,
        }
    }
}

#[derive(sqlx::FromRow)]
struct OverrideRow {
    permission: String,
    effect: String,
    reason: Option<String>,
    created_at: i64,
}

impl OverrideRow {
    fn into_override(self) -> Result<PermissionOverride> {
        let effect = Effect::parse(&self.effect).ok_or_else(|| {
            DomainError::Internal(format!("stored override effect `{}`", self.effect))
        })?;
        Ok(PermissionOverride {
            permission: self.permission,
            effect,
            reason: self.reason,
            created_at: self.created_at,
        })
    }
}

async fn permission_conn(
    conn: &mut Conn,
    tenant: &TenantId,
    id: &PermissionId,
) -> Result<Option<Permission>> {
    sqlx::query_as::<DB, PermissionRow>(
        "SELECT id, name, description, builtin FROM permissions WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map(|r| r.map(Permission::from))
    .map_err(db_error)
}

/// The ids of the named permissions of the tenant, in the order given; an unknown name is
/// invalid input that names it.
pub(super) async fn permission_ids(
    tx: &mut Tx,
    tenant: &TenantId,
    names: &[String],
) -> Result<Vec<PermissionId>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT name, id FROM permissions WHERE tenant_id = $1 AND name IN ({})",
        placeholders(2, names.len())
    );
    let mut q =
        sqlx::query_as::<DB, (String, String)>(sqlx::AssertSqlSafe(sql)).bind(tenant.as_str());
    for n in names {
        q = q.bind(n.as_str());
    }
    let found: std::collections::HashMap<String, String> = q
        .fetch_all(&mut **tx)
        .await
        .map_err(db_error)?
        .into_iter()
        .collect();
    names
        .iter()
        .map(|n| {
            found.get(n).cloned().map(PermissionId).ok_or_else(|| {
                DomainError::invalid("permissions", format!("permission `{n}` does not exist"))
            })
        })
        .collect()
}

async fn override_conn(
    conn: &mut Conn,
    tenant: &TenantId,
    user: &UserId,
    permission: &PermissionId,
) -> Result<Option<PermissionOverride>> {
    sqlx::query_as::<DB, OverrideRow>(
        "SELECT p.name AS permission, o.effect, o.reason, o.created_at
         FROM permission_overrides o JOIN permissions p ON p.id = o.permission_id
         WHERE o.tenant_id = $1 AND o.user_id = $2 AND o.permission_id = $3",
    )
    .bind(tenant.as_str())
    .bind(user.as_str())
    .bind(permission.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?
    .map(OverrideRow::into_override)
    .transpose()
}

impl Backend {
    /// The tenant's permission catalogue, by name.
    pub async fn list_permissions(&self, tenant: &TenantId) -> Result<Vec<Permission>> {
        sqlx::query_as::<DB, PermissionRow>(
            "SELECT id, name, description, builtin FROM permissions WHERE tenant_id = $1 ORDER BY name",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await
        .map(|rs| rs.into_iter().map(Permission::from).collect())
        .map_err(db_error)
    }

    /// One permission of the catalogue.
    pub async fn get_permission(
        &self,
        tenant: &TenantId,
        id: &PermissionId,
    ) -> Result<Option<Permission>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        permission_conn(&mut conn, tenant, id).await
    }

    /// A permission of the catalogue by its name.
    pub async fn permission_by_name(
        &self,
        tenant: &TenantId,
        name: &str,
    ) -> Result<Option<Permission>> {
        sqlx::query_as::<DB, PermissionRow>(
            "SELECT id, name, description, builtin FROM permissions WHERE tenant_id = $1 AND name = $2",
        )
        .bind(tenant.as_str())
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map(|r| r.map(Permission::from))
        .map_err(db_error)
    }

    /// Adds a permission to the catalogue.
    pub async fn create_permission(
        &self,
        tenant: &TenantId,
        name: &str,
        description: Option<&str>,
        actor: &Actor,
    ) -> Result<Permission> {
        let mut tx = self.write_tx().await?;
        let id = PermissionId::generate();
        sqlx::query(
            "INSERT INTO permissions (id, tenant_id, name, description, builtin, created_at)
             VALUES ($1, $2, $3, $4, FALSE, $5)",
        )
        .bind(id.as_str())
        .bind(tenant.as_str())
        .bind(name)
        .bind(description)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let after = permission_conn(&mut tx, tenant, &id)
            .await?
            .ok_or(DomainError::NotFound("permission"))?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("permission.create", "permission", &id).after(&after),
        )
        .await?;
        Ok(after)
    }

    /// Changes a permission's description.
    pub async fn update_permission(
        &self,
        tenant: &TenantId,
        id: &PermissionId,
        description: Option<&str>,
        actor: &Actor,
    ) -> Result<Permission> {
        let mut tx = self.write_tx().await?;
        let before = permission_conn(&mut tx, tenant, id)
            .await?
            .ok_or(DomainError::NotFound("permission"))?;
        sqlx::query("UPDATE permissions SET description = $3 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .bind(description)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let after = Permission {
            description: description.map(str::to_owned),
            ..before.clone()
        };
        commit(
            tx,
            tenant,
            actor,
            Change::new("permission.update", "permission", id)
                .before(&before)
                .after(&after),
        )
        .await?;
        Ok(after)
    }

    /// Removes a permission from the catalogue, from every role and every override. Castellan's
    /// own permissions stay.
    pub async fn delete_permission(
        &self,
        tenant: &TenantId,
        id: &PermissionId,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let before = permission_conn(&mut tx, tenant, id)
            .await?
            .ok_or(DomainError::NotFound("permission"))?;
        if before.builtin {
            return Err(DomainError::conflict(
                "Castellan's own permissions cannot be removed from the catalogue",
            ));
        }
        sqlx::query("DELETE FROM permissions WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("permission.delete", "permission", id).before(&before),
        )
        .await?;
        Ok(())
    }

    /// A user's permission overrides, by permission name.
    pub async fn list_overrides(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> Result<Vec<PermissionOverride>> {
        sqlx::query_as::<DB, OverrideRow>(
            "SELECT p.name AS permission, o.effect, o.reason, o.created_at
             FROM permission_overrides o JOIN permissions p ON p.id = o.permission_id
             WHERE o.tenant_id = $1 AND o.user_id = $2 ORDER BY p.name",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(OverrideRow::into_override)
        .collect()
    }

    /// Sets (creates or replaces) a user's override of one permission.
    pub async fn set_override(
        &self,
        tenant: &TenantId,
        user: &UserId,
        permission: &PermissionId,
        effect: Effect,
        reason: Option<&str>,
        actor: &Actor,
    ) -> Result<PermissionOverride> {
        let mut tx = self.write_tx().await?;
        super::holders::lock_user(&mut tx, tenant, user, actor).await?;
        let before = override_conn(&mut tx, tenant, user, permission).await?;
        sqlx::query(
            "INSERT INTO permission_overrides (user_id, permission_id, tenant_id, effect, reason, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (user_id, permission_id) DO UPDATE SET effect = excluded.effect, reason = excluded.reason",
        )
        .bind(user.as_str())
        .bind(permission.as_str())
        .bind(tenant.as_str())
        .bind(effect.as_str())
        .bind(reason)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let after = override_conn(&mut tx, tenant, user, permission)
            .await?
            .ok_or(DomainError::NotFound("override"))?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("override.set", "user", user)
                .before(&before)
                .after(&after),
        )
        .await?;
        Ok(after)
    }

    /// Removes a user's override of one permission.
    pub async fn delete_override(
        &self,
        tenant: &TenantId,
        user: &UserId,
        permission: &PermissionId,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        super::holders::lock_user(&mut tx, tenant, user, actor).await?;
        let before = override_conn(&mut tx, tenant, user, permission)
            .await?
            .ok_or(DomainError::NotFound("override"))?;
        sqlx::query(
            "DELETE FROM permission_overrides WHERE tenant_id = $1 AND user_id = $2 AND permission_id = $3",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(permission.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("override.delete", "user", user).before(&before),
        )
        .await?;
        Ok(())
    }
}
