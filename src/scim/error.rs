//! The SCIM error response (RFC 7644 §3.12): `status` as a string, `scimType` where one fits.

use crate::domain::DomainError;
use serde::Serialize;

pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A SCIM error: HTTP status, `scimType` and a readable detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

pub type ScimResult<T> = Result<T, ScimError>;

impl ScimError {
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
        }
    }
    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self::new(400, Some(scim_type), detail)
    }
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::bad("invalidValue", detail)
    }
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::bad("invalidFilter", detail)
    }
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::bad("invalidPath", detail)
    }
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::bad("invalidSyntax", detail)
    }
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::bad("mutability", detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(401, None, detail)
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        #[derive(Serialize)]
        struct Body<'a> {
            schemas: [&'a str; 1],
            status: String,
            #[serde(rename = "scimType", skip_serializing_if = "Option::is_none")]
            scim_type: Option<&'a str>,
            detail: &'a str,
        }
        serde_json::to_value(Body {
            schemas: [ERROR_SCHEMA],
            status: self.status.to_string(),
            scim_type: self.scim_type,
            detail: &self.detail,
        })
        .unwrap_or_default()
    }
}

impl From<DomainError> for ScimError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound(what) => Self::not_found(format!("{what} not found")),
            DomainError::Invalid { field, message } => match field.as_deref() {
                Some("filter") => Self::invalid_filter(message),
                _ => Self::invalid_value(message),
            },
            DomainError::Conflict(m) if m.contains("already exists") => {
                // Name the SCIM attribute that holds the taken value.
                let attribute = if m.contains("user with this email") {
                    "emails.value: "
                } else if m.contains("user with this username") {
                    "userName: "
                } else {
                    ""
                };
                Self::new(409, Some("uniqueness"), format!("{attribute}{m}"))
            }
            DomainError::Conflict(m) => Self::new(409, None, m),
            DomainError::Forbidden(m) => Self::new(403, None, m),
            DomainError::PreconditionFailed(_) => Self::new(
                412,
                None,
                "the resource was changed since the version given in If-Match",
            ),
            DomainError::Unavailable { .. } => {
                Self::new(503, None, "too much work is waiting; try again shortly")
            }
            DomainError::Contention => Self::new(
                503,
                None,
                "conflicting changes kept the database busy; try again shortly",
            ),
            DomainError::Internal(detail) => {
                tracing::error!(%detail, "SCIM request failed");
                Self::new(500, None, "internal error")
            }
        }
    }
}

impl From<super::filter::FilterError> for ScimError {
    fn from(e: super::filter::FilterError) -> Self {
        Self::invalid_filter(e.to_string())
    }
}
