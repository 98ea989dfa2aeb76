//! The console's Security section: the tenant's MFA policy and passkey settings
//! (`admin::mfa`), its session lifetimes (`admin::sessions`) and its signing keys with a
//! confirmed rotation (`admin::keys`). The forms send what was typed to the service functions
//! as the same JSON patches the admin API takes, so the same checks name the same fields.

use super::apps::instant;
use super::{Console, Shell, refusal, render};
use crate::admin::{keys, mfa, sessions};
use crate::domain::DomainError;
use crate::domain::mfa::{MfaPolicy, MfaSettings, UserVerification};
use crate::domain::oidc::KeyState;
use crate::domain::permissions::admin;
use crate::domain::sessions::SessionSettings;
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
use serde_json::{Map, Value};

/// The routes of the security section.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/{tenant}/console/security", get(show))
        .route("/t/{tenant}/console/security/mfa", post(save_mfa))
        .route("/t/{tenant}/console/security/sessions", post(save_sessions))
        .route(
            "/t/{tenant}/console/security/keys/rotate",
            get(confirm_rotate).post(rotate),
        )
}

#[derive(Debug, Default, Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

fn notice_text(q: Result<Query<NoticeQuery>, QueryRejection>) -> Option<&'static str> {
    match q.ok()?.0.notice.as_deref()? {
        "mfa" => Some("The MFA settings were saved."),
        "sessions" => Some("The session settings were saved. They apply to open sessions too."),
        "rotated" => Some("The signing keys were rotated: the next key now signs."),
        _ => None,
    }
}

/// A choice of a select: value, words, whether chosen.
pub struct Opt {
    value: &'static str,
    label: &'static str,
    chosen: bool,
}

/// The session form as typed.
pub struct SessionFields {
    idle: String,
    max: String,
    remember_me: bool,
    remember_idle: String,
    remember_max: String,
}

impl SessionFields {
    fn of(v: &SessionSettings) -> Self {
        SessionFields {
            idle: v.idle_timeout_secs.to_string(),
            max: v.max_lifetime_secs.to_string(),
            remember_me: v.remember_me,
            remember_idle: v.remember_me_idle_timeout_secs.to_string(),
            remember_max: v.remember_me_max_lifetime_secs.to_string(),
        }
    }
}

/// The errors of the forms: one field's (by the admin API's name) or a whole form's.
#[derive(Default)]
pub struct Errors {
    field: Option<(String, String)>,
    mfa: Option<String>,
    sessions: Option<String>,
}

impl Errors {
    /// The error of field `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.field
            .as_ref()
            .filter(|(f, _)| f == name)
            .map(|(_, m)| m.as_str())
    }
}

/// A signing key as a line of the table.
pub struct KeyLine {
    kid: String,
    alg: &'static str,
    state: &'static str,
    created: String,
    activated: String,
}

#[derive(Template)]
#[template(path = "console/security.html")]
struct SecurityPage {
    shell: Shell,
    notice: Option<&'static str>,
    can_write: bool,
    policies: Vec<Opt>,
    passkey_only_allowed: bool,
    verifications: Vec<Opt>,
    s: SessionFields,
    keys: Vec<KeyLine>,
    errors: Errors,
}

fn policies(current: &str) -> Vec<Opt> {
    [
        (MfaPolicy::Optional, "Optional: people choose"),
        (
            MfaPolicy::Required,
            "Required: a second factor for everyone",
        ),
        (
            MfaPolicy::PasskeyRequired,
            "Passkey required: phishing-resistant sign-in for everyone",
        ),
    ]
    .into_iter()
    .map(|(p, label)| Opt {
        value: p.as_str(),
        label,
        chosen: p.as_str() == current,
    })
    .collect()
}

fn verifications(current: &str) -> Vec<Opt> {
    [
        (UserVerification::Required, "Required (PIN or biometrics)"),
        (UserVerification::Preferred, "Preferred"),
        (UserVerification::Discouraged, "Discouraged (touch only)"),
    ]
    .into_iter()
    .map(|(v, label)| Opt {
        value: v.as_str(),
        label,
        chosen: v.as_str() == current,
    })
    .collect()
}

