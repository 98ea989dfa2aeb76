//! Second factors and MFA policies, as plain types: what a user has enrolled, what a tenant or
//! a role demands, and the assurance level a session has reached.

use super::clock::rfc3339_ms;
use super::{FactorId, NotificationId, UserId};
use serde::{Deserialize, Serialize};

/// What a tenant or a role demands of its users, weakest first (so `max` is the strictest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MfaPolicy {
    /// Users may enrol second factors; those who do must use one.
    #[default]
    Optional,
    /// Every sign-in needs a second factor (users without one enrol at their next sign-in).
    Required,
    /// Every sign-in needs a passkey or security key (phishing-resistant).
    PasskeyRequired,
}

impl MfaPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Optional => "optional",
            Self::Required => "required",
            Self::PasskeyRequired => "passkey_required",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "optional" => Some(Self::Optional),
            "required" => Some(Self::Required),
            "passkey_required" => Some(Self::PasskeyRequired),
            _ => None,
        }
    }
    /// The level a session must reach under this policy.
    pub fn level(self) -> Level {
        match self {
            Self::Optional => Level::Password,
            Self::Required => Level::Mfa,
            Self::PasskeyRequired => Level::PhishingResistant,
        }
    }
}

/// The user verification asked of security keys (WebAuthn `userVerification`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum UserVerification {
    /// A PIN or biometric on the key every time; keys that cannot are refused.
    Required,
    /// Asked for when the key can; presence alone is accepted otherwise.
    #[default]
    Preferred,
    /// Touch only: the password is the knowledge factor.
    Discouraged,
}

impl UserVerification {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Preferred => "preferred",
            Self::Discouraged => "discouraged",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "required" => Some(Self::Required),
            "preferred" => Some(Self::Preferred),
            "discouraged" => Some(Self::Discouraged),
            _ => None,
        }
    }
}

/// A tenant's MFA settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Default)]
pub struct MfaSettings {
    pub policy: MfaPolicy,
    /// Whether a user with a passkey may remove their password and sign in with the passkey only.
    pub passkey_only_allowed: bool,
    pub security_key_user_verification: UserVerification,
}

/// The assurance a session has reached, weakest first; each has its `acr` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Something the user knows (a password).
    Password,
    /// Two factors: a password and a one-time code, or a user-verifying passkey.
    Mfa,
    /// A passkey or security key: bound to this site, so a phishing page cannot replay it.
    PhishingResistant,
}

/// `acr` of a password sign-in.
pub const ACR_PASSWORD: &str = "urn:castellan:acr:password";
/// `acr` of a sign-in with two factors.
pub const ACR_MFA: &str = "urn:castellan:acr:mfa";
/// `acr` of a sign-in with a passkey or security key.
pub const ACR_PHISHING_RESISTANT: &str = "urn:castellan:acr:phr";

impl Level {
    /// The short name used in page links.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Mfa => "mfa",
            Self::PhishingResistant => "phr",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "password" => Some(Self::Password),
            "mfa" => Some(Self::Mfa),
            "phr" => Some(Self::PhishingResistant),
            _ => None,
        }
    }

    pub fn acr(self) -> &'static str {
        match self {
            Self::Password => ACR_PASSWORD,
            Self::Mfa => ACR_MFA,
            Self::PhishingResistant => ACR_PHISHING_RESISTANT,
        }
    }

    /// The level an `acr_values` entry asks for: ours, and the common names for the same things
    /// (OpenID EAP `phr`/`phrh`, PAPE multi-factor, `mfa`); `None` for a value we do not know.
    pub fn from_acr(acr: &str) -> Option<Self> {
        match acr {
            ACR_PASSWORD | "pwd" | "0" | "1" => Some(Self::Password),
            ACR_MFA
            | "mfa"
            | "2"
            | "http://schemas.openid.net/pape/policies/2007/06/multi-factor" => Some(Self::Mfa),
            ACR_PHISHING_RESISTANT
            | "phr"
            | "phrh"
            | "3"
            | "http://schemas.openid.net/pape/policies/2007/06/phishing-resistant" => {
                Some(Self::PhishingResistant)
            }
            _ => None,
        }
    }

    /// The level that authentication methods (RFC 8176 `amr`) prove.
    pub fn of_amr<S: AsRef<str>>(amr: &[S]) -> Self {
        let has = |m: &str| amr.iter().any(|a| a.as_ref() == m);
        if has("hwk") || has("swk") {
            if has("mfa") {
                return Self::PhishingResistant;
            }
            return Self::Mfa;
        }
        if has("mfa") {
            return Self::Mfa;
        }
        Self::Password
    }
}

