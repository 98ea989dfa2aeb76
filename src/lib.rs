//! Castellan: an identity provider. See README.md for the shape of the code.

pub mod admin;
pub mod cli;
pub mod config;
pub mod csv_cli;
pub mod domain;
pub mod http;
pub mod limits;
pub mod mail;
pub mod master_key;
pub mod oidc;
pub mod scim;
pub mod store;
