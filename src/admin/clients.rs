//! Clients (apps): register, change, remove, rotate the secret, service roles.

use crate::domain::authz::Caller;
use crate::domain::oidc::*;
use crate::domain::permissions::admin;
use crate::domain::*;
use crate::oidc::Provider;
use crate::store::Store;
use serde::{Deserialize, Serialize};

/// A client as the admin API takes it (every field optional on PATCH).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientInput {
    pub name: Option<String>,
    pub kind: Option<ClientKind>,
    pub token_endpoint_auth_method: Option<AuthMethod>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub permission_namespaces: Option<Vec<String>>,
    pub first_party: Option<bool>,
    pub id_token_signed_response_alg: Option<KeyAlg>,
    pub access_token_ttl: Option<i64>,
    pub refresh_token_ttl: Option<i64>,
    pub token_claims_budget: Option<i64>,
    pub jwks: Option<serde_json::Value>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "super::validate::nullable")]
    pub backchannel_logout_uri: Option<Option<String>>,
    pub backchannel_logout_session_required: Option<bool>,
}

/// A created client, or one whose secret was rotated, with the secret shown this once.
#[derive(Debug, Serialize)]
pub struct ClientWithSecret {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(flatten)]
    pub client: Client,
}

/// A redirect URI as `domain::redirect` allows it (https, or http on a loopback host; no user
/// information, no fragment), kept as given: `/authorize` compares it as a string.
pub fn redirect_uri(field: &str, uri: &str) -> Result<String> {
    match crate::domain::redirect::refusal(uri) {
        None => Ok(uri.to_string()),
        Some(why) => Err(DomainError::invalid(field, format!("`{uri}` {why}"))),
    }
}

/// A back-channel logout URI: a redirect URI the server itself can POST to, so never a native
/// app's private-use scheme.
fn backchannel_uri(uri: &str) -> Result<String> {
    if crate::domain::redirect::private_scheme(uri).is_some() {
        return Err(DomainError::invalid(
            "backchannel_logout_uri",
            format!("`{uri}` must be https (or http on a loopback host)"),
        ));
    }
    redirect_uri("backchannel_logout_uri", uri)
}

/// A scope a client may hold: a standard OpenID Connect one, or an API scope `namespace:name`.
fn scope(s: &str) -> Result<String> {
    let api = s.split_once(':').is_some_and(|(ns, name)| {
        !ns.is_empty()
            && !name.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.:/".contains(c))
    });
    if KNOWN_SCOPES.contains(&s) || api {
        Ok(s.to_string())
    } else {
        Err(DomainError::invalid(
            "scopes",
            format!("unknown scope `{s}`"),
        ))
    }
}

fn namespace(s: &str) -> Result<String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(s.to_string())
    } else {
        Err(DomainError::invalid(
            "permission_namespaces",
            format!("`{s}` is not a permission namespace (letters, digits, -, _, .)"),
        ))
    }
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(x.clone()));
    v
}

