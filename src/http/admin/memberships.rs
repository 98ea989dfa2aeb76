//! `/users/{id}/memberships`.

use crate::admin::memberships::{self, AddMembership, UpdateMembership};
use crate::domain::authz::Caller;
use crate::domain::{MembershipId, UserId};
use crate::http::AppState;
use crate::http::extract::{Json, Path};
use crate::http::problem::ApiResult;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use serde::Deserialize;

/// The routes of a user's memberships.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/{id}/memberships", get(list).post(add))
        .route(
            "/users/{id}/memberships/{membership_id}",
            patch(update).delete(remove),
        )
}

#[derive(Deserialize)]
struct UserPath {
    #[allow(dead_code)]
    tenant: String,
    id: UserId,
}

#[derive(Deserialize)]
struct MembershipPath {
    #[allow(dead_code)]
    tenant: String,
    id: UserId,
    membership_id: MembershipId,
}

async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
) -> ApiResult<Response> {
    let items = memberships::list(&s.store, &caller, &p.id).await?;
    Ok(axum::Json(serde_json::json!({ "items": items })).into_response())
}

async fn add(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
    Json(req): Json<AddMembership>,
) -> ApiResult<Response> {
    let m = memberships::add(&s.store, &caller, &p.id, req).await?;
    Ok((StatusCode::CREATED, axum::Json(m)).into_response())
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<MembershipPath>,
    Json(req): Json<UpdateMembership>,
) -> ApiResult<Response> {
    let m = memberships::update(&s.store, &caller, &p.id, &p.membership_id, req).await?;
    Ok(axum::Json(m).into_response())
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<MembershipPath>,
) -> ApiResult<StatusCode> {
    memberships::delete(&s.store, &caller, &p.id, &p.membership_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
