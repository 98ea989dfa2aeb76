//! Hostile bytes answered in each protocol's own error format, before any query: the probes of
//! issue 12 §4 (NUL in a tenant slug, an email, ids, filter literals, bodies), invalid UTF-8 in
//! query strings and forms (400, not U+FFFD), malformed ids, and the store's last line of
//! defence.

use crate::backends;
use crate::browser::{Browser, user_with_password};
use crate::common::{Backend, TestServer};
use crate::hostile_gen::enc_bytes;
use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};

const UUID: &str = "01900000-0000-7000-8000-000000000000";

/// Sends raw bytes; returns (status, content type, body text).
async fn raw(
    s: &TestServer,
    method: Method,
    target: &str,
    auth: Option<&str>,
    content_type: &str,
    body: &[u8],
) -> (u16, String, String) {
    let mut req = s
        .client
        .request(method, format!("{}{target}", s.base))
        .header("content-type", content_type)
        .body(body.to_vec());
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, res.text().await.unwrap())
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

async fn admin_api_refuses_hostile_bytes_with_problems(b: Backend) {
    let s = TestServer::start(b).await;
    let ada = user_with_password(&s, "ada@acme.test").await;
    let id = ada["id"].as_str().unwrap();
    let bearer = format!("Bearer {}", s.token);
    let admin = "/t/acme/api/v1";
    // Malformed ids, NUL among them, name nothing.
    for bad in [
        &b"x"[..],
        b"..",
        format!("{UUID}\0").as_bytes(),
        b"\xff",
        b"\0",
    ] {
        let target = format!("{admin}/users/{}", enc_bytes(bad));
        let (st, ct, text) = raw(&s, Method::GET, &target, Some(&bearer), "text/plain", b"").await;
        assert_eq!(
            (st, ct.as_str()),
            (404, "application/problem+json"),
            "{target}: {text}"
        );
    }
    // Text bodies with NUL or other controls: 422, and nothing changed.
    for bad in ["a\u{0}b", "\u{1b}[31m", "x\u{7f}", "\u{85}", "\u{0}"] {
        for (method, target, body) in [
            (
                Method::PATCH,
                format!("{admin}/users/{id}"),
                json!({ "given_name": bad }),
            ),
            (
                Method::POST,
                format!("{admin}/users"),
                json!({ "email": format!("{bad}z@acme.test") }),
            ),
            (
                Method::POST,
                format!("{admin}/roles"),
                json!({ "name": bad }),
            ),
            (
                Method::POST,
                format!("{admin}/accounts"),
                json!({ "name": bad }),
            ),
        ] {
            let body = serde_json::to_vec(&body).unwrap();
            let (st, ct, text) = raw(
                &s,
                method,
                &target,
                Some(&bearer),
                "application/json",
                &body,
            )
            .await;
            assert_eq!(
                (st, ct.as_str()),
                (422, "application/problem+json"),
                "{target} {bad:?}: {text}"
            );
            assert_eq!(json_of(&text)["type"], "urn:castellan:problem:validation");
        }
    }
    let (_, now) = s.get(&format!("/users/{id}")).await;
    assert_eq!(now["given_name"], "Ada");
    assert_eq!(now["version"], ada["version"]);
    // Query strings: NUL, bad UTF-8.
    for q in ["q=%00", "q=%ff", "q=a%C3%28", "limit=%00"] {
        let target = format!("{admin}/users?{q}");
        let (st, ct, text) = raw(&s, Method::GET, &target, Some(&bearer), "text/plain", b"").await;
        assert_eq!(
            (st, ct.as_str()),
            (400, "application/problem+json"),
            "{q}: {text}"
        );
    }
    // An id in a body is parsed as an id.
    let target = format!("{admin}/users/{id}/memberships");
    let body = json!({ "account_id": "not-an-id" }).to_string();
    let (st, _, text) = raw(
        &s,
        Method::POST,
        &target,
        Some(&bearer),
        "application/json",
        body.as_bytes(),
    )
    .await;
    assert_eq!(st, 422, "{text}");
    // Tab and line breaks are text, not controls to refuse.
    let body = json!({ "password": "correct\thorse\nbattery" }).to_string();
    let target = format!("{admin}/users/{id}/password");
    let (st, _, text) = raw(
        &s,
        Method::PUT,
        &target,
        Some(&bearer),
        "application/json",
        body.as_bytes(),
    )
    .await;
    assert_eq!(st, 204, "{text}");
}

