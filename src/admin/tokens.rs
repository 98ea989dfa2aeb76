//! Admin API tokens: list, create (the secret is shown once), revoke.

use super::validate;
use crate::domain::authz::{Caller, root_token_permissions};
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

/// Refuses a token that would carry rights the caller does not hold: a user-bound token carries
/// the user's effective permissions, a tenant-wide one every administration permission.
async fn check_delegable(store: &Store, caller: &Caller, user: Option<&UserId>) -> Result<()> {
    let Some(user_id) = user else {
        let all = root_token_permissions();
        return caller.require_all_held(all.iter().map(String::as_str));
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
    caller.require_all_held(eff.names())
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

/// Revokes a token: from then on it is refused (401).
pub async fn revoke(store: &Store, caller: &Caller, id: &TokenId) -> Result<()> {
    caller.require(admin::TOKENS_MANAGE)?;
    store
        .revoke_token(caller.tenant_id(), id, &caller.actor())
        .await
}
