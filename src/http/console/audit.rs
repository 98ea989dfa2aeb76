//! The console's audit log (`/t/{tenant}/console/audit`): who did what to what and when,
//! newest first, filtered by actor, action, target and time and paged, through
//! `admin::audit::list` (the function of `GET /audit`, which requires `audit.read`). An actor
//! may be given by email: it is looked up among the users the caller may read.

use super::{Console, Shell, refusal, render};
use crate::admin::audit::{ListAudit, list};
use crate::admin::users::{ListUsers, list as list_users};
use crate::domain::DomainError;
use crate::domain::audit::AuditRecord;
use crate::domain::clock::format_ms;
use crate::domain::throttle::Client;
use crate::http::AppState;
use askama::Template;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/t/{tenant}/console/audit", get(page))
}

/// Entries per page.
const PAGE_SIZE: u32 = 50;

/// The kinds of target the log names, for the filter.
const TARGET_KINDS: &[(&str, &str)] = &[
    ("user", "User"),
    ("group", "Group"),
    ("role", "Role"),
    ("account", "Account"),
    ("account_group", "Account group"),
    ("client", "App"),
    ("permission", "Permission"),
    ("attribute", "Custom attribute"),
    ("scim_token", "SCIM token"),
    ("token", "API token"),
    ("tenant", "Organisation"),
];

/// Actions the log records, offered as suggestions for the action filter.
const ACTIONS: &[&str] = &[
    "user.create",
    "user.update",
    "user.activate",
    "user.deactivate",
    "user.reactivate",
    "user.anonymise",
    "user.delete",
    "user.sign_in",
    "user.sign_out",
    "user.password.set",
    "user.mfa.add",
    "user.mfa.remove",
    "user.mfa.reset",
    "role.assign",
    "role.unassign",
    "role.create",
    "role.update",
    "role.delete",
    "override.set",
    "override.delete",
    "group.create",
    "group.member_add",
    "group.member_remove",
    "membership.create",
    "membership.update",
    "membership.delete",
    "client.create",
    "client.secret.rotate",
    "client.delete",
    "consent.revoke",
    "owner.transfer",
    "scim_token.create",
    "scim_token.revoke",
    "signing_key.rotate",
    "tenant.mfa.update",
];

#[derive(Debug, Default, Deserialize)]
pub struct AuditFilters {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    target_kind: String,
    #[serde(default)]
    target_id: String,
    /// `YYYY-MM-DDTHH:MM` (a `datetime-local` input), in UTC.
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    cursor: Option<String>,
}

/// One line of the log as shown.
pub struct Line {
    at: String,
    at_text: String,
    actor: String,
    action: String,
    target_kind: String,
    target_id: String,
    /// The console page of the target, when it has one.
    target_href: Option<String>,
    ip: String,
    before: Option<String>,
    after: Option<String>,
}

impl Line {
    fn of(slug: &str, r: &AuditRecord) -> Self {
        let at = format_ms(r.at);
        let target_id = r.target_id.clone().unwrap_or_default();
        let target_href = match (r.target_kind.as_str(), r.target_id.as_deref()) {
            ("user", Some(id)) => Some(format!("/t/{slug}/console/users/{id}")),
            ("role", Some(id)) => Some(format!("/t/{slug}/console/roles/{id}")),
            _ => None,
        };
        let pretty = |v: &Option<serde_json::Value>| {
            v.as_ref()
                .and_then(|v| serde_json::to_string_pretty(v).ok())
        };
        Line {
            at_text: at.get(..19).unwrap_or(&at).replace('T', " "),
            at,
            actor: r.actor_label.clone(),
            action: r.action.clone(),
            target_kind: r.target_kind.clone(),
            target_id,
            target_href,
            ip: r.ip.clone().unwrap_or_default(),
            before: pretty(&r.before),
            after: pretty(&r.after),
        }
    }
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    shell: Shell,
    f: AuditFilters,
    kinds: &'static [(&'static str, &'static str)],
    actions: &'static [&'static str],
    lines: Vec<Line>,
    /// The filter the refusal names, and what it says.
    error: Option<(String, String)>,
    first_page: Option<String>,
    next_page: Option<String>,
}

/// A `datetime-local` value (or a full RFC 3339 instant) as RFC 3339 in UTC.
fn instant(v: &str) -> Option<String> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    Some(match v.len() {
        16 => format!("{v}:00Z"),
        19 => format!("{v}Z"),
        _ => v.to_owned(),
    })
}

/// `GET /t/{tenant}/console/audit`.
async fn page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<AuditFilters>, QueryRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/audit");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let Ok(Query(f)) = query else {
        return refusal(DomainError::invalid(
            "query",
            "the filters could not be read",
        ));
    };
    let caller = &console.caller;
    // An actor given by email is the user of that email the caller may read.
    let actor = f.actor.trim();
    let actor_id = if actor.contains('@') {
        let req = ListUsers {
            email_prefix: Some(actor.to_owned()),
            limit: Some(2),
            ..Default::default()
        };
        match list_users(&s.store, caller, req).await {
            Ok(p) => Ok(p
                .items
                .into_iter()
                .find(|u| u.email.eq_ignore_ascii_case(actor))
                .map(|u| u.id.to_string())
                // Nobody of that email: a filter that matches nothing.
                .or_else(|| Some(String::from("-")))),
            Err(DomainError::Forbidden(_)) => Err(DomainError::invalid(
                "actor",
                "you may not look people up by email here: give the actor's id",
            )),
            Err(e) => return refusal(e),
        }
    } else {
        Ok((!actor.is_empty()).then(|| actor.to_owned()))
    };
    let nonempty = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_owned());
    let result = match actor_id {
        Err(e) => Err(e),
        Ok(actor_id) => {
            let req = ListAudit {
                actor_id,
                action: nonempty(&f.action),
                target_kind: nonempty(&f.target_kind),
                target_id: nonempty(&f.target_id),
                since: instant(&f.since),
                until: instant(&f.until),
                limit: Some(PAGE_SIZE),
                cursor: f.cursor.clone(),
            };
            list(&s.store, caller, req).await
        }
    };
    let (page, error) = match result {
        Ok(p) => (Some(p), None),
        Err(DomainError::Invalid { field, message }) => {
            (None, Some((field.unwrap_or_default(), message)))
        }
        Err(e) => return refusal(e),
    };
    let enc = |v: &str| utf8_percent_encode(v, NON_ALPHANUMERIC).to_string();
    let link = |cursor: Option<&str>| {
        let mut url = format!(
            "{back}?actor={}&action={}&target_kind={}&target_id={}&since={}&until={}",
            enc(&f.actor),
            enc(&f.action),
            enc(&f.target_kind),
            enc(&f.target_id),
            enc(&f.since),
            enc(&f.until),
        );
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={}", enc(c)));
        }
        url
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let (lines, next) = match &page {
        Some(p) => (
            p.items.iter().map(|r| Line::of(&slug, r)).collect(),
            p.next_cursor.as_deref().map(|c| link(Some(c))),
        ),
        None => (Vec::new(), None),
    };
    render(
        status,
        &AuditPage {
            shell: console.shell("audit"),
            first_page: f.cursor.is_some().then(|| link(None)),
            next_page: next,
            f,
            kinds: TARGET_KINDS,
            actions: ACTIONS,
            lines,
            error,
        },
    )
}
