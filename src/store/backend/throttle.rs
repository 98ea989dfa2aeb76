//! Counting failed attempts at typed secrets (see `domain::throttle`): one upsert per attempt,
//! atomic on both databases, so every replica and every parallel request sees the same count.

use super::{Backend, DB, commit, db_error};
use crate::domain::audit::{Actor, Change};
use crate::domain::throttle::{Attempt, LockState, Policy};
use crate::domain::*;

/// The consecutive failures after this attempt, from the stored row (old values): restarted
/// when the last failure is older than the reset time.
const NEXT: &str = "(CASE WHEN sign_in_throttle.last_failure_at < $3 - $7 THEN 1 \
                    ELSE sign_in_throttle.failures + 1 END)";

impl Backend {
    /// Counts one attempt at `subject`'s secret at `now`, before it is judged. When the subject
    /// is locked the row is left as it is and the attempt is not allowed; otherwise the failure
    /// is counted, the lock the policy asks for is set, and the row takes this attempt's
    /// `ticket` (how the caller knows its own attempt counted, even within one millisecond).
    pub async fn throttle_attempt(
        &self,
        tenant: &TenantId,
        subject: &str,
        policy: &Policy,
        now: i64,
        ticket: &str,
    ) -> Result<Attempt> {
        let locked =
            "(sign_in_throttle.locked_until IS NOT NULL AND sign_in_throttle.locked_until > $3)";
        let lock = format!(
            "CASE WHEN $8 > 0 AND {NEXT} >= $8 THEN $9 \
                  WHEN {NEXT} >= $5 THEN $3 + CASE WHEN $6 * ({NEXT} - $5 + 1) > $10 THEN $10 \
                                                   ELSE $6 * ({NEXT} - $5 + 1) END \
                  ELSE NULL END"
        );
        let sql = format!(
            "INSERT INTO sign_in_throttle (tenant_id, subject, failures, last_failure_at, locked_until, ticket)
             VALUES ($1, $2, 1, $3, $11, $4)
             ON CONFLICT (tenant_id, subject) DO UPDATE SET
               failures = CASE WHEN {locked} THEN sign_in_throttle.failures ELSE {NEXT} END,
               locked_until = CASE WHEN {locked} THEN sign_in_throttle.locked_until ELSE {lock} END,
               last_failure_at = CASE WHEN {locked} THEN sign_in_throttle.last_failure_at ELSE $3 END,
               ticket = CASE WHEN {locked} THEN sign_in_throttle.ticket ELSE $4 END
             RETURNING failures, locked_until, ticket"
        );
        let (failures, locked_until, stored) =
            sqlx::query_as::<DB, (i64, Option<i64>, String)>(sqlx::AssertSqlSafe(sql))
                .bind(tenant.as_str())
                .bind(subject)
                .bind(now)
                .bind(ticket)
                .bind(policy.failure_factor)
                .bind(policy.wait_increment_ms)
                .bind(policy.failure_reset_ms)
                .bind(policy.max_failures)
                .bind(crate::domain::throttle::PERMANENT)
                .bind(policy.max_wait_ms)
                .bind(policy.locked_until(1, now))
                .fetch_one(&self.pool)
                .await
                .map_err(db_error)?;
        Ok(Attempt {
            allowed: stored == ticket,
            failures,
            locked_until,
        })
    }

    /// A correct secret: the subject's failures are forgotten.
    pub async fn throttle_forget(&self, tenant: &TenantId, subject: &str) -> Result<()> {
        sqlx::query("DELETE FROM sign_in_throttle WHERE tenant_id = $1 AND subject = $2")
            .bind(tenant.as_str())
            .bind(subject)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// Takes back one counted failure that turned out a success (a client address's count: one
    /// person's right password must not wipe an attacker's failures from the same address).
    pub async fn throttle_uncount(&self, tenant: &TenantId, subject: &str) -> Result<()> {
        sqlx::query(
            "UPDATE sign_in_throttle SET failures = failures - 1
             WHERE tenant_id = $1 AND subject = $2 AND failures > 0",
        )
        .bind(tenant.as_str())
        .bind(subject)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    /// A subject's state at `now` (clear when nothing is stored, or the failures are older than
    /// the reset time).
    pub async fn throttle_state(
        &self,
        tenant: &TenantId,
        subject: &str,
        policy: &Policy,
        now: i64,
    ) -> Result<LockState> {
        let row = sqlx::query_as::<DB, (i64, i64, Option<i64>)>(
            "SELECT failures, last_failure_at, locked_until FROM sign_in_throttle
             WHERE tenant_id = $1 AND subject = $2",
        )
        .bind(tenant.as_str())
        .bind(subject)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(match row {
            Some((failures, last, until))
                if until.is_some_and(|u| u > now) || last >= now - policy.failure_reset_ms =>
            {
                LockState::at(failures, Some(last), until, now)
            }
            _ => LockState::clear(),
        })
    }

    /// Clears `subjects` (an administrator's unlock), audited as `change` (also when nothing
    /// was stored, so the log shows who tried).
    pub async fn throttle_clear(
        &self,
        tenant: &TenantId,
        subjects: &[String],
        actor: &Actor,
        change: Change,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        for subject in subjects {
            sqlx::query("DELETE FROM sign_in_throttle WHERE tenant_id = $1 AND subject = $2")
                .bind(tenant.as_str())
                .bind(subject)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        commit(tx, tenant, actor, change).await
    }

    /// Records an event that changes nothing else (a failed sign-in, a lock) in the audit log.
    pub async fn audit_event(
        &self,
        tenant: &TenantId,
        actor: &Actor,
        change: Change,
    ) -> Result<()> {
        let tx = self.write_tx().await?;
        commit(tx, tenant, actor, change).await
    }
}

impl Backend {
    /// Counts one event for `key` in the tenant's fixed window of `window_ms` at `now` (a window
    /// starts with the first event after the previous one ended) and answers how many events
    /// the window holds with this one. One atomic upsert: every replica and every parallel
    /// request counts in the same window.
    pub async fn count_event(
        &self,
        tenant: &TenantId,
        key: &str,
        window_ms: i64,
        now: i64,
    ) -> Result<i64> {
        let ended = "rate_windows.ends_at <= $3";
        let sql = format!(
            "INSERT INTO rate_windows (tenant_id, key, started_at, ends_at, count)
             VALUES ($1, $2, $3, $3 + $4, 1)
             ON CONFLICT (tenant_id, key) DO UPDATE SET
               count = CASE WHEN {ended} THEN 1 ELSE rate_windows.count + 1 END,
               started_at = CASE WHEN {ended} THEN $3 ELSE rate_windows.started_at END,
               ends_at = CASE WHEN {ended} THEN $3 + $4 ELSE rate_windows.ends_at END
             RETURNING count"
        );
        sqlx::query_scalar::<DB, i64>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(key)
            .bind(now)
            .bind(window_ms)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)
    }
}
