//! "Forgot password" (issue 15, account email): the sign-in page links to a form that answers
//! the same whatever the address (known, unknown, not active, over its limits); an active
//! user's address is mailed a single-use link (read here from the outbox, where the mail
//! waits); the link's page sets a new password by the tenant's rules, once (also when posted
//! many times at once), in its own tenant only, until it expires or a newer one replaces it;
//! using it ends every session and refresh token of the user and raises the mandatory
//! `security.password_changed` notification; nobody is signed in by it.

use crate::backends;
use crate::browser::{Browser, PASSWORD, Page, hidden, user_with_password};
use crate::common::{Backend, TestServer};
use crate::console_account::{signed_in, signed_in_with, still_signed_in};
use crate::refresh::{refresh, tokens, web_app};
use castellan::domain::mail::ClaimedMail;
use serde_json::json;
use std::time::Duration;

backends!(
    forgot_password_resets_once_and_ends_every_session,
    the_answer_is_the_same_whatever_the_address,
    a_reset_link_works_in_its_tenant_until_replaced_or_expired,
    one_reset_link_posted_at_once_sets_one_password,
);

pub(crate) const NEW_PASSWORD: &str = "a reset passphrase 2026";

/// An active user with a password (`user_with_password` makes an invited one, active at its
/// first sign-in); returns its id.
pub(crate) async fn active_user(s: &TestServer, email: &str) -> String {
    let u = user_with_password(s, email).await;
    let id = u["id"].as_str().unwrap().to_owned();
    let (st, v) = s.post(&format!("/users/{id}/activate"), json!({})).await;
    assert!(st.is_success(), "{v}");
    id
}

