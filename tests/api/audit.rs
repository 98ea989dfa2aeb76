//! `/audit`: what changed, who did it, before and after, from where; filters and paging.

use crate::backends;
use crate::common::{Backend, TestServer};
use crate::tokens::assert_outsiders_refused;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().unwrap()
}

async fn user_changes_are_recorded(b: Backend) {
    let s = TestServer::start(b).await;
    let (_, tokens) = s.get("/tokens").await;
    let token_id = tokens[0]["id"].as_str().unwrap().to_owned();
    let u = s.create_user("ann@example.com").await;
    let id = u["id"].as_str().unwrap();
    let (st, _) = s
        .patch(&format!("/users/{id}"), json!({"given_name": "Ann"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = s.post(&format!("/users/{id}/deactivate"), json!({})).await;
    assert_eq!(st, StatusCode::OK);

    let (st, log) = s.get(&format!("/audit?target_id={id}")).await;
    assert_eq!(st, StatusCode::OK, "{log}");
    let actions: Vec<&str> = items(&log)
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["user.deactivate", "user.update", "user.create"],
        "newest first"
    );
    for e in items(&log) {
        assert_eq!(e["actor_kind"], "token", "{e}");
        assert_eq!(e["actor_id"], token_id.as_str());
        assert_eq!(e["actor_label"], "API token test");
        assert_eq!(e["ip"], "127.0.0.1");
        assert_eq!(e["target_kind"], "user");
        assert!(e["at"].as_str().unwrap().ends_with('Z'), "{e}");
    }
    let [deactivate, update, create] = &items(&log)[..] else {
        panic!("{log}")
    };
    assert!(create["before"].is_null());
    assert_eq!(create["after"]["email"], "ann@example.com");
    assert!(update["before"]["given_name"].is_null());
    assert_eq!(update["after"]["given_name"], "Ann");
    assert_eq!(deactivate["before"]["status"], "invited");
    assert_eq!(deactivate["after"]["status"], "inactive");

    let (_, only) = s
        .get(&format!("/audit?action=user.update&target_id={id}"))
        .await;
    assert_eq!(items(&only).len(), 1, "{only}");
    let (_, by_actor) = s
        .get(&format!(
            "/audit?actor_id={token_id}&target_kind=user&limit=1000"
        ))
        .await;
    assert!(items(&by_actor).len() >= 3);
    assert!(
        items(&by_actor)
            .iter()
            .all(|e| e["actor_id"] == token_id.as_str())
    );
}

async fn filters_and_paging(b: Backend) {
    let s = TestServer::start(b).await;
    for i in 0..5 {
        s.create_user(&format!("p{i}@example.com")).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/audit?action=user.create&limit=2&cursor={c}"),
            None => "/audit?action=user.create&limit=2".to_owned(),
        };
        let (st, page) = s.get(&path).await;
        assert_eq!(st, StatusCode::OK, "{page}");
        assert!(items(&page).len() <= 2);
        seen.extend(
            items(&page)
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6, "five users and the owner: {seen:?}");
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first, no repeats");
    sorted.dedup();
    assert_eq!(sorted.len(), 6);

    let (_, all) = s
        .get("/audit?since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00%2B02:00")
        .await;
    assert!(items(&all).len() >= 6);
    for path in [
        "/audit?since=2999-01-01T00:00:00Z",
        "/audit?until=2000-01-01T00:00:00Z",
    ] {
        let (st, page) = s.get(path).await;
        assert_eq!(st, StatusCode::OK);
        assert!(items(&page).is_empty(), "{path}: {page}");
    }
    for path in [
        "/audit?since=yesterday",
        "/audit?until=2024-01-01",
        "/audit?limit=0",
        "/audit?limit=1001",
        "/audit?cursor=garbage",
    ] {
        let (st, e) = s.get(path).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {e}");
    }
    for path in ["/audit?limit=many", "/audit?colour=red"] {
        let (st, e) = s.get(path).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{path}: {e}");
    }
}

async fn a_user_token_is_recorded_as_the_user(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, admin) = s
        .post(
            "/users",
            json!({"email": "admin@example.com", "role_ids": [s.role_id("administrator").await]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{admin}");
    let admin_id = admin["id"].as_str().unwrap();
    let token = s.token_for("acme", admin_id).await;
    let url = s.url("/users");
    let (st, u) = s
        .call_as(
            &token,
            Method::POST,
            &url,
            Some(json!({"email": "made@example.com"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{u}");
    let (_, log) = s
        .get(&format!(
            "/audit?action=user.create&target_id={}",
            u["id"].as_str().unwrap()
        ))
        .await;
    let e = &items(&log)[0];
    assert_eq!(e["actor_kind"], "user", "{e}");
    assert_eq!(e["actor_id"], admin_id);
    assert!(
        e["actor_label"]
            .as_str()
            .unwrap()
            .contains("admin@example.com")
    );
    let (_, mine) = s.get(&format!("/audit?actor_id={admin_id}")).await;
    assert_eq!(items(&mine).len(), 1, "{mine}");
}

async fn settings_and_token_changes_are_recorded(b: Backend) {
    let s = TestServer::start(b).await;
    s.post(
        "/attributes",
        json!({"key": "site", "label": "Site", "kind": "text"}),
    )
    .await;
    s.patch("/attributes/site", json!({"label": "Office"}))
        .await;
    s.delete("/attributes/site").await;
    s.post("/notification-types", json!({"key": "custom"}))
        .await;
    s.delete("/notification-types/custom").await;
    let (_, t) = s.post("/tokens", json!({"name": "temp"})).await;
    s.delete(&format!("/tokens/{}", t["id"].as_str().unwrap()))
        .await;
    // The harness's own token was made by the CLI: two token.create entries.
    for (action, kind, before, after, count) in [
        ("attribute.create", "attribute", false, true, 1),
        ("attribute.update", "attribute", true, true, 1),
        ("attribute.delete", "attribute", true, false, 1),
        (
            "notification_type.create",
            "notification_type",
            false,
            true,
            1,
        ),
        (
            "notification_type.delete",
            "notification_type",
            true,
            false,
            1,
        ),
        ("token.create", "token", false, true, 2),
        ("token.revoke", "token", true, true, 1),
    ] {
        let (_, log) = s.get(&format!("/audit?action={action}")).await;
        assert_eq!(items(&log).len(), count, "{action}: {log}");
        let e = &items(&log)[0];
        assert_eq!(e["target_kind"], kind);
        assert_eq!(!e["before"].is_null(), before, "{e}");
        assert_eq!(!e["after"].is_null(), after, "{e}");
    }
    let (_, upd) = s.get("/audit?action=attribute.update").await;
    assert_eq!(items(&upd)[0]["before"]["label"], "Site");
    assert_eq!(items(&upd)[0]["after"]["label"], "Office");
    let (_, created) = s.get("/audit?action=token.create").await;
    let text = created.to_string();
    assert!(
        !text.contains(t["token"].as_str().unwrap()),
        "no secret in the log"
    );
}

async fn outsiders_are_refused(b: Backend) {
    let s = TestServer::start(b).await;
    assert_outsiders_refused(&s, &[(Method::GET, "/audit".into(), None)]).await;
}

backends!(
    user_changes_are_recorded,
    filters_and_paging,
    a_user_token_is_recorded_as_the_user,
    settings_and_token_changes_are_recorded,
    outsiders_are_refused,
);
