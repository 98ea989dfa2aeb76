//! CSV import in batches (issue 15): a refusal the database makes inside a batch leaves the
//! other rows created, files larger than a batch, concurrent imports of one file create each
//! user once, `invite=true`, and jobs a dead server left running.

use crate::backends;
use crate::common::{Backend, TestServer};
use crate::import::{catalogue, export, finish, import, start};
use reqwest::StatusCode;
use serde_json::Value;

backends!(
    a_refusal_inside_a_batch_keeps_the_others,
    files_larger_than_a_batch_round_trip,
    concurrent_imports_create_each_user_once,
    a_dead_importers_lease_lapses,
    invite_sends_invitations_to_invited_users,
    jobs_of_a_dead_server_are_failed
);

fn outcome(rows: &std::collections::BTreeMap<u64, (String, String)>, line: u64) -> (&str, &str) {
    let (o, r) = &rows[&line];
    (o.as_str(), r.as_str())
}

/// Audit entries with this action written through the API (not the tenant's creation).
async fn audited(s: &TestServer, action: &str) -> usize {
    let (_, audit) = s.get("/audit?limit=1000").await;
    audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action && e["actor_kind"] == "token")
        .count()
}

async fn a_refusal_inside_a_batch_keeps_the_others(b: Backend) {
    let s = TestServer::start(b).await;
    catalogue(&s, "acme", &s.token).await;
    // The owner's username: only the database's unique index refuses it, when the batch is
    // inserted; the batch is then inserted again one user at a time.
    let csv = "email,username,main_account,start_date,end_date,roles,code\n\
        one@example.com,,Northwind,2024-01-01,2024-12-31,Trainer|Member,C1\n\
        two@example.com,owner@acme.test,Northwind,,,,C2\n\
        three@example.com,Žofie,,,,,C3\n";
    let (job, rows) = import(&s, "", csv).await;
    assert_eq!(job["counts"]["created"].as_i64(), Some(2), "{rows:?}");
    assert_eq!(outcome(&rows, 2), ("create", ""));
    assert_eq!(outcome(&rows, 3).0, "refused");
    assert!(outcome(&rows, 3).1.contains("already"), "{rows:?}");
    assert_eq!(outcome(&rows, 4), ("create", ""));
    assert_eq!(audited(&s, "user.create").await, 2);
    let (_, list) = s.get("/users?email_prefix=one").await;
    let one = &list["items"][0];
    assert_eq!(one["attributes"]["code"], "C1");
    let id = one["id"].as_str().unwrap();
    let (_, ms) = s.get(&format!("/users/{id}/memberships")).await;
    assert_eq!(ms["items"].as_array().unwrap().len(), 1, "{ms}");
    assert_eq!(
        (&ms["items"][0]["start_date"], &ms["items"][0]["end_date"]),
        (&Value::from("2024-01-01"), &Value::from("2024-12-31"))
    );
    let (_, roles) = s.get(&format!("/users/{id}/roles")).await;
    let roles = roles["items"].as_array().unwrap();
    assert_eq!(roles.len(), 2);
    assert!(
        roles
            .iter()
            .any(|r| r["role_name"] == "Trainer" && r["main"] == true)
    );
    let (_, list) = s.get("/users?email_prefix=three").await;
    assert_eq!(list["items"][0]["username"], "Žofie");
    let (_, list) = s.get("/users?email_prefix=two").await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        0,
        "nothing of row 3"
    );
}

/// A file of `n` users with every kind of column, some of them non-ASCII.
fn big_file(n: usize) -> String {
    let mut csv = String::from(
        "email,given_name,family_name,external_id,status,main_account,accounts,start_date,roles,groups,code,rate\n",
    );
    for i in 0..n {
        let account = if i % 2 == 0 {
            "Northwind"
        } else {
            "\"Zoë & Co; \"\"Ltd\"\"\""
        };
        let groups = if i % 3 == 0 { "Staff" } else { "" };
        let status = ["active", "invited", "inactive"][i % 3];
        csv.push_str(&format!(
            "u{i:05}@example.com,Émile {i},\"O'Neil, {i}\",X-{i},{status},{account},Northwind,2024-02-{:02},Trainer|Member,{groups},c-{i},{}.5\n",
            1 + i % 28,
            i % 100
        ));
    }
    csv
}

