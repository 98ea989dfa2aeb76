//! The authorization code grant (RFC 6749 §4.1.3, OpenID Connect Core §3.1.3) with PKCE
//! (RFC 7636, S256): an RFC 9068 access token and an ID token for the signed-in user.

use super::user_tokens::{SignIn, mint, new_refresh_token};
use super::{Params, TokenResponse};
use crate::domain::audit::Actor;
use crate::domain::clock::now_ms;
use crate::domain::oidc::GrantType;
use crate::domain::secrets::hash_secret;
use crate::domain::sessions::{AuthCode, Grant, OFFLINE_GRANT_TTL_MS, Redemption, Session};
use crate::domain::{Tenant, UserStatus};
use crate::oidc::claims::wants_permissions;
use crate::oidc::error::{ErrorCode, OAuthError, OAuthResult};
use crate::oidc::{ClientEntry, Provider};
use crate::store::Store;
use base64::Engine;
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

/// What a code's first exchange issues, named after the code's hash so that a replay finds it
/// without anything more stored: (grant id, access token `jti`).
fn issued_from(code_hash: &str) -> (String, String) {
    let derive = |purpose: &str| hash_secret(&format!("{purpose}:{code_hash}"))[..32].to_owned();
    (derive("grant"), derive("access-token"))
}

/// A code presented again (RFC 6749 §4.1.2): whoever holds it may not be its client, so the
/// access token and the refresh token family issued from its first exchange are revoked.
async fn revoke_replayed(
    store: &Store,
    tenant: &Tenant,
    code_hash: &str,
    now: i64,
) -> OAuthResult<OAuthError> {
    let (grant_id, jti) = issued_from(code_hash);
    let ttl = store.max_access_token_ttl(&tenant.id).await?;
    store
        .revoke_access_token(&tenant.id, &jti, now + ttl.saturating_mul(1000))
        .await?;
    store
        .revoke_grant(
            &tenant.id,
            &grant_id,
            "authorization code replayed",
            &Actor::system(),
        )
        .await?;
    tracing::warn!(tenant = %tenant.slug, "authorization code replayed; its tokens are revoked");
    Ok(invalid_grant(
        "the authorization code has already been used; the tokens issued for it are revoked",
    ))
}

/// Checks the code against the request; the code is already marked used.
fn check_code(code: &AuthCode, entry: &ClientEntry, req: &Request, now: i64) -> OAuthResult<()> {
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

/// Exchanges the code for tokens; a client allowed the refresh_token grant also gets a refresh
/// token, bound to the session unless the scope has `offline_access`.
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
    let code_hash = hash_secret(&req.code);
    let Redemption {
        code,
        session,
        user,
        held,
    } = store
        .redeem_code(&tenant.id, &code_hash, wants_permissions(client))
        .await?
        .ok_or_else(|| invalid_grant("the authorization code is not valid"))?;
    if code.used {
        return Err(revoke_replayed(store, tenant, &code_hash, now).await?);
    }
    check_code(&code, entry, &req, now)?;
    let (grant_id, jti) = issued_from(&code_hash);
    let session = session
        .filter(|s| s.live(now))
        .ok_or_else(|| invalid_grant("the sign-in behind this code has ended"))?;
    let user = user
        .filter(|u| u.status == UserStatus::Active)
        .ok_or_else(|| invalid_grant("the user can no longer sign in"))?;
    let grant = client
        .allows(GrantType::RefreshToken)
        .then(|| new_grant(grant_id, &code, &session, now));
    // A replay that raced this exchange revoked the access token before the grant existed:
    // finish its work. (Checked after the grant is stored, so that a replay either finds the
    // grant to revoke or has revoked the access token before this check.)
    let (refresh_token, replayed) = match &grant {
        Some(g) => {
            let (secret, row) = new_refresh_token(g, now, client.refresh_token_ttl);
            let replayed = store
                .insert_grant_checking(&tenant.id, g, &row, Some(&jti))
                .await?;
            (Some(secret), replayed)
        }
        None => (None, store.access_token_revoked(&tenant.id, &jti).await?),
    };
    if replayed {
        return Err(revoke_replayed(store, tenant, &code_hash, now).await?);
    }
    let minted = mint(
        provider,
        store,
        tenant,
        issuer,
        &SignIn {
            user: &user,
            client,
            scope: &code.scope,
            sid: Some(&session.id),
            auth_time: code.auth_time,
            amr: &session.amr,
            acr: session.acr.as_deref(),
            nonce: code.nonce.as_deref(),
            grant_id: grant.as_ref().map(|g| g.id.as_str()),
            jti: Some(&jti),
            held,
        },
    )
    .await?;
    Ok(TokenResponse {
        access_token: minted.access_token,
        token_type: "Bearer",
        expires_in: client.access_token_ttl,
        scope: Some(code.scope.clone()),
        id_token: minted.id_token,
        refresh_token,
    })
}

/// The grant a code starts: offline (outliving the session) when `offline_access` was granted.
fn new_grant(id: String, code: &AuthCode, session: &Session, now: i64) -> Grant {
    let offline = code.scope.split(' ').any(|s| s == "offline_access");
    Grant {
        id,
        client_id: code.client_id.clone(),
        user_id: code.user_id.clone(),
        session_id: Some(session.id.clone()),
        offline,
        scope: code.scope.clone(),
        auth_time: code.auth_time,
        amr: session.amr.clone(),
        acr: session.acr.clone(),
        created_at: now,
        expires_at: if offline {
            now + OFFLINE_GRANT_TTL_MS
        } else {
            session.expires_at
        },
        revoked_at: None,
    }
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
