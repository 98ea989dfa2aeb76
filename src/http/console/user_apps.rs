//! The apps a user has consented to, on their console page, and the withdrawal of one
//! (`/t/{tenant}/console/users/{id}/apps/{client_id}/revoke`, confirmed), through
//! `admin::consents` (the functions of `/users/{id}/consents`): reading needs read access to
//! the user, withdrawing needs power over them.

use super::confirm::Confirm;
use super::user::open;
use super::users::display_name;
use super::{Console, refusal};
use crate::admin::consents;
use crate::admin::users::get as get_user;
use crate::domain::clock::format_ms;
use crate::domain::throttle::Client;
use crate::domain::{DomainError, User, UserId};
use crate::http::AppState;
use crate::http::oidc::pages::see_other;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/t/{tenant}/console/users/{id}/apps/{client_id}/revoke",
        get(confirm).post(revoke),
    )
}

/// One app on the user page.
pub struct AppLine {
    pub client_id: String,
    pub name: String,
    pub scopes: String,
    pub since: String,
}

/// The apps `user` consented to, when the caller may read them (else `None`).
pub async fn of(s: &AppState, console: &Console, user: &UserId) -> Option<Vec<AppLine>> {
    let list = consents::list(&s.store, &console.caller, user).await.ok()?;
    Some(
        list.into_iter()
            .map(|c| AppLine {
                client_id: c.client_id,
                name: c.client_name,
                scopes: c.scopes.join(" "),
                since: format_ms(c.created_at)
                    .get(..10)
                    .unwrap_or_default()
                    .to_owned(),
            })
            .collect(),
    )
}

/// The console, the user and the consent of the path (a consent the user has not given is
/// "not found").
async fn target(
    s: &AppState,
    (slug, id, client_id): &(String, String, String),
    headers: &HeaderMap,
    client: &Client,
) -> Result<(Console, User, String), Response> {
    let back = format!("/t/{slug}/console/users/{id}/apps/{client_id}/revoke");
    let (console, id) = open(s, &(slug.clone(), id.clone()), headers, client, &back).await?;
    let user = get_user(&s.store, &console.caller, &id)
        .await
        .map_err(refusal)?;
    let given = consents::list(&s.store, &console.caller, &id)
        .await
        .map_err(refusal)?;
    let app = given
        .into_iter()
        .find(|c| &c.client_id == client_id)
        .ok_or_else(|| refusal(DomainError::NotFound("app consent")))?;
    Ok((console, user, app.client_name))
}

fn page(
    console: &Console,
    user: &User,
    app: &str,
    client_id: &str,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let slug = &console.me.tenant.slug;
    let title = format!("Withdraw {}'s consent to {app}?", display_name(user));
    let action = format!(
        "/t/{slug}/console/users/{}/apps/{client_id}/revoke",
        user.id
    );
    let back = format!("/t/{slug}/console/users/{}", user.id);
    Confirm {
        section: "users",
        title: &title,
        consequence: "The app loses the access the person gave it: its tokens for them stop \
                      working and the person is asked again the next time they sign in to it.",
        action: &action,
        button: "Withdraw consent",
        back: (&back, "Back to the user"),
    }
    .page(console, status, error)
}

/// `GET .../apps/{client_id}/revoke`.
async fn confirm(
    State(s): State<AppState>,
    Path(path): Path<(String, String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    match target(&s, &path, &headers, &client).await {
        Ok((c, u, app)) => {
            if !super::user::may_change(&s, &c, &u.id)
                .await
                .unwrap_or(false)
            {
                return refusal(DomainError::forbidden(
                    "you may not change this user's apps",
                ));
            }
            page(&c, &u, &app, &path.2, StatusCode::OK, None)
        }
        Err(p) => p,
    }
}

/// `POST .../apps/{client_id}/revoke`.
async fn revoke(
    State(s): State<AppState>,
    Path(path): Path<(String, String, String)>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<BTreeMap<String, String>>, FormRejection>,
) -> Response {
    let (console, user, app) = match target(&s, &path, &headers, &client).await {
        Ok(t) => t,
        Err(p) => return p,
    };
    let token = form.ok().and_then(|Form(f)| f.get("csrf").cloned());
    if let Some(r) = console.csrf_refusal(&s, &headers, token.as_deref()) {
        return r;
    }
    match consents::revoke(&s.store, &console.caller, &user.id, &path.2).await {
        Ok(()) => see_other(&format!(
            "/t/{}/console/users/{}?notice=consent",
            path.0, user.id
        )),
        Err(DomainError::Forbidden(why)) => page(
            &console,
            &user,
            &app,
            &path.2,
            StatusCode::FORBIDDEN,
            Some(format!("Not allowed: {why}.")),
        ),
        Err(e) => refusal(e),
    }
}
