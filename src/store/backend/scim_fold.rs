//! Folded shadows of case-insensitive SCIM text (issue 13, item 1). SQLite's `lower()` and `LIKE`
//! know only ASCII and PostgreSQL's depend on the cluster's locale, so each case-insensitive
//! column has a `<column>_f` holding `domain::scim::fold` of it, which filters and sorts compare
//! bytewise. A row whose shadows are not computed yet has `folded = FALSE` (new rows, rows a
//! trigger saw change, rows that existed before migration 0015); `refold` computes them for a
//! tenant before a SCIM list reads them. Every update is guarded by the source values it folded,
//! so a write racing with it leaves the row unfolded rather than folded from stale text.

use super::{Backend, DB, DIALECT, db_error};
use crate::domain::scim::fold;
use crate::domain::{Result, TenantId};
use crate::store::Dialect;
use sqlx::Row;

/// A table with folded shadows: its key columns, source columns, and how its rows are scoped
/// to a tenant.
struct Table {
    name: &'static str,
    keys: &'static [&'static str],
    sources: &'static [&'static str],
    /// A condition on the tenant (`$1`).
    scope: &'static str,
}

const TABLES: &[Table] = &[
    Table {
        name: "users",
        keys: &["id"],
        sources: &[
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
        ],
        scope: "tenant_id = $1",
    },
    Table {
        name: "user_emails",
        keys: &["user_id", "position"],
        sources: &["type"],
        scope: "tenant_id = $1",
    },
    Table {
        name: "user_values",
        keys: &["user_id", "attribute", "position"],
        sources: &["display", "type"],
        scope: "tenant_id = $1",
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
        scope: "tenant_id = $1",
    },
    Table {
        name: "groups",
        keys: &["id"],
        sources: &["display_name"],
        scope: "tenant_id = $1",
    },
    Table {
        name: "user_attributes",
        keys: &["user_id", "attribute_id"],
        sources: &["value"],
        scope: "user_id IN (SELECT id FROM users WHERE tenant_id = $1)",
    },
];

/// Rows read per round.
const CHUNK: i64 = 500;

impl Backend {
    /// Computes the folded shadows of every row of the tenant that lacks them.
    pub async fn scim_refold(&self, tenant: &TenantId) -> Result<()> {
        // Usually nothing is left to fold: one round trip says so.
        let any = TABLES
            .iter()
            .map(|t| {
                format!(
                    "EXISTS (SELECT 1 FROM {} WHERE {} AND NOT folded)",
                    t.name, t.scope
                )
            })
            .collect::<Vec<_>>()
            .join(" OR ");
        let pending: bool =
            sqlx::query_scalar::<DB, bool>(sqlx::AssertSqlSafe(format!("SELECT {any}")))
                .bind(tenant.as_str())
                .fetch_one(&self.pool)
                .await
                .map_err(db_error)?;
        if !pending {
            return Ok(());
        }
        for t in TABLES {
            refold_table(self, t, tenant).await?;
        }
        Ok(())
    }

    /// Computes the folded shadows of every tenant's rows (at start, after the migration).
    pub async fn scim_refold_all(&self) -> Result<()> {
        let tenants: Vec<String> = sqlx::query_scalar::<DB, String>("SELECT id FROM tenants")
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        for t in tenants {
            self.scim_refold(&TenantId(t)).await?;
        }
        Ok(())
    }
}

async fn refold_table(b: &Backend, t: &Table, tenant: &TenantId) -> Result<()> {
    // Keys read as text (positions are integers), compared as text in the update.
    let keys: Vec<String> = t
        .keys
        .iter()
        .map(|k| format!("CAST({k} AS TEXT)"))
        .collect();
    let select = format!(
        "SELECT {}, {} FROM {} WHERE {} AND NOT folded LIMIT {CHUNK}",
        keys.join(", "),
        t.sources.join(", "),
        t.name,
        t.scope
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
        "UPDATE {} SET {}, folded = TRUE WHERE {} AND NOT folded",
        t.name,
        set.join(", "),
        cond.join(" AND ")
    );
    loop {
        let rows = sqlx::query::<DB>(sqlx::AssertSqlSafe(select.clone()))
            .bind(tenant.as_str())
            .fetch_all(&b.pool)
            .await
            .map_err(db_error)?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = b.write_tx().await?;
        let mut done = 0;
        for row in &rows {
            let mut q = sqlx::query::<DB>(sqlx::AssertSqlSafe(update.clone()));
            let sources: Vec<Option<String>> = (0..t.sources.len())
                .map(|i| row.try_get::<Option<String>, _>(t.keys.len() + i))
                .collect::<std::result::Result<_, _>>()
                .map_err(db_error)?;
            for s in &sources {
                q = q.bind(s.as_deref().map(fold));
            }
            for i in 0..t.keys.len() {
                q = q.bind(row.try_get::<String, _>(i).map_err(db_error)?);
            }
            for s in sources {
                q = q.bind(s);
            }
            done += q.execute(&mut *tx).await.map_err(db_error)?.rows_affected();
        }
        tx.commit().await.map_err(db_error)?;
        // A row a concurrent write changed stays unfolded; the next list folds it.
        if done == 0 || (rows.len() as i64) < CHUNK {
            return Ok(());
        }
    }
}