/// The page: `mfa_form` and `session_form` as typed (the stored values when `None`).
async fn page(
    s: &AppState,
    console: &Console,
    notice: Option<&'static str>,
    mfa_form: Option<(String, bool, String)>,
    session_form: Option<SessionFields>,
    errors: Errors,
    status: StatusCode,
) -> Response {
    let caller = &console.caller;
    let stored_mfa: MfaSettings = match mfa::settings(&s.store, caller).await {
        Ok(v) => v,
        Err(e) => return refusal(e),
    };
    let stored_sessions = match sessions::settings(&s.store, caller).await {
        Ok(v) => v,
        Err(e) => return refusal(e),
    };
    let mut all_keys = match keys::list(&s.store, &s.oidc, caller).await {
        Ok(k) => k,
        Err(e) => return refusal(e),
    };
    // Signing first, then the next keys, then the retired ones; newest first within each.
    let rank = |k: &crate::domain::oidc::SigningKey| match k.state {
        KeyState::Active => 0,
        KeyState::Next => 1,
        KeyState::Retired => 2,
    };
    all_keys.sort_by(|a, b| rank(a).cmp(&rank(b)).then(b.created_at.cmp(&a.created_at)));
    let (policy, passkey_only, verification) = mfa_form.unwrap_or_else(|| {
        (
            stored_mfa.policy.as_str().to_owned(),
            stored_mfa.passkey_only_allowed,
            stored_mfa
                .security_key_user_verification
                .as_str()
                .to_owned(),
        )
    });
    render(
        status,
        &SecurityPage {
            shell: console.shell("security"),
            notice,
            can_write: caller.holds(admin::SETTINGS_WRITE),
            policies: policies(&policy),
            passkey_only_allowed: passkey_only,
            verifications: verifications(&verification),
            s: session_form.unwrap_or_else(|| SessionFields::of(&stored_sessions)),
            keys: all_keys
                .into_iter()
                .map(|k| KeyLine {
                    kid: k.kid,
                    alg: k.alg.as_str(),
                    state: k.state.as_str(),
                    created: instant(k.created_at),
                    activated: k.activated_at.map(instant).unwrap_or_default(),
                })
                .collect(),
            errors,
        },
    )
}

