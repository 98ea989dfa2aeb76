//! What a user's access token stands on, read in one query for userinfo and introspection:
//! whether its `jti` was revoked, its session, its grant and its user (four round trips
//! before), and the version of what the user holds, which is remembered (see `store::held`).

use super::claims::held_version;
use super::users::{ATTRIBUTE_COLUMNS, USER_COLUMNS, user_from_rows};
use super::{Backend, DB, db_error};
use crate::domain::sessions::{AccessTokenState, Grant, Session};
use crate::domain::*;
use sqlx::Row;

/// A session's columns, prefixed `s_` to stand apart from a user's (see [`session`]).
pub(super) const SESSION_COLUMNS: &str = "s.id AS s_id, s.secret_hash AS s_secret_hash, \
    s.user_id AS s_user_id, s.auth_time AS s_auth_time, s.amr AS s_amr, s.acr AS s_acr, \
    s.created_at AS s_created_at, s.last_seen_at AS s_last_seen_at, s.expires_at AS s_expires_at, \
    s.ended_at AS s_ended_at, s.remember AS s_remember";

/// A grant's columns, prefixed `g_` to stand apart from a user's (see [`grant`]).
pub(super) const GRANT_COLUMNS: &str = "g.id AS g_id, g.client_id AS g_client_id, \
    g.user_id AS g_user_id, g.session_id AS g_session_id, g.offline AS g_offline, \
    g.scope AS g_scope, g.auth_time AS g_auth_time, g.amr AS g_amr, g.acr AS g_acr, \
    g.created_at AS g_created_at, g.expires_at AS g_expires_at, g.revoked_at AS g_revoked_at";

const STATE_SQL: &str = "SELECT
    EXISTS (SELECT 1 FROM revoked_access_tokens r WHERE r.tenant_id = $1 AND r.jti = $2) AS revoked";

/// The joins of [`STATE_SQL`]: `$5` is the user (or NULL: none).
const STATE_FROM: &str = "FROM (SELECT 1 AS one) x
  LEFT JOIN sessions s ON s.tenant_id = $1 AND s.id = $3
  LEFT JOIN grants g ON g.tenant_id = $1 AND g.id = $4
  LEFT JOIN users u ON u.tenant_id = $1 AND u.id = $5
  LEFT JOIN tenants t ON t.id = u.tenant_id
  LEFT JOIN (user_attributes ua JOIN attribute_defs d ON d.id = ua.attribute_id)
    ON ua.user_id = u.id";

type DbRow = <DB as sqlx::Database>::Row;

/// The session of the row's [`SESSION_COLUMNS`], when there is one.
pub(super) fn session(row: &DbRow) -> sqlx::Result<Option<Session>> {
    let Some(id) = row.try_get::<Option<String>, _>("s_id")? else {
        return Ok(None);
    };
    let amr: String = row.try_get("s_amr")?;
    Ok(Some(Session {
        id,
        secret_hash: row
            .try_get::<Option<String>, _>("s_secret_hash")?
            .unwrap_or_default(),
        user_id: UserId(row.try_get("s_user_id")?),
        auth_time: row.try_get("s_auth_time")?,
        amr: serde_json::from_str(&amr).unwrap_or_default(),
        acr: row.try_get("s_acr")?,
        created_at: row.try_get("s_created_at")?,
        last_seen_at: row.try_get("s_last_seen_at")?,
        expires_at: row.try_get("s_expires_at")?,
        ended_at: row.try_get("s_ended_at")?,
        remember: row.try_get("s_remember")?,
    }))
}

/// The grant of the row's [`GRANT_COLUMNS`], when there is one.
pub(super) fn grant(row: &DbRow) -> sqlx::Result<Option<Grant>> {
    let Some(id) = row.try_get::<Option<String>, _>("g_id")? else {
        return Ok(None);
    };
    let amr: String = row.try_get("g_amr")?;
    Ok(Some(Grant {
        id,
        client_id: ClientId(row.try_get("g_client_id")?),
        user_id: UserId(row.try_get("g_user_id")?),
        session_id: row.try_get("g_session_id")?,
        offline: row.try_get("g_offline")?,
        scope: row.try_get("g_scope")?,
        auth_time: row.try_get("g_auth_time")?,
        amr: serde_json::from_str(&amr).unwrap_or_default(),
        acr: row.try_get("g_acr")?,
        created_at: row.try_get("g_created_at")?,
        expires_at: row.try_get("g_expires_at")?,
        revoked_at: row.try_get("g_revoked_at")?,
    }))
}

impl Backend {
    /// Whether the access token `jti` was revoked, the session `sid` and grant `gid` it names,
    /// and the user `user` (each whatever its state, `None` when not named or gone), in one
    /// query; with `holdings` (`Some(permissions)`), what the user holds today too when it is
    /// remembered at the version the query read (else `held` is `None` and the caller reads it).
    pub async fn access_token_state(
        &self,
        tenant: &TenantId,
        jti: &str,
        sid: Option<&str>,
        gid: Option<&str>,
        user: Option<&UserId>,
        holdings: Option<bool>,
    ) -> Result<AccessTokenState> {
        // The version of what the user holds only when it is asked for: a client's token (no
        // user) or a caller that wants no holdings does not pay for its two lookups.
        let wanted = holdings.is_some() && user.is_some();
        let state = |version: &str| {
            format!(
                "{STATE_SQL}, {SESSION_COLUMNS}, {GRANT_COLUMNS}, {USER_COLUMNS}, {ATTRIBUTE_COLUMNS}{version} {STATE_FROM}"
            )
        };
        let sql: &'static str = if wanted {
            once!(state(&format!(", {} AS hv", held_version("u.id"))))
        } else {
            once!(state(""))
        };
        let query = sqlx::query::<DB>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(jti)
            .bind(sid)
            .bind(gid)
            .bind(user.map(UserId::as_str));
        let rows = self.hot_rows(query).await?;
        let Some(row) = rows.first() else {
            return Err(DomainError::Internal(
                "the access token state query answered no row".into(),
            ));
        };
        let found = user_from_rows(&rows)?;
        // Remembered at the version just read, when asked for: else the caller reads them.
        let held = match holdings {
            Some(permissions) if wanted => {
                self.remembered_of(tenant, found.as_ref(), permissions, row)?
            }
            _ => None,
        };
        Ok(AccessTokenState {
            revoked: row.try_get("revoked").map_err(db_error)?,
            session: session(row).map_err(db_error)?,
            grant: grant(row).map_err(db_error)?,
            user: found,
            held,
        })
    }
}
