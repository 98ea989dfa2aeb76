//! The client credentials grant (RFC 6749 §4.4): an RFC 9068 access token for the client
//! itself, carrying its service roles and the permissions its namespaces let it see.

use super::{Params, TokenResponse};
use crate::domain::Tenant;
use crate::domain::clock::now_ms;
use crate::domain::oidc::{ClientKind, GrantType, in_namespaces};
use crate::oidc::error::{ErrorCode, OAuthError, OAuthResult};
use crate::oidc::{ClientEntry, Provider};
use crate::store::Store;
use serde::Serialize;

/// Scopes that need a signed-in user, so never granted to a client acting for itself.
const USER_SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "phone",
    "offline_access",
    "roles",
];

/// What the client asks for.
#[derive(Debug)]
pub struct Request {
    scope: Option<Vec<String>>,
    resource: Option<String>,
}

impl Request {
    pub fn parse(params: &mut Params) -> OAuthResult<Self> {
        let scope = params.take("scope").map(|s| {
            s.split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        });
        let resource = params.take("resource");
        if let Some(r) = &resource {
            // RFC 8707 §2: an absolute URI without a fragment.
            let absolute = r.split_once(':').is_some_and(|(scheme, rest)| {
                !rest.is_empty()
                    && scheme
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic())
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            });
            if !absolute || r.contains('#') {
                return Err(OAuthError::new(
                    ErrorCode::InvalidTarget,
                    "`resource` must be an absolute URI without a fragment",
                ));
            }
        }
        Ok(Request { scope, resource })
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    client_id: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    roles: &'a [String],
    permissions: Vec<&'a str>,
}

/// The scopes granted: those asked for, which must all be allowed, or by default every
/// allowed scope that does not need a user.
fn granted_scopes(entry: &ClientEntry, asked: Option<Vec<String>>) -> OAuthResult<Vec<String>> {
    let allowed = |s: &str| entry.client.scopes.iter().any(|a| a == s) && !USER_SCOPES.contains(&s);
    match asked {
        None => Ok(entry
            .client
            .scopes
            .iter()
            .filter(|s| allowed(s))
            .cloned()
            .collect()),
        Some(asked) => match asked.iter().find(|s| !allowed(s)) {
            Some(bad) => Err(OAuthError::new(
                ErrorCode::InvalidScope,
                format!("the scope `{bad}` is not allowed for this client"),
            )),
            None => Ok(asked),
        },
    }
}

/// Issues the access token.
pub async fn issue(
    provider: &Provider,
    store: &Store,
    tenant: &Tenant,
    issuer: &str,
    entry: &ClientEntry,
    req: Request,
) -> OAuthResult<TokenResponse> {
    let client = &entry.client;
    if client.kind != ClientKind::Confidential || !client.allows(GrantType::ClientCredentials) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the client_credentials grant",
        ));
    }
    let scopes = granted_scopes(entry, req.scope)?;
    let scope = (!scopes.is_empty()).then(|| scopes.join(" "));
    let signer = provider
        .keys
        .signer(store, &tenant.id, client.id_token_signed_response_alg)
        .await?;
    let now = now_ms() / 1000;
    let claims = Claims {
        iss: issuer,
        sub: &client.client_id,
        aud: req.resource.as_deref().unwrap_or(&client.client_id),
        client_id: &client.client_id,
        iat: now,
        exp: now + client.access_token_ttl,
        jti: uuid::Uuid::new_v4().simple().to_string(),
        scope: scope.as_deref(),
        roles: &entry.grants.roles,
        permissions: entry
            .grants
            .permissions
            .iter()
            .filter(|p| in_namespaces(p, &client.permission_namespaces))
            .map(String::as_str)
            .collect(),
    };
    let access_token = signer.sign_jwt("at+jwt", &claims)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: client.access_token_ttl,
        scope,
        id_token: None,
        refresh_token: None,
    })
}
