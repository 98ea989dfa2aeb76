//! `/t/{tenant}/account`: the person's profile. They change the fields the tenant's profile
//! policy opens to them (by default the names, phone, language and time zone; custom fields when
//! the tenant opens them) through `admin::users::update`, which refuses a self-service caller
//! anything else; the fields the tenant keeps are shown read-only. The email is shown read-only
//! here: it changes on its own page (`email.rs`), through a link sent to the new address.

use super::field_errors::field_error;
use super::{Portal, texts::AccountTexts};
use crate::admin::profile_policy;
use crate::admin::users::{self, UpdateUser};
use crate::domain::profile_policy::{ProfilePolicy, attribute};
use crate::domain::throttle::Client;
use crate::domain::{AttributeDef, AttributeKind, DomainError, User};
use crate::http::AppState;
use crate::http::console::profile_form::attribute_value;
use crate::http::console::{Shell, render};
use crate::http::oidc::i18n::Lang;
use crate::http::oidc::login::form_unreadable;
use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// One field of an account form: a visible label, the input, an optional hint and the field's
/// error next to it.
pub struct Field {
    pub name: String,
    pub label: String,
    /// `text`, `tel`, `password`, `number`, `date`, `select`.
    pub input: &'static str,
    pub value: String,
    pub autocomplete: &'static str,
    /// The choices of a `select` (value, label); the template adds the empty one.
    pub options: Vec<(String, String)>,
    pub required: bool,
    pub hint: Option<String>,
    pub error: Option<String>,
}

/// A profile field the person sees but does not change (the tenant keeps it).
pub struct Shown {
    pub label: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "account/profile.html")]
struct ProfilePage {
    shell: Shell,
    t: &'static AccountTexts,
    email: String,
    /// The link to the address change page.
    change_email: &'static str,
    notice: Option<&'static str>,
    invalid: bool,
    fields: Vec<Field>,
    kept: Vec<Shown>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    pub notice: Option<String>,
}

/// A standard profile field as the portal shows it: its name (as the API and the policy name
/// it), label, input type, autocomplete token, hint, and the user's value.
struct Standard {
    name: &'static str,
    label: &'static str,
    input: &'static str,
    autocomplete: &'static str,
    hint: Option<&'static str>,
    value: String,
}

fn standard(t: &AccountTexts, u: &User) -> [Standard; 6] {
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    let f = |name, label, input, autocomplete, hint, value| Standard {
        name,
        label,
        input,
        autocomplete,
        hint,
        value,
    };
    [
        f(
            "given_name",
            t.given_name,
            "text",
            "given-name",
            None,
            v(&u.given_name),
        ),
        f(
            "family_name",
            t.family_name,
            "text",
            "family-name",
            None,
            v(&u.family_name),
        ),
        f(
            "display_name",
            t.display_name,
            "text",
            "nickname",
            None,
            v(&u.display_name),
        ),
        f("phone", t.phone, "tel", "tel", None, v(&u.phone)),
        f(
            "locale",
            t.locale,
            "text",
            "language",
            Some(t.locale_hint),
            v(&u.locale),
        ),
        f(
            "timezone",
            t.timezone,
            "text",
            "off",
            Some(t.timezone_hint),
            v(&u.timezone),
        ),
    ]
}

/// The form: the fields the policy opens (standard ones, then custom attributes), showing
/// `typed` where given and the error next to its field; and the standard fields kept by the
/// tenant, read-only.
fn form(
    t: &AccountTexts,
    u: &User,
    policy: &ProfilePolicy,
    defs: &[AttributeDef],
    typed: Option<&BTreeMap<String, String>>,
    error: Option<(&str, String)>,
) -> (Vec<Field>, Vec<Shown>) {
    let typed_or =
        |name: &str, stored: String| typed.and_then(|t| t.get(name).cloned()).unwrap_or(stored);
    let error_of = |name: &str| {
        error
            .as_ref()
            .filter(|(f, _)| *f == name)
            .map(|(_, m)| m.clone())
    };
    let (open, closed): (Vec<_>, Vec<_>) = standard(t, u)
        .into_iter()
        .partition(|f| policy.allows(f.name));
    let mut fields: Vec<Field> = open
        .into_iter()
        .map(|f| Field {
            name: f.name.to_owned(),
            label: f.label.to_owned(),
            input: f.input,
            value: typed_or(f.name, f.value),
            autocomplete: f.autocomplete,
            options: Vec::new(),
            required: false,
            hint: f.hint.map(str::to_owned),
            error: error_of(f.name),
        })
        .collect();
    for def in defs.iter().filter(|d| policy.allows(&attribute(&d.key))) {
        let name = attribute(&def.key);
        let stored = attribute_text(u.attributes.get(&def.key));
        let (input, options) = match def.kind {
            AttributeKind::Number => ("number", Vec::new()),
            AttributeKind::Date => ("date", Vec::new()),
            AttributeKind::Boolean => (
                "select",
                vec![
                    ("true".to_owned(), t.yes.to_owned()),
                    ("false".to_owned(), t.no.to_owned()),
                ],
            ),
            AttributeKind::Enum => (
                "select",
                def.options.iter().map(|o| (o.clone(), o.clone())).collect(),
            ),
            AttributeKind::Text => ("text", Vec::new()),
        };
        fields.push(Field {
            value: typed_or(&name, stored),
            error: error_of(&name),
            name,
            label: def.label.clone(),
            input,
            autocomplete: "off",
            options,
            required: def.required,
            hint: def.description.clone(),
        });
    }
    let kept = closed
        .into_iter()
        .map(|f| Shown {
            label: f.label.to_owned(),
            value: if f.value.is_empty() {
                t.not_set.to_owned()
            } else {
                f.value
            },
        })
        .collect();
    (fields, kept)
}

