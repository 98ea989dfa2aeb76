//! Brute-force defence at the sign-in page, on SQLite and PostgreSQL: the account lock after
//! the failure factor (the same answer as a wrong password, also for unknown emails), exactly
//! the factor judged under parallel guesses, the admin API and CLI unlock, the per-address limit
//! across accounts, `X-Forwarded-For` believed only from a trusted proxy, the bounded hashing
//! queue (503 + `Retry-After`), and the audit entries with address and user agent.

use crate::backends;
use crate::browser::{PASSWORD, hidden, user_with_password};
use crate::common::{Backend, TestServer};
use serde_json::Value;

const REFUSED: &str = "Email or password is incorrect";
const UA: &str = "BruteForceTest/1.0 (castellan)";

/// The cookies and CSRF token a browser gets with the sign-in page (the token is bound to the
/// browser's CSRF nonce cookie, so a client cannot choose it).
async fn form_pair(base: &str) -> (String, String) {
    let res = no_redirects()
        .get(format!("{base}/t/acme/login"))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect();
    let html = res.text().await.unwrap();
    let csrf = hidden(&html, "csrf").expect("a CSRF field on the sign-in page");
    (cookies.join("; "), csrf)
}

/// One sign-in attempt (a fresh connection, the CSRF pair of a freshly fetched sign-in page):
/// (status, headers, body).
async fn attempt(
    s: &TestServer,
    email: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let (cookie, csrf) = form_pair(&s.base).await;
    let mut req = no_redirects()
        .post(format!("{}/t/acme/login", s.base))
        .header("cookie", cookie)
        .header("user-agent", UA)
        .form(&[("email", email), ("password", password), ("csrf", &csrf)]);
    if let Some(xff) = forwarded_for {
        req = req.header("x-forwarded-for", xff);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    // Each attempt comes from a fresh browser with its own CSRF token: the rest of the page is
    // what two answers are compared on.
    let body = res.text().await.unwrap().replace(&csrf, "{csrf}");
    (status, headers, body)
}

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Audit entries with `action`, oldest first.
async fn audit(s: &TestServer, action: &str) -> Vec<Value> {
    let (st, v) = s.get(&format!("/audit?action={action}&limit=1000")).await;
    assert_eq!(st, 200, "{v}");
    let mut items = v["items"].as_array().unwrap().clone();
    items.reverse();
    items
}

/// Five wrong passwords lock the account: the sixth attempt, even with the right password, gets
/// the very page a wrong password gets; an unknown email behaves the same. The administrator
/// sees the lock and clears it; each step is audited with the address and user agent.
async fn account_locks_after_the_failure_factor(b: Backend) {
    let s = TestServer::start(b).await;
    let ada = user_with_password(&s, "ada@acme.test").await;
    let id = ada["id"].as_str().unwrap();
    let mut wrong_page = None;
    for i in 0..5 {
        let (st, _, body) = attempt(&s, "ada@acme.test", "wrong password!", None).await;
        assert_eq!(st, 401, "attempt {i}: {body}");
        assert!(body.contains(REFUSED));
        wrong_page = Some(body);
    }
    let (st, _, body) = attempt(&s, "ada@acme.test", PASSWORD, None).await;
    assert_eq!(st, 401, "locked: the right password is refused");
    assert_eq!(
        Some(body),
        wrong_page,
        "the same answer as a wrong password"
    );
    // An unknown email: throttled the same way, answered the same way.
    let mut ghost = Vec::new();
    for _ in 0..6 {
        let (st, _, body) = attempt(&s, "ghost@acme.test", "wrong password!", None).await;
        assert_eq!(st, 401);
        ghost.push(body.replace("ghost@acme.test", "ada@acme.test"));
    }
    assert!(ghost.iter().all(|b| Some(b) == wrong_page.as_ref()));

    let (st, lock) = s.get(&format!("/users/{id}/sign-in-lock")).await;
    assert_eq!(st, 200, "{lock}");
    assert_eq!(lock["password"]["locked"], true, "{lock}");
    assert_eq!(lock["password"]["failures"], 5, "{lock}");
    assert_eq!(lock["password"]["permanent"], false, "{lock}");
    assert!(lock["password"]["locked_until"].is_string(), "{lock}");
    assert_eq!(lock["second_factor"]["locked"], false, "{lock}");

    let failed = audit(&s, "user.sign_in_failed").await;
    assert_eq!(failed.len(), 5 + 5, "5 judged per subject: {failed:#?}");
    for e in &failed {
        assert_eq!(e["ip"], "127.0.0.1", "{e}");
        assert_eq!(e["after"]["user_agent"], UA, "{e}");
    }
    assert_eq!(failed[0]["target_id"], id);
    assert!(
        failed.iter().any(|e| e["target_id"].is_null()),
        "unknown email"
    );
    let locked = audit(&s, "user.sign_in_locked").await;
    assert_eq!(locked.len(), 2, "{locked:#?}");
    assert_eq!(locked[0]["target_id"], id);
    assert_eq!(locked[0]["ip"], "127.0.0.1");
    assert_eq!(locked[0]["after"]["user_agent"], UA);

    let res = s
        .client
        .delete(s.url(&format!("/users/{id}/sign-in-lock")))
        .bearer_auth(&s.token)
        .header("user-agent", UA)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let before: Value = res.json().await.unwrap();
    assert_eq!(
        before["password"]["locked"], true,
        "answers the state before"
    );
    let (_, lock) = s.get(&format!("/users/{id}/sign-in-lock")).await;
    assert_eq!(lock["password"]["locked"], false, "{lock}");
    assert_eq!(lock["password"]["failures"], 0, "{lock}");
    let unlocked = audit(&s, "user.sign_in_unlocked").await;
    assert_eq!(unlocked.len(), 1);
    assert_eq!(unlocked[0]["target_id"], id);
    assert_eq!(unlocked[0]["ip"], "127.0.0.1");
    assert_eq!(unlocked[0]["after"]["user_agent"], UA);

    let (st, _, _) = attempt(&s, "ada@acme.test", PASSWORD, None).await;
    assert_eq!(st, 303, "unlocked: signs in");
    let signed = audit(&s, "user.sign_in").await;
    assert_eq!(signed.len(), 1);
    assert_eq!(
        signed[0]["ip"], "127.0.0.1",
        "user.sign_in carries the address"
    );
    // A success forgets the failures.
    let (_, lock) = s.get(&format!("/users/{id}/sign-in-lock")).await;
    assert_eq!(lock["password"]["failures"], 0, "{lock}");
}

/// 30 wrong passwords at once against one account: exactly the failure factor (5) are judged
/// (hashed and audited), the rest are refused under the lock unjudged.
async fn parallel_guesses_judge_exactly_the_factor(b: Backend) {
    let s = TestServer::start(b).await;
    user_with_password(&s, "ada@acme.test").await;
    let guesses = (0..30)
        .map(|i| ("ada@acme.test".to_owned(), format!("guess number {i}")))
        .collect();
    let answers = at_once(&s, guesses).await;
    assert!(answers.iter().all(|(st, _, _)| *st == 401));
    assert_eq!(audit(&s, "user.sign_in_failed").await.len(), 5);
    assert_eq!(audit(&s, "user.sign_in_locked").await.len(), 1);
}

/// Sends `attempts` (email, password) at once, each on a task of its own; the answers in order.
async fn at_once(
    s: &TestServer,
    attempts: Vec<(String, String)>,
) -> Vec<(u16, reqwest::header::HeaderMap, String)> {
    let mut tasks = Vec::new();
    for (email, password) in attempts {
        let (client, base) = (no_redirects(), s.base.clone());
        let (cookie, csrf) = form_pair(&base).await;
        tasks.push(tokio::spawn(async move {
            let res = client
                .post(format!("{base}/t/acme/login"))
                .header("cookie", cookie)
                .header("user-agent", UA)
                .form(&[("email", &email), ("password", &password), ("csrf", &csrf)])
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            (status, headers, res.text().await.unwrap())
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// The CLI shows and clears a lock, audited as the CLI.
async fn cli_shows_and_clears_a_lock(b: Backend) {
    let s = TestServer::start(b).await;
    user_with_password(&s, "ada@acme.test").await;
    for _ in 0..5 {
        attempt(&s, "ada@acme.test", "wrong password!", None).await;
    }
    let limits = castellan::limits::SignInLimits::default();
    let (email, state) =
        castellan::cli::sign_in_lock(&s.store, &limits, "acme", "ada@acme.test", false)
            .await
            .unwrap();
    assert_eq!(email, "ada@acme.test");
    assert!(state.password.locked && state.locked());
    let (_, before) =
        castellan::cli::sign_in_lock(&s.store, &limits, "acme", "Ada@acme.test", true)
            .await
            .unwrap();
    assert!(before.password.locked);
    let (_, after) =
        castellan::cli::sign_in_lock(&s.store, &limits, "acme", "ada@acme.test", false)
            .await
            .unwrap();
    assert!(!after.locked());
    let e = castellan::cli::sign_in_lock(&s.store, &limits, "acme", "nobody@acme.test", true)
        .await
        .unwrap_err();
    assert!(e.contains("no user"), "{e}");
    let unlocked = audit(&s, "user.sign_in_unlocked").await;
    assert_eq!(unlocked.len(), 1);
    assert_eq!(unlocked[0]["actor_kind"], "token");
    let (st, _, _) = attempt(&s, "ada@acme.test", PASSWORD, None).await;
    assert_eq!(st, 303);
}

/// One client address spraying wrong passwords over many accounts (each below its own limit)
/// is stopped by the address limit; the same user from another address still signs in. Behind a
/// trusted proxy, the address is the one `X-Forwarded-For` names.
async fn address_limit_spans_accounts(b: Backend) {
    let s = TestServer::start_with(b, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".into()];
        c.sign_in.address_failure_factor = 8;
    })
    .await;
    user_with_password(&s, "ada@acme.test").await;
    let attacker = Some("198.51.100.7");
    for i in 0..8 {
        let email = format!("user{i}@acme.test");
        let (st, _, _) = attempt(&s, &email, "wrong password!", attacker).await;
        assert_eq!(st, 401);
    }
    let (st, _, body) = attempt(&s, "ada@acme.test", PASSWORD, attacker).await;
    assert_eq!(st, 401, "the address is locked: {body}");
    assert!(body.contains(REFUSED));
    let (st, _, _) = attempt(&s, "ada@acme.test", PASSWORD, Some("198.51.100.8")).await;
    assert_eq!(st, 303, "another address is not");
    let locked = audit(&s, "address.sign_in_locked").await;
    assert_eq!(locked.len(), 1, "{locked:#?}");
    assert_eq!(locked[0]["target_id"], "198.51.100.7");
    assert_eq!(locked[0]["ip"], "198.51.100.7");
    assert_eq!(audit(&s, "user.sign_in_failed").await.len(), 8);
}

/// `X-Forwarded-For` is believed only when the peer is a trusted proxy, and then only its
/// right-most untrusted entry (a client can prepend anything).
async fn forwarded_for_only_from_trusted_proxies(b: Backend) {
    let s = TestServer::start(b).await;
    attempt(&s, "a@acme.test", "wrong password!", Some("198.51.100.9")).await;
    let e = audit(&s, "user.sign_in_failed").await;
    assert_eq!(e[0]["ip"], "127.0.0.1", "no trusted proxy: the peer");

    let s = TestServer::start_with(b, |c| c.trusted_proxies = vec!["127.0.0.0/8".into()]).await;
    attempt(&s, "a@acme.test", "wrong password!", Some("198.51.100.9")).await;
    attempt(
        &s,
        "b@acme.test",
        "wrong password!",
        Some("6.6.6.6, 198.51.100.10, 127.0.0.2"),
    )
    .await;
    attempt(&s, "c@acme.test", "wrong password!", None).await;
    let ips: Vec<Value> = audit(&s, "user.sign_in_failed")
        .await
        .iter()
        .map(|e| e["ip"].clone())
        .collect();
    assert_eq!(ips, ["198.51.100.9", "198.51.100.10", "127.0.0.1"]);
}

/// With a hashing queue of one place, a burst of sign-ins gets some "try again shortly" pages
/// (503 with `Retry-After`), never an error; those are not counted as failures.
async fn full_hashing_queue_answers_503(b: Backend) {
    let s = TestServer::start_with(b, |c| c.sign_in.hash_queue = 1).await;
    let burst = (0..24)
        .map(|i| (format!("nobody{i}@acme.test"), "wrong password!".to_owned()))
        .collect();
    let answers = at_once(&s, burst).await;
    let busy: Vec<_> = answers.iter().filter(|(st, _, _)| *st == 503).collect();
    let refused = answers.iter().filter(|(st, _, _)| *st == 401).count();
    assert_eq!(busy.len() + refused, answers.len(), "only 401 and 503");
    assert!(
        !busy.is_empty(),
        "one place cannot take 24 sign-ins at once"
    );
    for (_, headers, body) in busy {
        assert_eq!(headers["retry-after"], "1");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(body.contains("Please try again shortly"), "{body}");
    }
    assert_eq!(audit(&s, "user.sign_in_failed").await.len(), refused);
    // The queue is free again afterwards.
    let ada = user_with_password(&s, "ada@acme.test").await;
    let (st, _, _) = attempt(&s, "ada@acme.test", PASSWORD, None).await;
    assert_eq!(st, 303);
    // The admin API's password changes take places too: 503 problem+json with Retry-After.
    let url = s.url(&format!("/users/{}/password", ada["id"].as_str().unwrap()));
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (client, url, token) = (s.client.clone(), url.clone(), s.token.clone());
        tasks.push(tokio::spawn(async move {
            let res = client
                .put(url)
                .bearer_auth(token)
                .json(&serde_json::json!({ "password": format!("new passphrase {i}") }))
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.headers().clone())
        }));
    }
    let mut busy = 0;
    for t in tasks {
        let (st, headers) = t.await.unwrap();
        assert!(st == 204 || st == 503, "{st}");
        if st == 503 {
            busy += 1;
            assert_eq!(headers["retry-after"], "1");
            assert_eq!(headers["content-type"], "application/problem+json");
        }
    }
    assert!(
        busy > 0,
        "one place cannot take 12 password changes at once"
    );
}

backends!(
    account_locks_after_the_failure_factor,
    parallel_guesses_judge_exactly_the_factor,
    cli_shows_and_clears_a_lock,
    address_limit_spans_accounts,
    forwarded_for_only_from_trusted_proxies,
    full_hashing_queue_answers_503,
);
