//! `/Users`: create, read, replace, patch, delete, list and `.search`.

use super::{
    Id, ListQuery, Scim, ScimJson, ScimResult, if_match, list_response, not_allowed, not_modified,
};
use crate::http::AppState;
use crate::scim::query::{ListParams, Projection};
use crate::scim::{ScimCaller, service, user};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/Users", get(list).post(create).fallback(not_allowed))
        .route("/Users/.search", post(search).fallback(not_allowed))
        .route(
            "/Users/{id}",
            get(read)
                .put(replace)
                .patch(patch)
                .delete(remove)
                .fallback(not_allowed),
        )
}

async fn listing(s: &AppState, caller: &ScimCaller, params: ListParams) -> ScimResult {
    let projection = params.projection()?;
    let (page, start) = service::list_users(&s.store, caller, &params).await?;
    let resources = page
        .items
        .iter()
        .map(|u| projection.apply(user::to_json(u, &caller.base)))
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
    u: &crate::domain::scim::ScimUser,
    projection: &Projection,
) -> ScimResult {
    Ok(Scim::resource(
        status,
        projection.apply(user::to_json(u, &caller.base)),
    ))
}

async fn create(
    State(s): State<AppState>,
    caller: ScimCaller,
    q: ListQuery,
    ScimJson(body): ScimJson,
) -> ScimResult {
    let projection = q.projection()?;
    let defs = s.store.attribute_defs(caller.tenant_id()).await?;
    let u = service::create_user(&s.store, &caller, &defs, &body).await?;
    answer(&caller, StatusCode::CREATED, &u, &projection)
}

async fn read(
    State(s): State<AppState>,
    caller: ScimCaller,
    Id(id): Id,
    headers: HeaderMap,
    q: ListQuery,
) -> ScimResult {
    let projection = q.projection()?;
    let u = service::get_user(&s.store, &caller, &id).await?;
    if not_modified(&headers, u.version) {
        let mut r = Scim::empty(StatusCode::NOT_MODIFIED);
        r.etag = Some(crate::scim::etag(u.version));
        return Ok(r);
    }
    answer(&caller, StatusCode::OK, &u, &projection)
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
    let defs = s.store.attribute_defs(caller.tenant_id()).await?;
    let u = service::replace_user(
        &s.store,
        s.logout_notifier(),
        &caller,
        &defs,
        &id,
        if_match(&headers),
        &body,
    )
    .await?;
    answer(&caller, StatusCode::OK, &u, &projection)
}

async fn patch(
    State(s): State<AppState>,
    caller: ScimCaller,
    Id(id): Id,
    headers: HeaderMap,
    q: ListQuery,
    ScimJson(body): ScimJson,
) -> ScimResult {
    let projection = q.projection()?;
    let defs = s.store.attribute_defs(caller.tenant_id()).await?;
    let u = service::patch_user(
        &s.store,
        s.logout_notifier(),
        &caller,
        &defs,
        &id,
        if_match(&headers),
        &body,
    )
    .await?;
    answer(&caller, StatusCode::OK, &u, &projection)
}

async fn remove(
    State(s): State<AppState>,
    caller: ScimCaller,
    Id(id): Id,
    headers: HeaderMap,
) -> ScimResult {
    service::delete_user(
        &s.store,
        s.logout_notifier(),
        &caller,
        &id,
        if_match(&headers),
    )
    .await?;
    Ok(Scim::empty(StatusCode::NO_CONTENT))
}
