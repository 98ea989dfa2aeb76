//! The authorization code grant (RFC 6749 §4.1.3, OpenID Connect Core §3.1.3) with PKCE
//! (RFC 7636, S256): an RFC 9068 access token and an ID token for the signed-in user.

use super::{Params, TokenResponse};
use crate::domain::clock::now_ms;
use crate::domain::oidc::GrantType;
use crate::domain::secrets::hash_secret;
use crate::domain::sessions::AuthCode;
use crate::domain::{Tenant, UserStatus};
use crate::oidc::claims::{Authorisation, UserInfo, authorisation};
use crate::oidc::error::{ErrorCode, OAuthError, OAuthResult};
use crate::oidc::keys::ID_TOKEN_TTL;
use crate::oidc::{ClientEntry, Provider};
use crate::store::Store;
use base64::Engine;
use serde::Serialize;
use sha2::Digest;
use subtle::ConstantTimeEq;

/// What the client sends with the code.
pub struct Request {
    code: String,
    redirect_uri: String,
    code_verifier: String,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

impl Request {
    pub fn parse(params: &mut Params) -> OAuthResult<Self> {
        let mut required = |name: &str| {
            params.take(name).ok_or_else(|| {
                OAuthError::invalid_request(format!("the parameter `{name}` is missing"))
            })
        };
        let code = required("code")?;
        let redirect_uri = required("redirect_uri")?;
        let code_verifier = required("code_verifier")?;
        // RFC 7636 §4.1: 43 to 128 unreserved characters.
        let well_formed = (43..=128).contains(&code_verifier.len())
            && code_verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if !well_formed {
            return Err(OAuthError::invalid_request(
                "`code_verifier` must be 43 to 128 unreserved characters",
            ));
        }
        Ok(Request {
            code,
            redirect_uri,
            code_verifier,
        })
    }
}

fn invalid_grant(d: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidGrant, d)
}

/// Whether the verifier hashes to the challenge (S256), in constant time.
fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let digest = sha2::Sha256::digest(verifier.as_bytes());
    let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

/// Checks the code against the request; the code is already marked used.
fn check_code(code: &AuthCode, entry: &ClientEntry, req: &Request, now: i64) -> OAuthResult<()> {
    if code.used {
        return Err(invalid_grant(
            "the authorization code has already been used",
        ));
    }
    if code.client_id != entry.client.id {
        return Err(invalid_grant(
            "the authorization code was issued to another client",
        ));
    }
    if code.expires_at <= now {
        return Err(invalid_grant("the authorization code has expired"));
    }
    if code.redirect_uri != req.redirect_uri {
        return Err(invalid_grant(
            "`redirect_uri` differs from the one of the authorization request",
        ));
    }
    if !pkce_matches(&req.code_verifier, &code.code_challenge) {
        return Err(invalid_grant("the PKCE code verifier does not match"));
    }
    Ok(())
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
    sid: &'a str,
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
    sid: &'a str,
    amr: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    acr: Option<&'a str>,
    #[serde(flatten)]
    info: UserInfo,
    #[serde(flatten)]
    authz: &'a Authorisation,
}

/// Exchanges the code for tokens.
pub async fn issue(
    provider: &Provider,
    store: &Store,
    tenant: &Tenant,
    issuer: &str,
    entry: &ClientEntry,
    req: Request,
) -> OAuthResult<TokenResponse> {
    let client = &entry.client;
    if !client.allows(GrantType::AuthorizationCode) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization_code grant",
        ));
    }
    let now = now_ms();
    let code = store
        .take_auth_code(&tenant.id, &hash_secret(&req.code))
        .await?
        .ok_or_else(|| invalid_grant("the authorization code is not valid"))?;
    check_code(&code, entry, &req, now)?;
    let session = store
        .get_session(&tenant.id, &code.session_id)
        .await?
        .filter(|s| s.live(now))
        .ok_or_else(|| invalid_grant("the sign-in behind this code has ended"))?;
    let user = store
        .get_user(&tenant.id, &code.user_id)
        .await?
        .filter(|u| u.status == UserStatus::Active)
        .ok_or_else(|| invalid_grant("the user can no longer sign in"))?;
    let authz = authorisation(store, &tenant.id, &user, client).await?;
    let scopes: Vec<&str> = code.scope.split(' ').collect();
    let iat = now / 1000;
    let auth_time = code.auth_time / 1000;
    let sub = user.id.to_string();
    let access = AccessClaims {
        iss: issuer,
        sub: &sub,
        aud: &client.client_id,
        client_id: &client.client_id,
        iat,
        exp: iat + client.access_token_ttl,
        jti: uuid::Uuid::new_v4().simple().to_string(),
        scope: &code.scope,
        auth_time,
        sid: &session.id,
        authz: &authz,
    };
    let id = IdClaims {
        iss: issuer,
        sub: &sub,
        aud: &client.client_id,
        azp: &client.client_id,
        exp: iat + ID_TOKEN_TTL,
        iat,
        auth_time,
        nonce: code.nonce.as_deref(),
        sid: &session.id,
        amr: &session.amr,
        acr: session.acr.as_deref(),
        info: UserInfo::of(&user, &scopes),
        authz: &authz,
    };
    let signer = provider
        .keys
        .signer(store, &tenant.id, client.id_token_signed_response_alg)
        .await?;
    Ok(TokenResponse {
        access_token: signer.sign_jwt("at+jwt", &access)?,
        token_type: "Bearer",
        expires_in: client.access_token_ttl,
        scope: Some(code.scope.clone()),
        id_token: Some(signer.sign_jwt("JWT", &id)?),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn pkce_s256_matches_rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(super::pkce_matches(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!super::pkce_matches(
            verifier,
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"
        ));
    }
}
