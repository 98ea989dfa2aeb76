//! Which fields of their profile people may change themselves in the account portal: a tenant
//! setting. The standard fields are named as the admin API names them; a custom attribute as
//! `attributes.<key>` (as the API's field errors name it: a custom key may be `phone` too). Nobody edits their email, username or external id this way (the email changes through a
//! verification, the others belong to administrators and directories).

use super::error::{DomainError, Result};
use super::model::AttributeDef;
use serde::{Deserialize, Serialize};

/// The standard profile fields a tenant may open to self-service, in the order the portal shows
/// them.
pub const STANDARD_FIELDS: [&str; 6] = [
    "given_name",
    "family_name",
    "display_name",
    "phone",
    "locale",
    "timezone",
];

/// The tenant's rule: the fields people edit themselves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePolicy {
    /// Standard field names, then `attributes.<key>` of custom attributes, each once.
    pub editable: Vec<String>,
}

impl Default for ProfilePolicy {
    /// Every standard field and no custom attribute: what the portal offered before the setting.
    fn default() -> Self {
        ProfilePolicy {
            editable: STANDARD_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
        }
    }
}

impl ProfilePolicy {
    /// Whether people may change `field` (a standard name or `attributes.<key>`) themselves.
    pub fn allows(&self, field: &str) -> bool {
        self.editable.iter().any(|f| f == field)
    }

    /// The policy in its canonical form (standard fields in their order, then the attribute keys
    /// in the order of `defs`, each once), or a field error naming the first unknown field.
    pub fn checked(&self, defs: &[AttributeDef]) -> Result<ProfilePolicy> {
        if let Some(unknown) = self.editable.iter().find(|f| {
            !STANDARD_FIELDS.contains(&f.as_str()) && !defs.iter().any(|d| **f == attribute(&d.key))
        }) {
            let shown: String = unknown.chars().take(64).collect();
            return Err(DomainError::invalid(
                "editable",
                format!(
                    "`{shown}` is neither a profile field ({}) nor a custom field of this organisation",
                    STANDARD_FIELDS.join(", ")
                ),
            ));
        }
        Ok(self.known(defs))
    }

    /// The policy without the fields that no longer exist (a custom field deleted since),
    /// in canonical order.
    pub fn known(&self, defs: &[AttributeDef]) -> ProfilePolicy {
        let standard = STANDARD_FIELDS.iter().map(|f| (*f).to_owned());
        let custom = defs.iter().map(|d| attribute(&d.key));
        ProfilePolicy {
            editable: standard.chain(custom).filter(|f| self.allows(f)).collect(),
        }
    }
}

/// The policy's name of the custom attribute `key`.
pub fn attribute(key: &str) -> String {
    format!("attributes.{key}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::AttributeKind;

    fn def(key: &str) -> AttributeDef {
        AttributeDef {
            id: crate::domain::AttributeId::generate(),
            key: key.into(),
            label: key.into(),
            description: None,
            kind: AttributeKind::Text,
            options: vec![],
            required: false,
        }
    }

    fn policy(fields: &[&str]) -> ProfilePolicy {
        ProfilePolicy {
            editable: fields.iter().map(|f| (*f).to_owned()).collect(),
        }
    }

    #[test]
    fn canonical_form_orders_and_dedupes() {
        let defs = [def("badge"), def("floor")];
        let p = policy(&[
            "attributes.floor",
            "phone",
            "given_name",
            "phone",
            "attributes.badge",
        ]);
        assert_eq!(
            p.checked(&defs).unwrap().editable,
            [
                "given_name",
                "phone",
                "attributes.badge",
                "attributes.floor"
            ]
        );
    }

    #[test]
    fn unknown_fields_are_refused_by_name() {
        for bad in [
            "email",
            "username",
            "external_id",
            "status",
            "badge",
            "attributes.nope",
            "",
        ] {
            let err = policy(&["phone", bad])
                .checked(&[def("badge")])
                .unwrap_err();
            assert!(
                matches!(&err, DomainError::Invalid { field, message } if field.as_deref() == Some("editable") && message.contains(&format!("`{bad}`"))),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn a_custom_key_named_like_a_standard_field_stays_apart() {
        let p = policy(&["attributes.phone"])
            .checked(&[def("phone")])
            .unwrap();
        assert!(!p.allows("phone") && p.allows("attributes.phone"));
    }

    #[test]
    fn deleted_custom_fields_drop_out() {
        let p = policy(&["phone", "attributes.badge"]);
        assert_eq!(p.known(&[]).editable, ["phone"]);
        assert!(ProfilePolicy::default().known(&[]).editable.len() == STANDARD_FIELDS.len());
    }
}
