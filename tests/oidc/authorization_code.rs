//! The authorization code flow with PKCE, end to end, and each error with its exact code:
//! authorization endpoint (RFC 6749 §4.1.2.1, OpenID Connect Core §3.1.2.6), token endpoint
//! (RFC 6749 §5.2).

use crate::backends;
use crate::browser::*;
use crate::common::{Backend, TestServer};
use crate::verify_typed;
use serde_json::json;

async fn complete_flow(b: Backend) {
    let s = TestServer::start(b).await;
    let client_id = public_client(&s).await;
    let user = user_with_password(&s, "ada@acme.test").await;
    let user_id = user["id"].as_str().unwrap();
    for p in ["billing:read", "other:write"] {
        let (st, v) = s.post("/permissions", json!({ "name": p })).await;
        assert!(st.is_success(), "{v}");
    }
    let (_, role) = s
        .post(
            "/roles",
            json!({ "name": "Accountant", "permissions": ["billing:read", "other:write"] }),
        )
        .await;
    let (st, v) = s
        .post(
            &format!("/users/{user_id}/roles"),
            json!({ "role_id": role["id"] }),
        )
        .await;
    assert!(st.is_success(), "{v}");
    let (_, group) = s
        .post("/groups", json!({ "display_name": "Finance" }))
        .await;
    let gid = group["id"].as_str().unwrap();
    let (st, v) = s
        .put(&format!("/groups/{gid}/members/{user_id}"), json!({}))
        .await;
    assert!(st.is_success(), "{v}");

    let browser = Browser::new(&s);
    let discovery: serde_json::Value = browser
        .http
        .get(format!(
            "{}/t/acme/.well-known/openid-configuration",
            s.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let issuer = format!("{}/t/acme", s.base);
    assert_eq!(
        discovery["authorization_endpoint"],
        format!("{issuer}/authorize")
    );

    let (verifier, challenge) = pkce();
    let page = browser
        .get(&authorize_url(&client_id, &challenge, &[]))
        .await;
    assert_eq!(page.status, 303);
    let login = page.location.unwrap();
    let page = browser.sign_in(&login, "ada@acme.test", PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let page = browser.get(&page.location.unwrap()).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let cb = page.location.unwrap();
    assert_eq!(param(&cb, "state").as_deref(), Some("st-123"));
    assert_eq!(param(&cb, "iss"), Some(issuer.clone()), "RFC 9207");
    let code = param(&cb, "code").unwrap();

    let (st, h, body) = exchange(&s, &client_id, &code, &verifier, REDIRECT).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["scope"], "openid profile email");

    let id = verify_typed(&s, "acme", body["id_token"].as_str().unwrap(), "JWT").await;
    assert_eq!(id["iss"], issuer.as_str());
    assert_eq!(id["sub"], user_id);
    assert_eq!(id["aud"], client_id.as_str());
    assert_eq!(id["nonce"], "n-456");
    assert_eq!(id["amr"], json!(["pwd"]));
    assert!(id["acr"].is_string());
    assert!(id["sid"].is_string());
    assert!(id["auth_time"].as_i64().unwrap() <= id["iat"].as_i64().unwrap());
    assert_eq!(id["email"], "ada@acme.test");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["name"], "Ada Lovelace");
    assert_eq!(id["given_name"], "Ada");
    assert_eq!(id["family_name"], "Lovelace");
    assert!(
        id["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("Accountant"))
    );
    assert_eq!(
        id["permissions"],
        json!(["billing:read"]),
        "only the client's namespaces"
    );
    assert_eq!(id["groups"], json!(["Finance"]));

    let at = verify_typed(&s, "acme", body["access_token"].as_str().unwrap(), "at+jwt").await;
    assert_eq!(at["sub"], user_id);
    assert_eq!(at["client_id"], client_id.as_str());
    assert_eq!(at["scope"], "openid profile email");
    assert_eq!(at["sid"], id["sid"]);
    assert_eq!(at["permissions"], json!(["billing:read"]));

    // Single sign-on: the session gives a new code without the sign-in page; without the
    // `email` scope there are no email claims.
    let (verifier, challenge) = pkce();
    let page = browser
        .get(&authorize_url(
            &client_id,
            &challenge,
            &[("scope", "openid"), ("nonce", "")],
        ))
        .await;
    assert_eq!(page.status, 303);
    let cb = page.location.unwrap();
    assert!(cb.starts_with(REDIRECT), "{cb}");
    let (st, _, body) = exchange(
        &s,
        &client_id,
        &param(&cb, "code").unwrap(),
        &verifier,
        REDIRECT,
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let id = verify_typed(&s, "acme", body["id_token"].as_str().unwrap(), "JWT").await;
    assert!(id.get("email").is_none() && id.get("nonce").is_none() && id.get("name").is_none());
}

async fn bad_client_or_redirect_uri_is_a_page(b: Backend) {
    let s = TestServer::start(b).await;
    let client_id = public_client(&s).await;
    let browser = Browser::new(&s);
    let (_, challenge) = pkce();
    for extra in [
        vec![("redirect_uri", "https://evil.test/callback")],
        vec![("redirect_uri", "http://127.0.0.1:9/callback/")],
        vec![("redirect_uri", "")],
        vec![("client_id", "unknown")],
        vec![("client_id", "")],
    ] {
        let page = browser
            .get(&authorize_url(&client_id, &challenge, &extra))
            .await;
        assert_eq!(page.status, 400, "{extra:?}");
        assert!(page.location.is_none(), "never a redirect: {extra:?}");
        assert!(page.content_type.starts_with("text/html"));
    }
}

/// Errors redirected to the client, with `state` and `iss`.
async fn authorize_errors_redirect(b: Backend) {
    let s = TestServer::start(b).await;
    let client_id = public_client(&s).await;
    let browser = Browser::new(&s);
    let (_, challenge) = pkce();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("code_challenge_method", "plain")], "invalid_request"),
        (vec![("code_challenge_method", "")], "invalid_request"),
        (vec![("code_challenge", "")], "invalid_request"),
        (vec![("code_challenge", "too-short")], "invalid_request"),
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (vec![("response_type", "")], "invalid_request"),
        (vec![("scope", "profile email")], "invalid_scope"),
        (vec![("scope", "openid phone")], "invalid_scope"),
        (vec![("prompt", "none")], "login_required"),
        (vec![("prompt", "none login")], "invalid_request"),
        (vec![("max_age", "soon")], "invalid_request"),
        (vec![("request", "eyJ")], "request_not_supported"),
    ];
    for (extra, code) in cases {
        let page = browser
            .get(&authorize_url(&client_id, &challenge, &extra))
            .await;
        assert_eq!(page.status, 303, "{extra:?}");
        let loc = page.location.unwrap();
        assert!(loc.starts_with(&format!("{REDIRECT}?")), "{loc}");
        assert_eq!(
            param(&loc, "error").as_deref(),
            Some(code),
            "{extra:?}: {loc}"
        );
        assert_eq!(param(&loc, "state").as_deref(), Some("st-123"));
        assert_eq!(param(&loc, "iss"), Some(format!("{}/t/acme", s.base)));
        assert!(param(&loc, "code").is_none());
    }
}

