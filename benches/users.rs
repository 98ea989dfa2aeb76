//! Admin-side benchmark with 100,000 users in a tenant, on SQLite and on PostgreSQL:
//! email-prefix search (index-backed), first and deep pages, substring search, and one user's
//! effective permissions, measured at the store and through the HTTP API.
//!
//! Run: `cargo bench --bench users` (PostgreSQL at 127.0.0.1:5432 as for the tests;
//! `BENCH_USERS=N` to change the size, `BENCH_ONLY=sqlite|postgres` to run one database).

use castellan::config::Config;
use castellan::domain::authz::UserScope;
use castellan::domain::clock::now_ms;
use castellan::domain::sealing::MasterKey;
use castellan::domain::{TenantId, UserId, UserQuery};
use castellan::http::AppState;
use castellan::store::Store;
use std::time::{Duration, Instant};

mod common;

struct Stats {
    name: String,
    samples: Vec<Duration>,
}

impl Stats {
    fn pct(&self, p: f64) -> f64 {
        let mut s = self.samples.clone();
        s.sort();
        let i = ((s.len() as f64 - 1.0) * p).round() as usize;
        s[i].as_secs_f64() * 1000.0
    }
    fn line(&self, db: &str) -> String {
        format!(
            "| {db} | {} | {:.3} | {:.3} | {:.3} | {} |",
            self.name,
            self.pct(0.5),
            self.pct(0.95),
            self.pct(0.99),
            self.samples.len()
        )
    }
}

async fn measure<F, Fut>(name: &str, iterations: usize, mut f: F) -> Stats
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for i in 0..iterations / 10 {
        f(i).await;
    }
    let mut samples = Vec::with_capacity(iterations);
    for i in 0..iterations {
        let t = Instant::now();
        f(i).await;
        samples.push(t.elapsed());
    }
    Stats {
        name: name.into(),
        samples,
    }
}

/// Deterministic pseudo-random numbers (xorshift), so every run asks the same questions.
fn rand(i: usize) -> usize {
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x as usize
}

/// A raw pool of either database, for loading data fast without going through the API.
enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Raw {
    async fn exec(&self, sql: String) {
        match self {
            Raw::Sqlite(p) => sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(p)
                .await
                .map(|_| ()),
            Raw::Postgres(p) => sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(p)
                .await
                .map(|_| ()),
        }
        .unwrap_or_else(|e| panic!("seed: {e}"));
    }
    async fn scalar(&self, sql: String) -> String {
        match self {
            Raw::Sqlite(p) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(p)
                    .await
            }
            Raw::Postgres(p) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(p)
                    .await
            }
        }
        .unwrap_or_else(|e| panic!("seed: {e}"))
    }
}

