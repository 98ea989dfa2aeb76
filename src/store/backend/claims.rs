//! What a user holds, as every token, userinfo answer and introspection carries it: one query
//! (roles, groups, permissions with their overrides, current memberships), where the separate
//! reads of the console took five round trips.

use super::{Backend, DB, db_error};
use crate::domain::clock::{format_date, today};
use crate::domain::permissions::{HeldAccount, Holdings, effective_names};
use crate::domain::*;

/// The account-scoped role `ur` counts only while the membership in its account is current on
/// the day `{DAY}` (see [`holdings_of`]).
const CURRENT_ROLE: &str = "(ur.account_id IS NULL OR EXISTS (
    SELECT 1 FROM memberships ms WHERE ms.user_id = ur.user_id AND ms.account_id = ur.account_id
      AND (ms.start_date IS NULL OR ms.start_date <= {DAY}) AND (ms.end_date IS NULL OR ms.end_date >= {DAY})))";

/// One row per thing held by the user `$2`, tagged by `kind`; `$4` says whether permissions
/// are wanted.
fn holdings_sql() -> String {
    holdings_of("$2", "$3", "$4")
}

/// [`holdings_sql`] of the user that the SQL expression `user` names, with `$1` the tenant and
/// the SQL expressions `day` (the day, as text) and `permissions` (whether they are wanted).
/// The groups and the roles held (directly, or through a group) are named once each and read
/// twice: for their names and for their permissions (seven branches, each joining anew, made
/// PostgreSQL build a plan twice the size at every execution: about 10 % more of its CPU per
/// refresh). A role held twice gives two rows, a permission one per role granting it.
pub(super) fn holdings_of(user: &str, day: &str, permissions: &str) -> String {
    let sql = format!(
        "WITH held_groups AS (
             SELECT g.id, g.display_name FROM group_members gm JOIN groups g ON g.id = gm.group_id
             WHERE g.tenant_id = $1 AND gm.user_id = {{USER}}),
         held_roles AS (
             SELECT ur.role_id FROM user_roles ur
             WHERE ur.tenant_id = $1 AND ur.user_id = {{USER}} AND {CURRENT_ROLE}
             UNION ALL
             SELECT gr.role_id FROM held_groups hgr JOIN group_roles gr ON gr.group_id = hgr.id)
         SELECT 'role' AS kind, r.name AS name, NULL AS detail, FALSE AS main, CAST(0 AS BIGINT) AS at
         FROM held_roles hr JOIN roles r ON r.id = hr.role_id
         UNION ALL
         SELECT 'group', display_name, NULL, FALSE, 0 FROM held_groups
         UNION ALL
         SELECT 'account', a.name, ms.account_id || ' ' || ms.id, ms.is_main, ms.created_at
         FROM memberships ms JOIN accounts a ON a.id = ms.account_id
         WHERE ms.tenant_id = $1 AND ms.user_id = {{USER}}
           AND (ms.start_date IS NULL OR ms.start_date <= {{DAY}}) AND (ms.end_date IS NULL OR ms.end_date >= {{DAY}})
         UNION ALL
         SELECT 'perm', p.name, NULL, FALSE, 0 FROM held_roles hr
         JOIN role_permissions rp ON rp.role_id = hr.role_id JOIN permissions p ON p.id = rp.permission_id
         WHERE {{PERMISSIONS}}
         UNION ALL
         SELECT 'override', p.name, o.effect, FALSE, 0 FROM permission_overrides o
         JOIN permissions p ON p.id = o.permission_id
         WHERE {{PERMISSIONS}} AND o.tenant_id = $1 AND o.user_id = {{USER}}
         ORDER BY 1, 2"
    );
    sql.replace("{DAY}", day)
        .replace("{PERMISSIONS}", permissions)
        .replace("{USER}", user)
}

/// [`holdings_of`] as one column (PostgreSQL): its rows as a JSON array of
/// `[kind, name, detail, main, at]` in the statement's order, as text, named `held`. The user
/// should be named by an expression that does not depend on the outer row (a parameter, or a
/// subquery of its own), so that PostgreSQL reads the holdings once per statement, not per row.
pub(super) fn holdings_column(user: &str, day: &str, permissions: &str) -> String {
    format!(
        "(SELECT COALESCE(json_agg(json_build_array(h.kind, h.name, h.detail, h.main, h.at)
                                   ORDER BY h.kind, h.name), '[]'::json)::text
          FROM ({}) h) AS held",
        holdings_of(user, day, permissions)
    )
}

