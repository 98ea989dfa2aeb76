//! OpenID Connect RP-Initiated Logout 1.0 (the end-session endpoint) and Back-Channel Logout
//! 1.0: validating a logout request, ending a session, telling the apps it signed in to.

pub mod backchannel;

use super::authorize::{PageError, redirect_with};
use super::error::OAuthResult;
use super::{ClientEntry, Provider};
use crate::domain::audit::Actor;
use crate::domain::sessions::{LogoutTarget, Session};
use crate::domain::{Result, Tenant, User};
use crate::store::Store;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

/// The parameters of a logout request (§2), as carried from the request to the confirmation.
pub const PARAMS: [&str; 6] = [
    "id_token_hint",
    "client_id",
    "post_logout_redirect_uri",
    "state",
    "logout_hint",
    "ui_locales",
];

/// What an `id_token_hint` tells, once its signature and issuer are checked.
#[derive(Debug, Deserialize)]
pub struct Hint {
    pub sub: String,
    #[serde(default)]
    pub aud: serde_json::Value,
    #[serde(default)]
    pub azp: Option<String>,
    #[serde(default)]
    pub sid: Option<String>,
}

impl Hint {
    /// The client the ID token was issued to.
    pub fn client_id(&self) -> Option<&str> {
        match &self.aud {
            serde_json::Value::String(a) => Some(a),
            serde_json::Value::Array(a) if a.len() == 1 => a[0].as_str(),
            _ => self.azp.as_deref(),
        }
    }
}

/// A validated logout request.
#[derive(Debug)]
pub struct LogoutRequest {
    pub hint: Option<Hint>,
    pub client: Option<Arc<ClientEntry>>,
    /// The registered `post_logout_redirect_uri` with `state` added, if one was asked for.
    pub redirect: Option<String>,
    /// The logout parameters as received (to carry through the confirmation form).
    pub params: Vec<(String, String)>,
}

impl LogoutRequest {
    /// Whether the hint was issued in `session`: then the app asking is the one the user
    /// signed in to in this browser, and no confirmation is needed.
    pub fn names(&self, session: &Session) -> bool {
        self.hint.as_ref().is_some_and(|h| {
            h.sid.as_deref() == Some(session.id.as_str()) && h.sub == session.user_id.as_str()
        })
    }
}

fn refuse<T>(message: impl Into<String>) -> OAuthResult<std::result::Result<T, PageError>> {
    Ok(Err(PageError(message.into())))
}

/// Validates a logout request. Every problem is a page error: nothing is redirected to a URI
/// that is not registered for the client.
pub async fn parse(
    provider: &Provider,
    store: &Store,
    tenant: &Tenant,
    issuer: &str,
    pairs: Vec<(String, String)>,
) -> OAuthResult<std::result::Result<LogoutRequest, PageError>> {
    let mut map: HashMap<&str, String> = HashMap::new();
    let mut params = Vec::new();
    for (k, v) in pairs {
        let Some(name) = PARAMS.iter().find(|p| **p == k) else {
            continue;
        };
        if v.is_empty() {
            continue;
        }
        if map.insert(name, v.clone()).is_some() {
            return refuse(format!("The parameter `{name}` is repeated."));
        }
        params.push((k, v));
    }
    let hint = match map.get("id_token_hint") {
        Some(token) => match verify_hint(provider, store, tenant, issuer, token).await? {
            Ok(h) => Some(h),
            Err(why) => return refuse(why),
        },
        None => None,
    };
    let hinted = hint.as_ref().and_then(Hint::client_id);
    let client_id = match (map.get("client_id").map(String::as_str), hinted) {
        (Some(c), Some(h)) if c != h => {
            return refuse("`client_id` is not the application the `id_token_hint` was issued to.");
        }
        (c, h) => c.or(h),
    };
    let client = match client_id {
        Some(id) => provider.client(store, &tenant.id, id).await?,
        None => None,
    };
    if map.contains_key("client_id") && client.is_none() {
        return refuse("The application that sent you here is not registered.");
    }
    let redirect = match map.get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let Some(c) = &client else {
                return refuse("`post_logout_redirect_uri` needs `client_id` or `id_token_hint`.");
            };
            if !c.client.post_logout_redirect_uris.iter().any(|r| r == uri) {
                return refuse("`post_logout_redirect_uri` is not registered for the application.");
            }
            let state = map.get("state").map(|s| ("state", s.as_str()));
            Some(redirect_with(uri, state.as_slice()))
        }
    };
    Ok(Ok(LogoutRequest {
        hint,
        client,
        redirect,
        params,
    }))
}

