//! Small validators shared by the administration services.

use crate::domain::{DomainError, Result};
use serde::{Deserialize, Deserializer};

/// Deserializes a field that may be absent (`None`), null (`Some(None)`) or set (`Some(Some(v))`).
pub fn nullable<'de, D, T>(d: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A plausible email address: one `@`, something on both sides, a dot in the domain, no spaces.
pub fn email(field: &str, value: &str) -> Result<String> {
    let v = value.trim();
    let ok = v.len() <= 254
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(v.split_once('@'), Some((local, domain)) if !local.is_empty() && !domain.is_empty()
            && !domain.contains('@') && !domain.starts_with('.') && !domain.ends_with('.')
            && (domain.contains('.') || domain == "localhost"));
    if ok {
        Ok(v.to_string())
    } else {
        Err(DomainError::invalid(
            field,
            format!("`{value}` is not a valid email address"),
        ))
    }
}

/// A required, trimmed, non-empty text of at most `max` characters.
pub fn name(field: &str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(DomainError::invalid(
            field,
            format!("`{field}` must not be empty"),
        ));
    }
    if v.chars().count() > max || v.chars().any(|c| c.is_control()) {
        return Err(DomainError::invalid(
            field,
            format!("`{field}` must be at most {max} printable characters"),
        ));
    }
    Ok(v.to_string())
}

/// An optional text: empty becomes `None`.
pub fn optional(field: &str, value: Option<String>, max: usize) -> Result<Option<String>> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => name(field, v, max).map(Some),
    }
}

/// A page size: 50 by default, 1 to 1000.
pub fn limit(value: Option<u32>) -> Result<u32> {
    match value {
        None => Ok(50),
        Some(n) if (1..=1000).contains(&n) => Ok(n),
        Some(_) => Err(DomainError::invalid(
            "limit",
            "`limit` must be between 1 and 1000",
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@example.com", "owner@localhost"] {
            assert!(super::email("email", ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "a", "a@", "@b.c", "a b@c.d", "a@b@c.d", "a@.com", "a@com.",
        ] {
            assert!(super::email("email", bad).is_err(), "{bad}");
        }
    }
}
