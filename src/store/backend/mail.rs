//! The mail outbox: messages written in the transaction of the change that causes them, claimed
//! by delivery workers under a lease (PostgreSQL skips rows another worker holds; SQLite runs
//! the claim as one statement under its single writer), and their delivery status.

use super::{Backend, DB, DIALECT, Tx, commit, db_error};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_ms;
use crate::domain::mail::*;
use crate::domain::sealing::row_aad;
use crate::domain::*;
use std::collections::BTreeMap;

const RECORD_COLUMNS: &str = "id, user_id, recipient, kind, locale, subject, status, attempts, next_attempt_at, last_error, message_id, created_at, sent_at";

type RecordRow = (
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    String,
    i64,
    Option<i64>,
);

fn record_of(r: RecordRow) -> MailRecord {
    MailRecord {
        id: MailId(r.0),
        user_id: r.1.map(UserId),
        recipient: r.2,
        kind: r.3,
        locale: r.4,
        subject: r.5,
        status: MailStatus::parse(&r.6).unwrap_or(MailStatus::Pending),
        attempts: r.7,
        next_attempt_at: r.8,
        last_error: r.9,
        message_id: r.10,
        created_at: r.11,
        sent_at: r.12,
    }
}

/// The sealed form of a message's parts.
#[derive(serde::Serialize, serde::Deserialize)]
struct Body {
    text: String,
    html: String,
}

/// A Message-ID for a new message (the same on every attempt, so a receiver can tell retries).
fn new_message_id(id: &MailId) -> String {
    format!("<{id}@castellan>")
}

