//! Account email (issue 15): "forgot password" from the sign-in page, confirming an address
//! nobody vouched for, and changing one's address from the account portal. Each sends a
//! single-use link by mail (written to the outbox in the same transaction as the link; without
//! a mail server the worker writes the mail, link included, to the log at info level) and keeps
//! only the link's hash. The links are rows of `user_links`, like invitations and the owner's
//! set-up link; a newer link of the same purpose replaces an unused one.
//!
//! - A reset is asked for by address, by anyone: the answer never says whether the address is
//!   known; only an active user is sent a link, and at most `resets_per_address` per window.
//!   Using it sets the password (the tenant's rules), ends every session and refresh token of
//!   the user and raises the mandatory `security.password_changed` notification. It does not
//!   sign the person in: they sign in as usual, second factor included.
//! - A confirmation link is sent when an account is created active with an address nobody
//!   vouched for (the admin API or the console with `email_verified` false; directories and
//!   imports vouch for theirs); opening it marks the address verified.
//! - A change link goes to the new address; only when it is opened does the address replace
//!   the old one (unique among the tenant's users at that moment), and the old address is
//!   told (`security.email_changed`, mandatory).

use super::setup_links::checked_hash;
use super::users::CreateUser;
use super::validate;
use crate::domain::account_email::{
    AccountEmail, EMAIL_CHANGE, EMAIL_VERIFICATION, NewLink, PASSWORD_RESET,
};
use crate::domain::audit::Actor;
use crate::domain::authz::Caller;
use crate::domain::changes::normalise;
use crate::domain::clock::now_ms;
use crate::domain::mail::MailKind;
use crate::domain::passwords::HashQueue;
use crate::domain::secrets::{hash_secret, new_secret};
use crate::domain::*;
use crate::mail::{Recipient, Vars, compose};
use crate::oidc::logout::Notifier;
use crate::store::Store;

/// Where links point and how long they work: the public URL and `[account_email]`.
#[derive(Clone, Copy, Debug)]
pub struct Links<'a> {
    pub public_url: &'a str,
    pub settings: &'a AccountEmail,
}

impl<'a> Links<'a> {
    pub fn of(config: &'a crate::config::Config) -> Self {
        Links {
            public_url: &config.public_url,
            settings: &config.account_email,
        }
    }

    /// `{public_url}/t/{slug}/{page}?link={secret}`.
    fn url(&self, tenant: &Tenant, page: &str, secret: &str) -> String {
        format!(
            "{}/t/{}/{page}?link={secret}",
            self.public_url.trim_end_matches('/'),
            tenant.slug
        )
    }
}

/// What became of a "forgot password" request (the person is told the same in every case).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetRequest {
    /// A link was mailed.
    Mailed,
    /// No active user has this address (or several share it).
    NoSuchUser,
    /// The address was sent enough links for now.
    Limited,
}

/// Sends a reset link to the active user whose address is `email`, unless that address was
/// sent `resets_per_address` links in the window.
pub async fn request_reset(
    store: &Store,
    tenant: &Tenant,
    email: &str,
    links: Links<'_>,
) -> Result<ResetRequest> {
    let email = email.trim();
    if email.is_empty() || email.len() > 320 {
        return Ok(ResetRequest::NoSuchUser);
    }
    let user = match store.user_by_email(&tenant.id, email).await? {
        Some(u) if u.status == UserStatus::Active => u,
        _ => return Ok(ResetRequest::NoSuchUser),
    };
    let secret = new_secret("");
    let mut vars = Vars::new();
    vars.insert("link", links.url(tenant, "reset", &secret));
    vars.insert("minutes", links.settings.reset_link_minutes.to_string());
    let mail = compose(
        store,
        tenant,
        Recipient::of(&user),
        MailKind::PasswordReset,
        vars,
    )
    .await?;
    let link = NewLink {
        purpose: PASSWORD_RESET,
        token_hash: &hash_secret(&secret),
        ttl_ms: links.settings.reset_ttl_ms(),
        email: None,
    };
    let actor = Actor::of_user(&user.id, "forgot password");
    // The limit per address is counted from the outbox in the transaction that adds the mail.
    let quota = (
        now_ms() - links.settings.window_ms(),
        i64::from(links.settings.resets_per_address),
    );
    let issued = store
        .issue_user_link_within(
            &tenant.id,
            &user.id,
            &link,
            Some(&mail),
            Some(quota),
            &actor,
        )
        .await?;
    Ok(if issued {
        ResetRequest::Mailed
    } else {
        ResetRequest::Limited
    })
}

