//! A browser for the sign-in flow: a cookie-keeping HTTP client that does not follow
//! redirects, a public PKCE client, and users with passwords.

use crate::common::TestServer;
use base64::Engine;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use sha2::Digest;

pub const REDIRECT: &str = "http://127.0.0.1:9/callback";
pub const PASSWORD: &str = "correct horse battery";

pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
}

/// A response as the test needs it.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub content_type: String,
    pub body: String,
}

impl Browser {
    pub fn new(s: &TestServer) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap();
        Browser {
            http,
            base: s.base.clone(),
        }
    }

    /// `url` made absolute against the server (paths) or kept (absolute URLs).
    pub fn absolute_url(&self, url: &str) -> String {
        self.absolute(url)
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with('/') {
            format!("{}{url}", self.base)
        } else {
            url.to_owned()
        }
    }

    async fn read(res: reqwest::Response) -> Page {
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        let content_type = res
            .headers()
            .get("content-type")
            .map(|c| c.to_str().unwrap().to_owned())
            .unwrap_or_default();
        Page {
            status,
            location,
            content_type,
            body: res.text().await.unwrap(),
        }
    }

    pub async fn get(&self, url: &str) -> Page {
        Self::read(self.http.get(self.absolute(url)).send().await.unwrap()).await
    }

    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Page {
        Self::read(
            self.http
                .post(self.absolute(url))
                .form(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Fills in and submits the sign-in page at `login_url`.
    pub async fn sign_in(&self, login_url: &str, email: &str, password: &str) -> Page {
        let page = self.get(login_url).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.content_type.starts_with("text/html"));
        let csrf = hidden(&page.body, "csrf").expect("a CSRF field");
        let mut form = vec![("email", email), ("password", password), ("csrf", &csrf)];
        let return_to = hidden(&page.body, "return_to");
        if let Some(r) = &return_to {
            form.push(("return_to", r));
        }
        let ui_locales = hidden(&page.body, "ui_locales");
        if let Some(l) = &ui_locales {
            form.push(("ui_locales", l));
        }
        self.post_form("/t/acme/login", &form).await
    }
}

/// The value of the hidden field `name` in `html`, unescaped.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(unescape(&html[start..end]))
}

/// `html` text with the entities of an escaper (named, as `&lt;`, or numeric, as askama's
/// `&#60;`) turned back into their characters.
pub fn unescape(html: &str) -> String {
    [
        ("&quot;", "\""),
        ("&#34;", "\""),
        ("&#39;", "'"),
        ("&lt;", "<"),
        ("&#60;", "<"),
        ("&gt;", ">"),
        ("&#62;", ">"),
        ("&#38;", "&"),
        ("&amp;", "&"),
    ]
    .iter()
    .fold(html.to_owned(), |s, (entity, c)| s.replace(entity, c))
}

/// One query parameter of `url`, decoded.
pub fn param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| {
            percent_encoding::percent_decode_str(&v.replace('+', " "))
                .decode_utf8()
                .unwrap()
                .into_owned()
        })
    })
}

/// A PKCE pair: (verifier, S256 challenge).
pub fn pkce() -> (String, String) {
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// A first-party public client (no consent page) for the authorization code flow; returns
/// its client_id.
pub async fn public_client(s: &TestServer) -> String {
    let (st, c) = s
        .post(
            "/clients",
            json!({ "name": "Web app", "kind": "public", "redirect_uris": [REDIRECT],
                    "grant_types": ["authorization_code"], "scopes": ["openid", "profile", "email"],
                    "permission_namespaces": ["billing"], "first_party": true }),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    c["client_id"].as_str().unwrap().to_owned()
}

/// A user with a password; returns its JSON.
pub async fn user_with_password(s: &TestServer, email: &str) -> Value {
    let (st, u) = s
        .post(
            "/users",
            json!({ "email": email, "given_name": "Ada", "family_name": "Lovelace", "email_verified": true }),
        )
        .await;
    assert_eq!(st, 201, "{u}");
    let id = u["id"].as_str().unwrap();
    let (st, v) = s
        .put(
            &format!("/users/{id}/password"),
            json!({ "password": PASSWORD }),
        )
        .await;
    assert_eq!(st, 204, "{v}");
    u
}

/// An authorization URL for `client_id` with `extra` parameters (replacing defaults of the
/// same name; an empty value removes one).
pub fn authorize_url(client_id: &str, challenge: &str, extra: &[(&str, &str)]) -> String {
    let mut params: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", "openid profile email"),
        ("state", "st-123"),
        ("nonce", "n-456"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        params.retain(|(pk, _)| pk != k);
        if !v.is_empty() {
            params.push((k, v));
        }
    }
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", crate::enc(v)))
        .collect();
    format!("/t/acme/authorize?{}", query.join("&"))
}

/// Goes through the authorize endpoint, signing in unless the browser's session is enough,
/// and returns the code (asserting each step).
pub async fn code_for(b: &Browser, client_id: &str, challenge: &str, email: &str) -> String {
    let page = b.get(&authorize_url(client_id, challenge, &[])).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let login = page.location.unwrap();
    if login.starts_with(REDIRECT) {
        return param(&login, "code").expect("a code");
    }
    assert!(login.starts_with("/t/acme/login?"), "{login}");
    let page = b.sign_in(&login, email, PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let back = page.location.unwrap();
    assert!(back.starts_with("/t/acme/authorize?"), "{back}");
    let page = b.get(&back).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let cb = page.location.unwrap();
    assert!(cb.starts_with(REDIRECT), "{cb}");
    param(&cb, "code").expect("a code")
}

/// Exchanges a code at the token endpoint as the public client.
pub async fn exchange(
    s: &TestServer,
    client_id: &str,
    code: &str,
    verifier: &str,
    redirect_uri: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    crate::token(
        s,
        "acme",
        None,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier),
        ],
    )
    .await
}

/// The claims of a JWT, unverified (to sort or pick; the tests verify them separately).
pub fn jwt_claims(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}
