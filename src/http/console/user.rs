//! The console's user page (`/t/{tenant}/console/users/{id}`): the profile and the tenant's
//! custom attributes, an edit form saved through `admin::users::update` (the same function as
//! `PATCH /users/{id}`), and the status, password and second-factor actions the caller may take
//! (see `user_actions`). A refused save shows the service's field error next to the field and
//! keeps what was typed.

use super::profile_form::{Field, Invalid, changes, form_fields};
use super::user_actions::{Action, offered};
use super::users::{display_name, status_label};
use super::{Console, Shell, refusal, render};
use crate::admin::users::{authorised_user, get as get_user, update as update_user};
use crate::domain::throttle::Client;
use crate::domain::{AttributeDef, DomainError, User, UserId};
use crate::http::AppState;
use crate::http::oidc::pages;
use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use std::collections::BTreeMap;

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
    /// The apps the user consented to (`None`: the caller may not see them).
    apps: Option<Vec<super::user_apps::AppLine>>,
    /// The user's live sessions (`None`: the caller may not see them).
    sessions: Option<Vec<super::user_sessions::SessionLine>>,
    /// An invited user's invitation.
    invitation: Option<super::invitation::InvitationLine>,
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
        "created" => "The user was created.",
        "activated" => "The user was activated.",
        "deactivated" => "The user was deactivated and signed out everywhere.",
        "reactivated" => "The user was reactivated.",
        "anonymised" => "The user was anonymised. Their history is kept.",
        "password" => "The new password was set.",
        "factors" => "The user's second factors and recovery codes were removed.",
        "owner" => "The user is now the organisation's owner.",
        "consent" => "The consent was withdrawn: the app's access for this user ended.",
        "session" => "The session was ended.",
        "sessions" => "The user was signed out everywhere.",
        _ => return None,
    })
}

/// A console request about one user: the caller, and the user's id from the path (a path that
/// is not a user id is a 404 page).
pub async fn open(
    s: &AppState,
    (slug, id): &(String, String),
    headers: &HeaderMap,
    client: &Client,
    back: &str,
) -> Result<(Console, UserId), Response> {
    let console = Console::of(s, slug, headers, client, back).await?;
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
    client: Client,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let back = format!("/t/{}/console/users/{}", path.0, path.1);
    let (console, id) = match open(&s, &path, &headers, &client, &back).await {
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
    let (profile, attributes, form_error) = form_fields(user, defs.as_deref(), &invalid);
    let apps = super::user_apps::of(s, console, &user.id).await;
    let sessions = super::user_sessions::of(s, console, user).await;
    let invitation = super::invitation::of(s, console, user).await;
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
            apps,
            sessions,
            invitation,
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

/// `POST /t/{tenant}/console/users/{id}`: saves the profile form.
pub async fn save(
    State(s): State<AppState>,
    Path(path): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<BTreeMap<String, String>>, FormRejection>,
) -> Response {
    let back = format!("/t/{}/console/users/{}", path.0, path.1);
    let (console, id) = match open(&s, &path, &headers, &client, &back).await {
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
            let invalid = Invalid::of(form, field, message);
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
            let invalid = Invalid::of(form, None, message);
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
