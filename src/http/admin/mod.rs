//! The admin REST API under `/t/{tenant}/api/v1`: one module per resource, each with its router.

mod users;

use super::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new().merge(users::router())
}
