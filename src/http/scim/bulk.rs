//! `/Bulk` (RFC 7644 §3.7).

use crate::http::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
}
