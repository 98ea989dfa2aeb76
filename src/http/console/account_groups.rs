//! The console's account groups (`/t/{tenant}/console/account-groups`): named sets of
//! accounts (a manager can manage a whole group of accounts). A list, a form for a new one, a
//! group's page (name, description, its accounts with add and remove) and a confirmed delete,
//! through `admin::accounts` (the functions of `/account-groups`).

use super::accounts::kind_label;
use super::confirm::Confirm;
use super::forms::{FieldErrors, Posted, signed_post, status_of};
use super::{Console, Shell, refusal, render};
use crate::admin::accounts::{self, CreateAccountGroup, ListAccounts, UpdateAccountGroup};
use crate::domain::permissions::admin;
use crate::domain::throttle::Client;
use crate::domain::{AccountGroup, AccountGroupId, AccountId, DomainError};
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
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant}/console/account-groups",
            get(super::org_lists::account_groups_list).post(create),
        )
        .route("/t/{tenant}/console/account-groups/new", get(new))
        .route(
            "/t/{tenant}/console/account-groups/{id}",
            get(show).post(update),
        )
        .route(
            "/t/{tenant}/console/account-groups/{id}/accounts",
            post(set_account),
        )
        .route(
            "/t/{tenant}/console/account-groups/{id}/delete",
            get(confirm_delete).post(delete),
        )
}

#[derive(Debug, Default, Deserialize)]
pub struct GroupsQuery {
    #[serde(default)]
    notice: String,
}

pub(super) fn notice_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "created" => "The account group was created.",
        "saved" => "The account group was saved.",
        "deleted" => "The account group was deleted.",
        "added" => "The account was added to the group.",
        "removed" => "The account was taken out of the group.",
        _ => return None,
    })
}

#[derive(Template)]
#[template(path = "console/account_group_new.html")]
struct NewPage {
    shell: Shell,
    name: String,
    description: String,
    errors: FieldErrors,
}

/// `GET /t/{tenant}/console/account-groups/new`.
async fn new(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let back = format!("/t/{slug}/console/account-groups/new");
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
            description: String::new(),
            errors: FieldErrors::default(),
        },
    )
}

/// `POST /t/{tenant}/console/account-groups`.
async fn create(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let back = format!("/t/{slug}/console/account-groups/new");
    let (console, f) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let req = CreateAccountGroup {
        name: f.get("name").to_owned(),
        description: f.opt("description"),
        account_ids: Vec::new(),
    };
    match accounts::create_group(&s.store, &console.caller, req).await {
        Ok(g) => see_other(&format!(
            "/t/{slug}/console/account-groups/{}?notice=created",
            g.id
        )),
        Err(e) => match FieldErrors::of(&e, &["name", "description"]) {
            Some(errors) => render(
                status_of(&e),
                &NewPage {
                    shell: console.shell("accounts"),
                    name: f.get("name").to_owned(),
                    description: f.get("description").to_owned(),
                    errors,
                },
            ),
            None => refusal(e),
        },
    }
}

/// An account of the group, or one that could be added.
pub struct AccountItem {
    id: String,
    name: String,
    kind: &'static str,
    kind_label: &'static str,
}

#[derive(Template)]
#[template(path = "console/account_group.html")]
struct GroupPage {
    shell: Shell,
    id: String,
    name: String,
    description: String,
    notice: Option<&'static str>,
    can_write: bool,
    errors: FieldErrors,
    accounts: Vec<AccountItem>,
    others: Vec<AccountItem>,
}

fn group_id(id: &str) -> Result<AccountGroupId, DomainError> {
    AccountGroupId::parse(id).ok_or(DomainError::NotFound("account group"))
}

async fn group_page(
    s: &AppState,
    console: &Console,
    group: AccountGroup,
    fields: Option<&Posted>,
    errors: FieldErrors,
    notice: &str,
    status: StatusCode,
) -> Response {
    let all = match accounts::list(&s.store, &console.caller, ListAccounts::default()).await {
        Ok(a) => a,
        Err(e) => return refusal(e),
    };
    let (inside, others): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|a| group.account_ids.contains(&a.id));
    let item = |a: crate::domain::Account| AccountItem {
        id: a.id.to_string(),
        name: a.name,
        kind: a.kind.as_str(),
        kind_label: kind_label(a.kind),
    };
    let (name, description) = match fields {
        Some(f) => (f.get("name").to_owned(), f.get("description").to_owned()),
        None => (
            group.name.clone(),
            group.description.clone().unwrap_or_default(),
        ),
    };
    render(
        status,
        &GroupPage {
            shell: console.shell("accounts"),
            id: group.id.to_string(),
            name,
            description,
            notice: notice_text(notice),
            can_write: console.caller.holds(admin::ACCOUNTS_WRITE),
            errors,
            accounts: inside.into_iter().map(item).collect(),
            others: others.into_iter().map(item).collect(),
        },
    )
}

