//! CSV import and export of 100,000 users, on SQLite and on PostgreSQL: the file made in
//! memory, imported into an empty tenant through `admin::import` (as the CLI does), then
//! exported through `admin::export` into a byte counter. Reports wall time and the process's
//! peak resident memory after each step.
//!
//! Run: `cargo bench --bench import` (PostgreSQL at 127.0.0.1:5432 as for the tests;
//! `BENCH_USERS=N` to change the size, `BENCH_ONLY=sqlite|postgres` to run one database,
//! `BENCH_HOLDINGS_LOG=off` to drop the triggers of the holdings change log first).

use castellan::admin::export::Export;
use castellan::admin::import::{self, Options};
use castellan::domain::sealing::MasterKey;
use castellan::oidc::Provider;
use castellan::oidc::logout::Notifier;
use castellan::store::Store;
use std::time::Instant;

mod common;

/// The process's peak resident set so far, in MiB (`VmHWM`).
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A file of `n` users over three accounts and two roles, with an external id and a date.
fn file(n: usize) -> Vec<u8> {
    let mut out = String::from(
        "email,given_name,family_name,external_id,status,main_account,start_date,roles\n",
    );
    for i in 0..n {
        let account = ["North", "South", "East"][i % 3];
        let role = if i % 5 == 0 {
            "Trainer|Member"
        } else {
            "Member"
        };
        out.push_str(&format!(
            "user{i:06}@example.com,Given {i},\"Family, {i}\",EXT-{i},active,{account},2024-01-0{},{role}\n",
            1 + i % 9
        ));
    }
    out.into_bytes()
}

/// `BENCH_HOLDINGS_LOG=off`: after the migrations, drops the triggers that write the change log
/// of what users hold (migrations 0049 and 0050: every trigger whose statement or function writes
/// `holdings_changes`), so that a run without them, on the same binary, shows what the log
/// costs the import (a membership and a role per user).
async fn without_holdings_log(url: &str) {
    use sqlx::{Connection, Row};
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        let names: Vec<String> = sqlx::query(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%holdings_changes%'",
        )
        .fetch_all(&mut c)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
        assert!(names.len() > 20, "the log's triggers: {names:?}");
        for name in names {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP TRIGGER {name}")))
                .execute(&mut c)
                .await
                .unwrap();
        }
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        let names: Vec<(String, String)> = sqlx::query(
            "SELECT t.tgname::text, t.tgrelid::regclass::text FROM pg_trigger t
             JOIN pg_proc p ON p.oid = t.tgfoid
             WHERE NOT t.tgisinternal AND p.prosrc LIKE '%holdings_changes%'
               AND p.proname <> 'tenant_rows_gone'",
        )
        .fetch_all(&mut c)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
        assert!(names.len() > 10, "the log's triggers: {names:?}");
        for (name, table) in names {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP TRIGGER {name} ON {table}"
            )))
            .execute(&mut c)
            .await
            .unwrap();
        }
    }
}

async fn bench_db(label: &str, url: &str, n: usize) -> Vec<String> {
    let store = Store::connect(url).await.expect("connect");
    if std::env::var("BENCH_HOLDINGS_LOG").as_deref() == Ok("off") {
        without_holdings_log(url).await;
    }
    let store = store.unlock(MasterKey::generate()).await.expect("unlock");
    let (tenant, _) = castellan::cli::create_tenant(&store, "bench", "Bench", "owner@bench.test")
        .await
        .unwrap();
    let caller = castellan::cli::cli_caller(tenant.clone());
    for name in ["North", "South", "East"] {
        let req = castellan::admin::accounts::CreateAccount {
            name: name.into(),
            kind: castellan::domain::AccountKind::Customer,
        };
        castellan::admin::accounts::create(&store, &caller, req)
            .await
            .unwrap();
    }
    let role =
        serde_json::from_value(serde_json::json!({"name": "Trainer", "permissions": []})).unwrap();
    castellan::admin::roles::create(&store, &caller, role)
        .await
        .unwrap();
    let bytes = file(n);
    let provider = Provider::default();
    let notifier = Notifier {
        provider: &provider,
        public_url: "http://localhost",
    };
    let mut lines = vec![];
    for (what, options) in [
        (
            "import, dry run",
            Options {
                dry_run: true,
                ..Options::default()
            },
        ),
        ("import", Options::default()),
        ("import again (all unchanged)", Options::default()),
    ] {
        let t = Instant::now();
        let counts = import::run(&store, notifier, &caller, &bytes, &options, |_| {})
            .await
            .unwrap();
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(counts.refused, 0, "{counts:?}");
        lines.push(format!(
            "| {label} | {what} | {secs:.1} | {:.0} | {:.0} |",
            n as f64 / secs,
            peak_rss_mib()
        ));
    }
    let t = Instant::now();
    let mut bytes_out = 0usize;
    let export = Export::start(store.clone(), caller.clone()).await.unwrap();
    export
        .write_all(|chunk| {
            bytes_out += chunk.len();
            Ok(())
        })
        .await
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    lines.push(format!(
        "| {label} | export ({} MiB of CSV) | {secs:.1} | {:.0} | {:.0} |",
        bytes_out / (1024 * 1024),
        n as f64 / secs,
        peak_rss_mib()
    ));
    store.close().await;
    lines
}

#[tokio::main]
async fn main() {
    let n = common::users();
    let lines =
        common::on_each_database(|label, url| async move { bench_db(label, &url, n).await }).await;
    println!("\n{n} users; seconds, rows per second, peak RSS of the process so far (MiB)\n");
    println!("| database | step | seconds | rows/s | peak RSS MiB |");
    println!("|---|---|---|---|---|");
    for l in lines {
        println!("{l}");
    }
}
