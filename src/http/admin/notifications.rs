//! `/notification-types` and `/users/{id}/notifications`.

use crate::admin::notifications::{self, CreateNotificationType, RaiseEvent, SetPrefs};
use crate::domain::authz::Caller;
use crate::domain::{NotificationPref, NotificationType, UserId};
use crate::http::AppState;
use crate::http::extract::{Json, Path, Query};
use crate::http::problem::ApiResult;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use serde::Deserialize;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notification-types", get(list_types).post(create_type))
        .route("/notification-types/{key}", delete(delete_type))
        .route("/users/{id}/notifications", get(prefs).put(set_prefs))
        .route("/users/{id}/notification-events", get(events))
        .route("/users/{id}/notifications/events", post(raise))
}

#[derive(Deserialize)]
struct EventsQuery {
    limit: Option<u32>,
}

#[derive(Deserialize)]
struct KeyPath {
    #[allow(dead_code)]
    tenant: String,
    key: String,
}

#[derive(Deserialize)]
struct UserPath {
    #[allow(dead_code)]
    tenant: String,
    id: UserId,
}

async fn list_types(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<NotificationType>>> {
    Ok(axum::Json(
        notifications::list_types(&s.store, &caller).await?,
    ))
}

async fn create_type(
    State(s): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateNotificationType>,
) -> ApiResult<(StatusCode, axum::Json<NotificationType>)> {
    let t = notifications::create_type(&s.store, &caller, req).await?;
    Ok((StatusCode::CREATED, axum::Json(t)))
}

async fn delete_type(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<KeyPath>,
) -> ApiResult<StatusCode> {
    notifications::delete_type(&s.store, &caller, &p.key).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn prefs(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
) -> ApiResult<axum::Json<Vec<NotificationPref>>> {
    Ok(axum::Json(
        notifications::prefs(&s.store, &caller, &p.id).await?,
    ))
}

async fn set_prefs(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
    Json(req): Json<SetPrefs>,
) -> ApiResult<axum::Json<Vec<NotificationPref>>> {
    Ok(axum::Json(
        notifications::set_prefs(&s.store, &caller, &p.id, req).await?,
    ))
}

/// `GET /users/{id}/notification-events?limit=N`: the user's notification outbox, newest first.
async fn events(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
    Query(q): Query<EventsQuery>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let items = notifications::events(&s.store, &caller, &p.id, q.limit).await?;
    Ok(axum::Json(serde_json::json!({ "items": items })))
}

/// `POST /users/{id}/notifications/events`: an app raises an event of one of the tenant's own
/// types for the user; 202 with whether their preferences let it through.
async fn raise(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
    Json(req): Json<RaiseEvent>,
) -> ApiResult<(StatusCode, axum::Json<serde_json::Value>)> {
    let raised = notifications::raise_event(&s.store, &caller, &p.id, req).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({ "raised": raised })),
    ))
}