/// `GET /t/{tenant}/console/account-groups/{id}`.
async fn show(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<GroupsQuery>, QueryRejection>,
) -> Response {
    let id = match group_id(&id) {
        Ok(id) => id,
        Err(e) => return refusal(e),
    };
    let back = format!("/t/{slug}/console/account-groups/{id}");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let group = match accounts::get_group(&s.store, &console.caller, &id).await {
        Ok(g) => g,
        Err(e) => return refusal(e),
    };
    let notice = query.map(|Query(q)| q.notice).unwrap_or_default();
    group_page(
        &s,
        &console,
        group,
        None,
        FieldErrors::default(),
        &notice,
        StatusCode::OK,
    )
    .await
}

/// `POST /t/{tenant}/console/account-groups/{id}`: saves the name and description.
async fn update(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let id = match group_id(&id) {
        Ok(id) => id,
        Err(e) => return refusal(e),
    };
    let back = format!("/t/{slug}/console/account-groups/{id}");
    let (console, f) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let req = UpdateAccountGroup {
        name: Some(f.get("name").to_owned()),
        description: Some(f.opt("description")),
        account_ids: None,
    };
    match accounts::update_group(&s.store, &console.caller, &id, req).await {
        Ok(_) => see_other(&format!("{back}?notice=saved")),
        Err(e) => match FieldErrors::of(&e, &["name", "description"]) {
            Some(errors) => match accounts::get_group(&s.store, &console.caller, &id).await {
                Ok(g) => group_page(&s, &console, g, Some(&f), errors, "", status_of(&e)).await,
                Err(e) => refusal(e),
            },
            None => refusal(e),
        },
    }
}

/// `POST /t/{tenant}/console/account-groups/{id}/accounts` (`op` `add` or `remove`,
/// `account_id`).
async fn set_account(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let id = match group_id(&id) {
        Ok(id) => id,
        Err(e) => return refusal(e),
    };
    let back = format!("/t/{slug}/console/account-groups/{id}");
    let (console, f) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let Some(account) = AccountId::parse(f.get("account_id")) else {
        return refusal(DomainError::NotFound("account"));
    };
    let member = match f.get("op") {
        "add" => true,
        "remove" => false,
        _ => return refusal(DomainError::invalid("op", "an account is added or removed")),
    };
    if let Err(e) = accounts::get(&s.store, &console.caller, &account).await {
        return refusal(e);
    }
    match accounts::set_group_account(&s.store, &console.caller, &id, &account, member).await {
        Ok(_) => see_other(&format!(
            "{back}?notice={}",
            if member { "added" } else { "removed" }
        )),
        Err(e) => refusal(e),
    }
}

/// `GET /t/{tenant}/console/account-groups/{id}/delete`: the confirmation.
async fn confirm_delete(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let id = match group_id(&id) {
        Ok(id) => id,
        Err(e) => return refusal(e),
    };
    let back = format!("/t/{slug}/console/account-groups/{id}/delete");
    let console =
        match Console::holding(&s, &slug, &headers, &client, &back, admin::ACCOUNTS_WRITE).await {
            Ok(c) => c,
            Err(page) => return page,
        };
    match accounts::get_group(&s.store, &console.caller, &id).await {
        Ok(g) => delete_page(&console, g, None, StatusCode::OK),
        Err(e) => refusal(e),
    }
}

fn delete_page(
    console: &Console,
    g: AccountGroup,
    error: Option<String>,
    st: StatusCode,
) -> Response {
    let slug = &console.me.tenant.slug;
    let title = format!("Delete account group {}?", g.name);
    let page = format!("/t/{slug}/console/account-groups/{}", g.id);
    Confirm {
        section: "accounts",
        title: &title,
        consequence: "The account group will be removed; its accounts stay. Managers of this \
                      group stop managing its accounts' people. This cannot be undone.",
        action: &format!("{page}/delete"),
        button: "Delete account group",
        back: (&page, &g.name),
    }
    .page(console, st, error)
}

/// `POST /t/{tenant}/console/account-groups/{id}/delete`.
async fn delete(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let id = match group_id(&id) {
        Ok(id) => id,
        Err(e) => return refusal(e),
    };
    let back = format!("/t/{slug}/console/account-groups/{id}/delete");
    let (console, _) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let group = match accounts::get_group(&s.store, &console.caller, &id).await {
        Ok(g) => g,
        Err(e) => return refusal(e),
    };
    match accounts::delete_group(&s.store, &console.caller, &id).await {
        Ok(()) => see_other(&format!("/t/{slug}/console/account-groups?notice=deleted")),
        Err(DomainError::Conflict(why)) => {
            delete_page(&console, group, Some(why), StatusCode::CONFLICT)
        }
        Err(e) => refusal(e),
    }
}
