//! Changes that reach many people at once (issue 12 §1): the caller needs power over each
//! person reached, and a holder of `castellan:roles.write` cannot add to a role a `castellan:`
//! permission they do not hold. Examples next to the model test of `power.rs`.

use crate::backends;
use crate::common::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn role(s: &TestServer, name: &str, perms: &[&str]) -> String {
    let (st, r) = s
        .post("/roles", json!({"name": name, "permissions": perms}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    r["id"].as_str().unwrap().to_owned()
}

async fn user(s: &TestServer, email: &str, roles: &[&str]) -> String {
    let (st, u) = s
        .post(
            "/users",
            json!({"email": email, "status": "active", "role_ids": roles}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{u}");
    u["id"].as_str().unwrap().to_owned()
}

/// Sends as `token`; a refusal must be problem+json 403 and leave `path` as it was.
async fn refused(s: &TestServer, token: &str, method: Method, path: &str, body: Option<Value>) {
    let (_, before) = s.get(path).await;
    let (st, v) = s.call_as(token, method.clone(), &s.url(path), body).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{method} {path}: {v}");
    assert_eq!(v["status"], 403, "{v}");
    assert_eq!(s.get(path).await.1, before, "{method} {path} changed it");
}

async fn reaching_many_needs_power_over_each(b: Backend) {
    let s = TestServer::start(b).await;
    // The caller edits roles and groups but does not read the audit log.
    let editor = role(
        &s,
        "Editor",
        &[
            "castellan:roles.read",
            "castellan:roles.write",
            "castellan:groups.read",
            "castellan:groups.write",
        ],
    )
    .await;
    let caller = user(&s, "editor@example.com", &[&editor]).await;
    let token = s.token_for("acme", &caller).await;
    // An auditor holds a harmless role too, and is in a group.
    let auditor_role = role(&s, "Auditor", &["castellan:audit.read"]).await;
    let (st, p) = s.post("/permissions", json!({"name": "app:reports"})).await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    let badge = role(&s, "Badge", &["app:reports"]).await;
    let auditor = user(&s, "auditor@example.com", &[&auditor_role, &badge]).await;
    let (_, g) = s.post("/groups", json!({"display_name": "Team"})).await;
    let team = g["id"].as_str().unwrap().to_owned();
    let (st, v) = s
        .put(&format!("/groups/{team}/members/{auditor}"), json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let spare = role(&s, "Spare", &[]).await;
    let (st, v) = s
        .put(&format!("/groups/{team}/roles/{spare}"), json!({}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");

    // Editing, emptying a role the auditor holds; granting or removing the group's roles;
    // deleting the group; removing a permission the auditor holds from the catalogue.
    let badge_path = format!("/roles/{badge}");
    for body in [json!({"name": "Renamed"}), json!({"permissions": []})] {
        refused(&s, &token, Method::PATCH, &badge_path, Some(body)).await;
    }
    let team_path = format!("/groups/{team}");
    let (st, v) = s
        .call_as(
            &token,
            Method::DELETE,
            &s.url(&format!("{team_path}/roles/{spare}")),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let other = role(&s, "Other", &[]).await;
    let (st, v) = s
        .call_as(
            &token,
            Method::PUT,
            &s.url(&format!("{team_path}/roles/{other}")),
            Some(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    refused(&s, &token, Method::DELETE, &team_path, None).await;
    let (_, g) = s.get(&team_path).await;
    assert_eq!(
        g["role_ids"],
        json!([spare]),
        "the group's roles are as before"
    );
    let perm_path = format!("/permissions/{}", p["id"].as_str().unwrap());
    let (st, v) = s
        .call_as(&token, Method::DELETE, &s.url(&perm_path), None)
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (_, all) = s.get("/permissions").await;
    assert!(
        all.to_string().contains("app:reports"),
        "the permission stays"
    );

    // Adding a `castellan:` permission the caller does not hold, even to a role nobody holds.
    let empty = role(&s, "Empty", &[]).await;
    let body = json!({"permissions": ["castellan:audit.read"]});
    refused(
        &s,
        &token,
        Method::PATCH,
        &format!("/roles/{empty}"),
        Some(body),
    )
    .await;

    // Once the auditor is no longer out of reach, the same changes pass.
    let (st, v) = s
        .patch(
            &format!("/roles/{editor}"),
            json!({"permissions": [
                "castellan:roles.read", "castellan:roles.write", "castellan:groups.read",
                "castellan:groups.write", "castellan:audit.read"]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let token = s.token_for("acme", &caller).await;
    let (st, v) = s
        .call_as(
            &token,
            Method::PATCH,
            &s.url(&badge_path),
            Some(json!({"name": "Renamed"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = s
        .call_as(&token, Method::DELETE, &s.url(&perm_path), None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    let (st, v) = s
        .call_as(&token, Method::DELETE, &s.url(&team_path), None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
}

backends!(reaching_many_needs_power_over_each);
