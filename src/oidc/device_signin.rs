//! Signing in from a trusted device (OWASP's device cookies, see `domain::devices`): the
//! browser's device cookie verified and names the user the typed email belongs to. Such a
//! sign-in takes a reserved place of the hashing queue and the workers' trusted lane, so a
//! flood of untrusted guesses does not slow it; its failures count on the device's own counter
//! (the account's limits, NIST's permanent lock included), so guesses from elsewhere that lock
//! the account do not lock the owner out of their browser, and a stolen cookie buys no more
//! guesses than an account has. A locked device is no longer trusted: its sign-ins go the
//! ordinary way, against the account's counter.

use super::signin::{Guard, audit_failure, audit_lock, judge_password, may_sign_in};
use crate::domain::clock::now_ms;
use crate::domain::devices::Device;
use crate::domain::passwords::{Lane, Password};
use crate::domain::secrets::new_secret;
use crate::domain::throttle;
use crate::domain::{Result, Tenant, User};
use crate::store::Store;

/// What a sign-in from a device cookie came to.
pub enum Outcome {
    /// Judged on the trusted lane: whether the password was right and the user may sign in.
    Judged(bool),
    /// Not a trusted sign-in (the device is locked): the caller goes the ordinary way, as if
    /// there were no cookie.
    Untrusted,
}

/// Judges `password` for `user` (whom `device` names and `email` was typed for) on the
/// trusted lane. Nothing is counted or hashed for an [`Outcome::Untrusted`]. `Unavailable` when
/// even the reserved places are taken.
pub async fn sign_in(
    store: &Store,
    tenant: &Tenant,
    email: &str,
    user: &User,
    device: &Device,
    password: &Password,
    guard: &Guard<'_>,
) -> Result<Outcome> {
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
    let right = judge_password(store, tenant, Some(user), password.clone(), Lane::Trusted).await?;
    drop(place);
    if !(right && may_sign_in(user.status)) {
        let u = Some(user);
        audit_failure(store, tenant, email, u, guard.client, &counted, true).await?;
        if counted.locked_now(now) {
            audit_lock(store, tenant, email, u, guard.client, &counted, &subject).await?;
        }
        return Ok(Outcome::Judged(false));
    }
    store.throttle_forget(&tenant.id, &subject).await?;
    Ok(Outcome::Judged(true))
}
