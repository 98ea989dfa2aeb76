//! The tenant's profile policy: which fields people change themselves.

use super::{Backend, commit, db_error};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_ms;
use crate::domain::profile_policy::ProfilePolicy;
use crate::domain::*;

impl Backend {
    /// The tenant's profile policy (the default when never set).
    pub async fn profile_policy(&self, tenant: &TenantId) -> Result<ProfilePolicy> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT editable FROM profile_policy WHERE tenant_id = $1")
                .bind(tenant.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
        match row {
            None => Ok(ProfilePolicy::default()),
            Some((editable,)) => serde_json::from_str(&editable)
                .map(|editable| ProfilePolicy { editable })
                .map_err(|e| DomainError::Internal(format!("stored profile policy: {e}"))),
        }
    }

    /// Stores the tenant's profile policy (audited with the fields before and after).
    pub async fn set_profile_policy(
        &self,
        tenant: &TenantId,
        policy: &ProfilePolicy,
        actor: &Actor,
    ) -> Result<ProfilePolicy> {
        let before = self.profile_policy(tenant).await?;
        let editable = serde_json::to_string(&policy.editable)
            .map_err(|e| DomainError::Internal(e.to_string()))?;
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO profile_policy (tenant_id, editable, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (tenant_id) DO UPDATE SET editable = excluded.editable, \
             updated_at = excluded.updated_at",
        )
        .bind(tenant.as_str())
        .bind(&editable)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("profile_policy.update", "tenant", tenant)
                .before(&before)
                .after(policy),
        )
        .await?;
        Ok(policy.clone())
    }
}
