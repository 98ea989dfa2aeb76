//! Invitations (issue 15): `POST /users/{id}/invitation` (and `POST /users` with `"invite":
//! true`) issues a single-use link that expires; the link page sets the password, makes the
//! user active, signs them in and sends them on (to the second-factor page when the policy
//! requires one); sending again kills the old link; a used, expired or foreign link gets a
//! translated page; the link is never stored nor audited, only returned to its sender.

use crate::backends;
use crate::browser::{Browser, Page, hidden};
use crate::common::{Backend, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PASSPHRASE: &str = "a long invited passphrase";

/// Creates an invited user with their invitation: (user, the link's path).
async fn invite(s: &TestServer, email: &str) -> (Value, String) {
    let (st, v) = s
        .post("/users", json!({"email": email, "invite": true}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let path = path_of(s, v["invitation"]["link"].as_str().expect("the link, once"));
    (v, path)
}

fn path_of(s: &TestServer, link: &str) -> String {
    let path = link
        .strip_prefix(&s.public_url)
        .expect("under the public URL");
    assert!(path.starts_with("/t/acme/setup?link="), "{path}");
    path.to_owned()
}

fn secret_of(path: &str) -> String {
    path.split("link=").nth(1).unwrap().to_owned()
}

/// Opens the link page and posts the form with `password` twice.
async fn accept(b: &Browser, path: &str, password: &str) -> Page {
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
            ("confirm", password),
        ],
    )
    .await
}

async fn get_in(b: &Browser, path: &str, lang: &str) -> Page {
    let res = b
        .http
        .get(b.absolute_url(path))
        .header("accept-language", lang)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    Page {
        status,
        location: None,
        content_type: String::new(),
        body: res.text().await.unwrap(),
    }
}

async fn state(s: &TestServer, id: &str) -> Value {
    let (st, v) = s.get(&format!("/users/{id}/invitation")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

async fn invited_person_sets_a_password_and_lands_signed_in(b: Backend) {
    let s = TestServer::start(b).await;
    let (user, path) = invite(&s, "ines@acme.test").await;
    let id = user["id"].as_str().unwrap();
    assert_eq!(user["status"], "invited");
    let sent = &user["invitation"];
    assert_eq!(sent["status"], "pending");
    assert_eq!(sent["times_sent"], 1);
    assert_eq!(sent["last_delivery"], "shown");
    let st = state(&s, id).await;
    assert_eq!(st["status"], "pending");
    assert_eq!(st["pending_since"], sent["pending_since"]);
    assert!(st.get("link").is_none(), "the link is shown once: {st}");

    let browser = Browser::new(&s);
    let page = browser.get(&path).await;
    assert!(page.body.contains("ines@acme.test"), "{}", page.body);
    assert!(page.body.contains("You are invited"), "{}", page.body);
    let done = accept(&browser, &path, PASSPHRASE).await;
    assert_eq!(done.status, 303, "{}", done.body);
    // A member holds no administration permission: the account portal.
    assert_eq!(done.location.as_deref(), Some("/t/acme/account"));
    let (_, u) = s.get(&format!("/users/{id}")).await;
    assert_eq!(u["status"], "active", "{u}");
    let portal = browser.get("/t/acme/account").await;
    assert_eq!(portal.status, 200, "signed in: {}", portal.body);
    assert!(portal.body.contains("ines@acme.test"));
    assert_eq!(state(&s, id).await["status"], "accepted");

    // Used: the page says what to do; the password works at the sign-in page.
    let again = browser.get(&path).await;
    assert_eq!(again.status, 410, "{}", again.body);
    assert!(
        again.body.contains("send you a new invitation"),
        "{}",
        again.body
    );
    let other = Browser::new(&s);
    let signed = other
        .sign_in("/t/acme/login", "ines@acme.test", PASSPHRASE)
        .await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    // An active user is not invited again.
    let (st, v) = s.post(&format!("/users/{id}/invitation"), json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");

    // The audit log records the sending, never the secret.
    let (_, log) = s.get("/audit?action=user.invite").await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
    let (_, all) = s.get("/audit?limit=200").await;
    assert!(!all.to_string().contains(&secret_of(&path)), "no secret");
}

/// An administrator of the tenant lands in the console; the owner's set-up link and an
/// invitation are both taken by the same page.
async fn invited_administrator_lands_in_the_console(b: Backend) {
    let s = TestServer::start(b).await;
    let admin_role = s.role_id("administrator").await;
    let (st, v) = s
        .post(
            "/users",
            json!({"email": "ada@acme.test", "role_ids": [admin_role], "invite": true}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let path = path_of(&s, v["invitation"]["link"].as_str().unwrap());
    let browser = Browser::new(&s);
    let done = accept(&browser, &path, PASSPHRASE).await;
    assert_eq!(
        done.location.as_deref(),
        Some("/t/acme/console"),
        "{}",
        done.body
    );
    let users = browser.get("/t/acme/console/users").await;
    assert_eq!(users.status, 200, "{}", users.body);
}

async fn sending_again_kills_the_old_link(b: Backend) {
    let s = TestServer::start(b).await;
    let (user, first) = invite(&s, "resent@acme.test").await;
    let id = user["id"].as_str().unwrap();
    let (st, v) = s
        .post(
            &format!("/users/{id}/invitation"),
            json!({"expires_in_days": 2}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["times_sent"], 2);
    assert_eq!(v["pending_since"], user["invitation"]["pending_since"]);
    let second = path_of(&s, v["link"].as_str().unwrap());
    let browser = Browser::new(&s);
    assert_eq!(browser.get(&first).await.status, 410);
    assert_eq!(browser.get(&second).await.status, 200);
    // An empty body is the defaults (7 days).
    let res = s
        .client
        .post(s.url(&format!("/users/{id}/invitation")))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let third: Value = res.json().await.unwrap();
    assert_eq!(third["times_sent"], 3);
    assert_eq!(browser.get(&second).await.status, 410);
    // Bad input: problem+json, nothing sent.
    for body in [
        json!({"expires_in_days": 0}),
        json!({"expires_in_days": 91}),
        json!({"expires_in_days": "soon"}),
        json!({"unknown": 1}),
    ] {
        let (st, v) = s.post(&format!("/users/{id}/invitation"), body).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    }
    let (st, _) = s
        .post("/users/01JX0000000000000000000000/invitation", json!({}))
        .await;
    assert!(st == StatusCode::NOT_FOUND, "{st}");
    assert_eq!(state(&s, id).await["times_sent"], 3);
}

async fn expired_and_foreign_links_get_a_translated_page(b: Backend) {
    let s = TestServer::start(b).await;
    let (user, path) = invite(&s, "late@acme.test").await;
    let id = user["id"].as_str().unwrap();
    let browser = Browser::new(&s);
    // Another tenant's link page does not know the link.
    s.other_tenant("other").await;
    let foreign = browser
        .get(&format!("/t/other/setup?link={}", secret_of(&path)))
        .await;
    assert_eq!(foreign.status, 410);
    assert_eq!(browser.get(&path).await.status, 200, "still live at home");

    let expired = crate::hostile_gen::scalar_row(
        s.db_url(),
        "UPDATE user_links SET expires_at = 0 WHERE purpose = 'invitation' RETURNING CAST(1 AS BIGINT)",
    )
    .await;
    assert_eq!(expired, [1]);
    for (lang, words) in [
        ("en", "ask the person who invited you"),
        ("fr", "demandez à la personne qui vous a invité"),
        ("de", "bitten Sie die Person, die Sie eingeladen hat"),
    ] {
        let page = get_in(&browser, &path, lang).await;
        assert_eq!(page.status, 410);
        assert!(page.body.contains(words), "{lang}: {}", page.body);
        assert!(
            page.body.contains(&format!("lang=\"{lang}\"")),
            "{}",
            page.body
        );
    }
    // A post of the expired link sets nothing.
    let posted = browser
        .post_form(
            "/t/acme/setup",
            &[
                ("csrf", "x"),
                ("link", &secret_of(&path)),
                ("password", PASSPHRASE),
                ("confirm", PASSPHRASE),
            ],
        )
        .await;
    assert_eq!(posted.status, 410);
    let (_, u) = s.get(&format!("/users/{id}")).await;
    assert_eq!(u["status"], "invited");
    // The state says so; sending again gives a working link.
    let st = crate::hostile_gen::scalar_row(
        s.db_url(),
        "UPDATE invitations SET expires_at = 0 RETURNING CAST(1 AS BIGINT)",
    )
    .await;
    assert_eq!(st, [1]);
    assert_eq!(state(&s, id).await["status"], "expired");
    let (_, v) = s.post(&format!("/users/{id}/invitation"), json!({})).await;
    let fresh = path_of(&s, v["link"].as_str().unwrap());
    assert_eq!(browser.get(&fresh).await.status, 200);
}

/// The link page in the person's own language (their locale first).
async fn the_link_page_speaks_the_persons_language(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, v) = s
        .post(
            "/users",
            json!({"email": "amelie@acme.test", "locale": "fr-FR", "invite": true}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let path = path_of(&s, v["invitation"]["link"].as_str().unwrap());
    let page = get_in(&Browser::new(&s), &path, "de").await;
    assert!(
        page.body.contains("Choisissez votre mot de passe"),
        "{}",
        page.body
    );
}

/// Posted many times at once with different passwords, an invitation link sets exactly one.
async fn an_invitation_is_accepted_once_when_posted_at_once(b: Backend) {
    let s = TestServer::start(b).await;
    let (user, path) = invite(&s, "racer@acme.test").await;
    let mut forms = Vec::new();
    for i in 0..6 {
        let browser = Browser::new(&s);
        let page = browser.get(&path).await;
        let csrf = hidden(&page.body, "csrf").unwrap();
        let link = hidden(&page.body, "link").unwrap();
        forms.push((
            browser,
            csrf,
            link,
            format!("racing invited passphrase {i}"),
        ));
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
                    ("link", &link),
                    ("password", &password),
                    ("confirm", &password),
                ];
                let res = b.post_form("/t/acme/setup", &form).await;
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
    let b2 = Browser::new(&s);
    let signed = b2
        .sign_in("/t/acme/login", "racer@acme.test", winners[0])
        .await;
    assert_eq!(
        signed.status, 303,
        "the winner's password is the one stored"
    );
    let (_, log) = s.get("/audit?action=user.password.set").await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
    let id = user["id"].as_str().unwrap();
    assert_eq!(state(&s, id).await["status"], "accepted");
}

/// Many sendings at once leave exactly one live link, counted once each.
async fn concurrent_sendings_leave_one_live_link(b: Backend) {
    let s = std::sync::Arc::new(TestServer::start(b).await);
    let (user, _) = invite(&s, "busy@acme.test").await;
    let id = user["id"].as_str().unwrap().to_owned();
    let sends: Vec<_> = (0..5)
        .map(|_| {
            let (s, id) = (s.clone(), id.clone());
            tokio::spawn(async move { s.post(&format!("/users/{id}/invitation"), json!({})).await })
        })
        .collect();
    let mut links = Vec::new();
    for send in sends {
        let (st, v) = send.await.unwrap();
        assert_eq!(st, StatusCode::CREATED, "{v}");
        links.push(path_of(&s, v["link"].as_str().unwrap()));
    }
    let browser = Browser::new(&s);
    let mut live = 0;
    for l in &links {
        if browser.get(l).await.status == 200 {
            live += 1;
        }
    }
    assert_eq!(live, 1, "exactly one link works");
    assert_eq!(state(&s, &id).await["times_sent"], 6);
}

/// When the tenant requires a second factor, the person enrols one before going on.
async fn a_required_second_factor_comes_before_the_console(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, v) = s
        .patch("/mfa-settings", json!({"policy": "required"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, path) = invite(&s, "mfa@acme.test").await;
    let browser = Browser::new(&s);
    let done = accept(&browser, &path, PASSPHRASE).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let to = done.location.unwrap();
    assert!(to.starts_with("/t/acme/login/mfa?return_to="), "{to}");
    assert!(to.contains("account"), "{to}");
    let mfa = browser.get(&to).await;
    assert_eq!(mfa.status, 200, "{}", mfa.body);
    // Not through yet: the portal sends them back to the second factor.
    let portal = browser.get("/t/acme/account").await;
    assert_ne!(portal.status, 200, "{}", portal.body);
}

/// A hostile organisation name and email are escaped on the link page.
async fn hostile_names_are_escaped_on_the_link_page(b: Backend) {
    let s = TestServer::start(b).await;
    let hostile = "<script>alert(1)</script>\"'&";
    let slug = "evil";
    let (tenant, _) = castellan::cli::create_tenant(&s.store, slug, hostile, "owner@evil.test")
        .await
        .unwrap();
    let token = castellan::cli::create_token(&s.store, &tenant.id, "t", None)
        .await
        .unwrap();
    let url = format!("{}/t/{slug}/api/v1/users", s.base);
    let email = "o'hara+<b>@evil.test";
    let (st, v) = s
        .call_as(
            &token,
            reqwest::Method::POST,
            &url,
            Some(json!({"email": email, "invite": true})),
        )
        .await;
    let email = if st == StatusCode::CREATED {
        email
    } else {
        // The email's rules refused it: an apostrophe still has to be escaped.
        let (st, w) = s
            .call_as(
                &token,
                reqwest::Method::POST,
                &url,
                Some(json!({"email": "o'hara@evil.test", "invite": true})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v} {w}");
        return check_escaped(&s, &w, "o'hara@evil.test", hostile).await;
    };
    check_escaped(&s, &v, email, hostile).await
}

async fn check_escaped(s: &TestServer, v: &Value, email: &str, hostile: &str) {
    let link = v["invitation"]["link"].as_str().unwrap();
    let path = link.strip_prefix(&s.public_url).unwrap();
    let page = Browser::new(s).get(path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains(hostile), "{}", page.body);
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    assert!(
        page.body.contains("&#60;script&#62;alert(1)"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains(email) || !email.contains(['<', '\'']),
        "{}",
        page.body
    );
}

backends!(
    invited_person_sets_a_password_and_lands_signed_in,
    invited_administrator_lands_in_the_console,
    sending_again_kills_the_old_link,
    expired_and_foreign_links_get_a_translated_page,
    the_link_page_speaks_the_persons_language,
    an_invitation_is_accepted_once_when_posted_at_once,
    concurrent_sendings_leave_one_live_link,
    a_required_second_factor_comes_before_the_console,
    hostile_names_are_escaped_on_the_link_page
);
