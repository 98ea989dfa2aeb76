//! The console's lists of groups, accounts and account groups, one page at a time: searched on
//! the folded names (`display_name_f`, `name_f`), sorted by name and cut by the database, each
//! with the number of rows the whole list has.

use super::accounts::{ACCOUNT_SELECT, AccountRow};
use super::users::like_escape;
use super::{Backend, DB, db_error};
use crate::domain::*;

/// The LIKE pattern of names containing the (folded) search; `None` lists every name.
fn containing(page: &NamedPage) -> Option<String> {
    (!page.search.is_empty()).then(|| format!("%{}%", like_escape(&page.search)))
}

#[derive(sqlx::FromRow)]
struct GroupLineRow {
    id: String,
    display_name: String,
    description: Option<String>,
    directory: bool,
    members: i64,
    roles: i64,
}

#[derive(sqlx::FromRow)]
struct AccountGroupLineRow {
    id: String,
    name: String,
    description: Option<String>,
    accounts: i64,
}

impl Backend {
    /// Runs `SELECT COUNT(*)` over `from` (binding the tenant, then `args`).
    async fn count(&self, from: &str, tenant: &TenantId, args: &[Option<String>]) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) {from}");
        let mut q = sqlx::query_scalar::<DB, i64>(sqlx::AssertSqlSafe(sql)).bind(tenant.as_str());
        for a in args {
            q = q.bind(a.clone());
        }
        q.fetch_one(&self.pool).await.map_err(db_error)
    }

    /// A page of the tenant's groups by name, with their numbers of members and roles.
    pub async fn page_groups(
        &self,
        tenant: &TenantId,
        page: &NamedPage,
    ) -> Result<Listed<GroupLine>> {
        let from = "FROM groups g WHERE g.tenant_id = $1 \
                    AND ($2 IS NULL OR g.display_name_f LIKE $2 ESCAPE '\\')";
        let like = containing(page);
        let total = self
            .count(from, tenant, std::slice::from_ref(&like))
            .await?;
        let sql = format!(
            "SELECT g.id, g.display_name, g.description, g.external_id IS NOT NULL AS directory, \
             (SELECT COUNT(*) FROM group_members gm WHERE gm.group_id = g.id) AS members, \
             (SELECT COUNT(*) FROM group_roles gr WHERE gr.group_id = g.id) AS roles \
             {from} ORDER BY g.display_name, g.id LIMIT $3 OFFSET $4"
        );
        let rows = sqlx::query_as::<DB, GroupLineRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(like)
            .bind(i64::from(page.size))
            .bind(page.offset())
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        let items = rows
            .into_iter()
            .map(|r| GroupLine {
                id: GroupId(r.id),
                display_name: r.display_name,
                description: r.description,
                directory: r.directory,
                members: r.members,
                roles: r.roles,
            })
            .collect();
        Ok(Listed { items, total })
    }

    /// A page of the tenant's accounts by name, optionally only those of one kind.
    pub async fn page_accounts(
        &self,
        tenant: &TenantId,
        kind: Option<AccountKind>,
        page: &NamedPage,
    ) -> Result<Listed<Account>> {
        let filter = "AND ($2 IS NULL OR kind = $2) AND ($3 IS NULL OR name_f LIKE $3 ESCAPE '\\')";
        let kind = kind.map(|k| k.as_str().to_owned());
        let like = containing(page);
        let from = format!("FROM accounts WHERE tenant_id = $1 {filter}");
        let total = self
            .count(&from, tenant, &[kind.clone(), like.clone()])
            .await?;
        let sql = format!("{ACCOUNT_SELECT} {filter} ORDER BY name, id LIMIT $4 OFFSET $5");
        let rows = sqlx::query_as::<DB, AccountRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(kind)
            .bind(like)
            .bind(i64::from(page.size))
            .bind(page.offset())
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        let items = rows.into_iter().map(Account::from).collect();
        Ok(Listed { items, total })
    }

    /// A page of the tenant's account groups by name, with their numbers of accounts.
    pub async fn page_account_groups(
        &self,
        tenant: &TenantId,
        page: &NamedPage,
    ) -> Result<Listed<AccountGroupLine>> {
        let from = "FROM account_groups ag WHERE ag.tenant_id = $1 \
                    AND ($2 IS NULL OR ag.name_f LIKE $2 ESCAPE '\\')";
        let like = containing(page);
        let total = self
            .count(from, tenant, std::slice::from_ref(&like))
            .await?;
        let sql = format!(
            "SELECT ag.id, ag.name, ag.description, \
             (SELECT COUNT(*) FROM account_group_members m WHERE m.group_id = ag.id) AS accounts \
             {from} ORDER BY ag.name, ag.id LIMIT $3 OFFSET $4"
        );
        let rows = sqlx::query_as::<DB, AccountGroupLineRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(like)
            .bind(i64::from(page.size))
            .bind(page.offset())
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        let items = rows
            .into_iter()
            .map(|r| AccountGroupLine {
                id: AccountGroupId(r.id),
                name: r.name,
                description: r.description,
                accounts: r.accounts,
            })
            .collect();
        Ok(Listed { items, total })
    }

    /// At most `limit` of the tenant's accounts by name whose folded name contains the page's
    /// search, only those `manager` manages (directly or through an account group) when given:
    /// one query, whatever the number of accounts.
    pub async fn pick_accounts(
        &self,
        tenant: &TenantId,
        page: &NamedPage,
        manager: Option<&UserId>,
    ) -> Result<Vec<Account>> {
        let sql = format!(
            "{ACCOUNT_SELECT} AND ($2 IS NULL OR name_f LIKE $2 ESCAPE '\\') \
             AND ($3 IS NULL OR id IN (\
               SELECT mg.target_account_id FROM management mg \
                WHERE mg.tenant_id = $1 AND mg.manager_id = $3 AND mg.target_account_id IS NOT NULL \
               UNION SELECT agm.account_id FROM management mg \
                JOIN account_group_members agm ON agm.group_id = mg.target_account_group_id \
                WHERE mg.tenant_id = $1 AND mg.manager_id = $3)) \
             ORDER BY name, id LIMIT $4"
        );
        let rows = sqlx::query_as::<DB, AccountRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(containing(page))
            .bind(manager.map(|m| m.as_str().to_owned()))
            .bind(i64::from(page.size))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(Account::from).collect())
    }
}
