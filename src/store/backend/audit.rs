//! Reading the audit log (writing is `record`, inside each change's transaction).

use super::users::Arg;
use super::{Backend, DB, db_error};
use crate::domain::audit::{AuditQuery, AuditRecord};
use crate::domain::*;

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: String,
    at: i64,
    actor_kind: String,
    actor_id: Option<String>,
    actor_label: String,
    action: String,
    target_kind: String,
    target_id: Option<String>,
    before: Option<String>,
    after: Option<String>,
    ip: Option<String>,
}

fn json(text: Option<String>) -> Option<serde_json::Value> {
    text.map(|t| serde_json::from_str(&t).unwrap_or(serde_json::Value::String(t)))
}

impl From<AuditRow> for AuditRecord {
    fn from(r: AuditRow) -> Self {
        AuditRecord {
            id: AuditId(r.id),
            at: r.at,
            actor_kind: r.actor_kind,
            actor_id: r.actor_id,
            actor_label: r.actor_label,
            action: r.action,
            target_kind: r.target_kind,
            target_id: r.target_id,
            before: json(r.before),
            after: json(r.after),
            ip: r.ip,
        }
    }
}

/// The WHERE clause and its arguments for `q` (the tenant is `$1`).
fn filters(tenant: &TenantId, q: &AuditQuery) -> (String, Vec<Arg>) {
    let mut args = vec![Arg::Text(tenant.0.clone())];
    let mut sql = String::from("tenant_id = $1");
    let text_filters = [
        ("actor_id = ", &q.actor_id),
        ("action = ", &q.action),
        ("target_kind = ", &q.target_kind),
        ("target_id = ", &q.target_id),
        ("id < ", &q.before_id),
    ];
    for (cond, value) in text_filters {
        if let Some(v) = value {
            args.push(Arg::Text(v.clone()));
            sql += &format!(" AND {cond}${}", args.len());
        }
    }
    for (cond, value) in [("at >= ", q.since_ms), ("at <= ", q.until_ms)] {
        if let Some(v) = value {
            args.push(Arg::Int(v));
            sql += &format!(" AND {cond}${}", args.len());
        }
    }
    (sql, args)
}

impl Backend {
    /// Audit entries matching `q`, newest first, keyset-paged by id (ids are time-ordered).
    pub async fn list_audit(&self, tenant: &TenantId, q: &AuditQuery) -> Result<Page<AuditRecord>> {
        let (clause, mut args) = filters(tenant, q);
        let limit = q.limit.clamp(1, 1000) as usize;
        args.push(Arg::Int(limit as i64 + 1));
        let sql = format!(
            "SELECT id, at, actor_kind, actor_id, actor_label, action, target_kind, target_id, before, after, ip
             FROM audit_log WHERE {clause} ORDER BY id DESC LIMIT ${}",
            args.len()
        );
        let mut query = sqlx::query_as::<DB, AuditRow>(sqlx::AssertSqlSafe(sql));
        for a in args {
            query = match a {
                Arg::Text(s) => query.bind(s),
                Arg::Int(i) => query.bind(i),
            };
        }
        let mut rows = query.fetch_all(&self.pool).await.map_err(db_error)?;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| r.id.clone())
        } else {
            None
        };
        Ok(Page {
            items: rows.into_iter().map(AuditRecord::from).collect(),
            next_cursor,
        })
    }
}