/// Applies `input` on top of `base` (or defaults) and checks the whole.
pub fn settings(base: Option<&Client>, input: ClientInput) -> Result<ClientSettings> {
    let name = match (input.name, base) {
        (Some(n), _) => super::validate::name("name", &n, 100)?,
        (None, Some(b)) => b.name.clone(),
        (None, None) => return Err(DomainError::invalid("name", "`name` is required")),
    };
    let kind = input
        .kind
        .or(base.map(|b| b.kind))
        .unwrap_or(ClientKind::Confidential);
    let method = input
        .token_endpoint_auth_method
        .or(base
            .map(|b| b.token_endpoint_auth_method)
            .filter(|_| input.kind.is_none()))
        .unwrap_or(match kind {
            ClientKind::Confidential => AuthMethod::ClientSecretBasic,
            ClientKind::Public => AuthMethod::None,
        });
    if (kind == ClientKind::Public) != (method == AuthMethod::None) {
        return Err(DomainError::invalid(
            "token_endpoint_auth_method",
            "public clients use `none`; confidential clients authenticate",
        ));
    }
    let uris =
        |field: &str, v: Option<Vec<String>>, b: Option<&Vec<String>>| -> Result<Vec<String>> {
            match v {
                Some(v) => v
                    .iter()
                    .map(|u| redirect_uri(field, u))
                    .collect::<Result<_>>()
                    .map(dedup),
                None => Ok(b.cloned().unwrap_or_default()),
            }
        };
    let redirect_uris = uris(
        "redirect_uris",
        input.redirect_uris,
        base.map(|b| &b.redirect_uris),
    )?;
    let post_logout_redirect_uris = uris(
        "post_logout_redirect_uris",
        input.post_logout_redirect_uris,
        base.map(|b| &b.post_logout_redirect_uris),
    )?;
    let grant_types = match input.grant_types {
        Some(v) => v
            .iter()
            .map(|g| {
                GrantType::parse(g).ok_or_else(|| {
                    DomainError::invalid("grant_types", format!("unknown grant type `{g}`"))
                })
            })
            .collect::<Result<Vec<_>>>()?,
        None => base.map_or(vec![GrantType::AuthorizationCode], |b| {
            b.grant_types.clone()
        }),
    };
    let mut grant_types_unique = Vec::new();
    for g in grant_types {
        if !grant_types_unique.contains(&g) {
            grant_types_unique.push(g);
        }
    }
    if kind == ClientKind::Public && grant_types_unique.contains(&GrantType::ClientCredentials) {
        return Err(DomainError::invalid(
            "grant_types",
            "a public client cannot use client_credentials",
        ));
    }
    if grant_types_unique.contains(&GrantType::AuthorizationCode) && redirect_uris.is_empty() {
        return Err(DomainError::invalid(
            "redirect_uris",
            "authorization_code needs at least one redirect URI",
        ));
    }
    let scopes = match input.scopes {
        Some(v) => v
            .iter()
            .map(|s| scope(s))
            .collect::<Result<Vec<_>>>()
            .map(dedup)?,
        None => base.map_or(vec!["openid".into()], |b| b.scopes.clone()),
    };
    let permission_namespaces = match input.permission_namespaces {
        Some(v) => v
            .iter()
            .map(|s| namespace(s))
            .collect::<Result<Vec<_>>>()
            .map(dedup)?,
        None => base
            .map(|b| b.permission_namespaces.clone())
            .unwrap_or_default(),
    };
    let access_token_ttl = input
        .access_token_ttl
        .or(base.map(|b| b.access_token_ttl))
        .unwrap_or(300);
    if !(30..=86_400).contains(&access_token_ttl) {
        return Err(DomainError::invalid(
            "access_token_ttl",
            "`access_token_ttl` must be between 30 and 86400 seconds",
        ));
    }
    let refresh_token_ttl = bounded(
        "refresh_token_ttl",
        input.refresh_token_ttl,
        base.map(|b| b.refresh_token_ttl),
        2_592_000,
        60..=31_536_000,
    )?;
    let token_claims_budget = bounded(
        "token_claims_budget",
        input.token_claims_budget,
        base.map(|b| b.token_claims_budget),
        8192,
        1024..=65_536,
    )?;
    let jwks = match input.jwks {
        Some(j) => {
            crate::oidc::client_assertion::check_jwks(&j)
                .map_err(|e| DomainError::invalid("jwks", format!("`jwks`: {e}")))?;
            Some(j)
        }
        None => base.and_then(|b| b.jwks.clone()),
    };
    if method == AuthMethod::PrivateKeyJwt && jwks.is_none() {
        return Err(DomainError::invalid("jwks", "private_key_jwt needs `jwks`"));
    }
    let backchannel_logout_uri = match input.backchannel_logout_uri {
        Some(Some(u)) => Some(backchannel_uri(&u)?),
        Some(None) => None,
        None => base.and_then(|b| b.backchannel_logout_uri.clone()),
    };
    Ok(ClientSettings {
        name,
        kind,
        token_endpoint_auth_method: method,
        redirect_uris,
        post_logout_redirect_uris,
        grant_types: grant_types_unique,
        scopes,
        permission_namespaces,
        first_party: input
            .first_party
            .or(base.map(|b| b.first_party))
            .unwrap_or(false),
        id_token_signed_response_alg: input
            .id_token_signed_response_alg
            .or(base.map(|b| b.id_token_signed_response_alg))
            .unwrap_or(KeyAlg::ES256),
        access_token_ttl,
        refresh_token_ttl,
        token_claims_budget,
        jwks,
        backchannel_logout_uri,
        backchannel_logout_session_required: input
            .backchannel_logout_session_required
            .or(base.map(|b| b.backchannel_logout_session_required))
            .unwrap_or(true),
    })
}

