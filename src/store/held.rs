//! What users hold, remembered by the token endpoints between requests.
//!
//! Every statement that reads a token for a refresh, a code exchange, userinfo or introspection
//! also reads the version of what the token's user holds (`hv`): the sum of the
//! `holdings_changes` rows of the user and of their tenant as a whole, to which every write that
//! can change what someone holds adds a row in its own transaction (migration 0049's triggers).
//! Rows are only added (each adds at least 1) or merged into one carrying their sum, and a
//! later snapshot of the database sees every row an earlier one saw: so two reads that find
//! the same sum saw the same committed changes, and holdings read with that version are still
//! what the user holds. A request whose version matches what is remembered skips reading
//! holdings (on PostgreSQL 42 % of the database's CPU per refresh, BENCHMARKS.md); any other
//! reads them in a second statement that reads their version with them and remembers both.
//! Nothing here can make a change wait: a different version is a different entry, on every
//! replica.

use crate::domain::permissions::Holdings;
use std::collections::HashMap;
use std::sync::RwLock;

/// How many users' holdings are remembered at most (both kinds of reading: with and without
/// permissions). An entry is a few hundred bytes.
const MAX_HELD: usize = 4_096;

/// What one user held, read with or without permissions, on `day` at `version`.
#[derive(Debug)]
struct Entry {
    tenant: String,
    day: String,
    version: i64,
    held: Holdings,
}

/// Users' holdings by user id, each with and without permissions (`[without, with]`).
#[derive(Debug, Default)]
pub struct HeldMemory {
    entries: RwLock<HashMap<String, [Option<Entry>; 2]>>,
}

impl HeldMemory {
    /// What `user` of `tenant` holds (`permissions`: read with them or not) on `day`, if it was
    /// read at `version`.
    pub fn get(
        &self,
        tenant: &str,
        user: &str,
        permissions: bool,
        day: &str,
        version: i64,
    ) -> Option<Holdings> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(user)
            .and_then(|both| both[usize::from(permissions)].as_ref())
            .filter(|e| e.version == version && e.day == day && e.tenant == tenant)
            .map(|e| e.held.clone())
    }

    /// Remembers that `user` of `tenant` held `held` on `day` at `version`, unless what is
    /// remembered was read later (a greater version of the same day, or a later day).
    pub fn put(
        &self,
        tenant: &str,
        user: &str,
        permissions: bool,
        day: &str,
        version: i64,
        held: &Holdings,
    ) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_HELD && !entries.contains_key(user) {
            // Entries of other days are of no use any more; if that frees nothing, start over.
            entries.retain(|_, both| both.iter().flatten().any(|e| e.day.as_str() >= day));
            if entries.len() >= MAX_HELD {
                entries.clear();
            }
        }
        let slot = &mut entries.entry(user.to_owned()).or_default()[usize::from(permissions)];
        if let Some(e) = slot
            && e.tenant == tenant
            && (e.day.as_str(), e.version) > (day, version)
        {
            return;
        }
        *slot = Some(Entry {
            tenant: tenant.to_owned(),
            day: day.to_owned(),
            version,
            held: held.clone(),
        });
    }

    /// How many users have something remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(role: &str) -> Holdings {
        Holdings {
            roles: vec![role.to_owned()],
            ..Holdings::default()
        }
    }

    #[test]
    fn an_entry_answers_only_its_tenant_day_version_and_kind() {
        let m = HeldMemory::default();
        m.put("t", "u", true, "2026-12-07", 5, &held("a"));
        assert_eq!(m.get("t", "u", true, "2026-12-07", 5), Some(held("a")));
        assert_eq!(m.get("t", "u", true, "2026-12-07", 6), None);
        assert_eq!(m.get("t", "u", true, "2026-12-08", 5), None);
        assert_eq!(m.get("t", "u", false, "2026-12-07", 5), None);
        assert_eq!(m.get("other", "u", true, "2026-12-07", 5), None);
        assert_eq!(m.get("t", "v", true, "2026-12-07", 5), None);
    }

    #[test]
    fn an_older_reading_does_not_replace_a_newer_one() {
        let m = HeldMemory::default();
        m.put("t", "u", false, "2026-12-07", 7, &held("new"));
        m.put("t", "u", false, "2026-12-07", 6, &held("old"));
        assert_eq!(m.get("t", "u", false, "2026-12-07", 7), Some(held("new")));
        assert_eq!(m.get("t", "u", false, "2026-12-07", 6), None);
        m.put("t", "u", false, "2026-12-06", 9, &held("yesterday"));
        assert_eq!(m.get("t", "u", false, "2026-12-07", 7), Some(held("new")));
        m.put("t", "u", false, "2026-12-07", 8, &held("newer"));
        assert_eq!(m.get("t", "u", false, "2026-12-07", 8), Some(held("newer")));
    }

    #[test]
    fn the_memory_stays_bounded() {
        let m = HeldMemory::default();
        for i in 0..3 * MAX_HELD {
            m.put(
                "t",
                &format!("u{i}"),
                i % 2 == 0,
                "2026-12-07",
                1,
                &held("r"),
            );
            assert!(m.len() <= MAX_HELD);
        }
        let last = format!("u{}", 3 * MAX_HELD - 1);
        assert_eq!(m.get("t", &last, false, "2026-12-07", 1), Some(held("r")));
    }
}
