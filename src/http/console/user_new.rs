//! The console's "New user" form (`/t/{tenant}/console/users/new`): email, names, the main
//! account and the main role, the tenant's custom attributes (its mandatory ones enforced by
//! the service, the refusal shown next to the field), and whether the person is invited with a
//! link sent now (`admin::invitations::create_and_send`; the link is shown once when no mail
//! carries it), invited without a link (active at their first sign-in) or active at once. Saved through
//! `admin::users::create`, the function of `POST /users`, so a manager creates people only in
//! an account they manage and nobody hands out a role they could not grant.

use super::profile_form::{Field, attribute_field, attribute_value};
use super::{Console, Shell, refusal, render};
use crate::admin::account_email::create_and_confirm;
use crate::admin::invitations::create_and_send;
use crate::admin::users::CreateUser;
use crate::admin::{accounts, attributes, roles};
use crate::domain::throttle::Client;
use crate::domain::{AccountId, AttributeDef, DomainError, RoleId, RoleTemplate, UserStatus};
use crate::http::AppState;
use crate::http::oidc::pages;
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new().route("/t/{tenant}/console/users/new", get(new_form).post(submit))
}

/// The profile fields of the form: name (as the API and its errors name it), label, input
/// type, whether it must be filled in.
const FIELDS: &[(&str, &str, &str, bool)] = &[
    ("email", "Email", "email", true),
    ("given_name", "Given name", "text", false),
    ("family_name", "Family name", "text", false),
    ("display_name", "Display name", "text", false),
    ("username", "Username", "text", false),
];

#[derive(Template)]
#[template(path = "console/user_new.html")]
struct NewUserPage {
    shell: Shell,
    profile: Vec<Field>,
    attributes: Vec<Field>,
    accounts: Vec<(String, String)>,
    account: String,
    account_error: Option<String>,
    roles: Vec<(String, String)>,
    role: String,
    role_error: Option<String>,
    /// The status chosen: `invite` (the default), `invited` or `active`.
    status: String,
    form_error: Option<String>,
}

/// What the form shows: the typed values (empty at first) and the refusal of a save.
#[derive(Default)]
struct Shown {
    typed: BTreeMap<String, String>,
    field: Option<String>,
    message: Option<String>,
}

async fn page(s: &AppState, console: &Console, status: StatusCode, shown: Shown) -> Response {
    let caller = &console.caller;
    let defs: Vec<AttributeDef> = attributes::list(&s.store, caller).await.unwrap_or_default();
    let account_choices = match accounts::list(&s.store, caller, Default::default()).await {
        Ok(all) => all
            .into_iter()
            .map(|a| (a.id.to_string(), a.name))
            .collect(),
        Err(_) => Vec::new(),
    };
    let role_choices = match roles::list(&s.store, caller).await {
        Ok(all) => all
            .into_iter()
            .filter(|r| r.template != Some(RoleTemplate::Owner))
            .map(|r| (r.id.to_string(), r.name))
            .collect(),
        Err(_) => Vec::new(),
    };
    let typed = |name: &str| shown.typed.get(name).cloned().unwrap_or_default();
    let mut profile: Vec<Field> = FIELDS
        .iter()
        .map(|(name, label, input, required)| Field {
            required: *required,
            hint: (*name == "username").then(|| "The email when left empty.".to_owned()),
            ..Field::new(name, label, input, typed(name))
        })
        .collect();
    let mut attrs: Vec<Field> = defs
        .iter()
        .map(|d| attribute_field(d, typed(&format!("attributes.{}", d.key))))
        .collect();
    let field_error = |name: &str| {
        (shown.field.as_deref() == Some(name))
            .then(|| shown.message.clone())
            .flatten()
    };
    let mut placed = false;
    for f in profile.iter_mut().chain(attrs.iter_mut()) {
        if let Some(m) = field_error(&f.name) {
            let key = f.name.strip_prefix("attributes.").unwrap_or(&f.name);
            f.error = Some(m.replace(&format!("`{key}`"), &f.label));
            placed = true;
        }
    }
    let account_error = field_error("account_id");
    let role_error = field_error("role_ids");
    placed |= account_error.is_some() || role_error.is_some();
    let form_error = match (&shown.message, placed) {
        (None, _) => None,
        (Some(_), true) => {
            Some("The user was not created: correct the field marked below.".to_owned())
        }
        (Some(m), false) => Some(m.clone()),
    };
    render(
        status,
        &NewUserPage {
            shell: console.shell("users"),
            profile,
            attributes: attrs,
            accounts: account_choices,
            account: typed("account_id"),
            account_error,
            roles: role_choices,
            role: typed("role_id"),
            role_error,
            status: match shown.typed.get("status").map(String::as_str) {
                Some(s @ ("invited" | "active")) => s.to_owned(),
                _ => "invite".to_owned(),
            },
            form_error,
        },
    )
}

