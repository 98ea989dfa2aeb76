//! What the benchmarks share: their size and database choice from the environment, and a
//! fresh database of each kind (a temporary SQLite file, a PostgreSQL database dropped after).

use std::future::Future;

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// `BENCH_USERS` (100,000 when unset).
pub fn users() -> usize {
    std::env::var("BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// Runs `bench` (given the database's label and URL) on a fresh SQLite database, then on a
/// fresh PostgreSQL one (`BENCH_ONLY=sqlite|postgres` for one of them); their lines in order.
pub async fn on_each_database<F, Fut>(mut bench: F) -> Vec<String>
where
    F: FnMut(&'static str, String) -> Fut,
    Fut: Future<Output = Vec<String>>,
{
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let mut lines = vec![];
    if only.is_empty() || only == "sqlite" {
        let dir =
            std::env::temp_dir().join(format!("castellan-bench-{}", uuid::Uuid::new_v4().simple()));
        let url = format!("sqlite:{}", dir.join("bench.db").display());
        lines.extend(bench("SQLite", url).await);
        let _ = std::fs::remove_dir_all(dir);
    }
    if only.is_empty() || only == "postgres" {
        use sqlx::Connection;
        let name = format!("castellan_bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(PG_ADMIN).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        // BENCH_PG_LOG_MS=N: the server logs each statement of the run taking N ms or more
        // (how the PostgreSQL figures of BENCHMARKS.md were explained).
        if let Ok(ms) = std::env::var("BENCH_PG_LOG_MS") {
            let ms: u32 = ms
                .parse()
                .expect("BENCH_PG_LOG_MS is a number of milliseconds");
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "ALTER DATABASE {name} SET log_min_duration_statement = {ms}"
            )))
            .execute(&mut admin)
            .await
            .unwrap();
        }
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
        lines.extend(bench("PostgreSQL", url).await);
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await
        .unwrap();
    }
    lines
}
