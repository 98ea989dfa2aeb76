//! The delivery worker: turns notifications on the email channel into mail, then claims due
//! messages, sends them and records the outcome. Runs on every replica; the outbox's leases
//! keep them from sending a message twice.

use super::transport::Transport;
use super::{Delivery, MailKind, Recipient, Vars, compose, unsubscribe};
use crate::domain::mail::{ClaimedMail, MailStatus, UnmailedNotification};
use crate::domain::{Result, Tenant, is_mandatory_notification};
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// One delivery worker.
#[derive(Clone)]
pub struct Worker {
    pub store: Store,
    pub transport: Arc<Transport>,
    pub delivery: Delivery,
    /// The From address of tenants that set none.
    pub default_from: String,
    /// Where links in mail point (unsubscribe links).
    pub public_url: String,
}

impl Worker {
    /// A worker for the configuration (`smtp_url`, `smtp_password_file`, `mail_from`, `[mail]`).
    pub fn from_config(
        store: Store,
        config: &crate::config::Config,
    ) -> std::result::Result<Self, String> {
        let password = config.smtp_password()?;
        let transport = Transport::new(&config.smtp_url, password.as_deref())?;
        Ok(Self {
            store,
            transport: Arc::new(transport),
            delivery: config.mail.clone(),
            default_from: config.mail_from.clone(),
            public_url: config.public_url.clone(),
        })
    }

    /// Delivers forever, every `poll_ms` (at once again after a full batch).
    pub async fn run(self) {
        if !self.transport.is_smtp() {
            tracing::info!(
                "SMTP is not configured (smtp_url): mail will be written to the log, not sent"
            );
        }
        loop {
            let busy = match self.tick().await {
                Ok(n) => n >= self.delivery.batch as usize,
                Err(e) => {
                    tracing::warn!(error = %e, "mail delivery round failed");
                    false
                }
            };
            if !busy {
                tokio::time::sleep(Duration::from_millis(self.delivery.poll_ms.max(10))).await;
            }
        }
    }

    /// One round: notifications to mail, then one batch of due messages; how many messages
    /// it handled.
    pub async fn tick(&self) -> Result<usize> {
        self.mail_notifications().await?;
        let claimed = self
            .store
            .claim_mail(
                (self.delivery.lease_secs.max(1) * 1000) as i64,
                i64::from(self.delivery.batch.max(1)),
            )
            .await?;
        let n = claimed.len();
        for mail in claimed {
            self.deliver(mail).await?;
        }
        Ok(n)
    }

    async fn deliver(&self, mail: ClaimedMail) -> Result<()> {
        match self.transport.send(&mail, &self.default_from).await {
            Ok(()) => {
                let status = if self.transport.is_smtp() {
                    MailStatus::Sent
                } else {
                    MailStatus::Logged
                };
                if !self
                    .store
                    .mail_delivered(&mail.id, &mail.claim, status)
                    .await?
                {
                    tracing::warn!(mail_id = %mail.id, "a mail's lease ran out while it was sent");
                }
            }
            Err(e) => {
                let retry = if e.permanent {
                    None
                } else {
                    self.delivery
                        .backoff()
                        .delay_ms(mail.attempts, rand::random::<f64>())
                        .map(|d| crate::domain::clock::now_ms() + d)
                };
                tracing::warn!(mail_id = %mail.id, attempts = mail.attempts, error = %e.message,
                    retry_at = ?retry, "sending a mail failed");
                self.store
                    .mail_attempt_failed(&mail.id, &mail.claim, &e.message, retry)
                    .await?;
            }
        }
        Ok(())
    }

    /// Turns pending notifications on the email channel into mail, each in a transaction that
    /// marks it mailed.
    async fn mail_notifications(&self) -> Result<()> {
        let pending = self.store.unmailed_notifications(100).await?;
        if pending.is_empty() {
            return Ok(());
        }
        let tenants = self.store.list_tenants().await?;
        for n in pending {
            let mail = match tenants.iter().find(|t| t.id == n.tenant) {
                Some(t) if n.reachable => Some(self.notification_mail(t, &n).await?),
                _ => None,
            };
            self.store.mail_notification(&n.id, mail).await?;
        }
        Ok(())
    }

    async fn notification_mail(
        &self,
        tenant: &Tenant,
        n: &UnmailedNotification,
    ) -> Result<super::OutgoingMail> {
        let mut vars = Vars::new();
        vars.insert("message", n.message.clone());
        vars.insert("event", n.event_type.clone());
        if !is_mandatory_notification(&n.event_type)
            && let Some(key) = self.store.master_key()
        {
            vars.insert(
                "unsubscribe",
                unsubscribe::link(
                    key,
                    &self.public_url,
                    &tenant.slug,
                    &tenant.id,
                    &n.user,
                    &n.event_type,
                ),
            );
        }
        let to = Recipient {
            user: Some(n.user.clone()),
            email: n.email.clone(),
            name: n.name.clone(),
            locale: n.locale.clone(),
        };
        compose(&self.store, tenant, to, MailKind::Notification, vars).await
    }
}
