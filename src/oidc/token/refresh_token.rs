//! The refresh token grant (RFC 6749 §6, OpenID Connect Core §12) with rotation: every use
//! returns a new refresh token and retires the old one; presenting a retired one again means two
//! parties hold it, so the whole grant is revoked (OAuth 2.0 Security BCP, RFC 9700 §4.14.2).

use super::user_tokens::{SignIn, mint, new_rotation};
use super::{Params, TokenResponse};
use crate::domain::audit::Actor;
use crate::domain::clock::now_ms;
use crate::domain::oidc::{Client, GrantType};
use crate::domain::secrets::hash_secret;
use crate::domain::sessions::{Grant, RefreshContext, RefreshToken, Session, SessionSettings};
use crate::domain::{Tenant, User, UserStatus};
use crate::oidc::claims::wants_permissions;
use crate::oidc::error::{ErrorCode, OAuthError, OAuthResult};
use crate::oidc::{ClientEntry, Provider};
use crate::store::Store;

/// What the client sends.
pub struct Request {
    refresh_token: String,
    scope: Option<Vec<String>>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl Request {
    pub fn parse(params: &mut Params) -> OAuthResult<Self> {
        let refresh_token = params.take("refresh_token").ok_or_else(|| {
            OAuthError::invalid_request("the parameter `refresh_token` is missing")
        })?;
        let scope = params.take("scope").map(|s| {
            s.split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        });
        Ok(Request {
            refresh_token,
            scope,
        })
    }
}

fn invalid_grant(d: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidGrant, d)
}

/// The client, as the audit log names it when it triggers a revocation.
pub fn client_actor(client: &Client) -> Actor {
    Actor {
        kind: "client",
        id: Some(client.client_id.clone()),
        label: client.name.clone(),
        ip: None,
        power: None,
    }
}

/// Whether `grant` still stands for a sign-in: an offline grant does by itself; any other only
/// while its session (read with it: `session`, with the tenant's session lifetimes) is usable,
/// as a browser's would be (not ended, not idle past the idle timeout, within its maximum
/// lifetime). With `activity` (a refresh: the app acting for the user) the use restarts the
/// session's idle timeout, as a page visit does; an introspection only looks.
pub async fn signed_in(
    store: &Store,
    tenant: &Tenant,
    grant: &Grant,
    session: Option<&(Session, SessionSettings)>,
    now: i64,
    activity: bool,
) -> crate::domain::Result<bool> {
    if grant.offline {
        return Ok(true);
    }
    let Some((session, settings)) = session else {
        return Ok(false);
    };
    if !session.usable(now, settings) {
        return Ok(false);
    }
    if activity && now - session.last_seen_at >= crate::oidc::signin::TOUCH_EVERY_MS {
        store.touch_session(&tenant.id, &session.id, now).await?;
    }
    Ok(true)
}

/// The scope of the new tokens: the grant's, or the part of it the client asks for (RFC 6749
/// §6: asking for more than was granted is `invalid_scope`).
fn narrowed_scope(grant: &Grant, asked: Option<Vec<String>>) -> OAuthResult<String> {
    let Some(asked) = asked else {
        return Ok(grant.scope.clone());
    };
    let granted: Vec<&str> = grant.scope.split(' ').collect();
    if let Some(bad) = asked.iter().find(|s| !granted.contains(&s.as_str())) {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            format!("the scope `{bad}` was not granted"),
        ));
    }
    Ok(asked.join(" "))
}

/// Why the database did not exchange `token`: the first failed check in the order the grant
/// has always made them. A used token (or, on PostgreSQL, one a concurrent refresh exchanged a
/// moment ago) means two parties hold it: the grant is revoked.
async fn refused(
    store: &Store,
    tenant: &Tenant,
    client: &Client,
    token: &RefreshToken,
    grant: &Grant,
    now: i64,
) -> OAuthError {
    if grant.client_id != client.id {
        return invalid_grant("the refresh token was issued to another client");
    }
    if grant.revoked_at.is_some() {
        return invalid_grant("the refresh token has been revoked");
    }
    if token.used_at.is_none() && (token.expires_at <= now || !grant.live(now)) {
        return invalid_grant("the refresh token has expired");
    }
    let reason = "refresh token reused";
    match store
        .revoke_grant(&tenant.id, &grant.id, reason, &client_actor(client))
        .await
    {
        Ok(()) => invalid_grant(
            "the refresh token was already used; every token of its grant is now revoked",
        ),
        Err(e) => e.into(),
    }
}

/// What only this code checks of a refresh the database let through: the scope asked for, the
/// sign-in behind the grant (restarting its session's idle timeout) and the user. The user and
/// the scope of the new tokens.
async fn admit(
    store: &Store,
    tenant: &Tenant,
    grant: &Grant,
    session: Option<&(Session, SessionSettings)>,
    user: Option<User>,
    asked: Option<Vec<String>>,
    now: i64,
) -> OAuthResult<(User, String)> {
    let scope = narrowed_scope(grant, asked)?;
    if !signed_in(store, tenant, grant, session, now, true).await? {
        return Err(invalid_grant(
            "the sign-in behind this refresh token has ended",
        ));
    }
    let user = user
        .filter(|u| u.status == UserStatus::Active)
        .ok_or_else(|| invalid_grant("the user can no longer sign in"))?;
    Ok((user, scope))
}

/// Exchanges the refresh token for new tokens and a new refresh token.
pub async fn issue(
    provider: &Provider,
    store: &Store,
    tenant: &Tenant,
    issuer: &str,
    entry: &ClientEntry,
    req: Request,
) -> OAuthResult<TokenResponse> {
    let client = &entry.client;
    if !client.allows(GrantType::RefreshToken) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the refresh_token grant",
        ));
    }
    let now = now_ms();
    let old_hash = hash_secret(&req.refresh_token);
    let (secret, next) = new_rotation(now, client.refresh_token_ttl);
    // The exchange comes first, in the same trip as the reads: what the database can check
    // (unused, unexpired, the grant live and this client's) decides it; what only this code can
    // check comes after, and a refusal then puts the old token back.
    let (context, rotated) = store
        .refresh_and_rotate(
            &tenant.id,
            &old_hash,
            &client.id,
            &next,
            wants_permissions(client),
        )
        .await?
        .ok_or_else(|| invalid_grant("the refresh token is not valid"))?;
    let RefreshContext {
        token,
        grant,
        session,
        user,
        held,
    } = context;
    if !rotated {
        return Err(refused(store, tenant, client, &token, &grant, now).await);
    }
    let admitted = admit(
        store,
        tenant,
        &grant,
        session.as_ref(),
        user,
        req.scope,
        now,
    )
    .await;
    let (user, scope) = match admitted {
        Ok(admitted) => admitted,
        Err(e) => {
            store
                .unrotate(&tenant.id, &old_hash, &next.token_hash, now)
                .await?;
            return Err(e);
        }
    };
    let minted = mint(
        provider,
        store,
        tenant,
        issuer,
        &SignIn {
            user: &user,
            client,
            scope: &scope,
            sid: grant.session_id.as_deref(),
            auth_time: grant.auth_time,
            amr: &grant.amr,
            acr: grant.acr.as_deref(),
            nonce: None,
            grant_id: Some(&grant.id),
            jti: None,
            held,
        },
    )
    .await?;
    Ok(TokenResponse {
        access_token: minted.access_token,
        token_type: "Bearer",
        expires_in: client.access_token_ttl,
        scope: Some(scope),
        id_token: minted.id_token,
        refresh_token: Some(secret),
    })
}