async fn files_larger_than_a_batch_round_trip(b: Backend) {
    let s = TestServer::start(b).await;
    catalogue(&s, "acme", &s.token).await;
    let n = 1_100;
    let csv = big_file(n);
    let (job, _) = import(&s, "", &csv).await;
    assert_eq!(job["counts"]["created"].as_i64(), Some(n as i64), "{job}");
    let exported = export(&s, "acme", &s.token).await;
    assert_eq!(
        exported.lines().count(),
        n + 2,
        "the header, the owner, the users"
    );
    assert!(
        exported.contains("u00003@example.com,,false,Émile 3,\"O'Neil, 3\""),
        "{}",
        &exported[..600]
    );
    // The same file again, and the export: nothing changes.
    let (job, rows) = import(&s, "", &csv).await;
    assert_eq!(
        job["counts"]["unchanged"].as_i64(),
        Some(n as i64),
        "{rows:?}"
    );
    let (job, rows) = import(&s, "", &exported).await;
    assert_eq!(
        job["counts"]["unchanged"], job["counts"]["total"],
        "{rows:?}"
    );
    assert_eq!(export(&s, "acme", &s.token).await, exported);
    // One change in the middle of the file is the one update.
    let changed = csv.replace("Émile 1000,", "Émilie 1000,");
    let (job, rows) = import(&s, "", &changed).await;
    assert_eq!(job["counts"]["updated"].as_i64(), Some(1), "{rows:?}");
    assert_eq!(outcome(&rows, 1002), ("update", ""));
}

async fn concurrent_imports_create_each_user_once(b: Backend) {
    let s = TestServer::start(b).await;
    catalogue(&s, "acme", &s.token).await;
    let n = 60;
    let csv = big_file(n);
    let mut ids = vec![];
    for _ in 0..4 {
        let (st, job) = start(&s, "acme", &s.token, "", csv.as_bytes()).await;
        assert_eq!(st, StatusCode::ACCEPTED, "{job}");
        ids.push(job["id"].as_str().unwrap().to_owned());
    }
    // One import writes to a tenant at a time: one of them creates every user, each of the
    // others finds every row unchanged (none refused, none half-applied).
    let mut outcomes = vec![];
    for id in ids {
        let job = finish(&s, "acme", &s.token, &id).await;
        assert_eq!(job["state"], "succeeded", "{job}");
        let c = &job["counts"];
        assert_eq!(c["done"], c["total"], "{job}");
        outcomes.push((c["created"].as_i64(), c["unchanged"].as_i64()));
    }
    outcomes.sort();
    let (all, none) = (Some(n as i64), Some(0));
    assert_eq!(
        outcomes,
        vec![(none, all), (none, all), (none, all), (all, none)],
        "each user is created by exactly one of the imports"
    );
    let (_, list) = s.get("/users?limit=200").await;
    assert_eq!(list["items"].as_array().unwrap().len(), n + 1);
    assert_eq!(audited(&s, "user.create").await, n);
    // No employment twice: a user of an even row is in Northwind only, of an odd row in two.
    for i in [0usize, 1, 58, 59] {
        let (_, list) = s.get(&format!("/users?email_prefix=u{i:05}@")).await;
        let id = list["items"][0]["id"].as_str().unwrap();
        let (_, ms) = s.get(&format!("/users/{id}/memberships")).await;
        let want = if i % 2 == 0 { 1 } else { 2 };
        assert_eq!(ms["items"].as_array().unwrap().len(), want, "row {i}: {ms}");
    }
}

/// A lease left by an import whose process died lapses: the next import waits for it no longer.
async fn a_dead_importers_lease_lapses(b: Backend) {
    let s = TestServer::start(b).await;
    let tenant = s.store.tenant_by_slug("acme").await.unwrap().unwrap().id;
    let now = castellan::domain::clock::now_ms();
    // Held by someone else until a second from now: the import waits for it, then goes on.
    assert!(
        s.store
            .take_import_lease(&tenant, "dead", now + 1_000)
            .await
            .unwrap()
    );
    assert!(
        !s.store
            .take_import_lease(&tenant, "other", now + 60_000)
            .await
            .unwrap()
    );
    let started = std::time::Instant::now();
    let (job, rows) = import(&s, "", "email\nafter@example.com\n").await;
    assert_eq!(job["counts"]["created"].as_i64(), Some(1), "{rows:?}");
    assert!(started.elapsed() >= std::time::Duration::from_millis(500));
    // Given back at the end: anyone may take it now.
    assert!(
        s.store
            .take_import_lease(&tenant, "next", now + 60_000)
            .await
            .unwrap()
    );
}

