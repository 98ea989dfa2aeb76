//! `/users/{id}/overrides` and `/users/{id}/effective-permissions`.

use crate::backends;
use crate::common::{Backend, TestServer};
use crate::permissions::{assert_refused, create_permission};
use crate::roles::create_role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

/// The granted entry of `perm` in an effective-permissions answer.
fn granted<'a>(eff: &'a Value, perm: &str) -> Option<&'a Value> {
    eff["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["permission"] == perm)
}

fn names(eff: &Value) -> Vec<&str> {
    eff["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["permission"].as_str().unwrap())
        .collect()
}

async fn override_crud(b: Backend) {
    let s = TestServer::start(b).await;
    create_permission(&s, "billing:read").await;
    let u = s.create_user("ann@example.com").await;
    let base = format!("/users/{}/overrides", id(&u));
    let (st, list) = s.get(&base).await;
    assert_eq!(
        (st, list["items"].as_array().unwrap().len()),
        (StatusCode::OK, 0)
    );

    let (st, o) = s
        .put(
            &format!("{base}/billing:read"),
            json!({"effect": "grant", "reason": "project X"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{o}");
    assert_eq!(
        (o["effect"].as_str(), o["reason"].as_str()),
        (Some("grant"), Some("project X"))
    );
    let (st, o) = s
        .put(&format!("{base}/billing:read"), json!({"effect": "deny"}))
        .await;
    assert_eq!(
        (st, o["effect"].as_str()),
        (StatusCode::OK, Some("deny")),
        "{o}"
    );
    assert!(o["reason"].is_null());
    let (_, list) = s.get(&base).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");

    for (path, body) in [
        ("nope:none", json!({"effect": "grant"})),
        ("not a name", json!({"effect": "grant"})),
        ("billing:read", json!({"effect": "maybe"})),
        ("billing:read", json!({"effect": "grant", "until": "never"})),
        ("billing:read", json!({})),
    ] {
        let (st, e) = s.put(&format!("{base}/{path}"), body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{path} {body} -> {e}");
    }
    let (_, list) = s.get(&base).await;
    assert_eq!(
        list["items"][0]["effect"], "deny",
        "bad input changed nothing: {list}"
    );

    let (_, audit) = s
        .get(&format!("/audit?action=override.set&target_id={}", id(&u)))
        .await;
    let entries = audit["items"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{audit}");
    assert_eq!(entries[0]["before"]["effect"], "grant", "{audit}");
    assert_eq!(entries[0]["after"]["effect"], "deny", "{audit}");

    let (st, _) = s.delete(&format!("{base}/billing:read")).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.delete(&format!("{base}/billing:read")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.delete(&format!("{base}/nope:none")).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = s
        .put(
            "/users/nobody/overrides/billing:read",
            json!({"effect": "grant"}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

async fn owner_cannot_be_denied_castellan_permissions(b: Backend) {
    let s = TestServer::start(b).await;
    create_permission(&s, "billing:read").await;
    let (_, owner) = s.get("/owner").await;
    let base = format!("/users/{}/overrides", id(&owner));
    let (st, e) = s
        .put(
            &format!("{base}/castellan:users.read"),
            json!({"effect": "deny"}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    let (st, _) = s
        .put(
            &format!("{base}/castellan:users.read"),
            json!({"effect": "grant"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s
        .put(&format!("{base}/billing:read"), json!({"effect": "deny"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, eff) = s
        .get(&format!("/users/{}/effective-permissions", id(&owner)))
        .await;
    assert!(granted(&eff, "castellan:owner.transfer").is_some(), "{eff}");
    // Another user may be denied a castellan permission.
    let u = s.create_user("u@example.com").await;
    let (st, _) = s
        .put(
            &format!("/users/{}/overrides/castellan:users.read", id(&u)),
            json!({"effect": "deny"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
}

async fn effective_permissions_are_explained(b: Backend) {
    let s = TestServer::start(b).await;
    let billing = create_role(&s, "Billing", &["billing:read", "billing:write"]).await;
    let reports = create_role(&s, "Reports", &["reports:view"]).await;
    create_permission(&s, "audit:export").await;
    let u = s.create_user("eve@example.com").await;
    let uid = id(&u);
    let (st, _) = s
        .post(&format!("/users/{uid}/roles"), json!({"role_id": billing}))
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (_, g) = s.post("/groups", json!({"display_name": "Analysts"})).await;
    let gid = id(&g);
    s.put(&format!("/groups/{gid}/roles/{reports}"), json!({}))
        .await;
    let (st, _) = s
        .put(&format!("/groups/{gid}/members/{uid}"), json!({}))
        .await;
    assert_eq!(st, StatusCode::OK);
    s.put(
        &format!("/users/{uid}/overrides/audit:export"),
        json!({"effect": "grant", "reason": "quarter end"}),
    )
    .await;
    s.put(
        &format!("/users/{uid}/overrides/billing:write"),
        json!({"effect": "deny", "reason": "separation of duties"}),
    )
    .await;

    let (st, eff) = s.get(&format!("/users/{uid}/effective-permissions")).await;
    assert_eq!(st, StatusCode::OK, "{eff}");
    assert_eq!(
        names(&eff),
        vec!["audit:export", "billing:read", "reports:view"],
        "{eff}"
    );
    let direct = &granted(&eff, "billing:read").unwrap()["sources"][0];
    assert_eq!(direct["kind"], "role");
    assert_eq!(direct["role_id"], billing.as_str());
    assert_eq!(direct["role"], "Billing");
    let via_group = &granted(&eff, "reports:view").unwrap()["sources"][0];
    assert_eq!(via_group["kind"], "group_role", "{eff}");
    assert_eq!(
        (via_group["group_id"].as_str(), via_group["group"].as_str()),
        (Some(gid), Some("Analysts"))
    );
    let grant = &granted(&eff, "audit:export").unwrap()["sources"][0];
    assert_eq!(
        (grant["kind"].as_str(), grant["effect"].as_str()),
        (Some("override"), Some("grant"))
    );
    assert_eq!(grant["reason"], "quarter end");
    let denied = &eff["denied"][0];
    assert_eq!(denied["permission"], "billing:write", "{eff}");
    assert_eq!(denied["denied_by"]["effect"], "deny");
    assert_eq!(denied["overridden_sources"][0]["kind"], "role");
    assert_eq!(denied["overridden_sources"][0]["role"], "Billing");

    // Leaving the group takes its role's permissions away.
    s.delete(&format!("/groups/{gid}/members/{uid}")).await;
    let (_, eff) = s.get(&format!("/users/{uid}/effective-permissions")).await;
    assert!(granted(&eff, "reports:view").is_none(), "{eff}");
}

async fn account_role_counts_only_while_membership_is_current(b: Backend) {
    let s = TestServer::start(b).await;
    let role = create_role(&s, "Buyer", &["shop:buy"]).await;
    let (st, account) = s
        .post(
            "/accounts",
            json!({"name": "Customer A", "kind": "customer"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{account}");
    let aid = id(&account);
    let u = s.create_user("fred@example.com").await;
    let uid = id(&u);
    let (st, m) = s
        .post(
            &format!("/users/{uid}/memberships"),
            json!({"account_id": aid, "start_date": "2000-01-01"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    let (st, a) = s
        .post(
            &format!("/users/{uid}/roles"),
            json!({"role_id": role, "account_id": aid}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    let eff_url = format!("/users/{uid}/effective-permissions");
    let (_, eff) = s.get(&eff_url).await;
    let src = &granted(&eff, "shop:buy").expect("current membership counts")["sources"][0];
    assert_eq!(
        (src["account_id"].as_str(), src["account"].as_str()),
        (Some(aid), Some("Customer A"))
    );

    let m_url = format!("/users/{uid}/memberships/{}", id(&m));
    let (st, e) = s.patch(&m_url, json!({"end_date": "2001-12-31"})).await;
    assert_eq!(st, StatusCode::OK, "{e}");
    let (_, eff) = s.get(&eff_url).await;
    assert!(
        granted(&eff, "shop:buy").is_none(),
        "ended membership: {eff}"
    );

    let (st, e) = s
        .patch(
            &m_url,
            json!({"start_date": "2999-01-01", "end_date": null}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{e}");
    let (_, eff) = s.get(&eff_url).await;
    assert!(
        granted(&eff, "shop:buy").is_none(),
        "future membership: {eff}"
    );

    let (_, _) = s.patch(&m_url, json!({"start_date": null})).await;
    let (_, eff) = s.get(&eff_url).await;
    assert!(
        granted(&eff, "shop:buy").is_some(),
        "open membership: {eff}"
    );
}

async fn manager_cannot_grant_overrides_they_lack(b: Backend) {
    let s = TestServer::start(b).await;
    create_permission(&s, "billing:read").await;
    let (st, m) = s
        .post(
            "/users",
            json!({"email": "mgr@example.com", "role_ids": [s.role_id("manager").await]}),
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
    for perm in ["billing:read", "castellan:users.write"] {
        let url = s.url(&format!("/users/{tid}/overrides/{perm}"));
        let (st, e) = s
            .call_as(&token, Method::PUT, &url, Some(json!({"effect": "grant"})))
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{perm}: {e}");
    }
    let held = s.url(&format!(
        "/users/{tid}/overrides/castellan:users.read.managed"
    ));
    let (st, e) = s
        .call_as(&token, Method::PUT, &held, Some(json!({"effect": "grant"})))
        .await;
    assert_eq!(st, StatusCode::OK, "{e}");
    let (_, list) = s.get(&format!("/users/{tid}/overrides")).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
}

async fn override_endpoints_refuse_members_and_other_tenants(b: Backend) {
    let s = TestServer::start(b).await;
    create_permission(&s, "billing:read").await;
    let u = s.create_user("u@example.com").await;
    let uid = id(&u);
    s.put(
        &format!("/users/{uid}/overrides/billing:read"),
        json!({"effect": "grant"}),
    )
    .await;
    let cases = [
        (Method::GET, format!("/users/{uid}/overrides"), None),
        (
            Method::PUT,
            format!("/users/{uid}/overrides/billing:read"),
            Some(json!({"effect": "deny"})),
        ),
        (
            Method::DELETE,
            format!("/users/{uid}/overrides/billing:read"),
            None,
        ),
        (
            Method::GET,
            format!("/users/{uid}/effective-permissions"),
            None,
        ),
    ];
    assert_refused(&s, &cases).await;
    let (_, list) = s.get(&format!("/users/{uid}/overrides")).await;
    assert_eq!(list["items"][0]["effect"], "grant");
}

backends!(
    override_crud,
    owner_cannot_be_denied_castellan_permissions,
    effective_permissions_are_explained,
    account_role_counts_only_while_membership_is_current,
    manager_cannot_grant_overrides_they_lack,
    override_endpoints_refuse_members_and_other_tenants,
);
