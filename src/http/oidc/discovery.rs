//! `GET /.well-known/openid-configuration` and `GET /jwks`.

use crate::http::AppState;
use crate::oidc::error::OAuthResult;
use crate::oidc::{discovery, issuer};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

pub async fn configuration(
    State(s): State<AppState>,
    Path(slug): Path<String>,
) -> OAuthResult<Response> {
    let tenant = s.oidc.tenant(&s.store, &slug).await?;
    let doc = discovery::document(&issuer(&s.config.public_url, &tenant.slug));
    Ok(public(axum::Json(doc).into_response(), "application/json"))
}

pub async fn jwks(State(s): State<AppState>, Path(slug): Path<String>) -> OAuthResult<Response> {
    let tenant = s.oidc.tenant(&s.store, &slug).await?;
    let keys = s.oidc.keys.keys(&s.store, &tenant.id).await?;
    Ok(public(
        keys.jwks.to_string().into_response(),
        "application/jwk-set+json",
    ))
}

/// Public metadata: cacheable for a short while (a rotation shows within a minute).
fn public(mut res: Response, content_type: &'static str) -> Response {
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    res
}
