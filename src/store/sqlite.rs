//! The SQLite instance of the store (the embedded default).

pub type DB = sqlx::Sqlite;
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
pub const DIALECT: super::Dialect = super::Dialect::Sqlite;

// The same backend source is compiled once per database, on purpose.
#[allow(clippy::duplicate_mod)]
#[path = "backend/mod.rs"]
pub mod backend;
