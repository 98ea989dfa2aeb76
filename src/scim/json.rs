//! JSON helpers: SCIM attribute names are case-insensitive, and directories send booleans as
//! strings (`"False"`).

use super::error::{ScimError, ScimResult};
use serde_json::{Map, Value};

/// The value under `key`, whatever the case of the key.
pub fn get_ci<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.get(key).or_else(|| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// The actual key matching `key` case-insensitively.
pub fn key_ci(o: &Map<String, Value>, key: &str) -> Option<String> {
    o.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned()
}

/// A boolean, or a string saying `true` / `false` in any case.
pub fn parse_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// An optional string of at most `max` characters; empty means absent.
pub fn opt_string(v: Option<&Value>, field: &str, max: usize) -> ScimResult<Option<String>> {
    checked_string(v, field, max, false)
}

/// `opt_string` for text that may span lines (an address's `formatted`, `streetAddress`):
/// line breaks are kept, other control characters refused.
pub fn opt_lines(v: Option<&Value>, field: &str, max: usize) -> ScimResult<Option<String>> {
    checked_string(v, field, max, true)
}

fn checked_string(
    v: Option<&Value>,
    field: &str,
    max: usize,
    lines: bool,
) -> ScimResult<Option<String>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.is_empty() {
                Ok(None)
            } else if s.chars().count() > max {
                Err(ScimError::invalid_value(format!(
                    "{field} is longer than {max} characters"
                )))
            } else if s
                .chars()
                .any(|c| c.is_control() && !(lines && (c == '\n' || c == '\r')))
            {
                Err(ScimError::invalid_value(format!(
                    "{field} contains control characters"
                )))
            } else {
                Ok(Some(s.to_owned()))
            }
        }
        // Numbers and booleans where a string is expected: directories do send them.
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(_) => Err(ScimError::invalid_value(format!(
            "{field} must be a string"
        ))),
    }
}

/// The id at the end of a resource URI (`.../Users/{id}`), from a `$ref`.
pub fn ref_id(v: Option<&Value>) -> Option<String> {
    let s = v?.as_str()?.trim().trim_end_matches('/');
    let id = s.rsplit('/').next()?;
    (!id.is_empty()).then(|| id.to_owned())
}

/// The object under `key`, made (or put in place of a non-object) when needed.
pub fn object_entry(map: &mut Map<String, Value>, key: String) -> &mut Map<String, Value> {
    let slot = map.entry(key).or_insert(Value::Null);
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(m) => m,
        _ => unreachable!("an object was put in place above"),
    }
}
