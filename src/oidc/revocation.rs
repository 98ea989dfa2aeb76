//! Token revocation (RFC 7009) for authenticated clients (public ones by their `client_id`):
//! a refresh token revokes its whole grant, with every access token that names it; an access
//! token is revoked alone. Tokens that are not valid are answered like revoked ones (§2.2).

use super::Provider;
use super::client_auth;
use super::error::{ErrorCode, OAuthError, OAuthResult};
use super::token::Params;
use super::token::refresh_token::client_actor;
use super::verify;
use crate::domain::Tenant;
use crate::domain::secrets::hash_secret;
use crate::store::Store;

/// Which kind of token the client says it sends (`token_type_hint`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hint {
    AccessToken,
    RefreshToken,
}

fn hint(value: Option<String>) -> OAuthResult<Option<Hint>> {
    match value.as_deref() {
        None => Ok(None),
        Some("access_token") => Ok(Some(Hint::AccessToken)),
        Some("refresh_token") => Ok(Some(Hint::RefreshToken)),
        Some(other) => Err(OAuthError::new(
            ErrorCode::UnsupportedTokenType,
            format!("tokens of type `{other}` cannot be revoked here"),
        )),
    }
}

fn not_yours() -> OAuthError {
    OAuthError::new(
        ErrorCode::UnauthorizedClient,
        "the token was not issued to this client",
    )
}

/// Authenticates the client, then revokes the `token` parameter if it is one of the client's.
pub async fn revoke(
    provider: &Provider,
    store: &Store,
    tenant: &Tenant,
    issuer: &str,
    authorization: Option<&str>,
    pairs: Vec<(String, String)>,
) -> OAuthResult<()> {
    let mut params = Params::new(pairs)?;
    let presented = client_auth::presented(authorization, &mut params)?;
    let entry = client_auth::authenticate(provider, store, &tenant.id, &presented, issuer).await?;
    let token = params
        .take("token")
        .ok_or_else(|| OAuthError::invalid_request("the parameter `token` is missing"))?;
    let hint = hint(params.take("token_type_hint"))?;
    // The hint only orders the search (§2.1): a wrong hint still finds the token.
    let refresh_first = hint != Some(Hint::AccessToken);
    if refresh_first && revoke_refresh(store, tenant, &entry.client, &token).await? {
        return Ok(());
    }
    let signed = verify::signed_claims(provider, store, tenant, issuer, &token).await?;
    if let Ok(claims) = signed {
        if claims.client_id != entry.client.client_id {
            return Err(not_yours());
        }
        return Ok(store
            .revoke_access_token(&tenant.id, &claims.jti, claims.exp * 1000)
            .await?);
    }
    if !refresh_first {
        revoke_refresh(store, tenant, &entry.client, &token).await?;
    }
    Ok(())
}

/// Revokes the grant of `token` if it is a refresh token of `client`; `false` if it is none.
async fn revoke_refresh(
    store: &Store,
    tenant: &Tenant,
    client: &crate::domain::oidc::Client,
    token: &str,
) -> OAuthResult<bool> {
    let Some((_, grant)) = store.refresh_token(&tenant.id, &hash_secret(token)).await? else {
        return Ok(false);
    };
    if grant.client_id != client.id {
        return Err(not_yours());
    }
    store
        .revoke_grant(
            &tenant.id,
            &grant.id,
            "revoked by the client",
            &client_actor(client),
        )
        .await?;
    Ok(true)
}
