//! `POST /t/{tenant}/webauthn/...`: the JSON endpoints the pages' script calls to register a
//! passkey or security key, sign in with a passkey, and prove one as a second factor; and
//! `GET /t/{tenant}/webauthn.js`, that script. Every POST carries its page's CSRF token in
//! `X-CSRF-Token` (bound to the session once signed in, see [`super::csrf`]); every error is
//! `{"error", "message"}`. A passkey sign-in or proof gives the session a new cookie secret.

use super::csrf;
use super::login::{session_secret, with_rotated_cookie};
use crate::domain::clock::now_ms;
use crate::domain::mfa::CredentialKind;
use crate::domain::sessions::Session;
use crate::domain::throttle::Client;
use crate::domain::{Tenant, User};
use crate::http::AppState;
use crate::oidc::signin;
use crate::oidc::webauthn::{self as wa, Refusal};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

/// The header carrying the CSRF token of the page.
pub const CSRF_HEADER: &str = "x-csrf-token";

const SCRIPT: &str = include_str!("webauthn.js");

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            Refusal::Malformed(code, m) => (StatusCode::BAD_REQUEST, code, m),
            Refusal::Refused(code, m) => (StatusCode::UNAUTHORIZED, code, m),
            Refusal::Forbidden(code, m) => (StatusCode::FORBIDDEN, code, m),
            Refusal::NotFound(code, m) => (StatusCode::NOT_FOUND, code, m),
            Refusal::Conflict(m) => (StatusCode::CONFLICT, "already_registered", m),
            Refusal::TooMany(m) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests", m),
            Refusal::Internal(e) => {
                tracing::error!(error = %e, "WebAuthn endpoint failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "Something went wrong on our side; please try again.".into(),
                )
            }
        };
        no_store((status, Json(json!({ "error": code, "message": message }))).into_response())
    }
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

type Answer = Result<Response, Refusal>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterStart {
    kind: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterFinish {
    handle: String,
    name: Option<String>,
    credential: RegisterPublicKeyCredential,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssertionFinish {
    handle: String,
    credential: PublicKeyCredential,
    return_to: Option<String>,
}

/// The body, or a 400 naming what is wrong with it.
fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, Refusal> {
    b.map(|Json(v)| v)
        .map_err(|e| Refusal::Malformed("invalid_request", e.body_text()))
}

/// The tenant of the path.
async fn tenant_of(s: &AppState, slug: &str) -> Result<Tenant, Refusal> {
    s.store.tenant_by_slug(slug).await?.ok_or_else(|| {
        Refusal::NotFound(
            "unknown_tenant",
            "There is no such organisation here.".into(),
        )
    })
}

fn csrf_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok())
}

fn csrf_refused() -> Refusal {
    Refusal::Forbidden(
        "csrf",
        "This page has expired; reload it and try again.".into(),
    )
}

/// The tenant of the path, for a call made before sign-in: the CSRF header must be the token
/// of the browser's CSRF cookie.
async fn tenant_checked(s: &AppState, slug: &str, headers: &HeaderMap) -> Result<Tenant, Refusal> {
    let tenant = tenant_of(s, slug).await?;
    if !csrf::browser_ok(s, &tenant, headers, csrf_header(headers)) {
        return Err(csrf_refused());
    }
    Ok(tenant)
}

/// The tenant, the browser's live session and its user (or 401); the CSRF header must be the
/// token bound to that session.
async fn signed_in(
    s: &AppState,
    slug: &str,
    headers: &HeaderMap,
) -> Result<(Tenant, Session, User), Refusal> {
    let tenant = tenant_of(s, slug).await?;
    let (session, user) = signin::current(&s.store, &tenant, session_secret(s, slug, headers))
        .await?
        .ok_or_else(|| {
            Refusal::Refused(
                "not_signed_in",
                "Your session has ended; sign in again.".into(),
            )
        })?;
    if !csrf::session_ok(s, &tenant, &session, csrf_header(headers)) {
        return Err(csrf_refused());
    }
    Ok((tenant, session, user))
}

fn ok<T: serde::Serialize>(v: T) -> Answer {
    Ok(no_store(Json(v).into_response()))
}

fn redirect(tenant: &Tenant, return_to: Option<&str>) -> Response {
    let target = signin::safe_return_to(&tenant.slug, return_to);
    no_store(Json(json!({ "redirect": target })).into_response())
}

