//! Which existing user each row of a chunk is: by email or by external id, the users of the
//! whole chunk read in a few queries ([`Store::users_matching`]), then each row decided in
//! memory by the rules of a single lookup (`user_by_email`, `users_by_external_id`).

use super::plan::reason;
use crate::admin::users::authorised_user;
use crate::domain::authz::{Caller, UserScope};
use crate::domain::changes::{Relations, UserKey, normalise};
use crate::domain::*;
use crate::store::Store;
use std::collections::HashMap;

/// The candidates of a chunk, by normalised email and by external id.
pub struct Matches {
    by_email: HashMap<String, Vec<UserKey>>,
    by_external: HashMap<String, Vec<UserKey>>,
}

impl Matches {
    /// Reads the users any of `keys` (email, external id) may name.
    pub async fn load(
        store: &Store,
        tenant: &TenantId,
        keys: &[(&str, Option<&str>)],
    ) -> std::result::Result<Self, String> {
        let emails: Vec<String> = keys.iter().map(|(e, _)| (*e).to_owned()).collect();
        let externals: Vec<String> = keys
            .iter()
            .filter_map(|(_, x)| x.map(str::to_owned))
            .collect();
        let found = store
            .users_matching(tenant, &emails, &externals)
            .await
            .map_err(reason)?;
        let (mut by_email, mut by_external) = (HashMap::new(), HashMap::new());
        for k in found {
            if let Some(x) = &k.external_id {
                by_external
                    .entry(x.clone())
                    .or_insert_with(Vec::new)
                    .push(k.clone());
            }
            by_email
                .entry(k.email_norm.clone())
                .or_insert_with(Vec::new)
                .push(k);
        }
        Ok(Matches {
            by_email,
            by_external,
        })
    }

    /// The user a row with this email and external id updates, if any: refused when the two
    /// name different users or several users share the external id.
    pub fn find(
        &self,
        email: &str,
        external_id: Option<&str>,
    ) -> std::result::Result<Option<UserId>, String> {
        let by_email = self
            .by_email
            .get(&normalise(email))
            .and_then(|c| by_email(c))
            .filter(|k| k.status != UserStatus::Anonymised)
            .map(|k| k.id.clone());
        let by_external = match external_id {
            None => None,
            Some(x) => {
                let mut live: Vec<&UserKey> = self
                    .by_external
                    .get(x)
                    .map(|c| c.iter().filter(|k| !gone_or_removed(k)).collect())
                    .unwrap_or_default();
                live.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
                match live[..] {
                    [] => None,
                    [one] => Some(one.id.clone()),
                    _ => return Err(format!("several users have the external id `{x}`")),
                }
            }
        };
        match (by_email, by_external) {
            (Some(e), Some(x)) if e != x => {
                Err("the email and the external id belong to two different users".to_owned())
            }
            (Some(e), _) => Ok(Some(e)),
            (None, x) => Ok(x),
        }
    }
}

/// The users rows matched, each as the caller may change them (or why not), and what they hold.
pub struct Found {
    users: HashMap<UserId, std::result::Result<User, String>>,
    relations: HashMap<UserId, Relations>,
}

impl Found {
    /// Reads the users `ids` (one query per 500 for a caller who may change every user; a
    /// manager's are checked one by one) and their relations.
    pub async fn load(
        store: &Store,
        caller: &Caller,
        ids: &[UserId],
    ) -> std::result::Result<Self, String> {
        let tenant = caller.tenant_id();
        let mut users = HashMap::with_capacity(ids.len());
        if matches!(caller.user_write_scope(), Ok(UserScope::All))
            && caller.self_service().is_none()
        {
            let mut read = store.get_users(tenant, ids).await.map_err(reason)?;
            for id in ids {
                let user = read
                    .remove(id)
                    .ok_or_else(|| reason(DomainError::NotFound("user")));
                users.insert(id.clone(), user);
            }
        } else {
            for id in ids {
                let user = authorised_user(store, caller, id, true)
                    .await
                    .map_err(reason);
                users.insert(id.clone(), user);
            }
        }
        let relations = store.relations_of(tenant, ids).await.map_err(reason)?;
        Ok(Found { users, relations })
    }

