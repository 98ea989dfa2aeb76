//! The UserInfo endpoint (OpenID Connect Core §5.3, bearer errors of RFC 6750 §3.1) and token
//! introspection (RFC 7662), with tokens from complete flows.

use crate::browser::*;
use crate::common::{Backend, TestServer};
use crate::{backends, enc, service_client, token};
use castellan::domain::oidc::KeyAlg;
use serde_json::{Value, json};

/// A user with a role (`billing:read`, `other:write`, created unless `service_client` did) and a
/// group, signed in through `browser` at the public client: (client_id, user_id, token response).
async fn signed_in(s: &TestServer, browser: &Browser) -> (String, String, Value) {
    let client_id = public_client(s).await;
    let user = user_with_password(s, "ada@acme.test").await;
    let user_id = user["id"].as_str().unwrap().to_owned();
    for p in ["billing:read", "other:write"] {
        let (st, v) = s.post("/permissions", json!({ "name": p })).await;
        assert!(st.is_success() || st == 409, "{v}");
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
    let (verifier, challenge) = pkce();
    let code = code_for(browser, &client_id, &challenge, "ada@acme.test").await;
    let (st, _, body) = exchange(s, &client_id, &code, &verifier, REDIRECT).await;
    assert_eq!(st, 200, "{body}");
    (client_id, user_id, body)
}

/// GET `/t/{tenant}/userinfo` with `Authorization: Bearer {at}`: (status, headers, json).
async fn userinfo(
    s: &TestServer,
    tenant: &str,
    at: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let res = s
        .client
        .get(format!("{}/t/{tenant}/userinfo", s.base))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    read(res).await
}

async fn read(res: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.json().await.unwrap_or(Value::Null))
}

/// POSTs `form` to `/t/{tenant}/introspect` with Basic credentials.
async fn introspect(
    s: &TestServer,
    tenant: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let body: Vec<String> = form
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    let mut req = s
        .client
        .post(format!("{}/t/{tenant}/introspect", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.join("&"));
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    read(req.send().await.unwrap()).await
}

/// Asserts a 401 `invalid_token` with its `WWW-Authenticate: Bearer` challenge.
fn assert_invalid_token((st, h, body): (u16, reqwest::header::HeaderMap, Value), case: &str) {
    assert_eq!(st, 401, "{case}: {body}");
    assert_eq!(body["error"], "invalid_token", "{case}");
    let challenge = h["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer "), "{case}: {challenge}");
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{case}: {challenge}"
    );
    assert!(challenge.contains("error_description="), "{case}");
}

