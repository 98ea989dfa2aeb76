//! Consent (OpenID Connect Core §3.1.2.4): what a user allowed a third-party client.

use super::clock::rfc3339_ms;
use super::ids::ClientId;
use serde::Serialize;

/// A user's standing consent to one client.
#[derive(Clone, Debug, Serialize)]
pub struct Consent {
    /// The client's internal id.
    pub client: ClientId,
    /// The public identifier the client presents.
    pub client_id: String,
    pub client_name: String,
    /// Every scope consented so far.
    pub scopes: Vec<String>,
    #[serde(with = "rfc3339_ms")]
    pub created_at: i64,
    #[serde(with = "rfc3339_ms")]
    pub updated_at: i64,
}

/// The requested scopes not yet consented, in request order.
pub fn missing(consented: &[String], requested: &[String]) -> Vec<String> {
    requested
        .iter()
        .filter(|s| !consented.contains(s))
        .cloned()
        .collect()
}

/// The union of what was consented and what is consented now, in a stable order.
pub fn union(consented: &[String], more: &[String]) -> Vec<String> {
    let mut all = consented.to_vec();
    all.extend(missing(consented, more));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn missing_and_union() {
        let had = v(&["openid", "email"]);
        assert_eq!(missing(&had, &v(&["openid", "profile"])), v(&["profile"]));
        assert!(missing(&had, &v(&["email"])).is_empty());
        assert_eq!(
            union(&had, &v(&["profile", "openid"])),
            v(&["openid", "email", "profile"])
        );
    }
}
