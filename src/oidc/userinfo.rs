//! The UserInfo endpoint (OpenID Connect Core §5.3): the claims about the user an access token
//! stands for, by its scope, with the bearer token rules of RFC 6750 §2.

use super::Provider;
use super::claims::{UserInfo, authorisation};
use super::error::{ErrorCode, OAuthError, OAuthResult};
use super::token::Params;
use super::verify::{self, Subject};
use crate::domain::Tenant;
use crate::store::Store;
use serde_json::{Value, json};

/// The access token of a request: from `Authorization: Bearer` or, on POST, the `access_token`
/// form field (`form`); more than one method is `invalid_request` (RFC 6750 §2).
pub fn bearer_token(authorization: Option<&str>, form: Option<Params>) -> OAuthResult<String> {
    let from_header = match authorization {
        None => None,
        Some(h) => {
            let (scheme, value) = h.trim().split_once(' ').unwrap_or((h.trim(), ""));
            if !scheme.eq_ignore_ascii_case("bearer") {
                return Err(OAuthError::invalid_token(
                    "present the access token with the Bearer scheme",
                ));
            }
            let value = value.trim();
            if value.is_empty() || value.contains(' ') {
                return Err(OAuthError::invalid_request(
                    "the Bearer credentials are malformed",
                ));
            }
            Some(value.to_owned())
        }
    };
    let from_form = match form {
        Some(mut p) => p.take("access_token"),
        None => None,
    };
    match (from_header, from_form) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "present the access token in one way, not several",
        )),
        (Some(t), None) | (None, Some(t)) => Ok(t),
        (None, None) => Err(OAuthError::new(
            ErrorCode::MissingToken,
            "no access token was presented",
        )),
    }
}

/// The claims about the token's user: `sub`, email and profile claims by scope, roles,
/// permissions (in the client's namespaces) and groups. A token that is not valid, or that
/// stands for a client rather than a user, is `invalid_token`.
pub async fn userinfo(
    provider: &Provider,
    store: &Store,
    tenant: &Tenant,
    issuer: &str,
    token: &str,
) -> OAuthResult<Value> {
    let verified = verify::access_token(provider, store, tenant, issuer, token)
        .await?
        .map_err(OAuthError::invalid_token)?;
    let Subject::User { user, .. } = &verified.subject else {
        return Err(OAuthError::invalid_token(
            "the access token does not stand for a user",
        ));
    };
    let scopes = verified.claims.scopes();
    if !scopes.contains(&"openid") {
        return Err(OAuthError::new(
            ErrorCode::InsufficientScope,
            "the access token was not granted the `openid` scope",
        ));
    }
    let held = verified.held.clone();
    let authz = authorisation(store, &tenant.id, user, &verified.client.client, held).await?;
    let mut body = json!({ "sub": user.id.as_str() });
    if let (Some(out), Value::Object(info), Value::Object(authz)) = (
        body.as_object_mut(),
        json!(UserInfo::of(user, &scopes)),
        json!(authz),
    ) {
        out.extend(info);
        out.extend(authz);
    }
    Ok(body)
}
