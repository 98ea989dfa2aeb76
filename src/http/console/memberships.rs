//! A user's employment and management (`/t/{tenant}/console/users/{id}/memberships`): the
//! accounts the person belongs to, over dates, with one main account (seed 001: "Employment"),
//! and what the person manages, users, accounts or account groups (seed 001: "Management").
//! Memberships go through `admin::memberships` (the functions of `/users/{id}/memberships`: a
//! manager changes them only for their people, in accounts they manage), management relations
//! through `admin::management` (only a caller who may change every user hands out scope).

use super::forms::{FieldErrors, Posted, signed_post, status_of};
use super::users::display_name;
use super::{Console, Shell, refusal, render};
use crate::admin::accounts::{self, ListAccounts};
use crate::admin::management::{self, AddManagement, TargetKind};
use crate::admin::memberships::{self, AddMembership, UpdateMembership};
use crate::admin::roles;
use crate::admin::users::{ListUsers, authorised_user, get as get_user, list as list_users};
use crate::domain::authz::UserScope;
use crate::domain::clock::{format_date, parse_date};
use crate::domain::throttle::Client;
use crate::domain::{
    Account, AccountGroup, AccountId, DomainError, ManagementId, ManagementTarget, Membership,
    MembershipId, User, UserId,
};
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
use time::Date;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant}/console/users/{id}/memberships",
            get(page).post(add),
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
}

fn notice_text(key: &str) -> Option<&'static str> {
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
fn address(slug: &str, id: &UserId) -> String {
    format!("/t/{slug}/console/users/{id}/memberships")
}

/// One membership as the page shows it.
pub struct Row {
    id: String,
    account_id: String,
    account: String,
    start: String,
    end: String,
    main: bool,
    current: bool,
    /// The roles the person holds in this account, by name (empty: none).
    roles: String,
    /// Whether the caller may change it (a manager: only in an account they manage).
    editable: bool,
}

