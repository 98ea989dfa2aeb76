//! Security headers on every answer, pages and APIs alike, set in one place: `nosniff`, a
//! Content Security Policy (the pages' own, or `default-src 'none'` for everything that is not
//! HTML), no framing, no referrer, HSTS when the public URL is https, and `no-store` on
//! everything but the public metadata that its handler marked `public` (discovery, JWKS, the
//! pages' script).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

/// [`PAGE_CSP`] up to the end of its `form-action` sources (a page may add one, see
/// [`FormTarget`]), then the rest of it.
macro_rules! page_csp_to_form_actions {
    () => {
        "default-src 'none'; script-src 'self'; connect-src 'self'; \
         style-src 'self' 'unsafe-inline'; form-action 'self' https: http:"
    };
}
macro_rules! page_csp_rest {
    () => {
        "; base-uri 'none'; frame-ancestors 'none'"
    };
}

/// The pages' policy: their own script and style only, forms posted to the issuer or to the
/// apps it sends people back to. `form-action` also governs the redirects that follow a form
/// (sign-in, consent, logout lead to a client's redirect URI), which is why it allows https and
/// http (the latter only ever reaches loopback redirect URIs, see `admin::clients`).
pub const PAGE_CSP: &str = concat!(page_csp_to_form_actions!(), page_csp_rest!());

/// A page whose form may lead back to a native app's private-use redirect URI (RFC 8252 §7.1)
/// puts this in its response's extensions: the page's `form-action` then allows that scheme too
/// (`form-action` governs the redirects that follow a form, and `https: http:` do not cover
/// `com.example.app:`). Built only by [`FormTarget::of`], so it holds a valid scheme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormTarget(String);

impl FormTarget {
    /// The target of a redirect URI with a private-use scheme; `None` for any other URI.
    pub fn of(redirect_uri: &str) -> Option<Self> {
        crate::domain::redirect::private_scheme(redirect_uri).map(FormTarget)
    }

    /// The target of the redirect URI named by a same-site `return_to` path (the sign-in and
    /// second-factor pages return to `/t/{tenant}/authorize?...&redirect_uri=...`, the
    /// authenticator setup to the second-factor page, whose own `return_to` names it).
    pub fn of_return_to(return_to: Option<&str>) -> Option<Self> {
        Self::within(return_to?, 3)
    }

    fn within(path: &str, depth: u8) -> Option<Self> {
        let base = url::Url::parse("http://castellan.invalid/").ok()?;
        let url = base.join(path).ok()?;
        if url.host_str() != Some("castellan.invalid") || depth == 0 {
            return None;
        }
        let pairs: Vec<_> = url.query_pairs().collect();
        let named = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        match named("redirect_uri") {
            Some(uri) => Self::of(uri),
            None => named("return_to").and_then(|inner| Self::within(inner, depth - 1)),
        }
    }

    /// `res` with this target, if any, for the headers layer.
    pub fn attach(target: Option<Self>, mut res: Response) -> Response {
        if let Some(t) = target {
            res.extensions_mut().insert(t);
        }
        res
    }
}

/// The page policy with `target`'s scheme allowed as a form action.
fn page_csp_with(target: &FormTarget) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        concat!(page_csp_to_form_actions!(), " {}:", page_csp_rest!()),
        target.0
    ))
    .ok()
}

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
    let target = res.extensions_mut().remove::<FormTarget>();
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
    if html && let Some(csp) = target.as_ref().and_then(page_csp_with) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
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
    fn form_targets_come_only_from_private_use_redirect_uris() {
        use super::FormTarget;
        let t = FormTarget::of_return_to(Some(
            "/t/acme/authorize?client_id=x&redirect_uri=com.example.app%3A%2Fcb&state=s",
        ));
        assert_eq!(t, FormTarget::of("com.example.app:/cb"));
        assert!(t.is_some());
        let nested = FormTarget::of_return_to(Some(
            "/t/acme/login/mfa?return_to=%2Ft%2Facme%2Fauthorize%3Fredirect_uri%3Dcom.example.app%253A%252Fcb&level=mfa",
        ));
        assert_eq!(nested, t);
        for none in [
            None,
            Some("/t/acme/authorize?redirect_uri=https%3A%2F%2Fapp.example%2Fcb"),
            Some("https://evil.example/t/acme/authorize?redirect_uri=com.example.app%3A%2Fcb"),
            Some("//evil.example/?redirect_uri=com.example.app%3A%2Fcb"),
            Some("/t/acme/authorize?redirect_uri=javascript%3Aalert(1)"),
            Some("/t/acme/authorize?redirect_uri=x.y%3A%27%3B%20script-src%20*"),
        ] {
            assert_eq!(FormTarget::of_return_to(none), None, "{none:?}");
        }
        let csp = super::page_csp_with(&FormTarget::of("com.example.app:/cb").unwrap()).unwrap();
        assert!(
            csp.to_str()
                .unwrap()
                .contains("form-action 'self' https: http: com.example.app:;")
        );
    }

    #[test]
    fn hsts_only_for_https() {
        assert!(Policy::for_public_url("https://id.example").hsts);
        assert!(Policy::for_public_url("HTTPS://id.example").hsts);
        assert!(!Policy::for_public_url("http://localhost:8080").hsts);
        assert!(!Policy::for_public_url("").hsts);
    }
}
