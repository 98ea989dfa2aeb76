//! The actions of the console's app page: giving or taking a service role, and rotating the
//! secret or deleting the app, each behind a confirmation page
//! (`GET /t/{tenant}/console/apps/{id}/{rotate|delete}`) and taken by a form POST to the same
//! address, through `admin::clients` as `/clients/{id}/...` does.

use super::apps::{app_of, secret_page};
use super::{Console, Shell, refusal, render};
use crate::admin::clients;
use crate::domain::oidc::Client as App;
use crate::domain::permissions::admin;
use crate::domain::throttle::Client;
use crate::domain::{DomainError, RoleId};
use crate::http::AppState;
use crate::http::oidc::pages::see_other;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};

/// The routes of the app page's actions.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/console/apps/{id}/roles", post(set_role))
        .route(
            "/t/{tenant}/console/apps/{id}/{action}",
            get(confirm).post(act),
        )
}

/// The service-role form: the role and whether to give or take it.
#[derive(Default)]
struct RoleForm {
    csrf: Option<String>,
    role_id: String,
    grant: bool,
}

impl RoleForm {
    fn read(body: &[u8]) -> Self {
        let mut f = RoleForm::default();
        for (k, v) in url::form_urlencoded::parse(body) {
            match &*k {
                "csrf" => f.csrf = Some(v.into_owned()),
                "role_id" => f.role_id = v.into_owned(),
                "change" => f.grant = v == "grant",
                _ => {}
            }
        }
        f
    }
}

/// `POST /t/{tenant}/console/apps/{id}/roles`: gives or takes a service role.
async fn set_role(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let back = format!("/t/{slug}/console/apps/{id}");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let f = RoleForm::read(&body);
    if let Some(refused) = console.csrf_refusal(&s, &headers, f.csrf.as_deref()) {
        return refused;
    }
    let app = match app_of(&s, &console, &id).await {
        Ok(a) => a,
        Err(page) => return page,
    };
    let Some(role) = RoleId::parse(&f.role_id) else {
        return refusal(DomainError::NotFound("role"));
    };
    match clients::set_role(&s.store, &s.oidc, &console.caller, &app.id, &role, f.grant).await {
        Ok(_) => {
            let notice = if f.grant {
                "role-added"
            } else {
                "role-removed"
            };
            see_other(&format!(
                "/t/{slug}/console/apps/{}?notice={notice}",
                app.id
            ))
        }
        Err(e) => refusal(e),
    }
}

/// A confirmed action of the app page.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Rotate,
    Delete,
}

impl Action {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "rotate" => Some(Self::Rotate),
            "delete" => Some(Self::Delete),
            _ => None,
        }
    }
}

#[derive(Template)]
#[template(path = "console/app_confirm.html")]
struct ConfirmPage {
    shell: Shell,
    id: String,
    name: String,
    slug_action: &'static str,
    title: &'static str,
    consequence: &'static str,
    button: &'static str,
}

/// The app and action of the path, for a caller who may change apps.
async fn target(
    s: &AppState,
    (slug, id, action): &(String, String, String),
    headers: &HeaderMap,
    client: &Client,
) -> Result<(Console, App, Action), Response> {
    let back = format!("/t/{slug}/console/apps/{id}/{action}");
    let console = Console::holding(s, slug, headers, client, &back, admin::SETTINGS_WRITE).await?;
    let action = Action::parse(action).ok_or_else(|| refusal(DomainError::NotFound("page")))?;
    let app = app_of(s, &console, id).await?;
    Ok((console, app, action))
}

/// `GET /t/{tenant}/console/apps/{id}/{rotate|delete}`: what will happen, and the button.
async fn confirm(
    State(s): State<AppState>,
    Path(path): Path<(String, String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let (console, app, action) = match target(&s, &path, &headers, &client).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let (slug_action, title, consequence, button) = match action {
        Action::Rotate => (
            "rotate",
            "Rotate the secret of",
            "A new secret is made and shown once. The current secret stops working at once: \
             the app fails to get tokens until it is given the new one.",
            "Rotate secret",
        ),
        Action::Delete => (
            "delete",
            "Delete the app",
            "The app can no longer sign people in or get tokens. Its tokens and the consents \
             given to it are removed. This cannot be undone.",
            "Delete app",
        ),
    };
    render(
        StatusCode::OK,
        &ConfirmPage {
            shell: console.shell("apps"),
            id: app.id.to_string(),
            name: app.name,
            slug_action,
            title,
            consequence,
            button,
        },
    )
}

/// `POST /t/{tenant}/console/apps/{id}/{rotate|delete}`.
async fn act(
    State(s): State<AppState>,
    Path(path): Path<(String, String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let (console, app, action) = match target(&s, &path, &headers, &client).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let csrf = RoleForm::read(&body).csrf;
    if let Some(refused) = console.csrf_refusal(&s, &headers, csrf.as_deref()) {
        return refused;
    }
    let slug = &path.0;
    match action {
        Action::Rotate => {
            match clients::rotate_secret(&s.store, &s.oidc, &console.caller, &app.id).await {
                Ok(made) => secret_page(&console, made, true),
                Err(e) => refusal(e),
            }
        }
        Action::Delete => {
            match clients::delete(&s.store, &s.oidc, &console.caller, &app.id).await {
                Ok(()) => see_other(&format!("/t/{slug}/console/apps?notice=deleted")),
                Err(e) => refusal(e),
            }
        }
    }
}
