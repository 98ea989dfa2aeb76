//! Folded shadows of case-insensitive SCIM text (issue 13, item 1). SQLite's `lower()` and `LIKE`
//! know only ASCII and PostgreSQL's depend on the cluster's locale, so each case-insensitive
//! column has a `<column>_f` holding `domain::scim::fold` of it, which filters and sorts compare
//! bytewise. Every store write that sets a source column writes its shadow in the same
//! statement (see [`folds`]), so a read never folds (nor writes, which a PostgreSQL replica
//! could not). The rows that existed when migration 0018 ran are folded once, at the next start;
//! each of those updates is guarded by the source values it folded, so a write racing with it
//! (from another server already started) is not overwritten with a shadow of stale text.

use super::{Backend, DB, DIALECT, db_error};
use crate::domain::Result;
use crate::domain::scim::{ScimUserFields, fold};
use crate::store::Dialect;
use sqlx::Row;

/// The shadow of an optional source value, as a write binds it next to the value.
pub(super) fn folded(source: &Option<String>) -> Option<String> {
    source.as_deref().map(fold)
}

/// The folded columns of `users`, in the order [`user_shadows`] gives their values.
const USER_SOURCES: &[&str] = &[
    "given_name",
    "family_name",
    "middle_name",
    "honorific_prefix",
    "honorific_suffix",
    "display_name",
    "nick_name",
    "title",
    "user_type",
    "preferred_language",
    "locale",
    "timezone",
    "employee_number",
    "cost_center",
    "organization",
    "division",
    "department",
];

/// The shadows of a SCIM user's case-insensitive fields, in the order of [`USER_SOURCES`].
pub(super) fn user_shadows(f: &ScimUserFields) -> Vec<Option<String>> {
    [
        &f.given_name,
        &f.family_name,
        &f.middle_name,
        &f.honorific_prefix,
        &f.honorific_suffix,
        &f.display_name,
        &f.nick_name,
        &f.title,
        &f.user_type,
        &f.preferred_language,
        &f.locale,
        &f.timezone,
        &f.employee_number,
        &f.cost_center,
        &f.organization,
        &f.division,
        &f.department,
    ]
    .into_iter()
    .map(folded)
    .collect()
}

