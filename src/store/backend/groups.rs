//! Groups of users: their members and the roles granted to them.

use super::{Backend, Conn, DB, DIALECT, Tx, commit, db_error};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_us;
use crate::domain::scim::fold;
use crate::domain::*;
use std::collections::HashMap;

#[derive(sqlx::FromRow)]
struct GroupRow {
    id: String,
    display_name: String,
    description: Option<String>,
    external_id: Option<String>,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl GroupRow {
    fn into_group(self, member_ids: Vec<UserId>, role_ids: Vec<RoleId>) -> Group {
        Group {
            id: GroupId(self.id),
            display_name: self.display_name,
            description: self.description,
            external_id: self.external_id,
            member_ids,
            role_ids,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        }
    }
}

const GROUP_COLUMNS: &str =
    "id, display_name, description, external_id, created_at, updated_at, version";

async fn group_conn(conn: &mut Conn, tenant: &TenantId, id: &GroupId) -> Result<Option<Group>> {
    let row = sqlx::query_as::<DB, GroupRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {GROUP_COLUMNS} FROM groups WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    let Some(row) = row else { return Ok(None) };
    let members = sqlx::query_scalar::<DB, String>(
        "SELECT user_id FROM group_members WHERE group_id = $1 ORDER BY user_id",
    )
    .bind(&row.id)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let roles = sqlx::query_scalar::<DB, String>(
        "SELECT role_id FROM group_roles WHERE group_id = $1 ORDER BY role_id",
    )
    .bind(&row.id)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(Some(row.into_group(
        members.into_iter().map(UserId).collect(),
        roles.into_iter().map(RoleId).collect(),
    )))
}

async fn existing_group(tx: &mut Tx, tenant: &TenantId, id: &GroupId) -> Result<Group> {
    group_conn(tx, tenant, id)
        .await?
        .ok_or(DomainError::NotFound("group"))
}

/// Marks a group as changed: a new version and update time.
async fn bump(tx: &mut Tx, tenant: &TenantId, id: &GroupId) -> Result<()> {
    sqlx::query(
        "UPDATE groups SET version = version + 1, updated_at = $3 WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.as_str())
    .bind(id.as_str())
    .bind(now_us())
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Marks users as changed (a new version and update time): their `groups` changed. On
/// PostgreSQL their rows are locked in id order first, so two writers bumping the same users
/// cannot deadlock.
pub(super) async fn bump_users(conn: &mut Conn, users: &[&str]) -> Result<()> {
    if users.is_empty() {
        return Ok(());
    }
    sqlx::query::<DB>(sqlx::AssertSqlSafe(format!(
        "UPDATE users SET version = version + 1, updated_at = $1 WHERE id IN \
         (SELECT id FROM users WHERE id IN ({}) ORDER BY id{})",
        DIALECT.text_rows("$2"),
        DIALECT.for_no_key_update()
    )))
    .bind(now_us())
    .bind(super::text_list(users)?)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Marks every member of a group as changed (the group is renamed or deleted).
pub(super) async fn bump_members(conn: &mut Conn, group: &GroupId) -> Result<()> {
    sqlx::query(
        "UPDATE users SET version = version + 1, updated_at = $2 \
         WHERE id IN (SELECT user_id FROM group_members WHERE group_id = $1)",
    )
    .bind(group.as_str())
    .bind(now_us())
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

async fn exists_in_tenant(
    tx: &mut Tx,
    sql: &'static str,
    tenant: &TenantId,
    id: &str,
) -> Result<bool> {
    sqlx::query_scalar::<DB, bool>(sql)
        .bind(tenant.as_str())
        .bind(id)
        .fetch_one(&mut **tx)
        .await
        .map_err(db_error)
}

/// One change of a group's members or roles, as a statement on (group id, other id).
struct Link {
    sql: &'static str,
    action: &'static str,
    /// Whether the statement must change a row (a removal of something absent is 404).
    required: Option<&'static str>,
    /// Whether the other side is a user, whose `groups` (and so version) the change changes.
    bumps_user: bool,
}

const ADD_MEMBER: Link = Link {
    sql: "INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    action: "group.member_add",
    required: None,
    bumps_user: true,
};
const REMOVE_MEMBER: Link = Link {
    sql: "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2",
    action: "group.member_remove",
    required: Some("group member"),
    bumps_user: true,
};
const ADD_ROLE: Link = Link {
    sql: "INSERT INTO group_roles (group_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    action: "group.role_add",
    required: None,
    bumps_user: false,
};
const REMOVE_ROLE: Link = Link {
    sql: "DELETE FROM group_roles WHERE group_id = $1 AND role_id = $2",
    action: "group.role_remove",
    required: Some("group role"),
    bumps_user: false,
};

impl Backend {
    /// The tenant's groups, by display name.
    pub async fn list_groups(&self, tenant: &TenantId) -> Result<Vec<Group>> {
        let rows = sqlx::query_as::<DB, GroupRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {GROUP_COLUMNS} FROM groups WHERE tenant_id = $1 ORDER BY display_name, id"
        )))
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let mut members = self
            .pairs(
                "SELECT gm.group_id, gm.user_id FROM group_members gm JOIN groups g ON g.id = gm.group_id
                 WHERE g.tenant_id = $1 ORDER BY gm.user_id",
                tenant,
            )
            .await?;
        let mut roles = self
            .pairs(
                "SELECT gr.group_id, gr.role_id FROM group_roles gr JOIN groups g ON g.id = gr.group_id
                 WHERE g.tenant_id = $1 ORDER BY gr.role_id",
                tenant,
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let m = members.remove(&r.id).unwrap_or_default();
                let ro = roles.remove(&r.id).unwrap_or_default();
                r.into_group(
                    m.into_iter().map(UserId).collect(),
                    ro.into_iter().map(RoleId).collect(),
                )
            })
            .collect())
    }

