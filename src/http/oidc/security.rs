//! `/t/{tenant}/account/security`: the signed-in user's own sign-in methods. They see their
//! passkeys, security keys and authenticator app (name, added, last used), rename and remove
//! them, set up an authenticator app (QR code, key, first code), make new recovery codes, and,
//! where the tenant allows it, remove their password to sign in with passkeys only. Every change
//! is audited and notified by the store.

use super::csrf;
use super::i18n::Lang;
use super::login::{failed_page, form_expired, form_unreadable, with_rotated_cookie};
use super::mfa::{SignedIn, page_url, signed_in};
use super::mfa_pages::{self, Notice};
use super::pages;
use crate::domain::clock::now_ms;
use crate::domain::mfa::TotpFactor;
use crate::domain::{FactorId, Result as DomainResult};
use crate::http::AppState;
use crate::oidc::mfa::{self, Requirement};
use crate::oidc::signin;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

/// Minutes an authenticator app setup waits for its first code before a new key is made.
const TOTP_SETUP_MS: i64 = 15 * 60 * 1000;

fn home(slug: &str) -> String {
    format!("/t/{slug}/account/security")
}

fn with_notice(slug: &str, n: Notice) -> Response {
    pages::see_other(&format!("{}?notice={}", home(slug), n.code()))
}

fn internal(e: crate::domain::DomainError) -> Response {
    tracing::error!(error = %e, "security page failed");
    failed_page(super::i18n::Lang::En)
}

/// The signed-in user and what they need, once their session has reached that level (else the
/// second-factor page, coming back to `back`).
async fn checked(
    s: &AppState,
    slug: &str,
    headers: &HeaderMap,
    back: &str,
) -> Result<(SignedIn, Requirement), Response> {
    let me = signed_in(s, slug, headers, back).await?;
    let need = mfa::requirement(&s.store, &me.tenant, &me.user, &[])
        .await
        .map_err(internal)?;
    if !need.met_by(&me.session) {
        return Err(pages::see_other(&page_url(slug, back, need.level, None)));
    }
    Ok((me, need))
}

/// [`checked`] for a form: also its CSRF token.
async fn checked_form(
    s: &AppState,
    slug: &str,
    headers: &HeaderMap,
    csrf: Option<&str>,
) -> Result<(SignedIn, Requirement), Response> {
    let (me, need) = checked(s, slug, headers, &home(slug)).await?;
    if !csrf::session_ok(s, &me.tenant, &me.session, csrf) {
        return Err(form_expired(me.lang));
    }
    Ok((me, need))
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    notice: Option<String>,
}