/// Bulk-loads `n` users with memberships (a third of them ended), roles, groups and overrides.
async fn seed(url: &str, tenant: &TenantId, n: usize) -> (Vec<String>, Vec<String>) {
    let pool = if url.starts_with("sqlite") {
        Raw::Sqlite(sqlx::SqlitePool::connect(url).await.unwrap())
    } else {
        Raw::Postgres(sqlx::PgPool::connect(url).await.unwrap())
    };
    let t = tenant.as_str();
    let guest = pool
        .scalar(format!(
            "SELECT id FROM accounts WHERE tenant_id = '{t}' AND kind = 'guest'"
        ))
        .await;
    let member = pool
        .scalar(format!(
            "SELECT id FROM roles WHERE tenant_id = '{t}' AND template = 'member'"
        ))
        .await;
    let manager = pool
        .scalar(format!(
            "SELECT id FROM roles WHERE tenant_id = '{t}' AND template = 'manager'"
        ))
        .await;
    let now = now_ms();
    // Ten app permissions, a role holding them, ten accounts and ten groups granted that role.
    let mut perms = vec![];
    for p in 0..10 {
        let id = UserId::generate().0;
        pool.exec(format!("INSERT INTO permissions (id, tenant_id, name, builtin, created_at) VALUES ('{id}', '{t}', 'app:perm{p}', FALSE, {now})")).await;
        perms.push(id);
    }
    let app_role = UserId::generate().0;
    pool.exec(format!("INSERT INTO roles (id, tenant_id, name, created_at, updated_at) VALUES ('{app_role}', '{t}', 'App user', {now}, {now})")).await;
    for p in &perms {
        pool.exec(format!(
            "INSERT INTO role_permissions (role_id, permission_id) VALUES ('{app_role}', '{p}')"
        ))
        .await;
    }
    let mut accounts = vec![];
    let mut groups = vec![];
    for k in 0..10 {
        let a = UserId::generate().0;
        pool.exec(format!("INSERT INTO accounts (id, tenant_id, name, kind, builtin, created_at, updated_at) VALUES ('{a}', '{t}', 'Customer {k}', 'customer', FALSE, {now}, {now})")).await;
        accounts.push(a);
        let g = UserId::generate().0;
        pool.exec(format!("INSERT INTO groups (id, tenant_id, display_name, created_at, updated_at, version) VALUES ('{g}', '{t}', 'Group {k}', {now}, {now}, 1)")).await;
        pool.exec(format!(
            "INSERT INTO group_roles (group_id, role_id) VALUES ('{g}', '{app_role}')"
        ))
        .await;
        groups.push(g);
    }
    let mut ids = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut users = vec![];
        let mut ms = vec![];
        let mut roles = vec![];
        let mut gm = vec![];
        let mut ov = vec![];
        for &i in chunk {
            let id = UserId::generate().0;
            let email = format!("user{i:06}@example.com");
            users.push(format!("('{id}', '{t}', '{email}', '{email}', '{email}', '{email}', FALSE, 'User', '{i}', 'active', {now}, {now}, 1)"));
            ms.push(format!(
                "('{}', '{t}', '{id}', '{guest}', NULL, NULL, TRUE, {now}, {now})",
                UserId::generate().0
            ));
            let acct = &accounts[i % 10];
            let end = if i % 3 == 0 { "'2020-12-31'" } else { "NULL" };
            ms.push(format!(
                "('{}', '{t}', '{id}', '{acct}', '2020-01-01', {end}, FALSE, {now}, {now})",
                UserId::generate().0
            ));
            roles.push(format!(
                "('{}', '{t}', '{id}', '{member}', NULL, TRUE, {now})",
                UserId::generate().0
            ));
            if i % 10 == 0 {
                roles.push(format!(
                    "('{}', '{t}', '{id}', '{manager}', '{acct}', FALSE, {now})",
                    UserId::generate().0
                ));
            }
            gm.push(format!("('{}', '{id}')", groups[i % 10]));
            if i % 7 == 0 {
                ov.push(format!(
                    "('{id}', '{}', '{t}', 'deny', NULL, {now})",
                    perms[i % 10]
                ));
            }
            ids.push(id);
        }
        pool.exec(format!("INSERT INTO users (id, tenant_id, username, username_norm, email, email_norm, email_verified, given_name, family_name, status, created_at, updated_at, version) VALUES {}", users.join(","))).await;
        pool.exec(format!("INSERT INTO memberships (id, tenant_id, user_id, account_id, start_date, end_date, is_main, created_at, updated_at) VALUES {}", ms.join(","))).await;
        pool.exec(format!("INSERT INTO user_roles (id, tenant_id, user_id, role_id, account_id, is_main, created_at) VALUES {}", roles.join(","))).await;
        pool.exec(format!(
            "INSERT INTO group_members (group_id, user_id) VALUES {}",
            gm.join(",")
        ))
        .await;
        if !ov.is_empty() {
            pool.exec(format!("INSERT INTO permission_overrides (user_id, permission_id, tenant_id, effect, reason, created_at) VALUES {}", ov.join(","))).await;
        }
    }
    // Fresh planner statistics, as a running database has.
    pool.exec("ANALYZE".to_string()).await;
    (ids, accounts)
}

