//! `/mfa-settings` and `/users/{id}/factors`: the tenant's MFA settings and a user's second
//! factors, as summaries (never a secret or key material).

use crate::admin::mfa::{self, FactorsView, ResetView};
use crate::domain::authz::Caller;
use crate::domain::mfa::MfaSettings;
use crate::domain::{FactorId, UserId};
use crate::http::AppState;
use crate::http::extract::{Json, Path};
use crate::http::problem::ApiResult;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::Value;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/mfa-settings", get(settings).patch(update_settings))
        .route("/users/{id}/factors", get(factors))
        .route("/users/{id}/factors/reset", post(reset))
        .route("/users/{id}/factors/{factor_id}", delete(remove_factor))
}

#[derive(Deserialize)]
struct UserPath {
    id: UserId,
}

#[derive(Deserialize)]
struct FactorPath {
    id: UserId,
    factor_id: FactorId,
}

async fn settings(State(s): State<AppState>, caller: Caller) -> ApiResult<axum::Json<MfaSettings>> {
    Ok(axum::Json(mfa::settings(&s.store, &caller).await?))
}

/// A PATCH naming an unknown setting, or giving one an unknown value or the wrong type, is
/// refused (422, like the rest of the API) with `field` naming the setting.
async fn update_settings(
    State(s): State<AppState>,
    caller: Caller,
    Json(patch): Json<Value>,
) -> ApiResult<axum::Json<MfaSettings>> {
    Ok(axum::Json(
        mfa::update_settings(&s.store, &caller, &patch).await?,
    ))
}

async fn factors(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
) -> ApiResult<axum::Json<FactorsView>> {
    Ok(axum::Json(mfa::factors(&s.store, &caller, &p.id).await?))
}

async fn remove_factor(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<FactorPath>,
) -> ApiResult<StatusCode> {
    mfa::remove_factor(&s.store, &caller, &p.id, &p.factor_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn reset(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
) -> ApiResult<axum::Json<ResetView>> {
    Ok(axum::Json(mfa::reset(&s.store, &caller, &p.id).await?))
}
