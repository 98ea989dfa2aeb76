//! What a token request decides on, read in one statement. For a refresh: the token, its grant,
//! the grant's session with the tenant's session lifetimes, and the user with their attributes
//! (it used to take up to five statements). For a code exchange: the code's session and user
//! (two). Each statement is a round trip (on SQLite a hand-off to sqlx's worker thread and
//! back), which costs more than the reading itself.

use super::claims::{holdings_of, take_holdings};
use super::token_state::{GRANT_COLUMNS, SESSION_COLUMNS, grant, session};
use super::users::{ATTRIBUTE_COLUMNS, USER_COLUMNS, user_from_rows};
use super::{Backend, DB, DIALECT, db_error};
use crate::domain::clock::{format_date, today};
use crate::domain::sessions::{RefreshContext, RefreshToken, Session, SessionSettings};
use crate::domain::*;
use crate::store::Dialect;
use sqlx::Row;

type DbRow = <DB as sqlx::Database>::Row;

/// The columns of the token (`rt_`) and the session lifetimes (`ss_`), named apart from the
/// user's.
const COLUMNS: &str = "rt.token_hash AS rt_token_hash, rt.created_at AS rt_created_at, \
     rt.expires_at AS rt_expires_at, rt.used_at AS rt_used_at, \
     ss.idle_timeout_secs AS ss_idle, ss.max_lifetime_secs AS ss_max, \
     ss.remember_me AS ss_remember_me, ss.remember_me_idle_timeout_secs AS ss_remember_idle, \
     ss.remember_me_max_lifetime_secs AS ss_remember_max";

fn get<'r, T>(row: &'r DbRow, column: &str) -> Result<T>
where
    T: sqlx::Decode<'r, DB> + sqlx::Type<DB>,
{
    row.try_get(column).map_err(db_error)
}

fn token(row: &DbRow) -> Result<RefreshToken> {
    Ok(RefreshToken {
        token_hash: get(row, "rt_token_hash")?,
        grant_id: get(row, "g_id")?,
        created_at: get(row, "rt_created_at")?,
        expires_at: get(row, "rt_expires_at")?,
        used_at: get(row, "rt_used_at")?,
    })
}

/// The tenant's session lifetimes of the row's `ss_` columns (the defaults until an
/// administrator sets them).
fn settings(row: &DbRow) -> Result<SessionSettings> {
    Ok(match get::<Option<i64>>(row, "ss_idle")? {
        None => SessionSettings::default(),
        Some(idle_timeout_secs) => SessionSettings {
            idle_timeout_secs,
            max_lifetime_secs: get(row, "ss_max")?,
            remember_me: get(row, "ss_remember_me")?,
            remember_me_idle_timeout_secs: get(row, "ss_remember_idle")?,
            remember_me_max_lifetime_secs: get(row, "ss_remember_max")?,
        },
    })
}

impl Backend {
    /// The refresh token whose hash is `token_hash` with its grant, session and user, whatever
    /// their state (the caller decides), in one statement (a row per custom attribute of the
    /// user, the other columns repeated). With `holdings`, also what the user holds today
    /// (`Some(permissions)`: with permissions or not): on SQLite in the same hand-off to the
    /// worker thread (a second statement of the same string), on PostgreSQL a second statement.
    pub async fn refresh_context(
        &self,
        tenant: &TenantId,
        token_hash: &str,
        holdings: Option<bool>,
    ) -> Result<Option<RefreshContext>> {
        let context = format!(
            "SELECT {COLUMNS}, {GRANT_COLUMNS}, {SESSION_COLUMNS}, {USER_COLUMNS}, {ATTRIBUTE_COLUMNS}
             FROM refresh_tokens rt
             JOIN grants g ON g.id = rt.grant_id
             JOIN tenants t ON t.id = rt.tenant_id
             LEFT JOIN users u ON u.tenant_id = rt.tenant_id AND u.id = g.user_id
             LEFT JOIN sessions s ON s.tenant_id = rt.tenant_id AND s.id = g.session_id
             LEFT JOIN session_settings ss ON ss.tenant_id = rt.tenant_id
             LEFT JOIN (user_attributes ua JOIN attribute_defs d ON d.id = ua.attribute_id)
               ON ua.user_id = u.id
             WHERE rt.tenant_id = $1 AND rt.token_hash = $2"
        );
        let together = DIALECT == Dialect::Sqlite && holdings.is_some();
        let sql = if together {
            let user =
                "(SELECT hg.user_id FROM refresh_tokens hrt JOIN grants hg ON hg.id = hrt.grant_id
                 WHERE hrt.tenant_id = $1 AND hrt.token_hash = $2)";
            format!("{context};\n{}", holdings_of(user, "$3", "$4"))
        } else {
            context
        };
        let mut query = sqlx::query::<DB>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(token_hash);
        if together {
            query = query
                .bind(format_date(today()))
                .bind(holdings.unwrap_or(false));
        }
        let mut rows = query.fetch_all(&self.pool).await.map_err(db_error)?;
        let held = if together {
            Some(take_holdings(&mut rows)?)
        } else {
            None
        };
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let Some(grant) = grant(first).map_err(db_error)? else {
            return Err(DomainError::Internal(
                "a refresh token without its grant".into(),
            ));
        };
        let session = match session(first).map_err(db_error)? {
            Some(found) => Some((found, settings(first)?)),
            None => None,
        };
        let user = user_from_rows(&rows)?;
        let held = match (holdings, &user) {
            (Some(permissions), Some(u)) => match held {
                Some(held) => Some(held),
                None => Some(self.holdings(tenant, &u.id, permissions).await?),
            },
            _ => None,
        };
        Ok(Some(RefreshContext {
            token: token(first)?,
            session,
            user,
            grant,
            held,
        }))
    }

    /// The session `session` and the user `user` (each when its row is there, whatever its
    /// state), in one statement: what a code exchange checks before it issues tokens.
    pub async fn session_and_user(
        &self,
        tenant: &TenantId,
        session_id: &str,
        user_id: &UserId,
    ) -> Result<(Option<Session>, Option<User>)> {
        let rows = sqlx::query::<DB>(sqlx::AssertSqlSafe(format!(
            "SELECT {SESSION_COLUMNS}, {USER_COLUMNS}, {ATTRIBUTE_COLUMNS}
             FROM tenants t
             LEFT JOIN sessions s ON s.tenant_id = t.id AND s.id = $2 AND s.user_id = $3
             LEFT JOIN users u ON u.tenant_id = t.id AND u.id = $3
             LEFT JOIN (user_attributes ua JOIN attribute_defs d ON d.id = ua.attribute_id)
               ON ua.user_id = u.id
             WHERE t.id = $1"
        )))
        .bind(tenant.as_str())
        .bind(session_id)
        .bind(user_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let Some(first) = rows.first() else {
            return Ok((None, None));
        };
        Ok((session(first).map_err(db_error)?, user_from_rows(&rows)?))
    }
}
