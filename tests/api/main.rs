//! Integration tests of the admin API over real HTTP, each on a fresh database, on SQLite and
//! on PostgreSQL (`backends!` makes one test of each).

mod common;
mod users;
