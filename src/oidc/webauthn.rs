//! Passkeys and security keys (WebAuthn, through webauthn-rs): registering one from a signed-in
//! session, signing in with a passkey and no username, and proving one as a second factor.
//!
//! Each ceremony has a random handle the browser carries; only its hash is stored, with the
//! webauthn-rs state, the session it belongs to (none for a passkey sign-in) and an expiry. A
//! ceremony is taken when answered, so no challenge is answered twice.

use super::mfa::{new_recovery_codes, raise, requirement};
use super::signin::{self, Started};
use crate::domain::clock::now_ms;
use crate::domain::mfa::{Ceremony, CredentialKind, UserVerification, WebauthnCredential};
use crate::domain::secrets::{hash_secret, new_secret};
use crate::domain::sessions::Session;
use crate::domain::{DomainError, FactorId, Tenant, User};
use crate::store::Store;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use webauthn_rs::prelude::*;
use webauthn_rs_proto::{ResidentKeyRequirement, UserVerificationPolicy};

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

/// A registered credential: its factor id, and the user's first recovery codes (shown once)
/// when it was their first second factor.
#[derive(Debug, Serialize)]
pub struct Registered {
    pub id: FactorId,
    pub recovery_codes: Option<Vec<String>>,
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

/// Starts registering a passkey or security key for the signed-in `user`; their existing
/// credentials are excluded.
pub async fn start_registration(
    store: &Store,
    public_url: &str,
    tenant: &Tenant,
    session: &Session,
    user: &User,
    kind: CredentialKind,
) -> Outcome<Challenge> {
    let req = requirement(store, tenant, user, &[]).await?;
    may_enrol_or_refuse(req.may_enrol(session))?;
    let uv = req.settings.security_key_user_verification;
    let rp = relying_party(public_url, tenant, uv)?;
    let exclude: Vec<CredentialID> = req
        .factors
        .webauthn
        .iter()
        .filter_map(|c| URL_SAFE_NO_PAD.decode(&c.credential_id).ok())
        .collect();
    let handle = user_handle(tenant, user);
    let display = user.display_name.as_deref().unwrap_or(&user.email);
    let fail = |e: WebauthnError| DomainError::Internal(format!("WebAuthn registration: {e}"));
    let (mut options, state) = match kind {
        CredentialKind::Passkey => {
            let (ccr, st) = rp
                .start_passkey_registration(handle, &user.email, display, Some(exclude))
                .map_err(fail)?;
            (ccr, State::Passkey(st))
        }
        CredentialKind::SecurityKey => {
            let (ccr, st) = rp
                .start_securitykey_registration(
                    handle,
                    &user.email,
                    display,
                    Some(exclude),
                    None,
                    None,
                )
                .map_err(fail)?;
            let uv_required = uv == UserVerification::Required;
            let state = State::SecurityKey {
                state: st,
                uv_required,
            };
            (ccr, state)
        }
    };
    if let Some(sel) = options.public_key.authenticator_selection.as_mut() {
        match &state {
            // A passkey must be discoverable: it signs in without a username.
            State::Passkey(_) => {
                sel.resident_key = Some(ResidentKeyRequirement::Required);
                sel.require_resident_key = true;
            }
            State::SecurityKey {
                uv_required: true, ..
            } => sel.user_verification = UserVerificationPolicy::Required,
            _ => {}
        }
    }
    let public_key = to_json(&options.public_key)?;
    put(store, tenant, Some(session), REGISTER, &state, public_key).await
}

/// The name a credential is saved under: the one given (trimmed), or the kind's default.
pub fn credential_name(kind: CredentialKind, given: Option<&str>) -> Outcome<String> {
    let name = given.map(str::trim).unwrap_or_default();
    if name.is_empty() {
        return Ok(match kind {
            CredentialKind::Passkey => "Passkey".into(),
            CredentialKind::SecurityKey => "Security key".into(),
        });
    }
    if name.chars().count() > NAME_MAX_CHARS || name.chars().any(char::is_control) {
        return Err(Refusal::Malformed(
            "invalid_name",
            format!("The name must be 1 to {NAME_MAX_CHARS} characters, on one line."),
        ));
    }
    Ok(name.to_owned())
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

/// Finishes a registration: checks the authenticator's answer, stores the credential (with
/// the user's first recovery codes if it is their first second factor) and raises the
/// session with it.
#[allow(clippy::too_many_arguments)]
pub async fn finish_registration(
    store: &Store,
    public_url: &str,
    tenant: &Tenant,
    session: &Session,
    user: &User,
    handle: &str,
    name: Option<&str>,
    response: &RegisterPublicKeyCredential,
    ip: Option<String>,
) -> Outcome<Registered> {
    let state = take(store, tenant, handle, REGISTER, Some(session)).await?;
    let req = requirement(store, tenant, user, &[]).await?;
    may_enrol_or_refuse(req.may_enrol(session))?;
    let rp = relying_party(
        public_url,
        tenant,
        req.settings.security_key_user_verification,
    )?;
    let not_accepted = |e: WebauthnError| {
        tracing::info!(error = %e, "WebAuthn registration refused");
        Refusal::Malformed(
            "invalid_credential",
            "The authenticator's answer was not accepted; please try again.".into(),
        )
    };
    let (kind, credential): (CredentialKind, Credential) = match &state {
        State::Passkey(st) => {
            let pk = rp
                .finish_passkey_registration(response, st)
                .map_err(not_accepted)?;
            (CredentialKind::Passkey, pk.into())
        }
        State::SecurityKey { state, uv_required } => {
            let sk = rp
                .finish_securitykey_registration(response, state)
                .map_err(not_accepted)?;
            let cred: Credential = sk.into();
            if *uv_required && !cred.user_verified {
                return Err(Refusal::Malformed(
                    "user_verification_required",
                    "This organisation needs security keys with a PIN or biometric check.".into(),
                ));
            }
            (CredentialKind::SecurityKey, cred)
        }
        _ => return Err(bad_handle()),
    };
    let name = credential_name(kind, name)?;
    let first = !req.factors.any();
    let (codes, hashes) = if first {
        let (c, h) = new_recovery_codes();
        (Some(c), Some(h))
    } else {
        (None, None)
    };
    let json = serde_json::to_string(&credential)
        .map_err(|e| DomainError::Internal(format!("WebAuthn credential: {e}")))?;
    let stored = WebauthnCredential {
        id: FactorId::generate(),
        user_id: user.id.clone(),
        kind,
        name,
        credential_id: encode_credential_id(credential.cred_id.as_slice()),
        credential: json,
        created_at: now_ms(),
        last_used_at: None,
    };
    let actor = signin::user_actor(user, ip.clone());
    match store
        .add_webauthn_credential(&tenant.id, &stored, hashes.as_deref(), &actor)
        .await
    {
        Ok(()) => {}
        Err(DomainError::Conflict(m)) => return Err(Refusal::Conflict(m)),
        Err(e) => return Err(e.into()),
    }
    let proved = methods(credential.backup_eligible, credential.user_verified);
    raise(store, tenant, session, user, &proved, ip).await?;
    Ok(Registered {
        id: stored.id,
        recovery_codes: codes,
    })
}

/// Starts a passkey sign-in: no username, the authenticator offers the user's passkeys.
pub async fn start_login(store: &Store, public_url: &str, tenant: &Tenant) -> Outcome<Challenge> {
    let rp = relying_party(public_url, tenant, UserVerification::Required)?;
    let (options, state) = rp
        .start_discoverable_authentication()
        .map_err(|e| DomainError::Internal(format!("WebAuthn sign-in: {e}")))?;
    let public_key = to_json(&options.public_key)?;
    put(store, tenant, None, LOGIN, &State::Login(state), public_key).await
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

/// Finishes a passkey sign-in: the credential (of this tenant) names the user, who must still
/// be allowed to sign in; starts their session with `hwk`/`swk`, `user` and `mfa`.
pub async fn finish_login(
    store: &Store,
    public_url: &str,
    tenant: &Tenant,
    handle: &str,
    response: &PublicKeyCredential,
    ip: Option<String>,
) -> Outcome<Started> {
    let State::Login(state) = take(store, tenant, handle, LOGIN, None).await? else {
        return Err(bad_handle());
    };
    let rp = relying_party(public_url, tenant, UserVerification::Required)?;
    let unknown = || refused("This passkey is not registered here.");
    let (handle_uuid, cred_id) = rp
        .identify_discoverable_authentication(response)
        .map_err(|_| unknown())?;
    let Some(stored) = store
        .webauthn_credential(&tenant.id, &encode_credential_id(cred_id))
        .await?
    else {
        return Err(unknown());
    };
    if stored.kind != CredentialKind::Passkey {
        return Err(refused(
            "This security key is a second factor: sign in with your password first.",
        ));
    }
    let user = store
        .get_user(&tenant.id, &stored.user_id)
        .await?
        .filter(|u| signin::may_sign_in(u.status))
        .ok_or_else(unknown)?;
    if user_handle(tenant, &user) != handle_uuid {
        return Err(unknown());
    }
    let credential = stored_credential(&stored)?;
    let result = rp
        .finish_discoverable_authentication_v2(response, state, &credential)
        .map_err(assertion_refused)?;
    if !result.user_verified() {
        return Err(refused(
            "The passkey did not verify you (PIN or biometric).",
        ));
    }
    let mut amr: Vec<String> = methods(credential.backup_eligible, true)
        .into_iter()
        .map(str::to_owned)
        .collect();
    amr.push("mfa".into());
    touch(store, tenant, &stored, credential, &result).await?;
    Ok(signin::start_session(store, tenant, &user, amr, ip).await?)
}

/// Starts proving a passkey or security key as a second factor (or again, for step-up): the
/// signed-in user's own credentials are allowed.
pub async fn start_verify(
    store: &Store,
    public_url: &str,
    tenant: &Tenant,
    session: &Session,
    user: &User,
) -> Outcome<Challenge> {
    let settings = store.mfa_settings(&tenant.id).await?;
    let factors = store.user_factors(&tenant.id, &user.id).await?;
    if factors.webauthn.is_empty() {
        return Err(Refusal::Forbidden(
            "no_credential",
            "You have no passkey or security key yet.".into(),
        ));
    }
    let keys = factors
        .webauthn
        .iter()
        .map(|c| stored_credential(c).map(SecurityKey::from))
        .collect::<Outcome<Vec<_>>>()?;
    let uv = settings.security_key_user_verification;
    let rp = relying_party(public_url, tenant, uv)?;
    let (mut options, state) = rp
        .start_securitykey_authentication(&keys)
        .map_err(|e| DomainError::Internal(format!("WebAuthn verification: {e}")))?;
    let uv_required = uv == UserVerification::Required;
    if uv_required {
        options.public_key.user_verification = UserVerificationPolicy::Required;
    } else if factors.passkeys().next().is_some() {
        // A passkey always verifies its user (webauthn-rs checks it was registered so): asking
        // for presence only would have browsers skip the check and the assertion refused.
        options.public_key.user_verification = UserVerificationPolicy::Preferred;
    }
    let public_key = to_json(&options.public_key)?;
    let state = State::Verify { state, uv_required };
    put(store, tenant, Some(session), VERIFY, &state, public_key).await
}

/// Finishes a second-factor proof: the credential must be the session user's; raises the
/// session with `hwk`/`swk` (and `user` when the authenticator verified the user).
#[allow(clippy::too_many_arguments)]
pub async fn finish_verify(
    store: &Store,
    public_url: &str,
    tenant: &Tenant,
    session: &Session,
    user: &User,
    handle: &str,
    response: &PublicKeyCredential,
    ip: Option<String>,
) -> Outcome<Session> {
    let State::Verify { state, uv_required } =
        take(store, tenant, handle, VERIFY, Some(session)).await?
    else {
        return Err(bad_handle());
    };
    let id = encode_credential_id(response.raw_id.as_slice());
    let stored = store
        .webauthn_credential(&tenant.id, &id)
        .await?
        .filter(|c| c.user_id == user.id)
        .ok_or_else(|| {
            refused("This passkey or security key is not registered to your account.")
        })?;
    let settings = store.mfa_settings(&tenant.id).await?;
    let rp = relying_party(public_url, tenant, settings.security_key_user_verification)?;
    let credential = stored_credential(&stored)?;
    let result = rp
        .finish_securitykey_authentication(response, &state)
        .map_err(assertion_refused)?;
    if uv_required && !result.user_verified() {
        return Err(refused(
            "This organisation needs a PIN or biometric check on your security key.",
        ));
    }
    let proved = methods(credential.backup_eligible, result.user_verified());
    touch(store, tenant, &stored, credential, &result).await?;
    Ok(raise(store, tenant, session, user, &proved, ip).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_default_by_kind_and_are_bounded() {
        assert_eq!(
            credential_name(CredentialKind::Passkey, None)
                .ok()
                .as_deref(),
            Some("Passkey")
        );
        assert_eq!(
            credential_name(CredentialKind::SecurityKey, Some("  "))
                .ok()
                .as_deref(),
            Some("Security key")
        );
        assert_eq!(
            credential_name(CredentialKind::Passkey, Some(" Phone "))
                .ok()
                .as_deref(),
            Some("Phone")
        );
        assert!(credential_name(CredentialKind::Passkey, Some(&"é".repeat(64))).is_ok());
        assert!(credential_name(CredentialKind::Passkey, Some(&"é".repeat(65))).is_err());
        assert!(credential_name(CredentialKind::Passkey, Some("a\nb")).is_err());
    }

    #[test]
    fn synced_credentials_are_software_keys() {
        assert_eq!(methods(false, true), ["hwk", "user"]);
        assert_eq!(methods(true, false), ["swk"]);
    }
}
