//! `/users/{id}/management`: what a user manages.

use crate::admin::management::{self, AddManagement};
use crate::domain::authz::Caller;
use crate::domain::{ManagementId, UserId};
use crate::http::AppState;
use crate::http::extract::{Json, Path};
use crate::http::problem::ApiResult;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde::Deserialize;

/// The routes of a user's management relations.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/{id}/management", get(list).post(add))
        .route("/users/{id}/management/{management_id}", delete(remove))
}

#[derive(Deserialize)]
struct UserPath {
    #[allow(dead_code)]
    tenant: String,
    id: UserId,
}

#[derive(Deserialize)]
struct ManagementPath {
    #[allow(dead_code)]
    tenant: String,
    id: UserId,
    management_id: ManagementId,
}

async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
) -> ApiResult<Response> {
    let items = management::list(&s.store, &caller, &p.id).await?;
    Ok(axum::Json(serde_json::json!({ "items": items })).into_response())
}

async fn add(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
    Json(req): Json<AddManagement>,
) -> ApiResult<Response> {
    let m = management::add(&s.store, &caller, &p.id, req).await?;
    Ok((StatusCode::CREATED, axum::Json(m)).into_response())
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<ManagementPath>,
) -> ApiResult<StatusCode> {
    management::delete(&s.store, &caller, &p.id, &p.management_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
