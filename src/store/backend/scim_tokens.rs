//! SCIM bearer tokens (stored only as SHA-256 hashes) and the tenant's SCIM settings.

use super::tokens::{TokenRecord, live_token_by_hash, tenant_tokens};
use super::{Backend, DB, commit, db_error};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_ms;
use crate::domain::scim::{DeleteAction, ScimSettings, ScimToken};
use crate::domain::*;

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: String,
    tenant_id: String,
    name: String,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TokenRow {
    fn into_token(self) -> (TenantId, ScimToken) {
        (
            TenantId(self.tenant_id),
            ScimToken {
                id: ScimTokenId(self.id),
                name: self.name,
                created_at: self.created_at,
                last_used_at: self.last_used_at,
                revoked_at: self.revoked_at,
            },
        )
    }
}

/// Read from the table as `k` (see `TokenRecord`).
const COLUMNS: &str = "k.id, k.tenant_id, k.name, k.created_at, k.last_used_at, k.revoked_at";

impl TokenRecord for TokenRow {
    const FROM: (&'static str, &'static str) = ("scim_tokens", COLUMNS);
    fn id(&self) -> &str {
        &self.id
    }
    fn last_used_at(&self) -> Option<i64> {
        self.last_used_at
    }
}

impl Backend {
    /// Stores a new SCIM token by the hash of its secret.
    pub async fn insert_scim_token(
        &self,
        tenant: &TenantId,
        name: &str,
        token_hash: &str,
        actor: &Actor,
    ) -> Result<ScimToken> {
        let mut tx = self.write_tx().await?;
        let token = ScimToken {
            id: ScimTokenId::generate(),
            name: name.into(),
            created_at: now_ms(),
            last_used_at: None,
            revoked_at: None,
        };
        sqlx::query(
            "INSERT INTO scim_tokens (id, tenant_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token.id.as_str())
        .bind(tenant.as_str())
        .bind(name)
        .bind(token_hash)
        .bind(token.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("scim_token.create", "scim_token", &token.id).after(&token),
        )
        .await?;
        Ok(token)
    }

    /// The live SCIM token with this hash, and its tenant. Marks it used (at most once a minute).
    pub async fn scim_token_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<(Tenant, ScimToken)>> {
        Ok(live_token_by_hash::<TokenRow>(&self.pool, token_hash)
            .await?
            .map(|(tenant, r)| (tenant, r.into_token().1)))
    }

    /// Every SCIM token of the tenant (revoked ones too), oldest first; never the hashes.
    pub async fn list_scim_tokens(&self, tenant: &TenantId) -> Result<Vec<ScimToken>> {
        Ok(tenant_tokens::<TokenRow>(&self.pool, tenant)
            .await?
            .into_iter()
            .map(|r| r.into_token().1)
            .collect())
    }

    /// Revokes a live SCIM token of the tenant.
    pub async fn revoke_scim_token(
        &self,
        tenant: &TenantId,
        id: &ScimTokenId,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE scim_tokens SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(tenant.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(DomainError::NotFound("SCIM token"));
        }
        commit(
            tx,
            tenant,
            actor,
            Change::new("scim_token.revoke", "scim_token", id),
        )
        .await
    }

    /// The tenant's SCIM settings (defaults when never set).
    pub async fn scim_settings(&self, tenant: &TenantId) -> Result<ScimSettings> {
        let row: Option<(String, bool, bool)> = sqlx::query_as(
            "SELECT delete_action, manage_administrators, unique_emails FROM scim_settings \
             WHERE tenant_id = $1",
        )
        .bind(tenant.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(ScimSettings {
            delete_action: row
                .as_ref()
                .and_then(|(a, _, _)| DeleteAction::parse(a))
                .unwrap_or_default(),
            manage_administrators: row.as_ref().is_some_and(|(_, m, _)| *m),
            unique_emails: row.as_ref().is_none_or(|(_, _, u)| *u),
        })
    }

    /// Stores the tenant's SCIM settings.
    pub async fn set_scim_settings(
        &self,
        tenant: &TenantId,
        settings: &ScimSettings,
        actor: &Actor,
    ) -> Result<ScimSettings> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO scim_settings (tenant_id, delete_action, manage_administrators, updated_at, \
             unique_emails) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant_id) DO UPDATE SET delete_action = excluded.delete_action, \
             manage_administrators = excluded.manage_administrators, \
             updated_at = excluded.updated_at, unique_emails = excluded.unique_emails",
        )
        .bind(tenant.as_str())
        .bind(settings.delete_action.as_str())
        .bind(settings.manage_administrators)
        .bind(now_ms())
        .bind(settings.unique_emails)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        // Users come under the unique index again (refused, 409, while two current users
        // share an email) or leave it.
        let shared = super::users::email_shared("$1");
        sqlx::query::<DB>(sqlx::AssertSqlSafe(format!(
            "UPDATE users SET email_shared = {shared} WHERE tenant_id = $1 AND email_shared <> {shared}"
        )))
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await
            .map_err(|e| match db_error(e) {
                DomainError::Conflict(_) => DomainError::conflict(
                    "two current users share a sign-in email: give each their own before making emails unique",
                ),
                other => other,
            })?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("scim_settings.update", "tenant", tenant).after(settings),
        )
        .await?;
        Ok(settings.clone())
    }
}
