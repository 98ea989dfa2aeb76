//! `id_token_hint` at `/authorize` (OpenID Connect Core §3.1.2.1): the hint is an ID token this
//! issuer signed for this client (expired ones too); a browser signed in as someone else is not
//! taken as the hinted user: `prompt=none` gets `login_required`, otherwise the sign-in page. A
//! hint that is not ours is `invalid_request`.

use crate::backends;
use crate::browser::*;
use crate::common::{Backend, TestServer};
use castellan::domain::oidc::KeyAlg;
use serde_json::{Value, json};

/// Signs `email` in through a new browser and returns (browser, ID token).
async fn signed_in(s: &TestServer, client_id: &str, email: &str) -> (Browser, String) {
    let browser = Browser::new(s);
    let (verifier, challenge) = pkce();
    let code = code_for(&browser, client_id, &challenge, email).await;
    let (st, _, t) = exchange(s, client_id, &code, &verifier, REDIRECT).await;
    assert_eq!(st, 200, "{t}");
    (browser, t["id_token"].as_str().unwrap().to_owned())
}

/// `claims` signed with the tenant's ES256 key, header `typ`.
async fn signed(s: &TestServer, typ: &str, claims: &Value) -> String {
    let t = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let ring = castellan::oidc::keys::KeyRing::default();
    let signer = ring.signer(&s.store, &t.id, KeyAlg::ES256).await.unwrap();
    signer.sign_jwt(typ, claims).unwrap()
}

/// Where `/authorize` with `extra` sends the browser.
async fn authorize(b: &Browser, client_id: &str, extra: &[(&str, &str)]) -> String {
    let (_, challenge) = pkce();
    let page = b.get(&authorize_url(client_id, &challenge, extra)).await;
    assert_eq!(page.status, 303, "{}", page.body);
    page.location.unwrap()
}

async fn hint_of_another_user_is_not_the_session(b: Backend) {
    let s = TestServer::start(b).await;
    let ada = user_with_password(&s, "ada@acme.test").await;
    user_with_password(&s, "bob@acme.test").await;
    let id = public_client(&s).await;
    let (ada_browser, ada_hint) = signed_in(&s, &id, "ada@acme.test").await;
    let (_, bob_hint) = signed_in(&s, &id, "bob@acme.test").await;

    // Ada's own hint: her session serves the request, silently too.
    for prompt in ["none", ""] {
        let to = authorize(
            &ada_browser,
            &id,
            &[("id_token_hint", &ada_hint), ("prompt", prompt)],
        )
        .await;
        assert!(to.starts_with(REDIRECT), "prompt={prompt}: {to}");
        assert!(param(&to, "code").is_some(), "{to}");
    }
    // Bob's hint in Ada's browser: never a code for Ada.
    let to = authorize(
        &ada_browser,
        &id,
        &[("id_token_hint", &bob_hint), ("prompt", "none")],
    )
    .await;
    assert!(to.starts_with(REDIRECT), "{to}");
    assert_eq!(
        param(&to, "error").as_deref(),
        Some("login_required"),
        "{to}"
    );
    assert_eq!(param(&to, "state").as_deref(), Some("st-123"));
    let to = authorize(&ada_browser, &id, &[("id_token_hint", &bob_hint)]).await;
    assert!(
        to.starts_with("/t/acme/login?"),
        "asked to sign in again: {to}"
    );
    // Signing in as Bob then gets Bob's code.
    let page = ada_browser.sign_in(&to, "bob@acme.test", PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let page = ada_browser.get(&page.location.unwrap()).await;
    let cb = page.location.unwrap();
    assert!(param(&cb, "code").is_some(), "{cb}");

    // A hint that expired long ago still names its user (§3.1.2.1).
    let issuer = format!("{}/t/acme", s.public_url);
    let now = chrono_now();
    let expired = signed(
        &s,
        "JWT",
        &json!({ "iss": issuer, "sub": ada["id"], "aud": id, "iat": now - 90_000, "exp": now - 86_400 }),
    )
    .await;
    let (ada_browser, _) = signed_in(&s, &id, "ada@acme.test").await;
    let to = authorize(
        &ada_browser,
        &id,
        &[("id_token_hint", &expired), ("prompt", "none")],
    )
    .await;
    assert!(
        param(&to, "code").is_some(),
        "expired hint of the session's user: {to}"
    );
}

async fn bad_hints_are_invalid_request(b: Backend) {
    let s = TestServer::start(b).await;
    let ada = user_with_password(&s, "ada@acme.test").await;
    let id = public_client(&s).await;
    let other = {
        let (st, c) = s
            .post(
                "/clients",
                json!({ "name": "Other", "kind": "public", "redirect_uris": [REDIRECT],
                        "grant_types": ["authorization_code"], "scopes": ["openid", "profile", "email"],
                        "first_party": true }),
            )
            .await;
        assert_eq!(st, 201, "{c}");
        c["client_id"].as_str().unwrap().to_owned()
    };
    let (browser, hint) = signed_in(&s, &id, "ada@acme.test").await;
    let issuer = format!("{}/t/acme", s.public_url);
    let now = chrono_now();
    let claims = |aud: &str, iss: &str| json!({ "iss": iss, "sub": ada["id"], "aud": aud, "iat": now, "exp": now + 600 });
    let access_token_typed = signed(&s, "at+jwt", &claims(&id, &issuer)).await;
    let foreign_issuer = signed(&s, "JWT", &claims(&id, "https://evil.example/t/acme")).await;
    let mut tampered: Vec<&str> = hint.split('.').collect();
    let forged_payload = {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut c: Value = serde_json::from_slice(&b64.decode(tampered[1]).unwrap()).unwrap();
        c["sub"] = json!("someone-else");
        b64.encode(c.to_string())
    };
    tampered[1] = &forged_payload;
    let tampered = tampered.join(".");
    for (case, h) in [
        ("not a JWT", "not-a-jwt".to_owned()),
        ("signature does not match", tampered),
        ("an access token", access_token_typed),
        ("another issuer", foreign_issuer),
        ("unknown kid", hint.replacen('e', "f", 1)),
    ] {
        let to = authorize(&browser, &id, &[("id_token_hint", &h)]).await;
        assert_eq!(
            param(&to, "error").as_deref(),
            Some("invalid_request"),
            "{case}: {to}"
        );
        assert!(param(&to, "code").is_none(), "{case}");
    }
    // Issued to another application.
    let to = authorize(&browser, &other, &[("id_token_hint", &hint)]).await;
    assert_eq!(
        param(&to, "error").as_deref(),
        Some("invalid_request"),
        "{to}"
    );
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

backends!(
    hint_of_another_user_is_not_the_session,
    bad_hints_are_invalid_request
);
