//! `/users` and `/owner`.

use crate::admin::invitations::{self, Sent};
use crate::admin::sign_in_lock::{self, SignInLock};
use crate::admin::users::{self, CreateUser, Lifecycle, ListUsers, TransferOwnership, UpdateUser};
use crate::domain::authz::Caller;
use crate::domain::throttle::Client;
use crate::domain::{User, UserId};
use crate::http::AppState;
use crate::http::extract::{Json, Path, Query};
use crate::http::problem::{ApiResult, Problem};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/{id}", get(read).patch(update).delete(remove))
        .route("/users/{id}/activate", post(activate))
        .route("/users/{id}/deactivate", post(deactivate))
        .route("/users/{id}/reactivate", post(reactivate))
        .route("/users/{id}/anonymise", post(anonymise))
        .route("/users/{id}/password", put(set_password))
        .route(
            "/users/{id}/sign-in-lock",
            get(sign_in_lock).delete(sign_in_unlock),
        )
        .route("/owner", get(owner))
        .route("/owner/transfer", post(transfer))
}

#[derive(Deserialize)]
pub struct UserPath {
    #[allow(dead_code)]
    tenant: String,
    pub id: UserId,
}

/// A user with its version as a weak ETag.
pub fn with_etag(status: StatusCode, user: User) -> Response {
    let etag = HeaderValue::from_str(&format!("W/\"{}\"", user.version)).ok();
    let mut res = (status, axum::Json(user)).into_response();
    if let Some(etag) = etag {
        res.headers_mut().insert(header::ETAG, etag);
    }
    res
}

/// A new user with the invitation just sent to them, under `invitation`.
fn with_invitation(user: User, sent: Sent) -> Response {
    let etag = HeaderValue::from_str(&format!("W/\"{}\"", user.version)).ok();
    let mut body = serde_json::to_value(&user).unwrap_or_default();
    if let Some(obj) = body.as_object_mut() {
        obj.insert(
            "invitation".into(),
            serde_json::to_value(&sent).unwrap_or_default(),
        );
    }
    let mut res = (StatusCode::CREATED, axum::Json(body)).into_response();
    if let Some(etag) = etag {
        res.headers_mut().insert(header::ETAG, etag);
    }
    res
}

/// The version an `If-Match` header requires (`None`: any). A value that is not one of our
/// ETags, or not UTF-8, requires a version no user has, so the write gets 412.
pub fn if_match(headers: &HeaderMap) -> Option<i64> {
    crate::http::extract::if_match(headers)
}

async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<ListUsers>,
) -> ApiResult<Response> {
    Ok(axum::Json(users::list(&s.store, &caller, q).await?).into_response())
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateUser>,
) -> ApiResult<Response> {
    let (user, sent) = if req.invite {
        let outlet = invitations::Outlet::of(&s.config);
        let (user, sent) = invitations::create_and_send(&s.store, &caller, req, outlet).await?;
        (user, Some(sent))
    } else {
        let links = crate::admin::account_email::Links::of(&s.config);
        let user = crate::admin::account_email::create_and_confirm(&s.store, &caller, req, links);
        (user.await?, None)
    };
    let location = format!("/t/{}/api/v1/users/{}", caller.tenant.slug, user.id);
    let mut res = match sent {
        // The user as always, with the invitation (and its link, shown this once) beside.
        Some(sent) => with_invitation(user, sent),
        None => with_etag(StatusCode::CREATED, user),
    };
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

async fn read(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
) -> ApiResult<Response> {
    Ok(with_etag(
        StatusCode::OK,
        users::get(&s.store, &caller, &p.id).await?,
    ))
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
    headers: HeaderMap,
    Json(req): Json<UpdateUser>,
) -> ApiResult<Response> {
    Ok(with_etag(
        StatusCode::OK,
        users::update(&s.store, &caller, &p.id, if_match(&headers), req).await?,
    ))
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let notifier = s.logout_notifier();
    users::delete(&s.store, notifier, &caller, &p.id, if_match(&headers)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn step(
    s: AppState,
    caller: Caller,
    id: UserId,
    headers: HeaderMap,
    step: Lifecycle,
) -> ApiResult<Response> {
    let notifier = s.logout_notifier();
    let v = if_match(&headers);
    Ok(with_etag(
        StatusCode::OK,
        users::lifecycle(&s.store, notifier, &caller, &id, step, v).await?,
    ))
}

async fn activate(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    step(s, caller, p.id, headers, Lifecycle::Activate).await
}

async fn deactivate(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    step(s, caller, p.id, headers, Lifecycle::Deactivate).await
}

async fn reactivate(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    step(s, caller, p.id, headers, Lifecycle::Reactivate).await
}

async fn anonymise(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let notifier = s.logout_notifier();
    Ok(with_etag(
        StatusCode::OK,
        users::anonymise(&s.store, notifier, &caller, &p.id, if_match(&headers)).await?,
    ))
}

/// `PUT /users/{id}/password {password}`: 204; the password is neither echoed nor logged.
async fn set_password(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
    Json(req): Json<crate::admin::passwords::SetPassword>,
) -> ApiResult<StatusCode> {
    let queue = crate::admin::passwords::Admission::Refuse(s.hash_queue.as_ref());
    crate::admin::passwords::set(&s.store, &caller, &p.id, req, queue).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /users/{id}/sign-in-lock`: failures and locks of the user's password and second factor.
async fn sign_in_lock(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
) -> ApiResult<axum::Json<SignInLock>> {
    let limits = &s.config.sign_in;
    Ok(axum::Json(
        sign_in_lock::get(&s.store, &caller, &p.id, limits).await?,
    ))
}

/// `DELETE /users/{id}/sign-in-lock`: clears them; answers the state before.
async fn sign_in_unlock(
    State(s): State<AppState>,
    caller: Caller,
    client: Client,
    Path(p): Path<UserPath>,
) -> ApiResult<axum::Json<SignInLock>> {
    let limits = &s.config.sign_in;
    let ua = client.user_agent.as_deref();
    let before = sign_in_lock::clear(&s.store, &caller, &p.id, limits, ua).await?;
    Ok(axum::Json(before))
}

async fn owner(State(s): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let owner_id = caller
        .tenant
        .owner_user_id
        .clone()
        .ok_or_else(|| Problem::not_found("this tenant has no owner"))?;
    Ok(with_etag(
        StatusCode::OK,
        users::get(&s.store, &caller, &owner_id).await?,
    ))
}

async fn transfer(
    State(s): State<AppState>,
    caller: Caller,
    Json(req): Json<TransferOwnership>,
) -> ApiResult<Response> {
    Ok(axum::Json(users::transfer_ownership(&s.store, &caller, req).await?).into_response())
}
