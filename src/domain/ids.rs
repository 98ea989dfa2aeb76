//! Typed identifiers. Every id is a UUIDv7 string (time-ordered, so it doubles as a stable sort key).
//! An id read from outside is parsed as what it is: text that is not a hyphenated UUID is
//! refused (a path extractor answers 404, a body 422) before any query is made.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// Whether `text` is a UUID in its hyphenated form (any version, either case).
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36 && uuid::Uuid::try_parse(text).is_ok()
}

macro_rules! id_type {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
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
            /// The id written as `text`, when it has the shape of one (a hyphenated UUID).
            pub fn parse(text: &str) -> Option<Self> {
                is_uuid(text).then(|| Self(text.to_owned()))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                if is_uuid(&text) {
                    Ok(Self(text))
                } else {
                    Err(serde::de::Error::custom(concat!(
                        "not a valid ", stringify!($name), " (ids are UUIDs)"
                    )))
                }
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
    MailId,
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
    JobId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuids() {
        let id = UserId::generate();
        assert_eq!(UserId::parse(id.as_str()), Some(id.clone()));
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<UserId>(&json).unwrap(), id);
        for bad in [
            "",
            "x",
            "\0",
            "01900000-0000-7000-8000-00000000000\0",
            "0190000000007000800000000000000000",
            "{01900000-0000-7000-8000-000000000000}",
            "01900000-0000-7000-8000-00000000000g",
        ] {
            assert_eq!(UserId::parse(bad), None, "{bad}");
            assert!(
                serde_json::from_str::<UserId>(&format!("\"{bad}\"")).is_err(),
                "{bad}"
            );
        }
    }
}
