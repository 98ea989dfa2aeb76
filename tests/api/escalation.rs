//! Taking over someone more powerful, the ways issue 12 found: a Manager whose account holds
//! the Owner and an Administrator, an Administrator against the Owner, tokens minted above
//! one's own rights, ownership taken with a borrowed permission. Every attempt is 403
//! problem+json and changes nothing.

use crate::backends;
use crate::common::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A user with `roles` (template names), active, optionally in `account`; returns the id.
async fn user(s: &TestServer, email: &str, roles: &[&str], account: Option<&str>) -> String {
    let mut role_ids = Vec::new();
    for r in roles {
        role_ids.push(s.role_id(r).await);
    }
    let mut body = json!({"email": email, "status": "active", "role_ids": role_ids});
    if let Some(a) = account {
        body["account_id"] = json!(a);
    }
    let (st, u) = s.post("/users", body).await;
    assert_eq!(st, StatusCode::CREATED, "{u}");
    u["id"].as_str().unwrap().to_owned()
}

/// Everything an attacker could have changed about a user.
async fn state(s: &TestServer, id: &str) -> Value {
    let mut all = json!({});
    for part in [
        "",
        "/effective-permissions",
        "/factors",
        "/roles",
        "/memberships",
    ] {
        let (st, v) = s.get(&format!("/users/{id}{part}")).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        all[part] = v;
    }
    all
}

/// The takeover attempts on `target`, each expected 403.
async fn takeover_refused(s: &TestServer, token: &str, target: &str) {
    let attempts = [
        (
            Method::PUT,
            format!("/users/{target}/password"),
            Some(json!({"password": "attacker-chosen-password"})),
        ),
        (
            Method::PATCH,
            format!("/users/{target}"),
            Some(json!({"email": "attacker@evil.example"})),
        ),
        (
            Method::PATCH,
            format!("/users/{target}"),
            Some(json!({"username": "attacker"})),
        ),
        (Method::POST, format!("/users/{target}/factors/reset"), None),
        (Method::POST, format!("/users/{target}/deactivate"), None),
        (
            Method::POST,
            "/tokens".to_owned(),
            Some(json!({"name": "mine", "user_id": target})),
        ),
    ];
    let before = state(s, target).await;
    for (method, path, body) in attempts {
        let (st, e) = s.call_as(token, method.clone(), &s.url(&path), body).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{method} {path}: {e}");
        assert_eq!(e["status"], 403, "{e}");
    }
    assert_eq!(state(s, target).await, before, "nothing changed");
}

