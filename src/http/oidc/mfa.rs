//! `/t/{tenant}/login/mfa`: the second-factor page. A signed-in user whose session is below the
//! level they need (tenant or role policy, their own factors, an app's `acr_values`) proves a
//! factor they have (authenticator app, passkey or security key, recovery code) or, when they
//! have none that reaches the level, enrols one; then goes on to `return_to`.

use super::csrf;
use super::i18n::Lang;
use super::login::{
    failed_page, form_expired, form_unreadable, session_secret, tenant_or_page, with_rotated_cookie,
};
use super::mfa_pages::Notice;
use super::pages;
use super::second_factor_page;
use crate::domain::mfa::Level;
use crate::domain::sessions::Session;
use crate::domain::throttle::Client;
use crate::domain::{Tenant, User};
use crate::http::AppState;
use crate::oidc::authorize::enc;
use crate::oidc::mfa::{self, CodeRefused, Requirement, session_level};
use crate::oidc::signin;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

/// A signed-in browser on one of the account pages.
pub struct SignedIn {
    pub tenant: Tenant,
    pub session: Session,
    pub user: User,
    /// The CSRF token of the page's forms (bound to the session).
    pub csrf: String,
    /// The language of the pages (the browser's `Accept-Language`).
    pub lang: Lang,
}

/// The browser's session, or the response sending it to sign in and come back to `back`.
pub async fn signed_in(
    s: &AppState,
    slug: &str,
    headers: &HeaderMap,
    back: &str,
) -> Result<SignedIn, Response> {
    let tenant = tenant_or_page(s, slug).await?;
    let secret = session_secret(s, slug, headers);
    match signin::current(&s.store, &tenant, secret).await {
        Ok(Some((session, user))) => Ok(SignedIn {
            csrf: csrf::session_token(s, &tenant, &session),
            tenant,
            session,
            user,
            lang: Lang::choose(None, headers),
        }),
        Ok(None) => Err(pages::see_other(&format!(
            "/t/{slug}/login?return_to={}",
            enc(back)
        ))),
        Err(e) => Err(super::login::internal(e)),
    }
}

/// The second-factor page's address for `return_to` and `level`, in the language of
/// `ui_locales`.
pub fn page_url(slug: &str, return_to: &str, level: Level, ui_locales: Option<&str>) -> String {
    let mut url = format!(
        "/t/{slug}/login/mfa?return_to={}&level={}",
        enc(return_to),
        level.as_str()
    );
    if let Some(l) = ui_locales {
        url.push_str(&format!("&ui_locales={}", enc(l)));
    }
    url
}

#[derive(Debug, Default, Deserialize)]
pub struct MfaQuery {
    return_to: Option<String>,
    level: Option<String>,
    ui_locales: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct CodeFields {
    code: String,
    csrf: Option<String>,
    return_to: Option<String>,
    level: Option<String>,
    ui_locales: Option<String>,
}

impl std::fmt::Debug for CodeFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeFields").field("code", &"***").finish()
    }
}

/// What the page is about: the user's requirement, raised to the level the link asks for.
struct Need {
    requirement: Requirement,
    level: Level,
    return_to: String,
}

async fn need(
    s: &AppState,
    me: &SignedIn,
    return_to: Option<&str>,
    level: Option<&str>,
) -> Result<Need, Response> {
    let requirement = mfa::requirement(&s.store, &me.tenant, &me.user, &[])
        .await
        .map_err(super::login::internal)?;
    let asked = level.and_then(Level::parse).unwrap_or(Level::Password);
    Ok(Need {
        level: requirement.level.max(asked),
        requirement,
        return_to: signin::safe_return_to(&me.tenant.slug, return_to),
    })
}

pub async fn show(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    query: Result<Query<MfaQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    // Signed out: signing in comes back here by itself when a second factor is needed.
    let back = signin::safe_return_to(&slug, q.return_to.as_deref());
    let mut me = match signed_in(&s, &slug, &headers, &back).await {
        Ok(me) => me,
        Err(res) => return res,
    };
    me.lang = Lang::choose(q.ui_locales.as_deref(), &headers);
    let need = match need(&s, &me, q.return_to.as_deref(), q.level.as_deref()).await {
        Ok(n) => n,
        Err(res) => return res,
    };
    if session_level(&me.session) >= need.level {
        return pages::see_other(&need.return_to);
    }
    let shown = Shown {
        status: StatusCode::OK,
        notice: None,
        ui_locales: q.ui_locales.as_deref(),
    };
    page(&me, &need, shown)
}

/// How the page is answered.
struct Shown<'a> {
    status: StatusCode,
    notice: Option<Notice>,
    ui_locales: Option<&'a str>,
}

