//! The console's user page (`/t/{tenant}/console/users/{id}`): the profile and the tenant's
//! custom attributes, an edit form saved through `admin::users::update` (the same function as
//! `PATCH /users/{id}`), and the status, password and second-factor actions the caller may take
//! (see `user_actions`). A refused save shows the service's field error next to the field and
//! keeps what was typed.

use super::user_actions::{Action, offered};
use super::users::{display_name, status_label};
use super::{Console, Shell, refusal, render};
use crate::admin::users::{UpdateUser, authorised_user, get as get_user, update as update_user};
use crate::domain::{AttributeDef, AttributeKind, DomainError, User, UserId};
use crate::http::AppState;
use crate::http::oidc::pages;
use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The profile fields of the form: name (as the API and its errors name it), label, input type,
/// whether it must be filled in.
const PROFILE: &[(&str, &str, &str, bool)] = &[
    ("email", "Email", "email", true),
    ("username", "Username", "text", true),
    ("given_name", "Given name", "text", false),
    ("family_name", "Family name", "text", false),
    ("display_name", "Display name", "text", false),
    ("phone", "Phone", "tel", false),
    ("locale", "Locale", "text", false),
    ("timezone", "Time zone", "text", false),
    ("external_id", "External id", "text", false),
];

/// One field of the form (or one line of the read-only profile).
pub struct Field {
    pub name: String,
    pub label: String,
    /// `text`, `email`, `tel`, `number`, `date`, `select`.
    pub input: &'static str,
    pub value: String,
    /// The choices of a `select` (the empty choice is added by the template).
    pub options: Vec<String>,
    pub required: bool,
    pub hint: Option<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/user.html")]
struct UserPage {
    shell: Shell,
    id: String,
    name: String,
    email: String,
    status: &'static str,
    status_label: &'static str,
    owner: bool,
    version: i64,
    can_edit: bool,
    attributes_editable: bool,
    profile: Vec<Field>,
    attributes: Vec<Field>,
    factors: Option<usize>,
    actions: Vec<Action>,
    notice: Option<&'static str>,
    form_error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    notice: String,
}

/// The fixed texts `?notice=` may show after a redirect.
fn notice_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "saved" => "The profile was saved.",
        "activated" => "The user was activated.",
        "deactivated" => "The user was deactivated and signed out everywhere.",
        "reactivated" => "The user was reactivated.",
        "anonymised" => "The user was anonymised. Their history is kept.",
        "password" => "The new password was set.",
        "factors" => "The user's second factors and recovery codes were removed.",
        _ => return None,
    })
}

/// A console request about one user: the caller, and the user's id from the path (a path that
/// is not a user id is a 404 page).
pub async fn open(
    s: &AppState,
    (slug, id): &(String, String),
    headers: &HeaderMap,
    ip: Option<String>,
    back: &str,
) -> Result<(Console, UserId), Response> {
    let console = Console::of(s, slug, headers, ip, back).await?;
    let id = UserId::parse(id).ok_or_else(|| refusal(DomainError::NotFound("user")))?;
    Ok((console, id))
}

/// Whether the caller may change the user: the service's own check, a refusal being "no".
pub async fn may_change(s: &AppState, console: &Console, id: &UserId) -> Result<bool, Response> {
    match authorised_user(&s.store, &console.caller, id, true).await {
        Ok(_) => Ok(true),
        Err(DomainError::Forbidden(_)) => Ok(false),
        Err(e) => Err(refusal(e)),
    }
}