    /// The user `id` and what they hold.
    pub fn get(&self, id: &UserId) -> std::result::Result<(User, &Relations), String> {
        static NONE: std::sync::OnceLock<Relations> = std::sync::OnceLock::new();
        let user = self
            .users
            .get(id)
            .cloned()
            .unwrap_or_else(|| Err(reason(DomainError::NotFound("user"))))?;
        let held = self
            .relations
            .get(id)
            .unwrap_or_else(|| NONE.get_or_init(Relations::default));
        Ok((user, held))
    }
}

fn gone_or_removed(k: &UserKey) -> bool {
    k.scim_removed || k.status == UserStatus::Anonymised
}

/// The user signing in with an email among those who have it: the one current user (a user
/// removed or anonymised when no current one has it); nobody when several current users
/// share it. As `Store::user_by_email`.
fn by_email(candidates: &[UserKey]) -> Option<&UserKey> {
    let mut sorted: Vec<&UserKey> = candidates.iter().collect();
    sorted.sort_by(|a, b| {
        (gone_or_removed(a), a.id.as_str()).cmp(&(gone_or_removed(b), b.id.as_str()))
    });
    match sorted[..] {
        [a, b, ..] if !gone_or_removed(a) && !gone_or_removed(b) => None,
        [first, ..] => Some(first),
        [] => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, email: &str, x: Option<&str>, removed: bool, status: UserStatus) -> UserKey {
        UserKey {
            id: UserId(id.into()),
            email_norm: email.into(),
            external_id: x.map(str::to_owned),
            scim_removed: removed,
            status,
        }
    }

    fn matches(keys: Vec<UserKey>) -> Matches {
        let mut m = Matches {
            by_email: HashMap::new(),
            by_external: HashMap::new(),
        };
        for k in keys {
            if let Some(x) = &k.external_id {
                m.by_external.entry(x.clone()).or_default().push(k.clone());
            }
            m.by_email.entry(k.email_norm.clone()).or_default().push(k);
        }
        m
    }

    #[test]
    fn rules_of_a_single_lookup() {
        use UserStatus::*;
        let m = matches(vec![
            key("u1", "ann@x.test", Some("X-1"), false, Active),
            key("u2", "bob@x.test", Some("X-2"), false, Active),
            key("u3", "bob@x.test", None, true, Active),
            key("u4", "cat@x.test", Some("X-4"), false, Anonymised),
            key("u5", "dup@x.test", None, false, Active),
            key("u6", "dup@x.test", None, false, Invited),
            key("u7", "eve@x.test", Some("X-7"), false, Active),
            key("u8", "fay@x.test", Some("X-7"), false, Active),
        ]);
        assert_eq!(m.find("ANN@x.test", None), Ok(Some(UserId("u1".into()))));
        assert_eq!(
            m.find("new@x.test", Some("X-1")),
            Ok(Some(UserId("u1".into())))
        );
        assert_eq!(m.find("bob@x.test", None), Ok(Some(UserId("u2".into()))));
        // An anonymised user is nobody; their external id matches nobody either.
        assert_eq!(m.find("cat@x.test", Some("X-4")), Ok(None));
        // Two current users share the email: no match by email.
        assert_eq!(m.find("dup@x.test", None), Ok(None));
        assert!(
            m.find("ann@x.test", Some("X-2"))
                .unwrap_err()
                .contains("two different")
        );
        assert!(
            m.find("zed@x.test", Some("X-7"))
                .unwrap_err()
                .contains("several users")
        );
        assert_eq!(m.find("zed@x.test", None), Ok(None));
    }
}
