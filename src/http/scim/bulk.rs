//! `/Bulk` (RFC 7644 §3.7), with its own body limit (advertised in `/ServiceProviderConfig`).

use super::{Scim, ScimJson, ScimResult, not_allowed};
use crate::http::AppState;
use crate::scim::{ScimCaller, bulk, discovery};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::post;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/Bulk",
        post(run)
            .fallback(not_allowed)
            .layer(DefaultBodyLimit::max(discovery::BULK_MAX_PAYLOAD)),
    )
}

async fn run(
    State(s): State<AppState>,
    caller: ScimCaller,
    ScimJson(body): ScimJson,
) -> ScimResult {
    let out = bulk::run(&s.store, s.logout_notifier(), &caller, body).await?;
    Ok(Scim::ok(out))
}
