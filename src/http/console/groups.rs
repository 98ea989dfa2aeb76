//! The console's groups (`/t/{tenant}/console/groups`): a list searched by name and paged, a
//! form for a new group, a group's page (name and description, its members with an add by
//! email search and a remove, its roles with add and remove) and a confirmed delete, all through
//! `admin::groups` (the functions of `/groups`), so the same rules hold: granting a group a role
//! needs power over its members, joining a group needs the permissions its roles give.

use super::confirm::Confirm;
use super::forms::{FieldErrors, Posted, page_of, signed_post, status_of};
use super::users::display_name;
use super::{Console, Shell, refusal, render};
use crate::admin::groups::{self, CreateGroup, UpdateGroup};
use crate::admin::roles;
use crate::admin::users::{ListUsers, get as get_user, list as list_users};
use crate::domain::permissions::admin;
use crate::domain::throttle::Client;
use crate::domain::{DomainError, Group, GroupId, RoleId, RoleTemplate, UserId};
use crate::http::AppState;
use crate::http::oidc::pages::see_other;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant}/console/groups",
            get(super::org_lists::groups_list).post(create),
        )
        .route("/t/{tenant}/console/groups/new", get(new))
        .route("/t/{tenant}/console/groups/{id}", get(show).post(update))
        .route(
            "/t/{tenant}/console/groups/{id}/members",
            axum::routing::post(members),
        )
        .route(
            "/t/{tenant}/console/groups/{id}/roles",
            axum::routing::post(group_roles),
        )
        .route(
            "/t/{tenant}/console/groups/{id}/delete",
            get(confirm_delete).post(delete),
        )
}

/// What the list and the group page read from their address (anything else is ignored).
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    page: Option<String>,
    #[serde(default)]
    notice: String,
    #[serde(default)]
    member_q: String,
}

fn query_of(q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>) -> ListQuery {
    q.map(|Query(q)| q).unwrap_or_default()
}

/// A page number from the address: 1 when absent or not a number.
pub fn page_number(p: Option<&str>) -> usize {
    p.and_then(|p| p.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1)
}

pub(super) fn notice_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "created" => "The group was created.",
        "saved" => "The group was saved.",
        "deleted" => "The group was deleted.",
        "member-added" => "The person was added to the group.",
        "member-removed" => "The person was removed from the group.",
        "role-added" => "The role was granted to the group.",
        "role-removed" => "The role was taken away from the group.",
        _ => return None,
    })
}

#[derive(Template)]
#[template(path = "console/group_new.html")]
struct NewPage {
    shell: Shell,
    name: String,
    description: String,
    errors: FieldErrors,
}

/// `GET /t/{tenant}/console/groups/new`.
async fn new(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let back = format!("/t/{slug}/console/groups/new");
    let console =
        match Console::holding(&s, &slug, &headers, &client, &back, admin::GROUPS_WRITE).await {
            Ok(c) => c,
            Err(page) => return page,
        };
    render(
        StatusCode::OK,
        &NewPage {
            shell: console.shell("groups"),
            name: String::new(),
            description: String::new(),
            errors: FieldErrors::default(),
        },
    )
}

/// `POST /t/{tenant}/console/groups`: creates a group, then shows its page.
async fn create(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let back = format!("/t/{slug}/console/groups/new");
    let (console, f) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let req = CreateGroup {
        display_name: f.get("display_name").to_owned(),
        description: f.opt("description"),
        external_id: None,
    };
    match groups::create(&s.store, &console.caller, req).await {
        Ok(g) => see_other(&format!("/t/{slug}/console/groups/{}?notice=created", g.id)),
        Err(e) => match FieldErrors::of(&e, &["display_name", "description"]) {
            Some(errors) => render(
                status_of(&e),
                &NewPage {
                    shell: console.shell("groups"),
                    name: f.get("display_name").to_owned(),
                    description: f.get("description").to_owned(),
                    errors,
                },
            ),
            None => refusal(e),
        },
    }
}

/// A member as the group page shows them.
pub struct Member {
    id: String,
    name: String,
    email: String,
    /// Whether the caller may open (read) this person; else only "someone" is shown.
    visible: bool,
}

/// A role of the group, or one that could be added.
pub struct RoleItem {
    id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "console/group.html")]
struct GroupPage {
    shell: Shell,
    id: String,
    name: String,
    description: String,
    external_id: String,
    notice: Option<&'static str>,
    can_write: bool,
    errors: FieldErrors,
    members: Vec<Member>,
    member_total: usize,
    members_prev: Option<String>,
    members_next: Option<String>,
    roles: Vec<RoleItem>,
    addable_roles: Vec<RoleItem>,
    can_search: bool,
    member_q: String,
    candidates: Vec<Member>,
}