/// The active user a live reset link of `tenant` is for.
pub async fn reset_user(store: &Store, tenant: &Tenant, secret: &str) -> Result<Option<User>> {
    if secret.is_empty() || secret.len() > 256 {
        return Ok(None);
    }
    let Some((id, purpose)) = store.live_link(&tenant.id, &hash_secret(secret)).await? else {
        return Ok(None);
    };
    if purpose != PASSWORD_RESET {
        return Ok(None);
    }
    Ok(store
        .get_user(&tenant.id, &id)
        .await?
        .filter(|u| u.status == UserStatus::Active))
}

/// Uses a reset link: sets `password` (the tenant's rules; `Invalid` otherwise, the link
/// still live), ends all the user's sessions and refresh tokens and tells their apps. `None`
/// when the link is not live (of several uses at once, exactly one sets its password).
pub async fn reset_password(
    store: &Store,
    notifier: Notifier<'_>,
    tenant: &Tenant,
    secret: &str,
    password: String,
    queue: &HashQueue,
) -> Result<Option<User>> {
    let Some(user) = reset_user(store, tenant, secret).await? else {
        return Ok(None);
    };
    let hash = checked_hash(tenant, &user, password, queue).await?;
    let reset = store
        .reset_password_by_link(&tenant.id, &hash_secret(secret), &hash)
        .await?;
    let Some((_, ended)) = reset else {
        return Ok(None);
    };
    notifier.tell(store, tenant, &ended).await;
    Ok(Some(user))
}

/// Sends `user` a link to confirm their current address, unless it is verified already.
pub async fn send_verification(
    store: &Store,
    tenant: &Tenant,
    user: &User,
    links: Links<'_>,
    actor: &Actor,
) -> Result<()> {
    if user.email_verified || user.status == UserStatus::Anonymised {
        return Ok(());
    }
    let to = Recipient::of(user);
    send_address_link(store, tenant, user, to, EMAIL_VERIFICATION, links, actor).await
}

/// Creates a user (`users::create`) and, when they are active with an address nobody vouched
/// for, sends them a link to confirm it. (An invited user's address is confirmed by accepting
/// an invitation that came by mail.)
pub async fn create_and_confirm(
    store: &Store,
    caller: &Caller,
    req: CreateUser,
    links: Links<'_>,
) -> Result<User> {
    let user = super::users::create(store, caller, req).await?;
    if user.status == UserStatus::Active {
        send_verification(store, &caller.tenant, &user, links, &caller.actor()).await?;
    }
    Ok(user)
}

/// Sends `user` (signed in: the caller re-authenticated them) a link to `new_email`; the
/// address changes when it is opened. `Invalid` for an address that is not one, or theirs.
pub async fn request_change(
    store: &Store,
    tenant: &Tenant,
    user: &User,
    new_email: &str,
    links: Links<'_>,
) -> Result<String> {
    let email = validate::email("email", new_email)?;
    if normalise(&email) == normalise(&user.email) {
        return Err(DomainError::invalid(
            "email",
            "this is already the address of the account",
        ));
    }
    let to = Recipient::at(user, &email);
    let actor = Actor::of_user(&user.id, "account portal");
    send_address_link(store, tenant, user, to, EMAIL_CHANGE, links, &actor).await?;
    Ok(email)
}

