//! The console's Directory section: what an enterprise directory (Okta, Entra ID...) needs to
//! provision people over SCIM. The base URL to paste, the SCIM tokens (a new one shown once,
//! revoked after a confirmation), the SCIM settings, and the latest SCIM requests with their
//! outcome, paged. Everything goes through `admin::scim`, the functions of `/scim/...`.

use super::apps::instant;
use super::directory_tokens::{confirm_revoke, create_token, revoke};
use super::{Console, Shell, refusal, render};
use crate::admin::scim::{self, ListScimRequests};
use crate::domain::DomainError;
use crate::domain::permissions::admin;
use crate::domain::scim::{DeleteAction, ScimRequest, ScimSettings, ScimToken};
use crate::domain::throttle::Client;
use crate::http::AppState;
use crate::http::oidc::pages::see_other;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

/// The routes of the directory section.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/console/directory", get(show))
        .route("/t/{tenant}/console/directory/tokens", post(create_token))
        .route(
            "/t/{tenant}/console/directory/tokens/{id}/revoke",
            get(confirm_revoke).post(revoke),
        )
        .route(
            "/t/{tenant}/console/directory/settings",
            post(save_settings),
        )
        .route("/t/{tenant}/console/directory/requests", get(requests))
}

/// How many requests the overview shows.
const OVERVIEW_REQUESTS: u32 = 10;
/// How many requests a page of the full list shows.
const PAGE_REQUESTS: u32 = 50;

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    notice: Option<String>,
    cursor: Option<String>,
}

fn notice_text(key: Option<&str>) -> Option<&'static str> {
    match key? {
        "revoked" => Some("The token was revoked: directories using it are refused from now on."),
        "saved" => Some("The SCIM settings were saved."),
        _ => None,
    }
}

/// A token as a line of the table.
pub struct TokenLine {
    id: String,
    name: String,
    created: String,
    last_used: String,
    revoked: bool,
}

fn token_line(t: ScimToken) -> TokenLine {
    TokenLine {
        id: t.id.to_string(),
        name: t.name,
        created: instant(t.created_at),
        last_used: t.last_used_at.map(instant).unwrap_or_default(),
        revoked: t.revoked_at.is_some(),
    }
}

/// A logged request as a line of the table.
pub struct RequestLine {
    at: String,
    token: String,
    method: String,
    path: String,
    status: i64,
    ok: bool,
    scim_type: String,
    duration_ms: i64,
}

fn request_lines(items: Vec<ScimRequest>, tokens: &[TokenLine]) -> Vec<RequestLine> {
    items
        .into_iter()
        .map(|r| RequestLine {
            at: instant(r.at),
            token: match &r.token_id {
                None if r.status == 401 => "Refused token".to_owned(),
                None => "No token".to_owned(),
                Some(id) => tokens
                    .iter()
                    .find(|t| t.id == id.as_str())
                    .map_or_else(|| "Deleted token".to_owned(), |t| t.name.clone()),
            },
            method: r.method,
            path: r.path,
            ok: r.status < 400,
            status: r.status,
            scim_type: r.scim_type.unwrap_or_default(),
            duration_ms: r.duration_ms,
        })
        .collect()
}

/// The settings form's choices of what a SCIM DELETE does.
pub struct DeleteChoice {
    value: &'static str,
    label: &'static str,
    chosen: bool,
}

fn delete_choices(current: DeleteAction) -> Vec<DeleteChoice> {
    [
        (
            DeleteAction::Deactivate,
            "Deactivate the user (data and history kept)",
        ),
        (DeleteAction::Delete, "Delete the user"),
        (DeleteAction::Anonymise, "Anonymise the user (history kept)"),
    ]
    .into_iter()
    .map(|(a, label)| DeleteChoice {
        value: a.as_str(),
        label,
        chosen: a == current,
    })
    .collect()
}

#[derive(Template)]
#[template(path = "console/directory.html")]
struct DirectoryPage {
    shell: Shell,
    notice: Option<&'static str>,
    base_url: String,
    /// `None`: the caller may not see the tokens (nor the requests).
    tokens: Option<Vec<TokenLine>>,
    can_create: bool,
    token_error: Option<String>,
    token_name: String,
    settings: Option<ScimSettings>,
    choices: Vec<DeleteChoice>,
    can_set: bool,
    settings_error: Option<String>,
    requests: Vec<RequestLine>,
    more_requests: bool,
}

