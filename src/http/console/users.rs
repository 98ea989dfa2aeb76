//! The console's user list: search (email prefix or text), filters (status, account, role,
//! group), an order (email, newest, oldest) and pages, through `admin::users::list` (the same
//! function as `GET /users`, so the same scope: a manager sees the people they manage). The
//! account and role filters are offered to whoever may read accounts and roles; the group
//! filter comes from a group's page (a link with `group_id`) and shows as a removable filter.
//! With htmx, a search replaces only the table.

use super::{Console, Shell, refusal, render};
use crate::admin::users::{ListUsers, list as list_users};
use crate::admin::{accounts, groups, roles};
use crate::domain::clock::format_us;
use crate::domain::throttle::Client;
use crate::domain::{AccountId, DomainError, GroupId, RoleId, User, UserSort, UserStatus};
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
    #[serde(default)]
    account: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    group_id: String,
    #[serde(default)]
    sort: String,
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
    /// The accounts to filter by (`None`: the caller may not read accounts).
    accounts: Option<Vec<(String, String)>>,
    account: String,
    roles: Option<Vec<(String, String)>>,
    role: String,
    /// The group filtered by: its id and name.
    group: Option<(String, String)>,
    /// The link that removes the group filter.
    without_group: String,
    sorts: Vec<(&'static str, &'static str)>,
    sort: String,
    can_create: bool,
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
            None => return refusal(DomainError::invalid("status", "there is no such status")),
        },
    };
    let sort = match query.sort.as_str() {
        "" => UserSort::Email,
        s => match UserSort::parse(s) {
            Some(so) => so,
            None => return refusal(DomainError::invalid("sort", "there is no such order")),
        },
    };
    let id_of = |field: &'static str, v: &str| -> Result<Option<String>, DomainError> {
        match v {
            "" => Ok(None),
            v if crate::domain::UserId::parse(v).is_some() => Ok(Some(v.to_owned())),
            _ => Err(DomainError::invalid(field, "there is no such filter value")),
        }
    };
    let ids = id_of("account", &query.account).and_then(|a| {
        Ok((
            a,
            id_of("role", &query.role)?,
            id_of("group_id", &query.group_id)?,
        ))
    });
    let (account_id, role_id, group_id) = match ids {
        Ok(ids) => ids,
        Err(e) => return refusal(e),
    };
    let caller = &console.caller;
    // The choices of the filters the caller may use (a refusal hides the filter).
    let account_choices = accounts::list(&s.store, caller, Default::default())
        .await
        .ok()
        .map(|all| {
            all.into_iter()
                .map(|a| (a.id.to_string(), a.name))
                .collect::<Vec<_>>()
        });
    let role_choices = roles::list(&s.store, caller).await.ok().map(|all| {
        all.into_iter()
            .map(|r| (r.id.to_string(), r.name))
            .collect::<Vec<_>>()
    });
    let group = match &group_id {
        Some(g) => match groups::get(&s.store, caller, &GroupId(g.clone())).await {
            Ok(g) => Some((g.id.to_string(), g.display_name)),
            Err(e) => return refusal(e),
        },
        None => None,
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
        account_id: account_id.clone().map(AccountId),
        role_id: role_id.clone().map(RoleId),
        group_id: group_id.clone().map(GroupId),
        sort,
        limit: Some(PAGE_SIZE),
        cursor: query.cursor.clone(),
    };
    let page = match list_users(&s.store, caller, req).await {
        Ok(p) => p,
        Err(e) => return refusal(e),
    };
    let enc = |v: &str| utf8_percent_encode(v, NON_ALPHANUMERIC).to_string();
    let link = |cursor: Option<&str>, with_group: bool| {
        let mut url = format!(
            "{back}?q={}&status={}&account={}&role={}&sort={}",
            enc(&q),
            enc(&query.status),
            enc(&query.account),
            enc(&query.role),
            enc(&query.sort),
        );
        if with_group && !query.group_id.is_empty() {
            url.push_str(&format!("&group_id={}", enc(&query.group_id)));
        }
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={}", enc(c)));
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
    let sorts = UserSort::ALL
        .into_iter()
        .map(|so| {
            (
                so.as_str(),
                match so {
                    UserSort::Email => "Email, A to Z",
                    UserSort::Newest => "Newest first",
                    UserSort::Oldest => "Oldest first",
                },
            )
        })
        .collect();
    render(
        StatusCode::OK,
        &UsersPage {
            shell: console.shell("users"),
            q: q.clone(),
            status: query.status.clone(),
            statuses,
            accounts: account_choices,
            account: query.account.clone(),
            roles: role_choices,
            role: query.role.clone(),
            group,
            without_group: link(None, false),
            sorts,
            sort: sort.as_str().to_owned(),
            can_create: caller.holds(crate::domain::permissions::admin::USERS_WRITE),
            rows: page.items.iter().map(Row::of).collect(),
            first_page: query.cursor.is_some().then(|| link(None, true)),
            next_page: page.next_cursor.as_deref().map(|c| link(Some(c), true)),
            notice: match query.notice.as_str() {
                "deleted" => Some("The user was deleted."),
                _ => None,
            },
        },
    )
}
