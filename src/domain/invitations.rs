//! The state of a person's invitation: since when they are invited, how many links were sent,
//! until when the last one works and how it was delivered.

use serde::Serialize;

/// The purpose of an invitation link among the single-use links (`user_links`).
pub const PURPOSE: &str = "invitation";

/// How long an invitation link works unless the sender says otherwise.
pub const DEFAULT_TTL_DAYS: u32 = 7;

/// The longest an administrator may make an invitation link work.
pub const MAX_TTL_DAYS: u32 = 90;

/// How the last invitation link reached the person.
pub mod delivery {
    /// No mail server: the link was returned to the administrator who sent it (and logged).
    pub const SHOWN: &str = "shown";
    /// Written to the mail outbox, not sent yet.
    pub const QUEUED: &str = "queued";
}

/// One user's invitation, as stored (times in milliseconds since the epoch).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Invitation {
    pub first_sent_at: i64,
    pub last_sent_at: i64,
    pub times_sent: i64,
    pub expires_at: i64,
    pub delivery: String,
    /// When the person used a link (the invitation is then over).
    pub accepted_at: Option<i64>,
}