fn answer(a: Answer) -> Response {
    a.unwrap_or_else(IntoResponse::into_response)
}

pub async fn register_start(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    b: Result<Json<RegisterStart>, JsonRejection>,
) -> Response {
    answer(
        async {
            let (tenant, session, user) = signed_in(&s, &slug, &headers).await?;
            let kind = CredentialKind::parse(&body(b)?.kind).ok_or_else(|| {
                Refusal::Malformed(
                    "invalid_request",
                    "kind must be \"passkey\" or \"security_key\".".into(),
                )
            })?;
            let c = wa::start_registration(
                &s.store,
                &s.config.public_url,
                &tenant,
                &session,
                &user,
                kind,
            )
            .await?;
            ok(c)
        }
        .await,
    )
}

pub async fn register_finish(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    client: Client,
    headers: HeaderMap,
    b: Result<Json<RegisterFinish>, JsonRejection>,
) -> Response {
    answer(
        async {
            let (tenant, session, user) = signed_in(&s, &slug, &headers).await?;
            let f = body(b)?;
            let r = wa::finish_registration(
                &s.store,
                &s.config.public_url,
                &tenant,
                &session,
                &user,
                &f.handle,
                f.name.as_deref(),
                &f.credential,
                client.ip_text(),
            )
            .await?;
            let raised = r.raised.clone();
            let res = ok(r)?;
            Ok(match raised {
                Some(raised) => with_rotated_cookie(&s, &tenant, &raised, res).await,
                None => res,
            })
        }
        .await,
    )
}

/// Passkey sign-in starts one client may make per minute in one tenant: each stores a
/// ceremony before anyone is signed in.
const LOGIN_STARTS_PER_MINUTE: u32 = 120;

pub async fn login_start(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    client: Client,
    headers: HeaderMap,
    b: Result<Json<Empty>, JsonRejection>,
) -> Response {
    answer(
        async {
            let tenant = tenant_checked(&s, &slug, &headers).await?;
            body(b)?;
            let from = client.ip.map(|ip| ip.to_string()).unwrap_or_default();
            let key = format!("webauthn-login:{}:{from}", tenant.id);
            if !s
                .limits
                .allow(&key, LOGIN_STARTS_PER_MINUTE, 60_000, now_ms())
            {
                return Err(Refusal::TooMany(
                    "Too many sign-in attempts from here; wait a minute and try again.".into(),
                ));
            }
            ok(wa::start_login(&s.store, &s.config.public_url, &tenant).await?)
        }
        .await,
    )
}

pub async fn login_finish(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    client: Client,
    headers: HeaderMap,
    b: Result<Json<AssertionFinish>, JsonRejection>,
) -> Response {
    answer(
        async {
            let tenant = tenant_checked(&s, &slug, &headers).await?;
            let f = body(b)?;
            let started = wa::finish_login(
                &s.store,
                &s.config.public_url,
                &tenant,
                &f.handle,
                &f.credential,
                client.ip_text(),
            )
            .await?;
            super::login::end_previous(&s, &tenant, &headers).await?;
            let res = redirect(&tenant, f.return_to.as_deref());
            let ua = client.user_agent.as_deref();
            Ok(super::login::signed_in_response(&s, &tenant, &started, ua, res).await)
        }
        .await,
    )
}

pub async fn verify_start(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    b: Result<Json<Empty>, JsonRejection>,
) -> Response {
    answer(
        async {
            let (tenant, session, user) = signed_in(&s, &slug, &headers).await?;
            body(b)?;
            let c =
                wa::start_verify(&s.store, &s.config.public_url, &tenant, &session, &user).await?;
            ok(c)
        }
        .await,
    )
}

pub async fn verify_finish(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    client: Client,
    headers: HeaderMap,
    b: Result<Json<AssertionFinish>, JsonRejection>,
) -> Response {
    answer(
        async {
            let (tenant, session, user) = signed_in(&s, &slug, &headers).await?;
            let f = body(b)?;
            let raised = wa::finish_verify(
                &s.store,
                &s.config.public_url,
                &tenant,
                &session,
                &user,
                &f.handle,
                &f.credential,
                client.ip_text(),
            )
            .await?;
            let res = redirect(&tenant, f.return_to.as_deref());
            Ok(with_rotated_cookie(&s, &tenant, &raised, res).await)
        }
        .await,
    )
}

/// The pages' WebAuthn script (the same for every tenant).
pub async fn script() -> Response {
    let mut res = SCRIPT.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/javascript; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}
