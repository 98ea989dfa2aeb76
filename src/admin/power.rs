//! The rule of power over users, applied to changes that reach many users at once: editing a
//! role changes the power of everyone holding it (directly, through groups, within accounts);
//! changing a group's roles changes its members'; removing a permission from the catalogue
//! changes its holders'; deleting an account ends what its members hold there.

use super::users::require_power_over_id;
use crate::domain::authz::{CASTELLAN_NAMESPACE, Caller};
use crate::domain::*;
use crate::store::Store;

/// Refuses (403) unless the caller has power over every user in `users` (see
/// [`Caller::require_power_over`]); the refusal names the first user out of reach.
pub async fn require_power_over_all(
    store: &Store,
    caller: &Caller,
    users: &[UserId],
    what: &str,
) -> Result<()> {
    if caller.has_owner_standing() {
        return Ok(());
    }
    for user in users {
        match require_power_over_id(store, caller, user).await {
            Ok(()) => {}
            Err(DomainError::Forbidden(why)) => {
                return Err(DomainError::forbidden(format!(
                    "{what} reaches user {user}, who is out of your reach: {why}"
                )));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Refuses a change that would give someone a `castellan:` permission the caller does not hold
/// (even a holder of `castellan:roles.write`: nobody makes others more powerful than
/// themselves).
pub fn require_castellan_held<'a>(
    caller: &Caller,
    permissions: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    if caller.has_owner_standing() {
        return Ok(());
    }
    let missing: Vec<&str> = permissions
        .into_iter()
        .filter(|p| p.starts_with(CASTELLAN_NAMESPACE) && !caller.holds(p))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(DomainError::forbidden(format!(
            "you cannot grant permissions you do not hold yourself: {}",
            missing.join(", ")
        )))
    }
}

/// Power over every holder of `role`.
pub async fn require_power_over_holders(
    store: &Store,
    caller: &Caller,
    role: &RoleId,
    what: &str,
) -> Result<()> {
    if caller.has_owner_standing() {
        return Ok(());
    }
    let holders = store.role_holders(caller.tenant_id(), role).await?;
    require_power_over_all(store, caller, &holders, what).await
}
