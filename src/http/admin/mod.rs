//! The admin REST API under `/t/{tenant}/api/v1`: one module per resource, each with its router.

mod accounts;
mod attributes;
mod audit;
mod clients;
mod consents;
mod groups;
mod imports;
mod invitations;
mod keys;
mod mail;
mod management;
mod memberships;
mod mfa;
mod notifications;
mod overrides;
mod permissions;
mod profile_policy;
mod roles;
mod scim;
mod sessions;
mod tokens;
mod users;

use super::AppState;
use axum::Router;
pub use imports::{MAX_IMPORT_BYTES, export_body, report_body};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(imports::router())
        .merge(users::router())
        .merge(invitations::router())
        .merge(accounts::router())
        .merge(memberships::router())
        .merge(management::router())
        .merge(attributes::router())
        .merge(audit::router())
        .merge(mail::router())
        .merge(notifications::router())
        .merge(tokens::router())
        .merge(clients::router())
        .merge(consents::router())
        .merge(keys::router())
        .merge(groups::router())
        .merge(overrides::router())
        .merge(permissions::router())
        .merge(profile_policy::router())
        .merge(roles::router())
        .merge(scim::router())
        .merge(mfa::router())
        .merge(sessions::router())
}
