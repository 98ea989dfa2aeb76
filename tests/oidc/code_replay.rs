//! A replayed authorization code (RFC 6749 §4.1.2, RFC 9700 §4.2.4) revokes what its first
//! exchange issued: the access token (introspection says inactive, userinfo refuses it) and the
//! refresh token family.

use crate::backends;
use crate::browser::*;
use crate::common::{Backend, TestServer};
use crate::refresh::{introspect, refresh, web_app};
use crate::token;
use serde_json::Value;

/// Signs ada in and returns (code, verifier) for `client_id` and `scope`.
async fn code(s: &TestServer, client_id: &str, scope: &str) -> (String, String) {
    let (verifier, challenge) = pkce();
    let browser = Browser::new(s);
    let page = browser
        .get(&authorize_url(client_id, &challenge, &[("scope", scope)]))
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let page = browser
        .sign_in(&page.location.unwrap(), "ada@acme.test", PASSWORD)
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let page = browser.get(&page.location.unwrap()).await;
    let cb = page.location.unwrap();
    (
        param(&cb, "code").unwrap_or_else(|| panic!("a code: {cb}")),
        verifier,
    )
}

fn exchange_form<'a>(code: &'a str, verifier: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ]
}

async fn userinfo_status(s: &TestServer, access_token: &str) -> u16 {
    s.client
        .get(format!("{}/t/acme/userinfo", s.base))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A confidential client with refresh tokens: the replay (by the client itself, or by anyone
/// holding the code with a wrong verifier) leaves the access token inactive and the refresh
/// token (and its rotated successors) refused.
async fn replay_revokes_access_and_refresh_tokens(b: Backend) {
    let s = TestServer::start(b).await;
    user_with_password(&s, "ada@acme.test").await;
    let (id, secret) = web_app(&s, &["openid", "email", "offline_access"]).await;
    let client = (id.as_str(), secret.as_str());
    for (case, scope) in [
        ("online", "openid email"),
        ("offline", "openid offline_access"),
    ] {
        let (code, verifier) = code(&s, &id, scope).await;
        let (st, _, first) =
            token(&s, "acme", Some(client), &exchange_form(&code, &verifier)).await;
        assert_eq!(st, 200, "{case}: {first}");
        let at = first["access_token"].as_str().unwrap();
        let rt = first["refresh_token"].as_str().unwrap();
        assert_eq!(introspect(&s, client, at).await["active"], true, "{case}");
        assert_eq!(userinfo_status(&s, at).await, 200, "{case}");
        // One rotation first: the whole family goes, not only the first refresh token.
        let (st, rotated) = refresh(&s, client, rt, &[]).await;
        assert_eq!(st, 200, "{case}: {rotated}");
        let rt2 = rotated["refresh_token"].as_str().unwrap();
        let at2 = rotated["access_token"].as_str().unwrap();

        let (st, _, replay) =
            token(&s, "acme", Some(client), &exchange_form(&code, &verifier)).await;
        assert_eq!(st, 400, "{case}: {replay}");
        assert_eq!(replay["error"], "invalid_grant", "{case}");

        for (what, t) in [("first access token", at), ("rotated access token", at2)] {
            let v = introspect(&s, client, t).await;
            assert_eq!(v, serde_json::json!({ "active": false }), "{case}: {what}");
            assert_eq!(userinfo_status(&s, t).await, 401, "{case}: {what}");
        }
        for (what, t) in [("first refresh token", rt), ("rotated refresh token", rt2)] {
            let (st, v) = refresh(&s, client, t, &[]).await;
            assert_eq!(
                (st, v["error"].as_str()),
                (400, Some("invalid_grant")),
                "{case}: {what}: {v}"
            );
            assert_eq!(
                introspect(&s, client, t).await["active"],
                false,
                "{case}: {what}"
            );
        }
    }
}

/// A public client without refresh tokens: the access token alone is revoked, also when the
/// replay comes with a wrong verifier (whoever replays it, the code has leaked).
async fn replay_by_anyone_revokes_public_client_token(b: Backend) {
    let s = TestServer::start(b).await;
    user_with_password(&s, "ada@acme.test").await;
    let id = public_client(&s).await;
    let (code, verifier) = code(&s, &id, "openid").await;
    let (st, _, first) = exchange(&s, &id, &code, &verifier, REDIRECT).await;
    assert_eq!(st, 200, "{first}");
    let at = first["access_token"].as_str().unwrap();
    assert_eq!(userinfo_status(&s, at).await, 200);
    let wrong = "x".repeat(43);
    let (st, _, replay) = exchange(&s, &id, &code, &wrong, REDIRECT).await;
    assert_eq!(
        (st, replay["error"].clone()),
        (400, Value::from("invalid_grant"))
    );
    assert_eq!(userinfo_status(&s, at).await, 401);
    // A fresh code of the same client still works: only the replayed code's tokens went.
    let (code, verifier) = self::code(&s, &id, "openid").await;
    let (st, _, again) = exchange(&s, &id, &code, &verifier, REDIRECT).await;
    assert_eq!(st, 200, "{again}");
    assert_eq!(
        userinfo_status(&s, again["access_token"].as_str().unwrap()).await,
        200
    );
}

backends!(
    replay_revokes_access_and_refresh_tokens,
    replay_by_anyone_revokes_public_client_token
);
