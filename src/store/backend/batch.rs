//! Many rows in few statements: multi-row `INSERT`s sized to stay under both databases' limit
//! on bound parameters, and savepoints that let one part of a transaction fail on its own.

use super::{Conn, DB, DIALECT, db_error};
use crate::domain::Result;
use crate::store::Dialect;

/// One bound value of a row.
#[derive(Clone, Debug)]
pub enum Val {
    Text(Option<String>),
    Int(i64),
    Float(Option<f64>),
    Bool(bool),
}

impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Val::Text(Some(s.to_owned()))
    }
}

impl From<&Option<String>> for Val {
    fn from(s: &Option<String>) -> Self {
        Val::Text(s.clone())
    }
}

/// Parameters per statement: well under SQLite's 32,766 and PostgreSQL's 65,535.
/// SQLite gets anonymous `?` placeholders: binding a numbered one looks its name up in a list
/// (`sqlite3_bind_parameter_name`), which made a statement of many thousand quadratic.
const MAX_PARAMS: usize = 16_000;

/// Rows per statement at most: every full chunk then has the same text, so each connection
/// prepares it once and its statement cache serves the rest (a statement of hundreds of rows
/// costs milliseconds to prepare).
const MAX_ROWS: usize = 100;

/// Inserts `rows` (each `width` values, in the column order of `head`, which is
/// `INSERT INTO table (columns)`) with one statement per chunk. The rows are consumed: their
/// text moves into the bound parameters instead of being copied.
pub async fn insert_rows(
    conn: &mut Conn,
    head: &str,
    width: usize,
    rows: Vec<Vec<Val>>,
) -> Result<()> {
    insert_rows_sharing(conn, head, width, vec![], rows).await
}

/// `insert_rows` for rows that also share some values (the tenant, a timestamp, the actor):
/// `head` names each row's `width` columns first, then the shared ones, which are bound once
/// per statement (`INSERT ... SELECT column1, ..., ?, ? FROM (VALUES ...) AS v`) instead of
/// once per row. Binding is most of what a multi-row insert costs outside the database.
pub async fn insert_rows_sharing(
    conn: &mut Conn,
    head: &str,
    width: usize,
    shared: Vec<Val>,
    rows: Vec<Vec<Val>>,
) -> Result<()> {
    let per_statement = (MAX_PARAMS / width.max(1)).clamp(1, MAX_ROWS);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Val>> = rows.by_ref().take(per_statement).collect();
        let mut text = String::with_capacity(head.len() + (chunk.len() + 1) * width * 5);
        text.push_str(head);
        let mut n = 0;
        let mut param = |text: &mut String| {
            n += 1;
            match DIALECT {
                Dialect::Sqlite => text.push('?'),
                Dialect::Postgres => {
                    text.push('$');
                    text.push_str(&n.to_string());
                }
            }
        };
        if shared.is_empty() {
            text.push_str(" VALUES ");
        } else {
            // The shared parameters come first in the text, so they are the first bound.
            text.push_str(" SELECT ");
            for j in 1..=width {
                text.push_str("column");
                text.push_str(&j.to_string());
                text.push_str(", ");
            }
            for j in 0..shared.len() {
                if j > 0 {
                    text.push_str(", ");
                }
                param(&mut text);
            }
            text.push_str(" FROM (VALUES ");
        }
        for (i, row) in chunk.iter().enumerate() {
            debug_assert_eq!(row.len(), width);
            text.push_str(if i == 0 { "(" } else { ", (" });
            for j in 0..row.len() {
                if j > 0 {
                    text.push_str(", ");
                }
                param(&mut text);
            }
            text.push(')');
        }
        if !shared.is_empty() {
            text.push_str(") AS v");
        }
        let mut q = sqlx::query::<DB>(sqlx::AssertSqlSafe(text));
        let values = shared.iter().cloned().chain(chunk.into_iter().flatten());
        for v in values {
            q = match v {
                Val::Text(s) => q.bind(s),
                Val::Int(i) => q.bind(i),
                Val::Float(f) => q.bind(f),
                Val::Bool(b) => q.bind(b),
            };
        }
        q.execute(&mut *conn).await.map_err(db_error)?;
    }
    Ok(())
}

/// A savepoint: what follows it can be undone alone (`rollback`) or kept (`release`).
pub struct Savepoint(&'static str);

impl Savepoint {
    pub async fn start(conn: &mut Conn, name: &'static str) -> Result<Self> {
        run(conn, format!("SAVEPOINT {name}")).await?;
        Ok(Self(name))
    }

    pub async fn release(self, conn: &mut Conn) -> Result<()> {
        run(conn, format!("RELEASE SAVEPOINT {}", self.0)).await
    }

    /// Undoes everything since the savepoint (and ends it).
    pub async fn rollback(self, conn: &mut Conn) -> Result<()> {
        run(conn, format!("ROLLBACK TO SAVEPOINT {}", self.0)).await?;
        run(conn, format!("RELEASE SAVEPOINT {}", self.0)).await
    }
}

async fn run(conn: &mut Conn, sql: String) -> Result<()> {
    sqlx::query::<DB>(sqlx::AssertSqlSafe(sql))
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    Ok(())
}
