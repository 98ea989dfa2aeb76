//! `/users`: create, read, list, update, lifecycle, ownership.

use crate::backends;
use crate::common::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn create_read_update_user(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, u) = s
        .post(
            "/users",
            json!({"email": "Ann@Example.com", "given_name": "Ann"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{u}");
    assert_eq!(u["status"], "invited");
    assert_eq!(u["username"], "Ann@Example.com");
    let id = u["id"].as_str().unwrap();
    let (st, got) = s.get(&format!("/users/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(got["given_name"], "Ann");
    let (st, upd) = s
        .patch(
            &format!("/users/{id}"),
            json!({"family_name": "Smith", "given_name": null}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{upd}");
    assert_eq!(upd["family_name"], "Smith");
    assert!(upd["given_name"].is_null());
    assert_eq!(upd["version"], 2);
    let (st, e) = s.post("/users", json!({"email": "ann@example.com"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    assert!(e["detail"].as_str().unwrap().contains("email"), "{e}");
}

async fn bad_input_is_problem_json_and_changes_nothing(b: Backend) {
    let s = TestServer::start(b).await;
    let u = s.create_user("bob@example.com").await;
    let id = u["id"].as_str().unwrap();
    for (body, status) in [
        (
            json!({"email": "not-an-email"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"email": "x@example.com", "unknown": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"email": 42}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({"email": "x@example.com", "status": "inactive"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"email": "x@example.com", "account_id": "nope"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"email": "x@example.com", "attributes": {"undefined": 1}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (st, e) = s.post("/users", body.clone()).await;
        assert_eq!(st, status, "{body} -> {e}");
        assert!(e["detail"].is_string());
    }
    let res = s
        .client
        .post(s.url("/users"))
        .bearer_auth(&s.token)
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let (st, _) = s
        .patch(&format!("/users/{id}"), json!({"email": "broken"}))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = s.get("/users/00000000-0000-0000-0000-000000000000").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, list) = s.get("/users").await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        2,
        "only the owner and bob: {list}"
    );
    let (_, got) = s.get(&format!("/users/{id}")).await;
    assert_eq!(got["email"], "bob@example.com");
    assert_eq!(got["version"], 1);
}

async fn lifecycle_and_owner_protection(b: Backend) {
    let s = TestServer::start(b).await;
    let u = s.create_user("carol@example.com").await;
    let id = u["id"].as_str().unwrap();
    let (st, v) = s.post(&format!("/users/{id}/activate"), json!({})).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("active")));
    let (st, v) = s.post(&format!("/users/{id}/deactivate"), json!({})).await;
    assert_eq!(
        (st, v["status"].as_str()),
        (StatusCode::OK, Some("inactive"))
    );
    let (st, _) = s.post(&format!("/users/{id}/deactivate"), json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, v) = s.post(&format!("/users/{id}/reactivate"), json!({})).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("active")));

    let (st, owner) = s.get("/owner").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(owner["is_owner"], true);
    let oid = owner["id"].as_str().unwrap();
    for action in ["deactivate", "anonymise"] {
        let (st, e) = s.post(&format!("/users/{oid}/{action}"), json!({})).await;
        assert_eq!(st, StatusCode::CONFLICT, "{action}: {e}");
    }
    let (st, _) = s.delete(&format!("/users/{oid}")).await;
    assert_eq!(st, StatusCode::CONFLICT);

    // Transfer to carol (active): she becomes owner, the old owner can now be deactivated.
    let (st, t) = s.post("/owner/transfer", json!({"user_id": id})).await;
    assert_eq!(st, StatusCode::OK, "{t}");
    let (_, owner) = s.get("/owner").await;
    assert_eq!(owner["id"], id);
    let (st, _) = s.post(&format!("/users/{oid}/deactivate"), json!({})).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s.delete(&format!("/users/{id}")).await;
    assert_eq!(st, StatusCode::CONFLICT);
}

async fn delete_and_anonymise(b: Backend) {
    let s = TestServer::start(b).await;
    let d = s.create_user("dave@example.com").await;
    let did = d["id"].as_str().unwrap();
    let (st, _) = s.delete(&format!("/users/{did}")).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.get(&format!("/users/{did}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    let e = s.create_user("erin@example.com").await;
    let eid = e["id"].as_str().unwrap();
    let (st, a) = s.post(&format!("/users/{eid}/anonymise"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{a}");
    assert_eq!(a["id"], eid);
    assert_eq!(a["status"], "anonymised");
    assert!(!a["email"].as_str().unwrap().contains("erin"));
    let (st, _) = s.post(&format!("/users/{eid}/reactivate"), json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    // The email is free again.
    s.create_user("erin@example.com").await;
}

async fn list_search_and_paging(b: Backend) {
    let s = TestServer::start(b).await;
    for i in 0..7 {
        s.create_user(&format!("user{i}@alpha.test")).await;
    }
    s.create_user("zed@beta.test").await;
    let (_, page1) = s.get("/users?email_prefix=USER&limit=3").await;
    let items = page1["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["email"], "user0@alpha.test");
    let cursor = page1["next_cursor"].as_str().unwrap();
    let (_, page2) = s
        .get(&format!("/users?email_prefix=user&limit=3&cursor={cursor}"))
        .await;
    assert_eq!(page2["items"][0]["email"], "user3@alpha.test");
    let c2 = page2["next_cursor"].as_str().unwrap();
    let (_, page3) = s
        .get(&format!("/users?email_prefix=user&limit=3&cursor={c2}"))
        .await;
    assert_eq!(page3["items"].as_array().unwrap().len(), 1);
    assert!(page3["next_cursor"].is_null());
    let (_, q) = s.get("/users?q=beta").await;
    assert_eq!(q["items"].as_array().unwrap().len(), 1);
    let (_, st) = s.get("/users?status=invited&limit=1000").await;
    assert_eq!(st["items"].as_array().unwrap().len(), 9);
    let (code, _) = s.get("/users?limit=0").await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    let (code, _) = s.get("/users?status=sleeping").await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    let (code, _) = s.get("/users?cursor=garbage!").await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn if_match_guards_updates(b: Backend) {
    let s = TestServer::start(b).await;
    let u = s.create_user("fay@example.com").await;
    let url = s.url(&format!("/users/{}", u["id"].as_str().unwrap()));
    let res = s
        .client
        .get(&url)
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["etag"], "W/\"1\"");
    let stale = s
        .client
        .patch(&url)
        .bearer_auth(&s.token)
        .header("if-match", "W/\"7\"")
        .json(&json!({"given_name": "F"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);
    let ok = s
        .client
        .patch(&url)
        .bearer_auth(&s.token)
        .header("if-match", "W/\"1\"")
        .json(&json!({"given_name": "F"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.headers()["etag"], "W/\"2\"");
}

/// Every users/owner endpoint: a Member's token gets 403, another tenant's token 404, and
/// nothing changes.
async fn access_is_checked_on_every_endpoint(b: Backend) {
    let s = TestServer::start(b).await;
    let member = s.create_user("member@example.com").await;
    let target = s.create_user("target@example.com").await;
    let (mid, tid) = (
        member["id"].as_str().unwrap(),
        target["id"].as_str().unwrap(),
    );
    let member_token = s.token_for("acme", mid).await;
    let other_token = s.other_tenant("other").await;
    let calls: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (Method::GET, "/users".into(), None),
        (
            Method::POST,
            "/users".into(),
            Some(json!({"email": "new@example.com"})),
        ),
        (Method::GET, format!("/users/{tid}"), None),
        (
            Method::PATCH,
            format!("/users/{tid}"),
            Some(json!({"given_name": "X"})),
        ),
        (Method::DELETE, format!("/users/{tid}"), None),
        (Method::POST, format!("/users/{tid}/activate"), None),
        (Method::POST, format!("/users/{tid}/deactivate"), None),
        (Method::POST, format!("/users/{tid}/reactivate"), None),
        (Method::POST, format!("/users/{tid}/anonymise"), None),
        (Method::GET, "/owner".into(), None),
        (
            Method::POST,
            "/owner/transfer".into(),
            Some(json!({"user_id": tid})),
        ),
    ];
    for (method, path, body) in calls {
        let url = s.url(&path);
        let (st, e) = s
            .call_as(&member_token, method.clone(), &url, body.clone())
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "member {method} {path}: {e}");
        let (st, e) = s
            .call_as(&other_token, method.clone(), &url, body.clone())
            .await;
        assert_eq!(
            st,
            StatusCode::NOT_FOUND,
            "other tenant {method} {path}: {e}"
        );
        let (st, _) = s
            .call_as("cst_not-a-token", method.clone(), &url, body)
            .await;
        assert_eq!(
            st,
            StatusCode::UNAUTHORIZED,
            "no valid token {method} {path}"
        );
    }
    let (_, t) = s.get(&format!("/users/{tid}")).await;
    assert_eq!(
        (t["status"].as_str(), t["version"].as_i64()),
        (Some("invited"), Some(1))
    );
    let (_, list) = s.get("/users").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    let (_, owner) = s.get("/owner").await;
    assert_eq!(owner["email"], "owner@acme.test");
}

/// Every order pages completely: for generated filters, orders and page sizes, following the
/// cursors gives each matching user exactly once, in the order asked for (creation instants
/// that tie are allowed in any order), and the same users as the reference (all users,
/// filtered here).
async fn every_sort_pages_completely(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, v) = s
        .post("/accounts", json!({"name": "Sorted", "kind": "customer"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let account = v["id"].as_str().unwrap().to_owned();
    let mut made = vec![];
    for batch in 0..6 {
        for i in 0..8 {
            let email = format!("p{}{batch}{i}@sort.test", ["a", "b", "c"][i % 3]);
            made.push(s.create_user(&email).await);
        }
    }
    for u in made.iter().step_by(3) {
        let (st, v) = s
            .post(
                &format!("/users/{}/memberships", u["id"].as_str().unwrap()),
                json!({"account_id": account}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let (_, all) = s.get("/users?limit=1000").await;
    let all = all["items"].as_array().unwrap().clone();
    let mut rng = crate::power::Rng(0x005e_ed0f_5027);
    for case in 0..40 {
        let sort = ["email", "created", "-created"][rng.below(3)];
        let prefix = ["", "pa", "pb", "pc1", "owner"][rng.below(5)];
        let in_account = rng.below(3) == 0;
        let limit = 1 + rng.below(13);
        let mut url = format!("/users?sort={sort}&limit={limit}");
        if !prefix.is_empty() {
            url += &format!("&email_prefix={prefix}");
        }
        if in_account {
            url += &format!("&account_id={account}");
        }
        let mut seen: Vec<serde_json::Value> = vec![];
        let mut cursor: Option<String> = None;
        loop {
            let page_url = match &cursor {
                Some(c) => format!("{url}&cursor={c}"),
                None => url.clone(),
            };
            let (st, page) = s.get(&page_url).await;
            assert_eq!(st, StatusCode::OK, "case {case}: {page_url}: {page}");
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= limit, "case {case}");
            seen.extend(items.iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => {
                    assert_eq!(items.len(), limit, "a full page before a next one");
                    cursor = Some(c.to_owned());
                }
                None => break,
            }
            assert!(seen.len() <= all.len(), "case {case}: no end");
        }
        let member_ids: std::collections::HashSet<String> = made
            .iter()
            .step_by(3)
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .collect();
        let mut expected: Vec<String> = all
            .iter()
            .filter(|u| u["email"].as_str().unwrap().starts_with(prefix))
            .filter(|u| !in_account || member_ids.contains(u["id"].as_str().unwrap()))
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .collect();
        let mut got: Vec<String> = seen
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .collect();
        let keys: Vec<String> = seen
            .iter()
            .map(|u| {
                let field = if sort == "email" {
                    "email"
                } else {
                    "created_at"
                };
                u[field].as_str().unwrap().to_owned()
            })
            .collect();
        for w in keys.windows(2) {
            match sort {
                "-created" => assert!(w[0] >= w[1], "case {case} {url}: {keys:?}"),
                _ => assert!(w[0] <= w[1], "case {case} {url}: {keys:?}"),
            }
        }
        let n = got.len();
        got.sort();
        got.dedup();
        assert_eq!(got.len(), n, "case {case} {url}: a user twice");
        expected.sort();
        assert_eq!(got, expected, "case {case} {url}");
    }
    // A cursor of one order is not taken for another's key, and a forged one is refused.
    let (_, page) = s.get("/users?sort=email&limit=2").await;
    let email_cursor = page["next_cursor"].as_str().unwrap();
    let (st, v) = s
        .get(&format!("/users?sort=created&cursor={email_cursor}"))
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "cursor");
    let (st, v) = s.get("/users?sort=name").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
}

backends!(
    every_sort_pages_completely,
    access_is_checked_on_every_endpoint,
    create_read_update_user,
    bad_input_is_problem_json_and_changes_nothing,
    lifecycle_and_owner_protection,
    delete_and_anonymise,
    list_search_and_paging,
    if_match_guards_updates,
);
