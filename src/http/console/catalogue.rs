//! The console's permission catalogue (`/t/{tenant}/console/permissions`): the permissions apps
//! check, added, described and removed through `admin::permissions` (the functions of
//! `/permissions`: `roles.read` to see, `roles.write` to change; Castellan's own are fixed, and
//! removing one its holders lose needs power over each of them).

use super::confirm::Confirm;
use super::{Console, Shell, refusal, render};
use crate::admin::permissions::{self, CreatePermission, UpdatePermission};
use crate::domain::permissions::admin;
use crate::domain::throttle::Client;
use crate::domain::{DomainError, Permission, PermissionId};
use crate::http::AppState;
use crate::http::oidc::pages::see_other;
use askama::Template;
use axum::Router;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/console/permissions", get(list).post(create))
        .route(
            "/t/{tenant}/console/permissions/{id}",
            get(edit).post(update),
        )
        .route(
            "/t/{tenant}/console/permissions/{id}/delete",
            get(confirm_delete).post(delete),
        )
}

pub struct Line {
    id: String,
    name: String,
    description: String,
    builtin: bool,
}

#[derive(Default)]
pub struct Errors {
    name: Option<String>,
    description: Option<String>,
    form: Option<String>,
}

#[derive(Template)]
#[template(path = "console/catalogue.html")]
struct CataloguePage {
    shell: Shell,
    notice: Option<&'static str>,
    can_write: bool,
    lines: Vec<Line>,
    typed_name: String,
    typed_description: String,
    errors: Errors,
}

#[derive(Template)]
#[template(path = "console/catalogue_edit.html")]
struct EditPage {
    shell: Shell,
    id: String,
    name: String,
    description: String,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

/// The form of the page (no `Debug` needed: nothing secret, but kept like the others).
#[derive(Debug, Default, Deserialize)]
pub struct PermissionForm {
    csrf: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

async fn page(
    s: &AppState,
    console: &Console,
    status: StatusCode,
    notice: Option<&'static str>,
    typed: (String, String),
    errors: Errors,
) -> Response {
    let all = match permissions::list(&s.store, &console.caller).await {
        Ok(p) => p,
        Err(e) => return refusal(e),
    };
    let lines = all
        .into_iter()
        .map(|p: Permission| Line {
            id: p.id.to_string(),
            name: p.name,
            description: p.description.unwrap_or_default(),
            builtin: p.builtin,
        })
        .collect();
    render(
        status,
        &CataloguePage {
            shell: console.shell("permissions"),
            notice,
            can_write: console.caller.holds(admin::ROLES_WRITE),
            lines,
            typed_name: typed.0,
            typed_description: typed.1,
            errors,
        },
    )
}

/// `GET /t/{tenant}/console/permissions`.
async fn list(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<NoticeQuery>, QueryRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/permissions");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let notice = query.ok().and_then(|Query(q)| match q.notice.as_deref() {
        Some("created") => Some("The permission was added."),
        Some("updated") => Some("The permission was saved."),
        Some("deleted") => Some("The permission was removed."),
        _ => None,
    });
    let typed = (String::new(), String::new());
    page(
        &s,
        &console,
        StatusCode::OK,
        notice,
        typed,
        Errors::default(),
    )
    .await
}

fn optional(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

/// `POST /t/{tenant}/console/permissions`: adds one.
async fn create(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<PermissionForm>, FormRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/permissions");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let Ok(Form(form)) = form else {
        return refusal(DomainError::invalid("form", "the form could not be read"));
    };
    if let Some(refused) = console.csrf_refusal(&s, &headers, form.csrf.as_deref()) {
        return refused;
    }
    let req = CreatePermission {
        name: form.name.trim().to_owned(),
        description: optional(&form.description),
    };
    match permissions::create(&s.store, &console.caller, req).await {
        Ok(_) => see_other(&format!("{back}?notice=created")),
        Err(DomainError::Invalid { field, message }) => {
            let errors = match field.as_deref() {
                Some("name") => Errors {
                    name: Some(message),
                    ..Default::default()
                },
                Some("description") => Errors {
                    description: Some(message),
                    ..Default::default()
                },
                _ => Errors {
                    form: Some(message),
                    ..Default::default()
                },
            };
            let typed = (form.name, form.description);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            page(&s, &console, status, None, typed, errors).await
        }
        Err(DomainError::Conflict(message)) => {
            let errors = Errors {
                name: Some(message),
                ..Default::default()
            };
            let typed = (form.name, form.description);
            page(&s, &console, StatusCode::CONFLICT, None, typed, errors).await
        }
        Err(e) => refusal(e),
    }
}