/// The overview as `console` may see it, with `errors` of the two forms.
pub(super) async fn overview(
    s: &AppState,
    console: &Console,
    notice: Option<&'static str>,
    token_form: (String, Option<String>),
    settings_error: Option<String>,
    status: StatusCode,
) -> Response {
    let caller = &console.caller;
    let tokens = if caller.holds(admin::TOKENS_MANAGE) {
        match scim::list_tokens(&s.store, caller).await {
            Ok(t) => Some(t.into_iter().map(token_line).collect::<Vec<_>>()),
            Err(e) => return refusal(e),
        }
    } else {
        None
    };
    let settings = if caller.holds(admin::USERS_READ) {
        match scim::settings(&s.store, caller).await {
            Ok(v) => Some(v),
            Err(e) => return refusal(e),
        }
    } else {
        None
    };
    if tokens.is_none() && settings.is_none() {
        return refusal(DomainError::Forbidden(
            "managing the directory connection needs `castellan:tokens.manage` or \
             `castellan:users.read`"
                .into(),
        ));
    }
    let (requests, more_requests) = match &tokens {
        Some(lines) => {
            let req = ListScimRequests {
                limit: Some(OVERVIEW_REQUESTS),
                cursor: None,
            };
            match scim::requests(&s.store, caller, req).await {
                Ok(p) => (request_lines(p.items, lines), p.next_cursor.is_some()),
                Err(e) => return refusal(e),
            }
        }
        None => (Vec::new(), false),
    };
    let slug = &caller.tenant.slug;
    render(
        status,
        &DirectoryPage {
            shell: console.shell("directory"),
            notice,
            base_url: format!(
                "{}/t/{slug}/scim/v2",
                s.config.public_url.trim_end_matches('/')
            ),
            can_create: [
                admin::TOKENS_MANAGE,
                admin::USERS_WRITE,
                admin::USERS_DELETE,
                admin::GROUPS_WRITE,
            ]
            .iter()
            .all(|p| caller.holds(p)),
            tokens,
            token_name: token_form.0,
            token_error: token_form.1,
            choices: delete_choices(
                settings
                    .as_ref()
                    .map(|v| v.delete_action)
                    .unwrap_or_default(),
            ),
            can_set: caller.holds(admin::USERS_DELETE),
            settings,
            settings_error,
            requests,
            more_requests,
        },
    )
}

/// `GET /t/{tenant}/console/directory`.
async fn show(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/directory");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let notice = query
        .ok()
        .and_then(|Query(q)| notice_text(q.notice.as_deref()));
    let form = (String::new(), None);
    overview(&s, &console, notice, form, None, StatusCode::OK).await
}

/// The fields of the directory's forms.
#[derive(Default)]
pub(super) struct Fields {
    pub(super) csrf: Option<String>,
    pub(super) name: String,
    pub(super) delete_action: String,
    pub(super) manage_administrators: bool,
    pub(super) unique_emails: bool,
}

impl Fields {
    pub(super) fn read(body: &[u8]) -> Self {
        let mut f = Fields::default();
        for (k, v) in url::form_urlencoded::parse(body) {
            match &*k {
                "csrf" => f.csrf = Some(v.into_owned()),
                "name" => f.name = v.into_owned(),
                "delete_action" => f.delete_action = v.into_owned(),
                "manage_administrators" => f.manage_administrators = v == "on",
                "unique_emails" => f.unique_emails = v == "on",
                _ => {}
            }
        }
        f
    }
}

/// `POST /t/{tenant}/console/directory/settings`.
async fn save_settings(
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
    let Some(delete_action) = DeleteAction::parse(&f.delete_action) else {
        if let Err(e) = console.caller.require(admin::USERS_DELETE) {
            return refusal(e);
        }
        let error = Some("Choose what a SCIM DELETE does.".to_owned());
        let form = (String::new(), None);
        return overview(&s, &console, None, form, error, StatusCode::BAD_REQUEST).await;
    };
    let req = ScimSettings {
        delete_action,
        manage_administrators: f.manage_administrators,
        unique_emails: f.unique_emails,
    };
    match scim::set_settings(&s.store, &console.caller, req).await {
        Ok(_) => see_other(&format!("/t/{slug}/console/directory?notice=saved")),
        Err(DomainError::Invalid { message, .. }) => {
            let form = (String::new(), None);
            overview(
                &s,
                &console,
                None,
                form,
                Some(message),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => refusal(e),
    }
}

#[derive(Template)]
#[template(path = "console/directory_requests.html")]
struct RequestsPage {
    shell: Shell,
    requests: Vec<RequestLine>,
    next: Option<String>,
    first: bool,
}

/// `GET /t/{tenant}/console/directory/requests`: the latest requests, newest first, paged.
async fn requests(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/directory/requests");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let cursor = query.ok().and_then(|Query(q)| q.cursor);
    let first = cursor.is_none();
    let req = ListScimRequests {
        limit: Some(PAGE_REQUESTS),
        cursor,
    };
    let page = match scim::requests(&s.store, &console.caller, req).await {
        Ok(p) => p,
        Err(e) => return refusal(e),
    };
    let tokens: Vec<TokenLine> = match scim::list_tokens(&s.store, &console.caller).await {
        Ok(t) => t.into_iter().map(token_line).collect(),
        Err(e) => return refusal(e),
    };
    render(
        StatusCode::OK,
        &RequestsPage {
            shell: console.shell("directory"),
            requests: request_lines(page.items, &tokens),
            next: page.next_cursor,
            first,
        },
    )
}
