//! The console's roles: the list, a form to create or edit one (name, description, permissions
//! chosen from the catalogue) and a confirmed delete, through `admin::roles` (the functions of
//! `/roles`), so the same rules hold: a caller cannot put into a role a `castellan:`
//! permission they do not hold, nor change a role held by someone more powerful; the Owner
//! role's permissions are fixed and seeded roles are not deleted.

use super::confirm::Confirm;
use super::{Console, Shell, refusal, render};
use crate::admin::permissions as catalogue;
use crate::admin::power::require_castellan_held;
use crate::admin::roles::{self, CreateRole, UpdateRole};
use crate::domain::authz::Caller;
use crate::domain::permissions::admin;
use crate::domain::throttle::Client;
use crate::domain::{DomainError, Role, RoleId, RoleTemplate};
use crate::http::AppState;
use crate::http::oidc::pages::see_other;
use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

/// One line of the list.
pub struct Line {
    id: String,
    name: String,
    description: String,
    /// A seeded role (Owner, Administrator, Manager, Member): never deleted.
    seeded: bool,
    permissions: usize,
    editable: bool,
}

#[derive(Template)]
#[template(path = "console/roles.html")]
struct RolesPage {
    shell: Shell,
    notice: Option<&'static str>,
    can_write: bool,
    lines: Vec<Line>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

fn notice_text(key: Option<&str>) -> Option<&'static str> {
    match key? {
        "created" => Some("The role was created."),
        "updated" => Some("The role was saved."),
        "deleted" => Some("The role was deleted."),
        _ => None,
    }
}

/// Whether the caller may change `role`: `roles.write`, and for the Owner role (whose holder is
/// the owner, over whom only the owner has power) owner standing. The service decides; this
/// only keeps what would be refused off the page.
fn may_edit(caller: &Caller, role: &Role) -> bool {
    caller.holds(admin::ROLES_WRITE)
        && (role.template != Some(RoleTemplate::Owner) || caller.has_owner_standing())
}

/// `GET /t/{tenant}/console/roles`.
pub async fn list(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<NoticeQuery>, QueryRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/roles");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let all = match roles::list(&s.store, &console.caller).await {
        Ok(r) => r,
        Err(e) => return refusal(e),
    };
    let lines = all
        .into_iter()
        .map(|r| Line {
            editable: may_edit(&console.caller, &r),
            id: r.id.to_string(),
            name: r.name,
            description: r.description.unwrap_or_default(),
            seeded: r.template.is_some(),
            permissions: r.permissions.len(),
        })
        .collect();
    render(
        StatusCode::OK,
        &RolesPage {
            shell: console.shell("roles"),
            notice: query
                .ok()
                .and_then(|Query(q)| notice_text(q.notice.as_deref())),
            can_write: console.caller.holds(admin::ROLES_WRITE),
            lines,
        },
    )
}

/// A permission of the catalogue as a checkbox.
pub struct Choice {
    name: String,
    description: String,
    checked: bool,
    /// Shown but not changeable: the Owner role's permissions, or a `castellan:` permission the
    /// caller does not hold (a checked one is kept by a hidden field).
    locked: bool,
}

/// Field errors of the form, next to their fields.
#[derive(Default)]
pub struct Errors {
    name: Option<String>,
    description: Option<String>,
    permissions: Option<String>,
    form: Option<String>,
}

impl Errors {
    /// A refusal worth showing in the form (bad input, a conflict), or `None` for one that is
    /// a page of its own (forbidden, not found, internal).
    fn of(e: &DomainError) -> Option<Self> {
        match e {
            DomainError::Invalid { field, message } => Some(match field.as_deref() {
                Some("name") => Errors {
                    name: Some(message.clone()),
                    ..Default::default()
                },
                Some("description") => Errors {
                    description: Some(message.clone()),
                    ..Default::default()
                },
                Some("permissions") => Errors {
                    permissions: Some(message.clone()),
                    ..Default::default()
                },
                _ => Errors {
                    form: Some(message.clone()),
                    ..Default::default()
                },
            }),
            DomainError::Conflict(message) => Some(Errors {
                form: Some(message.clone()),
                ..Default::default()
            }),
            _ => None,
        }
    }
}

