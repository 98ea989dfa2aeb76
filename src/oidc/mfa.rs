//! What a sign-in still needs before an app gets a token: the level the tenant, the user's roles,
//! the user's own factors and the app's `acr_values` demand; and raising a session once a second
//! factor is given. One-time codes (TOTP) and recovery codes are checked here; WebAuthn lives in
//! [`super::webauthn`].

use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_ms;
use crate::domain::mfa::{
    FAILURE_WINDOW_MS, Factors, Level, MfaPolicy, MfaSettings, RECOVERY_CODES, merge_amr,
    requested_level,
};
use crate::domain::secrets::{hash_secret, new_secret};
use crate::domain::sessions::Session;
use crate::domain::throttle::{self, Attempt, Client};
use crate::domain::{Result, Tenant, User};
use crate::store::Store;
use rand::RngExt;
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// The seconds of one TOTP step (RFC 6238's default, what every authenticator app uses).
pub const TOTP_STEP_SECS: u64 = 30;
/// Digits of a TOTP code.
pub const TOTP_DIGITS: usize = 6;

/// What a user must prove, and what they have to prove it with.
#[derive(Clone, Debug)]
pub struct Requirement {
    /// The level the session must reach.
    pub level: Level,
    /// The strictest of the tenant's and the user's roles' policies.
    pub policy: MfaPolicy,
    pub settings: MfaSettings,
    pub factors: Factors,
}

impl Requirement {
    /// Whether `session` has reached the level.
    pub fn met_by(&self, session: &Session) -> bool {
        session_level(session) >= self.level
    }

    /// Whether the user has no factor that can reach the level: they must enrol one.
    pub fn must_enrol(&self) -> bool {
        self.factors.best_level() < self.level
    }

    /// Whether `session` may add a factor: it has proven the strongest factor the user has (up
    /// to the level needed), so a stolen password alone cannot add an attacker's authenticator.
    pub fn may_enrol(&self, session: &Session) -> bool {
        session_level(session) >= self.level.min(self.factors.best_level())
    }

    /// Whether the user may remove factor `id` and still meet their policy: some other factor
    /// must then reach the policy's level.
    pub fn may_remove(&self, id: &crate::domain::FactorId) -> bool {
        let mut rest = self.factors.clone();
        rest.webauthn.retain(|c| &c.id != id);
        if rest.totp.as_ref().is_some_and(|t| &t.id == id) {
            rest.totp = None;
        }
        rest.best_level() >= self.policy.level()
    }
}

/// The level a session has reached, from its authentication methods.
pub fn session_level(session: &Session) -> Level {
    Level::of_amr(&session.amr)
}

/// What `user` must prove in `tenant`, for a request asking for `acr_values` (none outside an
/// authorization request). A user with any second factor always needs one, even where the
/// policy is optional.
pub async fn requirement(
    store: &Store,
    tenant: &Tenant,
    user: &User,
    acr_values: &[String],
) -> Result<Requirement> {
    let settings = store.mfa_settings(&tenant.id).await?;
    let role = store.role_mfa_policy(&tenant.id, &user.id).await?;
    let factors = store.user_factors(&tenant.id, &user.id).await?;
    let policy = settings.policy.max(role);
    let own = if factors.any() {
        Level::Mfa
    } else {
        Level::Password
    };
    let level = policy
        .level()
        .max(own)
        .max(requested_level(acr_values).unwrap_or(Level::Password));
    Ok(Requirement {
        level,
        policy,
        settings,
        factors,
    })
}

/// A session raised to a new level, with the new secret its cookie must now carry.
#[derive(Clone, Debug)]
pub struct Raised {
    pub session: Session,
    pub secret: String,
}

/// Records that the session's user proved `methods` now (RFC 8176 names): the session's `amr`
/// gains them (and `mfa`), its `acr` becomes the level reached and `auth_time` is now; its
/// cookie secret is replaced, so a copy of the cookie taken before is worthless. Audited.
pub async fn raise(
    store: &Store,
    tenant: &Tenant,
    session: &Session,
    user: &User,
    methods: &[&str],
    ip: Option<String>,
) -> Result<Raised> {
    let mut raised = session.clone();
    raised.amr = merge_amr(&session.amr, methods);
    raised.acr = Some(Level::of_amr(&raised.amr).acr().to_owned());
    raised.auth_time = now_ms();
    let actor = super::signin::user_actor(user, ip);
    let (session, secret) = super::signin::rotate(store, tenant, session, raised, &actor).await?;
    Ok(Raised { session, secret })
}

/// Why a one-time code was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeRefused {
    /// Wrong, expired or already used.
    Wrong,
    /// Too many wrong codes lately; the minutes until the next try.
    Locked { minutes: i64 },
}

