//! SCIM 2.0 (RFC 7643/7644): the protocol layer. Knows neither axum nor sqlx.

pub mod bulk;
pub mod discovery;
pub mod email_change;
pub mod error;
pub mod expand;
pub mod filter;
pub mod group;
pub mod group_patch;
pub mod json;
pub mod limits;
pub mod patch;
pub mod query;
pub mod schema;
pub mod service;
pub mod user;

use crate::domain::audit::Actor;
use crate::domain::{ScimTokenId, Tenant, TenantId};

/// The caller of a SCIM request: a SCIM token of one tenant.
#[derive(Clone, Debug)]
pub struct ScimCaller {
    pub tenant: Tenant,
    pub token_id: ScimTokenId,
    pub token_name: String,
    pub ip: Option<String>,
    /// `{public_url}/t/{tenant}/scim/v2`: the base of every `location`.
    pub base: String,
    /// The server's bounded password-hashing queue: a password write takes a place in it.
    pub hash_queue: std::sync::Arc<crate::domain::passwords::HashQueue>,
}

impl ScimCaller {
    pub fn tenant_id(&self) -> &TenantId {
        &self.tenant.id
    }

    /// The caller as the audit log records them.
    pub fn actor(&self) -> Actor {
        Actor {
            kind: "scim",
            id: Some(self.token_id.to_string()),
            label: format!("SCIM token {}", self.token_name),
            ip: self.ip.clone(),
            power: None,
        }
    }
}

/// The entity tag of a resource version: weak, as the JSON is not byte-stable.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// Whether an `If-Match` / `If-None-Match` header value names `version` (`*` names any).
pub fn etag_matches(header: &str, version: i64) -> bool {
    header
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/").trim_matches('"') == version.to_string())
}

/// The version an `If-Match` header requires: `None` for `*` or no header; a tag that is not
/// one of ours requires version 0, which no resource has, so the write is refused with 412.
pub fn if_match_version(header: Option<&str>) -> Option<i64> {
    crate::domain::versions::Precondition::parse(header.map(str::as_bytes)).required()
}
