//! The console's mail page (`/t/{tenant}/console/mail`): each message's delivery status,
//! newest first, filtered by recipient and status, through `admin::mail::list` (the function of
//! `GET /mail`, which requires `users.read`). Never a message's body.

use super::{Console, Shell, refusal, render};
use crate::admin::mail::{ListMail, list};
use crate::domain::DomainError;
use crate::domain::clock::format_ms;
use crate::domain::mail::MailRecord;
use crate::domain::throttle::Client;
use crate::http::AppState;
use askama::Template;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/t/{tenant}/console/mail", get(page))
}

/// The statuses, for the filter.
const STATUSES: &[(&str, &str)] = &[
    ("pending", "Waiting to be sent"),
    ("sent", "Sent"),
    ("failed", "Failed"),
    ("logged", "Written to the log (no SMTP server)"),
];

#[derive(Debug, Default, Deserialize)]
pub struct MailFilters {
    #[serde(default)]
    recipient: String,
    #[serde(default)]
    status: String,
}

/// One message as shown.
pub struct Line {
    at: String,
    at_text: String,
    to: String,
    kind: String,
    subject: String,
    status: &'static str,
    attempts: i64,
    error: String,
}

impl Line {
    fn of(m: &MailRecord) -> Self {
        let at = format_ms(m.created_at);
        Line {
            at_text: at.get(..19).unwrap_or(&at).replace('T', " "),
            at,
            to: m.recipient.clone(),
            kind: m.kind.replace('_', " "),
            subject: m.subject.clone(),
            status: m.status.as_str(),
            attempts: m.attempts,
            error: m.last_error.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/mail.html")]
struct MailPage {
    shell: Shell,
    f: MailFilters,
    statuses: &'static [(&'static str, &'static str)],
    lines: Vec<Line>,
    error: Option<String>,
}

/// `GET /t/{tenant}/console/mail`.
async fn page(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<MailFilters>, QueryRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/mail");
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
    let nonempty = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_owned());
    let req = ListMail {
        recipient: nonempty(&f.recipient),
        status: nonempty(&f.status),
        limit: Some(100),
    };
    let (lines, error) = match list(&s.store, &console.caller, req).await {
        Ok(items) => (items.iter().map(Line::of).collect(), None),
        Err(DomainError::Invalid { message, .. }) => (Vec::new(), Some(message)),
        Err(e) => return refusal(e),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    render(
        status,
        &MailPage {
            shell: console.shell("mail"),
            f,
            statuses: STATUSES,
            lines,
            error,
        },
    )
}
