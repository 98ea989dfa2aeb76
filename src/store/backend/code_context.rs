//! What a code exchange decides on, read in as few trips as the database allows: the code
//! (taken: marked used), its session, its user with their attributes, and the version of what
//! the user holds (remembered: `store::held`).

use super::claims::held_version;
use super::grouped::{Grouped, Made, Query, SIZES, Write, refused, shifted};
use super::sessions::{CODE_COLUMNS, CODE_COLUMNS_APART, CodeRow, code_apart};
use super::token_state::{SESSION_COLUMNS, session};
use super::users::{ATTRIBUTE_COLUMNS, USER_COLUMNS, user_from_rows};
use super::{Backend, DB, DIALECT, db_error};
use crate::domain::sessions::{AuthCode, Redemption, Session};
use crate::domain::*;
use crate::store::Dialect;

type DbRow = <DB as sqlx::Database>::Row;

/// The session `$2` of the user `$3` and that user, in the tenant `$1`.
fn session_and_user_sql() -> String {
    format!(
        "SELECT {SESSION_COLUMNS}, {USER_COLUMNS}, {ATTRIBUTE_COLUMNS}
         FROM tenants t
         LEFT JOIN sessions s ON s.tenant_id = t.id AND s.id = $2 AND s.user_id = $3
         LEFT JOIN users u ON u.tenant_id = t.id AND u.id = $3
         LEFT JOIN (user_attributes ua JOIN attribute_defs d ON d.id = ua.attribute_id)
           ON ua.user_id = u.id
         WHERE t.id = $1"
    )
}

/// The code `$2` of the tenant `$1` (`c`) with its session, its user with their attributes and
/// the version of what the user holds (`hv`), and `more` columns (each starting with `, `): a
/// row per custom attribute of the user.
fn code_context_sql(more: &str) -> String {
    format!(
        "SELECT {SESSION_COLUMNS}, {USER_COLUMNS}, {ATTRIBUTE_COLUMNS}, {} AS hv{more}
         FROM authorization_codes c
         JOIN tenants t ON t.id = c.tenant_id
         LEFT JOIN sessions s
           ON s.tenant_id = c.tenant_id AND s.id = c.session_id AND s.user_id = c.user_id
         LEFT JOIN users u ON u.tenant_id = c.tenant_id AND u.id = c.user_id
         LEFT JOIN (user_attributes ua JOIN attribute_defs d ON d.id = ua.attribute_id)
           ON ua.user_id = u.id
         WHERE c.tenant_id = $1 AND c.code_hash = $2",
        held_version("u.id")
    )
}

/// A code's redemption as SQLite runs it: three statements, their parameters numbered from
/// `$1 + shift` (the tenant, the code's hash): the taking (the code marked used, returned as it
/// was), the code again when it was used already, then its session and user, read after the
/// taking.
fn redeem_sql(shift: usize) -> String {
    let sql = format!(
        "UPDATE authorization_codes SET used = TRUE
         WHERE tenant_id = $1 AND code_hash = $2 AND NOT used
         RETURNING {CODE_COLUMNS}, FALSE AS used;
         SELECT {CODE_COLUMNS}, TRUE AS used FROM authorization_codes
         WHERE tenant_id = $1 AND code_hash = $2 AND used;
         {}",
        code_context_sql("")
    );
    shifted(&sql, shift)
}

/// A code's redemption as PostgreSQL runs it: one statement, the same parameters as
/// [`redeem_sql`]. The taking is a writing common table expression; the rest reads the snapshot
/// from before it (the code as it was, its session, its user) and
/// `taken` says whether this statement took the code. A concurrent redemption waits for the
/// row lock, then finds the code used and takes nothing.
fn redeem_sql_postgres() -> String {
    format!(
        "WITH taken AS (
             UPDATE authorization_codes SET used = TRUE
             WHERE tenant_id = $1 AND code_hash = $2 AND NOT used
             RETURNING code_hash)
         {}",
        code_context_sql(&format!(
            ", (SELECT COUNT(*) FROM taken) AS taken, {CODE_COLUMNS_APART}"
        ))
    )
}

