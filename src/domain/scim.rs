//! SCIM provisioning as the domain sees it: tokens, the per-tenant setting, the user and group
//! records SCIM reads and writes, and queries over them (a filter already resolved from SCIM
//! attribute names to Castellan fields, which the store compiles to SQL).

use super::attributes::AttributeChanges;
use super::clock::rfc3339_ms;
use super::ids::*;
use super::model::{AttributeDef, UserStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A SCIM bearer token of a tenant (its secret is never stored, only its SHA-256).
#[derive(Clone, Debug, Serialize)]
pub struct ScimToken {
    pub id: ScimTokenId,
    pub name: String,
    #[serde(with = "rfc3339_ms")]
    pub created_at: i64,
    #[serde(with = "rfc3339_ms::option")]
    pub last_used_at: Option<i64>,
    #[serde(with = "rfc3339_ms::option")]
    pub revoked_at: Option<i64>,
}

/// What a SCIM `DELETE /Users/{id}` does in Castellan. In every case the user is gone from SCIM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DeleteAction {
    /// The user becomes inactive (sessions ended, grants revoked); data and history are kept.
    #[default]
    Deactivate,
    /// The user and everything hanging off them is removed; the audit log keeps their last state.
    Delete,
    /// Personal data is erased; the id, memberships and audit trail (redacted) are kept.
    Anonymise,
}

impl DeleteAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deactivate => "deactivate",
            Self::Delete => "delete",
            Self::Anonymise => "anonymise",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "deactivate" => Self::Deactivate,
            "delete" => Self::Delete,
            "anonymise" => Self::Anonymise,
            _ => return None,
        })
    }
}

/// The tenant's SCIM settings.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ScimSettings {
    pub delete_action: DeleteAction,
    /// Whether SCIM may change, deactivate, delete or move between groups users holding
    /// Castellan administration permissions beyond a manager's (see
    /// [`crate::domain::permissions::administrative_permission`]). Off unless set.
    #[serde(default)]
    pub manage_administrators: bool,
    /// Whether two current users may not share a sign-in email (the default, as in Keycloak).
    /// `false` lets them (Microsoft Entra ID admin accounts often carry the `mail` of the
    /// person's own account); such users sign in with their username.
    #[serde(default = "unique_by_default")]
    pub unique_emails: bool,
}

fn unique_by_default() -> bool {
    true
}

/// One email address of a user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Email {
    pub value: String,
    pub kind: Option<String>,
    pub primary: bool,
}

/// The multi-valued user attributes shaped `{value, display, type, primary}` besides emails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Plural {
    PhoneNumbers,
    Ims,
    Photos,
    X509Certificates,
}

impl Plural {
    pub const ALL: [Plural; 4] = [
        Self::PhoneNumbers,
        Self::Ims,
        Self::Photos,
        Self::X509Certificates,
    ];

    /// The attribute's SCIM name (also what the store keeps).
    pub fn name(self) -> &'static str {
        match self {
            Self::PhoneNumbers => "phoneNumbers",
            Self::Ims => "ims",
            Self::Photos => "photos",
            Self::X509Certificates => "x509Certificates",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }
}

/// One value of a `Plural` attribute.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PluralValue {
    pub value: String,
    pub display: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub primary: bool,
}

/// A postal address (RFC 7643 §4.1.2 `addresses`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Address {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub primary: bool,
    pub formatted: Option<String>,
    pub street_address: Option<String>,
    pub locality: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

/// The sub-attribute of a `Plural` value a filter names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PluralSub {
    Value,
    Display,
    Type,
    Primary,
}

/// The sub-attribute of an address a filter names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressSub {
    Type,
    Primary,
    Formatted,
    StreetAddress,
    Locality,
    Region,
    PostalCode,
    Country,
}

/// A user as SCIM sees them.
#[derive(Clone, Debug)]
pub struct ScimUser {
    pub id: UserId,
    pub fields: ScimUserFields,
    pub status: UserStatus,
    pub is_owner: bool,
    /// The manager set through SCIM, with their display name.
    pub manager: Option<(UserId, Option<String>)>,
    /// The groups the user belongs to: id and display name.
    pub groups: Vec<(GroupId, String)>,
    /// Custom attribute values by key.
    pub attributes: BTreeMap<String, serde_json::Value>,
    /// Microseconds (see `clock`).
    pub created_at: i64,
    /// Microseconds (see `clock`).
    pub updated_at: i64,
    pub version: i64,
}

/// The writable profile of a SCIM user, all fields at once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScimUserFields {
    pub user_name: String,
    pub external_id: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub middle_name: Option<String>,
    pub honorific_prefix: Option<String>,
    pub honorific_suffix: Option<String>,
    pub display_name: Option<String>,
    pub nick_name: Option<String>,
    pub title: Option<String>,
    pub user_type: Option<String>,
    pub preferred_language: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    pub emails: Vec<Email>,
    /// phoneNumbers, ims, photos, x509Certificates: each present one has at least one value.
    pub plurals: std::collections::BTreeMap<Plural, Vec<PluralValue>>,
    pub addresses: Vec<Address>,
    pub employee_number: Option<String>,
    pub cost_center: Option<String>,
    pub organization: Option<String>,
    pub division: Option<String>,
    pub department: Option<String>,
}

