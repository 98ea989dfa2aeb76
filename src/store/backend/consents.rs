//! Consents to third-party clients, and the client assertion `jti`s already used.

use super::{Backend, DB, commit, db_error};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_ms;
use crate::domain::consents::{Consent, union};
use crate::domain::*;

#[derive(sqlx::FromRow)]
struct ConsentRow {
    client: String,
    client_id: String,
    client_name: String,
    scopes: String,
    created_at: i64,
    updated_at: i64,
}

impl ConsentRow {
    fn into_consent(self) -> Result<Consent> {
        let scopes = serde_json::from_str(&self.scopes).map_err(|e| {
            DomainError::Internal(format!(
                "consent to client {}: bad scopes: {e}",
                self.client
            ))
        })?;
        Ok(Consent {
            client: ClientId(self.client),
            client_id: self.client_id,
            client_name: self.client_name,
            scopes,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const SELECT: &str = "SELECT c.id AS client, c.client_id, c.name AS client_name, k.scopes,
        k.created_at, k.updated_at
     FROM consents k JOIN clients c ON c.id = k.client_id AND c.tenant_id = k.tenant_id";

impl Backend {
    /// A user's consent to one client (by internal id), if any.
    pub async fn consent(
        &self,
        tenant: &TenantId,
        user: &UserId,
        client: &ClientId,
    ) -> Result<Option<Consent>> {
        sqlx::query_as::<DB, ConsentRow>(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE k.tenant_id = $1 AND k.user_id = $2 AND k.client_id = $3"
        )))
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(client.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?
        .map(ConsentRow::into_consent)
        .transpose()
    }

    /// A user's consents, by client name.
    pub async fn list_consents(&self, tenant: &TenantId, user: &UserId) -> Result<Vec<Consent>> {
        sqlx::query_as::<DB, ConsentRow>(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE k.tenant_id = $1 AND k.user_id = $2 ORDER BY c.name, c.client_id"
        )))
        .bind(tenant.as_str())
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(ConsentRow::into_consent)
        .collect()
    }

    /// Adds `scopes` to what the user consented to for the client (creating the consent),
    /// audited as `consent.grant`.
    pub async fn grant_consent(
        &self,
        tenant: &TenantId,
        user: &UserId,
        client: &ClientId,
        scopes: &[String],
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let before = sqlx::query_scalar::<DB, String>(sqlx::AssertSqlSafe(format!(
            "SELECT scopes FROM consents WHERE tenant_id = $1 AND user_id = $2 AND client_id = $3{}",
            super::DIALECT.for_update()
        )))
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(client.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let had: Vec<String> = match &before {
            Some(s) => serde_json::from_str(s)
                .map_err(|e| DomainError::Internal(format!("consent: bad scopes: {e}")))?,
            None => Vec::new(),
        };
        let after = union(&had, scopes);
        let now = now_ms();
        sqlx::query(
            "INSERT INTO consents (tenant_id, user_id, client_id, scopes, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5)
             ON CONFLICT (tenant_id, user_id, client_id) DO UPDATE SET scopes = $4, updated_at = $5",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(client.as_str())
        .bind(serde_json::to_string(&after).unwrap_or_else(|_| "[]".into()))
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let mut change = Change::new("consent.grant", "user", user)
            .after(serde_json::json!({ "client": client, "scopes": after }));
        if before.is_some() {
            change = change.before(serde_json::json!({ "client": client, "scopes": had }));
        }
        commit(tx, tenant, actor, change).await
    }

    /// Withdraws a user's consent to a client, named by its `client_id` or internal id, and
    /// revokes the client's grants for the user; `NotFound` when there is none. Audited as
    /// `consent.revoke`.
    pub async fn revoke_consent(
        &self,
        tenant: &TenantId,
        user: &UserId,
        client: &str,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let found = sqlx::query_as::<DB, ConsentRow>(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE k.tenant_id = $1 AND k.user_id = $2 AND (c.client_id = $3 OR c.id = $3)"
        )))
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(client)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?
        .ok_or(DomainError::NotFound("consent"))?
        .into_consent()?;
        sqlx::query(
            "DELETE FROM consents WHERE tenant_id = $1 AND user_id = $2 AND client_id = $3",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(found.client.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        // What the consent let the client hold goes with it: its grants (refresh tokens, and the
        // access tokens that name them).
        sqlx::query(
            "UPDATE grants SET revoked_at = $4, revoked_reason = 'consent revoked'
             WHERE tenant_id = $1 AND user_id = $2 AND client_id = $3 AND revoked_at IS NULL",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(found.client.as_str())
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let change = Change::new("consent.revoke", "user", user)
            .before(serde_json::json!({ "client": found.client, "scopes": found.scopes }));
        commit(tx, tenant, actor, change).await
    }

    /// Records the `jti` of a client assertion valid until `expires_at`; `false` when the client
    /// already used it (a replay). Expired records are deleted on the way.
    pub async fn use_assertion_jti(
        &self,
        tenant: &TenantId,
        client: &ClientId,
        jti: &str,
        expires_at: i64,
    ) -> Result<bool> {
        sqlx::query("DELETE FROM client_assertion_jtis WHERE tenant_id = $1 AND expires_at < $2")
            .bind(tenant.as_str())
            .bind(now_ms())
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        let n = sqlx::query(
            "INSERT INTO client_assertion_jtis (tenant_id, client_id, jti, expires_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (client_id, jti) DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(client.as_str())
        .bind(jti)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(db_error)?
        .rows_affected();
        Ok(n == 1)
    }
}
