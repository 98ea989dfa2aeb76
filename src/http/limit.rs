//! A fixed-window counter per key, in memory: enough to keep one client from filling the
//! database through an endpoint that needs no sign-in. Each replica counts on its own.

use std::collections::HashMap;
use std::sync::Mutex;

/// Keys kept before the expired ones are swept out.
const SWEEP_AT: usize = 10_000;

#[derive(Default)]
pub struct Limiter {
    windows: Mutex<HashMap<String, (i64, u32)>>,
}

impl Limiter {
    /// Counts one event for `key` at `now_ms`: false when `max` were already counted in the
    /// current window of `window_ms`.
    pub fn allow(&self, key: &str, max: u32, window_ms: i64, now_ms: i64) -> bool {
        let Ok(mut windows) = self.windows.lock() else {
            // A panic elsewhere poisoned the lock: count nothing rather than refuse everyone.
            return true;
        };
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, (start, _)| now_ms - *start < window_ms);
        }
        let entry = windows.entry(key.to_owned()).or_insert((now_ms, 0));
        if now_ms - entry.0 >= window_ms {
            *entry = (now_ms, 0);
        }
        if entry.1 >= max {
            return false;
        }
        entry.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_key_and_window() {
        let l = Limiter::default();
        assert!(l.allow("a", 2, 1000, 0));
        assert!(l.allow("a", 2, 1000, 10));
        assert!(!l.allow("a", 2, 1000, 20));
        assert!(l.allow("b", 2, 1000, 20), "another key has its own count");
        assert!(l.allow("a", 2, 1000, 1000), "a new window");
    }
}
