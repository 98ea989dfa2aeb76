//! `/t/{tenant}/account/email`: the person's email address. A new address is asked for with a
//! re-authentication fit for a security change (the current password, checked as a sign-in
//! checks it; for a person without a password, a sign-in less than [`RECENT_MINUTES`] old); a
//! link goes to the new address and the address changes only when it is opened
//! (`admin::account_email`). An address not confirmed yet can be sent a confirmation link.

use super::profile::{Field, NoticeQuery};
use super::{Portal, texts::AccountTexts};
use crate::admin::account_email::{self, Links};
use crate::domain::DomainError;
use crate::domain::audit::Actor;
use crate::domain::changes::normalise;
use crate::domain::clock::now_ms;
use crate::domain::passwords::Password;
use crate::domain::throttle::Client;
use crate::http::AppState;
use crate::http::account_email::texts::EmailTexts;
use crate::http::console::{Shell, render};
use crate::http::oidc::i18n::Lang;
use crate::http::oidc::login::form_unreadable;
use crate::oidc::signin::{self, CurrentPassword};
use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

/// How recent the sign-in of a person without a password must be to change their address.
pub const RECENT_MINUTES: i64 = 10;

#[derive(Template)]
#[template(path = "account/email.html")]
struct EmailPage {
    shell: Shell,
    t: &'static AccountTexts,
    e: &'static EmailTexts,
    email: String,
    verified: bool,
    notice: Option<&'static str>,
    refused: Option<String>,
    /// Why the form is not offered (a person without a password whose sign-in is too old).
    stale: Option<String>,
    fields: Vec<Field>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct EmailFields {
    csrf: Option<String>,
    email: String,
    current: String,
}

impl std::fmt::Debug for EmailFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailFields")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// The form's fields: the new address (what was typed), the current password if the person
/// has one; `error` next to its field.
fn fields(p: &Portal, typed: &str, error: Option<(&str, String)>) -> Vec<Field> {
    let e = EmailTexts::of(p.me.lang);
    let mut rows = vec![(
        "email",
        e.new_address,
        "text",
        "email",
        typed.to_owned(),
        e.new_address_hint,
    )];
    if p.need.factors.has_password {
        rows.push((
            "current",
            e.current_password,
            "password",
            "current-password",
            String::new(),
            e.current_password_hint,
        ));
    }
    rows.into_iter()
        .map(|(name, label, input, autocomplete, value, hint)| Field {
            name: name.to_owned(),
            label: label.to_owned(),
            input,
            value,
            autocomplete,
            options: Vec::new(),
            required: true,
            hint: Some(hint.to_owned()),
            error: error
                .as_ref()
                .filter(|(f, _)| *f == name)
                .map(|(_, m)| m.clone()),
        })
        .collect()
}

/// A person without a password whose sign-in is older than [`RECENT_MINUTES`]: why they must
/// sign in again first.
fn stale(p: &Portal) -> Option<String> {
    let old = now_ms() - p.me.session.auth_time > RECENT_MINUTES * 60_000;
    (!p.need.factors.has_password && old).then(|| {
        EmailTexts::of(p.me.lang)
            .recent_sign_in
            .replace("{n}", &RECENT_MINUTES.to_string())
    })
}

fn page(
    p: &Portal,
    status: StatusCode,
    notice: Option<&'static str>,
    refused: Option<String>,
    fields: Vec<Field>,
) -> Response {
    render(
        status,
        &EmailPage {
            shell: p.shell("/email"),
            t: p.t,
            e: EmailTexts::of(p.me.lang),
            email: p.me.user.email.clone(),
            verified: p.me.user.email_verified,
            notice,
            refused,
            stale: stale(p),
            fields,
        },
    )
}

/// `GET /t/{tenant}/account/email`.
pub async fn show(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<NoticeQuery>, QueryRejection>,
) -> Response {
    let back = format!("/t/{slug}/account/email");
    let p = match Portal::of(&s, &slug, &headers, &client, &back).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let e = EmailTexts::of(p.me.lang);
    let notice = match query.ok().and_then(|Query(q)| q.notice).as_deref() {
        Some("sent") => Some(e.change_sent),
        Some("confirmation") => Some(e.confirmation_sent),
        _ => None,
    };
    page(&p, StatusCode::OK, notice, None, fields(&p, "", None))
}

/// The person proves it is them: their current password, or a recent sign-in without one.
/// `Err` is the page to answer.
async fn reauthenticated(
    s: &AppState,
    p: &Portal,
    client: &Client,
    f: &EmailFields,
) -> Result<(), Response> {
    let e = EmailTexts::of(p.me.lang);
    if let Some(why) = stale(p) {
        return Err(page(p, StatusCode::FORBIDDEN, None, Some(why), Vec::new()));
    }
    if !p.need.factors.has_password {
        return Ok(());
    }
    let guard = signin::Guard {
        limits: &s.config.sign_in,
        queue: &s.hash_queue,
        client,
        device: None,
    };
    let current = Password::typed(f.current.clone());
    let checked =
        signin::check_current_password(&s.store, &p.me.tenant, &p.me.user, current, &guard);
    let (status, text) = match checked.await {
        Ok(CurrentPassword::Right) => return Ok(()),
        Ok(CurrentPassword::Wrong) => (StatusCode::BAD_REQUEST, e.wrong_password),
        Ok(CurrentPassword::Locked) => (StatusCode::TOO_MANY_REQUESTS, e.password_locked),
        Err(err) => return Err(p.refusal(err)),
    };
    let error = Some(("current", text.to_owned()));
    Err(page(p, status, None, None, fields(p, &f.email, error)))
}

/// Whether the person may have another link mailed now (`resets_per_address` per window, as
/// for resets): nobody uses the portal to flood an address with mail.
fn may_mail(s: &AppState, p: &Portal) -> bool {
    let settings = &s.config.account_email;
    let key = format!("address-link:{}:{}", p.me.tenant.id, p.me.user.id);
    s.limits.allow(
        &key,
        settings.resets_per_address,
        settings.window_ms(),
        now_ms(),
    )
}

/// The page of a person who asked for too many links.
fn too_many(p: &Portal) -> Response {
    let refused = Some(EmailTexts::of(p.me.lang).too_many.to_owned());
    page(
        p,
        StatusCode::TOO_MANY_REQUESTS,
        None,
        refused,
        fields(p, "", None),
    )
}

/// `POST /t/{tenant}/account/email`: sends a link to the new address.
pub async fn change(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<EmailFields>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return form_unreadable(Lang::choose(None, &headers));
    };
    let back = format!("/t/{slug}/account/email");
    let p = match Portal::of(&s, &slug, &headers, &client, &back).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    if let Some(refused) = p.csrf_refusal(&s, f.csrf.as_deref()) {
        return refused;
    }
    if let Err(page) = reauthenticated(&s, &p, &client, &f).await {
        return page;
    }
    if !may_mail(&s, &p) {
        return too_many(&p);
    }
    let links = Links::of(&s.config);
    let e = EmailTexts::of(p.me.lang);
    let (tenant, me) = (&p.me.tenant, &p.me.user);
    let same = normalise(f.email.trim()) == normalise(&me.email);
    match account_email::request_change(&s.store, tenant, me, &f.email, links).await {
        Ok(_) => p.back_with("/email", "sent"),
        Err(DomainError::Invalid { .. }) => {
            let text = if same {
                e.same_address
            } else {
                e.not_an_address
            };
            let error = Some(("email", text.to_owned()));
            page(
                &p,
                StatusCode::BAD_REQUEST,
                None,
                None,
                fields(&p, &f.email, error),
            )
        }
        Err(err) => p.refusal(err),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfOnly {
    csrf: Option<String>,
}

/// `POST /t/{tenant}/account/email/confirm`: sends a confirmation link to the current address
/// (nothing when it is confirmed already).
pub async fn send_confirmation(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return form_unreadable(Lang::choose(None, &headers));
    };
    let back = format!("/t/{slug}/account/email");
    let p = match Portal::of(&s, &slug, &headers, &client, &back).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    if let Some(refused) = p.csrf_refusal(&s, f.csrf.as_deref()) {
        return refused;
    }
    if !p.me.user.email_verified && !may_mail(&s, &p) {
        return too_many(&p);
    }
    let links = Links::of(&s.config);
    let actor = Actor::of_user(&p.me.user.id, "account portal");
    let (tenant, me) = (&p.me.tenant, &p.me.user);
    match account_email::send_verification(&s.store, tenant, me, links, &actor).await {
        Ok(()) => p.back_with("/email", "confirmation"),
        Err(err) => p.refusal(err),
    }
}
