//! SQLite's writing token statements (a refresh's exchange, a code's redemption) run in groups
//! (see `store::group`): one task takes every one waiting and runs those of a kind together, as
//! one string of statements in one transaction: one hand-off to SQLite's worker, one write lock,
//! one commit for the group. PostgreSQL, which locks rows, not the database, does not group.

use super::{DB, db_error};
use crate::domain::*;
use crate::store::group::{Group, Refused};
use crate::store::hot::Hot;
use std::sync::OnceLock;

type DbRow = <DB as sqlx::Database>::Row;
pub type Query<'q> = sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>;

/// The rows of each statement of one job's string.
pub type Statements = Result<Vec<Vec<DbRow>>>;

/// A job for the group.
pub enum Write {
    Refresh(super::refresh_context::RefreshJob),
    Redeem(super::code_context::RedeemJob),
}

/// The task that runs SQLite's token writes in groups.
pub type Writes = Group<Write, Statements>;

/// At most this many jobs (a power of two) run in one transaction: the statement strings of
/// each size (2, 4, 8, 16) are prepared once per connection and kept, so this bounds their
/// memory too (every size from 2 to 16 prepared cost 25 MB more of RSS under the mix).
const GROUP_MOST: usize = 16;
const _: () = assert!(GROUP_MOST.is_power_of_two());

/// The sizes of group a kind has strings for.
pub const SIZES: usize = GROUP_MOST.ilog2() as usize + 1;

/// A kind's strings, one per size (1, 2, 4, ... [`GROUP_MOST`]), made when first needed.
pub type Made = [OnceLock<String>; SIZES];

/// At most this many jobs wait for a group; more wait to be queued, at most `ACQUIRE_TIMEOUT`.
const GROUP_QUEUED: usize = 4096;

/// A kind of job that runs in groups: a string of `STATEMENTS` statements whose parameters are
/// `$1` to `$PARAMETERS`, renumbered for each job of a group.
pub trait Grouped: Sized {
    const PARAMETERS: usize;
    const STATEMENTS: usize;
    /// The job's statements, their parameters numbered from `$1 + shift`.
    fn sql(shift: usize) -> String;
    /// Binds the job's parameters, in order.
    fn bind<'q>(&'q self, query: Query<'q>) -> Query<'q>;
    /// The kind's strings of groups (a static of its own).
    fn made() -> &'static Made;
}

/// The task that runs SQLite's token writes in groups, on the connections `writes`.
pub fn writes(writes: Hot<DB>) -> Writes {
    Group::new(GROUP_MOST, GROUP_QUEUED, move |jobs| {
        let writes = writes.clone();
        async move { run(&writes, jobs).await }
    })
}

/// The error a request gets for a job the group did not run.
pub fn refused(why: Refused) -> DomainError {
    match why {
        Refused::Full => DomainError::Internal("too many token writes are waiting".into()),
        Refused::Gone => DomainError::Internal("the token writes' task is gone".into()),
    }
}

/// Each job's statements, in its place: the refreshes together, then the redemptions.
async fn run(writes: &Hot<DB>, jobs: Vec<Write>) -> Vec<Statements> {
    let mut places = (Vec::new(), Vec::new());
    let (mut refreshes, mut redeems) = (Vec::new(), Vec::new());
    for (i, job) in jobs.into_iter().enumerate() {
        match job {
            Write::Refresh(job) => {
                places.0.push(i);
                refreshes.push(job);
            }
            Write::Redeem(job) => {
                places.1.push(i);
                redeems.push(job);
            }
        }
    }
    let mut out: Vec<Option<Statements>> =
        (0..places.0.len() + places.1.len()).map(|_| None).collect();
    for (i, result) in places.0.into_iter().zip(run_kind(writes, &refreshes).await) {
        out[i] = Some(result);
    }
    for (i, result) in places.1.into_iter().zip(run_kind(writes, &redeems).await) {
        out[i] = Some(result);
    }
    out.into_iter()
        .map(|o| o.unwrap_or_else(|| Err(DomainError::Internal("a write got no result".into()))))
        .collect()
}

/// Each job's statements, in transactions of a power of two of them (the largest that fit, in
/// order: 13 jobs are 8, 4 and 1), so that only a few strings are ever prepared; a transaction
/// that fails is run again a job at a time, so that one job's error is not the others'.
async fn run_kind<K: Grouped>(writes: &Hot<DB>, jobs: &[K]) -> Vec<Statements> {
    let mut out = Vec::with_capacity(jobs.len());
    let mut rest = jobs;
    while !rest.is_empty() {
        let size = (1 << rest.len().ilog2()).min(GROUP_MOST);
        let (chunk, after) = rest.split_at(size);
        rest = after;
        if size > 1
            && let Ok(each) = together(writes, chunk).await
        {
            out.extend(each.into_iter().map(Ok));
            continue;
        }
        for job in chunk {
            let query = job.bind(sqlx::query::<DB>(sqlx::AssertSqlSafe(together_sql::<K>(1))));
            out.push(super::statements_on(writes, query).await);
        }
    }
    out
}

/// The string that runs `n` jobs of a kind (a power of two up to [`GROUP_MOST`]) in one
/// transaction, made once per size; for one job, its own statements (each commits alone).
fn together_sql<K: Grouped>(n: usize) -> &'static str {
    debug_assert!(n.is_power_of_two() && n <= GROUP_MOST);
    K::made()[(n.ilog2() as usize).min(SIZES - 1)].get_or_init(|| {
        if n == 1 {
            return K::sql(0);
        }
        let mut sql = String::from("BEGIN IMMEDIATE;\n");
        for i in 0..n {
            sql.push_str(&K::sql(i * K::PARAMETERS));
            sql.push_str(";\n");
        }
        sql.push_str("COMMIT");
        sql
    })
}

/// The jobs' statements in one transaction. On an error nothing is kept (the transaction is
/// rolled back).
async fn together<K: Grouped>(writes: &Hot<DB>, jobs: &[K]) -> Result<Vec<Vec<Vec<DbRow>>>> {
    let mut query = sqlx::query::<DB>(sqlx::AssertSqlSafe(together_sql::<K>(jobs.len())));
    for job in jobs {
        query = job.bind(query);
    }
    let mut lent = writes.get().await.map_err(db_error)?;
    let ran = super::fetch_statements(lent.conn().map_err(db_error)?, query).await;
    let statements = match lent.checked(ran) {
        Ok(statements) => statements,
        Err(e) => {
            // A failed statement leaves the transaction open on this connection.
            if let Ok(conn) = lent.conn() {
                let _ = sqlx::Executor::execute(conn, "ROLLBACK").await;
            }
            return Err(db_error(e));
        }
    };
    // BEGIN, the statements of each job, COMMIT.
    if statements.len() != jobs.len() * K::STATEMENTS + 2 {
        return Err(DomainError::Internal(format!(
            "{} writes together read {} statements",
            jobs.len(),
            statements.len()
        )));
    }
    let mut each = statements.into_iter().skip(1);
    Ok(jobs
        .iter()
        .map(|_| each.by_ref().take(K::STATEMENTS).collect())
        .collect())
}

/// `sql` with every parameter `$n` renumbered `$(n + by)`.
pub fn shifted(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + sql.len() / 16);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + by).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}
