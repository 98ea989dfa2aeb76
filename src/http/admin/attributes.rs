//! `/attributes`: custom attribute definitions.

use crate::admin::attributes::{self, CreateAttribute, UpdateAttribute};
use crate::domain::AttributeDef;
use crate::domain::authz::Caller;
use crate::http::AppState;
use crate::http::extract::{Json, Path};
use crate::http::problem::ApiResult;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde::Deserialize;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/attributes", get(list).post(create))
        .route("/attributes/{key}", get(read).patch(update).delete(remove))
}

#[derive(Deserialize)]
struct KeyPath {
    #[allow(dead_code)]
    tenant: String,
    key: String,
}

async fn list(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<AttributeDef>>> {
    Ok(axum::Json(attributes::list(&s.store, &caller).await?))
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateAttribute>,
) -> ApiResult<(StatusCode, axum::Json<AttributeDef>)> {
    let def = attributes::create(&s.store, &caller, req).await?;
    Ok((StatusCode::CREATED, axum::Json(def)))
}

async fn read(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<KeyPath>,
) -> ApiResult<axum::Json<AttributeDef>> {
    Ok(axum::Json(
        attributes::get(&s.store, &caller, &p.key).await?,
    ))
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<KeyPath>,
    Json(req): Json<UpdateAttribute>,
) -> ApiResult<axum::Json<AttributeDef>> {
    Ok(axum::Json(
        attributes::update(&s.store, &caller, &p.key, req).await?,
    ))
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<KeyPath>,
) -> ApiResult<StatusCode> {
    attributes::delete(&s.store, &caller, &p.key).await?;
    Ok(StatusCode::NO_CONTENT)
}
