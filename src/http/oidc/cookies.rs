//! The cookies of the sign-in pages: reading the `Cookie` header and writing `Set-Cookie`.

use axum::http::{HeaderMap, HeaderValue, header};

pub const SESSION: &str = "castellan_session";
pub const CSRF: &str = "castellan_csrf";

/// The value of cookie `name`, if the request carries it.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, scoped to the tenant's path, Secure when the
/// public URL is https. `value` is base64url (cookie-safe) by construction.
pub fn set(
    name: &str,
    value: &str,
    slug: &str,
    secure: bool,
    max_age: Option<i64>,
) -> Option<HeaderValue> {
    let mut c = format!("{name}={value}; Path=/t/{slug}; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).ok()
}
