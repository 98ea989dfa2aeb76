//! A user's sessions on their console page, and ending them (one, or all: "sign out
//! everywhere"), confirmed, through `admin::user_sessions` (read access to see them, power over
//! the user to end them; the refresh tokens made in an ended session are revoked and the apps
//! it signed in to are told).

use super::confirm::Confirm;
use super::user::open;
use super::users::display_name;
use super::{Console, refusal};
use crate::admin::user_sessions;
use crate::admin::users::get as get_user;
use crate::domain::throttle::Client;
use crate::domain::{DomainError, User};
use crate::http::AppState;
use crate::http::account::texts::AccountTexts;
use crate::http::account::when;
use crate::http::oidc::i18n::Lang;
use crate::http::oidc::pages::see_other;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use std::collections::BTreeMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant}/console/users/{id}/sessions/{session}/end",
            get(confirm_one).post(end_one),
        )
        .route(
            "/t/{tenant}/console/users/{id}/sessions/end-all",
            get(confirm_all).post(end_all),
        )
}

/// One session on the user page.
pub struct SessionLine {
    pub id: String,
    pub device: String,
    pub ip: String,
    pub started: String,
    pub last_seen: String,
}

/// The user's live sessions, when the caller may see them (else `None`).
pub async fn of(s: &AppState, console: &Console, user: &User) -> Option<Vec<SessionLine>> {
    let list = user_sessions::list(&s.store, &console.caller, &user.id)
        .await
        .ok()?;
    let t = AccountTexts::of(Lang::En);
    Some(
        list.into_iter()
            .map(|l| SessionLine {
                device: t.device(l.user_agent.as_deref()),
                ip: l.ip.unwrap_or_default(),
                started: when(l.session.created_at),
                last_seen: when(l.session.last_seen_at),
                id: l.session.id,
            })
            .collect(),
    )
}

/// The console and the user of the path, for a caller allowed to change the user.
async fn target(
    s: &AppState,
    slug: &str,
    id: &str,
    headers: &HeaderMap,
    client: &Client,
    back: &str,
) -> Result<(Console, User), Response> {
    let (console, id) = open(s, &(slug.to_owned(), id.to_owned()), headers, client, back).await?;
    let user = get_user(&s.store, &console.caller, &id)
        .await
        .map_err(refusal)?;
    if !super::user::may_change(s, &console, &user.id).await? {
        return Err(refusal(DomainError::forbidden(
            "you may not end this user's sessions",
        )));
    }
    Ok((console, user))
}

fn page(console: &Console, user: &User, one: Option<&str>, status: StatusCode) -> Response {
    let slug = &console.me.tenant.slug;
    let name = display_name(user);
    let (title, consequence, action, button) = match one {
        Some(sid) => (
            format!("End this session of {name}?"),
            "The person is signed out on that device, the apps they signed in to there are \
             told, and the refresh tokens made there stop working.",
            format!("/t/{slug}/console/users/{}/sessions/{sid}/end", user.id),
            "End session",
        ),
        None => (
            format!("Sign {name} out everywhere?"),
            "Every session of the person ends, the apps they signed in to are told, and the \
             refresh tokens made in those sessions stop working. Their account stays as it is.",
            format!("/t/{slug}/console/users/{}/sessions/end-all", user.id),
            "Sign out everywhere",
        ),
    };
    let back = format!("/t/{slug}/console/users/{}", user.id);
    Confirm {
        section: "users",
        title: &title,
        consequence,
        action: &action,
        button,
        back: (&back, "Back to the user"),
    }
    .page(console, status, None)
}

async fn confirm_one(
    State(s): State<AppState>,
    Path((slug, id, sid)): Path<(String, String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let back = format!("/t/{slug}/console/users/{id}/sessions/{sid}/end");
    match target(&s, &slug, &id, &headers, &client, &back).await {
        Ok((c, u)) => {
            let live = user_sessions::list(&s.store, &c.caller, &u.id)
                .await
                .map(|l| l.iter().any(|x| x.session.id == sid));
            match live {
                Ok(true) => page(&c, &u, Some(&sid), StatusCode::OK),
                Ok(false) => refusal(DomainError::NotFound("session")),
                Err(e) => refusal(e),
            }
        }
        Err(p) => p,
    }
}

async fn end_one(
    State(s): State<AppState>,
    Path((slug, id, sid)): Path<(String, String, String)>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<BTreeMap<String, String>>, FormRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/users/{id}/sessions/{sid}/end");
    let (console, user) = match target(&s, &slug, &id, &headers, &client, &back).await {
        Ok(t) => t,
        Err(p) => return p,
    };
    let token = form.ok().and_then(|Form(f)| f.get("csrf").cloned());
    if let Some(r) = console.csrf_refusal(&s, &headers, token.as_deref()) {
        return r;
    }
    let notifier = s.logout_notifier();
    match user_sessions::end(&s.store, notifier, &console.caller, &user.id, &sid).await {
        Ok(()) => see_other(&format!(
            "/t/{slug}/console/users/{}?notice=session",
            user.id
        )),
        Err(e) => refusal(e),
    }
}

async fn confirm_all(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let back = format!("/t/{slug}/console/users/{id}/sessions/end-all");
    match target(&s, &slug, &id, &headers, &client, &back).await {
        Ok((c, u)) => page(&c, &u, None, StatusCode::OK),
        Err(p) => p,
    }
}

async fn end_all(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<BTreeMap<String, String>>, FormRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/users/{id}/sessions/end-all");
    let (console, user) = match target(&s, &slug, &id, &headers, &client, &back).await {
        Ok(t) => t,
        Err(p) => return p,
    };
    let token = form.ok().and_then(|Form(f)| f.get("csrf").cloned());
    if let Some(r) = console.csrf_refusal(&s, &headers, token.as_deref()) {
        return r;
    }
    // Keeping no session: the empty id is never a session's.
    let notifier = s.logout_notifier();
    match user_sessions::end_others(&s.store, notifier, &console.caller, &user.id, "").await {
        Ok(()) => see_other(&format!(
            "/t/{slug}/console/users/{}?notice=sessions",
            user.id
        )),
        Err(e) => refusal(e),
    }
}
