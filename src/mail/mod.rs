//! Outgoing mail: templates, the durable outbox's API for service functions, and the delivery
//! worker.
//!
//! # Sending a mail from a service function
//!
//! A mail is written to the outbox **in the same transaction as the change that causes it**, so
//! it exists exactly when the change does (never lost, never sent for a change that rolled
//! back). Two steps:
//!
//! 1. Before the transaction, render it: [`compose`] reads the tenant's own wording of the kind
//!    (if any) and fills the placeholders for the recipient's locale (English, French, German):
//!    ```ignore
//!    let mut vars = mail::Vars::new();
//!    vars.insert("link", link.clone());
//!    vars.insert("days", "7".into());
//!    let m = mail::compose(store, &tenant, mail::Recipient::of(&user), MailKind::Invitation, vars).await?;
//!    ```
//! 2. Hand it to the store method that makes the change; that method writes it in its
//!    transaction with `Backend::enqueue_mail_in(&mut tx, &m)` (in `store/backend/mail.rs`).
//!    Ready-made: `Store::issue_user_link_with_mail(tenant, user, purpose, hash, ttl_ms,
//!    Some(&m), actor)` issues a single-use link and its mail together (invitations, password
//!    resets, address confirmations); `Store::enqueue_mail(&m)` when the mail is the whole
//!    change. A new store method that changes something and mails about it calls
//!    `self.enqueue_mail_in(&mut tx, &m)` before its `commit`.
//!
//! The placeholders every kind gets: `{name}` (the recipient's display name, or their email)
//! and `{tenant}` (the tenant's name). Kinds ([`MailKind`]) and what they use: `notification`
//! (`{message}`, `{event}`, `{unsubscribe}` for optional types), `invitation` (`{link}`,
//! `{days}`), `password_reset` (`{link}`, `{minutes}`), `email_verification` and `email_change`
//! (`{link}`, `{email}`: the address to confirm), `email_changed` (`{email}`, the new address).
//!
//! Notifications need no call at all: every notification a user's preferences send by email
//! (the `notifications` table) is turned into a mail by the worker, in a transaction that marks
//! it mailed.
//!
//! # Delivery
//!
//! [`worker::run`] (started by `castellan serve` on every replica) claims due messages under a
//! lease (PostgreSQL `FOR UPDATE SKIP LOCKED`; SQLite one `UPDATE ... RETURNING`), sends them,
//! and marks them `sent`; a failed attempt is retried with exponential backoff and jitter up to
//! `mail.max_attempts`, then `failed`. A worker that dies mid-send loses its lease and the
//! message is due again. That is at-least-once at the SMTP level: a worker killed after the
//! server accepted a message but before `sent` was committed leaves it due, and it is sent
//! again with the same Message-ID (`tests/mail/restart.rs`). Bodies are sealed with the master key at rest and erased once sent.
//!
//! Without `smtp_url` (the default) nothing fails: each mail's text, link included, is written
//! to the log at info level with a hint that SMTP is not configured, and marked `logged`.

pub mod render;
pub mod texts;
pub mod transport;
pub mod unsubscribe;
pub mod worker;

pub use crate::domain::mail::{MailKind, OutgoingMail};
pub use render::{Rendered, Vars, render};

use crate::domain::mail::mail_locale;
use crate::domain::{Result, Tenant, User, UserId};
use crate::store::Store;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Who a mail is for.
#[derive(Clone, Debug)]
pub struct Recipient {
    pub user: Option<UserId>,
    pub email: String,
    /// How the mail greets them.
    pub name: String,
    pub locale: Option<String>,
}

impl Recipient {
    /// The user, at their current address.
    pub fn of(user: &User) -> Self {
        Self {
            user: Some(user.id.clone()),
            email: user.email.clone(),
            name: display_name(user),
            locale: user.locale.clone(),
        }
    }

    /// The user, at another address (a new one to confirm, an old one to warn).
    pub fn at(user: &User, email: &str) -> Self {
        Self {
            email: email.to_string(),
            ..Self::of(user)
        }
    }
}

/// How a mail names a user: display name, else given and family name, else the email.
pub fn display_name(user: &User) -> String {
    greeting(
        user.display_name.as_deref(),
        user.given_name.as_deref(),
        user.family_name.as_deref(),
        &user.email,
    )
}

/// How a mail names someone from the parts of a name: `display`, else `given` and `family`,
/// else `email`.
pub fn greeting(
    display: Option<&str>,
    given: Option<&str>,
    family: Option<&str>,
    email: &str,
) -> String {
    if let Some(d) = display.filter(|d| !d.trim().is_empty()) {
        return d.to_string();
    }
    let parts: Vec<&str> = [given, family]
        .into_iter()
        .flatten()
        .filter(|p| !p.trim().is_empty())
        .collect();
    if parts.is_empty() {
        email.to_string()
    } else {
        parts.join(" ")
    }
}

/// Renders `kind` for `to` in their locale (the tenant's wording when it has one) with `vars`
/// plus `{name}` and `{tenant}`. A `{unsubscribe}` value also becomes the RFC 8058 one-click
/// `List-Unsubscribe` headers.
pub async fn compose(
    store: &Store,
    tenant: &Tenant,
    to: Recipient,
    kind: MailKind,
    mut vars: Vars,
) -> Result<OutgoingMail> {
    let locale = mail_locale(to.locale.as_deref());
    vars.entry("name").or_insert_with(|| to.name.clone());
    vars.entry("tenant").or_insert_with(|| tenant.name.clone());
    let custom = store.mail_template(&tenant.id, kind, locale).await?;
    let r = render(kind, locale, &vars, custom.as_ref());
    let mut headers = BTreeMap::new();
    if let Some(u) = vars.get("unsubscribe") {
        headers.insert("List-Unsubscribe".to_string(), format!("<{u}>"));
        headers.insert(
            "List-Unsubscribe-Post".to_string(),
            "List-Unsubscribe=One-Click".to_string(),
        );
    }
    Ok(OutgoingMail {
        tenant: tenant.id.clone(),
        user: to.user,
        to: to.email,
        kind,
        locale,
        subject: r.subject,
        text: r.text,
        html: r.html,
        headers,
    })
}

/// How the delivery worker paces itself (`[mail]` in the configuration).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Delivery {
    /// How often a worker looks for due mail, in milliseconds.
    pub poll_ms: u64,
    /// How long a worker holds a message it is sending before another may take it, in seconds
    /// (longer than an SMTP conversation can last).
    pub lease_secs: u64,
    /// The wait after the first failed attempt, doubled after each next one, in seconds.
    pub retry_base_secs: u64,
    /// The longest wait between attempts, in seconds.
    pub retry_max_secs: u64,
    /// Attempts before a message is marked failed.
    pub max_attempts: u32,
    /// Messages one worker claims at a time.
    pub batch: u32,
}

impl Default for Delivery {
    fn default() -> Self {
        Self {
            poll_ms: 2000,
            lease_secs: 120,
            retry_base_secs: 30,
            retry_max_secs: 3600,
            max_attempts: 10,
            batch: 20,
        }
    }
}

impl Delivery {
    pub fn backoff(&self) -> crate::domain::mail::Backoff {
        crate::domain::mail::Backoff {
            base_ms: (self.retry_base_secs.max(1) * 1000) as i64,
            max_ms: (self.retry_max_secs.max(self.retry_base_secs).max(1) * 1000) as i64,
            max_attempts: i64::from(self.max_attempts.max(1)),
        }
    }
}
