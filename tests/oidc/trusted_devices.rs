//! Device cookies (OWASP's "Slow Down Online Guessing Attacks with Device Cookies") at the
//! sign-in page, on SQLite and PostgreSQL: the cookie a sign-in sets and renews; a returning
//! user's sign-in admitted by a reserved place of a hashing queue that untrusted attempts fill;
//! forged, other-user, other-tenant and expired cookies giving no priority and otherwise ignored;
//! the owner of an account locked by guesses from elsewhere signing in from their device; and
//! the device's own failure limit.

use crate::backends;
use crate::browser::{PASSWORD, hidden, user_with_password};
use crate::common::{Backend, TestServer};
use castellan::domain::clock::now_ms;
use castellan::domain::devices;
use castellan::domain::sealing::MasterKey;
use castellan::domain::{TenantId, UserId};
use serde_json::Value;

/// (status, the device cookie set if any (its whole `Set-Cookie`), body with the CSRF token
/// blanked).
type Answer = (u16, Option<String>, String);

/// One sign-in from a fresh browser carrying `device` as its device cookie.
async fn sign_in(s: &TestServer, email: &str, password: &str, device: Option<&str>) -> Answer {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(format!("{}/t/acme/login", s.base))
        .send()
        .await
        .unwrap();
    let mut cookies: Vec<String> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect();
    let csrf = hidden(&page.text().await.unwrap(), "csrf").unwrap();
    if let Some(d) = device {
        cookies.push(format!("castellan_device={d}"));
    }
    let res = http
        .post(format!("{}/t/acme/login", s.base))
        .header("cookie", cookies.join("; "))
        .form(&[("email", email), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let set = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("castellan_device="))
        .map(str::to_owned);
    let body = res.text().await.unwrap().replace(&csrf, "{csrf}");
    (status, set, body)
}

/// The value of a `Set-Cookie` header.
fn value(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap();
    pair.split_once('=').unwrap().1.to_owned()
}

/// Signs `email` in and returns the device cookie's value.
async fn device_of(s: &TestServer, email: &str) -> String {
    let (st, set, body) = sign_in(s, email, PASSWORD, None).await;
    assert_eq!(st, 303, "{body}");
    value(&set.expect("a device cookie"))
}

async fn failures(s: &TestServer, user: &Value) -> Value {
    let id = user["id"].as_str().unwrap();
    let (st, lock) = s.get(&format!("/users/{id}/sign-in-lock")).await;
    assert_eq!(st, 200, "{lock}");
    lock["password"]["failures"].clone()
}

async fn audit(s: &TestServer, action: &str) -> Vec<Value> {
    let (st, v) = s.get(&format!("/audit?action={action}&limit=1000")).await;
    assert_eq!(st, 200, "{v}");
    let mut items = v["items"].as_array().unwrap().clone();
    items.reverse();
    items
}

/// A successful sign-in sets the device cookie (HttpOnly, SameSite=Lax, the configured
/// lifetime); each sign-in replaces it with a new one; a refused sign-in sets none.
async fn sign_in_sets_and_renews_the_device_cookie(b: Backend) {
    let s = TestServer::start_with(b, |c| c.sign_in.device_cookie_days = 2).await;
    user_with_password(&s, "ada@acme.test").await;
    let (st, set, _) = sign_in(&s, "ada@acme.test", PASSWORD, None).await;
    assert_eq!(st, 303);
    let set = set.expect("a device cookie");
    let attrs: Vec<&str> = set.split("; ").skip(1).collect();
    assert_eq!(
        attrs,
        ["Path=/t/acme", "HttpOnly", "SameSite=Lax", "Max-Age=172800"],
        "{set}"
    );
    let first = value(&set);
    let (st, again, _) = sign_in(&s, "ada@acme.test", PASSWORD, Some(&first)).await;
    assert_eq!(st, 303);
    let second = value(&again.expect("renewed"));
    assert_ne!(second, first, "a new nonce and expiry at each sign-in");
    let (st, none, _) = sign_in(&s, "ada@acme.test", "wrong password!", Some(&second)).await;
    assert_eq!((st, none), (401, None));

    let off = TestServer::start_with(b, |c| c.sign_in.device_cookie_days = 0).await;
    user_with_password(&off, "ada@acme.test").await;
    let (st, none, _) = sign_in(&off, "ada@acme.test", PASSWORD, None).await;
    assert_eq!((st, none), (303, None), "0 days: no device cookies");
}

/// Every open place of a one-place hashing queue held (as by untrusted attempts waiting for
/// argon2): an untrusted sign-in gets "try again shortly"; the returning user's sign-in takes a
/// reserved place and succeeds. Cookies that are forged, for another user, another tenant, or
/// expired give no priority. When the reserved place is taken as well, the trusted user is
/// turned away too (the queue stays bounded).
async fn trusted_device_is_admitted_past_a_full_queue(b: Backend) {
    let s = TestServer::start_with(b, |c| {
        c.sign_in.hash_queue = 1;
        c.sign_in.trusted_hash_queue = 1;
    })
    .await;
    let ada = user_with_password(&s, "ada@acme.test").await;
    let bob = user_with_password(&s, "bob@acme.test").await;
    let ada_device = device_of(&s, "ada@acme.test").await;
    let bob_device = device_of(&s, "bob@acme.test").await;
    let key = s.store.master_key().unwrap();
    let tenant = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let ada_id = UserId::parse(ada["id"].as_str().unwrap()).unwrap();
    let year = 365 * 86_400;
    let forged = devices::issue(&MasterKey::generate(), &tenant.id, &ada_id, now_ms(), year);
    let other_tenant = devices::issue(key, &TenantId::generate(), &ada_id, now_ms(), year);
    let expired = devices::issue(key, &tenant.id, &ada_id, now_ms() - 2 * year * 1000, year);
    let mut tampered = ada_device.clone().into_bytes();
    tampered[5] = if tampered[5] == b'x' { b'y' } else { b'x' };
    let tampered = String::from_utf8(tampered).unwrap();

    let held = s.hash_queue.enter().unwrap();
    let (st, _, busy) = sign_in(&s, "ada@acme.test", PASSWORD, None).await;
    assert_eq!(st, 503, "{busy}");
    assert!(busy.contains("Please try again shortly"));
    for bad in [&forged, &other_tenant, &expired, &tampered, &bob_device] {
        let (st, _, body) = sign_in(&s, "ada@acme.test", PASSWORD, Some(bad)).await;
        assert_eq!((st, &body), (503, &busy), "no priority for {bad}");
    }
    // A valid cookie with an email it does not name: no priority, whether the email exists.
    for email in ["bob@acme.test", "nobody@acme.test"] {
        let (st, _, body) = sign_in(&s, email, PASSWORD, Some(&ada_device)).await;
        assert_eq!((st, &body), (503, &busy), "{email}");
    }
    let (st, set, _) = sign_in(&s, "ada@acme.test", PASSWORD, Some(&ada_device)).await;
    assert_eq!(st, 303, "the trusted device is admitted");
    assert!(set.is_some());

    let reserved = s.hash_queue.enter_trusted().unwrap();
    let (st, _, body) = sign_in(&s, "ada@acme.test", PASSWORD, Some(&ada_device)).await;
    assert_eq!((st, &body), (503, &busy), "bounded for trusted devices too");
    drop((held, reserved));

    // With places free, a cookie naming another user changes nothing: bob's wrong password
    // gets the page it gets without a cookie and counts on bob's account.
    let (st, _, with) = sign_in(&s, "bob@acme.test", "wrong password!", Some(&ada_device)).await;
    let (_, _, without) = sign_in(&s, "bob@acme.test", "wrong password!", None).await;
    assert_eq!(st, 401);
    assert_eq!(with, without);
    assert_eq!(failures(&s, &bob).await, 2);
    let failed = audit(&s, "user.sign_in_failed").await;
    assert!(failed.iter().all(|e| e["after"]["trusted_device"] == false));
}

/// Guesses from elsewhere lock ada's account: her own browser still signs her in, and the lock
/// stays for everyone else (her success does not clear the attacker's count).
async fn account_locked_by_others_lets_its_trusted_device_in(b: Backend) {
    let s = TestServer::start(b).await;
    let ada = user_with_password(&s, "ada@acme.test").await;
    let device = device_of(&s, "ada@acme.test").await;
    for _ in 0..5 {
        let (st, _, _) = sign_in(&s, "ada@acme.test", "attacker guess", None).await;
        assert_eq!(st, 401);
    }
    let (st, _, _) = sign_in(&s, "ada@acme.test", PASSWORD, None).await;
    assert_eq!(st, 401, "locked for untrusted browsers");
    let (st, _, _) = sign_in(&s, "ada@acme.test", PASSWORD, Some(&device)).await;
    assert_eq!(st, 303, "not for her trusted device");
    assert_eq!(failures(&s, &ada).await, 5, "the account's count stays");
    let (st, _, _) = sign_in(&s, "ada@acme.test", PASSWORD, None).await;
    assert_eq!(st, 401, "still locked for others");
}

/// Wrong passwords from a trusted device count on the device's own counter (audited as trusted,
/// not on the account); at the failure factor the device is locked (audited) and stops being
/// trusted: further attempts with it count on the account like any browser's.
async fn trusted_failures_are_limited(b: Backend) {
    let s = TestServer::start_with(b, |c| c.sign_in.failure_factor = 3).await;
    let ada = user_with_password(&s, "ada@acme.test").await;
    let device = device_of(&s, "ada@acme.test").await;
    for _ in 0..3 {
        let (st, _, _) = sign_in(&s, "ada@acme.test", "stolen cookie guess", Some(&device)).await;
        assert_eq!(st, 401);
    }
    assert_eq!(failures(&s, &ada).await, 0, "not on the account");
    let locked = audit(&s, "device.sign_in_locked").await;
    assert_eq!(locked.len(), 1, "{locked:#?}");
    assert_eq!(locked[0]["target_id"], ada["id"]);
    for _ in 0..3 {
        let (st, _, _) = sign_in(&s, "ada@acme.test", "stolen cookie guess", Some(&device)).await;
        assert_eq!(st, 401);
    }
    assert_eq!(
        failures(&s, &ada).await,
        3,
        "a locked device counts on the account"
    );
    let failed = audit(&s, "user.sign_in_failed").await;
    let trusted: Vec<_> = failed
        .iter()
        .map(|e| e["after"]["trusted_device"].as_bool().unwrap())
        .collect();
    assert_eq!(trusted, [true, true, true, false, false, false]);
    assert!(failed.iter().all(|e| e["target_id"] == ada["id"]));
    let (st, _, _) = sign_in(&s, "ada@acme.test", PASSWORD, Some(&device)).await;
    assert_eq!(
        st, 401,
        "the device is locked and so is the account: 6 guesses in all"
    );
}

backends!(
    sign_in_sets_and_renews_the_device_cookie,
    trusted_device_is_admitted_past_a_full_queue,
    account_locked_by_others_lets_its_trusted_device_in,
    trusted_failures_are_limited,
);
