//! The console's kinds of notification (`/t/{tenant}/console/notifications`): the tenant's
//! notification types (the built-in ones and those its apps raise), added and removed through
//! `admin::notifications` (`settings.read` to see, `settings.write` to change).

use super::confirm::Confirm;
use super::profile_form::Field;
use super::{Console, Shell, refusal, render};
use crate::admin::notifications::{self, CreateNotificationType};
use crate::domain::permissions::admin;
use crate::domain::throttle::Client;
use crate::domain::{DomainError, NotificationType};
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
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/console/notifications", get(list).post(create))
        .route(
            "/t/{tenant}/console/notifications/{key}/delete",
            get(confirm_delete).post(delete),
        )
}

pub struct Line {
    key: String,
    description: String,
    builtin: bool,
    default_enabled: bool,
}

#[derive(Template)]
#[template(path = "console/notification_types.html")]
struct TypesPage {
    shell: Shell,
    notice: Option<&'static str>,
    can_write: bool,
    lines: Vec<Line>,
    fields: Vec<Field>,
    default_enabled: bool,
    form_error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

async fn page(
    s: &AppState,
    console: &Console,
    status: StatusCode,
    notice: Option<&'static str>,
    typed: &BTreeMap<String, String>,
    error: Option<(Option<String>, String)>,
) -> Response {
    let types = match notifications::list_types(&s.store, &console.caller).await {
        Ok(t) => t,
        Err(e) => return refusal(e),
    };
    let value = |n: &str| typed.get(n).cloned().unwrap_or_default();
    let mut fields = vec![
        Field {
            required: true,
            hint: Some("Lowercase, for example billing.invoice_ready.".into()),
            ..Field::new("key", "Key", "text", value("key"))
        },
        Field::new("description", "Description", "text", value("description")),
    ];
    let mut form_error = None;
    if let Some((field, message)) = error {
        match fields.iter_mut().find(|f| Some(&f.name) == field.as_ref()) {
            Some(f) => {
                f.error = Some(message);
                form_error = Some("The notification was not added: correct what is marked.".into());
            }
            None => form_error = Some(message),
        }
    }
    render(
        status,
        &TypesPage {
            shell: console.shell("notifications"),
            notice,
            can_write: console.caller.holds(admin::SETTINGS_WRITE),
            lines: types
                .into_iter()
                .map(|t: NotificationType| Line {
                    key: t.key,
                    description: t.description.unwrap_or_default(),
                    builtin: t.builtin,
                    default_enabled: t.default_enabled,
                })
                .collect(),
            fields,
            default_enabled: typed.is_empty() || typed.contains_key("default_enabled"),
            form_error,
        },
    )
}

/// `GET /t/{tenant}/console/notifications`.
async fn list(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<NoticeQuery>, QueryRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/notifications");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let notice = query.ok().and_then(|Query(q)| match q.notice.as_deref() {
        Some("created") => Some("The notification was added."),
        Some("deleted") => Some("The notification was removed."),
        _ => None,
    });
    page(&s, &console, StatusCode::OK, notice, &BTreeMap::new(), None).await
}

/// `POST /t/{tenant}/console/notifications`.
async fn create(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<BTreeMap<String, String>>, FormRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/notifications");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let Ok(Form(form)) = form else {
        return refusal(DomainError::invalid("form", "the form could not be read"));
    };
    if let Some(r) = console.csrf_refusal(&s, &headers, form.get("csrf").map(String::as_str)) {
        return r;
    }
    let req = CreateNotificationType {
        key: form
            .get("key")
            .cloned()
            .unwrap_or_default()
            .trim()
            .to_owned(),
        description: form
            .get("description")
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty()),
        default_enabled: Some(form.contains_key("default_enabled")),
    };
    match notifications::create_type(&s.store, &console.caller, req).await {
        Ok(_) => see_other(&format!("{back}?notice=created")),
        Err(DomainError::Invalid { field, message }) => {
            let st = StatusCode::UNPROCESSABLE_ENTITY;
            page(&s, &console, st, None, &form, Some((field, message))).await
        }
        Err(DomainError::Conflict(message)) => {
            let st = StatusCode::CONFLICT;
            page(
                &s,
                &console,
                st,
                None,
                &form,
                Some((Some("key".into()), message)),
            )
            .await
        }
        Err(e) => refusal(e),
    }
}

/// The console of a writer and the tenant-defined type of the path.
async fn removable(
    s: &AppState,
    slug: &str,
    key: &str,
    headers: &HeaderMap,
    client: &Client,
) -> Result<(Console, NotificationType), Response> {
    let back = format!("/t/{slug}/console/notifications/{key}/delete");
    let console = Console::holding(s, slug, headers, client, &back, admin::SETTINGS_WRITE).await?;
    let t = notifications::list_types(&s.store, &console.caller)
        .await
        .map_err(refusal)?
        .into_iter()
        .find(|t| t.key == key)
        .ok_or_else(|| refusal(DomainError::NotFound("notification")))?;
    if t.builtin {
        return Err(refusal(DomainError::forbidden(
            "built-in notifications cannot be removed",
        )));
    }
    Ok((console, t))
}

fn delete_confirm(
    slug: &str,
    t: &NotificationType,
    f: impl FnOnce(&Confirm<'_>) -> Response,
) -> Response {
    let title = format!("Remove the notification {}?", t.key);
    let action = format!("/t/{slug}/console/notifications/{}/delete", t.key);
    let list = format!("/t/{slug}/console/notifications");
    f(&Confirm {
        section: "notifications",
        title: &title,
        consequence: "People stop receiving it and their choices about it are forgotten. Apps \
                      that raise it are refused from now on. This cannot be undone.",
        action: &action,
        button: "Remove notification",
        back: (&list, "Notifications"),
    })
}

/// `GET /t/{tenant}/console/notifications/{key}/delete`.
async fn confirm_delete(
    State(s): State<AppState>,
    Path((slug, key)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    match removable(&s, &slug, &key, &headers, &client).await {
        Ok((c, t)) => delete_confirm(&slug, &t, |x| x.page(&c, StatusCode::OK, None)),
        Err(page) => page,
    }
}

/// `POST /t/{tenant}/console/notifications/{key}/delete`.
async fn delete(
    State(s): State<AppState>,
    Path((slug, key)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<BTreeMap<String, String>>, FormRejection>,
) -> Response {
    let (console, t) = match removable(&s, &slug, &key, &headers, &client).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let token = form.ok().and_then(|Form(f)| f.get("csrf").cloned());
    if let Some(r) = console.csrf_refusal(&s, &headers, token.as_deref()) {
        return r;
    }
    match notifications::delete_type(&s.store, &console.caller, &t.key).await {
        Ok(()) => see_other(&format!("/t/{slug}/console/notifications?notice=deleted")),
        Err(e) => refusal(e),
    }
}
