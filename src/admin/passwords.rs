//! Setting a user's password (administrators and the CLI). The password is hashed with
//! argon2id off the async runtime; it is never logged nor written to the audit log.

use super::users::authorised_user;
use crate::domain::authz::Caller;
use crate::domain::passwords::{self, Password};
use crate::domain::*;
use crate::store::Store;
use serde::Deserialize;
use std::fmt;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    pub password: String,
}

impl fmt::Debug for SetPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SetPassword { password: *** }")
    }
}

/// How a password write takes its place in a bounded hashing queue.
#[derive(Clone, Copy)]
pub enum Admission<'a> {
    /// Refused at once when the queue is full (`Unavailable`: 503 with `Retry-After`): HTTP.
    Refuse(&'a passwords::HashQueue),
    /// Waits for a place: the CLI.
    Wait(&'a passwords::HashQueue),
}

/// Sets the password of a user the caller may change, hashing in a place of the bounded queue.
pub async fn set(
    store: &Store,
    caller: &Caller,
    id: &UserId,
    req: SetPassword,
    queue: Admission<'_>,
) -> Result<()> {
    let user = authorised_user(store, caller, id, true).await?;
    if user.status == UserStatus::Anonymised {
        return Err(DomainError::conflict(
            "an anonymised user cannot be given a password",
        ));
    }
    let password = Password::new(req.password)?;
    let tenant = &caller.tenant;
    let context = passwords::context_words(&user.email, &tenant.name, &tenant.slug);
    passwords::check_not_guessable(&password, &context)?;
    let hash = match queue {
        Admission::Refuse(q) => q.run(move || passwords::hash(&password)).await??,
        Admission::Wait(q) => {
            let _place = q.wait().await?;
            passwords::off_runtime(move || passwords::hash(&password)).await??
        }
    };
    store
        .set_password_hash(caller.tenant_id(), id, &hash, &caller.actor())
        .await
}
