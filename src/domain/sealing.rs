//! Secrets at rest: values that must be read back (TOTP seeds, signing private keys) are sealed
//! with AES-256-GCM under a master key that is never stored in the database.
//!
//! A sealed value is text: `cse1.<key id>.<base64url(nonce || ciphertext || tag)>`, with a fresh
//! random 96-bit nonce per value. The associated data names the row (table, tenant, id), so a
//! ciphertext moved to another row, or another tenant, does not open. The key id (a fingerprint
//! of the key, not the key) says which master key sealed a value, so a wrong key is reported as
//! such and a rotation can tell what it has already done.

use super::{DomainError, Result};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use std::fmt;

/// The prefix of every sealed value (format version 1). Neither base32 (TOTP seeds) nor base64
/// (keys) contains a `.`, so a raw value is never mistaken for a sealed one.
pub const PREFIX: &str = "cse1.";
/// Bytes of a master key (AES-256).
pub const KEY_LEN: usize = 32;

/// The master key: opens and seals secrets at rest. Its `Debug` shows only the key id.
pub struct MasterKey {
    key: LessSafeKey,
    /// A key derived for MACs (CSRF tokens), so the master key itself signs nothing.
    mac: hmac::Key,
    id: String,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey").field("id", &self.id).finish()
    }
}

impl MasterKey {
    /// A new random key.
    pub fn generate() -> Self {
        let bytes: [u8; KEY_LEN] = rand::random();
        Self::from_bytes(&bytes).expect("an array of KEY_LEN bytes is a key")
    }

    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != KEY_LEN {
            return Err(DomainError::Internal(format!(
                "a master key is {KEY_LEN} bytes, not {}",
                bytes.len()
            )));
        }
        let key = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| DomainError::Internal("the master key is not an AES-256 key".into()))?;
        let derived = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, bytes),
            b"castellan mac key v1",
        );
        Ok(Self {
            key: LessSafeKey::new(key),
            mac: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
            id: key_id(bytes),
        })
    }

    /// Parses the text form of a key (what [`MasterKey::generate_text`] writes: 32 bytes in
    /// base64, either alphabet, surrounding whitespace ignored).
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim();
        let bytes = URL_SAFE_NO_PAD
            .decode(t.trim_end_matches('='))
            .or_else(|_| STANDARD.decode(t))
            .map_err(|_| {
                DomainError::Internal(
                    "the master key is not base64 (make one with `castellan master-key generate`)"
                        .into(),
                )
            })?;
        Self::from_bytes(&bytes)
    }

    /// A new random key in its text form (base64url, 43 characters) for a key file.
    pub fn generate_text() -> String {
        let bytes: [u8; KEY_LEN] = rand::random();
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The key's id: a fingerprint (8 hex digits of a SHA-256 of the key), safe to show.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// An HMAC-SHA256 of `message` for `purpose` (base64url), under a key derived from the
    /// master key: every replica with the same master key computes the same tag.
    pub fn mac(&self, purpose: &str, message: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.mac);
        ctx.update(purpose.as_bytes());
        ctx.update(b"\0");
        ctx.update(message.as_bytes());
        URL_SAFE_NO_PAD.encode(ctx.sign().as_ref())
    }

    /// Seals `plaintext` for the row `aad` names.
    pub fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce)
            .map_err(|_| DomainError::Internal("no random nonce".into()))?;
        let mut buf = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buf,
            )
            .map_err(|_| DomainError::Internal("sealing a secret failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(format!(
            "{PREFIX}{}.{}",
            self.id,
            URL_SAFE_NO_PAD.encode(out)
        ))
    }

    /// Opens a sealed value of the row `aad` names. Fails on a raw value, a value sealed by
    /// another key, or one moved from another row.
    pub fn open(&self, aad: &str, sealed: &str) -> Result<Vec<u8>> {
        let Some((id, body)) = sealed_parts(sealed) else {
            return Err(DomainError::Internal(format!(
                "a secret of {aad} is not sealed"
            )));
        };
        if id != self.id {
            return Err(DomainError::Internal(format!(
                "a secret of {aad} is sealed with master key {id}, not with the configured key {}",
                self.id
            )));
        }
        let bad = || DomainError::Internal(format!("a secret of {aad} does not open"));
        let mut buf = URL_SAFE_NO_PAD.decode(body).map_err(|_| bad())?;
        if buf.len() < NONCE_LEN {
            return Err(bad());
        }
        let mut ct = buf.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&buf).map_err(|_| bad())?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut ct)
            .map_err(|_| bad())?;
        Ok(plain.to_vec())
    }

    /// [`MasterKey::open`] for a secret that is text.
    pub fn open_text(&self, aad: &str, sealed: &str) -> Result<String> {
        String::from_utf8(self.open(aad, sealed)?)
            .map_err(|_| DomainError::Internal(format!("a secret of {aad} is not text")))
    }
}