/// `GET /t/{tenant}/console/users/{id}`.
pub async fn show(
    State(s): State<AppState>,
    Path(path): Path<(String, String)>,
    headers: HeaderMap,
    client: crate::domain::throttle::Client,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let back = format!("/t/{}/console/users/{}", path.0, path.1);
    let ip = client.ip.map(|i| i.to_string());
    let (console, id) = match open(&s, &path, &headers, ip, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let user = match get_user(&s.store, &console.caller, &id).await {
        Ok(u) => u,
        Err(e) => return refusal(e),
    };
    let notice = query.ok().and_then(|Query(q)| notice_text(&q.notice));
    page(&s, &console, &user, None, notice, Invalid::default()).await
}

/// What a refused save brings back to the form: the typed values and the error.
#[derive(Default)]
struct Invalid {
    typed: Option<BTreeMap<String, String>>,
    field: Option<String>,
    message: Option<String>,
}

/// The tenant's attribute definitions, when the caller may read the settings (else the
/// attributes are shown as stored, by key, and not edited here).
async fn definitions(
    s: &AppState,
    console: &Console,
) -> Result<Option<Vec<AttributeDef>>, Response> {
    match crate::admin::attributes::list(&s.store, &console.caller).await {
        Ok(defs) => Ok(Some(defs)),
        Err(DomainError::Forbidden(_)) => Ok(None),
        Err(e) => Err(refusal(e)),
    }
}

/// A stored attribute value as the form writes it.
fn form_value(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn optional(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// The user's profile fields, in the form's order, as the form writes them.
fn profile_values(u: &User) -> [String; 9] {
    [
        u.email.clone(),
        u.username.clone(),
        optional(&u.given_name),
        optional(&u.family_name),
        optional(&u.display_name),
        optional(&u.phone),
        optional(&u.locale),
        optional(&u.timezone),
        optional(&u.external_id),
    ]
}

fn attribute_field(def: &AttributeDef, value: String) -> Field {
    let (input, options) = match def.kind {
        AttributeKind::Number => ("number", Vec::new()),
        AttributeKind::Date => ("date", Vec::new()),
        AttributeKind::Boolean => ("select", vec!["true".to_owned(), "false".to_owned()]),
        AttributeKind::Enum => ("select", def.options.clone()),
        AttributeKind::Text => ("text", Vec::new()),
    };
    Field {
        name: format!("attributes.{}", def.key),
        label: def.label.clone(),
        input,
        value,
        options,
        required: def.required,
        hint: def.description.clone(),
        error: None,
    }
}

/// Renders the page; with `invalid`, the typed values and the error are shown in the form.
async fn page(
    s: &AppState,
    console: &Console,
    user: &User,
    status: Option<StatusCode>,
    notice: Option<&'static str>,
    invalid: Invalid,
) -> Response {
    let defs = match definitions(s, console).await {
        Ok(d) => d,
        Err(page) => return page,
    };
    let may = match may_change(s, console, &user.id).await {
        Ok(m) => m,
        Err(page) => return page,
    };
    let factors = crate::admin::mfa::factors(&s.store, &console.caller, &user.id)
        .await
        .ok()
        .map(|f| f.factors.len());
    let typed = |name: &str, stored: String| match &invalid.typed {
        Some(t) => t.get(name).cloned().unwrap_or(stored),
        None => stored,
    };
    let mut profile: Vec<Field> = PROFILE
        .iter()
        .zip(profile_values(user))
        .map(|((name, label, input, required), value)| Field {
            name: (*name).to_owned(),
            label: (*label).to_owned(),
            input,
            value: typed(name, value),
            options: Vec::new(),
            required: *required,
            hint: None,
            error: None,
        })
        .collect();
    let mut attributes: Vec<Field> = match &defs {
        Some(defs) => defs
            .iter()
            .map(|d| {
                let name = format!("attributes.{}", d.key);
                attribute_field(d, typed(&name, form_value(user.attributes.get(&d.key))))
            })
            .collect(),
        None => user
            .attributes
            .iter()
            .map(|(k, v)| Field {
                name: format!("attributes.{k}"),
                label: k.clone(),
                input: "text",
                value: form_value(Some(v)),
                options: Vec::new(),
                required: false,
                hint: None,
                error: None,
            })
            .collect(),
    };
    let mut form_error = invalid.message.clone();
    if let Some(field) = &invalid.field
        && let Some(f) = profile
            .iter_mut()
            .chain(attributes.iter_mut())
            .find(|f| &f.name == field)
    {
        // The service names the field as the API does (`cost_centre`); the form by its label.
        let key = f.name.strip_prefix("attributes.").unwrap_or(&f.name);
        f.error = invalid
            .message
            .as_ref()
            .map(|m| m.replace(&format!("`{key}`"), &f.label));
        form_error = Some("The profile was not saved: correct the field marked below.".into());
    }
    render(
        status.unwrap_or(StatusCode::OK),
        &UserPage {
            shell: console.shell("users"),
            id: user.id.to_string(),
            name: display_name(user),
            email: user.email.clone(),
            status: user.status.as_str(),
            status_label: status_label(user.status),
            owner: user.is_owner,
            version: user.version,
            can_edit: may && user.status != crate::domain::UserStatus::Anonymised,
            attributes_editable: defs.is_some(),
            profile,
            attributes,
            factors,
            actions: if may {
                offered(&console.caller, user)
            } else {
                Vec::new()
            },
            notice,
            form_error,
        },
    )
}

/// The changes the form makes to `user`: only the fields it carries that differ.
fn changes(user: &User, defs: &[AttributeDef], form: &BTreeMap<String, String>) -> UpdateUser {
    let mut req = UpdateUser::default();
    let current = profile_values(user);
    let changed = |i: usize| {
        let name = PROFILE[i].0;
        form.get(name)
            .filter(|v| v.trim() != current[i].trim())
            .cloned()
    };
    req.email = changed(0);
    req.username = changed(1);
    let slots = [
        &mut req.given_name,
        &mut req.family_name,
        &mut req.display_name,
        &mut req.phone,
        &mut req.locale,
        &mut req.timezone,
        &mut req.external_id,
    ];
    for (i, slot) in slots.into_iter().enumerate() {
        *slot = changed(i + 2).map(|v| (!v.trim().is_empty()).then_some(v));
    }
    for def in defs {
        let Some(typed) = form.get(&format!("attributes.{}", def.key)) else {
            continue;
        };
        if typed.trim() == form_value(user.attributes.get(&def.key)) {
            continue;
        }
        req.attributes
            .insert(def.key.clone(), attribute_value(def.kind, typed.trim()));
    }
    req
}

/// A typed attribute as JSON: empty removes it; a number or boolean that does not read as one
/// is passed on as text, for the service to refuse with its own field error.
fn attribute_value(kind: AttributeKind, typed: &str) -> Value {
    if typed.is_empty() {
        return Value::Null;
    }
    let parsed = match kind {
        AttributeKind::Number => typed
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        AttributeKind::Boolean => typed.parse::<bool>().ok().map(Value::Bool),
        _ => None,
    };
    parsed.unwrap_or_else(|| Value::String(typed.to_owned()))
}

/// `POST /t/{tenant}/console/users/{id}`: saves the profile form.
pub async fn save(
    State(s): State<AppState>,
    Path(path): Path<(String, String)>,
    headers: HeaderMap,
    client: crate::domain::throttle::Client,
    form: Result<Form<BTreeMap<String, String>>, FormRejection>,
) -> Response {
    let back = format!("/t/{}/console/users/{}", path.0, path.1);
    let ip = client.ip.map(|i| i.to_string());
    let (console, id) = match open(&s, &path, &headers, ip, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let Ok(Form(form)) = form else {
        return refusal(DomainError::invalid("form", "the form could not be read"));
    };
    if let Some(refused) = console.csrf_refusal(&s, &headers, form.get("csrf").map(String::as_str))
    {
        return refused;
    }
    let user = match get_user(&s.store, &console.caller, &id).await {
        Ok(u) => u,
        Err(e) => return refusal(e),
    };
    let defs = match definitions(&s, &console).await {
        Ok(d) => d.unwrap_or_default(),
        Err(page) => return page,
    };
    let if_match = form.get("version").and_then(|v| v.parse::<i64>().ok());
    let req = changes(&user, &defs, &form);
    match update_user(&s.store, &console.caller, &id, if_match, req).await {
        Ok(_) => pages::see_other(&format!("{back}?notice=saved")),
        Err(DomainError::Invalid { field, message }) => {
            let invalid = Invalid {
                typed: Some(form),
                field,
                message: Some(message),
            };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            page(&s, &console, &user, Some(status), None, invalid).await
        }
        Err(e @ (DomainError::Conflict(_) | DomainError::PreconditionFailed(_))) => {
            let message = match e {
                DomainError::Conflict(m) => m,
                _ => "Someone changed this user while you were editing. Check the values below \
                      (they are what you typed) and save again."
                    .into(),
            };
            let invalid = Invalid {
                typed: Some(form),
                field: None,
                message: Some(message),
            };
            // The form's version is the one just read, so saving again applies what was typed.
            page(
                &s,
                &console,
                &user,
                Some(StatusCode::CONFLICT),
                None,
                invalid,
            )
            .await
        }
        Err(e) => refusal(e),
    }
}
