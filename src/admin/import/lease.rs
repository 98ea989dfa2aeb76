//! One import writes to a tenant at a time. Two imports of one file at once (a double click, a
//! retried API call, two replicas) would each plan a user missing, then each add the memberships
//! and groups of a user the other had just created: duplicate employments and reports that do
//! not add up. An import that writes first takes the tenant's lease, kept in the database so
//! replicas on one PostgreSQL share it, and waits while another import holds it.

use crate::domain::clock::now_ms;
use crate::domain::*;
use crate::store::Store;
use std::future::Future;
use std::time::Duration;

/// How long a lease lasts unless renewed: a lease left by a process that died lapses after this.
const LEASE: Duration = Duration::from_secs(60);

/// The longest pause between two attempts to take a lease another import holds.
const MAX_WAIT: Duration = Duration::from_secs(1);

/// Runs `work` holding the tenant's import lease: waits for it, renews it while `work` runs,
/// gives it back after.
pub async fn exclusively<T>(
    store: &Store,
    tenant: &TenantId,
    work: impl Future<Output = T>,
) -> Result<T> {
    let holder = uuid::Uuid::now_v7().to_string();
    let until = || now_ms().saturating_add(i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX));
    let mut wait = Duration::from_millis(25);
    while !store.take_import_lease(tenant, &holder, until()).await? {
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(MAX_WAIT);
    }
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let renew = async {
        let mut every = tokio::time::interval(LEASE / 4);
        every.tick().await;
        loop {
            tokio::select! {
                _ = stopped.changed() => break,
                _ = every.tick() => {}
            }
            match store.take_import_lease(tenant, &holder, until()).await {
                Ok(true) => {}
                Ok(false) => tracing::warn!(
                    tenant = %tenant,
                    "an import lost its lease (it ran longer than the lease without renewing)"
                ),
                Err(e) => tracing::warn!(error = %e, "an import's lease could not be renewed"),
            }
        }
    };
    let work = async {
        let out = work.await;
        let _ = stop.send(true);
        out
    };
    let (out, ()) = tokio::join!(work, renew);
    if let Err(e) = store.drop_import_lease(tenant, &holder).await {
        tracing::warn!(error = %e, "an import's lease could not be given back; it lapses by itself");
    }
    Ok(out)
}
