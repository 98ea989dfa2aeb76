//! The settings of the brute-force defence (`[sign_in]` in the configuration) and of how the
//! client address is found behind reverse proxies (`trusted_proxies`). `config/castellan.toml`
//! documents every key.

use crate::domain::mfa::{FAILURE_WINDOW_MS, MAX_FAILURES};
use crate::domain::throttle::Policy;
use serde::Deserialize;
use std::net::IpAddr;

/// Limits on failed password sign-ins (Keycloak's brute-force detection, NIST SP 800-63B
/// §5.2.2) and on the password-hashing queue.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SignInLimits {
    /// Consecutive wrong passwords for one account before it must wait.
    pub failure_factor: u32,
    /// Each further failure adds this many seconds of wait.
    pub wait_increment_secs: u64,
    /// The longest temporary wait, in seconds.
    pub max_wait_secs: u64,
    /// Failures are forgotten this many seconds after the last one.
    pub failure_reset_secs: u64,
    /// After this many consecutive failures an account stays locked until an administrator
    /// unlocks it (NIST: at most 100). 0 turns the permanent lock off.
    pub max_failures: u32,
    /// Lock for good as soon as `failure_factor` is reached (off: temporary waits).
    pub permanent_lockout: bool,
    /// Consecutive wrong passwords from one client address (IPv6: one /64), whatever the
    /// accounts, before that address must wait. Never permanent.
    pub address_failure_factor: u32,
    /// Sign-ins that may wait for or run password hashing at once; past it a sign-in is
    /// answered "try again shortly" (503 with `Retry-After`).
    pub hash_queue: u32,
    /// Places of the hashing queue, besides `hash_queue`, that only sign-ins from a trusted
    /// device (a valid device cookie naming the account) may take.
    pub trusted_hash_queue: u32,
    /// How long a device cookie, set at every successful sign-in, makes that browser a trusted
    /// device for the account (days). 0: no device cookies.
    pub device_cookie_days: u64,
}

impl Default for SignInLimits {
    fn default() -> Self {
        Self {
            failure_factor: 5,
            wait_increment_secs: 60,
            max_wait_secs: 900,
            failure_reset_secs: 12 * 3600,
            max_failures: 100,
            permanent_lockout: false,
            address_failure_factor: 50,
            hash_queue: 32,
            trusted_hash_queue: 8,
            device_cookie_days: 365,
        }
    }
}

impl SignInLimits {
    /// Refuses settings that would switch the defence off by accident.
    pub fn validate(&self) -> Result<(), String> {
        let checks = [
            (
                self.failure_factor >= 1,
                "sign_in.failure_factor must be at least 1",
            ),
            (
                self.address_failure_factor >= 1,
                "sign_in.address_failure_factor must be at least 1",
            ),
            (
                self.hash_queue >= 1,
                "sign_in.hash_queue must be at least 1",
            ),
            (
                self.max_wait_secs >= self.wait_increment_secs,
                "sign_in.max_wait_secs must be at least sign_in.wait_increment_secs",
            ),
            (
                self.failure_reset_secs >= 1,
                "sign_in.failure_reset_secs must be at least 1",
            ),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, message)) => Err((*message).to_owned()),
            None => Ok(()),
        }
    }

    /// The limits of one account's password (also of an unknown email).
    pub fn account(&self) -> Policy {
        let factor = i64::from(self.failure_factor);
        Policy {
            failure_factor: factor,
            wait_increment_ms: secs_ms(self.wait_increment_secs),
            max_wait_ms: secs_ms(self.max_wait_secs),
            failure_reset_ms: secs_ms(self.failure_reset_secs),
            max_failures: if self.permanent_lockout {
                factor
            } else {
                i64::from(self.max_failures)
            },
        }
    }

    /// The limits of one trusted device's failures (the account's limits, NIST cap included, on
    /// a counter of the device's own).
    pub fn device(&self) -> Policy {
        self.account()
    }

    /// How long a device cookie lives (seconds).
    pub fn device_cookie_secs(&self) -> i64 {
        secs_ms(self.device_cookie_days.saturating_mul(86_400)) / 1000
    }

    /// The limits of one client address.
    pub fn address(&self) -> Policy {
        Policy {
            failure_factor: i64::from(self.address_failure_factor),
            max_failures: 0,
            ..self.account()
        }
    }
}

