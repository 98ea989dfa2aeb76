//! Signing keys: list (public information only) and rotate.

use crate::domain::Result;
use crate::domain::authz::Caller;
use crate::domain::oidc::SigningKey;
use crate::domain::permissions::admin;
use crate::oidc::Provider;
use crate::store::Store;

/// The tenant's published keys (next, active, retired until they expire), made on first use.
pub async fn list(store: &Store, oidc: &Provider, caller: &Caller) -> Result<Vec<SigningKey>> {
    caller.require(admin::SETTINGS_READ)?;
    oidc.keys.keys(store, caller.tenant_id()).await?;
    store.signing_keys(caller.tenant_id()).await
}

/// Rotates the tenant's keys: the published next key starts signing.
pub async fn rotate(store: &Store, oidc: &Provider, caller: &Caller) -> Result<Vec<SigningKey>> {
    caller.require(admin::SETTINGS_WRITE)?;
    oidc.keys
        .rotate(store, caller.tenant_id(), &caller.actor())
        .await
}
