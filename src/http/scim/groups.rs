//! `/Groups`: create, read, replace, patch (members), delete, list and `.search`.

use super::{
    Id, ListQuery, Scim, ScimJson, ScimResult, if_match, list_response, not_allowed, not_modified,
};
use crate::http::AppState;
use crate::scim::query::{ListParams, Projection};
use crate::scim::{ScimCaller, group, service};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/Groups", get(list).post(create).fallback(not_allowed))
        .route("/Groups/.search", post(search).fallback(not_allowed))
        .route(
            "/Groups/{id}",
            get(read)
                .put(replace)
                .patch(patch)
                .delete(remove)
                .fallback(not_allowed),
        )
}

async fn listing(s: &AppState, caller: &ScimCaller, params: ListParams) -> ScimResult {
    let projection = params.projection()?;
    let members = !projection.excludes("members");
    let (page, start) = service::list_groups(&s.store, caller, &params, members).await?;
    let resources = page
        .items
        .iter()
        .map(|g| projection.apply(group::to_json(g, &caller.base, members)))
        .collect();
    Ok(Scim::ok(list_response(page.total, start, resources)))
}

async fn list(
    State(s): State<AppState>,
    caller: ScimCaller,
    ListQuery(q): ListQuery,
) -> ScimResult {
    listing(&s, &caller, q).await
}

async fn search(
    State(s): State<AppState>,
    caller: ScimCaller,
    ScimJson(body): ScimJson,
) -> ScimResult {
    listing(&s, &caller, ListParams::from_search(&body)?).await
}

fn answer(
    caller: &ScimCaller,
    status: StatusCode,
    g: &crate::domain::scim::ScimGroup,
    p: &Projection,
    members: bool,
) -> Scim {
    Scim::resource(status, p.apply(group::to_json(g, &caller.base, members)))
}

async fn create(
    State(s): State<AppState>,
    caller: ScimCaller,
    q: ListQuery,
    ScimJson(body): ScimJson,
) -> ScimResult {
    let projection = q.projection()?;
    let g = service::create_group(&s.store, &caller, &body).await?;
    let members = !projection.excludes("members");
    Ok(answer(
        &caller,
        StatusCode::CREATED,
        &g,
        &projection,
        members,
    ))
}

async fn read(
    State(s): State<AppState>,
    caller: ScimCaller,
    Id(id): Id,
    headers: HeaderMap,
    q: ListQuery,
) -> ScimResult {
    let projection = q.projection()?;
    // Members are read only when they are returned (Entra ID reads groups without them).
    let members = !projection.excludes("members");
    let g = service::get_group(&s.store, &caller, &id, members).await?;
    if not_modified(&headers, g.version) {
        let mut r = Scim::empty(StatusCode::NOT_MODIFIED);
        r.etag = Some(crate::scim::etag(g.version));
        return Ok(r);
    }
    Ok(answer(&caller, StatusCode::OK, &g, &projection, members))
}

async fn replace(
    State(s): State<AppState>,
    caller: ScimCaller,
    Id(id): Id,
    headers: HeaderMap,
    q: ListQuery,
    ScimJson(body): ScimJson,
) -> ScimResult {
    let projection = q.projection()?;
    let members = !projection.excludes("members");
    let g =
        service::replace_group(&s.store, &caller, &id, if_match(&headers), &body, members).await?;
    Ok(answer(&caller, StatusCode::OK, &g, &projection, members))
}

/// RFC 7644 §3.5.2: a PATCH answers 200 with the resource, or 204 without it. Castellan answers
/// 204 (with the new ETag) unless the request asks for attributes (`attributes` or
/// `excludedAttributes`), so that a one-member change of a large group does not send the group
/// back; with either parameter, 200 and the resource as projected.
async fn patch(
    State(s): State<AppState>,
    caller: ScimCaller,
    Id(id): Id,
    headers: HeaderMap,
    q: ListQuery,
    ScimJson(body): ScimJson,
) -> ScimResult {
    let projection = q.projection()?;
    let body_wanted = q.0.attributes.is_some() || q.0.excluded_attributes.is_some();
    let members = body_wanted && !projection.excludes("members");
    let g =
        service::patch_group(&s.store, &caller, &id, if_match(&headers), &body, members).await?;
    if !body_wanted {
        let mut r = Scim::empty(StatusCode::NO_CONTENT);
        r.etag = Some(crate::scim::etag(g.version));
        return Ok(r);
    }
    Ok(answer(&caller, StatusCode::OK, &g, &projection, members))
}

async fn remove(
    State(s): State<AppState>,
    caller: ScimCaller,
    Id(id): Id,
    headers: HeaderMap,
) -> ScimResult {
    service::delete_group(&s.store, &caller, &id, if_match(&headers)).await?;
    Ok(Scim::empty(StatusCode::NO_CONTENT))
}
