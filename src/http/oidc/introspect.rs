//! `POST /introspect` (RFC 7662): form in, token description out, `Cache-Control: no-store`.

use super::client_request::{ClientRequest, no_store_json};
use crate::http::AppState;
use crate::oidc::error::OAuthResult;
use crate::oidc::introspection::introspect as describe;
use axum::extract::State;
use axum::response::Response;

pub async fn introspect(State(s): State<AppState>, r: ClientRequest) -> OAuthResult<Response> {
    let auth = r.authorization.as_deref();
    let body = describe(&s.oidc, &s.store, &r.tenant, &r.issuer, auth, r.pairs).await?;
    Ok(no_store_json(body))
}
