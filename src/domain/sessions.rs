//! Browser sessions and authorization codes, as plain types.

use super::oidc::KeyAlg;
use super::{ClientId, UserId};

/// How long a browser session lasts without signing in again, in milliseconds.
pub const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;
/// How long an authorization code may wait for its exchange, in milliseconds.
pub const CODE_TTL_MS: i64 = 60 * 1000;

/// A signed-in browser. `id` is the SHA-256 (hex) of the secret in the cookie.
#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub user_id: UserId,
    /// When the user proved who they are (Unix milliseconds).
    pub auth_time: i64,
    /// Authentication methods (RFC 8176), e.g. `pwd`.
    pub amr: Vec<String>,
    pub acr: Option<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub ended_at: Option<i64>,
}

impl Session {
    /// Whether the session still counts at `now_ms`.
    pub fn live(&self, now_ms: i64) -> bool {
        self.ended_at.is_none() && self.expires_at > now_ms
    }
}

/// An authorization code's grant. `code_hash` is the SHA-256 (hex) of the code.
#[derive(Clone, Debug)]
pub struct AuthCode {
    pub code_hash: String,
    pub client_id: ClientId,
    pub user_id: UserId,
    pub session_id: String,
    pub redirect_uri: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    pub nonce: Option<String>,
    /// The PKCE S256 challenge.
    pub code_challenge: String,
    pub auth_time: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub used: bool,
}

/// The longest an offline grant (scope `offline_access`) lives, in milliseconds. A grant without
/// it ends with its session.
pub const OFFLINE_GRANT_TTL_MS: i64 = 365 * 24 * 3600 * 1000;

/// What one authorization code gave one client for one user: the chain of refresh tokens
/// rotated from it belongs to it, and revoking it ends them all.
#[derive(Clone, Debug)]
pub struct Grant {
    pub id: String,
    pub client_id: ClientId,
    pub user_id: UserId,
    /// The session it came from; `None` once that session row is gone.
    pub session_id: Option<String>,
    /// `offline_access`: the grant outlives its session (not its user's deactivation).
    pub offline: bool,
    /// Granted scopes, space-separated.
    pub scope: String,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub acr: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

impl Grant {
    /// Whether the grant still counts at `now_ms` (its session is checked by the caller).
    pub fn live(&self, now_ms: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > now_ms
    }
}

/// One refresh token of a grant. `token_hash` is the SHA-256 (hex) of the token.
#[derive(Clone, Debug)]
pub struct RefreshToken {
    pub token_hash: String,
    pub grant_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// Set when it was exchanged; presenting it again is reuse.
    pub used_at: Option<i64>,
}

/// An app to tell, over the back channel, that a session it signed in to has ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogoutTarget {
    /// The ended session (the `sid` of the ID tokens issued in it).
    pub session_id: String,
    pub user_id: UserId,
    /// The `client_id` the app presents (the logout token's `aud`).
    pub client_id: String,
    /// Its `backchannel_logout_uri`.
    pub uri: String,
    /// The algorithm the app's ID tokens are signed with; logout tokens use it too.
    pub alg: KeyAlg,
}
