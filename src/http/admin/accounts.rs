//! `/accounts` and `/account-groups`.

use crate::admin::accounts::{
    self, CreateAccount, CreateAccountGroup, ListAccounts, UpdateAccount, UpdateAccountGroup,
};
use crate::domain::authz::Caller;
use crate::domain::{AccountGroupId, AccountId};
use crate::http::AppState;
use crate::http::extract::{Json, Path, Query};
use crate::http::problem::ApiResult;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde::Deserialize;

/// The routes of accounts and account groups.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/accounts", get(list).post(create))
        .route("/accounts/{id}", get(read).patch(update).delete(remove))
        .route("/account-groups", get(list_groups).post(create_group))
        .route(
            "/account-groups/{id}",
            get(read_group).patch(update_group).delete(remove_group),
        )
        .route(
            "/account-groups/{id}/accounts/{account_id}",
            put(add_account).delete(remove_account),
        )
}

#[derive(Deserialize)]
struct AccountPath {
    #[allow(dead_code)]
    tenant: String,
    id: AccountId,
}

#[derive(Deserialize)]
struct GroupPath {
    #[allow(dead_code)]
    tenant: String,
    id: AccountGroupId,
}

#[derive(Deserialize)]
struct GroupAccountPath {
    #[allow(dead_code)]
    tenant: String,
    id: AccountGroupId,
    account_id: AccountId,
}

async fn list(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<ListAccounts>,
) -> ApiResult<Response> {
    let items = accounts::list(&s.store, &caller, q).await?;
    Ok(axum::Json(serde_json::json!({ "items": items })).into_response())
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateAccount>,
) -> ApiResult<Response> {
    let account = accounts::create(&s.store, &caller, req).await?;
    Ok((StatusCode::CREATED, axum::Json(account)).into_response())
}

async fn read(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<AccountPath>,
) -> ApiResult<Response> {
    Ok(axum::Json(accounts::get(&s.store, &caller, &p.id).await?).into_response())
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<AccountPath>,
    Json(req): Json<UpdateAccount>,
) -> ApiResult<Response> {
    Ok(axum::Json(accounts::update(&s.store, &caller, &p.id, req).await?).into_response())
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<AccountPath>,
) -> ApiResult<StatusCode> {
    accounts::delete(&s.store, &caller, &p.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_groups(State(s): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let items = accounts::list_groups(&s.store, &caller).await?;
    Ok(axum::Json(serde_json::json!({ "items": items })).into_response())
}

async fn create_group(
    State(s): State<AppState>,
    caller: Caller,
    Json(req): Json<CreateAccountGroup>,
) -> ApiResult<Response> {
    let group = accounts::create_group(&s.store, &caller, req).await?;
    Ok((StatusCode::CREATED, axum::Json(group)).into_response())
}

async fn read_group(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<GroupPath>,
) -> ApiResult<Response> {
    Ok(axum::Json(accounts::get_group(&s.store, &caller, &p.id).await?).into_response())
}

async fn update_group(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<GroupPath>,
    Json(req): Json<UpdateAccountGroup>,
) -> ApiResult<Response> {
    let group = accounts::update_group(&s.store, &caller, &p.id, req).await?;
    Ok(axum::Json(group).into_response())
}

async fn remove_group(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<GroupPath>,
) -> ApiResult<StatusCode> {
    accounts::delete_group(&s.store, &caller, &p.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn add_account(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<GroupAccountPath>,
) -> ApiResult<Response> {
    let group = accounts::set_group_account(&s.store, &caller, &p.id, &p.account_id, true).await?;
    Ok(axum::Json(group).into_response())
}

async fn remove_account(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<GroupAccountPath>,
) -> ApiResult<Response> {
    let group = accounts::set_group_account(&s.store, &caller, &p.id, &p.account_id, false).await?;
    Ok(axum::Json(group).into_response())
}
