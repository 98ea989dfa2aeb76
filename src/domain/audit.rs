//! The audit log: who did what to whom, before and after, when, from where.

use super::clock::rfc3339_ms;
use super::ids::*;
use serde::Serialize;
use serde_json::Value;

/// Who made a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// `token` (a tenant-wide API token), `user` (a user, through a token bound to them),
    /// `cli` (the command line on the server) or `system`.
    pub kind: &'static str,
    pub id: Option<String>,
    pub label: String,
    /// The client's address, when the change came over the network.
    pub ip: Option<String>,
    /// The standing of an admin API caller: the store re-checks the rule of power over a user
    /// it changes inside the write transaction, under the user's row lock. `None` for the CLI,
    /// the system and SCIM (which has its own rule).
    #[serde(skip)]
    pub power: Option<std::sync::Arc<super::authz::PowerStanding>>,
}

impl Actor {
    /// A directory writing over SCIM (whose reach over administrators has its own rule).
    pub fn is_directory(&self) -> bool {
        self.kind == "scim"
    }
    pub fn cli() -> Self {
        Self {
            kind: "cli",
            id: None,
            label: "castellan CLI".into(),
            ip: None,
            power: None,
        }
    }
    pub fn system() -> Self {
        Self {
            kind: "system",
            id: None,
            label: "Castellan".into(),
            ip: None,
            power: None,
        }
    }
    /// The user acting for themselves without a session (`how`: through what).
    pub fn of_user(user: &super::UserId, how: &str) -> Self {
        Self {
            kind: "user",
            id: Some(user.to_string()),
            label: format!("the user, {how}"),
            ip: None,
            power: None,
        }
    }
}

/// One change to record, written in the same transaction as the change itself.
#[derive(Clone, Debug)]
pub struct Change {
    pub action: &'static str,
    pub target_kind: &'static str,
    pub target_id: Option<String>,
    /// The state before and after, as JSON text (serialised once, straight from the value).
    pub before: Option<String>,
    pub after: Option<String>,
}

impl Change {
    pub fn new(action: &'static str, target_kind: &'static str, target_id: impl ToString) -> Self {
        Self {
            action,
            target_kind,
            target_id: Some(target_id.to_string()),
            before: None,
            after: None,
        }
    }
    pub fn before(mut self, v: impl Serialize) -> Self {
        self.before = serde_json::to_string(&v).ok();
        self
    }
    pub fn after(mut self, v: impl Serialize) -> Self {
        self.after = serde_json::to_string(&v).ok();
        self
    }
}

/// A recorded entry, as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct AuditRecord {
    pub id: AuditId,
    #[serde(with = "rfc3339_ms")]
    pub at: i64,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub actor_label: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub ip: Option<String>,
}

/// Filters on the audit log; every field narrows the answer.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// Entries older than this id (the previous page's cursor).
    pub before_id: Option<String>,
    pub limit: u32,
}
