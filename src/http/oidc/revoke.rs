//! `POST /revoke` (RFC 7009): form in, an empty 200 out (also for tokens that are not valid).

use crate::http::AppState;
use crate::oidc::error::{OAuthError, OAuthResult};
use crate::oidc::issuer;
use crate::oidc::revocation::revoke as revoke_token;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub async fn revoke(
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
    revoke_token(&s.oidc, &s.store, &tenant, &issuer, authorization, pairs).await?;
    let mut res = StatusCode::OK.into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
