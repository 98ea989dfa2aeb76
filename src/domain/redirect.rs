//! Redirect URIs, parsed with a WHATWG URL parser (the one browsers use to follow them): what a
//! client may register and what `/authorize` accepts. Matching stays exact string comparison;
//! this only decides which strings can be redirect URIs at all.
//!
//! The rule: an absolute `https` URI, or `http` on a loopback host (`localhost`, `127.0.0.0/8`,
//! `[::1]`: RFC 8252 §7.3 for native apps and local development); no user information
//! (`http://localhost:80@evil.example/cb` would send the browser to `evil.example`), no
//! fragment (RFC 6749 §3.1.2), no backslash, whitespace or control character. Private-use
//! schemes (`com.example.app:/cb`, RFC 8252 §7.1) are refused: native apps use a loopback
//! redirect or a claimed https URI (RFC 8252 §7.2), which the pages' `form-action` policy allows.

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
    // The authority as written, too: no `@` in it whatever a parser makes of it.
    let authority = uri
        .split_once("://")
        .map_or("", |(_, rest)| rest.split(['/', '?']).next().unwrap_or(""));
    if authority.is_empty() {
        return Some("is not a valid absolute URI");
    }
    if !url.username().is_empty() || url.password().is_some() || authority.contains('@') {
        return Some("must not carry user information (`user@`)");
    }
    match url.scheme() {
        "https" if url.host().is_some() => None,
        "http" if url.host().is_some_and(|h| loopback(&h)) => None,
        "http" => Some("must use https (http only on localhost, 127.0.0.0/8 or [::1])"),
        _ => Some("must be an absolute https URI (or http on a loopback host)"),
    }
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
        ] {
            assert_eq!(refusal(ok), None, "{ok}");
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
            "com.example.app:/cb",
            "javascript:alert(1)",
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
