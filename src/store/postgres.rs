//! The PostgreSQL instance of the store (production, several replicas on one database).

pub type DB = sqlx::Postgres;
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");
pub const DIALECT: super::Dialect = super::Dialect::Postgres;

#[path = "backend/mod.rs"]
pub mod backend;
