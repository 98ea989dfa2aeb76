//! Security headers on every answer (pages, OAuth, admin API, SCIM, errors, fallbacks), and
//! redirect URIs parsed as URLs at registration and at `/authorize`.

use crate::backends;
use crate::browser::*;
use crate::common::{Backend, TestServer};
use castellan::config::Config;
use castellan::http::AppState;
use reqwest::header::HeaderMap;
use serde_json::json;

/// (status, headers) of `method url` with `auth` and a form body when given.
async fn head(
    s: &TestServer,
    method: reqwest::Method,
    url: &str,
    auth: Option<&str>,
    form: Option<&str>,
) -> (u16, HeaderMap) {
    let mut req = s.client.request(method, url);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    if let Some(f) = form {
        req = req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(f.to_owned());
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.headers().clone())
}

fn get<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).map_or("", |v| v.to_str().unwrap())
}

async fn every_answer_carries_security_headers(b: Backend) {
    let s = TestServer::start(b).await;
    let (cid, secret, _) = crate::service_client(&s).await;
    let client_id = public_client(&s).await;
    let (st, scim) = s.post("/scim/tokens", json!({ "name": "idp" })).await;
    assert_eq!(st, 201);
    let scim = format!("Bearer {}", scim["token"].as_str().unwrap());
    let admin = format!("Bearer {}", s.token);
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{cid}:{secret}")
        )
    );
    let (_, challenge) = pkce();
    let base = &s.base;
    use reqwest::Method as M;
    // (case, method, url, auth, form, page?, cacheable?)
    type Case<'a> = (
        &'a str,
        M,
        String,
        Option<&'a str>,
        Option<&'a str>,
        bool,
        bool,
    );
    let cases: Vec<Case> = vec![
        (
            "sign-in page",
            M::GET,
            format!("{base}/t/acme/login"),
            None,
            None,
            true,
            false,
        ),
        (
            "security page (redirect)",
            M::GET,
            format!("{base}/t/acme/account/security"),
            None,
            None,
            false,
            false,
        ),
        (
            "authorize error page",
            M::GET,
            format!("{base}/t/acme/authorize"),
            None,
            None,
            true,
            false,
        ),
        (
            "authorize redirect",
            M::GET,
            format!("{base}{}", authorize_url(&client_id, &challenge, &[])),
            None,
            None,
            false,
            false,
        ),
        (
            "discovery",
            M::GET,
            format!("{base}/t/acme/.well-known/openid-configuration"),
            None,
            None,
            false,
            true,
        ),
        (
            "jwks",
            M::GET,
            format!("{base}/t/acme/jwks"),
            None,
            None,
            false,
            true,
        ),
        (
            "token",
            M::POST,
            format!("{base}/t/acme/token"),
            Some(&basic),
            Some("grant_type=client_credentials"),
            false,
            false,
        ),
        (
            "token error",
            M::POST,
            format!("{base}/t/acme/token"),
            Some(&basic),
            Some("grant_type=nope"),
            false,
            false,
        ),
        (
            "introspect",
            M::POST,
            format!("{base}/t/acme/introspect"),
            Some(&basic),
            Some("token=x"),
            false,
            false,
        ),
        (
            "userinfo error",
            M::GET,
            format!("{base}/t/acme/userinfo"),
            None,
            None,
            false,
            false,
        ),
        (
            "admin list",
            M::GET,
            s.url("/users"),
            Some(&admin),
            None,
            false,
            false,
        ),
        (
            "admin client secret",
            M::POST,
            s.url(&format!("/clients/{}/secret", "nope")),
            Some(&admin),
            None,
            false,
            false,
        ),
        (
            "admin 401",
            M::GET,
            s.url("/users"),
            None,
            None,
            false,
            false,
        ),
        (
            "scim",
            M::GET,
            format!("{base}/t/acme/scim/v2/Users"),
            Some(&scim),
            None,
            false,
            false,
        ),
        (
            "scim 401",
            M::GET,
            format!("{base}/t/acme/scim/v2/Users"),
            None,
            None,
            false,
            false,
        ),
        (
            "fallback 404",
            M::GET,
            format!("{base}/nowhere"),
            None,
            None,
            false,
            false,
        ),
        (
            "health",
            M::GET,
            format!("{base}/healthz"),
            None,
            None,
            false,
            false,
        ),
    ];
    for (case, method, url, auth, form, page, cacheable) in cases {
        let (st, h) = head(&s, method, &url, auth, form).await;
        assert_eq!(
            get(&h, "x-content-type-options"),
            "nosniff",
            "{case} ({st})"
        );
        assert_eq!(get(&h, "x-frame-options"), "DENY", "{case}");
        assert_eq!(get(&h, "referrer-policy"), "no-referrer", "{case}");
        assert!(h.get("strict-transport-security").is_none(), "{case}: http");
        let csp = get(&h, "content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{case}: {csp}");
        assert!(csp.starts_with("default-src 'none'"), "{case}: {csp}");
        if page {
            assert!(get(&h, "content-type").starts_with("text/html"), "{case}");
            for d in ["form-action 'self'", "base-uri 'none'", "script-src 'self'"] {
                assert!(csp.contains(d), "{case}: {d} in {csp}");
            }
        } else if !get(&h, "content-type").starts_with("text/html") {
            assert_eq!(csp, "default-src 'none'; frame-ancestors 'none'", "{case}");
        }
        let cache = get(&h, "cache-control");
        if cacheable {
            assert!(cache.starts_with("public"), "{case}: {cache}");
        } else {
            assert_eq!(cache, "no-store", "{case} ({st})");
        }
    }
}

