//! `GET|POST /userinfo`: a bearer access token in, the user's claims out (`no-store`).

use super::client_request::{form_error, single_authorization};
use crate::http::AppState;
use crate::oidc::error::{OAuthError, OAuthResult};
use crate::oidc::issuer;
use crate::oidc::token::Params;
use crate::oidc::userinfo::{bearer_token, userinfo};
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

pub async fn get(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> OAuthResult<Response> {
    answer(&s, &slug, &headers, None).await
}

pub async fn post(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> OAuthResult<Response> {
    let params = match form {
        Ok(Form(pairs)) => Some(Params::new(pairs)?),
        // A POST with the token in the header only may carry no body at all.
        Err(_) if !headers.contains_key(header::CONTENT_TYPE) => None,
        Err(e) => return Err(form_error(e)),
    };
    answer(&s, &slug, &headers, params).await
}

async fn answer(
    s: &AppState,
    slug: &str,
    headers: &HeaderMap,
    params: Option<Params>,
) -> OAuthResult<Response> {
    let tenant = s.oidc.tenant(&s.store, slug).await?;
    let authorization = single_authorization(headers)?
        .map(|v| v.to_str())
        .transpose()
        .map_err(|_| OAuthError::invalid_request("the Authorization header is not valid"))?;
    let token = bearer_token(authorization, params)?;
    let issuer = issuer(&s.config.public_url, &tenant.slug);
    let body = userinfo(&s.oidc, &s.store, &tenant, &issuer, &token).await?;
    let mut res = axum::Json(body).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}
