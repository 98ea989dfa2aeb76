//! The console's apps (OpenID clients): the list, registering one (its secret shown once, on
//! the page answering the POST), an app's page with its settings and service roles, rotating
//! the secret and deleting, each behind a confirmation. Everything goes through
//! `admin::clients` (the functions of `/clients`), so the same permissions hold:
//! `settings.read` to look, `settings.write` to change.

use super::app_form::{self, Errors, Fields, Opt};
use super::{Console, Shell, refusal, render};
use crate::admin::clients::{self, ClientWithSecret};
use crate::admin::roles;
use crate::domain::clock::format_ms;
use crate::domain::oidc::{AuthMethod, Client as App, GrantType};
use crate::domain::permissions::admin;
use crate::domain::throttle::Client;
use crate::domain::{ClientId, DomainError};
use crate::http::AppState;
use crate::http::oidc::pages::see_other;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

/// The routes of the apps section.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/console/apps", get(list).post(create))
        .route("/t/{tenant}/console/apps/new", get(new))
        .route("/t/{tenant}/console/apps/{id}", get(show).post(update))
        .merge(super::app_actions::router())
}

#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

fn notice_text(q: Result<Query<NoticeQuery>, QueryRejection>) -> Option<&'static str> {
    match q.ok()?.0.notice.as_deref()? {
        "created" => Some("The app was registered."),
        "saved" => Some("The app's settings were saved."),
        "deleted" => Some("The app was deleted."),
        "role-added" => Some("The service role was given to the app."),
        "role-removed" => Some("The service role was taken from the app."),
        _ => None,
    }
}

/// The app of the path, for a caller who may read apps (a malformed id is not found).
pub(super) async fn app_of(s: &AppState, console: &Console, id: &str) -> Result<App, Response> {
    let id = ClientId::parse(id).ok_or_else(|| refusal(DomainError::NotFound("app")))?;
    clients::get(&s.store, &console.caller, &id)
        .await
        .map_err(refusal)
}

/// One line of the list.
pub struct Line {
    id: String,
    name: String,
    client_id: String,
    kind: &'static str,
    grants: String,
    created: String,
}

#[derive(Template)]
#[template(path = "console/apps.html")]
struct AppsPage {
    shell: Shell,
    notice: Option<&'static str>,
    can_write: bool,
    lines: Vec<Line>,
}

/// The date of an instant in milliseconds, `YYYY-MM-DD` (UTC).
pub fn day(ms: i64) -> String {
    format_ms(ms).get(..10).unwrap_or_default().to_owned()
}

/// An instant in milliseconds as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn instant(ms: i64) -> String {
    let t = format_ms(ms);
    match (t.get(..10), t.get(11..19)) {
        (Some(d), Some(h)) => format!("{d} {h} UTC"),
        _ => t,
    }
}

fn kind_label(a: &App) -> &'static str {
    match a.token_endpoint_auth_method {
        AuthMethod::None => "Public",
        AuthMethod::PrivateKeyJwt => "Confidential (signed JWT)",
        _ => "Confidential (secret)",
    }
}

/// `GET /t/{tenant}/console/apps`.
async fn list(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<NoticeQuery>, QueryRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/apps");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let mut all = match clients::list(&s.store, &console.caller).await {
        Ok(a) => a,
        Err(e) => return refusal(e),
    };
    all.sort_by_key(|a| a.name.to_lowercase());
    let lines = all
        .iter()
        .map(|a| Line {
            id: a.id.to_string(),
            name: a.name.clone(),
            client_id: a.client_id.clone(),
            kind: kind_label(a),
            grants: a
                .grant_types
                .iter()
                .map(|g| g.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            created: day(a.created_at),
        })
        .collect();
    render(
        StatusCode::OK,
        &AppsPage {
            shell: console.shell("apps"),
            notice: notice_text(query),
            can_write: console.caller.holds(admin::SETTINGS_WRITE),
            lines,
        },
    )
}

#[derive(Template)]
#[template(path = "console/app_new.html")]
struct NewPage {
    shell: Shell,
    f: Fields,
    methods: Vec<Opt>,
    grants: Vec<Opt>,
    algs: Vec<Opt>,
    errors: Errors,
}

fn new_page(console: &Console, f: Fields, errors: Errors, status: StatusCode) -> Response {
    render(
        status,
        &NewPage {
            shell: console.shell("apps"),
            methods: app_form::methods(&f),
            grants: app_form::grants(&f),
            algs: app_form::algs(&f),
            f,
            errors,
        },
    )
}

/// `GET /t/{tenant}/console/apps/new`.
async fn new(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let back = format!("/t/{slug}/console/apps/new");
    let console =
        match Console::holding(&s, &slug, &headers, &client, &back, admin::SETTINGS_WRITE).await {
            Ok(c) => c,
            Err(page) => return page,
        };
    new_page(
        &console,
        Fields::new_app(),
        Errors::default(),
        StatusCode::OK,
    )
}

#[derive(Template)]
#[template(path = "console/app_secret.html")]
struct SecretPage {
    shell: Shell,
    id: String,
    name: String,
    client_id: String,
    secret: String,
    rotated: bool,
}

