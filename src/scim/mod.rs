//! SCIM 2.0 (RFC 7643/7644): the protocol layer. Knows neither axum nor sqlx.

pub mod filter;
