//! The account email pages people reach without being signed in (issue 15): "forgot password"
//! (`/t/{tenant}/forgot`), the reset link's page (`/t/{tenant}/reset`) and the address link's
//! page (`/t/{tenant}/confirm-email`). The service functions are `admin::account_email`'s; the
//! portal's address change is `http::account::email`.

mod confirm;
mod forgot;
mod reset;
pub(crate) mod texts;

use super::AppState;
use super::oidc::i18n::Lang;
use super::oidc::pages::{Frame, render};
use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/forgot", get(forgot::show).post(forgot::submit))
        .route("/t/{tenant}/reset", get(reset::show).post(reset::submit))
        .route(
            "/t/{tenant}/confirm-email",
            get(confirm::show).post(confirm::submit),
        )
}

/// Renders one of these pages in `lang` with the tenant's frame, titled `title`.
fn page<P: Template>(
    lang: Lang,
    tenant_name: &str,
    title: &str,
    status: StatusCode,
    build: impl FnOnce(Frame) -> P,
) -> Response {
    let frame = Frame::new(lang, format!("{title} · {tenant_name}"), Some(tenant_name));
    render(status, &build(frame))
}

/// The `link` query parameter of a link page (empty when missing or unreadable).
#[derive(Debug, Default, serde::Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    link: String,
}
