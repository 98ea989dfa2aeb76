//! `/t/{tenant}/account/sessions`: the browsers where the person is signed in (when, how, last
//! activity, this one marked); sign one out, or every one but this (each confirmed first),
//! through `admin::user_sessions`: the refresh tokens made there are revoked and the apps told.

use super::profile::NoticeQuery;
use super::{Portal, texts::AccountTexts, when};
use crate::admin::user_sessions;
use crate::domain::throttle::Client;
use crate::http::AppState;
use crate::http::console::{Shell, render};
use crate::http::oidc::i18n::Lang;
use crate::http::oidc::login::form_unreadable;
use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

/// One line of the list.
pub struct Line {
    id: String,
    device: String,
    ip: String,
    started: String,
    last_seen: String,
    methods: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "account/sessions.html")]
struct SessionsPage {
    shell: Shell,
    t: &'static AccountTexts,
    notice: Option<&'static str>,
    lines: Vec<Line>,
}

/// The confirmation page of a destructive action of the portal.
#[derive(Template)]
#[template(path = "account/confirm.html")]
pub struct ConfirmPage {
    pub shell: Shell,
    pub t: &'static AccountTexts,
    pub title: String,
    pub text: &'static str,
    pub action: String,
    pub button: &'static str,
    pub cancel: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfOnly {
    pub csrf: Option<String>,
}

async fn portal(
    s: &AppState,
    slug: &str,
    headers: &HeaderMap,
    client: &Client,
) -> Result<Portal, Response> {
    let back = format!("/t/{slug}/account/sessions");
    Portal::of(s, slug, headers, client, &back).await
}

/// `GET /t/{tenant}/account/sessions`.
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
    let all = match user_sessions::list(&s.store, &p.caller, &p.me.user.id).await {
        Ok(all) => all,
        Err(e) => return p.refusal(e),
    };
    let t = p.t;
    let mut lines: Vec<Line> = all
        .into_iter()
        .map(|listed| {
            let x = listed.session;
            let mut methods: Vec<&str> = x.amr.iter().map(|m| t.method(m)).collect();
            methods.dedup();
            Line {
                device: t.device(listed.user_agent.as_deref()),
                ip: listed.ip.unwrap_or_default(),
                current: x.id == p.me.session.id,
                started: when(x.auth_time),
                last_seen: when(x.last_seen_at),
                methods: methods.join(", "),
                id: x.id,
            }
        })
        .collect();
    // This browser first.
    lines.sort_by_key(|l| !l.current);
    let notice = query
        .ok()
        .and_then(|Query(q)| q.notice)
        .and_then(|n| match n.as_str() {
            "ended" => Some(t.session_ended),
            "others" => Some(t.others_ended),
            "current" => Some(t.current_session),
            _ => None,
        });
    render(
        StatusCode::OK,
        &SessionsPage {
            shell: p.shell("/sessions"),
            t,
            notice,
            lines,
        },
    )
}

/// `GET .../sessions/{id}/end`: are you sure?
pub async fn confirm_end(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let p = match portal(&s, &slug, &headers, &client).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    if id == p.me.session.id {
        return p.back_with("/sessions", "current");
    }
    // Only a session of the person's own gets a page; any other id is not found.
    match user_sessions::list(&s.store, &p.caller, &p.me.user.id).await {
        Ok(all) if all.iter().any(|x| x.session.id == id) => {}
        Ok(_) => return p.refusal(crate::domain::DomainError::NotFound("session")),
        Err(e) => return p.refusal(e),
    }
    let base = format!("/t/{slug}/account/sessions");
    render(
        StatusCode::OK,
        &ConfirmPage {
            shell: p.shell("/sessions"),
            t: p.t,
            title: p.t.sign_out_session_title.to_owned(),
            text: p.t.sign_out_session_text,
            action: format!("{base}/{}/end", crate::oidc::authorize::enc(&id)),
            button: p.t.sign_out,
            cancel: base,
        },
    )
}

/// `POST .../sessions/{id}/end`: a session that is not the person's is not found (404) and
/// nothing changes.
pub async fn end(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
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
    if id == p.me.session.id {
        return p.back_with("/sessions", "current");
    }
    let notifier = s.logout_notifier();
    match user_sessions::end(&s.store, notifier, &p.caller, &p.me.user.id, &id).await {
        Ok(()) => p.back_with("/sessions", "ended"),
        Err(e) => p.refusal(e),
    }
}

/// `GET .../sessions/others`: are you sure?
pub async fn confirm_others(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let p = match portal(&s, &slug, &headers, &client).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let base = format!("/t/{slug}/account/sessions");
    render(
        StatusCode::OK,
        &ConfirmPage {
            shell: p.shell("/sessions"),
            t: p.t,
            title: p.t.sign_out_others_title.to_owned(),
            text: p.t.sign_out_others_text,
            action: format!("{base}/others"),
            button: p.t.sign_out_others,
            cancel: base,
        },
    )
}

/// `POST .../sessions/others`.
pub async fn end_others(
    State(s): State<AppState>,
    Path(slug): Path<String>,
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
    let notifier = s.logout_notifier();
    let (caller, me) = (&p.caller, &p.me);
    match user_sessions::end_others(&s.store, notifier, caller, &me.user.id, &me.session.id).await {
        Ok(()) => p.back_with("/sessions", "others"),
        Err(e) => p.refusal(e),
    }
}