/// `GET .../account/security`: the page of the account portal (its layout and navigation).
pub async fn show(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: crate::domain::throttle::Client,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let back = home(&slug);
    let portal = crate::http::account::Portal::of(&s, &slug, &headers, &client, &back);
    let p = match portal.await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let passkey_only = p.need.settings.passkey_only_allowed;
    let notice = q.notice.as_deref().and_then(Notice::parse);
    super::security_page::page(&p, passkey_only, notice)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfOnly {
    csrf: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RenameFields {
    csrf: Option<String>,
    name: String,
}

/// `POST .../factors/{id}/remove`: refused when the user's policy would no longer be met.
pub async fn remove(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    fields: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = fields else {
        return form_unreadable(Lang::choose(None, &headers));
    };
    let (me, need) = match checked_form(&s, &slug, &headers, f.csrf.as_deref()).await {
        Ok(ok) => ok,
        Err(res) => return res,
    };
    let id = FactorId::from(id);
    if !need.factors.summary().iter().any(|f| f.id == id) {
        return with_notice(&slug, Notice::NoSuchFactor);
    }
    if !need.may_remove(&id) {
        return with_notice(&slug, Notice::KeepOneFactor);
    }
    let actor = signin::user_actor(&me.user, None);
    match s
        .store
        .remove_factor(&me.tenant.id, &me.user.id, &id, &actor)
        .await
    {
        Ok(()) => with_notice(&slug, Notice::FactorRemoved),
        Err(crate::domain::DomainError::NotFound(_)) => with_notice(&slug, Notice::NoSuchFactor),
        Err(e) => internal(e),
    }
}

/// `POST .../factors/{id}/rename`.
pub async fn rename(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    fields: Result<Form<RenameFields>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = fields else {
        return form_unreadable(Lang::choose(None, &headers));
    };
    let (me, _) = match checked_form(&s, &slug, &headers, f.csrf.as_deref()).await {
        Ok(ok) => ok,
        Err(res) => return res,
    };
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return with_notice(&slug, Notice::BadName);
    }
    let actor = signin::user_actor(&me.user, None);
    let id = FactorId::from(id);
    match s
        .store
        .rename_webauthn_credential(&me.tenant.id, &me.user.id, &id, name, &actor)
        .await
    {
        Ok(()) => with_notice(&slug, Notice::FactorRenamed),
        Err(crate::domain::DomainError::NotFound(_)) => with_notice(&slug, Notice::NoSuchFactor),
        Err(e) => internal(e),
    }
}

/// `POST .../recovery-codes`: new codes, shown once; the old ones stop working.
pub async fn regenerate(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    fields: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = fields else {
        return form_unreadable(Lang::choose(None, &headers));
    };
    let (me, need) = match checked_form(&s, &slug, &headers, f.csrf.as_deref()).await {
        Ok(ok) => ok,
        Err(res) => return res,
    };
    if !need.factors.any() {
        return with_notice(&slug, Notice::NoSuchFactor);
    }
    let (codes, hashes) = mfa::new_recovery_codes();
    let actor = signin::user_actor(&me.user, None);
    if let Err(e) = s
        .store
        .replace_recovery_codes(&me.tenant.id, &me.user.id, &hashes, &actor)
        .await
    {
        return internal(e);
    }
    let next = format!("{}?notice={}", home(&slug), Notice::CodesRegenerated.code());
    mfa_pages::recovery_codes(me.lang, &me.tenant.name, &codes, &next)
}

/// `POST .../password/remove`: a passkey-only account, where the tenant allows it.
pub async fn remove_password(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    fields: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = fields else {
        return form_unreadable(Lang::choose(None, &headers));
    };
    let (me, need) = match checked_form(&s, &slug, &headers, f.csrf.as_deref()).await {
        Ok(ok) => ok,
        Err(res) => return res,
    };
    let allowed = need.settings.passkey_only_allowed
        && need.factors.has_password
        && need.factors.passkeys().next().is_some();
    if !allowed {
        return with_notice(&slug, Notice::PasswordNeeded);
    }
    let actor = signin::user_actor(&me.user, None);
    match s
        .store
        .remove_password(&me.tenant.id, &me.user.id, &actor)
        .await
    {
        Ok(()) => with_notice(&slug, Notice::PasswordRemoved),
        Err(e) => internal(e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct TotpQuery {
    return_to: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct TotpFields {
    csrf: Option<String>,
    code: String,
    return_to: Option<String>,
}

impl std::fmt::Debug for TotpFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpFields").field("code", &"***").finish()
    }
}

/// The signed-in user who may add a factor now: they proved what they have (a user who must
/// enrol at sign-in comes here below their level).
async fn may_enrol(
    s: &AppState,
    slug: &str,
    headers: &HeaderMap,
    back: &str,
) -> Result<(SignedIn, Requirement), Response> {
    let me = signed_in(s, slug, headers, back).await?;
    let need = mfa::requirement(&s.store, &me.tenant, &me.user, &[])
        .await
        .map_err(internal)?;
    if !need.may_enrol(&me.session) {
        let level = need.level.min(need.factors.best_level());
        return Err(pages::see_other(&page_url(slug, back, level, None)));
    }
    Ok((me, need))
}

/// Where to go once the app is set up: the second-factor page that sent the user, or their
/// security page.
fn after_totp(slug: &str, return_to: Option<&str>) -> Option<String> {
    return_to.map(|r| signin::safe_return_to(slug, Some(r)))
}

/// `GET .../totp`: a key waiting for its first code (the same one for a while, so reloading the
/// page does not break a scan already made).
pub async fn totp_show(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    query: Result<Query<TotpQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let return_to = after_totp(&slug, q.return_to.as_deref());
    let back = format!("{}/totp", home(&slug));
    let (me, need) = match may_enrol(&s, &slug, &headers, &back).await {
        Ok(ok) => ok,
        Err(res) => return res,
    };
    if need.factors.confirmed_totp().is_some() {
        return with_notice(&slug, Notice::AlreadySetUp);
    }
    let now = now_ms();
    let pending = need
        .factors
        .totp
        .clone()
        .filter(|t| now - t.created_at < TOTP_SETUP_MS);
    let factor = match pending {
        Some(t) => t,
        None => match begin(&s, &me).await {
            Ok(t) => t,
            Err(e) => return internal(e),
        },
    };
    totp_page(
        &me,
        &factor.secret,
        return_to.as_deref(),
        StatusCode::OK,
        None,
    )
}

async fn begin(s: &AppState, me: &SignedIn) -> DomainResult<TotpFactor> {
    let factor = TotpFactor {
        id: FactorId::generate(),
        user_id: me.user.id.clone(),
        secret: mfa::new_totp_secret(),
        confirmed_at: None,
        last_step: 0,
        created_at: now_ms(),
        last_used_at: None,
    };
    s.store.begin_totp(&me.tenant.id, &factor).await?;
    Ok(factor)
}

fn totp_page(
    me: &SignedIn,
    secret: &str,
    return_to: Option<&str>,
    status: StatusCode,
    notice: Option<Notice>,
) -> Response {
    let uri = mfa::otpauth_uri(secret, &me.tenant.name, &me.user.email);
    mfa_pages::totp_setup(
        status,
        &mfa_pages::TotpSetup {
            lang: me.lang,
            tenant_name: &me.tenant.name,
            slug: &me.tenant.slug,
            csrf: &me.csrf,
            secret,
            uri: &uri,
            return_to,
            notice,
        },
    )
}

/// `POST .../totp`: the first code confirms the app; the user's first factor comes with their
/// recovery codes, shown once.
pub async fn totp_confirm(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    client: crate::domain::throttle::Client,
    headers: HeaderMap,
    fields: Result<Form<TotpFields>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = fields else {
        return form_unreadable(Lang::choose(None, &headers));
    };
    let return_to = after_totp(&slug, f.return_to.as_deref());
    let back = format!("{}/totp", home(&slug));
    let (me, need) = match may_enrol(&s, &slug, &headers, &back).await {
        Ok(ok) => ok,
        Err(res) => return res,
    };
    if !csrf::session_ok(&s, &me.tenant, &me.session, f.csrf.as_deref()) {
        return form_expired(me.lang);
    }
    if need.factors.confirmed_totp().is_some() {
        return with_notice(&slug, Notice::AlreadySetUp);
    }
    let Some(pending) = need.factors.totp.clone() else {
        return pages::see_other(&format!("{back}?notice={}", Notice::TotpPending.code()));
    };
    let page_again = |status, notice| {
        totp_page(
            &me,
            &pending.secret,
            return_to.as_deref(),
            status,
            Some(notice),
        )
    };
    let attempt = match mfa::count_code_attempt(&s.store, &me.tenant, &me.user).await {
        Ok(Ok(a)) => a,
        Ok(Err(mfa::CodeRefused::Locked { minutes })) => {
            return page_again(StatusCode::TOO_MANY_REQUESTS, Notice::Locked { minutes });
        }
        Ok(Err(mfa::CodeRefused::Wrong)) => {
            return page_again(StatusCode::UNAUTHORIZED, Notice::WrongCode);
        }
        Err(e) => return internal(e),
    };
    let now = u64::try_from(now_ms() / 1000).unwrap_or_default();
    let Some(step) = mfa::matching_step(&pending.secret, &f.code, now) else {
        let judged = mfa::code_judged(&s.store, &me.tenant, &me.user, &attempt, false, &client);
        if let Err(e) = judged.await {
            return internal(e);
        }
        return page_again(StatusCode::UNAUTHORIZED, Notice::WrongCode);
    };
    let first = !need.factors.any();
    let codes = first.then(mfa::new_recovery_codes);
    let actor = signin::user_actor(&me.user, None);
    let confirmed = s
        .store
        .confirm_totp(
            &me.tenant.id,
            &me.user.id,
            &pending.id,
            step,
            codes.as_ref().map(|(_, hashes)| hashes.as_slice()),
            &actor,
        )
        .await;
    match confirmed {
        Ok(true) => {}
        Ok(false) => return page_again(StatusCode::CONFLICT, Notice::CodeAlreadyUsed),
        Err(e) => return internal(e),
    }
    let judged = mfa::code_judged(&s.store, &me.tenant, &me.user, &attempt, true, &client);
    if let Err(e) = judged.await {
        return internal(e);
    }
    // The user just typed a code of the app: the session has proven it.
    let ip = client.ip_text();
    let raised = match mfa::raise(&s.store, &me.tenant, &me.session, &me.user, &["otp"], ip).await {
        Ok(r) => r,
        Err(crate::domain::DomainError::Conflict(_)) => return form_expired(me.lang),
        Err(e) => return internal(e),
    };
    let next =
        return_to.unwrap_or_else(|| format!("{}?notice={}", home(&slug), Notice::TotpAdded.code()));
    let res = match codes {
        Some((codes, _)) => mfa_pages::recovery_codes(me.lang, &me.tenant.name, &codes, &next),
        None => pages::see_other(&next),
    };
    with_rotated_cookie(&s, &me.tenant, &raised, res).await
}