async fn prompt_max_age_and_login_hint(b: Backend) {
    let s = TestServer::start(b).await;
    let client_id = public_client(&s).await;
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    let (verifier, challenge) = pkce();
    // login_hint pre-fills the email.
    let page = browser
        .get(&authorize_url(
            &client_id,
            &challenge,
            &[("login_hint", "ada@acme.test")],
        ))
        .await;
    let login = page.location.unwrap();
    let form = browser.get(&login).await;
    assert!(
        form.body.contains("value=\"ada@acme.test\""),
        "{}",
        form.body
    );
    code_for(&browser, &client_id, &challenge, "ada@acme.test").await;
    // prompt=none with a session: a code.
    let page = browser
        .get(&authorize_url(
            &client_id,
            &challenge,
            &[("prompt", "none")],
        ))
        .await;
    assert!(param(&page.location.unwrap(), "code").is_some());
    // prompt=login and max_age=0: sign in again, then back without looping.
    for extra in [("prompt", "login"), ("max_age", "0")] {
        let page = browser
            .get(&authorize_url(&client_id, &challenge, &[extra]))
            .await;
        let login = page.location.unwrap();
        assert!(login.starts_with("/t/acme/login?"), "{extra:?}: {login}");
        let page = browser.sign_in(&login, "ada@acme.test", PASSWORD).await;
        let back = page.location.unwrap();
        let page = browser.get(&back).await;
        let cb = page.location.unwrap();
        assert!(param(&cb, "code").is_some(), "{extra:?}: {cb}");
    }
    // max_age long enough: no new sign-in.
    let page = browser
        .get(&authorize_url(
            &client_id,
            &challenge,
            &[("max_age", "3600")],
        ))
        .await;
    let cb = page.location.unwrap();
    let (st, _, body) = exchange(
        &s,
        &client_id,
        &param(&cb, "code").unwrap(),
        &verifier,
        REDIRECT,
    )
    .await;
    assert_eq!(st, 200, "{body}");
}