/// Checks an `id_token_hint`: an ID token this issuer signed with a key it still publishes.
/// It may have expired (§2: the OP accepts expired ones).
pub async fn verify_hint(
    provider: &Provider,
    store: &Store,
    tenant: &Tenant,
    issuer: &str,
    token: &str,
) -> OAuthResult<std::result::Result<Hint, &'static str>> {
    const NOT_OURS: &str = "The `id_token_hint` is not an ID token issued here.";
    let Ok(header) = jsonwebtoken::decode_header(token) else {
        return Ok(Err("The `id_token_hint` is malformed."));
    };
    if header
        .typ
        .as_deref()
        .is_some_and(|t| !t.eq_ignore_ascii_case("JWT"))
    {
        return Ok(Err(NOT_OURS));
    }
    let Some(kid) = header.kid.as_deref() else {
        return Ok(Err(NOT_OURS));
    };
    let keys = provider.keys.keys_with(store, &tenant.id, kid).await?;
    let Some(verifier) = keys.verifier(kid) else {
        return Ok(Err(NOT_OURS));
    };
    let mut validation = jsonwebtoken::Validation::new(verifier.alg);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["iss", "sub", "aud"]);
    Ok(
        jsonwebtoken::decode::<Hint>(token, &verifier.key, &validation)
            .map(|d| d.claims)
            .map_err(|_| NOT_OURS),
    )
}

/// Ends `session` of `user` (the user signing out), then tells the apps it signed in to.
pub async fn sign_out(
    provider: &Provider,
    store: &Store,
    tenant: &Tenant,
    issuer: &str,
    session: &Session,
    user: &User,
) -> Result<()> {
    let actor = Actor {
        kind: "user",
        id: Some(user.id.to_string()),
        label: user.email.clone(),
        ip: None,
        power: None,
    };
    let targets = store.end_session(&tenant.id, &session.id, &actor).await?;
    notify(provider, store, tenant, issuer, &targets).await;
    Ok(())
}

/// Tells the apps in `targets` that their sessions ended (in the background).
pub async fn notify(
    provider: &Provider,
    store: &Store,
    tenant: &Tenant,
    issuer: &str,
    targets: &[LogoutTarget],
) {
    provider
        .backchannel
        .notify(&provider.keys, store, &tenant.id, issuer, targets)
        .await;
}

/// What an administrative change that ends a user's sessions (deactivation, deletion,
/// anonymisation) needs to tell the apps: the provider and the public URL issuers live under.
#[derive(Clone, Copy)]
pub struct Notifier<'a> {
    pub provider: &'a Provider,
    pub public_url: &'a str,
}

impl Notifier<'_> {
    /// Tells the apps in `targets`, read when their sessions ended, that they did.
    pub async fn tell(self, store: &Store, tenant: &Tenant, targets: &[LogoutTarget]) {
        let issuer = super::issuer(self.public_url, &tenant.slug);
        notify(self.provider, store, tenant, &issuer, targets).await;
    }

    /// Reads what the live sessions of `user` signed in to, runs `end` (which ends or removes
    /// those sessions), and once it has succeeded tells the apps.
    pub async fn ending_sessions_of<T>(
        self,
        store: &Store,
        tenant: &Tenant,
        user: &crate::domain::UserId,
        end: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let targets = store.user_logout_targets(&tenant.id, user).await?;
        let out = end.await?;
        let issuer = super::issuer(self.public_url, &tenant.slug);
        notify(self.provider, store, tenant, &issuer, &targets).await;
        Ok(out)
    }
}
