//! `/tokens`: create (secret shown once), list (no secrets), revoke, delegation rules.

use crate::backends;
use crate::common::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A token acting as a new plain Member user, and a token of another tenant.
pub async fn outsiders(s: &TestServer) -> (String, String) {
    let member = s.create_user("plain.member@example.com").await;
    let member_token = s.token_for("acme", member["id"].as_str().unwrap()).await;
    (member_token, s.other_tenant("other").await)
}

/// Each request: 403 with the Member's token, 404 with the other tenant's token.
pub async fn assert_outsiders_refused(s: &TestServer, cases: &[(Method, String, Option<Value>)]) {
    let (member, foreign) = outsiders(s).await;
    for (method, path, body) in cases {
        let url = s.url(path);
        let (st, e) = s.call_as(&member, method.clone(), &url, body.clone()).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "member {method} {path}: {e}");
        let (st, e) = s
            .call_as(&foreign, method.clone(), &url, body.clone())
            .await;
        assert_eq!(
            st,
            StatusCode::NOT_FOUND,
            "other tenant {method} {path}: {e}"
        );
    }
}

async fn create_list_revoke(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, t) = s.post("/tokens", json!({"name": "ci"})).await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    let secret = t["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("cst_"), "{t}");
    assert_eq!(t["name"], "ci");
    assert!(t["user_id"].is_null());
    assert!(t["revoked_at"].is_null());
    let id = t["id"].as_str().unwrap().to_owned();

    let url = s.url("/users");
    let (st, _) = s.call_as(&secret, Method::GET, &url, None).await;
    assert_eq!(st, StatusCode::OK);

    let (st, list) = s.get("/tokens").await;
    assert_eq!(st, StatusCode::OK);
    let text = list.to_string();
    assert!(!text.contains(&secret), "{text}");
    assert!(!text.contains("hash"), "{text}");
    assert!(!text.contains("\"token\""), "{text}");
    let items = list.as_array().unwrap();
    assert_eq!(items.len(), 2, "the harness's token and ci: {list}");
    assert!(items.iter().any(|i| i["id"] == id.as_str()));

    let (st, _) = s.delete(&format!("/tokens/{id}")).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.call_as(&secret, Method::GET, &url, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = s.delete(&format!("/tokens/{id}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.delete("/tokens/no-such-token").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, list) = s.get("/tokens").await;
    let revoked = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id.as_str())
        .cloned();
    assert!(
        revoked.is_some_and(|r| r["revoked_at"].is_string()),
        "{list}"
    );
}

async fn bad_input(b: Backend) {
    let s = TestServer::start(b).await;
    let (_, foreign_user) = {
        let other = s.other_tenant("other").await;
        let url = format!("{}/t/other/api/v1/users", s.base);
        s.call_as(
            &other,
            Method::POST,
            &url,
            Some(json!({"email": "x@other.test"})),
        )
        .await
    };
    for body in [
        json!({"name": ""}),
        json!({"name": "x", "extra": 1}),
        json!({"name": 5}),
        json!({}),
        json!({"name": "x", "user_id": "00000000-0000-0000-0000-000000000000"}),
        json!({"name": "x", "user_id": foreign_user["id"]}),
    ] {
        let (st, e) = s.post("/tokens", body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
    }
    let (_, list) = s.get("/tokens").await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "nothing half-saved: {list}"
    );
}

async fn user_tokens_and_delegation(b: Backend) {
    let s = TestServer::start(b).await;
    let tenant = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let role = s
        .store
        .create_role(
            &tenant.id,
            "Token keeper",
            None,
            &[
                "castellan:tokens.manage".into(),
                "castellan:users.read".into(),
            ],
            None,
            &castellan::domain::audit::Actor::cli(),
        )
        .await
        .unwrap();
    let (st, keeper) = s
        .post(
            "/users",
            json!({"email": "keeper@example.com", "role_ids": [role.id.0]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{keeper}");
    let member = s.create_user("member@example.com").await;
    let (st, admin) = s
        .post(
            "/users",
            json!({"email": "admin@example.com", "role_ids": [s.role_id("administrator").await]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{admin}");

    // The tenant-wide token may make a token for anyone.
    let (st, t) = s
        .post(
            "/tokens",
            json!({"name": "as member", "user_id": member["id"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    assert_eq!(t["user_id"], member["id"]);

    // The keeper holds less than the administrator, and less than a tenant-wide token.
    let keeper_token = s.token_for("acme", keeper["id"].as_str().unwrap()).await;
    let url = s.url("/tokens");
    for body in [
        json!({"name": "escalate", "user_id": admin["id"]}),
        json!({"name": "tenant-wide"}),
    ] {
        let (st, e) = s
            .call_as(&keeper_token, Method::POST, &url, Some(body.clone()))
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{body}: {e}");
    }
    for user in [&member, &keeper] {
        let (st, t) = s
            .call_as(
                &keeper_token,
                Method::POST,
                &url,
                Some(json!({"name": "ok", "user_id": user["id"]})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{t}");
    }
    let (st, list) = s.call_as(&keeper_token, Method::GET, &url, None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 5, "{list}");
}

async fn outsiders_are_refused(b: Backend) {
    let s = TestServer::start(b).await;
    let (_, t) = s.post("/tokens", json!({"name": "victim"})).await;
    let id = t["id"].as_str().unwrap();
    assert_outsiders_refused(
        &s,
        &[
            (Method::GET, "/tokens".into(), None),
            (Method::POST, "/tokens".into(), Some(json!({"name": "x"}))),
            (Method::DELETE, format!("/tokens/{id}"), None),
        ],
    )
    .await;
    let url = s.url("/users");
    let (st, _) = s
        .call_as(t["token"].as_str().unwrap(), Method::GET, &url, None)
        .await;
    assert_eq!(st, StatusCode::OK, "the victim token still works");
}

backends!(
    create_list_revoke,
    bad_input,
    user_tokens_and_delegation,
    outsiders_are_refused,
);
