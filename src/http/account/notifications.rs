//! `/t/{tenant}/account/notifications`: the person chooses which events they are told about and
//! on which channels, through `admin::notifications::set_prefs` (every type of the tenant, as
//! the form shows them all). The form works as a plain POST; repeated fields (`on`, `channel`)
//! are read from the body by hand.

use super::field_errors::field_error;
use super::profile::NoticeQuery;
use super::{Portal, texts::AccountTexts};
use crate::admin::notifications::{self, CHANNELS, PrefChoice, SetPrefs};
use crate::domain::DomainError;
use crate::domain::throttle::Client;
use crate::http::AppState;
use crate::http::console::{Shell, render};
use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// One channel of one type, as a checkbox.
pub struct Channel {
    /// Always on (the email of a mandatory notification).
    locked: bool,
    value: String,
    label: &'static str,
    checked: bool,
}

/// One line of the form: a type and the person's choice.
pub struct Line {
    key: String,
    label: String,
    enabled: bool,
    /// A mandatory security notification: shown on, by email, locked.
    locked: bool,
    channels: Vec<Channel>,
}

#[derive(Template)]
#[template(path = "account/notifications.html")]
struct NotificationsPage {
    shell: Shell,
    t: &'static AccountTexts,
    notice: Option<&'static str>,
    error: Option<String>,
    lines: Vec<Line>,
}

fn channel_label(t: &AccountTexts, c: &str) -> &'static str {
    match c {
        "email" => t.by_email,
        "in_app" => t.in_app,
        _ => t.by_push,
    }
}

async fn page(
    s: &AppState,
    p: &Portal,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Response {
    let all = match notifications::choices(&s.store, &p.caller, &p.me.user.id).await {
        Ok(all) => all,
        Err(e) => return p.refusal(e),
    };
    let t = p.t;
    // The built-in types in their own order, then the tenant's by key.
    let mut all = all;
    all.sort_by_key(|(ty, _)| {
        let builtin = crate::domain::model::BUILTIN_NOTIFICATION_TYPES
            .iter()
            .position(|(k, _)| *k == ty.key);
        (builtin.unwrap_or(usize::MAX), ty.key.clone())
    });
    let lines = all
        .into_iter()
        .map(|(ty, pref)| Line {
            label: t
                .builtin_type(p.me.lang, &ty.key)
                .filter(|_| ty.builtin)
                .map(str::to_owned)
                .or(ty.description)
                .unwrap_or_else(|| ty.key.clone()),
            enabled: pref.enabled,
            locked: pref.mandatory,
            channels: CHANNELS
                .iter()
                .map(|c| Channel {
                    locked: pref.mandatory && *c == "email",
                    value: format!("{}:{c}", ty.key),
                    label: channel_label(t, c),
                    checked: pref.channels.iter().any(|x| x == c),
                })
                .collect(),
            key: ty.key,
        })
        .collect();
    render(
        status,
        &NotificationsPage {
            shell: p.shell("/notifications"),
            t,
            notice,
            error,
            lines,
        },
    )
}

/// `GET /t/{tenant}/account/notifications`.
pub async fn show(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<NoticeQuery>, QueryRejection>,
) -> Response {
    let back = format!("/t/{slug}/account/notifications");
    let p = match Portal::of(&s, &slug, &headers, &client, &back).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let notice = query
        .ok()
        .and_then(|Query(q)| q.notice)
        .filter(|n| n == "saved")
        .map(|_| p.t.notifications_saved);
    page(&s, &p, StatusCode::OK, notice, None).await
}

/// What the form sends: the CSRF token, the types switched on (`on=key`) and the channels
/// ticked (`channel=key:channel`).
#[derive(Default)]
struct Submitted {
    csrf: Option<String>,
    on: Vec<String>,
    channels: Vec<(String, String)>,
}

fn read(body: &[u8]) -> Submitted {
    let mut f = Submitted::default();
    for (k, v) in url::form_urlencoded::parse(body) {
        match k.as_ref() {
            "csrf" => f.csrf = Some(v.into_owned()),
            "on" => f.on.push(v.into_owned()),
            "channel" => {
                if let Some((key, c)) = v.split_once(':') {
                    f.channels.push((key.to_owned(), c.to_owned()));
                }
            }
            _ => {}
        }
    }
    f
}

/// `POST /t/{tenant}/account/notifications`: the choice for every type the person has.
pub async fn save(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let back = format!("/t/{slug}/account/notifications");
    let p = match Portal::of(&s, &slug, &headers, &client, &back).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let f = read(&body);
    if let Some(refused) = p.csrf_refusal(&s, f.csrf.as_deref()) {
        return refused;
    }
    let current = match notifications::prefs(&s.store, &p.caller, &p.me.user.id).await {
        Ok(c) => c,
        Err(e) => return p.refusal(e),
    };
    let mut req = SetPrefs::new();
    for pref in current {
        let key = pref.event_type;
        let mut channels: Vec<String> = f
            .channels
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, c)| c.clone())
            .collect();
        // A locked switch is not submitted (disabled): a mandatory one stays on, by email.
        if pref.mandatory {
            channels.push("email".into());
        }
        let choice = PrefChoice {
            enabled: pref.mandatory || f.on.contains(&key),
            channels: Some(channels),
        };
        req.insert(key, choice);
    }
    match notifications::set_prefs(&s.store, &p.caller, &p.me.user.id, req).await {
        Ok(_) => p.back_with("/notifications", "saved"),
        Err(DomainError::Invalid { field, message }) => {
            let name = field.unwrap_or_default();
            let message = field_error(p.me.lang, &name, &name, &message);
            page(&s, &p, StatusCode::BAD_REQUEST, None, Some(message)).await
        }
        Err(e) => p.refusal(e),
    }
}
