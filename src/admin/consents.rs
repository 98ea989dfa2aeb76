//! A user's consents to third-party clients: list and revoke, with the permission checks of
//! every user sub-resource (managers reach only the people they manage).

use super::users::authorised_user;
use crate::domain::authz::Caller;
use crate::domain::consents::Consent;
use crate::domain::*;
use crate::store::Store;

/// A user's consents.
pub async fn list(store: &Store, caller: &Caller, user: &UserId) -> Result<Vec<Consent>> {
    authorised_user(store, caller, user, false).await?;
    store.list_consents(caller.tenant_id(), user).await
}

/// Withdraws a user's consent to the client `client` (its `client_id`, or its id): the next
/// authorization request of that client shows the consent page again.
pub async fn revoke(store: &Store, caller: &Caller, user: &UserId, client: &str) -> Result<()> {
    authorised_user(store, caller, user, true).await?;
    store
        .revoke_consent(caller.tenant_id(), user, client, &caller.actor())
        .await
}
