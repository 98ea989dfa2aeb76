//! Brute-force defence: how many wrong secrets a subject (an account, an unknown email, a client
//! address, a user's second factor) may send before it must wait, and for how long. In the
//! spirit of Keycloak's brute-force detection: after `failure_factor` consecutive failures each
//! further failure locks the subject for one more `wait_increment`, up to `max_wait`; failures
//! are forgotten `failure_reset` after the last one; and, as NIST SP 800-63B §5.2.2 asks, after
//! `max_failures` consecutive failures the lock lasts until an administrator clears it.
//!
//! Every attempt is counted (one atomic upsert in the store) *before* the secret is judged, so N
//! parallel attempts cannot all be judged: exactly `failure_factor` are before the lock.

use serde::Serialize;
use std::net::IpAddr;

/// `locked_until` of a lock only an administrator (or a correct secret, never judged while
/// locked) clears.
pub const PERMANENT: i64 = i64::MAX;

/// The limits for one kind of subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Consecutive failures allowed before the first wait (at least 1).
    pub failure_factor: i64,
    /// Each failure from `failure_factor` on adds this much wait (ms).
    pub wait_increment_ms: i64,
    /// The longest temporary wait (ms).
    pub max_wait_ms: i64,
    /// Failures older than this (counted from the last one) are forgotten (ms).
    pub failure_reset_ms: i64,
    /// After this many consecutive failures the lock is permanent (0: never).
    pub max_failures: i64,
}

impl Policy {
    /// When a subject with `failures` consecutive failures, the last at `now`, may try again
    /// (`None`: at once). Mirrors the SQL of the store's upsert; kept for the first failure
    /// (the insert) and for tests.
    pub fn locked_until(&self, failures: i64, now: i64) -> Option<i64> {
        if self.max_failures > 0 && failures >= self.max_failures {
            return Some(PERMANENT);
        }
        if failures < self.failure_factor {
            return None;
        }
        let steps = failures - self.failure_factor + 1;
        let wait = self
            .wait_increment_ms
            .saturating_mul(steps)
            .min(self.max_wait_ms);
        Some(now.saturating_add(wait))
    }
}

/// What the store answered to one counted attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// Whether the secret may be judged: the subject was not locked when the attempt came.
    pub allowed: bool,
    /// Consecutive failures counted so far, this attempt included when allowed.
    pub failures: i64,
    /// Until when the subject is locked now (this attempt may have set it).
    pub locked_until: Option<i64>,
}

impl Attempt {
    /// Whether this attempt is the one that locked the subject (worth an audit entry).
    pub fn locked_now(&self, now: i64) -> bool {
        self.allowed && self.locked_until.is_some_and(|u| u > now)
    }
}

/// A subject's stored state, as administrators see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LockState {
    /// Consecutive failures counted (forgotten after the reset time).
    pub failures: i64,
    #[serde(with = "super::clock::rfc3339_ms::option")]
    pub last_failure_at: Option<i64>,
    /// Whether sign-in is refused now.
    pub locked: bool,
    /// Whether the lock lasts until an administrator clears it.
    pub permanent: bool,
    /// When a temporary lock ends.
    #[serde(with = "super::clock::rfc3339_ms::option")]
    pub locked_until: Option<i64>,
}

impl LockState {
    /// The state of a subject with `failures`, `last_failure_at` and `locked_until` at `now`.
    pub fn at(
        failures: i64,
        last_failure_at: Option<i64>,
        locked_until: Option<i64>,
        now: i64,
    ) -> Self {
        let locked = locked_until.is_some_and(|u| u > now);
        let permanent = locked_until == Some(PERMANENT);
        Self {
            failures,
            last_failure_at,
            locked,
            permanent,
            locked_until: locked_until.filter(|u| locked && !permanent && *u > now),
        }
    }

    /// No failure recorded.
    pub fn clear() -> Self {
        Self::at(0, None, None, 0)
    }
}

/// Where a request came from, as the audit log records it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Client {
    /// The client's address (see `limits::client_address` for proxies).
    pub ip: Option<IpAddr>,
    /// The `User-Agent` header, printable characters only, at most [`MAX_USER_AGENT`].
    pub user_agent: Option<String>,
}

/// The longest user agent kept (characters).
pub const MAX_USER_AGENT: usize = 256;

impl Client {
    /// The address as text (the audit log's `ip`).
    pub fn ip_text(&self) -> Option<String> {
        self.ip.map(|ip| ip.to_string())
    }

    /// A user agent header made safe to store: control characters dropped, length bounded.
    pub fn clean_user_agent(raw: &str) -> Option<String> {
        let ua: String = raw
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_USER_AGENT)
            .collect();
        Some(ua).filter(|u| !u.trim().is_empty())
    }
}

/// The subject counting a known account's password failures.
pub fn account(user_id: &str) -> String {
    format!("user:{user_id}")
}

/// The subject counting failures for an email that names no account: throttled like an account,
/// so a lock does not tell which emails exist.
pub fn unknown_email(email: &str) -> String {
    format!("email:{}", email.trim().to_lowercase())
}

/// The subject counting one client address's failures: IPv4 by address, IPv6 by /64 (one
/// customer's network).
pub fn address(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("ip:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("ip:{v4}"),
            None => {
                let s = v6.segments();
                format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The subject counting the wrong passwords typed on one trusted device of a user (its cookie's
/// nonce).
pub fn device(user_id: &str, nonce: &str) -> String {
    format!("device:{user_id}:{nonce}")
}

/// The subject counting a user's wrong one-time and recovery codes.
pub fn second_factor(user_id: &str) -> String {
    format!("mfa:{user_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = Policy {
        failure_factor: 5,
        wait_increment_ms: 60_000,
        max_wait_ms: 900_000,
        failure_reset_ms: 43_200_000,
        max_failures: 100,
    };

    #[test]
    fn waits_grow_from_the_factor_up_to_the_max_then_lock_for_good() {
        assert_eq!(P.locked_until(1, 0), None);
        assert_eq!(P.locked_until(4, 0), None);
        assert_eq!(P.locked_until(5, 10), Some(60_010));
        assert_eq!(P.locked_until(6, 0), Some(120_000));
        assert_eq!(P.locked_until(19, 0), Some(900_000));
        assert_eq!(P.locked_until(99, 0), Some(900_000));
        assert_eq!(P.locked_until(100, 0), Some(PERMANENT));
        let no_cap = Policy {
            max_failures: 0,
            ..P
        };
        assert_eq!(no_cap.locked_until(1000, 0), Some(900_000));
    }

    #[test]
    fn subjects() {
        assert_eq!(unknown_email(" Ada@Example.COM "), "email:ada@example.com");
        assert_eq!(address("192.0.2.7".parse().unwrap()), "ip:192.0.2.7");
        assert_eq!(
            address("2001:db8:1:2:3:4:5:6".parse().unwrap()),
            address("2001:db8:1:2:ffff::1".parse().unwrap()),
            "one /64"
        );
        assert_eq!(address("::ffff:192.0.2.7".parse().unwrap()), "ip:192.0.2.7");
    }

    #[test]
    fn lock_state_reads_the_clock() {
        let s = LockState::at(6, Some(5), Some(100), 50);
        assert!(s.locked && !s.permanent);
        assert_eq!(s.locked_until, Some(100));
        let s = LockState::at(6, Some(5), Some(100), 100);
        assert!(!s.locked);
        assert_eq!(s.locked_until, None);
        assert!(LockState::at(100, Some(5), Some(PERMANENT), 0).permanent);
    }
}