async fn bench_db(label: &str, url: &str, n: usize) -> Vec<String> {
    let store = Store::connect(url)
        .await
        .unwrap()
        .unlock(MasterKey::generate())
        .await
        .unwrap();
    let (tenant, owner) =
        castellan::cli::create_tenant(&store, "bench", "Bench", "owner@bench.test")
            .await
            .unwrap();
    let token = castellan::cli::create_token(&store, &tenant.id, "bench", None)
        .await
        .unwrap();
    let t0 = Instant::now();
    let (ids, accounts) = seed(url, &tenant.id, n).await;
    let accounts_first = accounts[0].clone();
    eprintln!(
        "# {label}: seeded {n} users in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(store.count_users(&tenant.id).await.unwrap(), n as i64 + 1);

    let query = |prefix: Option<String>, text: Option<String>, after| UserQuery {
        email_prefix: prefix,
        text,
        status: None,
        account_id: None,
        role_id: None,
        group_id: None,
        scope: UserScope::All,
        sort: Default::default(),
        after,
        limit: 50,
    };
    let mut out = vec![];
    let s = &store;
    let tid = &tenant.id;
    out.push(
        measure(
            "store: email prefix search (~100 matches, page of 50)",
            2000,
            |i| {
                let q = query(
                    Some(format!("user{:04}", rand(i) % (n / 100).max(1))),
                    None,
                    None,
                );
                async move {
                    let page = s.list_users(tid, &q).await.unwrap();
                    assert!(!page.items.is_empty());
                }
            },
        )
        .await
        .line(label),
    );
    out.push(
        measure("store: first page of all users (50)", 1000, |_| {
            let q = query(None, None, None);
            async move {
                assert_eq!(s.list_users(tid, &q).await.unwrap().items.len(), 50);
            }
        })
        .await
        .line(label),
    );
    out.push(
        measure(
            "store: deep page via cursor (50 after a random user)",
            1000,
            |i| {
                let k = rand(i) % n;
                let q = query(
                    None,
                    None,
                    Some((format!("user{k:06}@example.com"), UserId(String::new()))),
                );
                async move {
                    s.list_users(tid, &q).await.unwrap();
                }
            },
        )
        .await
        .line(label),
    );
    out.push(
        measure("store: substring search `q` (full scan)", 50, |i| {
            let q = query(None, Some(format!("{:05}@", rand(i) % n)), None);
            async move {
                s.list_users(tid, &q).await.unwrap();
            }
        })
        .await
        .line(label),
    );
    out.push(
        measure("store: effective permissions of one user", 3000, |i| {
            let id = UserId(ids[rand(i) % ids.len()].clone());
            async move {
                let eff = s.effective_permissions(tid, &id).await.unwrap();
                assert!(!eff.permissions.is_empty());
            }
        })
        .await
        .line(label),
    );

    // Through the HTTP API (token check, JSON), one client, sequential requests.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/t/bench/api/v1", listener.local_addr().unwrap());
    let state = AppState::new(
        store.clone(),
        Config {
            database_url: url.into(),
            ..Config::default()
        },
    );
    let server = tokio::spawn(async move {
        let _ = castellan::http::serve(listener, state).await;
    });
    let client = reqwest::Client::new();
    let (c, b, tk) = (&client, &base, &token);
    out.push(
        measure("http: GET /users?email_prefix=...", 1000, |i| {
            let url = format!(
                "{b}/users?email_prefix=user{:04}",
                rand(i) % (n / 100).max(1)
            );
            async move {
                assert_eq!(
                    c.get(url).bearer_auth(tk).send().await.unwrap().status(),
                    200
                );
            }
        })
        .await
        .line(label),
    );
    out.push(
        measure("http: GET /users/{id}/effective-permissions", 1000, |i| {
            let url = format!(
                "{b}/users/{}/effective-permissions",
                ids[rand(i) % ids.len()]
            );
            async move {
                let res = c.get(url).bearer_auth(tk).send().await.unwrap();
                assert_eq!(res.status(), 200);
            }
        })
        .await
        .line(label),
    );

    // The console's user list, as a signed-in owner's browser asks for it (session cookie,
    // CSRF-free GETs, the whole HTML page rendered).
    let origin = base.trim_end_matches("/t/bench/api/v1").to_owned();
    let password = "bench console password";
    let res = client
        .put(format!("{base}/users/{}/password", owner.id))
        .bearer_auth(tk)
        .json(&serde_json::json!({ "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let web = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = web
        .get(format!("{origin}/t/bench/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = login.find(marker).expect("a CSRF field") + marker.len();
    let csrf = &login[start..start + login[start..].find('"').unwrap()];
    let res = web
        .post(format!("{origin}/t/bench/login"))
        .form(&[
            ("email", "owner@bench.test"),
            ("password", password),
            ("csrf", csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "signed in");
    let w = &web;
    let console = format!("{origin}/t/bench/console/users");
    let cu = &console;
    out.push(
        measure(
            "console: user list page, email prefix search (page of 50)",
            500,
            |i| {
                let url = format!("{cu}?q=user{:04}%40", rand(i) % (n / 100).max(1));
                async move {
                    let res = w.get(url).send().await.unwrap();
                    assert_eq!(res.status(), 200);
                    let body = res.text().await.unwrap();
                    assert!(body.contains("user-table"));
                }
            },
        )
        .await
        .line(label),
    );
    // The 50th page of the whole list: the cursor of page 49 is taken from the pages before.
    let mut url = format!("{cu}?q=&sort=email");
    for _ in 0..49 {
        let body = w.get(&url).send().await.unwrap().text().await.unwrap();
        let i = body.find("rel=\"next\"").expect("a next page");
        let href = &body[..i];
        let h = href.rfind("href=\"").unwrap() + 6;
        url = format!(
            "{origin}{}",
            href[h..h + href[h..].find('"').unwrap()]
                .replace("&#38;", "&")
                .replace("&amp;", "&")
        );
    }
    let page50 = &url;
    out.push(
        measure(
            "console: user list page 50 (by email)",
            500,
            |_| async move {
                let res = w.get(page50).send().await.unwrap();
                assert_eq!(res.status(), 200);
                assert!(res.text().await.unwrap().contains("user-table"));
            },
        )
        .await
        .line(label),
    );
    out.push(
        measure(
            "console: user list, newest first, in one account (page of 50)",
            500,
            |_| {
                let url = format!("{cu}?sort=-created&account={}", accounts_first);
                async move {
                    let res = w.get(url).send().await.unwrap();
                    assert_eq!(res.status(), 200);
                }
            },
        )
        .await
        .line(label),
    );
    server.abort();
    store.close().await;
    out
}

#[tokio::main]
async fn main() {
    let n = common::users();
    let lines =
        common::on_each_database(|label, url| async move { bench_db(label, &url, n).await }).await;
    println!("\n{n} users in the tenant; milliseconds\n");
    println!("| database | operation | median | p95 | p99 | samples |");
    println!("|---|---|---|---|---|---|");
    for l in lines {
        println!("{l}");
    }
}
