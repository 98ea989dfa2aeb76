//! OpenID Connect RP-Initiated Logout 1.0: the end-session endpoint with `id_token_hint`,
//! `post_logout_redirect_uri` and `state`, the confirmation asked for without a matching hint,
//! and the requests refused with a page, never a redirect.

use crate::backchannel_logout::*;
use crate::browser::*;
use crate::common::{Backend, TestServer};
use crate::{backends, enc};
use castellan::domain::oidc::KeyAlg;
use serde_json::{Value, json};

/// `/t/acme/logout?...` with `params`.
fn logout_url(params: &[(&str, &str)]) -> String {
    let q: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    format!("/t/acme/logout?{}", q.join("&"))
}

/// GET `/t/acme/userinfo` with the access token: the status.
async fn userinfo_status(s: &TestServer, tokens: &Value) -> u16 {
    s.client
        .get(format!("{}/t/acme/userinfo", s.base))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Whether the browser's session still gives a code without signing in.
async fn prompt_none_error(browser: &Browser, client_id: &str) -> Option<String> {
    let (_, challenge) = pkce();
    let url = authorize_url(client_id, &challenge, &[("prompt", "none")]);
    let page = browser.get(&url).await;
    assert_eq!(page.status, 303, "{}", page.body);
    param(&page.location.unwrap(), "error")
}

/// `claims` signed by `tenant`'s ES256 key as an ID token.
async fn sign_id_token(s: &TestServer, tenant: &str, claims: &Value) -> String {
    let t = s.store.tenant_by_slug(tenant).await.unwrap().unwrap();
    let ring = castellan::oidc::keys::KeyRing::default();
    let signer = ring.signer(&s.store, &t.id, KeyAlg::ES256).await.unwrap();
    signer.sign_jwt("JWT", claims).unwrap()
}

fn assert_page(page: &Page, status: u16, case: &str) {
    assert_eq!(page.status, status, "{case}: {}", page.body);
    assert!(page.location.is_none(), "{case}: never a redirect");
    assert!(page.content_type.starts_with("text/html"), "{case}");
}

/// With the hint of this browser's session: signed out at once, back to the app with `state`,
/// the session cookie cleared, the session over on the server, the app told.
async fn logout_with_hint(b: Backend) {
    let s = TestServer::start(b).await;
    let mut rx = Receiver::start().await;
    let client_id = logout_client(&s, &rx.uri).await;
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    let tokens = signed_in(&s, &browser, &client_id, "ada@acme.test").await;
    let id_token = id_token_claims(&s, &tokens).await;
    assert_eq!(userinfo_status(&s, &tokens).await, 200);
    let hint = tokens["id_token"].as_str().unwrap();

    let url = logout_url(&[
        ("id_token_hint", hint),
        ("post_logout_redirect_uri", BYE),
        ("state", "bye state"),
        ("ui_locales", "en"),
        ("logout_hint", "ada@acme.test"),
    ]);
    let res = browser
        .http
        .get(format!("{}{url}", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["location"],
        format!("{BYE}?state=bye%20state").as_str()
    );
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("castellan_session=;"), "{cookie}");
    assert!(
        cookie.contains("Max-Age=0") && cookie.contains("Path=/t/acme"),
        "{cookie}"
    );

    let token = rx.next().await;
    assert_logout_token(&s, &token, &client_id, &id_token).await;
    assert_eq!(userinfo_status(&s, &tokens).await, 401);
    let (_, audit) = s.get("/audit?target_kind=user").await;
    let signed_out = audit["items"].as_array().is_some_and(|a| {
        a.iter()
            .any(|e| e["action"] == "user.sign_out" && e["target_id"] == id_token["sub"])
    });
    assert!(signed_out, "the sign-out is audited: {audit}");
    assert_eq!(
        prompt_none_error(&browser, &client_id).await.as_deref(),
        Some("login_required")
    );

    // Again, now without a session: straight back to the app, nobody told. An expired hint
    // (accepted, §2) without a redirect URI shows the signed-out page.
    let page = browser.get(&url).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let mut expired = id_token.clone();
    expired["iat"] = json!(1_000_000_000);
    expired["exp"] = json!(1_000_003_600);
    let expired = sign_id_token(&s, "acme", &expired).await;
    let page = browser
        .get(&logout_url(&[("id_token_hint", &expired)]))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("You are signed out"), "{}", page.body);
    rx.nothing().await;
}

