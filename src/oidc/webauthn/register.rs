//! Registering a passkey or security key from a signed-in session.

use super::{
    Challenge, NAME_MAX_CHARS, Outcome, REGISTER, Refusal, State, bad_handle, encode_credential_id,
    may_enrol_or_refuse, methods, put, relying_party, take, to_json, user_handle,
};
use crate::domain::clock::now_ms;
use crate::domain::mfa::{CredentialKind, UserVerification, WebauthnCredential};
use crate::domain::sessions::Session;
use crate::domain::{DomainError, FactorId, Tenant, User};
use crate::oidc::mfa::{new_recovery_codes, raise, requirement};
use crate::oidc::signin;
use crate::store::Store;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use webauthn_rs::prelude::*;
use webauthn_rs_proto::{ResidentKeyRequirement, UserVerificationPolicy};

/// A registered credential: its factor id, and the user's first recovery codes (shown once)
/// when it was their first second factor.
#[derive(Debug, Serialize)]
pub struct Registered {
    pub id: FactorId,
    pub recovery_codes: Option<Vec<String>>,
    /// The session, raised by the proof the registration is, with its new cookie secret.
    #[serde(skip)]
    pub raised: Option<crate::oidc::mfa::Raised>,
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
    let raised = raise(store, tenant, session, user, &proved, ip).await?;
    Ok(Registered {
        id: stored.id,
        recovery_codes: codes,
        raised: Some(raised),
    })
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
}
