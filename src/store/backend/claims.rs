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
/// are wanted; and the version of what they hold (see [`held_version`]).
fn holdings_sql() -> String {
    holdings_of("$2", "$3", "$4")
}

/// The version of what the user named by the SQL expression `user` holds in the tenant `$1`
/// (see `store::held`): the sum of the `holdings_changes` rows of the user and of the tenant as
/// a whole, which every write that can change what someone holds adds to.
pub(super) fn held_version(user: &str) -> String {
    format!(
        "CAST((SELECT COALESCE(SUM(hcu.n), 0) FROM holdings_changes hcu WHERE hcu.user_id = {user})
            + (SELECT COALESCE(SUM(hct.n), 0) FROM holdings_changes hct
               WHERE hct.tenant_id = $1 AND hct.user_id IS NULL) AS BIGINT)"
    )
}

/// [`holdings_sql`] of the user that the SQL expression `user` names, with `$1` the tenant and
/// the SQL expressions `day` (the day, as text) and `permissions` (whether they are wanted).
/// The groups and the roles held (directly, or through a group) are named once each and read
/// twice: for their names and for their permissions (seven branches, each joining anew, made
/// PostgreSQL build a plan twice the size at every execution: about 10 % more of its CPU per
/// refresh). A role held twice gives two rows, a permission one per role granting it. One row
/// of kind `version` carries the [`held_version`] of what they hold in its `at` column.
fn holdings_of(user: &str, day: &str, permissions: &str) -> String {
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
         UNION ALL
         SELECT 'version', '', NULL, FALSE, {}
         ORDER BY 1, 2",
        held_version("{USER}")
    );
    sql.replace("{DAY}", day)
        .replace("{PERMISSIONS}", permissions)
        .replace("{USER}", user)
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
    /// needs none), and current memberships, main first, then oldest first. Read from the
    /// database, with its version, which the memory of holdings keeps for the token endpoints'
    /// next requests (see `store::held`).
    pub async fn holdings(
        &self,
        tenant: &TenantId,
        user: &UserId,
        permissions: bool,
    ) -> Result<Holdings> {
        let day = format_date(today());
        let rows = self
            .hot_rows(
                sqlx::query::<DB>(sqlx::AssertSqlSafe(once!(holdings_sql())))
                    .bind(tenant.as_str())
                    .bind(user.as_str())
                    .bind(day.as_str())
                    .bind(permissions),
            )
            .await?;
        let (held, version) = holdings_and_version(&rows)?;
        self.held.put(
            tenant.as_str(),
            user.as_str(),
            permissions,
            &day,
            version,
            &held,
        );
        Ok(held)
    }

    /// What `user` holds today (`permissions`: with them or not), if it is remembered at the
    /// version a token's statement just read in `row` (its `hv` column, see [`held_version`]);
    /// else `None`, and the caller reads it with [`Self::holdings`]. `None` without a user.
    pub(super) fn remembered_of(
        &self,
        tenant: &TenantId,
        user: Option<&User>,
        permissions: bool,
        row: &<DB as sqlx::Database>::Row,
    ) -> Result<Option<Holdings>> {
        let Some(user) = user else {
            return Ok(None);
        };
        let version: i64 = sqlx::Row::try_get(row, "hv").map_err(db_error)?;
        Ok(self.held.get(
            tenant.as_str(),
            user.id.as_str(),
            permissions,
            &format_date(today()),
            version,
        ))
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

/// What the rows of a [`holdings_of`] statement say the user holds, and its version.
fn holdings_and_version(rows: &[<DB as sqlx::Database>::Row]) -> Result<(Holdings, i64)> {
    let held = rows
        .iter()
        .map(sqlx::FromRow::from_row)
        .collect::<std::result::Result<Vec<HeldRow>, _>>()
        .map_err(db_error)?;
    let Some(version) = held.iter().find(|r| r.kind == "version").map(|r| r.at) else {
        return Err(DomainError::Internal(
            "the holdings statement read no version".into(),
        ));
    };
    Ok((holdings_from(held), version))
}
