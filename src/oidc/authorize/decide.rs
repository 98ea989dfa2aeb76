//! What a valid authorization request leads to: the sign-in page, the consent page, or a code
//! for the client.

use super::{AuthorizeRequest, enc, error_redirect, redirect_with, refuse};
use crate::domain::Tenant;
use crate::domain::User;
use crate::domain::clock::now_ms;
use crate::domain::consents::missing;
use crate::domain::mfa::Level;
use crate::domain::secrets::{hash_secret, new_secret};
use crate::domain::sessions::{AuthCode, CODE_TTL_MS, Session};
use crate::oidc::error::OAuthResult;
use crate::oidc::mfa;
use crate::oidc::signin::user_actor;
use crate::store::Store;

/// What the endpoint does with a valid request.
pub enum Decision {
    /// Send the browser to the sign-in page; it returns to `return_to` afterwards.
    SignIn {
        return_to: String,
        login_hint: Option<String>,
    },
    /// The signed-in user must give a second factor (or enrol one) to reach `level` first; the
    /// second-factor page returns to `return_to` afterwards.
    SecondFactor { return_to: String, level: Level },
    /// Ask the signed-in user to consent to a third-party client (OpenID Connect Core §3.1.2.4).
    Consent(Box<ConsentNeeded>),
    /// Send the browser back to the client with a code or an error.
    Redirect(String),
}

/// What the consent page asks of whom.
pub struct ConsentNeeded {
    pub user: User,
    /// The session the consent page is shown in (its form's CSRF token is bound to it).
    pub session: Session,
    /// The scopes to consent to now.
    pub asked: Vec<String>,
    /// The requested scopes consented before (not asked again).
    pub granted: Vec<String>,
}

/// Decides, given the browser's session: sign in first, ask for consent, or issue a code.
/// First-party clients never ask for consent; third-party ones ask for scopes not consented
/// yet, or for all of them with `prompt=consent`; `prompt=none` turns asking into an error.
pub async fn decide(
    store: &Store,
    tenant: &Tenant,
    issuer: &str,
    req: &AuthorizeRequest,
    session: Option<(Session, User)>,
) -> OAuthResult<Decision> {
    let Some((session, user)) = usable(req, session) else {
        if req.prompt.none {
            let refusal = refuse("login_required", "the user is not signed in");
            return Ok(refused(req, issuer, &refusal));
        }
        return Ok(sign_in(tenant, req));
    };
    let needs = mfa::requirement(store, tenant, &user, &req.acr_values).await?;
    if !needs.met_by(&session) {
        if req.prompt.none {
            let refusal = refuse(
                "interaction_required",
                "the user must authenticate with a second factor",
            );
            return Ok(refused(req, issuer, &refusal));
        }
        return Ok(Decision::SecondFactor {
            return_to: return_to(&tenant.slug, &req.params),
            level: needs.level,
        });
    }
    if let Some(needed) = consent_needed(store, tenant, req, user, &session).await? {
        if req.prompt.none {
            let refusal = refuse(
                "consent_required",
                "the user has not consented to this application",
            );
            return Ok(refused(req, issuer, &refusal));
        }
        return Ok(Decision::Consent(needed));
    }
    issue_code(store, tenant, issuer, req, &session).await
}

/// The user allowed the consent page's request: records the consent (audited) and issues the
/// code. `user` is the user the page was shown to; if the browser's session is now someone
/// else's, or none, that is decided afresh.
pub async fn allow(
    store: &Store,
    tenant: &Tenant,
    issuer: &str,
    req: &AuthorizeRequest,
    session: Option<(Session, User)>,
    user: &str,
) -> OAuthResult<Decision> {
    let Some((session, current)) = usable(req, session) else {
        return decide(store, tenant, issuer, req, None).await;
    };
    if current.id.as_str() != user {
        return decide(store, tenant, issuer, req, Some((session, current))).await;
    }
    let needs = mfa::requirement(store, tenant, &current, &req.acr_values).await?;
    if !needs.met_by(&session) {
        return decide(store, tenant, issuer, req, Some((session, current))).await;
    }
    let client = &req.client.client;
    if !client.first_party {
        let actor = user_actor(&current, None);
        store
            .grant_consent(&tenant.id, &current.id, &client.id, &req.scopes, &actor)
            .await?;
    }
    issue_code(store, tenant, issuer, req, &session).await
}

