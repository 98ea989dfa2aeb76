//! What a refresh decides on, read in the same trip as the token's exchange for its successor
//! (rotation): the token, its grant, the grant's session with the tenant's session lifetimes,
//! the user with their attributes (it used to take up to five statements), and what the user
//! holds. Each statement is a round trip (on SQLite a hand-off to sqlx's worker thread and
//! back), which costs more than the reading itself.

use super::claims::held_version;
use super::grouped::{Grouped, Made, Query, SIZES, Write, refused, shifted};
use super::token_state::{GRANT_COLUMNS, SESSION_COLUMNS, grant, session};
use super::users::{ATTRIBUTE_COLUMNS, USER_COLUMNS, user_from_rows};
use super::{Backend, DB, DIALECT, db_error};
use crate::domain::sessions::{RefreshContext, RefreshToken, Rotation, SessionSettings};
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

/// The refresh token `$2` of the tenant `$1` with its grant, the grant's session with the
/// tenant's session lifetimes, the user with their attributes and the version of what the user
/// holds (`hv`): a row per custom attribute of the user, the other columns repeated.
fn context_sql() -> String {
    format!(
        "SELECT {COLUMNS}, {GRANT_COLUMNS}, {SESSION_COLUMNS}, {USER_COLUMNS}, {ATTRIBUTE_COLUMNS},
           {} AS hv
         FROM refresh_tokens rt
         JOIN grants g ON g.id = rt.grant_id
         JOIN tenants t ON t.id = rt.tenant_id
         LEFT JOIN users u ON u.tenant_id = rt.tenant_id AND u.id = g.user_id
         LEFT JOIN sessions s ON s.tenant_id = rt.tenant_id AND s.id = g.session_id
         LEFT JOIN session_settings ss ON ss.tenant_id = rt.tenant_id
         LEFT JOIN (user_attributes ua JOIN attribute_defs d ON d.id = ua.attribute_id)
           ON ua.user_id = u.id
         WHERE rt.tenant_id = $1 AND rt.token_hash = $2",
        held_version("u.id")
    )
}

/// The context of [`context_sql`]'s rows (`None` when there are none), without holdings.
fn context_from_rows(rows: &[DbRow]) -> Result<Option<RefreshContext>> {
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
    Ok(Some(RefreshContext {
        token: token(first)?,
        session,
        user: user_from_rows(rows)?,
        grant,
        held: None,
    }))
}

/// A refresh's exchange as SQLite runs it: two statements, their parameters numbered from
/// `$1 + shift` (the tenant, the old token's hash, the time, the new token's hash and expiry,
/// the client): the exchange, an upsert of two rows read from the old token while the checks
/// hold (the old token again, which conflicts and is marked used, and the new one), then the
/// context, read after it.
fn exchange_sql(shift: usize) -> String {
    let sql = format!(
        "INSERT INTO refresh_tokens
           (token_hash, tenant_id, grant_id, created_at, expires_at, used_at)
         SELECT v.token_hash, $1, o.grant_id, v.created_at, MIN(v.expires_at, g.expires_at), v.used_at
         FROM refresh_tokens o
         JOIN grants g ON g.id = o.grant_id
         JOIN (SELECT $2 AS token_hash, 0 AS created_at, 0 AS expires_at, $3 AS used_at
               UNION ALL SELECT $4, $3, $5, NULL) v
         WHERE o.tenant_id = $1 AND o.token_hash = $2 AND o.used_at IS NULL
           AND o.expires_at > $3 AND g.revoked_at IS NULL AND g.expires_at > $3
           AND g.client_id = $6
         ON CONFLICT (token_hash) DO UPDATE SET used_at = excluded.used_at
         RETURNING token_hash;
         {}",
        context_sql()
    );
    shifted(&sql, shift)
}

/// The parameters of one exchange of [`exchange_sql`].
const EXCHANGE_PARAMETERS: usize = 6;

/// A refresh's exchange waiting for its group (SQLite): what [`exchange_sql`] binds.
pub struct RefreshJob {
    tenant: String,
    old_hash: String,
    client: String,
    new: Rotation,
}

impl Grouped for RefreshJob {
    const PARAMETERS: usize = EXCHANGE_PARAMETERS;
    const STATEMENTS: usize = 2;

    fn sql(shift: usize) -> String {
        exchange_sql(shift)
    }

    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query
            .bind(self.tenant.as_str())
            .bind(self.old_hash.as_str())
            .bind(self.new.created_at)
            .bind(self.new.token_hash.as_str())
            .bind(self.new.expires_at)
            .bind(self.client.as_str())
    }

    fn made() -> &'static Made {
        static MADE: Made = [const { std::sync::OnceLock::new() }; SIZES];
        &MADE
    }
}

/// The rows of [`exchange_sql`]'s two statements: whether the token was exchanged, and the
/// context's rows.
fn rotated_from(statements: Vec<Vec<DbRow>>) -> Result<(bool, Vec<DbRow>)> {
    let mut statements = statements.into_iter();
    let (Some(exchanged), Some(rows)) = (statements.next(), statements.next()) else {
        return Err(DomainError::Internal(
            "a refresh read fewer statements than it ran".into(),
        ));
    };
    Ok((!exchanged.is_empty(), rows))
}

impl Backend {
    /// The refresh token whose hash is `token_hash` with its grant, session and user, whatever
    /// their state (the caller decides), in one statement; what the user holds is not read.
    pub async fn refresh_context(
        &self,
        tenant: &TenantId,
        token_hash: &str,
    ) -> Result<Option<RefreshContext>> {
        let rows = self
            .hot_rows(
                sqlx::query::<DB>(sqlx::AssertSqlSafe(once!(context_sql())))
                    .bind(tenant.as_str())
                    .bind(token_hash),
            )
            .await?;
        context_from_rows(&rows)
    }

