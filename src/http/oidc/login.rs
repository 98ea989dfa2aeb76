//! `GET/POST /t/{tenant}/login`: the sign-in form (its CSRF token bound to the browser's CSRF
//! nonce, see [`super::csrf`]); and the tenant's home page `/t/{tenant}/`, where a sign-in without
//! `return_to` lands. A sign-in ends the session the browser had before and starts a new one
//! with a new cookie secret and a new CSRF nonce.

use super::cookies::{self, Kind};
use super::csrf;
use super::i18n::Lang;
use super::pages::{self, LoginForm};
use crate::domain::passwords::Password;
use crate::domain::sessions::Session;
use crate::domain::throttle::Client;
use crate::domain::{DomainError, Tenant, User};
use crate::http::AppState;
use crate::http::headers::FormTarget;
use crate::oidc::{mfa, signin};
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use std::fmt;

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
    login_hint: Option<String>,
    ui_locales: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct LoginFields {
    email: String,
    password: String,
    csrf: Option<String>,
    return_to: Option<String>,
    ui_locales: Option<String>,
    /// The "remember me" checkbox (`1` when ticked).
    remember: Option<String>,
}

impl fmt::Debug for LoginFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginFields")
            .field("email", &self.email)
            .field("password", &"***")
            .finish()
    }
}

/// A failure the page cannot recover from: logged, answered with a generic page.
pub fn internal(e: DomainError) -> Response {
    internal_in(Lang::En, e)
}

/// [`internal`], in `lang`.
pub fn internal_in(lang: Lang, e: DomainError) -> Response {
    tracing::error!(error = %e, "sign-in page failed");
    failed_page(lang)
}

/// The generic page for an internal failure (500); the caller logs the detail.
pub fn failed_page(lang: Lang) -> Response {
    let t = lang.texts();
    pages::error_in(
        lang,
        StatusCode::INTERNAL_SERVER_ERROR,
        t.failed_title,
        t.internal,
    )
}

/// The page of a sign-in turned away because the password-hashing queue is full: 503 with
/// `Retry-After`.
pub fn busy_page(lang: Lang) -> Response {
    let t = lang.texts();
    let mut res = pages::error_in(lang, StatusCode::SERVICE_UNAVAILABLE, t.busy_title, t.busy);
    res.headers_mut().insert(
        header::RETRY_AFTER,
        header::HeaderValue::from(crate::domain::passwords::BUSY_RETRY_AFTER_SECS),
    );
    res
}

/// The page telling that a form's CSRF token did not match its cookie (403).
pub fn form_expired(lang: Lang) -> Response {
    let t = lang.texts();
    pages::error_in(
        lang,
        StatusCode::FORBIDDEN,
        t.form_expired_title,
        t.form_expired,
    )
}

/// The page telling that a form could not be read (400).
pub fn form_unreadable(lang: Lang) -> Response {
    let t = lang.texts();
    pages::error_in(
        lang,
        StatusCode::BAD_REQUEST,
        t.failed_title,
        t.form_unreadable,
    )
}

/// The tenant of the path, or a 404 page.
pub async fn tenant_or_page(s: &AppState, slug: &str) -> Result<Tenant, Response> {
    match s.store.tenant_by_slug(slug).await {
        Ok(Some(t)) => Ok(t),
        Ok(None) => {
            let t = Lang::En.texts();
            Err(pages::error(
                StatusCode::NOT_FOUND,
                t.not_found_title,
                t.no_such_tenant,
            ))
        }
        Err(e) => Err(internal(e)),
    }
}

pub fn secure(s: &AppState) -> bool {
    s.config.public_url.starts_with("https://")
}

/// The session cookie's secret, if the request carries one for this tenant.
pub fn session_secret<'a>(s: &AppState, slug: &str, headers: &'a HeaderMap) -> Option<&'a str> {
    cookies::read(headers, Kind::Session, slug, secure(s))
}

