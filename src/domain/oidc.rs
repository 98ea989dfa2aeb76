//! OpenID Connect's stored things: signing keys and clients (apps), as plain types.

use super::clock::rfc3339_ms;
use super::ids::ClientId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A JWS signature algorithm Castellan signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyAlg {
    ES256,
    RS256,
    EdDSA,
}

impl KeyAlg {
    pub const ALL: [KeyAlg; 3] = [KeyAlg::ES256, KeyAlg::RS256, KeyAlg::EdDSA];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ES256 => "ES256",
            Self::RS256 => "RS256",
            Self::EdDSA => "EdDSA",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Where a signing key is in its life: published before it signs, signing, then published
/// only until the tokens it signed have expired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    Next,
    Active,
    Retired,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Next => "next",
            Self::Active => "active",
            Self::Retired => "retired",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Next, Self::Active, Self::Retired]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// Private key material (base64 PKCS#8): never shown in `Debug` or serialized.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateKey(pub String);

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey(***)")
    }
}

/// One signing key of a tenant. Serializes to its public information only.
#[derive(Clone, Debug, Serialize)]
pub struct SigningKey {
    pub kid: String,
    pub alg: KeyAlg,
    #[serde(skip)]
    pub private_pkcs8: PrivateKey,
    /// The public key as a JWK (with `kid`, `alg` and `use`).
    pub public_jwk: serde_json::Value,
    pub state: KeyState,
    #[serde(with = "rfc3339_ms")]
    pub created_at: i64,
    #[serde(with = "rfc3339_ms::option")]
    pub activated_at: Option<i64>,
    #[serde(with = "rfc3339_ms::option")]
    pub retired_at: Option<i64>,
    /// A retired key leaves the JWKS after this instant.
    #[serde(with = "rfc3339_ms::option")]
    pub publish_until: Option<i64>,
}

impl SigningKey {
    /// Whether the JWKS shows this key at `now`.
    pub fn published(&self, now_ms: i64) -> bool {
        match self.state {
            KeyState::Next | KeyState::Active => true,
            KeyState::Retired => self.publish_until.is_some_and(|t| t > now_ms),
        }
    }
}

/// Confidential clients authenticate at the token endpoint; public ones cannot keep a secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    Confidential,
    Public,
}

impl ClientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confidential => "confidential",
            Self::Public => "public",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Confidential, Self::Public]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// How a client authenticates at the token endpoint (OpenID Connect Core §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    None,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 4] = [
        Self::ClientSecretBasic,
        Self::ClientSecretPost,
        Self::PrivateKeyJwt,
        Self::None,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::None => "none",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// An OAuth grant type Castellan knows. Anything else is `unsupported_grant_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    pub const ALL: [GrantType; 3] = [
        Self::AuthorizationCode,
        Self::RefreshToken,
        Self::ClientCredentials,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// The scopes a client may be allowed: OpenID Connect's standard ones.
pub const KNOWN_SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "phone",
    "offline_access",
    "roles",
];

/// A registered app.
#[derive(Clone, Debug, Serialize)]
pub struct Client {
    pub id: ClientId,
    /// The public identifier the app presents (unique in the tenant).
    pub client_id: String,
    pub name: String,
    pub kind: ClientKind,
    pub token_endpoint_auth_method: AuthMethod,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Vec<String>,
    /// Permission namespaces (`billing` for `billing:read`) whose permissions the app may see.
    pub permission_namespaces: Vec<String>,
    /// First-party apps skip the consent page.
    pub first_party: bool,
    pub id_token_signed_response_alg: KeyAlg,
    /// Lifetime of its access tokens, in seconds.
    pub access_token_ttl: i64,
    /// How long a refresh token may wait for its use, in seconds.
    pub refresh_token_ttl: i64,
    /// The most bytes of JSON a token's claims may take; past it `permissions` moves to userinfo.
    pub token_claims_budget: i64,
    /// Public keys for `private_key_jwt`.
    pub jwks: Option<serde_json::Value>,
    /// Where the app receives logout tokens (OpenID Connect Back-Channel Logout 1.0).
    pub backchannel_logout_uri: Option<String>,
    /// Whether the app needs `sid` in logout tokens (always sent by Castellan).
    pub backchannel_logout_session_required: bool,
    /// SHA-256 (hex) of the secret: never serialized.
    #[serde(skip)]
    pub secret_hash: Option<String>,
    /// Ids of the service roles the client holds (client_credentials).
    pub role_ids: Vec<String>,
    #[serde(with = "rfc3339_ms")]
    pub created_at: i64,
    #[serde(with = "rfc3339_ms")]
    pub updated_at: i64,
}

impl Client {
    pub fn allows(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }
}

/// A validated client, ready to store (new, or the full new state of an existing one).
#[derive(Clone, Debug)]
pub struct ClientSettings {
    pub name: String,
    pub kind: ClientKind,
    pub token_endpoint_auth_method: AuthMethod,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Vec<String>,
    pub permission_namespaces: Vec<String>,
    pub first_party: bool,
    pub id_token_signed_response_alg: KeyAlg,
    pub access_token_ttl: i64,
    pub refresh_token_ttl: i64,
    pub token_claims_budget: i64,
    pub jwks: Option<serde_json::Value>,
    pub backchannel_logout_uri: Option<String>,
    pub backchannel_logout_session_required: bool,
}

/// What a client holds through its service roles: role names and permission names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceGrants {
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
}

/// Whether `permission` (`namespace:rest`) falls in one of `namespaces`.
pub fn in_namespaces(permission: &str, namespaces: &[String]) -> bool {
    permission
        .split_once(':')
        .is_some_and(|(ns, _)| namespaces.iter().any(|n| n == ns))
}
