//! A small in-memory cache whose entries expire after a few seconds. The database stays the
//! truth: a change made by another replica is seen once the entry expires.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// How long an entry is trusted.
pub const TTL: Duration = Duration::from_secs(3);
/// Above this many entries, expired ones are swept out on insert.
const SWEEP_AT: usize = 10_000;

pub struct TtlCache<K, V> {
    entries: RwLock<HashMap<K, (Instant, V)>>,
}

impl<K, V> Default for TtlCache<K, V> {
    fn default() -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    /// The value, unless it is missing or older than `TTL`.
    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, v)| v.clone())
    }

    pub fn put(&self, key: K, value: V) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= SWEEP_AT {
            entries.retain(|_, (at, _)| at.elapsed() < TTL);
        }
        entries.insert(key, (Instant::now(), value));
    }

    pub fn remove(&self, key: &K) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.remove(key);
    }

    /// Forgets every entry for which `pred` holds.
    pub fn remove_where(&self, pred: impl Fn(&K) -> bool) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.retain(|k, _| !pred(k));
    }
}