/// With an https public URL every answer carries HSTS.
async fn hsts_when_public_url_is_https(b: Backend) {
    let s = TestServer::start(b).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = Config {
        public_url: "https://id.acme.test".into(),
        ..Config::default()
    };
    let state = AppState::new(s.store.clone(), config);
    let task = tokio::spawn(async move {
        let _ = castellan::http::serve(listener, state).await;
    });
    for path in [
        "/t/acme/login",
        "/t/acme/jwks",
        "/t/acme/api/v1/users",
        "/nowhere",
    ] {
        let res = reqwest::get(format!("{base}{path}")).await.unwrap();
        let hsts = res.headers().get("strict-transport-security");
        assert_eq!(
            hsts.map(|v| v.to_str().unwrap()),
            Some("max-age=31536000"),
            "{path}"
        );
    }
    task.abort();
}

/// Registration (admin API; the CLI goes through the same function) parses redirect URIs as
/// URLs.
async fn redirect_uris_are_parsed(b: Backend) {
    let s = TestServer::start(b).await;
    let register = |uri: &str| {
        json!({ "name": "App", "kind": "public", "redirect_uris": [uri],
                "grant_types": ["authorization_code"], "scopes": ["openid"] })
    };
    for bad in [
        "http://localhost:80@evil.example/cb",
        "https://app.example@evil.example/cb",
        "https://user:pass@app.example/cb",
        "http://localhost.evil.example/cb",
        "http://127.0.0.1.nip.io/cb",
        "http://evil.example/cb",
        "http://192.168.1.10/cb",
        "https://app.example/cb#x",
        "https://app.example\\@evil.example/cb",
        "https:///cb",
        "com.example.app:",
        "com.example.app://user@cb/x",
        "myapp:/cb",
        "javascript:alert(1)",
        "data:text/html,x",
        "https://app.example/a b",
        "/relative",
    ] {
        let (st, v) = s.post("/clients", register(bad)).await;
        assert_eq!(st, 422, "{bad}: {v}");
        assert_eq!(v["field"], "redirect_uris", "{bad}: {v}");
        // The post-logout URIs follow the same rule.
        let mut body = register("https://app.example/cb");
        body["post_logout_redirect_uris"] = json!([bad]);
        let (st, v) = s.post("/clients", body).await;
        assert_eq!(st, 422, "post-logout {bad}: {v}");
    }
    for good in [
        "https://app.example/cb",
        "https://app.example:8443/cb?tenant=a",
        "http://localhost:3000/cb",
        "http://127.0.0.1/cb",
        "http://127.8.9.10:9/cb",
        "http://[::1]:8080/cb",
        "com.example.app:/oauth2redirect",
        "com.example.app://cb",
    ] {
        let (st, v) = s.post("/clients", register(good)).await;
        assert_eq!(st, 201, "{good}: {v}");
        assert_eq!(v["redirect_uris"], json!([good]), "kept as given");
    }
    // The server POSTs back-channel logouts itself: never to a native app's scheme.
    let mut body = register("https://app.example/cb");
    body["backchannel_logout_uri"] = json!("com.example.app:/logout");
    let (st, v) = s.post("/clients", body).await;
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["field"], "backchannel_logout_uri", "{v}");
}

