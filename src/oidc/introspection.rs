//! Token introspection (RFC 7662) for authenticated confidential clients: `active: false` for
//! anything that is not a valid access token of this tenant standing for a live user or client.

use super::Provider;
use super::claims::authorisation;
use super::client_auth;
use super::error::{OAuthError, OAuthResult};
use super::token::Params;
use super::token::refresh_token::signed_in;
use super::verify::{self, Subject};
use crate::domain::clock::now_ms;
use crate::domain::oidc::{Client, ClientKind};
use crate::domain::secrets::hash_secret;
use crate::domain::{Tenant, UserStatus};
use crate::store::Store;
use serde_json::{Value, json};

/// Authenticates the client, then describes the `token` parameter.
pub async fn introspect(
    provider: &Provider,
    store: &Store,
    tenant: &Tenant,
    issuer: &str,
    authorization: Option<&str>,
    pairs: Vec<(String, String)>,
) -> OAuthResult<Value> {
    let mut params = Params::new(pairs)?;
    let presented = client_auth::presented(authorization, &mut params)?;
    let entry = client_auth::authenticate(provider, store, &tenant.id, &presented, issuer).await?;
    // A public client proves nothing about itself (RFC 7662 §2.1).
    if entry.client.kind != ClientKind::Confidential {
        return Err(OAuthError::invalid_client("client authentication failed"));
    }
    let token = params
        .take("token")
        .ok_or_else(|| OAuthError::invalid_request("the parameter `token` is missing"))?;
    let Ok(verified) = verify::access_token(provider, store, tenant, issuer, &token).await? else {
        return refresh_token(store, tenant, &entry.client, &token).await;
    };
    let c = &verified.claims;
    let mut body = json!({
        "active": true,
        "scope": c.scope,
        "client_id": c.client_id,
        "sub": c.sub,
        "aud": c.aud,
        "exp": c.exp,
        "iat": c.iat,
        "iss": c.iss,
        "jti": c.jti,
        "token_type": "Bearer",
    });
    let extra = match &verified.subject {
        Subject::User { user, .. } => {
            let held = verified.held.clone();
            let authz =
                authorisation(store, &tenant.id, user, &verified.client.client, held).await?;
            json!({ "username": user.username, "sid": c.sid, "roles": authz.roles,
                    "permissions": authz.permissions, "groups": authz.groups,
                    "accounts": authz.accounts })
        }
        Subject::Client => json!({ "roles": c.roles, "permissions": c.permissions }),
    };
    if let (Some(out), Value::Object(extra)) = (body.as_object_mut(), extra) {
        out.extend(extra);
    }
    if let (None, Some(out)) = (&c.scope, body.as_object_mut()) {
        out.remove("scope");
    }
    Ok(body)
}

/// A refresh token, described to the client it was issued to only (for any other client it is
/// `active: false`, so one app cannot probe another's tokens): active while unused, unexpired,
/// its grant live, its user active and, for a grant without offline access, its session live.
async fn refresh_token(
    store: &Store,
    tenant: &Tenant,
    client: &Client,
    token: &str,
) -> OAuthResult<Value> {
    let inactive = json!({ "active": false });
    let now = now_ms();
    let Some(found) = store
        .refresh_context(&tenant.id, &hash_secret(token))
        .await?
    else {
        return Ok(inactive);
    };
    let (rt, grant) = (&found.token, &found.grant);
    if grant.client_id != client.id
        || rt.used_at.is_some()
        || rt.expires_at <= now
        || !grant.live(now)
    {
        return Ok(inactive);
    }
    if !signed_in(store, tenant, grant, found.session.as_ref(), now, false).await? {
        return Ok(inactive);
    }
    let Some(user) = found.user.filter(|u| u.status == UserStatus::Active) else {
        return Ok(inactive);
    };
    Ok(json!({
        "active": true,
        "token_type": "refresh_token",
        "scope": grant.scope,
        "client_id": client.client_id,
        "sub": user.id.as_str(),
        "username": user.username,
        "iat": rt.created_at / 1000,
        "exp": rt.expires_at / 1000,
        "sid": grant.session_id,
    }))
}