/// The group's members, as the caller may see them.
async fn members_of(
    s: &AppState,
    console: &Console,
    ids: &[UserId],
) -> Result<Vec<Member>, DomainError> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        match get_user(&s.store, &console.caller, id).await {
            Ok(u) => out.push(Member {
                id: u.id.to_string(),
                name: display_name(&u),
                email: u.email,
                visible: true,
            }),
            Err(DomainError::Forbidden(_)) => out.push(Member {
                id: id.to_string(),
                name: "Someone outside your scope".into(),
                email: String::new(),
                visible: false,
            }),
            Err(DomainError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// People matching `q` (an email prefix when it has an `@`, else text), not yet members.
async fn candidates(
    s: &AppState,
    console: &Console,
    group: &Group,
    q: &str,
) -> Result<Vec<Member>, DomainError> {
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let req = ListUsers {
        email_prefix: q.contains('@').then(|| q.to_owned()),
        q: (!q.contains('@')).then(|| q.to_owned()),
        limit: Some(10),
        ..Default::default()
    };
    Ok(list_users(&s.store, &console.caller, req)
        .await?
        .items
        .into_iter()
        .filter(|u| !group.member_ids.contains(&u.id))
        .map(|u| Member {
            id: u.id.to_string(),
            name: display_name(&u),
            email: u.email,
            visible: true,
        })
        .collect())
}

/// The group page with `name`/`description` as typed and `errors`.
#[allow(clippy::too_many_arguments)]
async fn group_page(
    s: &AppState,
    console: &Console,
    group: Group,
    fields: Option<&Posted>,
    errors: FieldErrors,
    query: &ListQuery,
    status: StatusCode,
) -> Response {
    let caller = &console.caller;
    let slug = &console.me.tenant.slug;
    let all_members = match members_of(s, console, &group.member_ids).await {
        Ok(m) => m,
        Err(e) => return refusal(e),
    };
    let member_total = all_members.len();
    let number = page_number(query.page.as_deref());
    let (members, more) = page_of(all_members, number);
    let link = |n: usize| {
        format!(
            "/t/{slug}/console/groups/{}?page={n}#members-title",
            group.id
        )
    };
    let all_roles = match roles::list(&s.store, caller).await {
        Ok(r) => r,
        Err(DomainError::Forbidden(_)) => Vec::new(),
        Err(e) => return refusal(e),
    };
    let roles = group
        .role_ids
        .iter()
        .map(|id| RoleItem {
            id: id.to_string(),
            name: all_roles
                .iter()
                .find(|r| &r.id == id)
                .map_or_else(|| id.to_string(), |r| r.name.clone()),
        })
        .collect();
    let addable_roles = all_roles
        .iter()
        .filter(|r| !group.role_ids.contains(&r.id) && r.template != Some(RoleTemplate::Owner))
        .map(|r| RoleItem {
            id: r.id.to_string(),
            name: r.name.clone(),
        })
        .collect();
    let can_search = caller.user_read_scope().is_ok();
    let member_q = query.member_q.trim().to_owned();
    let candidates = if can_search {
        match candidates(s, console, &group, &member_q).await {
            Ok(c) => c,
            Err(e) => return refusal(e),
        }
    } else {
        Vec::new()
    };
    let (name, description) = match fields {
        Some(f) => (
            f.get("display_name").to_owned(),
            f.get("description").to_owned(),
        ),
        None => (
            group.display_name.clone(),
            group.description.clone().unwrap_or_default(),
        ),
    };
    render(
        status,
        &GroupPage {
            shell: console.shell("groups"),
            id: group.id.to_string(),
            name,
            description,
            external_id: group.external_id.clone().unwrap_or_default(),
            notice: notice_text(&query.notice),
            can_write: caller.holds(admin::GROUPS_WRITE),
            errors,
            members,
            member_total,
            members_prev: (number > 1).then(|| link(number - 1)),
            members_next: more.then(|| link(number + 1)),
            roles,
            addable_roles,
            can_search,
            member_q,
            candidates,
        },
    )
}

fn group_id(id: &str) -> Result<GroupId, DomainError> {
    GroupId::parse(id).ok_or(DomainError::NotFound("group"))
}

/// `GET /t/{tenant}/console/groups/{id}`.
async fn show(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let id = match group_id(&id) {
        Ok(id) => id,
        Err(e) => return refusal(e),
    };
    let back = format!("/t/{slug}/console/groups/{id}");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let group = match groups::get(&s.store, &console.caller, &id).await {
        Ok(g) => g,
        Err(e) => return refusal(e),
    };
    let query = query_of(query);
    group_page(
        &s,
        &console,
        group,
        None,
        FieldErrors::default(),
        &query,
        StatusCode::OK,
    )
    .await
}

/// `POST /t/{tenant}/console/groups/{id}`: saves the name and description.
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
    let back = format!("/t/{slug}/console/groups/{id}");
    let (console, f) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let req = UpdateGroup {
        display_name: Some(f.get("display_name").to_owned()),
        description: Some(f.opt("description")),
        external_id: None,
    };
    match groups::update(&s.store, &console.caller, &id, req).await {
        Ok(_) => see_other(&format!("{back}?notice=saved")),
        Err(e) => match FieldErrors::of(&e, &["display_name", "description"]) {
            Some(errors) => match groups::get(&s.store, &console.caller, &id).await {
                Ok(group) => {
                    let q = ListQuery::default();
                    group_page(&s, &console, group, Some(&f), errors, &q, status_of(&e)).await
                }
                Err(e) => refusal(e),
            },
            None => refusal(e),
        },
    }
}

/// `POST /t/{tenant}/console/groups/{id}/members` (`op` `add` or `remove`, `user_id`).
async fn members(
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
    let back = format!("/t/{slug}/console/groups/{id}");
    let (console, f) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let Some(user) = UserId::parse(f.get("user_id")) else {
        return refusal(DomainError::NotFound("user"));
    };
    let done = match f.get("op") {
        "add" => groups::add_member(&s.store, &console.caller, &id, &user)
            .await
            .map(|_| "member-added"),
        "remove" => groups::remove_member(&s.store, &console.caller, &id, &user)
            .await
            .map(|_| "member-removed"),
        _ => Err(DomainError::invalid("op", "a member is added or removed")),
    };
    match done {
        Ok(notice) => see_other(&format!("{back}?notice={notice}")),
        Err(e) => refusal(e),
    }
}

/// `POST /t/{tenant}/console/groups/{id}/roles` (`op` `add` or `remove`, `role_id`).
async fn group_roles(
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
    let back = format!("/t/{slug}/console/groups/{id}");
    let (console, f) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let Some(role) = RoleId::parse(f.get("role_id")) else {
        return refusal(DomainError::invalid("role_id", "choose a role"));
    };
    let done = match f.get("op") {
        "add" => groups::add_role(&s.store, &console.caller, &id, &role)
            .await
            .map(|_| "role-added"),
        "remove" => groups::remove_role(&s.store, &console.caller, &id, &role)
            .await
            .map(|_| "role-removed"),
        _ => Err(DomainError::invalid("op", "a role is added or removed")),
    };
    match done {
        Ok(notice) => see_other(&format!("{back}?notice={notice}")),
        Err(e) => refusal(e),
    }
}

/// `GET /t/{tenant}/console/groups/{id}/delete`: the confirmation.
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
    let back = format!("/t/{slug}/console/groups/{id}/delete");
    let console =
        match Console::holding(&s, &slug, &headers, &client, &back, admin::GROUPS_WRITE).await {
            Ok(c) => c,
            Err(page) => return page,
        };
    match groups::get(&s.store, &console.caller, &id).await {
        Ok(g) => delete_page(&console, g, None, StatusCode::OK),
        Err(e) => refusal(e),
    }
}

