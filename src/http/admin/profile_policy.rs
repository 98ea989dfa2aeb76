//! `/settings/profile`: which profile fields people change themselves in the account portal.

use crate::admin::profile_policy;
use crate::domain::authz::Caller;
use crate::domain::profile_policy::ProfilePolicy;
use crate::http::AppState;
use crate::http::extract::Json;
use crate::http::problem::ApiResult;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/settings/profile", get(show).put(set))
}

async fn show(State(s): State<AppState>, caller: Caller) -> ApiResult<axum::Json<ProfilePolicy>> {
    Ok(axum::Json(profile_policy::get(&s.store, &caller).await?))
}

async fn set(
    State(s): State<AppState>,
    caller: Caller,
    Json(req): Json<ProfilePolicy>,
) -> ApiResult<axum::Json<ProfilePolicy>> {
    Ok(axum::Json(
        profile_policy::set(&s.store, &caller, req).await?,
    ))
}