/// Counts one attempt at a one-time or recovery code of `user` *before* it is judged (one
/// atomic upsert shared with the password throttle, so N parallel codes cannot all be judged:
/// exactly [`crate::domain::mfa::MAX_FAILURES`] are in a window). Refused, unjudged, while the user is locked.
pub async fn count_code_attempt(
    store: &Store,
    tenant: &Tenant,
    user: &User,
) -> Result<std::result::Result<Attempt, CodeRefused>> {
    let now = now_ms();
    let subject = throttle::second_factor(user.id.as_str());
    let policy = crate::limits::second_factor();
    let a = store
        .throttle_attempt(&tenant.id, &subject, &policy, now, &new_secret(""))
        .await?;
    if a.allowed {
        return Ok(Ok(a));
    }
    let until = a.locked_until.unwrap_or(now + FAILURE_WINDOW_MS);
    let minutes = ((until.saturating_sub(now)) + 59_999) / 60_000;
    Ok(Err(CodeRefused::Locked {
        minutes: minutes.clamp(1, FAILURE_WINDOW_MS / 60_000),
    }))
}

/// After a code counted by [`count_code_attempt`] was judged: a right one forgets the user's
/// failures; a wrong one that locked the user is audited (`user.mfa_locked`, with where it came
/// from).
pub async fn code_judged(
    store: &Store,
    tenant: &Tenant,
    user: &User,
    attempt: &Attempt,
    accepted: bool,
    client: &Client,
) -> Result<()> {
    let subject = throttle::second_factor(user.id.as_str());
    if accepted {
        return store.throttle_forget(&tenant.id, &subject).await;
    }
    if !attempt.locked_now(now_ms()) {
        return Ok(());
    }
    let change = Change::new("user.mfa_locked", "user", &user.id).after(serde_json::json!({
        "failures": attempt.failures,
        "locked_until": attempt.locked_until.map(crate::domain::clock::format_ms),
        "user_agent": client.user_agent,
    }));
    let actor = super::signin::user_actor(user, client.ip_text());
    store.audit_event(&tenant.id, &actor, change).await
}

/// A TOTP generator for a base32 `secret` (SHA-1, 6 digits, 30 s: what every authenticator app
/// supports).
pub fn totp(secret: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret).ok()?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(TOTP_DIGITS as u8)
        .with_step_duration(TOTP_STEP_SECS)
        .with_secret(secret)
        .build()
        .ok()
}

/// A new random TOTP secret (160 bits, base32, as RFC 4226 recommends).
pub fn new_totp_secret() -> String {
    let bytes: [u8; 20] = rand::random();
    Secret::from(bytes).to_base32()
}

/// The `otpauth://` URI authenticator apps read from the QR code (Google Authenticator's key
/// URI format): `issuer:account`, the secret, and the parameters spelled out.
pub fn otpauth_uri(secret: &str, issuer: &str, account: &str) -> String {
    let enc = super::authorize::enc;
    // A colon separates issuer and account in the label: keep it out of both.
    let issuer = issuer.replace(':', " ");
    let account = account.replace(':', " ");
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_STEP_SECS}",
        enc(&issuer),
        enc(&account),
        enc(&issuer)
    )
}

/// The step (of [`TOTP_STEP_SECS`]) whose code `code` is, allowing one step of clock skew each
/// way; `None` when it matches none. Compared in constant time.
pub fn matching_step(secret: &str, code: &str, now_secs: u64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != TOTP_DIGITS || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let generator = totp(secret)?;
    let step = now_secs / TOTP_STEP_SECS;
    let mut found = None;
    for s in [step.saturating_sub(1), step, step + 1] {
        let expected = generator.generate(s * TOTP_STEP_SECS).to_string();
        let same: bool = subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), code.as_bytes()).into();
        if same && found.is_none() {
            found = Some(s as i64);
        }
    }
    found
}

/// Checks a code of the user's confirmed authenticator app: each step is accepted once, wrong
/// codes count towards the lock.
pub async fn verify_totp(
    store: &Store,
    tenant: &Tenant,
    user: &User,
    factors: &Factors,
    code: &str,
    client: &Client,
) -> Result<std::result::Result<(), CodeRefused>> {
    let Some(app) = factors.confirmed_totp() else {
        return Ok(Err(CodeRefused::Wrong));
    };
    let attempt = match count_code_attempt(store, tenant, user).await? {
        Ok(a) => a,
        Err(locked) => return Ok(Err(locked)),
    };
    let now = u64::try_from(now_ms() / 1000).unwrap_or_default();
    let accepted = match matching_step(&app.secret, code, now) {
        Some(step) => store.use_totp_step(&tenant.id, &user.id, step).await?,
        None => false,
    };
    code_judged(store, tenant, user, &attempt, accepted, client).await?;
    Ok(if accepted {
        Ok(())
    } else {
        Err(CodeRefused::Wrong)
    })
}