/// A stored attribute value as the form writes it.
fn attribute_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The change a submitted form asks for: the open standard fields it carries (an empty one
/// cleared) and the open custom attributes whose value it changes. Fields the policy keeps are
/// never sent, whatever the form carries; the service would refuse them anyway.
fn update(
    u: &User,
    policy: &ProfilePolicy,
    defs: &[AttributeDef],
    form: &BTreeMap<String, String>,
) -> UpdateUser {
    let field = |name: &str| {
        form.get(name)
            .filter(|_| policy.allows(name))
            .map(|s| Some(s.trim().to_owned()).filter(|s| !s.is_empty()))
    };
    let mut req = UpdateUser {
        given_name: field("given_name"),
        family_name: field("family_name"),
        display_name: field("display_name"),
        phone: field("phone"),
        locale: field("locale"),
        timezone: field("timezone"),
        ..Default::default()
    };
    for def in defs.iter().filter(|d| policy.allows(&attribute(&d.key))) {
        let Some(typed) = form.get(&attribute(&def.key)) else {
            continue;
        };
        if typed.trim() != attribute_text(u.attributes.get(&def.key)) {
            req.attributes
                .insert(def.key.clone(), attribute_value(def.kind, typed.trim()));
        }
    }
    req
}

/// The label of the field the service names `name` (`attributes.key` for a custom one).
fn label_of(t: &AccountTexts, u: &User, defs: &[AttributeDef], name: &str) -> String {
    if let Some(f) = standard(t, u).into_iter().find(|f| f.name == name) {
        return f.label.to_owned();
    }
    name.strip_prefix("attributes.")
        .and_then(|key| defs.iter().find(|d| d.key == key))
        .map_or_else(|| t.this_field.to_owned(), |d| d.label.clone())
}

fn page(
    p: &Portal,
    status: StatusCode,
    notice: Option<&'static str>,
    (fields, kept): (Vec<Field>, Vec<Shown>),
) -> Response {
    render(
        status,
        &ProfilePage {
            shell: p.shell(""),
            t: p.t,
            email: p.me.user.email.clone(),
            change_email: crate::http::account_email::texts::EmailTexts::of(p.me.lang).change_link,
            notice,
            invalid: status == StatusCode::BAD_REQUEST,
            fields,
            kept,
        },
    )
}

/// The tenant's profile policy and custom fields.
async fn rules(s: &AppState, p: &Portal) -> Result<(ProfilePolicy, Vec<AttributeDef>), Response> {
    let tenant = &p.me.tenant.id;
    let policy = profile_policy::current(&s.store, tenant)
        .await
        .map_err(|e| p.refusal(e))?;
    let defs = s
        .store
        .attribute_defs(tenant)
        .await
        .map_err(|e| p.refusal(e))?;
    Ok((policy, defs))
}

/// `GET /t/{tenant}/account`.
pub async fn show(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<NoticeQuery>, QueryRejection>,
) -> Response {
    let back = format!("/t/{slug}/account");
    let p = match Portal::of(&s, &slug, &headers, &client, &back).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let notice = query
        .ok()
        .and_then(|Query(q)| q.notice)
        .filter(|n| n == "saved")
        .map(|_| p.t.profile_saved);
    let (policy, defs) = match rules(&s, &p).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let fields = form(p.t, &p.me.user, &policy, &defs, None, None);
    page(&p, StatusCode::OK, notice, fields)
}

/// `POST /t/{tenant}/account`: saves the profile; a refused field comes back with its error
/// next to it (400) and what was typed.
pub async fn save(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    typed: Result<Form<BTreeMap<String, String>>, FormRejection>,
) -> Response {
    let Ok(Form(typed)) = typed else {
        return form_unreadable(Lang::choose(None, &headers));
    };
    let back = format!("/t/{slug}/account");
    let p = match Portal::of(&s, &slug, &headers, &client, &back).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    if let Some(refused) = p.csrf_refusal(&s, typed.get("csrf").map(String::as_str)) {
        return refused;
    }
    let (policy, defs) = match rules(&s, &p).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let me = &p.me.user;
    let req = update(me, &policy, &defs, &typed);
    match users::update(&s.store, &p.caller, &me.id, None, req).await {
        Ok(_) => p.back_with("", "saved"),
        Err(DomainError::Invalid {
            field: Some(field),
            message,
        }) => {
            // The service names the field as the API does, in English; the form by its label,
            // in the person's language.
            let key = field.strip_prefix("attributes.").unwrap_or(&field);
            let label = label_of(p.t, me, &defs, &field);
            let message = field_error(p.me.lang, key, &label, &message);
            let error = Some((field.as_str(), message));
            let fields = form(p.t, me, &policy, &defs, Some(&typed), error);
            page(&p, StatusCode::BAD_REQUEST, None, fields)
        }
        Err(e) => p.refusal(e),
    }
}
