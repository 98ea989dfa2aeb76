//! `POST /t/{tenant}/setup/passkey/register/{start,finish}`: the link page's "use a passkey instead",
//! called by `webauthn.js` (the button's `data-base` and `data-link`) with the page's CSRF
//! token in `X-CSRF-Token`. Finishing checks the authenticator's answer, uses the link up (of
//! two finishes at once, one wins; the other gets 410), stores the passkey (with the first
//! recovery codes, shown once by the script), starts a session at the level the passkey proves
//! and answers where to go: the second-factor page if the policy wants more, else the console
//! or the portal. Errors are `{"error", "message"}` like the other WebAuthn endpoints.

use super::setup::{landing_after, lang_of};
use super::setup_texts::SetupTexts;
use crate::admin::setup_links::{self, LinkPurpose};
use crate::domain::throttle::Client;
use crate::domain::{Tenant, User};
use crate::http::AppState;
use crate::http::oidc::csrf;
use crate::oidc::signin;
use crate::oidc::webauthn::{self as wa, Refusal};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use webauthn_rs::prelude::RegisterPublicKeyCredential;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Start {
    link: String,
    #[serde(default)]
    #[allow(dead_code)] // sent by the shared script; a link registration is always a passkey
    kind: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finish {
    link: String,
    handle: String,
    #[serde(default)]
    #[allow(dead_code)] // sent by the shared script: the passkey is named "Passkey"
    name: Option<String>,
    credential: RegisterPublicKeyCredential,
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn gone(lang: crate::http::oidc::i18n::Lang) -> Response {
    let t = SetupTexts::of(lang);
    let body =
        json!({ "error": "link_gone", "message": format!("{} {}", t.gone_why, t.gone_invited) });
    no_store((StatusCode::GONE, Json(body)).into_response())
}

/// The tenant, the link's user and purpose, with the CSRF header checked; or the answer.
async fn opened(
    s: &AppState,
    slug: &str,
    headers: &HeaderMap,
    link: &str,
) -> Result<(Tenant, User, LinkPurpose), Response> {
    let tenant = s
        .store
        .tenant_by_slug(slug)
        .await
        .map_err(|e| Refusal::from(e).into_response())?
        .ok_or_else(|| {
            Refusal::NotFound(
                "unknown_tenant",
                "There is no such organisation here.".into(),
            )
            .into_response()
        })?;
    let token = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    if !csrf::browser_ok(s, &tenant, headers, token) {
        let m = "This page has expired; reload it and try again.";
        return Err(Refusal::Forbidden("csrf", m.into()).into_response());
    }
    match setup_links::link_user(&s.store, &tenant, link).await {
        Ok(Some((user, purpose))) => Ok((tenant, user, purpose)),
        Ok(None) => Err(gone(lang_of(None, headers))),
        Err(e) => Err(Refusal::from(e).into_response()),
    }
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, Refusal> {
    b.map(|Json(v)| v)
        .map_err(|e| Refusal::Malformed("invalid_request", e.body_text()))
}

/// `POST /t/{tenant}/setup/passkey/register/start {link}`.
pub async fn start(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    b: Result<Json<Start>, JsonRejection>,
) -> Response {
    let req = match body(b) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    let (tenant, user, _) = match opened(&s, &slug, &headers, &req.link).await {
        Ok(o) => o,
        Err(res) => return res,
    };
    match wa::start_link_registration(&s.store, &s.config.public_url, &tenant, &user).await {
        Ok(challenge) => no_store(Json(challenge).into_response()),
        Err(r) => r.into_response(),
    }
}

/// `POST /t/{tenant}/setup/passkey/register/finish {link, handle, credential}`.
pub async fn finish(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    b: Result<Json<Finish>, JsonRejection>,
) -> Response {
    let req = match body(b) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    let (tenant, user, purpose) = match opened(&s, &slug, &headers, &req.link).await {
        Ok(o) => o,
        Err(res) => return res,
    };
    let public_url = &s.config.public_url;
    let checked = wa::check_link_registration(
        &s.store,
        public_url,
        &tenant,
        &user,
        &req.handle,
        &req.credential,
    )
    .await;
    let checked = match checked {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    match setup_links::use_for_passkey(&s.store, &tenant, &req.link, purpose).await {
        Ok(Some(_)) => {}
        Ok(None) => return gone(lang_of(Some(&user), &headers)),
        Err(e) => return Refusal::from(e).into_response(),
    }
    let ip = client.ip.map(|i| i.to_string());
    let codes = wa::store_link_credential(&s.store, &tenant, &user, &checked, ip.clone()).await;
    let codes = match codes {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let started =
        match signin::start_session(&s.store, &tenant, &user, checked.amr.clone(), ip, false).await
        {
            Ok(st) => st,
            Err(e) => return Refusal::from(e).into_response(),
        };
    let target = match landing_after(&s, &tenant, &headers, &started).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let body = json!({ "redirect": target, "recovery_codes": codes });
    let res = no_store(Json(body).into_response());
    let ua = client.user_agent.as_deref();
    crate::http::oidc::login::signed_in_response(&s, &tenant, &started, ua, res).await
}
