//! Browser sessions and authorization codes, as plain types.

use super::oidc::KeyAlg;
use super::{ClientId, UserId};

/// How long an authorization code may wait for its exchange, in milliseconds.
pub const CODE_TTL_MS: i64 = 60 * 1000;

/// A signed-in browser. `id` names it for good (the `sid` of its ID tokens); `secret_hash` is the
/// SHA-256 (hex) of the secret in its cookie, which changes at every change of level.
#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub secret_hash: String,
    pub user_id: UserId,
    /// When the user proved who they are (Unix milliseconds).
    pub auth_time: i64,
    /// Authentication methods (RFC 8176), e.g. `pwd`.
    pub amr: Vec<String>,
    pub acr: Option<String>,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// The end of its absolute lifetime, as set at sign-in.
    pub expires_at: i64,
    pub ended_at: Option<i64>,
    /// Signed in with "remember me": the tenant's longer lifetimes apply.
    pub remember: bool,
}

impl Session {
    /// Whether the session still counts at `now_ms` for what it signed in to (tokens): not
    /// ended, within the absolute lifetime set at sign-in.
    pub fn live(&self, now_ms: i64) -> bool {
        self.ended_at.is_none() && self.expires_at > now_ms
    }

    /// Whether a browser may still use the session at `now_ms` under the tenant's current
    /// `settings`: [`Session::live`], not idle for longer than the idle timeout, and younger than
    /// the maximum lifetime (a shortened maximum applies to existing sessions too).
    pub fn usable(&self, now_ms: i64, settings: &SessionSettings) -> bool {
        let (idle, max) = settings.lifetimes(self.remember);
        self.live(now_ms)
            && now_ms < self.last_seen_at.saturating_add(idle.saturating_mul(1000))
            && now_ms < self.created_at.saturating_add(max.saturating_mul(1000))
    }
}

/// A tenant's session lifetimes, in seconds (Keycloak's defaults: 30 minutes idle, 10 hours at
/// most). "Remember me" is off unless the tenant turns it on; a remembered session keeps its
/// cookie across browser restarts and gets the longer lifetimes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SessionSettings {
    pub idle_timeout_secs: i64,
    pub max_lifetime_secs: i64,
    pub remember_me: bool,
    pub remember_me_idle_timeout_secs: i64,
    pub remember_me_max_lifetime_secs: i64,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            idle_timeout_secs: 30 * 60,
            max_lifetime_secs: 10 * 3600,
            remember_me: false,
            remember_me_idle_timeout_secs: 7 * 24 * 3600,
            remember_me_max_lifetime_secs: 30 * 24 * 3600,
        }
    }
}

/// The shortest timeout or lifetime accepted, in seconds.
pub const MIN_SESSION_SECS: i64 = 60;
/// The longest lifetime accepted, in seconds (a year).
pub const MAX_SESSION_SECS: i64 = 365 * 24 * 3600;

impl SessionSettings {
    /// (idle timeout, maximum lifetime) in seconds for a session, remembered or not.
    pub fn lifetimes(&self, remember: bool) -> (i64, i64) {
        if remember && self.remember_me {
            (
                self.remember_me_idle_timeout_secs,
                self.remember_me_max_lifetime_secs,
            )
        } else {
            (self.idle_timeout_secs, self.max_lifetime_secs)
        }
    }

    /// The first rule the settings break: each value between a minute and a year, and no idle
    /// timeout longer than its lifetime.
    pub fn problem(&self) -> Option<String> {
        for (name, v) in [
            ("idle_timeout_secs", self.idle_timeout_secs),
            ("max_lifetime_secs", self.max_lifetime_secs),
            (
                "remember_me_idle_timeout_secs",
                self.remember_me_idle_timeout_secs,
            ),
            (
                "remember_me_max_lifetime_secs",
                self.remember_me_max_lifetime_secs,
            ),
        ] {
            if !(MIN_SESSION_SECS..=MAX_SESSION_SECS).contains(&v) {
                return Some(format!(
                    "{name} must be between {MIN_SESSION_SECS} and {MAX_SESSION_SECS} seconds"
                ));
            }
        }
        if self.idle_timeout_secs > self.max_lifetime_secs {
            return Some("idle_timeout_secs must not exceed max_lifetime_secs".into());
        }
        if self.remember_me_idle_timeout_secs > self.remember_me_max_lifetime_secs {
            return Some(
                "remember_me_idle_timeout_secs must not exceed remember_me_max_lifetime_secs"
                    .into(),
            );
        }
        None
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

/// What an access token of a user stands on, as one read finds it.
#[derive(Clone, Debug)]
pub struct AccessTokenState {
    /// Its `jti` was revoked.
    pub revoked: bool,
    /// The session it names, whatever its state.
    pub session: Option<Session>,
    /// The grant it names, whatever its state.
    pub grant: Option<Grant>,
    /// Its user, whatever their state, when asked for and there.
    pub user: Option<super::User>,
    /// What its user holds today, when asked for.
    pub held: Option<super::permissions::Holdings>,
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

/// A session as its person's list shows it: where it was started from too.
#[derive(Clone, Debug)]
pub struct ListedSession {
    pub session: Session,
    /// The client address of the sign-in.
    pub ip: Option<String>,
    /// The browser's `User-Agent` at sign-in.
    pub user_agent: Option<String>,
}

/// The longest `User-Agent` kept for a session (characters).
pub const MAX_USER_AGENT: usize = 400;

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

/// An authorization code as its exchange took it, with what the exchange decides on when this
/// was its first use: the code's session and user (each when its row is still there) and what
/// the user holds. A replay (`code.used`) carries the code alone.
#[derive(Clone, Debug)]
pub struct Redemption {
    pub code: AuthCode,
    pub session: Option<Session>,
    pub user: Option<super::User>,
    pub held: Option<super::permissions::Holdings>,
}

impl Redemption {
    /// A code presented again: nothing else is read.
    pub fn replay(code: AuthCode) -> Self {
        Redemption {
            code,
            session: None,
            user: None,
            held: None,
        }
    }
}

/// The refresh token a refresh puts in place of the one it uses: its hash, when it is made
/// (which is also when the old one counts as used) and when it expires at the latest (the
/// grant's expiry caps it).
#[derive(Clone, Debug)]
pub struct Rotation {
    pub token_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Everything a refresh decides on, read together: the token, its grant, the grant's session
/// (when it has one and the row is still there) with the tenant's session lifetimes, the
/// grant's user (when the row is still there) and, when asked for, what the user holds.
#[derive(Clone, Debug)]
pub struct RefreshContext {
    pub token: RefreshToken,
    pub grant: Grant,
    pub session: Option<(Session, SessionSettings)>,
    pub user: Option<super::User>,
    pub held: Option<super::permissions::Holdings>,
}
