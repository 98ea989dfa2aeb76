//! `/t/{tenant}/reset?link=...`: the page of a password reset link. The person chooses a new
//! password (the tenant's rules, hashed in a place of the bounded queue); the link is used up
//! (of two submits at once, one wins), every session and refresh token of the account ends, the
//! apps are told, and the mandatory `security.password_changed` notification goes out. Nobody
//! is signed in: the person signs in with the new password, second factor included. A used,
//! expired or replaced link gets a page that offers to ask for a new one.

use super::texts::EmailTexts;
use super::{LinkQuery, page};
use crate::admin::account_email;
use crate::domain::{DomainError, Tenant, User};
use crate::http::AppState;
use crate::http::oidc::csrf;
use crate::http::oidc::i18n::Lang;
use crate::http::oidc::login::{
    busy_page, form_expired, form_unreadable, internal_in, tenant_or_page,
};
use crate::http::oidc::pages::{Filled, Frame, sentence};
use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

pub enum ResetStep {
    Form {
        intro: Filled,
        link: String,
        csrf: String,
        error: Option<String>,
    },
    Done,
    Gone,
}

#[derive(Template)]
#[template(path = "pages/reset.html")]
struct ResetPage {
    frame: Frame,
    t: &'static EmailTexts,
    slug: String,
    step: ResetStep,
}

fn shown(tenant: &Tenant, lang: Lang, status: StatusCode, step: ResetStep) -> Response {
    let t = EmailTexts::of(lang);
    let title = match step {
        ResetStep::Form { .. } => t.reset_title,
        ResetStep::Done => t.reset_done_title,
        ResetStep::Gone => t.gone_title,
    };
    page(lang, &tenant.name, title, status, |frame| ResetPage {
        frame,
        t,
        slug: tenant.slug.clone(),
        step,
    })
}

fn gone(tenant: &Tenant, headers: &HeaderMap) -> Response {
    let lang = Lang::choose(None, headers);
    shown(tenant, lang, StatusCode::GONE, ResetStep::Gone)
}

/// The form for `user`'s link, with a new CSRF cookie.
fn form(
    s: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    user: &User,
    link: &str,
    error: Option<String>,
) -> Response {
    let lang = Lang::choose(user.locale.as_deref(), headers);
    let t = EmailTexts::of(lang);
    let token = csrf::browser(s, tenant, headers);
    let status = match error {
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    let step = ResetStep::Form {
        intro: Filled::new(t.reset_intro, "{email}", &user.email),
        link: link.to_owned(),
        csrf: token.token.clone(),
        error,
    };
    let res = shown(tenant, lang, status, step);
    csrf::with_cookie(s, tenant, &token, res)
}

/// `GET /t/{tenant}/reset?link=...`.
pub async fn show(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    query: Result<Query<LinkQuery>, QueryRejection>,
) -> Response {
    let tenant = match tenant_or_page(&s, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let link = query.map(|Query(q)| q.link).unwrap_or_default();
    match account_email::reset_user(&s.store, &tenant, &link).await {
        Ok(Some(user)) => form(&s, &tenant, &headers, &user, &link, None),
        Ok(None) => gone(&tenant, &headers),
        Err(e) => internal_in(Lang::choose(None, &headers), e),
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct ResetFields {
    csrf: Option<String>,
    link: String,
    password: String,
    confirm: String,
}

impl std::fmt::Debug for ResetFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResetFields { *** }")
    }
}

/// `POST /t/{tenant}/reset`.
pub async fn submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    form_data: Result<Form<ResetFields>, FormRejection>,
) -> Response {
    let tenant = match tenant_or_page(&s, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let Ok(Form(f)) = form_data else {
        return form_unreadable(Lang::choose(None, &headers));
    };
    let user = match account_email::reset_user(&s.store, &tenant, &f.link).await {
        Ok(Some(user)) => user,
        Ok(None) => return gone(&tenant, &headers),
        Err(e) => return internal_in(Lang::choose(None, &headers), e),
    };
    let lang = Lang::choose(user.locale.as_deref(), &headers);
    if !csrf::browser_ok(&s, &tenant, &headers, f.csrf.as_deref()) {
        return form_expired(lang);
    }
    if f.password != f.confirm {
        let error = EmailTexts::of(lang).mismatch.to_owned();
        return form(&s, &tenant, &headers, &user, &f.link, Some(error));
    }
    let notifier = s.logout_notifier();
    let (store, queue) = (&s.store, &s.hash_queue);
    let reset = account_email::reset_password(store, notifier, &tenant, &f.link, f.password, queue);
    match reset.await {
        Ok(Some(_)) => shown(&tenant, lang, StatusCode::OK, ResetStep::Done),
        Ok(None) => shown(&tenant, lang, StatusCode::GONE, ResetStep::Gone),
        Err(DomainError::Invalid { message, .. }) => {
            let error = Some(sentence(&message));
            form(&s, &tenant, &headers, &user, &f.link, error)
        }
        Err(DomainError::Unavailable { .. }) => busy_page(lang),
        Err(e) => internal_in(lang, e),
    }
}
