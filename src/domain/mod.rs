//! Plain types and rules of Castellan's domain. Knows neither axum nor sqlx.

pub mod account_email;
pub mod attributes;
pub mod audit;
pub mod authz;
pub mod changes;
pub mod clock;
pub mod consents;
pub mod devices;
pub mod error;
pub mod ids;
pub mod invitations;
pub mod jobs;
pub mod lists;
pub mod mail;
pub mod mfa;
pub mod model;
pub mod oidc;
pub mod password_workers;
pub mod passwords;
pub mod permissions;
pub mod profile_policy;
pub mod redirect;
pub mod scim;
pub mod sealing;
pub mod secrets;
pub mod sessions;
pub mod text;
pub mod throttle;
pub mod versions;

pub use error::{DomainError, Result};
pub use ids::*;
pub use lists::*;
pub use model::*;
