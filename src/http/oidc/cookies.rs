//! The cookies of the sign-in pages: reading the `Cookie` header and writing `Set-Cookie`.
//!
//! Every cookie is HttpOnly and SameSite=Lax. When the public URL is https it is also Secure and
//! named with the `__Host-` prefix (so no subdomain and no plain-http page can set or shadow it);
//! the prefix requires `Path=/`, so the tenant's slug goes into the name instead of the path.
//! Over plain http (development) the cookie is scoped to the tenant's path.

use axum::http::{HeaderMap, HeaderValue};

/// The cookies Castellan sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The session's secret.
    Session,
    /// The browser's CSRF nonce (forms shown before anyone is signed in).
    Csrf,
    /// The device cookie a sign-in sets (see `domain::devices`).
    Device,
}

impl Kind {
    fn base(self) -> &'static str {
        match self {
            Kind::Session => "castellan_session",
            Kind::Csrf => "castellan_csrf",
            Kind::Device => "castellan_device",
        }
    }
}

/// The cookie's name for tenant `slug`.
pub fn name(kind: Kind, slug: &str, secure: bool) -> String {
    if secure {
        format!("__Host-{}-{slug}", kind.base())
    } else {
        kind.base().to_owned()
    }
}

/// The value of cookie `name`, if the request carries it.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// The value of this tenant's cookie of `kind`, if the request carries it.
pub fn read<'a>(headers: &'a HeaderMap, kind: Kind, slug: &str, secure: bool) -> Option<&'a str> {
    get(headers, &name(kind, slug, secure))
}

/// A `Set-Cookie` value for this tenant's cookie of `kind`: HttpOnly, SameSite=Lax; Secure and
/// `__Host-` when `secure`. Without `max_age` it ends with the browser. `value` is base64url
/// (cookie-safe) by construction.
pub fn set(
    kind: Kind,
    value: &str,
    slug: &str,
    secure: bool,
    max_age: Option<i64>,
) -> Option<HeaderValue> {
    let name = name(kind, slug, secure);
    let mut c = if secure {
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Secure")
    } else {
        format!("{name}={value}; Path=/t/{slug}; HttpOnly; SameSite=Lax")
    };
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&c).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_cookies_are_host_prefixed_and_secure() {
        let c = set(Kind::Session, "abc", "acme", true, None).unwrap();
        assert_eq!(
            c.to_str().unwrap(),
            "__Host-castellan_session-acme=abc; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        let c = set(Kind::Csrf, "n", "acme", false, Some(0)).unwrap();
        assert_eq!(
            c.to_str().unwrap(),
            "castellan_csrf=n; Path=/t/acme; HttpOnly; SameSite=Lax; Max-Age=0"
        );
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            "castellan_session=plain; __Host-castellan_session-acme=host"
                .parse()
                .unwrap(),
        );
        assert_eq!(read(&h, Kind::Session, "acme", true), Some("host"));
        assert_eq!(read(&h, Kind::Session, "acme", false), Some("plain"));
        assert_eq!(read(&h, Kind::Session, "other", true), None);
    }
}
