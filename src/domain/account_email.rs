//! Account email: the single-use links of a forgotten password, an address confirmation and an
//! address change (their purposes among `user_links`), and how long they work and how often
//! they may be asked for (`[account_email]` in the configuration).

use serde::Deserialize;

/// A link that lets its user choose a new password (asked for on the sign-in page).
pub const PASSWORD_RESET: &str = "password_reset";
/// A link that confirms the user's current address (sent when an account is created with an
/// address nobody vouched for).
pub const EMAIL_VERIFICATION: &str = "email_verification";
/// A link, sent to a new address, that makes it the user's address once opened.
pub const EMAIL_CHANGE: &str = "email_change";

/// A single-use link to record (a row of `user_links`): what it is for, the hash of its secret,
/// how long it works, and the address it names (if any).
#[derive(Clone, Copy, Debug)]
pub struct NewLink<'a> {
    pub purpose: &'a str,
    pub token_hash: &'a str,
    pub ttl_ms: i64,
    pub email: Option<&'a str>,
}

/// The settings of account email links (`[account_email]`).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AccountEmail {
    /// How long a password reset link works, in minutes.
    pub reset_link_minutes: u32,
    /// How long an address confirmation link works, in hours.
    pub confirm_link_hours: u32,
    /// Reset mails one address may be sent per `window_secs`.
    pub resets_per_address: u32,
    /// "Forgot password" requests one client address may make per `window_secs`.
    pub resets_per_client: u32,
    /// The window of both limits, in seconds.
    pub window_secs: u64,
}

impl Default for AccountEmail {
    fn default() -> Self {
        Self {
            reset_link_minutes: 30,
            confirm_link_hours: 24,
            resets_per_address: 3,
            resets_per_client: 20,
            window_secs: 3600,
        }
    }
}

impl AccountEmail {
    pub fn reset_ttl_ms(&self) -> i64 {
        i64::from(self.reset_link_minutes.max(1)) * 60_000
    }

    pub fn confirm_ttl_ms(&self) -> i64 {
        i64::from(self.confirm_link_hours.max(1)) * 3_600_000
    }

    pub fn window_ms(&self) -> i64 {
        i64::try_from(self.window_secs.max(1))
            .unwrap_or(i64::MAX / 1000)
            .saturating_mul(1000)
    }

    /// Refuses settings that make the links useless or unlimited by accident.
    pub fn validate(&self) -> Result<(), String> {
        let checks = [
            (
                (1..=1440).contains(&self.reset_link_minutes),
                "account_email.reset_link_minutes must be from 1 to 1440",
            ),
            (
                (1..=720).contains(&self.confirm_link_hours),
                "account_email.confirm_link_hours must be from 1 to 720",
            ),
            (
                self.resets_per_address >= 1 && self.resets_per_client >= 1,
                "account_email.resets_per_address and resets_per_client must be at least 1",
            ),
            (
                self.window_secs >= 1,
                "account_email.window_secs must be at least 1",
            ),
        ];
        match checks.into_iter().find(|(ok, _)| !ok) {
            Some((_, why)) => Err(why.to_owned()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_thirty_minutes_and_a_day() {
        let s = AccountEmail::default();
        assert_eq!(s.reset_ttl_ms(), 30 * 60 * 1000);
        assert_eq!(s.confirm_ttl_ms(), 24 * 3600 * 1000);
        assert!(s.validate().is_ok());
        let zero = AccountEmail {
            reset_link_minutes: 0,
            ..AccountEmail::default()
        };
        assert!(zero.validate().is_err());
    }
}
