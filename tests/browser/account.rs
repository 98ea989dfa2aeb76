//! The account portal's seed procedure in Chromium (issue 14): a person corrects their profile,
//! signs out their session in another browser, revokes an app, changes their password and a
//! notification preference; then the admin API and the token endpoint say each took effect.

use crate::chromium;
use crate::common::{Backend, TestServer};
use crate::{PASSWORD, user_with_password};
use base64::Engine;
use serde_json::{Value, json};
use sha2::Digest;

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const NEW_PASSWORD: &str = "a brand new passphrase 42";

/// A cookie-keeping HTTP client that does not follow redirects: the person's other browser.
fn other_browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of the hidden field `name` in `html`.
fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(
        html[start..end]
            .replace("&amp;", "&")
            .replace("&quot;", "\""),
    )
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Signs `email` in with `password` in `http`: the status of the sign-in POST.
async fn sign_in(s: &TestServer, http: &reqwest::Client, email: &str, password: &str) -> u16 {
    let login = http
        .get(format!("{}/t/acme/login", s.base))
        .send()
        .await
        .unwrap();
    let csrf = hidden(&login.text().await.unwrap(), "csrf").expect("a CSRF field");
    let res = http
        .post(format!("{}/t/acme/login", s.base))
        .form(&[("email", email), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

/// The code flow in the signed-in `http` for a confidential client, allowing it on its consent
/// page when it asks: the token response.
async fn tokens(
    s: &TestServer,
    http: &reqwest::Client,
    (id, secret): (&str, &str),
    scope: &str,
) -> Value {
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let url = format!(
        "{}/t/acme/authorize?response_type=code&client_id={}&redirect_uri={}&scope={}&state=st&nonce=n&code_challenge={challenge}&code_challenge_method=S256",
        s.base,
        enc(id),
        enc(REDIRECT),
        enc(scope)
    );
    let mut res = http.get(url).send().await.unwrap();
    if res.status() == 200 {
        let page = res.text().await.unwrap();
        let mut form: Vec<(String, String)> = page
            .split("<input type=\"hidden\" name=\"")
            .skip(1)
            .map(|rest| {
                let (name, rest) = rest.split_once("\" value=\"").unwrap();
                let value = rest.split_once('"').unwrap().0;
                (
                    name.to_owned(),
                    value.replace("&amp;", "&").replace("&quot;", "\""),
                )
            })
            .collect();
        form.push(("decision".into(), "allow".into()));
        res = http
            .post(format!("{}/t/acme/authorize/consent", s.base))
            .form(&form)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    let code = url::Url::parse(&to)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("a code in {to}"));
    let (st, v) = token(
        s,
        (id, secret),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(st, 200, "{v}");
    v
}

async fn token(s: &TestServer, (id, secret): (&str, &str), form: &[(&str, &str)]) -> (u16, Value) {
    let res = s
        .client
        .post(format!("{}/t/acme/token", s.base))
        .basic_auth(id, Some(secret))
        .form(form)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// A confidential client with refresh tokens: (client_id, secret).
async fn client(s: &TestServer, name: &str, first_party: bool) -> (String, String) {
    let (st, c) = s
        .post(
            "/clients",
            json!({ "name": name, "redirect_uris": [REDIRECT], "first_party": first_party,
                    "grant_types": ["authorization_code", "refresh_token"],
                    "scopes": ["openid", "profile", "offline_access"] }),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    (
        c["client_id"].as_str().unwrap().into(),
        c["client_secret"].as_str().unwrap().into(),
    )
}

/// The person's portal in Chromium, then the server's word on each change.
async fn person_manages_their_account_in_the_portal(b: Backend) {
    let Some(tools) = chromium::tools_or_skip() else {
        return;
    };
    let s = TestServer::start_localhost(b).await;
    let id = user_with_password(&s, "ada@acme.test").await;
    let web = client(&s, "Web app", true).await;
    let budget = client(&s, "Budget Tracker", false).await;
    let web = (web.0.as_str(), web.1.as_str());
    let budget = (budget.0.as_str(), budget.1.as_str());

    // Ada's other browser: signed in, with an app's refresh token made there, and her consent
    // to a third-party app.
    let elsewhere = other_browser();
    assert_eq!(
        sign_in(&s, &elsewhere, "ada@acme.test", PASSWORD).await,
        303
    );
    let rt_elsewhere = tokens(&s, &elsewhere, web, "openid profile").await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    tokens(&s, &elsewhere, budget, "openid profile").await;
    let (_, consents) = s.get(&format!("/users/{id}/consents")).await;
    assert_eq!(consents["items"].as_array().unwrap().len(), 1, "{consents}");
    let tenant = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let uid = castellan::domain::UserId(id.clone());
    let before = s.store.user_sessions(&tenant.id, &uid).await.unwrap();
    assert_eq!(before.len(), 1);

    let input = json!({ "base": s.public_url, "tenant": "acme", "email": "ada@acme.test",
                        "password": PASSWORD, "new_password": NEW_PASSWORD,
                        "given_name": "Augusta", "app_name": "Budget Tracker" });
    chromium::run(&tools, "account_portal", input).await;

    // The profile.
    let (_, u) = s.get(&format!("/users/{id}")).await;
    assert_eq!(
        (u["given_name"].as_str(), u["phone"].as_str()),
        (Some("Augusta"), Some("+44 20 7946 0000"))
    );
    // The session elsewhere is gone, and the refresh token made there refused.
    let live = s.store.user_sessions(&tenant.id, &uid).await.unwrap();
    assert!(
        live.iter().all(|x| x.session.id != before[0].session.id),
        "the session ended"
    );
    let (st, v) = token(
        &s,
        web,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt_elsewhere),
        ],
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    let page = elsewhere
        .get(format!("{}/t/acme/account", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 303, "the other browser is signed out");
    // The consent is gone.
    let (_, consents) = s.get(&format!("/users/{id}/consents")).await;
    assert_eq!(consents["items"], json!([]), "{consents}");
    // The old password is refused, the new one signs in.
    assert_eq!(
        sign_in(&s, &other_browser(), "ada@acme.test", PASSWORD).await,
        401
    );
    assert_eq!(
        sign_in(&s, &other_browser(), "ada@acme.test", NEW_PASSWORD).await,
        303
    );
    // The notification preference is stored.
    let (_, prefs) = s.get(&format!("/users/{id}/notifications")).await;
    let roles = prefs
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["event_type"] == "access.roles_changed")
        .expect("the roles notification");
    assert_eq!(roles["enabled"], true, "{prefs}");
    assert_eq!(roles["channels"], json!(["push"]), "{prefs}");
    let (_, audit) = s.get("/audit?action=user.password.set").await;
    assert_eq!(
        audit["items"][0]["actor_label"], "ada@acme.test (account)",
        "{audit}"
    );
}

crate::backends!(person_manages_their_account_in_the_portal);
