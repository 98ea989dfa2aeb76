//! `/session-settings`: the tenant's session lifetimes (idle timeout, maximum lifetime,
//! "remember me").

use crate::admin::sessions;
use crate::domain::authz::Caller;
use crate::domain::sessions::SessionSettings;
use crate::http::AppState;
use crate::http::extract::Json;
use crate::http::problem::ApiResult;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::Value;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/session-settings", get(settings).patch(update_settings))
}

async fn settings(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<SessionSettings>> {
    Ok(axum::Json(sessions::settings(&s.store, &caller).await?))
}

/// A PATCH naming an unknown setting, giving one the wrong type, or breaking a bound (a minute
/// to a year; idle no longer than the lifetime) is refused with 422.
async fn update_settings(
    State(s): State<AppState>,
    caller: Caller,
    Json(patch): Json<Value>,
) -> ApiResult<axum::Json<SessionSettings>> {
    Ok(axum::Json(
        sessions::update_settings(&s.store, &caller, &patch).await?,
    ))
}
