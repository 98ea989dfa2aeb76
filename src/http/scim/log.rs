//! The log of recent SCIM requests (the console's Directory page shows it): a layer notes each
//! request's method, path (never the query string), status, `scimType` and duration, and hands
//! the entry to a bounded queue without waiting; one background task writes the queue to the
//! database in batches and prunes each tenant to its latest [`KEEP`] entries. When the queue is
//! full the entry is dropped and counted: a SCIM request is never slowed down or failed by its
//! log.

use crate::domain::clock::now_ms;
use crate::domain::scim::ScimRequest;
use crate::domain::{ScimTokenId, TenantId};
use crate::http::AppState;
use crate::store::Store;
use axum::extract::{OriginalUri, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::mpsc;

/// How many entries each tenant keeps.
pub const KEEP: i64 = 1000;
/// How many entries may wait for the writer.
const QUEUE: usize = 4096;
/// The most entries written in one transaction.
const BATCH: usize = 256;
/// How long the writer lets entries gather before a transaction: under load one transaction
/// writes many requests instead of one each.
const GATHER: std::time::Duration = std::time::Duration::from_millis(200);
/// The longest path kept (the rest is cut).
const MAX_PATH: usize = 300;

/// A request on its way to the log; the tenant is named by the path's slug when no token was
/// accepted (the writer looks it up).
struct Entry {
    slug: String,
    tenant: Option<TenantId>,
    request: ScimRequest,
}

/// The queue in front of the writer.
pub struct ScimLog {
    tx: mpsc::Sender<Entry>,
    rx: Mutex<Option<mpsc::Receiver<Entry>>>,
    started: AtomicBool,
    dropped: AtomicU64,
    store: Store,
}

impl ScimLog {
    pub fn new(store: Store) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        ScimLog {
            tx,
            rx: Mutex::new(Some(rx)),
            started: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
            store,
        }
    }

    /// How many entries were dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Queues an entry, or drops and counts it when the queue is full.
    fn record(&self, entry: Entry) {
        // The writer starts with the first entry: inside the runtime, never at construction.
        if !self.started.load(Ordering::Acquire) {
            let rx = self.rx.lock().ok().and_then(|mut r| r.take());
            if let Some(rx) = rx {
                self.started.store(true, Ordering::Release);
                tokio::spawn(write(self.store.clone(), rx));
            }
        }
        if self.tx.try_send(entry).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(dropped = n, "the SCIM request log is full: entries dropped");
            }
        }
    }
}

/// What the SCIM caller extractor saw: the tenant and token of an accepted token.
#[derive(Clone, Default)]
pub struct Seen(Arc<Mutex<Option<(TenantId, ScimTokenId)>>>);

impl Seen {
    pub fn set(&self, tenant: TenantId, token: ScimTokenId) {
        if let Ok(mut s) = self.0.lock() {
            *s = Some((tenant, token));
        }
    }
    fn take(&self) -> Option<(TenantId, ScimTokenId)> {
        self.0.lock().ok().and_then(|mut s| s.take())
    }
}

/// The `scimType` of a SCIM error answer, set by the error's `IntoResponse`.
#[derive(Clone, Copy)]
pub struct ScimType(pub &'static str);

/// The layer: runs the request, then queues what it was and how it ended.
pub async fn record(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let seen = Seen::default();
    req.extensions_mut().insert(seen.clone());
    let method = req.method().as_str().to_owned();
    let full = req
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| req.uri().path().to_owned(), |o| o.0.path().to_owned());
    let res = next.run(req).await;
    let slug = full
        .strip_prefix("/t/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
        .to_owned();
    let under = full
        .split_once("/scim/v2")
        .map_or(full.as_str(), |(_, p)| p);
    let mut path = if under.is_empty() { "/" } else { under }.to_owned();
    if path.len() > MAX_PATH {
        let mut cut = MAX_PATH;
        while !path.is_char_boundary(cut) {
            cut -= 1;
        }
        path.truncate(cut);
    }
    let accepted = seen.take();
    s.scim_log.record(Entry {
        slug,
        tenant: accepted.as_ref().map(|(t, _)| t.clone()),
        request: ScimRequest {
            seq: 0,
            at: now_ms(),
            token_id: accepted.map(|(_, k)| k),
            method,
            path,
            status: i64::from(res.status().as_u16()),
            scim_type: res.extensions().get::<ScimType>().map(|t| t.0.to_owned()),
            duration_ms: started.elapsed().as_millis().try_into().unwrap_or(i64::MAX),
        },
    });
    res
}

/// The writer: batches of what is waiting, each in one transaction.
async fn write(store: Store, mut rx: mpsc::Receiver<Entry>) {
    let mut tenants: HashMap<String, TenantId> = HashMap::new();
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        tokio::time::sleep(GATHER).await;
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(e) => batch.push(e),
                Err(_) => break,
            }
        }
        let mut rows = Vec::with_capacity(batch.len());
        for e in batch.drain(..) {
            let tenant = match e.tenant {
                Some(t) => Some(t),
                None => tenant_of(&store, &mut tenants, &e.slug).await,
            };
            if let Some(t) = tenant {
                rows.push((t, e.request));
            }
        }
        if rows.is_empty() {
            continue;
        }
        if let Err(e) = store.insert_scim_requests(&rows, KEEP).await {
            tracing::warn!(error = %e, entries = rows.len(), "SCIM request log entries lost");
        }
    }
}

/// The tenant of a slug (known ones remembered; an unknown slug logs nothing).
async fn tenant_of(
    store: &Store,
    known: &mut HashMap<String, TenantId>,
    slug: &str,
) -> Option<TenantId> {
    if let Some(t) = known.get(slug) {
        return Some(t.clone());
    }
    let tenant = store.tenant_by_slug(slug).await.ok().flatten()?;
    if known.len() > 1024 {
        known.clear();
    }
    known.insert(slug.to_owned(), tenant.id.clone());
    Some(tenant.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: usize) -> Entry {
        Entry {
            slug: "acme".into(),
            tenant: None,
            request: ScimRequest {
                seq: 0,
                at: 0,
                token_id: None,
                method: "GET".into(),
                path: format!("/Users/{i}"),
                status: 200,
                scim_type: None,
                duration_ms: 0,
            },
        }
    }

    /// A full queue drops and counts: recording never waits for the writer (which, on this
    /// one-thread runtime, cannot run until the test yields).
    #[tokio::test(flavor = "current_thread")]
    async fn a_full_queue_drops_and_counts_without_waiting() {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let log = ScimLog::new(store);
        let started = Instant::now();
        for i in 0..QUEUE + 100 {
            log.record(entry(i));
        }
        assert_eq!(log.dropped(), 100);
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}
