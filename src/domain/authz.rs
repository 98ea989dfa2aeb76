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
        token_id: TokenId,
        user_id: UserId,
        label: String,
    },
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
            Principal::User { user_id, .. } => Some(user_id),
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

    /// The caller as the audit log records them.
    pub fn actor(&self) -> Actor {
        match &self.principal {
            Principal::Token { token_id, name } => Actor {
                kind: "token",
                id: Some(token_id.to_string()),
                label: format!("API token {name}"),
                ip: self.ip.clone(),
            },
            Principal::User { user_id, label, .. } => Actor {
                kind: "user",
                id: Some(user_id.to_string()),
                label: label.clone(),
                ip: self.ip.clone(),
            },
        }
    }
}

/// The permissions of a tenant-wide admin token (created by the server's operator): all of them.
pub fn root_token_permissions() -> HashSet<String> {
    admin::ALL.iter().map(|(p, _)| p.to_string()).collect()
}
