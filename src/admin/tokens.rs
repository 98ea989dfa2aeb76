//! Admin API tokens: list, create (the secret is shown once), revoke.

use super::users::{require_power_over, require_power_over_id};
use super::validate;
use crate::domain::authz::Caller;
use crate::domain::permissions::admin;
use crate::domain::*;
use crate::store::Store;
use serde::{Deserialize, Serialize};

/// A new token: tenant-wide, or acting as `user_id`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub name: String,
    pub user_id: Option<UserId>,
}

/// A created token with its secret, which is never shown again.
#[derive(Debug, Serialize)]
pub struct CreatedToken {
    pub token: String,
    #[serde(flatten)]
    pub api_token: ApiToken,
}

/// Every token of the tenant, without secrets.
pub async fn list(store: &Store, caller: &Caller) -> Result<Vec<ApiToken>> {
    caller.require(admin::TOKENS_MANAGE)?;
    store.list_tokens(caller.tenant_id()).await
}

/// Refuses a token that would carry rights the caller does not hold. A tenant-wide token
/// carries every administration permission and the owner's standing, so only the owner (or
/// another tenant-wide token) may make one; a user-bound token acts as its user, so the caller
/// needs power over that user (see `Caller::require_power_over`).
async fn check_delegable(store: &Store, caller: &Caller, user: Option<&UserId>) -> Result<()> {
    let Some(user_id) = user else {
        return caller.require_owner_standing("create a tenant-wide token");
    };
    let user = store
        .get_user(caller.tenant_id(), user_id)
        .await?
        .ok_or_else(|| {
            DomainError::invalid("user_id", format!("user `{user_id}` does not exist"))
        })?;
    if user.status == UserStatus::Anonymised {
        return Err(DomainError::invalid(
            "user_id",
            "an anonymised user cannot have tokens",
        ));
    }
    let eff = store
        .effective_permissions(caller.tenant_id(), user_id)
        .await?;
    caller.require_all_held(eff.names())?;
    require_power_over(store, caller, &user).await
}

/// Creates a token; only the SHA-256 hash of its secret is stored.
pub async fn create(store: &Store, caller: &Caller, req: CreateToken) -> Result<CreatedToken> {
    caller.require(admin::TOKENS_MANAGE)?;
    let name = validate::name("name", &req.name, 100)?;
    check_delegable(store, caller, req.user_id.as_ref()).await?;
    let (secret, hash) = crate::domain::secrets::new_bearer("cst_");
    let api_token = store
        .insert_token(
            caller.tenant_id(),
            &name,
            req.user_id.as_ref(),
            &hash,
            &caller.actor(),
        )
        .await?;
    Ok(CreatedToken {
        token: secret,
        api_token,
    })
}

/// Revokes a token: from then on it is refused (401). Revoking locks its holder out, so the
/// caller needs power over the token's user (the owner's standing for a tenant-wide token).
pub async fn revoke(store: &Store, caller: &Caller, id: &TokenId) -> Result<()> {
    caller.require(admin::TOKENS_MANAGE)?;
    let tokens = store.list_tokens(caller.tenant_id()).await?;
    if let Some(token) = tokens.iter().find(|t| &t.id == id) {
        match &token.user_id {
            Some(user) => require_power_over_id(store, caller, user).await?,
            None => caller.require_owner_standing("revoke a tenant-wide token")?,
        }
    }
    store
        .revoke_token(caller.tenant_id(), id, &caller.actor())
        .await
}
