//! A person's own sessions: the live ones, and ending one or all but one, with the refresh
//! tokens (grants) they hold.

use super::logout::targets;
use super::sessions::{SESSION_COLUMNS, SessionRow};
use super::{Backend, DB, Tx, commit, db_error};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_ms;
use crate::domain::sessions::{ListedSession, LogoutTarget, MAX_USER_AGENT, Session};

#[derive(sqlx::FromRow)]
struct ListedRow {
    #[sqlx(flatten)]
    session: SessionRow,
    ip: Option<String>,
    user_agent: Option<String>,
}
use crate::domain::*;

impl Backend {
    /// The sessions of `user` that are not ended and within their lifetime, most recently seen
    /// first (the tenant's idle timeout is the caller's to apply), with where they started.
    pub async fn user_sessions(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> Result<Vec<ListedSession>> {
        let rows = sqlx::query_as::<DB, ListedRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {SESSION_COLUMNS}, ip, user_agent FROM sessions
             WHERE tenant_id = $1 AND user_id = $2 AND ended_at IS NULL AND expires_at > $3
             ORDER BY last_seen_at DESC, id"
        )))
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(now_ms())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|r| ListedSession {
                session: Session::from(r.session),
                ip: r.ip,
                user_agent: r.user_agent,
            })
            .collect())
    }

    /// Records the browser's `User-Agent` on a session that just started (cut to
    /// [`MAX_USER_AGENT`] characters).
    pub async fn set_session_user_agent(
        &self,
        tenant: &TenantId,
        session: &str,
        user_agent: &str,
    ) -> Result<()> {
        let ua: String = user_agent.chars().take(MAX_USER_AGENT).collect();
        sqlx::query("UPDATE sessions SET user_agent = $3 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(session)
            .bind(ua)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// Ends the live session `session` of `user` and revokes the grants (refresh tokens) made
    /// in it, audited as `user.sign_out`; `NotFound` when `user` has no such live session.
    /// Returns the apps to tell.
    pub async fn end_user_session(
        &self,
        tenant: &TenantId,
        user: &UserId,
        session: &str,
        actor: &Actor,
    ) -> Result<Vec<LogoutTarget>> {
        let mut tx: Tx = self.write_tx().await?;
        let found = targets(&mut tx, "s.id = $2", tenant, session).await?;
        let ended = end_where(&mut tx, tenant, user, "id = $3", session).await?;
        if ended.is_empty() {
            return Err(DomainError::NotFound("session"));
        }
        revoke_grants(&mut tx, tenant, user, "session_id = $3", session).await?;
        let change = Change::new("user.sign_out", "user", user)
            .after(serde_json::json!({ "session": session }));
        commit(tx, tenant, actor, change).await?;
        Ok(found)
    }

    /// Ends every live session of `user` but `keep` and revokes every grant not made in
    /// `keep` (offline ones included), audited as `user.sign_out_others`. Returns the apps to
    /// tell.
    pub async fn end_other_sessions(
        &self,
        tenant: &TenantId,
        user: &UserId,
        keep: &str,
        actor: &Actor,
    ) -> Result<Vec<LogoutTarget>> {
        let mut tx: Tx = self.write_tx().await?;
        let mut found = Vec::new();
        for t in targets(&mut tx, "s.user_id = $2", tenant, user.as_str()).await? {
            if t.session_id != keep {
                found.push(t);
            }
        }
        let ended = end_where(&mut tx, tenant, user, "id <> $3", keep).await?;
        let revoked = revoke_grants(
            &mut tx,
            tenant,
            user,
            "(session_id IS NULL OR session_id <> $3)",
            keep,
        )
        .await?;
        let change = Change::new("user.sign_out_others", "user", user)
            .after(serde_json::json!({ "sessions_ended": ended.len(), "grants_revoked": revoked }));
        commit(tx, tenant, actor, change).await?;
        Ok(found)
    }
}

/// Ends the live sessions of `user` that `filter` (on `$3`) picks, and deletes their unused
/// authorization codes; returns their ids.
pub(super) async fn end_where(
    tx: &mut Tx,
    tenant: &TenantId,
    user: &UserId,
    filter: &str,
    value: &str,
) -> Result<Vec<String>> {
    let now = now_ms();
    let ended: Vec<String> = sqlx::query_scalar::<DB, String>(sqlx::AssertSqlSafe(format!(
        "UPDATE sessions SET ended_at = $4
         WHERE tenant_id = $1 AND user_id = $2 AND {filter} AND ended_at IS NULL AND expires_at > $4
         RETURNING id"
    )))
    .bind(tenant.as_str())
    .bind(user.as_str())
    .bind(value)
    .bind(now)
    .fetch_all(&mut **tx)
    .await
    .map_err(db_error)?;
    for id in &ended {
        sqlx::query(
            "DELETE FROM authorization_codes WHERE tenant_id = $1 AND session_id = $2 AND NOT used",
        )
        .bind(tenant.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    }
    Ok(ended)
}

/// Revokes the live grants of `user` that `filter` (on `$3`) picks; returns how many.
pub(super) async fn revoke_grants(
    tx: &mut Tx,
    tenant: &TenantId,
    user: &UserId,
    filter: &str,
    value: &str,
) -> Result<u64> {
    let n = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE grants SET revoked_at = $4, revoked_reason = 'signed out'
         WHERE tenant_id = $1 AND user_id = $2 AND {filter} AND revoked_at IS NULL"
    )))
    .bind(tenant.as_str())
    .bind(user.as_str())
    .bind(value)
    .bind(now_ms())
    .execute(&mut **tx)
    .await
    .map_err(db_error)?
    .rows_affected();
    Ok(n)
}
