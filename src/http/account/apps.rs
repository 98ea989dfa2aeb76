//! `/t/{tenant}/account/apps`: the third-party apps the person consented to (what they may
//! access, since when), and revoking one (confirmed first) through `admin::consents::revoke`:
//! the consent goes, and with it the app's refresh tokens for the person.

use super::profile::NoticeQuery;
use super::sessions::{ConfirmPage, CsrfOnly};
use super::{Portal, texts::AccountTexts, when};
use crate::admin::consents;
use crate::domain::DomainError;
use crate::domain::throttle::Client;
use crate::http::AppState;
use crate::http::console::{Shell, render};
use crate::http::oidc::i18n::Lang;
use crate::http::oidc::login::form_unreadable;
use crate::oidc::authorize::enc;
use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// One line of the list.
pub struct Line {
    /// The path segment naming the app (its `client_id`, encoded).
    key: String,
    name: String,
    scopes: String,
    since: String,
}

#[derive(Template)]
#[template(path = "account/apps.html")]
struct AppsPage {
    shell: Shell,
    t: &'static AccountTexts,
    notice: Option<&'static str>,
    lines: Vec<Line>,
}

async fn portal(
    s: &AppState,
    slug: &str,
    headers: &HeaderMap,
    client: &Client,
) -> Result<Portal, Response> {
    let back = format!("/t/{slug}/account/apps");
    Portal::of(s, slug, headers, client, &back).await
}

/// `GET /t/{tenant}/account/apps`.
pub async fn list(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<NoticeQuery>, QueryRejection>,
) -> Response {
    let p = match portal(&s, &slug, &headers, &client).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let all = match consents::list(&s.store, &p.caller, &p.me.user.id).await {
        Ok(all) => all,
        Err(e) => return p.refusal(e),
    };
    let lines = all
        .into_iter()
        .map(|c| Line {
            key: enc(&c.client_id),
            name: c.client_name,
            scopes: c.scopes.join(", "),
            since: when(c.created_at),
        })
        .collect();
    let notice = query
        .ok()
        .and_then(|Query(q)| q.notice)
        .filter(|n| n == "revoked")
        .map(|_| p.t.app_revoked);
    render(
        StatusCode::OK,
        &AppsPage {
            shell: p.shell("/apps"),
            t: p.t,
            notice,
            lines,
        },
    )
}

/// `GET .../apps/{client}/revoke`: are you sure? An app the person did not consent to is not
/// found.
pub async fn confirm(
    State(s): State<AppState>,
    Path((slug, app)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let p = match portal(&s, &slug, &headers, &client).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let all = match consents::list(&s.store, &p.caller, &p.me.user.id).await {
        Ok(all) => all,
        Err(e) => return p.refusal(e),
    };
    let Some(c) = all.into_iter().find(|c| c.client_id == app) else {
        return p.refusal(DomainError::NotFound("consent"));
    };
    let base = format!("/t/{slug}/account/apps");
    render(
        StatusCode::OK,
        &ConfirmPage {
            shell: p.shell("/apps"),
            t: p.t,
            title: p.t.revoke_title.replace("{app}", &c.client_name),
            text: p.t.revoke_text,
            action: format!("{base}/{}/revoke", enc(&c.client_id)),
            button: p.t.revoke,
            cancel: base,
        },
    )
}

/// `POST .../apps/{client}/revoke`: the person's consent to another app than theirs is not
/// found (404), and nothing changes.
pub async fn revoke(
    State(s): State<AppState>,
    Path((slug, app)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return form_unreadable(Lang::choose(None, &headers));
    };
    let p = match portal(&s, &slug, &headers, &client).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    if let Some(refused) = p.csrf_refusal(&s, f.csrf.as_deref()) {
        return refused;
    }
    match consents::revoke(&s.store, &p.caller, &p.me.user.id, &app).await {
        Ok(()) => p.back_with("/apps", "revoked"),
        Err(e) => p.refusal(e),
    }
}
