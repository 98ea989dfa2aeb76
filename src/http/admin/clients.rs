//! `/clients`: OpenID Connect clients (apps), their secrets and service roles.

use crate::admin::clients::{self, ClientInput, ClientWithSecret};
use crate::domain::authz::Caller;
use crate::domain::oidc::Client;
use crate::domain::{ClientId, RoleId};
use crate::http::AppState;
use crate::http::extract::{Json, Path};
use crate::http::problem::ApiResult;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use serde::Deserialize;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/clients", get(list).post(create))
        .route("/clients/{id}", get(read).patch(update).delete(remove))
        .route("/clients/{id}/secret", post(rotate_secret))
        .route(
            "/clients/{id}/roles/{role_id}",
            put(grant_role).delete(revoke_role),
        )
}

#[derive(Deserialize)]
struct ClientPath {
    #[allow(dead_code)]
    tenant: String,
    id: ClientId,
}

#[derive(Deserialize)]
struct RolePath {
    #[allow(dead_code)]
    tenant: String,
    id: ClientId,
    role_id: RoleId,
}

async fn list(State(s): State<AppState>, caller: Caller) -> ApiResult<axum::Json<Vec<Client>>> {
    Ok(axum::Json(clients::list(&s.store, &caller).await?))
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    Json(input): Json<ClientInput>,
) -> ApiResult<(StatusCode, axum::Json<ClientWithSecret>)> {
    let created = clients::create(&s.store, &caller, input).await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

async fn read(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<ClientPath>,
) -> ApiResult<axum::Json<Client>> {
    Ok(axum::Json(clients::get(&s.store, &caller, &p.id).await?))
}

async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<ClientPath>,
    Json(input): Json<ClientInput>,
) -> ApiResult<axum::Json<Client>> {
    let client = clients::update(&s.store, &s.oidc, &caller, &p.id, input).await?;
    Ok(axum::Json(client))
}

async fn remove(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<ClientPath>,
) -> ApiResult<StatusCode> {
    clients::delete(&s.store, &s.oidc, &caller, &p.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate_secret(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<ClientPath>,
) -> ApiResult<axum::Json<ClientWithSecret>> {
    let rotated = clients::rotate_secret(&s.store, &s.oidc, &caller, &p.id).await?;
    Ok(axum::Json(rotated))
}

async fn grant_role(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<RolePath>,
) -> ApiResult<axum::Json<Client>> {
    let c = clients::set_role(&s.store, &s.oidc, &caller, &p.id, &p.role_id, true).await?;
    Ok(axum::Json(c))
}

async fn revoke_role(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<RolePath>,
) -> ApiResult<axum::Json<Client>> {
    let c = clients::set_role(&s.store, &s.oidc, &caller, &p.id, &p.role_id, false).await?;
    Ok(axum::Json(c))
}
