//! Custom attribute definitions: the typed fields a tenant adds to its users.

use super::validate;
use crate::domain::attributes::{StoredValue, validate_key, validate_value};
use crate::domain::authz::Caller;
use crate::domain::permissions::admin;
use crate::domain::*;
use crate::store::Store;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashSet;

/// A new attribute definition.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAttribute {
    pub key: String,
    pub label: String,
    pub description: Option<String>,
    pub kind: AttributeKind,
    /// The allowed values of an `enum` attribute (and only of one).
    pub options: Option<Vec<String>>,
    #[serde(default)]
    pub required: bool,
    /// A value written for every user who has none (needed to make an attribute required
    /// while such users exist).
    pub default: Option<Value>,
}

/// A partial change of a definition; the key and the kind stay.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateAttribute {
    pub label: Option<String>,
    #[serde(default, deserialize_with = "validate::nullable")]
    pub description: Option<Option<String>>,
    pub required: Option<bool>,
    pub options: Option<Vec<String>>,
    /// A value written for every user who has none.
    pub default: Option<Value>,
    /// Accepted only to say that it cannot change.
    pub kind: Option<AttributeKind>,
}

/// Enum options: non-empty, unique, printable; other kinds have none.
fn check_options(kind: AttributeKind, options: Vec<String>) -> Result<Vec<String>> {
    if kind != AttributeKind::Enum {
        if !options.is_empty() {
            return Err(DomainError::invalid(
                "options",
                "only `enum` attributes have options",
            ));
        }
        return Ok(options);
    }
    if options.is_empty() {
        return Err(DomainError::invalid(
            "options",
            "an `enum` attribute needs at least one option",
        ));
    }
    let mut seen = HashSet::new();
    for o in &options {
        if o.trim() != o || validate::name("options", o, 200).is_err() {
            return Err(DomainError::invalid(
                "options",
                format!(
                    "`{o}` is not a valid option: 1 to 200 printable characters, no surrounding spaces"
                ),
            ));
        }
        if !seen.insert(o.as_str()) {
            return Err(DomainError::invalid(
                "options",
                format!("the option `{o}` is listed twice"),
            ));
        }
    }
    Ok(options)
}

fn default_value(def: &AttributeDef, default: Option<Value>) -> Result<Option<StoredValue>> {
    match default {
        None | Some(Value::Null) => Ok(None),
        Some(v) => validate_value(def, &v).map(Some).map_err(|e| match e {
            DomainError::Invalid { message, .. } => DomainError::invalid("default", message),
            other => other,
        }),
    }
}

/// Every definition of the tenant.
pub async fn list(store: &Store, caller: &Caller) -> Result<Vec<AttributeDef>> {
    caller.require(admin::SETTINGS_READ)?;
    store.attribute_defs(caller.tenant_id()).await
}

/// One definition, by key.
pub async fn get(store: &Store, caller: &Caller, key: &str) -> Result<AttributeDef> {
    caller.require(admin::SETTINGS_READ)?;
    store
        .attribute_def(caller.tenant_id(), key)
        .await?
        .ok_or(DomainError::NotFound("attribute"))
}

/// Defines a new attribute.
pub async fn create(store: &Store, caller: &Caller, req: CreateAttribute) -> Result<AttributeDef> {
    caller.require(admin::SETTINGS_WRITE)?;
    validate_key(&req.key)?;
    let def = AttributeDef {
        id: AttributeId::generate(),
        key: req.key,
        label: validate::name("label", &req.label, 200)?,
        description: validate::optional("description", req.description, 1000)?,
        kind: req.kind,
        options: check_options(req.kind, req.options.unwrap_or_default())?,
        required: req.required,
    };
    let default = default_value(&def, req.default)?;
    store
        .insert_attribute_def(caller.tenant_id(), &def, default.as_ref(), &caller.actor())
        .await
}

/// Changes a definition's label, description, options or required flag.
pub async fn update(
    store: &Store,
    caller: &Caller,
    key: &str,
    req: UpdateAttribute,
) -> Result<AttributeDef> {
    caller.require(admin::SETTINGS_WRITE)?;
    let current = get(store, caller, key).await?;
    if req.kind.is_some_and(|k| k != current.kind) {
        return Err(DomainError::invalid(
            "kind",
            "the kind of an attribute cannot change; define a new attribute instead",
        ));
    }
    let options = match req.options {
        Some(o) => check_options(current.kind, o)?,
        None => current.options.clone(),
    };
    let def = AttributeDef {
        label: match req.label {
            Some(l) => validate::name("label", &l, 200)?,
            None => current.label.clone(),
        },
        description: match req.description {
            Some(d) => validate::optional("description", d, 1000)?,
            None => current.description.clone(),
        },
        options,
        required: req.required.unwrap_or(current.required),
        ..current
    };
    let default = default_value(&def, req.default)?;
    store
        .update_attribute_def(caller.tenant_id(), &def, default.as_ref(), &caller.actor())
        .await
}

/// Removes a definition and every user's value of it.
pub async fn delete(store: &Store, caller: &Caller, key: &str) -> Result<()> {
    caller.require(admin::SETTINGS_WRITE)?;
    store
        .delete_attribute_def(caller.tenant_id(), key, &caller.actor())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_rules() {
        let o = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(check_options(AttributeKind::Enum, o(&["a", "b"])).is_ok());
        assert!(check_options(AttributeKind::Enum, o(&[])).is_err());
        assert!(check_options(AttributeKind::Enum, o(&["a", "a"])).is_err());
        assert!(check_options(AttributeKind::Enum, o(&[" a"])).is_err());
        assert!(check_options(AttributeKind::Text, o(&["a"])).is_err());
        assert!(check_options(AttributeKind::Text, o(&[])).is_ok());
    }
}
