//! `/users/{id}/consents`: the third-party clients a user consented to.

use crate::admin::consents;
use crate::domain::UserId;
use crate::domain::authz::Caller;
use crate::http::AppState;
use crate::http::extract::Path;
use crate::http::problem::ApiResult;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde::Deserialize;

/// The routes of a user's consents.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/{id}/consents", get(list))
        .route("/users/{id}/consents/{client_id}", delete(revoke))
}

#[derive(Deserialize)]
struct UserPath {
    id: UserId,
}

#[derive(Deserialize)]
struct ConsentPath {
    id: UserId,
    client_id: String,
}

async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
) -> ApiResult<Response> {
    let items = consents::list(&s.store, &caller, &p.id).await?;
    Ok(axum::Json(serde_json::json!({ "items": items })).into_response())
}

async fn revoke(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<ConsentPath>,
) -> ApiResult<StatusCode> {
    consents::revoke(&s.store, &caller, &p.id, &p.client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