/// A code's redemption waiting for its group (SQLite): what [`redeem_sql`] binds.
pub struct RedeemJob {
    tenant: String,
    code_hash: String,
}

impl Grouped for RedeemJob {
    const PARAMETERS: usize = 2;
    const STATEMENTS: usize = 3;

    fn sql(shift: usize) -> String {
        redeem_sql(shift)
    }

    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q> {
        query
            .bind(self.tenant.as_str())
            .bind(self.code_hash.as_str())
    }

    fn made() -> &'static Made {
        static MADE: Made = [const { std::sync::OnceLock::new() }; SIZES];
        &MADE
    }
}

impl Backend {
    /// Takes the authorization code `code_hash` (as `take_auth_code`: marked used, returned as
    /// it was) and, when this was its first use, its session and user (each when its row is
    /// there, whatever its state) and what the user holds (`permissions`: with permissions or
    /// not) when it is remembered at the version read (see `store::held`; else the caller reads
    /// it). On SQLite one hand-off to the connection's worker thread (three statements of one
    /// string, the reads after the taking, run in a group with the others waiting:
    /// `grouped`); on PostgreSQL one statement ([`redeem_sql_postgres`]).
    pub async fn redeem_code(
        &self,
        tenant: &TenantId,
        code_hash: &str,
        permissions: bool,
    ) -> Result<Option<Redemption>> {
        if DIALECT == Dialect::Postgres {
            let rows = self
                .hot_write_rows(
                    sqlx::query::<DB>(sqlx::AssertSqlSafe(once!(redeem_sql_postgres())))
                        .bind(tenant.as_str())
                        .bind(code_hash),
                )
                .await?;
            let Some(first) = rows.first() else {
                return Ok(None);
            };
            let taken = sqlx::Row::try_get::<i64, _>(first, "taken").map_err(db_error)? > 0;
            let code = code_apart(first, !taken)?;
            if !taken {
                return Ok(Some(Redemption::replay(code)));
            }
            let user = user_from_rows(&rows)?;
            let held = self.remembered_of(tenant, user.as_ref(), permissions, first)?;
            return Ok(Some(Redemption {
                code,
                session: session(first).map_err(db_error)?,
                user,
                held,
            }));
        }
        let job = RedeemJob {
            tenant: tenant.as_str().to_owned(),
            code_hash: code_hash.to_owned(),
        };
        let statements = match &self.writes {
            Some(group) => group.run(Write::Redeem(job)).await.map_err(refused)??,
            None => {
                let query = job.bind(sqlx::query::<DB>(sqlx::AssertSqlSafe(once!(redeem_sql(0)))));
                self.hot_write_statements(query).await?
            }
        };
        let mut statements = statements.into_iter();
        let (Some(taken), Some(again), Some(rows)) =
            (statements.next(), statements.next(), statements.next())
        else {
            return Err(DomainError::Internal(
                "a code exchange read fewer statements than it ran".into(),
            ));
        };
        let code = |rows: &[DbRow]| -> Result<Option<AuthCode>> {
            match rows.first() {
                Some(row) => Ok(Some(
                    <CodeRow as sqlx::FromRow<DbRow>>::from_row(row)
                        .map_err(db_error)?
                        .into(),
                )),
                None => Ok(None),
            }
        };
        let Some(code) = code(&taken)? else {
            return Ok(code(&again)?.map(Redemption::replay));
        };
        let (session, user, held) = match rows.first() {
            Some(first) => {
                let user = user_from_rows(&rows)?;
                let held = self.remembered_of(tenant, user.as_ref(), permissions, first)?;
                (session(first).map_err(db_error)?, user, held)
            }
            None => (None, None, None),
        };
        Ok(Some(Redemption {
            code,
            session,
            user,
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
        let rows = self
            .hot_rows(
                sqlx::query::<DB>(sqlx::AssertSqlSafe(once!(session_and_user_sql())))
                    .bind(tenant.as_str())
                    .bind(session_id)
                    .bind(user_id.as_str()),
            )
            .await?;
        let Some(first) = rows.first() else {
            return Ok((None, None));
        };
        Ok((session(first).map_err(db_error)?, user_from_rows(&rows)?))
    }
}
