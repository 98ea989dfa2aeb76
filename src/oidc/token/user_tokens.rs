//! The tokens a signed-in user's grant yields, for the authorization code and refresh token
//! grants alike: an RFC 9068 access token, an ID token (OpenID Connect Core §2) when the scope
//! has `openid`, and a new refresh token when the grant has one.

use crate::domain::Tenant;
use crate::domain::User;
use crate::domain::clock::now_ms;
use crate::domain::oidc::Client;
use crate::domain::permissions::Holdings;
use crate::domain::secrets::{hash_secret, new_secret};
use crate::domain::sessions::{Grant, RefreshToken, Rotation};
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
    /// The access token's `jti` when the caller must be able to revoke it later (a code's first
    /// exchange); a random one otherwise.
    pub jti: Option<&'a str>,
    /// What the user holds, when it was read with the rest of the request (with
    /// `claims::wants_permissions` of the client); read here otherwise.
    pub held: Option<Holdings>,
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
    let authz = authorisation(store, &tenant.id, s.user, client, s.held.clone()).await?;
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
        jti: s
            .jti
            .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_owned),
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
    let budget = usize::try_from(client.token_claims_budget).unwrap_or(usize::MAX);
    let userinfo = format!("{issuer}/userinfo");
    let access_token = signer.sign_json("at+jwt", &within_budget(&access, budget, &userinfo)?)?;
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
        Some(signer.sign_json("JWT", &within_budget(&id, budget, &userinfo)?)?)
    } else {
        None
    };
    Ok(Minted {
        access_token,
        id_token,
    })
}

/// The claims as JSON, within the client's size budget: when they would take more than `budget`
/// bytes, `permissions` is left out and the token names where to get it instead, as distributed
/// claims (OpenID Connect Core §5.6.2: `_claim_names` / `_claim_sources`), the way Entra ID
/// reports group overage. Userinfo and introspection always answer the full list. Claims within
/// the budget (nearly always) are serialized once.
fn within_budget(
    claims: &impl Serialize,
    budget: usize,
    userinfo: &str,
) -> crate::domain::Result<Vec<u8>> {
    let failed =
        |e: serde_json::Error| crate::domain::DomainError::Internal(format!("claims: {e}"));
    let json = serde_json::to_vec(claims).map_err(failed)?;
    if json.len() <= budget {
        return Ok(json);
    }
    let mut value: serde_json::Value = serde_json::from_slice(&json).map_err(failed)?;
    if let Some(map) = value.as_object_mut()
        && map.remove("permissions").is_some()
    {
        map.insert(
            "_claim_names".into(),
            serde_json::json!({ "permissions": "permissions" }),
        );
        map.insert(
            "_claim_sources".into(),
            serde_json::json!({ "permissions": { "endpoint": userinfo } }),
        );
    }
    serde_json::to_vec(&value).map_err(failed)
}

/// A fresh refresh token of `grant`: the secret for the client, the hashed row for the store.
/// It expires after `ttl_secs` unused (the client's `refresh_token_ttl`), never after its grant.
pub fn new_refresh_token(grant: &Grant, now: i64, ttl_secs: i64) -> (String, RefreshToken) {
    let (secret, next) = new_rotation(now, ttl_secs);
    let row = RefreshToken {
        token_hash: next.token_hash,
        grant_id: grant.id.clone(),
        created_at: now,
        expires_at: next.expires_at.min(grant.expires_at),
        used_at: None,
    };
    (secret, row)
}

/// A fresh refresh token to put in place of a used one at `now`: the secret for the client and
/// what the store needs (it caps the expiry at the grant's, which only it knows).
pub fn new_rotation(now: i64, ttl_secs: i64) -> (String, Rotation) {
    let secret = new_secret("crt_");
    let next = Rotation {
        token_hash: hash_secret(&secret),
        created_at: now,
        expires_at: now.saturating_add(ttl_secs.saturating_mul(1000)),
    };
    (secret, next)
}