#[derive(Template)]
#[template(path = "console/role_form.html")]
struct RoleForm {
    shell: Shell,
    /// `None` for a new role.
    role_id: Option<String>,
    seeded: bool,
    /// The Owner role: its permissions are fixed.
    fixed: bool,
    editable: bool,
    deletable: bool,
    name: String,
    description: String,
    choices: Vec<Choice>,
    errors: Errors,
}

/// The fields of the role form (`permission` repeats, once per checked box).
#[derive(Default)]
struct Fields {
    csrf: Option<String>,
    name: String,
    description: String,
    permissions: Vec<String>,
}

impl Fields {
    fn read(body: &[u8]) -> Self {
        let mut f = Fields::default();
        for (k, v) in url::form_urlencoded::parse(body) {
            match &*k {
                "csrf" => f.csrf = Some(v.into_owned()),
                "name" => f.name = v.into_owned(),
                "description" => f.description = v.into_owned(),
                "permission" => f.permissions.push(v.into_owned()),
                _ => {}
            }
        }
        f
    }

    fn description(&self) -> Option<String> {
        let d = self.description.trim();
        (!d.is_empty()).then(|| d.to_owned())
    }
}

/// The catalogue as checkboxes, `selected` checked; `had` is what the role holds now.
async fn choices(
    s: &AppState,
    caller: &Caller,
    selected: &[String],
    had: &[String],
    fixed: bool,
) -> Result<Vec<Choice>, DomainError> {
    Ok(catalogue::list(&s.store, caller)
        .await?
        .into_iter()
        .map(|p| {
            let grantable = require_castellan_held(caller, [p.name.as_str()]).is_ok();
            let checked = if fixed || !grantable {
                had.contains(&p.name)
            } else {
                selected.contains(&p.name)
            };
            Choice {
                locked: fixed || !grantable,
                checked,
                description: p.description.unwrap_or_default(),
                name: p.name,
            }
        })
        .collect())
}

/// The form for `role` (or a new one) with `fields` as typed and `errors`.
async fn form(
    s: &AppState,
    console: &Console,
    role: Option<&Role>,
    fields: Fields,
    errors: Errors,
    status: StatusCode,
) -> Response {
    let had = role.map(|r| r.permissions.as_slice()).unwrap_or_default();
    let fixed = role.is_some_and(|r| r.template == Some(RoleTemplate::Owner));
    let choices = match choices(s, &console.caller, &fields.permissions, had, fixed).await {
        Ok(c) => c,
        Err(e) => return refusal(e),
    };
    let editable = match role {
        Some(r) => may_edit(&console.caller, r),
        None => console.caller.holds(admin::ROLES_WRITE),
    };
    render(
        status,
        &RoleForm {
            shell: console.shell("roles"),
            role_id: role.map(|r| r.id.to_string()),
            seeded: role.is_some_and(|r| r.template.is_some()),
            fixed,
            deletable: editable && role.is_some_and(|r| r.template.is_none()),
            editable,
            name: fields.name,
            description: fields.description,
            choices,
            errors,
        },
    )
}

