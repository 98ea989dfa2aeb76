//! Conditional writes of users (issue 12 §3): of N writers sending the same `If-Match`, exactly
//! one wins and the others get 412; writes without `If-Match` never get 412 for a race; DELETE
//! honours `If-Match`; a foreign or non-UTF-8 `If-Match` is 412, never ignored.

use crate::backends;
use crate::common::{Backend, TestServer};
use reqwest::header::HeaderValue;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const WRITERS: usize = 20;

/// Sends one admin API request with an optional raw `If-Match`.
async fn send(
    s: &TestServer,
    method: Method,
    path: &str,
    body: Option<Value>,
    if_match: Option<&[u8]>,
) -> (StatusCode, Value) {
    let mut req = s.client.request(method, s.url(path)).bearer_auth(&s.token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    if let Some(v) = if_match {
        req = req.header("if-match", HeaderValue::from_bytes(v).unwrap());
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn new_user(s: &TestServer, email: &str) -> (String, String) {
    let res = s
        .client
        .post(s.url("/users"))
        .bearer_auth(&s.token)
        .json(&json!({"email": email, "status": "active"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let u: Value = res.json().await.unwrap();
    (u["id"].as_str().unwrap().to_owned(), etag)
}

/// Runs `WRITERS` requests at once; `make(i)` builds the i-th (method, path, body).
async fn race(
    s: &TestServer,
    if_match: Option<&str>,
    make: impl Fn(usize) -> (Method, String, Option<Value>),
) -> Vec<(usize, StatusCode, Value)> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(WRITERS));
    let mut tasks = Vec::new();
    for i in 0..WRITERS {
        let (method, path, body) = make(i);
        let (client, url, token) = (s.client.clone(), s.url(&path), s.token.clone());
        let (barrier, tag) = (barrier.clone(), if_match.map(str::to_owned));
        tasks.push(tokio::spawn(async move {
            let mut req = client.request(method, url).bearer_auth(token);
            if let Some(b) = body {
                req = req.json(&b);
            }
            if let Some(t) = tag {
                req = req.header("if-match", t);
            }
            barrier.wait().await;
            let res = req.send().await.unwrap();
            let st = res.status();
            let text = res.text().await.unwrap();
            (i, st, serde_json::from_str(&text).unwrap_or(Value::Null))
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// The one winner of a race; every other answer is one of `losers`.
fn one_winner(
    answers: &[(usize, StatusCode, Value)],
    win: StatusCode,
    losers: &[StatusCode],
) -> usize {
    let winners: Vec<usize> = answers
        .iter()
        .filter(|(_, st, _)| *st == win)
        .map(|(i, _, _)| *i)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one winner: {answers:?}");
    for (_, st, v) in answers {
        assert!(*st == win || losers.contains(st), "{st} {v}");
    }
    winners[0]
}

async fn same_if_match_one_winner(b: Backend) {
    let s = TestServer::start(b).await;
    let (id, etag) = new_user(&s, "race@example.com").await;
    let answers = race(&s, Some(&etag), |i| {
        (
            Method::PATCH,
            format!("/users/{id}"),
            Some(json!({"display_name": format!("writer {i}")})),
        )
    })
    .await;
    let w = one_winner(&answers, StatusCode::OK, &[StatusCode::PRECONDITION_FAILED]);
    let (_, u) = s.get(&format!("/users/{id}")).await;
    assert_eq!(u["display_name"], format!("writer {w}"), "{u}");
    assert_eq!(u["version"], 2, "one write only: {u}");

    // Lifecycle steps are conditional writes too.
    let tag = format!("W/\"{}\"", u["version"]);
    let answers = race(&s, Some(&tag), |_| {
        (Method::POST, format!("/users/{id}/deactivate"), None)
    })
    .await;
    one_winner(&answers, StatusCode::OK, &[StatusCode::PRECONDITION_FAILED]);
    let (_, u) = s.get(&format!("/users/{id}")).await;
    assert_eq!(
        (u["status"].as_str(), u["version"].as_i64()),
        (Some("inactive"), Some(3))
    );

    // DELETE with the same If-Match: one deletes, the others find it changed or gone.
    let tag = format!("W/\"{}\"", u["version"]);
    let answers = race(&s, Some(&tag), |_| {
        (Method::DELETE, format!("/users/{id}"), None)
    })
    .await;
    one_winner(
        &answers,
        StatusCode::NO_CONTENT,
        &[StatusCode::PRECONDITION_FAILED, StatusCode::NOT_FOUND],
    );
}

async fn writes_without_if_match_never_412(b: Backend) {
    let s = TestServer::start(b).await;
    let (id, _) = new_user(&s, "many@example.com").await;
    let answers = race(&s, None, |i| {
        let field = ["given_name", "family_name", "display_name", "phone"][i % 4];
        (
            Method::PATCH,
            format!("/users/{id}"),
            Some(json!({ field: format!("v{i}") })),
        )
    })
    .await;
    for (_, st, v) in &answers {
        assert_eq!(*st, StatusCode::OK, "{v}");
    }
    let (_, u) = s.get(&format!("/users/{id}")).await;
    assert_eq!(u["version"], 1 + WRITERS as i64, "every write went in: {u}");
    // No change was lost: each field holds the value of one of its writers.
    for (k, field) in ["given_name", "family_name", "display_name", "phone"]
        .iter()
        .enumerate()
    {
        let v = u[field].as_str().unwrap_or_default();
        let i: usize = v.trim_start_matches('v').parse().unwrap();
        assert_eq!(i % 4, k, "{u}");
    }
}

async fn delete_and_patch_honour_if_match(b: Backend) {
    let s = TestServer::start(b).await;
    let (id, etag) = new_user(&s, "cond@example.com").await;
    let path = format!("/users/{id}");
    let bad: [&[u8]; 8] = [
        b"W/\"7\"",
        b"W/\"0\"",
        b"garbage",
        b"\"1",
        b"W/\"1x\"",
        b"\xff\xfe\"1\"",
        b"W/\"1\", W/\"2\"",
        b"",
    ];
    for tag in bad {
        let shown = String::from_utf8_lossy(tag);
        let body = Some(json!({"display_name": "changed"}));
        let (st, e) = send(&s, Method::PATCH, &path, body, Some(tag)).await;
        assert_eq!(st, StatusCode::PRECONDITION_FAILED, "PATCH {shown}: {e}");
        for (method, p) in [
            (Method::DELETE, path.clone()),
            (Method::POST, format!("{path}/deactivate")),
            (Method::POST, format!("{path}/anonymise")),
        ] {
            let (st, e) = send(&s, method.clone(), &p, None, Some(tag)).await;
            assert_eq!(st, StatusCode::PRECONDITION_FAILED, "{method} {shown}: {e}");
        }
    }
    let (_, u) = s.get(&path).await;
    assert_eq!(
        (u["version"].as_i64(), u["display_name"].as_str()),
        (Some(1), None)
    );
    // The current tag and `*` are honoured.
    let (st, u) = send(
        &s,
        Method::PATCH,
        &path,
        Some(json!({"display_name": "ok"})),
        Some(etag.as_bytes()),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{u}");
    let (st, e) = send(&s, Method::DELETE, &path, None, Some(etag.as_bytes())).await;
    assert_eq!(
        st,
        StatusCode::PRECONDITION_FAILED,
        "stale after the PATCH: {e}"
    );
    let (st, _) = send(&s, Method::DELETE, &path, None, Some(b"*")).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s.get(&path).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

backends!(
    same_if_match_one_winner,
    writes_without_if_match_never_412,
    delete_and_patch_honour_if_match,
);
