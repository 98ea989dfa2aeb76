//! Castellan's claims about a user, as tokens carry them: roles, permissions (limited to the
//! namespaces the app may see), groups, and the profile and email claims by scope.

use crate::domain::oidc::{Client, in_namespaces};
use crate::domain::permissions::Holdings;
use crate::domain::{Result, TenantId, User};
use crate::store::Store;
use serde::Serialize;

/// One of the user's current memberships, as the `accounts` claim lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountClaim {
    pub id: String,
    pub name: String,
    /// The user's main account.
    pub main: bool,
}

/// What a user holds, for one client.
#[derive(Debug, Default, Serialize)]
pub struct Authorisation {
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
    pub groups: Vec<String>,
    /// Memberships current today (outside their dates they do not appear), main one first.
    pub accounts: Vec<AccountClaim>,
}

/// The user's current roles (direct, account-scoped ones only within current memberships, and
/// through groups), effective permissions in the client's namespaces, group names and current
/// memberships: from `held` when the request read them with the rest (with
/// [`wants_permissions`] of `client`), else in one query now.
pub async fn authorisation(
    store: &Store,
    tenant: &TenantId,
    user: &User,
    client: &Client,
    held: Option<Holdings>,
) -> Result<Authorisation> {
    let held = match held {
        Some(held) => held,
        // An app that may see no permission namespace gets no permissions: the query skips them.
        None => {
            store
                .holdings(tenant, &user.id, wants_permissions(client))
                .await?
        }
    };
    Ok(authorisation_of(held, client))
}

/// Whether `client`'s tokens carry permissions at all (it may see a namespace of them).
pub fn wants_permissions(client: &Client) -> bool {
    !client.permission_namespaces.is_empty()
}

/// What `held` (read with [`wants_permissions`] of `client`) gives `client` to see.
fn authorisation_of(held: Holdings, client: &Client) -> Authorisation {
    Authorisation {
        roles: held.roles,
        permissions: held
            .permissions
            .into_iter()
            .filter(|p| in_namespaces(p, &client.permission_namespaces))
            .collect(),
        groups: held.groups,
        accounts: held
            .accounts
            .into_iter()
            .map(|a| AccountClaim {
                id: a.id.to_string(),
                name: a.name,
                main: a.main,
            })
            .collect(),
    }
}

/// Profile and email claims, by scope (OpenID Connect Core §5.4).
#[derive(Debug, Default, Serialize)]
pub struct UserInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zoneinfo: Option<String>,
}

impl UserInfo {
    pub fn of(user: &User, scopes: &[&str]) -> Self {
        let mut info = UserInfo::default();
        if scopes.contains(&"email") {
            info.email = Some(user.email.clone());
            info.email_verified = Some(user.email_verified);
        }
        if scopes.contains(&"profile") {
            let full = match (&user.given_name, &user.family_name) {
                (Some(g), Some(f)) => Some(format!("{g} {f}")),
                (Some(n), None) | (None, Some(n)) => Some(n.clone()),
                (None, None) => None,
            };
            info.name = user.display_name.clone().or(full);
            info.given_name = user.given_name.clone();
            info.family_name = user.family_name.clone();
            info.preferred_username = Some(user.username.clone());
            info.locale = user.locale.clone();
            info.zoneinfo = user.timezone.clone();
        }
        info
    }
}