async fn token_errors(b: Backend) {
    let s = TestServer::start(b).await;
    let client_id = public_client(&s).await;
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);

    // Code reuse.
    let (verifier, challenge) = pkce();
    let code = code_for(&browser, &client_id, &challenge, "ada@acme.test").await;
    let (st, _, body) = exchange(&s, &client_id, &code, &verifier, REDIRECT).await;
    assert_eq!(st, 200, "{body}");
    let (st, h, body) = exchange(&s, &client_id, &code, &verifier, REDIRECT).await;
    assert_eq!(
        (st, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    assert_eq!(h["cache-control"], "no-store");

    // Wrong verifier.
    let (_, challenge) = pkce();
    let (other_verifier, _) = pkce();
    let code = code_for(&browser, &client_id, &challenge, "ada@acme.test").await;
    let (st, _, body) = exchange(&s, &client_id, &code, &other_verifier, REDIRECT).await;
    assert_eq!(
        (st, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    // Wrong redirect_uri.
    let (verifier, challenge) = pkce();
    let code = code_for(&browser, &client_id, &challenge, "ada@acme.test").await;
    let (st, _, body) =
        exchange(&s, &client_id, &code, &verifier, "http://127.0.0.1:9/other").await;
    assert_eq!(
        (st, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    // Unknown code, missing verifier, unknown client.
    let (st, _, body) = exchange(&s, &client_id, "made-up", &verifier, REDIRECT).await;
    assert_eq!((st, body["error"].as_str()), (400, Some("invalid_grant")));
    let (st, _, body) = crate::token(
        &s,
        "acme",
        None,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &client_id),
            ("code", "x"),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!((st, body["error"].as_str()), (400, Some("invalid_request")));
    let (st, _, body) = exchange(&s, "unknown", "x", &verifier, REDIRECT).await;
    assert_eq!((st, body["error"].as_str()), (401, Some("invalid_client")));

    // A code issued to one client cannot be redeemed by another.
    let (_, other) = s
        .post(
            "/clients",
            json!({ "name": "Other", "kind": "public", "redirect_uris": [REDIRECT],
                    "grant_types": ["authorization_code"] }),
        )
        .await;
    let (verifier, challenge) = pkce();
    let code = code_for(&browser, &client_id, &challenge, "ada@acme.test").await;
    let (st, _, body) = exchange(
        &s,
        other["client_id"].as_str().unwrap(),
        &code,
        &verifier,
        REDIRECT,
    )
    .await;
    assert_eq!((st, body["error"].as_str()), (400, Some("invalid_grant")));

    // A user deactivated after signing in gets no tokens.
    let u = user_with_password(&s, "bob@acme.test").await;
    let b2 = Browser::new(&s);
    let (verifier, challenge) = pkce();
    let code = code_for(&b2, &client_id, &challenge, "bob@acme.test").await;
    let (st, v) = s
        .post(
            &format!("/users/{}/deactivate", u["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let (st, _, body) = exchange(&s, &client_id, &code, &verifier, REDIRECT).await;
    assert_eq!((st, body["error"].as_str()), (400, Some("invalid_grant")));
}

backends!(
    complete_flow,
    bad_client_or_redirect_uri_is_a_page,
    authorize_errors_redirect,
    prompt_max_age_and_login_hint,
    token_errors
);
