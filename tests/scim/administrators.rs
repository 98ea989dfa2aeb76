//! A directory token is not a way to take over an administrator (issue 12 §1): SCIM writes on a
//! user holding `castellan:` permissions beyond a manager's (through a role, a group or an
//! override) are SCIM 403 unless the tenant's `manage_administrators` setting says otherwise;
//! reads stay allowed, and ordinary people (managers included) stay within reach.

use crate::common::Backend;
use crate::{Scim, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

fn op(op: &str, path: &str, value: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": [{"op": op, "path": path, "value": value}]})
}

/// Every write a directory could use on user `id` (in SCIM group `group`), each refused.
fn writes(id: &str, name: &str, group: &str, plain: &str) -> Vec<(Method, String, Option<Value>)> {
    let user = format!("/Users/{id}");
    vec![
        (
            Method::PUT,
            user.clone(),
            Some(json!({"userName": name, "active": false})),
        ),
        (
            Method::PUT,
            user.clone(),
            Some(json!({"userName": name, "password": "a taken-over password 42"})),
        ),
        (
            Method::PATCH,
            user.clone(),
            Some(op("replace", "active", json!(false))),
        ),
        (
            Method::PATCH,
            user.clone(),
            Some(op("replace", "userName", json!("evil@evil.example"))),
        ),
        (
            Method::PATCH,
            user.clone(),
            Some(op(
                "replace",
                "emails",
                json!([{"value": "evil@evil.example", "primary": true}]),
            )),
        ),
        (
            Method::PATCH,
            user.clone(),
            Some(op("replace", "password", json!("a taken-over password 42"))),
        ),
        (Method::DELETE, user, None),
        (
            Method::PATCH,
            format!("/Groups/{group}"),
            Some(op("add", "members", json!([{"value": id}]))),
        ),
        (
            Method::PUT,
            format!("/Groups/{group}"),
            Some(json!({"displayName": "Directory", "members": [{"value": plain}, {"value": id}]})),
        ),
        (
            Method::POST,
            "/Groups".into(),
            Some(json!({"displayName": "Another", "members": [{"value": id}]})),
        ),
    ]
}

/// A SCIM 403 that says which setting would allow the write.
fn refused(a: &crate::Answer, what: &str) {
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{what}: {}", a.body);
    let detail = a.body["detail"].as_str().unwrap();
    assert!(detail.contains("manage_administrators"), "{what}: {detail}");
}

async fn setup(s: &Scim) -> (Vec<(String, String)>, String, String, String) {
    let srv = &s.srv;
    let mut admins = Vec::new();
    for name in ["adm", "auditor", "granted"] {
        admins.push((s.user(json!({"userName": name})).await, name.to_owned()));
    }
    let plain = s.user(json!({"userName": "plain"})).await;
    let manager = s.user(json!({"userName": "mgr"})).await;
    // adm: the Administrator role; auditor: a group granting audit.read; granted: an override.
    let admin_role = srv.role_id("administrator").await;
    let (st, v) = srv
        .post(
            &format!("/users/{}/roles", admins[0].0),
            json!({"role_id": admin_role}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, role) = srv
        .post(
            "/roles",
            json!({"name": "Auditors", "permissions": ["castellan:audit.read"]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{role}");
    let (_, g) = srv
        .post("/groups", json!({"display_name": "Auditors"}))
        .await;
    let g = g["id"].as_str().unwrap().to_owned();
    for path in [
        format!("/groups/{g}/roles/{}", role["id"].as_str().unwrap()),
        format!("/groups/{g}/members/{}", admins[1].0),
    ] {
        let (st, v) = srv.put(&path, json!({})).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let (st, v) = srv
        .put(
            &format!("/users/{}/overrides/castellan:tokens.manage", admins[2].0),
            json!({"effect": "grant"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let manager_role = srv.role_id("manager").await;
    let (st, v) = srv
        .post(
            &format!("/users/{manager}/roles"),
            json!({"role_id": manager_role}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let group = s
        .post(
            "/Groups",
            json!({"displayName": "Directory", "members": [{"value": plain}]}),
        )
        .await;
    assert_eq!(group.status, StatusCode::CREATED, "{}", group.body);
    let group = group.body["id"].as_str().unwrap().to_owned();
    (admins, plain, manager, group)
}

async fn directory_cannot_take_over_administrators(b: Backend) {
    let s = Scim::start(b).await;
    let (admins, plain, manager, group) = setup(&s).await;
    for (id, name) in &admins {
        let before = s.get(&format!("/Users/{id}")).await;
        assert_eq!(before.status, StatusCode::OK, "reads stay allowed");
        for (method, path, body) in writes(id, name, &group, &plain) {
            let a = s.send(method.clone(), &path, body, &[]).await;
            refused(&a, &format!("{name}: {method} {path}"));
        }
        // In the directory's group through the admin API: the directory cannot take them out.
        let (st, v) = s
            .srv
            .put(&format!("/groups/{group}/members/{id}"), json!({}))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let before = s.get(&format!("/Users/{id}")).await;
        let group_before = s.get(&format!("/Groups/{group}")).await.body;
        let removals = [
            (
                Method::PATCH,
                op(
                    "remove",
                    &format!("members[value eq \"{id}\"]"),
                    Value::Null,
                ),
            ),
            (
                Method::PUT,
                json!({"displayName": "Directory", "members": [{"value": plain}]}),
            ),
        ];
        for (method, body) in removals {
            let path = format!("/Groups/{group}");
            let a = s.send(method.clone(), &path, Some(body), &[]).await;
            refused(&a, &format!("{name}: {method} removal"));
        }
        // Nor delete the group they are in.
        let a = s
            .send(Method::DELETE, &format!("/Groups/{group}"), None, &[])
            .await;
        refused(&a, &format!("{name}: DELETE of their group"));
        // Bulk goes through the same rule.
        let bulk = s
            .post(
                "/Bulk",
                json!({"schemas": [BULK], "Operations": [
                    {"method": "PATCH", "path": format!("/Users/{id}"),
                     "data": op("replace", "active", json!(false))},
                    {"method": "DELETE", "path": format!("/Users/{id}")},
                ]}),
            )
            .await;
        assert_eq!(bulk.status, StatusCode::OK, "{}", bulk.body);
        for o in bulk.body["Operations"].as_array().unwrap() {
            assert_eq!(o["status"], "403", "{name}: {o}");
        }
        let after = s.get(&format!("/Users/{id}")).await;
        assert_eq!(after.body, before.body, "{name} unchanged");
        assert_eq!(s.get(&format!("/Groups/{group}")).await.body, group_before);
        let (st, v) = s.srv.delete(&format!("/groups/{group}/members/{id}")).await;
        assert!(st.is_success(), "{v}");
    }
    // Ordinary people, managers included, stay within a directory's reach.
    for id in [&plain, &manager] {
        let a = s
            .patch(
                &format!("/Users/{id}"),
                json!([{"op": "replace", "path": "active", "value": false}]),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    }
    // Only the owner's standing lets directories manage administrators.
    let adm_token = s.srv.token_for("acme", &admins[0].0).await;
    let on = json!({"delete_action": "deactivate", "manage_administrators": true});
    let (st, v) = s
        .srv
        .call_as(
            &adm_token,
            Method::PUT,
            &s.srv.url("/scim/settings"),
            Some(on.clone()),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, v) = s.srv.put("/scim/settings", on).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["manage_administrators"], true);
    let a = s
        .patch(
            &format!("/Users/{}", admins[0].0),
            json!([{"op": "replace", "path": "title", "value": "Boss"}]),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    // Removed (deactivated) while allowed; re-created by POST only while allowed.
    let (granted, name) = &admins[2];
    assert_eq!(
        s.delete(&format!("/Users/{granted}")).await.status,
        StatusCode::NO_CONTENT
    );
    let (st, v) = s
        .srv
        .put("/scim/settings", json!({"delete_action": "deactivate"}))
        .await;
    assert_eq!(
        (st, &v["manage_administrators"]),
        (StatusCode::OK, &json!(false)),
        "{v}"
    );
    let again = s.post("/Users", json!({"userName": name})).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN, "{}", again.body);
    assert_eq!(
        s.get(&format!("/Users/{granted}")).await.status,
        StatusCode::NOT_FOUND
    );
    let (st, v) = s
        .srv
        .put(
            "/scim/settings",
            json!({"delete_action": "deactivate", "manage_administrators": true}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let again = s.post("/Users", json!({"userName": name})).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert_eq!(again.body["id"], granted.as_str());
    // Allowed now: the group of an administrator can be deleted.
    let (st, v) = s
        .srv
        .put(
            &format!("/groups/{group}/members/{}", admins[0].0),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let gone = s.delete(&format!("/Groups/{group}")).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.body);
}

backends!(directory_cannot_take_over_administrators);
