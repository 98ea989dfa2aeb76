//! Passkey sign-in without a username, through to an ID token; ceremonies answered once, in
//! their own tenant, by their own user.

use super::user_in;
use super::{Page, b64, passkey};
use crate::backends;
use crate::browser::{
    REDIRECT, authorize_url, exchange, param, pkce, public_client, user_with_password,
};
use crate::common::{Backend, TestServer};
use serde_json::{Value, json};
use webauthn_authenticator_rs::prelude::WebauthnAuthenticator;
use webauthn_authenticator_rs::softtoken::SoftToken;

async fn passkey_registers_and_signs_in_without_username(b: Backend) {
    let s = TestServer::start_localhost(b).await;
    let client_id = public_client(&s).await;
    user_with_password(&s, "ada@acme.test").await;
    let page = Page::open(&s, "acme").await;
    page.sign_in("ada@acme.test").await;

    let (_, _, raw) = page.register_start("passkey").await;
    let sel = &raw["publicKey"]["authenticatorSelection"];
    assert_eq!(sel["residentKey"], "required", "{raw}");
    assert_eq!(sel["userVerification"], "required", "{raw}");

    let mut auth = passkey();
    let (st, v, user_handle, cred_id) = page.register(&mut auth, "passkey", "My phone").await;
    assert_eq!(st, 200, "{v}");
    assert!(v["id"].is_string());
    let codes = v["recovery_codes"].as_array().expect("first factor: codes");
    assert_eq!(codes.len(), 10);
    assert!(codes[0].as_str().unwrap().len() == 29, "{v}");

    // A second one: no new codes, and the first is excluded.
    let (_, _, raw) = page.register_start("passkey").await;
    assert_eq!(
        raw["publicKey"]["excludeCredentials"][0]["id"],
        b64(&cred_id)
    );
    let (st, v, ..) = page.register(&mut passkey(), "passkey", "").await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["recovery_codes"], Value::Null);
    let t = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let user = s
        .store
        .user_by_email(&t.id, "ada@acme.test")
        .await
        .unwrap()
        .unwrap();
    let factors = s.store.user_factors(&t.id, &user.id).await.unwrap();
    let names: Vec<&str> = factors.webauthn.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["My phone", "Passkey"]);
    assert_eq!(factors.recovery_codes_left, 10);

    // A fresh browser signs in with the passkey alone.
    let fresh = Page::open(&s, "acme").await;
    let (handle, cred) = fresh
        .passkey_assertion(&mut auth, &cred_id, &user_handle)
        .await;
    let (st, v) = fresh.finish("login", &handle, &cred).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["redirect"], "/t/acme/x");
    let after = s.store.user_factors(&t.id, &user.id).await.unwrap();
    assert!(after.webauthn[0].last_used_at.is_some());

    // The same assertion again is refused: its ceremony was answered.
    let (st, v) = fresh.finish("login", &handle, &cred).await;
    assert_eq!(st, 400, "{v}");
    assert_eq!(v["error"], "invalid_handle");

    // ... and the session completes an authorization code flow.
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
    assert_eq!(id["amr"], json!(["hwk", "user", "mfa"]), "{id}");
    assert_eq!(id["acr"], "urn:castellan:acr:phr");
}

