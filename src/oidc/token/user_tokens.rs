//! The tokens a signed-in user's grant yields, for the authorization code and refresh token
//! grants alike: an RFC 9068 access token, an ID token (OpenID Connect Core §2) when the scope
//! has `openid`, and a new refresh token when the grant has one.

use crate::domain::Tenant;
use crate::domain::User;
use crate::domain::clock::now_ms;
use crate::domain::oidc::Client;
use crate::domain::secrets::{hash_secret, new_secret};
use crate::domain::sessions::{Grant, REFRESH_TOKEN_TTL_MS, RefreshToken};
use crate::oidc::Provider;
use crate::oidc::claims::{Authorisation, UserInfo, authorisation};
use crate::oidc::error::OAuthResult;
use crate::oidc::keys::ID_TOKEN_TTL;
use crate::store::Store;
use serde::Serialize;

/// What the tokens say about the sign-in behind them.
pub struct SignIn<'a> {
    pub user: &'a User,
    pub client: &'a Client,
    /// Space-separated scopes the tokens carry.
    pub scope: &'a str,
    pub sid: Option<&'a str>,
    /// Unix milliseconds.
    pub auth_time: i64,
    pub amr: &'a [String],
    pub acr: Option<&'a str>,
    pub nonce: Option<&'a str>,
    /// The grant the access token belongs to (claim `gid`), when there is one.
    pub grant_id: Option<&'a str>,
}

#[derive(Serialize)]
struct AccessClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    client_id: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
    scope: &'a str,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gid: Option<&'a str>,
    #[serde(flatten)]
    authz: &'a Authorisation,
}

#[derive(Serialize)]
struct IdClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    azp: &'a str,
    exp: i64,
    iat: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    amr: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    acr: Option<&'a str>,
    #[serde(flatten)]
    info: UserInfo,
    #[serde(flatten)]
    authz: &'a Authorisation,
}

/// Signed access and ID tokens.
pub struct Minted {
    pub access_token: String,
    pub id_token: Option<String>,
}

/// Signs the access token and, for `openid`, the ID token, with the user's current roles,
/// permissions (in the client's namespaces) and groups.
pub async fn mint(
    provider: &Provider,
    store: &Store,
    tenant: &Tenant,
    issuer: &str,
    s: &SignIn<'_>,
) -> OAuthResult<Minted> {
    let client = s.client;
    let authz = authorisation(store, &tenant.id, s.user, client).await?;
    let scopes: Vec<&str> = s.scope.split(' ').filter(|x| !x.is_empty()).collect();
    let iat = now_ms() / 1000;
    let auth_time = s.auth_time / 1000;
    let sub = s.user.id.to_string();
    let access = AccessClaims {
        iss: issuer,
        sub: &sub,
        aud: &client.client_id,
        client_id: &client.client_id,
        iat,
        exp: iat + client.access_token_ttl,
        jti: uuid::Uuid::new_v4().simple().to_string(),
        scope: s.scope,
        auth_time,
        sid: s.sid,
        gid: s.grant_id,
        authz: &authz,
    };
    let signer = provider
        .keys
        .signer(store, &tenant.id, client.id_token_signed_response_alg)
        .await?;
    let access_token = signer.sign_jwt("at+jwt", &access)?;
    let id_token = if scopes.contains(&"openid") {
        let id = IdClaims {
            iss: issuer,
            sub: &sub,
            aud: &client.client_id,
            azp: &client.client_id,
            exp: iat + ID_TOKEN_TTL,
            iat,
            auth_time,
            nonce: s.nonce,
            sid: s.sid,
            amr: s.amr,
            acr: s.acr,
            info: UserInfo::of(s.user, &scopes),
            authz: &authz,
        };
        Some(signer.sign_jwt("JWT", &id)?)
    } else {
        None
    };
    Ok(Minted {
        access_token,
        id_token,
    })
}

/// A fresh refresh token of `grant`: the secret for the client, the hashed row for the store.
/// It expires after `REFRESH_TOKEN_TTL_MS` unused, and never after its grant.
pub fn new_refresh_token(grant: &Grant, now: i64) -> (String, RefreshToken) {
    let secret = new_secret("crt_");
    let row = RefreshToken {
        token_hash: hash_secret(&secret),
        grant_id: grant.id.clone(),
        created_at: now,
        expires_at: (now + REFRESH_TOKEN_TTL_MS).min(grant.expires_at),
        used_at: None,
    };
    (secret, row)
}
