//! Groups as SCIM reads and writes them. They are Castellan's groups: roles granted to a group
//! follow the membership the directory pushes.

use super::scim_sql::{Bind, Sql, group_filter, group_sort};
use super::scim_users::bind_args;
use super::{Backend, Conn, DB, DIALECT, Tx, commit, db_error, placeholders};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_ms;
use crate::domain::scim::*;
use crate::domain::*;
use std::collections::{BTreeSet, HashMap};

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    display_name: String,
    external_id: Option<String>,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

const COLUMNS: &str = "g.id, g.display_name, g.external_id, g.created_at, g.updated_at, g.version";

async fn groups_by_sql(conn: &mut Conn, sql: Sql, members: bool) -> Result<Vec<ScimGroup>> {
    let q = bind_args!(
        sqlx::query_as::<DB, Row>(sqlx::AssertSqlSafe(sql.text)),
        sql.args
    );
    let rows = q.fetch_all(&mut *conn).await.map_err(db_error)?;
    let mut by_group: HashMap<String, Vec<(UserId, String)>> = HashMap::new();
    if members && !rows.is_empty() {
        let mut q = sqlx::query_as::<DB, (String, String, String)>(sqlx::AssertSqlSafe(format!(
            "SELECT gm.group_id, u.id, COALESCE(u.display_name, u.username) FROM group_members gm \
             JOIN users u ON u.id = gm.user_id WHERE gm.group_id IN ({}) \
             AND NOT u.scim_removed AND u.status <> 'anonymised' ORDER BY gm.group_id, u.id",
            placeholders(1, rows.len())
        )));
        for r in &rows {
            q = q.bind(r.id.as_str());
        }
        for (g, u, name) in q.fetch_all(&mut *conn).await.map_err(db_error)? {
            by_group.entry(g).or_default().push((UserId(u), name));
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| ScimGroup {
            members: by_group.remove(&r.id).unwrap_or_default(),
            id: GroupId(r.id),
            display_name: r.display_name,
            external_id: r.external_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
        .collect())
}

async fn group_conn(
    conn: &mut Conn,
    tenant: &TenantId,
    id: &str,
    lock: bool,
) -> Result<Option<ScimGroup>> {
    let mut sql = Sql::new(tenant.as_str());
    let p = sql.bind(Bind::Text(id.to_owned()));
    sql.text = format!(
        "SELECT {COLUMNS} FROM groups g WHERE g.tenant_id = $1 AND g.id = {p}{}",
        if lock { DIALECT.for_update() } else { "" }
    );
    Ok(groups_by_sql(conn, sql, true).await?.pop())
}

/// Refuses members that are not visible users of the tenant.
async fn check_members(tx: &mut Tx, tenant: &TenantId, members: &[UserId]) -> Result<()> {
    let wanted: BTreeSet<&str> = members.iter().map(UserId::as_str).collect();
    let wanted: Vec<&str> = wanted.into_iter().collect();
    match super::scim_users::first_missing_user(tx, tenant, &wanted).await? {
        Some(missing) => Err(DomainError::invalid(
            "members",
            format!("member `{missing}` is not a user of this tenant"),
        )),
        None => Ok(()),
    }
}

/// Brings the group's members to `members`: adds and removes only the difference.
async fn write_members(
    tx: &mut Tx,
    id: &GroupId,
    before: &[UserId],
    members: &[UserId],
) -> Result<()> {
    let old: BTreeSet<&UserId> = before.iter().collect();
    let new: BTreeSet<&UserId> = members.iter().collect();
    for gone in old.difference(&new) {
        sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
            .bind(id.as_str())
            .bind(gone.as_str())
            .execute(&mut **tx)
            .await
            .map_err(db_error)?;
    }
    for added in new.difference(&old) {
        sqlx::query("INSERT INTO group_members (group_id, user_id) VALUES ($1, $2)")
            .bind(id.as_str())
            .bind(added.as_str())
            .execute(&mut **tx)
            .await
            .map_err(db_error)?;
    }
    // A member's `groups` is part of their resource: their version changes with it.
    let changed: Vec<&str> = old.symmetric_difference(&new).map(|u| u.as_str()).collect();
    super::groups::bump_users(tx, &changed).await
}

fn audit_view(g: &ScimGroup) -> serde_json::Value {
    serde_json::json!({
        "id": g.id,
        "display_name": g.display_name,
        "external_id": g.external_id,
        "member_ids": g.members.iter().map(|m| &m.0).collect::<Vec<_>>(),
        "version": g.version,
    })
}

impl Backend {
    /// One group with its members.
    pub async fn scim_group(&self, tenant: &TenantId, id: &GroupId) -> Result<Option<ScimGroup>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        group_conn(&mut conn, tenant, id.as_str(), false).await
    }

    /// A page of groups matching the query (with members unless `members` is false).
    pub async fn scim_list_groups(
        &self,
        tenant: &TenantId,
        q: &ListQuery<GroupField>,
        members: bool,
    ) -> Result<ListPage<ScimGroup>> {
        let mut sql = Sql::new(tenant.as_str());
        let cond = match &q.filter {
            Some(f) => format!(" AND {}", group_filter(&mut sql, f)?),
            None => String::new(),
        };
        if sql.folds || q.sort_by.is_some() {
            self.scim_refold(tenant).await?;
        }
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        let total = bind_args!(
            sqlx::query_scalar::<DB, i64>(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM groups g WHERE g.tenant_id = $1{cond}"
            ))),
            sql.args.clone()
        )
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
        if q.count <= 0 || total < q.start_index {
            return Ok(ListPage {
                total,
                items: vec![],
            });
        }
        let order = match &q.sort_by {
            Some(f) => {
                let e = group_sort(f);
                // Missing values last ascending, first descending (RFC 7644 §3.4.2.3).
                let dir = if q.descending { "DESC" } else { "ASC" };
                format!("({e}) IS NULL {dir}, {e} {dir}, g.id {dir}")
            }
            None => "g.id".into(),
        };
        // Written into the SQL, not bound: SQLite recompiles a statement whose LIMIT is a
        // parameter each time it is bound again (the planner uses its value), which cost two
        // thirds of a lookup's instructions. Both are integers, so nothing can be injected.
        let (limit, offset) = (q.count, q.start_index - 1);
        sql.text = format!(
            "SELECT {COLUMNS} FROM groups g WHERE g.tenant_id = $1{cond} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
        );
        let items = groups_by_sql(&mut conn, sql, members).await?;
        Ok(ListPage { total, items })
    }

    /// Creates a group with its members.
    pub async fn scim_create_group(
        &self,
        tenant: &TenantId,
        w: &ScimGroupWrite,
        actor: &Actor,
    ) -> Result<ScimGroup> {
        let mut tx = self.write_tx().await?;
        check_members(&mut tx, tenant, &w.members).await?;
        let id = GroupId::generate();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO groups (id, tenant_id, display_name, external_id, created_at, updated_at, version)
             VALUES ($1, $2, $3, $4, $5, $5, 1)",
        )
        .bind(id.as_str())
        .bind(tenant.as_str())
        .bind(&w.display_name)
        .bind(&w.external_id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        write_members(&mut tx, &id, &[], &w.members).await?;
        let group = group_conn(&mut tx, tenant, id.as_str(), false)
            .await?
            .ok_or(DomainError::NotFound("group"))?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("group.create", "group", &id).after(audit_view(&group)),
        )
        .await?;
        Ok(group)
    }

    /// Replaces a group (name, external id, members) if its version is `version` (when given).
    pub async fn scim_replace_group(
        &self,
        tenant: &TenantId,
        id: &GroupId,
        version: Option<i64>,
        w: &ScimGroupWrite,
        actor: &Actor,
    ) -> Result<ScimGroup> {
        let mut tx = self.write_tx().await?;
        let before = group_conn(&mut tx, tenant, id.as_str(), true)
            .await?
            .ok_or(DomainError::NotFound("group"))?;
        if let Some(v) = version
            && v != before.version
        {
            return Err(DomainError::PreconditionFailed(v));
        }
        let old: Vec<UserId> = before.members.iter().map(|m| m.0.clone()).collect();
        let added: Vec<UserId> = w
            .members
            .iter()
            .filter(|m| !old.contains(m))
            .cloned()
            .collect();
        check_members(&mut tx, tenant, &added).await?;
        if w.display_name != before.display_name {
            super::groups::bump_members(&mut tx, id).await?;
        }
        sqlx::query(
            "UPDATE groups SET display_name = $3, external_id = $4, updated_at = $5, version = version + 1
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(&w.display_name)
        .bind(&w.external_id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        write_members(&mut tx, id, &old, &w.members).await?;
        let after = group_conn(&mut tx, tenant, id.as_str(), false)
            .await?
            .ok_or(DomainError::NotFound("group"))?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("group.update", "group", id)
                .before(audit_view(&before))
                .after(audit_view(&after)),
        )
        .await?;
        Ok(after)
    }
}
