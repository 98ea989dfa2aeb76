//! What a valid authorization request leads to: the sign-in page, or a code for the client.

use super::{AuthorizeRequest, enc, error_redirect, redirect_with, refuse};
use crate::domain::Tenant;
use crate::domain::User;
use crate::domain::clock::now_ms;
use crate::domain::secrets::{hash_secret, new_secret};
use crate::domain::sessions::{AuthCode, CODE_TTL_MS, Session};
use crate::oidc::error::OAuthResult;
use crate::store::Store;

/// What the endpoint does with a valid request.
pub enum Decision {
    /// Send the browser to the sign-in page; it returns to `return_to` afterwards.
    SignIn {
        return_to: String,
        login_hint: Option<String>,
    },
    /// Send the browser back to the client with a code or an error.
    Redirect(String),
}

/// Decides, given the browser's session: sign in first, or issue a code.
///
/// Consent is a later slice of issue 3: until then every client is treated as first-party and
/// no consent page is shown.
pub async fn decide(
    store: &Store,
    tenant: &Tenant,
    issuer: &str,
    req: &AuthorizeRequest,
    session: Option<(Session, User)>,
) -> OAuthResult<Decision> {
    let now = now_ms();
    let fresh_enough = |s: &Session| {
        req.max_age
            .is_none_or(|max| now - s.auth_time <= max.saturating_mul(1000))
    };
    let usable = session.filter(|(s, _)| !req.prompt.login && fresh_enough(s));
    let Some((session, user)) = usable else {
        if req.prompt.none {
            let refusal = refuse("login_required", "the user is not signed in");
            return Ok(Decision::Redirect(error_redirect(
                &req.redirect_uri,
                req.state.as_deref(),
                issuer,
                &refusal,
            )));
        }
        return Ok(Decision::SignIn {
            return_to: return_to(&tenant.slug, &req.params),
            login_hint: req.login_hint.clone(),
        });
    };
    let code = new_secret("");
    // Back-channel logout tells every app the session signed in to.
    store
        .record_session_client(&tenant.id, &session.id, &req.client.client.id)
        .await?;
    store
        .insert_auth_code(
            &tenant.id,
            &AuthCode {
                code_hash: hash_secret(&code),
                client_id: req.client.client.id.clone(),
                user_id: user.id.clone(),
                session_id: session.id.clone(),
                redirect_uri: req.redirect_uri.clone(),
                scope: req.scopes.join(" "),
                nonce: req.nonce.clone(),
                code_challenge: req.code_challenge.clone(),
                auth_time: session.auth_time,
                created_at: now,
                expires_at: now + CODE_TTL_MS,
                used: false,
            },
        )
        .await?;
    let mut p = vec![("code", code.as_str())];
    if let Some(s) = req.state.as_deref() {
        p.push(("state", s));
    }
    p.push(("iss", issuer));
    Ok(Decision::Redirect(redirect_with(&req.redirect_uri, &p)))
}

/// This authorization request again, minus what asked for a new sign-in (`prompt=login`,
/// `max_age`): once the user has signed in, coming back must not ask again.
fn return_to(slug: &str, params: &[(String, String)]) -> String {
    let query: Vec<String> = params
        .iter()
        .filter(|(k, _)| k != "max_age")
        .filter_map(|(k, v)| {
            if k == "prompt" {
                let kept: Vec<&str> = v
                    .split(' ')
                    .filter(|p| !p.is_empty() && *p != "login")
                    .collect();
                return (!kept.is_empty()).then(|| format!("prompt={}", enc(&kept.join(" "))));
            }
            Some(format!("{}={}", enc(k), enc(v)))
        })
        .collect();
    format!("/t/{slug}/authorize?{}", query.join("&"))
}
