//! Security headers on every answer, pages and APIs alike, set in one place: `nosniff`, a
//! Content Security Policy (the pages' own, or `default-src 'none'` for everything that is not
//! HTML), no framing, no referrer, HSTS when the public URL is https, and `no-store` on
//! everything but the public metadata that its handler marked `public` (discovery, JWKS, the
//! pages' script).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

/// The pages' policy: their own script and style only, forms posted to the issuer or to the
/// apps it sends people back to. `form-action` also governs the redirects that follow a form
/// (sign-in, consent, logout lead to a client's redirect URI), which is why it allows https and
/// http (the latter only ever reaches loopback redirect URIs, see `admin::clients`).
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
     style-src 'unsafe-inline'; form-action 'self' https: http:; \
     base-uri 'none'; frame-ancestors 'none'";

/// Anything that is not a page: nothing may load from it, nothing may frame it.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// One year, as browsers' preload lists expect.
const HSTS: &str = "max-age=31536000";

/// What the layer needs to know about the deployment.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// The public URL is https: answers carry `Strict-Transport-Security`.
    pub hsts: bool,
}

impl Policy {
    /// The policy for a server reached at `public_url`.
    pub fn for_public_url(public_url: &str) -> Self {
        Policy {
            hsts: public_url
                .get(..8)
                .is_some_and(|s| s.eq_ignore_ascii_case("https://")),
        }
    }
}

/// Adds the security headers to `res` (the layer's function).
pub async fn secure(State(policy): State<Policy>, mut res: Response) -> Response {
    let cacheable = res.status().is_success() && marked_public(res.headers());
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, name, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        if html { PAGE_CSP } else { API_CSP },
    );
    if !cacheable {
        set(h, header::CACHE_CONTROL, "no-store");
        set(h, header::PRAGMA, "no-cache");
    }
    if policy.hsts {
        set(h, header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    res
}

/// The handler said the answer is public metadata anyone may cache.
fn marked_public(h: &HeaderMap) -> bool {
    h.get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|d| d.trim() == "public"))
}

#[cfg(test)]
mod tests {
    use super::Policy;

    #[test]
    fn hsts_only_for_https() {
        assert!(Policy::for_public_url("https://id.example").hsts);
        assert!(Policy::for_public_url("HTTPS://id.example").hsts);
        assert!(!Policy::for_public_url("http://localhost:8080").hsts);
        assert!(!Policy::for_public_url("").hsts);
    }
}
