//! Sign-in state: password hashes, browser sessions and authorization codes.

use super::{Backend, DB, commit, db_error, record};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::{now_ms, now_us};
use crate::domain::sessions::{AuthCode, Session, SessionSettings};
use crate::domain::*;

#[derive(sqlx::FromRow)]
pub(super) struct SessionRow {
    id: String,
    secret_hash: Option<String>,
    user_id: String,
    auth_time: i64,
    amr: String,
    acr: Option<String>,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    ended_at: Option<i64>,
    remember: bool,
}

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        Session {
            secret_hash: r.secret_hash.unwrap_or_default(),
            id: r.id,
            user_id: UserId(r.user_id),
            auth_time: r.auth_time,
            amr: serde_json::from_str(&r.amr).unwrap_or_default(),
            acr: r.acr,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
            ended_at: r.ended_at,
            remember: r.remember,
        }
    }
}

pub(super) const SESSION_COLUMNS: &str = "id, secret_hash, user_id, auth_time, amr, acr, created_at, last_seen_at, expires_at, ended_at, remember";

/// An authorization code's columns, but for `used`.
pub(super) const CODE_COLUMNS: &str =
    "code_hash, client_id, user_id, session_id, redirect_uri, scope, nonce,
     code_challenge, auth_time, created_at, expires_at";

/// The [`CodeRow`] of a row read with [`CODE_COLUMNS`].
fn code_row(row: &<DB as sqlx::Database>::Row) -> Result<CodeRow> {
    sqlx::FromRow::from_row(row).map_err(db_error)
}

#[derive(sqlx::FromRow)]
pub(super) struct CodeRow {
    code_hash: String,
    client_id: String,
    user_id: String,
    session_id: String,
    redirect_uri: String,
    scope: String,
    nonce: Option<String>,
    code_challenge: String,
    auth_time: i64,
    created_at: i64,
    expires_at: i64,
    used: bool,
}

/// [`CODE_COLUMNS`] of the code `c`, named apart (`c_`) from a session's and a user's.
pub(super) const CODE_COLUMNS_APART: &str =
    "c.code_hash AS c_code_hash, c.client_id AS c_client_id,
     c.user_id AS c_user_id, c.session_id AS c_session_id, c.redirect_uri AS c_redirect_uri,
     c.scope AS c_scope, c.nonce AS c_nonce, c.code_challenge AS c_code_challenge,
     c.auth_time AS c_auth_time, c.created_at AS c_created_at, c.expires_at AS c_expires_at";

/// The code of a row read with [`CODE_COLUMNS_APART`], `used` or not.
pub(super) fn code_apart(row: &<DB as sqlx::Database>::Row, used: bool) -> Result<AuthCode> {
    use sqlx::Row;
    Ok(AuthCode {
        code_hash: row.try_get("c_code_hash").map_err(db_error)?,
        client_id: ClientId(row.try_get("c_client_id").map_err(db_error)?),
        user_id: UserId(row.try_get("c_user_id").map_err(db_error)?),
        session_id: row.try_get("c_session_id").map_err(db_error)?,
        redirect_uri: row.try_get("c_redirect_uri").map_err(db_error)?,
        scope: row.try_get("c_scope").map_err(db_error)?,
        nonce: row.try_get("c_nonce").map_err(db_error)?,
        code_challenge: row.try_get("c_code_challenge").map_err(db_error)?,
        auth_time: row.try_get("c_auth_time").map_err(db_error)?,
        created_at: row.try_get("c_created_at").map_err(db_error)?,
        expires_at: row.try_get("c_expires_at").map_err(db_error)?,
        used,
    })
}

impl From<CodeRow> for AuthCode {
    fn from(r: CodeRow) -> Self {
        AuthCode {
            code_hash: r.code_hash,
            client_id: ClientId(r.client_id),
            user_id: UserId(r.user_id),
            session_id: r.session_id,
            redirect_uri: r.redirect_uri,
            scope: r.scope,
            nonce: r.nonce,
            code_challenge: r.code_challenge,
            auth_time: r.auth_time,
            created_at: r.created_at,
            expires_at: r.expires_at,
            used: r.used,
        }
    }
}

