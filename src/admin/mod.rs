//! Administration services: authorise the caller, validate into domain types, call the store.
//! Know neither axum nor sqlx.

pub mod users;
pub mod validate;
