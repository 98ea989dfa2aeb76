//! Reading the audit log.

use super::validate;
use crate::domain::audit::{AuditQuery, AuditRecord};
use crate::domain::authz::Caller;
use crate::domain::clock::parse_rfc3339_ms;
use crate::domain::permissions::admin;
use crate::domain::*;
use crate::store::Store;
use serde::Deserialize;

/// Filters of `GET /audit`; every one narrows the answer.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListAudit {
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    /// Entries at or after this instant (RFC 3339).
    pub since: Option<String>,
    /// Entries at or before this instant (RFC 3339).
    pub until: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

fn instant(field: &str, value: Option<&str>) -> Result<Option<i64>> {
    value
        .map(|v| {
            parse_rfc3339_ms(v).ok_or_else(|| {
                DomainError::invalid(
                    field,
                    format!("`{field}` must be an RFC 3339 timestamp such as 2024-05-01T12:00:00Z"),
                )
            })
        })
        .transpose()
}

fn cursor(value: Option<String>) -> Result<Option<String>> {
    match value {
        Some(c) if uuid::Uuid::parse_str(&c).is_err() => Err(DomainError::invalid(
            "cursor",
            "`cursor` is not one this API gave out",
        )),
        other => Ok(other),
    }
}

/// Entries matching the filters, newest first, one page at a time.
pub async fn list(store: &Store, caller: &Caller, req: ListAudit) -> Result<Page<AuditRecord>> {
    caller.require(admin::AUDIT_READ)?;
    let query = AuditQuery {
        since_ms: instant("since", req.since.as_deref())?,
        until_ms: instant("until", req.until.as_deref())?,
        before_id: cursor(req.cursor)?,
        limit: validate::limit(req.limit)?,
        actor_id: req.actor_id,
        action: req.action,
        target_kind: req.target_kind,
        target_id: req.target_id,
    };
    store.list_audit(caller.tenant_id(), &query).await
}
