//! `/t/{tenant}/confirm-email?link=...`: the page of an address link (a confirmation of the
//! account's address, or a new address to make the account's). Opening it asks for a click (a
//! POST with the browser's CSRF token): a mail scanner that follows links uses nothing. Then
//! the address is verified, or becomes the account's (the old one is told); an address another
//! user took meanwhile is refused; a used, expired or replaced link gets a page that says what
//! to do.

use super::texts::EmailTexts;
use super::{LinkQuery, page};
use crate::admin::account_email::{self, AddressLink, Confirmed};
use crate::domain::Tenant;
use crate::http::AppState;
use crate::http::oidc::csrf;
use crate::http::oidc::i18n::Lang;
use crate::http::oidc::login::{form_expired, form_unreadable, internal_in, tenant_or_page};
use crate::http::oidc::pages::{Filled, Frame};
use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

pub enum ConfirmStep {
    Ask {
        title: &'static str,
        intro: Filled,
        link: String,
        csrf: String,
    },
    Said {
        title: &'static str,
        text: &'static str,
    },
}

#[derive(Template)]
#[template(path = "pages/confirm_email.html")]
struct ConfirmPage {
    frame: Frame,
    t: &'static EmailTexts,
    slug: String,
    step: ConfirmStep,
}

fn shown(tenant: &Tenant, lang: Lang, status: StatusCode, step: ConfirmStep) -> Response {
    let t = EmailTexts::of(lang);
    let title = match &step {
        ConfirmStep::Ask { title, .. } | ConfirmStep::Said { title, .. } => *title,
    };
    page(lang, &tenant.name, title, status, |frame| ConfirmPage {
        frame,
        t,
        slug: tenant.slug.clone(),
        step,
    })
}

/// A page that only says something: (title, text) in `lang`.
fn said(
    tenant: &Tenant,
    lang: Lang,
    status: StatusCode,
    what: fn(&EmailTexts) -> (&'static str, &'static str),
) -> Response {
    let (title, text) = what(EmailTexts::of(lang));
    shown(tenant, lang, status, ConfirmStep::Said { title, text })
}

fn gone(tenant: &Tenant, lang: Lang) -> Response {
    said(tenant, lang, StatusCode::GONE, |t| {
        (t.gone_title, t.gone_address)
    })
}

/// `GET /t/{tenant}/confirm-email?link=...`.
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
    let found = match account_email::address_link(&s.store, &tenant, &link).await {
        Ok(Some(found)) => found,
        Ok(None) => return gone(&tenant, Lang::choose(None, &headers)),
        Err(e) => return internal_in(Lang::choose(None, &headers), e),
    };
    let AddressLink {
        user,
        email,
        change,
    } = found;
    let lang = Lang::choose(user.locale.as_deref(), &headers);
    let t = EmailTexts::of(lang);
    let (title, intro) = match change {
        true => (t.change_title, t.change_intro),
        false => (t.confirm_title, t.confirm_intro),
    };
    let token = csrf::browser(&s, &tenant, &headers);
    let step = ConfirmStep::Ask {
        title,
        intro: Filled::new(intro, "{email}", &email),
        link,
        csrf: token.token.clone(),
    };
    let res = shown(&tenant, lang, StatusCode::OK, step);
    csrf::with_cookie(&s, &tenant, &token, res)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConfirmFields {
    csrf: Option<String>,
    link: String,
}

/// `POST /t/{tenant}/confirm-email`.
pub async fn submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    form: Result<Form<ConfirmFields>, FormRejection>,
) -> Response {
    let tenant = match tenant_or_page(&s, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let Ok(Form(f)) = form else {
        return form_unreadable(Lang::choose(None, &headers));
    };
    let found = match account_email::address_link(&s.store, &tenant, &f.link).await {
        Ok(Some(found)) => found,
        Ok(None) => return gone(&tenant, Lang::choose(None, &headers)),
        Err(e) => return internal_in(Lang::choose(None, &headers), e),
    };
    let lang = Lang::choose(found.user.locale.as_deref(), &headers);
    if !csrf::browser_ok(&s, &tenant, &headers, f.csrf.as_deref()) {
        return form_expired(lang);
    }
    match account_email::confirm(&s.store, &tenant, &f.link).await {
        Ok(Confirmed::Verified(_)) => said(&tenant, lang, StatusCode::OK, |t| {
            (t.verified_title, t.verified)
        }),
        Ok(Confirmed::Changed(_)) => said(&tenant, lang, StatusCode::OK, |t| {
            (t.changed_title, t.changed)
        }),
        Ok(Confirmed::Taken) => said(&tenant, lang, StatusCode::CONFLICT, |t| {
            (t.taken_title, t.taken)
        }),
        Ok(Confirmed::Gone) => gone(&tenant, lang),
        Err(e) => internal_in(lang, e),
    }
}
