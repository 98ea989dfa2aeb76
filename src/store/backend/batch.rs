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

/// Parameters per statement (PostgreSQL): well under its limit of 65,535.
const MAX_PARAMS: usize = 16_000;

/// Inserts `rows` (each `width` values, in the column order of `head`, which is
/// `INSERT INTO table (columns)`).
///
/// SQLite gets all the rows as one JSON array bound as a single text parameter and unpacked by
/// `json_each` (`INSERT ... SELECT value->>0, value->>1, ... FROM json_each(?)`): the statement
/// is the same whatever the number of rows, so it is prepared once per connection, and binding
/// one text costs far less than binding thousands of values one by one (sqlx looks each
/// parameter's name up, and copies each value). PostgreSQL gets multi-row `VALUES` of numbered
/// parameters, one statement per chunk.
pub async fn insert_rows(
    conn: &mut Conn,
    head: &str,
    width: usize,
    rows: &[Vec<Val>],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    match DIALECT {
        Dialect::Sqlite => insert_json(conn, head, width, rows).await,
        Dialect::Postgres => insert_values(conn, head, width, rows).await,
    }
}

async fn insert_json(conn: &mut Conn, head: &str, width: usize, rows: &[Vec<Val>]) -> Result<()> {
    let columns: Vec<String> = (0..width).map(|i| format!("value->>{i}")).collect();
    let text = format!("{head} SELECT {} FROM json_each(?)", columns.join(", "));
    sqlx::query::<DB>(sqlx::AssertSqlSafe(text))
        .bind(rows_json(width, rows))
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// `rows` as a JSON array of arrays. Booleans become 1 and 0, as SQLite stores them.
fn rows_json(width: usize, rows: &[Vec<Val>]) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(rows.len() * width * 16);
    out.push(b'[');
    for (i, row) in rows.iter().enumerate() {
        debug_assert_eq!(row.len(), width);
        out.extend_from_slice(if i == 0 { b"[" } else { b",[" });
        for (j, v) in row.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            // Writing into a Vec cannot fail, and every value here is valid JSON (a float
            // that is not finite is written as null).
            let _ = match v {
                Val::Text(s) => serde_json::to_writer(&mut out, s),
                Val::Int(n) => serde_json::to_writer(&mut out, n),
                Val::Float(f) => serde_json::to_writer(&mut out, f),
                Val::Bool(b) => serde_json::to_writer(&mut out, &u8::from(*b)),
            };
        }
        out.push(b']');
    }
    out.push(b']');
    String::from_utf8(out).unwrap_or_default()
}

async fn insert_values(conn: &mut Conn, head: &str, width: usize, rows: &[Vec<Val>]) -> Result<()> {
    let per_statement = (MAX_PARAMS / width.max(1)).max(1);
    for chunk in rows.chunks(per_statement) {
        let mut text = String::with_capacity(head.len() + chunk.len() * width * 5);
        text.push_str(head);
        text.push_str(" VALUES ");
        let mut n = 0;
        for (i, row) in chunk.iter().enumerate() {
            debug_assert_eq!(row.len(), width);
            text.push_str(if i == 0 { "(" } else { ", (" });
            for j in 0..row.len() {
                n += 1;
                if j > 0 {
                    text.push_str(", ");
                }
                text.push('$');
                text.push_str(&n.to_string());
            }
            text.push(')');
        }
        let mut q = sqlx::query::<DB>(sqlx::AssertSqlSafe(text));
        for v in chunk.iter().flatten() {
            q = match v {
                Val::Text(s) => q.bind(s.clone()),
                Val::Int(i) => q.bind(*i),
                Val::Float(f) => q.bind(*f),
                Val::Bool(b) => q.bind(*b),
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