async fn assertions_are_bound_to_their_ceremony(b: Backend) {
    let s = TestServer::start_localhost(b).await;
    user_with_password(&s, "ada@acme.test").await;
    let page = Page::open(&s, "acme").await;
    page.sign_in("ada@acme.test").await;
    let mut auth = passkey();
    let (st, v, user_handle, cred_id) = page.register(&mut auth, "passkey", "Laptop").await;
    assert_eq!(st, 200, "{v}");

    // An assertion made for one challenge, sent with another ceremony's handle.
    let (_, cred) = page
        .passkey_assertion(&mut auth, &cred_id, &user_handle)
        .await;
    let (other, _) = page.assert_start("login").await;
    let (st, v) = page.finish("login", &other, &cred).await;
    assert_eq!(st, 401, "{v}");
    assert_eq!(v["error"], "credential_refused");

    // A user handle that is not the credential's owner.
    let (handle, cred) = page
        .passkey_assertion(&mut auth, &cred_id, b"someone else")
        .await;
    let (st, v) = page.finish("login", &handle, &cred).await;
    assert_eq!(st, 401, "{v}");

    // A register handle cannot finish a sign-in, and an expired one is refused.
    let (reg, ..) = page.register_start("passkey").await;
    let (handle, cred) = page
        .passkey_assertion(&mut auth, &cred_id, &user_handle)
        .await;
    let (st, v) = page.finish("login", &reg, &cred).await;
    assert_eq!(st, 400, "{v}");
    let (st, v) = page.finish("login", "no-such-handle", &cred).await;
    assert_eq!(st, 400, "{v}");
    assert_eq!(v["error"], "invalid_handle");
    let t = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let (expired, _) = page.assert_start("login").await;
    let hash = castellan::domain::secrets::hash_secret(&expired);
    let mut c = s.store.take_ceremony(&t.id, &hash).await.unwrap().unwrap();
    c.expires_at = castellan::domain::clock::now_ms() - 1;
    s.store.put_ceremony(&t.id, &hash, &c).await.unwrap();
    let (st, v) = page.finish("login", &expired, &cred).await;
    assert_eq!(st, 400, "{v}");
    // The fresh ceremony still works.
    let (st, v) = page.finish("login", &handle, &cred).await;
    assert_eq!(st, 200, "{v}");

    // A deactivated user's passkey signs no one in.
    let user = s
        .store
        .user_by_email(&t.id, "ada@acme.test")
        .await
        .unwrap()
        .unwrap();
    let (st, v) = s
        .post(&format!("/users/{}/deactivate", user.id), json!({}))
        .await;
    assert_eq!(st, 200, "{v}");
    let (handle, cred) = page
        .passkey_assertion(&mut auth, &cred_id, &user_handle)
        .await;
    let (st, v) = page.finish("login", &handle, &cred).await;
    assert_eq!(st, 401, "{v}");
    assert_eq!(v["error"], "credential_refused");

    // An unknown tenant.
    let nowhere = Page {
        slug: "nowhere".into(),
        ..page
    };
    let (st, v) = nowhere.post("login/start", json!({})).await;
    assert_eq!(st, 404, "{v}");
}

async fn credentials_of_another_tenant_or_user_are_refused(b: Backend) {
    let s = TestServer::start_localhost(b).await;
    let beta_token = s.other_tenant("beta").await;
    user_in(&s, &beta_token, "beta", "bob@beta.test").await;
    user_with_password(&s, "ada@acme.test").await;
    user_with_password(&s, "eve@acme.test").await;

    // Bob registers a passkey in beta; it does not sign anyone in to acme.
    let beta = Page::open(&s, "beta").await;
    beta.sign_in("bob@beta.test").await;
    let mut bobs = passkey();
    let (st, v, bob_handle, bob_id) = beta.register(&mut bobs, "passkey", "Bob's").await;
    assert_eq!(st, 200, "{v}");
    let acme = Page::open(&s, "acme").await;
    let (handle, cred) = acme
        .passkey_assertion(&mut bobs, &bob_id, &bob_handle)
        .await;
    let (st, v) = acme.finish("login", &handle, &cred).await;
    assert_eq!(st, 401, "{v}");
    assert_eq!(v["error"], "credential_refused");

    // Eve has a security key; Ada's verification does not accept it.
    let eve = Page::open(&s, "acme").await;
    eve.sign_in("eve@acme.test").await;
    let (mut eves, _) = SoftToken::new(true).unwrap();
    let (st, v, eve_handle, eve_id) = eve.register(&mut eves, "security_key", "Eve's key").await;
    assert_eq!(st, 200, "{v}");
    // A security key is a second factor: it does not sign in alone, even with a user handle.
    let (handle, cred) = acme
        .passkey_assertion(&mut eves, &eve_id, &eve_handle)
        .await;
    let (st, v) = acme.finish("login", &handle, &cred).await;
    assert_eq!(st, 401, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("second factor"),
        "{v}"
    );
    let ada = Page::open(&s, "acme").await;
    ada.sign_in("ada@acme.test").await;
    let (st, v, ..) = ada.register(&mut passkey(), "passkey", "Ada's").await;
    assert_eq!(st, 200, "{v}");
    let (handle, mut options) = ada.assert_start("verify").await;
    options.public_key.allow_credentials =
        vec![serde_json::from_value(json!({ "type": "public-key", "id": b64(&eve_id) })).unwrap()];
    let cred = eves.do_authentication(ada.origin.clone(), options).unwrap();
    let (st, v) = ada.finish("verify", &handle, &cred).await;
    assert_eq!(st, 401, "{v}");
    assert_eq!(v["error"], "credential_refused");
    // Bob's browser has no session in acme (its cookie is scoped to beta).
    let (st, v) = acme.post("verify/start", json!({})).await;
    assert_eq!(st, 401, "{v}");
    assert_eq!(v["error"], "not_signed_in");
}