/// `res` with the session cookie set to `secret` (ending with the browser unless `max_age`).
pub fn with_session_cookie(
    s: &AppState,
    slug: &str,
    secret: &str,
    max_age: Option<i64>,
    mut res: Response,
) -> Response {
    if let Some(c) = cookies::set(Kind::Session, secret, slug, secure(s), max_age) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// `res` with the session cookie cleared.
pub fn without_session_cookie(s: &AppState, slug: &str, res: Response) -> Response {
    with_session_cookie(s, slug, "", Some(0), res)
}

/// `res` with the cookie of a session whose secret was just replaced (`raised`): it keeps the
/// session's lifetime (a remembered session's cookie outlives the browser).
pub async fn with_rotated_cookie(
    s: &AppState,
    tenant: &Tenant,
    raised: &crate::oidc::mfa::Raised,
    res: Response,
) -> Response {
    match signin::cookie_max_age(&s.store, tenant, &raised.session).await {
        Ok(max_age) => with_session_cookie(s, &tenant.slug, &raised.secret, max_age, res),
        Err(e) => internal(e),
    }
}

/// Ends the session the browser's cookie names, if it is live (a new sign-in replaces it), and
/// tells the apps it signed in to.
pub async fn end_previous(
    s: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
) -> Result<(), DomainError> {
    let Some((session, user)) =
        signin::current(&s.store, tenant, session_secret(s, &tenant.slug, headers)).await?
    else {
        return Ok(());
    };
    end(s, tenant, &session, &user).await
}

async fn end(
    s: &AppState,
    tenant: &Tenant,
    session: &Session,
    user: &User,
) -> Result<(), DomainError> {
    let issuer = crate::oidc::issuer(&s.config.public_url, &tenant.slug);
    crate::oidc::logout::sign_out(&s.oidc, &s.store, tenant, &issuer, session, user).await
}

/// What the sign-in page shows besides the tenant and CSRF token.
struct Shown<'a> {
    lang: Lang,
    ui_locales: Option<&'a str>,
    return_to: Option<&'a str>,
    email: &'a str,
}

/// The sign-in page with the CSRF cookie set.
async fn form(
    s: &AppState,
    tenant: &Tenant,
    status: StatusCode,
    csrf: &csrf::BrowserCsrf,
    shown: Shown<'_>,
    error: Option<&str>,
) -> Response {
    let remember_me = match s.store.session_settings(&tenant.id).await {
        Ok(settings) => settings.remember_me,
        Err(e) => return internal_in(shown.lang, e),
    };
    let res = pages::login(
        status,
        &LoginForm {
            lang: shown.lang,
            ui_locales: shown.ui_locales,
            tenant_name: &tenant.name,
            slug: &tenant.slug,
            csrf: &csrf.token,
            return_to: shown.return_to,
            email: shown.email,
            error,
            remember_me,
        },
    );
    let res = FormTarget::attach(FormTarget::of_return_to(shown.return_to), res);
    csrf::with_cookie(s, tenant, csrf, res)
}

