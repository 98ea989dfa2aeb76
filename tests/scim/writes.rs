//! Issue 13 §9: writes without `If-Match` never get 412. N directories writing at once (user
//! and group updates in parallel, as Entra ID sends them) all get their change in, on every
//! SCIM write path; none is refused (412, 409, 500) and none is lost.

use crate::common::Backend;
use crate::{Scim, backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const N: usize = 20;
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// Sends every request at once (after a barrier); answers (status, body) in order.
async fn all_at_once(s: &Scim, reqs: Vec<(Method, String, Value)>) -> Vec<(StatusCode, Value)> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(reqs.len()));
    let tasks: Vec<_> = reqs
        .into_iter()
        .map(|(method, path, body)| {
            let (client, url, token) = (s.srv.client.clone(), s.url(&path), s.token.clone());
            let barrier = barrier.clone();
            tokio::spawn(async move {
                let mut req = client.request(method, url).bearer_auth(token);
                if !body.is_null() {
                    req = req
                        .header("content-type", "application/scim+json")
                        .body(body.to_string());
                }
                barrier.wait().await;
                let res = req.send().await.unwrap();
                let st = res.status();
                let text = res.text().await.unwrap();
                (st, serde_json::from_str(&text).unwrap_or(Value::Null))
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

fn patch(ops: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": ops})
}

fn all_ok(answers: &[(StatusCode, Value)], want: StatusCode, what: &str) {
    for (st, v) in answers {
        assert_eq!(*st, want, "{what}: {v}");
    }
}

fn phones(user: &Value) -> Vec<String> {
    let mut p: Vec<String> = user["phoneNumbers"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v["value"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    p.sort();
    p
}

/// PATCH adds of distinct phone numbers, racing with group PATCHes that add and remove the
/// same user (which changes the user's groups and version): every number is there afterwards.
async fn user_and_group_patches_race(b: Backend) {
    let s = Scim::start(b).await;
    let id = s.user(json!({"userName": "entra@example.com"})).await;
    let upath = format!("/Users/{id}");
    // One group per writer: the first half gains the user, the second half (members before
    // the race) loses them.
    let mut groups = Vec::new();
    for i in 0..N {
        let members = if i < N / 2 {
            json!([])
        } else {
            json!([{"value": id}])
        };
        let g = s
            .post(
                "/Groups",
                json!({"displayName": format!("g{i}"), "members": members}),
            )
            .await;
        groups.push(format!("/Groups/{}", g.body["id"].as_str().unwrap()));
    }
    let mut reqs = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let phone = format!("+1 555 01{i:02}");
        reqs.push((
            Method::PATCH,
            upath.clone(),
            patch(json!([{"op": "add", "path": "phoneNumbers", "value": [{"value": phone, "type": "work"}]}])),
        ));
        let op = if i < N / 2 {
            json!([{"op": "add", "path": "members", "value": [{"value": id}]}])
        } else {
            json!([{"op": "remove", "path": format!("members[value eq \"{id}\"]")}])
        };
        reqs.push((Method::PATCH, g.clone(), patch(op)));
    }
    let answers = all_at_once(&s, reqs).await;
    for (st, v) in &answers {
        assert!(
            *st == StatusCode::OK || *st == StatusCode::NO_CONTENT,
            "{st}: {v}"
        );
    }
    let u = s.get(&upath).await.body;
    let want: Vec<String> = (0..N).map(|i| format!("+1 555 01{i:02}")).collect();
    assert_eq!(phones(&u), want, "no number lost: {u}");
    assert_eq!(u["groups"].as_array().map(Vec::len), Some(N / 2), "{u}");
}

/// PUT of one user and of one group by N writers: all 200, the stored one is one of theirs.
/// Then DELETE of distinct users and groups at once: all 204.
async fn puts_and_deletes_race(b: Backend) {
    let s = Scim::start(b).await;
    let id = s.user(json!({"userName": "put@example.com"})).await;
    let g = s.post("/Groups", json!({"displayName": "P"})).await;
    let gid = g.body["id"].as_str().unwrap().to_owned();
    let mut reqs = Vec::new();
    for i in 0..N {
        reqs.push((
            Method::PUT,
            format!("/Users/{id}"),
            json!({"userName": "put@example.com", "title": format!("t{i}")}),
        ));
        reqs.push((
            Method::PUT,
            format!("/Groups/{gid}"),
            json!({"displayName": format!("P{i}"), "members": [{"value": id}]}),
        ));
    }
    all_ok(&all_at_once(&s, reqs).await, StatusCode::OK, "PUT");
    let u = s.get(&format!("/Users/{id}")).await.body;
    assert!(u["title"].as_str().unwrap().starts_with('t'), "{u}");
    assert_eq!(u["groups"].as_array().map(Vec::len), Some(1), "{u}");
    let mut users = Vec::new();
    let mut reqs = Vec::new();
    for i in 0..N {
        let u = s
            .user(json!({"userName": format!("d{i}@example.com")}))
            .await;
        let g = s
            .post(
                "/Groups",
                json!({"displayName": format!("D{i}"), "members": [{"value": u}]}),
            )
            .await;
        reqs.push((Method::DELETE, format!("/Users/{u}"), Value::Null));
        reqs.push((
            Method::DELETE,
            format!("/Groups/{}", g.body["id"].as_str().unwrap()),
            Value::Null,
        ));
        users.push(u);
    }
    all_ok(
        &all_at_once(&s, reqs).await,
        StatusCode::NO_CONTENT,
        "DELETE",
    );
    for u in users {
        assert_eq!(
            s.get(&format!("/Users/{u}")).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

/// Bulk requests at once, each patching the same user and the same group: every operation
/// is 200 and every change is there.
async fn bulks_race(b: Backend) {
    let s = Scim::start(b).await;
    let id = s.user(json!({"userName": "bulk@example.com"})).await;
    let g = s.post("/Groups", json!({"displayName": "B"})).await;
    let gid = g.body["id"].as_str().unwrap().to_owned();
    let mut members = Vec::new();
    for i in 0..N {
        members.push(
            s.user(json!({"userName": format!("b{i}@example.com")}))
                .await,
        );
    }
    let reqs = (0..N)
        .map(|i| {
            let phone = format!("+44 20 7946 0{i:03}");
            let body = json!({"schemas": [BULK], "Operations": [
                {"method": "PATCH", "path": format!("/Users/{id}"), "data": patch(json!([
                    {"op": "add", "path": "phoneNumbers", "value": [{"value": phone}]}]))},
                {"method": "PATCH", "path": format!("/Groups/{gid}"), "data": patch(json!([
                    {"op": "add", "path": "members", "value": [{"value": members[i]}]}]))},
            ]});
            (Method::POST, "/Bulk".to_owned(), body)
        })
        .collect();
    for (st, v) in all_at_once(&s, reqs).await {
        assert_eq!(st, StatusCode::OK, "{v}");
        for op in v["Operations"].as_array().unwrap() {
            assert_eq!(op["status"], "200", "{v}");
        }
    }
    let u = s.get(&format!("/Users/{id}")).await.body;
    assert_eq!(phones(&u).len(), N, "{u}");
    let g = s.get(&format!("/Groups/{gid}")).await.body;
    assert_eq!(g["members"].as_array().map(Vec::len), Some(N), "{g}");
}

/// Issue 12 §2: directory password writes hash in a place of the bounded queue. With every
/// place taken (as by a flood of sign-ins), a SCIM create, PUT, PATCH or Bulk that carries a
/// password gets 503 with `Retry-After`, in SCIM's error format, and changes nothing, as does the
/// admin API's password write (problem+json); writes without a password go on. Once a place is
/// free the same requests succeed.
async fn password_writes_past_a_full_hash_queue_get_503(b: Backend) {
    let s = Scim::start_with(b, |c| c.sign_in.hash_queue = 1).await;
    let id = s.user(json!({"userName": "ada"})).await;
    let path = format!("/Users/{id}");
    let before = s.get(&path).await.body;
    let secret = "a directory-set passphrase 42";
    let writes = || {
        vec![
            (
                Method::POST,
                "/Users".to_owned(),
                json!({"schemas": [USER], "userName": "bob", "password": secret}),
            ),
            (
                Method::PUT,
                path.clone(),
                json!({"schemas": [USER], "userName": "ada", "password": secret}),
            ),
            (
                Method::PATCH,
                path.clone(),
                json!({"schemas": [PATCH_OP], "Operations": [
                    {"op": "replace", "path": "password", "value": secret}]}),
            ),
        ]
    };
    let held = s.srv.hash_queue.enter().unwrap();
    for (method, p, body) in writes() {
        let a = s.send(method.clone(), &p, Some(body), &[]).await;
        assert_eq!(
            a.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{method} {p}: {}",
            a.body
        );
        assert_eq!(a.body["status"], "503", "{}", a.body);
        let retry = a.headers.get("retry-after").and_then(|v| v.to_str().ok());
        assert!(
            retry.is_some_and(|r| r.parse::<u32>().is_ok()),
            "{method} {p}: {retry:?}"
        );
    }
    let bulk = s
        .post(
            "/Bulk",
            json!({"schemas": [BULK], "Operations": [{"method": "POST", "path": "/Users",
                   "bulkId": "b1", "data": {"schemas": [USER], "userName": "carol", "password": secret}}]}),
        )
        .await;
    assert_eq!(bulk.body["Operations"][0]["status"], "503", "{}", bulk.body);
    let (st, v) = s
        .srv
        .put(
            &format!("/users/{id}/password"),
            json!({"password": secret}),
        )
        .await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(s.get(&path).await.body, before, "nothing changed");
    for name in ["bob", "carol"] {
        let found = s
            .get(&format!("/Users?filter=userName%20eq%20%22{name}%22"))
            .await;
        assert_eq!(found.body["totalResults"], 0, "{name} was not created");
    }
    // Writes without a password do not need a place.
    let a = s
        .patch(
            &path,
            json!([{"op": "replace", "path": "title", "value": "Engineer"}]),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    drop(held);
    for (method, p, body) in writes() {
        let a = s.send(method.clone(), &p, Some(body), &[]).await;
        assert!(
            a.status.is_success(),
            "{method} {p}: {} {}",
            a.status,
            a.body
        );
    }
}

backends!(
    password_writes_past_a_full_hash_queue_get_503,
    user_and_group_patches_race,
    puts_and_deletes_race,
    bulks_race
);
