//! Accounts, account groups and memberships.

use super::{Backend, Tx, db_error};
use crate::domain::clock::format_date;
use crate::domain::*;
use time::Date;

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
