//! A user's permissions as switches (seeds 000 and 002): every permission of the tenant's
//! catalogue, whether the user holds it and where it comes from (a role, a role held in an
//! account, a group's role, a grant or deny override), read through
//! `admin::overrides::effective` (as `GET /users/{id}/effective-permissions`); and for each a
//! three-way switch (inherit, grant, deny) that removes or sets the user's override through
//! `admin::overrides::{delete, set}` (as `DELETE`/`PUT /users/{id}/overrides/{permission}`).
//! With htmx a switch replaces only its row; without, the form posts and the page comes back.

use super::{Console, Shell, is_htmx, refusal, render};
use crate::admin::overrides::{self, SetOverride};
use crate::admin::permissions as catalogue;
use crate::admin::users::authorised_user;
use crate::domain::authz::Caller;
use crate::domain::permissions::{EffectivePermissions, Source};
use crate::domain::throttle::Client;
use crate::domain::{DomainError, Effect, User, UserId};
use crate::http::AppState;
use crate::http::oidc::login::form_unreadable;
use crate::http::oidc::pages::see_other;
use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

/// Where a permission comes from, as the page says it.
pub struct Origin {
    /// `role`, `group`, `grant`, `deny` or `overruled` (a source a deny override beats).
    kind: &'static str,
    text: String,
}

impl Origin {
    fn of(source: &Source, kind_override: Option<&'static str>) -> Self {
        let (kind, text) = match source {
            Source::Role {
                role,
                account: Some(account),
                ..
            } => ("role", format!("Role {role} in account {account}")),
            Source::Role {
                role,
                account_id: Some(_),
                ..
            } => ("role", format!("Role {role} in an account")),
            Source::Role { role, .. } => ("role", format!("Role {role}")),
            Source::GroupRole { role, group, .. } => {
                ("group", format!("Group {group} (role {role})"))
            }
            Source::Override { effect, reason } => {
                let (kind, what) = match effect {
                    Effect::Grant => ("grant", "Granted to this user"),
                    Effect::Deny => ("deny", "Denied to this user"),
                };
                match reason {
                    Some(r) => (kind, format!("{what}: {r}")),
                    None => (kind, what.to_owned()),
                }
            }
        };
        Origin {
            kind: kind_override.unwrap_or(kind),
            text,
        }
    }
}

/// One permission of the catalogue for this user.
pub struct Row {
    name: String,
    description: String,
    /// `held`, `none` or `denied` (the badge's class).
    status: &'static str,
    status_label: &'static str,
    origins: Vec<Origin>,
    /// The switch's position: `inherit`, `grant` or `deny`.
    setting: &'static str,
    /// Whether the caller may move the switch (the service's rule, checked ahead to hide it).
    can_switch: bool,
    /// Whether `deny` is offered (the tenant's owner cannot be denied Castellan's permissions).
    can_deny: bool,
    /// Why the last switch of this row was refused (htmx only).
    error: Option<String>,
}

impl Row {
    fn of(
        name: String,
        description: Option<String>,
        eff: &EffectivePermissions,
        caller: &Caller,
        target: &User,
        writable: bool,
    ) -> Self {
        let granted = eff.permissions.iter().find(|g| g.permission == name);
        let denied = eff.denied.iter().find(|d| d.permission == name);
        let (status, status_label, origins, setting) = match (denied, granted) {
            (Some(d), _) => {
                let mut origins = vec![Origin::of(&d.denied_by, None)];
                origins.extend(
                    d.overridden_sources
                        .iter()
                        .map(|s| Origin::of(s, Some("overruled"))),
                );
                ("denied", "Denied", origins, "deny")
            }
            (None, Some(g)) => {
                let by_grant = g.sources.iter().any(|s| {
                    matches!(
                        s,
                        Source::Override {
                            effect: Effect::Grant,
                            ..
                        }
                    )
                });
                let origins = g.sources.iter().map(|s| Origin::of(s, None)).collect();
                let setting = if by_grant { "grant" } else { "inherit" };
                ("held", "Held", origins, setting)
            }
            (None, None) => ("none", "Not held", Vec::new(), "inherit"),
        };
        Row {
            can_switch: writable && caller.require_all_held([name.as_str()]).is_ok(),
            can_deny: !(target.is_owner && name.starts_with("castellan:")),
            name,
            description: description.unwrap_or_default(),
            status,
            status_label,
            origins,
            setting,
            error: None,
        }
    }
}

/// What the page shows of a user.
struct View {
    target: User,
    rows: Vec<Row>,
}

/// The user (whom the caller must be able to read), their effective permissions, and one row
/// per permission of the catalogue. A caller who may not read the catalogue sees the
/// permissions the user holds or is denied.
async fn view(s: &AppState, caller: &Caller, id: &UserId) -> Result<View, DomainError> {
    let target = authorised_user(&s.store, caller, id, false).await?;
    let eff = overrides::effective(&s.store, caller, id).await?;
    let writable = match authorised_user(&s.store, caller, id, true).await {
        Ok(_) => true,
        Err(DomainError::Forbidden(_)) => false,
        Err(e) => return Err(e),
    };
    let entries: Vec<(String, Option<String>)> = match catalogue::list(&s.store, caller).await {
        Ok(list) => list.into_iter().map(|p| (p.name, p.description)).collect(),
        Err(DomainError::Forbidden(_)) => {
            let mut names: Vec<String> = eff
                .names()
                .map(str::to_owned)
                .chain(eff.denied.iter().map(|d| d.permission.clone()))
                .collect();
            names.sort();
            names.into_iter().map(|n| (n, None)).collect()
        }
        Err(e) => return Err(e),
    };
    let rows = entries
        .into_iter()
        .map(|(name, description)| Row::of(name, description, &eff, caller, &target, writable))
        .collect();
    Ok(View { target, rows })
}

