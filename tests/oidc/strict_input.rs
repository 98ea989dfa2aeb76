//! What the protocol endpoints do with hostile or sloppy input: `error_description` never echoes
//! raw input (RFC 6749 §5.2 characters only, bounded), oversized bodies are 413, a repeated
//! `Authorization` header is refused on every surface, unknown JSON fields are refused.

use crate::backends;
use crate::browser::*;
use crate::common::{Backend, TestServer};
use crate::post_form;
use serde_json::{Value, json};

/// A small deterministic generator (xorshift) of hostile strings: quotes, backslashes, control
/// characters, non-ASCII, markup, CRLF, and lengths up to 5,000 characters.
struct Hostile(u64);

impl Hostile {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn string(&mut self) -> String {
        const PIECES: &[&str] = &[
            "\"", "\\", "\r\n", "\t", "\u{7f}", "\u{1}", "<script>", "é", "😀", "\u{202e}", "%00",
            "'", "`", "a", "Z", " ", "=", "&", "#", "]", "[", "\u{fffd}", "\u{2028}",
        ];
        let len = match self.next() % 4 {
            0 => 1 + self.next() % 5,
            1 => 10 + self.next() % 40,
            2 => 150 + self.next() % 100,
            _ => 1000 + self.next() % 4000,
        };
        (0..len)
            .map(|_| PIECES[(self.next() % PIECES.len() as u64) as usize])
            .collect()
    }
}

/// The description is made only of `%x20-21 / %x23-5B / %x5D-7E`, at most 200 characters.
fn assert_safe(description: &str, case: &str) {
    assert!(
        description.len() <= 200,
        "{case}: {} long",
        description.len()
    );
    for c in description.chars() {
        assert!(
            matches!(c, ' ' | '!' | '#'..='[' | ']'..='~'),
            "{case}: {c:?} in {description:?}"
        );
    }
}

async fn error_descriptions_never_echo_raw_input(b: Backend) {
    let s = TestServer::start(b).await;
    let (cid, secret, _) = crate::service_client(&s).await;
    let client_id = public_client(&s).await;
    let (_, challenge) = pkce();
    let browser = Browser::new(&s);
    let mut hostile = Hostile(0x9e37_79b9_7f4a_7c15);
    let mut redirected = 0;
    for round in 0..60 {
        let evil = hostile.string();
        let case = format!("round {round}");
        // Token endpoint: an unknown grant type is quoted in the description.
        let (st, _, v) =
            crate::token(&s, "acme", Some((&cid, &secret)), &[("grant_type", &evil)]).await;
        assert_eq!(st, 400, "{case}: {v}");
        assert_safe(v["error_description"].as_str().unwrap(), &case);
        // Unknown scope, unknown token type hint.
        let (_, _, v) = crate::token(
            &s,
            "acme",
            Some((&cid, &secret)),
            &[("grant_type", "client_credentials"), ("scope", &evil)],
        )
        .await;
        assert_safe(v["error_description"].as_str().unwrap(), &case);
        let (_, _, v) = post_form(
            &s,
            "acme",
            "revoke",
            Some((&cid, &secret)),
            &[("token", "x"), ("token_type_hint", &evil)],
        )
        .await;
        if let Some(d) = v["error_description"].as_str() {
            assert_safe(d, &case);
        }
        // Authorization endpoint: errors redirected to the client.
        for param_name in ["response_type", "prompt", "scope", "response_mode"] {
            let page = browser
                .get(&authorize_url(
                    &client_id,
                    &challenge,
                    &[(param_name, &evil)],
                ))
                .await;
            let to = page.location.filter(|l| l.starts_with(REDIRECT));
            if let Some(d) = to.and_then(|to| param(&to, "error_description")) {
                assert_safe(&d, &format!("{case} {param_name}"));
                redirected += 1;
            }
        }
    }
    // Values holding control characters or bad UTF-8 are refused by the input guard before
    // /authorize (400, no redirect); the others are redirected with a description.
    assert!(
        redirected > 30,
        "the authorize errors were checked ({redirected})"
    );
}

async fn oversized_bodies_are_413(b: Backend) {
    let s = TestServer::start(b).await;
    let (cid, secret, _) = crate::service_client(&s).await;
    let big = format!(
        "grant_type=client_credentials&pad={}",
        "a".repeat(1024 * 1024 + 1)
    );
    for endpoint in ["token", "introspect", "revoke", "userinfo"] {
        let res = s
            .client
            .post(format!("{}/t/acme/{endpoint}", s.base))
            .basic_auth(&cid, Some(&secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 413, "{endpoint}");
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["error"], "invalid_request", "{endpoint}: {v}");
    }
}

