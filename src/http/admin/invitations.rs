//! `/users/{id}/invitation`: send (or send again) a user's invitation, and its state.

use super::users::UserPath;
use crate::admin::invitations::{self, InvitationState, SendInvitation, Sent};
use crate::domain::authz::Caller;
use crate::http::AppState;
use crate::http::extract::{Json, Path};
use crate::http::problem::{ApiResult, Problem};
use axum::Router;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new().route("/users/{id}/invitation", get(state).post(send))
}

/// `POST /users/{id}/invitation [{expires_in_days}]`: 201 with the state, and the link when no
/// mail server carries it (shown this once). An empty body is the defaults.
async fn send(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
    request: Request,
) -> ApiResult<(StatusCode, axum::Json<Sent>)> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map_err(|e| Problem::bad_request(format!("the request body could not be read: {e}")))?;
    let req = if body.iter().all(u8::is_ascii_whitespace) {
        SendInvitation::default()
    } else {
        let request = Request::from_parts(parts, axum::body::Body::from(body));
        let Json(req) = Json::<SendInvitation>::from_request(request, &()).await?;
        req
    };
    let outlet = invitations::Outlet::of(&s.config);
    let sent = invitations::send(&s.store, &caller, &p.id, req, outlet).await?;
    Ok((StatusCode::CREATED, axum::Json(sent)))
}

/// `GET /users/{id}/invitation`: pending since, times sent, last delivery.
async fn state(
    State(s): State<AppState>,
    caller: Caller,
    Path(p): Path<UserPath>,
) -> ApiResult<axum::Json<InvitationState>> {
    Ok(axum::Json(
        invitations::state(&s.store, &caller, &p.id).await?,
    ))
}
