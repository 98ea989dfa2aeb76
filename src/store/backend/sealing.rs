//! The master key check and (re)sealing every secret at rest in one transaction: at start (rows
//! written raw by an older version are sealed) and when the master key is rotated.

use super::{Backend, DB, Tx, db_error};
use crate::domain::clock::now_ms;
use crate::domain::sealing::{MasterKey, is_sealed, row_aad, sealed_key_id};
use crate::domain::{DomainError, Result};
use std::sync::Arc;

/// What the check row's canary is sealed for.
const CANARY_AAD: &str = "master_key_check/1";
const CANARY: &[u8] = b"castellan";

/// A table column holding sealed secrets: (table, key column, secret column).
const SEALED: [(&str, &str, &str); 3] = [
    ("totp_factors", "id", "secret"),
    ("signing_keys", "kid", "private_pkcs8"),
    // The parts of mail not yet delivered (they may hold a single-use link); NULL once sent.
    ("mail_outbox", "id", "body"),
];

impl Backend {
    /// This backend with `key` as its master key, after checking that the key is the one the
    /// database's secrets are sealed with and sealing any raw secret. Replicas starting at once
    /// queue on the check row.
    pub async fn unlock(&self, key: MasterKey) -> Result<Backend> {
        let mut tx = self.write_tx().await?;
        let (key_id, canary) = lock_check_row(&mut tx).await?;
        if let Some(canary) = canary {
            if key.open(CANARY_AAD, &canary).is_err() {
                return Err(DomainError::Internal(format!(
                    "the master key (id {}) is not the key this database's secrets are sealed with (id {}): \
                     start with the master key the database was set up with (master_key_file, \
                     CASTELLAN_MASTER_KEY_FILE or CASTELLAN_MASTER_KEY)",
                    key.id(),
                    key_id.as_deref().unwrap_or("unknown")
                )));
            }
        } else {
            write_check_row(&mut tx, &key).await?;
        }
        let sealed = reseal_rows(&mut tx, None, &key).await?;
        tx.commit().await.map_err(db_error)?;
        if sealed > 0 {
            tracing::info!(
                rows = sealed,
                key_id = key.id(),
                "sealed secrets stored raw"
            );
        }
        Ok(Backend {
            pool: self.pool.clone(),
            hot: self.hot.clone(),
            hot_writes: self.hot_writes.clone(),
            writes: self.writes.clone(),
            key: Some(Arc::new(key)),
            held: self.held.clone(),
        })
    }

    /// Re-seals every secret under `new` (opening them with `old`) and records `new` as the
    /// database's master key, all in one transaction; the number of secrets re-sealed.
    pub async fn reseal(&self, old: &MasterKey, new: &MasterKey) -> Result<u64> {
        let mut tx = self.write_tx().await?;
        let (key_id, canary) = lock_check_row(&mut tx).await?;
        if let Some(canary) = canary
            && old.open(CANARY_AAD, &canary).is_err()
        {
            return Err(DomainError::Internal(format!(
                "the old master key (id {}) is not the key this database's secrets are sealed with (id {})",
                old.id(),
                key_id.as_deref().unwrap_or("unknown")
            )));
        }
        let n = reseal_rows(&mut tx, Some(old), new).await?;
        write_check_row(&mut tx, new).await?;
        tx.commit().await.map_err(db_error)?;
        self.scrub_old_versions().await;
        Ok(n)
    }

    /// Removes the old versions of re-sealed rows that the database may keep around: SQLite's
    /// write-ahead log is checkpointed and truncated (the file's free space is zeroed by
    /// `secure_delete`); PostgreSQL's tables of secrets are rewritten (`VACUUM FULL`), so dead
    /// tuples with raw values (or values under the old key) are gone. Best effort: a failure is
    /// logged, never fatal.
    async fn scrub_old_versions(&self) {
        let statements: &[&str] = match super::DIALECT {
            crate::store::Dialect::Sqlite => &["PRAGMA wal_checkpoint(TRUNCATE)"],
            crate::store::Dialect::Postgres => &[
                "VACUUM FULL totp_factors",
                "VACUUM FULL signing_keys",
                "VACUUM FULL master_key_check",
            ],
        };
        for sql in statements {
            if let Err(e) = sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
                .execute(&self.pool)
                .await
            {
                tracing::warn!(error = %e, statement = sql, "scrubbing old versions of secrets failed");
            }
        }
    }
}

async fn lock_check_row(tx: &mut Tx) -> Result<(Option<String>, Option<String>)> {
    sqlx::query_as::<DB, (Option<String>, Option<String>)>(sqlx::AssertSqlSafe(format!(
        "SELECT key_id, canary FROM master_key_check WHERE id = 1{}",
        super::DIALECT.for_update()
    )))
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_error)?
    .ok_or_else(|| DomainError::Internal("the master key check row is missing".into()))
}

async fn write_check_row(tx: &mut Tx, key: &MasterKey) -> Result<()> {
    sqlx::query(
        "UPDATE master_key_check SET key_id = $1, canary = $2, updated_at = $3 WHERE id = 1",
    )
    .bind(key.id())
    .bind(key.seal(CANARY_AAD, CANARY)?)
    .bind(now_ms())
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Seals under `new` every secret not yet sealed under it: raw ones as they are, sealed ones
/// opened with `old` (without `old`, a value sealed by another key is an error).
async fn reseal_rows(tx: &mut Tx, old: Option<&MasterKey>, new: &MasterKey) -> Result<u64> {
    let mut n = 0;
    for (table, id_col, col) in SEALED {
        let rows = sqlx::query_as::<DB, (String, String, String)>(sqlx::AssertSqlSafe(format!(
            "SELECT tenant_id, {id_col}, {col} FROM {table} WHERE {col} IS NOT NULL{}",
            super::DIALECT.for_update()
        )))
        .fetch_all(&mut **tx)
        .await
        .map_err(db_error)?;
        for (tenant, id, stored) in rows {
            if sealed_key_id(&stored) == Some(new.id()) {
                continue;
            }
            let aad = row_aad(table, &tenant, &id);
            let plain = match (is_sealed(&stored), old) {
                (false, _) => stored.into_bytes(),
                (true, Some(old)) => old.open(&aad, &stored)?,
                // Sealed by another key: `open` says which.
                (true, None) => {
                    return Err(new.open(&aad, &stored).err().unwrap_or_else(|| {
                        DomainError::Internal(format!("a secret of {aad} is sealed twice"))
                    }));
                }
            };
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE {table} SET {col} = $1 WHERE tenant_id = $2 AND {id_col} = $3"
            )))
            .bind(new.seal(&aad, &plain)?)
            .bind(&tenant)
            .bind(&id)
            .execute(&mut **tx)
            .await
            .map_err(db_error)?;
            n += 1;
        }
    }
    Ok(n)
}