    /// A refresh's exchange of the token `old_hash` for `new`, with what the refresh decides
    /// on, in one trip to the database where it can be. The exchange happens only if `old_hash`
    /// is unused and unexpired and its grant live and `client`'s (`rotated`); otherwise nothing
    /// is written and the context (`None` for an unknown token) says why. The context carries
    /// what the user holds (`permissions`: with permissions or not) when the user is there and
    /// it is remembered at the version the statement read (see `store::held`; else the caller
    /// reads it); on PostgreSQL a token exchanged a moment ago by a concurrent request can still
    /// read as unused (the statement's snapshot predates it), and is then not `rotated`.
    /// - SQLite, which has no writing common table expressions: one string of two statements
    ///   run in one hand-off to the connection's worker thread: the exchange, one upsert of two
    ///   rows read from `old_hash` while the checks hold (`old_hash` again, which conflicts and
    ///   is marked used, and `new`), then the context, read after it. A
    ///   writing statement takes SQLite's write lock before it reads, so concurrent exchanges
    ///   run one after the other and the later ones read `old_hash` used and write nothing.
    ///   The string is handed to the group task (`grouped`), which runs the refreshes waiting
    ///   together in one transaction, each one's statements after the previous one's.
    /// - PostgreSQL: one statement: the exchange as writing common table expressions (a
    ///   concurrent one waits for the row lock, then finds the token used) of the statement
    ///   that reads the context.
    ///
    /// A caller that refuses the refresh after an exchange for what only it can check (the
    /// session, the user, the scope asked for) puts the token back with [`Self::unrotate`].
    pub async fn refresh_and_rotate(
        &self,
        tenant: &TenantId,
        old_hash: &str,
        client: &ClientId,
        new: &Rotation,
        permissions: bool,
    ) -> Result<Option<(RefreshContext, bool)>> {
        let job = RefreshJob {
            tenant: tenant.as_str().to_owned(),
            old_hash: old_hash.to_owned(),
            client: client.as_str().to_owned(),
            new: new.clone(),
        };
        if let Some(group) = &self.writes {
            let statements = group.run(Write::Refresh(job)).await.map_err(refused)??;
            let (rotated, rows) = rotated_from(statements)?;
            return self.rotated_context(tenant, permissions, rotated, &rows);
        }
        let sql: &'static str = match DIALECT {
            Dialect::Sqlite => once!(exchange_sql(0)),
            Dialect::Postgres => once!(format!(
                "WITH used AS (
                     UPDATE refresh_tokens SET used_at = $3
                     WHERE tenant_id = $1 AND token_hash = $2 AND used_at IS NULL
                       AND expires_at > $3
                       AND EXISTS (SELECT 1 FROM grants g WHERE g.id = refresh_tokens.grant_id
                                   AND g.revoked_at IS NULL AND g.expires_at > $3
                                   AND g.client_id = $6)
                     RETURNING grant_id),
                 fresh AS (
                     INSERT INTO refresh_tokens (token_hash, tenant_id, grant_id, created_at, expires_at)
                     SELECT $4, $1, u.grant_id, $3, LEAST($5, fg.expires_at)
                     FROM used u JOIN grants fg ON fg.id = u.grant_id
                     RETURNING token_hash)
                 {}",
                context_sql().replacen("SELECT ", "SELECT (SELECT COUNT(*) FROM fresh) AS rotated, ", 1)
            )),
        };
        // The same parameters in the same order on both databases.
        let query = job.bind(sqlx::query::<DB>(sqlx::AssertSqlSafe(sql)));
        let (rotated, rows) = if DIALECT == Dialect::Postgres {
            let rows = self.hot_write_rows(query).await?;
            let Some(first) = rows.first() else {
                return Ok(None);
            };
            (get::<i64>(first, "rotated")? > 0, rows)
        } else {
            rotated_from(self.hot_write_statements(query).await?)?
        };
        self.rotated_context(tenant, permissions, rotated, &rows)
    }

    /// The context of a refresh's rows, with what the user holds when it is remembered at the
    /// version the rows read (else the caller reads it).
    fn rotated_context(
        &self,
        tenant: &TenantId,
        permissions: bool,
        rotated: bool,
        rows: &[DbRow],
    ) -> Result<Option<(RefreshContext, bool)>> {
        let Some(mut context) = context_from_rows(rows)? else {
            return Ok(None);
        };
        if let Some(first) = rows.first() {
            context.held = self.remembered_of(tenant, context.user.as_ref(), permissions, first)?;
        }
        Ok(Some((context, rotated)))
    }

    /// Undoes the exchange [`Self::refresh_and_rotate`] made at `used_at` of `old_hash` for
    /// `new_hash`, for a refresh refused after it: `new_hash` goes (only while unused) and then
    /// `old_hash` is unused again, in one transaction.
    pub async fn unrotate(
        &self,
        tenant: &TenantId,
        old_hash: &str,
        new_hash: &str,
        used_at: i64,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let gone = sqlx::query(
            "DELETE FROM refresh_tokens WHERE tenant_id = $1 AND token_hash = $2 AND used_at IS NULL",
        )
        .bind(tenant.as_str())
        .bind(new_hash)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        if gone == 1 {
            sqlx::query(
                "UPDATE refresh_tokens SET used_at = NULL
                 WHERE tenant_id = $1 AND token_hash = $2 AND used_at = $3",
            )
            .bind(tenant.as_str())
            .bind(old_hash)
            .bind(used_at)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)
    }
}
