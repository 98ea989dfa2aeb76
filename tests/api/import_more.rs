//! CSV import and export: generated users survive export -> import -> export, who may import,
//! export and see a job, and jobs stay in their tenant.

use crate::backends;
use crate::common::{Backend, TestServer};
use crate::import::{catalogue, export, finish, start};
use rand::RngExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Each table's row count, as `table count` lines.
pub async fn table_counts(url: &str) -> Vec<String> {
    use sqlx::Connection;
    let mut out = Vec::new();
    if url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        for n in names {
            let count: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM \"{n}\"")))
                    .fetch_one(&mut c)
                    .await
                    .unwrap();
            out.push(format!("{n} {count}"));
        }
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        for n in names {
            let count: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM \"{n}\"")))
                    .fetch_one(&mut c)
                    .await
                    .unwrap();
            out.push(format!("{n} {count}"));
        }
    }
    out
}

/// A random text of hostile and non-ASCII pieces (what a spreadsheet may hold).
fn hostile(rng: &mut impl RngExt) -> String {
    const PIECES: [&str; 14] = [
        "a", "Zoë", "中文", "ß", "\"", ",", ";", "'", "<script>", "=1+1", " x ", "|", "O'Brien",
        "🙂",
    ];
    let n = rng.random_range(1..5);
    let s: String = (0..n)
        .map(|_| PIECES[rng.random_range(0..PIECES.len())])
        .collect();
    s.trim()
        .to_owned()
        .chars()
        .take(200)
        .collect::<String>()
        .trim()
        .to_owned()
}

