//! OpenID Connect Back-Channel Logout 1.0: a signed Logout Token for each app an ended session
//! signed in to, POSTed to its `backchannel_logout_uri` in the background.

use crate::domain::TenantId;
use crate::domain::clock::now_ms;
use crate::domain::sessions::LogoutTarget;
use crate::oidc::keys::KeyRing;
use crate::store::Store;
use serde::Serialize;
use serde_json::{Value, json};
use std::time::Duration;

/// The event a Logout Token carries (§2.4).
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// The JWT `typ` of a Logout Token (§2.4).
pub const TYP: &str = "logout+jwt";
/// How long a Logout Token is valid, in seconds.
const TTL: i64 = 120;
/// How long one delivery attempt may take.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Pauses before the second and third attempts.
const BACKOFF: [Duration; 2] = [Duration::from_millis(250), Duration::from_secs(1)];

/// The claims of a Logout Token (§2.4): never a `nonce`.
#[derive(Debug, Serialize)]
pub struct LogoutClaims<'a> {
    pub iss: &'a str,
    pub aud: &'a str,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub sub: &'a str,
    pub sid: &'a str,
    pub events: Value,
}

impl<'a> LogoutClaims<'a> {
    /// The claims telling `target`'s app that its session ended, issued now.
    pub fn new(issuer: &'a str, target: &'a LogoutTarget) -> Self {
        let iat = now_ms() / 1000;
        LogoutClaims {
            iss: issuer,
            aud: &target.client_id,
            iat,
            exp: iat + TTL,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            sub: target.user_id.as_str(),
            sid: &target.session_id,
            events: json!({ EVENT: {} }),
        }
    }
}

/// Delivers Logout Tokens: an HTTP client that follows no redirects and gives up after 5 s.
pub struct BackChannel {
    http: Option<reqwest::Client>,
}

impl Default for BackChannel {
    fn default() -> Self {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build();
        if let Err(e) = &http {
            tracing::error!(error = %e, "no HTTP client: back-channel logout is disabled");
        }
        BackChannel { http: http.ok() }
    }
}

impl BackChannel {
    /// Signs a Logout Token for each target (with the algorithm of the app's ID tokens) and
    /// sends them in the background: neither a signing nor a delivery failure reaches the
    /// caller, whose sessions have already ended; each is logged.
    pub async fn notify(
        &self,
        keys: &KeyRing,
        store: &Store,
        tenant: &TenantId,
        issuer: &str,
        targets: &[LogoutTarget],
    ) {
        let Some(http) = &self.http else {
            return;
        };
        for target in targets {
            let signed = match keys.signer(store, tenant, target.alg).await {
                Ok(signer) => signer.sign_jwt(TYP, &LogoutClaims::new(issuer, target)),
                Err(e) => Err(e),
            };
            let token = match signed {
                Ok(t) => t,
                Err(e) => {
                    tracing::error!(error = %e, client_id = %target.client_id,
                        "back-channel logout: the logout token cannot be signed");
                    continue;
                }
            };
            tokio::spawn(deliver(
                http.clone(),
                target.uri.clone(),
                target.client_id.clone(),
                token,
            ));
        }
    }
}

/// POSTs `logout_token` to `uri`, trying up to three times; a 2xx answer is success.
async fn deliver(http: reqwest::Client, uri: String, client_id: String, token: String) {
    let form = [("logout_token", token)];
    for attempt in 0..=BACKOFF.len() {
        let outcome = match http.post(&uri).form(&form).send().await {
            Ok(res) if res.status().is_success() => return,
            Ok(res) => format!("answered {}", res.status()),
            Err(e) => format!("failed: {}", e.without_url()),
        };
        tracing::warn!(%uri, %client_id, attempt = attempt + 1, %outcome,
            "back-channel logout delivery failed");
        match BACKOFF.get(attempt) {
            Some(pause) => tokio::time::sleep(*pause).await,
            None => tracing::error!(%uri, %client_id,
                "back-channel logout not delivered; the app was not told of the sign-out"),
        }
    }
}
