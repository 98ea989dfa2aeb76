//! Security keys as a second factor after the password, with the tenant's user verification.

use super::set_uv;
use super::{Page, passkey};
use crate::backends;
use crate::browser::{
    PASSWORD, REDIRECT, authorize_url, exchange, param, pkce, public_client, user_with_password,
};
use crate::common::{Backend, TestServer};
use castellan::domain::mfa::UserVerification;
use serde_json::json;
use webauthn_authenticator_rs::prelude::WebauthnAuthenticator;
use webauthn_authenticator_rs::softtoken::SoftToken;

async fn security_key_is_a_second_factor(b: Backend) {
    let s = TestServer::start_localhost(b).await;
    let client_id = public_client(&s).await;
    user_with_password(&s, "ada@acme.test").await;
    let page = Page::open(&s, "acme").await;
    page.sign_in("ada@acme.test").await;
    let (_, _, raw) = page.register_start("security_key").await;
    assert_eq!(
        raw["publicKey"]["authenticatorSelection"]["userVerification"],
        "preferred"
    );
    let (mut key, _) = SoftToken::new(false).unwrap();
    let (st, v, ..) = page.register(&mut key, "security_key", "YubiKey").await;
    assert_eq!(st, 200, "{v}");
    assert!(v["recovery_codes"].is_array());

    // A copy of the key, taken now, will later present an old counter.
    let mut copy = SoftToken::from_cbor(&key.to_cbor().unwrap()).unwrap();

    // A new password sign-in, raised by the key.
    let fresh = Page::open(&s, "acme").await;
    fresh.sign_in("ada@acme.test").await;

    // A ceremony belongs to the session that started it: another session of the same user
    // cannot answer it.
    let (theirs, options) = page.assert_start("verify").await;
    let cred = key
        .do_authentication(fresh.origin.clone(), options)
        .unwrap();
    let (st, v) = fresh.finish("verify", &theirs, &cred).await;
    assert_eq!(st, 400, "{v}");
    assert_eq!(v["error"], "invalid_handle");
    let (theirs, ..) = page.register_start("security_key").await;
    let (st, v) = fresh
        .post(
            "register/finish",
            json!({ "handle": theirs, "credential": { "id": "AA", "rawId": "AA", "type": "public-key",
                    "response": { "attestationObject": "AA", "clientDataJSON": "AA" } } }),
        )
        .await;
    assert_eq!(st, 400, "{v}");
    assert_eq!(v["error"], "invalid_handle");

    let (handle, options) = fresh.assert_start("verify").await;
    assert_eq!(options.public_key.allow_credentials.len(), 1);
    let cred = key
        .do_authentication(fresh.origin.clone(), options)
        .unwrap();
    let (st, v) = fresh.finish("verify", &handle, &cred).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["redirect"], "/t/acme/x");
    let (st, v) = fresh.finish("verify", &handle, &cred).await;
    assert_eq!(st, 400, "replay: {v}");
    let (handle, options) = fresh.assert_start("verify").await;
    let cloned = copy
        .do_authentication(fresh.origin.clone(), options)
        .unwrap();
    let (st, v) = fresh.finish("verify", &handle, &cloned).await;
    assert_eq!(st, 401, "a counter that does not grow: {v}");
    assert!(v["message"].as_str().unwrap().contains("counter"), "{v}");

    let (verifier, challenge) = pkce();
    let res = fresh
        .b
        .get(&authorize_url(&client_id, &challenge, &[]))
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let cb = res.location.unwrap();
    assert!(cb.starts_with(REDIRECT), "{cb}");
    let code = param(&cb, "code").unwrap();
    let (st, _, body) = exchange(&s, &client_id, &code, &verifier, REDIRECT).await;
    assert_eq!(st, 200, "{body}");
    let id = crate::verify_typed(&s, "acme", body["id_token"].as_str().unwrap(), "JWT").await;
    assert_eq!(id["amr"], json!(["pwd", "hwk", "mfa"]), "{id}");
}

