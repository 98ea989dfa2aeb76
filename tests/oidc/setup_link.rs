//! The owner's set-up link (issue 14, "Getting in"): a single-use link with which the tenant's
//! owner chooses a password and reaches the console, with no mail server. It works once (also
//! when posted many times at once), until it expires, in its own tenant only, and a newer link
//! replaces it; the form has CSRF protection and the tenant's password rules.

use crate::backends;
use crate::browser::{Browser, hidden};
use crate::common::{Backend, TestServer};
use castellan::admin::setup_links::issue_owner_setup;
use castellan::domain::audit::Actor;

const OWNER: &str = "owner@acme.test";

async fn link_for(s: &TestServer, slug: &str) -> String {
    let tenant = s.store.tenant_by_slug(slug).await.unwrap().unwrap();
    let url = issue_owner_setup(&s.store, &tenant, &s.base, &Actor::cli())
        .await
        .unwrap();
    let path = url.strip_prefix(&s.base).expect("under the public URL");
    assert!(
        path.starts_with(&format!("/t/{slug}/setup?link=")),
        "{path}"
    );
    path.to_owned()
}

fn secret_of(path: &str) -> String {
    path.split("link=").nth(1).unwrap().to_owned()
}

/// Posts the set-up form of `path` (opened first, for its CSRF cookie and field).
async fn set(b: &Browser, path: &str, password: &str, confirm: &str) -> crate::browser::Page {
    let page = b.get(path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = hidden(&page.body, "csrf").expect("a CSRF field");
    let link = hidden(&page.body, "link").expect("the link");
    b.post_form(
        "/t/acme/setup",
        &[
            ("csrf", &csrf),
            ("link", &link),
            ("password", password),
            ("confirm", confirm),
        ],
    )
    .await
}

async fn signs_in(s: &TestServer, password: &str) -> bool {
    let b = Browser::new(s);
    b.sign_in("/t/acme/login", OWNER, password).await.status == 303
}

async fn owner_sets_a_password_with_the_link_once(b: Backend) {
    let s = TestServer::start(b).await;
    let path = link_for(&s, "acme").await;
    let browser = Browser::new(&s);

    // Unknown links, and links of another tenant, say what to do.
    let gone = browser.get("/t/acme/setup?link=not-a-link").await;
    assert_eq!(gone.status, 410, "{}", gone.body);
    assert!(
        gone.body.contains("castellan tenant setup-link acme"),
        "{}",
        gone.body
    );
    s.other_tenant("other").await;
    let elsewhere = browser
        .get(&format!("/t/other/setup?link={}", secret_of(&path)))
        .await;
    assert_eq!(elsewhere.status, 410, "a link works in its own tenant only");

    let page = browser.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(OWNER), "{}", page.body);
    let link = hidden(&page.body, "link").unwrap();
    // No CSRF token, or a wrong one: refused, nothing set.
    for csrf in ["", "forged"] {
        let res = browser
            .post_form(
                "/t/acme/setup",
                &[
                    ("csrf", csrf),
                    ("link", &link),
                    ("password", "a first long passphrase"),
                    ("confirm", "a first long passphrase"),
                ],
            )
            .await;
        assert_eq!(res.status, 403, "{}", res.body);
    }
    // Two different passwords, a common one, the owner's own email: the form again, with why.
    for (password, confirm, why) in [
        (
            "a first long passphrase",
            "another one entirely",
            "not the same",
        ),
        ("password1", "password1", ""),
        (OWNER, OWNER, ""),
    ] {
        let res = set(&browser, &path, password, confirm).await;
        assert_eq!(res.status, 422, "{password}: {}", res.body);
        assert!(res.body.contains("role=\"alert\""), "{}", res.body);
        assert!(res.body.contains(why), "{}", res.body);
        assert!(
            !res.body.contains(&format!("value=\"{password}\"")),
            "never echoed"
        );
    }
    assert!(
        !signs_in(&s, "a first long passphrase").await,
        "nothing set yet"
    );

    let done = set(
        &browser,
        &path,
        "a first long passphrase",
        "a first long passphrase",
    )
    .await;
    // Signed in at once: the owner goes to the console, and is active.
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/t/acme/console"));
    let (_, owner) = s.get("/owner").await;
    assert_eq!(owner["status"], "active", "{owner}");
    assert!(signs_in(&s, "a first long passphrase").await);
    let console = browser.get("/t/acme/console/users").await;
    assert_eq!(console.status, 200, "{}", console.body);
    assert!(console.body.contains("<h1>Users</h1>"));

    // Used: the link is gone, the password stays.
    let again = browser.get(&path).await;
    assert_eq!(again.status, 410);
    let (st, log) = s.get("/audit?action=user.password.set").await;
    assert_eq!(st, 200);
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
    assert_eq!(log["items"][0]["actor_kind"], "user");
    let (_, issued) = s.get("/audit?action=user.link.issue").await;
    assert!(
        !issued.to_string().contains(&secret_of(&path)),
        "no secret in the audit log"
    );

    // A newer link replaces an unused one; an expired link does not work.
    let older = link_for(&s, "acme").await;
    let newer = link_for(&s, "acme").await;
    assert_eq!(browser.get(&older).await.status, 410);
    assert_eq!(browser.get(&newer).await.status, 200);
    let expired = crate::hostile_gen::scalar_row(
        s.db_url(),
        "UPDATE user_links SET expires_at = 0 WHERE used_at IS NULL RETURNING CAST(1 AS BIGINT)",
    )
    .await;
    assert_eq!(expired, [1]);
    assert_eq!(browser.get(&newer).await.status, 410);
    assert!(signs_in(&s, "a first long passphrase").await);
}

/// Posted many times at once with different passwords, a link sets exactly one of them.
async fn a_link_sets_one_password_when_posted_at_once(b: Backend) {
    let s = TestServer::start(b).await;
    let path = link_for(&s, "acme").await;
    let mut forms = Vec::new();
    for i in 0..6 {
        let browser = Browser::new(&s);
        let page = browser.get(&path).await;
        let csrf = hidden(&page.body, "csrf").unwrap();
        let link = hidden(&page.body, "link").unwrap();
        forms.push((browser, csrf, link, format!("racing passphrase number {i}")));
    }
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(forms.len()));
    let posts: Vec<_> = forms
        .into_iter()
        .map(|(b, csrf, link, password)| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let res = b
                    .post_form(
                        "/t/acme/setup",
                        &[
                            ("csrf", &csrf),
                            ("link", &link),
                            ("password", &password),
                            ("confirm", &password),
                        ],
                    )
                    .await;
                (res.status, password)
            })
        })
        .collect();
    let mut results = Vec::new();
    for post in posts {
        results.push(post.await.unwrap());
    }
    let winners: Vec<&String> = results
        .iter()
        .filter(|(st, _)| *st == 303)
        .map(|(_, p)| p)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(
        results.iter().all(|(st, _)| *st == 303 || *st == 410),
        "{results:?}"
    );
    // The stored password is the winner's (one hash: no other can match as well).
    assert!(signs_in(&s, winners[0]).await, "{}", winners[0]);
    let (_, log) = s.get("/audit?action=user.password.set").await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
}

backends!(
    owner_sets_a_password_with_the_link_once,
    a_link_sets_one_password_when_posted_at_once
);
