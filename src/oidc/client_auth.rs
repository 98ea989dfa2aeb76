//! Client authentication at the token endpoint (RFC 6749 §2.3, OpenID Connect Core §9):
//! `client_secret_basic` and `client_secret_post`, secrets compared as SHA-256 hashes in
//! constant time; `private_key_jwt` (RFC 7523), verified in `client_assertion`.

use super::client_assertion::{self, JWT_BEARER};
use super::error::{OAuthError, OAuthResult};
use super::token::Params;
use super::{ClientEntry, Provider};
use crate::domain::TenantId;
use crate::domain::oidc::{AuthMethod, ClientKind};
use crate::store::Store;
use base64::Engine;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The credentials a request carries.
#[derive(Debug)]
pub struct Presented {
    pub client_id: String,
    secret: Option<String>,
    pub method: AuthMethod,
    /// The JWT of `private_key_jwt`.
    assertion: Option<String>,
}

fn decode_component(s: &str) -> OAuthResult<String> {
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
    let text = percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| OAuthError::invalid_client("the Basic credentials are not valid UTF-8"))?;
    if crate::domain::text::has_forbidden(&text) {
        return Err(OAuthError::invalid_client(
            "the Basic credentials contain a control character",
        ));
    }
    Ok(text)
}

fn basic(header: &str) -> OAuthResult<Option<(String, String)>> {
    let Some((scheme, value)) = header.trim().split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let bad = || OAuthError::invalid_client("the Basic credentials are malformed");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (id, secret) = text.split_once(':').ok_or_else(bad)?;
    Ok(Some((decode_component(id)?, decode_component(secret)?)))
}

/// A client assertion (`private_key_jwt`): alone, of the JWT type, naming the client as `iss`
/// (which a `client_id` in the form must equal).
fn assertion(
    assertion_type: Option<String>,
    assertion: Option<String>,
    form_id: Option<String>,
) -> OAuthResult<Presented> {
    let (Some(assertion_type), Some(assertion)) = (assertion_type, assertion) else {
        return Err(OAuthError::invalid_request(
            "send `client_assertion_type` and `client_assertion` together",
        ));
    };
    let refused = || OAuthError::invalid_client("client authentication failed");
    if assertion_type != JWT_BEARER || assertion.len() > 16 * 1024 {
        return Err(refused());
    }
    let issuer = client_assertion::unverified_issuer(&assertion).ok_or_else(refused)?;
    if form_id.is_some_and(|f| f != issuer) {
        return Err(refused());
    }
    Ok(Presented {
        client_id: issuer,
        secret: None,
        method: AuthMethod::PrivateKeyJwt,
        assertion: Some(assertion),
    })
}

/// Reads the client's credentials from the `Authorization` header and the form; using two
/// methods at once is `invalid_request`, none at all `invalid_client`.
pub fn presented(authorization: Option<&str>, params: &mut Params) -> OAuthResult<Presented> {
    let header = authorization.map(basic).transpose()?.flatten();
    let form_id = params.take("client_id");
    let form_secret = params.take("client_secret");
    let assertion_type = params.take("client_assertion_type");
    let jwt = params.take("client_assertion");
    if assertion_type.is_some() || jwt.is_some() {
        if header.is_some() || form_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not several",
            ));
        }
        return assertion(assertion_type, jwt, form_id);
    }
    match (header, form_id, form_secret) {
        (Some(_), _, Some(_)) => Err(OAuthError::invalid_request(
            "use one client authentication method, not several",
        )),
        (Some((id, secret)), form_id, None) => {
            if form_id.is_some_and(|f| f != id) {
                return Err(OAuthError::invalid_request(
                    "client_id differs from the authenticated client",
                ));
            }
            Ok(Presented {
                client_id: id,
                secret: Some(secret),
                method: AuthMethod::ClientSecretBasic,
                assertion: None,
            })
        }
        (None, Some(id), Some(secret)) => Ok(Presented {
            client_id: id,
            secret: Some(secret),
            method: AuthMethod::ClientSecretPost,
            assertion: None,
        }),
        (None, Some(id), None) => Ok(Presented {
            client_id: id,
            secret: None,
            method: AuthMethod::None,
            assertion: None,
        }),
        (None, None, _) => Err(OAuthError::invalid_client(
            "client authentication is required",
        )),
    }
}

/// The client the credentials prove, or `invalid_client` (always the same answer, whatever
/// went wrong, so the endpoint does not reveal which clients exist). `issuer` is the tenant's,
/// which (or its token endpoint) a client assertion must name as audience.
pub async fn authenticate(
    provider: &Provider,
    store: &Store,
    tenant: &TenantId,
    presented: &Presented,
    issuer: &str,
) -> OAuthResult<Arc<ClientEntry>> {
    let refused = || OAuthError::invalid_client("client authentication failed");
    let entry = provider.client(store, tenant, &presented.client_id).await?;
    // Hash even when the client is unknown, so timing says nothing.
    let presented_hash = presented
        .secret
        .as_deref()
        .map(crate::domain::secrets::hash_secret);
    let Some(entry) = entry else {
        return Err(refused());
    };
    let client = &entry.client;
    let registered = client.token_endpoint_auth_method;
    let ok = match (presented.method, registered) {
        (AuthMethod::None, AuthMethod::None) => client.kind == ClientKind::Public,
        (AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost, _)
            if presented.method == registered =>
        {
            match (&presented_hash, &client.secret_hash) {
                (Some(p), Some(stored)) => bool::from(p.as_bytes().ct_eq(stored.as_bytes())),
                _ => false,
            }
        }
        (AuthMethod::PrivateKeyJwt, AuthMethod::PrivateKeyJwt) => match &presented.assertion {
            Some(jwt) => client_assertion::verify(store, tenant, client, jwt, issuer).await?,
            None => false,
        },
        _ => false,
    };
    if ok { Ok(entry) } else { Err(refused()) }
}