fn ids_by_name(v: &Value, key: &str) -> Vec<(String, String)> {
    v["items"]
        .as_array()
        .or(v.as_array())
        .unwrap()
        .iter()
        .map(|x| {
            (
                x[key].as_str().unwrap().to_owned(),
                x["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The export's rows without the tenant's owner (each tenant has its own).
fn without_owner(csv: &str) -> Vec<String> {
    csv.lines()
        .filter(|l| !l.starts_with("owner@"))
        .map(str::to_owned)
        .collect()
}

async fn round_trip_of_generated_users(b: Backend) {
    let s = TestServer::start(b).await;
    catalogue(&s, "acme", &s.token).await;
    let (_, accounts) = s.get("/accounts").await;
    let accounts = ids_by_name(&accounts, "name");
    let (_, roles) = s.get("/roles").await;
    let roles: Vec<(String, String)> = ids_by_name(&roles, "name")
        .into_iter()
        .filter(|(n, _)| n == "Member" || n == "Trainer")
        .collect();
    let (_, groups) = s.get("/groups").await;
    let group = ids_by_name(&groups, "display_name")[0].1.clone();
    let mut rng = rand::rng();
    for i in 0..20 {
        let account = &accounts[rng.random_range(0..accounts.len())].1;
        let role = &roles[rng.random_range(0..roles.len())].1;
        let mut body = json!({
            "email": format!("user{i}.{}@example.com", rng.random_range(0..1000)),
            "given_name": hostile(&mut rng),
            "family_name": hostile(&mut rng),
            "external_id": format!("E{i}"),
            "status": if rng.random_bool(0.5) { "active" } else { "invited" },
            "account_id": account,
            "role_ids": [role],
            "attributes": {"code": hostile(&mut rng), "rate": rng.random_range(0..500) as f64 / 4.0},
        });
        if rng.random_bool(0.3) {
            body["display_name"] = json!(hostile(&mut rng));
        }
        let (st, u) = s.post("/users", body).await;
        assert_eq!(st, StatusCode::CREATED, "{u}");
        let id = u["id"].as_str().unwrap();
        if rng.random_bool(0.5) {
            let (_, ms) = s.get(&format!("/users/{id}/memberships")).await;
            let m = ms["items"][0]["id"].as_str().unwrap().to_owned();
            let dates = json!({"start_date": format!("202{}-0{}-1{}", rng.random_range(0..5), rng.random_range(1..10), rng.random_range(0..10)), "end_date": null});
            let (st, e) = s
                .patch(&format!("/users/{id}/memberships/{m}"), dates)
                .await;
            assert_eq!(st, StatusCode::OK, "{e}");
        }
        if rng.random_bool(0.5) {
            let (st, e) = s
                .put(&format!("/groups/{group}/members/{id}"), json!({}))
                .await;
            assert!(st.is_success(), "{e}");
        }
        if rng.random_bool(0.3) {
            let (st, e) = s.post(&format!("/users/{id}/deactivate"), json!({})).await;
            assert_eq!(st, StatusCode::OK, "{e}");
        }
    }
    let first = export(&s, "acme", &s.token).await;
    let beta = s.other_tenant("beta").await;
    catalogue(&s, "beta", &beta).await;
    let (st, job) = start(
        &s,
        "beta",
        &beta,
        "",
        without_owner(&first).join("\n").as_bytes(),
    )
    .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{job}");
    let job = finish(&s, "beta", &beta, job["id"].as_str().unwrap()).await;
    assert_eq!(job["counts"]["created"].as_i64(), Some(20), "{job}");
    let second = export(&s, "beta", &beta).await;
    assert_eq!(without_owner(&first), without_owner(&second));
}

/// A token acting as a new user holding the role seeded from `template`.
pub async fn token_of(s: &TestServer, email: &str, template: &str) -> (String, String) {
    let role = s.role_id(template).await;
    let (st, u) = s
        .post(
            "/users",
            json!({"email": email, "role_ids": [role], "status": "active"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{u}");
    let id = u["id"].as_str().unwrap().to_owned();
    (s.token_for("acme", &id).await, id)
}

async fn who_may_import_export_and_see_jobs(b: Backend) {
    let s = TestServer::start(b).await;
    catalogue(&s, "acme", &s.token).await;
    let (_, accounts) = s.get("/accounts").await;
    let northwind = ids_by_name(&accounts, "name")
        .into_iter()
        .find(|(n, _)| n == "Northwind")
        .unwrap()
        .1;
    let (member, _) = token_of(&s, "member@example.com", "member").await;
    let (manager, mid) = token_of(&s, "manager@example.com", "manager").await;
    let (st, e) = s
        .post(
            &format!("/users/{mid}/management"),
            json!({"kind": "account", "id": northwind}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{e}");
    let (admin, _) = token_of(&s, "admin@example.com", "administrator").await;
    let owner_id = s.get("/owner").await.1["id"].as_str().unwrap().to_owned();
    let owner = s.token_for("acme", &owner_id).await;
    let csv = b"email,main_account\nin@example.com,Northwind\nout@example.com,\n";
    // Anonymous and no rights: refused; nothing starts.
    let res = s
        .client
        .post(s.url("/users/import"))
        .header("content-type", "text/csv")
        .body(&csv[..])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = s.client.get(s.url("/users/export")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let (st, e) = start(&s, "acme", &member, "dry_run=true", csv).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    let res = s
        .client
        .get(s.url("/users/export"))
        .bearer_auth(&member)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A manager imports into the accounts they manage, and exports the people they manage.
    let (st, job) = start(&s, "acme", &manager, "", csv).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{job}");
    let mjob = job["id"].as_str().unwrap().to_owned();
    let job = finish(&s, "acme", &manager, &mjob).await;
    assert_eq!(
        (
            job["counts"]["created"].as_i64(),
            job["counts"]["refused"].as_i64()
        ),
        (Some(1), Some(1)),
        "{job}"
    );
    let managed = export(&s, "acme", &manager).await;
    assert_eq!(managed.lines().count(), 2, "the header and in@: {managed}");
    assert!(managed.contains("in@example.com"));
    // Administrator and owner: the whole tenant, and every job of it.
    for token in [&admin, &owner] {
        let (st, job) = start(&s, "acme", token, "dry_run=true", csv).await;
        assert_eq!(st, StatusCode::ACCEPTED, "{job}");
        finish(&s, "acme", token, job["id"].as_str().unwrap()).await;
        assert!(
            export(&s, "acme", token)
                .await
                .contains("member@example.com")
        );
        let (st, _) = s
            .call_as(token, Method::GET, &s.url(&format!("/jobs/{mjob}")), None)
            .await;
        assert_eq!(st, StatusCode::OK);
    }
    // Someone else's job: unseen by the member and by another tenant, as if it did not exist.
    let (_, admin_job) = start(&s, "acme", &admin, "dry_run=true", csv).await;
    let ajob = admin_job["id"].as_str().unwrap();
    let beta = s.other_tenant("beta").await;
    for (token, url) in [
        (&member, s.url(&format!("/jobs/{ajob}"))),
        (&manager, s.url(&format!("/jobs/{ajob}/report"))),
        (&beta, format!("{}/t/beta/api/v1/jobs/{ajob}", s.base)),
        (
            &beta,
            format!("{}/t/beta/api/v1/jobs/{ajob}/report", s.base),
        ),
    ] {
        let (st, e) = s.call_as(token, Method::GET, &url, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{url}: {e}");
    }
}

backends!(
    round_trip_of_generated_users,
    who_may_import_export_and_see_jobs
);
