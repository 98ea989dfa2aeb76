//! `/audit`: the audit log.

use crate::admin::audit::{self, ListAudit};
use crate::domain::Page;
use crate::domain::audit::AuditRecord;
use crate::domain::authz::Caller;
use crate::http::AppState;
use crate::http::extract::Query;
use crate::http::problem::ApiResult;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(list))
}

async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<ListAudit>,
) -> ApiResult<axum::Json<Page<AuditRecord>>> {
    Ok(axum::Json(audit::list(&s.store, &caller, q).await?))
}
