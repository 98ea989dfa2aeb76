//! `/keys`: the tenant's signing keys (public information) and their rotation.

use crate::admin::keys;
use crate::domain::authz::Caller;
use crate::domain::oidc::SigningKey;
use crate::http::AppState;
use crate::http::problem::ApiResult;
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/keys", get(list))
        .route("/keys/rotate", post(rotate))
}

async fn list(State(s): State<AppState>, caller: Caller) -> ApiResult<axum::Json<Vec<SigningKey>>> {
    Ok(axum::Json(keys::list(&s.store, &s.oidc, &caller).await?))
}

async fn rotate(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<SigningKey>>> {
    Ok(axum::Json(keys::rotate(&s.store, &s.oidc, &caller).await?))
}