async fn scim_refuses_hostile_bytes_with_scim_errors(b: Backend) {
    let s = TestServer::start(b).await;
    let token = castellan::cli::create_scim_token(&s.store, "acme", "t")
        .await
        .unwrap();
    let bearer = format!("Bearer {token}");
    let scim = "/t/acme/scim/v2";
    let ct_scim = "application/scim+json";
    for filter in [
        "userName eq \"a\0\"",
        "userName eq \"\u{1}\"",
        "emails[value eq \"\u{7f}\"]",
    ] {
        let target = format!("{scim}/Users?filter={}", enc_bytes(filter.as_bytes()));
        let (st, ct, text) = raw(&s, Method::GET, &target, Some(&bearer), "text/plain", b"").await;
        assert_eq!((st, ct.as_str()), (400, ct_scim), "{filter:?}: {text}");
        assert_eq!(json_of(&text)["scimType"], "invalidFilter", "{text}");
    }
    let target = format!("{scim}/Users?filter=userName%20eq%20%22%ff%22");
    let (st, _, text) = raw(&s, Method::GET, &target, Some(&bearer), "text/plain", b"").await;
    assert_eq!(st, 400, "bad UTF-8 in a filter: {text}");
    for bad in [
        &b"x"[..],
        format!("{UUID}\0").as_bytes(),
        b"\xff",
        b"1 OR 1=1",
    ] {
        let target = format!("{scim}/Users/{}", enc_bytes(bad));
        let (st, ct, text) = raw(&s, Method::GET, &target, Some(&bearer), "text/plain", b"").await;
        assert_eq!((st, ct.as_str()), (404, ct_scim), "{target}: {text}");
    }
    let user =
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a\u{0}b"});
    let (st, ct, text) = raw(
        &s,
        Method::POST,
        &format!("{scim}/Users"),
        Some(&bearer),
        ct_scim,
        user.to_string().as_bytes(),
    )
    .await;
    assert_eq!((st, ct.as_str()), (400, ct_scim), "{text}");
    assert_eq!(json_of(&text)["scimType"], "invalidValue", "{text}");
    let (st, list) = list_users(&s, &bearer).await;
    assert_eq!(
        (st, list["totalResults"].clone()),
        (200, json!(1)),
        "only the owner: {list}"
    );
}

async fn list_users(s: &TestServer, bearer: &str) -> (u16, Value) {
    let (st, _, text) = raw(
        s,
        Method::GET,
        "/t/acme/scim/v2/Users",
        Some(bearer),
        "text/plain",
        b"",
    )
    .await;
    (st, json_of(&text))
}

