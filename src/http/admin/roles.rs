//! `/roles` and `/users/{id}/roles`: roles and the roles users hold.

use crate::admin::roles::{self, AssignRole, CreateRole, UpdateAssignment, UpdateRole};
use crate::domain::authz::Caller;
use crate::domain::{RoleAssignmentId, RoleId, UserId};
use crate::http::AppState;
use crate::http::extract::{Json, Path};
use crate::http::problem::ApiResult;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use serde::Deserialize;

/// The routes of roles and role assignments.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/roles", get(list).post(create))
        .route("/roles/{id}", get(read).patch(update).delete(remove))
        .route("/users/{id}/roles", get(assignments).post(assign))
        .route(
            "/users/{id}/roles/{assignment_id}",
            patch(update_assignment).delete(unassign),
        )
}

#[derive(Deserialize)]
struct RolePath {
    id: RoleId,
}

#[derive(Deserialize)]
struct UserPath {
    id: UserId,
}

#[derive(Deserialize)]
struct AssignmentPath {
    id: UserId,
    assignment_id: RoleAssignmentId,
}

async fn list(State(s): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let items = roles::list(&s.store, &caller).await?;
    Ok(axum::Json(serde_json::json!({ "items": items })).into_response())
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateRole>,
) -> ApiResult<Response> {
    let role = roles::create(&s.store, &caller, req).await?;
    Ok((StatusCode::CREATED, axum::Json(role)).into_response())
}

async fn read(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<RolePath>,
) -> ApiResult<Response> {
    Ok(axum::Json(roles::get(&s.store, &caller, &p.id).await?).into_response())
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<RolePath>,
    Json(req): Json<UpdateRole>,
) -> ApiResult<Response> {
    Ok(axum::Json(roles::update(&s.store, &caller, &p.id, req).await?).into_response())
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<RolePath>,
) -> ApiResult<StatusCode> {
    roles::delete(&s.store, &caller, &p.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn assignments(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
) -> ApiResult<Response> {
    let items = roles::assignments(&s.store, &caller, &p.id).await?;
    Ok(axum::Json(serde_json::json!({ "items": items })).into_response())
}

async fn assign(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
    Json(req): Json<AssignRole>,
) -> ApiResult<Response> {
    let a = roles::assign(&s.store, &caller, &p.id, req).await?;
    Ok((StatusCode::CREATED, axum::Json(a)).into_response())
}

async fn update_assignment(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<AssignmentPath>,
    Json(req): Json<UpdateAssignment>,
) -> ApiResult<Response> {
    let a = roles::update_assignment(&s.store, &caller, &p.id, &p.assignment_id, req).await?;
    Ok(axum::Json(a).into_response())
}

async fn unassign(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<AssignmentPath>,
) -> ApiResult<StatusCode> {
    roles::unassign(&s.store, &caller, &p.id, &p.assignment_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
