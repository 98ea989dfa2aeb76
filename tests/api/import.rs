//! `/users/import` (jobs), `/jobs/{id}`, `/users/export`: awkward files, dry runs that write
//! nothing, re-runs that change nothing, all-or-nothing.

use crate::backends;
use crate::common::{Backend, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A tenant's catalogue the import files name: two accounts, a role, a group, two attributes.
pub async fn catalogue(s: &TestServer, tenant: &str, token: &str) {
    let url = |p: &str| format!("{}/t/{tenant}/api/v1{p}", s.base);
    for body in [
        json!({"name": "Northwind", "kind": "customer"}),
        json!({"name": "Zoë & Co; \"Ltd\"", "kind": "provider"}),
    ] {
        let (st, v) = s
            .call_as(token, Method::POST, &url("/accounts"), Some(body))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let (st, v) = s
        .call_as(
            token,
            Method::POST,
            &url("/roles"),
            Some(json!({"name": "Trainer", "permissions": []})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = s
        .call_as(
            token,
            Method::POST,
            &url("/groups"),
            Some(json!({"display_name": "Staff"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    for body in [
        json!({"key": "code", "label": "Code", "kind": "text"}),
        json!({"key": "rate", "label": "Hourly rate", "kind": "number"}),
    ] {
        let (st, v) = s
            .call_as(token, Method::POST, &url("/attributes"), Some(body))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
}

/// Posts `csv` to `/users/import?query` of `tenant` as `token`: the status and the JSON body.
pub async fn start(
    s: &TestServer,
    tenant: &str,
    token: &str,
    query: &str,
    csv: &[u8],
) -> (StatusCode, Value) {
    let res = s
        .client
        .post(format!("{}/t/{tenant}/api/v1/users/import?{query}", s.base))
        .bearer_auth(token)
        .header("content-type", "text/csv; charset=utf-8")
        .body(csv.to_vec())
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Polls a job until it has finished; returns it.
pub async fn finish(s: &TestServer, tenant: &str, token: &str, id: &str) -> Value {
    let url = format!("{}/t/{tenant}/api/v1/jobs/{id}", s.base);
    for _ in 0..600 {
        let (st, job) = s.call_as(token, Method::GET, &url, None).await;
        assert_eq!(st, StatusCode::OK, "{job}");
        if job["state"] != "running" {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the job did not finish");
}

/// The report of a finished job: its rows by line, each (outcome, reason).
pub async fn report(
    s: &TestServer,
    tenant: &str,
    token: &str,
    id: &str,
) -> BTreeMap<u64, (String, String)> {
    let res = s
        .client
        .get(format!("{}/t/{tenant}/api/v1/jobs/{id}/report", s.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["line", "email", "external_id", "outcome", "reason"]
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].parse().unwrap(), (r[3].to_owned(), r[4].to_owned()))
        })
        .collect()
}

/// Imports `csv` into acme with the tenant-wide token; the finished job and its report.
pub async fn import(
    s: &TestServer,
    query: &str,
    csv: &str,
) -> (Value, BTreeMap<u64, (String, String)>) {
    let (st, job) = start(s, "acme", &s.token, query, csv.as_bytes()).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{job}");
    let id = job["id"].as_str().unwrap().to_owned();
    let job = finish(s, "acme", &s.token, &id).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let rows = report(s, "acme", &s.token, &id).await;
    (job, rows)
}

/// `/users/export` of `tenant` as `token`.
pub async fn export(s: &TestServer, tenant: &str, token: &str) -> String {
    let res = s
        .client
        .get(format!("{}/t/{tenant}/api/v1/users/export", s.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    res.text().await.unwrap()
}

/// Every row of every table, as text, for a whole-database comparison.
pub async fn snapshot(s: &TestServer) -> Vec<String> {
    let audit = s.get("/audit?limit=1000").await.1;
    let mut out = vec![audit.to_string(), export(s, "acme", &s.token).await];
    out.extend(crate::import_more::table_counts(s.db_url()).await);
    out
}

fn outcome(rows: &BTreeMap<u64, (String, String)>, line: u64) -> (&str, &str) {
    let (o, r) = &rows[&line];
    (o.as_str(), r.as_str())
}

async fn awkward_file(b: Backend) {
    let s = TestServer::start(b).await;
    catalogue(&s, "acme", &s.token).await;
    // BOM, semicolons, quoted separators, quotes and a line break, non-ASCII, mixed-case headers.
    let csv = "\u{feff}Email;Given_Name;family_name;main_account;accounts;start_date;end_date;roles;groups;status;code;rate\n\
        ann@example.com;\"Ann; \"\"the first\"\"\";Ünal-Øster;\"Zoë & Co; \"\"Ltd\"\"\";Northwind;2024-01-01;2025-06-30;Trainer|Member;Staff;active;\"A-1\nsecond; line\";42.5\n\
        ;NoEmail;;;;;;;;;;\n\
        bob@example.com;Bob;;Nowhere;;;;;;;;\n\
        cat@example.com;Cat;;Northwind;;2025-01-01;2024-01-01;;;;;\n\
        dan@example.com;Dan;;Northwind;;2024-13-01;;;;;;\n\
        ANN@example.com;Ann again;;;;;;;;;;\n\
        eve@example.com;Eve;;;;;;;;retired;;\n\
        fay@example.com;Fay;;;;;;Astronaut;;;;\n\
        gus@example.com;Gus;;;;;;;Nobody;;;\n\
        hal@example.com;Hal;;;;;;;;;;lots\n\
        \n\
        ivy@example.com;Ivy;;;;;;;;invited;;\n";
    let (job, rows) = import(&s, "", csv).await;
    let c = &job["counts"];
    assert_eq!(
        (
            c["total"].as_i64(),
            c["created"].as_i64(),
            c["refused"].as_i64()
        ),
        (Some(11), Some(2), Some(9)),
        "{job} {rows:?}"
    );
    assert_eq!(outcome(&rows, 2), ("create", ""));
    assert!(outcome(&rows, 4).1.contains("email: missing"), "{rows:?}");
    assert!(
        outcome(&rows, 5).1.contains("no account named `Nowhere`"),
        "{rows:?}"
    );
    assert!(
        outcome(&rows, 6).1.contains("is before start_date"),
        "{rows:?}"
    );
    assert!(
        outcome(&rows, 7).1.contains("`2024-13-01` is not a date"),
        "{rows:?}"
    );
    assert!(
        outcome(&rows, 8)
            .1
            .contains("duplicate: the same email as line 2"),
        "{rows:?}"
    );
    assert!(
        outcome(&rows, 9).1.contains("status: `retired`"),
        "{rows:?}"
    );
    assert!(
        outcome(&rows, 10).1.contains("no role named `Astronaut`"),
        "{rows:?}"
    );
    assert!(
        outcome(&rows, 11).1.contains("no group named `Nobody`"),
        "{rows:?}"
    );
    assert!(
        outcome(&rows, 12).1.contains("`rate` must be a number"),
        "{rows:?}"
    );
    assert_eq!(outcome(&rows, 14), ("create", ""));
    // Ann as the file says: names with their quotes and line break, both accounts, the main
    // one with its dates, both roles, the group, the attributes.
    let (_, list) = s.get("/users?email_prefix=ann").await;
    let ann = &list["items"][0];
    assert_eq!(ann["given_name"], "Ann; \"the first\"");
    assert_eq!(ann["family_name"], "Ünal-Øster");
    assert_eq!(ann["status"], "active");
    assert_eq!(
        ann["attributes"],
        json!({"code": "A-1\nsecond; line", "rate": 42.5})
    );
    let id = ann["id"].as_str().unwrap();
    let (_, ms) = s.get(&format!("/users/{id}/memberships")).await;
    let ms = ms["items"].as_array().unwrap();
    assert_eq!(ms.len(), 2, "{ms:?}");
    let main = ms.iter().find(|m| m["main"] == true).unwrap();
    assert_eq!(
        (
            &main["account_name"],
            &main["start_date"],
            &main["end_date"]
        ),
        (
            &json!("Zoë & Co; \"Ltd\""),
            &json!("2024-01-01"),
            &json!("2025-06-30")
        )
    );
    let (_, roles) = s.get(&format!("/users/{id}/roles")).await;
    let names: Vec<&str> = roles["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["role_name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{roles}");
    assert!(
        roles["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["role_name"] == "Trainer" && r["main"] == true),
        "{roles}"
    );
    let (_, groups) = s.get("/groups").await;
    assert_eq!(groups["items"][0]["member_ids"], json!([id]), "{groups}");
}

async fn dry_run_writes_nothing(b: Backend) {
    let s = TestServer::start(b).await;
    catalogue(&s, "acme", &s.token).await;
    s.create_user("kept@example.com").await;
    let before = snapshot(&s).await;
    let csv = "email,given_name,main_account,roles,groups,code\n\
        new@example.com,New,Northwind,Trainer,Staff,N1\n\
        kept@example.com,Renamed,Northwind,,,\n\
        bad@example.com,Bad,Nowhere,,,\n";
    let (job, rows) = import(&s, "dry_run=true", csv).await;
    assert_eq!(job["dry_run"], true);
    assert_eq!(outcome(&rows, 2), ("create", ""));
    assert_eq!(outcome(&rows, 3), ("update", ""));
    assert_eq!(outcome(&rows, 4).0, "refused");
    let after = snapshot(&s).await;
    // The job itself (its row and its report) is the one thing a dry run leaves.
    let skip_jobs = |v: &[String]| {
        v.iter()
            .filter(|l| !l.starts_with("import_job"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(skip_jobs(&before), skip_jobs(&after));
}

async fn rerun_changes_nothing(b: Backend) {
    let s = TestServer::start(b).await;
    catalogue(&s, "acme", &s.token).await;
    s.create_user("old@example.com").await;
    let csv = "email,external_id,given_name,main_account,accounts,start_date,roles,main_role,groups,status,rate\n\
        old@example.com,X-1,Olga,Northwind,\"Northwind|Zoë & Co; \"\"Ltd\"\"\",2024-02-29,Member|Trainer,Trainer,Staff,inactive,7\n\
        pia@example.com,X-2,Pia,,,,,,Staff,active,\n";
    let (job, rows) = import(&s, "", csv).await;
    assert_eq!(
        (
            job["counts"]["updated"].as_i64(),
            job["counts"]["created"].as_i64()
        ),
        (Some(1), Some(1)),
        "{rows:?}"
    );
    let audit = s.get("/audit?limit=1000").await.1;
    let exported = export(&s, "acme", &s.token).await;
    let (job, rows) = import(&s, "", csv).await;
    assert_eq!(job["counts"]["unchanged"].as_i64(), Some(2), "{rows:?}");
    assert_eq!(
        s.get("/audit?limit=1000").await.1,
        audit,
        "a re-run writes no audit entry"
    );
    assert_eq!(export(&s, "acme", &s.token).await, exported);
    // Its own export, imported back, changes nothing either.
    let (job, rows) = import(&s, "", &exported).await;
    assert_eq!(
        job["counts"]["unchanged"], job["counts"]["total"],
        "{rows:?}"
    );
    // Matched by external id, the email changes.
    let (_, rows) = import(&s, "", "email,external_id\npia.new@example.com,X-2\n").await;
    assert_eq!(outcome(&rows, 2), ("update", ""));
    let (_, list) = s.get("/users?email_prefix=pia").await;
    assert_eq!(list["items"][0]["email"], "pia.new@example.com");
    // Email and external id of two different users: refused.
    let (_, rows) = import(&s, "", "email,external_id\nold@example.com,X-2\n").await;
    assert!(
        outcome(&rows, 2).1.contains("two different users"),
        "{rows:?}"
    );
}

async fn all_or_nothing(b: Backend) {
    let s = TestServer::start(b).await;
    let csv = "email,status\na@example.com,active\nb@example.com,bogus\nc@example.com,\n";
    let (job, rows) = import(&s, "all_or_nothing=true", csv).await;
    let c = &job["counts"];
    assert_eq!(
        (
            c["refused"].as_i64(),
            c["skipped"].as_i64(),
            c["created"].as_i64()
        ),
        (Some(1), Some(2), Some(0)),
        "{job}"
    );
    assert_eq!(outcome(&rows, 2).0, "skipped");
    let (_, list) = s.get("/users").await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "only the owner: {list}"
    );
    let (job, _) = import(
        &s,
        "all_or_nothing=true",
        "email\na@example.com\nc@example.com\n",
    )
    .await;
    assert_eq!(job["counts"]["created"].as_i64(), Some(2));
}

async fn files_refused_whole(b: Backend) {
    let s = TestServer::start(b).await;
    for (body, detail) in [
        (&b"email\n\xff\xfe\n"[..], "not UTF-8"),
        (b"name,email\n", "`name`"),
        (b"given_name\nAnn\n", "no `email` column"),
        (b"", "no header"),
    ] {
        let (st, e) = start(&s, "acme", &s.token, "", body).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e["detail"].as_str().unwrap().contains(detail), "{e}");
    }
    let res = s
        .client
        .post(s.url("/users/import"))
        .bearer_auth(&s.token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (st, e) = s.get("/jobs/01900000-0000-7000-8000-000000000000").await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
}

backends!(
    awkward_file,
    dry_run_writes_nothing,
    rerun_changes_nothing,
    all_or_nothing,
    files_refused_whole
);
