//! The console's custom fields (`/t/{tenant}/console/fields`): the tenant's attribute
//! definitions (key, label, kind, enum values, required, a default for the people who have no
//! value), created, edited and removed through `admin::attributes` (the functions of
//! `/attributes`: `settings.read` to see, `settings.write` to change). Refusals come back as
//! field errors with what was typed kept.

use super::confirm::Confirm;
use super::profile_form::{Field, attribute_value};
use super::{Console, Shell, refusal, render};
use crate::admin::attributes::{self, CreateAttribute, UpdateAttribute};
use crate::domain::permissions::admin;
use crate::domain::throttle::Client;
use crate::domain::{AttributeDef, AttributeKind, DomainError};
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
        .route("/t/{tenant}/console/fields", get(list))
        .route("/t/{tenant}/console/fields/new", get(new_form).post(create))
        .route("/t/{tenant}/console/fields/{key}", get(edit).post(update))
        .route(
            "/t/{tenant}/console/fields/{key}/delete",
            get(confirm_delete).post(delete),
        )
}

pub struct Line {
    key: String,
    label: String,
    kind: &'static str,
    options: String,
    required: bool,
}

#[derive(Template)]
#[template(path = "console/fields.html")]
struct FieldsPage {
    shell: Shell,
    notice: Option<&'static str>,
    can_write: bool,
    lines: Vec<Line>,
}

#[derive(Template)]
#[template(path = "console/field_form.html")]
struct FormPage {
    shell: Shell,
    /// The key of the field edited; `None` for a new one.
    key: Option<String>,
    action: String,
    fields: Vec<Field>,
    required: bool,
    form_error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

fn kind_label(k: AttributeKind) -> &'static str {
    match k {
        AttributeKind::Text => "Text",
        AttributeKind::Number => "Number",
        AttributeKind::Boolean => "Yes or no",
        AttributeKind::Date => "Date",
        AttributeKind::Enum => "One of a list",
    }
}

/// `GET /t/{tenant}/console/fields`.
async fn list(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<NoticeQuery>, QueryRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/fields");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let defs = match attributes::list(&s.store, &console.caller).await {
        Ok(d) => d,
        Err(e) => return refusal(e),
    };
    let notice = query.ok().and_then(|Query(q)| match q.notice.as_deref() {
        Some("created") => Some("The field was created."),
        Some("updated") => Some("The field was saved."),
        Some("deleted") => Some("The field and every person's value of it were removed."),
        Some("self-service") => Some("Saved what people change themselves."),
        _ => None,
    });
    render(
        StatusCode::OK,
        &FieldsPage {
            shell: console.shell("fields"),
            notice,
            can_write: console.caller.holds(admin::SETTINGS_WRITE),
            lines: defs
                .into_iter()
                .map(|d| Line {
                    kind: kind_label(d.kind),
                    options: d.options.join(", "),
                    key: d.key,
                    label: d.label,
                    required: d.required,
                })
                .collect(),
        },
    )
}

/// The form's fields: for a new definition all of them, for an existing one what may change.
fn form_fields(def: Option<&AttributeDef>, typed: &BTreeMap<String, String>) -> Vec<Field> {
    let value = |name: &str, stored: String| typed.get(name).cloned().unwrap_or(stored);
    let mut out = Vec::new();
    if def.is_none() {
        out.push(Field {
            required: true,
            hint: Some("Lowercase letters, digits and _; how apps and the API name it.".into()),
            ..Field::new("key", "Key", "text", value("key", String::new()))
        });
    }
    out.push(Field {
        required: true,
        ..Field::new(
            "label",
            "Label",
            "text",
            value("label", def.map(|d| d.label.clone()).unwrap_or_default()),
        )
    });
    out.push(Field::new(
        "description",
        "Description",
        "text",
        value(
            "description",
            def.and_then(|d| d.description.clone()).unwrap_or_default(),
        ),
    ));
    if def.is_none() {
        let mut kind = Field::new("kind", "Kind", "select", value("kind", "text".into()));
        kind.options = ["text", "number", "boolean", "date", "enum"]
            .map(String::from)
            .to_vec();
        kind.required = true;
        kind.hint = Some("It cannot change later.".into());
        out.push(kind);
    }
    if def.is_none_or(|d| d.kind == AttributeKind::Enum) {
        out.push(Field {
            hint: Some("For \"enum\": the allowed values, separated by commas.".into()),
            ..Field::new(
                "options",
                "Values",
                "text",
                value(
                    "options",
                    def.map(|d| d.options.join(", ")).unwrap_or_default(),
                ),
            )
        });
    }
    out.push(Field {
        hint: Some("Written for every person who has no value.".into()),
        ..Field::new(
            "default",
            "Default",
            "text",
            value("default", String::new()),
        )
    });
    out
}

