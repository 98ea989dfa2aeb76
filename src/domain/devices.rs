//! Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): a browser
//! that signed in as a user gets a long-lived cookie, signed by the server, naming the tenant,
//! the user, a random nonce and an expiry. A later sign-in whose cookie is valid and names the
//! user the typed email belongs to is *trusted*: it gets a priority lane at the password
//! workers and its failures count on the device's own counter, not the account's.
//!
//! The value is `{payload}.{tag}`: `payload` is base64url of `tenant \n user \n nonce \n
//! expires` (seconds since the epoch), `tag` an HMAC of it under a key derived from the master
//! key. A value whose tag, tenant or expiry does not hold is no device at all.

use super::sealing::MasterKey;
use super::secrets::new_secret;
use super::{TenantId, UserId};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

const PURPOSE: &str = "device-cookie";

/// The longest cookie value read (longer ones are ignored unread).
const MAX_VALUE: usize = 512;

/// A device cookie that verified: signed by this server, for this tenant, not expired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// The user the device signed in as.
    pub user: String,
    /// The cookie's random nonce: names the device's failure counter.
    pub nonce: String,
    /// When the cookie stops counting (seconds since the epoch).
    pub expires_at: i64,
}

/// A new device cookie value for `user` of `tenant`, valid `lifetime_secs` from `now_ms`.
pub fn issue(
    key: &MasterKey,
    tenant: &TenantId,
    user: &UserId,
    now_ms: i64,
    lifetime_secs: i64,
) -> String {
    let expires = now_ms / 1000 + lifetime_secs;
    let payload = format!(
        "{}\n{}\n{}\n{expires}",
        tenant.as_str(),
        user.as_str(),
        new_secret("")
    );
    let payload = URL_SAFE_NO_PAD.encode(payload);
    let tag = key.mac(PURPOSE, &payload);
    format!("{payload}.{tag}")
}

/// The device a cookie `value` names, if its tag verifies, it is for `tenant` and it has not
/// expired at `now_ms`.
pub fn verify(key: &MasterKey, value: &str, tenant: &TenantId, now_ms: i64) -> Option<Device> {
    if value.len() > MAX_VALUE {
        return None;
    }
    let (payload, tag) = value.split_once('.')?;
    let expected = key.mac(PURPOSE, payload);
    if !bool::from(expected.as_bytes().ct_eq(tag.as_bytes())) {
        return None;
    }
    let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let mut parts = decoded.split('\n');
    let (t, user, nonce, expires) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let expires_at: i64 = expires.parse().ok()?;
    if parts.next().is_some() || t != tenant.as_str() || expires_at * 1000 <= now_ms {
        return None;
    }
    Some(Device {
        user: user.to_owned(),
        nonce: nonce.to_owned(),
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (TenantId, UserId) {
        (TenantId::generate(), UserId::generate())
    }

    #[test]
    fn a_cookie_verifies_for_its_tenant_until_it_expires() {
        let key = MasterKey::generate();
        let (t, u) = ids();
        let now = 1_700_000_000_000;
        let c = issue(&key, &t, &u, now, 3600);
        let d = verify(&key, &c, &t, now).expect("valid");
        assert_eq!(d.user, u.as_str());
        assert_eq!(d.expires_at, now / 1000 + 3600);
        assert_eq!(d.nonce.len(), 43);
        assert!(verify(&key, &c, &t, now + 3_599_000).is_some());
        assert_eq!(verify(&key, &c, &t, now + 3_600_000), None, "expired");
        assert_eq!(
            verify(&key, &c, &TenantId::generate(), now),
            None,
            "other tenant"
        );
        assert_eq!(
            verify(&MasterKey::generate(), &c, &t, now),
            None,
            "other key"
        );
        assert_ne!(issue(&key, &t, &u, now, 3600), c, "a new nonce each time");
        assert!(
            c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'),
            "cookie-safe: {c}"
        );
    }

    /// Any change to a valid cookie (each byte flipped, truncations, a payload re-encoded with
    /// another user or a later expiry under the old tag) verifies as nothing.
    #[test]
    fn altered_cookies_verify_as_nothing() {
        let key = MasterKey::generate();
        let (t, u) = ids();
        let now = 1_700_000_000_000;
        let c = issue(&key, &t, &u, now, 3600);
        for i in 0..c.len() {
            let mut b = c.clone().into_bytes();
            b[i] = if b[i] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(b).unwrap();
            if altered != c {
                assert_eq!(verify(&key, &altered, &t, now), None, "byte {i}");
            }
            assert_eq!(verify(&key, &c[..i], &t, now), None, "prefix {i}");
        }
        let (payload, tag) = c.split_once('.').unwrap();
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let other = text.replace(u.as_str(), UserId::generate().as_str());
        let later = text.replace(&(now / 1000 + 3600).to_string(), "99999999999");
        for forged in [other, later] {
            let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(forged));
            assert_eq!(verify(&key, &forged, &t, now), None);
        }
        assert_eq!(verify(&key, &"a".repeat(600), &t, now), None);
        assert_eq!(verify(&key, "", &t, now), None);
    }
}
