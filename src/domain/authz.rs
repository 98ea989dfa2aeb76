//! Who is calling, and what they may do. Access control as a value: handlers ask the caller.

use super::audit::Actor;
use super::error::{DomainError, Result};
use super::ids::*;
use super::model::Tenant;
use super::permissions::admin;
use std::collections::HashSet;

/// How the caller authenticated.
#[derive(Clone, Debug)]
pub enum Principal {
    /// A tenant-wide admin API token, made by the server's operator: every administration permission.
    Token { token_id: TokenId, name: String },
    /// A token bound to a user: the user's effective permissions and management scope apply.
    User {
        /// The token bound to the user; `None` in the console, where it is the browser's session.
        token_id: Option<TokenId>,
        user_id: UserId,
        label: String,
        /// The user is the tenant's owner (primary user).
        owner: bool,
    },
    /// The signed-in person in their own account portal: no permission at all, and nobody but
    /// themself in reach (see `admin::users::authorised_user`); the profile fields an
    /// administrator owns (email, username, external id, custom attributes) stay out of reach.
    SelfService { user_id: UserId, label: String },
}

/// The authenticated caller of one request, scoped to one tenant.
#[derive(Clone, Debug)]
pub struct Caller {
    pub tenant: Tenant,
    pub principal: Principal,
    /// The caller's effective permissions (for a tenant-wide token: every `castellan:` permission).
    pub permissions: HashSet<String>,
    pub ip: Option<String>,
}

/// How far a caller's rights over users reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserScope {
    All,
    /// Only the users this manager manages (directly, through accounts or account groups).
    ManagedBy(UserId),
}

impl Caller {
    pub fn tenant_id(&self) -> &TenantId {
        &self.tenant.id
    }

    pub fn user_id(&self) -> Option<&UserId> {
        match &self.principal {
            Principal::User { user_id, .. } | Principal::SelfService { user_id, .. } => {
                Some(user_id)
            }
            Principal::Token { .. } => None,
        }
    }

    pub fn holds(&self, permission: &str) -> bool {
        self.permissions.contains(permission)
    }

    /// Refuses with 403 unless the caller holds `permission`.
    pub fn require(&self, permission: &str) -> Result<()> {
        if self.holds(permission) {
            Ok(())
        } else {
            Err(DomainError::forbidden(format!(
                "this action needs the permission `{permission}`"
            )))
        }
    }

    /// The reach of the caller's right to read users.
    pub fn user_read_scope(&self) -> Result<UserScope> {
        self.scope(
            &[admin::USERS_READ, admin::USERS_WRITE],
            &[admin::MANAGED_USERS_READ, admin::MANAGED_USERS_WRITE],
        )
    }

    /// The reach of the caller's right to change users.
    pub fn user_write_scope(&self) -> Result<UserScope> {
        self.scope(&[admin::USERS_WRITE], &[admin::MANAGED_USERS_WRITE])
    }

    fn scope(&self, all: &[&str], managed: &[&str]) -> Result<UserScope> {
        if all.iter().any(|p| self.holds(p)) {
            return Ok(UserScope::All);
        }
        match self.user_id() {
            Some(uid) if managed.iter().any(|p| self.holds(p)) => {
                Ok(UserScope::ManagedBy(uid.clone()))
            }
            _ => Err(DomainError::forbidden(format!(
                "this action needs the permission `{}`",
                all[0]
            ))),
        }
    }

