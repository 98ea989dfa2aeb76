//! Bad input answered in JSON (never a 500), CSRF, and the sign-in page's passkey button.

use super::{Page, passkey};
use crate::backends;
use crate::browser::{Browser, user_with_password};
use crate::common::{Backend, TestServer};
use serde_json::{Value, json};

async fn bad_input_is_answered_in_json(b: Backend) {
    let s = TestServer::start_localhost(b).await;
    user_with_password(&s, "ada@acme.test").await;
    let page = Page::open(&s, "acme").await;

    // No session.
    let (st, v) = page
        .post("register/start", json!({ "kind": "passkey" }))
        .await;
    assert_eq!(st, 401, "{v}");
    assert_eq!(v["error"], "not_signed_in");
    page.sign_in("ada@acme.test").await;

    // No or wrong CSRF header.
    for csrf in [None, Some("nope")] {
        let (st, v) = page
            .post_with("register/start", json!({ "kind": "passkey" }), csrf)
            .await;
        assert_eq!(st, 403, "{v}");
        assert_eq!(v["error"], "csrf");
        let (st, v) = page.post_with("login/start", json!({}), csrf).await;
        assert_eq!(st, 403, "{v}");
    }

    // Bodies that cannot be read.
    let (st, v) = page.post("register/start", json!({ "kind": "tpm" })).await;
    assert_eq!(st, 400, "{v}");
    assert_eq!(v["error"], "invalid_request");
    let (st, v) = page.post("register/start", json!([1, 2])).await;
    assert_eq!(st, 400, "{v}");
    let (handle, ..) = page.register_start("passkey").await;
    for credential in [
        json!("garbage"),
        json!({ "id": "x", "rawId": "!!", "type": "public-key", "response": {} }),
    ] {
        let (st, v) = page
            .post(
                "register/finish",
                json!({ "handle": handle, "credential": credential }),
            )
            .await;
        assert_eq!(st, 400, "{v}");
        assert_eq!(v["error"], "invalid_request");
    }
    // Well-formed but not a real attestation.
    let junk = json!({ "id": "AAAA", "rawId": "AAAA", "type": "public-key",
                       "response": { "attestationObject": "AAAA", "clientDataJSON": "AAAA" } });
    let (st, v) = page
        .post(
            "register/finish",
            json!({ "handle": handle, "credential": junk }),
        )
        .await;
    assert_eq!(st, 400, "{v}");
    assert_eq!(v["error"], "invalid_credential");
    // Its ceremony is used up.
    let (st, v) = page
        .post(
            "register/finish",
            json!({ "handle": handle, "credential": junk }),
        )
        .await;
    assert_eq!(st, 400, "{v}");
    assert_eq!(v["error"], "invalid_handle");

    // A name too long is refused, and nothing is saved.
    let mut auth = passkey();
    let (st, v, ..) = page.register(&mut auth, "passkey", &"n".repeat(65)).await;
    assert_eq!(st, 400, "{v}");
    assert_eq!(v["error"], "invalid_name");
    let t = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let user = s
        .store
        .user_by_email(&t.id, "ada@acme.test")
        .await
        .unwrap()
        .unwrap();
    let factors = s.store.user_factors(&t.id, &user.id).await.unwrap();
    assert!(factors.webauthn.is_empty());
    assert_eq!(factors.recovery_codes_left, 0);

    // An assertion that is not one.
    let (handle, _) = page.assert_start("login").await;
    let junk = json!({ "id": "AAAA", "rawId": "AAAA", "type": "public-key",
                       "response": { "authenticatorData": "AAAA", "clientDataJSON": "AAAA",
                                     "signature": "AAAA", "userHandle": "AAAA" } });
    let (st, v) = page.finish("login", &handle, &junk).await;
    assert_eq!(st, 401, "{v}");
    // Verify without any credential registered.
    let (st, v) = page.post("verify/start", json!({})).await;
    assert_eq!(st, 403, "{v}");
    // Not JSON at all.
    let res = page
        .b
        .http
        .post(format!("{}/t/acme/webauthn/login/start", s.base))
        .header("X-CSRF-Token", page.login_csrf().await)
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["error"], "invalid_request");
}

async fn sign_in_page_offers_passkeys(b: Backend) {
    let s = TestServer::start_localhost(b).await;
    let browser = Browser::new(&s);
    let page = browser.get("/t/acme/login?return_to=%2Ft%2Facme%2Fy").await;
    assert_eq!(page.status, 200);
    for needle in [
        "autocomplete=\"username webauthn\"",
        "data-webauthn=\"login\" data-tenant=\"acme\"",
        "data-return-to=\"/t/acme/y\"",
        "Sign in with a passkey",
        "data-webauthn-error hidden",
        "<script src=\"/t/acme/webauthn.js\" defer></script>",
    ] {
        assert!(page.body.contains(needle), "{needle} in {}", page.body);
    }
    let res = browser
        .http
        .get(format!("{}/t/acme/login", s.base))
        .send()
        .await
        .unwrap();
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let script = browser.get("/t/acme/webauthn.js").await;
    assert_eq!(script.status, 200);
    assert!(script.content_type.starts_with("application/javascript"));
    assert!(script.body.contains("navigator.credentials"));
    let fr = browser.get("/t/acme/login?ui_locales=fr").await;
    assert!(fr.body.contains("Se connecter avec une clé"), "{}", fr.body);
}

/// Passkey sign-in starts store a ceremony before anyone is signed in: one client gets 120 a
/// minute in a tenant, then 429 in JSON; another tenant counts apart.
async fn passkey_sign_in_starts_are_limited(b: Backend) {
    let s = TestServer::start_localhost(b).await;
    s.other_tenant("beta").await;
    let page = Page::open(&s, "acme").await;
    for i in 0..120 {
        let (st, v) = page.post("login/start", json!({})).await;
        assert_eq!(st, 200, "start {i}: {v}");
    }
    let (st, v) = page.post("login/start", json!({})).await;
    assert_eq!(st, 429, "{v}");
    assert_eq!(v["error"], "too_many_requests", "{v}");
    let beta = Page::open(&s, "beta").await;
    let (st, v) = beta.post("login/start", json!({})).await;
    assert_eq!(st, 200, "{v}");
}

backends!(
    bad_input_is_answered_in_json,
    sign_in_page_offers_passkeys,
    passkey_sign_in_starts_are_limited
);