    async fn pairs(
        &self,
        sql: &'static str,
        tenant: &TenantId,
    ) -> Result<HashMap<String, Vec<String>>> {
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for (group, other) in sqlx::query_as::<DB, (String, String)>(sql)
            .bind(tenant.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?
        {
            out.entry(group).or_default().push(other);
        }
        Ok(out)
    }

    /// One group with its member and role ids.
    pub async fn get_group(&self, tenant: &TenantId, id: &GroupId) -> Result<Option<Group>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        group_conn(&mut conn, tenant, id).await
    }

    /// Creates an empty group.
    pub async fn create_group(
        &self,
        tenant: &TenantId,
        display_name: &str,
        description: Option<&str>,
        external_id: Option<&str>,
        actor: &Actor,
    ) -> Result<Group> {
        let mut tx = self.write_tx().await?;
        let id = GroupId::generate();
        sqlx::query(
            "INSERT INTO groups (id, tenant_id, display_name, description, external_id, created_at, updated_at, version,
                 display_name_f)
             VALUES ($1, $2, $3, $4, $5, $6, $6, 1, $7)",
        )
        .bind(id.as_str())
        .bind(tenant.as_str())
        .bind(display_name)
        .bind(description)
        .bind(external_id)
        .bind(now_us())
        .bind(fold(display_name))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let after = existing_group(&mut tx, tenant, &id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("group.create", "group", &id).after(&after),
        )
        .await?;
        Ok(after)
    }

    /// Changes a group's fields: each `Some` replaces (`Some(None)` clears an optional one).
    pub async fn update_group(
        &self,
        tenant: &TenantId,
        id: &GroupId,
        display_name: Option<&str>,
        description: Option<Option<&str>>,
        external_id: Option<Option<&str>>,
        actor: &Actor,
    ) -> Result<Group> {
        let mut tx = self.write_tx().await?;
        let before = existing_group(&mut tx, tenant, id).await?;
        sqlx::query(
            "UPDATE groups SET display_name = $3, description = $4, external_id = $5, display_name_f = $6
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(display_name.unwrap_or(&before.display_name))
        .bind(description.unwrap_or(before.description.as_deref()))
        .bind(external_id.unwrap_or(before.external_id.as_deref()))
        .bind(fold(display_name.unwrap_or(&before.display_name)))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        bump(&mut tx, tenant, id).await?;
        if display_name.is_some_and(|n| n != before.display_name) {
            bump_members(&mut tx, id).await?;
        }
        let after = existing_group(&mut tx, tenant, id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("group.update", "group", id)
                .before(&before)
                .after(&after),
        )
        .await?;
        Ok(after)
    }

    /// Deletes a group; its members lose the roles it granted.
    pub async fn delete_group(&self, tenant: &TenantId, id: &GroupId, actor: &Actor) -> Result<()> {
        self.delete_group_if(tenant, id, None, actor).await
    }

    /// [`Self::delete_group`] if the stored version is still `version` (when given; 412 if not).
    pub async fn delete_group_if(
        &self,
        tenant: &TenantId,
        id: &GroupId,
        version: Option<i64>,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query_scalar::<DB, String>(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM groups WHERE tenant_id = $1 AND id = $2{}",
            super::DIALECT.for_update()
        )))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let before = existing_group(&mut tx, tenant, id).await?;
        if let Some(v) = version
            && v != before.version
        {
            return Err(DomainError::PreconditionFailed(v));
        }
        if actor.is_directory() {
            // Its members lose it: a directory may not do that to administrators or the owner.
            let members: Vec<String> =
                sqlx::query_scalar("SELECT user_id FROM group_members WHERE group_id = $1")
                    .bind(id.as_str())
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db_error)?;
            let members: Vec<&str> = members.iter().map(String::as_str).collect();
            super::holders::check_directory_reach_all(&mut tx, tenant, &members).await?;
        }
        bump_members(&mut tx, id).await?;
        sqlx::query("DELETE FROM groups WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("group.delete", "group", id).before(&before),
        )
        .await?;
        Ok(())
    }

    /// Adds a user of the tenant to a group (no change if already a member).
    pub async fn add_group_member(
        &self,
        tenant: &TenantId,
        group: &GroupId,
        user: &UserId,
        actor: &Actor,
    ) -> Result<Group> {
        let sql = "SELECT EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2)";
        self.link(
            tenant,
            group,
            (sql, "user"),
            user.as_str(),
            &ADD_MEMBER,
            actor,
        )
        .await
    }

    /// Removes a user from a group.
    pub async fn remove_group_member(
        &self,
        tenant: &TenantId,
        group: &GroupId,
        user: &UserId,
        actor: &Actor,
    ) -> Result<Group> {
        let sql = "SELECT EXISTS (SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2)";
        self.link(
            tenant,
            group,
            (sql, "user"),
            user.as_str(),
            &REMOVE_MEMBER,
            actor,
        )
        .await
    }

    /// Grants a role of the tenant to a group (no change if already granted).
    pub async fn add_group_role(
        &self,
        tenant: &TenantId,
        group: &GroupId,
        role: &RoleId,
        actor: &Actor,
    ) -> Result<Group> {
        let sql = "SELECT EXISTS (SELECT 1 FROM roles WHERE tenant_id = $1 AND id = $2)";
        self.link(
            tenant,
            group,
            (sql, "role"),
            role.as_str(),
            &ADD_ROLE,
            actor,
        )
        .await
    }

    /// Takes a role away from a group.
    pub async fn remove_group_role(
        &self,
        tenant: &TenantId,
        group: &GroupId,
        role: &RoleId,
        actor: &Actor,
    ) -> Result<Group> {
        let sql = "SELECT EXISTS (SELECT 1 FROM roles WHERE tenant_id = $1 AND id = $2)";
        self.link(
            tenant,
            group,
            (sql, "role"),
            role.as_str(),
            &REMOVE_ROLE,
            actor,
        )
        .await
    }

    /// Applies one membership or role change to a group, bumping its version when it changed.
    async fn link(
        &self,
        tenant: &TenantId,
        group: &GroupId,
        (exists_sql, what): (&'static str, &'static str),
        other: &str,
        link: &Link,
        actor: &Actor,
    ) -> Result<Group> {
        let mut tx = self.write_tx().await?;
        let before = existing_group(&mut tx, tenant, group).await?;
        if link.bumps_user {
            // A member: locked, and the caller's power over them checked, in the transaction.
            let user = UserId(other.to_owned());
            super::holders::lock_user(&mut tx, tenant, &user, actor).await?;
        } else if !exists_in_tenant(&mut tx, exists_sql, tenant, other).await? {
            return Err(DomainError::NotFound(what));
        }
        let changed = sqlx::query(link.sql)
            .bind(group.as_str())
            .bind(other)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected()
            > 0;
        if !changed {
            return match link.required {
                Some(missing) => Err(DomainError::NotFound(missing)),
                None => Ok(before),
            };
        }
        bump(&mut tx, tenant, group).await?;
        if link.bumps_user {
            bump_users(&mut tx, &[other]).await?;
        }
        let after = existing_group(&mut tx, tenant, group).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new(link.action, "group", group)
                .before(&before)
                .after(&after),
        )
        .await?;
        Ok(after)
    }
}