/// The page: what the user can prove now, or what they must enrol.
fn page(me: &SignedIn, need: &Need, shown: Shown<'_>) -> Response {
    let f = &need.requirement.factors;
    let level = session_level(&me.session);
    // Prove what they have first (up to the level needed); enrol only once that is done.
    let verify = !need.requirement.may_enrol(&me.session)
        || (f.best_level() >= need.level && level < need.level);
    second_factor_page::second_factor(
        shown.status,
        &second_factor_page::SecondFactor {
            lang: me.lang,
            ui_locales: shown.ui_locales,
            tenant_name: &me.tenant.name,
            slug: &me.tenant.slug,
            csrf: &me.csrf,
            email: &me.user.email,
            return_to: &need.return_to,
            level: need.level,
            totp: verify && level < Level::Mfa && f.confirmed_totp().is_some(),
            webauthn: verify && !f.webauthn.is_empty(),
            recovery: verify && level < Level::Mfa && f.recovery_codes_left > 0,
            enrol: !verify,
            enrol_totp: !verify && need.level <= Level::Mfa && f.confirmed_totp().is_none(),
            notice: shown.notice,
        },
    )
}

/// `POST /t/{tenant}/login/mfa/totp`: a code of the user's authenticator app.
pub async fn totp(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    client: Client,
    headers: HeaderMap,
    fields: Result<Form<CodeFields>, FormRejection>,
) -> Response {
    code(s, slug, client, headers, fields, Kind::Totp).await
}

/// `POST /t/{tenant}/login/mfa/recovery`: one of the user's recovery codes.
pub async fn recovery(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    client: Client,
    headers: HeaderMap,
    fields: Result<Form<CodeFields>, FormRejection>,
) -> Response {
    code(s, slug, client, headers, fields, Kind::Recovery).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Totp,
    Recovery,
}

async fn code(
    s: AppState,
    slug: String,
    client: Client,
    headers: HeaderMap,
    fields: Result<Form<CodeFields>, FormRejection>,
    kind: Kind,
) -> Response {
    let Ok(Form(f)) = fields else {
        return form_unreadable(Lang::choose(None, &headers));
    };
    let back = signin::safe_return_to(&slug, f.return_to.as_deref());
    let mut me = match signed_in(&s, &slug, &headers, &back).await {
        Ok(me) => me,
        Err(res) => return res,
    };
    me.lang = Lang::choose(f.ui_locales.as_deref(), &headers);
    if !csrf::session_ok(&s, &me.tenant, &me.session, f.csrf.as_deref()) {
        return form_expired(me.lang);
    }
    let need = match need(&s, &me, f.return_to.as_deref(), f.level.as_deref()).await {
        Ok(n) => n,
        Err(res) => return res,
    };
    let actor = signin::user_actor(&me.user, client.ip_text());
    let (store, tenant, user) = (&s.store, &me.tenant, &me.user);
    let checked = match kind {
        Kind::Totp => {
            let factors = &need.requirement.factors;
            mfa::verify_totp(store, tenant, user, factors, &f.code, &client).await
        }
        Kind::Recovery => {
            mfa::verify_recovery_code(store, tenant, user, &f.code, &actor, &client).await
        }
    };
    let refused = match checked {
        Ok(Ok(())) => None,
        Ok(Err(r)) => Some(r),
        Err(e) => {
            tracing::error!(error = %e, "checking a one-time code failed");
            return failed_page(me.lang);
        }
    };
    if let Some(r) = refused {
        let (status, notice) = refusal(r, kind);
        let shown = Shown {
            status,
            notice: Some(notice),
            ui_locales: f.ui_locales.as_deref(),
        };
        return page(&me, &need, shown);
    }
    // A recovery code is no registered method of RFC 8176: the session records `mfa` only.
    let methods: &[&str] = match kind {
        Kind::Totp => &["otp"],
        Kind::Recovery => &["mfa"],
    };
    let ip = client.ip_text();
    let raised = match mfa::raise(&s.store, &me.tenant, &me.session, &me.user, methods, ip).await {
        Ok(r) => r,
        // Another request raised or ended this session first: its cookie is spent.
        Err(crate::domain::DomainError::Conflict(_)) => return form_expired(me.lang),
        Err(e) => {
            tracing::error!(error = %e, "raising a session failed");
            return failed_page(me.lang);
        }
    };
    let next = page_url(&slug, &need.return_to, need.level, f.ui_locales.as_deref());
    with_rotated_cookie(&s, &me.tenant, &raised, pages::see_other(&next)).await
}

/// The status and message for a refused code.
fn refusal(r: CodeRefused, kind: Kind) -> (StatusCode, Notice) {
    match r {
        CodeRefused::Locked { minutes } => {
            (StatusCode::TOO_MANY_REQUESTS, Notice::Locked { minutes })
        }
        CodeRefused::Wrong => (
            StatusCode::UNAUTHORIZED,
            match kind {
                Kind::Totp => Notice::WrongCode,
                Kind::Recovery => Notice::WrongRecoveryCode,
            },
        ),
    }
}
