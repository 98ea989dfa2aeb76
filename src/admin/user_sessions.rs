//! A user's browser sessions: list them, end one, or end all but one; the refresh tokens made
//! in an ended session are revoked with it and the apps it signed in to are told. With the
//! permission checks of every user sub-resource (the person themself in the account portal;
//! managers reach only the people they manage).

use super::users::authorised_user;
use crate::domain::authz::Caller;
use crate::domain::clock::now_ms;
use crate::domain::sessions::ListedSession;
use crate::domain::*;
use crate::oidc::logout::Notifier;
use crate::store::Store;

/// The user's usable sessions (not ended, not idle past the tenant's timeout, within their
/// lifetime), most recently seen first, with where each was started from.
pub async fn list(store: &Store, caller: &Caller, user: &UserId) -> Result<Vec<ListedSession>> {
    authorised_user(store, caller, user, false).await?;
    let settings = store.session_settings(caller.tenant_id()).await?;
    let now = now_ms();
    Ok(store
        .user_sessions(caller.tenant_id(), user)
        .await?
        .into_iter()
        .filter(|s| s.session.usable(now, &settings))
        .collect())
}

/// Ends one of the user's sessions (`NotFound` if it is not theirs or not live).
pub async fn end(
    store: &Store,
    notifier: Notifier<'_>,
    caller: &Caller,
    user: &UserId,
    session: &str,
) -> Result<()> {
    authorised_user(store, caller, user, true).await?;
    let targets = store
        .end_user_session(caller.tenant_id(), user, session, &caller.actor())
        .await?;
    notifier.tell(store, &caller.tenant, &targets).await;
    Ok(())
}

/// Ends every session of the user but `keep`, and revokes every refresh token not made in it.
pub async fn end_others(
    store: &Store,
    notifier: Notifier<'_>,
    caller: &Caller,
    user: &UserId,
    keep: &str,
) -> Result<()> {
    authorised_user(store, caller, user, true).await?;
    let targets = store
        .end_other_sessions(caller.tenant_id(), user, keep, &caller.actor())
        .await?;
    notifier.tell(store, &caller.tenant, &targets).await;
    Ok(())
}
