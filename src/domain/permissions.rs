//! Permission names, Castellan's own administration permissions, the seeded role templates, and
//! the rule that turns roles, groups and overrides into effective permissions with explanations.

use super::ids::*;
use super::model::{Effect, RoleTemplate};
use serde::Serialize;
use std::collections::BTreeMap;

/// Castellan's own permissions: what an admin API caller may do.
pub mod admin {
    pub const USERS_READ: &str = "castellan:users.read";
    pub const USERS_WRITE: &str = "castellan:users.write";
    pub const USERS_DELETE: &str = "castellan:users.delete";
    pub const MANAGED_USERS_READ: &str = "castellan:users.read.managed";
    pub const MANAGED_USERS_WRITE: &str = "castellan:users.write.managed";
    pub const ACCOUNTS_READ: &str = "castellan:accounts.read";
    pub const ACCOUNTS_WRITE: &str = "castellan:accounts.write";
    pub const ROLES_READ: &str = "castellan:roles.read";
    pub const ROLES_WRITE: &str = "castellan:roles.write";
    pub const GROUPS_READ: &str = "castellan:groups.read";
    pub const GROUPS_WRITE: &str = "castellan:groups.write";
    pub const SETTINGS_READ: &str = "castellan:settings.read";
    pub const SETTINGS_WRITE: &str = "castellan:settings.write";
    pub const AUDIT_READ: &str = "castellan:audit.read";
    pub const TOKENS_MANAGE: &str = "castellan:tokens.manage";
    pub const OWNER_TRANSFER: &str = "castellan:owner.transfer";

    /// Every administration permission with its description, seeded into each tenant's catalogue.
    pub const ALL: [(&str, &str); 16] = [
        (USERS_READ, "Read every user of the tenant"),
        (
            USERS_WRITE,
            "Create, change, deactivate and reactivate every user of the tenant",
        ),
        (USERS_DELETE, "Delete and anonymise users"),
        (MANAGED_USERS_READ, "Read the users one manages"),
        (
            MANAGED_USERS_WRITE,
            "Create and change the users one manages",
        ),
        (ACCOUNTS_READ, "Read accounts and account groups"),
        (
            ACCOUNTS_WRITE,
            "Create, change and delete accounts and account groups",
        ),
        (ROLES_READ, "Read roles and the permission catalogue"),
        (
            ROLES_WRITE,
            "Create, change and delete roles and permissions",
        ),
        (GROUPS_READ, "Read groups"),
        (
            GROUPS_WRITE,
            "Create, change and delete groups and their members",
        ),
        (
            SETTINGS_READ,
            "Read custom attributes and notification types",
        ),
        (
            SETTINGS_WRITE,
            "Define custom attributes and notification types",
        ),
        (AUDIT_READ, "Read the audit log"),
        (TOKENS_MANAGE, "Create and revoke admin API tokens"),
        (
            OWNER_TRANSFER,
            "Transfer the tenant's ownership to another user",
        ),
    ];
}

/// The permissions a seeded role starts with. The Owner's are fixed; the others are starting points.
pub fn template_permissions(t: RoleTemplate) -> Vec<&'static str> {
    use admin::*;
    match t {
        RoleTemplate::Owner => ALL.iter().map(|(p, _)| *p).collect(),
        RoleTemplate::Administrator => ALL
            .iter()
            .map(|(p, _)| *p)
            .filter(|p| *p != OWNER_TRANSFER)
            .collect(),
        RoleTemplate::Manager => vec![
            MANAGED_USERS_READ,
            MANAGED_USERS_WRITE,
            ACCOUNTS_READ,
            ROLES_READ,
            GROUPS_READ,
            SETTINGS_READ,
        ],
        RoleTemplate::Member => vec![],
    }
}

