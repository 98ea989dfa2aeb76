//! Mail against a real SMTP server (an aiosmtpd sink started by the tests): what arrives, the
//! outbox's retries and durability, replicas sharing one database, and the admin API over
//! delivery status and templates. On SQLite and PostgreSQL. Skipped (with a message) when the
//! sink's Python is missing, unless `CASTELLAN_MAIL_TESTS=1`.

mod account_email;
mod api;
#[path = "../api/common.rs"]
#[allow(dead_code)]
mod common;
mod delivery;
mod durability;
mod import_invite;
mod invitations;
mod notifications;
mod process;
mod reset_limit;
mod restart;
mod scim_email;
mod sink;

use castellan::mail::worker::Worker;
use castellan::mail::{Delivery, transport::Transport};
use castellan::store::Store;
use std::sync::Arc;

/// A delivery worker on `store` sending to `smtp_url` (empty: the log), retrying after a
/// second, with leases of `lease_secs`.
pub fn worker(store: &Store, smtp_url: &str, lease_secs: u64) -> Worker {
    Worker {
        store: store.clone(),
        transport: Arc::new(Transport::new(smtp_url, None).unwrap()),
        delivery: Delivery {
            poll_ms: 50,
            lease_secs,
            retry_base_secs: 1,
            retry_max_secs: 2,
            max_attempts: 5,
            batch: 20,
        },
        default_from: "Castellan <noreply@castellan.test>".into(),
        public_url: "http://localhost".into(),
    }
}