/// The shadow columns [`user_shadows`] fills, joined by `, `: as the column list of an INSERT
/// (`None`), or as the SET list of an UPDATE that binds them from `$first` on.
pub(super) fn user_shadow_columns(first: Option<usize>) -> String {
    USER_SOURCES
        .iter()
        .enumerate()
        .map(|(i, c)| match first {
            None => format!("{c}_f"),
            Some(n) => format!("{c}_f = ${}", n + i),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A table with folded shadows: its key columns and source columns.
struct Table {
    name: &'static str,
    keys: &'static [&'static str],
    sources: &'static [&'static str],
}

const TABLES: &[Table] = &[
    Table {
        name: "users",
        keys: &["id"],
        sources: USER_SOURCES,
    },
    Table {
        name: "user_emails",
        keys: &["user_id", "position"],
        sources: &["type"],
    },
    Table {
        name: "user_values",
        keys: &["user_id", "attribute", "position"],
        sources: &["display", "type"],
    },
    Table {
        name: "user_addresses",
        keys: &["user_id", "position"],
        sources: &[
            "type",
            "formatted",
            "street_address",
            "locality",
            "region",
            "postal_code",
            "country",
        ],
    },
    Table {
        name: "groups",
        keys: &["id"],
        sources: &["display_name"],
    },
    Table {
        name: "user_attributes",
        keys: &["user_id", "attribute_id"],
        sources: &["value"],
    },
    Table {
        name: "accounts",
        keys: &["id"],
        sources: &["name"],
    },
    Table {
        name: "account_groups",
        keys: &["id"],
        sources: &["name"],
    },
];

/// Updates per transaction of the one-time fold.
const CHUNK: usize = 500;

impl Backend {
    /// Computes, once after migration 0018, the shadows of every row whose stored shadow is
    /// not the fold of its source (rows written before folding moved to write time).
    pub(super) async fn refold_once(&self) -> Result<()> {
        let pending: Option<bool> = sqlx::query_scalar("SELECT pending FROM scim_refold")
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        if pending != Some(true) {
            return Ok(());
        }
        for t in TABLES {
            refold_table(self, t).await?;
        }
        sqlx::query("DELETE FROM scim_refold")
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }
}

/// The shadows to write of one row read by `refold_table`: `None` when they are all right.
fn stale_shadows(t: &Table, row: &<DB as sqlx::Database>::Row) -> Result<Option<Updates>> {
    let n = t.sources.len();
    let text = |i: usize| row.try_get::<Option<String>, _>(i).map_err(db_error);
    let mut sources = Vec::with_capacity(n);
    let mut shadows = Vec::with_capacity(n);
    let mut stale = false;
    for i in 0..n {
        let source = text(t.keys.len() + i)?;
        let shadow = folded(&source);
        stale |= shadow != text(t.keys.len() + n + i)?;
        sources.push(source);
        shadows.push(shadow);
    }
    if !stale {
        return Ok(None);
    }
    let keys = (0..t.keys.len())
        .map(|i| row.try_get::<String, _>(i).map_err(db_error))
        .collect::<Result<_>>()?;
    Ok(Some(Updates {
        keys,
        sources,
        shadows,
    }))
}

/// One row's new shadows, with the key and the source values they were computed from.
struct Updates {
    keys: Vec<String>,
    sources: Vec<Option<String>>,
    shadows: Vec<Option<String>>,
}

async fn refold_table(b: &Backend, t: &Table) -> Result<()> {
    // Keys read as text (positions are integers), compared as text in the update.
    let keys: Vec<String> = t
        .keys
        .iter()
        .map(|k| format!("CAST({k} AS TEXT)"))
        .collect();
    let shadows: Vec<String> = t.sources.iter().map(|s| format!("{s}_f")).collect();
    let select = format!(
        "SELECT {}, {}, {} FROM {}",
        keys.join(", "),
        t.sources.join(", "),
        shadows.join(", "),
        t.name,
    );
    let same = match DIALECT {
        Dialect::Sqlite => "IS",
        Dialect::Postgres => "IS NOT DISTINCT FROM",
    };
    let mut n = 0;
    let mut set = Vec::new();
    for s in t.sources {
        n += 1;
        set.push(format!("{s}_f = ${n}"));
    }
    // The key columns as they are, so the primary key serves each update (a CAST on the column
    // would make every update scan the table); the text parameter is cast to the column's type.
    let mut cond = Vec::new();
    for k in t.keys {
        n += 1;
        cond.push(if *k == "position" {
            format!("{k} = CAST(${n} AS INTEGER)")
        } else {
            format!("{k} = ${n}")
        });
    }
    for s in t.sources {
        n += 1;
        cond.push(format!("{s} {same} ${n}"));
    }
    let update = format!(
        "UPDATE {} SET {} WHERE {}",
        t.name,
        set.join(", "),
        cond.join(" AND ")
    );
    let rows = sqlx::query::<DB>(sqlx::AssertSqlSafe(select))
        .fetch_all(&b.pool)
        .await
        .map_err(db_error)?;
    let mut stale = Vec::new();
    for row in &rows {
        stale.extend(stale_shadows(t, row)?);
    }
    for chunk in stale.chunks(CHUNK) {
        let mut tx = b.write_tx().await?;
        for u in chunk {
            let mut q = sqlx::query::<DB>(sqlx::AssertSqlSafe(update.clone()));
            for s in &u.shadows {
                q = q.bind(s);
            }
            for k in &u.keys {
                q = q.bind(k);
            }
            for s in &u.sources {
                q = q.bind(s);
            }
            q.execute(&mut *tx).await.map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
    }
    Ok(())
}