/// A native app with a private-use redirect URI (RFC 8252 §7.1): the pages whose forms lead back
/// to it allow its scheme in `form-action` (a browser would otherwise block the redirect that
/// follows the sign-in form), and only those pages; the code arrives at the app's URI.
async fn native_app_private_use_redirect(b: Backend) {
    let s = TestServer::start(b).await;
    const APP: &str = "com.example.app:/oauth2redirect";
    let (st, c) = s
        .post(
            "/clients",
            json!({ "name": "Phone app", "kind": "public", "redirect_uris": [APP],
                    "post_logout_redirect_uris": [APP],
                    "grant_types": ["authorization_code"], "scopes": ["openid", "email"],
                    "first_party": true }),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    let client_id = c["client_id"].as_str().unwrap();
    user_with_password(&s, "ada@acme.test").await;
    let br = Browser::new(&s);
    let (verifier, challenge) = pkce();
    let start = br
        .get(&authorize_url(
            client_id,
            &challenge,
            &[("redirect_uri", APP), ("scope", "openid email")],
        ))
        .await;
    let login = start.location.expect("to the sign-in page");
    let csp = |h: &HeaderMap| get(h, "content-security-policy").to_owned();
    let (st, h) = head(
        &s,
        reqwest::Method::GET,
        &br.absolute_url(&login),
        None,
        None,
    )
    .await;
    assert_eq!(st, 200);
    assert!(
        csp(&h).contains("form-action 'self' https: http: com.example.app:;"),
        "{}",
        csp(&h)
    );
    // A wrong password shows the form again, still allowed to lead back to the app.
    let page = br.get(&login).await;
    let csrf = hidden(&page.body, "csrf").unwrap();
    let return_to = hidden(&page.body, "return_to").unwrap();
    let res = br
        .http
        .post(br.absolute_url("/t/acme/login"))
        .form(&[
            ("email", "ada@acme.test"),
            ("password", "wrong password here"),
            ("csrf", &csrf),
            ("return_to", &return_to),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(csp(res.headers()).contains(" com.example.app:;"));
    // Another page, or a sign-in page for an ordinary app, does not allow the scheme.
    let (_, h) = head(
        &s,
        reqwest::Method::GET,
        &format!("{}/t/acme/login", s.base),
        None,
        None,
    )
    .await;
    assert!(!csp(&h).contains("com.example.app"), "{}", csp(&h));
    let signed = br.sign_in(&login, "ada@acme.test", PASSWORD).await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    let back = br.get(signed.location.as_deref().unwrap()).await;
    let to_app = back.location.expect("a redirect to the app");
    assert!(
        to_app.starts_with("com.example.app:/oauth2redirect?"),
        "{to_app}"
    );
    let code = param(&to_app, "code").expect("a code");
    let res = s
        .client
        .post(format!("{}/t/acme/token", s.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", APP),
            ("client_id", client_id),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

backends!(
    native_app_private_use_redirect,
    every_answer_carries_security_headers,
    hsts_when_public_url_is_https,
    redirect_uris_are_parsed
);
