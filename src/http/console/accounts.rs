//! The console's accounts (`/t/{tenant}/console/accounts`): the organisations people belong to
//! (provider, customer, and the one built-in guest account). A list filtered by kind and paged,
//! a form for a new account, an account's page (name and kind, its current members as the
//! caller may see them, its account groups) and a confirmed delete, all through
//! `admin::accounts` (the functions of `/accounts`). Account groups have their own pages
//! (`account_groups`).

use super::confirm::Confirm;
use super::forms::{FieldErrors, Posted, signed_post, status_of};
use super::users::display_name;
use super::{Console, Shell, refusal, render};
use crate::admin::accounts::{self, CreateAccount, UpdateAccount};
use crate::admin::users::{ListUsers, list as list_users};
use crate::domain::permissions::admin;
use crate::domain::throttle::Client;
use crate::domain::{Account, AccountGroupId, AccountId, AccountKind, DomainError};
use crate::http::AppState;
use crate::http::oidc::pages::see_other;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant}/console/accounts",
            get(super::org_lists::accounts_list).post(create),
        )
        .route("/t/{tenant}/console/accounts/new", get(new))
        .route("/t/{tenant}/console/accounts/{id}", get(show).post(update))
        .route(
            "/t/{tenant}/console/accounts/{id}/account-groups",
            post(set_account_group),
        )
        .route(
            "/t/{tenant}/console/accounts/{id}/delete",
            get(confirm_delete).post(delete),
        )
        .merge(super::account_groups::router())
}

#[derive(Debug, Default, Deserialize)]
pub struct AccountsQuery {
    cursor: Option<String>,
    #[serde(default)]
    notice: String,
}

pub(super) fn notice_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "created" => "The account was created.",
        "saved" => "The account was saved.",
        "deleted" => "The account was deleted.",
        "grouped" => "The account was added to the account group.",
        "ungrouped" => "The account was taken out of the account group.",
        _ => return None,
    })
}

/// How the pages name a kind.
pub fn kind_label(k: AccountKind) -> &'static str {
    match k {
        AccountKind::Provider => "Provider",
        AccountKind::Customer => "Customer",
        AccountKind::Guest => "Guest",
    }
}

/// The kinds an account can be given (the guest account is built in).
const CHOOSABLE: [AccountKind; 2] = [AccountKind::Provider, AccountKind::Customer];

#[derive(Template)]
#[template(path = "console/account_new.html")]
struct NewPage {
    shell: Shell,
    name: String,
    kind: String,
    kinds: Vec<(&'static str, &'static str)>,
    errors: FieldErrors,
    /// Always false: a new account is never the built-in one (the fields' template asks).
    builtin: bool,
}

fn choosable() -> Vec<(&'static str, &'static str)> {
    CHOOSABLE
        .into_iter()
        .map(|k| (k.as_str(), kind_label(k)))
        .collect()
}

/// `GET /t/{tenant}/console/accounts/new`.
async fn new(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let back = format!("/t/{slug}/console/accounts/new");
    let console =
        match Console::holding(&s, &slug, &headers, &client, &back, admin::ACCOUNTS_WRITE).await {
            Ok(c) => c,
            Err(page) => return page,
        };
    render(
        StatusCode::OK,
        &NewPage {
            shell: console.shell("accounts"),
            name: String::new(),
            kind: "customer".into(),
            kinds: choosable(),
            errors: FieldErrors::default(),
            builtin: false,
        },
    )
}

/// The kind chosen in a form: provider or customer, else a field error.
fn chosen_kind(f: &Posted) -> Result<AccountKind, DomainError> {
    match AccountKind::parse(f.get("kind")) {
        Some(k) if k != AccountKind::Guest => Ok(k),
        _ => Err(DomainError::invalid("kind", "choose provider or customer")),
    }
}

/// `POST /t/{tenant}/console/accounts`.
async fn create(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let back = format!("/t/{slug}/console/accounts/new");
    let (console, f) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let done = match chosen_kind(&f) {
        Ok(kind) => {
            let req = CreateAccount {
                name: f.get("name").to_owned(),
                kind,
            };
            accounts::create(&s.store, &console.caller, req).await
        }
        Err(e) => match console.caller.require(admin::ACCOUNTS_WRITE) {
            Ok(()) => Err(e),
            Err(forbidden) => Err(forbidden),
        },
    };
    match done {
        Ok(a) => see_other(&format!(
            "/t/{slug}/console/accounts/{}?notice=created",
            a.id
        )),
        Err(e) => match FieldErrors::of(&e, &["name", "kind"]) {
            Some(errors) => render(
                status_of(&e),
                &NewPage {
                    shell: console.shell("accounts"),
                    name: f.get("name").to_owned(),
                    kind: f.get("kind").to_owned(),
                    kinds: choosable(),
                    errors,
                    builtin: false,
                },
            ),
            None => refusal(e),
        },
    }
}

