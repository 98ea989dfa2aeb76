//! A directory that changes a user's address (PUT or PATCH of `emails` or `userName`): the old
//! address is told with the mandatory `security.email_changed` mail, written by the store in
//! the transaction of the change (as when a person confirms a new address). Only an active user
//! is told; an invited one has not been told anything yet, and an inactive one is not mailed.

use super::ScimCaller;
use super::error::ScimResult;
use crate::domain::UserStatus;
use crate::domain::changes::normalise;
use crate::domain::mail::{MailKind, OutgoingMail};
use crate::domain::scim::{ScimUser, ScimUserWrite};
use crate::mail::{Recipient, Vars, compose, greeting};
use crate::store::Store;

/// The mail to `before`'s address if `w` moves the active user off it (the store writes it
/// only if that still holds under its lock).
pub async fn old_address_mail(
    store: &Store,
    caller: &ScimCaller,
    before: &ScimUser,
    w: &ScimUserWrite,
) -> ScimResult<Option<OutgoingMail>> {
    let (old, new) = (before.fields.sign_in_email(), w.fields.sign_in_email());
    if before.status != UserStatus::Active || !w.active || normalise(&old) == normalise(&new) {
        return Ok(None);
    }
    let mut vars = Vars::new();
    vars.insert("email", new);
    let to = Recipient {
        user: Some(before.id.clone()),
        name: greeting(
            before.fields.display_name.as_deref(),
            before.fields.given_name.as_deref(),
            before.fields.family_name.as_deref(),
            &old,
        ),
        email: old,
        locale: before.fields.locale.clone(),
    };
    let mail = compose(store, &caller.tenant, to, MailKind::EmailChanged, vars).await?;
    Ok(Some(mail))
}
