//! Passkeys and security keys (WebAuthn, through webauthn-rs): registering one from a signed-in
//! session, signing in with a passkey and no username, and proving one as a second factor.
//!
//! Each ceremony has a random handle the browser carries; only its hash is stored, with the
//! webauthn-rs state, the session it belongs to (none for a passkey sign-in) and an expiry. A
//! ceremony is taken when answered, so no challenge is answered twice.

mod assertion;
mod link;
mod register;

pub use assertion::{finish_login, finish_verify, start_login, start_verify};
pub use link::{Checked, check_link_registration, start_link_registration, store_link_credential};
pub use register::{Registered, credential_name, finish_registration, start_registration};

use crate::domain::clock::now_ms;
use crate::domain::mfa::{Ceremony, UserVerification, WebauthnCredential};
use crate::domain::secrets::{hash_secret, new_secret};
use crate::domain::sessions::Session;
use crate::domain::{DomainError, Tenant, User};
use crate::store::Store;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use webauthn_rs::prelude::*;

/// How long a ceremony may take, in milliseconds.
pub const CEREMONY_TTL_MS: i64 = 5 * 60 * 1000;
/// The longest name of a credential, in characters.
pub const NAME_MAX_CHARS: usize = 64;

/// Why a ceremony step was refused; each has a code and a message for people.
#[derive(Debug)]
pub enum Refusal {
    /// The request cannot be read or breaks a rule (400).
    Malformed(&'static str, String),
    /// No session, or the authenticator's answer was not accepted (401).
    Refused(&'static str, String),
    /// The session may not do this (403).
    Forbidden(&'static str, String),
    /// No such tenant (404).
    NotFound(&'static str, String),
    /// The authenticator is already registered (409).
    Conflict(String),
    /// Too many requests from one client (429).
    TooMany(String),
    /// Anything unexpected: logged, answered generically.
    Internal(DomainError),
}

impl From<DomainError> for Refusal {
    fn from(e: DomainError) -> Self {
        Self::Internal(e)
    }
}

pub type Outcome<T> = std::result::Result<T, Refusal>;

fn refused(message: &str) -> Refusal {
    Refusal::Refused("credential_refused", message.to_owned())
}

fn bad_handle() -> Refusal {
    Refusal::Malformed(
        "invalid_handle",
        "This request has expired or was already answered; please try again.".into(),
    )
}

/// What a ceremony's start gives the browser: the handle to send back and the options for
/// `navigator.credentials.create/get` (as webauthn-rs serializes them).
#[derive(Debug, Serialize)]
pub struct Challenge {
    pub handle: String,
    #[serde(rename = "publicKey")]
    pub public_key: serde_json::Value,
}

/// What a ceremony remembers between start and finish.
#[derive(Serialize, Deserialize)]
enum State {
    Passkey(PasskeyRegistration),
    SecurityKey {
        state: SecurityKeyRegistration,
        uv_required: bool,
    },
    Login(DiscoverableAuthentication),
    Verify {
        state: SecurityKeyAuthentication,
        uv_required: bool,
    },
}

const REGISTER: &str = "register";
const LOGIN: &str = "login";
const VERIFY: &str = "verify";

/// The relying party of `tenant`: its id is the host of `public_url`, its origin that URL's
/// origin, its name the tenant's. Security keys ask for user presence only when the tenant
/// discourages user verification. Cheap to build (no keys, no I/O).
pub fn relying_party(public_url: &str, tenant: &Tenant, uv: UserVerification) -> Outcome<Webauthn> {
    let url = Url::parse(public_url)
        .map_err(|e| DomainError::Internal(format!("public_url is not a URL: {e}")))?;
    let host = url
        .host_str()
        .ok_or_else(|| DomainError::Internal("public_url has no host".into()))?
        .to_owned();
    let origin = Url::parse(&url.origin().ascii_serialization())
        .map_err(|e| DomainError::Internal(format!("public_url has no origin: {e}")))?;
    WebauthnBuilder::new(&host, &origin)
        .map(|b| {
            b.rp_name(&tenant.name)
                .danger_set_user_presence_only_security_keys(uv == UserVerification::Discouraged)
        })
        .and_then(WebauthnBuilder::build)
        .map_err(|e| {
            Refusal::Internal(DomainError::Internal(format!(
                "WebAuthn needs a public_url whose host is a domain name ({host}): {e}"
            )))
        })
}

/// The user handle of `user` in `tenant`: stable, and revealing neither the user id nor the email.
pub fn user_handle(tenant: &Tenant, user: &User) -> Uuid {
    let digest = sha2::Sha256::digest(format!("castellan-webauthn:{}:{}", tenant.id, user.id));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

/// A credential id as stored: base64url without padding.
pub fn encode_credential_id(id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

async fn put(
    store: &Store,
    tenant: &Tenant,
    session: Option<&Session>,
    purpose: &str,
    state: &State,
    options: serde_json::Value,
) -> Outcome<Challenge> {
    let handle = new_secret("");
    let state = serde_json::to_string(state)
        .map_err(|e| DomainError::Internal(format!("WebAuthn state: {e}")))?;
    let ceremony = Ceremony {
        session_id: session.map(|s| s.id.clone()),
        purpose: purpose.to_owned(),
        state,
        expires_at: now_ms() + CEREMONY_TTL_MS,
    };
    store
        .put_ceremony(&tenant.id, &hash_secret(&handle), &ceremony)
        .await?;
    Ok(Challenge {
        handle,
        public_key: options,
    })
}

/// Takes the ceremony behind `handle` (once), if it is for `purpose`, still live, and belongs
/// to `session` (or to none).
async fn take(
    store: &Store,
    tenant: &Tenant,
    handle: &str,
    purpose: &str,
    session: Option<&Session>,
) -> Outcome<State> {
    if handle.is_empty() || handle.len() > 256 {
        return Err(bad_handle());
    }
    let Some(c) = store
        .take_ceremony(&tenant.id, &hash_secret(handle))
        .await?
    else {
        return Err(bad_handle());
    };
    let owner = session.map(|s| s.id.as_str());
    if c.purpose != purpose || c.expires_at <= now_ms() || c.session_id.as_deref() != owner {
        return Err(bad_handle());
    }
    serde_json::from_str(&c.state)
        .map_err(|e| Refusal::Internal(DomainError::Internal(format!("WebAuthn state: {e}"))))
}

fn to_json<T: Serialize>(v: &T) -> Outcome<serde_json::Value> {
    serde_json::to_value(v)
        .map_err(|e| Refusal::Internal(DomainError::Internal(format!("WebAuthn options: {e}"))))
}

fn stored_credential(c: &WebauthnCredential) -> Outcome<Credential> {
    serde_json::from_str(&c.credential).map_err(|e| {
        Refusal::Internal(DomainError::Internal(format!(
            "stored WebAuthn credential {} is unreadable: {e}",
            c.id
        )))
    })
}

fn may_enrol_or_refuse(allowed: bool) -> Outcome<()> {
    if allowed {
        return Ok(());
    }
    Err(Refusal::Forbidden(
        "enrolment_forbidden",
        "Confirm it is you with one of your current sign-in methods before adding another.".into(),
    ))
}

/// The RFC 8176 methods a credential proves: `swk` when it is synced (backup eligible),
/// `hwk` otherwise; and `user` when the authenticator verified the user.
fn methods(backup_eligible: bool, user_verified: bool) -> Vec<&'static str> {
    let mut m = vec![if backup_eligible { "swk" } else { "hwk" }];
    if user_verified {
        m.push("user");
    }
    m
}

/// Records a successful assertion: the credential's new counter and flags, and when it was used.
async fn touch(
    store: &Store,
    tenant: &Tenant,
    stored: &WebauthnCredential,
    credential: Credential,
    result: &AuthenticationResult,
) -> Outcome<()> {
    let mut key = SecurityKey::from(credential);
    let changed = key.update_credential(result).unwrap_or(false);
    let json = if changed {
        let c: Credential = key.into();
        Some(
            serde_json::to_string(&c)
                .map_err(|e| DomainError::Internal(format!("WebAuthn credential: {e}")))?,
        )
    } else {
        None
    };
    store
        .touch_webauthn_credential(&tenant.id, &stored.id, json.as_deref())
        .await?;
    Ok(())
}

fn assertion_refused(e: WebauthnError) -> Refusal {
    tracing::info!(error = %e, "WebAuthn assertion refused");
    match e {
        WebauthnError::CredentialPossibleCompromise => refused(
            "This authenticator's signature counter went backwards, as a copied authenticator's would; it was refused.",
        ),
        _ => refused("The passkey or security key was not accepted."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synced_credentials_are_software_keys() {
        assert_eq!(methods(false, true), ["hwk", "user"]);
        assert_eq!(methods(true, false), ["swk"]);
    }
}
