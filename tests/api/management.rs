//! `/users/{id}/management` and delegated administration through it, end to end.

use crate::accounts::create_account;
use crate::backends;
use crate::common::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Creates a user (optionally in `account`) and returns its id.
async fn user_in(s: &TestServer, email: &str, account: Option<&str>) -> String {
    let mut body = json!({ "email": email });
    if let Some(a) = account {
        body["account_id"] = json!(a);
    }
    let (st, u) = s.post("/users", body).await;
    assert_eq!(st, StatusCode::CREATED, "{u}");
    u["id"].as_str().unwrap().to_owned()
}

/// Makes `manager` manage a `kind` target; returns the relation's id.
async fn manage(s: &TestServer, manager: &str, kind: &str, id: &str) -> String {
    let (st, m) = s
        .post(
            &format!("/users/{manager}/management"),
            json!({ "kind": kind, "id": id }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    m["id"].as_str().unwrap().to_owned()
}

async fn management_crud(b: Backend) {
    let s = TestServer::start(b).await;
    let a = create_account(&s, "Alpha", "customer").await;
    let (_, g) = s.post("/account-groups", json!({"name": "G"})).await;
    let gid = g["id"].as_str().unwrap();
    let m = user_in(&s, "m@example.com", None).await;
    let u = user_in(&s, "u@example.com", None).await;
    let path = format!("/users/{m}/management");
    let (st, rel) = s.post(&path, json!({"kind": "account", "id": a})).await;
    assert_eq!(st, StatusCode::CREATED, "{rel}");
    assert_eq!(rel["target"], json!({"kind": "account", "id": a}));
    assert_eq!(rel["manager_id"], m.as_str());
    manage(&s, &m, "user", &u).await;
    manage(&s, &m, "account_group", gid).await;
    for (body, status, field) in [
        (
            json!({"kind": "account", "id": a}),
            StatusCode::CONFLICT,
            None,
        ),
        (
            json!({"kind": "account", "id": "nope"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("id"),
        ),
        (
            json!({"kind": "user", "id": "nope"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("id"),
        ),
        (
            json!({"kind": "account_group", "id": a}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("id"),
        ),
        (
            json!({"kind": "user", "id": m}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("id"),
        ),
        (
            json!({"kind": "planet", "id": a}),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        ),
        (
            json!({"kind": "account", "id": a, "x": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        ),
        (
            json!({"kind": "account"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        ),
    ] {
        let (st, e) = s.post(&path, body.clone()).await;
        assert_eq!(st, status, "{body} -> {e}");
        if let Some(f) = field {
            assert_eq!(e["field"], f, "{e}");
        }
    }
    let (st, list) = s.get(&path).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 3, "{list}");
    let rid = rel["id"].as_str().unwrap();
    let (st, _) = s.delete(&format!("{path}/{rid}")).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.delete(&format!("{path}/{rid}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s.delete(&format!("/users/{u}/management/{rid}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, list) = s.get(&path).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
    let (st, _) = s
        .post(
            "/users/00000000-0000-0000-0000-000000000000/management",
            json!({"kind": "account", "id": a}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, audit) = s.get(&format!("/audit?target_id={rid}")).await;
    assert_eq!(st, StatusCode::OK, "{audit}");
    let actions: BTreeSet<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        BTreeSet::from(["management.create", "management.delete"])
    );
}

/// The world of the delegated-administration test.
struct World {
    m: String,
    token: String,
    a: String,
    b: String,
    in_a: String,
    in_b: String,
    ended_in_a: String,
    in_grouped: String,
    direct: String,
}

/// Manager M manages account A, account group G (holding account C) and user `direct`.
async fn world(s: &TestServer) -> World {
    let a = create_account(s, "Alpha", "customer").await;
    let b = create_account(s, "Beta", "customer").await;
    let c = create_account(s, "Gamma", "provider").await;
    let (_, g) = s
        .post("/account-groups", json!({"name": "G", "account_ids": [c]}))
        .await;
    let (st, mu) = s
        .post(
            "/users",
            json!({"email": "m@example.com", "role_ids": [s.role_id("manager").await]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{mu}");
    let m = mu["id"].as_str().unwrap().to_owned();
    let in_a = user_in(s, "in-a@example.com", Some(&a)).await;
    let in_b = user_in(s, "in-b@example.com", Some(&b)).await;
    let ended_in_a = user_in(s, "ended@example.com", None).await;
    let (st, e) = s
        .post(
            &format!("/users/{ended_in_a}/memberships"),
            json!({"account_id": a, "end_date": "2001-01-01"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{e}");
    let in_grouped = user_in(s, "in-c@example.com", Some(&c)).await;
    let direct = user_in(s, "direct@example.com", None).await;
    manage(s, &m, "account", &a).await;
    manage(s, &m, "account_group", g["id"].as_str().unwrap()).await;
    manage(s, &m, "user", &direct).await;
    let token = s.token_for("acme", &m).await;
    World {
        m,
        token,
        a,
        b,
        in_a,
        in_b,
        ended_in_a,
        in_grouped,
        direct,
    }
}

async fn delegated_administration(b: Backend) {
    let s = TestServer::start(b).await;
    let w = world(&s).await;
    let as_m = |method: Method, path: String, body: Option<Value>| {
        let url = s.url(&path);
        let token = w.token.clone();
        let s = &s;
        async move { s.call_as(&token, method, &url, body).await }
    };
    for (user, expected) in [
        (&w.in_a, StatusCode::OK),
        (&w.in_grouped, StatusCode::OK),
        (&w.direct, StatusCode::OK),
        (&w.in_b, StatusCode::FORBIDDEN),
        (&w.ended_in_a, StatusCode::FORBIDDEN),
    ] {
        let (st, e) = as_m(Method::GET, format!("/users/{user}"), None).await;
        assert_eq!(st, expected, "GET {user}: {e}");
        let (st, e) = as_m(
            Method::PATCH,
            format!("/users/{user}"),
            Some(json!({"given_name": "X"})),
        )
        .await;
        assert_eq!(st, expected, "PATCH {user}: {e}");
    }
    let (st, list) = as_m(Method::GET, "/users?limit=1000".into(), None).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let seen: BTreeSet<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["id"].as_str())
        .collect();
    let expected = BTreeSet::from([w.in_a.as_str(), w.in_grouped.as_str(), w.direct.as_str()]);
    assert_eq!(seen, expected, "M lists only the users in scope");

    let (st, e) = as_m(
        Method::POST,
        "/users".into(),
        Some(json!({"email": "new-a@example.com", "account_id": w.a})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{e}");
    for body in [
        json!({"email": "new-b@example.com", "account_id": w.b}),
        json!({"email": "new-x@example.com"}),
    ] {
        let (st, e) = as_m(Method::POST, "/users".into(), Some(body.clone())).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{body} -> {e}");
    }
    let (_, all) = s.get("/users?email_prefix=new-&limit=1000").await;
    assert_eq!(
        all["items"].as_array().unwrap().len(),
        1,
        "refused creations saved nothing"
    );
}

async fn delegated_memberships_and_management(b: Backend) {
    let s = TestServer::start(b).await;
    let w = world(&s).await;
    let call = |method: Method, path: String, body: Option<Value>| {
        let url = s.url(&path);
        let token = w.token.clone();
        let s = &s;
        async move { s.call_as(&token, method, &url, body).await }
    };
    let (st, e) = call(
        Method::POST,
        format!("/users/{}/memberships", w.in_a),
        Some(json!({"account_id": w.b})),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "not M's account: {e}");
    let (st, m) = call(
        Method::POST,
        format!("/users/{}/memberships", w.direct),
        Some(json!({"account_id": w.a})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    let (st, list) = call(Method::GET, format!("/users/{}/memberships", w.in_a), None).await;
    assert_eq!(
        (st, list["items"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(1)),
        "{list}"
    );
    let (st, e) = call(Method::GET, format!("/users/{}/memberships", w.in_b), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");

    let (st, e) = call(
        Method::POST,
        format!("/users/{}/management", w.in_a),
        Some(json!({"kind": "account", "id": w.b})),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "a manager cannot make managers: {e}"
    );
    let (st, e) = call(Method::GET, format!("/users/{}/management", w.in_a), None).await;
    assert_eq!(st, StatusCode::OK, "{e}");
    let (st, accounts) = call(Method::GET, "/accounts".into(), None).await;
    assert_eq!(
        st,
        StatusCode::OK,
        "the Manager role reads accounts: {accounts}"
    );
    let (st, _) = call(
        Method::POST,
        "/accounts".into(),
        Some(json!({"name": "N", "kind": "customer"})),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    let (_, rels) = s.get(&format!("/users/{}/management", w.m)).await;
    let rel_a = rels["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["target"]["id"] == w.a.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (st, _) = s
        .delete(&format!("/users/{}/management/{rel_a}", w.m))
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, e) = call(Method::GET, format!("/users/{}", w.in_a), None).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "management ended: {e}");
}

async fn management_access_control(b: Backend) {
    let s = TestServer::start(b).await;
    let a = create_account(&s, "Alpha", "customer").await;
    let m = user_in(&s, "m@example.com", None).await;
    let rel = manage(&s, &m, "account", &a).await;
    let member = user_in(&s, "member@example.com", None).await;
    let member_token = s.token_for("acme", &member).await;
    let other = s.other_tenant("other").await;
    let list = format!("/users/{m}/management");
    let endpoints: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, list.clone(), None),
        (
            Method::POST,
            list.clone(),
            Some(json!({"kind": "user", "id": member})),
        ),
        (Method::DELETE, format!("{list}/{rel}"), None),
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
    let (_, rels) = s.get(&list).await;
    assert_eq!(
        rels["items"].as_array().unwrap().len(),
        1,
        "nothing changed: {rels}"
    );
}

backends!(
    management_crud,
    delegated_administration,
    delegated_memberships_and_management,
    management_access_control,
);
