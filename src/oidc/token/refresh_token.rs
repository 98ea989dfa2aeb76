//! The refresh token grant (RFC 6749 §6, OpenID Connect Core §12) with rotation: every use
//! returns a new refresh token and retires the old one; presenting a retired one again means two
//! parties hold it, so the whole grant is revoked (OAuth 2.0 Security BCP, RFC 9700 §4.14.2).

use super::user_tokens::{SignIn, mint, new_refresh_token};
use super::{Params, TokenResponse};
use crate::domain::audit::Actor;
use crate::domain::clock::now_ms;
use crate::domain::oidc::{Client, GrantType};
use crate::domain::secrets::hash_secret;
use crate::domain::sessions::{Grant, RefreshContext, Session, SessionSettings};
use crate::domain::{Tenant, UserStatus};
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
    let RefreshContext {
        token,
        grant,
        session,
        user,
        held,
    } = store
        .refresh_context(&tenant.id, &old_hash, Some(wants_permissions(client)))
        .await?
        .ok_or_else(|| invalid_grant("the refresh token is not valid"))?;
    if grant.client_id != client.id {
        return Err(invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    if grant.revoked_at.is_some() {
        return Err(invalid_grant("the refresh token has been revoked"));
    }
    if token.used_at.is_some() {
        store
            .revoke_grant(
                &tenant.id,
                &grant.id,
                "refresh token reused",
                &client_actor(client),
            )
            .await?;
        return Err(invalid_grant(
            "the refresh token was already used; every token of its grant is now revoked",
        ));
    }
    if token.expires_at <= now || !grant.live(now) {
        return Err(invalid_grant("the refresh token has expired"));
    }
    let scope = narrowed_scope(&grant, req.scope)?;
    if !signed_in(store, tenant, &grant, session.as_ref(), now, true).await? {
        return Err(invalid_grant(
            "the sign-in behind this refresh token has ended",
        ));
    }
    let user = user
        .filter(|u| u.status == UserStatus::Active)
        .ok_or_else(|| invalid_grant("the user can no longer sign in"))?;
    let (secret, row) = new_refresh_token(&grant, now, client.refresh_token_ttl);
    let rotated = store
        .rotate_refresh_token(&tenant.id, &old_hash, &row, &client_actor(client))
        .await?;
    if !rotated {
        return Err(invalid_grant(
            "the refresh token was already used; every token of its grant is now revoked",
        ));
    }
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
