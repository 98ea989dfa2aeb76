//! The console's lists of groups, accounts and account groups: searched by name (in any case,
//! beyond ASCII), sorted by name and paged by the database through `admin::groups::page`,
//! `admin::accounts::page` and `admin::accounts::page_groups`, so a tenant with tens of
//! thousands of them reads one page. Each list's other pages are in its own module.

use super::accounts::kind_label;
use super::forms::PAGE_SIZE;
use super::groups::page_number;
use super::{Console, Shell, refusal, render};
use crate::admin::accounts::{self, ListAccounts};
use crate::admin::groups;
use crate::domain::permissions::admin;
use crate::domain::throttle::Client;
use crate::domain::{AccountKind, DomainError, NamedPage};
use crate::http::AppState;
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

/// What a list reads from its address (anything else is ignored).
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    page: Option<String>,
    #[serde(default)]
    notice: String,
    /// The accounts' kind filter.
    #[serde(default)]
    kind: String,
}

/// The request's list query and page (a query the browser garbled reads as the first page of
/// everything).
fn read(
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<(ListQuery, NamedPage), DomainError> {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let number = page_number(query.page.as_deref());
    let page = NamedPage::new(&query.q, number, PAGE_SIZE as u32)?;
    Ok((query, page))
}

/// The previous and next pages' addresses: `back` with `params` (encoded here) and the number.
struct Pager {
    /// The first page, from any other (a page past the end of the list links back to it).
    first_page: Option<String>,
    prev_page: Option<String>,
    next_page: Option<String>,
}

impl Pager {
    fn new(back: &str, params: &[(&str, &str)], page: &NamedPage, more: bool) -> Self {
        let link = |n: u32| {
            let mut url = format!("{back}?");
            for (k, v) in params.iter().filter(|(_, v)| !v.is_empty()) {
                url += &format!("{k}={}&", utf8_percent_encode(v.trim(), NON_ALPHANUMERIC));
            }
            format!("{url}page={n}")
        };
        Pager {
            first_page: (page.number > 1).then(|| link(1)),
            prev_page: (page.number > 1).then(|| link(page.number - 1)),
            next_page: more.then(|| link(page.number + 1)),
        }
    }
}

/// One line of the groups list.
pub struct GroupLine {
    id: String,
    name: String,
    description: String,
    members: i64,
    roles: i64,
    /// Has an external id: provisioned by a directory (SCIM).
    directory: bool,
}

#[derive(Template)]
#[template(path = "console/groups.html")]
struct GroupsPage {
    shell: Shell,
    notice: Option<&'static str>,
    can_write: bool,
    q: String,
    lines: Vec<GroupLine>,
    total: i64,
    pager: Pager,
}

/// `GET /t/{tenant}/console/groups`.
pub async fn groups_list(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/groups");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let (query, page) = match read(query) {
        Ok(r) => r,
        Err(e) => return refusal(e),
    };
    let listed = match groups::page(&s.store, &console.caller, &page).await {
        Ok(l) => l,
        Err(e) => return refusal(e),
    };
    let more = listed.has_more(&page);
    render(
        StatusCode::OK,
        &GroupsPage {
            shell: console.shell("groups"),
            notice: super::groups::notice_text(&query.notice),
            can_write: console.caller.holds(admin::GROUPS_WRITE),
            pager: Pager::new(&back, &[("q", &query.q)], &page, more),
            total: listed.total,
            lines: listed
                .items
                .into_iter()
                .map(|g| GroupLine {
                    id: g.id.to_string(),
                    name: g.display_name,
                    description: g.description.unwrap_or_default(),
                    members: g.members,
                    roles: g.roles,
                    directory: g.directory,
                })
                .collect(),
            q: query.q.trim().to_owned(),
        },
    )
}

/// One line of the accounts list.
pub struct AccountLine {
    id: String,
    name: String,
    kind: &'static str,
    kind_label: &'static str,
    builtin: bool,
}

#[derive(Template)]
#[template(path = "console/accounts.html")]
struct AccountsPage {
    shell: Shell,
    notice: Option<&'static str>,
    can_write: bool,
    q: String,
    kind: String,
    kinds: Vec<(&'static str, &'static str)>,
    lines: Vec<AccountLine>,
    total: i64,
    pager: Pager,
}

/// `GET /t/{tenant}/console/accounts`.
pub async fn accounts_list(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/accounts");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let (query, page) = match read(query) {
        Ok(r) => r,
        Err(e) => return refusal(e),
    };
    let kind = match query.kind.as_str() {
        "" => None,
        k => match AccountKind::parse(k) {
            Some(k) => Some(k),
            None => return refusal(DomainError::invalid("kind", "there is no such kind")),
        },
    };
    let req = ListAccounts { kind };
    let listed = match accounts::page(&s.store, &console.caller, req, &page).await {
        Ok(l) => l,
        Err(e) => return refusal(e),
    };
    let more = listed.has_more(&page);
    let kinds = [
        AccountKind::Provider,
        AccountKind::Customer,
        AccountKind::Guest,
    ];
    render(
        StatusCode::OK,
        &AccountsPage {
            shell: console.shell("accounts"),
            notice: super::accounts::notice_text(&query.notice),
            can_write: console.caller.holds(admin::ACCOUNTS_WRITE),
            kinds: kinds
                .into_iter()
                .map(|k| (k.as_str(), kind_label(k)))
                .collect(),
            pager: Pager::new(
                &back,
                &[("q", &query.q), ("kind", &query.kind)],
                &page,
                more,
            ),
            total: listed.total,
            lines: listed
                .items
                .into_iter()
                .map(|a| AccountLine {
                    id: a.id.to_string(),
                    name: a.name,
                    kind: a.kind.as_str(),
                    kind_label: kind_label(a.kind),
                    builtin: a.builtin,
                })
                .collect(),
            q: query.q.trim().to_owned(),
            kind: query.kind,
        },
    )
}

/// One line of the account groups list.
pub struct AccountGroupLine {
    id: String,
    name: String,
    description: String,
    accounts: i64,
}

#[derive(Template)]
#[template(path = "console/account_groups.html")]
struct AccountGroupsPage {
    shell: Shell,
    notice: Option<&'static str>,
    can_write: bool,
    q: String,
    lines: Vec<AccountGroupLine>,
    total: i64,
    pager: Pager,
}

/// `GET /t/{tenant}/console/account-groups`.
pub async fn account_groups_list(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/account-groups");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let (query, page) = match read(query) {
        Ok(r) => r,
        Err(e) => return refusal(e),
    };
    let listed = match accounts::page_groups(&s.store, &console.caller, &page).await {
        Ok(l) => l,
        Err(e) => return refusal(e),
    };
    let more = listed.has_more(&page);
    render(
        StatusCode::OK,
        &AccountGroupsPage {
            shell: console.shell("accounts"),
            notice: super::account_groups::notice_text(&query.notice),
            can_write: console.caller.holds(admin::ACCOUNTS_WRITE),
            pager: Pager::new(&back, &[("q", &query.q)], &page, more),
            total: listed.total,
            lines: listed
                .items
                .into_iter()
                .map(|g| AccountGroupLine {
                    id: g.id.to_string(),
                    name: g.name,
                    description: g.description.unwrap_or_default(),
                    accounts: g.accounts,
                })
                .collect(),
            q: query.q.trim().to_owned(),
        },
    )
}
