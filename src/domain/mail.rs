//! Outgoing mail as the domain sees it: a message rendered for one recipient, its delivery
//! status, and the retry rule. Rendering lives in `crate::mail`, storage in the store.

use super::clock::rfc3339_ms;
use super::ids::{MailId, TenantId, UserId};
use serde::Serialize;
use std::collections::BTreeMap;

/// What a mail is about; each kind has built-in wording in every supported locale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// A notification event the user receives by email (`{event}`, `{message}`).
    Notification,
    /// An invitation to join the tenant (`{link}`, `{days}`).
    Invitation,
    /// A link to choose a new password (`{link}`, `{minutes}`).
    PasswordReset,
    /// A link that confirms the account's email address (`{link}`, `{email}`).
    EmailVerification,
    /// A link, sent to a new address, that makes it the account's (`{link}`, `{email}`).
    EmailChange,
    /// Tells the old address that the account's email changed (`{email}`).
    EmailChanged,
}

impl MailKind {
    pub const ALL: [MailKind; 6] = [
        Self::Notification,
        Self::Invitation,
        Self::PasswordReset,
        Self::EmailVerification,
        Self::EmailChange,
        Self::EmailChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Notification => "notification",
            Self::Invitation => "invitation",
            Self::PasswordReset => "password_reset",
            Self::EmailVerification => "email_verification",
            Self::EmailChange => "email_change",
            Self::EmailChanged => "email_changed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// Where a message is in its delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MailStatus {
    /// Waiting for (another) attempt.
    Pending,
    /// Accepted by the SMTP server.
    Sent,
    /// Gave up after the last attempt; `last_error` says why.
    Failed,
    /// No SMTP server is configured: written to the log instead.
    Logged,
}

impl MailStatus {
    pub const ALL: [MailStatus; 4] = [Self::Pending, Self::Sent, Self::Failed, Self::Logged];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Logged => "logged",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// The locales mail is written in; anything else gets English.
pub const LOCALES: [&str; 3] = ["en", "fr", "de"];

/// The supported locale a user's `locale` (`fr`, `fr-CA`, `de_AT`...) falls back to.
pub fn mail_locale(locale: Option<&str>) -> &'static str {
    let lang = locale
        .unwrap_or_default()
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    LOCALES.into_iter().find(|l| *l == lang).unwrap_or("en")
}

/// A message rendered for one recipient, ready to be written to the outbox.
#[derive(Clone, Debug)]
pub struct OutgoingMail {
    pub tenant: TenantId,
    /// The user it is for, when it is for one (kept for the delivery status).
    pub user: Option<UserId>,
    pub to: String,
    pub kind: MailKind,
    pub locale: &'static str,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Extra header lines (`List-Unsubscribe`...), by name.
    pub headers: BTreeMap<String, String>,
}

/// One message of the outbox as the delivery status shows it (never its body).
#[derive(Clone, Debug, Serialize)]
pub struct MailRecord {
    pub id: MailId,
    pub user_id: Option<UserId>,
    pub recipient: String,
    pub kind: String,
    pub locale: String,
    pub subject: String,
    pub status: MailStatus,
    pub attempts: i64,
    #[serde(with = "rfc3339_ms")]
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub message_id: String,
    #[serde(with = "rfc3339_ms")]
    pub created_at: i64,
    #[serde(with = "rfc3339_ms::option")]
    pub sent_at: Option<i64>,
}

/// A message a worker holds the lease of, with its parts opened.
#[derive(Clone, Debug)]
pub struct ClaimedMail {
    pub id: MailId,
    pub tenant: TenantId,
    pub claim: String,
    pub to: String,
    pub from: Option<String>,
    pub kind: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub headers: BTreeMap<String, String>,
    pub message_id: String,
    pub attempts: i64,
}

/// A notification on the email channel not yet turned into mail, with what its mail needs.
#[derive(Clone, Debug)]
pub struct UnmailedNotification {
    pub id: super::ids::NotificationId,
    pub tenant: TenantId,
    pub user: UserId,
    pub email: String,
    pub name: String,
    pub locale: Option<String>,
    /// Whether the user may receive mail (not anonymised, has an address).
    pub reachable: bool,
    pub event_type: String,
    pub message: String,
}

/// A tenant's wording of one kind of mail in one locale.
#[derive(Clone, Debug, Serialize)]
pub struct MailTemplate {
    pub kind: String,
    pub locale: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The retry rule: exponential backoff from `base_ms`, capped at `max_ms`, with jitter (the
/// delay is drawn from its upper half, so replicas that failed together do not retry together).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub base_ms: i64,
    pub max_ms: i64,
    /// Attempts after which a message is `failed`.
    pub max_attempts: i64,
}

impl Backoff {
    /// The wait before attempt `attempts + 1`, given `unit` in [0, 1) for the jitter; `None`
    /// when `attempts` was the last one.
    pub fn delay_ms(&self, attempts: i64, unit: f64) -> Option<i64> {
        if attempts >= self.max_attempts {
            return None;
        }
        let exp = attempts.clamp(1, 40) - 1;
        let full = self
            .base_ms
            .saturating_mul(1i64 << exp.min(30))
            .min(self.max_ms);
        let half = full / 2;
        Some(half + (half as f64 * unit.clamp(0.0, 1.0)) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let b = Backoff {
            base_ms: 1000,
            max_ms: 10_000,
            max_attempts: 6,
        };
        assert_eq!(b.delay_ms(1, 0.0), Some(500));
        assert_eq!(b.delay_ms(1, 0.999), Some(999));
        assert_eq!(b.delay_ms(2, 0.0), Some(1000));
        assert_eq!(b.delay_ms(3, 0.5), Some(3000));
        assert_eq!(b.delay_ms(5, 0.0), Some(5000), "capped at max_ms");
        assert_eq!(b.delay_ms(6, 0.0), None, "the last attempt");
        for a in 1..6 {
            for u in [0.0, 0.3, 0.99] {
                let d = b.delay_ms(a, u).unwrap();
                assert!((b.base_ms / 2..=b.max_ms).contains(&d));
            }
        }
    }

    #[test]
    fn locales_fall_back_to_english() {
        assert_eq!(mail_locale(Some("fr-CA")), "fr");
        assert_eq!(mail_locale(Some("DE_at")), "de");
        assert_eq!(mail_locale(Some("es")), "en");
        assert_eq!(mail_locale(None), "en");
        assert_eq!(
            MailKind::parse("password_reset"),
            Some(MailKind::PasswordReset)
        );
        assert_eq!(MailStatus::parse("logged"), Some(MailStatus::Logged));
    }
}