async fn manager_cannot_take_over_owner_or_administrator(b: Backend) {
    let s = TestServer::start(b).await;
    let account = crate::accounts::create_account(&s, "Head office", "customer").await;
    let (_, owner) = s.get("/owner").await;
    let owner = owner["id"].as_str().unwrap().to_owned();
    let (st, m) = s
        .post(
            &format!("/users/{owner}/memberships"),
            json!({"account_id": account}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    let admin = user(&s, "admin@acme.test", &["administrator"], Some(&account)).await;
    let clerk = user(&s, "clerk@acme.test", &["member"], Some(&account)).await;
    let manager = user(&s, "manager@acme.test", &["manager"], None).await;
    let (st, m) = s
        .post(
            &format!("/users/{manager}/management"),
            json!({"kind": "account", "id": account}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    // Direct management of the Owner and the Administrator changes nothing either.
    for t in [&owner, &admin] {
        let (st, m) = s
            .post(
                &format!("/users/{manager}/management"),
                json!({"kind": "user", "id": t}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{m}");
    }
    let token = s.token_for("acme", &manager).await;
    // The manager reaches the clerk: the refusals below are the rule, not a missing scope.
    let (st, u) = s
        .call_as(
            &token,
            Method::PATCH,
            &s.url(&format!("/users/{clerk}")),
            Some(json!({"display_name": "Clerk"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{u}");
    takeover_refused(&s, &token, &owner).await;
    takeover_refused(&s, &token, &admin).await;
}

async fn administrator_cannot_outrank_the_owner(b: Backend) {
    let s = TestServer::start(b).await;
    let (_, owner) = s.get("/owner").await;
    let owner = owner["id"].as_str().unwrap().to_owned();
    let admin = user(&s, "admin@acme.test", &["administrator"], None).await;
    let peer = user(&s, "peer@acme.test", &["administrator"], None).await;
    let token = s.token_for("acme", &admin).await;
    takeover_refused(&s, &token, &owner).await;
    let call = |method: Method, path: &str, body: Option<Value>| {
        let (token, url) = (token.clone(), s.url(path));
        let s = &s;
        async move { s.call_as(&token, method, &url, body).await }
    };
    // A tenant-wide token carries the owner's standing: not for an Administrator to mint.
    let (st, e) = call(Method::POST, "/tokens", Some(json!({"name": "root"}))).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    let (_, list) = s.get("/tokens").await;
    let wide = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["user_id"].is_null())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (st, e) = call(Method::DELETE, &format!("/tokens/{wide}"), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    // Borrowing `castellan:owner.transfer` through an override does not make one the owner.
    let (st, o) = s
        .put(
            &format!("/users/{admin}/overrides/castellan:owner.transfer"),
            json!({"effect": "grant"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{o}");
    let token = s.token_for("acme", &admin).await;
    let (st, e) = s
        .call_as(
            &token,
            Method::POST,
            &s.url("/owner/transfer"),
            Some(json!({"user_id": admin})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    takeover_refused(&s, &token, &owner).await;
    // An equal is within reach; the owner reaches everyone and may mint a tenant-wide token.
    let (st, u) = s
        .call_as(
            &token,
            Method::PATCH,
            &s.url(&format!("/users/{peer}")),
            Some(json!({"display_name": "Peer"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{u}");
    let owner_token = s.token_for("acme", &owner).await;
    for (path, body, status) in [
        (
            "/tokens".to_owned(),
            json!({"name": "operator"}),
            StatusCode::CREATED,
        ),
        (
            format!("/users/{admin}/password"),
            json!({"password": "a long new password"}),
            StatusCode::NO_CONTENT,
        ),
    ] {
        let method = if path == "/tokens" {
            Method::POST
        } else {
            Method::PUT
        };
        let (st, v) = s
            .call_as(&owner_token, method, &s.url(&path), Some(body))
            .await;
        assert_eq!(st, status, "{path}: {v}");
    }
    let (_, owner_now) = s.get("/owner").await;
    assert_eq!(owner_now["id"], owner.as_str());
}

/// A delegated administrator holding every permission of its target but `users.write`
/// (here `users.read` as well) still never reaches a tenant-wide administrator.
async fn delegated_never_reaches_tenant_wide(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, r) = s
        .post(
            "/roles",
            json!({"name": "Wide reader", "permissions": ["castellan:users.read", "castellan:users.write.managed"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let role = r["id"].as_str().unwrap();
    let (st, r) = s
        .post(
            "/roles",
            json!({"name": "Reader", "permissions": ["castellan:users.read"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let reader_role = r["id"].as_str().unwrap();
    let make = |email: &'static str, role: String| {
        let s = &s;
        async move {
            let (st, u) = s
                .post(
                    "/users",
                    json!({"email": email, "status": "active", "role_ids": [role]}),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{u}");
            u["id"].as_str().unwrap().to_owned()
        }
    };
    let delegated = make("d@acme.test", role.to_owned()).await;
    let reader = make("r@acme.test", reader_role.to_owned()).await;
    let (st, m) = s
        .post(
            &format!("/users/{delegated}/management"),
            json!({"kind": "user", "id": reader}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    let token = s.token_for("acme", &delegated).await;
    takeover_refused(&s, &token, &reader).await;
}

/// Group members gain and lose the group's roles: a caller who may edit groups but does not
/// hold Administrator's permissions can neither put people in nor take them out of, nor delete,
/// a group granting it; nor touch the membership of someone more powerful.
async fn groups_do_not_reach_above_the_caller(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, r) = s
        .post(
            "/roles",
            json!({"name": "Group keeper", "permissions": ["castellan:groups.read", "castellan:groups.write"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let keeper = user(&s, "keeper@acme.test", &[], None).await;
    let (st, a) = s
        .post(
            &format!("/users/{keeper}/roles"),
            json!({"role_id": r["id"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    let admin = user(&s, "admin@acme.test", &["administrator"], None).await;
    let (_, plain) = s.post("/groups", json!({"display_name": "Plain"})).await;
    let plain = plain["id"].as_str().unwrap().to_owned();
    let (_, admins) = s.post("/groups", json!({"display_name": "Admins"})).await;
    let admins = admins["id"].as_str().unwrap().to_owned();
    let role = s.role_id("administrator").await;
    let (st, g) = s
        .put(&format!("/groups/{admins}/roles/{role}"), json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{g}");
    let token = s.token_for("acme", &keeper).await;
    for (method, path) in [
        (Method::PUT, format!("/groups/{plain}/members/{admin}")),
        (Method::PUT, format!("/groups/{admins}/members/{keeper}")),
        (Method::DELETE, format!("/groups/{admins}")),
    ] {
        let body = (method == Method::PUT).then(|| json!({}));
        let (st, e) = s.call_as(&token, method.clone(), &s.url(&path), body).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{method} {path}: {e}");
    }
    for path in [format!("/groups/{admins}"), format!("/groups/{plain}")] {
        let (st, g) = s.get(&path).await;
        assert_eq!(
            (st, g["member_ids"].clone()),
            (StatusCode::OK, json!([])),
            "{g}"
        );
    }
    // Within reach: the keeper joins the plain group, and deletes it.
    let (st, g) = s
        .call_as(
            &token,
            Method::PUT,
            &s.url(&format!("/groups/{plain}/members/{keeper}")),
            Some(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{g}");
    let (st, g) = s
        .call_as(
            &token,
            Method::DELETE,
            &s.url(&format!("/groups/{plain}")),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{g}");
}

backends!(
    manager_cannot_take_over_owner_or_administrator,
    administrator_cannot_outrank_the_owner,
    delegated_never_reaches_tenant_wide,
    groups_do_not_reach_above_the_caller,
);
