//! The token endpoints' own connections: a fixed set, each lent to one statement at a time
//! and kept, not pooled.
//!
//! sqlx's pool tests every connection it takes back (a ping: on SQLite a hand-off to the
//! connection's worker thread and back, on PostgreSQL a network round trip), in a task it
//! spawns for that, after every statement; it cannot be turned off. For the refresh, code
//! exchange, userinfo and introspection statements, one statement each, that doubled the trips.
//! Here a connection is lent under a lock and simply unlocked after its statement: one trip.
//!
//! What the pool's test was for is kept another way: a connection that failed with an error of
//! the connection itself (I/O, protocol, a crashed SQLite worker) is dropped and the next
//! borrower opens a new one; one idle for [`PING_WHEN_IDLE_FOR`] is pinged first, so a restarted
//! PostgreSQL costs no request an error. A statement abandoned half-way (its request cancelled)
//! leaves the connection usable: sqlx's PostgreSQL connection waits out the rest of the
//! answer before its next command, and SQLite's worker stops the statement.

use super::PING_WHEN_IDLE_FOR;
use sqlx::{ConnectOptions, Connection, Database};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{Mutex, MutexGuard, Semaphore, SemaphorePermit};

/// `size` connections to one database, opened when first needed.
pub struct Hot<DB: Database> {
    inner: Arc<Inner<DB>>,
}

impl<DB: Database> Clone for Hot<DB> {
    fn clone(&self) -> Self {
        Hot {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<DB: Database> std::fmt::Debug for Hot<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hot")
            .field("size", &self.inner.slots.len())
            .finish_non_exhaustive()
    }
}

struct Inner<DB: Database> {
    /// One permit per slot: holding one guarantees a slot is free.
    free: Semaphore,
    slots: Vec<Mutex<Slot<DB>>>,
    options: <DB::Connection as Connection>::Options,
}

struct Slot<DB: Database> {
    conn: Option<DB::Connection>,
    used_at: Instant,
}

/// A connection lent for one statement (or a few in a row); unlocked when dropped.
pub struct HotConn<'a, DB: Database> {
    // Dropped first: the slot is unlocked before its permit is given back, so a task holding
    // a permit always finds an unlocked slot.
    slot: MutexGuard<'a, Slot<DB>>,
    _permit: SemaphorePermit<'a>,
    /// Set when a statement failed for the connection's own reasons: it is dropped with this.
    broken: bool,
}

impl<DB: Database> Hot<DB> {
    pub fn new(size: usize, options: <DB::Connection as Connection>::Options) -> Self {
        let size = size.max(1);
        Hot {
            inner: Arc::new(Inner {
                free: Semaphore::new(size),
                slots: (0..size)
                    .map(|_| {
                        Mutex::new(Slot {
                            conn: None,
                            used_at: Instant::now(),
                        })
                    })
                    .collect(),
                options,
            }),
        }
    }

    /// A connection: the first free one (so that a light load keeps using the same few, whose
    /// caches are warm), opened or checked first if needed; waits while all are lent, as a
    /// pool would, at most [`super::ACQUIRE_TIMEOUT`] (a flood is then refused, not queued
    /// without end).
    pub async fn get(&self) -> Result<HotConn<'_, DB>, sqlx::Error> {
        tokio::time::timeout(super::ACQUIRE_TIMEOUT, self.lend())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
    }

    /// [`Self::get`] without its time limit.
    async fn lend(&self) -> Result<HotConn<'_, DB>, sqlx::Error> {
        let permit = self
            .inner
            .free
            .acquire()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        // A permit is held, so at least one slot is unlocked or about to be (its holder has
        // given its permit back just before its lock); try until one is taken.
        let mut slot = loop {
            if let Some(slot) = self.inner.slots.iter().find_map(|s| s.try_lock().ok()) {
                break slot;
            }
            tokio::task::yield_now().await;
        };
        let idle = slot.used_at.elapsed() >= PING_WHEN_IDLE_FOR;
        if let Some(conn) = slot.conn.as_mut()
            && idle
            && conn.ping().await.is_err()
        {
            slot.conn = None;
        }
        if slot.conn.is_none() {
            slot.conn = Some(self.inner.options.connect().await?);
        }
        slot.used_at = Instant::now();
        Ok(HotConn {
            slot,
            _permit: permit,
            broken: false,
        })
    }

    /// Closes every connection (waiting for those lent out).
    pub async fn close(&self) {
        self.inner.free.close();
        for slot in &self.inner.slots {
            if let Some(conn) = slot.lock().await.conn.take() {
                let _ = conn.close().await;
            }
        }
    }
}

impl<DB: Database> HotConn<'_, DB> {
    /// The connection, to run a statement on.
    pub fn conn(&mut self) -> Result<&mut DB::Connection, sqlx::Error> {
        self.slot.conn.as_mut().ok_or(sqlx::Error::PoolClosed)
    }

    /// `result` of a statement run on this connection; an error of the connection's own makes
    /// it be dropped when it is given back (the next borrower opens a new one).
    pub fn checked<T>(&mut self, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        if let Err(e) = &result {
            self.broken |= connection_lost(e);
        }
        result
    }
}

impl<DB: Database> Drop for HotConn<'_, DB> {
    fn drop(&mut self) {
        self.slot.used_at = Instant::now();
        if self.broken {
            // Dropping an sqlx connection closes it without waiting.
            self.slot.conn = None;
        }
    }
}

/// Whether `e` says the connection itself is gone (not that the statement failed): I/O, TLS or
/// protocol errors, SQLite's worker thread gone, or PostgreSQL's connection exception (SQLSTATE
/// class 08) and operator intervention (57P: the server shutting down or the backend terminated).
fn connection_lost(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}
