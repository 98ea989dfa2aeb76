//! The consent page (OpenID Connect Core §3.1.2.4) and `POST /t/{tenant}/authorize/consent`.
//!
//! The page carries the authorization request itself, in hidden fields, back to the POST, which
//! validates it again exactly as `/authorize` does: nothing is kept on the server between the
//! two, so there is no pending state to expire, clean up or tie to a replica, and a tampered
//! field is only ever a new request that is checked in full. The POST also needs the
//! CSRF token bound to the session, and the live session of the user the page was shown to.

use super::authorize::{Pairs, bad_request, lang_of, respond, validate};
use super::csrf;
use super::i18n::Lang;
use super::login::{form_expired, internal_in, session_secret, tenant_or_page};
use super::pages::{self, escape};
use crate::domain::Tenant;
use crate::http::AppState;
use crate::http::headers::FormTarget;
use crate::oidc::authorize::{self, AuthorizeRequest, ConsentNeeded, Refusal};
use crate::oidc::{issuer, signin};
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// The consent form's own fields; every other field is the authorization request.
const CONTROLS: [&str; 3] = ["csrf", "decision", "consent_user"];

/// The consent page for `needed`, with the CSRF cookie set.
pub fn page(
    s: &AppState,
    tenant: &Tenant,
    _headers: &HeaderMap,
    lang: Lang,
    req: &AuthorizeRequest,
    needed: &ConsentNeeded,
) -> Response {
    let t = lang.texts();
    let csrf = csrf::session_token(s, tenant, &needed.session);
    let app = escape(&req.client.client.name);
    let fill = |text: &str| {
        escape(text)
            .replace("{app}", &format!("<strong>{app}</strong>"))
            .replace(
                "{email}",
                &format!("<strong>{}</strong>", escape(&needed.user.email)),
            )
    };
    let list = |scopes: &[String]| -> String {
        let items: String = scopes
            .iter()
            .map(|sc| match t.scope(sc) {
                Some(words) => format!("<li>{}</li>", escape(words)),
                None => format!("<li><code>{}</code></li>", escape(sc)),
            })
            .collect();
        format!("<ul class=\"scopes\">{items}</ul>")
    };
    let granted = if needed.granted.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"muted\">{}</p>{}",
            escape(t.consent_already),
            list(&needed.granted)
        )
    };
    let mut hidden = format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <input type=\"hidden\" name=\"consent_user\" value=\"{}\">",
        escape(&csrf),
        escape(needed.user.id.as_str())
    );
    for (k, v) in req
        .params
        .iter()
        .filter(|(k, _)| !CONTROLS.contains(&k.as_str()))
    {
        hidden.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(k),
            escape(v)
        ));
    }
    let body = format!(
        "<p class=\"tenant\">{tenant}</p><h1>{title}</h1><p class=\"who\">{who}</p>\
         <p>{lead}</p>{asked}{granted}<p class=\"muted\">{note}</p>\
         <form method=\"post\" action=\"/t/{slug}/authorize/consent\">{hidden}\
         <div class=\"actions\">\
         <button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">{deny}</button>\
         <button type=\"submit\" name=\"decision\" value=\"allow\" autofocus>{allow}</button>\
         </div></form>",
        tenant = escape(&tenant.name),
        title = fill(t.consent_title),
        who = fill(t.signed_in_as),
        lead = fill(t.consent_lead),
        asked = list(&needed.asked),
        note = escape(t.consent_note),
        slug = escape(&tenant.slug),
        deny = escape(t.deny),
        allow = escape(t.allow),
    );
    let title = t.consent_title.replace("{app}", &req.client.client.name);
    FormTarget::attach(
        FormTarget::of(&req.redirect_uri),
        pages::page_in(lang, StatusCode::OK, &title, &body),
    )
}

/// Takes the consent form's own fields out of `pairs`; `None` if one is repeated.
fn controls(pairs: &mut Pairs) -> Option<[Option<String>; 3]> {
    let mut found: [Option<String>; 3] = Default::default();
    let mut rest = Vec::with_capacity(pairs.len());
    for (k, v) in pairs.drain(..) {
        match CONTROLS.iter().position(|c| *c == k) {
            Some(i) if found[i].is_some() => return None,
            Some(i) => found[i] = Some(v),
            None => rest.push((k, v)),
        }
    }
    *pairs = rest;
    Some(found)
}

/// `POST /t/{tenant}/authorize/consent`: Allow records the consent and issues the code; Deny
/// sends the user back to the client with `access_denied`.
pub async fn submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    form: Result<Form<Pairs>, FormRejection>,
) -> Response {
    let tenant = match tenant_or_page(&s, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let Ok(Form(mut pairs)) = form else {
        let lang = Lang::choose(None, &headers);
        return bad_request(lang, lang.texts().form_unreadable);
    };
    let lang = lang_of(&pairs, &headers);
    let Some([csrf, decision, user]) = controls(&mut pairs) else {
        return bad_request(lang, lang.texts().form_unreadable);
    };
    // The form is only ever shown to a signed-in browser: its token is bound to that session.
    let current =
        match signin::current(&s.store, &tenant, session_secret(&s, &slug, &headers)).await {
            Ok(current) => current,
            Err(e) => return internal_in(lang, e),
        };
    if !current
        .as_ref()
        .is_some_and(|(session, _)| csrf::session_ok(&s, &tenant, session, csrf.as_deref()))
    {
        return form_expired(lang);
    }
    let req = match validate(&s, &tenant, lang, pairs).await {
        Ok(req) => req,
        Err(res) => return res,
    };
    let issuer = issuer(&s.config.public_url, &tenant.slug);
    match decision.as_deref() {
        Some("deny") => {
            let refusal = Refusal {
                code: "access_denied",
                description: "the user did not allow the application".into(),
            };
            pages::see_other(&authorize::error_redirect(
                &req.redirect_uri,
                req.state.as_deref(),
                &issuer,
                &refusal,
            ))
        }
        Some("allow") => {
            let session = current;
            let user = user.unwrap_or_default();
            let decision = authorize::allow(&s.store, &tenant, &issuer, &req, session, &user).await;
            respond(&s, &tenant, &headers, lang, &req, decision)
        }
        _ => bad_request(lang, lang.texts().form_unreadable),
    }
}
