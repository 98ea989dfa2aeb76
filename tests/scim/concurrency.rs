//! SCIM conditional writes under concurrency (issue 12 §3), DELETE's `If-Match`, and the owner
//! out of a directory's reach (§1).

use crate::common::Backend;
use crate::{Scim, backends};
use reqwest::header::HeaderValue;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const WRITERS: usize = 20;
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Sends a SCIM request with an optional raw `If-Match`; answers status and body.
async fn send(
    s: &Scim,
    method: Method,
    path: &str,
    body: Option<Value>,
    if_match: Option<&[u8]>,
) -> (StatusCode, Value) {
    let mut req = s
        .srv
        .client
        .request(method, s.url(path))
        .bearer_auth(&s.token);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/scim+json")
            .body(b.to_string());
    }
    if let Some(v) = if_match {
        req = req.header("if-match", HeaderValue::from_bytes(v).unwrap());
    }
    let res = req.send().await.unwrap();
    let st = res.status();
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    if st.is_client_error() {
        assert_eq!(
            body["status"],
            st.as_u16().to_string(),
            "SCIM error: {body}"
        );
    }
    (st, body)
}

/// `WRITERS` requests at once; `make(i)` gives the i-th (method, path, body).
async fn race(
    s: &Scim,
    if_match: Option<&str>,
    make: impl Fn(usize) -> (Method, String, Value),
) -> Vec<(usize, StatusCode, Value)> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(WRITERS));
    let mut tasks = Vec::new();
    for i in 0..WRITERS {
        let (method, path, body) = make(i);
        let (client, url, token) = (s.srv.client.clone(), s.url(&path), s.token.clone());
        let (barrier, tag) = (barrier.clone(), if_match.map(str::to_owned));
        tasks.push(tokio::spawn(async move {
            let mut req = client
                .request(method, url)
                .bearer_auth(token)
                .header("content-type", "application/scim+json")
                .body(body.to_string());
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

fn one_winner(answers: &[(usize, StatusCode, Value)]) -> usize {
    let winners: Vec<usize> = answers
        .iter()
        // A group PATCH answers 204 (no attributes asked for), the others 200.
        .filter(|(_, st, _)| *st == StatusCode::OK || *st == StatusCode::NO_CONTENT)
        .map(|(i, _, _)| *i)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one winner: {answers:?}");
    for (_, st, v) in answers {
        assert!(
            *st == StatusCode::OK
                || *st == StatusCode::NO_CONTENT
                || *st == StatusCode::PRECONDITION_FAILED,
            "{st} {v}"
        );
    }
    winners[0]
}

fn replace(path: &str, value: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": path, "value": value}]})
}

async fn same_if_match_one_winner(b: Backend) {
    let s = Scim::start(b).await;
    let id = s.user(json!({"userName": "race@example.com"})).await;
    let a = s.get(&format!("/Users/{id}")).await;
    let tag = a.headers["etag"].to_str().unwrap().to_owned();
    let path = format!("/Users/{id}");
    let answers = race(&s, Some(&tag), |i| {
        (
            Method::PATCH,
            path.clone(),
            replace("displayName", json!(format!("w{i}"))),
        )
    })
    .await;
    let w = one_winner(&answers);
    let a = s.get(&path).await;
    assert_eq!(a.body["displayName"], format!("w{w}"), "{}", a.body);
    let tag = a.headers["etag"].to_str().unwrap().to_owned();
    let answers = race(&s, Some(&tag), |i| {
        let body = json!({"userName": "race@example.com", "displayName": format!("put{i}")});
        (Method::PUT, path.clone(), body)
    })
    .await;
    let w = one_winner(&answers);
    assert_eq!(s.get(&path).await.body["displayName"], format!("put{w}"));

    let g = s.post("/Groups", json!({"displayName": "G"})).await;
    let gpath = format!("/Groups/{}", g.body["id"].as_str().unwrap());
    let tag = g.headers["etag"].to_str().unwrap().to_owned();
    let answers = race(&s, Some(&tag), |i| {
        (
            Method::PATCH,
            gpath.clone(),
            replace("displayName", json!(format!("g{i}"))),
        )
    })
    .await;
    let w = one_winner(&answers);
    assert_eq!(s.get(&gpath).await.body["displayName"], format!("g{w}"));
}

/// Twenty directories' PATCHes without `If-Match` all go in: none is refused, none is lost.
async fn patches_without_if_match_all_land(b: Backend) {
    let s = Scim::start(b).await;
    let mut users = Vec::new();
    for i in 0..WRITERS {
        users.push(
            s.user(json!({"userName": format!("m{i}@example.com")}))
                .await,
        );
    }
    let g = s.post("/Groups", json!({"displayName": "All"})).await;
    let gpath = format!("/Groups/{}", g.body["id"].as_str().unwrap());
    let answers = race(&s, None, |i| {
        let body = json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "add", "path": "members", "value": [{"value": users[i]}]}
        ]});
        (Method::PATCH, gpath.clone(), body)
    })
    .await;
    for (_, st, v) in &answers {
        assert!(st.is_success(), "{st} {v}");
    }
    let g = s.get(&gpath).await;
    assert_eq!(
        g.body["members"].as_array().map(Vec::len),
        Some(WRITERS),
        "{}",
        g.body
    );
    let upath = format!("/Users/{}", users[0]);
    let answers = race(&s, None, |i| {
        (
            Method::PATCH,
            upath.clone(),
            replace("title", json!(format!("t{i}"))),
        )
    })
    .await;
    for (_, st, v) in &answers {
        assert_eq!(*st, StatusCode::OK, "{v}");
    }
}

