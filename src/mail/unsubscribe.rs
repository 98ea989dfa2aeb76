//! RFC 8058 one-click unsubscribe: a link signed with the master key that names one user and
//! one optional notification type of one tenant. Nothing is stored; the signature is the proof.

use crate::domain::sealing::MasterKey;
use crate::domain::{TenantId, UserId};
use subtle::ConstantTimeEq;

const PURPOSE: &str = "mail.unsubscribe/1";

fn message(tenant: &TenantId, user: &UserId, event_type: &str) -> String {
    format!("{tenant}\0{user}\0{event_type}")
}

/// The signature of an unsubscribe link.
pub fn sign(key: &MasterKey, tenant: &TenantId, user: &UserId, event_type: &str) -> String {
    key.mac(PURPOSE, &message(tenant, user, event_type))
}

/// Whether `signature` is the one of this user's link for `event_type` (constant time).
pub fn verify(
    key: &MasterKey,
    tenant: &TenantId,
    user: &UserId,
    event_type: &str,
    signature: &str,
) -> bool {
    sign(key, tenant, user, event_type)
        .as_bytes()
        .ct_eq(signature.as_bytes())
        .into()
}

/// The link: `{public_url}/t/{slug}/notifications/unsubscribe?u=..&e=..&s=..`.
pub fn link(
    key: &MasterKey,
    public_url: &str,
    slug: &str,
    tenant: &TenantId,
    user: &UserId,
    event_type: &str,
) -> String {
    let mut url = url::Url::parse(&format!("{public_url}/t/{slug}/notifications/unsubscribe"))
        .unwrap_or_else(|_| url::Url::parse("http://localhost/").expect("a valid URL"));
    url.query_pairs_mut()
        .append_pair("u", user.as_str())
        .append_pair("e", event_type)
        .append_pair("s", &sign(key, tenant, user, event_type));
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_names_one_user_one_type_one_tenant() {
        let key = MasterKey::generate();
        let (t, u) = (TenantId::generate(), UserId::generate());
        let s = sign(&key, &t, &u, "usage.report");
        assert!(verify(&key, &t, &u, "usage.report", &s));
        assert!(!verify(&key, &t, &u, "usage.other", &s));
        assert!(!verify(&key, &t, &UserId::generate(), "usage.report", &s));
        assert!(!verify(&key, &TenantId::generate(), &u, "usage.report", &s));
        assert!(!verify(&MasterKey::generate(), &t, &u, "usage.report", &s));
        assert!(!verify(&key, &t, &u, "usage.report", ""));
        let l = link(&key, "https://id.example", "acme", &t, &u, "a&b");
        assert!(l.starts_with("https://id.example/t/acme/notifications/unsubscribe?u="));
        assert!(l.contains("e=a%26b"));
    }
}
