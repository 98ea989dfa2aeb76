//! `/permissions`: the permission catalogue.

use crate::admin::permissions::{self, CreatePermission, UpdatePermission};
use crate::domain::PermissionId;
use crate::domain::authz::Caller;
use crate::http::AppState;
use crate::http::extract::{Json, Path};
use crate::http::problem::ApiResult;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use serde::Deserialize;

/// The routes of the permission catalogue.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/permissions", get(list).post(create))
        .route("/permissions/{id}", patch(update).delete(remove))
}

#[derive(Deserialize)]
struct IdPath {
    id: PermissionId,
}

async fn list(State(s): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let items = permissions::list(&s.store, &caller).await?;
    Ok(axum::Json(serde_json::json!({ "items": items })).into_response())
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    Json(req): Json<CreatePermission>,
) -> ApiResult<Response> {
    let p = permissions::create(&s.store, &caller, req).await?;
    Ok((StatusCode::CREATED, axum::Json(p)).into_response())
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<IdPath>,
    Json(req): Json<UpdatePermission>,
) -> ApiResult<Response> {
    Ok(axum::Json(permissions::update(&s.store, &caller, &p.id, req).await?).into_response())
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<IdPath>,
) -> ApiResult<StatusCode> {
    permissions::delete(&s.store, &caller, &p.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
