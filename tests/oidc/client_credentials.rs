//! RFC 6749 §4.4 client credentials and the token endpoint's errors (§5.2), exact codes.

use crate::backends;
use crate::common::{Backend, TestServer};
use crate::{service_client, token, verify};

const CC: (&str, &str) = ("grant_type", "client_credentials");

async fn issues_rfc9068_token(b: Backend) {
    let s = TestServer::start(b).await;
    let (id, secret, _) = service_client(&s).await;
    let (st, h, body) = token(&s, "acme", Some((&id, &secret)), &[CC]).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["scope"], "billing:read");
    let claims = verify(&s, "acme", body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["client_id"], id.as_str());
    assert_eq!(claims["aud"], id.as_str());
    assert_eq!(claims["roles"], serde_json::json!(["Billing service"]));
    // Only the namespaces the app may see.
    assert_eq!(claims["permissions"], serde_json::json!(["billing:read"]));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));

    // client_secret_post is refused for a client_secret_basic client...
    let (st, _, e) = token(
        &s,
        "acme",
        None,
        &[CC, ("client_id", &id), ("client_secret", &secret)],
    )
    .await;
    assert_eq!((st, e["error"].as_str()), (401, Some("invalid_client")));
    // ...and accepted once the client is registered for it, with a resource as audience.
    let (_, list) = s.get("/clients").await;
    let internal = list[0]["id"].as_str().unwrap();
    let (st, v) = s
        .patch(
            &format!("/clients/{internal}"),
            serde_json::json!({ "token_endpoint_auth_method": "client_secret_post" }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let (st, _, body) = token(
        &s,
        "acme",
        None,
        &[
            CC,
            ("client_id", &id),
            ("client_secret", &secret),
            ("resource", "https://api.example.com"),
        ],
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let claims = verify(&s, "acme", body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["aud"], "https://api.example.com");
}

/// (Basic credentials, form, status, error).
type Case<'a> = (
    Option<(&'a str, &'a str)>,
    Vec<(&'a str, &'a str)>,
    u16,
    &'a str,
);

async fn error_codes(b: Backend) {
    let s = TestServer::start(b).await;
    let (id, secret, _) = service_client(&s).await;
    let good = Some((id.as_str(), secret.as_str()));
    let cases: Vec<Case> = vec![
        (good, vec![], 400, "invalid_request"),
        (
            good,
            vec![CC, ("scope", "a"), ("scope", "b")],
            400,
            "invalid_request",
        ),
        (
            good,
            vec![("grant_type", "password")],
            400,
            "unsupported_grant_type",
        ),
        (
            good,
            vec![("grant_type", "refresh_token"), ("refresh_token", "x")],
            400,
            "unauthorized_client",
        ),
        (
            good,
            vec![
                ("grant_type", "authorization_code"),
                ("code", "x"),
                ("redirect_uri", "https://app.test/cb"),
                (
                    "code_verifier",
                    "0123456789012345678901234567890123456789abc",
                ),
            ],
            400,
            "unauthorized_client",
        ),
        (
            Some((id.as_str(), "wrong")),
            vec![CC],
            401,
            "invalid_client",
        ),
        (Some(("nobody", "x")), vec![CC], 401, "invalid_client"),
        (None, vec![CC], 401, "invalid_client"),
        (good, vec![CC, ("scope", "openid")], 400, "invalid_scope"),
        (
            good,
            vec![CC, ("scope", "billing:write")],
            400,
            "invalid_scope",
        ),
        (
            good,
            vec![CC, ("resource", "not a uri")],
            400,
            "invalid_target",
        ),
        (
            good,
            vec![CC, ("client_secret", "x")],
            400,
            "invalid_request",
        ),
    ];
    for (auth, form, status, error) in cases {
        let (st, h, e) = token(&s, "acme", auth, &form).await;
        assert_eq!(
            (st, e["error"].as_str()),
            (status, Some(error)),
            "{form:?}: {e}"
        );
        assert!(e["error_description"].is_string());
        assert_eq!(h["cache-control"], "no-store");
        if status == 401 {
            assert!(
                h["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .starts_with("Basic realm=")
            );
        }
    }
    // A client not allowed the grant.
    let (st, c) = s
        .post(
            "/clients",
            serde_json::json!({ "name": "Web", "redirect_uris": ["https://app.example.com/cb"] }),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    let (st, _, e) = token(
        &s,
        "acme",
        Some((
            c["client_id"].as_str().unwrap(),
            c["client_secret"].as_str().unwrap(),
        )),
        &[CC],
    )
    .await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    // Not a form: invalid_request, never a 500.
    let res = s
        .client
        .post(format!("{}/t/acme/token", s.base))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let e: serde_json::Value = res.json().await.unwrap();
    assert_eq!(e["error"], "invalid_request");
    // Unknown tenant.
    let (st, _, e) = token(&s, "nope", good, &[CC]).await;
    assert_eq!((st, e["error"].as_str()), (404, Some("not_found")));
}

async fn cross_tenant(b: Backend) {
    let s = TestServer::start(b).await;
    let (id, secret, _) = service_client(&s).await;
    s.other_tenant("globex").await;
    let (st, _, e) = token(&s, "globex", Some((&id, &secret)), &[CC]).await;
    assert_eq!((st, e["error"].as_str()), (401, Some("invalid_client")));
}

backends!(issues_rfc9068_token, error_codes, cross_tenant);