async fn invite_sends_invitations_to_invited_users(b: Backend) {
    let s = TestServer::start(b).await;
    let csv = "email,status\ninv@example.com,invited\nact@example.com,active\nidle@example.com,inactive\n";
    let (job, rows) = import(&s, "dry_run=true&invite=true", csv).await;
    assert_eq!(job["counts"]["created"].as_i64(), Some(3), "{rows:?}");
    let (job, rows) = import(&s, "invite=true", csv).await;
    assert_eq!(job["counts"]["created"].as_i64(), Some(3), "{rows:?}");
    let state = |email: &str| {
        let email = email.to_owned();
        let s = &s;
        async move {
            let (_, list) = s.get(&format!("/users?email_prefix={email}")).await;
            let id = list["items"][0]["id"].as_str().unwrap().to_owned();
            s.get(&format!("/users/{id}/invitation")).await.1
        }
    };
    // No mail server: the link was logged for the administrator, never stored or reported.
    let inv = state("inv@example.com").await;
    assert_eq!(
        (&inv["status"], &inv["times_sent"], &inv["last_delivery"]),
        (
            &Value::from("pending"),
            &Value::from(1),
            &Value::from("shown")
        ),
        "{inv}"
    );
    for email in ["act@example.com", "idle@example.com"] {
        assert_eq!(state(email).await["status"], "not_sent", "{email}");
    }
    let (_, audit) = s.get("/audit?limit=1000").await;
    assert!(!audit.to_string().contains("link="), "{audit}");
    // Without `invite`, nobody is invited.
    let (_, _) = import(&s, "", "email\nquiet@example.com\n").await;
    assert_eq!(state("quiet@example.com").await["status"], "not_sent");
}

async fn jobs_of_a_dead_server_are_failed(b: Backend) {
    let s = TestServer::start(b).await;
    let tenant = s.store.tenant_by_slug("acme").await.unwrap().unwrap();
    let actor = castellan::domain::audit::Actor::cli();
    // Two jobs "running": one whose server died a while ago, one that is alive.
    let dead = s
        .store
        .insert_job(&tenant.id, "users.import", false, 10, &actor)
        .await
        .unwrap();
    let alive = s
        .store
        .insert_job(&tenant.id, "users.import", false, 10, &actor)
        .await
        .unwrap();
    let long_ago = castellan::domain::clock::now_ms() - 5 * 60 * 1000;
    set_updated_at(s.db_url(), dead.id.as_str(), long_ago).await;
    let failed = castellan::admin::jobs::fail_abandoned_now(&s.store)
        .await
        .unwrap();
    assert_eq!(failed, 1);
    let (st, job) = s.get(&format!("/jobs/{}", dead.id)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(job["state"], "failed", "{job}");
    assert!(
        job["error"]
            .as_str()
            .unwrap()
            .contains("stopped before it finished"),
        "{job}"
    );
    let (_, job) = s.get(&format!("/jobs/{}", alive.id)).await;
    assert_eq!(job["state"], "running", "a live job is left alone: {job}");
    // A late word from the dead job's process cannot bring it back.
    let counts = castellan::domain::jobs::JobCounts::default();
    s.store
        .update_job(&tenant.id, &dead.id, &counts, None)
        .await
        .unwrap();
    assert_eq!(
        s.get(&format!("/jobs/{}", dead.id)).await.1["state"],
        "failed"
    );
    // Its report says so rather than hanging: there is none.
    let (st, _) = s.get(&format!("/jobs/{}/report", dead.id)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

async fn set_updated_at(url: &str, job: &str, at: i64) {
    use sqlx::Connection;
    let sql = "UPDATE import_jobs SET updated_at = $1 WHERE id = $2";
    if url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(sql)
            .bind(at)
            .bind(job)
            .execute(&mut c)
            .await
            .unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sql)
            .bind(at)
            .bind(job)
            .execute(&mut c)
            .await
            .unwrap();
    }
}
