//! The console's user list: search (email prefix or text), a status filter and pages, through
//! `admin::users::list` (the same function as `GET /users`, so the same scope: a manager sees
//! the people they manage). With htmx, a search replaces only the table.

use super::{Console, Shell, refusal, render};
use crate::admin::users::{ListUsers, list as list_users};
use crate::domain::clock::format_us;
use crate::domain::throttle::Client;
use crate::domain::{User, UserStatus};
use crate::http::AppState;
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

/// Users shown per page.
const PAGE_SIZE: u32 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct UsersQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    cursor: Option<String>,
    #[serde(default)]
    notice: String,
}

/// One row of the table.
pub struct Row {
    id: String,
    name: String,
    email: String,
    status: &'static str,
    status_label: &'static str,
    created: String,
    created_day: String,
}

impl Row {
    fn of(u: &User) -> Self {
        let created = format_us(u.created_at);
        Row {
            id: u.id.to_string(),
            name: display_name(u),
            email: u.email.clone(),
            status: u.status.as_str(),
            status_label: status_label(u.status),
            created_day: created.get(..10).unwrap_or_default().to_owned(),
            created,
        }
    }
}

/// The name a person goes by: the display name, else given and family names, else the username.
pub fn display_name(u: &User) -> String {
    u.display_name
        .clone()
        .or_else(|| match (&u.given_name, &u.family_name) {
            (Some(g), Some(f)) => Some(format!("{g} {f}")),
            (Some(n), None) | (None, Some(n)) => Some(n.clone()),
            (None, None) => None,
        })
        .unwrap_or_else(|| u.username.clone())
}

pub fn status_label(s: UserStatus) -> &'static str {
    match s {
        UserStatus::Invited => "Invited",
        UserStatus::Active => "Active",
        UserStatus::Inactive => "Deactivated",
        UserStatus::Anonymised => "Anonymised",
    }
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    shell: Shell,
    q: String,
    status: String,
    statuses: Vec<(&'static str, &'static str)>,
    rows: Vec<Row>,
    first_page: Option<String>,
    next_page: Option<String>,
    notice: Option<&'static str>,
}

/// `GET /t/{tenant}/console/users`.
pub async fn list(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<UsersQuery>, QueryRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/users");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let Ok(Query(query)) = query else {
        return refusal(crate::domain::DomainError::invalid(
            "query",
            "the search could not be read",
        ));
    };
    let status = match query.status.as_str() {
        "" => None,
        s => match UserStatus::parse(s) {
            Some(st) => Some(st),
            None => {
                return refusal(crate::domain::DomainError::invalid(
                    "status",
                    "there is no such status",
                ));
            }
        },
    };
    let q = query.q.trim().to_owned();
    // An email-like search is a prefix of emails (index-backed); anything else searches text.
    let (email_prefix, text) = if q.contains('@') {
        (Some(q.clone()), None)
    } else {
        (None, (!q.is_empty()).then(|| q.clone()))
    };
    let req = ListUsers {
        email_prefix,
        q: text,
        status,
        limit: Some(PAGE_SIZE),
        cursor: query.cursor.clone(),
        ..Default::default()
    };
    let page = match list_users(&s.store, &console.caller, req).await {
        Ok(p) => p,
        Err(e) => return refusal(e),
    };
    let link = |cursor: Option<&str>| {
        let mut url = format!(
            "{back}?q={}&status={}",
            utf8_percent_encode(&q, NON_ALPHANUMERIC),
            utf8_percent_encode(&query.status, NON_ALPHANUMERIC)
        );
        if let Some(c) = cursor {
            url.push_str(&format!(
                "&cursor={}",
                utf8_percent_encode(c, NON_ALPHANUMERIC)
            ));
        }
        url
    };
    let statuses = [
        UserStatus::Active,
        UserStatus::Invited,
        UserStatus::Inactive,
        UserStatus::Anonymised,
    ]
    .into_iter()
    .map(|st| (st.as_str(), status_label(st)))
    .collect();
    render(
        StatusCode::OK,
        &UsersPage {
            shell: console.shell("users"),
            q: q.clone(),
            status: query.status.clone(),
            statuses,
            rows: page.items.iter().map(Row::of).collect(),
            first_page: query.cursor.is_some().then(|| link(None)),
            next_page: page.next_cursor.as_deref().map(|c| link(Some(c))),
            notice: (query.notice == "deleted").then_some("The user was deleted."),
        },
    )
}