/// Whether a directory (SCIM token) may change a user holding `permissions` without the
/// tenant's `manage_administrators` SCIM setting: their `castellan:` permissions are at most a
/// manager's (the Manager template's). Anything beyond makes them an administrator, whom a
/// directory token must not be a way to take over.
pub fn administrative_permission<'a>(
    permissions: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let ordinary = template_permissions(RoleTemplate::Manager);
    permissions
        .into_iter()
        .find(|p| p.starts_with("castellan:") && !ordinary.contains(p))
}

/// Why a directory may not change a user holding the administration permission `permission`.
pub fn directory_refusal(permission: &str) -> String {
    format!(
        "this user holds the administration permission `{permission}`; a SCIM directory changes \
         administrators only when the tenant's SCIM setting `manage_administrators` is on"
    )
}

/// Why a directory may not change the tenant's owner.
pub const OWNER_OUT_OF_DIRECTORY_REACH: &str =
    "the tenant's owner cannot be changed through SCIM; use the admin API as the owner";

/// A permission name is `namespace:name`: lowercase letters, digits and `._-`, the namespace
/// being what an app may be allowed to see.
pub fn validate_permission_name(name: &str) -> Result<(), String> {
    let ok_part = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
    };
    match name.split_once(':') {
        Some((ns, rest)) if ok_part(ns) && ok_part(rest) && name.len() <= 128 => Ok(()),
        _ => Err(format!(
            "`{name}` is not a permission name: expected `namespace:name` in lowercase letters, digits and `._-`"
        )),
    }
}

/// Why a user holds (or would hold) a permission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// A role assigned to the user directly (possibly within one account).
    Role {
        role_id: RoleId,
        role: String,
        account_id: Option<AccountId>,
        account: Option<String>,
    },
    /// A role granted to a group the user is a member of.
    GroupRole {
        role_id: RoleId,
        role: String,
        group_id: GroupId,
        group: String,
    },
    /// A per-user override.
    Override {
        effect: Effect,
        reason: Option<String>,
    },
}

#[derive(Clone, Debug, Serialize)]
pub struct Granted {
    pub permission: String,
    pub sources: Vec<Source>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Denied {
    pub permission: String,
    /// The override that removed the permission.
    pub denied_by: Source,
    /// What would have granted it (empty when nothing did).
    pub overridden_sources: Vec<Source>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct EffectivePermissions {
    pub permissions: Vec<Granted>,
    pub denied: Vec<Denied>,
}

impl EffectivePermissions {
    /// Union of role-derived grants and grant overrides, minus deny overrides, each explained.
    /// `from_roles` holds only the sources that are in force (current memberships).
    pub fn resolve(
        from_roles: Vec<(String, Source)>,
        overrides: Vec<(String, Effect, Option<String>)>,
    ) -> Self {
        let mut granted: BTreeMap<String, Vec<Source>> = BTreeMap::new();
        for (perm, src) in from_roles {
            let srcs = granted.entry(perm).or_default();
            if !srcs.contains(&src) {
                srcs.push(src);
            }
        }
        let mut denied = Vec::new();
        for (perm, effect, reason) in overrides {
            let src = Source::Override { effect, reason };
            match effect {
                Effect::Grant => granted.entry(perm).or_default().push(src),
                Effect::Deny => {
                    let overridden_sources = granted.remove(&perm).unwrap_or_default();
                    denied.push(Denied {
                        permission: perm,
                        denied_by: src,
                        overridden_sources,
                    });
                }
            }
        }
        denied.sort_by(|a, b| a.permission.cmp(&b.permission));
        Self {
            permissions: granted
                .into_iter()
                .map(|(permission, sources)| Granted {
                    permission,
                    sources,
                })
                .collect(),
            denied,
        }
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.permissions.iter().map(|g| g.permission.as_str())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.permissions
            .binary_search_by(|g| g.permission.as_str().cmp(name))
            .is_ok()
    }
}

/// What a user holds today, as tokens carry it (read in one query for each token).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Holdings {
    /// Names of the roles held directly (an account-scoped one only while the membership in
    /// that account is current) and through groups, each once.
    pub roles: Vec<String>,
    /// Display names of the user's groups.
    pub groups: Vec<String>,
    /// Effective permission names (roles' and granted ones, minus denied ones), sorted; empty
    /// when they were not asked for.
    pub permissions: Vec<String>,
    /// Current memberships, the main one first.
    pub accounts: Vec<HeldAccount>,
}

/// A current membership, as tokens name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldAccount {
    pub id: AccountId,
    pub name: String,
    pub main: bool,
}

