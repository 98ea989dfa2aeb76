//! OpenID Connect Back-Channel Logout 1.0: the client settings, the Logout Token a receiver
//! gets, and logout tokens sent when a signed-in user is deactivated, deleted or anonymised.

use crate::browser::*;
use crate::common::{Backend, TestServer};
use crate::{backends, verify_typed};
use axum::extract::Form;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;

pub const BYE: &str = "http://127.0.0.1:9/bye";

/// An app's back-channel logout endpoint on 127.0.0.1:0: records each `logout_token` POSTed
/// as a form.
pub struct Receiver {
    pub uri: String,
    tokens: mpsc::UnboundedReceiver<String>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    pub async fn start() -> Self {
        let (tx, tokens) = mpsc::unbounded_channel();
        let app = axum::Router::new().route(
            "/backchannel",
            axum::routing::post(move |Form(f): Form<HashMap<String, String>>| {
                let tx = tx.clone();
                async move {
                    match f.get("logout_token") {
                        Some(t) => {
                            let _ = tx.send(t.clone());
                            StatusCode::OK
                        }
                        None => StatusCode::BAD_REQUEST,
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            uri: format!("http://{addr}/backchannel"),
            tokens,
            task,
        }
    }

    /// The next logout token, waiting up to 10 s.
    pub async fn next(&mut self) -> String {
        tokio::time::timeout(Duration::from_secs(10), self.tokens.recv())
            .await
            .expect("a logout token within 10 s")
            .unwrap()
    }

    /// Asserts that no logout token arrives within half a second.
    pub async fn nothing(&mut self) {
        let got = tokio::time::timeout(Duration::from_millis(500), self.tokens.recv()).await;
        assert!(got.is_err(), "no logout token expected: {got:?}");
    }
}

/// A public client with a post-logout redirect URI and a back-channel logout URI: its client_id.
pub async fn logout_client(s: &TestServer, backchannel: &str) -> String {
    let (st, c) = s
        .post(
            "/clients",
            json!({ "name": "Web app", "kind": "public", "redirect_uris": [REDIRECT], "first_party": true,
                    "post_logout_redirect_uris": [BYE], "backchannel_logout_uri": backchannel,
                    "scopes": ["openid", "profile", "email"] }),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    c["client_id"].as_str().unwrap().to_owned()
}

/// Signs `email` in through `browser` at `client_id`: the token response.
pub async fn signed_in(s: &TestServer, browser: &Browser, client_id: &str, email: &str) -> Value {
    let (verifier, challenge) = pkce();
    let code = code_for(browser, client_id, &challenge, email).await;
    let (st, _, body) = exchange(s, client_id, &code, &verifier, REDIRECT).await;
    assert_eq!(st, 200, "{body}");
    body
}

/// The claims of the ID token in a token response, verified.
pub async fn id_token_claims(s: &TestServer, tokens: &Value) -> Value {
    verify_typed(s, "acme", tokens["id_token"].as_str().unwrap(), "JWT").await
}

/// Verifies a logout token against the JWKS and checks its claims (§2.4) for this sign-in.
pub async fn assert_logout_token(s: &TestServer, token: &str, client_id: &str, id_token: &Value) {
    let claims = verify_typed(s, "acme", token, "logout+jwt").await;
    assert_eq!(claims["iss"], format!("{}/t/acme", s.base).as_str());
    assert_eq!(claims["aud"], client_id);
    assert_eq!(claims["sub"], id_token["sub"]);
    assert_eq!(claims["sid"], id_token["sid"]);
    assert!(claims["sid"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(
        claims["events"],
        json!({ "http://schemas.openid.net/event/backchannel-logout": {} })
    );
    assert!(claims.get("nonce").is_none(), "{claims}");
    assert!(
        claims["jti"].as_str().is_some_and(|j| j.len() >= 16),
        "{claims}"
    );
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, 120, "{claims}");
}

/// The settings are validated like redirect URIs, default to requiring `sid`, and can be cleared.
async fn client_settings(b: Backend) {
    let s = TestServer::start(b).await;
    for bad in [
        json!({ "name": "x", "redirect_uris": [REDIRECT], "backchannel_logout_uri": "http://app.example.com/bc" }),
        json!({ "name": "x", "redirect_uris": [REDIRECT], "backchannel_logout_uri": "https://app.example.com/bc#f" }),
        json!({ "name": "x", "redirect_uris": [REDIRECT], "backchannel_logout_uri": "/bc" }),
        json!({ "name": "x", "redirect_uris": [REDIRECT], "post_logout_redirect_uris": ["http://app.example.com/bye"] }),
        json!({ "name": "x", "redirect_uris": [REDIRECT], "post_logout_redirect_uris": ["https://app.example.com/bye#f"] }),
        json!({ "name": "x", "redirect_uris": [REDIRECT], "backchannel_logout_session_required": "yes" }),
    ] {
        let (st, e) = s.post("/clients", bad.clone()).await;
        assert!(st == 422 || st == 400, "{bad}: {st} {e}");
    }
    let (st, c) = s
        .post(
            "/clients",
            json!({ "name": "App", "redirect_uris": [REDIRECT],
                    "backchannel_logout_uri": "https://app.example.com/bc" }),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["backchannel_logout_uri"], "https://app.example.com/bc");
    assert_eq!(c["backchannel_logout_session_required"], true);
    let id = c["id"].as_str().unwrap();
    let (st, p) = s
        .patch(
            &format!("/clients/{id}"),
            json!({ "backchannel_logout_session_required": false }),
        )
        .await;
    assert_eq!(st, 200, "{p}");
    assert_eq!(p["backchannel_logout_uri"], "https://app.example.com/bc");
    assert_eq!(p["backchannel_logout_session_required"], false);
    let (st, p) = s
        .patch(
            &format!("/clients/{id}"),
            json!({ "backchannel_logout_uri": null }),
        )
        .await;
    assert_eq!(st, 200, "{p}");
    assert_eq!(p["backchannel_logout_uri"], Value::Null);
    let (st, p) = s.get(&format!("/clients/{id}")).await;
    assert_eq!(
        (st.as_u16(), &p["backchannel_logout_session_required"]),
        (200, &json!(false))
    );
}

/// Deactivating a signed-in user tells the app their session signed in to; reactivating
/// them does not bring the session back, and tells nobody.
async fn deactivation_sends_logout_tokens(b: Backend) {
    let s = TestServer::start(b).await;
    let mut rx = Receiver::start().await;
    let client_id = logout_client(&s, &rx.uri).await;
    let user = user_with_password(&s, "ada@acme.test").await;
    let id = user["id"].as_str().unwrap();
    let browser = Browser::new(&s);
    let tokens = signed_in(&s, &browser, &client_id, "ada@acme.test").await;
    let id_token = id_token_claims(&s, &tokens).await;
    // A second sign-in in another browser: its own session, its own logout token.
    let other = Browser::new(&s);
    let tokens2 = signed_in(&s, &other, &client_id, "ada@acme.test").await;
    let id_token2 = id_token_claims(&s, &tokens2).await;
    assert_ne!(id_token["sid"], id_token2["sid"]);

    let (st, v) = s.post(&format!("/users/{id}/deactivate"), json!({})).await;
    assert_eq!(st, 200, "{v}");
    let mut got = [rx.next().await, rx.next().await];
    got.sort_by_key(|t| {
        crate::browser::jwt_claims(t)["sid"]
            .as_str()
            .unwrap()
            .to_owned()
    });
    let mut expected = [id_token.clone(), id_token2.clone()];
    expected.sort_by_key(|c| c["sid"].as_str().unwrap().to_owned());
    for (token, claims) in got.iter().zip(&expected) {
        assert_logout_token(&s, token, &client_id, claims).await;
    }
    rx.nothing().await;

    let (st, v) = s.post(&format!("/users/{id}/reactivate"), json!({})).await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = s.post(&format!("/users/{id}/deactivate"), json!({})).await;
    assert_eq!(st, 200, "{v}");
    rx.nothing().await;
}

/// Deleting or anonymising a signed-in user tells the app; a user signed out already, or
/// signed in only at an app without a back-channel URI, tells nobody.
async fn deletion_and_anonymisation_send_logout_tokens(b: Backend) {
    let s = TestServer::start(b).await;
    let mut rx = Receiver::start().await;
    let client_id = logout_client(&s, &rx.uri).await;
    let plain = public_client(&s).await;
    for (email, step) in [("ada@acme.test", "delete"), ("bob@acme.test", "anonymise")] {
        let user = user_with_password(&s, email).await;
        let id = user["id"].as_str().unwrap();
        let browser = Browser::new(&s);
        let tokens = signed_in(&s, &browser, &client_id, email).await;
        let id_token = id_token_claims(&s, &tokens).await;
        let (st, v) = if step == "delete" {
            s.delete(&format!("/users/{id}")).await
        } else {
            s.post(&format!("/users/{id}/anonymise"), json!({})).await
        };
        assert!(st.is_success(), "{step}: {v}");
        let token = rx.next().await;
        assert_logout_token(&s, &token, &client_id, &id_token).await;
    }
    let user = user_with_password(&s, "cy@acme.test").await;
    let browser = Browser::new(&s);
    signed_in(&s, &browser, &plain, "cy@acme.test").await;
    let (st, v) = s
        .delete(&format!("/users/{}", user["id"].as_str().unwrap()))
        .await;
    assert_eq!(st, 204, "{v}");
    rx.nothing().await;
}

backends!(
    client_settings,
    deactivation_sends_logout_tokens,
    deletion_and_anonymisation_send_logout_tokens
);