/// The mails of the outbox to `to` of `kind` (claimed, so read once), after waiting up to ten
/// seconds for `want` of them.
pub(crate) async fn mails_to(
    s: &TestServer,
    to: &str,
    kind: &str,
    want: usize,
) -> Vec<ClaimedMail> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    loop {
        let claimed = s.store.claim_mail(60_000, 100).await.unwrap();
        got.extend(claimed.into_iter().filter(|m| m.to == to && m.kind == kind));
        if got.len() >= want || tokio::time::Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The path of the link to `page` in a mail's text.
pub(crate) fn link_in(s: &TestServer, mail: &ClaimedMail, page: &str) -> String {
    let start = mail.text.find("http").expect("a link in the mail");
    let url = mail.text[start..].split_whitespace().next().unwrap();
    let path = url
        .strip_prefix(&s.public_url)
        .expect("under the public URL");
    assert!(path.starts_with(&format!("/t/acme/{page}?link=")), "{path}");
    path.to_owned()
}

/// Asks for a reset of `email` from a fresh browser: the answer page.
pub(crate) async fn forgot(s: &TestServer, email: &str) -> Page {
    let b = Browser::new(s);
    let form = b.get("/t/acme/forgot").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = hidden(&form.body, "csrf").expect("a CSRF field");
    b.post_form("/t/acme/forgot", &[("csrf", &csrf), ("email", email)])
        .await
}

/// The one reset link mailed to `email` after asking for it.
pub(crate) async fn reset_link(s: &TestServer, email: &str) -> String {
    let page = forgot(s, email).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let mails = mails_to(s, email, "password_reset", 1).await;
    assert_eq!(mails.len(), 1, "one mail");
    link_in(s, &mails[0], "reset")
}

/// Opens the reset page of `path` in `b` and posts `password` and `confirm`.
async fn reset(b: &Browser, path: &str, password: &str, confirm: &str) -> Page {
    let page = b.get(path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = hidden(&page.body, "csrf").expect("a CSRF field");
    let link = hidden(&page.body, "link").expect("the link");
    let form = [
        ("csrf", csrf.as_str()),
        ("link", link.as_str()),
        ("password", password),
        ("confirm", confirm),
    ];
    b.post_form("/t/acme/reset", &form).await
}

async fn signs_in(s: &TestServer, email: &str, password: &str) -> bool {
    let b = Browser::new(s);
    b.sign_in("/t/acme/login", email, password).await.status == 303
}

async fn forgot_password_resets_once_and_ends_every_session(b: Backend) {
    let s = TestServer::start(b).await;
    let (cid, secret) = web_app(&s, &["openid", "email"]).await;
    let client = (cid.as_str(), secret.as_str());
    let ada = user_with_password(&s, "ada@acme.test").await;
    let id = ada["id"].as_str().unwrap();
    let here = signed_in(&s, "ada@acme.test").await;
    let there = Browser::new(&s);
    let rt = tokens(&s, &there, client, "openid email", "ada@acme.test").await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let login = Browser::new(&s).get("/t/acme/login").await;
    assert!(
        login.body.contains("href=\"/t/acme/forgot\""),
        "{}",
        login.body
    );
    let path = reset_link(&s, "ada@acme.test").await;
    let (_, audit) = s.get(&format!("/audit?target_id={id}")).await;
    assert!(
        !audit
            .to_string()
            .contains(path.split("link=").nth(1).unwrap()),
        "no secret in the audit log"
    );
    let browser = Browser::new(&s);
    let form = browser.get(&path).await;
    assert!(form.body.contains("ada@acme.test"), "{}", form.body);
    // A mismatch or a guessable password keeps the link alive.
    for (p, c) in [
        (NEW_PASSWORD, "something else entirely"),
        ("password", "password"),
    ] {
        let refused = reset(&browser, &path, p, c).await;
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(refused.body.contains("role=\"alert\""), "{}", refused.body);
    }
    assert!(still_signed_in(&here).await, "nothing changed yet");
    let done = reset(&browser, &path, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body.contains("Your password was changed"),
        "{}",
        done.body
    );
    assert!(done.location.is_none(), "nobody is signed in by a reset");

    assert!(!still_signed_in(&here).await, "every session ended");
    assert!(
        !still_signed_in(&browser).await,
        "the link's browser is not signed in"
    );
    let (st, v) = refresh(&s, client, &rt, &[]).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    assert!(
        !signs_in(&s, "ada@acme.test", PASSWORD).await,
        "the old password"
    );
    signed_in_with(&s, "ada@acme.test", NEW_PASSWORD).await;

    // Used: its page says so, and posting it again does nothing.
    let again = browser.get(&path).await;
    assert_eq!(again.status, 410, "{}", again.body);
    assert!(
        again.body.contains("href=\"/t/acme/forgot\""),
        "{}",
        again.body
    );
    let link = path.split("link=").nth(1).unwrap();
    let stale = browser
        .post_form(
            "/t/acme/reset",
            &[
                ("link", link),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(stale.status, 410, "{}", stale.body);
    assert!(signs_in(&s, "ada@acme.test", NEW_PASSWORD).await);

    // The mandatory notification, and the audit entry.
    let pending = s.store.unmailed_notifications(100).await.unwrap();
    assert!(
        pending
            .iter()
            .any(|n| n.user.0 == id && n.event_type == "security.password_changed"),
        "{pending:?}"
    );
    let (_, audit) = s.get("/audit?action=user.password.reset").await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
}

/// The answer page without the address it repeats.
fn answer_of(page: &Page, email: &str) -> String {
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Check your mail"), "{}", page.body);
    page.body.replace(email, "ADDRESS")
}

async fn the_answer_is_the_same_whatever_the_address(b: Backend) {
    let s = TestServer::start_with(b, |c| {
        c.account_email.resets_per_address = 2;
        c.account_email.resets_per_client = 6;
    })
    .await;
    active_user(&s, "zoë@acme.test").await;
    let gone_id = active_user(&s, "gone@acme.test").await;
    let (st, _) = s
        .post(&format!("/users/{gone_id}/deactivate"), json!({}))
        .await;
    assert!(st.is_success());
    let (st, _) = s.post("/users", json!({"email": "new@acme.test"})).await;
    assert_eq!(st, 201, "an invited user");

    let known = answer_of(&forgot(&s, "zoë@acme.test").await, "zoë@acme.test");
    for other in [
        "nobody@acme.test",
        "gone@acme.test",
        "new@acme.test",
        "ZOË@acme.test",
    ] {
        let page = forgot(&s, other).await;
        assert_eq!(answer_of(&page, other), known, "{other}");
    }
    // The same address as typed differently is the same account: two mails so far.
    let zoe = mails_to(&s, "zoë@acme.test", "password_reset", 2).await;
    assert_eq!(zoe.len(), 2, "resets_per_address is 2");
    // Over the address's limit: the same page, no mail.
    let page = forgot(&s, "zoë@acme.test").await;
    assert_eq!(answer_of(&page, "zoë@acme.test"), known);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let all = s.store.claim_mail(60_000, 100).await.unwrap();
    assert!(
        all.is_empty(),
        "no other mail: {:?}",
        all.iter().map(|m| &m.to).collect::<Vec<_>>()
    );

    // Over the client's limit (6 requests): the same page, and a known address gets nothing.
    active_user(&s, "max@acme.test").await;
    let page = forgot(&s, "max@acme.test").await;
    assert_eq!(answer_of(&page, "max@acme.test"), known);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(s.store.claim_mail(60_000, 100).await.unwrap().is_empty());
    // A page without its CSRF token is refused.
    let b = Browser::new(&s);
    let refused = b
        .post_form("/t/acme/forgot", &[("email", "max@acme.test")])
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
}

async fn a_reset_link_works_in_its_tenant_until_replaced_or_expired(b: Backend) {
    let s = TestServer::start(b).await;
    s.other_tenant("globex").await;
    active_user(&s, "ada@acme.test").await;
    let older = reset_link(&s, "ada@acme.test").await;
    let newer = reset_link(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    assert_eq!(browser.get(&older).await.status, 410, "replaced");
    let elsewhere = newer.replace("/t/acme/", "/t/globex/");
    let page = browser.get(&elsewhere).await;
    assert_eq!(page.status, 410, "another tenant's link: {}", page.body);
    // Not a setup link either.
    let setup = newer.replace("/reset?", "/setup?");
    assert_eq!(browser.get(&setup).await.status, 410);
    assert_eq!(browser.get(&newer).await.status, 200);
    let expired = crate::hostile_gen::scalar_row(
        s.db_url(),
        "UPDATE user_links SET expires_at = 0 WHERE used_at IS NULL RETURNING CAST(1 AS BIGINT)",
    )
    .await;
    assert_eq!(expired, [1]);
    let page = browser.get(&newer).await;
    assert_eq!(page.status, 410, "{}", page.body);
    // In the person's browser language.
    let fr = browser
        .http
        .get(browser.absolute_url(&newer))
        .header("accept-language", "fr")
        .send()
        .await
        .unwrap();
    assert!(
        fr.text()
            .await
            .unwrap()
            .contains("Ce lien ne fonctionne plus")
    );
    assert!(signs_in(&s, "ada@acme.test", PASSWORD).await, "unchanged");
}

async fn one_reset_link_posted_at_once_sets_one_password(b: Backend) {
    let s = TestServer::start(b).await;
    active_user(&s, "ada@acme.test").await;
    let path = reset_link(&s, "ada@acme.test").await;
    let mut forms = Vec::new();
    for i in 0..6 {
        let browser = Browser::new(&s);
        let page = browser.get(&path).await;
        let csrf = hidden(&page.body, "csrf").unwrap();
        let link = hidden(&page.body, "link").unwrap();
        forms.push((browser, csrf, link, format!("racing reset passphrase {i}")));
    }
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(forms.len()));
    let posts: Vec<_> = forms
        .into_iter()
        .map(|(b, csrf, link, password)| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let form = [
                    ("csrf", csrf.as_str()),
                    ("link", link.as_str()),
                    ("password", password.as_str()),
                    ("confirm", password.as_str()),
                ];
                (b.post_form("/t/acme/reset", &form).await.status, password)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for post in posts {
        let (status, password) = post.await.unwrap();
        assert!(status == 200 || status == 410, "{status}");
        if status == 200 {
            winners.push(password);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one use wins: {winners:?}");
    assert!(signs_in(&s, "ada@acme.test", &winners[0]).await);
    let (_, audit) = s.get("/audit?action=user.password.reset").await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
}