/// The effective permission names of `from_roles` with `overrides` applied, sorted: the same
/// rule as [`EffectivePermissions::resolve`], without the explanations.
pub fn effective_names(
    from_roles: impl IntoIterator<Item = String>,
    overrides: impl IntoIterator<Item = (String, Effect)>,
) -> Vec<String> {
    let mut granted: std::collections::BTreeSet<String> = from_roles.into_iter().collect();
    for (perm, effect) in overrides {
        match effect {
            Effect::Grant => granted.insert(perm),
            Effect::Deny => granted.remove(&perm),
        };
    }
    granted.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str) -> Source {
        Source::Role {
            role_id: RoleId(name.into()),
            role: name.into(),
            account_id: None,
            account: None,
        }
    }

    #[test]
    fn deny_override_beats_roles_and_is_explained() {
        let eff = EffectivePermissions::resolve(
            vec![
                ("billing:read".into(), role("A")),
                ("billing:write".into(), role("A")),
            ],
            vec![("billing:write".into(), Effect::Deny, Some("audit".into()))],
        );
        assert_eq!(eff.names().collect::<Vec<_>>(), vec!["billing:read"]);
        assert_eq!(eff.denied.len(), 1);
        assert_eq!(eff.denied[0].overridden_sources, vec![role("A")]);
        assert!(!eff.contains("billing:write"));
    }

    #[test]
    fn grant_override_adds_and_sources_merge() {
        let eff = EffectivePermissions::resolve(
            vec![
                ("a:x".into(), role("A")),
                ("a:x".into(), role("B")),
                ("a:x".into(), role("A")),
            ],
            vec![("b:y".into(), Effect::Grant, None)],
        );
        assert_eq!(eff.names().collect::<Vec<_>>(), vec!["a:x", "b:y"]);
        assert_eq!(eff.permissions[0].sources.len(), 2);
        assert!(eff.contains("b:y"));
    }

    #[test]
    fn permission_names() {
        assert!(validate_permission_name("billing:read").is_ok());
        assert!(validate_permission_name("castellan:users.read.managed").is_ok());
        for bad in [
            "billing",
            ":read",
            "billing:",
            "Billing:read",
            "a b:c",
            "a:b:c",
        ] {
            assert!(validate_permission_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn effective_names_follow_the_explained_rule() {
        // Every combination of four permissions held by roles (or not) and overridden (grant,
        // deny or not): the names alone must be those `resolve` explains.
        let perms = ["a:r", "a:w", "b:r", "b:w"];
        for mask in 0..(2u32.pow(4) * 3u32.pow(4)) {
            let (mut held, mut over) = (Vec::new(), Vec::new());
            let (mut roles, mut rest) = (mask % 16, mask / 16);
            for p in perms {
                if roles % 2 == 1 {
                    held.push(p.to_string());
                }
                roles /= 2;
                match rest % 3 {
                    1 => over.push((p.to_string(), Effect::Grant)),
                    2 => over.push((p.to_string(), Effect::Deny)),
                    _ => {}
                }
                rest /= 3;
            }
            let explained = EffectivePermissions::resolve(
                held.iter().map(|p| (p.clone(), role("R"))).collect(),
                over.iter().map(|(p, e)| (p.clone(), *e, None)).collect(),
            );
            let names: Vec<String> = explained.names().map(str::to_owned).collect();
            assert_eq!(effective_names(held, over), names, "case {mask}");
        }
    }
}
