//! High-entropy secrets (API tokens, client secrets): generated here, stored only as hashes.

use subtle::ConstantTimeEq;

/// A fresh secret: 256 random bits, base64url, after `prefix` (which says what it is for).
pub fn new_secret(prefix: &str) -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// A fresh bearer token (`new_secret`) and the hash to store in its place.
pub fn new_bearer(prefix: &str) -> (String, String) {
    let secret = new_secret(prefix);
    let hash = hash_secret(&secret);
    (secret, hash)
}

/// SHA-256 (hex) of a secret: the only form in which secrets are stored. A fast hash is right
/// here: the secrets are random and long, so there is nothing to brute-force.
pub fn hash_secret(secret: &str) -> String {
    use sha2::Digest;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = sha2::Sha256::digest(secret.as_bytes());
    let mut hex = String::with_capacity(2 * digest.len());
    for b in digest {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 15)]));
    }
    hex
}

/// Whether `secret` hashes to `stored_hash`, compared in constant time.
pub fn verify_secret(secret: &str, stored_hash: &str) -> bool {
    hash_secret(secret)
        .as_bytes()
        .ct_eq(stored_hash.as_bytes())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_verify_only_against_their_hash() {
        let a = new_secret("cst_");
        let b = new_secret("cst_");
        assert!(a.starts_with("cst_") && a.len() == 4 + 43);
        assert_ne!(a, b);
        let h = hash_secret(&a);
        assert_eq!(h.len(), 64);
        assert!(verify_secret(&a, &h));
        assert!(!verify_secret(&b, &h));
    }

    #[test]
    fn the_hash_is_lowercase_hex_sha256() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
