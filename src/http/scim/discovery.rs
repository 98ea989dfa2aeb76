//! `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas` (RFC 7644 §4): read-only.

use super::{Id, Scim, ScimResult, list_response, not_allowed};
use crate::http::AppState;
use crate::scim::error::ScimError;
use crate::scim::{ScimCaller, discovery};
use axum::Router;
use axum::extract::State;
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ServiceProviderConfig", get(spc).fallback(not_allowed))
        .route("/ResourceTypes", get(resource_types).fallback(not_allowed))
        .route(
            "/ResourceTypes/{id}",
            get(resource_type).fallback(not_allowed),
        )
        .route("/Schemas", get(schemas).fallback(not_allowed))
        .route("/Schemas/{id}", get(schema).fallback(not_allowed))
        .route(
            "/.search",
            axum::routing::post(root_search).fallback(not_allowed),
        )
}

async fn spc(caller: ScimCaller) -> Scim {
    Scim::ok(discovery::service_provider_config(&caller.base))
}

async fn resource_types(State(s): State<AppState>, caller: ScimCaller) -> ScimResult {
    let defs = s.store.attribute_defs(caller.tenant_id()).await?;
    let all = discovery::resource_types(&caller.base, &defs);
    Ok(Scim::ok(list_response(all.len() as i64, 1, all)))
}

async fn resource_type(State(s): State<AppState>, caller: ScimCaller, Id(id): Id) -> ScimResult {
    let defs = s.store.attribute_defs(caller.tenant_id()).await?;
    discovery::resource_types(&caller.base, &defs)
        .into_iter()
        .find(|r| r["id"] == id.as_str())
        .map(Scim::ok)
        .ok_or_else(|| ScimError::not_found(format!("no resource type `{id}`")))
}

async fn schemas(State(s): State<AppState>, caller: ScimCaller) -> ScimResult {
    let defs = s.store.attribute_defs(caller.tenant_id()).await?;
    let all: Vec<_> = discovery::schemas(&defs)
        .iter()
        .map(|x| x.to_json(&caller.base))
        .collect();
    Ok(Scim::ok(list_response(all.len() as i64, 1, all)))
}

async fn schema(State(s): State<AppState>, caller: ScimCaller, Id(id): Id) -> ScimResult {
    let defs = s.store.attribute_defs(caller.tenant_id()).await?;
    discovery::schemas(&defs)
        .iter()
        .find(|x| x.id.eq_ignore_ascii_case(&id))
        .map(|x| Scim::ok(x.to_json(&caller.base)))
        .ok_or_else(|| ScimError::not_found(format!("no schema `{id}`")))
}

/// `POST /.search` across resource types is not offered: search `/Users/.search` or
/// `/Groups/.search` (RFC 7644 §3.12 answers such requests with 501).
async fn root_search(_caller: ScimCaller) -> ScimError {
    ScimError::new(
        501,
        None,
        "searching several resource types at once is not supported: POST /Users/.search or /Groups/.search",
    )
}
