//! Roles, their permissions, role assignments and effective permissions.

use super::{Backend, Conn, DB, Tx, commit, db_error};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_ms;
use crate::domain::clock::{format_date, today};
use crate::domain::mfa::MfaPolicy;
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
    mfa_policy: Option<String>,
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
    /// One role with its permission names.
    pub async fn get_role(&self, tenant: &TenantId, id: &RoleId) -> Result<Option<Role>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        role_conn(&mut conn, tenant, id).await
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

impl RoleRow {
    fn into_role(self, permissions: Vec<String>) -> Role {
        Role {
            id: RoleId(self.id),
            name: self.name,
            description: self.description,
            template: self.template.as_deref().and_then(RoleTemplate::parse),
            permissions,
            mfa_policy: self.mfa_policy.as_deref().and_then(MfaPolicy::parse),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

async fn role_conn(conn: &mut Conn, tenant: &TenantId, id: &RoleId) -> Result<Option<Role>> {
    let row = sqlx::query_as::<DB, RoleRow>(
        "SELECT id, name, description, template, mfa_policy, created_at, updated_at FROM roles WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    let Some(r) = row else { return Ok(None) };
    let permissions = sqlx::query_scalar::<DB, String>(
        "SELECT p.name FROM role_permissions rp JOIN permissions p ON p.id = rp.permission_id WHERE rp.role_id = $1 ORDER BY p.name",
    )
    .bind(&r.id)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(Some(r.into_role(permissions)))
}

async fn existing_role(tx: &mut Tx, tenant: &TenantId, id: &RoleId) -> Result<Role> {
    role_conn(tx, tenant, id)
        .await?
        .ok_or(DomainError::NotFound("role"))
}

/// Replaces the permissions of a role with the named ones (unknown names are invalid input).
async fn write_role_permissions(
    tx: &mut Tx,
    tenant: &TenantId,
    role: &RoleId,
    names: &[String],
) -> Result<()> {
    let mut names = names.to_vec();
    names.sort();
    names.dedup();
    let ids = super::permissions::permission_ids(tx, tenant, &names).await?;
    sqlx::query("DELETE FROM role_permissions WHERE role_id = $1")
        .bind(role.as_str())
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    for id in ids {
        sqlx::query("INSERT INTO role_permissions (role_id, permission_id) VALUES ($1, $2)")
            .bind(role.as_str())
            .bind(id.as_str())
            .execute(&mut **tx)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

/// Refuses a change of the Owner role's permissions (they are fixed).
fn check_owner_permissions(before: &Role, permissions: Option<&[String]>) -> Result<()> {
    let Some(new) = permissions else {
        return Ok(());
    };
    if before.template != Some(RoleTemplate::Owner) {
        return Ok(());
    }
    let mut new = new.to_vec();
    new.sort();
    new.dedup();
    if new == before.permissions {
        Ok(())
    } else {
        Err(DomainError::conflict(
            "the Owner role's permissions are fixed",
        ))
    }
}

async fn count(tx: &mut Tx, sql: &'static str, id: &str) -> Result<i64> {
    sqlx::query_scalar::<DB, i64>(sql)
        .bind(id)
        .fetch_one(&mut **tx)
        .await
        .map_err(db_error)
}

impl Backend {
    /// The tenant's roles with their permission names, by name.
    pub async fn list_roles(&self, tenant: &TenantId) -> Result<Vec<Role>> {
        let rows = sqlx::query_as::<DB, RoleRow>(
            "SELECT id, name, description, template, mfa_policy, created_at, updated_at FROM roles WHERE tenant_id = $1 ORDER BY name, id",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let pairs = sqlx::query_as::<DB, (String, String)>(
            "SELECT rp.role_id, p.name FROM role_permissions rp JOIN permissions p ON p.id = rp.permission_id
             WHERE p.tenant_id = $1 ORDER BY p.name",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let mut by_role: std::collections::HashMap<String, Vec<String>> = Default::default();
        for (role, perm) in pairs {
            by_role.entry(role).or_default().push(perm);
        }
        Ok(rows
            .into_iter()
            .map(|r| {
                let perms = by_role.remove(&r.id).unwrap_or_default();
                r.into_role(perms)
            })
            .collect())
    }

    /// Creates a role with the named permissions.
    pub async fn create_role(
        &self,
        tenant: &TenantId,
        name: &str,
        description: Option<&str>,
        permissions: &[String],
        mfa_policy: Option<MfaPolicy>,
        actor: &Actor,
    ) -> Result<Role> {
        let mut tx = self.write_tx().await?;
        let id = RoleId::generate();
        sqlx::query(
            "INSERT INTO roles (id, tenant_id, name, description, template, mfa_policy, created_at, updated_at)
             VALUES ($1, $2, $3, $4, NULL, $5, $6, $6)",
        )
        .bind(id.as_str())
        .bind(tenant.as_str())
        .bind(name)
        .bind(description)
        .bind(mfa_policy.map(MfaPolicy::as_str))
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        write_role_permissions(&mut tx, tenant, &id, permissions).await?;
        let after = existing_role(&mut tx, tenant, &id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("role.create", "role", &id).after(&after),
        )
        .await?;
        Ok(after)
    }

    /// Changes a role: each `Some` replaces (a description or MFA policy of `Some(None)` clears it).
    #[allow(clippy::too_many_arguments)]
    pub async fn update_role(
        &self,
        tenant: &TenantId,
        id: &RoleId,
        name: Option<&str>,
        description: Option<Option<&str>>,
        permissions: Option<&[String]>,
        mfa_policy: Option<Option<MfaPolicy>>,
        actor: &Actor,
    ) -> Result<Role> {
        let mut tx = self.write_tx().await?;
        let before = existing_role(&mut tx, tenant, id).await?;
        check_owner_permissions(&before, permissions)?;
        sqlx::query(
            "UPDATE roles SET name = $3, description = $4, mfa_policy = $5, updated_at = $6
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(name.unwrap_or(&before.name))
        .bind(description.unwrap_or(before.description.as_deref()))
        .bind(
            mfa_policy
                .unwrap_or(before.mfa_policy)
                .map(MfaPolicy::as_str),
        )
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        if let Some(p) = permissions {
            write_role_permissions(&mut tx, tenant, id, p).await?;
        }
        let after = existing_role(&mut tx, tenant, id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("role.update", "role", id)
                .before(&before)
                .after(&after),
        )
        .await?;
        Ok(after)
    }

    /// Deletes a role that is not seeded and that no user or group holds.
    pub async fn delete_role(&self, tenant: &TenantId, id: &RoleId, actor: &Actor) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let before = existing_role(&mut tx, tenant, id).await?;
        if before.template.is_some() {
            return Err(DomainError::conflict("a seeded role cannot be deleted"));
        }
        let users = count(
            &mut tx,
            "SELECT COUNT(*) FROM user_roles WHERE role_id = $1",
            id.as_str(),
        )
        .await?;
        let groups = count(
            &mut tx,
            "SELECT COUNT(*) FROM group_roles WHERE role_id = $1",
            id.as_str(),
        )
        .await?;
        if users + groups > 0 {
            return Err(DomainError::conflict(format!(
                "the role is still held by {users} user assignment(s) and {groups} group(s); remove those first"
            )));
        }
        sqlx::query("DELETE FROM roles WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("role.delete", "role", id).before(&before),
        )
        .await?;
        Ok(())
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct AssignmentRow {
    id: String,
    user_id: String,
    role_id: String,
    role_name: String,
    account_id: Option<String>,
    is_main: bool,
}

impl From<AssignmentRow> for RoleAssignment {
    fn from(r: AssignmentRow) -> Self {
        RoleAssignment {
            id: RoleAssignmentId(r.id),
            user_id: UserId(r.user_id),
            role_id: RoleId(r.role_id),
            role_name: r.role_name,
            account_id: r.account_id.map(AccountId),
            main: r.is_main,
        }
    }
}

const ASSIGNMENT_SQL: &str = "SELECT ur.id, ur.user_id, ur.role_id, r.name AS role_name, ur.account_id, ur.is_main
     FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.tenant_id = $1 AND ur.user_id = $2";

async fn assignment_conn(
    conn: &mut Conn,
    tenant: &TenantId,
    user: &UserId,
    id: &RoleAssignmentId,
) -> Result<RoleAssignment> {
    sqlx::query_as::<DB, AssignmentRow>(sqlx::AssertSqlSafe(format!(
        "{ASSIGNMENT_SQL} AND ur.id = $3"
    )))
    .bind(tenant.as_str())
    .bind(user.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?
    .map(RoleAssignment::from)
    .ok_or(DomainError::NotFound("role assignment"))
}

async fn assignments_conn(
    conn: &mut Conn,
    tenant: &TenantId,
    user: &UserId,
) -> Result<Vec<RoleAssignment>> {
    sqlx::query_as::<DB, AssignmentRow>(sqlx::AssertSqlSafe(format!(
        "{ASSIGNMENT_SQL} ORDER BY ur.created_at, ur.id"
    )))
    .bind(tenant.as_str())
    .bind(user.as_str())
    .fetch_all(&mut *conn)
    .await
    .map(|rs| rs.into_iter().map(RoleAssignment::from).collect())
    .map_err(db_error)
}

async fn has_membership(
    tx: &mut Tx,
    tenant: &TenantId,
    user: &UserId,
    account: &AccountId,
) -> Result<bool> {
    sqlx::query_scalar::<DB, bool>(
        "SELECT EXISTS (SELECT 1 FROM memberships WHERE tenant_id = $1 AND user_id = $2 AND account_id = $3)",
    )
    .bind(tenant.as_str())
    .bind(user.as_str())
    .bind(account.as_str())
    .fetch_one(&mut **tx)
    .await
    .map_err(db_error)
}

async fn clear_main(tx: &mut Tx, user: &UserId) -> Result<()> {
    sqlx::query("UPDATE user_roles SET is_main = FALSE WHERE user_id = $1 AND is_main")
        .bind(user.as_str())
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    Ok(())
}

impl Backend {
    /// A user's role assignments, oldest first.
    pub async fn list_assignments(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> Result<Vec<RoleAssignment>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        assignments_conn(&mut conn, tenant, user).await
    }

    /// One of a user's role assignments.
    pub async fn get_assignment(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &RoleAssignmentId,
    ) -> Result<RoleAssignment> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        assignment_conn(&mut conn, tenant, user, id).await
    }

    /// Gives a user a role (within `account` when given, where the user must have a membership).
    /// The user's first role becomes the main one; `main` moves the mark to the new assignment.
    pub async fn assign_role(
        &self,
        tenant: &TenantId,
        user: &UserId,
        role: &RoleId,
        account: Option<&AccountId>,
        main: bool,
        actor: &Actor,
    ) -> Result<RoleAssignment> {
        let mut tx = self.write_tx().await?;
        super::holders::lock_user(&mut tx, tenant, user, actor).await?;
        if let Some(a) = account
            && !has_membership(&mut tx, tenant, user, a).await?
        {
            return Err(DomainError::invalid(
                "account_id",
                format!("the user has no membership in account `{a}`"),
            ));
        }
        let before = assignments_conn(&mut tx, tenant, user).await?;
        let main = main || before.is_empty();
        if main {
            clear_main(&mut tx, user).await?;
        }
        let id = insert_assignment(&mut tx, tenant, user, role, account, main, now_ms()).await?;
        let after = assignment_conn(&mut tx, tenant, user, &id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("role.assign", "user", user).after(&after),
        )
        .await?;
        Ok(after)
    }

    /// Makes one of a user's role assignments the main one.
    pub async fn set_main_assignment(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &RoleAssignmentId,
        actor: &Actor,
    ) -> Result<RoleAssignment> {
        let mut tx = self.write_tx().await?;
        super::holders::lock_user(&mut tx, tenant, user, actor).await?;
        let before = assignment_conn(&mut tx, tenant, user, id).await?;
        if before.main {
            return Ok(before);
        }
        let previous = assignments_conn(&mut tx, tenant, user)
            .await?
            .into_iter()
            .find(|a| a.main);
        clear_main(&mut tx, user).await?;
        sqlx::query("UPDATE user_roles SET is_main = TRUE WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let after = assignment_conn(&mut tx, tenant, user, id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("role.main", "user", user)
                .before(serde_json::json!({ "main": previous }))
                .after(serde_json::json!({ "main": &after })),
        )
        .await?;
        Ok(after)
    }

    /// Takes a role assignment away. The Owner role's assignment moves only by ownership
    /// transfer; the main assignment goes only when it is the user's last one.
    pub async fn delete_assignment(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &RoleAssignmentId,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        super::holders::lock_user(&mut tx, tenant, user, actor).await?;
        let before = assignment_conn(&mut tx, tenant, user, id).await?;
        let role = existing_role(&mut tx, tenant, &before.role_id).await?;
        if role.template == Some(RoleTemplate::Owner) {
            return Err(DomainError::conflict(
                "the Owner role moves only by ownership transfer",
            ));
        }
        let all = assignments_conn(&mut tx, tenant, user).await?;
        if before.main && all.len() > 1 {
            return Err(DomainError::conflict(
                "this is the user's main role; make another role main first",
            ));
        }
        sqlx::query("DELETE FROM user_roles WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("role.unassign", "user", user).before(&before),
        )
        .await?;
        Ok(())
    }
}
