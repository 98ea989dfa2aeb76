//! Storage: the only place that knows sqlx. One implementation (`backend/`) compiled for SQLite
//! and for PostgreSQL; `Store` picks one at connect time and forwards each call to it.

mod facade;
pub mod group;
pub mod held;
pub mod hot;
pub mod postgres;
pub mod sqlite;

use crate::domain::sealing::MasterKey;
use crate::domain::{DomainError, Result};
use sqlx::ConnectOptions;
use sqlx::error::ErrorKind;
use std::str::FromStr;
use std::time::Duration;

/// Where the dialects differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn begin_write(self) -> &'static str {
        match self {
            Self::Sqlite => "BEGIN IMMEDIATE",
            Self::Postgres => "BEGIN",
        }
    }
    /// Row lock for read-modify-write (SQLite's write transaction already excludes writers).
    pub fn for_update(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE",
        }
    }
    /// Row lock for an update that changes no key column: PostgreSQL's `UPDATE` takes this one,
    /// which, unlike `FOR UPDATE`, does not wait for the `KEY SHARE` locks that rows referring to
    /// it (a new group membership) hold.
    pub fn for_no_key_update(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR NO KEY UPDATE",
        }
    }
    /// A query giving one row per string of the JSON array bound as `param`, in a text column
    /// `value`: a set of ids (thousands of members) travels as one bound value, so a statement
    /// over it is written once, not once per batch of `$n` parameters.
    pub fn text_rows(self, param: &str) -> String {
        match self {
            Self::Sqlite => format!("SELECT value FROM json_each({param})"),
            Self::Postgres => {
                format!("SELECT value FROM json_array_elements_text({param}::json) AS j(value)")
            }
        }
    }
}

#[derive(Clone, Debug)]
enum Db {
    Sqlite(sqlite::backend::Backend),
    Postgres(postgres::backend::Backend),
}

/// The token endpoints' connections (`store::hot`), for their reads and on PostgreSQL their
/// writes too: userinfo on SQLite served 8,619 a second with 8, 7,473 with 4 and 5,932 with 2.
const HOT_CONNECTIONS: usize = 8;
/// The token endpoints' writing connections on SQLite, which runs one writer at a time: with
/// 1 the refreshes waited for each other's hand-offs (2,554 a second), with 8 each commit made
/// the others read their pages again (621 us of CPU a refresh against 457 with 2).
const SQLITE_HOT_WRITERS: usize = 2;

/// How long a statement waits for a connection (pooled or kept) before it fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a PostgreSQL connection (pooled or kept) may sit idle before it is pinged on its way
/// out.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(5);