async fn send_address_link(
    store: &Store,
    tenant: &Tenant,
    user: &User,
    to: Recipient,
    purpose: &str,
    links: Links<'_>,
    actor: &Actor,
) -> Result<()> {
    let secret = new_secret("");
    let email = to.email.clone();
    let mut vars = Vars::new();
    vars.insert("link", links.url(tenant, "confirm-email", &secret));
    vars.insert("email", email.clone());
    let kind = match purpose {
        EMAIL_CHANGE => MailKind::EmailChange,
        _ => MailKind::EmailVerification,
    };
    let mail = compose(store, tenant, to, kind, vars).await?;
    let link = NewLink {
        purpose,
        token_hash: &hash_secret(&secret),
        ttl_ms: links.settings.confirm_ttl_ms(),
        email: Some(&email),
    };
    store
        .issue_user_link_for(&tenant.id, &user.id, &link, Some(&mail), actor)
        .await
}

/// What a live address link asks: confirm the user's address, or make it their new one.
#[derive(Clone, Debug)]
pub struct AddressLink {
    pub user: User,
    pub email: String,
    pub change: bool,
}

/// The live address link (confirmation or change) of `tenant` with this secret.
pub async fn address_link(
    store: &Store,
    tenant: &Tenant,
    secret: &str,
) -> Result<Option<AddressLink>> {
    if secret.is_empty() || secret.len() > 256 {
        return Ok(None);
    }
    let Some((id, purpose, email)) = store.email_link(&tenant.id, &hash_secret(secret)).await?
    else {
        return Ok(None);
    };
    Ok(store
        .get_user(&tenant.id, &id)
        .await?
        .map(|user| AddressLink {
            user,
            email,
            change: purpose == EMAIL_CHANGE,
        }))
}

/// What opening an address link did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirmed {
    /// The address is verified.
    Verified(String),
    /// The address is the account's new one.
    Changed(String),
    /// Another user of the tenant holds the new address (the link is still live).
    Taken,
    /// The link is not live (used, expired, replaced) or no longer fits the account.
    Gone,
}

/// Uses an address link: confirms the address, or makes the new one the user's (telling the
/// old address).
pub async fn confirm(store: &Store, tenant: &Tenant, secret: &str) -> Result<Confirmed> {
    let Some(found) = address_link(store, tenant, secret).await? else {
        return Ok(Confirmed::Gone);
    };
    let hash = hash_secret(secret);
    if !found.change {
        let done = store.verify_email_by_link(&tenant.id, &hash).await?;
        return Ok(match done {
            Some(_) => Confirmed::Verified(found.email),
            None => Confirmed::Gone,
        });
    }
    let mut vars = Vars::new();
    vars.insert("email", found.email.clone());
    let old = Recipient::of(&found.user);
    let mail = compose(store, tenant, old, MailKind::EmailChanged, vars).await?;
    let changed = store
        .change_email_by_link(&tenant.id, &hash, &found.user.email, &mail)
        .await;
    match changed {
        Ok(Some(_)) => Ok(Confirmed::Changed(found.email)),
        Ok(None) => Ok(Confirmed::Gone),
        Err(DomainError::Conflict(_)) => Ok(Confirmed::Taken),
        Err(e) => Err(e),
    }
}

/// Tells `before`'s address that an administrator changed it to `after`'s (a mandatory
/// security notification; the new address is not told, the administrator vouches for it).
pub async fn tell_old_address(store: &Store, tenant: &Tenant, before: &User, after: &User) {
    if normalise(&before.email) == normalise(&after.email) {
        return;
    }
    let mut vars = Vars::new();
    vars.insert("email", after.email.clone());
    let sent = async {
        let m = compose(
            store,
            tenant,
            Recipient::of(before),
            MailKind::EmailChanged,
            vars,
        )
        .await?;
        store.enqueue_mail(&m).await
    };
    if let Err(e) = sent.await {
        tracing::error!(error = %e, user = %after.id, "the old address was not told of its change");
    }
}