pub async fn show(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Response {
    let tenant = match tenant_or_page(&s, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let csrf = csrf::browser(&s, &tenant, &headers);
    let shown = Shown {
        lang: Lang::choose(q.ui_locales.as_deref(), &headers),
        ui_locales: q.ui_locales.as_deref(),
        return_to: q.return_to.as_deref(),
        email: q.login_hint.as_deref().unwrap_or_default(),
    };
    form(&s, &tenant, StatusCode::OK, &csrf, shown, None).await
}

pub async fn submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    client: Client,
    headers: HeaderMap,
    fields: Result<Form<LoginFields>, FormRejection>,
) -> Response {
    let tenant = match tenant_or_page(&s, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let Ok(Form(f)) = fields else {
        return form_unreadable(Lang::choose(None, &headers));
    };
    let lang = Lang::choose(f.ui_locales.as_deref(), &headers);
    if !csrf::browser_ok(&s, &tenant, &headers, f.csrf.as_deref()) {
        return form_expired(lang);
    }
    let csrf = csrf::browser(&s, &tenant, &headers);
    let remember = f.remember.as_deref() == Some("1");
    let device = super::device_cookie::read(&s, &tenant, &headers);
    let guard = signin::Guard {
        limits: &s.config.sign_in,
        queue: &s.hash_queue,
        client: &client,
        device: device.as_ref(),
    };
    let typed = Password::typed(f.password);
    let started = match signin::sign_in(&s.store, &tenant, &f.email, typed, &guard, remember).await
    {
        Ok(started) => started,
        Err(DomainError::Unavailable { .. }) => return busy_page(lang),
        Err(e) => return internal_in(lang, e),
    };
    let Some(started) = started else {
        let shown = Shown {
            lang,
            ui_locales: f.ui_locales.as_deref(),
            return_to: f.return_to.as_deref(),
            email: f.email.trim(),
        };
        let refused = lang.texts().refused;
        return form(
            &s,
            &tenant,
            StatusCode::UNAUTHORIZED,
            &csrf,
            shown,
            Some(refused),
        )
        .await;
    };
    // The browser's earlier session ends: one browser, one session, and a cookie planted
    // before this sign-in names nothing.
    if let Err(e) = end_previous(&s, &tenant, &headers).await {
        return internal_in(lang, e);
    }
    let mut target = signin::safe_return_to(&tenant.slug, f.return_to.as_deref());
    // A user who needs a second factor gives it (or enrols one) before going anywhere.
    match mfa::requirement(&s.store, &tenant, &started.user, &[]).await {
        Ok(need) if !need.met_by(&started.session) => {
            target =
                super::mfa::page_url(&tenant.slug, &target, need.level, f.ui_locales.as_deref());
        }
        Ok(_) => {}
        Err(e) => return internal_in(lang, e),
    }
    let ua = client.user_agent.as_deref();
    signed_in_response(&s, &tenant, &started, ua, pages::see_other(&target)).await
}

/// `res` with the new session's cookie, a new CSRF nonce (tokens of pages seen before the
/// sign-in stop working) and a new device cookie.
pub async fn signed_in_response(
    s: &AppState,
    tenant: &Tenant,
    started: &signin::Started,
    user_agent: Option<&str>,
    res: Response,
) -> Response {
    let max_age = match signin::cookie_max_age(&s.store, tenant, &started.session).await {
        Ok(m) => m,
        Err(e) => return internal(e),
    };
    if let Some(ua) = user_agent {
        // What the person's list of sessions shows; a failure here costs only that line.
        let recorded = s
            .store
            .set_session_user_agent(&tenant.id, &started.session.id, ua);
        if let Err(e) = recorded.await {
            tracing::warn!(error = %e, "the session's user agent was not recorded");
        }
    }
    let res = with_session_cookie(s, &tenant.slug, &started.secret, max_age, res);
    let res = super::device_cookie::with_cookie(s, tenant, &started.user, res);
    csrf::with_cookie(s, tenant, &csrf::renew(s, tenant), res)
}

/// The tenant's home page: who is signed in, if anyone.
pub async fn home(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Response {
    let tenant = match tenant_or_page(&s, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let lang = Lang::choose(None, &headers);
    let t = lang.texts();
    match signin::current(&s.store, &tenant, session_secret(&s, &slug, &headers)).await {
        Ok(Some((_, user))) => pages::info_in(
            lang,
            &tenant.name,
            t.home_signed_in_title,
            &t.home_signed_in.replace("{email}", &user.email),
            Some((
                &format!("/t/{}/account/security", tenant.slug),
                super::mfa_texts::MfaTexts::of(lang).manage,
            )),
        ),
        Ok(None) => pages::info_in(
            lang,
            &tenant.name,
            t.home_signed_out_title,
            t.home_signed_out,
            None,
        ),
        Err(e) => internal_in(lang, e),
    }
}
