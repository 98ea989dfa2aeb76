//! A user's employment and management (`/t/{tenant}/console/users/{id}/memberships`): the
//! accounts the person belongs to, over dates, with one main account (seed 001: "Employment"),
//! and what the person manages, users, accounts or account groups (seed 001: "Management").
//! Memberships go through `admin::memberships` (the functions of `/users/{id}/memberships`: a
//! manager changes them only for their people, in accounts they manage), management relations
//! through `admin::management` (only a caller who may change every user hands out scope).
//! This file is the page; the employment forms are in `membership_edit.rs`, the management
//! ones in `managing.rs`.

use super::account_picker::{self, Picker};
use super::forms::FieldErrors;
use super::managing::{Managed, Manager, managed_items, managers};
use super::managing::{add_management, remove_management};
use super::membership_edit::{add, confirm_delete, delete, edit, make_main, save};
use super::users::display_name;
use super::{Console, Shell, refusal, render};
use crate::admin::memberships;
use crate::admin::roles;
use crate::admin::users::authorised_user;
use crate::domain::authz::UserScope;
use crate::domain::clock::format_date;
use crate::domain::throttle::Client;
use crate::domain::{AccountId, DomainError, Membership, User, UserId};
use crate::http::AppState;
use askama::Template;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant}/console/users/{id}/memberships",
            get(page).post(add),
        )
        .route(
            "/t/{tenant}/console/users/{id}/memberships/accounts",
            get(account_picker::accounts),
        )
        .route(
            "/t/{tenant}/console/users/{id}/memberships/{mid}",
            get(edit).post(save),
        )
        .route(
            "/t/{tenant}/console/users/{id}/memberships/{mid}/main",
            post(make_main),
        )
        .route(
            "/t/{tenant}/console/users/{id}/memberships/{mid}/delete",
            get(confirm_delete).post(delete),
        )
        .route(
            "/t/{tenant}/console/users/{id}/management",
            post(add_management),
        )
        .route(
            "/t/{tenant}/console/users/{id}/management/{mgid}/delete",
            post(remove_management),
        )
}

#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: String,
    /// The searches of the account pickers (without JavaScript).
    #[serde(default)]
    account_q: String,
    #[serde(default)]
    manage_q: String,
    #[serde(default)]
    group_q: String,
}

pub(super) fn notice_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "added" => "The employment was added.",
        "saved" => "The employment was saved.",
        "main" => "This is now the main account.",
        "deleted" => "The employment was deleted.",
        "managing" => "The management relation was added.",
        "unmanaged" => "The management relation was removed.",
        _ => return None,
    })
}

/// The page's address for user `id`.
pub(super) fn address(slug: &str, id: &UserId) -> String {
    format!("/t/{slug}/console/users/{id}/memberships")
}

/// One membership as the page shows it.
pub struct Row {
    pub(super) id: String,
    pub(super) account_id: String,
    pub(super) account: String,
    pub(super) start: String,
    pub(super) end: String,
    pub(super) main: bool,
    pub(super) current: bool,
    /// The roles the person holds in this account, by name (empty: none).
    pub(super) roles: String,
    /// Whether the caller may change it (a manager: only in an account they manage).
    pub(super) editable: bool,
}

impl Row {
    pub(super) fn of(m: Membership) -> Self {
        Row {
            roles: String::new(),
            editable: false,
            id: m.id.to_string(),
            account_id: m.account_id.to_string(),
            account: m.account_name,
            start: m.start_date.map(format_date).unwrap_or_default(),
            end: m.end_date.map(format_date).unwrap_or_default(),
            main: m.main,
            current: m.current,
        }
    }
}

/// What the add forms had typed, shown again with their errors.
#[derive(Default)]
pub struct Typed {
    pub(super) account_id: String,
    pub(super) start: String,
    pub(super) end: String,
    pub(super) main: bool,
    pub(super) target_email: String,
    /// What the account pickers searched.
    pub(super) account_q: String,
    pub(super) manage_q: String,
    pub(super) group_q: String,
}

#[derive(Template)]
#[template(path = "console/memberships.html")]
struct MembershipsPage {
    shell: Shell,
    id: String,
    name: String,
    email: String,
    notice: Option<&'static str>,
    rows: Vec<Row>,
    can_write: bool,
    /// The account picker of the employment form, and of the management form.
    pick_m: Picker,
    pick_g: Picker,
    pick_ag: Picker,
    managed: Vec<Managed>,
    managers: Vec<Manager>,
    can_manage: bool,
    typed: Typed,
    errors: FieldErrors,
    /// Which add form the errors belong to: `membership` or `management`.
    errors_of: &'static str,
}

