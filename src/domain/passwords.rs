//! Passwords: argon2id with OWASP's parameters (m=19456 KiB, t=2, p=1), stored as PHC strings.
//! Hashing is slow on purpose; callers on an async runtime run it through `off_runtime`.

use super::{DomainError, Result};
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::cell::RefCell;
use std::fmt;
use std::sync::LazyLock;
use subtle::ConstantTimeEq;

/// The shortest password accepted, in characters.
pub const MIN_LEN: usize = 8;
/// The longest password accepted, in characters (bounds the hashing work a request can cause).
pub const MAX_LEN: usize = 1024;

/// A password as typed: never shown in `Debug`.
#[derive(Clone)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    /// Checks the length rules (counted in characters).
    pub fn new(s: String) -> Result<Self> {
        let n = s.chars().count();
        if n < MIN_LEN {
            return Err(DomainError::invalid(
                "password",
                format!("a password has at least {MIN_LEN} characters"),
            ));
        }
        if n > MAX_LEN {
            return Err(DomainError::invalid(
                "password",
                format!("a password has at most {MAX_LEN} characters"),
            ));
        }
        Ok(Self(s))
    }
    /// A password typed at sign-in: not checked against the rules (a refusal must not say why).
    pub fn typed(s: String) -> Self {
        Self(s)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Common passwords of 8 or more characters, lower case (origin in the file's header).
static COMMON: LazyLock<std::collections::HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common_passwords.txt")
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// Words of the user and the service a password must not be (NIST SP 800-63B §5.1.1.2
/// "context-specific words"): the user's email and its local part, the tenant's name and slug.
pub fn context_words(email: &str, tenant_name: &str, tenant_slug: &str) -> Vec<String> {
    let email = email.trim().to_lowercase();
    let local = email.split('@').next().unwrap_or_default().to_owned();
    let mut words = vec![
        email,
        local,
        tenant_name.trim().to_lowercase(),
        tenant_slug.to_lowercase(),
    ];
    // The name without its spaces too ("Acme Corp" -> "acmecorp").
    words.push(words[2].split_whitespace().collect());
    words.retain(|w| w.chars().count() >= 3);
    words
}

/// Refuses a password a guesser tries first: one of the common passwords shipped with
/// Castellan, or one of `context` (see [`context_words`]), compared in lower case, also with
/// digits and symbols added at the end (`acme2024!`). The message says which rule it broke,
/// never the password.
pub fn check_not_guessable(password: &Password, context: &[String]) -> Result<()> {
    let lower = password.expose().trim().to_lowercase();
    if COMMON.contains(lower.as_str()) {
        return Err(DomainError::invalid(
            "password",
            "this password is one of the most commonly used passwords; choose another",
        ));
    }
    let stem = lower.trim_end_matches(|c: char| !c.is_alphabetic());
    if context.iter().any(|w| *w == lower || *w == stem) {
        return Err(DomainError::invalid(
            "password",
            "a password must not be the email address, its name part or the organisation's name",
        ));
    }
    Ok(())
}

pub use super::password_workers::{
    BUSY_RETRY_AFTER_SECS, HashQueue, Lane, Place, off_runtime, off_runtime_in,
};

fn argon2() -> Result<Argon2<'static>> {
    let params = Params::new(19_456, 2, 1, None)
        .map_err(|e| DomainError::Internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

thread_local! {
    /// Argon2's working memory (19 MiB at our parameters), kept by each password worker thread
    /// for its next computation instead of being allocated and freed every time.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// The most memory a stored hash may ask for (4x ours): a hash from elsewhere cannot make a
/// worker keep gigabytes.
const MAX_BLOCKS: usize = 4 * 19_456;

/// Runs `a` over `pwd` and `salt` into `out`, in this thread's reused memory.
fn compute(a: &Argon2<'_>, pwd: &[u8], salt: &[u8], out: &mut [u8]) -> Result<()> {
    let count = a.params().block_count();
    if count > MAX_BLOCKS {
        return Err(DomainError::Internal(
            "argon2: the stored hash asks for too much memory".into(),
        ));
    }
    BLOCKS.with_borrow_mut(|blocks| {
        if blocks.len() < count {
            blocks.resize(count, Block::default());
        }
        a.hash_password_into_with_memory(pwd, salt, out, &mut blocks[..count])
            .map_err(|e| DomainError::Internal(format!("argon2: {e}")))
    })
}

/// The PHC string of `password` with a fresh random salt.
pub fn hash(password: &Password) -> Result<String> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| DomainError::Internal(format!("argon2 salt: {e}")))?;
    let a = argon2()?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    compute(&a, password.expose().as_bytes(), &salt_bytes, &mut out)?;
    let bad = |e: argon2::password_hash::Error| DomainError::Internal(format!("argon2: {e}"));
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(a.params()).map_err(bad)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(bad)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `stored`. A malformed `stored` matches nothing.
pub fn verify(password: &Password, stored: &str) -> bool {
    // Over-long input is refused before hashing (same cost as a miss, no extra work).
    if password.expose().chars().count() > MAX_LEN {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let a = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    compute(&a, password.expose().as_bytes(), salt_bytes, &mut out).is_ok()
        && bool::from(expected.as_bytes().ct_eq(&out))
}

/// A hash of a random password, verified against when the account does not exist, so a
/// refusal takes as long whether or not the email is known.
pub fn dummy_hash() -> &'static str {
    static DUMMY: LazyLock<String> = LazyLock::new(|| {
        let random = Password(super::secrets::new_secret(""));
        hash(&random).unwrap_or_default()
    });
    &DUMMY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let p = Password::new("correct horse".into()).unwrap();
        let h = hash(&p).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(&p, &h));
        assert!(!verify(&Password::typed("wrong horse".into()), &h));
        assert!(!verify(&p, "not a hash"));
        assert!(!verify(&p, dummy_hash()));
        assert_ne!(h, hash(&p).unwrap(), "salted");
    }

    /// Hashes stored before memory was reused (made by the crate's own `PasswordHasher`) still
    /// verify, and ours verify with the crate's own `PasswordVerifier`: the PHC strings agree.
    #[test]
    fn phc_strings_agree_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let p = Password::new("correct horse".into()).unwrap();
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = argon2()
            .unwrap()
            .hash_password(b"correct horse", &salt)
            .unwrap();
        assert!(verify(&p, &theirs.to_string()));
        assert!(!verify(
            &Password::typed("correct horsf".into()),
            &theirs.to_string()
        ));
        let ours = hash(&p).unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            argon2()
                .unwrap()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        // A stored hash asking for far more memory than ours is refused, not computed.
        let greedy = ours.replace("m=19456", "m=1000000");
        assert!(!verify(&p, &greedy));
    }

    #[test]
    fn common_and_context_passwords_are_refused() {
        let ctx = context_words("Ada.Lovelace@Example.com", "Acme Corp", "acme");
        let refused = [
            "password",
            "Password1",
            "QWERTYUIOP",
            "iloveyou",
            "12345678",
            "baseball",
            "ada.lovelace@example.com",
            "ADA.LOVELACE",
            "ada.lovelace2024!",
            "acme corp",
            "AcmeCorp",
            "acme1234",
            "acme!!!!",
        ];
        for p in refused {
            let e = check_not_guessable(&Password::typed(p.into()), &ctx);
            assert!(
                matches!(&e, Err(DomainError::Invalid { field: Some(f), .. }) if f == "password"),
                "{p}: {e:?}"
            );
        }
        for p in [
            "correct horse battery",
            "ada-prefers-tea",
            "acme is a company",
            "zq8#Lw2!x",
        ] {
            assert!(
                check_not_guessable(&Password::typed(p.into()), &ctx).is_ok(),
                "{p}"
            );
        }
        assert!(COMMON.len() > 8000, "the list is shipped: {}", COMMON.len());
        assert!(
            COMMON
                .iter()
                .all(|p| p.chars().count() >= MIN_LEN && *p == p.to_lowercase())
        );
    }

    #[test]
    fn length_rules_and_debug() {
        assert!(Password::new("short".into()).is_err());
        assert!(Password::new("x".repeat(1025)).is_err());
        assert!(Password::new("é".repeat(8)).is_ok());
        assert_eq!(
            format!("{:?}", Password::typed("secret".into())),
            "Password(***)"
        );
    }
}