fn delete_page(console: &Console, g: Group, error: Option<String>, st: StatusCode) -> Response {
    let slug = &console.me.tenant.slug;
    let title = format!("Delete group {}?", g.display_name);
    let page = format!("/t/{slug}/console/groups/{}", g.id);
    let consequence = match g.member_ids.len() {
        0 => "The group will be removed. This cannot be undone.".to_owned(),
        1 => "The group will be removed, and its 1 member loses the roles it granted. The \
              person stays. This cannot be undone."
            .to_owned(),
        n => format!(
            "The group will be removed, and its {n} members lose the roles it granted. The \
             people stay. This cannot be undone."
        ),
    };
    Confirm {
        section: "groups",
        title: &title,
        consequence: &consequence,
        action: &format!("{page}/delete"),
        button: "Delete group",
        back: (&page, &g.display_name),
    }
    .page(console, st, error)
}

/// `POST /t/{tenant}/console/groups/{id}/delete`.
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
    let back = format!("/t/{slug}/console/groups/{id}/delete");
    let (console, _) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let group = match groups::get(&s.store, &console.caller, &id).await {
        Ok(g) => g,
        Err(e) => return refusal(e),
    };
    match groups::delete(&s.store, &console.caller, &id).await {
        Ok(()) => see_other(&format!("/t/{slug}/console/groups?notice=deleted")),
        Err(DomainError::Conflict(why)) => {
            delete_page(&console, group, Some(why), StatusCode::CONFLICT)
        }
        Err(e) => refusal(e),
    }
}