impl Backend {
    /// Writes `mail` to the outbox inside `tx`, the transaction of the change that causes it:
    /// the message exists exactly when the change does. Due at once.
    pub async fn enqueue_mail_in(&self, tx: &mut Tx, mail: &OutgoingMail) -> Result<MailId> {
        let id = MailId::generate();
        let body = serde_json::to_string(&Body {
            text: mail.text.clone(),
            html: mail.html.clone(),
        })
        .map_err(|e| DomainError::Internal(e.to_string()))?;
        let sealed = self.master_key()?.seal(
            &row_aad("mail_outbox", mail.tenant.as_str(), id.as_str()),
            body.as_bytes(),
        )?;
        let headers = serde_json::to_string(&mail.headers)
            .map_err(|e| DomainError::Internal(e.to_string()))?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO mail_outbox (id, tenant_id, user_id, recipient, kind, locale, subject, body, headers, message_id, next_attempt_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(id.as_str())
        .bind(mail.tenant.as_str())
        .bind(mail.user.as_ref().map(|u| u.as_str()))
        .bind(&mail.to)
        .bind(mail.kind.as_str())
        .bind(mail.locale)
        .bind(&mail.subject)
        .bind(sealed)
        .bind(headers)
        .bind(new_message_id(&id))
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
        Ok(id)
    }

    /// Writes `mail` to the outbox on its own (for a mail that is the whole change).
    pub async fn enqueue_mail(&self, mail: &OutgoingMail) -> Result<MailId> {
        let mut tx = self.write_tx().await?;
        let id = self.enqueue_mail_in(&mut tx, mail).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(id)
    }

    /// Claims up to `limit` due messages for `lease_ms` (each attempt counted): a message is due
    /// when pending, its time has come and no live lease holds it. Two workers never claim the
    /// same message while a lease lasts.
    pub async fn claim_mail(&self, lease_ms: i64, limit: i64) -> Result<Vec<ClaimedMail>> {
        let now = now_ms();
        let claim = uuid::Uuid::new_v4().to_string();
        let skip = match DIALECT {
            crate::store::Dialect::Sqlite => "",
            crate::store::Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let rows = sqlx::query_as::<DB, (String, String, String, String, String, Option<String>, String, String, i64)>(
            sqlx::AssertSqlSafe(format!(
                "UPDATE mail_outbox SET claimed_until = $1, claim = $2, attempts = attempts + 1
                 WHERE id IN (SELECT id FROM mail_outbox
                              WHERE status = 'pending' AND next_attempt_at <= $3
                                AND (claimed_until IS NULL OR claimed_until <= $3)
                              ORDER BY next_attempt_at LIMIT $4{skip})
                 RETURNING id, tenant_id, recipient, kind, subject, body, headers, message_id, attempts"
            )),
        )
        .bind(now + lease_ms)
        .bind(&claim)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, tenant, to, kind, subject, body, headers, message_id, attempts) in rows {
            let aad = row_aad("mail_outbox", &tenant, &id);
            let body: Body = match body.map(|b| self.master_key()?.open_text(&aad, &b)) {
                Some(Ok(text)) => serde_json::from_str(&text)
                    .map_err(|e| DomainError::Internal(format!("mail {id}: {e}")))?,
                Some(Err(e)) => return Err(e),
                None => Body {
                    text: String::new(),
                    html: String::new(),
                },
            };
            let from: Option<String> =
                sqlx::query_scalar("SELECT mail_from FROM tenants WHERE id = $1")
                    .bind(&tenant)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(db_error)?
                    .flatten();
            out.push(ClaimedMail {
                id: MailId(id),
                tenant: TenantId(tenant),
                claim: claim.clone(),
                to,
                from,
                kind,
                subject,
                text: body.text,
                html: body.html,
                headers: serde_json::from_str::<BTreeMap<String, String>>(&headers)
                    .unwrap_or_default(),
                message_id,
                attempts,
            });
        }
        Ok(out)
    }

    /// Records that a claimed message went out (`Sent`) or was written to the log (`Logged`):
    /// its body is erased. False when the claim was lost (the lease ran out and another worker
    /// took the message).
    pub async fn mail_delivered(
        &self,
        id: &MailId,
        claim: &str,
        status: MailStatus,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE mail_outbox SET status = $1, sent_at = $2, body = NULL, claimed_until = NULL, last_error = NULL
             WHERE id = $3 AND claim = $4 AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(now_ms())
        .bind(id.as_str())
        .bind(claim)
        .execute(&self.pool)
        .await
        .map_err(db_error)?
        .rows_affected();
        Ok(n == 1)
    }

    /// Records a failed attempt of a claimed message: due again at `retry_at`, or `failed` (its
    /// body erased) when there is no next attempt.
    pub async fn mail_attempt_failed(
        &self,
        id: &MailId,
        claim: &str,
        error: &str,
        retry_at: Option<i64>,
    ) -> Result<bool> {
        let error: String = error.chars().take(1000).collect();
        let q = match retry_at {
            Some(at) => sqlx::query(
                "UPDATE mail_outbox SET next_attempt_at = $1, claimed_until = NULL, last_error = $2
                 WHERE id = $3 AND claim = $4 AND status = 'pending'",
            )
            .bind(at),
            None => sqlx::query(
                "UPDATE mail_outbox SET status = 'failed', next_attempt_at = $1, body = NULL, claimed_until = NULL, last_error = $2
                 WHERE id = $3 AND claim = $4 AND status = 'pending'",
            )
            .bind(now_ms()),
        };
        let n = q
            .bind(error)
            .bind(id.as_str())
            .bind(claim)
            .execute(&self.pool)
            .await
            .map_err(db_error)?
            .rows_affected();
        Ok(n == 1)
    }

    /// The tenant's messages, newest first, optionally to one address and in one status.
    pub async fn list_mail(
        &self,
        tenant: &TenantId,
        recipient: Option<&str>,
        status: Option<MailStatus>,
        limit: i64,
    ) -> Result<Vec<MailRecord>> {
        let rows = sqlx::query_as::<DB, RecordRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {RECORD_COLUMNS} FROM mail_outbox
             WHERE tenant_id = $1 AND ($2 IS NULL OR recipient = $2) AND ($3 IS NULL OR status = $3)
             ORDER BY created_at DESC, id DESC LIMIT $4"
        )))
        .bind(tenant.as_str())
        .bind(recipient)
        .bind(status.map(|s| s.as_str()))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(rows.into_iter().map(record_of).collect())
    }

    /// One message of the tenant.
    pub async fn get_mail(&self, tenant: &TenantId, id: &MailId) -> Result<Option<MailRecord>> {
        let row = sqlx::query_as::<DB, RecordRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {RECORD_COLUMNS} FROM mail_outbox WHERE tenant_id = $1 AND id = $2"
        )))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(row.map(record_of))
    }

    /// The tenant's own wording of `kind` in `locale`, if it has one.
    pub async fn mail_template(
        &self,
        tenant: &TenantId,
        kind: MailKind,
        locale: &str,
    ) -> Result<Option<MailTemplate>> {
        let row = sqlx::query_as::<DB, (String, String, String)>(
            "SELECT subject, body_text, body_html FROM mail_templates WHERE tenant_id = $1 AND kind = $2 AND locale = $3",
        )
        .bind(tenant.as_str())
        .bind(kind.as_str())
        .bind(locale)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(row.map(|(subject, text, html)| MailTemplate {
            kind: kind.as_str().into(),
            locale: locale.into(),
            subject,
            text,
            html,
        }))
    }

    /// The tenant's own wordings.
    pub async fn mail_templates(&self, tenant: &TenantId) -> Result<Vec<MailTemplate>> {
        let rows = sqlx::query_as::<DB, (String, String, String, String, String)>(
            "SELECT kind, locale, subject, body_text, body_html FROM mail_templates WHERE tenant_id = $1 ORDER BY kind, locale",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|(kind, locale, subject, text, html)| MailTemplate {
                kind,
                locale,
                subject,
                text,
                html,
            })
            .collect())
    }

    /// Sets (or with `None` removes) the tenant's wording of one kind in one locale. Audited.
    pub async fn set_mail_template(
        &self,
        tenant: &TenantId,
        kind: MailKind,
        locale: &str,
        template: Option<MailTemplate>,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "DELETE FROM mail_templates WHERE tenant_id = $1 AND kind = $2 AND locale = $3",
        )
        .bind(tenant.as_str())
        .bind(kind.as_str())
        .bind(locale)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        if let Some(t) = &template {
            sqlx::query(
                "INSERT INTO mail_templates (tenant_id, kind, locale, subject, body_text, body_html, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(tenant.as_str())
            .bind(kind.as_str())
            .bind(locale)
            .bind(&t.subject)
            .bind(&t.text)
            .bind(&t.html)
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        let action = if template.is_some() {
            "mail.template.set"
        } else {
            "mail.template.delete"
        };
        let change = Change::new(
            action,
            "mail_template",
            format!("{}/{locale}", kind.as_str()),
        )
        .after(serde_json::json!(template.map(|t| t.subject)));
        commit(tx, tenant, actor, change).await
    }

    /// The tenant's From address (`None`: the configured default).
    pub async fn mail_from(&self, tenant: &TenantId) -> Result<Option<String>> {
        let from: Option<Option<String>> =
            sqlx::query_scalar("SELECT mail_from FROM tenants WHERE id = $1")
                .bind(tenant.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
        Ok(from.flatten())
    }

    /// Sets the tenant's From address (`None`: back to the configured default). Audited.
    pub async fn set_mail_from(
        &self,
        tenant: &TenantId,
        from: Option<&str>,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE tenants SET mail_from = $1 WHERE id = $2")
            .bind(from)
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let change = Change::new("mail.from.set", "tenant", tenant)
            .after(serde_json::json!({ "mail_from": from }));
        commit(tx, tenant, actor, change).await
    }

    /// Up to `limit` notifications on the email channel not yet turned into mail, oldest first.
    pub async fn unmailed_notifications(&self, limit: i64) -> Result<Vec<UnmailedNotification>> {
        let rows = sqlx::query_as::<DB, (String, String, String, String, Option<String>, Option<String>, Option<String>, Option<String>, String, String, String, String)>(
            "SELECT n.id, n.tenant_id, n.user_id, u.email, u.display_name, u.given_name, u.family_name, u.locale, u.status, n.event_type, n.message, n.channels
             FROM notifications n JOIN users u ON u.id = n.user_id AND u.tenant_id = n.tenant_id
             WHERE n.mailed_at IS NULL ORDER BY n.created_at LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let name =
                    r.4.clone()
                        .or_else(|| match (&r.5, &r.6) {
                            (Some(g), Some(f)) => Some(format!("{g} {f}")),
                            (Some(g), None) => Some(g.clone()),
                            (None, Some(f)) => Some(f.clone()),
                            (None, None) => None,
                        })
                        .unwrap_or_else(|| r.3.clone());
                let emailed = r.11.split(',').any(|c| c.trim() == "email");
                UnmailedNotification {
                    id: NotificationId(r.0),
                    tenant: TenantId(r.1),
                    user: UserId(r.2),
                    reachable: emailed && r.8 != "anonymised" && r.3.contains('@'),
                    email: r.3,
                    name,
                    locale: r.7,
                    event_type: r.9,
                    message: r.10,
                }
            })
            .collect())
    }

    /// Marks a notification mailed and writes its mail (none when the user is not reachable by
    /// email) in one transaction; false, writing nothing, when another worker did it first.
    pub async fn mail_notification(
        &self,
        notification: &NotificationId,
        mail: Option<OutgoingMail>,
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE notifications SET mailed_at = $1 WHERE id = $2 AND mailed_at IS NULL",
        )
        .bind(now_ms())
        .bind(notification.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        if let Some(mail) = &mail {
            self.enqueue_mail_in(&mut tx, mail).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }
}
