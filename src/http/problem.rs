//! The admin API's error format: RFC 9457 `application/problem+json`.

use crate::domain::DomainError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An admin API error.
#[derive(Debug)]
pub struct Problem {
    pub status: StatusCode,
    pub kind: &'static str,
    pub detail: String,
    pub field: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            detail: detail.into(),
            field: None,
        }
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", detail)
    }
}

impl From<DomainError> for Problem {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound(what) => Problem::not_found(format!("{what} not found")),
            DomainError::Invalid { field, message } => Problem {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                kind: "validation",
                detail: message,
                field,
            },
            DomainError::Conflict(m) => Problem::new(StatusCode::CONFLICT, "conflict", m),
            DomainError::Forbidden(m) => Problem::new(StatusCode::FORBIDDEN, "forbidden", m),
            DomainError::PreconditionFailed(_) => Problem::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                e.to_string(),
            ),
            DomainError::Unavailable { .. } => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "too many sign-ins and password changes are waiting; try again shortly",
            ),
            DomainError::Contention => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "conflicting changes kept the database busy; try again shortly",
            ),
            DomainError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "an internal error occurred; it has been logged",
                )
            }
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = Body {
            kind: format!("urn:castellan:problem:{}", self.kind),
            title,
            status: self.status.as_u16(),
            detail: &self.detail,
            field: self.field.as_deref(),
        };
        let mut res = (self.status, axum::Json(body)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(crate::domain::passwords::BUSY_RETRY_AFTER_SECS),
            );
        }
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    r#"Bearer realm="castellan-admin", error="invalid_token""#,
                ),
            );
        }
        res
    }
}

pub type ApiResult<T> = Result<T, Problem>;
