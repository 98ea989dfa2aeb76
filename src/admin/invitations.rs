//! Invitations: an invited user is sent a single-use link (valid 7 days unless the sender says
//! otherwise) that leads to the page where they choose a password and become active. Sending
//! again issues a new link and the old one stops working. Authorised exactly as the admin API's
//! user writes: a manager only in their scope, and nobody invites someone more powerful than
//! themselves. Without a mail server the link is returned to the sender (shown once) and logged
//! at info level; only its hash is stored.

use super::users::{self, CreateUser, authorised_user};
use crate::domain::authz::Caller;
use crate::domain::clock::{format_ms, now_ms};
use crate::domain::invitations::{DEFAULT_TTL_DAYS, Invitation, MAX_TTL_DAYS, delivery};
use crate::domain::mail::{MailKind, MailStatus};
use crate::domain::secrets::{hash_secret, new_secret};
use crate::domain::*;
use crate::store::Store;
use serde::{Deserialize, Serialize};

/// `POST /users/{id}/invitation`'s body (all optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendInvitation {
    /// How many days the link works (1 to 90; 7 when absent).
    pub expires_in_days: Option<u32>,
}

/// Where an invitation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Never sent.
    NotSent,
    /// Sent; the last link still works.
    Pending,
    /// Sent; the last link expired unused.
    Expired,
    /// The person used a link.
    Accepted,
}

/// A user's invitation as the API and the console show it.
#[derive(Clone, Debug, Serialize)]
pub struct InvitationState {
    pub user_id: UserId,
    pub status: Standing,
    /// When the first link was sent (RFC 3339).
    pub pending_since: Option<String>,
    pub times_sent: i64,
    pub last_sent_at: Option<String>,
    pub expires_at: Option<String>,
    /// How the last link was delivered: `shown` (returned to its sender, no mail server),
    /// `queued`, `sent` or `failed`.
    pub last_delivery: Option<String>,
}

impl InvitationState {
    fn of(user: &UserId, inv: Option<&Invitation>) -> Self {
        let Some(inv) = inv else {
            return InvitationState {
                user_id: user.clone(),
                status: Standing::NotSent,
                pending_since: None,
                times_sent: 0,
                last_sent_at: None,
                expires_at: None,
                last_delivery: None,
            };
        };
        let status = match inv.accepted_at {
            Some(_) => Standing::Accepted,
            None if inv.expires_at <= now_ms() => Standing::Expired,
            None => Standing::Pending,
        };
        InvitationState {
            user_id: user.clone(),
            status,
            pending_since: Some(format_ms(inv.first_sent_at)),
            times_sent: inv.times_sent,
            last_sent_at: Some(format_ms(inv.last_sent_at)),
            expires_at: Some(format_ms(inv.expires_at)),
            last_delivery: Some(inv.delivery.clone()),
        }
    }
}

/// A sent invitation: its state, and the link when no mail carries it (shown once to the
/// sender, never stored).
#[derive(Debug, Serialize)]
pub struct Sent {
    #[serde(flatten)]
    pub state: InvitationState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// The URL of a link page of `tenant` under `public_url`.
pub fn link_url(public_url: &str, tenant: &Tenant, secret: &str) -> String {
    format!(
        "{}/t/{}/setup?link={secret}",
        public_url.trim_end_matches('/'),
        tenant.slug
    )
}

/// Where an invitation's link goes: the public URL its link page is under, and whether a mail
/// carries it (an SMTP server is configured) or it is shown to its sender.
#[derive(Clone, Copy, Debug)]
pub struct Outlet<'a> {
    pub public_url: &'a str,
    pub mail: bool,
}

impl<'a> Outlet<'a> {
    /// The outlet of a configuration: mail when `smtp_url` is set.
    pub fn of(config: &'a crate::config::Config) -> Self {
        Outlet {
            public_url: &config.public_url,
            mail: !config.smtp_url.trim().is_empty(),
        }
    }
}