/// Whether a stored value is sealed (rather than a raw value from before sealing).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

/// The key id that sealed a stored value, if it is sealed.
pub fn sealed_key_id(stored: &str) -> Option<&str> {
    sealed_parts(stored).map(|(id, _)| id)
}

fn sealed_parts(stored: &str) -> Option<(&str, &str)> {
    stored.strip_prefix(PREFIX)?.split_once('.')
}

/// The associated data of a secret: the table, tenant and row it belongs to.
pub fn row_aad(table: &str, tenant: &str, row: &str) -> String {
    format!("{table}/{tenant}/{row}")
}

fn key_id(bytes: &[u8]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"castellan master key id\0");
    h.update(bytes);
    h.finalize()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_for_their_row_and_key() {
        let k = MasterKey::generate();
        let aad = row_aad("totp_factors", "t1", "f1");
        let a = k.seal(&aad, b"JBSWY3DPEHPK3PXP").unwrap();
        let b = k.seal(&aad, b"JBSWY3DPEHPK3PXP").unwrap();
        assert_ne!(a, b, "a fresh nonce per value");
        assert!(is_sealed(&a) && !a.contains("JBSWY3DP"));
        assert_eq!(sealed_key_id(&a), Some(k.id()));
        assert_eq!(k.open_text(&aad, &a).unwrap(), "JBSWY3DPEHPK3PXP");
        for other in [
            row_aad("totp_factors", "t1", "f2"),
            row_aad("totp_factors", "t2", "f1"),
            row_aad("signing_keys", "t1", "f1"),
        ] {
            assert!(k.open(&other, &a).is_err(), "{other}");
        }
        let wrong = MasterKey::generate();
        let e = wrong.open(&aad, &a).unwrap_err().to_string();
        assert!(e.contains(k.id()) && e.contains(wrong.id()), "{e}");
        assert!(k.open(&aad, "JBSWY3DPEHPK3PXP").is_err());
        // Every single-character change of the body is refused (the tag covers all of it).
        let body_at = a.rfind('.').unwrap() + 1;
        for i in body_at..a.len() {
            let mut t = a.clone().into_bytes();
            t[i] = if t[i] == b'A' { b'B' } else { b'A' };
            let t = String::from_utf8(t).unwrap();
            assert!(t == a || k.open(&aad, &t).is_err(), "changed at {i}");
        }
    }

    #[test]
    fn keys_parse_from_their_text_form_only() {
        let text = MasterKey::generate_text();
        let k1 = MasterKey::parse(&format!("  {text}\n")).unwrap();
        let k2 = MasterKey::parse(&text).unwrap();
        assert_eq!(k1.id(), k2.id());
        assert_eq!(k1.id().len(), 8);
        assert!(!format!("{k1:?}").contains(&text));
        assert!(MasterKey::parse("short").is_err());
        assert!(MasterKey::parse("").is_err());
        assert!(MasterKey::parse(&STANDARD.encode([7u8; 16])).is_err());
        assert!(MasterKey::parse(&STANDARD.encode([7u8; 32])).is_ok());
    }
}
