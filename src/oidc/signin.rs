//! Signing in with email and password, and finding the session a browser presents.
//! One answer for every refusal, so the page never reveals whether an account exists.

use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_ms;
use crate::domain::devices::Device;
use crate::domain::mfa::Level;
use crate::domain::passwords::{self, HashQueue, Lane, Password};
use crate::domain::secrets::{hash_secret, new_secret};
use crate::domain::sessions::Session;
use crate::domain::throttle::{self, Client};
use crate::domain::{Result, Tenant, User, UserStatus};
use crate::limits::SignInLimits;
use crate::store::Store;

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

/// What a password sign-in is checked against besides the password: the brute-force limits,
/// the password-hashing queue and where the attempt came from.
pub struct Guard<'a> {
    pub limits: &'a SignInLimits,
    pub queue: &'a HashQueue,
    pub client: &'a Client,
    /// The browser's device cookie, when it verified (signed here, this tenant, not expired).
    pub device: Option<&'a Device>,
}

/// The longest email looked up (RFC 5321's path limit); longer input is refused unread.
const MAX_EMAIL: usize = 320;

/// Checks `email` and `password`; `None` for any refusal (unknown email, no password set,
/// wrong password, inactive or anonymised user, account or client address locked), with one
/// answer for all. Every attempt is counted for the account (or, for an unknown email, the
/// email) and the client address *before* the password is judged, so parallel guesses cannot
/// overtake the lock; a locked subject costs no argon2 work, and an unknown email is throttled
/// and hashed (against a dummy hash) like a real one. `Unavailable` when the hashing queue is
/// full: nothing is counted then.
///
/// A sign-in from a trusted device (`guard.device` names the user `email` belongs to) takes
/// the trusted lane instead (see [`super::device_signin`]), unless that device is locked.
pub async fn sign_in(
    store: &Store,
    tenant: &Tenant,
    email: &str,
    password: Password,
    guard: &Guard<'_>,
    remember: bool,
) -> Result<Option<Started>> {
    let email = email.trim();
    if email.is_empty() || email.len() > MAX_EMAIL || email.chars().any(char::is_control) {
        return Ok(None);
    }
    // An email, or a username (for users who share their email with another). Read first only
    // for a browser with a device cookie: without one, a full queue refuses before any lookup.
    let mut found = None;
    if let Some(device) = guard.device {
        let user = store.user_for_sign_in(&tenant.id, email).await?;
        if let Some(u) = user.as_ref().filter(|u| u.id.as_str() == device.user) {
            let trusted =
                super::device_signin::sign_in(store, tenant, email, u, device, &password, guard);
            if let super::device_signin::Outcome::Judged(right) = trusted.await? {
                if !right {
                    return Ok(None);
                }
                return start_password_session(store, tenant, u, guard, remember).await;
            }
        }
        found = Some(user);
    }
    let place = guard.queue.enter()?;
    let user = match found {
        Some(user) => user,
        None => store.user_for_sign_in(&tenant.id, email).await?,
    };
    let subject = match &user {
        Some(u) => throttle::account(u.id.as_str()),
        None => throttle::unknown_email(email),
    };
    let now = now_ms();
    let ticket = new_secret("");
    let address = guard.client.ip.map(throttle::address);
    if let Some(address) = &address {
        let policy = guard.limits.address();
        let a = store
            .throttle_attempt(&tenant.id, address, &policy, now, &ticket)
            .await?;
        if !a.allowed {
            return Ok(None);
        }
        if a.locked_now(now) {
            let u = user.as_ref();
            audit_lock(store, tenant, email, u, guard.client, &a, address).await?;
        }
    }
    let policy = guard.limits.account();
    let counted = store
        .throttle_attempt(&tenant.id, &subject, &policy, now, &ticket)
        .await?;
    if !counted.allowed {
        return Ok(None);
    }
    let matches = judge_password(store, tenant, user.as_ref(), password, Lane::Normal).await?;
    drop(place);
    let user_for_audit = user.clone();
    let Some(user) = user.filter(|u| matches && may_sign_in(u.status)) else {
        return refused(
            store,
            tenant,
            email,
            user_for_audit,
            guard.client,
            &counted,
            now,
        )
        .await;
    };
    store.throttle_forget(&tenant.id, &subject).await?;
    if let Some(address) = &address {
        store.throttle_uncount(&tenant.id, address).await?;
    }
    start_password_session(store, tenant, &user, guard, remember).await
}

/// What checking a person's current password found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CurrentPassword {
    Right,
    Wrong,
    /// Too many wrong passwords (here or at sign-in): not judged until the lock ends.
    Locked,
}