/// `GET /t/{tenant}/console/roles/new`.
pub async fn new(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let back = format!("/t/{slug}/console/roles/new");
    let console =
        match Console::holding(&s, &slug, &headers, &client, &back, admin::ROLES_WRITE).await {
            Ok(c) => c,
            Err(page) => return page,
        };
    let fields = Fields::default();
    form(
        &s,
        &console,
        None,
        fields,
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

/// The permissions of a submitted form: what the caller may choose, plus the locked ones the
/// role keeps (a locked box sends nothing; its hidden field sends it when checked).
fn wanted(fields: &Fields) -> Vec<String> {
    let mut p = fields.permissions.clone();
    p.sort();
    p.dedup();
    p
}

/// `POST /t/{tenant}/console/roles`: creates a role.
pub async fn create(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let back = format!("/t/{slug}/console/roles/new");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let fields = Fields::read(&body);
    if let Some(refused) = console.csrf_refusal(&s, &headers, fields.csrf.as_deref()) {
        return refused;
    }
    let req = CreateRole {
        name: fields.name.clone(),
        description: fields.description(),
        permissions: wanted(&fields),
        mfa_policy: serde_json::Value::Null,
    };
    match roles::create(&s.store, &console.caller, req).await {
        Ok(_) => see_other(&format!("/t/{slug}/console/roles?notice=created")),
        Err(e) => match Errors::of(&e) {
            Some(errors) => form(&s, &console, None, fields, errors, status_of(&e)).await,
            None => refusal(e),
        },
    }
}

/// The status of a form shown again with its errors.
fn status_of(e: &DomainError) -> StatusCode {
    match e {
        DomainError::Conflict(_) => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// `GET /t/{tenant}/console/roles/{id}`: the role's form (read-only without `roles.write`).
pub async fn edit(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let Some(id) = RoleId::parse(&id) else {
        return refusal(DomainError::NotFound("role"));
    };
    let back = format!("/t/{slug}/console/roles/{id}");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let role = match roles::get(&s.store, &console.caller, &id).await {
        Ok(r) => r,
        Err(e) => return refusal(e),
    };
    let fields = Fields {
        csrf: None,
        name: role.name.clone(),
        description: role.description.clone().unwrap_or_default(),
        permissions: role.permissions.clone(),
    };
    form(
        &s,
        &console,
        Some(&role),
        fields,
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

/// `POST /t/{tenant}/console/roles/{id}`: saves the name, description and permissions.
pub async fn update(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let Some(id) = RoleId::parse(&id) else {
        return refusal(DomainError::NotFound("role"));
    };
    let back = format!("/t/{slug}/console/roles/{id}");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let fields = Fields::read(&body);
    if let Some(refused) = console.csrf_refusal(&s, &headers, fields.csrf.as_deref()) {
        return refused;
    }
    let role = match roles::get(&s.store, &console.caller, &id).await {
        Ok(r) => r,
        Err(e) => return refusal(e),
    };
    let fixed = role.template == Some(RoleTemplate::Owner);
    let req = UpdateRole {
        name: Some(fields.name.clone()),
        description: Some(fields.description()),
        permissions: (!fixed).then(|| wanted(&fields)),
        mfa_policy: None,
    };
    match roles::update(&s.store, &console.caller, &id, req).await {
        Ok(_) => see_other(&format!("/t/{slug}/console/roles?notice=updated")),
        Err(e) => match Errors::of(&e) {
            Some(errors) => form(&s, &console, Some(&role), fields, errors, status_of(&e)).await,
            None => refusal(e),
        },
    }
}

/// `GET /t/{tenant}/console/roles/{id}/delete`: the confirmation.
pub async fn confirm_delete(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let Some(id) = RoleId::parse(&id) else {
        return refusal(DomainError::NotFound("role"));
    };
    let back = format!("/t/{slug}/console/roles/{id}/delete");
    let console =
        match Console::holding(&s, &slug, &headers, &client, &back, admin::ROLES_WRITE).await {
            Ok(c) => c,
            Err(page) => return page,
        };
    match roles::get(&s.store, &console.caller, &id).await {
        Ok(role) => delete_page(&console, role, None, StatusCode::OK),
        Err(e) => refusal(e),
    }
}

fn delete_page(console: &Console, role: Role, error: Option<String>, st: StatusCode) -> Response {
    let slug = &console.me.tenant.slug;
    let title = format!("Delete role {}?", role.name);
    let page = format!("/t/{slug}/console/roles/{}", role.id);
    Confirm {
        section: "roles",
        title: &title,
        consequence: "The role will be removed. A role still held by a person or a group cannot \
                      be deleted. This cannot be undone.",
        action: &format!("{page}/delete"),
        button: "Delete role",
        back: (&page, &role.name),
    }
    .page(console, st, error)
}

/// `POST /t/{tenant}/console/roles/{id}/delete`.
pub async fn delete(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let Some(id) = RoleId::parse(&id) else {
        return refusal(DomainError::NotFound("role"));
    };
    let back = format!("/t/{slug}/console/roles/{id}/delete");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let csrf = Fields::read(&body).csrf;
    if let Some(refused) = console.csrf_refusal(&s, &headers, csrf.as_deref()) {
        return refused;
    }
    let role = match roles::get(&s.store, &console.caller, &id).await {
        Ok(r) => r,
        Err(e) => return refusal(e),
    };
    match roles::delete(&s.store, &console.caller, &id).await {
        Ok(()) => see_other(&format!("/t/{slug}/console/roles?notice=deleted")),
        Err(DomainError::Conflict(why)) => {
            delete_page(&console, role, Some(why), StatusCode::CONFLICT)
        }
        Err(e) => refusal(e),
    }
}
