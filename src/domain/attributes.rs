//! Custom attributes: typed validation of values against the tenant's definitions.

use super::error::{DomainError, Result};
use super::ids::AttributeId;
use super::model::{AttributeDef, AttributeKind};
use serde_json::Value;
use std::collections::BTreeMap;

/// A validated value in its stored form: canonical text, plus the number for numeric attributes
/// (so that filters can compare numbers as numbers).
#[derive(Clone, Debug, PartialEq)]
pub struct StoredValue {
    pub attribute_id: AttributeId,
    pub value: String,
    pub num: Option<f64>,
}

/// An attribute key: starts with a letter, then letters, digits or `_` (it becomes a SCIM
/// attribute name, so it follows RFC 7643's ATTRNAME rule).
pub fn validate_key(key: &str) -> Result<()> {
    let mut chars = key.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && key.len() <= 64;
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "key",
            format!(
                "`{key}` is not a valid attribute key: use a letter, then letters, digits or `_` (at most 64)"
            ),
        ))
    }
}

/// Validates one value for one definition.
pub fn validate_value(def: &AttributeDef, value: &Value) -> Result<StoredValue> {
    let field = format!("attributes.{}", def.key);
    let wrong =
        |expected: &str| DomainError::invalid(&field, format!("`{}` must be {expected}", def.key));
    let (value, num) = match def.kind {
        AttributeKind::Text => match value {
            Value::String(s) if s.chars().count() <= 1024 => (s.clone(), None),
            Value::String(_) => return Err(wrong("at most 1024 characters")),
            _ => return Err(wrong("a string")),
        },
        AttributeKind::Number => match value.as_f64() {
            Some(n) if n.is_finite() => (canonical_number(n), Some(n)),
            _ => return Err(wrong("a number")),
        },
        AttributeKind::Boolean => match value {
            Value::Bool(b) => (b.to_string(), None),
            _ => return Err(wrong("true or false")),
        },
        AttributeKind::Date => match value.as_str().and_then(super::clock::parse_date) {
            Some(d) => (super::clock::format_date(d), None),
            None => return Err(wrong("a date of the form YYYY-MM-DD")),
        },
        AttributeKind::Enum => match value.as_str() {
            Some(s) if def.options.iter().any(|o| o == s) => (s.to_owned(), None),
            _ => return Err(wrong(&format!("one of {}", def.options.join(", ")))),
        },
    };
    Ok(StoredValue {
        attribute_id: def.id.clone(),
        value,
        num,
    })
}

fn canonical_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// The JSON value of a stored attribute.
pub fn to_json(kind: AttributeKind, stored: &str, num: Option<f64>) -> Value {
    match kind {
        AttributeKind::Number => num
            .and_then(|n| {
                if n.fract() == 0.0 && n.abs() < 1e15 {
                    Some(Value::from(n as i64))
                } else {
                    serde_json::Number::from_f64(n).map(Value::Number)
                }
            })
            .unwrap_or(Value::Null),
        AttributeKind::Boolean => Value::Bool(stored == "true"),
        _ => Value::String(stored.to_owned()),
    }
}

/// The attribute changes of one write: `Some` sets a value, `None` (a JSON null) removes it.
pub type AttributeChanges = Vec<(AttributeId, Option<StoredValue>)>;

/// Validates a set of changes against the definitions: unknown keys and wrong types are refused.
pub fn validate_changes(
    defs: &[AttributeDef],
    input: &BTreeMap<String, Value>,
) -> Result<AttributeChanges> {
    input
        .iter()
        .map(|(key, value)| {
            let def = defs.iter().find(|d| &d.key == key).ok_or_else(|| {
                DomainError::invalid(
                    format!("attributes.{key}"),
                    format!("`{key}` is not a defined attribute"),
                )
            })?;
            match value {
                Value::Null => Ok((def.id.clone(), None)),
                v => Ok((def.id.clone(), Some(validate_value(def, v)?))),
            }
        })
        .collect()
}

/// Checks that every required attribute has a value once `changes` are applied to `existing`.
pub fn check_required(
    defs: &[AttributeDef],
    existing: &[AttributeId],
    changes: &AttributeChanges,
) -> Result<()> {
    for def in defs.iter().filter(|d| d.required) {
        let changed = changes.iter().find(|(id, _)| id == &def.id);
        let present = match changed {
            Some((_, v)) => v.is_some(),
            None => existing.contains(&def.id),
        };
        if !present {
            return Err(DomainError::invalid(
                format!("attributes.{}", def.key),
                format!("`{}` is required", def.key),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(key: &str, kind: AttributeKind, required: bool) -> AttributeDef {
        AttributeDef {
            id: AttributeId(key.into()),
            key: key.into(),
            label: key.into(),
            description: None,
            kind,
            options: vec!["red".into(), "blue".into()],
            required,
        }
    }

    #[test]
    fn values_are_typed() {
        let n = def("rate", AttributeKind::Number, false);
        assert_eq!(validate_value(&n, &json!(42.5)).unwrap().num, Some(42.5));
        assert_eq!(validate_value(&n, &json!(40)).unwrap().value, "40");
        assert!(validate_value(&n, &json!("40")).is_err());
        let e = def("colour", AttributeKind::Enum, false);
        assert!(validate_value(&e, &json!("red")).is_ok());
        assert!(validate_value(&e, &json!("green")).is_err());
        let d = def("since", AttributeKind::Date, false);
        assert_eq!(
            validate_value(&d, &json!("2024-02-29")).unwrap().value,
            "2024-02-29"
        );
        assert!(validate_value(&d, &json!("2023-02-29")).is_err());
        let b = def("flag", AttributeKind::Boolean, false);
        assert!(validate_value(&b, &json!("true")).is_err());
        assert_eq!(to_json(AttributeKind::Boolean, "true", None), json!(true));
    }

    #[test]
    fn unknown_and_required() {
        let defs = vec![def("code", AttributeKind::Text, true)];
        let mut input = BTreeMap::new();
        input.insert("nope".to_string(), json!("x"));
        assert!(validate_changes(&defs, &input).is_err());
        assert!(check_required(&defs, &[], &vec![]).is_err());
        let ok =
            validate_changes(&defs, &BTreeMap::from([("code".to_string(), json!("A1"))])).unwrap();
        assert!(check_required(&defs, &[], &ok).is_ok());
        let removal = vec![(AttributeId("code".into()), None)];
        assert!(check_required(&defs, &[AttributeId("code".into())], &removal).is_err());
    }
}
