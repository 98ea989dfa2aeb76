//! The sign-out pages: the confirmation asked for when the request does not prove which app
//! and session it comes from, and the page shown once signed out.

use super::pages::{escape, page};
use axum::http::StatusCode;
use axum::response::Response;

/// Extra style of the confirmation: a secondary link under the button.
const STYLE: &str = "<style>.secondary{display:block;margin-top:14px;text-align:center;\
    font-size:14px;color:#2563eb;text-decoration:none}.secondary:hover{text-decoration:underline}</style>";

/// What the confirmation form shows and carries.
pub struct Confirm<'a> {
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

/// "Sign out of <tenant>?": a form POSTing to `/t/{slug}/logout/confirm`.
pub fn confirm(f: &Confirm<'_>) -> Response {
    let hidden: String = f
        .params
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            )
        })
        .collect();
    let asking = match f.app {
        Some(app) => format!("<strong>{}</strong> asks to sign you out.", escape(app)),
        None => "An application asks to sign you out.".to_owned(),
    };
    let body = format!(
        "{STYLE}<p class=\"tenant\">{tenant}</p><h1>Sign out of {tenant}?</h1>\
         <p>{asking} You are signed in as <strong>{email}</strong>; signing out ends this \
         sign-in for every application that uses it.</p>\
         <form method=\"post\" action=\"/t/{slug}/logout/confirm\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{hidden}\
         <button type=\"submit\" autofocus>Sign out</button></form>\
         <a class=\"secondary\" href=\"/t/{slug}/\">Stay signed in</a>",
        tenant = escape(f.tenant_name),
        email = escape(f.email),
        slug = escape(f.slug),
        csrf = escape(f.csrf),
    );
    page(
        StatusCode::OK,
        &format!("Sign out · {}", f.tenant_name),
        &body,
    )
}

/// The page shown after signing out when no app asked to be returned to.
pub fn signed_out(tenant_name: &str) -> Response {
    let body = format!(
        "<p class=\"tenant\">{}</p><h1>You are signed out</h1>\
         <p>You can close this page. To use an application again, open it and sign in.</p>",
        escape(tenant_name)
    );
    page(StatusCode::OK, "You are signed out", &body)
}
