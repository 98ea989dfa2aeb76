//! Groups as SCIM reads and writes them. They are Castellan's groups: roles granted to a group
//! follow the membership the directory pushes.

use super::scim_sql::{Bind, Sql, group_filter, group_sort};
use super::scim_users::bind_args;
use super::{Backend, Conn, DB, DIALECT, Tx, commit, db_error, placeholders};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_us;
use crate::domain::scim::*;
use crate::domain::*;
use std::collections::HashMap;

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

/// One group (locked for update on PostgreSQL when `lock`), with its members when `members`.
pub(super) async fn group_conn(
    conn: &mut Conn,
    tenant: &TenantId,
    id: &str,
    lock: bool,
    members: bool,
) -> Result<Option<ScimGroup>> {
    let mut sql = Sql::new(tenant.as_str());
    let p = sql.bind(Bind::Text(id.to_owned()));
    sql.text = format!(
        "SELECT {COLUMNS} FROM groups g WHERE g.tenant_id = $1 AND g.id = {p}{}",
        if lock { DIALECT.for_update() } else { "" }
    );
    Ok(groups_by_sql(conn, sql, members).await?.pop())
}

/// Refuses members that are not visible users of the tenant.
pub(super) async fn check_members(tx: &mut Tx, tenant: &TenantId, members: &[&str]) -> Result<()> {
    match super::scim_users::first_missing_user(tx, tenant, members).await? {
        Some(missing) => Err(DomainError::invalid(
            "members",
            format!("member `{missing}` is not a user of this tenant"),
        )),
        None => Ok(()),
    }
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
    /// One group, with its members when `members` is true.
    pub async fn scim_group(
        &self,
        tenant: &TenantId,
        id: &GroupId,
        members: bool,
    ) -> Result<Option<ScimGroup>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        group_conn(&mut conn, tenant, id.as_str(), false, members).await
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
        let members: Vec<&str> = w.members.iter().map(UserId::as_str).collect();
        check_members(&mut tx, tenant, &members).await?;
        let id = GroupId::generate();
        let now = now_us();
        sqlx::query(
            "INSERT INTO groups (id, tenant_id, display_name, external_id, created_at, updated_at, version, display_name_f)
             VALUES ($1, $2, $3, $4, $5, $5, 1, $6)",
        )
        .bind(id.as_str())
        .bind(tenant.as_str())
        .bind(&w.display_name)
        .bind(&w.external_id)
        .bind(now)
        .bind(fold(&w.display_name))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let added = super::scim_group_members::insert_members(&mut tx, &id, &members).await?;
        let added: Vec<&str> = added.iter().map(String::as_str).collect();
        // A directory puts no one out of its reach (the owner, administrators) in a group.
        super::holders::check_directory_reach_all(&mut tx, tenant, &added).await?;
        super::groups::bump_users(&mut tx, &added).await?;
        let group = group_conn(&mut tx, tenant, id.as_str(), false, true)
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
}
