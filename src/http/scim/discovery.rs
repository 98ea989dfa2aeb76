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
    let unique = s
        .store
        .scim_settings(caller.tenant_id())
        .await?
        .unique_emails;
    let all: Vec<_> = discovery::schemas(&defs, unique)
        .iter()
        .map(|x| x.to_json(&caller.base))
        .collect();
    Ok(Scim::ok(list_response(all.len() as i64, 1, all)))
}

async fn schema(State(s): State<AppState>, caller: ScimCaller, Id(id): Id) -> ScimResult {
    let defs = s.store.attribute_defs(caller.tenant_id()).await?;
    let unique = s
        .store
        .scim_settings(caller.tenant_id())
        .await?
        .unique_emails;
    discovery::schemas(&defs, unique)
        .iter()
        .find(|x| x.id.eq_ignore_ascii_case(&id))
        .map(|x| Scim::ok(x.to_json(&caller.base)))
        .ok_or_else(|| ScimError::not_found(format!("no schema `{id}`")))
}

/// `POST /.search` at the root (RFC 7644 §3.4.3): users, then groups, as one paged list. A
/// filter naming an attribute only one type has selects from that type alone.
async fn root_search(
    State(s): State<AppState>,
    caller: ScimCaller,
    super::ScimJson(body): super::ScimJson,
) -> ScimResult {
    let params = crate::scim::query::ListParams::from_search(&body)?;
    let projection = params.projection()?;
    let unknown = |e: &ScimError| {
        e.scim_type == Some("invalidFilter") && e.detail.starts_with("unknown attribute")
    };
    let users = match crate::scim::service::list_users(&s.store, &caller, &params).await {
        Ok(x) => Some(x),
        Err(e) if unknown(&e) => None,
        Err(e) => return Err(e),
    };
    let (mut resources, users_total, start) = match &users {
        Some((page, start)) => (
            page.items
                .iter()
                .map(|u| projection.apply(crate::scim::user::to_json(u, &caller.base)))
                .collect::<Vec<_>>(),
            page.total,
            *start,
        ),
        None => (vec![], 0, 1),
    };
    let count = params
        .count
        .as_deref()
        .and_then(|c| c.trim().parse::<i64>().ok())
        .unwrap_or(100)
        .clamp(0, crate::scim::query::MAX_RESULTS);
    let mut group_params = params.clone();
    let start = start.max(1);
    group_params.start_index = Some((start - users_total).max(1).to_string());
    group_params.count = Some((count - resources.len() as i64).max(0).to_string());
    let members = !projection.excludes("members");
    let groups =
        match crate::scim::service::list_groups(&s.store, &caller, &group_params, members).await {
            Ok((page, _)) => Some(page),
            Err(e) if unknown(&e) && users.is_some() => None,
            Err(e) => return Err(e),
        };
    let mut total = users_total;
    if let Some(page) = groups {
        total += page.total;
        resources.extend(
            page.items
                .iter()
                .map(|g| projection.apply(crate::scim::group::to_json(g, &caller.base, members))),
        );
    }
    Ok(Scim::ok(list_response(total, start, resources)))
}
