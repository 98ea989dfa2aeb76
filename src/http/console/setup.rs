//! `/t/{tenant}/setup?link=...`: the link page, reached by the owner's single-use set-up link
//! (printed on first start, or by `castellan tenant setup-link`) or by an invitation link
//! (`admin::invitations`). The person chooses a password (the tenant's password rules, hashed
//! in a place of the bounded queue), the link is used up (of two submits at once, one wins),
//! an invited user becomes active, a session starts, and they go on: to the second-factor page
//! first when the tenant's MFA policy requires one of them (where they enrol one), then to the
//! console if they hold any administration permission, else to their account portal. A used,
//! expired or replaced link gets a page that says what to do. The page is in the person's
//! language (their locale, else the browser's); the form has the browser's CSRF token.

use super::refusal;
use super::setup_texts::SetupTexts;
use crate::admin::setup_links::{self, LinkPurpose};
use crate::domain::authz::CASTELLAN_NAMESPACE;
use crate::domain::throttle::Client;
use crate::domain::{DomainError, Tenant, User};
use crate::http::AppState;
use crate::http::oidc::i18n::Lang;
use crate::http::oidc::login::{end_previous, form_expired, form_unreadable, tenant_or_page};
use crate::http::oidc::pages::{self, Filled, Frame, render, sentence};
use crate::oidc::{mfa, signin};
use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

pub enum Step {
    Form {
        intro: Filled,
        link: String,
        csrf: String,
    },
    Gone {
        owner: Filled,
    },
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    frame: Frame,
    t: &'static SetupTexts,
    title: &'static str,
    slug: String,
    error: Option<String>,
    step: Step,
}

fn gone(tenant: &Tenant, lang: Lang) -> Response {
    let t = SetupTexts::of(lang);
    let command = format!("castellan tenant setup-link {}", tenant.slug);
    let step = Step::Gone {
        owner: Filled::new(t.gone_owner, "{slug}", &command),
    };
    page(tenant, lang, StatusCode::GONE, None, step)
}

fn page(
    tenant: &Tenant,
    lang: Lang,
    status: StatusCode,
    error: Option<String>,
    step: Step,
) -> Response {
    let t = SetupTexts::of(lang);
    let title = match step {
        Step::Form { .. } => t.form_title,
        Step::Gone { .. } => t.gone_title,
    };
    let frame = Frame::new(
        lang,
        format!("{title} · {}", tenant.name),
        Some(&tenant.name),
    );
    let slug = tenant.slug.clone();
    render(
        status,
        &SetupPage {
            frame,
            t,
            title,
            slug,
            error,
            step,
        },
    )
}

/// The form for `user`'s link, with a new CSRF cookie.
fn form(
    s: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    (user, purpose): &(User, LinkPurpose),
    link: &str,
    error: Option<String>,
) -> Response {
    let lang = lang_of(Some(user), headers);
    let t = SetupTexts::of(lang);
    let intro = match purpose {
        LinkPurpose::OwnerSetup => t.owner_intro,
        LinkPurpose::Invitation => t.invite_intro,
    };
    let token = crate::http::oidc::csrf::browser(s, tenant, headers);
    let status = match error {
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    let step = Step::Form {
        intro: Filled::new(intro, "{email}", &user.email),
        link: link.to_owned(),
        csrf: token.token.clone(),
    };
    let res = page(tenant, lang, status, error, step);
    crate::http::oidc::csrf::with_cookie(s, tenant, &token, res)
}

/// The person's language: their locale, else their browser's.
pub(super) fn lang_of(user: Option<&User>, headers: &HeaderMap) -> Lang {
    Lang::choose(user.and_then(|u| u.locale.as_deref()), headers)
}

#[derive(Debug, Default, Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    link: String,
}

/// `GET /t/{tenant}/setup?link=...`.
pub async fn show(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    query: Result<Query<SetupQuery>, QueryRejection>,
) -> Response {
    let tenant = match tenant_or_page(&s, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let link = query.map(|Query(q)| q.link).unwrap_or_default();
    match setup_links::link_user(&s.store, &tenant, &link).await {
        Ok(Some(found)) => form(&s, &tenant, &headers, &found, &link, None),
        Ok(None) => gone(&tenant, lang_of(None, &headers)),
        Err(e) => refusal(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    link: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /t/{tenant}/setup`.
pub async fn submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    form_data: Result<Form<SetupForm>, FormRejection>,
) -> Response {
    let tenant = match tenant_or_page(&s, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let Ok(Form(f)) = form_data else {
        return form_unreadable(lang_of(None, &headers));
    };
    let found = match setup_links::link_user(&s.store, &tenant, &f.link).await {
        Ok(Some(found)) => found,
        Ok(None) => return gone(&tenant, lang_of(None, &headers)),
        Err(e) => return refusal(e),
    };
    let lang = lang_of(Some(&found.0), &headers);
    if !crate::http::oidc::csrf::browser_ok(&s, &tenant, &headers, f.csrf.as_deref()) {
        return form_expired(lang);
    }
    if f.password != f.confirm {
        let error = SetupTexts::of(lang).mismatch.to_owned();
        return form(&s, &tenant, &headers, &found, &f.link, Some(error));
    }
    let set = setup_links::set_password(&s.store, &tenant, &f.link, f.password, &s.hash_queue);
    match set.await {
        Ok(Some(user)) => signed_in(&s, &tenant, &headers, &client, &user).await,
        Ok(None) => gone(&tenant, lang),
        Err(DomainError::Invalid { message, .. }) => form(
            &s,
            &tenant,
            &headers,
            &found,
            &f.link,
            Some(sentence(&message)),
        ),
        // A full hashing queue is 503 with Retry-After; anything else, the error page.
        Err(e) => refusal(e),
    }
}

/// After the password is set: a session (an invited user becomes active), then on.
async fn signed_in(
    s: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    client: &Client,
    user: &User,
) -> Response {
    let ip = client.ip.map(|i| i.to_string());
    let started =
        match signin::start_session(&s.store, tenant, user, vec!["pwd".into()], ip, false).await {
            Ok(started) => started,
            Err(e) => return refusal(e),
        };
    let target = match landing_after(s, tenant, headers, &started).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let ua = client.user_agent.as_deref();
    let res = pages::see_other(&target);
    crate::http::oidc::login::signed_in_response(s, tenant, &started, ua, res).await
}

/// Where a person whose link just started `started` goes: the browser's earlier session ends;
/// the second-factor page first if the tenant's policy requires more than the session proves
/// (they enrol a factor there), then the console if they hold any administration permission
/// (or own the tenant), else their account portal.
pub(super) async fn landing_after(
    s: &AppState,
    tenant: &Tenant,
    headers: &HeaderMap,
    started: &signin::Started,
) -> Result<String, Response> {
    end_previous(s, tenant, headers).await.map_err(refusal)?;
    let user = &started.user;
    let eff = s
        .store
        .effective_permissions(&tenant.id, &user.id)
        .await
        .map_err(refusal)?;
    let admin = user.is_owner || eff.names().any(|p| p.starts_with(CASTELLAN_NAMESPACE));
    let place = if admin { "console" } else { "account" };
    let target = format!("/t/{}/{place}", tenant.slug);
    let need = mfa::requirement(&s.store, tenant, user, &[])
        .await
        .map_err(refusal)?;
    Ok(if need.met_by(&started.session) {
        target
    } else {
        crate::http::oidc::mfa::page_url(&tenant.slug, &target, need.level, None)
    })
}
