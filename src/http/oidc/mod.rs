//! The OpenID Connect endpoints of each tenant's issuer `/t/{tenant}`: discovery, JWKS, token.

mod discovery;
mod error;
mod token;

use super::AppState;
use axum::Router;
use axum::routing::{get, post};

/// The routes of this module (full paths, merged into `app`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant}/.well-known/openid-configuration",
            get(discovery::configuration),
        )
        .route("/t/{tenant}/jwks", get(discovery::jwks))
        .route("/t/{tenant}/token", post(token::token))
}
