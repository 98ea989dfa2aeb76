//! The rule of power holds at write time (issue 12 §1, time of check against time of use): a
//! caller's write on a user races that user's promotion to Administrator. The store checks the
//! rule again inside the write transaction, under the user's row lock, so a write that succeeds
//! was committed before the promotion, never after it.

use crate::backends;
use crate::common::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ROUNDS: usize = 36;

/// An RFC 3339 instant as (seconds part, milliseconds), comparable: the server trims trailing
/// zeros of the fraction (`.39Z` is 390 ms).
fn instant(at: &str) -> (String, u32) {
    let at = at.trim_end_matches('Z');
    let (secs, frac) = at.split_once('.').unwrap_or((at, ""));
    let ms = format!("{frac:0<3}")[..3].parse().unwrap();
    (secs.to_owned(), ms)
}

/// The latest audit entry of `action`: its id and instant.
async fn latest(s: &TestServer, action: &str) -> Option<(String, (String, u32))> {
    let (st, log) = s.get(&format!("/audit?action={action}&limit=1")).await;
    assert_eq!(st, StatusCode::OK, "{log}");
    log["items"].as_array().and_then(|a| a.first()).map(|e| {
        (
            e["id"].as_str().unwrap().to_owned(),
            instant(e["at"].as_str().unwrap()),
        )
    })
}

/// The writes on a user that the rule of power governs, each with its audit action.
const WRITES: &[&str] = &[
    "user.update",
    "user.password.set",
    "user.mfa.reset",
    "override.set",
    "token.create",
    "group.member_add",
];

/// The request of `write` on user `id`: method, path, body.
fn write_request(write: &str, id: &str, group: &str, round: usize) -> (Method, String, Value) {
    match write {
        "user.update" => (
            Method::PATCH,
            format!("/users/{id}"),
            json!({"display_name": format!("renamed {round}")}),
        ),
        "user.password.set" => (
            Method::PUT,
            format!("/users/{id}/password"),
            json!({"password": format!("correct horse battery {round}")}),
        ),
        "user.mfa.reset" => (
            Method::POST,
            format!("/users/{id}/factors/reset"),
            json!({}),
        ),
        "override.set" => (
            Method::PUT,
            format!("/users/{id}/overrides/castellan:users.read"),
            json!({"effect": "grant"}),
        ),
        "token.create" => (
            Method::POST,
            "/tokens".into(),
            json!({"name": format!("as target {round}"), "user_id": id}),
        ),
        _ => (
            Method::PUT,
            format!("/groups/{group}/members/{id}"),
            json!({}),
        ),
    }
}

/// Every kind of write on a user races that user's promotion, round after round: a write that
/// succeeds was committed no later than the promotion, a refused one left no trace.
async fn promotion_races_a_write(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, role) = s
        .post(
            "/roles",
            json!({"name": "User admin", "permissions": [
                "castellan:users.read", "castellan:users.write", "castellan:groups.read",
                "castellan:groups.write", "castellan:tokens.manage"
            ]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{role}");
    let (st, caller) = s
        .post(
            "/users",
            json!({"email": "helpdesk@example.com", "status": "active", "role_ids": [role["id"]]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{caller}");
    let (st, group) = s.post("/groups", json!({"display_name": "Staff"})).await;
    assert_eq!(st, StatusCode::CREATED, "{group}");
    let group = group["id"].as_str().unwrap().to_owned();
    let token = s.token_for("acme", caller["id"].as_str().unwrap()).await;
    let admin = s.role_id("administrator").await;
    let mut outcomes = std::collections::BTreeMap::<&str, (u32, u32)>::new();
    for round in 0..ROUNDS {
        let write = WRITES[round % WRITES.len()];
        let (st, t) = s
            .post(
                "/users",
                json!({"email": format!("target{round}@example.com"), "status": "active"}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{t}");
        let id = t["id"].as_str().unwrap().to_owned();
        let before = latest(&s, write).await.map(|(id, _)| id);
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let request = |tok: &str, method: Method, path: String, body: Value| {
            let req = s
                .client
                .request(method, s.url(&path))
                .bearer_auth(tok)
                .json(&body);
            let barrier = barrier.clone();
            async move {
                barrier.wait().await;
                let res = req.send().await.unwrap();
                let st = res.status();
                (st, res.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        let promote = request(
            &s.token,
            Method::POST,
            format!("/users/{id}/roles"),
            json!({"role_id": admin}),
        );
        let (method, path, body) = write_request(write, &id, &group, round);
        let attempt = request(&token, method, path, body);
        let ((p, pv), (w, wv)) = tokio::join!(promote, attempt);
        assert_eq!(p, StatusCode::CREATED, "{pv}");
        let (_, promoted) = latest(&s, "role.assign").await.unwrap();
        let counts = outcomes.entry(write).or_default();
        if w.is_success() {
            counts.0 += 1;
            let (written_id, written) = latest(&s, write).await.unwrap();
            assert_ne!(
                Some(&written_id),
                before.as_ref(),
                "round {round}: {write} audited"
            );
            assert!(
                written <= promoted,
                "round {round}: {write} landed at {written:?}, after the promotion at {promoted:?}"
            );
        } else {
            assert_eq!(w, StatusCode::FORBIDDEN, "round {round}: {write}: {wv}");
            counts.1 += 1;
            assert_eq!(
                latest(&s, write).await.map(|(id, _)| id),
                before,
                "round {round}: a refused {write} left an audit entry"
            );
        }
    }
    eprintln!("promotion against a write (won, refused): {outcomes:?}");
}

backends!(promotion_races_a_write);