/// Sends `method url` with two Authorization headers (both valid-looking) and `body`.
async fn twice(
    s: &TestServer,
    method: reqwest::Method,
    url: &str,
    first: &str,
    second: &str,
    form: Option<&str>,
) -> (u16, String, Value) {
    let mut req = s
        .client
        .request(method, url)
        .header("authorization", first)
        .header("authorization", second);
    if let Some(f) = form {
        req = req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(f.to_owned());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, res.json().await.unwrap_or(Value::Null))
}

async fn repeated_authorization_header_is_refused(b: Backend) {
    let s = TestServer::start(b).await;
    let (cid, secret, _) = crate::service_client(&s).await;
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{cid}:{secret}")
        )
    );
    let (_, _, t) = crate::token(
        &s,
        "acme",
        Some((&cid, &secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let at = t["access_token"].as_str().unwrap();
    let (st, scim) = s.post("/scim/tokens", json!({ "name": "idp" })).await;
    assert_eq!(st, 201, "{scim}");
    let scim_token = format!("Bearer {}", scim["token"].as_str().unwrap());
    let admin = format!("Bearer {}", s.token);
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;
    // Admin API: 401 problem+json, whichever header comes first.
    let admin = admin.as_str();
    for (first, second) in [
        (admin, "Bearer nope"),
        ("Bearer nope", admin),
        (admin, admin),
    ] {
        let (st, ct, v) = twice(&s, get.clone(), &s.url("/users"), first, second, None).await;
        assert_eq!(
            (st, ct.as_str()),
            (401, "application/problem+json"),
            "admin: {v}"
        );
    }
    // SCIM: 401 in the SCIM error schema.
    let scim_url = format!("{}/t/acme/scim/v2/Users", s.base);
    let (st, ct, v) = twice(&s, get.clone(), &scim_url, &scim_token, &scim_token, None).await;
    assert_eq!(
        (st, ct.as_str()),
        (401, "application/scim+json"),
        "scim: {v}"
    );
    assert_eq!(v["status"], "401");
    // OAuth endpoints: invalid_request.
    let cc = "grant_type=client_credentials";
    let token_form = format!("token={at}");
    for (endpoint, form) in [
        ("token", cc),
        ("introspect", token_form.as_str()),
        ("revoke", token_form.as_str()),
    ] {
        let url = format!("{}/t/acme/{endpoint}", s.base);
        let (st, _, v) = twice(&s, post.clone(), &url, &basic, &basic, Some(form)).await;
        assert_eq!(
            (st, v["error"].as_str()),
            (400, Some("invalid_request")),
            "{endpoint}: {v}"
        );
    }
    let bearer = format!("Bearer {at}");
    let url = format!("{}/t/acme/userinfo", s.base);
    let (st, _, v) = twice(&s, get, &url, &bearer, &bearer, None).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_request")),
        "userinfo: {v}"
    );
}

async fn unknown_and_mistyped_fields_are_refused(b: Backend) {
    let s = TestServer::start_localhost(b).await;
    let (st, before) = s.get("/scim/settings").await;
    assert_eq!(st, 200, "{before}");
    for body in [
        json!({ "delete_action": "delete", "surprise": true }),
        json!({ "delete_action": "delete", "delete_actions": "delete" }),
        json!({ "delete_action": "delete", "DELETE_ACTION": "delete" }),
    ] {
        let (st, v) = s.put("/scim/settings", body.clone()).await;
        assert_eq!(st, 422, "{body}: {v}");
    }
    // Wrong types: 422, or 400 where serde_json reports an enum given a number as a syntax error.
    for body in [
        json!({ "delete_action": 1 }),
        json!({ "delete_action": ["delete"] }),
        json!({ "delete_action": null }),
        json!([]),
        json!("delete"),
    ] {
        let (st, v) = s.put("/scim/settings", body.clone()).await;
        assert!(st == 422 || st == 400, "{body}: {st} {v}");
    }
    let (_, after) = s.get("/scim/settings").await;
    assert_eq!(before, after, "nothing changed");
    // The pages' WebAuthn JSON takes only its own fields (with a valid CSRF token, so only the
    // body is wrong; the server is `localhost` because WebAuthn refuses an IP address).
    let browser = Browser::new(&s);
    let page = browser.get("/t/acme/login").await;
    let csrf = hidden(&page.body, "csrf").expect("a CSRF field");
    for (body, status) in [(json!({ "surprise": 1 }), 400), (json!({}), 200)] {
        let res = browser
            .http
            .post(format!("{}/t/acme/webauthn/login/start", s.base))
            .header("X-CSRF-Token", &csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{body}");
    }
}

backends!(
    error_descriptions_never_echo_raw_input,
    oversized_bodies_are_413,
    repeated_authorization_header_is_refused,
    unknown_and_mistyped_fields_are_refused
);