/// `GET /t/{tenant}/console/security`.
async fn show(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<NoticeQuery>, QueryRejection>,
) -> Response {
    let back = format!("/t/{slug}/console/security");
    let console = match Console::of(&s, &slug, &headers, &client, &back).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let notice = notice_text(query);
    page(
        &s,
        &console,
        notice,
        None,
        None,
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

/// A submitted form: its CSRF token and its fields.
fn read(body: &[u8]) -> (Option<String>, Vec<(String, String)>) {
    let mut csrf = None;
    let mut fields = Vec::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        if k == "csrf" {
            csrf = Some(v.into_owned());
        } else {
            fields.push((k.into_owned(), v.into_owned()));
        }
    }
    (csrf, fields)
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The console of a POST to `back`'s section, its CSRF token checked.
async fn posted(
    s: &AppState,
    slug: &str,
    headers: &HeaderMap,
    client: &Client,
    csrf: Option<&str>,
) -> Result<Console, Response> {
    let back = format!("/t/{slug}/console/security");
    let console = Console::of(s, slug, headers, client, &back).await?;
    if let Some(refused) = console.csrf_refusal(s, headers, csrf) {
        return Err(refused);
    }
    Ok(console)
}

/// The errors of a refused patch: a field's, or the form's (`sessions` or `mfa`).
fn errors_of(e: &DomainError, sessions_form: bool) -> Option<Errors> {
    let DomainError::Invalid { field, message } = e else {
        return None;
    };
    let mut errors = Errors::default();
    match field {
        Some(f) => errors.field = Some((f.clone(), message.clone())),
        None if sessions_form => errors.sessions = Some(message.clone()),
        None => errors.mfa = Some(message.clone()),
    }
    Some(errors)
}

/// `POST /t/{tenant}/console/security/mfa`.
async fn save_mfa(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let (csrf, fields) = read(&body);
    let console = match posted(&s, &slug, &headers, &client, csrf.as_deref()).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let policy = field(&fields, "policy").to_owned();
    let passkey_only = field(&fields, "passkey_only_allowed") == "on";
    let verification = field(&fields, "security_key_user_verification").to_owned();
    let mut patch = Map::new();
    patch.insert("policy".into(), Value::String(policy.clone()));
    patch.insert("passkey_only_allowed".into(), Value::Bool(passkey_only));
    patch.insert(
        "security_key_user_verification".into(),
        Value::String(verification.clone()),
    );
    match mfa::update_settings(&s.store, &console.caller, &Value::Object(patch)).await {
        Ok(_) => see_other(&format!("/t/{slug}/console/security?notice=mfa")),
        Err(e) => match errors_of(&e, false) {
            Some(errors) => {
                let form = Some((policy, passkey_only, verification));
                let st = StatusCode::BAD_REQUEST;
                page(&s, &console, None, form, None, errors, st).await
            }
            None => refusal(e),
        },
    }
}

/// `POST /t/{tenant}/console/security/sessions`.
async fn save_sessions(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let (csrf, fields) = read(&body);
    let console = match posted(&s, &slug, &headers, &client, csrf.as_deref()).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    let typed = SessionFields {
        idle: field(&fields, "idle_timeout_secs").to_owned(),
        max: field(&fields, "max_lifetime_secs").to_owned(),
        remember_me: field(&fields, "remember_me") == "on",
        remember_idle: field(&fields, "remember_me_idle_timeout_secs").to_owned(),
        remember_max: field(&fields, "remember_me_max_lifetime_secs").to_owned(),
    };
    // A number as typed: what is not one goes as text, and the service names its field.
    let number = |t: &str| {
        t.trim()
            .parse::<i64>()
            .map_or_else(|_| Value::String(t.to_owned()), Value::from)
    };
    let mut patch = Map::new();
    patch.insert("idle_timeout_secs".into(), number(&typed.idle));
    patch.insert("max_lifetime_secs".into(), number(&typed.max));
    patch.insert("remember_me".into(), Value::Bool(typed.remember_me));
    patch.insert(
        "remember_me_idle_timeout_secs".into(),
        number(&typed.remember_idle),
    );
    patch.insert(
        "remember_me_max_lifetime_secs".into(),
        number(&typed.remember_max),
    );
    match sessions::update_settings(&s.store, &console.caller, &Value::Object(patch)).await {
        Ok(_) => see_other(&format!("/t/{slug}/console/security?notice=sessions")),
        Err(e) => match errors_of(&e, true) {
            Some(errors) => {
                let st = StatusCode::BAD_REQUEST;
                page(&s, &console, None, None, Some(typed), errors, st).await
            }
            None => refusal(e),
        },
    }
}

#[derive(Template)]
#[template(path = "console/security_rotate.html")]
struct RotatePage {
    shell: Shell,
}

/// `GET /t/{tenant}/console/security/keys/rotate`: the confirmation.
async fn confirm_rotate(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let back = format!("/t/{slug}/console/security/keys/rotate");
    let console =
        match Console::holding(&s, &slug, &headers, &client, &back, admin::SETTINGS_WRITE).await {
            Ok(c) => c,
            Err(page) => return page,
        };
    render(
        StatusCode::OK,
        &RotatePage {
            shell: console.shell("security"),
        },
    )
}

/// `POST /t/{tenant}/console/security/keys/rotate`.
async fn rotate(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let (csrf, _) = read(&body);
    let console = match posted(&s, &slug, &headers, &client, csrf.as_deref()).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    match keys::rotate(&s.store, &s.oidc, &console.caller).await {
        Ok(_) => see_other(&format!("/t/{slug}/console/security?notice=rotated")),
        Err(e) => refusal(e),
    }
}
