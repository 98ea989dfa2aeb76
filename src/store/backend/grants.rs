//! Grants and their refresh tokens (storage, revocation; a refresh's rotation is in
//! `refresh_context.rs`), and access tokens revoked one by one.

use super::{Backend, DB, DIALECT, commit, db_error};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_ms;
use crate::domain::sessions::{Grant, RefreshToken};
use crate::domain::*;
use crate::store::Dialect;

#[derive(sqlx::FromRow)]
struct GrantRow {
    id: String,
    client_id: String,
    user_id: String,
    session_id: Option<String>,
    offline: bool,
    scope: String,
    auth_time: i64,
    amr: String,
    acr: Option<String>,
    created_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
}

impl From<GrantRow> for Grant {
    fn from(r: GrantRow) -> Self {
        Grant {
            id: r.id,
            client_id: ClientId(r.client_id),
            user_id: UserId(r.user_id),
            session_id: r.session_id,
            offline: r.offline,
            scope: r.scope,
            auth_time: r.auth_time,
            amr: serde_json::from_str(&r.amr).unwrap_or_default(),
            acr: r.acr,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    token_hash: String,
    grant_id: String,
    token_created_at: i64,
    token_expires_at: i64,
    used_at: Option<i64>,
    #[sqlx(flatten)]
    grant: GrantRow,
}

const GRANT_COLUMNS: &str = "g.id, g.client_id, g.user_id, g.session_id, g.offline, g.scope, \
    g.auth_time, g.amr, g.acr, g.created_at, g.expires_at, g.revoked_at";

impl Backend {
    /// Stores a new grant with its first refresh token, in one round trip. Like authorization
    /// codes, this is protocol state rather than an administrative change: the sign-in is what
    /// is audited.
    /// - PostgreSQL: one statement, the token's insert fed by the grant's (atomic).
    /// - SQLite, which has no writing common table expressions: two statements of one string,
    ///   which sqlx hands to its worker thread at once. Should the second fail, the grant has no
    ///   refresh token, the exchange fails, and no client ever holds a token of it.
    pub async fn insert_grant(
        &self,
        tenant: &TenantId,
        grant: &Grant,
        first: &RefreshToken,
    ) -> Result<()> {
        self.insert_grant_checking(tenant, grant, first, None)
            .await
            .map(|_| ())
    }

    /// [`Self::insert_grant`], then whether the access token `jti` has been revoked (a replay
    /// of the grant's code racing its exchange revokes it before the grant exists): on SQLite a
    /// third statement of the same string, read after the grant was stored; on PostgreSQL a
    /// statement of its own, for the same reason (a check inside the storing statement would
    /// read from before a revocation that the replay then fails to apply to the new grant).
    pub async fn insert_grant_checking(
        &self,
        tenant: &TenantId,
        grant: &Grant,
        first: &RefreshToken,
        jti: Option<&str>,
    ) -> Result<bool> {
        const GRANT: &str = "INSERT INTO grants (id, tenant_id, client_id, user_id, session_id,
                 offline, scope, auth_time, amr, acr, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
        const REVOKED: &str = "SELECT COUNT(*) AS revoked FROM revoked_access_tokens WHERE tenant_id = $2 AND jti = $16";
        const SKIPPED_PARAMETERS: usize = 24;
        let together = DIALECT == Dialect::Sqlite && jti.is_some();
        let sql = match DIALECT {
            Dialect::Postgres => format!(
                "WITH g AS ({GRANT} RETURNING id)
                 INSERT INTO refresh_tokens (token_hash, tenant_id, grant_id, created_at, expires_at)
                 SELECT $13, $2, g.id, $14, $15 FROM g"
            ),
            Dialect::Sqlite => format!(
                "{GRANT};
                 INSERT INTO refresh_tokens (token_hash, tenant_id, grant_id, created_at, expires_at)
                 VALUES ($13, $2, $1, $14, $15){}",
                if together {
                    format!(";\n{REVOKED}")
                } else {
                    String::new()
                }
            ),
        };
        debug_assert_eq!(first.grant_id, grant.id);
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&grant.id)
            .bind(tenant.as_str())
            .bind(grant.client_id.as_str())
            .bind(grant.user_id.as_str())
            .bind(&grant.session_id)
            .bind(grant.offline)
            .bind(&grant.scope)
            .bind(grant.auth_time)
            .bind(serde_json::to_string(&grant.amr).unwrap_or_else(|_| "[]".into()))
            .bind(&grant.acr)
            .bind(grant.created_at)
            .bind(grant.expires_at)
            .bind(&first.token_hash)
            .bind(first.created_at)
            .bind(first.expires_at);
        if together {
            query = query.bind(jti);
            // sqlx binds a later statement's parameters by number, but counts each number the
            // statement skips (the refresh token's insert skips $3 to $12, the check all but
            // $2 and $16) as a positional one, and stops binding, leaving the rest NULL, once
            // that count passes the number of arguments. Unused arguments keep it in range.
            for _ in 0..SKIPPED_PARAMETERS {
                query = query.bind(None::<i64>);
            }
            let rows = self.hot_write_rows(query).await?;
            let revoked: i64 = match rows.first() {
                Some(row) => sqlx::Row::try_get(row, "revoked").map_err(db_error)?,
                None => 0,
            };
            return Ok(revoked > 0);
        }
        self.hot_write_rows(query).await?;
        match jti {
            Some(jti) => self.access_token_revoked(tenant, jti).await,
            None => Ok(false),
        }
    }

    /// A refresh token with its grant, whatever their state (the caller decides).
    pub async fn refresh_token(
        &self,
        tenant: &TenantId,
        token_hash: &str,
    ) -> Result<Option<(RefreshToken, Grant)>> {
        let row = sqlx::query_as::<DB, TokenRow>(sqlx::AssertSqlSafe(format!(
            "SELECT t.token_hash, t.grant_id, t.created_at AS token_created_at,
                    t.expires_at AS token_expires_at, t.used_at, {GRANT_COLUMNS}
             FROM refresh_tokens t JOIN grants g ON g.id = t.grant_id
             WHERE t.tenant_id = $1 AND t.token_hash = $2"
        )))
        .bind(tenant.as_str())
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(row.map(|r| {
            let token = RefreshToken {
                token_hash: r.token_hash,
                grant_id: r.grant_id,
                created_at: r.token_created_at,
                expires_at: r.token_expires_at,
                used_at: r.used_at,
            };
            (token, r.grant.into())
        }))
    }

    /// One grant, whatever its state.
    pub async fn get_grant(&self, tenant: &TenantId, id: &str) -> Result<Option<Grant>> {
        let row = sqlx::query_as::<DB, GrantRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {GRANT_COLUMNS} FROM grants g WHERE g.tenant_id = $1 AND g.id = $2"
        )))
        .bind(tenant.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(row.map(Grant::from))
    }

    /// Revokes a grant (its refresh tokens and the access tokens that name it), audited with
    /// `reason`. Revoking a revoked grant changes nothing.
    pub async fn revoke_grant(
        &self,
        tenant: &TenantId,
        id: &str,
        reason: &str,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE grants SET revoked_at = $3, revoked_reason = $4
             WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL",
        )
        .bind(tenant.as_str())
        .bind(id)
        .bind(now_ms())
        .bind(reason)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        if n == 0 {
            return tx.commit().await.map_err(db_error);
        }
        let change = Change::new("oauth.grant.revoke", "grant", id)
            .after(serde_json::json!({ "reason": reason }));
        commit(tx, tenant, actor, change).await
    }

    /// Revokes one access token by its `jti` until `expires_at` (when it would end anyway).
    pub async fn revoke_access_token(
        &self,
        tenant: &TenantId,
        jti: &str,
        expires_at: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO revoked_access_tokens (jti, tenant_id, expires_at) VALUES ($1, $2, $3)
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(jti)
        .bind(tenant.as_str())
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    /// Whether the access token with this `jti` was revoked.
    pub async fn access_token_revoked(&self, tenant: &TenantId, jti: &str) -> Result<bool> {
        let rows = self
            .hot_rows(
                sqlx::query::<DB>(
                    "SELECT COUNT(*) AS n FROM revoked_access_tokens WHERE tenant_id = $1 AND jti = $2",
                )
                .bind(tenant.as_str())
                .bind(jti),
            )
            .await?;
        let n: i64 = match rows.first() {
            Some(row) => sqlx::Row::try_get(row, "n").map_err(db_error)?,
            None => 0,
        };
        Ok(n > 0)
    }

    /// Deletes protocol state that can no longer be used: expired codes, grants (with their
    /// refresh tokens), revoked access token ids, sessions ended or expired more than a day
    /// ago, ended rate windows, checked import files not applied within a day, and import jobs
    /// (with their reports) finished more than 30 days ago. Returns how many rows went.
    pub async fn purge_expired(&self) -> Result<u64> {
        let now = now_ms();
        let day_ago = now - 24 * 3600 * 1000;
        let month_ago = now - 30 * 24 * 3600 * 1000;
        let mut total = 0;
        for (sql, at) in [
            ("DELETE FROM authorization_codes WHERE expires_at < $1", now),
            ("DELETE FROM grants WHERE expires_at < $1", now),
            ("DELETE FROM refresh_tokens WHERE expires_at < $1", now),
            (
                "DELETE FROM revoked_access_tokens WHERE expires_at < $1",
                now,
            ),
            (
                "DELETE FROM sessions WHERE expires_at < $1 OR ended_at < $1",
                day_ago,
            ),
            ("DELETE FROM rate_windows WHERE ends_at < $1", now),
            // A checked import's file waits a day to be applied; then it must be sent again.
            (
                "DELETE FROM import_job_files WHERE job_id IN
                     (SELECT id FROM import_jobs WHERE created_at < $1)",
                day_ago,
            ),
            // Finished import jobs and their reports are kept for 30 days.
            (
                "DELETE FROM import_job_reports WHERE job_id IN
                     (SELECT id FROM import_jobs WHERE state <> 'running' AND updated_at < $1)",
                month_ago,
            ),
            (
                "DELETE FROM import_jobs WHERE state <> 'running' AND updated_at < $1",
                month_ago,
            ),
        ] {
            total += sqlx::query(sql)
                .bind(at)
                .execute(&self.pool)
                .await
                .map_err(db_error)?
                .rows_affected();
        }
        Ok(total)
    }

    /// Merges each user's (and each tenant's) rows of `holdings_changes` into one carrying
    /// their sum, so that the version of what a user holds, read by every token request, sums
    /// few rows; the sums, and so every version, stay what they were. Returns how many rows
    /// went. On PostgreSQL one statement: a row a concurrent writer adds is not in its snapshot
    /// and stays; two replicas merging at once delete each row once (the later waits for the
    /// row lock, then skips it) and each adds the sum of what it deleted.
    pub async fn merge_holdings_changes(&self) -> Result<u64> {
        match DIALECT {
            Dialect::Postgres => {
                let rows = sqlx::query::<DB>(
                    "WITH gone AS (
                         DELETE FROM holdings_changes h
                         USING (SELECT tenant_id, user_id FROM holdings_changes
                                GROUP BY tenant_id, user_id HAVING COUNT(*) > 1) d
                         WHERE h.tenant_id = d.tenant_id
                           AND h.user_id IS NOT DISTINCT FROM d.user_id
                         RETURNING h.tenant_id, h.user_id, h.n),
                     merged AS (
                         INSERT INTO holdings_changes (tenant_id, user_id, n)
                         SELECT tenant_id, user_id, SUM(n) FROM gone GROUP BY tenant_id, user_id
                         RETURNING n)
                     SELECT (SELECT COUNT(*) FROM gone) - (SELECT COUNT(*) FROM merged) AS went",
                )
                .fetch_one(&self.pool)
                .await
                .map_err(db_error)?;
                let went: i64 = sqlx::Row::try_get(&rows, "went").map_err(db_error)?;
                Ok(went.max(0) as u64)
            }
            Dialect::Sqlite => {
                // One writer at a time: nothing is added between these statements.
                let mut tx = self.write_tx().await?;
                let last: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM holdings_changes")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_error)?;
                let Some(last) = last else {
                    return Ok(0);
                };
                let merged = sqlx::query(
                    "INSERT INTO holdings_changes (tenant_id, user_id, n)
                     SELECT tenant_id, user_id, SUM(n) FROM holdings_changes
                     GROUP BY tenant_id, user_id HAVING COUNT(*) > 1",
                )
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected();
                let gone = sqlx::query(
                    "DELETE FROM holdings_changes WHERE id <= $1 AND EXISTS (
                         SELECT 1 FROM holdings_changes m WHERE m.id > $1
                           AND m.tenant_id = holdings_changes.tenant_id
                           AND m.user_id IS holdings_changes.user_id)",
                )
                .bind(last)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected();
                tx.commit().await.map_err(db_error)?;
                Ok(gone.saturating_sub(merged))
            }
        }
    }
}
