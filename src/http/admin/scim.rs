//! `/scim/tokens` and `/scim/settings`: SCIM tokens and what a SCIM DELETE does.

use crate::admin::scim::{self, CreateScimToken, CreatedScimToken, ListScimRequests};
use crate::domain::authz::Caller;
use crate::domain::scim::{ScimRequest, ScimSettings, ScimToken};
use crate::domain::{Page, ScimTokenId};
use crate::http::AppState;
use crate::http::extract::{Json, Path, Query};
use crate::http::problem::ApiResult;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use serde::Deserialize;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/scim/tokens", get(list).post(create))
        .route("/scim/tokens/{id}", delete(revoke))
        .route("/scim/settings", get(settings).put(set_settings))
        .route("/scim/requests", get(requests))
}

#[derive(Deserialize)]
struct TokenPath {
    #[allow(dead_code)]
    tenant: String,
    id: ScimTokenId,
}

async fn list(State(s): State<AppState>, caller: Caller) -> ApiResult<axum::Json<Vec<ScimToken>>> {
    Ok(axum::Json(scim::list_tokens(&s.store, &caller).await?))
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateScimToken>,
) -> ApiResult<(StatusCode, axum::Json<CreatedScimToken>)> {
    let created = scim::create_token(&s.store, &caller, req).await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

async fn revoke(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<TokenPath>,
) -> ApiResult<StatusCode> {
    scim::revoke_token(&s.store, &caller, &p.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn settings(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<ScimSettings>> {
    Ok(axum::Json(scim::settings(&s.store, &caller).await?))
}

async fn set_settings(
    State(s): State<AppState>,
    caller: Caller,
    Json(req): Json<ScimSettings>,
) -> ApiResult<axum::Json<ScimSettings>> {
    Ok(axum::Json(
        scim::set_settings(&s.store, &caller, req).await?,
    ))
}

async fn requests(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<ListScimRequests>,
) -> ApiResult<axum::Json<Page<ScimRequest>>> {
    Ok(axum::Json(scim::requests(&s.store, &caller, q).await?))
}
