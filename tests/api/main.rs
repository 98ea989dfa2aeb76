//! Integration tests of the admin API over real HTTP, each on a fresh database, on SQLite and
//! on PostgreSQL (`backends!` makes one test of each).

mod accounts;
mod attributes;
mod audit;
mod common;
mod concurrency;
mod escalation;
mod groups;
mod import;
mod import_batch;
mod import_more;
mod import_power;
mod management;
mod memberships;
mod mfa;
mod notifications;
mod overrides;
mod permissions;
mod power;
mod power_many;
mod power_race;
mod roles;
mod tokens;
mod users;
