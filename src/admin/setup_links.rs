//! The owner's set-up link: on first start (and on demand from the CLI) Castellan prints a
//! single-use link with which the tenant's owner chooses a password and reaches the console,
//! without a mail server. Only the hash of its secret is stored. The same page takes the
//! invitation links of `admin::invitations`: [`link_user`] and [`set_password`] serve both.

use crate::domain::audit::Actor;
use crate::domain::passwords::{self, HashQueue, Password};
use crate::domain::secrets::{hash_secret, new_secret};
use crate::domain::*;
use crate::store::Store;

/// The purpose of an owner's set-up link.
pub const OWNER_SETUP: &str = "owner_setup";

/// How long a set-up link works: a week, time for an operator to come back to it.
pub const OWNER_SETUP_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// A new set-up link for the owner of `tenant` (an older unused one stops working), as the URL
/// to open under `public_url`.
pub async fn issue_owner_setup(
    store: &Store,
    tenant: &Tenant,
    public_url: &str,
    actor: &Actor,
) -> Result<String> {
    let owner = tenant
        .owner_user_id
        .as_ref()
        .ok_or(DomainError::NotFound("owner"))?;
    let secret = new_secret("");
    store
        .issue_user_link(
            &tenant.id,
            owner,
            OWNER_SETUP,
            &hash_secret(&secret),
            OWNER_SETUP_TTL_MS,
            actor,
        )
        .await?;
    Ok(format!(
        "{}/t/{}/setup?link={secret}",
        public_url.trim_end_matches('/'),
        tenant.slug
    ))
}

/// What a live link of the link page is for: the owner's set-up, or an invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkPurpose {
    OwnerSetup,
    Invitation,
}

impl LinkPurpose {
    fn parse(purpose: &str) -> Option<Self> {
        match purpose {
            OWNER_SETUP => Some(Self::OwnerSetup),
            crate::domain::invitations::PURPOSE => Some(Self::Invitation),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::OwnerSetup => OWNER_SETUP,
            Self::Invitation => crate::domain::invitations::PURPOSE,
        }
    }
}

/// The user a live link of the link page (an owner's set-up or an invitation link) of
/// `tenant` is for, and what the link is for. A link of another tenant, used, expired or
/// replaced, is `None`.
pub async fn link_user(
    store: &Store,
    tenant: &Tenant,
    secret: &str,
) -> Result<Option<(User, LinkPurpose)>> {
    if secret.is_empty() || secret.len() > 256 {
        return Ok(None);
    }
    let Some((id, purpose)) = store.live_link(&tenant.id, &hash_secret(secret)).await? else {
        return Ok(None);
    };
    let Some(purpose) = LinkPurpose::parse(&purpose) else {
        return Ok(None);
    };
    Ok(store
        .get_user(&tenant.id, &id)
        .await?
        .map(|user| (user, purpose)))
}

/// Sets the password of the link's user (the tenant's password rules apply, hashed in a place
/// of the bounded queue) and uses the link up. `None` when the link is unknown, used or expired
/// (of several uses at once, exactly one sets its password).
pub async fn set_password(
    store: &Store,
    tenant: &Tenant,
    secret: &str,
    password: String,
    queue: &HashQueue,
) -> Result<Option<User>> {
    let Some((user, purpose)) = link_user(store, tenant, secret).await? else {
        return Ok(None);
    };
    let hash = checked_hash(tenant, &user, password, queue).await?;
    let used = store
        .set_password_by_link(&tenant.id, purpose.as_str(), &hash_secret(secret), &hash)
        .await?;
    match used {
        Some(id) => store.get_user(&tenant.id, &id).await,
        None => Ok(None),
    }
}

/// The hash of `password` chosen by `user` through a link, once the tenant's password rules
/// accept it (`Invalid` otherwise), hashed in a place of the bounded queue.
pub async fn checked_hash(
    tenant: &Tenant,
    user: &User,
    password: String,
    queue: &HashQueue,
) -> Result<String> {
    let password = Password::new(password)?;
    let context = passwords::context_words(&user.email, &tenant.name, &tenant.slug);
    passwords::check_not_guessable(&password, &context)?;
    queue.run(move || passwords::hash(&password)).await?
}

/// Uses the link up without a password: the person registered a passkey with it (stored by the
/// caller once this answers their user). `None` when another use won, or it expired meanwhile.
pub async fn use_for_passkey(
    store: &Store,
    tenant: &Tenant,
    secret: &str,
    purpose: LinkPurpose,
) -> Result<Option<UserId>> {
    store
        .use_link(&tenant.id, purpose.as_str(), &hash_secret(secret))
        .await
}