    /// Refuses to hand out permissions the caller does not hold: nobody grants more than they have.
    /// Callers who may edit roles (`castellan:roles.write`) could grant themselves anything, so
    /// the rule binds delegated administrators, not them.
    pub fn require_all_held<'a>(
        &self,
        permissions: impl IntoIterator<Item = &'a str>,
    ) -> Result<()> {
        if self.holds(admin::ROLES_WRITE) {
            return Ok(());
        }
        let missing: Vec<&str> = permissions.into_iter().filter(|p| !self.holds(p)).collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(DomainError::forbidden(format!(
                "you cannot grant permissions you do not hold yourself: {}",
                missing.join(", ")
            )))
        }
    }

    /// Whether the caller has the owner's standing: the tenant's owner (through a token bound to
    /// them) or a tenant-wide token, which only the server's operator (CLI, first start) or the
    /// owner can make.
    pub fn has_owner_standing(&self) -> bool {
        match &self.principal {
            Principal::Token { .. } => true,
            Principal::User { owner, .. } => *owner,
            Principal::SelfService { .. } => false,
        }
    }

    /// The person acting on their own account in the portal, if that is who calls.
    pub fn self_service(&self) -> Option<&UserId> {
        match &self.principal {
            Principal::SelfService { user_id, .. } => Some(user_id),
            _ => None,
        }
    }

    /// Whether the caller administers users only within a management scope: holds
    /// `castellan:users.read.managed` or `castellan:users.write.managed`, not `castellan:users.write`.
    pub fn is_delegated(&self) -> bool {
        !self.holds(admin::USERS_WRITE)
            && (self.holds(admin::MANAGED_USERS_READ) || self.holds(admin::MANAGED_USERS_WRITE))
    }

    /// Refuses with 403 unless the caller has the owner's standing.
    pub fn require_owner_standing(&self, what: &str) -> Result<()> {
        if self.has_owner_standing() {
            Ok(())
        } else {
            Err(DomainError::forbidden(format!(
                "only the tenant's owner can {what}"
            )))
        }
    }

    /// The rule of power over users, the one place it lives: a caller may change another
    /// user's credentials, identifiers, factors, status, memberships, roles, overrides, groups,
    /// management relations, sessions or consents, or delete them, only when
    /// - the target is not the tenant's owner, unless the caller has the owner's standing;
    /// - a delegated administrator (see [`Caller::is_delegated`]) does not reach a tenant-wide
    ///   administrator (a holder of [`TENANT_WIDE_USER_PERMISSIONS`]), whatever the management
    ///   relations say;
    /// - every `castellan:` permission the target holds, the caller holds too.
    ///
    /// `target_permissions` are the target's effective permissions. Acting on oneself is
    /// always within one's power.
    pub fn require_power_over<'a>(
        &self,
        target: &UserId,
        target_permissions: impl IntoIterator<Item = &'a str>,
        target_is_owner: bool,
    ) -> Result<()> {
        self.standing()
            .require_power_over(target, target_permissions, target_is_owner)
    }

    /// What the rule of power needs to know of the caller, to be checked again at write time.
    pub fn standing(&self) -> PowerStanding {
        PowerStanding {
            owner_standing: self.has_owner_standing(),
            user_id: self.user_id().cloned(),
            delegated: self.is_delegated(),
            permissions: self
                .permissions
                .iter()
                .filter(|p| p.starts_with(CASTELLAN_NAMESPACE))
                .cloned()
                .collect(),
        }
    }

    /// The caller as the audit log records them.
    pub fn actor(&self) -> Actor {
        match &self.principal {
            Principal::Token { token_id, name } => Actor {
                kind: "token",
                id: Some(token_id.to_string()),
                label: format!("API token {name}"),
                ip: self.ip.clone(),
                power: Some(std::sync::Arc::new(self.standing())),
            },
            Principal::User { user_id, label, .. } | Principal::SelfService { user_id, label } => {
                Actor {
                    kind: "user",
                    id: Some(user_id.to_string()),
                    label: label.clone(),
                    ip: self.ip.clone(),
                    power: Some(std::sync::Arc::new(self.standing())),
                }
            }
        }
    }
}

/// The caller's standing in the rule of power (see [`Caller::require_power_over`]): carried by
/// the audit [`Actor`] so that the store checks the rule again at write time, under the target's
/// row lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PowerStanding {
    pub owner_standing: bool,
    pub user_id: Option<UserId>,
    pub delegated: bool,
    /// The caller's `castellan:` permissions.
    pub permissions: std::collections::BTreeSet<String>,
}

impl PowerStanding {
    /// The rule of [`Caller::require_power_over`].
    pub fn require_power_over<'a>(
        &self,
        target: &UserId,
        target_permissions: impl IntoIterator<Item = &'a str>,
        target_is_owner: bool,
    ) -> Result<()> {
        if self.owner_standing || self.user_id.as_ref() == Some(target) {
            return Ok(());
        }
        if target_is_owner {
            return Err(DomainError::forbidden(
                "only the tenant's owner can change the owner",
            ));
        }
        let theirs: Vec<&str> = target_permissions
            .into_iter()
            .filter(|p| p.starts_with(CASTELLAN_NAMESPACE))
            .collect();
        if self.delegated
            && theirs
                .iter()
                .any(|p| TENANT_WIDE_USER_PERMISSIONS.contains(p))
        {
            return Err(DomainError::forbidden(
                "a delegated administrator cannot change a tenant-wide administrator",
            ));
        }
        let missing: Vec<&str> = theirs
            .into_iter()
            .filter(|p| !self.permissions.contains(*p))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(DomainError::forbidden(format!(
                "this user holds permissions you do not: {}",
                missing.join(", ")
            )))
        }
    }
}