impl Row {
    fn of(m: Membership) -> Self {
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

/// One management relation as the page shows it.
pub struct Managed {
    id: String,
    kind: &'static str,
    name: String,
    href: Option<String>,
}

/// Someone who manages the person, and through what.
pub struct Manager {
    name: String,
    href: Option<String>,
    through: String,
}

/// Who manages `user` today, as the caller may see them.
async fn managers(
    s: &AppState,
    console: &Console,
    user: &UserId,
    all_accounts: &[Account],
    all_groups: &[AccountGroup],
) -> Result<Vec<Manager>, DomainError> {
    let slug = &console.me.tenant.slug;
    let mut out = Vec::new();
    for m in management::managers_of(&s.store, &console.caller, user).await? {
        let you = m.manager_id == console.me.user.id;
        let (name, href) = match get_user(&s.store, &console.caller, &m.manager_id).await {
            _ if you => (format!("You ({})", console.me.user.email), None),
            Ok(u) => (
                format!("{} ({})", display_name(&u), u.email),
                Some(format!("/t/{slug}/console/users/{}/memberships", u.id)),
            ),
            Err(DomainError::Forbidden(_) | DomainError::NotFound(_)) => {
                ("Someone outside your scope".to_owned(), None)
            }
            Err(e) => return Err(e),
        };
        let through = match &m.target {
            ManagementTarget::User(_) => "Directly".to_owned(),
            ManagementTarget::Account(a) => format!(
                "Through the account {}",
                all_accounts
                    .iter()
                    .find(|x| &x.id == a)
                    .map_or("(hidden)", |x| x.name.as_str())
            ),
            ManagementTarget::AccountGroup(g) => format!(
                "Through the account group {}",
                all_groups
                    .iter()
                    .find(|x| &x.id == g)
                    .map_or("(hidden)", |x| x.name.as_str())
            ),
        };
        out.push(Manager {
            name,
            href,
            through,
        });
    }
    Ok(out)
}

/// An option of a select.
pub struct Choice {
    id: String,
    name: String,
}

/// What the add forms had typed, shown again with their errors.
#[derive(Default)]
pub struct Typed {
    account_id: String,
    start: String,
    end: String,
    main: bool,
    target_email: String,
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
    accounts: Vec<Choice>,
    account_groups: Vec<Choice>,
    managed: Vec<Managed>,
    managers: Vec<Manager>,
    can_manage: bool,
    typed: Typed,
    errors: FieldErrors,
    /// Which add form the errors belong to: `membership` or `management`.
    errors_of: &'static str,
}

/// Whether the caller may change `user` (their write scope reaches them, with power over them).
async fn writable(s: &AppState, console: &Console, user: &UserId) -> Result<bool, DomainError> {
    match authorised_user(&s.store, &console.caller, user, true).await {
        Ok(_) => Ok(true),
        Err(DomainError::Forbidden(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether the caller may change who `user` manages: the page's check to hide the forms (the
/// service decides): unscoped `users.write` and power over the user.
async fn may_manage(s: &AppState, console: &Console, user: &UserId) -> Result<bool, DomainError> {
    Ok(
        matches!(console.caller.user_write_scope(), Ok(UserScope::All))
            && writable(s, console, user).await?,
    )
}

/// Whether the caller's write scope reaches memberships in `account`: everywhere, or for a
/// manager the accounts they manage. Only to keep off the page what the service would refuse
/// (`admin::memberships` decides, with the same question).
async fn reaches(
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
fn or_empty<T>(r: Result<Vec<T>, DomainError>) -> Result<Vec<T>, DomainError> {
    match r {
        Err(DomainError::Forbidden(_)) => Ok(Vec::new()),
        other => other,
    }
}

async fn managed_items(
    s: &AppState,
    console: &Console,
    user: &UserId,
    all_accounts: &[Account],
    all_groups: &[AccountGroup],
) -> Result<Vec<Managed>, DomainError> {
    let slug = &console.me.tenant.slug;
    let mut out = Vec::new();
    for m in management::list(&s.store, &console.caller, user).await? {
        let (kind, name, href) = match &m.target {
            ManagementTarget::User(u) => match get_user(&s.store, &console.caller, u).await {
                Ok(u) => (
                    "Person",
                    format!("{} ({})", display_name(&u), u.email),
                    Some(format!("/t/{slug}/console/users/{}", u.id)),
                ),
                Err(DomainError::Forbidden(_) | DomainError::NotFound(_)) => {
                    ("Person", "Someone outside your scope".into(), None)
                }
                Err(e) => return Err(e),
            },
            ManagementTarget::Account(a) => (
                "Account",
                all_accounts
                    .iter()
                    .find(|x| &x.id == a)
                    .map_or_else(|| a.to_string(), |x| x.name.clone()),
                Some(format!("/t/{slug}/console/accounts/{a}")),
            ),
            ManagementTarget::AccountGroup(g) => (
                "Account group",
                all_groups
                    .iter()
                    .find(|x| &x.id == g)
                    .map_or_else(|| g.to_string(), |x| x.name.clone()),
                Some(format!("/t/{slug}/console/account-groups/{g}")),
            ),
        };
        out.push(Managed {
            id: m.id.to_string(),
            kind,
            name,
            href,
        });
    }
    Ok(out)
}

/// The page of `target`, with what an add form had typed and its errors.
async fn show(
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
    let all_accounts =
        match or_empty(accounts::list(&s.store, caller, ListAccounts::default()).await) {
            Ok(a) => a,
            Err(e) => return refusal(e),
        };
    let mut choosable = Vec::new();
    if can_write {
        for a in &all_accounts {
            match reaches(s, console, &a.id).await {
                Ok(true) => choosable.push(a),
                Ok(false) => {}
                Err(e) => return refusal(e),
            }
        }
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
    let all_groups = match or_empty(accounts::list_groups(&s.store, caller).await) {
        Ok(g) => g,
        Err(e) => return refusal(e),
    };
    let managed = match managed_items(s, console, &target.id, &all_accounts, &all_groups).await {
        Ok(m) => m,
        Err(e) => return refusal(e),
    };
    let managers = match managers(s, console, &target.id, &all_accounts, &all_groups).await {
        Ok(m) => m,
        Err(e) => return refusal(e),
    };
    let can_manage = can_write && matches!(caller.user_write_scope(), Ok(UserScope::All));
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
            accounts: choosable
                .into_iter()
                .map(|a| Choice {
                    id: a.id.to_string(),
                    name: format!("{} ({})", a.name, super::accounts::kind_label(a.kind)),
                })
                .collect(),
            account_groups: all_groups
                .iter()
                .map(|g| Choice {
                    id: g.id.to_string(),
                    name: g.name.clone(),
                })
                .collect(),
            managed,
            managers,
            can_manage,
            typed,
            errors: errors.0,
            errors_of: errors.1,
        },
    )
}

fn user_id(id: &str) -> Result<UserId, DomainError> {
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
    let notice = query.map(|Query(q)| q.notice).unwrap_or_default();
    let none = (FieldErrors::default(), "");
    show(
        &s,
        &console,
        target,
        &notice,
        Typed::default(),
        none,
        StatusCode::OK,
    )
    .await
}

/// A date field: empty is open (`None`), else `YYYY-MM-DD`, else an error on the field.
fn date_field(f: &Posted, name: &str) -> Result<Option<Date>, DomainError> {
    match f.opt(name) {
        None => Ok(None),
        Some(text) => parse_date(&text).map(Some).ok_or_else(|| {
            DomainError::invalid(name, "enter a date as YYYY-MM-DD (for example 2025-01-31)")
        }),
    }
}

const MEMBERSHIP_FIELDS: &[&str] = &["account_id", "start_date", "end_date", "main"];

/// `POST /t/{tenant}/console/users/{id}/memberships` (`account_id`, `start_date`, `end_date`,
/// `main`): adds an employment.
async fn add(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let id = match user_id(&id) {
        Ok(id) => id,
        Err(e) => return refusal(e),
    };
    let back = address(&slug, &id);
    let (console, f) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(p) => return p,
    };
    let done = async {
        let account_id = crate::domain::AccountId::parse(f.get("account_id"))
            .ok_or_else(|| DomainError::invalid("account_id", "choose an account"))?;
        let req = AddMembership {
            account_id,
            start_date: date_field(&f, "start_date")?,
            end_date: date_field(&f, "end_date")?,
            main: f.get("main") == "on",
        };
        memberships::add(&s.store, &console.caller, &id, req).await
    }
    .await;
    let e = match done {
        Ok(_) => return see_other(&format!("{back}?notice=added")),
        Err(e) => e,
    };
    // Bad input is for the form only when the caller may change this user at all.
    let Some(errors) = FieldErrors::of(&e, MEMBERSHIP_FIELDS) else {
        return refusal(e);
    };
    let target = match authorised_user(&s.store, &console.caller, &id, true).await {
        Ok(u) => u,
        Err(e) => return refusal(e),
    };
    let typed = Typed {
        account_id: f.get("account_id").to_owned(),
        start: f.get("start_date").to_owned(),
        end: f.get("end_date").to_owned(),
        main: f.get("main") == "on",
        ..Default::default()
    };
    show(
        &s,
        &console,
        target,
        "",
        typed,
        (errors, "membership"),
        status_of(&e),
    )
    .await
}

/// A membership id from the path.
fn membership_id(id: &str) -> Result<MembershipId, DomainError> {
    MembershipId::parse(id).ok_or(DomainError::NotFound("membership"))
}

/// The membership `mid` of `user`, as the caller may read it.
async fn membership(
    s: &AppState,
    console: &Console,
    user: &UserId,
    mid: &MembershipId,
) -> Result<Membership, DomainError> {
    memberships::list(&s.store, &console.caller, user)
        .await?
        .into_iter()
        .find(|m| &m.id == mid)
        .ok_or(DomainError::NotFound("membership"))
}

#[derive(Template)]
#[template(path = "console/membership_edit.html")]
struct EditPage {
    shell: Shell,
    user_id: String,
    user_label: String,
    r: Row,
    start: String,
    end: String,
    errors: FieldErrors,
}

/// Loads what the edit, main and delete routes share: the console, the user and the membership.
async fn context(
    s: &AppState,
    slug: &str,
    headers: &HeaderMap,
    client: &Client,
    ids: (&str, &str),
    suffix: &str,
) -> Result<(Console, User, Membership, String), Response> {
    let id = user_id(ids.0).map_err(refusal)?;
    let mid = membership_id(ids.1).map_err(refusal)?;
    let back = format!("{}/{mid}{suffix}", address(slug, &id));
    let console = Console::of(s, slug, headers, client, &back).await?;
    let user = authorised_user(&s.store, &console.caller, &id, false)
        .await
        .map_err(refusal)?;
    let m = membership(s, &console, &id, &mid).await.map_err(refusal)?;
    Ok((console, user, m, back))
}

/// `GET /t/{tenant}/console/users/{id}/memberships/{mid}`: the dates form.
async fn edit(
    State(s): State<AppState>,
    Path((slug, id, mid)): Path<(String, String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let (console, user, m, _) = match context(&s, &slug, &headers, &client, (&id, &mid), "").await {
        Ok(c) => c,
        Err(p) => return p,
    };
    match writable(&s, &console, &user.id).await {
        Ok(true) => {}
        Ok(false) => {
            return refusal(DomainError::forbidden(
                "you cannot change this person's employment",
            ));
        }
        Err(e) => return refusal(e),
    }
    let r = Row::of(m);
    render(
        StatusCode::OK,
        &EditPage {
            shell: console.shell("users"),
            user_id: user.id.to_string(),
            user_label: display_name(&user),
            start: r.start.clone(),
            end: r.end.clone(),
            r,
            errors: FieldErrors::default(),
        },
    )
}

/// `POST /t/{tenant}/console/users/{id}/memberships/{mid}` (`start_date`, `end_date`; empty
/// opens that end).
async fn save(
    State(s): State<AppState>,
    Path((slug, id, mid)): Path<(String, String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let Ok(uid) = user_id(&id) else {
        return refusal(DomainError::NotFound("user"));
    };
    let back = address(&slug, &uid);
    let (console, f) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(p) => return p,
    };
    let Ok(mid) = membership_id(&mid) else {
        return refusal(DomainError::NotFound("membership"));
    };
    let done = async {
        let req = UpdateMembership {
            start_date: Some(date_field(&f, "start_date")?),
            end_date: Some(date_field(&f, "end_date")?),
            main: None,
        };
        memberships::update(&s.store, &console.caller, &uid, &mid, req).await
    }
    .await;
    let e = match done {
        Ok(_) => return see_other(&format!("{back}?notice=saved")),
        Err(e) => e,
    };
    let Some(errors) = FieldErrors::of(&e, MEMBERSHIP_FIELDS) else {
        return refusal(e);
    };
    let user = match authorised_user(&s.store, &console.caller, &uid, true).await {
        Ok(u) => u,
        Err(e) => return refusal(e),
    };
    let m = match membership(&s, &console, &uid, &mid).await {
        Ok(m) => m,
        Err(e) => return refusal(e),
    };
    render(
        status_of(&e),
        &EditPage {
            shell: console.shell("users"),
            user_id: user.id.to_string(),
            user_label: display_name(&user),
            r: Row::of(m),
            start: f.get("start_date").to_owned(),
            end: f.get("end_date").to_owned(),
            errors,
        },
    )
}

/// `POST /t/{tenant}/console/users/{id}/memberships/{mid}/main`: makes it the main account.
async fn make_main(
    State(s): State<AppState>,
    Path((slug, id, mid)): Path<(String, String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let Ok(uid) = user_id(&id) else {
        return refusal(DomainError::NotFound("user"));
    };
    let back = address(&slug, &uid);
    let (console, _) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(p) => return p,
    };
    let Ok(mid) = membership_id(&mid) else {
        return refusal(DomainError::NotFound("membership"));
    };
    let req = UpdateMembership {
        main: Some(true),
        ..Default::default()
    };
    match memberships::update(&s.store, &console.caller, &uid, &mid, req).await {
        Ok(_) => see_other(&format!("{back}?notice=main")),
        Err(e) => refusal(e),
    }
}

#[derive(Template)]
#[template(path = "console/membership_delete.html")]
struct DeletePage {
    shell: Shell,
    user_id: String,
    user_label: String,
    r: Row,
    error: Option<String>,
}

/// `GET /t/{tenant}/console/users/{id}/memberships/{mid}/delete`: the confirmation.
async fn confirm_delete(
    State(s): State<AppState>,
    Path((slug, id, mid)): Path<(String, String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let (console, user, m, _) =
        match context(&s, &slug, &headers, &client, (&id, &mid), "/delete").await {
            Ok(c) => c,
            Err(p) => return p,
        };
    match writable(&s, &console, &user.id).await {
        Ok(true) => {}
        Ok(false) => {
            return refusal(DomainError::forbidden(
                "you cannot change this person's employment",
            ));
        }
        Err(e) => return refusal(e),
    }
    render(
        StatusCode::OK,
        &DeletePage {
            shell: console.shell("users"),
            user_id: user.id.to_string(),
            user_label: display_name(&user),
            r: Row::of(m),
            error: None,
        },
    )
}

/// `POST /t/{tenant}/console/users/{id}/memberships/{mid}/delete`.
async fn delete(
    State(s): State<AppState>,
    Path((slug, id, mid)): Path<(String, String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let Ok(uid) = user_id(&id) else {
        return refusal(DomainError::NotFound("user"));
    };
    let back = address(&slug, &uid);
    let (console, _) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(p) => return p,
    };
    let Ok(mid) = membership_id(&mid) else {
        return refusal(DomainError::NotFound("membership"));
    };
    match memberships::delete(&s.store, &console.caller, &uid, &mid).await {
        Ok(()) => see_other(&format!("{back}?notice=deleted")),
        Err(DomainError::Conflict(why)) => {
            let user = match authorised_user(&s.store, &console.caller, &uid, false).await {
                Ok(u) => u,
                Err(e) => return refusal(e),
            };
            match membership(&s, &console, &uid, &mid).await {
                Ok(m) => render(
                    StatusCode::CONFLICT,
                    &DeletePage {
                        shell: console.shell("users"),
                        user_id: user.id.to_string(),
                        user_label: display_name(&user),
                        r: Row::of(m),
                        error: Some(why),
                    },
                ),
                Err(e) => refusal(e),
            }
        }
        Err(e) => refusal(e),
    }
}

/// The target of a management form: `kind` and the matching field (`account_id`,
/// `account_group_id`, or `target_email` resolved among the people the caller can see).
async fn management_target(
    s: &AppState,
    console: &Console,
    f: &Posted,
) -> Result<AddManagement, DomainError> {
    let (kind, id) = match f.get("kind") {
        "account" => (TargetKind::Account, f.get("account_id").to_owned()),
        "account_group" => (
            TargetKind::AccountGroup,
            f.get("account_group_id").to_owned(),
        ),
        "user" => {
            let email = f.get("target_email").trim().to_lowercase();
            if email.is_empty() {
                return Err(DomainError::invalid(
                    "target_email",
                    "enter the person's email",
                ));
            }
            let found = list_users(
                &s.store,
                &console.caller,
                ListUsers {
                    email_prefix: Some(email.clone()),
                    limit: Some(5),
                    ..Default::default()
                },
            )
            .await?;
            let user = found
                .items
                .into_iter()
                .find(|u| u.email.to_lowercase() == email)
                .ok_or_else(|| {
                    DomainError::invalid("target_email", "nobody you can see has this email")
                })?;
            (TargetKind::User, user.id.to_string())
        }
        _ => {
            return Err(DomainError::invalid(
                "kind",
                "choose a person, an account or an account group",
            ));
        }
    };
    Ok(AddManagement { kind, id })
}

/// `POST /t/{tenant}/console/users/{id}/management` (`kind` and its target): the user now
/// manages that person, account or account group.
async fn add_management(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let id = match user_id(&id) {
        Ok(id) => id,
        Err(e) => return refusal(e),
    };
    let back = address(&slug, &id);
    let (console, f) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(p) => return p,
    };
    let done = match management_target(&s, &console, &f).await {
        Ok(req) => management::add(&s.store, &console.caller, &id, req).await,
        // Bad input is worth a form only to someone who may hand out scope at all; anyone
        // else is told what the service would say.
        Err(e @ DomainError::Invalid { .. }) => match may_manage(&s, &console, &id).await {
            Ok(true) => Err(e),
            Ok(false) => Err(DomainError::forbidden(format!(
                "changing who manages what needs the permission `{}`",
                crate::domain::permissions::admin::USERS_WRITE
            ))),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    let e = match done {
        Ok(_) => return see_other(&format!("{back}?notice=managing")),
        Err(e) => e,
    };
    let Some(errors) = FieldErrors::of(
        &e,
        &[
            "kind",
            "target_email",
            "account_id",
            "account_group_id",
            "id",
        ],
    ) else {
        return refusal(e);
    };
    let target = match authorised_user(&s.store, &console.caller, &id, true).await {
        Ok(u) => u,
        Err(e) => return refusal(e),
    };
    let typed = Typed {
        target_email: f.get("target_email").to_owned(),
        ..Default::default()
    };
    show(
        &s,
        &console,
        target,
        "",
        typed,
        (errors, "management"),
        status_of(&e),
    )
    .await
}

/// `POST /t/{tenant}/console/users/{id}/management/{mgid}/delete`: ends a relation.
async fn remove_management(
    State(s): State<AppState>,
    Path((slug, id, mgid)): Path<(String, String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let id = match user_id(&id) {
        Ok(id) => id,
        Err(e) => return refusal(e),
    };
    let back = address(&slug, &id);
    let (console, _) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(p) => return p,
    };
    let Some(mgid) = ManagementId::parse(&mgid) else {
        return refusal(DomainError::NotFound("management relation"));
    };
    match management::delete(&s.store, &console.caller, &id, &mgid).await {
        Ok(()) => see_other(&format!("{back}?notice=unmanaged")),
        Err(e) => refusal(e),
    }
}
