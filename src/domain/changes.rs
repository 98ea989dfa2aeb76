//! Validated write requests handed to the store.

use super::attributes::AttributeChanges;
use super::ids::*;
use super::model::UserStatus;

/// A user to create, already validated.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    pub phone: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    pub external_id: Option<String>,
    pub status: UserStatus,
    pub attributes: AttributeChanges,
    /// The main account; the tenant's Guest account when `None`.
    pub main_account: Option<AccountId>,
    /// Roles to hold from the start (the first is the main role); Member when empty.
    pub roles: Vec<RoleId>,
    /// The main membership's first and last days (open when `None`).
    pub start_date: Option<time::Date>,
    pub end_date: Option<time::Date>,
}

/// What matching a user by email or external id needs to know of them.
#[derive(Clone, Debug)]
pub struct UserKey {
    pub id: UserId,
    /// The email, normalised.
    pub email_norm: String,
    pub external_id: Option<String>,
    /// Removed by a SCIM DELETE (kept, but out of sight).
    pub scim_removed: bool,
    pub status: UserStatus,
}

/// A user's memberships (main first), role assignments and direct groups (by display name):
/// what a CSV row says of them besides the profile.
#[derive(Clone, Debug, Default)]
pub struct Relations {
    pub memberships: Vec<super::model::Membership>,
    pub assignments: Vec<super::model::RoleAssignment>,
    pub groups: Vec<String>,
}

/// The profile fields of a user, all set at once (the store writes the whole row).
#[derive(Clone, Debug, PartialEq)]
pub struct UserProfile {
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    pub phone: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    pub external_id: Option<String>,
    pub status: UserStatus,
}

impl From<&super::model::User> for UserProfile {
    fn from(u: &super::model::User) -> Self {
        UserProfile {
            username: u.username.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            given_name: u.given_name.clone(),
            family_name: u.family_name.clone(),
            display_name: u.display_name.clone(),
            phone: u.phone.clone(),
            locale: u.locale.clone(),
            timezone: u.timezone.clone(),
            external_id: u.external_id.clone(),
            status: u.status,
        }
    }
}

/// Normalised form of an email or username, the key of uniqueness and prefix search: trimmed,
/// lowercased, in Unicode NFC, so that canonically equivalent spellings (`Zoë` precomposed or
/// with a combining diaeresis) are one key, while `straße` and `STRASSE` stay two.
pub fn normalise(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let lower = s.trim().to_lowercase();
    if lower.is_ascii() {
        lower
    } else {
        lower.nfc().collect()
    }
}

/// A text in Unicode NFC (what is stored of a userName).
pub fn nfc(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    if s.is_ascii() {
        s.to_owned()
    } else {
        s.nfc().collect()
    }
}
