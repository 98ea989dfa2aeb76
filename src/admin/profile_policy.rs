//! The profile policy: which fields of their profile people change themselves in the account
//! portal. Administrators read and set it with the settings permissions; the portal reads it for
//! the person signed in.

use crate::domain::authz::Caller;
use crate::domain::permissions::admin;
use crate::domain::profile_policy::ProfilePolicy;
use crate::domain::*;
use crate::store::Store;

/// The tenant's policy, without the custom fields deleted since it was set. Any caller of the
/// tenant reads it: the portal needs it to know which fields to offer.
pub async fn current(store: &Store, tenant: &TenantId) -> Result<ProfilePolicy> {
    let defs = store.attribute_defs(tenant).await?;
    Ok(store.profile_policy(tenant).await?.known(&defs))
}

/// The policy, for an administrator.
pub async fn get(store: &Store, caller: &Caller) -> Result<ProfilePolicy> {
    caller.require(admin::SETTINGS_READ)?;
    current(store, caller.tenant_id()).await
}

/// Sets the policy. Every field must be a standard profile field or a custom field of the
/// tenant; the stored form is canonical (ordered, each once).
pub async fn set(store: &Store, caller: &Caller, req: ProfilePolicy) -> Result<ProfilePolicy> {
    caller.require(admin::SETTINGS_WRITE)?;
    let defs = store.attribute_defs(caller.tenant_id()).await?;
    let policy = req.checked(&defs)?;
    store
        .set_profile_policy(caller.tenant_id(), &policy, &caller.actor())
        .await
}