/// Whether the caller may change `user` (their write scope reaches them, with power over them).
pub(super) async fn writable(
    s: &AppState,
    console: &Console,
    user: &UserId,
) -> Result<bool, DomainError> {
    match authorised_user(&s.store, &console.caller, user, true).await {
        Ok(_) => Ok(true),
        Err(DomainError::Forbidden(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether the caller may change who `user` manages: the page's check to hide the forms (the
/// service decides): unscoped `users.write` and power over the user.
pub(super) async fn may_manage(
    s: &AppState,
    console: &Console,
    user: &UserId,
) -> Result<bool, DomainError> {
    Ok(
        matches!(console.caller.user_write_scope(), Ok(UserScope::All))
            && writable(s, console, user).await?,
    )
}

/// Whether the caller's write scope reaches memberships in `account`: everywhere, or for a
/// manager the accounts they manage. Only to keep off the page what the service would refuse
/// (`admin::memberships` decides, with the same question).
pub(super) async fn reaches(
    s: &AppState,
    console: &Console,
    account: &AccountId,
) -> Result<bool, DomainError> {
    match console.caller.user_write_scope() {
        Ok(UserScope::All) => Ok(true),
        Ok(UserScope::ManagedBy(me)) => {
            s.store
                .manages_account(&console.me.tenant.id, &me, account)
                .await
        }
        Err(_) => Ok(false),
    }
}

/// A list the caller may not read is an empty one (the page then offers nothing to pick).
pub(super) fn or_empty<T>(r: Result<Vec<T>, DomainError>) -> Result<Vec<T>, DomainError> {
    match r {
        Err(DomainError::Forbidden(_)) => Ok(Vec::new()),
        other => other,
    }
}

/// The page of `target`, with what an add form had typed and its errors.
pub(super) async fn show(
    s: &AppState,
    console: &Console,
    target: User,
    notice: &str,
    typed: Typed,
    errors: (FieldErrors, &'static str),
    status: StatusCode,
) -> Response {
    let caller = &console.caller;
    let mut rows: Vec<Row> = match memberships::list(&s.store, caller, &target.id).await {
        Ok(m) => m.into_iter().map(Row::of).collect(),
        Err(e) => return refusal(e),
    };
    let held = match or_empty(roles::assignments(&s.store, caller, &target.id).await) {
        Ok(a) => a,
        Err(e) => return refusal(e),
    };
    for r in &mut rows {
        r.roles = held
            .iter()
            .filter(|a| {
                a.account_id
                    .as_ref()
                    .is_some_and(|id| id.as_str() == r.account_id)
            })
            .map(|a| a.role_name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
    }
    let can_write = match writable(s, console, &target.id).await {
        Ok(w) => w,
        Err(e) => return refusal(e),
    };
    if can_write {
        for r in &mut rows {
            let Some(id) = AccountId::parse(&r.account_id) else {
                continue;
            };
            r.editable = match reaches(s, console, &id).await {
                Ok(yes) => yes,
                Err(e) => return refusal(e),
            };
        }
    }
    let managed = match managed_items(s, console, &target.id).await {
        Ok(m) => m,
        Err(e) => return refusal(e),
    };
    let managers = match managers(s, console, &target.id).await {
        Ok(m) => m,
        Err(e) => return refusal(e),
    };
    let can_manage = can_write && matches!(caller.user_write_scope(), Ok(UserScope::All));
    let pick_m = if can_write {
        account_picker::search(s, console, "m", &typed.account_q, &typed.account_id).await
    } else {
        Ok(Picker::none("m"))
    };
    let pick_g = if can_manage {
        account_picker::search(s, console, "g", &typed.manage_q, "").await
    } else {
        Ok(Picker::none("g"))
    };
    let pick_ag = if can_manage {
        account_picker::search_groups(s, console, &typed.group_q).await
    } else {
        Ok(Picker::none("ag"))
    };
    let (pick_m, pick_g, pick_ag) = match (pick_m, pick_g, pick_ag) {
        (Ok(m), Ok(g), Ok(ag)) => (m, g, ag),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return refusal(e),
    };
    render(
        status,
        &MembershipsPage {
            shell: console.shell("users"),
            id: target.id.to_string(),
            name: display_name(&target),
            email: target.email.clone(),
            notice: notice_text(notice),
            rows,
            can_write,
            pick_m,
            pick_g,
            pick_ag,
            managed,
            managers,
            can_manage,
            typed,
            errors: errors.0,
            errors_of: errors.1,
        },
    )
}

pub(super) fn user_id(id: &str) -> Result<UserId, DomainError> {
    UserId::parse(id).ok_or(DomainError::NotFound("user"))
}

/// `GET /t/{tenant}/console/users/{id}/memberships`.
async fn page(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<NoticeQuery>, QueryRejection>,
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
    let target = match authorised_user(&s.store, &console.caller, &id, false).await {
        Ok(u) => u,
        Err(e) => return refusal(e),
    };
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let none = (FieldErrors::default(), "");
    let typed = Typed {
        account_q: q.account_q,
        manage_q: q.manage_q,
        group_q: q.group_q,
        ..Default::default()
    };
    show(&s, &console, target, &q.notice, typed, none, StatusCode::OK).await
}