impl Backend {
    /// Stores a user's password hash. The audit entry says that it changed, never what to.
    pub async fn set_password_hash(
        &self,
        tenant: &TenantId,
        user: &UserId,
        hash: &str,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        super::holders::lock_user(&mut tx, tenant, user, actor).await?;
        let had_one: Option<bool> = sqlx::query_scalar(
            "SELECT password_hash IS NOT NULL FROM users WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let n = sqlx::query(
            "UPDATE users SET password_hash = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(hash)
        .bind(now_us())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        if n == 0 {
            return Err(DomainError::NotFound("user"));
        }
        if had_one == Some(true) {
            super::mfa::notify(
                &mut tx,
                tenant,
                user,
                "security.password_changed",
                "Your password was changed",
                serde_json::json!({ "event": "password_changed" }),
            )
            .await?;
        }
        let change = Change::new("user.password.set", "user", user)
            .after(serde_json::json!({ "password": "changed" }));
        commit(tx, tenant, actor, change).await
    }

    /// A user's password hash, if one is set.
    pub async fn password_hash(&self, tenant: &TenantId, user: &UserId) -> Result<Option<String>> {
        sqlx::query_scalar::<DB, Option<String>>(
            "SELECT password_hash FROM users WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .fetch_optional(&self.pool)
        .await
        .map(Option::flatten)
        .map_err(db_error)
    }

    /// Records a sign-in: the session, and (on an invited user's first sign-in) the step to
    /// `active`, both audited, in one transaction.
    pub async fn start_session(
        &self,
        tenant: &TenantId,
        session: &Session,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let user = &session.user_id;
        let before = Self::user_tx(&mut tx, tenant, user).await?;
        if before.status == UserStatus::Invited {
            sqlx::query(
                "UPDATE users SET status = 'active', updated_at = $3, version = version + 1
                 WHERE tenant_id = $1 AND id = $2 AND status = 'invited'",
            )
            .bind(tenant.as_str())
            .bind(user.as_str())
            .bind(now_us())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
            let after = Self::user_tx(&mut tx, tenant, user).await?;
            let change = Change::new("user.activate", "user", user)
                .before(&before)
                .after(&after);
            record(&mut tx, tenant, actor, change).await?;
        }
        // A sign-in from an address none of the user's earlier sessions came from (and not their
        // first ever) is a new device or place: a mandatory security notification.
        let (earlier, from_here): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN ip = $3 THEN 1 ELSE 0 END), 0)
             FROM sessions WHERE tenant_id = $1 AND user_id = $2",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(actor.ip.as_deref())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        if earlier > 0 && from_here == 0 {
            let place = actor.ip.as_deref().unwrap_or("an unknown address");
            super::mfa::notify(
                &mut tx,
                tenant,
                user,
                "security.new_sign_in",
                &format!("New sign-in to your account from {place}"),
                serde_json::json!({ "event": "new_sign_in", "ip": actor.ip }),
            )
            .await?;
        }
        sqlx::query(
            "INSERT INTO sessions (id, tenant_id, user_id, auth_time, amr, acr, created_at, last_seen_at, expires_at,
                 secret_hash, remember, ip)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&session.id)
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(session.auth_time)
        .bind(serde_json::to_string(&session.amr).unwrap_or_else(|_| "[]".into()))
        .bind(&session.acr)
        .bind(session.created_at)
        .bind(session.last_seen_at)
        .bind(session.expires_at)
        .bind(&session.secret_hash)
        .bind(session.remember)
        // Where the sign-in came from, as its audit entry records it.
        .bind(actor.ip.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let change = Change::new("user.sign_in", "user", user)
            .after(serde_json::json!({ "amr": session.amr }));
        commit(tx, tenant, actor, change).await
    }

    /// A session by id (live or not; the caller decides).
    pub async fn get_session(&self, tenant: &TenantId, id: &str) -> Result<Option<Session>> {
        self.session_where(tenant, "id", id).await
    }

    /// The session whose cookie secret hashes to `secret_hash` (live or not).
    pub async fn session_by_secret(
        &self,
        tenant: &TenantId,
        secret_hash: &str,
    ) -> Result<Option<Session>> {
        self.session_where(tenant, "secret_hash", secret_hash).await
    }

    async fn session_where(
        &self,
        tenant: &TenantId,
        column: &'static str,
        value: &str,
    ) -> Result<Option<Session>> {
        let row = sqlx::query_as::<DB, SessionRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE tenant_id = $1 AND {column} = $2"
        )))
        .bind(tenant.as_str())
        .bind(value)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(row.map(Session::from))
    }

    /// Records that the session was used at `at` (for its idle timeout).
    pub async fn touch_session(&self, tenant: &TenantId, id: &str, at: i64) -> Result<()> {
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $3 WHERE tenant_id = $1 AND id = $2 AND last_seen_at < $3",
        )
        .bind(tenant.as_str())
        .bind(id)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    /// The tenant's session lifetimes (the defaults until an administrator changes them).
    pub async fn session_settings(&self, tenant: &TenantId) -> Result<SessionSettings> {
        let row = sqlx::query_as::<DB, (i64, i64, bool, i64, i64)>(
            "SELECT idle_timeout_secs, max_lifetime_secs, remember_me, remember_me_idle_timeout_secs,
                    remember_me_max_lifetime_secs
             FROM session_settings WHERE tenant_id = $1",
        )
        .bind(tenant.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(
            row.map_or_else(SessionSettings::default, |r| SessionSettings {
                idle_timeout_secs: r.0,
                max_lifetime_secs: r.1,
                remember_me: r.2,
                remember_me_idle_timeout_secs: r.3,
                remember_me_max_lifetime_secs: r.4,
            }),
        )
    }

    /// Replaces the tenant's session lifetimes (audited with before and after).
    pub async fn set_session_settings(
        &self,
        tenant: &TenantId,
        settings: &SessionSettings,
        actor: &Actor,
    ) -> Result<()> {
        let before = self.session_settings(tenant).await?;
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO session_settings (tenant_id, idle_timeout_secs, max_lifetime_secs, remember_me,
                 remember_me_idle_timeout_secs, remember_me_max_lifetime_secs, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (tenant_id) DO UPDATE SET idle_timeout_secs = $2, max_lifetime_secs = $3,
                 remember_me = $4, remember_me_idle_timeout_secs = $5,
                 remember_me_max_lifetime_secs = $6, updated_at = $7",
        )
        .bind(tenant.as_str())
        .bind(settings.idle_timeout_secs)
        .bind(settings.max_lifetime_secs)
        .bind(settings.remember_me)
        .bind(settings.remember_me_idle_timeout_secs)
        .bind(settings.remember_me_max_lifetime_secs)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let change = Change::new("session_settings.update", "tenant", tenant.as_str())
            .before(&before)
            .after(settings);
        commit(tx, tenant, actor, change).await
    }

    /// Stores an authorization code. Codes are short-lived protocol state, not an administrative
    /// change, so they are not audited (the sign-in that made them possible is).
    pub async fn insert_auth_code(&self, tenant: &TenantId, code: &AuthCode) -> Result<()> {
        sqlx::query(
            "INSERT INTO authorization_codes (code_hash, tenant_id, client_id, user_id, session_id, redirect_uri,
                 scope, nonce, code_challenge, auth_time, created_at, expires_at, used)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, FALSE)",
        )
        .bind(&code.code_hash)
        .bind(tenant.as_str())
        .bind(code.client_id.as_str())
        .bind(code.user_id.as_str())
        .bind(&code.session_id)
        .bind(&code.redirect_uri)
        .bind(&code.scope)
        .bind(&code.nonce)
        .bind(&code.code_challenge)
        .bind(code.auth_time)
        .bind(code.created_at)
        .bind(code.expires_at)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    /// Takes an authorization code: marks it used and returns it as it was (so `used` says
    /// whether this is a replay). Expired codes are deleted by `purge_expired`. The first use is
    /// one statement (of concurrent uses exactly one finds the code unused); only a replay or an
    /// unknown code reads it again.
    pub async fn take_auth_code(
        &self,
        tenant: &TenantId,
        code_hash: &str,
    ) -> Result<Option<AuthCode>> {
        let first = self
            .hot_write_rows(
                sqlx::query::<DB>(sqlx::AssertSqlSafe(format!(
                    "UPDATE authorization_codes SET used = TRUE
                     WHERE tenant_id = $1 AND code_hash = $2 AND NOT used
                     RETURNING {CODE_COLUMNS}, FALSE AS used"
                )))
                .bind(tenant.as_str())
                .bind(code_hash),
            )
            .await?;
        if let Some(row) = first.first() {
            return Ok(Some(AuthCode::from(code_row(row)?)));
        }
        let again = self
            .hot_rows(
                sqlx::query::<DB>(sqlx::AssertSqlSafe(format!(
                    "SELECT {CODE_COLUMNS}, TRUE AS used FROM authorization_codes
                     WHERE tenant_id = $1 AND code_hash = $2 AND used"
                )))
                .bind(tenant.as_str())
                .bind(code_hash),
            )
            .await?;
        let again = again.first().map(code_row).transpose()?;
        Ok(again.map(AuthCode::from))
    }
}
