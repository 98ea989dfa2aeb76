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

/// Hashes `password` on a blocking thread.
pub async fn hash_blocking(password: Password) -> Result<String> {
    passwords::off_runtime(move || passwords::hash(&password)).await?
}

/// Sets the password of a user the caller may change. Over HTTP the hashing takes a place in
/// the server's bounded `queue` (full: `Unavailable`, 503 with `Retry-After`); the CLI has none.
pub async fn set(
    store: &Store,
    caller: &Caller,
    id: &UserId,
    req: SetPassword,
    queue: Option<&passwords::HashQueue>,
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
        Some(q) => q.run(move || passwords::hash(&password)).await??,
        None => hash_blocking(password).await?,
    };
    store
        .set_password_hash(caller.tenant_id(), id, &hash, &caller.actor())
        .await
}
