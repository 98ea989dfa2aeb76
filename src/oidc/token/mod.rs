//! The token endpoint (RFC 6749 §3.2): a typed `TokenRequest`, client authentication, then one
//! module per grant.

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;
pub mod user_tokens;

use super::Provider;
use super::client_auth::{self, Presented};
use super::error::{ErrorCode, OAuthError, OAuthResult};
use crate::domain::Tenant;
use crate::domain::oidc::GrantType;
use crate::store::Store;
use serde::Serialize;
use std::collections::HashMap;

/// Form parameters, each at most once (RFC 6749 §3.2: repeated parameters are invalid).
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Refuses repeated parameters; empty values count as absent (RFC 6749 §3.1).
    pub fn new(pairs: Vec<(String, String)>) -> OAuthResult<Self> {
        let mut map = HashMap::with_capacity(pairs.len());
        for (k, v) in pairs {
            if v.is_empty() {
                continue;
            }
            if map.insert(k.clone(), v).is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "the parameter `{k}` is repeated"
                )));
            }
        }
        Ok(Self(map))
    }
    pub fn take(&mut self, name: &str) -> Option<String> {
        self.0.remove(name)
    }
}

/// A grant Castellan answers at the token endpoint.
#[derive(Debug)]
pub enum Grant {
    AuthorizationCode(authorization_code::Request),
    ClientCredentials(client_credentials::Request),
    RefreshToken(refresh_token::Request),
}

/// A token request, validated: who the client says it is, and what it asks for.
#[derive(Debug)]
pub struct TokenRequest {
    pub client: Presented,
    pub grant: Grant,
}

impl TokenRequest {
    /// Types the form: an unknown or not yet served `grant_type` is `unsupported_grant_type`.
    pub fn parse(authorization: Option<&str>, pairs: Vec<(String, String)>) -> OAuthResult<Self> {
        let mut params = Params::new(pairs)?;
        let grant_type = params
            .take("grant_type")
            .ok_or_else(|| OAuthError::invalid_request("the parameter `grant_type` is missing"))?;
        let unsupported = || {
            OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                format!("the grant type `{grant_type}` is not supported"),
            )
        };
        let grant_type = GrantType::parse(&grant_type).ok_or_else(unsupported)?;
        let client = client_auth::presented(authorization, &mut params)?;
        let grant = match grant_type {
            GrantType::ClientCredentials => {
                Grant::ClientCredentials(client_credentials::Request::parse(&mut params)?)
            }
            GrantType::AuthorizationCode => {
                Grant::AuthorizationCode(authorization_code::Request::parse(&mut params)?)
            }
            GrantType::RefreshToken => {
                Grant::RefreshToken(refresh_token::Request::parse(&mut params)?)
            }
        };
        Ok(TokenRequest { client, grant })
    }
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// Authenticates the client and runs its grant.
pub async fn exchange(
    provider: &Provider,
    store: &Store,
    tenant: &Tenant,
    issuer: &str,
    req: TokenRequest,
) -> OAuthResult<TokenResponse> {
    let client =
        client_auth::authenticate(provider, store, &tenant.id, &req.client, issuer).await?;
    match req.grant {
        Grant::AuthorizationCode(grant) => {
            authorization_code::issue(provider, store, tenant, issuer, &client, grant).await
        }
        Grant::ClientCredentials(grant) => {
            client_credentials::issue(provider, store, tenant, issuer, &client, grant).await
        }
        Grant::RefreshToken(grant) => {
            refresh_token::issue(provider, store, tenant, issuer, &client, grant).await
        }
    }
}
