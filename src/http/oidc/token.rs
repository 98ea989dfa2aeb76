//! `POST /token`: form in, token JSON out, `Cache-Control: no-store` either way.

use super::client_request::{ClientRequest, no_store_json};
use crate::http::AppState;
use crate::oidc::error::OAuthResult;
use crate::oidc::token::{TokenRequest, exchange};
use axum::extract::State;
use axum::response::Response;

pub async fn token(State(s): State<AppState>, r: ClientRequest) -> OAuthResult<Response> {
    let req = TokenRequest::parse(r.authorization.as_deref(), r.pairs)?;
    let body = exchange(&s.oidc, &s.store, &r.tenant, &r.issuer, req).await?;
    Ok(no_store_json(body))
}
