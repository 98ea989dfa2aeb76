//! Signing in from a trusted device (OWASP's device cookies, see `domain::devices`): the
//! browser's device cookie verified and names the user the typed email belongs to. Such a
//! sign-in takes a reserved place of the hashing queue and the workers' trusted lane, so a
//! flood of untrusted guesses does not slow it; its failures count on the device's own counter
//! (the account's limits, NIST's permanent lock included), so guesses from elsewhere that lock
//! the account do not lock the owner out of their browser, and a stolen cookie buys no more
//! guesses than an account has. A locked device is no longer trusted: its sign-ins go the
//! ordinary way, against the account's counter.

use super::signin::{Guard, audit_failure, audit_lock, may_sign_in};
use crate::domain::clock::now_ms;
use crate::domain::devices::Device;
use crate::domain::passwords::{self, Lane, Password};
use crate::domain::secrets::new_secret;
use crate::domain::throttle;
use crate::domain::{Result, Tenant, User};
use crate::store::Store;

/// What a sign-in from a device cookie came to.
pub enum Outcome {
    /// Judged on the trusted lane: the user when the password was right and they may sign in.
    Judged(Option<Box<User>>),
    /// Not a trusted sign-in (the cookie names another user than the email's, or the device is
    /// locked): the caller goes the ordinary way, as if there were no cookie.
    Untrusted,
}

/// Judges `password` for `email` on the trusted lane when `device` names its user. Nothing is
/// counted or hashed for an [`Outcome::Untrusted`]. `Unavailable` when even the reserved places
/// are taken.
pub async fn sign_in(
    store: &Store,
    tenant: &Tenant,
    email: &str,
    password: &Password,
    guard: &Guard<'_>,
    device: &Device,
) -> Result<Outcome> {
    let Some(user) = store
        .user_by_email(&tenant.id, email)
        .await?
        .filter(|u| u.id.as_str() == device.user)
    else {
        return Ok(Outcome::Untrusted);
    };
    let place = guard.queue.enter_trusted()?;
    let subject = throttle::device(user.id.as_str(), &device.nonce);
    let now = now_ms();
    let counted = store
        .throttle_attempt(
            &tenant.id,
            &subject,
            &guard.limits.device(),
            now,
            &new_secret(""),
        )
        .await?;
    if !counted.allowed {
        return Ok(Outcome::Untrusted);
    }
    let stored = store.password_hash(&tenant.id, &user.id).await?;
    let has_hash = stored.is_some();
    let password = password.clone();
    let matches = passwords::off_runtime_in(Lane::Trusted, move || {
        let hash = stored.as_deref().unwrap_or_else(|| passwords::dummy_hash());
        passwords::verify(&password, hash)
    })
    .await?;
    drop(place);
    if !(matches && has_hash && may_sign_in(user.status)) {
        let u = Some(&user);
        audit_failure(store, tenant, email, u, guard.client, &counted, true).await?;
        if counted.locked_now(now) {
            audit_lock(store, tenant, email, u, guard.client, &counted, &subject).await?;
        }
        return Ok(Outcome::Judged(None));
    }
    store.throttle_forget(&tenant.id, &subject).await?;
    Ok(Outcome::Judged(Some(Box::new(user))))
}
