//! `/groups`: groups, members, roles granted to groups.

use crate::backends;
use crate::common::{Backend, TestServer};
use crate::permissions::assert_refused;
use crate::roles::create_role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

async fn group_crud_bumps_version(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, g) = s
        .post(
            "/groups",
            json!({"display_name": "Sales", "description": "The sales team", "external_id": "ext-1"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{g}");
    assert_eq!(
        (g["version"].as_i64(), g["external_id"].as_str()),
        (Some(1), Some("ext-1"))
    );
    let gid = id(&g);
    let url = format!("/groups/{gid}");
    let (st, got) = s.get(&url).await;
    assert_eq!(
        (st, &got["display_name"]),
        (StatusCode::OK, &json!("Sales"))
    );

    let (st, g) = s
        .patch(
            &url,
            json!({"display_name": "Sales EU", "description": null}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{g}");
    assert_eq!(
        (g["version"].as_i64(), g["display_name"].as_str()),
        (Some(2), Some("Sales EU"))
    );
    assert!(g["description"].is_null());
    assert_eq!(g["external_id"], "ext-1");

    let u = s.create_user("ann@example.com").await;
    let uid = id(&u);
    let (st, g) = s.put(&format!("{url}/members/{uid}"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{g}");
    assert_eq!(
        (g["version"].as_i64(), &g["member_ids"]),
        (Some(3), &json!([uid]))
    );
    let (_, g) = s.put(&format!("{url}/members/{uid}"), json!({})).await;
    assert_eq!(g["version"], 3, "adding again changes nothing: {g}");
    let role = create_role(&s, "Sales", &["crm:read"]).await;
    let (st, g) = s.put(&format!("{url}/roles/{role}"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{g}");
    assert_eq!(
        (g["version"].as_i64(), &g["role_ids"]),
        (Some(4), &json!([role]))
    );

    let (_, list) = s.get(&format!("/users?group_id={gid}")).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let (_, groups) = s.get("/groups").await;
    assert_eq!(groups["items"][0]["member_ids"], json!([uid]), "{groups}");

    let (st, g) = s.delete(&format!("{url}/roles/{role}")).await;
    assert_eq!(
        (st, g["version"].as_i64()),
        (StatusCode::OK, Some(5)),
        "{g}"
    );
    let (st, g) = s.delete(&format!("{url}/members/{uid}")).await;
    assert_eq!(
        (st, g["version"].as_i64()),
        (StatusCode::OK, Some(6)),
        "{g}"
    );
    let (st, _) = s.delete(&format!("{url}/members/{uid}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.delete(&format!("{url}/roles/{role}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    let (_, audit) = s.get(&format!("/audit?target_id={gid}&limit=100")).await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 6, "{audit}");
    let (_, audit) = s
        .get(&format!("/audit?action=group.member_add&target_id={gid}"))
        .await;
    assert_eq!(
        audit["items"][0]["before"]["member_ids"],
        json!([]),
        "{audit}"
    );
    assert_eq!(
        audit["items"][0]["after"]["member_ids"],
        json!([uid]),
        "{audit}"
    );

    let (st, _) = s.delete(&url).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.get(&url).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.patch(&url, json!({"display_name": "x"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

async fn bad_group_input_is_refused(b: Backend) {
    let s = TestServer::start(b).await;
    for body in [
        json!({"display_name": ""}),
        json!({"display_name": "   "}),
        json!({}),
        json!({"display_name": "G", "members": []}),
        json!({"display_name": 5}),
    ] {
        let (st, e) = s.post("/groups", body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body} -> {e}");
    }
    let (_, g) = s.post("/groups", json!({"display_name": "G"})).await;
    let url = format!("/groups/{}", id(&g));
    let (st, _) = s.patch(&url, json!({"display_name": ""})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = s.patch(&url, json!({"version": 3})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = s.put(&format!("{url}/members/nobody"), json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.put(&format!("{url}/roles/nothing"), json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let owner = s.role_id("owner").await;
    let (st, e) = s.put(&format!("{url}/roles/{owner}"), json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    let u = s.create_user("u@example.com").await;
    let (st, _) = s
        .put(&format!("/groups/nothing/members/{}", id(&u)), json!({}))
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, got) = s.get(&url).await;
    assert_eq!(
        (got["version"].as_i64(), &got["role_ids"]),
        (Some(1), &json!([])),
        "{got}"
    );
    let (_, list) = s.get("/groups").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

async fn group_role_gives_members_its_permissions(b: Backend) {
    let s = TestServer::start(b).await;
    let role = create_role(&s, "Auditor", &["castellan:audit.read"]).await;
    let (_, g) = s.post("/groups", json!({"display_name": "Auditors"})).await;
    let gid = id(&g);
    let u = s.create_user("aud@example.com").await;
    let uid = id(&u);
    let token = s.token_for("acme", uid).await;
    let audit_url = s.url("/audit");
    let (st, _) = s.call_as(&token, Method::GET, &audit_url, None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    s.put(&format!("/groups/{gid}/roles/{role}"), json!({}))
        .await;
    s.put(&format!("/groups/{gid}/members/{uid}"), json!({}))
        .await;
    let (_, eff) = s.get(&format!("/users/{uid}/effective-permissions")).await;
    let src = &eff["permissions"][0];
    assert_eq!(src["permission"], "castellan:audit.read", "{eff}");
    assert_eq!(src["sources"][0]["kind"], "group_role");
    assert_eq!(src["sources"][0]["group"], "Auditors");
    let (st, _) = s.call_as(&token, Method::GET, &audit_url, None).await;
    assert_eq!(st, StatusCode::OK);
    // Deleting the group takes the permission away.
    s.delete(&format!("/groups/{gid}")).await;
    let (st, _) = s.call_as(&token, Method::GET, &audit_url, None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

async fn group_endpoints_refuse_members_and_other_tenants(b: Backend) {
    let s = TestServer::start(b).await;
    let (_, g) = s.post("/groups", json!({"display_name": "G"})).await;
    let gid = id(&g);
    let u = s.create_user("u@example.com").await;
    let uid = id(&u);
    let role = s.role_id("member").await;
    s.put(&format!("/groups/{gid}/members/{uid}"), json!({}))
        .await;
    let cases = [
        (Method::GET, "/groups".to_string(), None),
        (
            Method::POST,
            "/groups".to_string(),
            Some(json!({"display_name": "H"})),
        ),
        (Method::GET, format!("/groups/{gid}"), None),
        (
            Method::PATCH,
            format!("/groups/{gid}"),
            Some(json!({"display_name": "X"})),
        ),
        (Method::DELETE, format!("/groups/{gid}"), None),
        (
            Method::PUT,
            format!("/groups/{gid}/members/{uid}"),
            Some(json!({})),
        ),
        (Method::DELETE, format!("/groups/{gid}/members/{uid}"), None),
        (
            Method::PUT,
            format!("/groups/{gid}/roles/{role}"),
            Some(json!({})),
        ),
        (Method::DELETE, format!("/groups/{gid}/roles/{role}"), None),
    ];
    assert_refused(&s, &cases).await;
    let (_, got) = s.get(&format!("/groups/{gid}")).await;
    assert_eq!(
        (got["version"].as_i64(), got["display_name"].as_str()),
        (Some(2), Some("G"))
    );
}

backends!(
    group_crud_bumps_version,
    bad_group_input_is_refused,
    group_role_gives_members_its_permissions,
    group_endpoints_refuse_members_and_other_tenants,
);