/// The claims of `jwt` without checking them (the test re-signs them).
fn payload(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// `claims` signed with the tenant's real ES256 key as an access token.
async fn sign_as(s: &TestServer, tenant: &str, claims: &Value) -> String {
    let t = s.store.tenant_by_slug(tenant).await.unwrap().unwrap();
    let ring = castellan::oidc::keys::KeyRing::default();
    let signer = ring.signer(&s.store, &t.id, KeyAlg::ES256).await.unwrap();
    signer.sign_jwt("at+jwt", claims).unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn userinfo_claims_by_scope(b: Backend) {
    let s = TestServer::start(b).await;
    let browser = Browser::new(&s);
    let (client_id, user_id, body) = signed_in(&s, &browser).await;
    let at = body["access_token"].as_str().unwrap();

    let (st, h, info) = userinfo(&s, "acme", at).await;
    assert_eq!(st, 200, "{info}");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(info["sub"], user_id.as_str());
    assert_eq!(info["email"], "ada@acme.test");
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["name"], "Ada Lovelace");
    assert_eq!(info["given_name"], "Ada");
    assert_eq!(info["family_name"], "Lovelace");
    let has_accountant = |v: &Value| {
        v["roles"]
            .as_array()
            .is_some_and(|r| r.contains(&json!("Accountant")))
    };
    assert!(has_accountant(&info), "{info}");
    assert_eq!(
        info["permissions"],
        json!(["billing:read"]),
        "only the client's namespaces"
    );
    assert_eq!(info["groups"], json!(["Finance"]));

    // POST with the token as a form field, and POST with the header and no body.
    let res = s
        .client
        .post(format!("{}/t/acme/userinfo", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("access_token={}", enc(at)))
        .send()
        .await
        .unwrap();
    let (st, _, v) = read(res).await;
    assert_eq!((st, &v["sub"]), (200, &json!(user_id)), "{v}");
    let res = s
        .client
        .post(format!("{}/t/acme/userinfo", s.base))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // A token with the `openid` scope only carries no email or profile claims.
    let (verifier, challenge) = pkce();
    let page = browser
        .get(&authorize_url(
            &client_id,
            &challenge,
            &[("scope", "openid")],
        ))
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let code = param(&page.location.unwrap(), "code").unwrap();
    let (st, _, body) = exchange(&s, &client_id, &code, &verifier, REDIRECT).await;
    assert_eq!(st, 200, "{body}");
    let (st, _, info) = userinfo(&s, "acme", body["access_token"].as_str().unwrap()).await;
    assert_eq!(st, 200, "{info}");
    assert_eq!(info["sub"], user_id.as_str());
    for absent in [
        "email",
        "email_verified",
        "name",
        "given_name",
        "family_name",
    ] {
        assert!(info.get(absent).is_none(), "{absent}: {info}");
    }
    assert!(has_accountant(&info), "{info}");
}

async fn userinfo_refuses_bad_tokens(b: Backend) {
    let s = TestServer::start(b).await;
    let (id, secret, _) = service_client(&s).await;
    let browser = Browser::new(&s);
    let (_, user_id, body) = signed_in(&s, &browser).await;
    let at = body["access_token"].as_str().unwrap();

    // No token at all, garbage, a tampered signature, an ID token.
    let res = s
        .client
        .get(format!("{}/t/acme/userinfo", s.base))
        .send()
        .await
        .unwrap();
    // No credentials at all: 401 with a bare challenge, no error code (RFC 6750 §3.1).
    let (st, h, err) = read(res).await;
    assert_eq!(
        (st, err["error"].as_str()),
        (401, Some("invalid_token")),
        "{err}"
    );
    assert_eq!(h["www-authenticate"], r#"Bearer realm="castellan""#);
    assert_invalid_token(userinfo(&s, "acme", "not-a-jwt").await, "garbage");
    let mut tampered = at.to_owned();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_invalid_token(userinfo(&s, "acme", &tampered).await, "tampered");
    let id_token = body["id_token"].as_str().unwrap();
    assert_invalid_token(userinfo(&s, "acme", id_token).await, "ID token");

    // Expired: the same claims, signed by the tenant's real key, with `exp` in the past.
    let mut claims = payload(at);
    claims["iat"] = json!(now() - 600);
    claims["exp"] = json!(now() - 300);
    let expired = sign_as(&s, "acme", &claims).await;
    let (st, h, e) = userinfo(&s, "acme", &expired).await;
    assert!(e["error_description"].as_str().unwrap().contains("expired"));
    assert_invalid_token((st, h, e), "expired");
    // Signed by the tenant but naming another issuer.
    let mut claims = payload(at);
    claims["iss"] = json!("https://elsewhere.test/t/acme");
    let foreign_iss = sign_as(&s, "acme", &claims).await;
    assert_invalid_token(userinfo(&s, "acme", &foreign_iss).await, "issuer");

    // Another tenant's endpoint does not take acme's token.
    s.other_tenant("globex").await;
    assert_invalid_token(userinfo(&s, "globex", at).await, "foreign tenant");

    // A client_credentials token stands for no user.
    let (st, _, cc) = token(
        &s,
        "acme",
        Some((&id, &secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(st, 200, "{cc}");
    let cc_at = cc["access_token"].as_str().unwrap();
    assert_invalid_token(userinfo(&s, "acme", cc_at).await, "client_credentials");

    // Malformed requests: two ways at once, a malformed header.
    let res = s
        .client
        .post(format!("{}/t/acme/userinfo", s.base))
        .bearer_auth(at)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("access_token={}", enc(at)))
        .send()
        .await
        .unwrap();
    let (st, _, e) = read(res).await;
    assert_eq!((st, e["error"].as_str()), (400, Some("invalid_request")));
    let res = s
        .client
        .get(format!("{}/t/acme/userinfo", s.base))
        .header("authorization", "Bearer two parts")
        .send()
        .await
        .unwrap();
    let (st, _, e) = read(res).await;
    assert_eq!((st, e["error"].as_str()), (400, Some("invalid_request")));
    let (st, _, e) = userinfo(&s, "nope", at).await;
    assert_eq!((st, e["error"].as_str()), (404, Some("not_found")));

    // Still valid, until the user is deactivated.
    let (st, _, info) = userinfo(&s, "acme", at).await;
    assert_eq!(st, 200, "{info}");
    let (st, v) = s
        .post(&format!("/users/{user_id}/deactivate"), json!({}))
        .await;
    assert_eq!(st, 200, "{v}");
    let (st, h, e) = userinfo(&s, "acme", at).await;
    assert!(!e.to_string().contains(at), "the token is never echoed");
    assert_invalid_token((st, h, e), "deactivated user");
}

async fn introspection(b: Backend) {
    let s = TestServer::start(b).await;
    let (rs_id, rs_secret, _) = service_client(&s).await;
    let browser = Browser::new(&s);
    let (client_id, user_id, body) = signed_in(&s, &browser).await;
    let at = body["access_token"].as_str().unwrap();
    let rs = Some((rs_id.as_str(), rs_secret.as_str()));

    // A user's token.
    let (st, h, v) = introspect(&s, "acme", rs, &[("token", at)]).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(h["cache-control"], "no-store");
    let claims = payload(at);
    assert_eq!(v["active"], true);
    assert_eq!(v["sub"], user_id.as_str());
    assert_eq!(v["client_id"], client_id.as_str());
    assert_eq!(v["scope"], "openid profile email");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["iss"], format!("{}/t/acme", s.base).as_str());
    for c in ["exp", "iat", "jti"] {
        assert_eq!(v[c], claims[c], "{c}");
    }
    assert!(
        v["roles"]
            .as_array()
            .is_some_and(|r| r.contains(&json!("Accountant"))),
        "{v}"
    );
    assert_eq!(v["permissions"], json!(["billing:read"]));

    // The service's own token, with its service roles.
    let (st, _, cc) = token(&s, "acme", rs, &[("grant_type", "client_credentials")]).await;
    assert_eq!(st, 200, "{cc}");
    let cc_at = cc["access_token"].as_str().unwrap();
    let (st, _, v) = introspect(&s, "acme", rs, &[("token", cc_at)]).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["active"], true);
    assert_eq!(v["sub"], rs_id.as_str());
    assert_eq!(v["roles"], json!(["Billing service"]));
    assert_eq!(v["permissions"], json!(["billing:read"]));

    // Inactive: garbage, an ID token, expired, another issuer, another tenant's token.
    let mut expired = payload(at);
    expired["exp"] = json!(now() - 1);
    let expired = sign_as(&s, "acme", &expired).await;
    let mut elsewhere = payload(at);
    elsewhere["iss"] = json!("https://elsewhere.test/t/acme");
    let elsewhere = sign_as(&s, "acme", &elsewhere).await;
    s.other_tenant("globex").await;
    let mut globex = payload(at);
    globex["iss"] = json!(format!("{}/t/globex", s.base));
    let globex = sign_as(&s, "globex", &globex).await;
    let id_token = body["id_token"].as_str().unwrap();
    for bad in ["garbage", id_token, &expired, &elsewhere, &globex] {
        let (st, h, v) = introspect(&s, "acme", rs, &[("token", bad)]).await;
        assert_eq!((st, &v), (200, &json!({ "active": false })), "{bad}");
        assert_eq!(h["cache-control"], "no-store");
    }

    // Client authentication and the `token` parameter.
    let (st, h, e) = introspect(&s, "acme", None, &[("token", at)]).await;
    assert_eq!((st, e["error"].as_str()), (401, Some("invalid_client")));
    assert!(h["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    let wrong = Some((rs_id.as_str(), "wrong"));
    let (st, _, e) = introspect(&s, "acme", wrong, &[("token", at)]).await;
    assert_eq!((st, e["error"].as_str()), (401, Some("invalid_client")));
    let public = [("client_id", client_id.as_str()), ("token", at)];
    let (st, _, e) = introspect(&s, "acme", None, &public).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (401, Some("invalid_client")),
        "a public client cannot introspect"
    );
    let (st, _, e) = introspect(&s, "acme", rs, &[]).await;
    assert_eq!((st, e["error"].as_str()), (400, Some("invalid_request")));
    let (st, _, e) = introspect(&s, "acme", rs, &[("token", at), ("token", at)]).await;
    assert_eq!((st, e["error"].as_str()), (400, Some("invalid_request")));
    // acme's client is unknown to globex.
    let (st, _, e) = introspect(&s, "globex", rs, &[("token", at)]).await;
    assert_eq!((st, e["error"].as_str()), (401, Some("invalid_client")));

    // A deactivated user's token is no longer active.
    let (st, v) = s
        .post(&format!("/users/{user_id}/deactivate"), json!({}))
        .await;
    assert_eq!(st, 200, "{v}");
    let (st, _, v) = introspect(&s, "acme", rs, &[("token", at)]).await;
    assert_eq!((st, &v), (200, &json!({ "active": false })));
}

backends!(
    userinfo_claims_by_scope,
    userinfo_refuses_bad_tokens,
    introspection
);
