//! `GET/POST /t/{tenant}/logout` (OpenID Connect RP-Initiated Logout 1.0) and
//! `POST /t/{tenant}/logout/confirm`, the CSRF-protected confirmation.

use super::authorize::lang_of;
use super::csrf;
use super::i18n::Lang;
use super::login::{internal_in, session_secret, tenant_or_page, without_session_cookie};
use super::logout_pages::{self, Confirm};
use super::pages;
use crate::domain::Tenant;
use crate::domain::sessions::Session;
use crate::http::AppState;
use crate::http::headers::FormTarget;
use crate::oidc::authorize::{PageError, enc};
use crate::oidc::error::OAuthError;
use crate::oidc::logout::{self, LogoutRequest};
use crate::oidc::{issuer, signin};
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

type Pairs = Vec<(String, String)>;

pub async fn get(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    query: Result<Query<Pairs>, QueryRejection>,
) -> Response {
    match query {
        Ok(Query(pairs)) => handle(s, &slug, headers, pairs, false).await,
        Err(_) => unreadable(&headers),
    }
}

pub async fn post(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    form: Result<Form<Pairs>, FormRejection>,
) -> Response {
    let Ok(Form(pairs)) = form else {
        return unreadable(&headers);
    };
    // A form POSTed from the app's site carries no SameSite=Lax cookie: the same request as a
    // GET (a top-level navigation) does, so the browser's session can be found.
    if session_secret(&s, &slug, &headers).is_none() {
        return pages::see_other(&as_get(&slug, &pairs));
    }
    handle(s, &slug, headers, pairs, false).await
}

/// `/t/{slug}/logout?...` with the logout parameters of `pairs`.
fn as_get(slug: &str, pairs: &Pairs) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| logout::PARAMS.contains(&k.as_str()) && !v.is_empty())
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    format!("/t/{}/logout?{}", enc(slug), query.join("&"))
}

/// The confirmation form: its CSRF token must match the cookie; the parameters are validated
/// again, as on the first request.
pub async fn confirm(
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
    let field = pairs
        .iter()
        .position(|(k, _)| k == "csrf")
        .map(|i| pairs.remove(i).1);
    // The form is shown to a signed-in browser: its token is bound to that session. With
    // nobody signed in it must still be a token this server gave this browser.
    let current =
        match signin::current(&s.store, &tenant, session_secret(&s, &slug, &headers)).await {
            Ok(c) => c,
            Err(e) => return internal_in(lang, e),
        };
    let fine = match &current {
        Some((session, _)) => csrf::session_ok(&s, &tenant, session, field.as_deref()),
        None => csrf::browser_ok(&s, &tenant, &headers, field.as_deref()),
    };
    if !fine {
        let t = lang.texts();
        return pages::error_in(
            lang,
            StatusCode::FORBIDDEN,
            t.logout_expired_title,
            t.logout_expired,
        );
    }
    handle(s, &slug, headers, pairs, true).await
}

fn server_error(lang: Lang, e: &OAuthError) -> Response {
    tracing::error!(error = %e.description(), "logout request failed");
    super::login::failed_page(lang)
}

fn bad_request(lang: Lang, message: &str) -> Response {
    pages::error_in(
        lang,
        StatusCode::BAD_REQUEST,
        lang.texts().logout_invalid_title,
        message,
    )
}

fn unreadable(headers: &HeaderMap) -> Response {
    let lang = Lang::choose(None, headers);
    bad_request(lang, lang.texts().params_unreadable)
}

/// Validates, then: no session -> done; the hint names this browser's session, or the user
/// confirmed -> sign out; otherwise -> ask for confirmation.
async fn handle(
    s: AppState,
    slug: &str,
    headers: HeaderMap,
    pairs: Pairs,
    confirmed: bool,
) -> Response {
    let tenant = match tenant_or_page(&s, slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let lang = lang_of(&pairs, &headers);
    let issuer = issuer(&s.config.public_url, &tenant.slug);
    let req = match logout::parse(&s.oidc, &s.store, &tenant, &issuer, pairs).await {
        Ok(Ok(req)) => req,
        Ok(Err(PageError(message))) => return bad_request(lang, &message),
        Err(e) => return server_error(lang, &e),
    };
    let cookie = session_secret(&s, slug, &headers);
    let current = match signin::current(&s.store, &tenant, cookie).await {
        Ok(c) => c,
        Err(e) => return internal_in(lang, e),
    };
    let Some((session, user)) = current else {
        return done(&s, &tenant, lang, &req, cookie.is_some());
    };
    if !confirmed && !req.names(&session) {
        return ask(&s, &tenant, &session, lang, &req, &user.email);
    }
    if let Err(e) = logout::sign_out(&s.oidc, &s.store, &tenant, &issuer, &session, &user).await {
        return internal_in(lang, e);
    }
    done(&s, &tenant, lang, &req, true)
}

/// After signing out (or finding nobody signed in): back to the app, or the signed-out page;
/// the session cookie is cleared.
fn done(s: &AppState, tenant: &Tenant, lang: Lang, req: &LogoutRequest, clear: bool) -> Response {
    let res = match &req.redirect {
        Some(url) => pages::see_other(url),
        None => logout_pages::signed_out(lang, &tenant.name),
    };
    if clear {
        without_session_cookie(s, &tenant.slug, res)
    } else {
        res
    }
}

/// The confirmation page, its CSRF token bound to the session.
fn ask(
    s: &AppState,
    tenant: &Tenant,
    session: &Session,
    lang: Lang,
    req: &LogoutRequest,
    email: &str,
) -> Response {
    let csrf = csrf::session_token(s, tenant, session);
    let target = req.redirect.as_deref().and_then(FormTarget::of);
    let page = logout_pages::confirm(&Confirm {
        lang,
        tenant_name: &tenant.name,
        slug: &tenant.slug,
        csrf: &csrf,
        email,
        app: req.client.as_ref().map(|c| c.client.name.as_str()),
        params: &req.params,
    });
    FormTarget::attach(target, page)
}
