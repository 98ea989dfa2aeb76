//! The one error type of the domain and the services above it. Each wire protocol maps it
//! onto its own format (problem+json, OAuth error JSON, SCIM error schema).

use std::fmt;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The thing addressed does not exist in this tenant (or the caller may not know it exists).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Input that is well-formed but breaks a rule; `field` names the offending input.
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
    },
    /// The change would break uniqueness or another invariant of stored data.
    #[error("{0}")]
    Conflict(String),
    /// The caller is known but lacks the right.
    #[error("{0}")]
    Forbidden(String),
    /// The caller's If-Match version is stale.
    #[error("the resource was changed since version {0} was read")]
    PreconditionFailed(i64),
    /// Too much work is waiting (the password-hashing queue is full): try again in
    /// `retry_after` seconds.
    #[error("busy: try again in {retry_after} s")]
    Unavailable { retry_after: u64 },
    /// The database aborted the transaction to break a deadlock or a serialization conflict
    /// with another one (PostgreSQL); nothing was written and the same change can be tried
    /// again. The store retries it itself a few times before it gives up with this.
    #[error("the database was busy with conflicting changes; try again")]
    Contention,
    /// Anything unexpected (database down, corrupted row). Logged in detail, answered generically.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = DomainError> = std::result::Result<T, E>;

impl DomainError {
    pub fn invalid(field: impl fmt::Display, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: Some(field.to_string()),
            message: message.into(),
        }
    }
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::Invalid {
            field: None,
            message: message.into(),
        }
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict(message.into())
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }
}
