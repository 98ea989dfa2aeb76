//! The store's one implementation. This module is compiled twice, once per database, with `DB`
//! and `DIALECT` taken from the parent (`sqlite.rs` or `postgres.rs`); its SQL is shared wherever
//! the dialects agree and `DIALECT` answers where they do not.

/// The SQL string `make` builds, built once per process (and per database: this module is
/// compiled once for each) on first use: a request's statement is the same every time, and
/// building the larger ones (the holdings' text is assembled with `format!` and `replace`) cost a
/// refresh, a userinfo answer and an introspection about 5 % of their instructions.
macro_rules! once {
    ($make:expr) => {{
        static MADE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        MADE.get_or_init(|| $make).as_str()
    }};
}

mod account_links;
mod accounts;
mod attributes;
mod audit;
mod batch;
mod claims;
mod clients;
mod code_context;
mod consents;
mod grants;
mod grouped;
mod groups;
pub use grouped::{Writes, writes};
mod holders;
mod invitations;
mod jobs;
mod keys;
mod links;
mod logout;
mod mail;
mod management;
mod mfa;
mod notifications;
mod org_lists;
mod permissions;
mod profile_policy;
mod refresh_context;
mod rekey;
mod relations;
mod roles;
mod scim_create;
mod scim_fold;
mod scim_group_members;
mod scim_groups;
mod scim_log;
mod scim_sql;
mod scim_tokens;
mod scim_users;
mod sealing;
mod sessions;
mod tenants;
mod throttle;
mod token_state;
mod tokens;
mod user_sessions;
mod users;
mod users_batch;

pub(crate) use super::{DB, DIALECT, MIGRATOR};
use crate::domain::audit::{Actor, Change};
use crate::domain::sealing::MasterKey;
use crate::domain::{DomainError, Result, TenantId};
use crate::store::db_error;
use sqlx::{Database, Pool, Transaction};
use std::sync::Arc;

pub type Conn = <DB as Database>::Connection;
pub type Tx = Transaction<'static, DB>;
type DbRow = <DB as Database>::Row;

#[derive(Clone, Debug)]
pub struct Backend {
    pub pool: Pool<DB>,
    /// The pool for the token endpoints' statements (refresh, code exchange, userinfo,
    /// introspection): fixed shapes that look up rows by key. On PostgreSQL its connections
    /// plan each statement once (`plan_cache_mode = force_generic_plan`): left to choose,
    /// PostgreSQL plans them again at every execution, because a NULL parameter (a client's
    /// token names no session) makes a custom plan look cheaper than the cached one, and the
    /// planning cost more than the reading. Its connections are kept, not pooled: sqlx's pool
    /// tests each connection it takes back, a second trip per statement (see `store::hot`).
    pub hot: crate::store::hot::Hot<DB>,
    /// The token endpoints' writing statements (a refresh's exchange, a code's redemption, a
    /// grant's insert): on SQLite two connections of their own, as SQLite runs one writer at a
    /// time and every commit makes the other connections read their pages again; on PostgreSQL,
    /// which locks rows, not the database, the same connections as `hot`.
    pub hot_writes: crate::store::hot::Hot<DB>,
    /// SQLite's refreshes and code redemptions, run in groups on `hot_writes` (see
    /// `grouped`); `None` on PostgreSQL, which locks rows, not the database.
    pub writes: Option<Writes>,
    /// The master key that seals secrets at rest; `None` until the store is unlocked, and then
    /// reading or writing a sealed secret fails (never falls back to plain text).
    pub key: Option<Arc<MasterKey>>,
    /// What users hold, remembered for the token endpoints at the version each was read
    /// (see `store::held`).
    pub held: Arc<crate::store::held::HeldMemory>,
}