/// A person with a current membership, as the account page lists them.
pub struct MemberLine {
    id: String,
    name: String,
    email: String,
}

/// An account group, as the account page lists it.
pub struct GroupItem {
    id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "console/account.html")]
struct AccountPage {
    shell: Shell,
    id: String,
    name: String,
    kind: String,
    kind_label: &'static str,
    builtin: bool,
    kinds: Vec<(&'static str, &'static str)>,
    notice: Option<&'static str>,
    can_write: bool,
    errors: FieldErrors,
    /// `None`: the caller may not list people.
    members: Option<Vec<MemberLine>>,
    members_first: Option<String>,
    members_next: Option<String>,
    groups: Vec<GroupItem>,
    other_groups: Vec<GroupItem>,
}

fn account_id(id: &str) -> Result<AccountId, DomainError> {
    AccountId::parse(id).ok_or(DomainError::NotFound("account"))
}

/// The account page; `fields` as typed when a save was refused.
async fn account_page(
    s: &AppState,
    console: &Console,
    account: Account,
    fields: Option<&Posted>,
    errors: FieldErrors,
    query: &AccountsQuery,
    status: StatusCode,
) -> Response {
    let caller = &console.caller;
    let here = format!(
        "/t/{}/console/accounts/{}",
        console.me.tenant.slug, account.id
    );
    let (members, members_next) = if caller.user_read_scope().is_ok() {
        let req = ListUsers {
            account_id: Some(account.id.clone()),
            limit: Some(25),
            cursor: query.cursor.clone(),
            ..Default::default()
        };
        match list_users(&s.store, caller, req).await {
            Ok(page) => (
                Some(
                    page.items
                        .iter()
                        .map(|u| MemberLine {
                            id: u.id.to_string(),
                            name: display_name(u),
                            email: u.email.clone(),
                        })
                        .collect(),
                ),
                page.next_cursor.map(|c| {
                    format!(
                        "{here}?cursor={}#members-title",
                        utf8_percent_encode(&c, NON_ALPHANUMERIC)
                    )
                }),
            ),
            Err(e) => return refusal(e),
        }
    } else {
        (None, None)
    };
    let all_groups = match accounts::list_groups(&s.store, caller).await {
        Ok(g) => g,
        Err(e) => return refusal(e),
    };
    let (groups, other_groups): (Vec<_>, Vec<_>) = all_groups
        .into_iter()
        .partition(|g| g.account_ids.contains(&account.id));
    let item = |g: crate::domain::AccountGroup| GroupItem {
        id: g.id.to_string(),
        name: g.name,
    };
    let (name, kind) = match fields {
        Some(f) => (f.get("name").to_owned(), f.get("kind").to_owned()),
        None => (account.name.clone(), account.kind.as_str().to_owned()),
    };
    render(
        status,
        &AccountPage {
            shell: console.shell("accounts"),
            id: account.id.to_string(),
            name,
            kind,
            kind_label: kind_label(account.kind),
            builtin: account.builtin,
            kinds: choosable(),
            notice: notice_text(&query.notice),
            can_write: caller.holds(admin::ACCOUNTS_WRITE),
            errors,
            members,
            members_first: query
                .cursor
                .is_some()
                .then(|| format!("{here}#members-title")),
            members_next,
            groups: groups.into_iter().map(item).collect(),
            other_groups: other_groups.into_iter().map(item).collect(),
        },
    )
}

/// `GET /t/{tenant}/console/accounts/{id}`.
async fn show(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<AccountsQuery>, QueryRejection>,
) -> Response {
    let id = match account_id(&id) {
        Ok(id) => id,
        Err(e) => return refusal(e),
    };
    let back = format!("/t/{slug}/console/accounts/{id}");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let account = match accounts::get(&s.store, &console.caller, &id).await {
        Ok(a) => a,
        Err(e) => return refusal(e),
    };
    let query = query.map(|Query(q)| q).unwrap_or_default();
    account_page(
        &s,
        &console,
        account,
        None,
        FieldErrors::default(),
        &query,
        StatusCode::OK,
    )
    .await
}

