//! Signing in with email and password, and finding the session a browser presents.
//! One answer for every refusal, so the page never reveals whether an account exists.

use crate::domain::audit::Actor;
use crate::domain::clock::now_ms;
use crate::domain::mfa::Level;
use crate::domain::passwords::{self, Password};
use crate::domain::secrets::{hash_secret, new_secret};
use crate::domain::sessions::{SESSION_TTL_MS, Session};
use crate::domain::{Result, Tenant, User, UserStatus};
use crate::store::Store;
use subtle::ConstantTimeEq;

/// The one message for every failed sign-in.
pub const REFUSED: &str = "Email or password is incorrect";

/// A new session: the secret goes into the cookie, only its hash into the database.
pub struct Started {
    pub secret: String,
    pub session: Session,
    /// Who signed in.
    pub user: User,
}

/// Whether a user in `status` may sign in.
pub fn may_sign_in(status: UserStatus) -> bool {
    matches!(status, UserStatus::Invited | UserStatus::Active)
}

/// Checks `email` and `password`; `None` for any refusal (unknown email, no password set,
/// wrong password, inactive or anonymised user), after the same argon2id work in every case.
pub async fn sign_in(
    store: &Store,
    tenant: &Tenant,
    email: &str,
    password: Password,
    ip: Option<String>,
) -> Result<Option<Started>> {
    let user = store.user_by_email(&tenant.id, email.trim()).await?;
    let stored = match &user {
        Some(u) => store.password_hash(&tenant.id, &u.id).await?,
        None => None,
    };
    let has_hash = stored.is_some();
    let matches = passwords::off_runtime(move || {
        let hash = stored.as_deref().unwrap_or_else(|| passwords::dummy_hash());
        passwords::verify(&password, hash)
    })
    .await?;
    let Some(user) = user.filter(|u| matches && has_hash && may_sign_in(u.status)) else {
        return Ok(None);
    };
    start_session(store, tenant, &user, vec!["pwd".into()], ip)
        .await
        .map(Some)
}

/// Starts a session for `user`, who just proved `amr` (RFC 8176 methods); its `acr` is the level
/// those methods reach. Audited.
pub async fn start_session(
    store: &Store,
    tenant: &Tenant,
    user: &User,
    amr: Vec<String>,
    ip: Option<String>,
) -> Result<Started> {
    let now = now_ms();
    let secret = new_secret("");
    let acr = Level::of_amr(&amr).acr().to_owned();
    let session = Session {
        id: hash_secret(&secret),
        user_id: user.id.clone(),
        auth_time: now,
        amr,
        acr: Some(acr),
        created_at: now,
        last_seen_at: now,
        expires_at: now + SESSION_TTL_MS,
        ended_at: None,
    };
    store
        .start_session(&tenant.id, &session, &user_actor(user, ip))
        .await?;
    Ok(Started {
        secret,
        session,
        user: user.clone(),
    })
}

/// A signed-in user as the audit log records them.
pub fn user_actor(user: &User, ip: Option<String>) -> Actor {
    Actor {
        kind: "user",
        id: Some(user.id.to_string()),
        label: user.email.clone(),
        ip,
    }
}

/// The live session behind a cookie secret, with its user, if that user may still sign in.
pub async fn current(
    store: &Store,
    tenant: &Tenant,
    secret: Option<&str>,
) -> Result<Option<(Session, User)>> {
    let Some(secret) = secret.filter(|s| !s.is_empty() && s.len() <= 256) else {
        return Ok(None);
    };
    let Some(session) = store.get_session(&tenant.id, &hash_secret(secret)).await? else {
        return Ok(None);
    };
    if !session.live(now_ms()) {
        return Ok(None);
    }
    let user = store.get_user(&tenant.id, &session.user_id).await?;
    Ok(user
        .filter(|u| u.status == UserStatus::Active)
        .map(|u| (session, u)))
}

/// A fresh CSRF token (double-submit: the same value in a cookie and a hidden field).
pub fn new_csrf_token() -> String {
    new_secret("")
}

/// Whether the form's CSRF token equals the cookie's, compared in constant time.
pub fn csrf_ok(cookie: Option<&str>, field: Option<&str>) -> bool {
    match (cookie, field) {
        (Some(c), Some(f)) if !c.is_empty() => bool::from(c.as_bytes().ct_eq(f.as_bytes())),
        _ => false,
    }
}

/// Where to go after signing in: `return_to` when it is a path under `/t/{slug}/`, else the
/// tenant's home page (never another site).
pub fn safe_return_to(slug: &str, return_to: Option<&str>) -> String {
    let home = format!("/t/{slug}/");
    match return_to {
        Some(r)
            if r.starts_with(&home)
                && !r.contains('\\')
                && !r.contains("/../")
                && !r.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            r.to_owned()
        }
        _ => home,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_stays_in_the_tenant() {
        assert_eq!(
            safe_return_to("acme", Some("/t/acme/authorize?x=1")),
            "/t/acme/authorize?x=1"
        );
        for bad in [
            "https://evil.test/",
            "//evil.test/t/acme/",
            "/t/other/",
            "/t/acme",
            "/t/acme/\\evil",
            "/t/acme/../other/",
        ] {
            assert_eq!(safe_return_to("acme", Some(bad)), "/t/acme/", "{bad}");
        }
        assert_eq!(safe_return_to("acme", None), "/t/acme/");
    }

    #[test]
    fn csrf_needs_both_equal() {
        assert!(csrf_ok(Some("abc"), Some("abc")));
        assert!(!csrf_ok(Some("abc"), Some("abd")));
        assert!(!csrf_ok(None, Some("abc")));
        assert!(!csrf_ok(Some("abc"), None));
        assert!(!csrf_ok(Some(""), Some("")));
    }
}