/// The console and the permission of the path, for a caller who may change the catalogue; a
/// built-in permission cannot be changed here.
async fn writable(
    s: &AppState,
    slug: &str,
    id: &str,
    headers: &HeaderMap,
    client: &Client,
    back: &str,
) -> Result<(Console, Permission), Response> {
    let console = Console::holding(s, slug, headers, client, back, admin::ROLES_WRITE).await?;
    let id = PermissionId::parse(id).ok_or_else(|| refusal(DomainError::NotFound("permission")))?;
    let all = permissions::list(&s.store, &console.caller)
        .await
        .map_err(refusal)?;
    let p = all
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| refusal(DomainError::NotFound("permission")))?;
    if p.builtin {
        return Err(refusal(DomainError::forbidden(
            "Castellan's own permissions cannot be changed",
        )));
    }
    Ok((console, p))
}

/// `GET /t/{tenant}/console/permissions/{id}`: its description, to edit.
async fn edit(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let back = format!("/t/{slug}/console/permissions/{id}");
    let (console, p) = match writable(&s, &slug, &id, &headers, &client, &back).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    render(
        StatusCode::OK,
        &EditPage {
            shell: console.shell("permissions"),
            id: p.id.to_string(),
            name: p.name,
            description: p.description.unwrap_or_default(),
            error: None,
        },
    )
}

/// `POST /t/{tenant}/console/permissions/{id}`: saves the description.
async fn update(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<PermissionForm>, FormRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/permissions/{id}");
    let (console, p) = match writable(&s, &slug, &id, &headers, &client, &back).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let Ok(Form(form)) = form else {
        return refusal(DomainError::invalid("form", "the form could not be read"));
    };
    if let Some(refused) = console.csrf_refusal(&s, &headers, form.csrf.as_deref()) {
        return refused;
    }
    let req = UpdatePermission {
        description: Some(optional(&form.description)),
    };
    match permissions::update(&s.store, &console.caller, &p.id, req).await {
        Ok(_) => see_other(&format!("/t/{slug}/console/permissions?notice=updated")),
        Err(DomainError::Invalid { message, .. }) => render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &EditPage {
                shell: console.shell("permissions"),
                id: p.id.to_string(),
                name: p.name,
                description: form.description,
                error: Some(message),
            },
        ),
        Err(e) => refusal(e),
    }
}

fn delete_confirm(
    slug: &str,
    p: &Permission,
    f: impl FnOnce(&Confirm<'_>) -> Response,
) -> Response {
    let title = format!("Remove the permission {}?", p.name);
    let action = format!("/t/{slug}/console/permissions/{}/delete", p.id);
    let list = format!("/t/{slug}/console/permissions");
    f(&Confirm {
        section: "permissions",
        title: &title,
        consequence: "The permission leaves the catalogue and every role and per-user grant or \
                      deny that holds it: the people who hold it lose it at their next token. \
                      This cannot be undone.",
        action: &action,
        button: "Remove permission",
        back: (&list, "Permissions"),
    })
}

/// `GET /t/{tenant}/console/permissions/{id}/delete`.
async fn confirm_delete(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let back = format!("/t/{slug}/console/permissions/{id}/delete");
    let (console, p) = match writable(&s, &slug, &id, &headers, &client, &back).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    delete_confirm(&slug, &p, |c| c.page(&console, StatusCode::OK, None))
}

#[derive(Debug, Default, Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

/// `POST /t/{tenant}/console/permissions/{id}/delete`.
async fn delete(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/permissions/{id}/delete");
    let (console, p) = match writable(&s, &slug, &id, &headers, &client, &back).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let token = form.ok().and_then(|Form(f)| f.csrf);
    if let Some(refused) = console.csrf_refusal(&s, &headers, token.as_deref()) {
        return refused;
    }
    match permissions::delete(&s.store, &console.caller, &p.id).await {
        Ok(()) => see_other(&format!("/t/{slug}/console/permissions?notice=deleted")),
        Err(DomainError::Forbidden(why)) => delete_confirm(&slug, &p, |c| {
            c.page(
                &console,
                StatusCode::FORBIDDEN,
                Some(format!("Not allowed: {why}.")),
            )
        }),
        Err(e) => refusal(e),
    }
}
