//! Accounts, account groups and memberships.

use super::{Backend, DB, DIALECT, Tx, commit, db_error, placeholders, record};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::{format_date, now_ms, parse_date, today};
use crate::domain::scim::fold;
use crate::domain::*;
use std::collections::BTreeMap;
use time::Date;

#[derive(sqlx::FromRow)]
pub(super) struct AccountRow {
    id: String,
    name: String,
    kind: String,
    builtin: bool,
    created_at: i64,
    updated_at: i64,
}

impl From<AccountRow> for Account {
    fn from(r: AccountRow) -> Self {
        Account {
            id: AccountId(r.id),
            name: r.name,
            kind: AccountKind::parse(&r.kind).unwrap_or(AccountKind::Customer),
            builtin: r.builtin,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub(super) const ACCOUNT_SELECT: &str =
    "SELECT id, name, kind, builtin, created_at, updated_at FROM accounts WHERE tenant_id = $1";

#[derive(sqlx::FromRow)]
struct GroupRow {
    id: String,
    name: String,
    description: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl GroupRow {
    fn into_group(self, account_ids: Vec<AccountId>) -> AccountGroup {
        AccountGroup {
            id: AccountGroupId(self.id),
            name: self.name,
            description: self.description,
            account_ids,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

const GROUP_SELECT: &str =
    "SELECT id, name, description, created_at, updated_at FROM account_groups WHERE tenant_id = $1";

#[derive(sqlx::FromRow)]
pub(super) struct MembershipRow {
    id: String,
    user_id: String,
    account_id: String,
    account_name: String,
    start_date: Option<String>,
    end_date: Option<String>,
    is_main: bool,
}

impl MembershipRow {
    pub(super) fn into_membership(self, day: Date) -> Membership {
        let start_date = self.start_date.as_deref().and_then(parse_date);
        let end_date = self.end_date.as_deref().and_then(parse_date);
        Membership {
            id: MembershipId(self.id),
            user_id: UserId(self.user_id),
            account_id: AccountId(self.account_id),
            account_name: self.account_name,
            start_date,
            end_date,
            main: self.is_main,
            current: Membership::is_current_on(start_date, end_date, day),
        }
    }
}

const MEMBERSHIP_SELECT: &str = "SELECT ms.id, ms.user_id, ms.account_id, a.name AS account_name, \
     ms.start_date, ms.end_date, ms.is_main FROM memberships ms JOIN accounts a ON a.id = ms.account_id \
     WHERE ms.tenant_id = $1 AND ms.user_id = $2";

#[allow(clippy::too_many_arguments)]
pub(super) async fn insert_membership(
    tx: &mut Tx,
    tenant: &TenantId,
    user: &UserId,
    account: &AccountId,
    start: Option<Date>,
    end: Option<Date>,
    main: bool,
    now: i64,
) -> Result<MembershipId> {
    let exists: Option<String> =
        sqlx::query_scalar("SELECT id FROM accounts WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(account.as_str())
            .fetch_optional(&mut **tx)
            .await
            .map_err(db_error)?;
    if exists.is_none() {
        return Err(DomainError::invalid(
            "account_id",
            format!("account `{account}` does not exist"),
        ));
    }
    let id = MembershipId::generate();
    sqlx::query(
        "INSERT INTO memberships (id, tenant_id, user_id, account_id, start_date, end_date, is_main, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(id.as_str())
    .bind(tenant.as_str())
    .bind(user.as_str())
    .bind(account.as_str())
    .bind(start.map(format_date))
    .bind(end.map(format_date))
    .bind(main)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    Ok(id)
}

impl Backend {
    /// Whether `manager` manages `account` directly or through one of its account groups.
    pub async fn manages_account(
        &self,
        tenant: &TenantId,
        manager: &UserId,
        account: &AccountId,
    ) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM management mg WHERE mg.tenant_id = $1 AND mg.manager_id = $2 AND (mg.target_account_id = $3
               OR mg.target_account_group_id IN (SELECT group_id FROM account_group_members WHERE account_id = $3))",
        )
        .bind(tenant.as_str())
        .bind(manager.as_str())
        .bind(account.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(n > 0)
    }
}

/// The account `id` of the tenant, locked for the rest of the transaction.
async fn account_tx(tx: &mut Tx, tenant: &TenantId, id: &AccountId) -> Result<Account> {
    sqlx::query_as::<DB, AccountRow>(sqlx::AssertSqlSafe(format!(
        "{ACCOUNT_SELECT} AND id = $2{}",
        DIALECT.for_update()
    )))
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_error)?
    .map(Account::from)
    .ok_or(DomainError::NotFound("account"))
}

/// Refuses a change to the built-in Guest account's name or kind, and a second guest account.
fn check_account_change(before: &Account, name: &str, kind: AccountKind) -> Result<()> {
    if before.builtin && (name != before.name || kind != before.kind) {
        return Err(DomainError::conflict(
            "the built-in Guest account cannot be renamed or change kind",
        ));
    }
    if kind == AccountKind::Guest && !before.builtin {
        return Err(DomainError::invalid(
            "kind",
            "there is only one guest account, the built-in one; use `provider` or `customer`",
        ));
    }
    Ok(())
}

impl Backend {
    /// The tenant's accounts by name, optionally only those of one kind.
    pub async fn list_accounts(
        &self,
        tenant: &TenantId,
        kind: Option<AccountKind>,
    ) -> Result<Vec<Account>> {
        let sql = format!("{ACCOUNT_SELECT} AND ($2 IS NULL OR kind = $2) ORDER BY name, id");
        sqlx::query_as::<DB, AccountRow>(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(kind.map(AccountKind::as_str))
            .fetch_all(&self.pool)
            .await
            .map(|rs| rs.into_iter().map(Account::from).collect())
            .map_err(db_error)
    }

    /// One account of the tenant.
    pub async fn get_account(&self, tenant: &TenantId, id: &AccountId) -> Result<Option<Account>> {
        sqlx::query_as::<DB, AccountRow>(sqlx::AssertSqlSafe(format!(
            "{ACCOUNT_SELECT} AND id = $2"
        )))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map(|r| r.map(Account::from))
        .map_err(db_error)
    }

    /// Creates an account (never a guest one: the tenant has its built-in Guest account).
    pub async fn insert_account(
        &self,
        tenant: &TenantId,
        name: &str,
        kind: AccountKind,
        actor: &Actor,
    ) -> Result<Account> {
        if kind == AccountKind::Guest {
            return Err(DomainError::invalid(
                "kind",
                "there is only one guest account, the built-in one; use `provider` or `customer`",
            ));
        }
        let mut tx = self.write_tx().await?;
        let id = AccountId::generate();
        sqlx::query("INSERT INTO accounts (id, tenant_id, name, kind, builtin, created_at, updated_at, name_f) VALUES ($1, $2, $3, $4, FALSE, $5, $5, $6)")
            .bind(id.as_str())
            .bind(tenant.as_str())
            .bind(name)
            .bind(kind.as_str())
            .bind(now_ms())
            .bind(fold(name))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let after = account_tx(&mut tx, tenant, &id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("account.create", "account", &id).after(&after),
        )
        .await?;
        Ok(after)
    }

    /// Renames an account or changes its kind; the Guest account keeps both.
    pub async fn update_account(
        &self,
        tenant: &TenantId,
        id: &AccountId,
        name: Option<&str>,
        kind: Option<AccountKind>,
        actor: &Actor,
    ) -> Result<Account> {
        let mut tx = self.write_tx().await?;
        let before = account_tx(&mut tx, tenant, id).await?;
        let name = name.unwrap_or(&before.name);
        let kind = kind.unwrap_or(before.kind);
        check_account_change(&before, name, kind)?;
        sqlx::query("UPDATE accounts SET name = $3, kind = $4, updated_at = $5, name_f = $6 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .bind(name)
            .bind(kind.as_str())
            .bind(now_ms())
            .bind(fold(name))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let after = account_tx(&mut tx, tenant, id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("account.update", "account", id)
                .before(&before)
                .after(&after),
        )
        .await?;
        Ok(after)
    }

    /// Deletes an account nobody is a member of; the Guest account stays.
    pub async fn delete_account(
        &self,
        tenant: &TenantId,
        id: &AccountId,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let before = account_tx(&mut tx, tenant, id).await?;
        if before.builtin {
            return Err(DomainError::conflict(
                "the built-in Guest account cannot be deleted",
            ));
        }
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE account_id = $1")
            .bind(id.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        if n > 0 {
            return Err(DomainError::conflict(format!(
                "the account still has {n} membership(s), past or present; delete or move them before deleting the account"
            )));
        }
        sqlx::query("DELETE FROM accounts WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("account.delete", "account", id).before(&before),
        )
        .await
    }
}

/// The accounts of each of the groups `ids`, by group id.
async fn group_accounts<'e, E>(exec: E, ids: &[String]) -> Result<BTreeMap<String, Vec<AccountId>>>
where
    E: sqlx::Executor<'e, Database = DB>,
{
    let mut out: BTreeMap<String, Vec<AccountId>> = BTreeMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT group_id, account_id FROM account_group_members WHERE group_id IN ({}) ORDER BY account_id",
        placeholders(1, ids.len())
    );
    let mut q = sqlx::query_as::<DB, (String, String)>(sqlx::AssertSqlSafe(sql));
    for id in ids {
        q = q.bind(id.as_str());
    }
    for (group, account) in q.fetch_all(exec).await.map_err(db_error)? {
        out.entry(group).or_default().push(AccountId(account));
    }
    Ok(out)
}

/// The account group `id` of the tenant with its accounts, locked for the transaction.
async fn group_tx(tx: &mut Tx, tenant: &TenantId, id: &AccountGroupId) -> Result<AccountGroup> {
    let row = sqlx::query_as::<DB, GroupRow>(sqlx::AssertSqlSafe(format!(
        "{GROUP_SELECT} AND id = $2{}",
        DIALECT.for_update()
    )))
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_error)?
    .ok_or(DomainError::NotFound("account group"))?;
    let mut accounts = group_accounts(&mut **tx, std::slice::from_ref(&row.id)).await?;
    let a = accounts.remove(&row.id).unwrap_or_default();
    Ok(row.into_group(a))
}

/// Refuses account ids that are not accounts of the tenant (422 on `field`).
async fn check_accounts(
    tx: &mut Tx,
    tenant: &TenantId,
    ids: &[AccountId],
    field: &str,
) -> Result<()> {
    for id in ids {
        let found: Option<String> =
            sqlx::query_scalar("SELECT id FROM accounts WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.as_str())
                .bind(id.as_str())
                .fetch_optional(&mut **tx)
                .await
                .map_err(db_error)?;
        if found.is_none() {
            return Err(DomainError::invalid(
                field,
                format!("account `{id}` does not exist"),
            ));
        }
    }
    Ok(())
}

/// Makes the group's accounts exactly `ids` (already checked to exist).
async fn write_group_accounts(
    tx: &mut Tx,
    group: &AccountGroupId,
    ids: &[AccountId],
) -> Result<()> {
    sqlx::query("DELETE FROM account_group_members WHERE group_id = $1")
        .bind(group.as_str())
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    for id in ids {
        sqlx::query("INSERT INTO account_group_members (group_id, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(group.as_str())
            .bind(id.as_str())
            .execute(&mut **tx)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

impl Backend {
    /// The tenant's account groups by name, each with its accounts.
    pub async fn list_account_groups(&self, tenant: &TenantId) -> Result<Vec<AccountGroup>> {
        let rows = sqlx::query_as::<DB, GroupRow>(sqlx::AssertSqlSafe(format!(
            "{GROUP_SELECT} ORDER BY name, id"
        )))
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut accounts = group_accounts(&self.pool, &ids).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let a = accounts.remove(&r.id).unwrap_or_default();
                r.into_group(a)
            })
            .collect())
    }

    /// One account group of the tenant with its accounts.
    pub async fn get_account_group(
        &self,
        tenant: &TenantId,
        id: &AccountGroupId,
    ) -> Result<Option<AccountGroup>> {
        let row = sqlx::query_as::<DB, GroupRow>(sqlx::AssertSqlSafe(format!(
            "{GROUP_SELECT} AND id = $2"
        )))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        let Some(row) = row else { return Ok(None) };
        let mut accounts = group_accounts(&self.pool, std::slice::from_ref(&row.id)).await?;
        let a = accounts.remove(&row.id).unwrap_or_default();
        Ok(Some(row.into_group(a)))
    }

    /// Creates an account group holding `account_ids`.
    pub async fn insert_account_group(
        &self,
        tenant: &TenantId,
        name: &str,
        description: Option<&str>,
        account_ids: &[AccountId],
        actor: &Actor,
    ) -> Result<AccountGroup> {
        let mut tx = self.write_tx().await?;
        check_accounts(&mut tx, tenant, account_ids, "account_ids").await?;
        let id = AccountGroupId::generate();
        sqlx::query("INSERT INTO account_groups (id, tenant_id, name, description, created_at, updated_at, name_f) VALUES ($1, $2, $3, $4, $5, $5, $6)")
            .bind(id.as_str())
            .bind(tenant.as_str())
            .bind(name)
            .bind(description)
            .bind(now_ms())
            .bind(fold(name))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        write_group_accounts(&mut tx, &id, account_ids).await?;
        let after = group_tx(&mut tx, tenant, &id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("account_group.create", "account_group", &id).after(&after),
        )
        .await?;
        Ok(after)
    }

    /// Changes an account group: what is `None` stays; `account_ids` replaces the accounts.
    pub async fn update_account_group(
        &self,
        tenant: &TenantId,
        id: &AccountGroupId,
        name: Option<&str>,
        description: Option<Option<&str>>,
        account_ids: Option<&[AccountId]>,
        actor: &Actor,
    ) -> Result<AccountGroup> {
        let mut tx = self.write_tx().await?;
        let before = group_tx(&mut tx, tenant, id).await?;
        let name = name.unwrap_or(&before.name);
        sqlx::query("UPDATE account_groups SET name = $3, description = $4, updated_at = $5, name_f = $6 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .bind(name)
            .bind(description.unwrap_or(before.description.as_deref()))
            .bind(now_ms())
            .bind(fold(name))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if let Some(ids) = account_ids {
            check_accounts(&mut tx, tenant, ids, "account_ids").await?;
            write_group_accounts(&mut tx, id, ids).await?;
        }
        let after = group_tx(&mut tx, tenant, id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("account_group.update", "account_group", id)
                .before(&before)
                .after(&after),
        )
        .await?;
        Ok(after)
    }

    /// Deletes an account group (its accounts stay; management through it ends).
    pub async fn delete_account_group(
        &self,
        tenant: &TenantId,
        id: &AccountGroupId,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let before = group_tx(&mut tx, tenant, id).await?;
        sqlx::query("DELETE FROM account_groups WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("account_group.delete", "account_group", id).before(&before),
        )
        .await
    }

    /// Adds (`member`) or removes one account of a group. Adding twice changes nothing;
    /// removing an account that is not in the group is 404.
    pub async fn set_group_account(
        &self,
        tenant: &TenantId,
        id: &AccountGroupId,
        account: &AccountId,
        member: bool,
        actor: &Actor,
    ) -> Result<AccountGroup> {
        let mut tx = self.write_tx().await?;
        let before = group_tx(&mut tx, tenant, id).await?;
        account_tx(&mut tx, tenant, account).await?;
        let present = before.account_ids.contains(account);
        if present == member {
            if member {
                return Ok(before);
            }
            return Err(DomainError::NotFound("account in this group"));
        }
        let sql = if member {
            "INSERT INTO account_group_members (group_id, account_id) VALUES ($1, $2)"
        } else {
            "DELETE FROM account_group_members WHERE group_id = $1 AND account_id = $2"
        };
        sqlx::query(sql)
            .bind(id.as_str())
            .bind(account.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let after = group_tx(&mut tx, tenant, id).await?;
        let action = if member {
            "account_group.account_add"
        } else {
            "account_group.account_remove"
        };
        commit(
            tx,
            tenant,
            actor,
            Change::new(action, "account_group", id)
                .before(&before)
                .after(&after),
        )
        .await?;
        Ok(after)
    }
}

async fn memberships_tx(tx: &mut Tx, tenant: &TenantId, user: &UserId) -> Result<Vec<Membership>> {
    let day = today();
    sqlx::query_as::<DB, MembershipRow>(sqlx::AssertSqlSafe(format!(
        "{MEMBERSHIP_SELECT} ORDER BY ms.is_main DESC, ms.created_at, ms.id"
    )))
    .bind(tenant.as_str())
    .bind(user.as_str())
    .fetch_all(&mut **tx)
    .await
    .map(|rs| rs.into_iter().map(|r| r.into_membership(day)).collect())
    .map_err(db_error)
}

async fn membership_tx(
    tx: &mut Tx,
    tenant: &TenantId,
    user: &UserId,
    id: &MembershipId,
) -> Result<Membership> {
    sqlx::query_as::<DB, MembershipRow>(sqlx::AssertSqlSafe(format!(
        "{MEMBERSHIP_SELECT} AND ms.id = $3"
    )))
    .bind(tenant.as_str())
    .bind(user.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_error)?
    .map(|r| r.into_membership(today()))
    .ok_or(DomainError::NotFound("membership"))
}

/// Takes the main mark off the user's current main membership (other than `keep`), recording it.
async fn clear_main(
    tx: &mut Tx,
    tenant: &TenantId,
    user: &UserId,
    keep: Option<&MembershipId>,
    actor: &Actor,
) -> Result<()> {
    let all = memberships_tx(tx, tenant, user).await?;
    let Some(prev) = all.into_iter().find(|m| m.main && Some(&m.id) != keep) else {
        return Ok(());
    };
    sqlx::query("UPDATE memberships SET is_main = FALSE, updated_at = $2 WHERE id = $1")
        .bind(prev.id.as_str())
        .bind(now_ms())
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    let after = Membership {
        main: false,
        ..prev.clone()
    };
    record(
        tx,
        tenant,
        actor,
        Change::new("membership.update", "membership", &prev.id)
            .before(&prev)
            .after(&after),
    )
    .await
}

/// The dates a membership ends up with, refusing an end before the start (naming `field`).
fn check_dates(start: Option<Date>, end: Option<Date>, field: &str) -> Result<()> {
    match (start, end) {
        (Some(s), Some(e)) if e < s => Err(DomainError::invalid(
            field,
            format!(
                "`end_date` ({}) is before `start_date` ({})",
                format_date(e),
                format_date(s)
            ),
        )),
        _ => Ok(()),
    }
}

impl Backend {
    /// A user's memberships, the main one first.
    pub async fn list_memberships(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> Result<Vec<Membership>> {
        let day = today();
        sqlx::query_as::<DB, MembershipRow>(sqlx::AssertSqlSafe(format!(
            "{MEMBERSHIP_SELECT} ORDER BY ms.is_main DESC, ms.created_at, ms.id"
        )))
        .bind(tenant.as_str())
        .bind(user.as_str())
        .fetch_all(&self.pool)
        .await
        .map(|rs| rs.into_iter().map(|r| r.into_membership(day)).collect())
        .map_err(db_error)
    }

    /// One membership of a user.
    pub async fn get_membership(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &MembershipId,
    ) -> Result<Option<Membership>> {
        sqlx::query_as::<DB, MembershipRow>(sqlx::AssertSqlSafe(format!(
            "{MEMBERSHIP_SELECT} AND ms.id = $3"
        )))
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map(|r| r.map(|r| r.into_membership(today())))
        .map_err(db_error)
    }

    /// Adds a membership; as `main` (or as the user's first) it takes the main mark over.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_membership(
        &self,
        tenant: &TenantId,
        user: &UserId,
        account: &AccountId,
        start: Option<Date>,
        end: Option<Date>,
        main: bool,
        actor: &Actor,
    ) -> Result<Membership> {
        check_dates(start, end, "end_date")?;
        let mut tx = self.write_tx().await?;
        super::holders::lock_user(&mut tx, tenant, user, actor).await?;
        let main = main || memberships_tx(&mut tx, tenant, user).await?.is_empty();
        if main {
            clear_main(&mut tx, tenant, user, None, actor).await?;
        }
        let id =
            insert_membership(&mut tx, tenant, user, account, start, end, main, now_ms()).await?;
        let after = membership_tx(&mut tx, tenant, user, &id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("membership.create", "membership", &id).after(&after),
        )
        .await?;
        Ok(after)
    }

    /// Changes a membership's dates (`Some(None)` clears one) or makes it the main one.
    /// The main mark only moves: `main = false` on the main membership is a conflict.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_membership(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &MembershipId,
        start: Option<Option<Date>>,
        end: Option<Option<Date>>,
        main: Option<bool>,
        actor: &Actor,
    ) -> Result<Membership> {
        let mut tx = self.write_tx().await?;
        super::holders::lock_user(&mut tx, tenant, user, actor).await?;
        let before = membership_tx(&mut tx, tenant, user, id).await?;
        let field = if end.is_some() {
            "end_date"
        } else {
            "start_date"
        };
        let start = start.unwrap_or(before.start_date);
        let end = end.unwrap_or(before.end_date);
        check_dates(start, end, field)?;
        match main {
            Some(false) if before.main => {
                return Err(DomainError::conflict(
                    "a user always has one main membership; make another membership main instead",
                ));
            }
            Some(true) if !before.main => {
                clear_main(&mut tx, tenant, user, Some(id), actor).await?
            }
            _ => {}
        }
        sqlx::query("UPDATE memberships SET start_date = $2, end_date = $3, is_main = $4, updated_at = $5 WHERE id = $1")
            .bind(id.as_str())
            .bind(start.map(format_date))
            .bind(end.map(format_date))
            .bind(main.unwrap_or(before.main))
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let after = membership_tx(&mut tx, tenant, user, id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("membership.update", "membership", id)
                .before(&before)
                .after(&after),
        )
        .await?;
        Ok(after)
    }

    /// Deletes a membership that is neither the user's main one nor their last.
    pub async fn delete_membership(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &MembershipId,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        super::holders::lock_user(&mut tx, tenant, user, actor).await?;
        let before = membership_tx(&mut tx, tenant, user, id).await?;
        if memberships_tx(&mut tx, tenant, user).await?.len() <= 1 {
            return Err(DomainError::conflict(
                "a user's last membership cannot be deleted: every user belongs to an account",
            ));
        }
        if before.main {
            return Err(DomainError::conflict(
                "this is the user's main membership; make another membership main first",
            ));
        }
        sqlx::query("DELETE FROM memberships WHERE id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("membership.delete", "membership", id).before(&before),
        )
        .await
    }
}