async fn oauth_endpoints_refuse_hostile_bytes_with_invalid_request(b: Backend) {
    let s = TestServer::start(b).await;
    let (client_id, secret, _) = crate::service_client(&s).await;
    let form = "application/x-www-form-urlencoded";
    // The tenant slug is checked before any query.
    for target in [
        "/t/%00/jwks",
        "/t/%00/.well-known/openid-configuration",
        "/t/ACME/jwks",
        "/t/%ff/jwks",
    ] {
        let (st, ct, text) = raw(&s, Method::GET, target, None, "text/plain", b"").await;
        assert_eq!(
            (st, ct.as_str()),
            (404, "application/json"),
            "{target}: {text}"
        );
        assert_eq!(json_of(&text)["error"], "not_found", "{text}");
    }
    let body =
        format!("grant_type=client_credentials&client_id={client_id}&client_secret={secret}");
    for extra in ["&scope=%00", "&scope=%ff", "&resource=a%C3%28", "&x%00=1"] {
        let b = format!("{body}{extra}");
        for endpoint in ["token", "introspect", "revoke"] {
            let (st, ct, text) = raw(
                &s,
                Method::POST,
                &format!("/t/acme/{endpoint}"),
                None,
                form,
                b.as_bytes(),
            )
            .await;
            assert_eq!(
                (st, ct.as_str()),
                (400, "application/json"),
                "{endpoint}{extra}: {text}"
            );
            assert_eq!(json_of(&text)["error"], "invalid_request", "{text}");
        }
    }
    // Control characters inside Basic credentials or an assertion's issuer: invalid_client.
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{client_id}%00:{secret}"));
    let auth = format!("Basic {basic}");
    let (st, _, text) = raw(
        &s,
        Method::POST,
        "/t/acme/token",
        Some(&auth),
        form,
        b"grant_type=client_credentials",
    )
    .await;
    assert_eq!(
        (st, json_of(&text)["error"].clone()),
        (401, json!("invalid_client")),
        "{text}"
    );
    let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let jwt = format!(
        "{}.{}.c2ln",
        b64(r#"{"alg":"RS256"}"#),
        b64(r#"{"iss":"a\u0000b","sub":"a\u0000b"}"#)
    );
    let body = format!(
        "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={jwt}"
    );
    let (st, _, text) = raw(
        &s,
        Method::POST,
        "/t/acme/token",
        None,
        form,
        body.as_bytes(),
    )
    .await;
    assert_eq!(
        (st, json_of(&text)["error"].clone()),
        (401, json!("invalid_client")),
        "{text}"
    );
}

async fn pages_refuse_hostile_bytes_with_a_readable_page(b: Backend) {
    let s = TestServer::start(b).await;
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    let page = browser.get("/t/acme/login").await;
    let csrf = crate::browser::hidden(&page.body, "csrf").unwrap();
    for email in [
        "a%40b.c%00",
        "ada%40acme.test%01",
        "%ff%40acme.test",
        "a%C2%85%40b.c",
    ] {
        let body = format!("email={email}&password=x&csrf={csrf}");
        let res = browser
            .http
            .post(format!("{}/t/acme/login", s.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{email}");
        let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.starts_with("text/html"), "{ct}");
        assert!(
            res.text().await.unwrap().contains("<h1>"),
            "a page for a person"
        );
    }
    for target in [
        "/t/%00/login",
        "/t/acme/login?login_hint=%00",
        "/t/acme/login?return_to=%ff",
    ] {
        let page = browser.get(target).await;
        assert!(
            [400, 404].contains(&page.status),
            "{target}: {}",
            page.status
        );
        assert!(page.content_type.starts_with("text/html"), "{target}");
    }
}

async fn the_store_maps_a_nul_onto_invalid_input(b: Backend) {
    let s = TestServer::start(b).await;
    let tenant = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    // What the HTTP guard keeps out is also no database error when it comes another way.
    match s.store.user_by_email(&tenant.id, "ada@acme.test\0").await {
        Ok(None) => assert_eq!(b, Backend::Sqlite),
        Err(castellan::domain::DomainError::Invalid { .. }) => assert_eq!(b, Backend::Postgres),
        other => panic!("{other:?}"),
    }
    assert!(!matches!(
        s.store.tenant_by_slug("a\0").await,
        Err(castellan::domain::DomainError::Internal(_))
    ));
}

backends!(
    admin_api_refuses_hostile_bytes_with_problems,
    scim_refuses_hostile_bytes_with_scim_errors,
    oauth_endpoints_refuse_hostile_bytes_with_invalid_request,
    pages_refuse_hostile_bytes_with_a_readable_page,
    the_store_maps_a_nul_onto_invalid_input,
);
