//! Registering a passkey through a single-use link (the owner's set-up link or an invitation),
//! before the person has any other way in: the ceremony is bound to the link's user (not to a
//! session), and the credential is stored only once the link is used up by a compare-and-set,
//! so a link gives at most one first credential.

use super::{
    Challenge, Outcome, REGISTER, Refusal, State, bad_handle, encode_credential_id, methods, put,
    relying_party, take, to_json, user_handle,
};
use crate::domain::clock::now_ms;
use crate::domain::mfa::{CredentialKind, UserVerification, WebauthnCredential};
use crate::domain::{DomainError, FactorId, Tenant, User};
use crate::oidc::mfa::{new_recovery_codes, requirement};
use crate::oidc::signin;
use crate::store::Store;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use webauthn_rs::prelude::*;
use webauthn_rs_proto::ResidentKeyRequirement;

/// The ceremony purpose of a link registration for `user` (a ceremony of one user's link
/// cannot finish another's).
fn purpose(user: &User) -> String {
    format!("{REGISTER}:link:{}", user.id)
}

/// Starts registering a passkey (discoverable, user-verified) for the user of a live link.
pub async fn start_link_registration(
    store: &Store,
    public_url: &str,
    tenant: &Tenant,
    user: &User,
) -> Outcome<Challenge> {
    let rp = relying_party(public_url, tenant, UserVerification::Required)?;
    let req = requirement(store, tenant, user, &[]).await?;
    let exclude: Vec<CredentialID> = req
        .factors
        .webauthn
        .iter()
        .filter_map(|c| URL_SAFE_NO_PAD.decode(&c.credential_id).ok())
        .collect();
    let display = user.display_name.as_deref().unwrap_or(&user.email);
    let (mut options, state) = rp
        .start_passkey_registration(
            user_handle(tenant, user),
            &user.email,
            display,
            Some(exclude),
        )
        .map_err(|e| DomainError::Internal(format!("WebAuthn registration: {e}")))?;
    if let Some(sel) = options.public_key.authenticator_selection.as_mut() {
        sel.resident_key = Some(ResidentKeyRequirement::Required);
        sel.require_resident_key = true;
    }
    let public_key = to_json(&options.public_key)?;
    let state = State::Passkey(state);
    put(store, tenant, None, &purpose(user), &state, public_key).await
}

/// A passkey the authenticator answered with, checked, not yet stored: what it proves (RFC 8176
/// methods) and the row to store.
pub struct Checked {
    pub stored: WebauthnCredential,
    pub amr: Vec<String>,
}

/// Checks the authenticator's answer to a link registration of `user`.
pub async fn check_link_registration(
    store: &Store,
    public_url: &str,
    tenant: &Tenant,
    user: &User,
    handle: &str,
    response: &RegisterPublicKeyCredential,
) -> Outcome<Checked> {
    let State::Passkey(state) = take(store, tenant, handle, &purpose(user), None).await? else {
        return Err(bad_handle());
    };
    let rp = relying_party(public_url, tenant, UserVerification::Required)?;
    let passkey = rp
        .finish_passkey_registration(response, &state)
        .map_err(|e| {
            tracing::info!(error = %e, "WebAuthn link registration refused");
            Refusal::Malformed(
                "invalid_credential",
                "The authenticator's answer was not accepted; please try again.".into(),
            )
        })?;
    let credential: Credential = passkey.into();
    let json = serde_json::to_string(&credential)
        .map_err(|e| DomainError::Internal(format!("WebAuthn credential: {e}")))?;
    let amr = methods(credential.backup_eligible, credential.user_verified)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let stored = WebauthnCredential {
        id: FactorId::generate(),
        user_id: user.id.clone(),
        kind: CredentialKind::Passkey,
        name: "Passkey".into(),
        credential_id: encode_credential_id(credential.cred_id.as_slice()),
        credential: json,
        created_at: now_ms(),
        last_used_at: None,
    };
    Ok(Checked { stored, amr })
}

/// Stores a checked passkey as the user's (with their first recovery codes when it is their
/// first factor, returned to be shown once). Call it once the link is used up.
pub async fn store_link_credential(
    store: &Store,
    tenant: &Tenant,
    user: &User,
    checked: &Checked,
    ip: Option<String>,
) -> Outcome<Option<Vec<String>>> {
    let req = requirement(store, tenant, user, &[]).await?;
    let (codes, hashes) = if req.factors.any() {
        (None, None)
    } else {
        let (c, h) = new_recovery_codes();
        (Some(c), Some(h))
    };
    let actor = signin::user_actor(user, ip);
    match store
        .add_webauthn_credential(&tenant.id, &checked.stored, hashes.as_deref(), &actor)
        .await
    {
        Ok(()) => Ok(codes),
        Err(DomainError::Conflict(m)) => Err(Refusal::Conflict(m)),
        Err(e) => Err(e.into()),
    }
}