/// `GET /t/{tenant}/console/users/new`.
async fn new_form(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let back = format!("/t/{slug}/console/users/new");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    if let Err(e) = console.caller.user_write_scope() {
        return refusal(e);
    }
    page(&s, &console, StatusCode::OK, Shown::default()).await
}

fn trimmed(form: &BTreeMap<String, String>, name: &str) -> Option<String> {
    form.get(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// `POST /t/{tenant}/console/users/new`: creates the user, then their page.
async fn submit(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<BTreeMap<String, String>>, FormRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/users/new");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
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
    let caller = &console.caller;
    let defs: Vec<AttributeDef> = attributes::list(&s.store, caller).await.unwrap_or_default();
    let mut attrs = BTreeMap::new();
    for d in &defs {
        if let Some(v) = trimmed(&form, &format!("attributes.{}", d.key)) {
            attrs.insert(d.key.clone(), attribute_value(d.kind, &v));
        }
    }
    let parse_id = |name: &str| -> Result<Option<String>, DomainError> {
        match trimmed(&form, name) {
            None => Ok(None),
            Some(v) if crate::domain::UserId::parse(&v).is_some() => Ok(Some(v)),
            Some(_) => Err(DomainError::invalid(
                if name == "role_id" {
                    "role_ids"
                } else {
                    "account_id"
                },
                "choose one of the list",
            )),
        }
    };
    let ids = parse_id("account_id").and_then(|a| Ok((a, parse_id("role_id")?)));
    let status = form.get("status").map(String::as_str);
    let result = match ids {
        Err(e) => Err(e),
        Ok((account, role)) => {
            let req = CreateUser {
                email: form.get("email").cloned().unwrap_or_default(),
                username: trimmed(&form, "username"),
                email_verified: false,
                given_name: trimmed(&form, "given_name"),
                family_name: trimmed(&form, "family_name"),
                display_name: trimmed(&form, "display_name"),
                phone: None,
                locale: None,
                timezone: None,
                external_id: None,
                status: Some(if status == Some("active") {
                    UserStatus::Active
                } else {
                    UserStatus::Invited
                }),
                attributes: attrs,
                account_id: account.map(AccountId),
                start_date: None,
                end_date: None,
                role_ids: role.map(RoleId).into_iter().collect(),
                invite: false,
            };
            if status == Some("invite") {
                let outlet = crate::admin::invitations::Outlet::of(&s.config);
                create_and_send(&s.store, caller, req, outlet)
                    .await
                    .map(|(user, sent)| (user, Some(sent)))
            } else {
                let links = crate::admin::account_email::Links::of(&s.config);
                create_and_confirm(&s.store, caller, req, links)
                    .await
                    .map(|user| (user, None))
            }
        }
    };
    match result {
        Ok((user, Some(sent))) => super::invitation::sent_page(&console, &user, &sent, true),
        Ok((user, None)) => pages::see_other(&format!(
            "/t/{slug}/console/users/{}?notice=created",
            user.id
        )),
        Err(DomainError::Invalid { field, message }) => {
            let shown = Shown {
                typed: form,
                field,
                message: Some(message),
            };
            page(&s, &console, StatusCode::UNPROCESSABLE_ENTITY, shown).await
        }
        // A taken email, or an account or role this caller may not use: said in the form,
        // with what was typed kept.
        Err(DomainError::Conflict(message)) => {
            let shown = Shown {
                typed: form,
                field: Some("email".into()),
                message: Some(message),
            };
            page(&s, &console, StatusCode::CONFLICT, shown).await
        }
        Err(DomainError::Forbidden(message)) if caller.user_write_scope().is_ok() => {
            let shown = Shown {
                typed: form,
                field: None,
                message: Some(format!("Not allowed: {message}.")),
            };
            page(&s, &console, StatusCode::FORBIDDEN, shown).await
        }
        Err(e) => refusal(e),
    }
}
