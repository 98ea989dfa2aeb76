//! `/mail`: delivery status of each message, the tenant's mail templates and settings.

use crate::admin::mail::{self, ListMail, MailSettings, SetTemplate};
use crate::domain::MailId;
use crate::domain::authz::Caller;
use crate::domain::mail::{MailRecord, MailTemplate};
use crate::http::AppState;
use crate::http::extract::{Json, Path, Query};
use crate::http::problem::ApiResult;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use serde::Deserialize;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/mail", get(list))
        .route("/mail/templates", get(templates))
        .route("/mail/settings", get(settings).put(set_settings))
        .route(
            "/mail/templates/{kind}/{locale}",
            put(set_template).delete(delete_template),
        )
        .route("/mail/{id}", get(one))
}

#[derive(Deserialize)]
struct IdPath {
    #[allow(dead_code)]
    tenant: String,
    id: MailId,
}

#[derive(Deserialize)]
struct TemplatePath {
    #[allow(dead_code)]
    tenant: String,
    kind: String,
    locale: String,
}

/// `GET /mail?recipient=&status=&limit=`: messages, newest first.
async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<ListMail>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let items = mail::list(&s.store, &caller, q).await?;
    Ok(axum::Json(serde_json::json!({ "items": items })))
}

async fn one(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<IdPath>,
) -> ApiResult<axum::Json<MailRecord>> {
    Ok(axum::Json(mail::get(&s.store, &caller, &p.id).await?))
}

async fn templates(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let items = mail::templates(&s.store, &caller).await?;
    Ok(axum::Json(serde_json::json!({ "items": items })))
}

async fn set_template(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<TemplatePath>,
    Json(req): Json<SetTemplate>,
) -> ApiResult<axum::Json<MailTemplate>> {
    Ok(axum::Json(
        mail::set_template(&s.store, &caller, &p.kind, &p.locale, req).await?,
    ))
}

async fn delete_template(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<TemplatePath>,
) -> ApiResult<StatusCode> {
    mail::delete_template(&s.store, &caller, &p.kind, &p.locale).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn settings(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<MailSettings>> {
    Ok(axum::Json(mail::settings(&s.store, &caller).await?))
}

async fn set_settings(
    State(s): State<AppState>,
    caller: Caller,
    Json(req): Json<MailSettings>,
) -> ApiResult<axum::Json<MailSettings>> {
    Ok(axum::Json(
        mail::set_settings(&s.store, &caller, req).await?,
    ))
}
