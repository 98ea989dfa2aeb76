//! The entities of a tenant, as the admin API shows them.

use super::clock::{opt_date, rfc3339_ms, rfc3339_us};
use super::ids::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::Date;

#[derive(Clone, Debug, Serialize)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub owner_user_id: Option<UserId>,
    #[serde(with = "rfc3339_ms")]
    pub created_at: i64,
}

/// Lifecycle: invited -> active -> inactive (sign-in refused, data kept); anonymised is final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Invited,
    Active,
    Inactive,
    Anonymised,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invited => "invited",
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Anonymised => "anonymised",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "invited" => Self::Invited,
            "active" => Self::Active,
            "inactive" => Self::Inactive,
            "anonymised" => Self::Anonymised,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct User {
    pub id: UserId,
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
    /// Custom attribute values by key, typed as their definitions say.
    pub attributes: BTreeMap<String, serde_json::Value>,
    pub is_owner: bool,
    /// Microseconds (see `clock`).
    #[serde(with = "rfc3339_us")]
    pub created_at: i64,
    /// Microseconds (see `clock`).
    #[serde(with = "rfc3339_us")]
    pub updated_at: i64,
    pub version: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    Provider,
    Customer,
    Guest,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provider => "provider",
            Self::Customer => "customer",
            Self::Guest => "guest",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "provider" => Self::Provider,
            "customer" => Self::Customer,
            "guest" => Self::Guest,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub kind: AccountKind,
    /// The built-in Guest account: cannot be renamed away or deleted.
    pub builtin: bool,
    #[serde(with = "rfc3339_ms")]
    pub created_at: i64,
    #[serde(with = "rfc3339_ms")]
    pub updated_at: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct AccountGroup {
    pub id: AccountGroupId,
    pub name: String,
    pub description: Option<String>,
    pub account_ids: Vec<AccountId>,
    #[serde(with = "rfc3339_ms")]
    pub created_at: i64,
    #[serde(with = "rfc3339_ms")]
    pub updated_at: i64,
}

/// A user's employment in an account, current on the days between its dates (inclusive).
#[derive(Clone, Debug, Serialize)]
pub struct Membership {
    pub id: MembershipId,
    pub user_id: UserId,
    pub account_id: AccountId,
    pub account_name: String,
    #[serde(with = "opt_date")]
    pub start_date: Option<Date>,
    #[serde(with = "opt_date")]
    pub end_date: Option<Date>,
    pub main: bool,
    /// Whether today falls within the membership's dates.
    pub current: bool,
}

impl Membership {
    pub fn is_current_on(start: Option<Date>, end: Option<Date>, day: Date) -> bool {
        start.is_none_or(|s| s <= day) && end.is_none_or(|e| day <= e)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Permission {
    pub id: PermissionId,
    pub name: String,
    pub description: Option<String>,
    /// Castellan's own administration permissions cannot be removed from the catalogue.
    pub builtin: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoleTemplate {
    Owner,
    Administrator,
    Manager,
    Member,
}

impl RoleTemplate {
    pub const ALL: [RoleTemplate; 4] = [
        Self::Owner,
        Self::Administrator,
        Self::Manager,
        Self::Member,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Administrator => "administrator",
            Self::Manager => "manager",
            Self::Member => "member",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Owner => "Owner",
            Self::Administrator => "Administrator",
            Self::Manager => "Manager",
            Self::Member => "Member",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Role {
    pub id: RoleId,
    pub name: String,
    pub description: Option<String>,
    /// Set on the seeded roles.
    pub template: Option<RoleTemplate>,
    pub permissions: Vec<String>,
    /// What the role demands of its holders' sign-ins; `None` adds nothing to the tenant's policy.
    pub mfa_policy: Option<super::mfa::MfaPolicy>,
    #[serde(with = "rfc3339_ms")]
    pub created_at: i64,
    #[serde(with = "rfc3339_ms")]
    pub updated_at: i64,
}

/// A role held by a user, optionally only within one account (it then counts only while the
/// user's membership there is current).
#[derive(Clone, Debug, Serialize)]
pub struct RoleAssignment {
    pub id: RoleAssignmentId,
    pub user_id: UserId,
    pub role_id: RoleId,
    pub role_name: String,
    pub account_id: Option<AccountId>,
    pub main: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Group {
    pub id: GroupId,
    pub display_name: String,
    pub description: Option<String>,
    pub external_id: Option<String>,
    pub member_ids: Vec<UserId>,
    pub role_ids: Vec<RoleId>,
    /// Microseconds (see `clock`).
    #[serde(with = "rfc3339_us")]
    pub created_at: i64,
    /// Microseconds (see `clock`).
    #[serde(with = "rfc3339_us")]
    pub updated_at: i64,
    pub version: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    Grant,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grant => "grant",
            Self::Deny => "deny",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "grant" => Some(Self::Grant),
            "deny" => Some(Self::Deny),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct PermissionOverride {
    pub permission: String,
    pub effect: Effect,
    pub reason: Option<String>,
    #[serde(with = "rfc3339_ms")]
    pub created_at: i64,
}

/// What a manager manages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum ManagementTarget {
    User(UserId),
    Account(AccountId),
    AccountGroup(AccountGroupId),
}

#[derive(Clone, Debug, Serialize)]
pub struct Management {
    pub id: ManagementId,
    pub manager_id: UserId,
    pub target: ManagementTarget,
    #[serde(with = "rfc3339_ms")]
    pub created_at: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributeKind {
    Text,
    Number,
    Boolean,
    Date,
    Enum,
}

impl AttributeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Date => "date",
            Self::Enum => "enum",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "text" => Self::Text,
            "number" => Self::Number,
            "boolean" => Self::Boolean,
            "date" => Self::Date,
            "enum" => Self::Enum,
            _ => return None,
        })
    }
}

/// A tenant-defined, typed user field.
#[derive(Clone, Debug, Serialize)]
pub struct AttributeDef {
    pub id: AttributeId,
    pub key: String,
    pub label: String,
    pub description: Option<String>,
    pub kind: AttributeKind,
    /// The allowed values of an `enum` attribute.
    pub options: Vec<String>,
    pub required: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct NotificationType {
    pub id: NotificationTypeId,
    pub key: String,
    pub description: Option<String>,
    pub builtin: bool,
    pub default_enabled: bool,
}

/// A user's choice for one event type; types without a stored choice use their default.
#[derive(Clone, Debug, Serialize)]
pub struct NotificationPref {
    pub event_type: String,
    pub enabled: bool,
    pub channels: Vec<String>,
    /// A security notification that cannot be turned off (always on, always by email).
    pub mandatory: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct ApiToken {
    pub id: TokenId,
    pub name: String,
    /// The user the token acts as; `None` for a tenant-wide administration token.
    pub user_id: Option<UserId>,
    #[serde(with = "rfc3339_ms")]
    pub created_at: i64,
    #[serde(with = "rfc3339_ms::option")]
    pub last_used_at: Option<i64>,
    #[serde(with = "rfc3339_ms::option")]
    pub revoked_at: Option<i64>,
}

/// The event types every tenant starts with (tenants add their own).
pub const BUILTIN_NOTIFICATION_TYPES: [(&str, &str); 8] = [
    (
        "security.new_sign_in",
        "A sign-in from a new device or place",
    ),
    (
        "security.mfa_changed",
        "A second factor was added, removed or reset",
    ),
    (
        "security.password_changed",
        "The password was changed or reset",
    ),
    ("security.email_changed", "The email address was changed"),
    (
        "access.roles_changed",
        "Roles or permission overrides changed",
    ),
    (
        "access.membership_changed",
        "An account membership started, changed or ended",
    ),
    (
        "account.status_changed",
        "The account was activated, deactivated or reactivated",
    ),
    (
        "managed.user_changed",
        "A user one manages was created, changed or deactivated",
    ),
];

/// Security notifications every user receives whatever their preferences: they cannot be
/// turned off (the portal shows them locked, the API refuses opting out).
pub const MANDATORY_NOTIFICATION_TYPES: [&str; 4] = [
    "security.new_sign_in",
    "security.mfa_changed",
    "security.password_changed",
    "security.email_changed",
];

/// Whether users may not turn `event_type` off.
pub fn is_mandatory_notification(event_type: &str) -> bool {
    MANDATORY_NOTIFICATION_TYPES.contains(&event_type)
}

/// One page of a list, with the cursor of the next page when there is one.
#[derive(Clone, Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// What to list of a tenant's users.
#[derive(Clone, Debug)]
pub struct UserQuery {
    /// Users whose normalised email starts with this (index-backed).
    pub email_prefix: Option<String>,
    /// Users whose email, username or name contains this, case-insensitively.
    pub text: Option<String>,
    pub status: Option<UserStatus>,
    /// Users with a current membership in this account.
    pub account_id: Option<AccountId>,
    /// Users holding this role directly.
    pub role_id: Option<RoleId>,
    pub group_id: Option<GroupId>,
    pub scope: super::authz::UserScope,
    /// The order of the list.
    pub sort: UserSort,
    /// Keyset cursor: the sort key (the normalised email, or the creation instant in
    /// microseconds as text) and id of the last user of the previous page.
    pub after: Option<(String, UserId)>,
    pub limit: u32,
}

/// The orders a list of users comes in, each backed by an index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum UserSort {
    /// By email, A to Z (`email`).
    #[default]
    #[serde(rename = "email")]
    Email,
    /// The most recently created first (`-created`).
    #[serde(rename = "-created")]
    Newest,
    /// The first created first (`created`).
    #[serde(rename = "created")]
    Oldest,
}

impl UserSort {
    pub const ALL: [UserSort; 3] = [UserSort::Email, UserSort::Newest, UserSort::Oldest];

    /// Its name in a query string.
    pub fn as_str(self) -> &'static str {
        match self {
            UserSort::Email => "email",
            UserSort::Newest => "-created",
            UserSort::Oldest => "created",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// An opaque page cursor from a sort key and an id.
pub fn encode_cursor(key: &str, id: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{key}\u{0}{id}"))
}

/// The sort key and id of a cursor made by [`encode_cursor`].
pub fn decode_cursor(cursor: &str) -> Option<(String, String)> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (k, i) = text.split_once('\u{0}')?;
    Some((k.to_owned(), i.to_owned()))
}