/// What a [`holdings_column`] says the user holds.
pub(super) fn holdings_from_column(row: &<DB as sqlx::Database>::Row) -> Result<Holdings> {
    use sqlx::Row;
    let text: String = row.try_get("held").map_err(db_error)?;
    let rows: Vec<(String, String, Option<String>, bool, i64)> = serde_json::from_str(&text)
        .map_err(|e| DomainError::Internal(format!("holdings column: {e}")))?;
    Ok(holdings_from(rows.into_iter().map(
        |(kind, name, detail, main, at)| HeldRow {
            kind,
            name,
            detail,
            main,
            at,
        },
    )))
}

#[derive(sqlx::FromRow)]
struct HeldRow {
    kind: String,
    name: String,
    detail: Option<String>,
    main: bool,
    at: i64,
}

impl Backend {
    /// What `user` holds today: role and group names (in the database's order of names),
    /// effective permissions when `permissions` (else none: an app that may see no namespace
    /// needs none), and current memberships, main first, then oldest first.
    pub async fn holdings(
        &self,
        tenant: &TenantId,
        user: &UserId,
        permissions: bool,
    ) -> Result<Holdings> {
        let rows = self
            .hot_rows(
                sqlx::query::<DB>(sqlx::AssertSqlSafe(once!(holdings_sql())))
                    .bind(tenant.as_str())
                    .bind(user.as_str())
                    .bind(format_date(today()))
                    .bind(permissions),
            )
            .await?;
        holdings_from_rows(&rows)
    }
}

/// What the rows of [`holdings_sql`] say the user holds.
fn holdings_from(rows: impl IntoIterator<Item = HeldRow>) -> Holdings {
    let mut out = Holdings::default();
    let (mut perms, mut overrides, mut accounts) = (Vec::new(), Vec::new(), Vec::new());
    for r in rows {
        match r.kind.as_str() {
            // Sorted by name: a name held twice (directly and through a group) is adjacent.
            "role" if out.roles.last() != Some(&r.name) => out.roles.push(r.name),
            "group" => out.groups.push(r.name),
            "perm" => perms.push(r.name),
            "override" => {
                if let Some(e) = r.detail.as_deref().and_then(Effect::parse) {
                    overrides.push((r.name, e));
                }
            }
            "account" => {
                let (account, id) = r
                    .detail
                    .as_deref()
                    .and_then(|s| s.split_once(' '))
                    .unwrap_or_default();
                let key = (!r.main, r.at, id.to_owned());
                accounts.push((key, account.to_owned(), r.name, r.main));
            }
            _ => {}
        }
    }
    accounts.sort_by(|a, b| a.0.cmp(&b.0));
    out.accounts = accounts
        .into_iter()
        .map(|(_, id, name, main)| HeldAccount {
            id: AccountId(id),
            name,
            main,
        })
        .collect();
    out.permissions = effective_names(perms, overrides);
    out
}

/// Takes the rows of a [`holdings_of`] statement (the ones with a `kind` column) off the end of
/// `rows`, the result of a string whose last statement it is, and says what they hold.
pub(super) fn take_holdings(rows: &mut Vec<<DB as sqlx::Database>::Row>) -> Result<Holdings> {
    use sqlx::Row;
    let split = rows
        .iter()
        .position(|r| r.try_column("kind").is_ok())
        .unwrap_or(rows.len());
    holdings_from_rows(&rows.split_off(split))
}

/// What the rows of a [`holdings_of`] statement say the user holds.
pub(super) fn holdings_from_rows(rows: &[<DB as sqlx::Database>::Row]) -> Result<Holdings> {
    let held = rows
        .iter()
        .map(sqlx::FromRow::from_row)
        .collect::<std::result::Result<Vec<HeldRow>, _>>()
        .map_err(db_error)?;
    Ok(holdings_from(held))
}