impl Backend {
    /// The master key, or the error saying the store was opened without one.
    pub fn master_key(&self) -> Result<&MasterKey> {
        self.key.as_deref().ok_or_else(|| {
            DomainError::Internal("the store was opened without a master key".into())
        })
    }

    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| DomainError::Internal(format!("migration failed: {e}")))?;
        self.rekey_unicode().await?;
        self.refold_once().await
    }

    /// Starts a transaction that will write: SQLite takes the write lock at once (so two
    /// writers queue on `busy_timeout` instead of failing on lock upgrade).
    pub async fn write_tx(&self) -> Result<Tx> {
        self.pool
            .begin_with(DIALECT.begin_write())
            .await
            .map_err(db_error)
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// On PostgreSQL, analyzes the tables of Castellan's schema that autovacuum will not (it is
    /// off for the server or for the table) and that changed by more than autovacuum's own
    /// default threshold since their last analysis (50 rows and a tenth of the table); returns
    /// their names. Only tables its role owns: another's would be skipped with a warning, every
    /// minute. Every connection keeps its statements prepared (the token connections with
    /// generic plans from the first run), and PostgreSQL keeps a statement's plan until the
    /// statistics of a table it reads change: a plan made while the token tables were empty (a
    /// sequential scan, or an index of the tenant's users where the primary key was meant)
    /// would otherwise outlive their growth, and each token request would read every session
    /// or grant of its tenant. An analysis replaces the statistics and so every connection's
    /// plans of the table. `SKIP_LOCKED`: a table another replica is analyzing is left to it.
    /// Nothing to do on SQLite, whose planner uses no statistics unless asked to.
    pub async fn analyze_grown_tables(&self) -> Result<Vec<String>> {
        if DIALECT != crate::store::Dialect::Postgres {
            return Ok(Vec::new());
        }
        let grown: Vec<(String, String)> = sqlx::query_as(
            "SELECT s.schemaname::TEXT, s.relname::TEXT
             FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
             WHERE s.schemaname = current_schema()
               AND pg_has_role(c.relowner, 'USAGE')
               AND s.n_mod_since_analyze > 50 + 0.1 * GREATEST(c.reltuples, 0)
               AND (current_setting('autovacuum') = 'off'
                    OR EXISTS (SELECT 1 FROM pg_options_to_table(c.reloptions) o
                               WHERE o.option_name = 'autovacuum_enabled'
                                 AND NOT o.option_value::BOOLEAN))
             ORDER BY s.relname",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let quoted = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
        let mut analyzed = Vec::with_capacity(grown.len());
        for (schema, table) in grown {
            // One table that cannot be analyzed (dropped since, say) leaves the others to be.
            let done = sqlx::query(sqlx::AssertSqlSafe(format!(
                "ANALYZE (SKIP_LOCKED) {}.{}",
                quoted(&schema),
                quoted(&table)
            )))
            .execute(&self.pool)
            .await;
            match done {
                Ok(_) => analyzed.push(table),
                Err(e) => tracing::warn!(%table, error = %e, "analyzing a table failed"),
            }
        }
        Ok(analyzed)
    }
}

/// Records one change in the audit log, inside the transaction that makes it.
pub async fn record(
    conn: &mut Conn,
    tenant: &TenantId,
    actor: &Actor,
    change: Change,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, tenant_id, at, actor_kind, actor_id, actor_label, action, target_kind, target_id, before, after, ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(crate::domain::AuditId::generate().0)
    .bind(tenant.as_str())
    .bind(crate::domain::clock::now_ms())
    .bind(actor.kind)
    .bind(actor.id.as_deref())
    .bind(&actor.label)
    .bind(change.action)
    .bind(change.target_kind)
    .bind(change.target_id.as_deref())
    .bind(change.before)
    .bind(change.after)
    .bind(actor.ip.as_deref())
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Records `change` in the audit log and commits the transaction that made it: every write
/// ends here, so no change is stored without its audit entry.
pub async fn commit(mut tx: Tx, tenant: &TenantId, actor: &Actor, change: Change) -> Result<()> {
    record(&mut tx, tenant, actor, change).await?;
    tx.commit().await.map_err(db_error)
}

/// Records many changes in the audit log (one statement per chunk) and commits: the batch
/// form of `commit`.
pub async fn commit_many(
    mut tx: Tx,
    tenant: &TenantId,
    actor: &Actor,
    changes: Vec<Change>,
) -> Result<()> {
    use batch::Val;
    let rows: Vec<Vec<Val>> = changes
        .into_iter()
        .map(|c| {
            vec![
                Val::Text(Some(crate::domain::AuditId::generate().0)),
                c.action.into(),
                c.target_kind.into(),
                Val::Text(c.target_id),
                Val::Text(c.before),
                Val::Text(c.after),
            ]
        })
        .collect();
    let shared = vec![
        tenant.as_str().into(),
        Val::Int(crate::domain::clock::now_ms()),
        actor.kind.into(),
        (&actor.id).into(),
        actor.label.as_str().into(),
        (&actor.ip).into(),
    ];
    batch::insert_rows_sharing(
        &mut tx,
        "INSERT INTO audit_log (id, action, target_kind, target_id, before, after, tenant_id, at, actor_kind, actor_id, actor_label, ip)",
        6,
        shared,
        rows,
    )
    .await?;
    tx.commit().await.map_err(db_error)
}

/// `texts` as one value to bind where [`super::Dialect::text_rows`] reads them back.
pub fn text_list(texts: &[&str]) -> Result<String> {
    serde_json::to_string(texts).map_err(|e| DomainError::Internal(e.to_string()))
}

/// Placeholders `first..first + n` for a statement whose placeholders all appear once, in the
/// order of binding: `$first, ...` on PostgreSQL, anonymous `?` on SQLite, where sqlx binds a
/// numbered one by looking its name up (linear in the statement's parameters, so quadratic for
/// a long `IN` list). The tenant's `$1` of such a statement is [`in_order`]`(1, 1)` too.
pub fn in_order(first: usize, n: usize) -> String {
    match DIALECT {
        crate::store::Dialect::Sqlite => vec!["?"; n].join(", "),
        crate::store::Dialect::Postgres => placeholders(first, n),
    }
}

/// `$first, $first+1, ...` placeholders for an IN list of `n` values.
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Backend {
    /// The rows of `query`, a read, run on one of the token endpoints' connections
    /// ([`Backend::hot`]).
    pub(super) async fn hot_rows<'q>(
        &self,
        query: impl sqlx::Execute<'q, DB> + 'q,
    ) -> Result<Vec<DbRow>> {
        rows_on(&self.hot, query).await
    }

    /// The rows of `query`, a writing statement, run on one of the token endpoints' writing
    /// connections ([`Backend::hot_writes`]).
    pub(super) async fn hot_write_rows<'q>(
        &self,
        query: impl sqlx::Execute<'q, DB> + 'q,
    ) -> Result<Vec<DbRow>> {
        rows_on(&self.hot_writes, query).await
    }

    /// The rows of each statement of a string of several that writes (SQLite runs them one
    /// after the other in one hand-off), in order, run on one of the token endpoints' writing
    /// connections; a statement that returns no rows has an empty list.
    pub(super) async fn hot_write_statements<'q>(
        &self,
        query: impl sqlx::Execute<'q, DB> + 'q,
    ) -> Result<Vec<Vec<DbRow>>> {
        statements_on(&self.hot_writes, query).await
    }
}