/// Sends (or sends again) the invitation of an invited user the caller may change: with a mail
/// server, a mail in the user's language written to the outbox in the same transaction as the
/// new link; without, the link is returned to the sender (shown once) and logged.
pub async fn send(
    store: &Store,
    caller: &Caller,
    id: &UserId,
    req: SendInvitation,
    outlet: Outlet<'_>,
) -> Result<Sent> {
    let user = authorised_user(store, caller, id, true).await?;
    let days = req.expires_in_days.unwrap_or(DEFAULT_TTL_DAYS);
    if !(1..=MAX_TTL_DAYS).contains(&days) {
        return Err(DomainError::invalid(
            "expires_in_days",
            format!("`expires_in_days` is a number of days from 1 to {MAX_TTL_DAYS}"),
        ));
    }
    if user.status != UserStatus::Invited {
        return Err(DomainError::conflict(format!(
            "only an invited user can be sent an invitation; this user is {}",
            user.status.as_str()
        )));
    }
    let secret = new_secret("");
    let link = link_url(outlet.public_url, &caller.tenant, &secret);
    let ttl_ms = i64::from(days) * 24 * 3600 * 1000;
    let mail = if outlet.mail {
        let mut vars = crate::mail::Vars::new();
        vars.insert("link", link.clone());
        vars.insert("days", days.to_string());
        let to = crate::mail::Recipient::of(&user);
        Some(crate::mail::compose(store, &caller.tenant, to, MailKind::Invitation, vars).await?)
    } else {
        None
    };
    let how = if mail.is_some() {
        delivery::QUEUED
    } else {
        delivery::SHOWN
    };
    let inv = store
        .issue_invitation(
            caller.tenant_id(),
            id,
            &hash_secret(&secret),
            ttl_ms,
            how,
            mail.as_ref(),
            &caller.actor(),
        )
        .await?;
    if mail.is_none() {
        tracing::info!(
            tenant = %caller.tenant.slug,
            user = %user.id,
            email = %user.email,
            link = %link,
            "invitation link (no mail server configured: give this link to the person)"
        );
    }
    Ok(Sent {
        state: InvitationState::of(id, Some(&inv)),
        link: (how == delivery::SHOWN).then_some(link),
    })
}

/// The invitation state of a user the caller may read.
pub async fn state(store: &Store, caller: &Caller, id: &UserId) -> Result<InvitationState> {
    let user = authorised_user(store, caller, id, false).await?;
    let inv = store.invitation(caller.tenant_id(), &user.id).await?;
    let mut state = InvitationState::of(&user.id, inv.as_ref());
    if state.last_delivery.as_deref() == Some(delivery::QUEUED) {
        // A mailed link: how its mail fared, from the outbox (the newest invitation mail).
        let mails = store
            .list_mail(caller.tenant_id(), Some(&user.email), None, 20)
            .await?;
        if let Some(m) = mails
            .iter()
            .filter(|m| {
                m.kind == MailKind::Invitation.as_str() && m.user_id.as_ref() == Some(&user.id)
            })
            .max_by_key(|m| m.created_at)
        {
            state.last_delivery = Some(match m.status {
                MailStatus::Pending => delivery::QUEUED.to_owned(),
                other => other.as_str().to_owned(),
            });
        }
    }
    Ok(state)
}

/// Creates an invited user and sends their invitation: the admin API's `POST /users` with
/// `"invite": true`, the console's "New user" with "invite", and `castellan user invite`.
pub async fn create_and_send(
    store: &Store,
    caller: &Caller,
    mut req: CreateUser,
    outlet: Outlet<'_>,
) -> Result<(User, Sent)> {
    if req.status.is_some_and(|s| s != UserStatus::Invited) {
        return Err(DomainError::invalid(
            "status",
            "an invited user's status is `invited`",
        ));
    }
    req.status = Some(UserStatus::Invited);
    let user = users::create(store, caller, req).await?;
    let sent = send(store, caller, &user.id, SendInvitation::default(), outlet).await?;
    Ok((user, sent))
}