/// Checks a recovery code: each is accepted once (audited, notified); wrong ones count towards
/// the lock.
pub async fn verify_recovery_code(
    store: &Store,
    tenant: &Tenant,
    user: &User,
    code: &str,
    actor: &Actor,
    client: &Client,
) -> Result<std::result::Result<(), CodeRefused>> {
    let attempt = match count_code_attempt(store, tenant, user).await? {
        Ok(a) => a,
        Err(locked) => return Ok(Err(locked)),
    };
    let normal = normalise_recovery_code(code);
    let accepted = normal.len() == RECOVERY_CODE_CHARS
        && store
            .use_recovery_code(&tenant.id, &user.id, &hash_secret(&normal), actor)
            .await?;
    code_judged(store, tenant, user, &attempt, accepted, client).await?;
    Ok(if accepted {
        Ok(())
    } else {
        Err(CodeRefused::Wrong)
    })
}

/// The alphabet of recovery codes: no 0/O, 1/I/L, so they can be read off paper.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// Characters of a recovery code (without its dashes): 24 of 31, about 118.9 bits, past the 112
/// bits ASVS 2.6.2 asks of a code stored with a fast hash.
pub const RECOVERY_CODE_CHARS: usize = 24;
/// Characters of one group of a code as shown (`xxxx-xxxx-...`).
const RECOVERY_GROUP: usize = 4;

/// A recovery code as typed, reduced to what is hashed: lower case, no dashes or spaces.
pub fn normalise_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// New recovery codes, as shown once to the user (six groups of four: `xxxx-xxxx-xxxx-xxxx-xxxx-xxxx`),
/// and their hashes (what is stored).
pub fn new_recovery_codes() -> (Vec<String>, Vec<String>) {
    let mut rng = rand::rng();
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let raw: String = (0..RECOVERY_CODE_CHARS)
                .map(|_| RECOVERY_ALPHABET[rng.random_range(0..RECOVERY_ALPHABET.len())] as char)
                .collect();
            raw.as_bytes()
                .chunks(RECOVERY_GROUP)
                .map(|c| std::str::from_utf8(c).unwrap_or_default())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect();
    let hashes = codes
        .iter()
        .map(|c| hash_secret(&normalise_recovery_code(c)))
        .collect();
    (codes, hashes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_accepts_one_step_of_skew_and_no_more() {
        let secret = new_totp_secret();
        let generator = totp(&secret).expect("valid secret");
        let now = 1_800_000_000u64;
        let step = (now / TOTP_STEP_SECS) as i64;
        for (at, want) in [
            (now, Some(step)),
            (now - TOTP_STEP_SECS, Some(step - 1)),
            (now + TOTP_STEP_SECS, Some(step + 1)),
            (now - 2 * TOTP_STEP_SECS, None),
            (now + 2 * TOTP_STEP_SECS, None),
        ] {
            let code = generator.generate(at).to_string();
            assert_eq!(matching_step(&secret, &code, now), want, "{at}");
        }
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
        let spaced = generator.generate(now).to_string();
        let spaced = format!("{} {}", &spaced[..3], &spaced[3..]);
        assert_eq!(matching_step(&secret, &spaced, now), Some(step));
    }

    #[test]
    fn otpauth_uri_names_issuer_and_account() {
        let uri = otpauth_uri("JBSWY3DPEHPK3PXP", "Acme: Corp", "ada@example.com");
        assert_eq!(
            uri,
            "otpauth://totp/Acme%20%20Corp:ada%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Acme%20%20Corp&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_as_typed() {
        let (codes, hashes) = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        let typed = codes[0].to_uppercase().replace('-', " ");
        assert_eq!(hash_secret(&normalise_recovery_code(&typed)), hashes[0]);
        // At least 112 bits each: 24 characters of a 31-letter alphabet.
        let bits = RECOVERY_CODE_CHARS as f64 * (RECOVERY_ALPHABET.len() as f64).log2();
        assert!(bits >= 112.0, "{bits}");
        for c in &codes {
            assert_eq!(c.len(), 29, "{c}");
            assert_eq!(normalise_recovery_code(c).len(), RECOVERY_CODE_CHARS);
            assert!(c.split('-').all(|g| g.len() == 4));
            assert!(
                normalise_recovery_code(c)
                    .bytes()
                    .all(|b| RECOVERY_ALPHABET.contains(&b))
            );
        }
    }
}
