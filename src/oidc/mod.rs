//! The OpenID Connect / OAuth 2.1 provider: per-tenant issuer, signing keys, discovery,
//! client authentication and grants. Knows neither axum nor sqlx: `http` hands it plain
//! values, `store` keeps what it needs.

pub mod authorize;
pub mod cache;
pub mod claims;
pub mod client_assertion;
pub mod client_auth;
pub mod device_signin;
pub mod discovery;
pub mod error;
pub mod introspection;
pub mod keys;
pub mod logout;
pub mod mfa;
pub mod revocation;
pub mod signin;
pub mod token;
pub mod userinfo;
pub mod verify;
pub mod webauthn;

use crate::domain::oidc::{Client, ServiceGrants};
use crate::domain::{Result, Tenant, TenantId};
use crate::store::Store;
use cache::TtlCache;
use error::{OAuthError, OAuthResult};
use std::sync::Arc;

/// A client with what its service roles give it, as the token endpoint needs it.
#[derive(Debug)]
pub struct ClientEntry {
    pub client: Client,
    pub grants: ServiceGrants,
}

/// The provider's in-memory state: caches of what the database holds, trusted for a few
/// seconds (`cache::TTL`) so that every replica sees the others' changes soon.
#[derive(Default)]
pub struct Provider {
    pub keys: keys::KeyRing,
    /// Delivers back-channel logout tokens.
    pub backchannel: logout::backchannel::BackChannel,
    tenants: TtlCache<String, Tenant>,
    clients: TtlCache<(TenantId, String), Arc<ClientEntry>>,
    /// Access tokens whose signature verified (userinfo, introspection, revocation).
    pub seen_tokens: verify::SeenTokens,
}

impl Provider {
    /// The tenant named in the path, or `not_found`.
    pub async fn tenant(&self, store: &Store, slug: &str) -> OAuthResult<Tenant> {
        if let Some(t) = self.tenants.get(&slug.to_owned()) {
            return Ok(t);
        }
        let tenant = store
            .tenant_by_slug(slug)
            .await?
            .ok_or_else(|| OAuthError::unknown_tenant(slug))?;
        self.tenants.put(slug.to_owned(), tenant.clone());
        Ok(tenant)
    }

    /// The client presenting `client_id`, with its service grants.
    pub async fn client(
        &self,
        store: &Store,
        tenant: &TenantId,
        client_id: &str,
    ) -> Result<Option<Arc<ClientEntry>>> {
        let key = (tenant.clone(), client_id.to_owned());
        if let Some(c) = self.clients.get(&key) {
            return Ok(Some(c));
        }
        let Some(client) = store.client_by_client_id(tenant, client_id).await? else {
            return Ok(None);
        };
        let grants = store.client_grants(tenant, &client.id).await?;
        let entry = Arc::new(ClientEntry { client, grants });
        self.clients.put(key, entry.clone());
        Ok(Some(entry))
    }

    /// Forgets what this process cached about the tenant's clients (after an admin change).
    pub fn forget_clients(&self, tenant: &TenantId) {
        self.clients.remove_where(|(t, _)| t == tenant);
    }
}

/// The issuer of a tenant: `{public_url}/t/{slug}`.
pub fn issuer(public_url: &str, slug: &str) -> String {
    format!("{}/t/{slug}", public_url.trim_end_matches('/'))
}