impl ScimUserFields {
    /// The address the user signs in with and is mailed at: the primary email, else the
    /// first, else the userName.
    pub fn sign_in_email(&self) -> String {
        self.emails
            .iter()
            .find(|e| e.primary)
            .or_else(|| self.emails.first())
            .map(|e| e.value.clone())
            .unwrap_or_else(|| self.user_name.clone())
    }
}

/// A validated SCIM write of a user: the whole profile, replacing what is stored.
#[derive(Clone, Debug)]
pub struct ScimUserWrite {
    pub fields: ScimUserFields,
    /// `active`: true makes an inactive or invited user active, false deactivates.
    pub active: bool,
    /// The manager to hold (replacing the one SCIM set before); `None` removes it.
    pub manager: Option<UserId>,
    /// Custom attribute changes.
    pub attributes: AttributeChanges,
    /// An argon2id PHC string, when the client sent a password.
    pub password_hash: Option<String>,
}

/// A group as SCIM sees it.
#[derive(Clone, Debug)]
pub struct ScimGroup {
    pub id: GroupId,
    pub display_name: String,
    pub external_id: Option<String>,
    /// Member ids with their display names (or user names).
    pub members: Vec<(UserId, String)>,
    /// Microseconds (see `clock`).
    pub created_at: i64,
    /// Microseconds (see `clock`).
    pub updated_at: i64,
    pub version: i64,
}

/// A validated SCIM write of a group: the whole group, members included.
#[derive(Clone, Debug)]
pub struct ScimGroupWrite {
    pub display_name: String,
    pub external_id: Option<String>,
    pub members: Vec<UserId>,
}

/// A change of a group as SCIM writes it (PUT, PATCH): only the difference reaches the
/// database, so adding one member to a large group costs one row, not the group.
#[derive(Clone, Debug, Default)]
pub struct ScimGroupChange {
    /// The new displayName and externalId (`None`: unchanged).
    pub fields: Option<(String, Option<String>)>,
    /// The whole new member list (`None`: `add` and `remove` say what changes).
    pub replace: Option<Vec<UserId>>,
    /// Users to make members (already members: nothing happens).
    pub add: Vec<UserId>,
    /// Users to take out (not members: nothing happens).
    pub remove: Vec<UserId>,
}

/// What a filter, a sort or a comparison can name on a user.
#[derive(Clone, Debug)]
pub enum UserField {
    Id,
    ExternalId,
    UserName,
    GivenName,
    FamilyName,
    MiddleName,
    HonorificPrefix,
    HonorificSuffix,
    DisplayName,
    NickName,
    Title,
    UserType,
    PreferredLanguage,
    Locale,
    Timezone,
    Active,
    Created,
    LastModified,
    EmployeeNumber,
    CostCenter,
    Organization,
    Division,
    Department,
    /// The id of the manager set through SCIM.
    ManagerId,
    EmailValue,
    EmailType,
    EmailPrimary,
    Plural(Plural, PluralSub),
    Address(AddressSub),
    /// The id of a group the user belongs to.
    GroupId,
    GroupDisplay,
    /// `groups.type`: `direct` on every group of the user (groups do not nest).
    GroupType,
    /// `groups.$ref`: the group's URI, this prefix (the tenant's `.../scim/v2/Groups/`) then
    /// the group's id.
    GroupRef(String),
    /// The enterprise `manager.$ref`: this prefix (`.../scim/v2/Users/`) then the manager's id.
    ManagerRef(String),
    /// An attribute `/Schemas` lists that no user shows a value of: `password` (returned
    /// never), and `name` or `addresses` compared without a sub-attribute (neither has a
    /// `value`). Of a multi-valued attribute, each of its values lacks it. Filters treat it as
    /// the RFC treats a missing value: `eq` matches nothing, `ne` everything, `pr` nothing.
    Unvalued(Option<Multi>),
    /// A custom attribute.
    Custom(AttributeDef),
}

/// What a filter or a sort can name on a group.
#[derive(Clone, Debug, PartialEq)]
pub enum GroupField {
    Id,
    ExternalId,
    DisplayName,
    Created,
    LastModified,
    MemberId,
    /// `members.type`: `User` on every member (only users are members).
    MemberType,
    /// `members.$ref`: this prefix (the tenant's `.../scim/v2/Users/`) then the member's id.
    MemberRef(String),
}

/// How a field's values compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// Text; `case_exact` false compares case-insensitively.
    Text {
        case_exact: bool,
    },
    Boolean,
    /// A timestamp (stored as Unix microseconds, compared as such).
    DateTime,
    Number,
}