/// The session if it serves this request: no `prompt=login`, recent enough for `max_age`, and
/// of the user an `id_token_hint` names (OpenID Connect Core §3.1.2.1), if any.
fn usable(req: &AuthorizeRequest, session: Option<(Session, User)>) -> Option<(Session, User)> {
    let now = now_ms();
    let fresh_enough = |s: &Session| {
        req.max_age
            .is_none_or(|max| now - s.auth_time <= max.saturating_mul(1000))
    };
    let hinted = |u: &User| {
        req.hint_sub
            .as_deref()
            .is_none_or(|sub| u.id.as_str() == sub)
    };
    session.filter(|(s, u)| !req.prompt.login && fresh_enough(s) && hinted(u))
}

fn refused(req: &AuthorizeRequest, issuer: &str, refusal: &super::Refusal) -> Decision {
    Decision::Redirect(error_redirect(
        &req.redirect_uri,
        req.state.as_deref(),
        issuer,
        refusal,
    ))
}

fn sign_in(tenant: &Tenant, req: &AuthorizeRequest) -> Decision {
    Decision::SignIn {
        return_to: return_to(&tenant.slug, &req.params),
        login_hint: req.login_hint.clone(),
    }
}

/// What the user must still consent to, if anything.
async fn consent_needed(
    store: &Store,
    tenant: &Tenant,
    req: &AuthorizeRequest,
    user: User,
    session: &Session,
) -> OAuthResult<Option<Box<ConsentNeeded>>> {
    let client = &req.client.client;
    if client.first_party {
        return Ok(None);
    }
    let had = store
        .consent(&tenant.id, &user.id, &client.id)
        .await?
        .map(|c| c.scopes)
        .unwrap_or_default();
    let (asked, granted) = if req.prompt.consent {
        (req.scopes.clone(), Vec::new())
    } else {
        let asked = missing(&had, &req.scopes);
        let granted = req.scopes.iter().filter(|s| had.contains(s)).cloned();
        (asked, granted.collect())
    };
    Ok((!asked.is_empty()).then(|| {
        Box::new(ConsentNeeded {
            user,
            session: session.clone(),
            asked,
            granted,
        })
    }))
}

/// Stores a code for the session's user and redirects with it.
async fn issue_code(
    store: &Store,
    tenant: &Tenant,
    issuer: &str,
    req: &AuthorizeRequest,
    session: &Session,
) -> OAuthResult<Decision> {
    let now = now_ms();
    let code = new_secret("");
    // Back-channel logout tells every app the session signed in to.
    store
        .record_session_client(&tenant.id, &session.id, &req.client.client.id)
        .await?;
    store
        .insert_auth_code(
            &tenant.id,
            &AuthCode {
                code_hash: hash_secret(&code),
                client_id: req.client.client.id.clone(),
                user_id: session.user_id.clone(),
                session_id: session.id.clone(),
                redirect_uri: req.redirect_uri.clone(),
                scope: req.scopes.join(" "),
                nonce: req.nonce.clone(),
                code_challenge: req.code_challenge.clone(),
                auth_time: session.auth_time,
                created_at: now,
                expires_at: now + CODE_TTL_MS,
                used: false,
            },
        )
        .await?;
    let mut p = vec![("code", code.as_str())];
    if let Some(s) = req.state.as_deref() {
        p.push(("state", s));
    }
    p.push(("iss", issuer));
    Ok(Decision::Redirect(redirect_with(&req.redirect_uri, &p)))
}

/// This authorization request again, minus what asked for a new sign-in (`prompt=login`,
/// `max_age`, `id_token_hint`): once the user has signed in, coming back must not ask again
/// (whoever signed in, the client checks the `sub` it gets).
fn return_to(slug: &str, params: &[(String, String)]) -> String {
    let query: Vec<String> = params
        .iter()
        .filter(|(k, _)| k != "max_age" && k != "id_token_hint")
        .filter_map(|(k, v)| {
            if k == "prompt" {
                let kept: Vec<&str> = v
                    .split(' ')
                    .filter(|p| !p.is_empty() && *p != "login")
                    .collect();
                return (!kept.is_empty()).then(|| format!("prompt={}", enc(&kept.join(" "))));
            }
            Some(format!("{}={}", enc(k), enc(v)))
        })
        .collect();
    format!("/t/{slug}/authorize?{}", query.join("&"))
}
