//! Passkeys and security keys over the JSON endpoints, driven by webauthn-authenticator-rs's
//! software authenticators: registration after a password sign-in, passkey sign-in without a
//! username through to an ID token, second factor, replay, other tenants and other users,
//! malformed input, CSRF, and user verification.
//!
//! Neither soft authenticator makes discoverable credentials: the tests assert that the server
//! asks for one, drop that requirement before handing the options over, and for a sign-in put
//! the credential in `allowCredentials` and the user handle in the answer, as a discoverable
//! authenticator would (the user handle is not signed).

use crate::backends;
use crate::browser::{
    Browser, PASSWORD, REDIRECT, authorize_url, exchange, hidden, param, pkce, public_client,
    user_with_password,
};
use crate::common::{Backend, TestServer};
use castellan::domain::audit::Actor;
use castellan::domain::mfa::{MfaSettings, UserVerification};
use reqwest::Method;
use serde_json::{Value, json};
use webauthn_authenticator_rs::prelude::{Url, WebauthnAuthenticator};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::softtoken::SoftToken;
use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RequestChallengeResponse,
};

/// A cookie-keeping browser with the CSRF token of one tenant's sign-in page.
struct Page {
    b: Browser,
    slug: String,
    csrf: String,
    origin: Url,
}

impl Page {
    async fn open(s: &TestServer, slug: &str) -> Self {
        let b = Browser::new(s);
        let page = b.get(&format!("/t/{slug}/login")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let csrf = hidden(&page.body, "csrf").expect("a CSRF field");
        let port = Url::parse(&s.base).unwrap().port().unwrap();
        let origin = Url::parse(&format!("http://localhost:{port}")).unwrap();
        Page {
            b,
            slug: slug.into(),
            csrf,
            origin,
        }
    }

    /// Signs in with email and password.
    async fn sign_in(&self, email: &str) {
        let page = self
            .b
            .post_form(
                &format!("/t/{}/login", self.slug),
                &[
                    ("email", email),
                    ("password", PASSWORD),
                    ("csrf", &self.csrf),
                ],
            )
            .await;
        assert_eq!(page.status, 303, "{}", page.body);
    }

    /// POSTs JSON to `/t/{slug}/webauthn/{step}` with the CSRF header: (status, body).
    async fn post(&self, step: &str, body: Value) -> (u16, Value) {
        self.post_with(step, body, Some(&self.csrf)).await
    }

    async fn post_with(&self, step: &str, body: Value, csrf: Option<&str>) -> (u16, Value) {
        let url = format!("{}/t/{}/webauthn/{step}", self.b.base, self.slug);
        let mut req = self.b.http.post(url).json(&body);
        if let Some(c) = csrf {
            req = req.header("X-CSRF-Token", c);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let text = res.text().await.unwrap();
        assert!(ct.starts_with("application/json"), "{status} {ct}: {text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        if status >= 400 {
            assert!(v["error"].is_string() && v["message"].is_string(), "{v}");
        }
        (status, v)
    }

    /// Starts a registration of `kind`: (handle, options for the authenticator, raw options).
    async fn register_start(&self, kind: &str) -> (String, CreationChallengeResponse, Value) {
        let (st, v) = self.post("register/start", json!({ "kind": kind })).await;
        assert_eq!(st, 200, "{v}");
        let mut pk = v["publicKey"].clone();
        // The soft authenticators cannot make discoverable credentials (see the module docs).
        if let Some(sel) = pk.get_mut("authenticatorSelection") {
            sel["requireResidentKey"] = json!(false);
            sel["residentKey"] = json!("discouraged");
        }
        let options = serde_json::from_value(json!({ "publicKey": pk })).unwrap();
        (v["handle"].as_str().unwrap().to_owned(), options, v)
    }

    /// Registers a credential with `auth`: (finish status, body, user handle, credential id).
    async fn register(
        &self,
        auth: &mut impl WebauthnAuthenticator,
        kind: &str,
        name: &str,
    ) -> (u16, Value, Vec<u8>, Vec<u8>) {
        let (handle, options, raw) = self.register_start(kind).await;
        let user_handle = options.public_key.user.id.to_vec();
        let cred = auth.do_registration(self.origin.clone(), options).unwrap();
        let id = cred.raw_id.clone();
        let (st, v) = self
            .post(
                "register/finish",
                json!({ "handle": handle, "name": name, "credential": cred }),
            )
            .await;
        assert_eq!(raw["publicKey"]["rp"]["id"], "localhost");
        (st, v, user_handle, id)
    }

    /// Starts a ceremony (`login` or `verify`): (handle, options).
    async fn assert_start(&self, step: &str) -> (String, RequestChallengeResponse) {
        let (st, v) = self.post(&format!("{step}/start"), json!({})).await;
        assert_eq!(st, 200, "{v}");
        let options = serde_json::from_value(json!({ "publicKey": v["publicKey"] })).unwrap();
        (v["handle"].as_str().unwrap().to_owned(), options)
    }

    /// Asserts a passkey the way a discoverable authenticator answers a sign-in.
    async fn passkey_assertion(
        &self,
        auth: &mut impl WebauthnAuthenticator,
        cred_id: &[u8],
        user_handle: &[u8],
    ) -> (String, PublicKeyCredential) {
        let (handle, mut options) = self.assert_start("login").await;
        assert!(options.public_key.allow_credentials.is_empty());
        options.public_key.allow_credentials.push(
            serde_json::from_value(json!({ "type": "public-key", "id": b64(cred_id) })).unwrap(),
        );
        let mut cred = auth
            .do_authentication(self.origin.clone(), options)
            .unwrap();
        cred.response.user_handle = Some(user_handle.to_vec());
        (handle, cred)
    }

    async fn finish(&self, step: &str, handle: &str, cred: &impl serde::Serialize) -> (u16, Value) {
        self.post(
            &format!("{step}/finish"),
            json!({ "handle": handle, "credential": cred, "return_to": format!("/t/{}/x", self.slug) }),
        )
        .await
    }
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn passkey() -> SoftPasskey {
    SoftPasskey::new(true)
}

/// A user in tenant `slug` with a password (through that tenant's API token).
async fn user_in(s: &TestServer, token: &str, slug: &str, email: &str) {
    let base = format!("{}/t/{slug}/api/v1", s.base);
    let (st, u) = s
        .call_as(
            token,
            Method::POST,
            &format!("{base}/users"),
            Some(json!({ "email": email })),
        )
        .await;
    assert_eq!(st, 201, "{u}");
    let url = format!("{base}/users/{}/password", u["id"].as_str().unwrap());
    let (st, v) = s
        .call_as(
            token,
            Method::PUT,
            &url,
            Some(json!({ "password": PASSWORD })),
        )
        .await;
    assert_eq!(st, 204, "{v}");
}

async fn set_uv(s: &TestServer, uv: UserVerification) {
    let t = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let settings = MfaSettings {
        security_key_user_verification: uv,
        ..MfaSettings::default()
    };
    let actor = Actor {
        kind: "cli",
        id: None,
        label: "test".into(),
        ip: None,
    };
    s.store
        .set_mfa_settings(&t.id, &settings, &actor)
        .await
        .unwrap();
}

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
    assert!(codes[0].as_str().unwrap().len() == 14, "{v}");

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
        .header("X-CSRF-Token", &page.csrf)
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

backends!(
    passkey_registers_and_signs_in_without_username,
    assertions_are_bound_to_their_ceremony,
    credentials_of_another_tenant_or_user_are_refused,
    security_key_is_a_second_factor,
    user_verification_required_refuses_presence_only,
    bad_input_is_answered_in_json,
    sign_in_page_offers_passkeys,
);
