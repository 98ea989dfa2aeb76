//! Extractors that turn bad input into problem+json, and the authenticated admin caller.

use super::AppState;
use super::problem::Problem;
use crate::domain::authz::{Caller, Principal, root_token_permissions};
use crate::domain::throttle::Client;
use crate::domain::{DomainError, UserStatus};
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;
use std::net::SocketAddr;

/// A JSON object body; malformed JSON is 400, well-formed JSON of the wrong shape 422 (an
/// array or a scalar included: serde would take a struct written as an array), a body that is
/// not JSON 415.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Problem;
    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        if !json_content_type(req.headers()) {
            return Err(Problem::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "send the request body as application/json",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| Problem::new(e.status(), "bad-request", e.body_text()))?;
        let object = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        let result = if object {
            axum::Json::<T>::from_bytes(&bytes)
        } else {
            // Not an object: 400 if it is not JSON at all, else 422.
            match axum::Json::<serde_json::Value>::from_bytes(&bytes) {
                Ok(_) => {
                    return Err(Problem {
                        status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                        kind: "validation",
                        field: None,
                        detail: "the request body must be a JSON object".into(),
                    });
                }
                Err(e) => Err(e),
            }
        };
        match result {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(JsonRejection::JsonDataError(e)) => {
                let message = inner_message(&e);
                Err(Problem {
                    status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    kind: "validation",
                    field: field_of(&message),
                    detail: format!("the request body has the wrong shape: {message}"),
                })
            }
            Err(JsonRejection::JsonSyntaxError(e)) => Err(Problem::bad_request(format!(
                "the request body is not valid JSON: {}",
                inner_message(&e)
            ))),
            Err(e) => Err(Problem::new(e.status(), "bad-request", e.body_text())),
        }
    }
}

/// `application/json` or `application/*+json`, as axum's own extractor takes.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct.split(';').next().unwrap_or_default().trim();
    let essence = essence.to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
}

/// The top-level field a deserialisation error names (`account_ids[2]: not a valid ...` is
/// about `account_ids`).
fn field_of(message: &str) -> Option<String> {
    let (path, _) = message.split_once(": ")?;
    let top = path.split(['[', '.']).next().unwrap_or_default();
    (!top.is_empty() && top.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        .then(|| top.to_owned())
}

fn inner_message(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg = s.to_string();
        src = s.source();
    }
    msg
}

/// Query parameters; a bad one is 400.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e: QueryRejection| {
                Problem::bad_request(format!("bad query parameters: {}", inner_message(&e)))
            })
    }
}

/// Path parameters; a malformed one is 404 (there is nothing at that address).
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e: PathRejection| {
                Problem::not_found(format!("no such resource: {}", inner_message(&e)))
            })
    }
}

pub use crate::domain::secrets::hash_secret;

/// Why no bearer token could be taken from a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoBearer {
    /// No `Authorization: Bearer` header, or one that cannot be read.
    Missing,
    /// The `Authorization` header is repeated: which one counts is ambiguous, so none does.
    Repeated,
}

impl NoBearer {
    /// What the caller is told, given what the surface expects to be sent.
    pub fn message(self, expected: &str) -> String {
        match self {
            Self::Missing => format!("send {expected} as `Authorization: Bearer <token>`"),
            Self::Repeated => "send exactly one Authorization header".into(),
        }
    }
}

/// The token of `Authorization: Bearer <token>`; a repeated header is refused.
pub fn bearer(headers: &HeaderMap) -> Result<&str, NoBearer> {
    let mut all = headers.get_all(header::AUTHORIZATION).iter();
    let first = all.next().ok_or(NoBearer::Missing)?;
    if all.next().is_some() {
        return Err(NoBearer::Repeated);
    }
    bearer_value(first.to_str().ok()).ok_or(NoBearer::Missing)
}

fn bearer_value(value: Option<&str>) -> Option<&str> {
    let value = value?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// A path parameter by name, before any typed extraction.
pub async fn path_param<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    name: &str,
) -> Option<String> {
    axum::extract::RawPathParams::from_request_parts(parts, state)
        .await
        .ok()
        .and_then(|p| {
            p.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_owned())
        })
}

/// The client's address, when the server was given it: the socket peer, or, when the peer is
/// one of `trusted_proxies`, the right-most untrusted address of `X-Forwarded-For`.
pub fn client_address(parts: &Parts, state: &AppState) -> Option<std::net::IpAddr> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
    let forwarded: Vec<&str> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    Some(crate::limits::client_address(
        peer,
        &forwarded,
        &state.trusted_proxies,
    ))
}

/// [`client_address`] as the audit log's text.
pub fn client_ip(parts: &Parts, state: &AppState) -> Option<String> {
    client_address(parts, state).map(|ip| ip.to_string())
}

/// Where the request came from: address and user agent.
impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .and_then(Client::clean_user_agent);
        Ok(Client {
            ip: client_address(parts, state),
            user_agent,
        })
    }
}

/// The admin API caller: a bearer token of the tenant named in the path. A token of another
/// tenant gets 404, as if the tenant did not exist.
impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let slug = path_param(parts, state, "tenant")
            .await
            .ok_or_else(|| Problem::not_found("no tenant in the path"))?;
        let token = bearer(&parts.headers)
            .map_err(|e| Problem::unauthorized(e.message("an admin API token")))?;
        let (tenant, token) = state
            .store
            .token_by_hash(&hash_secret(token))
            .await?
            .ok_or_else(|| Problem::unauthorized("the token is not valid (unknown or revoked)"))?;
        if tenant.slug != slug {
            return Err(Problem::not_found(format!("tenant `{slug}` not found")));
        }
        let ip = client_ip(parts, state);
        let (principal, permissions) = match &token.user_id {
            None => (
                Principal::Token {
                    token_id: token.id,
                    name: token.name,
                },
                root_token_permissions(),
            ),
            Some(uid) => {
                let user = state
                    .store
                    .get_user(&tenant.id, uid)
                    .await?
                    .ok_or(DomainError::NotFound("user"))?;
                if !matches!(user.status, UserStatus::Active | UserStatus::Invited) {
                    return Err(Problem::unauthorized("the token's user is not active"));
                }
                let eff = state.store.effective_permissions(&tenant.id, uid).await?;
                let label = format!("{} (via token {})", user.email, token.name);
                let perms = eff.names().map(str::to_owned).collect();
                (
                    Principal::User {
                        token_id: Some(token.id),
                        user_id: uid.clone(),
                        label,
                        owner: user.is_owner,
                    },
                    perms,
                )
            }
        };
        Ok(Caller {
            tenant,
            principal,
            permissions,
            ip,
        })
    }
}

/// The version the `If-Match` header(s) require (`None`: no header, or `*`). A value that is
/// not one of our ETags, or not UTF-8, requires a version no resource has, so the write is
/// refused with 412 rather than done unconditionally.
pub fn if_match(headers: &HeaderMap) -> Option<i64> {
    let values: Vec<&[u8]> = headers
        .get_all(axum::http::header::IF_MATCH)
        .iter()
        .map(axum::http::HeaderValue::as_bytes)
        .collect();
    let joined = values.join(&b","[..]);
    crate::domain::versions::Precondition::parse((!values.is_empty()).then_some(&joined[..]))
        .required()
}
