//! CSRF tokens of the sign-in pages' forms. A token is never a value the browser chooses: it is
//! an HMAC, under a key derived from the master key, of what it is bound to:
//! - a signed-in browser's forms: the session's current cookie secret (its hash), so a token
//!   works only with that session and changes whenever the session's secret does (sign-in,
//!   second factor, step-up);
//! - forms shown before sign-in (the sign-in page, passkey sign-in, sign-out of nobody): a
//!   random nonce the server put in the browser's CSRF cookie.

use super::cookies::{self, Kind};
use super::login::secure;
use crate::domain::Tenant;
use crate::domain::secrets::new_secret;
use crate::domain::sessions::Session;
use crate::http::AppState;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use subtle::ConstantTimeEq;

fn mac(s: &AppState, purpose: &str, tenant: &Tenant, bound: &str) -> Option<String> {
    let key = s.store.master_key()?;
    Some(key.mac(purpose, &format!("{}\0{bound}", tenant.id.as_str())))
}

fn same(expected: Option<String>, field: Option<&str>) -> bool {
    match (expected, field) {
        (Some(e), Some(f)) => bool::from(e.as_bytes().ct_eq(f.as_bytes())),
        _ => false,
    }
}

/// The token of a signed-in browser's forms.
pub fn session_token(s: &AppState, tenant: &Tenant, session: &Session) -> String {
    mac(s, "csrf-session", tenant, &session.secret_hash).unwrap_or_default()
}

/// Whether `field` is the token of `session`'s forms (constant time).
pub fn session_ok(s: &AppState, tenant: &Tenant, session: &Session, field: Option<&str>) -> bool {
    same(mac(s, "csrf-session", tenant, &session.secret_hash), field)
}

/// A form shown before sign-in: the browser's CSRF nonce (the cookie's, or a new one) and its
/// token.
pub struct BrowserCsrf {
    nonce: String,
    /// Whether the nonce is new, so the cookie must be set.
    new: bool,
    pub token: String,
}

/// The browser's CSRF nonce and token, for a form shown before sign-in.
pub fn browser(s: &AppState, tenant: &Tenant, headers: &HeaderMap) -> BrowserCsrf {
    let found = cookies::read(headers, Kind::Csrf, &tenant.slug, secure(s)).filter(|c| {
        c.len() == 43
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    let (nonce, new) = match found {
        Some(n) => (n.to_owned(), false),
        None => (new_secret(""), true),
    };
    let token = mac(s, "csrf-browser", tenant, &nonce).unwrap_or_default();
    BrowserCsrf { nonce, new, token }
}

/// A new CSRF nonce for the browser (at sign-in, so tokens seen before it stop working).
pub fn renew(s: &AppState, tenant: &Tenant) -> BrowserCsrf {
    let nonce = new_secret("");
    let token = mac(s, "csrf-browser", tenant, &nonce).unwrap_or_default();
    BrowserCsrf {
        nonce,
        new: true,
        token,
    }
}

/// Whether `field` is the token of the browser's CSRF cookie (constant time).
pub fn browser_ok(s: &AppState, tenant: &Tenant, headers: &HeaderMap, field: Option<&str>) -> bool {
    match cookies::read(headers, Kind::Csrf, &tenant.slug, secure(s)) {
        Some(nonce) if !nonce.is_empty() => same(mac(s, "csrf-browser", tenant, nonce), field),
        _ => false,
    }
}

/// `res` with the browser's CSRF cookie set, when its nonce is new.
pub fn with_cookie(
    s: &AppState,
    tenant: &Tenant,
    csrf: &BrowserCsrf,
    mut res: Response,
) -> Response {
    if csrf.new
        && let Some(c) = cookies::set(Kind::Csrf, &csrf.nonce, &tenant.slug, secure(s), None)
    {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}
