//! Administration services: authorise the caller, validate into domain types, call the store.
//! Know neither axum nor sqlx.

pub mod account_email;
pub mod accounts;
pub mod attributes;
pub mod audit;
pub mod clients;
pub mod consents;
pub mod export;
pub mod groups;
pub mod import;
pub mod invitations;
pub mod jobs;
pub mod keys;
pub mod mail;
pub mod management;
pub mod memberships;
pub mod mfa;
pub mod notifications;
pub mod overrides;
pub mod passwords;
pub mod permissions;
pub mod power;
pub mod profile_policy;
pub mod roles;
pub mod scim;
pub mod sessions;
pub mod setup_links;
pub mod sign_in_lock;
pub mod tokens;
pub mod user_sessions;
pub mod users;
pub mod validate;
