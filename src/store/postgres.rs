//! The PostgreSQL instance of the store (production, several replicas on one database).

pub type DB = sqlx::Postgres;
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");
pub const DIALECT: super::Dialect = super::Dialect::Postgres;

// The same backend source is compiled once per database, on purpose.
#[allow(clippy::duplicate_mod)]
#[path = "backend/mod.rs"]
pub mod backend;
