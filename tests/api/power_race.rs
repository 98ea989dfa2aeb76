//! The rule of power holds at write time (issue 12 §1, time of check against time of use): a
//! caller's write on a user races that user's promotion to Administrator. The store checks the
//! rule again inside the write transaction, under the user's row lock, so a write that succeeds
//! was committed before the promotion, never after it.

use crate::backends;
use crate::common::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ROUNDS: usize = 24;

/// An RFC 3339 instant as (seconds part, milliseconds), comparable: the server trims trailing
/// zeros of the fraction (`.39Z` is 390 ms).
fn instant(at: &str) -> (String, u32) {
    let at = at.trim_end_matches('Z');
    let (secs, frac) = at.split_once('.').unwrap_or((at, ""));
    let ms = format!("{frac:0<3}")[..3].parse().unwrap();
    (secs.to_owned(), ms)
}

/// The audit entry `action` on user `id`: its instant.
async fn at(s: &TestServer, id: &str, action: &str) -> Option<(String, u32)> {
    let (st, log) = s
        .get(&format!("/audit?target_id={id}&action={action}"))
        .await;
    assert_eq!(st, StatusCode::OK, "{log}");
    log["items"]
        .as_array()
        .and_then(|a| a.first())
        .map(|e| instant(e["at"].as_str().unwrap()))
}

async fn promotion_races_a_write(b: Backend) {
    let s = TestServer::start(b).await;
    let (st, role) = s
        .post(
            "/roles",
            json!({"name": "User admin", "permissions": ["castellan:users.read", "castellan:users.write"]}),
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
    let token = s.token_for("acme", caller["id"].as_str().unwrap()).await;
    let admin = s.role_id("administrator").await;
    let (mut won, mut refused) = (0, 0);
    for round in 0..ROUNDS {
        let (st, t) = s
            .post(
                "/users",
                json!({"email": format!("target{round}@example.com"), "status": "active"}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{t}");
        let id = t["id"].as_str().unwrap().to_owned();
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
        let write = request(
            &token,
            Method::PATCH,
            format!("/users/{id}"),
            json!({"display_name": format!("renamed {round}")}),
        );
        let ((p, pv), (w, wv)) = tokio::join!(promote, write);
        assert_eq!(p, StatusCode::CREATED, "{pv}");
        match w {
            StatusCode::OK => {
                won += 1;
                let promoted = at(&s, &id, "role.assign").await.unwrap();
                let written = at(&s, &id, "user.update").await.unwrap();
                assert!(
                    written <= promoted,
                    "round {round}: the write landed at {written:?}, after the promotion at {promoted:?}"
                );
            }
            StatusCode::FORBIDDEN => {
                refused += 1;
                assert_eq!(at(&s, &id, "user.update").await, None, "round {round}");
                let (_, after) = s.get(&format!("/users/{id}")).await;
                assert_ne!(after["display_name"], format!("renamed {round}"));
            }
            other => panic!("round {round}: {other} {wv}"),
        }
    }
    eprintln!("promotion against write: the write won {won} times, was refused {refused} times");
}

backends!(promotion_races_a_write);