/// `POST /t/{tenant}/console/accounts/{id}`: saves the name and kind.
async fn update(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let id = match account_id(&id) {
        Ok(id) => id,
        Err(e) => return refusal(e),
    };
    let back = format!("/t/{slug}/console/accounts/{id}");
    let (console, f) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let account = match accounts::get(&s.store, &console.caller, &id).await {
        Ok(a) => a,
        Err(e) => return refusal(e),
    };
    let done = match (account.builtin, chosen_kind(&f)) {
        // The built-in guest account keeps its kind; only its name is in the form.
        (true, _) => Ok(None),
        (false, Ok(kind)) => Ok(Some(kind)),
        (false, Err(e)) => Err(e),
    };
    let done = match done {
        Ok(kind) => {
            let req = UpdateAccount {
                name: Some(f.get("name").to_owned()),
                kind,
            };
            accounts::update(&s.store, &console.caller, &id, req).await
        }
        Err(e) => console.caller.require(admin::ACCOUNTS_WRITE).and(Err(e)),
    };
    match done {
        Ok(_) => see_other(&format!("{back}?notice=saved")),
        Err(e) => match FieldErrors::of(&e, &["name", "kind"]) {
            Some(errors) => {
                let q = AccountsQuery::default();
                account_page(&s, &console, account, Some(&f), errors, &q, status_of(&e)).await
            }
            None => refusal(e),
        },
    }
}

/// `POST /t/{tenant}/console/accounts/{id}/account-groups` (`op` `add` or `remove`,
/// `account_group_id`): puts the account in an account group or takes it out.
async fn set_account_group(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let id = match account_id(&id) {
        Ok(id) => id,
        Err(e) => return refusal(e),
    };
    let back = format!("/t/{slug}/console/accounts/{id}");
    let (console, f) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let Some(group) = AccountGroupId::parse(f.get("account_group_id")) else {
        return refusal(DomainError::NotFound("account group"));
    };
    let member = match f.get("op") {
        "add" => true,
        "remove" => false,
        _ => {
            return refusal(DomainError::invalid("op", "an account is added or removed"));
        }
    };
    if let Err(e) = accounts::get(&s.store, &console.caller, &id).await {
        return refusal(e);
    }
    match accounts::set_group_account(&s.store, &console.caller, &group, &id, member).await {
        Ok(_) => see_other(&format!(
            "{back}?notice={}",
            if member { "grouped" } else { "ungrouped" }
        )),
        Err(e) => refusal(e),
    }
}

/// `GET /t/{tenant}/console/accounts/{id}/delete`: the confirmation.
async fn confirm_delete(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let id = match account_id(&id) {
        Ok(id) => id,
        Err(e) => return refusal(e),
    };
    let back = format!("/t/{slug}/console/accounts/{id}/delete");
    let console =
        match Console::holding(&s, &slug, &headers, &client, &back, admin::ACCOUNTS_WRITE).await {
            Ok(c) => c,
            Err(page) => return page,
        };
    match accounts::get(&s.store, &console.caller, &id).await {
        Ok(a) => delete_page(&console, a, None, StatusCode::OK),
        Err(e) => refusal(e),
    }
}

fn delete_page(console: &Console, a: Account, error: Option<String>, st: StatusCode) -> Response {
    let slug = &console.me.tenant.slug;
    let title = format!("Delete account {}?", a.name);
    let page = format!("/t/{slug}/console/accounts/{}", a.id);
    Confirm {
        section: "accounts",
        title: &title,
        consequence: "The account will be removed. An account that still has members cannot be \
                      deleted: end their memberships first. This cannot be undone.",
        action: &format!("{page}/delete"),
        button: "Delete account",
        back: (&page, &a.name),
    }
    .page(console, st, error)
}

/// `POST /t/{tenant}/console/accounts/{id}/delete`.
async fn delete(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let id = match account_id(&id) {
        Ok(id) => id,
        Err(e) => return refusal(e),
    };
    let back = format!("/t/{slug}/console/accounts/{id}/delete");
    let (console, _) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let account = match accounts::get(&s.store, &console.caller, &id).await {
        Ok(a) => a,
        Err(e) => return refusal(e),
    };
    match accounts::delete(&s.store, &console.caller, &id).await {
        Ok(()) => see_other(&format!("/t/{slug}/console/accounts?notice=deleted")),
        Err(DomainError::Conflict(why)) => {
            delete_page(&console, account, Some(why), StatusCode::CONFLICT)
        }
        Err(e) => refusal(e),
    }
}