#[allow(clippy::too_many_arguments)]
fn form_page(
    console: &Console,
    slug: &str,
    def: Option<&AttributeDef>,
    typed: &BTreeMap<String, String>,
    status: StatusCode,
    field: Option<String>,
    message: Option<String>,
) -> Response {
    let mut fields = form_fields(def, typed);
    let mut placed = false;
    if let (Some(field), Some(m)) = (&field, &message)
        && let Some(f) = fields.iter_mut().find(|f| &f.name == field)
    {
        f.error = Some(m.clone());
        placed = true;
    }
    let required = if typed.is_empty() {
        def.is_some_and(|d| d.required)
    } else {
        typed.get("required").is_some_and(|v| v == "true")
    };
    render(
        status,
        &FormPage {
            shell: console.shell("fields"),
            key: def.map(|d| d.key.clone()),
            action: match def {
                Some(d) => format!("/t/{slug}/console/fields/{}", d.key),
                None => format!("/t/{slug}/console/fields/new"),
            },
            fields,
            required,
            form_error: match (message, placed) {
                (Some(_), true) => {
                    Some("The field was not saved: correct what is marked below.".into())
                }
                (m, _) => m,
            },
        },
    )
}

/// `GET /t/{tenant}/console/fields/new`.
async fn new_form(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let back = format!("/t/{slug}/console/fields/new");
    match Console::holding(&s, &slug, &headers, &client, &back, admin::SETTINGS_WRITE).await {
        Ok(c) => form_page(
            &c,
            &slug,
            None,
            &BTreeMap::new(),
            StatusCode::OK,
            None,
            None,
        ),
        Err(page) => page,
    }
}

/// A refusal of the service as the form shows it.
fn refused(
    console: &Console,
    slug: &str,
    def: Option<&AttributeDef>,
    form: &BTreeMap<String, String>,
    e: DomainError,
) -> Response {
    match e {
        DomainError::Invalid { field, message } => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            form_page(console, slug, def, form, status, field, Some(message))
        }
        DomainError::Conflict(message) => {
            // Making a field required that people lack, or a key in use.
            let field = if message.contains("default") {
                "default"
            } else {
                "key"
            };
            let status = StatusCode::CONFLICT;
            form_page(
                console,
                slug,
                def,
                form,
                status,
                Some(field.into()),
                Some(message),
            )
        }
        e => refusal(e),
    }
}

