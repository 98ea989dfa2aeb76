//! The SCIM tokens of the console's Directory section (`directory.rs`): a new token, shown on
//! its own page only, and a revocation after a confirmation, through `admin::scim`.

use super::confirm::Confirm;
use super::directory::{Fields, overview};
use super::{Console, Shell, refusal, render};
use crate::admin::scim::{self, CreateScimToken};
use crate::domain::scim::ScimToken;
use crate::domain::throttle::Client;
use crate::domain::{DomainError, ScimTokenId};
use crate::http::AppState;
use crate::http::oidc::pages::see_other;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

#[derive(Template)]
#[template(path = "console/directory_token.html")]
struct TokenPage {
    shell: Shell,
    name: String,
    token: String,
    base_url: String,
}

/// `POST /t/{tenant}/console/directory/tokens`: a new token, shown on this page only.
pub(super) async fn create_token(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let back = format!("/t/{slug}/console/directory");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let f = Fields::read(&body);
    if let Some(refused) = console.csrf_refusal(&s, &headers, f.csrf.as_deref()) {
        return refused;
    }
    let req = CreateScimToken {
        name: f.name.clone(),
    };
    match scim::create_token(&s.store, &console.caller, req).await {
        Ok(made) => render(
            StatusCode::CREATED,
            &TokenPage {
                shell: console.shell("directory"),
                name: made.scim_token.name,
                token: made.token,
                base_url: format!(
                    "{}/t/{slug}/scim/v2",
                    s.config.public_url.trim_end_matches('/')
                ),
            },
        ),
        Err(DomainError::Invalid { message, .. }) => {
            let form = (f.name, Some(message));
            overview(&s, &console, None, form, None, StatusCode::BAD_REQUEST).await
        }
        Err(e) => refusal(e),
    }
}

/// The token of the path, for a caller who manages tokens.
async fn token_of(
    s: &AppState,
    (slug, id): &(String, String),
    headers: &HeaderMap,
    client: &Client,
) -> Result<(Console, ScimToken), Response> {
    let back = format!("/t/{slug}/console/directory/tokens/{id}/revoke");
    let console = Console::of(s, slug, headers, client, &back).await?;
    let all = scim::list_tokens(&s.store, &console.caller)
        .await
        .map_err(refusal)?;
    let token = ScimTokenId::parse(id)
        .and_then(|id| {
            all.into_iter()
                .find(|t| t.id == id && t.revoked_at.is_none())
        })
        .ok_or_else(|| refusal(DomainError::NotFound("token")))?;
    Ok((console, token))
}

/// `GET /t/{tenant}/console/directory/tokens/{id}/revoke`: the confirmation.
pub(super) async fn confirm_revoke(
    State(s): State<AppState>,
    Path(path): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let (console, token) = match token_of(&s, &path, &headers, &client).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let list = format!("/t/{}/console/directory", path.0);
    Confirm {
        section: "directory",
        title: &format!("Revoke the SCIM token {}?", token.name),
        consequence: "The directory using this token is refused from now on (401) until it is \
                      given a new token. The people it provisioned stay. This cannot be undone.",
        action: &format!("{list}/tokens/{}/revoke", token.id),
        button: "Revoke token",
        back: (&list, "Directory"),
    }
    .page(&console, StatusCode::OK, None)
}

/// `POST /t/{tenant}/console/directory/tokens/{id}/revoke`.
pub(super) async fn revoke(
    State(s): State<AppState>,
    Path(path): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let (console, token) = match token_of(&s, &path, &headers, &client).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let f = Fields::read(&body);
    if let Some(refused) = console.csrf_refusal(&s, &headers, f.csrf.as_deref()) {
        return refused;
    }
    match scim::revoke_token(&s.store, &console.caller, &token.id).await {
        Ok(()) => see_other(&format!("/t/{}/console/directory?notice=revoked", path.0)),
        Err(e) => refusal(e),
    }
}
