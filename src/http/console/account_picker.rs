//! The searchable account picker of the memberships page (`memberships.rs`): a search field
//! that, with htmx, asks `GET /t/{tenant}/console/users/{id}/memberships/accounts` for at most
//! [`LIMIT`] matching accounts and shows them as radio buttons of the add form; without
//! JavaScript the search re-renders the page with the same buttons. The accounts offered are
//! the ones the caller may add a membership in (`admin::memberships::choosable_accounts`: a
//! manager only those they manage, in one query); the form's POST is checked again by the
//! service.

use super::memberships::{address, may_manage, or_empty, user_id, writable};
use super::{Console, refusal, render};
use crate::admin::accounts;
use crate::admin::memberships::choosable_accounts;
use crate::admin::users::authorised_user;
use crate::domain::throttle::Client;
use crate::domain::{AccountId, DomainError, NamedPage};
use crate::http::AppState;
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

/// The most accounts one search shows.
pub(super) const LIMIT: usize = 20;

/// One account offered.
pub struct Pick {
    id: String,
    name: String,
    checked: bool,
}

/// The results of a search, as radio buttons of the form `{prefix}-form`.
#[derive(Template)]
#[template(path = "console/account_picker.html")]
pub struct Picker {
    /// `m` (the employment form), `g` (an account to manage) or `ag` (an account group to
    /// manage).
    prefix: &'static str,
    /// The form field the choice fills (`account_id` or `account_group_id`).
    field: &'static str,
    /// What is chosen, plural, capitalised (`Accounts`, `Account groups`).
    things: &'static str,
    q: String,
    matches: Vec<Pick>,
    /// More accounts match than are shown.
    more: bool,
    /// Why the search was refused (too long, control characters).
    error: Option<String>,
}

impl Picker {
    /// A picker offering nothing (the form is not shown).
    pub(super) fn none(prefix: &'static str) -> Self {
        let groups = prefix == "ag";
        Picker {
            prefix,
            field: if groups {
                "account_group_id"
            } else {
                "account_id"
            },
            things: if groups { "Account groups" } else { "Accounts" },
            q: String::new(),
            matches: Vec::new(),
            more: false,
            error: None,
        }
    }

    pub(super) fn q(&self) -> &str {
        &self.q
    }
}

/// The accounts matching `q` the caller may choose, `checked` (an account id) selected.
pub(super) async fn search(
    s: &AppState,
    console: &Console,
    prefix: &'static str,
    q: &str,
    checked: &str,
) -> Result<Picker, DomainError> {
    let mut picker = Picker {
        q: q.to_owned(),
        ..Picker::none(prefix)
    };
    let page = match NamedPage::new(q, 1, LIMIT as u32 + 1) {
        Ok(p) => p,
        Err(DomainError::Invalid { message, .. }) => {
            picker.error = Some(format!("The search was refused: {message}."));
            return Ok(picker);
        }
        Err(e) => return Err(e),
    };
    let mut found = or_empty(choosable_accounts(&s.store, &console.caller, &page).await)?;
    if !checked.is_empty() && !found.iter().any(|a| a.id.as_str() == checked) {
        // The account a refused form had chosen stays chosen (if the caller may choose it).
        if let Some(a) = chosen(s, console, checked).await? {
            found.insert(0, a);
        }
    }
    picker.more = found.len() > LIMIT;
    found.truncate(LIMIT);
    picker.matches = found
        .into_iter()
        .map(|a| Pick {
            checked: a.id.as_str() == checked,
            id: a.id.to_string(),
            name: format!("{} ({})", a.name, super::accounts::kind_label(a.kind)),
        })
        .collect();
    Ok(picker)
}

/// Account `id`, if it is one the caller may choose.
async fn chosen(
    s: &AppState,
    console: &Console,
    id: &str,
) -> Result<Option<crate::domain::Account>, DomainError> {
    let Some(id) = AccountId::parse(id) else {
        return Ok(None);
    };
    let name = match accounts::get(&s.store, &console.caller, &id).await {
        Ok(a) => a.name,
        Err(DomainError::Forbidden(_) | DomainError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Ok(page) = NamedPage::new(&name, 1, LIMIT as u32) else {
        return Ok(None);
    };
    let same = or_empty(choosable_accounts(&s.store, &console.caller, &page).await)?;
    Ok(same.into_iter().find(|a| a.id == id))
}

/// The account groups matching `q` (for the management form: only a caller who may change
/// every user sees it, and every group is theirs to choose).
pub(super) async fn search_groups(
    s: &AppState,
    console: &Console,
    q: &str,
) -> Result<Picker, DomainError> {
    let mut picker = Picker {
        q: q.to_owned(),
        ..Picker::none("ag")
    };
    let page = match NamedPage::new(q, 1, LIMIT as u32 + 1) {
        Ok(p) => p,
        Err(DomainError::Invalid { message, .. }) => {
            picker.error = Some(format!("The search was refused: {message}."));
            return Ok(picker);
        }
        Err(e) => return Err(e),
    };
    let mut found = match accounts::page_groups(&s.store, &console.caller, &page).await {
        Ok(l) => l.items,
        Err(DomainError::Forbidden(_)) => Vec::new(),
        Err(e) => return Err(e),
    };
    picker.more = found.len() > LIMIT;
    found.truncate(LIMIT);
    picker.matches = found
        .into_iter()
        .map(|g| Pick {
            checked: false,
            id: g.id.to_string(),
            name: g.name,
        })
        .collect();
    Ok(picker)
}

#[derive(Debug, Default, Deserialize)]
pub struct PickQuery {
    account_q: Option<String>,
    manage_q: Option<String>,
    group_q: Option<String>,
}

/// `GET /t/{tenant}/console/users/{id}/memberships/accounts?account_q=` (the employment form),
/// `?manage_q=` (an account to manage) or `?group_q=` (an account group to manage): the
/// matching accounts or account groups, a fragment for htmx.
pub(super) async fn accounts(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<PickQuery>, QueryRejection>,
) -> Response {
    let id = match user_id(&id) {
        Ok(id) => id,
        Err(e) => return refusal(e),
    };
    let back = address(&slug, &id);
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(p) => return p,
    };
    let Ok(Query(q)) = query else {
        return refusal(DomainError::invalid("account_q", "the search is not valid"));
    };
    if let Err(e) = authorised_user(&s.store, &console.caller, &id, false).await {
        return refusal(e);
    }
    let (prefix, text, allowed) = match (q.manage_q, q.group_q) {
        (Some(text), _) => ("g", text, may_manage(&s, &console, &id).await),
        (None, Some(text)) => ("ag", text, may_manage(&s, &console, &id).await),
        (None, None) => (
            "m",
            q.account_q.unwrap_or_default(),
            writable(&s, &console, &id).await,
        ),
    };
    match allowed {
        Ok(true) => {}
        Ok(false) => {
            return refusal(DomainError::forbidden(
                "you may not change this person's employment or management",
            ));
        }
        Err(e) => return refusal(e),
    }
    let found = if prefix == "ag" {
        search_groups(&s, &console, &text).await
    } else {
        search(&s, &console, prefix, &text, "").await
    };
    match found {
        Ok(p) => render(StatusCode::OK, &p),
        Err(e) => refusal(e),
    }
}
