//! SCIM 2.0 over HTTP under `/t/{tenant}/scim/v2`: authentication with the tenant's SCIM
//! tokens, `application/scim+json` in and out, SCIM error bodies for every failure.

mod bulk;
mod discovery;
mod groups;
pub mod log;
mod users;

use super::AppState;
use super::extract::{bearer, client_ip, hash_secret, path_param};
use crate::scim::ScimCaller;
use crate::scim::error::ScimError;
use crate::scim::query::{ListParams, Projection};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub const CONTENT_TYPE: &str = "application/scim+json";

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(users::router())
        .merge(groups::router())
        .merge(discovery::router())
        .merge(bulk::router())
        .fallback(|| async { ScimError::not_found("no such SCIM endpoint") })
        // The limit `/ServiceProviderConfig` advertises, not the 1 MiB of the other surfaces.
        .layer(DefaultBodyLimit::max(crate::scim::discovery::MAX_PAYLOAD))
}

/// 405 for a method an endpoint does not take, as a SCIM error.
pub async fn not_allowed() -> ScimError {
    ScimError::new(405, None, "this endpoint does not take that method")
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = (status, json_bytes(&self.body())).into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some(t) = self.scim_type {
            r.extensions_mut().insert(log::ScimType(t));
        }
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"scim\""),
            );
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(crate::domain::passwords::BUSY_RETRY_AFTER_SECS),
            );
        }
        r
    }
}

/// A body as compact JSON bytes (straight into a buffer: `Value`'s `Display` goes through the
/// formatting machinery, several times slower).
fn json_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// A SCIM answer: JSON body, optional ETag and Location.
pub struct Scim {
    pub status: StatusCode,
    pub body: Option<Value>,
    pub etag: Option<String>,
    pub location: Option<String>,
}

impl Scim {
    pub fn ok(body: Value) -> Self {
        Self {
            status: StatusCode::OK,
            body: Some(body),
            etag: None,
            location: None,
        }
    }
    /// A resource: its `meta.version` becomes the ETag.
    pub fn resource(status: StatusCode, body: Value) -> Self {
        let etag = body["meta"]["version"].as_str().map(str::to_owned);
        let location = (status == StatusCode::CREATED)
            .then(|| body["meta"]["location"].as_str().map(str::to_owned))
            .flatten();
        Self {
            status,
            body: Some(body),
            etag,
            location,
        }
    }
    pub fn empty(status: StatusCode) -> Self {
        Self {
            status,
            body: None,
            etag: None,
            location: None,
        }
    }
}

impl IntoResponse for Scim {
    fn into_response(self) -> Response {
        let mut r = match self.body {
            Some(b) => (self.status, json_bytes(&b)).into_response(),
            None => self.status.into_response(),
        };
        let h = r.headers_mut();
        if self.status != StatusCode::NO_CONTENT && self.status != StatusCode::NOT_MODIFIED {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        }
        if let Some(v) = self.etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
            h.insert(header::ETAG, v);
        }
        if let Some(v) = self.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            h.insert(header::LOCATION, v);
        }
        r
    }
}

pub type ScimResult<T = Scim> = Result<T, ScimError>;

/// A JSON request body (`application/scim+json` or `application/json`).
pub struct ScimJson(pub Value);

impl<S: Send + Sync> FromRequest<S> for ScimJson {
    type Rejection = ScimError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ScimError> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
            if !(ct.starts_with(CONTENT_TYPE) || ct.starts_with("application/json")) {
                return Err(ScimError::new(
                    415,
                    None,
                    "send the body as application/scim+json",
                ));
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ScimError::new(413, None, "the request body is too large")
            } else {
                ScimError::invalid_syntax("the request body could not be read")
            }
        })?;
        serde_json::from_slice(&bytes)
            .map(ScimJson)
            .map_err(|e| ScimError::invalid_syntax(format!("the body is not valid JSON: {e}")))
    }
}

/// The list parameters of a GET.
pub struct ListQuery(pub ListParams);

impl<S: Send + Sync> FromRequestParts<S> for ListQuery {
    type Rejection = ScimError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ScimError> {
        let q = axum::extract::Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ScimError::invalid_value("the query string is malformed"))?;
        Ok(ListQuery(ListParams::from_pairs(
            q.0.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )))
    }
}

impl ListQuery {
    pub fn projection(&self) -> Result<Projection, ScimError> {
        self.0.projection()
    }
}

/// The SCIM caller: a live SCIM token of the tenant named in the path. A token of another
/// tenant is refused like an unknown one.
impl FromRequestParts<AppState> for ScimCaller {
    type Rejection = ScimError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ScimError> {
        let slug = path_param(parts, state, "tenant")
            .await
            .ok_or_else(|| ScimError::not_found("no tenant in the path"))?;
        let token = bearer(&parts.headers)
            .map_err(|e| ScimError::unauthorized(e.message("a SCIM token")))?;
        let refused = || ScimError::unauthorized("the token is not valid (unknown or revoked)");
        let (tenant, token) = match state.store.scim_token_by_hash(&hash_secret(token)).await? {
            Some((tenant, token)) if tenant.slug == slug => (tenant, token),
            _ => return Err(refused()),
        };
        if let Some(seen) = parts.extensions.get::<log::Seen>() {
            seen.set(tenant.id.clone(), token.id.clone());
        }
        let ip = client_ip(parts, state);
        let base = format!(
            "{}/t/{}/scim/v2",
            state.config.public_url.trim_end_matches('/'),
            tenant.slug
        );
        Ok(ScimCaller {
            tenant,
            token_id: token.id,
            token_name: token.name,
            ip,
            base,
            hash_queue: state.hash_queue.clone(),
        })
    }
}

/// The `{id}` of the path.
pub struct Id(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ScimError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ScimError> {
        path_param(parts, state, "id")
            .await
            .map(Id)
            .ok_or_else(|| ScimError::not_found("no such resource"))
    }
}

/// The `If-Match` header's required version (`None`: any); a value that is not one of our
/// ETags, or not UTF-8, requires a version no resource has, so the write gets 412.
pub fn if_match(headers: &HeaderMap) -> Option<i64> {
    crate::http::extract::if_match(headers)
}

/// Whether `If-None-Match` names the current version (the GET is then answered 304).
pub fn not_modified(headers: &HeaderMap, version: i64) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|h| crate::scim::etag_matches(h, version))
}

/// A ListResponse.
pub fn list_response(total: i64, start_index: i64, resources: Vec<Value>) -> Value {
    serde_json::json!({
        "schemas": [crate::scim::schema::LIST],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}