/// The rows of each statement of `query`, a string of several, run on one of `hot`'s
/// connections (see [`fetch_statements`]).
async fn statements_on<'q>(
    hot: &crate::store::hot::Hot<DB>,
    query: impl sqlx::Execute<'q, DB> + 'q,
) -> Result<Vec<Vec<DbRow>>> {
    let mut lent = hot.get().await.map_err(db_error)?;
    let result = fetch_statements(lent.conn().map_err(db_error)?, query).await;
    lent.checked(result).map_err(db_error)
}

/// The rows of each statement of `query`, a string of several (SQLite runs them one after the
/// other in one hand-off), in order; a statement that returns no rows has an empty list.
async fn fetch_statements<'q>(
    conn: &mut Conn,
    query: impl sqlx::Execute<'q, DB> + 'q,
) -> std::result::Result<Vec<Vec<DbRow>>, sqlx::Error> {
    use futures_util::TryStreamExt;
    let mut steps = sqlx::Executor::fetch_many(conn, query);
    let mut statements = Vec::new();
    let mut current = Vec::new();
    while let Some(step) = steps.try_next().await? {
        match step {
            sqlx::Either::Left(_) => statements.push(std::mem::take(&mut current)),
            sqlx::Either::Right(row) => current.push(row),
        }
    }
    if !current.is_empty() {
        statements.push(current);
    }
    Ok(statements)
}

/// The rows of `query` run on one of `hot`'s connections.
async fn rows_on<'q>(
    hot: &crate::store::hot::Hot<DB>,
    query: impl sqlx::Execute<'q, DB> + 'q,
) -> Result<Vec<DbRow>> {
    let mut lent = hot.get().await.map_err(db_error)?;
    let result = sqlx::Executor::fetch_all(lent.conn().map_err(db_error)?, query).await;
    lent.checked(result).map_err(db_error)
}