#[derive(Template)]
#[template(path = "console/permissions.html")]
struct PermissionsPage {
    shell: Shell,
    user_id: String,
    user_label: String,
    notice: Option<&'static str>,
    rows: Vec<Row>,
}

/// One row alone, for htmx.
#[derive(Template)]
#[template(path = "console/permission_row.html")]
struct RowFragment {
    shell: Shell,
    user_id: String,
    r: Row,
}

#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

/// The fixed text of a `?notice=` after a switch without JavaScript.
fn notice_text(key: Option<&str>) -> Option<&'static str> {
    match key? {
        "granted" => Some("The permission is now granted to this user."),
        "denied" => Some("The permission is now denied to this user, whatever their roles say."),
        "inherited" => {
            Some("The user now holds the permission only if a role or a group gives it.")
        }
        _ => None,
    }
}

/// The page's address for the user `id`.
fn address(slug: &str, id: &UserId) -> String {
    format!("/t/{slug}/console/users/{id}/permissions")
}

/// `GET /t/{tenant}/console/users/{id}/permissions`.
pub async fn page(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<NoticeQuery>, QueryRejection>,
) -> Response {
    let Some(id) = UserId::parse(&id) else {
        return refusal(DomainError::NotFound("user"));
    };
    let back = address(&slug, &id);
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let view = match view(&s, &console.caller, &id).await {
        Ok(v) => v,
        Err(e) => return refusal(e),
    };
    let notice = query
        .ok()
        .and_then(|Query(q)| notice_text(q.notice.as_deref()));
    render(
        StatusCode::OK,
        &PermissionsPage {
            shell: console.shell("users"),
            user_id: id.to_string(),
            user_label: view.target.email.clone(),
            notice,
            rows: view.rows,
        },
    )
}

/// A switch as the form sends it.
#[derive(Debug, Deserialize)]
pub struct SwitchForm {
    csrf: Option<String>,
    #[serde(default)]
    permission: String,
    #[serde(default)]
    effect: String,
}

/// Moves the switch: sets or removes the override; the notice key of what was done.
async fn apply(
    s: &AppState,
    caller: &Caller,
    user: &UserId,
    form: &SwitchForm,
) -> Result<&'static str, DomainError> {
    let effect = match form.effect.as_str() {
        "grant" => Effect::Grant,
        "deny" => Effect::Deny,
        "inherit" => {
            return match overrides::delete(&s.store, caller, user, &form.permission).await {
                // Nothing to remove: the switch is already where it was asked to be.
                Ok(()) | Err(DomainError::NotFound("override")) => Ok("inherited"),
                Err(e) => Err(e),
            };
        }
        _ => {
            return Err(DomainError::invalid(
                "effect",
                "a switch is set to grant, deny or inherit",
            ));
        }
    };
    let req = SetOverride {
        effect,
        reason: None,
    };
    overrides::set(&s.store, caller, user, &form.permission, req).await?;
    Ok(match effect {
        Effect::Grant => "granted",
        Effect::Deny => "denied",
    })
}

/// `POST /t/{tenant}/console/users/{id}/permissions` (`csrf`, `permission`, `effect`).
pub async fn switch(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<SwitchForm>, FormRejection>,
) -> Response {
    let Some(id) = UserId::parse(&id) else {
        return refusal(DomainError::NotFound("user"));
    };
    let back = address(&slug, &id);
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let Ok(Form(form)) = form else {
        return form_unreadable(console.me.lang);
    };
    if let Some(refused) = console.csrf_refusal(&s, &headers, form.csrf.as_deref()) {
        return refused;
    }
    let done = apply(&s, &console.caller, &id, &form).await;
    if is_htmx(&headers) {
        return row(&s, &console, &id, &form.permission, done.err()).await;
    }
    match done {
        Ok(notice) => see_other(&format!("{back}?notice={notice}")),
        Err(e) => refusal(e),
    }
}

/// The row of `permission` as it is now, for htmx to swap in, with why the switch was refused
/// if it was. A refused switch still answers 200 with the row: htmx swaps only successful
/// answers, and the person must see both the state and the reason in place.
async fn row(
    s: &AppState,
    console: &Console,
    id: &UserId,
    permission: &str,
    refused: Option<DomainError>,
) -> Response {
    let view = match view(s, &console.caller, id).await {
        Ok(v) => v,
        Err(e) => return refusal(e),
    };
    let Some(mut r) = view.rows.into_iter().find(|r| r.name == permission) else {
        return refusal(refused.unwrap_or(DomainError::NotFound("permission")));
    };
    match refused {
        Some(DomainError::Internal(e)) => return refusal(DomainError::Internal(e)),
        Some(e) => r.error = Some(e.to_string()),
        None => {}
    }
    render(
        StatusCode::OK,
        &RowFragment {
            shell: console.shell("users"),
            user_id: id.to_string(),
            r,
        },
    )
}
