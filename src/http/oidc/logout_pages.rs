//! The sign-out pages: the confirmation asked for when the request does not prove which app
//! and session it comes from, and the page shown once signed out.

use super::i18n::{Lang, Texts};
use super::pages::{self, Filled, Frame};
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

/// What the confirmation form shows and carries.
pub struct Confirm<'a> {
    pub lang: Lang,
    pub tenant_name: &'a str,
    pub slug: &'a str,
    pub csrf: &'a str,
    /// Who is signed in.
    pub email: &'a str,
    /// The app asking, if known.
    pub app: Option<&'a str>,
    /// The validated logout parameters, sent again with the confirmation.
    pub params: &'a [(String, String)],
}

#[derive(Template)]
#[template(path = "pages/logout_confirm.html")]
struct ConfirmPage<'a> {
    frame: Frame,
    t: &'static Texts,
    heading: String,
    asking: Option<Filled>,
    who: Filled,
    slug: &'a str,
    csrf: &'a str,
    params: &'a [(String, String)],
}

/// "Sign out of <tenant>?": a form POSTing to `/t/{slug}/logout/confirm`.
pub fn confirm(f: &Confirm<'_>) -> Response {
    let t = f.lang.texts();
    let heading = t.logout_title.replace("{tenant}", f.tenant_name);
    let page = ConfirmPage {
        frame: Frame::new(
            f.lang,
            format!("{} · {}", t.sign_out, f.tenant_name),
            Some(f.tenant_name),
        ),
        t,
        heading,
        asking: f
            .app
            .map(|app| Filled::new(t.logout_app_asks, "{app}", app)),
        who: Filled::new(t.logout_signed_in_as, "{email}", f.email),
        slug: f.slug,
        csrf: f.csrf,
        params: f.params,
    };
    pages::render(StatusCode::OK, &page)
}

/// The page shown after signing out when no app asked to be returned to.
pub fn signed_out(lang: Lang, tenant_name: &str) -> Response {
    let t = lang.texts();
    pages::info_in(lang, tenant_name, t.signed_out_title, t.signed_out, None)
}