/// A number setting: the input, else the stored value, else `default`, within `range`.
fn bounded(
    field: &str,
    input: Option<i64>,
    base: Option<i64>,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64> {
    let v = input.or(base).unwrap_or(default);
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(DomainError::invalid(
            field,
            format!(
                "`{field}` must be between {} and {}",
                range.start(),
                range.end()
            ),
        ))
    }
}

fn needs_secret(s: &ClientSettings) -> bool {
    matches!(
        s.token_endpoint_auth_method,
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
    )
}

pub async fn list(store: &Store, caller: &Caller) -> Result<Vec<Client>> {
    caller.require(admin::SETTINGS_READ)?;
    store.list_clients(caller.tenant_id()).await
}

pub async fn get(store: &Store, caller: &Caller, id: &ClientId) -> Result<Client> {
    caller.require(admin::SETTINGS_READ)?;
    store
        .get_client(caller.tenant_id(), id)
        .await?
        .ok_or(DomainError::NotFound("client"))
}

/// Registers a client; a confidential one gets a 256-bit secret, stored only as its hash.
pub async fn create(
    store: &Store,
    caller: &Caller,
    input: ClientInput,
) -> Result<ClientWithSecret> {
    caller.require(admin::SETTINGS_WRITE)?;
    let settings = settings(None, input)?;
    let secret = needs_secret(&settings).then(|| crate::domain::secrets::new_secret("ccs_"));
    let hash = secret.as_deref().map(crate::domain::secrets::hash_secret);
    let client_id = uuid::Uuid::new_v4().simple().to_string();
    let client = store
        .insert_client(
            caller.tenant_id(),
            &client_id,
            &settings,
            hash.as_deref(),
            &caller.actor(),
        )
        .await?;
    Ok(ClientWithSecret {
        client_secret: secret,
        client,
    })
}

pub async fn update(
    store: &Store,
    oidc: &Provider,
    caller: &Caller,
    id: &ClientId,
    input: ClientInput,
) -> Result<Client> {
    let before = get(store, caller, id).await?;
    caller.require(admin::SETTINGS_WRITE)?;
    let settings = settings(Some(&before), input)?;
    let client = store
        .update_client(caller.tenant_id(), id, &settings, &caller.actor())
        .await?;
    oidc.forget_clients(caller.tenant_id());
    Ok(client)
}

pub async fn delete(store: &Store, oidc: &Provider, caller: &Caller, id: &ClientId) -> Result<()> {
    caller.require(admin::SETTINGS_WRITE)?;
    store
        .delete_client(caller.tenant_id(), id, &caller.actor())
        .await?;
    oidc.forget_clients(caller.tenant_id());
    Ok(())
}

/// Replaces the secret of a client that authenticates with one; the new secret is shown once.
pub async fn rotate_secret(
    store: &Store,
    oidc: &Provider,
    caller: &Caller,
    id: &ClientId,
) -> Result<ClientWithSecret> {
    let client = get(store, caller, id).await?;
    caller.require(admin::SETTINGS_WRITE)?;
    if !matches!(
        client.token_endpoint_auth_method,
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost
    ) {
        return Err(DomainError::conflict(
            "this client does not authenticate with a secret",
        ));
    }
    let secret = crate::domain::secrets::new_secret("ccs_");
    let hash = crate::domain::secrets::hash_secret(&secret);
    let client = store
        .set_client_secret(caller.tenant_id(), id, &hash, &caller.actor())
        .await?;
    oidc.forget_clients(caller.tenant_id());
    Ok(ClientWithSecret {
        client_secret: Some(secret),
        client,
    })
}

/// Gives (`grant`) or takes a service role; giving needs the right to grant its permissions.
pub async fn set_role(
    store: &Store,
    oidc: &Provider,
    caller: &Caller,
    id: &ClientId,
    role: &RoleId,
    grant: bool,
) -> Result<Client> {
    caller.require(admin::SETTINGS_WRITE)?;
    let client = if grant {
        let r = store
            .get_role(caller.tenant_id(), role)
            .await?
            .ok_or(DomainError::NotFound("role"))?;
        caller.require_all_held(r.permissions.iter().map(String::as_str))?;
        store
            .grant_client_role(caller.tenant_id(), id, role, &caller.actor())
            .await?
    } else {
        store
            .revoke_client_role(caller.tenant_id(), id, role, &caller.actor())
            .await?
    };
    oidc.forget_clients(caller.tenant_id());
    Ok(client)
}