/// An expired hint of this browser's session still signs out at once.
async fn expired_hint_is_accepted(b: Backend) {
    let s = TestServer::start(b).await;
    let mut rx = Receiver::start().await;
    let client_id = logout_client(&s, &rx.uri).await;
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    let tokens = signed_in(&s, &browser, &client_id, "ada@acme.test").await;
    let mut claims = id_token_claims(&s, &tokens).await;
    claims["iat"] = json!(claims["iat"].as_i64().unwrap() - 7200);
    claims["exp"] = json!(claims["iat"].as_i64().unwrap() + 3600);
    let hint = sign_id_token(&s, "acme", &claims).await;
    // POSTed from the app's site, the form carries no (SameSite=Lax) cookie: the same request
    // comes back as a GET, which does.
    let form = [
        ("id_token_hint", hint.as_str()),
        ("post_logout_redirect_uri", BYE),
    ];
    let page = Browser::new(&s).post_form("/t/acme/logout", &form).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let get = page.location.unwrap();
    assert_eq!(get, logout_url(&form));
    assert_eq!(userinfo_status(&s, &tokens).await, 200);
    let page = browser.get(&get).await;
    assert_eq!(
        (page.status, page.location.as_deref()),
        (303, Some(BYE)),
        "{}",
        page.body
    );
    rx.next().await;
    assert_eq!(userinfo_status(&s, &tokens).await, 401);
}

/// Without a hint of this browser's session, the user is asked; the confirmation needs the
/// CSRF token, and only then signs out.
async fn logout_needs_confirmation(b: Backend) {
    let s = TestServer::start(b).await;
    let mut rx = Receiver::start().await;
    let client_id = logout_client(&s, &rx.uri).await;
    user_with_password(&s, "ada@acme.test").await;
    let earlier = Browser::new(&s);
    let old = signed_in(&s, &earlier, &client_id, "ada@acme.test").await;
    let browser = Browser::new(&s);
    let tokens = signed_in(&s, &browser, &client_id, "ada@acme.test").await;
    let id_token = id_token_claims(&s, &tokens).await;

    let plain = logout_url(&[
        ("client_id", &client_id),
        ("post_logout_redirect_uri", BYE),
        ("state", "s1"),
    ]);
    let other_session = logout_url(&[("id_token_hint", old["id_token"].as_str().unwrap())]);
    for url in [plain.as_str(), "/t/acme/logout", other_session.as_str()] {
        let page = browser.get(url).await;
        assert_eq!(page.status, 200, "{url}: {}", page.body);
        assert!(page.body.contains("Sign out of Acme?"), "{}", page.body);
        assert!(page.body.contains("action=\"/t/acme/logout/confirm\""));
        assert!(page.body.contains("ada@acme.test"));
    }
    assert_eq!(
        userinfo_status(&s, &tokens).await,
        200,
        "asking signs nobody out"
    );
    let page = browser.get(&plain).await;
    let csrf = hidden(&page.body, "csrf").expect("a CSRF field");
    assert_eq!(
        hidden(&page.body, "client_id").as_deref(),
        Some(client_id.as_str())
    );
    assert_eq!(hidden(&page.body, "state").as_deref(), Some("s1"));
    let carried = [
        ("client_id", client_id.as_str()),
        ("post_logout_redirect_uri", BYE),
        ("state", "s1"),
    ];

    for bad in [None, Some("wrong-token-wrong-token-wrong-token-00")] {
        let mut form = carried.to_vec();
        if let Some(c) = bad {
            form.push(("csrf", c));
        }
        let page = browser.post_form("/t/acme/logout/confirm", &form).await;
        assert_page(&page, 403, "bad CSRF");
    }
    // Another browser (no CSRF cookie) replaying the form is refused too.
    let mut form = carried.to_vec();
    form.push(("csrf", &csrf));
    let page = Browser::new(&s)
        .post_form("/t/acme/logout/confirm", &form)
        .await;
    assert_page(&page, 403, "no CSRF cookie");
    assert_eq!(userinfo_status(&s, &tokens).await, 200);
    rx.nothing().await;

    let page = browser.post_form("/t/acme/logout/confirm", &form).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(
        page.location.as_deref(),
        Some(format!("{BYE}?state=s1").as_str())
    );
    let token = rx.next().await;
    assert_logout_token(&s, &token, &client_id, &id_token).await;
    assert_eq!(userinfo_status(&s, &tokens).await, 401);
    assert_eq!(
        userinfo_status(&s, &old).await,
        200,
        "the other browser stays signed in"
    );
}

