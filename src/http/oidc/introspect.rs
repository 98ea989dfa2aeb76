//! `POST /introspect` (RFC 7662): form in, token description out, `Cache-Control: no-store`.

use crate::http::AppState;
use crate::oidc::error::{OAuthError, OAuthResult};
use crate::oidc::introspection::introspect as describe;
use crate::oidc::issuer;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

pub async fn introspect(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> OAuthResult<Response> {
    let tenant = s.oidc.tenant(&s.store, &slug).await?;
    let Form(pairs) = form.map_err(|e| {
        OAuthError::invalid_request(format!(
            "send the parameters as application/x-www-form-urlencoded: {}",
            e.body_text()
        ))
    })?;
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str())
        .transpose()
        .map_err(|_| OAuthError::invalid_client("the Authorization header is not valid"))?;
    let issuer = issuer(&s.config.public_url, &tenant.slug);
    let body = describe(&s.oidc, &s.store, &tenant, &issuer, authorization, pairs).await?;
    let mut res = axum::Json(body).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(res)
}
