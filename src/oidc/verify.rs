//! Verification of the access tokens a tenant issued (RFC 9068), as userinfo and introspection
//! need it: the signature with the published key named by `kid`, `typ: at+jwt`, the issuer, the
//! expiry, then what the token stands for still holding (client, user, session).

use super::error::OAuthResult;
use super::{ClientEntry, Provider};
use crate::domain::clock::now_ms;
use crate::domain::sessions::{AccessTokenState, Session};
use crate::domain::{Tenant, User, UserId, UserStatus};
use crate::store::Store;
use serde::Deserialize;
use std::sync::Arc;

/// The claims of an access token Castellan signed.
#[derive(Debug, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    #[serde(default)]
    pub aud: serde_json::Value,
    pub client_id: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub sid: Option<String>,
    /// The grant the token belongs to, when it has one.
    #[serde(default)]
    pub gid: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub permissions: Vec<String>,
}

impl AccessClaims {
    /// The token's scopes.
    pub fn scopes(&self) -> Vec<&str> {
        self.scope
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// Who a valid token stands for.
#[derive(Debug)]
pub enum Subject {
    /// A signed-in user, through a live session or an offline grant (then `session` is `None`
    /// once the session has ended).
    User {
        user: Box<User>,
        session: Option<Session>,
    },
    /// The client itself (client credentials).
    Client,
}

/// A valid access token.
#[derive(Debug)]
pub struct Verified {
    pub claims: AccessClaims,
    pub client: Arc<ClientEntry>,
    pub subject: Subject,
}

/// Why a token is not valid (a short description safe to send: it never echoes the token).
pub type Invalid = &'static str;

/// Verifies `token` for `tenant` (whose issuer is `issuer`). The outer error is an internal
/// failure; the inner one says why the token is not valid.
pub async fn access_token(
    provider: &Provider,
    store: &Store,
    tenant: &Tenant,
    issuer: &str,
    token: &str,
) -> OAuthResult<Result<Verified, Invalid>> {
    let claims = match signed_claims(provider, store, tenant, issuer, token).await? {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    // One read for the revocation, the session and the grant the token names.
    let state = store
        .access_token_state(
            &tenant.id,
            &claims.jti,
            claims.sid.as_deref(),
            claims.gid.as_deref(),
        )
        .await?;
    if state.revoked {
        return Ok(Err("the access token has been revoked"));
    }
    let Some(client) = provider
        .client(store, &tenant.id, &claims.client_id)
        .await?
    else {
        return Ok(Err("the client of the access token no longer exists"));
    };
    if claims.sub == claims.client_id {
        return Ok(Ok(Verified {
            claims,
            client,
            subject: Subject::Client,
        }));
    }
    let session = match still_signed_in(&claims, &client, state) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let user = store
        .get_user(&tenant.id, &UserId(claims.sub.clone()))
        .await?
        .filter(|u| u.status == UserStatus::Active);
    let Some(user) = user else {
        return Ok(Err("the user of the access token is not active"));
    };
    Ok(Ok(Verified {
        claims,
        client,
        subject: Subject::User {
            user: Box::new(user),
            session,
        },
    }))
}

/// What keeps a user's access token valid: its grant, when it names one (live, of this user and
/// client; its session too unless the grant is offline), else its live session.
fn still_signed_in(
    claims: &AccessClaims,
    client: &ClientEntry,
    state: AccessTokenState,
) -> Result<Option<Session>, Invalid> {
    let now = now_ms();
    let session = state
        .session
        .filter(|s| s.live(now) && s.user_id.as_str() == claims.sub);
    if claims.gid.is_none() {
        return match session {
            Some(s) => Ok(Some(s)),
            None if claims.sid.is_none() => Err("the access token names no session"),
            None => Err("the sign-in behind the access token has ended"),
        };
    }
    let grant = state.grant.filter(|g| {
        g.live(now) && g.user_id.as_str() == claims.sub && g.client_id == client.client.id
    });
    match grant {
        None => Err("the grant of the access token has been revoked"),
        Some(g) if !g.offline && session.is_none() => {
            Err("the sign-in behind the access token has ended")
        }
        Some(_) => Ok(session),
    }
}

/// The claims of `token` once its header, signature, issuer and expiry are checked.
pub async fn signed_claims(
    provider: &Provider,
    store: &Store,
    tenant: &Tenant,
    issuer: &str,
    token: &str,
) -> OAuthResult<Result<AccessClaims, Invalid>> {
    let Ok(header) = jsonwebtoken::decode_header(token) else {
        return Ok(Err("the access token is malformed"));
    };
    let typ_ok = header.typ.as_deref().is_some_and(|t| {
        t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
    });
    if !typ_ok {
        return Ok(Err("the token is not an access token"));
    }
    let Some(kid) = header.kid.as_deref() else {
        return Ok(Err("the access token names no key"));
    };
    let keys = provider.keys.keys_with(store, &tenant.id, kid).await?;
    let Some(verifier) = keys.verifier(kid) else {
        return Ok(Err("the access token was not signed by this issuer"));
    };
    let mut validation = jsonwebtoken::Validation::new(verifier.alg);
    validation.leeway = 0;
    validation.validate_aud = false;
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    match jsonwebtoken::decode::<AccessClaims>(token, &verifier.key, &validation) {
        Ok(data) => Ok(Ok(data.claims)),
        Err(e) => Ok(Err(match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => "the access token has expired",
            jsonwebtoken::errors::ErrorKind::InvalidIssuer => {
                "the access token was issued by another issuer"
            }
            _ => "the access token is not valid",
        })),
    }
}