/// Which table a multi-valued field lives in (a value filter applies to one row of it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Multi {
    Emails,
    Plurals(Plural),
    Addresses,
    Groups,
    Members,
}

/// A comparison operator (RFC 7644 §3.4.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A comparison value, already typed for its field.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Text(String),
    Bool(bool),
    /// Unix microseconds (the precision of users' and groups' instants).
    Time(i64),
    Number(f64),
    Null,
}

/// A filter over fields of type `F`, resolved and type-checked.
#[derive(Clone, Debug)]
pub enum Cond<F> {
    Compare {
        field: F,
        op: Op,
        value: Value,
    },
    Present(F),
    And(Box<Cond<F>>, Box<Cond<F>>),
    Or(Box<Cond<F>>, Box<Cond<F>>),
    Not(Box<Cond<F>>),
    /// `emails[type eq "work" and value sw "a"]`: the inner condition holds for one value.
    Within(Multi, Box<Cond<F>>),
}

/// A SCIM list request, resolved.
#[derive(Clone, Debug)]
pub struct ListQuery<F> {
    pub filter: Option<Cond<F>>,
    pub sort_by: Option<F>,
    pub descending: bool,
    /// 1-based.
    pub start_index: i64,
    pub count: i64,
}

/// One page of a list and the total number of matches.
#[derive(Clone, Debug)]
pub struct ListPage<T> {
    pub total: i64,
    pub items: Vec<T>,
}

impl UserField {
    /// How the field's values compare (RFC 7643 §4.1 and §4.3 say which are case-exact).
    pub fn kind(&self) -> FieldKind {
        use super::model::AttributeKind;
        match self {
            Self::Id | Self::ExternalId | Self::ManagerId | Self::GroupId | Self::Unvalued(_) => {
                FieldKind::Text { case_exact: true }
            }
            Self::Active
            | Self::EmailPrimary
            | Self::Plural(_, PluralSub::Primary)
            | Self::Address(AddressSub::Primary) => FieldKind::Boolean,
            Self::Created | Self::LastModified => FieldKind::DateTime,
            Self::Custom(def) => match def.kind {
                AttributeKind::Number => FieldKind::Number,
                AttributeKind::Boolean => FieldKind::Boolean,
                _ => FieldKind::Text { case_exact: false },
            },
            _ => FieldKind::Text { case_exact: false },
        }
    }

    /// The multi-valued attribute the field is a sub-attribute of.
    pub fn multi(&self) -> Option<Multi> {
        match self {
            Self::EmailValue | Self::EmailType | Self::EmailPrimary => Some(Multi::Emails),
            Self::GroupId | Self::GroupDisplay | Self::GroupType | Self::GroupRef(_) => {
                Some(Multi::Groups)
            }
            Self::Unvalued(m) => *m,
            Self::Plural(p, _) => Some(Multi::Plurals(*p)),
            Self::Address(_) => Some(Multi::Addresses),
            _ => None,
        }
    }
}

impl GroupField {
    pub fn kind(&self) -> FieldKind {
        match self {
            Self::Id | Self::ExternalId | Self::MemberId => FieldKind::Text { case_exact: true },
            Self::Created | Self::LastModified => FieldKind::DateTime,
            Self::DisplayName | Self::MemberType | Self::MemberRef(_) => {
                FieldKind::Text { case_exact: false }
            }
        }
    }

    pub fn multi(&self) -> Option<Multi> {
        match self {
            Self::MemberId | Self::MemberType | Self::MemberRef(_) => Some(Multi::Members),
            _ => None,
        }
    }
}

/// The folded form of case-insensitive SCIM text (RFC 7643 §2.2 `caseExact: false`): Unicode
/// lowercase in Unicode NFC, so `ZOË` and `zoë` compare equal and sort together, and a
/// decomposed `Zoë` (as some keyboards and directories send it) is the same text as a composed
/// one (the userName key, [`crate::domain::changes::normalise`], is NFC too). One function for
/// stored shadows, filter literals and the tests' reference evaluator; folded text compares
/// bytewise.
pub fn fold(s: &str) -> String {
    crate::domain::changes::nfc(&s.to_lowercase())
}

/// One SCIM request as the tenant's log of recent requests keeps it: never the query string
/// (filters carry personal data) nor the body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScimRequest {
    /// Its position in the log (newer is larger): the cursor of the pages.
    #[serde(skip)]
    pub seq: i64,
    #[serde(with = "rfc3339_ms")]
    pub at: i64,
    /// The SCIM token that made it; `None` when the token was refused.
    pub token_id: Option<ScimTokenId>,
    pub method: String,
    /// The path under `/scim/v2`, without the query string.
    pub path: String,
    pub status: i64,
    /// The SCIM error's `scimType`, if any.
    pub scim_type: Option<String>,
    pub duration_ms: i64,
}
