//! Verification of the access tokens a tenant issued (RFC 9068), as userinfo and introspection
//! need it: the signature with the published key named by `kid`, `typ: at+jwt`, the issuer, the
//! expiry, then what the token stands for still holding (client, user, session).

use super::error::OAuthResult;
use super::{ClientEntry, Provider};
use crate::domain::clock::now_ms;
use crate::domain::permissions::Holdings;
use crate::domain::sessions::{AccessTokenState, Session};
use crate::domain::{Tenant, User, UserId, UserStatus};
use crate::oidc::claims::wants_permissions;
use crate::store::Store;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The claims of an access token Castellan signed.
#[derive(Clone, Debug, Deserialize)]
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
    /// What a user subject holds today (read with the token's state, with
    /// `claims::wants_permissions` of the client).
    pub held: Option<Holdings>,
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
    let Some(client) = provider
        .client(store, &tenant.id, &claims.client_id)
        .await?
    else {
        return Ok(Err("the client of the access token no longer exists"));
    };
    let for_user = claims.sub != claims.client_id;
    let user_id = UserId(claims.sub.clone());
    // One read for the revocation, the session and the grant the token names, and for a user's
    // token the user and what they hold (as the client may see it).
    let mut state = store
        .access_token_state(
            &tenant.id,
            &claims.jti,
            claims.sid.as_deref(),
            claims.gid.as_deref(),
            for_user.then_some(&user_id),
            for_user.then(|| wants_permissions(&client.client)),
        )
        .await?;
    if state.revoked {
        return Ok(Err("the access token has been revoked"));
    }
    if !for_user {
        return Ok(Ok(Verified {
            claims,
            client,
            subject: Subject::Client,
            held: None,
        }));
    }
    let (user, held) = (state.user.take(), state.held.take());
    let session = match still_signed_in(&claims, &client, state) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let Some(user) = user.filter(|u| u.status == UserStatus::Active) else {
        return Ok(Err("the user of the access token is not active"));
    };
    Ok(Ok(Verified {
        claims,
        client,
        subject: Subject::User {
            user: Box::new(user),
            session,
        },
        held,
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

/// Access tokens whose signature has been checked, by the SHA-256 of the token's bytes, so that
/// the many userinfo and introspection calls that present one token pay for its signature
/// (an ES256 verification: most of such a request's CPU) once. Only the signature check is
/// remembered: the key must still be published, and the issuer, expiry, revocation, client,
/// grant, session and user are checked on every use as before. A hit is the same bytes as a
/// token that verified, so what it says is what was verified. Bounded: past `MAX_SEEN` entries
/// the expired ones go, and if none has, all of them.
#[derive(Default)]
pub struct SeenTokens {
    entries: RwLock<HashMap<[u8; 32], Arc<Seen>>>,
}

/// A token that verified: for whom and by which key, and its claims.
struct Seen {
    tenant: crate::domain::TenantId,
    kid: String,
    claims: AccessClaims,
}

/// How many verified tokens are remembered at most (a few MB).
const MAX_SEEN: usize = 8_192;

impl SeenTokens {
    fn digest(token: &str) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(token.as_bytes()).into()
    }

    /// The claims of `token` if it verified before for `tenant` with the key `kid`.
    fn get(
        &self,
        digest: &[u8; 32],
        tenant: &crate::domain::TenantId,
        kid: &str,
    ) -> Option<AccessClaims> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(digest)
            .filter(|s| s.tenant == *tenant && s.kid == kid)
            .map(|s| s.claims.clone())
    }

    fn put(
        &self,
        digest: [u8; 32],
        tenant: &crate::domain::TenantId,
        kid: &str,
        claims: &AccessClaims,
    ) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_SEEN {
            let now = now_ms() / 1000;
            entries.retain(|_, s| s.claims.exp >= now);
            if entries.len() >= MAX_SEEN {
                entries.clear();
            }
        }
        let seen = Seen {
            tenant: tenant.clone(),
            kid: kid.to_owned(),
            claims: claims.clone(),
        };
        entries.insert(digest, Arc::new(seen));
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
    let digest = SeenTokens::digest(token);
    if let Some(claims) = provider.seen_tokens.get(&digest, &tenant.id, kid) {
        // The signature verified before; the rest is checked now, as `decode` does (no leeway).
        if claims.iss != issuer {
            return Ok(Err("the access token was issued by another issuer"));
        }
        if claims.exp < now_ms() / 1000 {
            return Ok(Err("the access token has expired"));
        }
        return Ok(Ok(claims));
    }
    let mut validation = jsonwebtoken::Validation::new(verifier.alg);
    validation.leeway = 0;
    validation.validate_aud = false;
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    match jsonwebtoken::decode::<AccessClaims>(token, &verifier.key, &validation) {
        Ok(data) => {
            provider
                .seen_tokens
                .put(digest, &tenant.id, kid, &data.claims);
            Ok(Ok(data.claims))
        }
        Err(e) => Ok(Err(match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => "the access token has expired",
            jsonwebtoken::errors::ErrorKind::InvalidIssuer => {
                "the access token was issued by another issuer"
            }
            _ => "the access token is not valid",
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TenantId;

    fn claims(exp: i64) -> AccessClaims {
        AccessClaims {
            iss: "https://idp.example/t/acme".into(),
            sub: "u1".into(),
            aud: serde_json::Value::Null,
            client_id: "c1".into(),
            iat: 0,
            exp,
            jti: "j".into(),
            scope: None,
            sid: None,
            gid: None,
            roles: vec![],
            permissions: vec![],
        }
    }

    #[test]
    fn a_verified_token_is_known_only_for_its_tenant_and_key() {
        let seen = SeenTokens::default();
        let (a, b) = (TenantId("a".into()), TenantId("b".into()));
        let d = SeenTokens::digest("header.payload.signature");
        assert!(seen.get(&d, &a, "k1").is_none());
        seen.put(d, &a, "k1", &claims(i64::MAX));
        assert_eq!(seen.get(&d, &a, "k1").map(|c| c.sub), Some("u1".into()));
        assert!(seen.get(&d, &b, "k1").is_none(), "another tenant");
        assert!(seen.get(&d, &a, "k2").is_none(), "another key");
        let other = SeenTokens::digest("header.payload.signaturf");
        assert!(seen.get(&other, &a, "k1").is_none(), "one byte differs");
    }

    #[test]
    fn the_memory_stays_bounded_and_expired_tokens_go_first() {
        let seen = SeenTokens::default();
        let t = TenantId("a".into());
        let live = SeenTokens::digest("live");
        seen.put(live, &t, "k", &claims(i64::MAX));
        for i in 0..MAX_SEEN + 10 {
            seen.put(SeenTokens::digest(&format!("old{i}")), &t, "k", &claims(1));
        }
        let len = seen.entries.read().unwrap().len();
        assert!(len <= MAX_SEEN, "{len} entries");
        assert!(
            seen.get(&live, &t, "k").is_some(),
            "an unexpired token stays"
        );
    }
}
