//! Logout: which clients each session signed in to, and ending a session with what the
//! back channel must then be told.

use super::{Backend, DB, Tx, commit, db_error};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_ms;
use crate::domain::oidc::KeyAlg;
use crate::domain::sessions::LogoutTarget;
use crate::domain::*;

/// The live sessions' clients with a back-channel logout URI; `{filter}` narrows the sessions.
fn targets_sql(filter: &str) -> String {
    format!(
        "SELECT s.id, s.user_id, c.client_id, c.backchannel_logout_uri, c.id_token_signed_response_alg
         FROM sessions s
         JOIN session_clients sc ON sc.session_id = s.id AND sc.tenant_id = s.tenant_id
         JOIN clients c ON c.id = sc.client_id AND c.tenant_id = s.tenant_id
         WHERE s.tenant_id = $1 AND {filter} AND s.ended_at IS NULL AND s.expires_at > $3
               AND c.backchannel_logout_uri IS NOT NULL
         ORDER BY s.id, c.client_id"
    )
}

type TargetRow = (String, String, String, String, String);

pub(super) async fn targets(
    conn: &mut super::Conn,
    filter: &str,
    tenant: &TenantId,
    key: &str,
) -> Result<Vec<LogoutTarget>> {
    let rows: Vec<TargetRow> =
        sqlx::query_as::<DB, TargetRow>(sqlx::AssertSqlSafe(targets_sql(filter)))
            .bind(tenant.as_str())
            .bind(key)
            .bind(now_ms())
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?;
    rows.into_iter()
        .map(|(session_id, user_id, client_id, uri, alg)| {
            let alg = KeyAlg::parse(&alg).ok_or_else(|| {
                DomainError::Internal(format!(
                    "client {client_id}: bad id_token_signed_response_alg"
                ))
            })?;
            Ok(LogoutTarget {
                session_id,
                user_id: UserId(user_id),
                client_id,
                uri,
                alg,
            })
        })
        .collect()
}

impl Backend {
    /// Remembers that `session` signed in to `client` (idempotent).
    pub async fn record_session_client(
        &self,
        tenant: &TenantId,
        session: &str,
        client: &ClientId,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO session_clients (session_id, client_id, tenant_id, created_at)
             SELECT s.id, c.id, s.tenant_id, $4 FROM sessions s JOIN clients c ON c.tenant_id = s.tenant_id
             WHERE s.tenant_id = $1 AND s.id = $2 AND c.id = $3
             ON CONFLICT (session_id, client_id) DO NOTHING",
        )
        .bind(tenant.as_str())
        .bind(session)
        .bind(client.as_str())
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    /// What ending every live session of `user` must tell the apps (read before the user is
    /// deactivated, deleted or anonymised, which ends or removes those sessions).
    pub async fn user_logout_targets(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> Result<Vec<LogoutTarget>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        targets(&mut conn, "s.user_id = $2", tenant, user.as_str()).await
    }

    /// Ends a live session (sign-out): marks it ended and deletes its unused authorization
    /// codes, audited. Returns the apps to tell; empty if the session was not live.
    pub async fn end_session(
        &self,
        tenant: &TenantId,
        session: &str,
        actor: &Actor,
    ) -> Result<Vec<LogoutTarget>> {
        let mut tx: Tx = self.write_tx().await?;
        let found = targets(&mut tx, "s.id = $2", tenant, session).await?;
        let now = now_ms();
        let user: Option<String> = sqlx::query_scalar(
            "UPDATE sessions SET ended_at = $3
             WHERE tenant_id = $1 AND id = $2 AND ended_at IS NULL AND expires_at > $3
             RETURNING user_id",
        )
        .bind(tenant.as_str())
        .bind(session)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let Some(user) = user else {
            return Ok(Vec::new());
        };
        sqlx::query(
            "DELETE FROM authorization_codes WHERE tenant_id = $1 AND session_id = $2 AND NOT used",
        )
        .bind(tenant.as_str())
        .bind(session)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let change = Change::new("user.sign_out", "user", user);
        commit(tx, tenant, actor, change).await?;
        Ok(found)
    }
}
