//! Typed identifiers. Every id is a UUIDv7 string (time-ordered, so it doubles as a stable sort key).

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().to_string())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
    )*};
}

id_type!(
    TenantId,
    UserId,
    AccountId,
    AccountGroupId,
    MembershipId,
    RoleId,
    RoleAssignmentId,
    PermissionId,
    GroupId,
    ManagementId,
    AttributeId,
    NotificationTypeId,
    TokenId,
    ScimTokenId,
    AuditId,
    ClientId,
    FactorId,
    NotificationId,
);
