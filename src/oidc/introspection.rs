//! Token introspection (RFC 7662) for authenticated confidential clients: `active: false` for
//! anything that is not a valid access token of this tenant standing for a live user or client.

use super::Provider;
use super::claims::authorisation;
use super::client_auth;
use super::error::{OAuthError, OAuthResult};
use super::token::Params;
use super::verify::{self, Subject};
use crate::domain::Tenant;
use crate::domain::oidc::ClientKind;
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
        return Ok(json!({ "active": false }));
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
        Subject::User { user, session } => {
            let authz = authorisation(store, &tenant.id, user, &verified.client.client).await?;
            json!({ "username": user.username, "sid": session.id, "roles": authz.roles,
                    "permissions": authz.permissions, "groups": authz.groups })
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