/// Requests that cannot be trusted get a page, never a redirect, and sign nobody out.
async fn bad_logout_requests(b: Backend) {
    let s = TestServer::start(b).await;
    let mut rx = Receiver::start().await;
    let client_id = logout_client(&s, &rx.uri).await;
    let other_app = public_client(&s).await;
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    let tokens = signed_in(&s, &browser, &client_id, "ada@acme.test").await;
    let hint = tokens["id_token"].as_str().unwrap();
    let claims = id_token_claims(&s, &tokens).await;

    // Another tenant: its own ID token, and one claiming acme's issuer signed with its key.
    let globex_token = s.other_tenant("globex").await;
    let (st, g) = s
        .call_as(
            &globex_token,
            reqwest::Method::POST,
            &format!("{}/t/globex/api/v1/clients", s.base),
            Some(
                json!({ "name": "G", "kind": "public", "redirect_uris": [REDIRECT],
                         "post_logout_redirect_uris": [BYE] }),
            ),
        )
        .await;
    assert_eq!(st, 201, "{g}");
    let globex_client = g["client_id"].as_str().unwrap();
    let mut theirs = claims.clone();
    theirs["iss"] = json!(format!("{}/t/globex", s.base));
    let theirs = sign_id_token(&s, "globex", &theirs).await;
    let forged = sign_id_token(&s, "globex", &claims).await;
    let mut parts: Vec<&str> = hint.split('.').collect();
    let other_sig = forged.split('.').nth(2).unwrap();
    parts[2] = other_sig;
    let bad_signature = parts.join(".");

    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "unregistered URI",
            vec![
                ("client_id", &client_id),
                ("post_logout_redirect_uri", "https://evil.test/"),
            ],
        ),
        (
            "URI of another app",
            vec![
                ("id_token_hint", hint),
                ("post_logout_redirect_uri", REDIRECT),
            ],
        ),
        (
            "URI without a client",
            vec![("post_logout_redirect_uri", BYE)],
        ),
        (
            "bad signature",
            vec![
                ("id_token_hint", &bad_signature),
                ("post_logout_redirect_uri", BYE),
            ],
        ),
        ("another tenant's token", vec![("id_token_hint", &theirs)]),
        ("another tenant's key", vec![("id_token_hint", &forged)]),
        ("not a JWT", vec![("id_token_hint", "not-a-jwt")]),
        (
            "client_id is not the hint's aud",
            vec![("id_token_hint", hint), ("client_id", &other_app)],
        ),
        (
            "unknown client",
            vec![("client_id", "nope"), ("post_logout_redirect_uri", BYE)],
        ),
        (
            "another tenant's client",
            vec![
                ("client_id", globex_client),
                ("post_logout_redirect_uri", BYE),
            ],
        ),
        (
            "repeated parameter",
            vec![("client_id", &client_id), ("client_id", &client_id)],
        ),
    ];
    for (case, params) in &cases {
        let page = browser.get(&logout_url(params)).await;
        assert_page(&page, 400, case);
        assert!(
            page.body.contains("This sign-out link is not valid"),
            "{case}"
        );
    }
    let res = browser
        .http
        .post(format!("{}/t/acme/logout", s.base))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "not a form");
    assert!(res.headers().get("location").is_none());
    let page = browser
        .post_form(
            "/t/acme/logout",
            &[("post_logout_redirect_uri", "https://evil.test/")],
        )
        .await;
    assert_page(&page, 400, "POST, unregistered URI");
    let page = browser
        .get(&logout_url(&[("id_token_hint", hint)]).replace("/acme/", "/nope/"))
        .await;
    assert_page(&page, 404, "unknown tenant");
    let page = browser
        .post_form("/t/nope/logout/confirm", &[("csrf", "x")])
        .await;
    assert_page(&page, 404, "unknown tenant, confirmation");

    assert_eq!(userinfo_status(&s, &tokens).await, 200, "still signed in");
    rx.nothing().await;
}

backends!(
    logout_with_hint,
    expired_hint_is_accepted,
    logout_needs_confirmation,
    bad_logout_requests
);
