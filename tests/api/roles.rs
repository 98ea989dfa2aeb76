//! `/roles` and `/users/{id}/roles`: roles, seeded-role protection, assignments, delegation.

use crate::backends;
use crate::common::{Backend, TestServer};
use crate::permissions::{assert_refused, create_permission};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Creates a role with these permissions (adding missing ones to the catalogue) and returns its id.
pub async fn create_role(s: &TestServer, name: &str, perms: &[&str]) -> String {
    let (_, cat) = s.get("/permissions").await;
    for p in perms {
        if !cat["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["name"] == *p)
        {
            create_permission(s, p).await;
        }
    }
    let (st, r) = s
        .post("/roles", json!({"name": name, "permissions": perms}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    r["id"].as_str().unwrap().to_owned()
}

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

async fn role_crud(b: Backend) {
    let s = TestServer::start(b).await;
    create_permission(&s, "billing:read").await;
    create_permission(&s, "billing:write").await;
    let (st, r) = s
        .post(
            "/roles",
            json!({"name": "Billing", "description": "Bills", "permissions": ["billing:read"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_eq!(r["permissions"], json!(["billing:read"]));
    assert!(r["template"].is_null());
    let rid = id(&r);
    let (st, got) = s.get(&format!("/roles/{rid}")).await;
    assert_eq!((st, &got["name"]), (StatusCode::OK, &json!("Billing")));
    let (_, list) = s.get("/roles").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 5, "{list}");

    let (st, e) = s
        .post(
            "/roles",
            json!({"name": "X", "permissions": ["billing:read", "nope:none"]}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("nope:none"), "{e}");
    let (st, e) = s
        .post("/roles", json!({"name": "billing", "permissions": []}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "names are case-sensitive: {e}");
    let (st, e) = s
        .post("/roles", json!({"name": "Billing", "permissions": []}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    for bad in [
        json!({"name": "", "permissions": []}),
        json!({"name": "Y"}),
        json!({"name": "Y", "permissions": [], "template": "owner"}),
    ] {
        let (st, e) = s.post("/roles", bad.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{bad} -> {e}");
    }

    let (st, u) = s
        .patch(
            &format!("/roles/{rid}"),
            json!({"name": "Billing admin", "description": null, "permissions": ["billing:read", "billing:write"]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{u}");
    assert_eq!(u["permissions"], json!(["billing:read", "billing:write"]));
    assert!(u["description"].is_null());
    // A bad permission list changes nothing, not even the name given with it.
    let (st, _) = s
        .patch(
            &format!("/roles/{rid}"),
            json!({"name": "Renamed", "permissions": ["nope:none"]}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, same) = s.get(&format!("/roles/{rid}")).await;
    assert_eq!(same["name"], "Billing admin");
    assert_eq!(same["permissions"].as_array().unwrap().len(), 2);

    let (_, audit) = s
        .get(&format!("/audit?action=role.update&target_id={rid}"))
        .await;
    let entry = &audit["items"][0];
    assert_eq!(entry["before"]["name"], "Billing", "{audit}");
    assert_eq!(entry["after"]["name"], "Billing admin", "{audit}");

    let (st, _) = s.delete(&format!("/roles/{rid}")).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.get(&format!("/roles/{rid}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s
        .patch(&format!("/roles/{rid}"), json!({"name": "Z"}))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

async fn seeded_and_held_roles_are_protected(b: Backend) {
    let s = TestServer::start(b).await;
    let owner = s.role_id("owner").await;
    create_permission(&s, "billing:read").await;
    let (st, e) = s
        .patch(
            &format!("/roles/{owner}"),
            json!({"permissions": ["billing:read"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    let (st, e) = s
        .patch(&format!("/roles/{owner}"), json!({"permissions": []}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    let (_, r) = s.get(&format!("/roles/{owner}")).await;
    assert_eq!(r["permissions"].as_array().unwrap().len(), 16);
    // Other seeded roles are starting points: their permissions may change.
    let member = s.role_id("member").await;
    let (st, r) = s
        .patch(
            &format!("/roles/{member}"),
            json!({"permissions": ["billing:read"]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    for t in ["owner", "administrator", "manager", "member"] {
        let rid = s.role_id(t).await;
        let (st, e) = s.delete(&format!("/roles/{rid}")).await;
        assert_eq!(st, StatusCode::CONFLICT, "{t}: {e}");
    }

    let held = create_role(&s, "Held", &["billing:read"]).await;
    let u = s.create_user("held@example.com").await;
    let (st, a) = s
        .post(
            &format!("/users/{}/roles", id(&u)),
            json!({"role_id": held}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    let (st, e) = s.delete(&format!("/roles/{held}")).await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    let (st, _) = s
        .delete(&format!("/users/{}/roles/{}", id(&u), id(&a)))
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);

    let (_, g) = s.post("/groups", json!({"display_name": "G"})).await;
    let (st, _) = s
        .put(&format!("/groups/{}/roles/{held}", id(&g)), json!({}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, e) = s.delete(&format!("/roles/{held}")).await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    s.delete(&format!("/groups/{}/roles/{held}", id(&g))).await;
    let (st, _) = s.delete(&format!("/roles/{held}")).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
}

fn mains(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["main"] == true)
        .map(|a| a["role_name"].as_str().unwrap().to_owned())
        .collect()
}

async fn assignments_keep_one_main_role(b: Backend) {
    let s = TestServer::start(b).await;
    let u = s.create_user("ann@example.com").await;
    let uid = id(&u);
    let roles_url = format!("/users/{uid}/roles");
    let (st, list) = s.get(&roles_url).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(mains(&list), vec!["Member"]);
    let member_assignment = list["items"][0]["id"].as_str().unwrap().to_owned();

    let billing = create_role(&s, "Billing", &["billing:read"]).await;
    let (st, a) = s.post(&roles_url, json!({"role_id": billing})).await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    assert_eq!(
        (a["main"].as_bool(), a["role_name"].as_str()),
        (Some(false), Some("Billing"))
    );
    let billing_assignment = id(&a).to_owned();
    let (st, e) = s.post(&roles_url, json!({"role_id": billing})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");

    let manager = s.role_id("manager").await;
    let (st, a) = s
        .post(&roles_url, json!({"role_id": manager, "main": true}))
        .await;
    assert_eq!(
        (st, a["main"].as_bool()),
        (StatusCode::CREATED, Some(true)),
        "{a}"
    );
    let manager_assignment = id(&a).to_owned();
    let (_, list) = s.get(&roles_url).await;
    assert_eq!(mains(&list), vec!["Manager"]);

    let url = |a: &str| format!("/users/{uid}/roles/{a}");
    let (st, a) = s
        .patch(&url(&billing_assignment), json!({"main": true}))
        .await;
    assert_eq!(
        (st, a["main"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{a}"
    );
    let (_, list) = s.get(&roles_url).await;
    assert_eq!(mains(&list), vec!["Billing"]);
    let (st, _) = s
        .patch(&url(&manager_assignment), json!({"main": false}))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = s
        .patch(&url(&manager_assignment), json!({"main": true, "x": 1}))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

    let (st, e) = s.delete(&url(&billing_assignment)).await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    for a in [&member_assignment, &manager_assignment] {
        let (st, _) = s.delete(&url(a)).await;
        assert_eq!(st, StatusCode::NO_CONTENT);
    }
    let (st, _) = s.delete(&url(&manager_assignment)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // The last role, main, may go; the next first role becomes main.
    let (st, _) = s.delete(&url(&billing_assignment)).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, list) = s.get(&roles_url).await;
    assert!(list["items"].as_array().unwrap().is_empty());
    let (_, a) = s.post(&roles_url, json!({"role_id": billing})).await;
    assert_eq!(a["main"], true, "{a}");

    let (_, audit) = s
        .get(&format!("/audit?action=role.assign&target_id={uid}"))
        .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 3, "{audit}");
}

async fn owner_role_and_bad_assignments_are_refused(b: Backend) {
    let s = TestServer::start(b).await;
    let u = s.create_user("bob@example.com").await;
    let uid = id(&u);
    let owner_role = s.role_id("owner").await;
    let (st, e) = s
        .post(
            &format!("/users/{uid}/roles"),
            json!({"role_id": owner_role}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");

    let (_, owner) = s.get("/owner").await;
    let oid = id(&owner);
    let (_, list) = s.get(&format!("/users/{oid}/roles")).await;
    let owner_assignment = list["items"][0]["id"].as_str().unwrap();
    let (st, e) = s
        .delete(&format!("/users/{oid}/roles/{owner_assignment}"))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");

    let (_, account) = s
        .post(
            "/accounts",
            json!({"name": "Customer A", "kind": "customer"}),
        )
        .await;
    let aid = id(&account);
    let member = s.role_id("member").await;
    for body in [
        json!({"role_id": "00000000-0000-0000-0000-000000000000"}),
        json!({"role_id": member, "account_id": aid}),
        json!({"role_id": member, "account_id": "no-such-account"}),
        json!({"role_id": member, "bogus": true}),
        json!({}),
    ] {
        let (st, e) = s.post(&format!("/users/{uid}/roles"), body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body} -> {e}");
    }
    let (st, m) = s
        .post(
            &format!("/users/{uid}/memberships"),
            json!({"account_id": aid}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    let (st, a) = s
        .post(
            &format!("/users/{uid}/roles"),
            json!({"role_id": member, "account_id": aid}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    assert_eq!(a["account_id"], aid);
    let (_, list) = s.get(&format!("/users/{uid}/roles")).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
    let (st, _) = s.post("/users/x/roles", json!({"role_id": member})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

async fn manager_cannot_hand_out_permissions_they_lack(b: Backend) {
    let s = TestServer::start(b).await;
    let manager_role = s.role_id("manager").await;
    let (st, m) = s
        .post(
            "/users",
            json!({"email": "mgr@example.com", "role_ids": [manager_role]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    let t = s.create_user("target@example.com").await;
    let tid = id(&t);
    let (st, e) = s
        .post(
            &format!("/users/{}/management", id(&m)),
            json!({"kind": "user", "id": tid}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{e}");
    let token = s.token_for("acme", id(&m)).await;
    let url = s.url(&format!("/users/{tid}/roles"));

    let billing = create_role(&s, "Billing", &["billing:read"]).await;
    for role in [billing.clone(), s.role_id("administrator").await] {
        let (st, e) = s
            .call_as(&token, Method::POST, &url, Some(json!({"role_id": role})))
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    }
    // A role within the manager's own permissions is fine.
    let limited = create_role(&s, "Limited", &["castellan:users.read.managed"]).await;
    let (st, a) = s
        .call_as(
            &token,
            Method::POST,
            &url,
            Some(json!({"role_id": limited})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    // Nor can the manager take away a role they could not have given.
    let (_, granted) = s
        .post(&format!("/users/{tid}/roles"), json!({"role_id": billing}))
        .await;
    let del = s.url(&format!("/users/{tid}/roles/{}", id(&granted)));
    let (st, e) = s.call_as(&token, Method::DELETE, &del, None).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    let (_, list) = s.get(&format!("/users/{tid}/roles")).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 3, "{list}");

    // A role writer cannot create a role more powerful than themselves either (as for edits).
    let writers = create_role(
        &s,
        "Role writers",
        &["castellan:roles.read", "castellan:roles.write"],
    )
    .await;
    let (st, w) = s
        .post(
            "/users",
            json!({"email": "writer@example.com", "role_ids": [writers]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{w}");
    let writer = s.token_for("acme", id(&w)).await;
    let (_, before) = s.get("/roles").await;
    for permissions in [
        json!(["castellan:users.delete"]),
        json!(["castellan:roles.write", "castellan:owner.transfer"]),
    ] {
        let (st, e) = s
            .call_as(
                &writer,
                Method::POST,
                &s.url("/roles"),
                Some(json!({"name": "Escalation", "permissions": permissions})),
            )
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{permissions}: {e}");
    }
    let (_, after) = s.get("/roles").await;
    assert_eq!(before, after, "no role was created");
    let (st, r) = s
        .call_as(
            &writer,
            Method::POST,
            &s.url("/roles"),
            Some(json!({"name": "Within reach", "permissions": ["castellan:roles.read", "billing:read"]})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
}

async fn role_endpoints_refuse_members_and_other_tenants(b: Backend) {
    let s = TestServer::start(b).await;
    let rid = create_role(&s, "Billing", &["billing:read"]).await;
    let u = s.create_user("u@example.com").await;
    let uid = id(&u);
    let (_, list) = s.get(&format!("/users/{uid}/roles")).await;
    let aid = list["items"][0]["id"].as_str().unwrap();
    let cases = [
        (Method::GET, "/roles".to_string(), None),
        (
            Method::POST,
            "/roles".to_string(),
            Some(json!({"name": "R", "permissions": []})),
        ),
        (Method::GET, format!("/roles/{rid}"), None),
        (
            Method::PATCH,
            format!("/roles/{rid}"),
            Some(json!({"name": "R2"})),
        ),
        (Method::DELETE, format!("/roles/{rid}"), None),
        (Method::GET, format!("/users/{uid}/roles"), None),
        (
            Method::POST,
            format!("/users/{uid}/roles"),
            Some(json!({"role_id": rid})),
        ),
        (
            Method::PATCH,
            format!("/users/{uid}/roles/{aid}"),
            Some(json!({"main": true})),
        ),
        (Method::DELETE, format!("/users/{uid}/roles/{aid}"), None),
    ];
    assert_refused(&s, &cases).await;
    let (_, r) = s.get(&format!("/roles/{rid}")).await;
    assert_eq!(r["name"], "Billing");
    let (_, list) = s.get(&format!("/users/{uid}/roles")).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

backends!(
    role_crud,
    seeded_and_held_roles_are_protected,
    assignments_keep_one_main_role,
    owner_role_and_bad_assignments_are_refused,
    manager_cannot_hand_out_permissions_they_lack,
    role_endpoints_refuse_members_and_other_tenants,
);