/// Whether `password` is the current password of the signed-in `user` (before they change
/// it): counted against the account's sign-in lock, as a sign-in is, so a stolen session
/// cannot be used to guess it; a wrong one is audited as a failed sign-in.
pub async fn check_current_password(
    store: &Store,
    tenant: &Tenant,
    user: &User,
    password: Password,
    guard: &Guard<'_>,
) -> Result<CurrentPassword> {
    let place = guard.queue.enter()?;
    let subject = throttle::account(user.id.as_str());
    let now = now_ms();
    let ticket = new_secret("");
    let policy = guard.limits.account();
    let counted = store
        .throttle_attempt(&tenant.id, &subject, &policy, now, &ticket)
        .await?;
    if !counted.allowed {
        return Ok(CurrentPassword::Locked);
    }
    let matches = judge_password(store, tenant, Some(user), password, Lane::Normal).await?;
    drop(place);
    if matches {
        store.throttle_forget(&tenant.id, &subject).await?;
        return Ok(CurrentPassword::Right);
    }
    refused(
        store,
        tenant,
        &user.email,
        Some(user.clone()),
        guard.client,
        &counted,
        now,
    )
    .await?;
    Ok(CurrentPassword::Wrong)
}

/// Whether `password` is the stored password of `user`, judged in `lane` of the password
/// workers. Without a user or a stored password it is judged against a dummy hash all the same
/// (the same work whatever the email) and is never right.
pub(super) async fn judge_password(
    store: &Store,
    tenant: &Tenant,
    user: Option<&User>,
    password: Password,
    lane: Lane,
) -> Result<bool> {
    let stored = match user {
        Some(u) => store.password_hash(&tenant.id, &u.id).await?,
        None => None,
    };
    let has_hash = stored.is_some();
    let matches = passwords::off_runtime_in(lane, move || {
        let hash = stored.as_deref().unwrap_or_else(|| passwords::dummy_hash());
        passwords::verify(&password, hash)
    })
    .await?;
    Ok(matches && has_hash)
}

/// The session of a password sign-in of `user`.
async fn start_password_session(
    store: &Store,
    tenant: &Tenant,
    user: &User,
    guard: &Guard<'_>,
    remember: bool,
) -> Result<Option<Started>> {
    let ip = guard.client.ip_text();
    start_session(store, tenant, user, vec!["pwd".into()], ip, remember)
        .await
        .map(Some)
}

/// A judged, refused sign-in: audited, and the lock it set too.
async fn refused(
    store: &Store,
    tenant: &Tenant,
    email: &str,
    user: Option<User>,
    client: &Client,
    counted: &throttle::Attempt,
    now: i64,
) -> Result<Option<Started>> {
    let user = user.as_ref();
    audit_failure(store, tenant, email, user, client, counted, false).await?;
    if counted.locked_now(now) {
        let subject = match user {
            Some(u) => throttle::account(u.id.as_str()),
            None => throttle::unknown_email(email),
        };
        audit_lock(store, tenant, email, user, client, counted, &subject).await?;
    }
    Ok(None)
}

/// Someone typing at the sign-in page, as the audit log records them (not yet anyone).
fn anonymous(email: &str, client: &Client) -> Actor {
    Actor {
        kind: "anonymous",
        id: None,
        label: email.chars().take(MAX_EMAIL).collect(),
        ip: client.ip_text(),
        power: None,
    }
}

/// Audits a wrong password (`user.sign_in_failed`), naming the account when there is one, and
/// whether it was typed on a trusted device (`failures` is then the device's count).
pub(super) async fn audit_failure(
    store: &Store,
    tenant: &Tenant,
    email: &str,
    user: Option<&User>,
    client: &Client,
    counted: &throttle::Attempt,
    trusted_device: bool,
) -> Result<()> {
    let mut change = Change::new("user.sign_in_failed", "user", "");
    change.target_id = user.map(|u| u.id.to_string());
    let change = change.after(serde_json::json!({
        "email": email,
        "failures": counted.failures,
        "trusted_device": trusted_device,
        "user_agent": client.user_agent,
    }));
    store
        .audit_event(&tenant.id, &anonymous(email, client), change)
        .await
}