/// The `acr_values` of `supported` order, for discovery.
pub const ACR_VALUES_SUPPORTED: [&str; 3] = [ACR_PASSWORD, ACR_MFA, ACR_PHISHING_RESISTANT];

/// The lowest level among the known `acr_values` (any of them satisfies the request); `None`
/// when none is known (the request then asks for nothing in particular).
pub fn requested_level(acr_values: &[String]) -> Option<Level> {
    acr_values.iter().filter_map(|a| Level::from_acr(a)).min()
}

/// Adds `methods` to `amr` (each once) and `mfa` when two kinds of factor are now in it.
pub fn merge_amr(amr: &[String], methods: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = amr.iter().filter(|m| *m != "mfa").cloned().collect();
    for m in methods {
        if !out.iter().any(|x| x == m) {
            out.push((*m).to_owned());
        }
    }
    let factors = out
        .iter()
        .filter(|m| matches!(m.as_str(), "pwd" | "otp" | "hwk" | "swk" | "user" | "pin"))
        .count();
    if factors >= 2 || methods.contains(&"mfa") || amr.iter().any(|m| m == "mfa") {
        out.push("mfa".into());
    }
    out
}

/// The kind of a WebAuthn credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// Discoverable and user-verifying: signs in without a username or password.
    Passkey,
    /// A second factor after the password.
    SecurityKey,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passkey => "passkey",
            Self::SecurityKey => "security_key",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "passkey" => Some(Self::Passkey),
            "security_key" => Some(Self::SecurityKey),
            _ => None,
        }
    }
}

