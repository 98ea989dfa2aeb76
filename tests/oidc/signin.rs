//! The sign-in page: CSRF, one message for every refusal, user status, session cookie.

use crate::backends;
use crate::browser::{Browser, PASSWORD, hidden, user_with_password};
use crate::common::{Backend, TestServer};

const REFUSED: &str = "Email or password is incorrect";

async fn page_looks_finished(b: Backend) {
    let s = TestServer::start(b).await;
    let browser = Browser::new(&s);
    let page = browser
        .get("/t/acme/login?login_hint=ada%40acme.test&return_to=%2Ft%2Facme%2Fx")
        .await;
    assert_eq!(page.status, 200);
    assert!(page.content_type.starts_with("text/html"));
    for needle in [
        "<title>Sign in · Acme</title>",
        "<label for=\"email\">Email or username</label>",
        // A username is not an email: the field takes any text.
        "name=\"email\" type=\"text\"",
        "<label for=\"password\">Password</label>",
        "type=\"password\"",
        "value=\"ada@acme.test\"",
        "<link rel=\"stylesheet\" href=\"/static/castellan.css\">",
    ] {
        assert!(page.body.contains(needle), "{needle} in {}", page.body);
    }
    assert!(hidden(&page.body, "csrf").is_some_and(|c| c.len() >= 32));
    assert_eq!(
        hidden(&page.body, "return_to").as_deref(),
        Some("/t/acme/x")
    );
    let res = s
        .client
        .get(format!("{}/t/acme/login", s.base))
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("castellan_csrf="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && cookie.contains("Path=/t/acme")
    );
    assert!(!cookie.contains("Secure"), "http public_url: no Secure");
    let page = browser.get("/t/nope/login").await;
    assert_eq!(page.status, 404);
}

async fn signs_in_and_sets_session(b: Backend) {
    let s = TestServer::start(b).await;
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    let res = {
        let page = browser.get("/t/acme/login").await;
        let csrf = hidden(&page.body, "csrf").unwrap();
        browser
            .http
            .post(format!("{}/t/acme/login", s.base))
            .form(&[
                ("email", "Ada@Acme.test"),
                ("password", PASSWORD),
                ("csrf", &csrf),
                ("return_to", "https://evil.test/t/acme/"),
            ])
            .send()
            .await
            .unwrap()
    };
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        "/t/acme/",
        "a foreign return_to is ignored"
    );
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("castellan_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && cookie.contains("Path=/t/acme")
    );
    assert!(!cookie.contains(PASSWORD));
    let home = browser.get("/t/acme/").await;
    assert!(
        home.body.contains("Signed in as ada@acme.test"),
        "{}",
        home.body
    );
    // Another browser is not signed in.
    let other = Browser::new(&s).get("/t/acme/").await;
    assert!(other.body.contains("not signed in"));
}

async fn refusals_look_alike(b: Backend) {
    let s = TestServer::start(b).await;
    user_with_password(&s, "ada@acme.test").await;
    s.create_user("nopass@acme.test").await;
    let browser = Browser::new(&s);
    let mut bodies = Vec::new();
    for (email, password) in [
        ("ada@acme.test", "wrong password"),
        ("nobody@acme.test", PASSWORD),
        ("nopass@acme.test", PASSWORD),
        ("ada@acme.test", ""),
    ] {
        let page = browser.sign_in("/t/acme/login", email, password).await;
        assert_eq!(page.status, 401, "{email}");
        assert!(page.body.contains(REFUSED), "{}", page.body);
        bodies.push(page.body.replace(email, "EMAIL"));
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "identical pages");
}

async fn csrf_is_required(b: Backend) {
    let s = TestServer::start(b).await;
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    // No cookie, no field.
    let page = browser
        .post_form(
            "/t/acme/login",
            &[("email", "ada@acme.test"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, 403);
    assert!(page.content_type.starts_with("text/html"));
    // Cookie set by the page, but a field that does not match.
    let _ = browser.get("/t/acme/login").await;
    let page = browser
        .post_form(
            "/t/acme/login",
            &[
                ("email", "ada@acme.test"),
                ("password", PASSWORD),
                ("csrf", "forged-value-forged-value-forged-value"),
            ],
        )
        .await;
    assert_eq!(page.status, 403);
    // Field but no cookie (another browser).
    let good = Browser::new(&s);
    let p = good.get("/t/acme/login").await;
    let csrf = hidden(&p.body, "csrf").unwrap();
    let fresh = Browser::new(&s);
    let page = fresh
        .post_form(
            "/t/acme/login",
            &[
                ("email", "ada@acme.test"),
                ("password", PASSWORD),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(page.status, 403);
}

async fn inactive_and_anonymised_refused(b: Backend) {
    let s = TestServer::start(b).await;
    let u = user_with_password(&s, "ada@acme.test").await;
    let id = u["id"].as_str().unwrap();
    let (st, v) = s
        .post(&format!("/users/{id}/deactivate"), serde_json::json!({}))
        .await;
    assert_eq!(st, 200, "{v}");
    let browser = Browser::new(&s);
    let page = browser
        .sign_in("/t/acme/login", "ada@acme.test", PASSWORD)
        .await;
    assert_eq!(page.status, 401);
    assert!(page.body.contains(REFUSED));

    let u = user_with_password(&s, "bob@acme.test").await;
    let id = u["id"].as_str().unwrap();
    let (st, v) = s
        .post(&format!("/users/{id}/anonymise"), serde_json::json!({}))
        .await;
    assert_eq!(st, 200, "{v}");
    let page = browser
        .sign_in(
            "/t/acme/login",
            &format!("anonymised-{id}@anonymised.invalid"),
            PASSWORD,
        )
        .await;
    assert_eq!(page.status, 401);
    assert!(page.body.contains(REFUSED));
}

async fn invited_user_becomes_active(b: Backend) {
    let s = TestServer::start(b).await;
    let u = user_with_password(&s, "ada@acme.test").await;
    assert_eq!(u["status"], "invited");
    let id = u["id"].as_str().unwrap();
    let page = Browser::new(&s)
        .sign_in("/t/acme/login", "ada@acme.test", PASSWORD)
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let (_, u) = s.get(&format!("/users/{id}")).await;
    assert_eq!(u["status"], "active");
    let (_, audit) = s.get("/audit").await;
    let entries = audit["items"].as_array().unwrap();
    let activation = entries
        .iter()
        .find(|e| e["action"] == "user.activate")
        .expect("audited activation");
    assert_eq!(activation["actor_kind"], "user");
    assert_eq!(activation["actor_id"], id);
    assert!(entries.iter().any(|e| e["action"] == "user.sign_in"));
    // A second sign-in keeps them active and records no second activation.
    Browser::new(&s)
        .sign_in("/t/acme/login", "ada@acme.test", PASSWORD)
        .await;
    let (_, audit) = s.get("/audit").await;
    let n = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "user.activate")
        .count();
    assert_eq!(n, 1);
}

backends!(
    page_looks_finished,
    signs_in_and_sets_session,
    refusals_look_alike,
    csrf_is_required,
    inactive_and_anonymised_refused,
    invited_user_becomes_active
);