/// A PostgreSQL pool of at most `size` connections. sqlx pings every connection it takes from
/// the pool, by default: a network round trip before every statement. A connection in use a
/// moment ago is alive; one that sat idle (PostgreSQL may have restarted since) is still checked.
fn pg_pool(size: u32) -> sqlx::postgres::PgPoolOptions {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_WHEN_IDLE_FOR {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// The database, whichever it is. Cheap to clone (a pool handle).
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
}

impl Store {
    /// Connects to `url` (`sqlite:PATH` or `postgres://...`), creating an SQLite file and its
    /// folder if needed, and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self> {
        let store = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts = sqlx::postgres::PgConnectOptions::from_str(url)
                .map_err(|e| DomainError::Internal(format!("bad database_url: {e}")))?
                .log_statements(tracing::log::LevelFilter::Trace);
            let pool = pg_pool(16)
                .connect_with(opts.clone())
                .await
                .map_err(|e| DomainError::Internal(format!("cannot connect to PostgreSQL: {e}")))?;
            let hot = hot::Hot::new(
                HOT_CONNECTIONS,
                opts.options([("plan_cache_mode", "force_generic_plan")]),
            );
            Store {
                db: Db::Postgres(postgres::backend::Backend {
                    pool,
                    hot_writes: hot.clone(),
                    hot,
                    writes: None,
                    key: None,
                    held: Default::default(),
                }),
            }
        } else if url.starts_with("sqlite:") {
            let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                .map_err(|e| DomainError::Internal(format!("bad database_url: {e}")))?;
            if let Some(dir) = opts
                .get_filename()
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir).map_err(|e| {
                    DomainError::Internal(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            let opts = opts
                .create_if_missing(true)
                .foreign_keys(true)
                // Deleted and overwritten content is zeroed, so a secret replaced by its sealed
                // form (or a removed factor) does not linger in free pages of the file.
                .pragma("secure_delete", "ON")
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .log_statements(tracing::log::LevelFilter::Trace);
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(8)
                // An SQLite connection is a file in this process: nothing can hang up on it, so
                // the ping sqlx sends before lending one out would only be a hand-off to the
                // connection's worker thread and back for every statement.
                .test_before_acquire(false)
                .connect_with(opts.clone())
                .await
                .map_err(|e| DomainError::Internal(format!("cannot open SQLite database: {e}")))?;
            let hot = hot::Hot::new(HOT_CONNECTIONS, opts.clone());
            let hot_writes = hot::Hot::new(SQLITE_HOT_WRITERS, opts);
            Store {
                db: Db::Sqlite(sqlite::backend::Backend {
                    hot,
                    writes: Some(sqlite::backend::writes(hot_writes.clone())),
                    hot_writes,
                    pool,
                    key: None,
                    held: Default::default(),
                }),
            }
        } else {
            return Err(DomainError::Internal(format!(
                "database_url must start with sqlite: or postgres:, not `{}`",
                url.split(':').next().unwrap_or_default()
            )));
        };
        store.migrate().await?;
        Ok(store)
    }

    /// This store with `key` as its master key (secrets at rest are sealed with it), after
    /// checking that it is the key the database's secrets are sealed with and sealing any secret
    /// still stored raw. A store that was not unlocked refuses to read or write secrets.
    pub async fn unlock(self, key: MasterKey) -> Result<Self> {
        let db = match &self.db {
            Db::Sqlite(b) => Db::Sqlite(b.unlock(key).await?),
            Db::Postgres(b) => Db::Postgres(b.unlock(key).await?),
        };
        Ok(Store { db })
    }

    /// Re-seals every secret at rest under `new`, opening them with `old`, in one transaction;
    /// the number of secrets re-sealed. The store must then be opened with `new`.
    pub async fn reseal(&self, old: &MasterKey, new: &MasterKey) -> Result<u64> {
        match &self.db {
            Db::Sqlite(b) => b.reseal(old, new).await,
            Db::Postgres(b) => b.reseal(old, new).await,
        }
    }

    /// The most token writes (refreshes, code redemptions) run together so far (SQLite groups
    /// them, see `store::group`); `None` on PostgreSQL, which does not.
    pub fn largest_write_group(&self) -> Option<usize> {
        match &self.db {
            Db::Sqlite(b) => b.writes.as_ref().map(group::Group::largest),
            Db::Postgres(_) => None,
        }
    }

    /// The master key the store was unlocked with.
    pub fn master_key(&self) -> Option<&MasterKey> {
        match &self.db {
            Db::Sqlite(b) => b.key.as_deref(),
            Db::Postgres(b) => b.key.as_deref(),
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self.db {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite(b) => {
                b.hot.close().await;
                b.hot_writes.close().await;
                b.pool.close().await
            }
            Db::Postgres(b) => {
                b.hot.close().await;
                b.pool.close().await
            }
        }
    }
}

/// Maps a database error onto the domain: constraint violations become conflicts or invalid
/// input with a readable message; anything else is internal (logged, answered generically).
pub(crate) fn db_error(e: sqlx::Error) -> DomainError {
    if let sqlx::Error::Database(db) = &e {
        let text = format!("{} {}", db.constraint().unwrap_or_default(), db.message());
        match db.kind() {
            ErrorKind::UniqueViolation => return DomainError::Conflict(unique_message(&text)),
            ErrorKind::ForeignKeyViolation => {
                return DomainError::conflict(
                    "the change refers to something that does not exist, or something else still refers to it",
                );
            }
            ErrorKind::CheckViolation => {
                return DomainError::invalid_input(format!(
                    "the change breaks a rule of stored data ({})",
                    db.message()
                ));
            }
            _ => {}
        }
        // Deadlock detected (40P01) or serialization failure (40001): the transaction was
        // rolled back, nothing was written; the store tries the change again.
        if matches!(db.code().as_deref(), Some("40P01" | "40001")) {
            tracing::warn!(error = %e, "a transaction was aborted by a conflicting one");
            return DomainError::Contention;
        }
        // PostgreSQL cannot hold NUL in text (22021) nor characters outside the encoding
        // (22P05). The HTTP guard refuses such input; this is the last line for any path
        // that missed it (the CLI, a header, a decoded token): invalid input, never a 500.
        if matches!(db.code().as_deref(), Some("22021" | "22P05")) {
            return DomainError::invalid_input(
                "text may not contain NUL or characters the database cannot store",
            );
        }
    }
    tracing::error!(error = %e, "database error");
    DomainError::Internal(e.to_string())
}

fn unique_message(text: &str) -> String {
    const KNOWN: [(&[&str], &str); 11] = [
        (
            &["users_email", "users.email_norm"],
            "a user with this email already exists",
        ),
        (
            &["users_username", "users.username_norm"],
            "a user with this username already exists",
        ),
        (
            &["accounts_name", "accounts.name"],
            "an account with this name already exists",
        ),
        (
            &["account_groups_name", "account_groups.name"],
            "an account group with this name already exists",
        ),
        (
            &["roles_name", "roles.name"],
            "a role with this name already exists",
        ),
        (
            &["permissions_name", "permissions.name"],
            "this permission already exists",
        ),
        (
            &["user_roles_unique", "user_roles.user_id"],
            "the user already holds this role there",
        ),
        (
            &["management_unique", "management.manager_id"],
            "this management relation already exists",
        ),
        (
            &["attribute_defs_key", "attribute_defs.key"],
            "an attribute with this key already exists",
        ),
        (
            &["notification_types_key", "notification_types.key"],
            "a notification type with this key already exists",
        ),
        (
            &["memberships_one_main", "memberships.user_id"],
            "the user already has a main account",
        ),
    ];
    KNOWN
        .iter()
        .find(|(needles, _)| needles.iter().any(|n| text.contains(n)))
        .map(|(_, m)| m.to_string())
        .unwrap_or_else(|| "this already exists".to_string())
}
