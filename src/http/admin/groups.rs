//! `/groups`: groups, their members and roles.

use crate::admin::groups::{self, CreateGroup, UpdateGroup};
use crate::domain::authz::Caller;
use crate::domain::{GroupId, RoleId, UserId};
use crate::http::AppState;
use crate::http::extract::{Json, Path};
use crate::http::problem::ApiResult;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde::Deserialize;

/// The routes of groups.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/groups", get(list).post(create))
        .route("/groups/{id}", get(read).patch(update).delete(remove))
        .route(
            "/groups/{id}/members/{user_id}",
            put(add_member).delete(remove_member),
        )
        .route(
            "/groups/{id}/roles/{role_id}",
            put(add_role).delete(remove_role),
        )
}

#[derive(Deserialize)]
struct GroupPath {
    id: GroupId,
}

#[derive(Deserialize)]
struct MemberPath {
    id: GroupId,
    user_id: UserId,
}

#[derive(Deserialize)]
struct RolePath {
    id: GroupId,
    role_id: RoleId,
}

async fn list(State(s): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let items = groups::list(&s.store, &caller).await?;
    Ok(axum::Json(serde_json::json!({ "items": items })).into_response())
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateGroup>,
) -> ApiResult<Response> {
    let g = groups::create(&s.store, &caller, req).await?;
    Ok((StatusCode::CREATED, axum::Json(g)).into_response())
}

async fn read(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<GroupPath>,
) -> ApiResult<Response> {
    Ok(axum::Json(groups::get(&s.store, &caller, &p.id).await?).into_response())
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<GroupPath>,
    Json(req): Json<UpdateGroup>,
) -> ApiResult<Response> {
    Ok(axum::Json(groups::update(&s.store, &caller, &p.id, req).await?).into_response())
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<GroupPath>,
) -> ApiResult<StatusCode> {
    groups::delete(&s.store, &caller, &p.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn add_member(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<MemberPath>,
) -> ApiResult<Response> {
    let g = groups::add_member(&s.store, &caller, &p.id, &p.user_id).await?;
    Ok(axum::Json(g).into_response())
}

async fn remove_member(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<MemberPath>,
) -> ApiResult<Response> {
    let g = groups::remove_member(&s.store, &caller, &p.id, &p.user_id).await?;
    Ok(axum::Json(g).into_response())
}

async fn add_role(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<RolePath>,
) -> ApiResult<Response> {
    let g = groups::add_role(&s.store, &caller, &p.id, &p.role_id).await?;
    Ok(axum::Json(g).into_response())
}

async fn remove_role(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<RolePath>,
) -> ApiResult<Response> {
    let g = groups::remove_role(&s.store, &caller, &p.id, &p.role_id).await?;
    Ok(axum::Json(g).into_response())
}