/// Where the tenant allows it, a user with a passkey removes their password on the security page:
/// the password no longer signs in, the passkey does. Where it does not, the page refuses.
async fn passkey_only_account(b: Backend) {
    let s = TestServer::start_localhost(b).await;
    user_with_password(&s, "ada@acme.test").await;
    let page = Page::open(&s, "acme").await;
    page.sign_in("ada@acme.test").await;
    let mut auth = passkey();
    let (st, v, user_handle, cred_id) = page.register(&mut auth, "passkey", "Laptop").await;
    assert_eq!(st, 200, "{v}");
    let t = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let user = s
        .store
        .user_by_email(&t.id, "ada@acme.test")
        .await
        .unwrap()
        .unwrap();

    // Not allowed by the tenant (the default): the page offers nothing and refuses the form.
    let security = page.b.get("/t/acme/account/security").await;
    assert_eq!(security.status, 200, "{}", security.body);
    assert!(
        !security.body.contains("password/remove"),
        "{}",
        security.body
    );
    let csrf = page.current_csrf("security").await;
    let form = [("csrf", csrf.as_str())];
    let res = page
        .b
        .post_form("/t/acme/account/security/password/remove", &form)
        .await;
    assert_eq!(
        res.location.as_deref(),
        Some("/t/acme/account/security?notice=password_needed")
    );
    assert!(
        s.store
            .user_factors(&t.id, &user.id)
            .await
            .unwrap()
            .has_password
    );

    let mut settings = s.store.mfa_settings(&t.id).await.unwrap();
    settings.passkey_only_allowed = true;
    s.store
        .set_mfa_settings(&t.id, &settings, &castellan::domain::audit::Actor::system())
        .await
        .unwrap();
    let security = page.b.get("/t/acme/account/security").await;
    assert!(
        security.body.contains("password/remove"),
        "{}",
        security.body
    );
    let res = page
        .b
        .post_form("/t/acme/account/security/password/remove", &form)
        .await;
    assert_eq!(
        res.location.as_deref(),
        Some("/t/acme/account/security?notice=password_removed")
    );
    let security = page.b.get("/t/acme/account/security").await;
    assert!(
        security.body.contains("id=\"no-password\""),
        "{}",
        security.body
    );

    // The password no longer signs in; the passkey does.
    let fresh = Page::open(&s, "acme").await;
    let res = fresh
        .b
        .post_form(
            "/t/acme/login",
            &[
                ("email", "ada@acme.test"),
                ("password", crate::browser::PASSWORD),
                ("csrf", &fresh.csrf),
            ],
        )
        .await;
    assert_eq!(res.status, 401, "{}", res.body);
    let (handle, cred) = fresh
        .passkey_assertion(&mut auth, &cred_id, &user_handle)
        .await;
    let (st, v) = fresh.finish("login", &handle, &cred).await;
    assert_eq!(st, 200, "{v}");
    let (_, log) = s.get("/audit?action=user.password.remove").await;
    assert_eq!(log["items"].as_array().map(Vec::len), Some(1), "{log}");
}

backends!(
    passkey_only_account,
    passkey_registers_and_signs_in_without_username,
    assertions_are_bound_to_their_ceremony,
    credentials_of_another_tenant_or_user_are_refused,
);
