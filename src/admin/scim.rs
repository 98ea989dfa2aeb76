//! SCIM tokens and settings, managed by administrators: the token's secret is shown once.

use super::validate;
use crate::domain::authz::Caller;
use crate::domain::permissions::admin;
use crate::domain::scim::{ScimRequest, ScimSettings, ScimToken};
use crate::domain::*;
use crate::store::Store;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateScimToken {
    pub name: String,
}

/// A created SCIM token with its secret, which is never shown again.
#[derive(Debug, Serialize)]
pub struct CreatedScimToken {
    pub token: String,
    #[serde(flatten)]
    pub scim_token: ScimToken,
}

/// Every SCIM token of the tenant, without secrets.
pub async fn list_tokens(store: &Store, caller: &Caller) -> Result<Vec<ScimToken>> {
    caller.require(admin::TOKENS_MANAGE)?;
    store.list_scim_tokens(caller.tenant_id()).await
}

/// Creates a SCIM token; only the SHA-256 hash of its secret is stored. A SCIM token provisions
/// users and groups, so only callers who may write both may create one.
pub async fn create_token(
    store: &Store,
    caller: &Caller,
    req: CreateScimToken,
) -> Result<CreatedScimToken> {
    caller.require(admin::TOKENS_MANAGE)?;
    caller.require(admin::USERS_WRITE)?;
    caller.require(admin::USERS_DELETE)?;
    caller.require(admin::GROUPS_WRITE)?;
    let name = validate::name("name", &req.name, 100)?;
    let (token, scim_token) = issue(store, caller.tenant_id(), &name, &caller.actor()).await?;
    Ok(CreatedScimToken { token, scim_token })
}

/// Makes a token and stores its hash; returns the secret.
pub async fn issue(
    store: &Store,
    tenant: &TenantId,
    name: &str,
    actor: &crate::domain::audit::Actor,
) -> Result<(String, ScimToken)> {
    let (secret, hash) = crate::domain::secrets::new_bearer("scim_");
    let t = store.insert_scim_token(tenant, name, &hash, actor).await?;
    Ok((secret, t))
}

/// Revokes a SCIM token: from then on it is refused (401).
pub async fn revoke_token(store: &Store, caller: &Caller, id: &ScimTokenId) -> Result<()> {
    caller.require(admin::TOKENS_MANAGE)?;
    store
        .revoke_scim_token(caller.tenant_id(), id, &caller.actor())
        .await
}

/// The tenant's SCIM settings.
pub async fn settings(store: &Store, caller: &Caller) -> Result<ScimSettings> {
    caller.require(admin::USERS_READ)?;
    store.scim_settings(caller.tenant_id()).await
}

/// Changes what a SCIM DELETE does, and whether directories may change administrators.
/// Letting them (`manage_administrators`) puts every administrator within reach of whoever holds
/// a SCIM token, so only the owner's standing may turn it on.
pub async fn set_settings(
    store: &Store,
    caller: &Caller,
    req: ScimSettings,
) -> Result<ScimSettings> {
    caller.require(admin::USERS_DELETE)?;
    if req.manage_administrators
        && !store
            .scim_settings(caller.tenant_id())
            .await?
            .manage_administrators
    {
        caller.require_owner_standing("let SCIM directories manage administrators")?;
    }
    store
        .set_scim_settings(caller.tenant_id(), &req, &caller.actor())
        .await
}

/// The parameters of `GET /scim/requests`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListScimRequests {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// The tenant's latest SCIM requests with their outcome, newest first, a page at a time. They
/// name tokens and the users and groups asked for, so they are for whoever manages the tokens.
pub async fn requests(
    store: &Store,
    caller: &Caller,
    req: ListScimRequests,
) -> Result<Page<ScimRequest>> {
    caller.require(admin::TOKENS_MANAGE)?;
    let limit = validate::limit(req.limit)? as usize;
    let before = match req.cursor {
        None => None,
        Some(c) => Some(c.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
            DomainError::invalid("cursor", "`cursor` is not one this API gave out")
        })?),
    };
    let mut items = store
        .scim_requests(caller.tenant_id(), before, limit as i64 + 1)
        .await?;
    let next_cursor = (items.len() > limit).then(|| {
        items.truncate(limit);
        items.last().map(|r| r.seq.to_string()).unwrap_or_default()
    });
    Ok(Page { items, next_cursor })
}
