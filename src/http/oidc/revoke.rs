//! `POST /revoke` (RFC 7009): form in, an empty 200 out (also for tokens that are not valid).

use super::client_request::{ClientRequest, no_store};
use crate::http::AppState;
use crate::oidc::error::OAuthResult;
use crate::oidc::revocation::revoke as revoke_token;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

pub async fn revoke(State(s): State<AppState>, r: ClientRequest) -> OAuthResult<Response> {
    let auth = r.authorization.as_deref();
    revoke_token(&s.oidc, &s.store, &r.tenant, &r.issuer, auth, r.pairs).await?;
    Ok(no_store(StatusCode::OK.into_response()))
}
