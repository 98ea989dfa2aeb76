//! Roles, their permissions, role assignments and effective permissions.

use super::{Backend, DB, Tx, db_error};
use crate::domain::clock::{format_date, today};
use crate::domain::permissions::{EffectivePermissions, Source};
use crate::domain::*;

pub(super) async fn insert_assignment(
    tx: &mut Tx,
    tenant: &TenantId,
    user: &UserId,
    role: &RoleId,
    account: Option<&AccountId>,
    main: bool,
    now: i64,
) -> Result<RoleAssignmentId> {
    let exists: Option<String> =
        sqlx::query_scalar("SELECT id FROM roles WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(role.as_str())
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_error)?;
    if exists.is_none() {
        return Err(DomainError::invalid(
            "role_id",
            format!("role `{role}` does not exist"),
        ));
    }
    let id = RoleAssignmentId::generate();
    sqlx::query(
        "INSERT INTO user_roles (id, tenant_id, user_id, role_id, account_id, is_main, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.as_str())
    .bind(tenant.as_str())
    .bind(user.as_str())
    .bind(role.as_str())
    .bind(account.map(|a| a.as_str()))
    .bind(main)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct RoleRow {
    id: String,
    name: String,
    description: Option<String>,
    template: Option<String>,
    created_at: i64,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct SourceRow {
    permission: String,
    role_id: String,
    role: String,
    account_id: Option<String>,
    account: Option<String>,
    group_id: Option<String>,
    group_name: Option<String>,
}

impl Backend {
    pub async fn get_role(&self, tenant: &TenantId, id: &RoleId) -> Result<Option<Role>> {
        let row = sqlx::query_as::<DB, RoleRow>(
            "SELECT id, name, description, template, created_at, updated_at FROM roles WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        let Some(r) = row else { return Ok(None) };
        let permissions = sqlx::query_scalar::<DB, String>(
            "SELECT p.name FROM role_permissions rp JOIN permissions p ON p.id = rp.permission_id WHERE rp.role_id = $1 ORDER BY p.name",
        )
        .bind(&r.id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(Some(Role {
            id: RoleId(r.id),
            name: r.name,
            description: r.description,
            template: r.template.as_deref().and_then(RoleTemplate::parse),
            permissions,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }))
    }

    /// A user's effective permissions, explained: roles held directly (an account-scoped role
    /// only while the membership in that account is current), roles of their groups, overrides.
    pub async fn effective_permissions(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> Result<EffectivePermissions> {
        let day = format_date(today());
        let rows = sqlx::query_as::<DB, SourceRow>(
            "SELECT p.name AS permission, r.id AS role_id, r.name AS role, ur.account_id, a.name AS account,
                    NULL AS group_id, NULL AS group_name
             FROM user_roles ur
             JOIN roles r ON r.id = ur.role_id
             JOIN role_permissions rp ON rp.role_id = r.id
             JOIN permissions p ON p.id = rp.permission_id
             LEFT JOIN accounts a ON a.id = ur.account_id
             WHERE ur.tenant_id = $1 AND ur.user_id = $2
               AND (ur.account_id IS NULL OR EXISTS (
                    SELECT 1 FROM memberships ms WHERE ms.user_id = ur.user_id AND ms.account_id = ur.account_id
                      AND (ms.start_date IS NULL OR ms.start_date <= $3) AND (ms.end_date IS NULL OR ms.end_date >= $3)))
             UNION ALL
             SELECT p.name, r.id, r.name, NULL, NULL, g.id, g.display_name
             FROM group_members gm
             JOIN groups g ON g.id = gm.group_id
             JOIN group_roles gr ON gr.group_id = g.id
             JOIN roles r ON r.id = gr.role_id
             JOIN role_permissions rp ON rp.role_id = r.id
             JOIN permissions p ON p.id = rp.permission_id
             WHERE g.tenant_id = $1 AND gm.user_id = $2",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(&day)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let from_roles = rows
            .into_iter()
            .map(|r| {
                let source = match (r.group_id, r.group_name) {
                    (Some(group_id), Some(group)) => Source::GroupRole {
                        role_id: RoleId(r.role_id),
                        role: r.role,
                        group_id: GroupId(group_id),
                        group,
                    },
                    _ => Source::Role {
                        role_id: RoleId(r.role_id),
                        role: r.role,
                        account_id: r.account_id.map(AccountId),
                        account: r.account,
                    },
                };
                (r.permission, source)
            })
            .collect();
        let overrides = sqlx::query_as::<DB, (String, String, Option<String>)>(
            "SELECT p.name, o.effect, o.reason FROM permission_overrides o JOIN permissions p ON p.id = o.permission_id
             WHERE o.tenant_id = $1 AND o.user_id = $2 ORDER BY p.name",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?
        .into_iter()
        .filter_map(|(p, e, r)| Effect::parse(&e).map(|e| (p, e, r)))
        .collect();
        Ok(EffectivePermissions::resolve(from_roles, overrides))
    }
}

impl Backend {
    pub async fn role_by_template(
        &self,
        tenant: &TenantId,
        template: RoleTemplate,
    ) -> Result<Role> {
        let id: String =
            sqlx::query_scalar("SELECT id FROM roles WHERE tenant_id = $1 AND template = $2")
                .bind(tenant.as_str())
                .bind(template.as_str())
                .fetch_one(&self.pool)
                .await
                .map_err(db_error)?;
        self.get_role(tenant, &RoleId(id))
            .await?
            .ok_or(DomainError::NotFound("role"))
    }
}
