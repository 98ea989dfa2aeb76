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

/// At most one event per key per `every`: `ready` answers true once, then false until `every`
/// has passed. Used to let a cache miss reach the database without letting made-up keys do so
/// on every request.
pub struct Cooldown<K> {
    every: Duration,
    last: RwLock<HashMap<K, Instant>>,
}

impl<K: Eq + Hash + Clone> Cooldown<K> {
    pub fn new(every: Duration) -> Self {
        Self {
            every,
            last: RwLock::new(HashMap::new()),
        }
    }

    /// Whether `key` may go now (and if so, starts its cooldown).
    pub fn ready(&self, key: &K) -> bool {
        let mut last = self.last.write().unwrap_or_else(|e| e.into_inner());
        if last.get(key).is_some_and(|at| at.elapsed() < self.every) {
            return false;
        }
        if last.len() >= SWEEP_AT {
            let every = self.every;
            last.retain(|_, at| at.elapsed() < every);
        }
        last.insert(key.clone(), Instant::now());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Cooldown;
    use std::time::Duration;

    #[test]
    fn cooldown_lets_one_through_per_key_and_period() {
        let c = Cooldown::new(Duration::from_millis(200));
        assert!(c.ready(&"a"));
        assert!(!c.ready(&"a"), "within the period");
        assert!(c.ready(&"b"), "another key");
        std::thread::sleep(Duration::from_millis(250));
        assert!(c.ready(&"a"), "after the period");
    }
}
