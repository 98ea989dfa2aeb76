//! `/permissions`: the permission catalogue. Also the shared refusal check of this area.

use crate::backends;
use crate::common::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A token of a plain Member user of `acme`, and a token of another tenant.
pub async fn outsiders(s: &TestServer) -> (String, String) {
    let u = s.create_user("plain-member@example.com").await;
    let member = s.token_for("acme", u["id"].as_str().unwrap()).await;
    let foreign = s.other_tenant("other").await;
    (member, foreign)
}

/// Calls each endpoint as a plain Member (403 expected) and with another tenant's token (404).
pub async fn assert_refused(s: &TestServer, cases: &[(Method, String, Option<Value>)]) {
    let (member, foreign) = outsiders(s).await;
    for (method, path, body) in cases {
        let url = s.url(path);
        let (st, e) = s.call_as(&member, method.clone(), &url, body.clone()).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "member: {method} {path}: {e}");
        let (st, e) = s
            .call_as(&foreign, method.clone(), &url, body.clone())
            .await;
        assert_eq!(
            st,
            StatusCode::NOT_FOUND,
            "other tenant: {method} {path}: {e}"
        );
    }
}

/// Adds `name` to the catalogue and returns its JSON.
pub async fn create_permission(s: &TestServer, name: &str) -> Value {
    let (st, p) = s.post("/permissions", json!({ "name": name })).await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    p
}

async fn catalogue_crud(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, list) = s.get("/permissions").await;
    assert_eq!(st, StatusCode::OK);
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 16, "{list}");
    assert!(items.iter().all(|p| p["builtin"] == true));
    let builtin_id = items[0]["id"].as_str().unwrap().to_owned();

    let (st, p) = s
        .post(
            "/permissions",
            json!({"name": "billing:read", "description": "Read bills"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    assert_eq!(
        (p["name"].as_str(), p["builtin"].as_bool()),
        (Some("billing:read"), Some(false))
    );
    let id = p["id"].as_str().unwrap();
    let (st, e) = s
        .post("/permissions", json!({"name": "billing:read"}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");

    let (st, p2) = s
        .patch(
            &format!("/permissions/{id}"),
            json!({"description": "Bills"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{p2}");
    assert_eq!(p2["description"], "Bills");
    let (st, p3) = s
        .patch(&format!("/permissions/{id}"), json!({"description": null}))
        .await;
    assert_eq!(st, StatusCode::OK, "{p3}");
    assert!(p3["description"].is_null());

    let (st, e) = s.delete(&format!("/permissions/{builtin_id}")).await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    let (st, _) = s.delete(&format!("/permissions/{id}")).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.delete(&format!("/permissions/{id}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s
        .patch(&format!("/permissions/{id}"), json!({"description": "x"}))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    let (_, audit) = s.get("/audit?action=permission.create").await;
    let entries = audit["items"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["after"]["name"], "billing:read");
    let (_, audit) = s.get("/audit?action=permission.delete").await;
    assert_eq!(
        audit["items"][0]["before"]["name"], "billing:read",
        "{audit}"
    );
}

async fn bad_permission_input_is_refused(b: Backend) {
    let s = TestServer::start(b).await;
    for body in [
        json!({"name": "Billing:read"}),
        json!({"name": "billing"}),
        json!({"name": "a b:c"}),
        json!({"name": "castellan:anything"}),
        json!({"name": "billing:read", "extra": 1}),
        json!({"name": 7}),
        json!({}),
    ] {
        let (st, e) = s.post("/permissions", body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body} -> {e}");
    }
    let p = create_permission(&s, "billing:read").await;
    let (st, _) = s
        .patch(
            &format!("/permissions/{}", p["id"].as_str().unwrap()),
            json!({"name": "billing:write"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, list) = s.get("/permissions").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 17, "{list}");
}

async fn permission_endpoints_refuse_members_and_other_tenants(b: Backend) {
    let s = TestServer::start(b).await;
    let p = create_permission(&s, "billing:read").await;
    let id = p["id"].as_str().unwrap();
    let cases = [
        (Method::GET, "/permissions".to_string(), None),
        (
            Method::POST,
            "/permissions".to_string(),
            Some(json!({"name": "billing:write"})),
        ),
        (
            Method::PATCH,
            format!("/permissions/{id}"),
            Some(json!({"description": "x"})),
        ),
        (Method::DELETE, format!("/permissions/{id}"), None),
    ];
    assert_refused(&s, &cases).await;
    let (_, list) = s.get("/permissions").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 17);
}

backends!(
    catalogue_crud,
    bad_permission_input_is_refused,
    permission_endpoints_refuse_members_and_other_tenants,
);
