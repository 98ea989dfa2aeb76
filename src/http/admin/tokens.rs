//! `/tokens`: admin API tokens.

use crate::admin::tokens::{self, CreateToken, CreatedToken};
use crate::domain::authz::Caller;
use crate::domain::{ApiToken, TokenId};
use crate::http::AppState;
use crate::http::extract::{Json, Path};
use crate::http::problem::ApiResult;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use serde::Deserialize;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tokens", get(list).post(create))
        .route("/tokens/{id}", delete(revoke))
}

#[derive(Deserialize)]
struct TokenPath {
    #[allow(dead_code)]
    tenant: String,
    id: TokenId,
}

async fn list(State(s): State<AppState>, caller: Caller) -> ApiResult<axum::Json<Vec<ApiToken>>> {
    Ok(axum::Json(tokens::list(&s.store, &caller).await?))
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateToken>,
) -> ApiResult<(StatusCode, axum::Json<CreatedToken>)> {
    let created = tokens::create(&s.store, &caller, req).await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

async fn revoke(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<TokenPath>,
) -> ApiResult<StatusCode> {
    tokens::revoke(&s.store, &caller, &p.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
