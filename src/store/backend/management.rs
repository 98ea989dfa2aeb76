//! Management relations: which users, accounts and account groups a user manages.

use super::{Backend, DB, Tx, commit, db_error};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_ms;
use crate::domain::*;

#[derive(sqlx::FromRow)]
struct ManagementRow {
    id: String,
    manager_id: String,
    target_user_id: Option<String>,
    target_account_id: Option<String>,
    target_account_group_id: Option<String>,
    created_at: i64,
}

impl TryFrom<ManagementRow> for Management {
    type Error = DomainError;
    fn try_from(r: ManagementRow) -> Result<Self> {
        let target = match (
            r.target_user_id,
            r.target_account_id,
            r.target_account_group_id,
        ) {
            (Some(u), None, None) => ManagementTarget::User(UserId(u)),
            (None, Some(a), None) => ManagementTarget::Account(AccountId(a)),
            (None, None, Some(g)) => ManagementTarget::AccountGroup(AccountGroupId(g)),
            _ => {
                return Err(DomainError::Internal(format!(
                    "management relation {} has no single target",
                    r.id
                )));
            }
        };
        Ok(Management {
            id: ManagementId(r.id),
            manager_id: UserId(r.manager_id),
            target,
            created_at: r.created_at,
        })
    }
}

const SELECT: &str = "SELECT id, manager_id, target_user_id, target_account_id, target_account_group_id, created_at \
     FROM management WHERE tenant_id = $1 AND manager_id = $2";

/// The table holding a target of this kind, and the target's id.
fn target_table(target: &ManagementTarget) -> (&'static str, &'static str, &str) {
    match target {
        ManagementTarget::User(id) => ("users", "user", id.as_str()),
        ManagementTarget::Account(id) => ("accounts", "account", id.as_str()),
        ManagementTarget::AccountGroup(id) => ("account_groups", "account group", id.as_str()),
    }
}

/// The (user, account, account group) target columns of a relation: exactly one is set.
fn target_columns(target: &ManagementTarget) -> (Option<&str>, Option<&str>, Option<&str>) {
    match target {
        ManagementTarget::User(id) => (Some(id.as_str()), None, None),
        ManagementTarget::Account(id) => (None, Some(id.as_str()), None),
        ManagementTarget::AccountGroup(id) => (None, None, Some(id.as_str())),
    }
}

/// Refuses (422 on `id`) a target that is not in the tenant.
async fn check_target(tx: &mut Tx, tenant: &TenantId, target: &ManagementTarget) -> Result<()> {
    let (table, what, id) = target_table(target);
    let found: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM {table} WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant.as_str())
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_error)?;
    match found {
        Some(_) => Ok(()),
        None => Err(DomainError::invalid(
            "id",
            format!("{what} `{id}` does not exist"),
        )),
    }
}

async fn management_tx(
    tx: &mut Tx,
    tenant: &TenantId,
    manager: &UserId,
    id: &ManagementId,
) -> Result<Management> {
    sqlx::query_as::<DB, ManagementRow>(sqlx::AssertSqlSafe(format!("{SELECT} AND id = $3")))
        .bind(tenant.as_str())
        .bind(manager.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_error)?
        .ok_or(DomainError::NotFound("management relation"))?
        .try_into()
}

impl Backend {
    /// What `manager` manages, oldest relation first.
    pub async fn list_management(
        &self,
        tenant: &TenantId,
        manager: &UserId,
    ) -> Result<Vec<Management>> {
        sqlx::query_as::<DB, ManagementRow>(sqlx::AssertSqlSafe(format!(
            "{SELECT} ORDER BY created_at, id"
        )))
        .bind(tenant.as_str())
        .bind(manager.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(Management::try_from)
        .collect()
    }

    /// The relations through which someone manages `user` today: directly, or through a
    /// current membership of `user` in a managed account or in an account of a managed group.
    pub async fn managers_of(&self, tenant: &TenantId, user: &UserId) -> Result<Vec<Management>> {
        let current = "(ms.start_date IS NULL OR ms.start_date <= $3) AND (ms.end_date IS NULL OR ms.end_date >= $3)";
        sqlx::query_as::<DB, ManagementRow>(sqlx::AssertSqlSafe(format!(
            "SELECT id, manager_id, target_user_id, target_account_id, target_account_group_id, created_at \
             FROM management WHERE tenant_id = $1 AND (target_user_id = $2 \
               OR target_account_id IN (SELECT ms.account_id FROM memberships ms WHERE ms.user_id = $2 AND {current}) \
               OR target_account_group_id IN (SELECT agm.group_id FROM account_group_members agm \
                 JOIN memberships ms ON ms.account_id = agm.account_id WHERE ms.user_id = $2 AND {current})) \
             ORDER BY created_at, id"
        )))
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(crate::domain::clock::format_date(crate::domain::clock::today()))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(Management::try_from)
        .collect()
    }

    /// Makes `manager` manage `target` (a user, account or account group of the tenant).
    pub async fn insert_management(
        &self,
        tenant: &TenantId,
        manager: &UserId,
        target: &ManagementTarget,
        actor: &Actor,
    ) -> Result<Management> {
        let mut tx = self.write_tx().await?;
        Self::user_tx(&mut tx, tenant, manager).await?;
        check_target(&mut tx, tenant, target).await?;
        let id = ManagementId::generate();
        let (user, account, group) = target_columns(target);
        sqlx::query(
            "INSERT INTO management (id, tenant_id, manager_id, target_user_id, target_account_id, target_account_group_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.as_str())
        .bind(tenant.as_str())
        .bind(manager.as_str())
        .bind(user)
        .bind(account)
        .bind(group)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let after = management_tx(&mut tx, tenant, manager, &id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("management.create", "management", &id).after(&after),
        )
        .await?;
        Ok(after)
    }

    /// Ends one of `manager`'s management relations.
    pub async fn delete_management(
        &self,
        tenant: &TenantId,
        manager: &UserId,
        id: &ManagementId,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let before = management_tx(&mut tx, tenant, manager, id).await?;
        sqlx::query("DELETE FROM management WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("management.delete", "management", id).before(&before),
        )
        .await
    }
}
