//! Proving a passkey or security key: signing in with a passkey and no username, and a second
//! factor (or step-up) for a signed-in session.

use super::{
    Challenge, LOGIN, Outcome, Refusal, State, VERIFY, assertion_refused, bad_handle,
    encode_credential_id, methods, put, refused, relying_party, stored_credential, take, to_json,
    touch, user_handle,
};
use crate::domain::DomainError;
use crate::domain::mfa::{CredentialKind, UserVerification};
use crate::domain::sessions::Session;
use crate::domain::{Tenant, User};
use crate::oidc::mfa::raise;
use crate::oidc::signin::{self, Started};
use crate::store::Store;
use webauthn_rs::prelude::*;
use webauthn_rs_proto::UserVerificationPolicy;

/// Starts a passkey sign-in: no username, the authenticator offers the user's passkeys.
pub async fn start_login(store: &Store, public_url: &str, tenant: &Tenant) -> Outcome<Challenge> {
    let rp = relying_party(public_url, tenant, UserVerification::Required)?;
    let (options, state) = rp
        .start_discoverable_authentication()
        .map_err(|e| DomainError::Internal(format!("WebAuthn sign-in: {e}")))?;
    let public_key = to_json(&options.public_key)?;
    put(store, tenant, None, LOGIN, &State::Login(state), public_key).await
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
    Ok(signin::start_session(store, tenant, &user, amr, ip, false).await?)
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
) -> Outcome<crate::oidc::mfa::Raised> {
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