/// Audits the failure that locked a subject: an account (`user.sign_in_locked`, also for an
/// unknown email), a client address (`address.sign_in_locked`) or a trusted device
/// (`device.sign_in_locked`, naming the user).
pub(super) async fn audit_lock(
    store: &Store,
    tenant: &Tenant,
    email: &str,
    user: Option<&User>,
    client: &Client,
    a: &throttle::Attempt,
    subject: &str,
) -> Result<()> {
    let user_id = user.map(|u| u.id.to_string());
    let (action, kind, target) = match subject.strip_prefix("ip:") {
        Some(ip) => ("address.sign_in_locked", "address", Some(ip.to_owned())),
        None if subject.starts_with("device:") => ("device.sign_in_locked", "user", user_id),
        None => ("user.sign_in_locked", "user", user_id),
    };
    let state = throttle::LockState::at(a.failures, Some(now_ms()), a.locked_until, now_ms());
    let mut change = Change::new(action, kind, "");
    change.target_id = target;
    let change = change.after(serde_json::json!({
        "email": email,
        "failures": a.failures,
        "permanent": state.permanent,
        "locked_until": state.locked_until.map(crate::domain::clock::format_ms),
        "user_agent": client.user_agent,
    }));
    store
        .audit_event(&tenant.id, &anonymous(email, client), change)
        .await
}

/// Starts a session for `user`, who just proved `amr` (RFC 8176 methods); its `acr` is the level
/// those methods reach. `remember` counts only where the tenant allows "remember me". Audited.
pub async fn start_session(
    store: &Store,
    tenant: &Tenant,
    user: &User,
    amr: Vec<String>,
    ip: Option<String>,
    remember: bool,
) -> Result<Started> {
    let now = now_ms();
    let settings = store.session_settings(&tenant.id).await?;
    let remember = remember && settings.remember_me;
    let (_, max) = settings.lifetimes(remember);
    let secret = new_secret("");
    let acr = Level::of_amr(&amr).acr().to_owned();
    let session = Session {
        // The id is a name of its own, not derived from the cookie's secret.
        id: hash_secret(&new_secret("")),
        secret_hash: hash_secret(&secret),
        user_id: user.id.clone(),
        auth_time: now,
        amr,
        acr: Some(acr),
        created_at: now,
        last_seen_at: now,
        expires_at: now + max * 1000,
        ended_at: None,
        remember,
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

/// How long a remembered session's cookie lives (seconds), or `None` for a cookie that ends
/// with the browser.
pub async fn cookie_max_age(
    store: &Store,
    tenant: &Tenant,
    session: &Session,
) -> Result<Option<i64>> {
    if !session.remember {
        return Ok(None);
    }
    let settings = store.session_settings(&tenant.id).await?;
    Ok(Some(settings.lifetimes(true).1))
}

/// Gives `session` a new cookie secret while `update` (the new level) is stored: the old
/// cookie stops working at once. Fails when the session changed meanwhile (another tab raised
/// it first, or it ended).
pub async fn rotate(
    store: &Store,
    tenant: &Tenant,
    session: &Session,
    mut raised: Session,
    actor: &crate::domain::audit::Actor,
) -> Result<(Session, String)> {
    let secret = new_secret("");
    raised.secret_hash = hash_secret(&secret);
    if !store
        .raise_session(&tenant.id, &raised, &session.secret_hash, actor)
        .await?
    {
        return Err(crate::domain::DomainError::conflict(
            "the session changed meanwhile; sign in again",
        ));
    }
    Ok((raised, secret))
}

/// A signed-in user as the audit log records them.
pub fn user_actor(user: &User, ip: Option<String>) -> Actor {
    Actor {
        kind: "user",
        id: Some(user.id.to_string()),
        label: user.email.clone(),
        ip,
        power: None,
    }
}

/// Activity closer than this to the last recorded one does not write (the idle timeout is kept
/// to within this).
pub const TOUCH_EVERY_MS: i64 = 30_000;

/// The usable session behind a cookie secret (live, not idle too long, within its lifetime),
/// with its user, if that user may still sign in. Using it restarts its idle timeout.
pub async fn current(
    store: &Store,
    tenant: &Tenant,
    secret: Option<&str>,
) -> Result<Option<(Session, User)>> {
    let Some(secret) = secret.filter(|s| !s.is_empty() && s.len() <= 256) else {
        return Ok(None);
    };
    let Some(session) = store
        .session_by_secret(&tenant.id, &hash_secret(secret))
        .await?
    else {
        return Ok(None);
    };
    let now = now_ms();
    let settings = store.session_settings(&tenant.id).await?;
    if !session.usable(now, &settings) {
        return Ok(None);
    }
    if now - session.last_seen_at >= TOUCH_EVERY_MS {
        store.touch_session(&tenant.id, &session.id, now).await?;
    }
    let user = store.get_user(&tenant.id, &session.user_id).await?;
    Ok(user
        .filter(|u| u.status == UserStatus::Active)
        .map(|u| (session, u)))
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
}
