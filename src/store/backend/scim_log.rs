//! The log of recent SCIM requests: written in batches by a background task, pruned to the
//! latest rows of each tenant, read newest first.

use super::{Backend, db_error};
use crate::domain::scim::ScimRequest;
use crate::domain::*;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    at: i64,
    token_id: Option<String>,
    method: String,
    path: String,
    status: i64,
    scim_type: Option<String>,
    duration_ms: i64,
}

impl Backend {
    /// Appends `rows` in one transaction, then keeps only the latest `keep` rows of each tenant
    /// written to.
    pub async fn insert_scim_requests(
        &self,
        rows: &[(TenantId, ScimRequest)],
        keep: i64,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        for (tenant, r) in rows {
            sqlx::query(
                "INSERT INTO scim_request_log
                   (tenant_id, at, token_id, method, path, status, scim_type, duration_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(tenant.as_str())
            .bind(r.at)
            .bind(r.token_id.as_ref().map(|t| t.as_str()))
            .bind(&r.method)
            .bind(&r.path)
            .bind(r.status)
            .bind(r.scim_type.as_deref())
            .bind(r.duration_ms)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        let mut tenants: Vec<&TenantId> = rows.iter().map(|(t, _)| t).collect();
        tenants.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        tenants.dedup();
        for tenant in tenants {
            sqlx::query(
                "DELETE FROM scim_request_log WHERE tenant_id = $1 AND id <= COALESCE(
                   (SELECT id FROM scim_request_log WHERE tenant_id = $1
                    ORDER BY id DESC LIMIT 1 OFFSET $2), -1)",
            )
            .bind(tenant.as_str())
            .bind(keep)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)
    }

    /// The tenant's requests before the one at `before` (all when `None`), newest first.
    pub async fn scim_requests(
        &self,
        tenant: &TenantId,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ScimRequest>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, at, token_id, method, path, status, scim_type, duration_ms
             FROM scim_request_log WHERE tenant_id = $1 AND id < $2
             ORDER BY id DESC LIMIT $3",
        )
        .bind(tenant.as_str())
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|r| ScimRequest {
                seq: r.id,
                at: r.at,
                token_id: r.token_id.map(ScimTokenId),
                method: r.method,
                path: r.path,
                status: r.status,
                scim_type: r.scim_type,
                duration_ms: r.duration_ms,
            })
            .collect())
    }
}