async fn user_verification_required_refuses_presence_only(b: Backend) {
    let s = TestServer::start_localhost(b).await;
    user_with_password(&s, "ada@acme.test").await;
    let page = Page::open(&s, "acme").await;
    page.sign_in("ada@acme.test").await;
    let (mut key, _) = SoftToken::new(true).unwrap();
    let (st, v, ..) = page.register(&mut key, "security_key", "Key").await;
    assert_eq!(st, 200, "{v}");

    set_uv(&s, UserVerification::Required).await;
    let (handle, mut options) = page.assert_start("verify").await;
    assert_eq!(
        serde_json::to_value(&options.public_key).unwrap()["userVerification"],
        "required"
    );
    // The key answers with presence only.
    options.public_key.user_verification = serde_json::from_value(json!("preferred")).unwrap();
    let cred = key.do_authentication(page.origin.clone(), options).unwrap();
    let (st, v) = page.finish("verify", &handle, &cred).await;
    assert_eq!(st, 401, "{v}");
    assert_eq!(v["error"], "credential_refused");
    // With the PIN, it is accepted and proves `user`.
    let (handle, options) = page.assert_start("verify").await;
    let cred = key.do_authentication(page.origin.clone(), options).unwrap();
    let (st, v) = page.finish("verify", &handle, &cred).await;
    assert_eq!(st, 200, "{v}");

    // A registration without user verification is refused under "required" too.
    let (handle, mut options, raw) = page.register_start("security_key").await;
    assert_eq!(
        raw["publicKey"]["authenticatorSelection"]["userVerification"],
        "required"
    );
    if let Some(sel) = options.public_key.authenticator_selection.as_mut() {
        sel.user_verification = serde_json::from_value(json!("preferred")).unwrap();
    }
    let (mut other, _) = SoftToken::new(true).unwrap();
    let cred = other.do_registration(page.origin.clone(), options).unwrap();
    let (st, v) = page
        .post(
            "register/finish",
            json!({ "handle": handle, "credential": cred }),
        )
        .await;
    assert_eq!(st, 400, "{v}");
    assert_eq!(v["error"], "user_verification_required");

    // "discouraged" asks for presence only.
    set_uv(&s, UserVerification::Discouraged).await;
    let (_, options) = page.assert_start("verify").await;
    assert_eq!(
        serde_json::to_value(&options.public_key).unwrap()["userVerification"],
        "discouraged"
    );
    // ... unless the user has a passkey, which always verifies its user.
    let (st, v, ..) = page.register(&mut passkey(), "passkey", "Phone").await;
    assert_eq!(st, 200, "{v}");
    let (_, options) = page.assert_start("verify").await;
    assert_eq!(
        serde_json::to_value(&options.public_key).unwrap()["userVerification"],
        "preferred"
    );
    assert_eq!(options.public_key.allow_credentials.len(), 2);
}

/// The value of `attr` on the first element of `html` that has it, unescaped.
fn attr(html: &str, attr: &str) -> Option<String> {
    let marker = format!("{attr}=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(crate::browser::unescape(&html[start..end]))
}

async fn second_factor_page_takes_a_security_key(b: Backend) {
    let s = TestServer::start_localhost(b).await;
    let client_id = public_client(&s).await;
    user_with_password(&s, "ada@acme.test").await;
    let page = Page::open(&s, "acme").await;
    page.sign_in("ada@acme.test").await;
    let (mut key, _) = SoftToken::new(false).unwrap();
    let (st, v, ..) = page.register(&mut key, "security_key", "YubiKey").await;
    assert_eq!(st, 200, "{v}");

    // An app sends a new browser to sign in: the password, then the second-factor page.
    let fresh = Page::open(&s, "acme").await;
    let (verifier, challenge) = pkce();
    let res = fresh
        .b
        .get(&authorize_url(&client_id, &challenge, &[]))
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let login = res.location.unwrap();
    let res = fresh.b.sign_in(&login, "ada@acme.test", PASSWORD).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let mut mfa = res.location.unwrap();
    if !mfa.starts_with("/t/acme/login/mfa?") {
        let res = fresh.b.get(&mfa).await;
        assert_eq!(res.status, 303, "{}", res.body);
        mfa = res.location.unwrap();
    }
    assert!(mfa.starts_with("/t/acme/login/mfa?"), "{mfa}");
    let html = fresh.b.get(&mfa).await.body;
    assert!(html.contains("data-webauthn=\"verify\""), "{html}");
    assert!(html.contains("/t/acme/webauthn.js"), "{html}");
    let csrf = attr(&html, "data-csrf").expect("the button's CSRF token");
    let return_to = attr(&html, "data-return-to").expect("where the button goes back");
    let fresh = Page { csrf, ..fresh };

    // The page's script: verify start, the key, verify finish, then where the answer says.
    let (handle, options) = fresh.assert_start("verify").await;
    let cred = key
        .do_authentication(fresh.origin.clone(), options)
        .unwrap();
    let (st, v) = fresh
        .post(
            "verify/finish",
            json!({ "handle": handle, "credential": cred, "return_to": return_to }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let mut next = v["redirect"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        if next.starts_with(REDIRECT) {
            break;
        }
        let res = fresh.b.get(&next).await;
        assert_eq!(res.status, 303, "{next}: {}", res.body);
        next = res.location.unwrap();
    }
    assert!(next.starts_with(REDIRECT), "{next}");
    let code = param(&next, "code").unwrap();
    let (st, _, body) = exchange(&s, &client_id, &code, &verifier, REDIRECT).await;
    assert_eq!(st, 200, "{body}");
    let id = crate::verify_typed(&s, "acme", body["id_token"].as_str().unwrap(), "JWT").await;
    assert_eq!(id["amr"], json!(["pwd", "hwk", "mfa"]), "{id}");
    assert_eq!(id["acr"], "urn:castellan:acr:phr", "{id}");
}

backends!(
    second_factor_page_takes_a_security_key,
    security_key_is_a_second_factor,
    user_verification_required_refuses_presence_only,
);
