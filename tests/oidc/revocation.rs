//! Token revocation (RFC 7009): refresh tokens revoke their grant, access tokens are revoked
//! alone, invalid tokens are answered 200, and the errors of §2.2.1.

use crate::browser::*;
use crate::common::{Backend, TestServer};
use crate::refresh::{introspect, refresh, tokens, web_app};
use crate::{backends, post_form, service_client, token};
use serde_json::Value;

async fn revoke(
    s: &TestServer,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let (st, h, body) = post_form(s, "acme", "revoke", basic, form).await;
    if st == 200 {
        assert_eq!(h["cache-control"], "no-store");
    }
    (st, body)
}

/// Basic client credentials: (client_id, secret).
type Basic<'a> = Option<(&'a str, &'a str)>;
/// One refused request: (case, client credentials, form, status, error code).
type Case<'a> = (&'a str, Basic<'a>, Vec<(&'a str, &'a str)>, u16, &'a str);

/// A refresh token revokes its whole grant: the token itself, the access tokens of the grant;
/// with a wrong hint it is still found.
async fn revoking_a_refresh_token_ends_its_grant(b: Backend) {
    let s = TestServer::start(b).await;
    let (id, secret) = web_app(&s, &["openid"]).await;
    let client = (id.as_str(), secret.as_str());
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    let t = tokens(&s, &browser, client, "openid", "ada@acme.test").await;
    let (rt, at) = (
        t["refresh_token"].as_str().unwrap(),
        t["access_token"].as_str().unwrap(),
    );
    let (st, v) = revoke(
        &s,
        Some(client),
        &[("token", rt), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(introspect(&s, client, rt).await["active"], false);
    assert_eq!(introspect(&s, client, at).await["active"], false);
    let (st, v) = refresh(&s, client, rt, &[]).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    // Revoking again is fine (§2.2: already invalid).
    let (st, v) = revoke(&s, Some(client), &[("token", rt)]).await;
    assert_eq!(st, 200, "{v}");
    let (st, audit) = s.get("/audit?action=oauth.grant.revoke").await;
    assert_eq!(st, 200);
    let items = audit["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "revoked once: {audit}");
    assert_eq!(items[0]["after"]["reason"], "revoked by the client");
}

/// An access token is revoked alone: introspection and userinfo refuse it, the refresh token of
/// its grant still works.
async fn revoking_an_access_token(b: Backend) {
    let s = TestServer::start(b).await;
    let (id, secret) = web_app(&s, &["openid"]).await;
    let client = (id.as_str(), secret.as_str());
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    let t = tokens(&s, &browser, client, "openid", "ada@acme.test").await;
    let at = t["access_token"].as_str().unwrap();
    let (st, v) = revoke(
        &s,
        Some(client),
        &[("token", at), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(introspect(&s, client, at).await["active"], false);
    let res = s
        .client
        .get(format!("{}/t/acme/userinfo", s.base))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let (st, v) = refresh(&s, client, t["refresh_token"].as_str().unwrap(), &[]).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        introspect(&s, client, v["access_token"].as_str().unwrap()).await["active"],
        true
    );

    // A client_credentials token too.
    let (sid, ssecret, _) = service_client(&s).await;
    let svc = (sid.as_str(), ssecret.as_str());
    let (st, _, cc) = token(
        &s,
        "acme",
        Some(svc),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(st, 200, "{cc}");
    let cc_at = cc["access_token"].as_str().unwrap();
    assert_eq!(introspect(&s, svc, cc_at).await["active"], true);
    let (st, v) = revoke(&s, Some(svc), &[("token", cc_at)]).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(introspect(&s, svc, cc_at).await["active"], false);
}

/// A public client revokes its own refresh token with its `client_id` alone.
async fn public_client_revokes(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, c) = s
        .post(
            "/clients",
            serde_json::json!({ "name": "SPA", "kind": "public", "redirect_uris": [REDIRECT], "first_party": true,
                    "grant_types": ["authorization_code", "refresh_token"],
                    "scopes": ["openid", "profile", "email"] }),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    let client_id = c["client_id"].as_str().unwrap();
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    let (verifier, challenge) = pkce();
    let code = code_for(&browser, client_id, &challenge, "ada@acme.test").await;
    let (st, _, t) = exchange(&s, client_id, &code, &verifier, REDIRECT).await;
    assert_eq!(st, 200, "{t}");
    let rt = t["refresh_token"].as_str().expect("a refresh token");
    let (st, v) = revoke(&s, None, &[("token", rt), ("client_id", client_id)]).await;
    assert_eq!(st, 200, "{v}");
    let (st, _, v) = token(
        &s,
        "acme",
        None,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", client_id),
        ],
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
}

/// The errors of RFC 7009 §2.2.1 and RFC 6749 §5.2, each with its exact code; none of them
/// revokes anything. Unknown tokens and other tenants' tokens get 200 and stay untouched.
async fn revocation_errors(b: Backend) {
    let s = TestServer::start(b).await;
    let (id, secret) = web_app(&s, &["openid"]).await;
    let client = (id.as_str(), secret.as_str());
    let (other_id, other_secret) = web_app(&s, &["openid"]).await;
    let other = (other_id.as_str(), other_secret.as_str());
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    let t = tokens(&s, &browser, client, "openid", "ada@acme.test").await;
    let (rt, at) = (
        t["refresh_token"].as_str().unwrap(),
        t["access_token"].as_str().unwrap(),
    );
    let cases: Vec<Case> = vec![
        ("no token", Some(client), vec![], 400, "invalid_request"),
        (
            "unknown hint",
            Some(client),
            vec![("token", rt), ("token_type_hint", "id_token")],
            400,
            "unsupported_token_type",
        ),
        (
            "no client",
            None,
            vec![("token", rt)],
            401,
            "invalid_client",
        ),
        (
            "wrong secret",
            Some((client.0, "nope")),
            vec![("token", rt)],
            401,
            "invalid_client",
        ),
        (
            "unknown client_id",
            None,
            vec![("token", rt), ("client_id", "nobody")],
            401,
            "invalid_client",
        ),
        (
            "another client's refresh token",
            Some(other),
            vec![("token", rt)],
            400,
            "unauthorized_client",
        ),
        (
            "another client's access token",
            Some(other),
            vec![("token", at)],
            400,
            "unauthorized_client",
        ),
        (
            "repeated parameter",
            Some(client),
            vec![("token", rt), ("token", at)],
            400,
            "invalid_request",
        ),
    ];
    for (case, basic, form, status, error) in cases {
        let (st, v) = revoke(&s, basic, &form).await;
        assert_eq!(st, status, "{case}: {v}");
        assert_eq!(v["error"], error, "{case}: {v}");
    }
    let (st, v) = revoke(&s, Some(client), &[("token", "whatever-this-is")]).await;
    assert_eq!(st, 200, "an unknown token: {v}");
    // A token of this tenant presented to another tenant's endpoint: 200 there, untouched here.
    let globex = s.other_tenant("globex").await;
    let (st, g) = s
        .call_as(
            &globex,
            reqwest::Method::POST,
            &format!("{}/t/globex/api/v1/clients", s.base),
            Some(serde_json::json!({ "name": "G", "grant_types": ["client_credentials"] })),
        )
        .await;
    assert_eq!(st, 201, "{g}");
    let g_client = (
        g["client_id"].as_str().unwrap(),
        g["client_secret"].as_str().unwrap(),
    );
    for t in [rt, at] {
        let (st, _, v) = post_form(&s, "globex", "revoke", Some(g_client), &[("token", t)]).await;
        assert_eq!(st, 200, "another tenant's token is unknown there: {v}");
    }
    // Nor can acme's client use globex's endpoint.
    let (st, _, v) = post_form(&s, "globex", "revoke", Some(client), &[("token", rt)]).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (401, Some("invalid_client")),
        "{v}"
    );
    assert_eq!(introspect(&s, client, rt).await["active"], true);
    assert_eq!(introspect(&s, client, at).await["active"], true);
    let (st, v) = refresh(&s, client, rt, &[]).await;
    assert_eq!(st, 200, "nothing was revoked: {v}");
}

backends!(
    revoking_a_refresh_token_ends_its_grant,
    revoking_an_access_token,
    public_client_revokes,
    revocation_errors
);
