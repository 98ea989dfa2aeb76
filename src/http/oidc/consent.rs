//! The consent page (OpenID Connect Core §3.1.2.4) and `POST /t/{tenant}/authorize/consent`.
//!
//! The page carries the authorization request itself, in hidden fields, back to the POST, which
//! validates it again exactly as `/authorize` does: nothing is kept on the server between the
//! two, so there is no pending state to expire, clean up or tie to a replica, and a tampered
//! field is only ever a new request that is checked in full. The POST also needs the
//! CSRF token bound to the session, and the live session of the user the page was shown to.

use super::authorize::{Pairs, bad_request, lang_of, respond, validate};
use super::csrf;
use super::i18n::{Lang, Texts};
use super::login::{form_expired, internal_in, session_secret, tenant_or_page};
use super::pages::{self, Filled, Frame};
use crate::domain::Tenant;
use crate::http::AppState;
use crate::http::headers::FormTarget;
use crate::oidc::authorize::{self, AuthorizeRequest, ConsentNeeded, Refusal};
use crate::oidc::{issuer, signin};
use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// The consent form's own fields; every other field is the authorization request.
const CONTROLS: [&str; 3] = ["csrf", "decision", "consent_user"];

/// A scope as the page shows it: in plain words, or (an API scope) its name.
struct Scope {
    name: String,
    words: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "pages/consent.html")]
struct ConsentPage<'a> {
    frame: Frame,
    t: &'static Texts,
    title: Filled,
    who: Filled,
    lead: Filled,
    asked: Vec<Scope>,
    granted: Vec<Scope>,
    slug: &'a str,
    csrf: String,
    user_id: &'a str,
    /// The authorization request, carried back to the POST.
    params: Vec<&'a (String, String)>,
}

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
    let app = req.client.client.name.as_str();
    let scopes = |list: &[String]| -> Vec<Scope> {
        list.iter()
            .map(|sc| Scope {
                name: sc.clone(),
                words: t.scope(sc),
            })
            .collect()
    };
    let page = ConsentPage {
        frame: Frame::new(
            lang,
            t.consent_title.replace("{app}", app),
            Some(&tenant.name),
        ),
        t,
        title: Filled::new(t.consent_title, "{app}", app),
        who: Filled::new(t.signed_in_as, "{email}", &needed.user.email),
        lead: Filled::new(t.consent_lead, "{app}", app),
        asked: scopes(&needed.asked),
        granted: scopes(&needed.granted),
        slug: &tenant.slug,
        csrf: csrf::session_token(s, tenant, &needed.session),
        user_id: needed.user.id.as_str(),
        params: req
            .params
            .iter()
            .filter(|(k, _)| !CONTROLS.contains(&k.as_str()))
            .collect(),
    };
    FormTarget::attach(
        FormTarget::of(&req.redirect_uri),
        pages::render(StatusCode::OK, &page),
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
