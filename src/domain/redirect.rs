//! Redirect URIs, parsed with a WHATWG URL parser (the one browsers use to follow them): what a
//! client may register and what `/authorize` accepts. Matching stays exact string comparison;
//! this only decides which strings can be redirect URIs at all.
//!
//! The rule: an absolute `https` URI, or `http` on a loopback host (`localhost`, `127.0.0.0/8`,
//! `[::1]`: RFC 8252 §7.3 for native apps and local development); no user information
//! (`http://localhost:80@evil.example/cb` would send the browser to `evil.example`), no
//! fragment (RFC 6749 §3.1.2), no backslash, whitespace or control character. Native apps may
//! also use a private-use scheme (RFC 8252 §7.1) named after a domain they control in reverse
//! order, so it contains a period (`com.example.app:/oauth2redirect`): the pages whose forms
//! lead back to such an app add its scheme to their `form-action` policy
//! (see [`private_scheme`]).

use url::{Host, Url};

/// The longest redirect URI accepted, in bytes.
pub const MAX_LEN: usize = 2000;

/// Why `uri` cannot be a redirect URI (a phrase that follows the URI in a message), or `None`
/// when it can.
pub fn refusal(uri: &str) -> Option<&'static str> {
    if uri.len() > MAX_LEN {
        return Some("is too long (at most 2000 bytes)");
    }
    if uri
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
    {
        return Some("is not a valid absolute URI");
    }
    if uri.contains('#') {
        return Some("must not have a fragment");
    }
    let Ok(url) = Url::parse(uri) else {
        return Some("is not a valid absolute URI");
    };
    if is_private_scheme(url.scheme()) {
        return private_refusal(uri, &url);
    }
    // The authority as written, too: no `@` in it whatever a parser makes of it.
    let authority = authority(uri);
    if authority.is_empty() {
        return Some("is not a valid absolute URI");
    }
    if !url.username().is_empty() || url.password().is_some() || authority.contains('@') {
        return Some(USER_INFO);
    }
    match url.scheme() {
        "https" if url.host().is_some() => None,
        "http" if url.host().is_some_and(|h| loopback(&h)) => None,
        "http" => Some("must use https (http only on localhost, 127.0.0.0/8 or [::1])"),
        _ => Some(
            "must be an absolute https URI, http on a loopback host, or a private-use scheme \
             with a period (`com.example.app:/cb`)",
        ),
    }
}

const USER_INFO: &str = "must not carry user information (`user@`)";

/// The authority of `uri` as written (empty when it has none).
fn authority(uri: &str) -> &str {
    uri.split_once("://")
        .map_or("", |(_, rest)| rest.split(['/', '?']).next().unwrap_or(""))
}

/// A private-use scheme (RFC 8252 §7.1): a reversed domain name, so at least one period, and
/// nothing a browser gives a meaning of its own.
fn is_private_scheme(scheme: &str) -> bool {
    scheme.contains('.') && scheme.split('.').all(|label| !label.is_empty())
}

/// Why a private-use redirect URI cannot be one: it needs a path, and no user information.
fn private_refusal(uri: &str, url: &Url) -> Option<&'static str> {
    if !url.username().is_empty() || url.password().is_some() || authority(uri).contains('@') {
        return Some(USER_INFO);
    }
    let rest = &uri[url.scheme().len() + 1..];
    if rest.is_empty() || rest.starts_with('?') {
        return Some("needs a path after its private-use scheme (`com.example.app:/cb`)");
    }
    None
}

/// The scheme of `uri` when it is a valid private-use redirect URI (what a page adds to its
/// `form-action` policy so that a form can lead back to a native app), lower-cased.
pub fn private_scheme(uri: &str) -> Option<String> {
    let url = Url::parse(uri).ok()?;
    (is_private_scheme(url.scheme()) && refusal(uri).is_none()).then(|| url.scheme().to_owned())
}

fn loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::refusal;

    #[test]
    fn accepts_https_and_loopback_http() {
        for ok in [
            "https://app.example/cb",
            "https://app.example:8443/cb?x=1",
            "http://localhost/cb",
            "http://localhost:9/cb",
            "http://127.0.0.1:9/callback",
            "http://127.3.4.5/cb",
            "http://[::1]:8080/cb",
            "https://app.example/cb?email=a@b.example",
            "com.example.app:/oauth2redirect",
            "com.example.app:/cb?x=1",
            "com.example.app://cb",
            "net.example-corp.mail:/cb",
        ] {
            assert_eq!(refusal(ok), None, "{ok}");
        }
    }

    #[test]
    fn private_schemes_are_named_for_the_pages_policy() {
        use super::private_scheme;
        assert_eq!(
            private_scheme("com.example.app:/cb").as_deref(),
            Some("com.example.app")
        );
        assert_eq!(
            private_scheme("COM.Example.App:/cb").as_deref(),
            Some("com.example.app")
        );
        for none in [
            "https://app.example/cb",
            "http://localhost/cb",
            "com.example.app:",
            "javascript:alert(1)",
            "nonsense",
        ] {
            assert_eq!(private_scheme(none), None, "{none}");
        }
    }

    #[test]
    fn refuses_what_leads_elsewhere() {
        for bad in [
            "http://localhost:80@evil.example/cb",
            "https://app.example@evil.example/cb",
            "https://user:pw@app.example/cb",
            "http://localhost.evil.example/cb",
            "http://127.0.0.1.evil.example/cb",
            "http://evil.example/cb",
            "http://10.0.0.1/cb",
            "https://app.example/cb#frag",
            "https://app.example\\@evil.example/cb",
            "javascript:alert(1)",
            "com.example.app:",
            "com.example.app:?x=1",
            "com.example.app://user@cb/x",
            "com..app:/cb",
            "com.example.app:/cb#frag",
            "mailto:a@b.example",
            "file:///etc/passwd",
            "vbscript:x",
            "data:text/html,x",
            "https:///cb",
            "//app.example/cb",
            "/cb",
            "https://app.example/c b",
            "",
        ] {
            assert!(refusal(bad).is_some(), "{bad}");
        }
    }
}