/// The page answering a registration or a rotation: the secret, this once.
pub(super) fn secret_page(console: &Console, made: ClientWithSecret, rotated: bool) -> Response {
    let Some(secret) = made.client_secret else {
        let slug = &console.caller.tenant.slug;
        return see_other(&format!(
            "/t/{slug}/console/apps/{}?notice=created",
            made.client.id
        ));
    };
    render(
        if rotated {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        &SecretPage {
            shell: console.shell("apps"),
            id: made.client.id.to_string(),
            name: made.client.name,
            client_id: made.client.client_id,
            secret,
            rotated,
        },
    )
}

/// The status of a form shown again with its errors.
fn status_of(e: &DomainError) -> StatusCode {
    match e {
        DomainError::Conflict(_) => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// `POST /t/{tenant}/console/apps`: registers an app.
async fn create(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let back = format!("/t/{slug}/console/apps/new");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let f = Fields::read(&body);
    if let Some(refused) = console.csrf_refusal(&s, &headers, f.csrf.as_deref()) {
        return refused;
    }
    if let Err(e) = console.caller.require(admin::SETTINGS_WRITE) {
        return refusal(e);
    }
    let input = match f.input() {
        Ok(i) => i,
        Err(errors) => return new_page(&console, f, errors, StatusCode::BAD_REQUEST),
    };
    match clients::create(&s.store, &console.caller, input).await {
        Ok(made) => secret_page(&console, made, false),
        Err(e) => match Errors::of(&e) {
            Some(errors) => new_page(&console, f, errors, status_of(&e)),
            None => refusal(e),
        },
    }
}

/// A service role the app holds, or one it could be given.
pub struct RoleLine {
    id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "console/app.html")]
struct AppPage {
    shell: Shell,
    notice: Option<&'static str>,
    id: String,
    title: String,
    client_id: String,
    kind: &'static str,
    created: String,
    updated: String,
    can_write: bool,
    has_secret: bool,
    service: bool,
    held: Vec<RoleLine>,
    grantable: Vec<RoleLine>,
    f: Fields,
    methods: Vec<Opt>,
    grants: Vec<Opt>,
    algs: Vec<Opt>,
    errors: Errors,
}

/// The app's page with the form as `f` and `errors`.
async fn app_page(
    s: &AppState,
    console: &Console,
    app: &App,
    f: Fields,
    errors: Errors,
    status: StatusCode,
    notice: Option<&'static str>,
) -> Response {
    let can_write = console.caller.holds(admin::SETTINGS_WRITE);
    // The roles are listed only to whoever may read them; the service decides on a grant.
    let all = if console.caller.holds(admin::ROLES_READ) {
        roles::list(&s.store, &console.caller)
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let (held, other): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|r| app.role_ids.contains(&r.id.to_string()));
    let line = |r: crate::domain::Role| RoleLine {
        id: r.id.to_string(),
        name: r.name,
    };
    let grantable = other
        .into_iter()
        .filter(|r| {
            console
                .caller
                .require_all_held(r.permissions.iter().map(String::as_str))
                .is_ok()
        })
        .map(line)
        .collect();
    render(
        status,
        &AppPage {
            shell: console.shell("apps"),
            notice,
            id: app.id.to_string(),
            title: app.name.clone(),
            client_id: app.client_id.clone(),
            kind: kind_label(app),
            created: instant(app.created_at),
            updated: instant(app.updated_at),
            can_write,
            has_secret: matches!(
                app.token_endpoint_auth_method,
                AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
            ),
            service: app.allows(GrantType::ClientCredentials),
            held: held.into_iter().map(line).collect(),
            grantable,
            methods: app_form::methods(&f),
            grants: app_form::grants(&f),
            algs: app_form::algs(&f),
            f,
            errors,
        },
    )
}

/// `GET /t/{tenant}/console/apps/{id}`.
async fn show(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<NoticeQuery>, QueryRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/apps/{id}");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let app = match app_of(&s, &console, &id).await {
        Ok(a) => a,
        Err(page) => return page,
    };
    let f = Fields::of(&app);
    let notice = notice_text(query);
    app_page(
        &s,
        &console,
        &app,
        f,
        Errors::default(),
        StatusCode::OK,
        notice,
    )
    .await
}

/// `POST /t/{tenant}/console/apps/{id}`: saves the app's settings.
async fn update(
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
    let f = Fields::read(&body);
    if let Some(refused) = console.csrf_refusal(&s, &headers, f.csrf.as_deref()) {
        return refused;
    }
    let app = match app_of(&s, &console, &id).await {
        Ok(a) => a,
        Err(page) => return page,
    };
    if let Err(e) = console.caller.require(admin::SETTINGS_WRITE) {
        return refusal(e);
    }
    let input = match f.input() {
        Ok(i) => i,
        Err(errors) => {
            return app_page(&s, &console, &app, f, errors, StatusCode::BAD_REQUEST, None).await;
        }
    };
    match clients::update(&s.store, &s.oidc, &console.caller, &app.id, input).await {
        Ok(_) => see_other(&format!("/t/{slug}/console/apps/{}?notice=saved", app.id)),
        Err(e) => match Errors::of(&e) {
            Some(errors) => {
                let st = status_of(&e);
                app_page(&s, &console, &app, f, errors, st, None).await
            }
            None => refusal(e),
        },
    }
}