fn options_of(form: &BTreeMap<String, String>) -> Option<Vec<String>> {
    form.get("options")
        .map(|o| {
            o.split(',')
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|o| !o.is_empty())
}

fn text(form: &BTreeMap<String, String>, name: &str) -> Option<String> {
    form.get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// `POST /t/{tenant}/console/fields/new`.
async fn create(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<BTreeMap<String, String>>, FormRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/fields/new");
    let console =
        match Console::holding(&s, &slug, &headers, &client, &back, admin::SETTINGS_WRITE).await {
            Ok(c) => c,
            Err(page) => return page,
        };
    let Ok(Form(form)) = form else {
        return refusal(DomainError::invalid("form", "the form could not be read"));
    };
    if let Some(r) = console.csrf_refusal(&s, &headers, form.get("csrf").map(String::as_str)) {
        return r;
    }
    let Some(kind) = form.get("kind").and_then(|k| AttributeKind::parse(k)) else {
        let e = DomainError::invalid("kind", "choose one of the kinds");
        return refused(&console, &slug, None, &form, e);
    };
    let req = CreateAttribute {
        key: form
            .get("key")
            .cloned()
            .unwrap_or_default()
            .trim()
            .to_owned(),
        label: form.get("label").cloned().unwrap_or_default(),
        description: text(&form, "description"),
        kind,
        options: options_of(&form),
        required: form.get("required").is_some_and(|v| v == "true"),
        default: text(&form, "default").map(|d| attribute_value(kind, &d)),
    };
    match attributes::create(&s.store, &console.caller, req).await {
        Ok(_) => see_other(&format!("/t/{slug}/console/fields?notice=created")),
        Err(e) => refused(&console, &slug, None, &form, e),
    }
}

/// The console of a writer and the definition of the path.
async fn definition(
    s: &AppState,
    slug: &str,
    key: &str,
    headers: &HeaderMap,
    client: &Client,
    back: &str,
) -> Result<(Console, AttributeDef), Response> {
    let console = Console::holding(s, slug, headers, client, back, admin::SETTINGS_WRITE).await?;
    let def = attributes::get(&s.store, &console.caller, key)
        .await
        .map_err(refusal)?;
    Ok((console, def))
}

/// `GET /t/{tenant}/console/fields/{key}`.
async fn edit(
    State(s): State<AppState>,
    Path((slug, key)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let back = format!("/t/{slug}/console/fields/{key}");
    match definition(&s, &slug, &key, &headers, &client, &back).await {
        Ok((c, d)) => form_page(
            &c,
            &slug,
            Some(&d),
            &BTreeMap::new(),
            StatusCode::OK,
            None,
            None,
        ),
        Err(page) => page,
    }
}

/// `POST /t/{tenant}/console/fields/{key}`.
async fn update(
    State(s): State<AppState>,
    Path((slug, key)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<BTreeMap<String, String>>, FormRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/fields/{key}");
    let (console, def) = match definition(&s, &slug, &key, &headers, &client, &back).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let Ok(Form(form)) = form else {
        return refusal(DomainError::invalid("form", "the form could not be read"));
    };
    if let Some(r) = console.csrf_refusal(&s, &headers, form.get("csrf").map(String::as_str)) {
        return r;
    }
    let req = UpdateAttribute {
        label: form.get("label").cloned(),
        description: Some(text(&form, "description")),
        required: Some(form.get("required").is_some_and(|v| v == "true")),
        options: (def.kind == AttributeKind::Enum).then(|| options_of(&form).unwrap_or_default()),
        default: text(&form, "default").map(|d| attribute_value(def.kind, &d)),
        kind: None,
    };
    match attributes::update(&s.store, &console.caller, &def.key, req).await {
        Ok(_) => see_other(&format!("/t/{slug}/console/fields?notice=updated")),
        Err(e) => refused(&console, &slug, Some(&def), &form, e),
    }
}

fn delete_confirm(
    slug: &str,
    d: &AttributeDef,
    f: impl FnOnce(&Confirm<'_>) -> Response,
) -> Response {
    let title = format!("Delete the field {}?", d.label);
    let action = format!("/t/{slug}/console/fields/{}/delete", d.key);
    let list = format!("/t/{slug}/console/fields");
    f(&Confirm {
        section: "fields",
        title: &title,
        consequence: "The field leaves every profile, with every person's value of it. Apps \
                      that read it stop receiving it. This cannot be undone.",
        action: &action,
        button: "Delete field",
        back: (&list, "Custom fields"),
    })
}

/// `GET /t/{tenant}/console/fields/{key}/delete`.
async fn confirm_delete(
    State(s): State<AppState>,
    Path((slug, key)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let back = format!("/t/{slug}/console/fields/{key}/delete");
    match definition(&s, &slug, &key, &headers, &client, &back).await {
        Ok((c, d)) => delete_confirm(&slug, &d, |x| x.page(&c, StatusCode::OK, None)),
        Err(page) => page,
    }
}

/// `POST /t/{tenant}/console/fields/{key}/delete`.
async fn delete(
    State(s): State<AppState>,
    Path((slug, key)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<BTreeMap<String, String>>, FormRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/fields/{key}/delete");
    let (console, def) = match definition(&s, &slug, &key, &headers, &client, &back).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let token = form.ok().and_then(|Form(f)| f.get("csrf").cloned());
    if let Some(r) = console.csrf_refusal(&s, &headers, token.as_deref()) {
        return r;
    }
    match attributes::delete(&s.store, &console.caller, &def.key).await {
        Ok(()) => see_other(&format!("/t/{slug}/console/fields?notice=deleted")),
        Err(e) => refusal(e),
    }
}