/// A registered WebAuthn credential. `credential` is webauthn-rs's JSON of it: a public key and
/// a counter, nothing secret.
#[derive(Clone, Debug)]
pub struct WebauthnCredential {
    pub id: FactorId,
    pub user_id: UserId,
    pub kind: CredentialKind,
    pub name: String,
    /// base64url, unique within the tenant.
    pub credential_id: String,
    pub credential: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A user's authenticator app. `secret` is base32; it never leaves the server after enrolment.
#[derive(Clone, Debug)]
pub struct TotpFactor {
    pub id: FactorId,
    pub user_id: UserId,
    pub secret: String,
    pub confirmed_at: Option<i64>,
    /// The last 30-second step accepted.
    pub last_step: i64,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// Everything a user has enrolled.
#[derive(Clone, Debug, Default)]
pub struct Factors {
    pub webauthn: Vec<WebauthnCredential>,
    /// Confirmed or still waiting for its first code.
    pub totp: Option<TotpFactor>,
    pub recovery_codes_left: i64,
    pub has_password: bool,
}

impl Factors {
    /// The confirmed authenticator app, if any.
    pub fn confirmed_totp(&self) -> Option<&TotpFactor> {
        self.totp.as_ref().filter(|t| t.confirmed_at.is_some())
    }
    pub fn passkeys(&self) -> impl Iterator<Item = &WebauthnCredential> {
        self.webauthn
            .iter()
            .filter(|c| c.kind == CredentialKind::Passkey)
    }
    pub fn security_keys(&self) -> impl Iterator<Item = &WebauthnCredential> {
        self.webauthn
            .iter()
            .filter(|c| c.kind == CredentialKind::SecurityKey)
    }
    /// Whether the user has any second factor (so a password alone no longer signs them in).
    pub fn any(&self) -> bool {
        !self.webauthn.is_empty() || self.confirmed_totp().is_some()
    }
    /// The strongest level the user's factors can reach.
    pub fn best_level(&self) -> Level {
        if !self.webauthn.is_empty() {
            Level::PhishingResistant
        } else if self.confirmed_totp().is_some() {
            Level::Mfa
        } else {
            Level::Password
        }
    }
    /// What the admin API and the user's own page show: no secret, no key material.
    pub fn summary(&self) -> Vec<FactorSummary> {
        let mut out: Vec<FactorSummary> = self
            .webauthn
            .iter()
            .map(|c| FactorSummary {
                id: c.id.clone(),
                kind: c.kind.as_str(),
                name: c.name.clone(),
                created_at: c.created_at,
                last_used_at: c.last_used_at,
            })
            .collect();
        if let Some(t) = self.confirmed_totp() {
            out.push(FactorSummary {
                id: t.id.clone(),
                kind: "totp",
                name: "Authenticator app".into(),
                created_at: t.created_at,
                last_used_at: t.last_used_at,
            });
        }
        out
    }
}

/// One enrolled factor as people and administrators see it.
#[derive(Clone, Debug, Serialize)]
pub struct FactorSummary {
    pub id: FactorId,
    /// `passkey`, `security_key` or `totp`.
    pub kind: &'static str,
    pub name: String,
    #[serde(with = "rfc3339_ms")]
    pub created_at: i64,
    #[serde(with = "rfc3339_ms::option")]
    pub last_used_at: Option<i64>,
}

/// A notification raised for a user (the outbox the delivery channels read).
#[derive(Clone, Debug, Serialize)]
pub struct Notification {
    pub id: NotificationId,
    pub event_type: String,
    pub channels: Vec<String>,
    pub message: String,
    pub details: serde_json::Value,
    #[serde(with = "rfc3339_ms")]
    pub created_at: i64,
}

/// A WebAuthn ceremony in progress: the state webauthn-rs needs back, bound to the session
/// that started it (none for a passkey sign-in), until `expires_at`.
#[derive(Clone, Debug)]
pub struct Ceremony {
    pub session_id: Option<String>,
    pub purpose: String,
    pub state: String,
    pub expires_at: i64,
}

/// How many wrong one-time codes a user may type in [`FAILURE_WINDOW_MS`].
pub const MAX_FAILURES: i64 = 5;
/// The window of [`MAX_FAILURES`], in milliseconds.
pub const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// How many recovery codes a user gets.
pub const RECOVERY_CODES: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_from_amr() {
        assert_eq!(Level::of_amr(&["pwd"]), Level::Password);
        assert_eq!(Level::of_amr(&["pwd", "otp", "mfa"]), Level::Mfa);
        assert_eq!(
            Level::of_amr(&["hwk", "user", "mfa"]),
            Level::PhishingResistant
        );
        assert_eq!(Level::of_amr(&["pwd", "hwk"]), Level::Mfa);
    }

    #[test]
    fn merging_methods_adds_mfa_once() {
        let amr = merge_amr(&["pwd".into()], &["otp"]);
        assert_eq!(amr, ["pwd", "otp", "mfa"]);
        let again = merge_amr(&amr, &["otp"]);
        assert_eq!(again, ["pwd", "otp", "mfa"]);
        assert_eq!(merge_amr(&[], &["pwd"]), ["pwd"]);
    }

    #[test]
    fn acr_values_ask_for_the_weakest_known_level() {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(requested_level(&v(&["phr", ACR_MFA])), Some(Level::Mfa));
        assert_eq!(requested_level(&v(&["urn:other"])), None);
        assert_eq!(
            requested_level(&v(&["urn:other", "phrh"])),
            Some(Level::PhishingResistant)
        );
    }

    #[test]
    fn policies_order_by_strictness() {
        assert!(MfaPolicy::PasskeyRequired > MfaPolicy::Required);
        assert_eq!(
            [MfaPolicy::Optional, MfaPolicy::Required].iter().max(),
            Some(&MfaPolicy::Required)
        );
        assert_eq!(MfaPolicy::parse("required"), Some(MfaPolicy::Required));
    }
}
