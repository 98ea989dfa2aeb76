//! Passkeys and security keys over the JSON endpoints, driven by webauthn-authenticator-rs's
//! software authenticators: registration after a password sign-in, passkey sign-in without a
//! username through to an ID token, second factor, replay, other tenants and other users,
//! malformed input, CSRF, and user verification.
//!
//! Neither soft authenticator makes discoverable credentials: the tests assert that the server
//! asks for one, drop that requirement before handing the options over, and for a sign-in put
//! the credential in `allowCredentials` and the user handle in the answer, as a discoverable
//! authenticator would (the user handle is not signed).

mod errors;
mod second_factor;
mod sign_in;

use crate::browser::{Browser, PASSWORD, hidden};
use crate::common::TestServer;
use castellan::domain::audit::Actor;
use castellan::domain::mfa::{MfaSettings, UserVerification};
use reqwest::Method;
use serde_json::{Value, json};
use webauthn_authenticator_rs::prelude::{Url, WebauthnAuthenticator};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
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

    /// POSTs JSON to `/t/{slug}/webauthn/{step}` with the CSRF header of the page that would
    /// make the call now: (status, body).
    async fn post(&self, step: &str, body: Value) -> (u16, Value) {
        let csrf = self.current_csrf(step).await;
        self.post_with(step, body, Some(&csrf)).await
    }

    /// The CSRF token of the sign-in page as the browser sees it now (bound to its CSRF
    /// cookie, which changes at every sign-in).
    async fn login_csrf(&self) -> String {
        let page = self.b.get(&format!("/t/{}/login", self.slug)).await;
        // An unknown tenant has no sign-in page: the token the page was opened with.
        hidden(&page.body, "csrf").unwrap_or_else(|| self.csrf.clone())
    }

    /// The token a page would give `step`: the sign-in page's before sign-in; the security
    /// page's (or the second-factor page it sends to) once signed in, bound to the session's
    /// current secret.
    async fn current_csrf(&self, step: &str) -> String {
        if step.starts_with("login/") {
            return self.login_csrf().await;
        }
        let mut url = format!("/t/{}/account/security", self.slug);
        for _ in 0..3 {
            let page = self.b.get(&url).await;
            if let Some(to) = page.location.filter(|_| page.status == 303) {
                url = to;
                continue;
            }
            let token = hidden(&page.body, "csrf").or_else(|| {
                let start = page.body.find("data-csrf=\"")? + "data-csrf=\"".len();
                let end = page.body[start..].find('"')? + start;
                Some(page.body[start..end].to_owned())
            });
            if let Some(t) = token {
                return t;
            }
        }
        self.csrf.clone()
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

pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn passkey() -> SoftPasskey {
    SoftPasskey::new(true)
}

/// A user in tenant `slug` with a password (through that tenant's API token).
pub async fn user_in(s: &TestServer, token: &str, slug: &str, email: &str) {
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

pub async fn set_uv(s: &TestServer, uv: UserVerification) {
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
        power: None,
    };
    s.store
        .set_mfa_settings(&t.id, &settings, &actor)
        .await
        .unwrap();
}
