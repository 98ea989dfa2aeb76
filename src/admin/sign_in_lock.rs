//! A user's sign-in lock as administrators see and clear it: the failures counted against the
//! password and against the second factor, and whether either is locked (see
//! `domain::throttle`). Reading needs the users read permission and scope, clearing the write.

use super::users::authorised_user;
use crate::domain::audit::Change;
use crate::domain::authz::Caller;
use crate::domain::clock::now_ms;
use crate::domain::throttle::{self, LockState};
use crate::domain::*;
use crate::limits::SignInLimits;
use crate::store::Store;
use serde::Serialize;

/// What `GET /users/{id}/sign-in-lock` answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignInLock {
    /// Wrong passwords.
    pub password: LockState,
    /// Wrong one-time and recovery codes.
    pub second_factor: LockState,
}

impl SignInLock {
    /// Whether either is locked.
    pub fn locked(&self) -> bool {
        self.password.locked || self.second_factor.locked
    }
}

/// The lock state of `user`.
pub async fn state_of(
    store: &Store,
    tenant: &TenantId,
    user: &UserId,
    limits: &SignInLimits,
) -> Result<SignInLock> {
    let now = now_ms();
    let password = store
        .throttle_state(
            tenant,
            &throttle::account(user.as_str()),
            &limits.account(),
            now,
        )
        .await?;
    let second_factor = store
        .throttle_state(
            tenant,
            &throttle::second_factor(user.as_str()),
            &crate::limits::second_factor(),
            now,
        )
        .await?;
    Ok(SignInLock {
        password,
        second_factor,
    })
}

/// The lock state of a user the caller may read.
pub async fn get(
    store: &Store,
    caller: &Caller,
    id: &UserId,
    limits: &SignInLimits,
) -> Result<SignInLock> {
    authorised_user(store, caller, id, false).await?;
    state_of(store, caller.tenant_id(), id, limits).await
}

/// Clears the failures and locks of a user the caller may change (audited as
/// `user.sign_in_unlocked` with what was cleared and, over HTTP, the caller's user agent);
/// answers the state before.
pub async fn clear(
    store: &Store,
    caller: &Caller,
    id: &UserId,
    limits: &SignInLimits,
    user_agent: Option<&str>,
) -> Result<SignInLock> {
    authorised_user(store, caller, id, true).await?;
    let before = state_of(store, caller.tenant_id(), id, limits).await?;
    let subjects = [
        throttle::account(id.as_str()),
        throttle::second_factor(id.as_str()),
    ];
    let change = Change::new("user.sign_in_unlocked", "user", id)
        .before(&before)
        .after(serde_json::json!({ "user_agent": user_agent }));
    store
        .throttle_clear(caller.tenant_id(), &subjects, &caller.actor(), change)
        .await?;
    Ok(before)
}