/// The limits of one user's one-time and recovery codes: [`MAX_FAILURES`] wrong codes, then
/// a wait of [`FAILURE_WINDOW_MS`]; forgotten that long after the last.
pub fn second_factor() -> Policy {
    Policy {
        failure_factor: MAX_FAILURES,
        wait_increment_ms: FAILURE_WINDOW_MS,
        max_wait_ms: FAILURE_WINDOW_MS,
        failure_reset_ms: FAILURE_WINDOW_MS,
        max_failures: 0,
    }
}

fn secs_ms(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX / 4)
}

/// An address range in CIDR notation (`10.0.0.0/8`, `fd00::/8`, or one address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    len: u8,
}

impl Cidr {
    /// Parses `addr[/len]`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("trusted_proxies: `{s}` is not an address or CIDR range");
        let (addr, len) = match s.trim().split_once('/') {
            Some((a, l)) => (a, Some(l.parse::<u8>().map_err(|_| bad())?)),
            None => (s.trim(), None),
        };
        let net: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let len = len.unwrap_or(max);
        if len > max {
            return Err(bad());
        }
        Ok(Self { net, len })
    }

    /// Whether `ip` is in the range (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), self.len),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), self.len),
            _ => false,
        }
    }
}

/// `ip`, with an IPv4-mapped IPv6 address as the IPv4 address it is.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn prefix_eq(a: &[u8], b: &[u8], len: u8) -> bool {
    let (bytes, bits) = (usize::from(len / 8), len % 8);
    if a[..bytes] != b[..bytes] {
        return false;
    }
    bits == 0 || {
        let mask = 0xffu8 << (8 - bits);
        a[bytes] & mask == b[bytes] & mask
    }
}

/// The client's address: the socket peer's, unless the peer is a trusted proxy; then the
/// right-most address of `X-Forwarded-For` that is not a trusted proxy (the one the nearest
/// trusted proxy saw). Entries left of it could be forged by the client, so they are ignored;
/// an unreadable entry ends the walk at the last trusted hop.
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], trusted: &[Cidr]) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops = forwarded_for
        .iter()
        .rev()
        .flat_map(|h| h.rsplit(','))
        .map(str::trim);
    let mut client = peer;
    for hop in hops {
        let Ok(ip) = hop.parse::<IpAddr>().map(canonical) else {
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_ranges() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains(ip("10.200.3.4")));
        assert!(c.contains(ip("::ffff:10.1.1.1")));
        assert!(!c.contains(ip("11.0.0.1")));
        let c = Cidr::parse("192.168.4.0/22").unwrap();
        assert!(c.contains(ip("192.168.7.255")));
        assert!(!c.contains(ip("192.168.8.0")));
        assert!(Cidr::parse("fd00::/8").unwrap().contains(ip("fdab::1")));
        assert!(Cidr::parse("127.0.0.1").unwrap().contains(ip("127.0.0.1")));
        assert!(!Cidr::parse("127.0.0.1").unwrap().contains(ip("127.0.0.2")));
        for bad in ["10.0.0.0/33", "nope", "::/129", "1.2.3.4/x", ""] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        // An untrusted peer: its header is ignored.
        assert_eq!(
            client_address(ip("203.0.113.9"), &["198.51.100.1"], &trusted),
            ip("203.0.113.9")
        );
        // A trusted proxy: the right-most untrusted address, not the client-forged left part.
        assert_eq!(
            client_address(
                ip("10.0.0.2"),
                &["6.6.6.6, 198.51.100.1, 10.0.0.3"],
                &trusted
            ),
            ip("198.51.100.1")
        );
        // Several headers read as one list, in order.
        assert_eq!(
            client_address(ip("10.0.0.2"), &["6.6.6.6", "198.51.100.7"], &trusted),
            ip("198.51.100.7")
        );
        // No header, or garbage: the proxy itself (never a forged value).
        assert_eq!(
            client_address(ip("10.0.0.2"), &[], &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), &["6.6.6.6, junk"], &trusted),
            ip("10.0.0.2")
        );
        // Nothing trusted (the default): the peer.
        assert_eq!(
            client_address(ip("10.0.0.2"), &["6.6.6.6"], &[]),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn settings_are_checked() {
        assert!(SignInLimits::default().validate().is_ok());
        let zero = SignInLimits {
            failure_factor: 0,
            ..SignInLimits::default()
        };
        assert!(zero.validate().is_err());
        let p = SignInLimits {
            permanent_lockout: true,
            ..SignInLimits::default()
        }
        .account();
        assert_eq!(p.max_failures, p.failure_factor);
        assert_eq!(SignInLimits::default().address().max_failures, 0);
    }
}