/// The namespace of Castellan's own permissions, the ones the rule of power compares.
pub const CASTELLAN_NAMESPACE: &str = "castellan:";

/// Holding any of these makes a user a tenant-wide administrator of users, out of reach of
/// delegated (managed-scope) administrators.
pub const TENANT_WIDE_USER_PERMISSIONS: [&str; 3] =
    [admin::USERS_READ, admin::USERS_WRITE, admin::USERS_DELETE];

/// The permissions of a tenant-wide admin token (created by the server's operator): all of them.
pub fn root_token_permissions() -> HashSet<String> {
    admin::ALL.iter().map(|(p, _)| p.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::Tenant;

    fn caller(principal: Principal, perms: &[&str]) -> Caller {
        Caller {
            tenant: Tenant {
                id: TenantId("t".into()),
                slug: "t".into(),
                name: "T".into(),
                owner_user_id: None,
                created_at: 0,
            },
            principal,
            permissions: perms.iter().map(|p| p.to_string()).collect(),
            ip: None,
        }
    }

    fn user(perms: &[&str], owner: bool) -> Caller {
        let principal = Principal::User {
            token_id: Some(TokenId("k".into())),
            user_id: UserId("u".into()),
            label: "u".into(),
            owner,
        };
        caller(principal, perms)
    }

    #[test]
    fn power_is_a_subset_of_castellan_permissions() {
        use admin::*;
        let admin_perms: Vec<&str> = ALL
            .iter()
            .map(|(p, _)| *p)
            .filter(|p| *p != OWNER_TRANSFER)
            .collect();
        let administrator = user(&admin_perms, false);
        let other = UserId("other".into());
        let manager = user(
            &[MANAGED_USERS_READ, MANAGED_USERS_WRITE, ACCOUNTS_READ],
            false,
        );
        // Equal or lesser targets; app permissions do not count.
        assert!(
            administrator
                .require_power_over(&other, admin_perms.iter().copied(), false)
                .is_ok()
        );
        assert!(
            manager
                .require_power_over(&other, ["billing:read", ACCOUNTS_READ], false)
                .is_ok()
        );
        // More powerful targets.
        assert!(
            manager
                .require_power_over(&other, [AUDIT_READ], false)
                .is_err()
        );
        assert!(
            administrator
                .require_power_over(&other, [OWNER_TRANSFER], false)
                .is_err()
        );
        // The owner: only the owner, or a tenant-wide token.
        assert!(administrator.require_power_over(&other, [], true).is_err());
        let owner_perms: Vec<&str> = ALL.iter().map(|(p, _)| *p).collect();
        assert!(
            user(&owner_perms, false)
                .require_power_over(&other, [], true)
                .is_err()
        );
        assert!(
            user(&owner_perms, true)
                .require_power_over(&other, [], true)
                .is_ok()
        );
        let wide = Principal::Token {
            token_id: TokenId("w".into()),
            name: "w".into(),
        };
        assert!(
            caller(wide, &[])
                .require_power_over(&other, [], true)
                .is_ok()
        );
        // A delegated administrator never reaches a tenant-wide one, even holding its rights.
        let delegated = user(&[USERS_READ, MANAGED_USERS_WRITE], false);
        assert!(
            delegated
                .require_power_over(&other, [USERS_READ], false)
                .is_err()
        );
        assert!(
            delegated
                .require_power_over(&other, [MANAGED_USERS_WRITE], false)
                .is_ok()
        );
        // Oneself is always within reach; a holder of users.read without a managed scope is
        // not a delegated administrator.
        let me = UserId("u".into());
        assert!(
            delegated
                .require_power_over(&me, [USERS_READ], false)
                .is_ok()
        );
        let keeper = user(&[USERS_READ, TOKENS_MANAGE], false);
        assert!(
            keeper
                .require_power_over(&other, [USERS_READ], false)
                .is_ok()
        );
    }
}
