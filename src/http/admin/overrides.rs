//! `/users/{id}/overrides` and `/users/{id}/effective-permissions`.

use crate::admin::overrides::{self, SetOverride};
use crate::domain::UserId;
use crate::domain::authz::Caller;
use crate::http::AppState;
use crate::http::extract::{Json, Path};
use crate::http::problem::ApiResult;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde::Deserialize;

/// The routes of per-user overrides and effective permissions.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/{id}/overrides", get(list))
        .route(
            "/users/{id}/overrides/{permission}",
            put(set).delete(remove),
        )
        .route("/users/{id}/effective-permissions", get(effective))
}

#[derive(Deserialize)]
struct UserPath {
    id: UserId,
}

#[derive(Deserialize)]
struct OverridePath {
    id: UserId,
    permission: String,
}

async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
) -> ApiResult<Response> {
    let items = overrides::list(&s.store, &caller, &p.id).await?;
    Ok(axum::Json(serde_json::json!({ "items": items })).into_response())
}

async fn set(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<OverridePath>,
    Json(req): Json<SetOverride>,
) -> ApiResult<Response> {
    let o = overrides::set(&s.store, &caller, &p.id, &p.permission, req).await?;
    Ok(axum::Json(o).into_response())
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<OverridePath>,
) -> ApiResult<StatusCode> {
    overrides::delete(&s.store, &caller, &p.id, &p.permission).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn effective(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
) -> ApiResult<Response> {
    Ok(axum::Json(overrides::effective(&s.store, &caller, &p.id).await?).into_response())
}