async fn delete_honours_if_match(b: Backend) {
    let s = Scim::start(b).await;
    let id = s.user(json!({"userName": "gone@example.com"})).await;
    let g = s.post("/Groups", json!({"displayName": "Gone"})).await;
    let gid = g.body["id"].as_str().unwrap().to_owned();
    for path in [format!("/Users/{id}"), format!("/Groups/{gid}")] {
        for tag in [
            &b"W/\"99\""[..],
            b"garbage",
            b"\xff\xfe",
            b"W/\"1\", W/\"2\"",
        ] {
            let (st, e) = send(&s, Method::DELETE, &path, None, Some(tag)).await;
            let shown = String::from_utf8_lossy(tag);
            assert_eq!(st, StatusCode::PRECONDITION_FAILED, "{path} {shown}: {e}");
            let patch = Some(replace("displayName", json!("x")));
            let (st, e) = send(&s, Method::PATCH, &path, patch, Some(tag)).await;
            assert_eq!(st, StatusCode::PRECONDITION_FAILED, "{path} {shown}: {e}");
            assert_eq!(s.get(&path).await.status, StatusCode::OK);
        }
        let (st, e) = send(&s, Method::DELETE, &path, None, Some(b"*")).await;
        assert_eq!(st, StatusCode::NO_CONTENT, "{e}");
        assert_eq!(s.get(&path).await.status, StatusCode::NOT_FOUND);
    }
    // Twenty deletes with the current tag: one succeeds, the rest find it changed or gone.
    let id = s.user(json!({"userName": "once@example.com"})).await;
    let a = s.get(&format!("/Users/{id}")).await;
    let tag = a.headers["etag"].to_str().unwrap().to_owned();
    let answers = race(&s, Some(&tag), |_| {
        (Method::DELETE, format!("/Users/{id}"), Value::Null)
    })
    .await;
    let done = answers
        .iter()
        .filter(|(_, st, _)| *st == StatusCode::NO_CONTENT)
        .count();
    assert_eq!(done, 1, "{answers:?}");
    for (_, st, v) in &answers {
        assert!(
            [
                StatusCode::NO_CONTENT,
                StatusCode::PRECONDITION_FAILED,
                StatusCode::NOT_FOUND
            ]
            .contains(st),
            "{st} {v}"
        );
    }
}

/// A SCIM token provisions people, never the tenant's owner: PUT and PATCH are 403, DELETE
/// 409, and the owner is as before.
async fn directory_cannot_touch_the_owner(b: Backend) {
    let s = Scim::start(b).await;
    let (_, owner) = s.srv.get("/owner").await;
    let path = format!("/Users/{}", owner["id"].as_str().unwrap());
    let before = s.get(&path).await.body;
    let attempts = [
        (
            Method::PUT,
            Some(json!({"userName": "owner@acme.test", "active": false})),
            StatusCode::FORBIDDEN,
        ),
        (
            Method::PUT,
            Some(json!({"userName": "evil@evil.example", "password": "attacker-password"})),
            StatusCode::FORBIDDEN,
        ),
        (
            Method::PATCH,
            Some(replace(
                "emails",
                json!([{"value": "evil@evil.example", "primary": true}]),
            )),
            StatusCode::FORBIDDEN,
        ),
        (
            Method::PATCH,
            Some(replace("active", json!(false))),
            StatusCode::FORBIDDEN,
        ),
        (Method::DELETE, None, StatusCode::CONFLICT),
    ];
    for (method, body, status) in attempts {
        let (st, e) = send(&s, method.clone(), &path, body, None).await;
        assert_eq!(st, status, "{method}: {e}");
    }
    assert_eq!(s.get(&path).await.body, before);
}

backends!(
    same_if_match_one_winner,
    patches_without_if_match_all_land,
    delete_honours_if_match,
    directory_cannot_touch_the_owner,
);
