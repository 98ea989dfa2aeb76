//! The refresh token grant (RFC 6749 §6, OpenID Connect Core §12): rotation, reuse detection
//! (RFC 9700 §4.14.2) revoking the whole grant, scope narrowing, the errors of RFC 6749 §5.2,
//! and user lifecycle.

use crate::browser::*;
use crate::common::{Backend, TestServer};
use crate::{backends, post_form, token, verify, verify_typed};
use serde_json::{Value, json};

/// A confidential web app using the code flow with refresh tokens: (client_id, secret).
pub async fn web_app(s: &TestServer, scopes: &[&str]) -> (String, String) {
    let (st, c) = s
        .post(
            "/clients",
            json!({ "name": "Web app", "redirect_uris": [REDIRECT], "first_party": true,
                    "grant_types": ["authorization_code", "refresh_token"], "scopes": scopes,
                    "permission_namespaces": ["billing"] }),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    (
        c["client_id"].as_str().unwrap().to_owned(),
        c["client_secret"].as_str().unwrap().to_owned(),
    )
}

/// Signs `email` in through `browser` and exchanges the code as the confidential client, asking
/// for `scope`: the token response.
pub async fn tokens(
    s: &TestServer,
    browser: &Browser,
    (id, secret): (&str, &str),
    scope: &str,
    email: &str,
) -> Value {
    let (verifier, challenge) = pkce();
    let page = browser
        .get(&authorize_url(id, &challenge, &[("scope", scope)]))
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let mut next = page.location.unwrap();
    if next.starts_with("/t/acme/login") {
        let page = browser.sign_in(&next, email, PASSWORD).await;
        assert_eq!(page.status, 303, "{}", page.body);
        let page = browser.get(&page.location.unwrap()).await;
        next = page.location.unwrap();
    }
    let code = param(&next, "code").unwrap_or_else(|| panic!("a code: {next}"));
    let (st, h, body) = token(
        s,
        "acme",
        Some((id, secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(h["cache-control"], "no-store");
    body
}

/// `grant_type=refresh_token` as the confidential client, with `extra` parameters.
pub async fn refresh(
    s: &TestServer,
    client: (&str, &str),
    refresh_token: &str,
    extra: &[(&str, &str)],
) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    form.extend_from_slice(extra);
    let (st, _, body) = token(s, "acme", Some(client), &form).await;
    (st, body)
}

pub async fn introspect(s: &TestServer, client: (&str, &str), t: &str) -> Value {
    let (st, _, v) = post_form(s, "acme", "introspect", Some(client), &[("token", t)]).await;
    assert_eq!(st, 200, "{v}");
    v
}

fn assert_error((st, body): (u16, Value), status: u16, error: &str, case: &str) {
    assert_eq!(st, status, "{case}: {body}");
    assert_eq!(body["error"], error, "{case}: {body}");
    assert!(body["error_description"].is_string(), "{case}");
}

/// Each use returns new tokens and a new refresh token; the ID token keeps `sub`, `auth_time`
/// and `sid` and drops `nonce`; a reused refresh token revokes the whole grant, including the
/// newest refresh token and the access tokens of the grant.
async fn rotation_and_reuse_detection(b: Backend) {
    let s = TestServer::start(b).await;
    let (id, secret) = web_app(&s, &["openid", "email", "offline_access"]).await;
    let client = (id.as_str(), secret.as_str());
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    let first = tokens(&s, &browser, client, "openid email", "ada@acme.test").await;
    let rt1 = first["refresh_token"].as_str().expect("a refresh token");
    assert!(rt1.starts_with("crt_") && rt1.len() > 40, "{rt1}");
    let id1 = verify_typed(&s, "acme", first["id_token"].as_str().unwrap(), "JWT").await;
    let at1 = verify(&s, "acme", first["access_token"].as_str().unwrap()).await;
    assert!(at1["gid"].is_string(), "{at1}");

    let (st, second) = refresh(&s, client, rt1, &[]).await;
    assert_eq!(st, 200, "{second}");
    let rt2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(rt1, rt2);
    assert_eq!(second["token_type"], "Bearer");
    assert_eq!(second["scope"], "openid email");
    let id2 = verify_typed(&s, "acme", second["id_token"].as_str().unwrap(), "JWT").await;
    for claim in ["sub", "auth_time", "sid", "aud", "email", "amr"] {
        assert_eq!(id1[claim], id2[claim], "{claim}");
    }
    assert_eq!(id1["nonce"], "n-456");
    assert!(id2.get("nonce").is_none(), "{id2}");
    let at2 = verify(&s, "acme", second["access_token"].as_str().unwrap()).await;
    assert_eq!(at1["gid"], at2["gid"]);
    assert_ne!(at1["jti"], at2["jti"]);

    let (st, third) = refresh(&s, client, rt2, &[]).await;
    assert_eq!(st, 200, "{third}");
    let rt3 = third["refresh_token"].as_str().unwrap().to_owned();
    let at3 = third["access_token"].as_str().unwrap().to_owned();
    assert_eq!(introspect(&s, client, &at3).await["active"], true);
    assert_eq!(introspect(&s, client, &rt3).await["active"], true);
    assert_eq!(introspect(&s, client, rt2).await["active"], false, "used");

    // rt1 again: reuse. The grant goes, with rt3 (never used) and at3.
    assert_error(
        refresh(&s, client, rt1, &[]).await,
        400,
        "invalid_grant",
        "reused refresh token",
    );
    assert_error(
        refresh(&s, client, &rt3, &[]).await,
        400,
        "invalid_grant",
        "newest refresh token of a revoked grant",
    );
    assert_eq!(introspect(&s, client, &at3).await["active"], false);
    assert_eq!(introspect(&s, client, &rt3).await["active"], false);
    let (st, audit) = s.get("/audit?action=oauth.grant.revoke").await;
    assert_eq!(st, 200, "{audit}");
    let entries = audit["items"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["after"]["reason"], "refresh token reused");
    assert_eq!(entries[0]["actor_kind"], "client");

    // The browser's session is untouched: a new code flow gets a new, working grant.
    let again = tokens(&s, &browser, client, "openid", "ada@acme.test").await;
    let (st, v) = refresh(&s, client, again["refresh_token"].as_str().unwrap(), &[]).await;
    assert_eq!(st, 200, "{v}");
}

/// Twelve apps racing to refresh with one refresh token (a stolen copy used at the same moment
/// as the real one): exactly one gets new tokens, every other gets `invalid_grant`, and the
/// race counts as reuse: the grant is revoked once (one audit entry), the winner's new refresh
/// token with it.
async fn concurrent_refreshes_let_one_through(b: Backend) {
    let s = TestServer::start(b).await;
    let (id, secret) = web_app(&s, &["openid", "offline_access"]).await;
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    let client = (id.as_str(), secret.as_str());
    let t = tokens(
        &s,
        &browser,
        client,
        "openid offline_access",
        "ada@acme.test",
    )
    .await;
    let rt = t["refresh_token"].as_str().unwrap();
    let answers =
        futures_util::future::join_all((0..12).map(|_| refresh(&s, client, rt, &[]))).await;
    let winners: Vec<&Value> = answers
        .iter()
        .filter(|(st, _)| *st == 200)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    for (st, v) in answers.iter().filter(|(st, _)| *st != 200) {
        assert_eq!(
            (*st, v["error"].as_str()),
            (400, Some("invalid_grant")),
            "{v}"
        );
    }
    let newest = winners[0]["refresh_token"].as_str().unwrap();
    assert_error(
        refresh(&s, client, newest, &[]).await,
        400,
        "invalid_grant",
        "the winner's token, of a grant the race revoked",
    );
    let (st, audit) = s.get("/audit?action=oauth.grant.revoke").await;
    assert_eq!(st, 200, "{audit}");
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
}

/// One negative test per error of RFC 6749 §5.2 the refresh grant can produce, and scope
/// narrowing. A failed request changes nothing: the token still works for its own client.
async fn refresh_errors(b: Backend) {
    let s = TestServer::start(b).await;
    let (id, secret) = web_app(&s, &["openid", "email", "profile"]).await;
    let client = (id.as_str(), secret.as_str());
    let (id_b, secret_b) = web_app(&s, &["openid"]).await;
    user_with_password(&s, "ada@acme.test").await;
    let browser = Browser::new(&s);
    let t = tokens(&s, &browser, client, "openid email", "ada@acme.test").await;
    let rt = t["refresh_token"].as_str().unwrap();

    assert_error(
        refresh(&s, client, "", &[]).await,
        400,
        "invalid_request",
        "no refresh_token",
    );
    assert_error(
        refresh(&s, client, "crt_not-a-token", &[]).await,
        400,
        "invalid_grant",
        "unknown token",
    );
    assert_error(
        refresh(&s, (&id_b, &secret_b), rt, &[]).await,
        400,
        "invalid_grant",
        "another client's token",
    );
    assert_error(
        refresh(&s, client, rt, &[("scope", "openid email profile")]).await,
        400,
        "invalid_scope",
        "more than was granted",
    );
    assert_error(
        refresh(&s, (&id, "wrong"), rt, &[]).await,
        401,
        "invalid_client",
        "wrong secret",
    );
    let (st, _, body) = token(
        &s,
        "acme",
        None,
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
    )
    .await;
    assert_error(
        (st, body),
        401,
        "invalid_client",
        "no client authentication",
    );
    // A client not allowed the grant.
    let (st, c) = s
        .post(
            "/clients",
            json!({ "name": "Codes only", "redirect_uris": [REDIRECT], "first_party": true,
                    "grant_types": ["authorization_code"], "scopes": ["openid"] }),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    let plain = (
        c["client_id"].as_str().unwrap(),
        c["client_secret"].as_str().unwrap(),
    );
    assert_error(
        refresh(&s, plain, rt, &[]).await,
        400,
        "unauthorized_client",
        "grant not allowed",
    );
    // ...and it gets no refresh token from its code flow.
    let no_rt = tokens(&s, &browser, plain, "openid", "ada@acme.test").await;
    assert!(no_rt.get("refresh_token").is_none(), "{no_rt}");

    // None of that touched the token: a narrower scope works.
    let (st, v) = refresh(&s, client, rt, &[("scope", "openid")]).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["scope"], "openid");
    let at = verify(&s, "acme", v["access_token"].as_str().unwrap()).await;
    assert_eq!(at["scope"], "openid");
    // Without `openid`, the access token is valid but not enough for userinfo (RFC 6750 §3.1).
    let res = s
        .client
        .get(format!("{}/t/acme/userinfo", s.base))
        .bearer_auth(v["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "openid is still there");
    let (st, v) = refresh(
        &s,
        client,
        v["refresh_token"].as_str().unwrap(),
        &[("scope", "email")],
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert!(
        v.get("id_token").is_none(),
        "no ID token without openid: {v}"
    );
    let res = s
        .client
        .get(format!("{}/t/acme/userinfo", s.base))
        .bearer_auth(v["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let challenge = res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
    assert!(challenge.contains(r#"scope="openid""#), "{challenge}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "insufficient_scope");
    // The grant keeps its full scope for the next refresh.
    let (st, v) = refresh(&s, client, v["refresh_token"].as_str().unwrap(), &[]).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["scope"], "openid email");
}

/// Claims are recomputed at each refresh: a role given after sign-in shows in the next tokens.
async fn refresh_picks_up_new_roles(b: Backend) {
    let s = TestServer::start(b).await;
    let (id, secret) = web_app(&s, &["openid"]).await;
    let client = (id.as_str(), secret.as_str());
    let user = user_with_password(&s, "ada@acme.test").await;
    let uid = user["id"].as_str().unwrap();
    let browser = Browser::new(&s);
    let t = tokens(&s, &browser, client, "openid", "ada@acme.test").await;
    let (st, v) = s
        .post("/permissions", json!({ "name": "billing:approve" }))
        .await;
    assert_eq!(st, 201, "{v}");
    let (_, role) = s
        .post(
            "/roles",
            json!({ "name": "Approver", "permissions": ["billing:approve"] }),
        )
        .await;
    let (st, v) = s
        .post(
            &format!("/users/{uid}/roles"),
            json!({ "role_id": role["id"] }),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let before = verify(&s, "acme", t["access_token"].as_str().unwrap()).await;
    assert!(
        !before["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("Approver"))
    );
    let (st, v) = refresh(&s, client, t["refresh_token"].as_str().unwrap(), &[]).await;
    assert_eq!(st, 200, "{v}");
    let after = verify(&s, "acme", v["access_token"].as_str().unwrap()).await;
    assert!(
        after["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("Approver")),
        "{after}"
    );
    assert!(
        after["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("billing:approve")),
        "{after}"
    );
}

/// Deactivation revokes the user's grants at once: refresh fails, introspection says inactive
/// for the refresh and access tokens, and reactivation does not bring the grant back.
async fn deactivation_revokes_refresh_tokens(b: Backend) {
    let s = TestServer::start(b).await;
    let (id, secret) = web_app(&s, &["openid", "offline_access"]).await;
    let client = (id.as_str(), secret.as_str());
    let user = user_with_password(&s, "ada@acme.test").await;
    let uid = user["id"].as_str().unwrap();
    let browser = Browser::new(&s);
    let t = tokens(
        &s,
        &browser,
        client,
        "openid offline_access",
        "ada@acme.test",
    )
    .await;
    let rt = t["refresh_token"].as_str().unwrap();
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(introspect(&s, client, rt).await["active"], true);

    let (st, v) = s.post(&format!("/users/{uid}/deactivate"), json!({})).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(introspect(&s, client, rt).await["active"], false);
    assert_eq!(introspect(&s, client, at).await["active"], false);
    assert_error(
        refresh(&s, client, rt, &[]).await,
        400,
        "invalid_grant",
        "deactivated user",
    );
    let (st, v) = s.post(&format!("/users/{uid}/reactivate"), json!({})).await;
    assert_eq!(st, 200, "{v}");
    assert_error(
        refresh(&s, client, rt, &[]).await,
        400,
        "invalid_grant",
        "reactivated user, revoked grant",
    );
}

/// A web app allowed `offline_access`, and two token responses of one browser's sign-in as
/// ada@acme.test: one bound to the session (`openid`), one offline (`openid offline_access`).
async fn online_and_offline(s: &TestServer) -> ((String, String), Browser, Value, Value) {
    let app = web_app(s, &["openid", "offline_access"]).await;
    let client = (app.0.as_str(), app.1.as_str());
    user_with_password(s, "ada@acme.test").await;
    let browser = Browser::new(s);
    let online = tokens(s, &browser, client, "openid", "ada@acme.test").await;
    let offline = tokens(
        s,
        &browser,
        client,
        "openid offline_access",
        "ada@acme.test",
    )
    .await;
    (app, browser, online, offline)
}

/// Signing out (RP-initiated logout) ends the grants bound to the session; an `offline_access`
/// grant outlives it, as OpenID Connect Core §11 intends, and its tokens still work.
async fn logout_ends_session_grants_not_offline_ones(b: Backend) {
    let s = TestServer::start(b).await;
    let (app, browser, online, offline) = online_and_offline(&s).await;
    let client = (app.0.as_str(), app.1.as_str());
    let hint = online["id_token"].as_str().unwrap();
    let page = browser
        .get(&format!(
            "/t/acme/logout?id_token_hint={}",
            crate::enc(hint)
        ))
        .await;
    assert!(page.status == 200 || page.status == 303, "{}", page.body);
    let (_, challenge) = pkce();
    let page = browser
        .get(&authorize_url(
            &app.0,
            &challenge,
            &[("prompt", "none"), ("scope", "openid")],
        ))
        .await;
    assert_eq!(
        param(&page.location.unwrap(), "error").as_deref(),
        Some("login_required"),
        "signed out"
    );

    assert_error(
        refresh(&s, client, online["refresh_token"].as_str().unwrap(), &[]).await,
        400,
        "invalid_grant",
        "session-bound grant after logout",
    );
    let at = online["access_token"].as_str().unwrap();
    assert_eq!(introspect(&s, client, at).await["active"], false);

    let (st, v) = refresh(&s, client, offline["refresh_token"].as_str().unwrap(), &[]).await;
    assert_eq!(st, 200, "offline grant after logout: {v}");
    let at = v["access_token"].as_str().unwrap();
    let intro = introspect(&s, client, at).await;
    assert_eq!(intro["active"], true, "{intro}");
    let res = s
        .client
        .get(format!("{}/t/acme/userinfo", s.base))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// A refresh token bound to a session lives as long as the session would for the browser: not
/// past the tenant's idle timeout (30 minutes) or maximum lifetime (10 hours); a refresh is the
/// user's activity and restarts the idle clock; an `offline_access` grant is not bound to it.
async fn session_bound_refresh_follows_idle_timeout_and_lifetime(b: Backend) {
    let s = TestServer::start(b).await;
    let (app, _, online, offline) = online_and_offline(&s).await;
    let client = (app.0.as_str(), app.1.as_str());
    let now = castellan::domain::clock::now_ms();
    const MIN: i64 = 60_000;
    let age = |idle: i64, age: i64| {
        format!(
            "UPDATE sessions SET last_seen_at = {}, created_at = {}",
            now - idle,
            now - age
        )
    };
    // 29 minutes idle: the refresh works and counts as use.
    crate::sessions::sql(&s, &age(29 * MIN, 60 * MIN)).await;
    let (st, v) = refresh(&s, client, online["refresh_token"].as_str().unwrap(), &[]).await;
    assert_eq!(st, 200, "{v}");
    let rt = v["refresh_token"].as_str().unwrap().to_owned();
    let intro = introspect(&s, client, &rt).await;
    assert_eq!(intro["active"], true, "{intro}");
    // 25 minutes later (from the refresh), still within the idle timeout thanks to it.
    crate::sessions::sql(
        &s,
        &format!(
            "UPDATE sessions SET last_seen_at = last_seen_at - {}",
            25 * MIN
        ),
    )
    .await;
    let (st, v) = refresh(&s, client, &rt, &[]).await;
    assert_eq!(st, 200, "the refresh restarted the idle clock: {v}");
    let rt = v["refresh_token"].as_str().unwrap().to_owned();
    // 31 minutes idle: the session is over, and so is its refresh token.
    crate::sessions::sql(&s, &age(31 * MIN, 60 * MIN)).await;
    assert_eq!(introspect(&s, client, &rt).await["active"], false);
    assert_error(
        refresh(&s, client, &rt, &[]).await,
        400,
        "invalid_grant",
        "idle session",
    );
    // Past the maximum lifetime, however recently used.
    let browser = Browser::new(&s);
    let online = tokens(&s, &browser, client, "openid", "ada@acme.test").await;
    crate::sessions::sql(&s, &age(MIN, 10 * 60 * MIN + MIN)).await;
    assert_error(
        refresh(&s, client, online["refresh_token"].as_str().unwrap(), &[]).await,
        400,
        "invalid_grant",
        "session past its lifetime",
    );
    // The tenant's own lifetimes, once set, decide instead: an idle timeout of 10 minutes.
    crate::sessions::sql(
        &s,
        "INSERT INTO session_settings (tenant_id, idle_timeout_secs, max_lifetime_secs, remember_me,
             remember_me_idle_timeout_secs, remember_me_max_lifetime_secs, updated_at)
         SELECT id, 600, 36000, FALSE, 604800, 2592000, 0 FROM tenants",
    )
    .await;
    let online = tokens(&s, &browser, client, "openid", "ada@acme.test").await;
    crate::sessions::sql(&s, &age(9 * MIN, 60 * MIN)).await;
    let (st, v) = refresh(&s, client, online["refresh_token"].as_str().unwrap(), &[]).await;
    assert_eq!(st, 200, "9 minutes idle, of 10: {v}");
    let rt = v["refresh_token"].as_str().unwrap().to_owned();
    crate::sessions::sql(&s, &age(11 * MIN, 60 * MIN)).await;
    assert_eq!(introspect(&s, client, &rt).await["active"], false);
    assert_error(
        refresh(&s, client, &rt, &[]).await,
        400,
        "invalid_grant",
        "11 minutes idle, of 10",
    );
    // The offline grant does not depend on any session.
    let (st, v) = refresh(&s, client, offline["refresh_token"].as_str().unwrap(), &[]).await;
    assert_eq!(st, 200, "offline: {v}");
}

backends!(
    session_bound_refresh_follows_idle_timeout_and_lifetime,
    logout_ends_session_grants_not_offline_ones,
    rotation_and_reuse_detection,
    concurrent_refreshes_let_one_through,
    refresh_errors,
    refresh_picks_up_new_roles,
    deactivation_revokes_refresh_tokens
);
