//! `/accounts` and `/account-groups`: CRUD, the Guest account's protection, access control.

use crate::backends;
use crate::common::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Creates an account and returns its id (asserting 201).
pub async fn create_account(s: &TestServer, name: &str, kind: &str) -> String {
    let (st, a) = s
        .post("/accounts", json!({ "name": name, "kind": kind }))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    a["id"].as_str().unwrap().to_owned()
}

/// The id of the tenant's built-in Guest account.
pub async fn guest_id(s: &TestServer) -> String {
    let (st, list) = s.get("/accounts?kind=guest").await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["builtin"], true);
    items[0]["id"].as_str().unwrap().to_owned()
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

async fn accounts_crud_and_guest_protection(b: Backend) {
    let s = TestServer::start(b).await;
    let guest = guest_id(&s).await;
    let (st, a) = s
        .post(
            "/accounts",
            json!({"name": "Acme Corp", "kind": "customer"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    assert_eq!(
        (a["kind"].as_str(), a["builtin"].as_bool()),
        (Some("customer"), Some(false))
    );
    let id = a["id"].as_str().unwrap();
    for (body, status, field) in [
        (
            json!({"name": "Acme Corp", "kind": "provider"}),
            StatusCode::CONFLICT,
            None,
        ),
        (
            json!({"name": "Visitors", "kind": "guest"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("kind"),
        ),
        (
            json!({"name": "  ", "kind": "provider"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("name"),
        ),
        (
            json!({"name": "X", "kind": "planet"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        ),
        (
            json!({"name": "X", "kind": "provider", "extra": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        ),
        (
            json!({"kind": "provider"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        ),
    ] {
        let (st, e) = s.post("/accounts", body.clone()).await;
        assert_eq!(st, status, "{body} -> {e}");
        if let Some(f) = field {
            assert_eq!(e["field"], f, "{e}");
        }
    }
    let (_, list) = s.get("/accounts").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
    let (_, list) = s.get("/accounts?kind=customer").await;
    assert_eq!(list["items"][0]["id"], id);
    let (st, _) = s.get("/accounts?kind=planet").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    let (st, u) = s
        .patch(
            &format!("/accounts/{id}"),
            json!({"name": "Acme Ltd", "kind": "provider"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{u}");
    assert_eq!(
        (u["name"].as_str(), u["kind"].as_str()),
        (Some("Acme Ltd"), Some("provider"))
    );
    let (st, e) = s
        .patch(&format!("/accounts/{id}"), json!({"kind": "guest"}))
        .await;
    assert_eq!(
        (st, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("kind"))
    );
    let (st, _) = s
        .patch(&format!("/accounts/{id}"), json!({"name": "Guest"}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "names are unique");

    let g = format!("/accounts/{guest}");
    for body in [json!({"name": "Visitors"}), json!({"kind": "customer"})] {
        let (st, e) = s.patch(&g, body.clone()).await;
        assert_eq!(st, StatusCode::CONFLICT, "{body} -> {e}");
    }
    let (st, _) = s.patch(&g, json!({"name": "Guest", "kind": "guest"})).await;
    assert_eq!(st, StatusCode::OK, "no change is fine");
    let (st, _) = s.delete(&g).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (_, got) = s.get(&g).await;
    assert_eq!(
        (got["name"].as_str(), got["kind"].as_str()),
        (Some("Guest"), Some("guest"))
    );
    let (st, _) = s
        .get("/accounts/00000000-0000-0000-0000-000000000000")
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    let (st, audit) = s.get(&format!("/audit?target_id={id}")).await;
    assert_eq!(st, StatusCode::OK, "{audit}");
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"account.create") && actions.contains(&"account.update"),
        "{audit}"
    );
}

async fn delete_account_with_memberships_is_refused(b: Backend) {
    let s = TestServer::start(b).await;
    let guest = guest_id(&s).await;
    let a = create_account(&s, "Initech", "customer").await;
    let (st, u) = s
        .post(
            "/users",
            json!({"email": "pat@example.com", "account_id": a}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{u}");
    let uid = u["id"].as_str().unwrap();
    let (st, e) = s.delete(&format!("/accounts/{a}")).await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("membership"), "{e}");

    let (st, m) = s
        .post(
            &format!("/users/{uid}/memberships"),
            json!({"account_id": guest, "main": true}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    let (_, list) = s.get(&format!("/users/{uid}/memberships")).await;
    let old = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["account_id"] == a.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (st, _) = s.delete(&format!("/users/{uid}/memberships/{old}")).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.delete(&format!("/accounts/{a}")).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.get(&format!("/accounts/{a}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.delete(&format!("/accounts/{a}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

async fn account_groups_crud(b: Backend) {
    let s = TestServer::start(b).await;
    let a = create_account(&s, "Alpha", "customer").await;
    let b2 = create_account(&s, "Beta", "provider").await;
    let (st, g) = s
        .post(
            "/account-groups",
            json!({"name": "North", "description": "d", "account_ids": [a]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{g}");
    assert_eq!(ids(&g["account_ids"]), vec![a.clone()]);
    let gid = g["id"].as_str().unwrap();
    for (body, status) in [
        (json!({"name": "North"}), StatusCode::CONFLICT),
        (
            json!({"name": "East", "account_ids": ["nope"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"name": ""}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({"name": "East", "members": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (st, e) = s.post("/account-groups", body.clone()).await;
        assert_eq!(st, status, "{body} -> {e}");
    }
    let (_, list) = s.get("/account-groups").await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "nothing half-saved: {list}"
    );

    let member = |acc: &str| format!("/account-groups/{gid}/accounts/{acc}");
    for _ in 0..2 {
        let (st, g) = s.call(Method::PUT, &member(&b2), None).await;
        assert_eq!(st, StatusCode::OK, "{g}");
        assert_eq!(g["account_ids"].as_array().unwrap().len(), 2, "{g}");
    }
    let (st, g) = s.delete(&member(&a)).await;
    assert_eq!(st, StatusCode::OK, "{g}");
    assert_eq!(ids(&g["account_ids"]), vec![b2.clone()]);
    let (st, _) = s.delete(&member(&a)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.call(Method::PUT, &member("nope"), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    let path = format!("/account-groups/{gid}");
    let (st, g) = s
        .patch(
            &path,
            json!({"name": "South", "description": null, "account_ids": [a, b2]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{g}");
    assert!(g["description"].is_null());
    assert_eq!(g["account_ids"].as_array().unwrap().len(), 2);
    let (st, e) = s
        .patch(&path, json!({"name": "West", "account_ids": ["nope"]}))
        .await;
    assert_eq!(
        (st, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("account_ids"))
    );
    let (_, g) = s.get(&path).await;
    assert_eq!(g["name"], "South", "nothing half-saved: {g}");
    assert_eq!(g["account_ids"].as_array().unwrap().len(), 2);

    let (st, _) = s.delete(&path).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.get(&path).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.get(&format!("/accounts/{a}")).await;
    assert_eq!(st, StatusCode::OK, "accounts outlive their groups");
}

async fn accounts_access_control(b: Backend) {
    let s = TestServer::start(b).await;
    let a = create_account(&s, "Alpha", "customer").await;
    let (_, g) = s.post("/account-groups", json!({"name": "G"})).await;
    let gid = g["id"].as_str().unwrap().to_owned();
    let member = s.create_user("member@example.com").await;
    let member_token = s.token_for("acme", member["id"].as_str().unwrap()).await;
    let other = s.other_tenant("other").await;
    let endpoints: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/accounts".into(), None),
        (
            Method::POST,
            "/accounts".into(),
            Some(json!({"name": "N", "kind": "customer"})),
        ),
        (Method::GET, format!("/accounts/{a}"), None),
        (
            Method::PATCH,
            format!("/accounts/{a}"),
            Some(json!({"name": "N"})),
        ),
        (Method::DELETE, format!("/accounts/{a}"), None),
        (Method::GET, "/account-groups".into(), None),
        (
            Method::POST,
            "/account-groups".into(),
            Some(json!({"name": "N"})),
        ),
        (Method::GET, format!("/account-groups/{gid}"), None),
        (
            Method::PATCH,
            format!("/account-groups/{gid}"),
            Some(json!({"name": "N"})),
        ),
        (Method::DELETE, format!("/account-groups/{gid}"), None),
        (
            Method::PUT,
            format!("/account-groups/{gid}/accounts/{a}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/account-groups/{gid}/accounts/{a}"),
            None,
        ),
    ];
    for (method, path, body) in endpoints {
        let url = s.url(&path);
        let (st, e) = s
            .call_as(&member_token, method.clone(), &url, body.clone())
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "member {method} {path}: {e}");
        let (st, e) = s.call_as(&other, method.clone(), &url, body).await;
        assert_eq!(
            st,
            StatusCode::NOT_FOUND,
            "other tenant {method} {path}: {e}"
        );
    }
    let (_, list) = s.get("/accounts").await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        2,
        "nothing changed: {list}"
    );
    let (st, g) = s.get(&format!("/account-groups/{gid}")).await;
    assert_eq!((st, g["name"].as_str()), (StatusCode::OK, Some("G")));
}

backends!(
    accounts_crud_and_guest_protection,
    delete_account_with_memberships_is_refused,
    account_groups_crud,
    accounts_access_control,
);
