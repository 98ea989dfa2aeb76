//! Admin API tokens, stored only as SHA-256 hashes.

use super::{Backend, DB, commit, db_error};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_ms;
use crate::domain::*;

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: String,
    tenant_id: String,
    name: String,
    user_id: Option<String>,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TokenRow {
    fn into_token(self) -> (TenantId, ApiToken) {
        (
            TenantId(self.tenant_id),
            ApiToken {
                id: TokenId(self.id),
                name: self.name,
                user_id: self.user_id.map(UserId),
                created_at: self.created_at,
                last_used_at: self.last_used_at,
                revoked_at: self.revoked_at,
            },
        )
    }
}

/// Read from the table as `k` (the token queries join it with the tenant).
const COLUMNS: &str =
    "k.id, k.tenant_id, k.name, k.user_id, k.created_at, k.last_used_at, k.revoked_at";

/// What the shared token queries need of a token row (admin API and SCIM tokens alike).
pub(super) trait TokenRecord:
    for<'r> sqlx::FromRow<'r, <DB as sqlx::Database>::Row> + Send + Unpin
{
    /// The table, and the columns the row reads from it (the table aliased `k`).
    const FROM: (&'static str, &'static str);
    fn id(&self) -> &str;
    fn last_used_at(&self) -> Option<i64>;
}

impl TokenRecord for TokenRow {
    const FROM: (&'static str, &'static str) = ("api_tokens", COLUMNS);
    fn id(&self) -> &str {
        &self.id
    }
    fn last_used_at(&self) -> Option<i64> {
        self.last_used_at
    }
}

/// The tenant a token belongs to, read in the same query as the token.
#[derive(sqlx::FromRow)]
struct TokenTenant {
    tenant_id: String,
    tenant_slug: String,
    tenant_name: String,
    tenant_owner: Option<String>,
    tenant_created_at: i64,
}

/// The live (not revoked) token with this hash, and its tenant, in one query (every API and
/// SCIM request starts here). Marks it used, at most once a minute (so that not every request
/// writes).
pub(super) async fn live_token_by_hash<R: TokenRecord>(
    pool: &sqlx::Pool<DB>,
    token_hash: &str,
) -> Result<Option<(Tenant, R)>> {
    use sqlx::FromRow;
    let (table, columns) = R::FROM;
    let row = sqlx::query::<DB>(sqlx::AssertSqlSafe(format!(
        "SELECT {columns}, t.slug AS tenant_slug, t.name AS tenant_name, t.owner_user_id AS tenant_owner, \
         t.created_at AS tenant_created_at FROM {table} k JOIN tenants t ON t.id = k.tenant_id \
         WHERE k.token_hash = $1 AND k.revoked_at IS NULL"
    )))
    .bind(token_hash)
    .fetch_optional(pool)
    .await
    .map_err(db_error)?;
    let Some(row) = row else { return Ok(None) };
    let (token, t) = (
        R::from_row(&row).map_err(db_error)?,
        TokenTenant::from_row(&row).map_err(db_error)?,
    );
    let now = now_ms();
    if token.last_used_at().is_none_or(|t| t < now - 60_000) {
        sqlx::query::<DB>(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET last_used_at = $1 WHERE id = $2"
        )))
        .bind(now)
        .bind(token.id())
        .execute(pool)
        .await
        .map_err(db_error)?;
    }
    let tenant = Tenant {
        id: TenantId(t.tenant_id),
        slug: t.tenant_slug,
        name: t.tenant_name,
        owner_user_id: t.tenant_owner.map(UserId),
        created_at: t.tenant_created_at,
    };
    Ok(Some((tenant, token)))
}

/// Every token of the tenant (revoked ones too), oldest first; never the hashes.
pub(super) async fn tenant_tokens<R: TokenRecord>(
    pool: &sqlx::Pool<DB>,
    tenant: &TenantId,
) -> Result<Vec<R>> {
    let (table, columns) = R::FROM;
    sqlx::query_as::<DB, R>(sqlx::AssertSqlSafe(format!(
        "SELECT {columns} FROM {table} k WHERE k.tenant_id = $1 ORDER BY k.id"
    )))
    .bind(tenant.as_str())
    .fetch_all(pool)
    .await
    .map_err(db_error)
}

impl Backend {
    /// Stores a new token by the hash of its secret; a user-bound token's user must exist.
    pub async fn insert_token(
        &self,
        tenant: &TenantId,
        name: &str,
        user: Option<&UserId>,
        token_hash: &str,
        actor: &Actor,
    ) -> Result<ApiToken> {
        let mut tx = self.write_tx().await?;
        if let Some(user) = user {
            super::holders::lock_user(&mut tx, tenant, user, actor).await?;
        }
        let id = TokenId::generate();
        let now = now_ms();
        sqlx::query("INSERT INTO api_tokens (id, tenant_id, name, token_hash, user_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(id.as_str())
            .bind(tenant.as_str())
            .bind(name)
            .bind(token_hash)
            .bind(user.map(|u| u.as_str()))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let token = ApiToken {
            id,
            name: name.into(),
            user_id: user.cloned(),
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        };
        commit(
            tx,
            tenant,
            actor,
            Change::new("token.create", "token", &token.id).after(&token),
        )
        .await?;
        Ok(token)
    }

    /// The live (not revoked) token with this hash, and its tenant. Marks it used (at most once a minute).
    pub async fn token_by_hash(&self, token_hash: &str) -> Result<Option<(Tenant, ApiToken)>> {
        Ok(live_token_by_hash::<TokenRow>(&self.pool, token_hash)
            .await?
            .map(|(tenant, r)| (tenant, r.into_token().1)))
    }

    /// Every token of the tenant (revoked ones too), oldest first; never the hashes.
    pub async fn list_tokens(&self, tenant: &TenantId) -> Result<Vec<ApiToken>> {
        Ok(tenant_tokens::<TokenRow>(&self.pool, tenant)
            .await?
            .into_iter()
            .map(|r| r.into_token().1)
            .collect())
    }

    /// Revokes a live token of the tenant; it is refused from then on.
    pub async fn revoke_token(&self, tenant: &TenantId, id: &TokenId, actor: &Actor) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let before = sqlx::query_as::<DB, TokenRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM api_tokens k WHERE k.tenant_id = $1 AND k.id = $2 AND k.revoked_at IS NULL{}",
            super::DIALECT.for_update()
        )))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?
        .ok_or(DomainError::NotFound("token"))?
        .into_token()
        .1;
        let now = now_ms();
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(now)
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let after = ApiToken {
            revoked_at: Some(now),
            ..before.clone()
        };
        commit(
            tx,
            tenant,
            actor,
            Change::new("token.revoke", "token", id)
                .before(&before)
                .after(&after),
        )
        .await?;
        Ok(())
    }
}
