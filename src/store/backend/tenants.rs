//! Tenants: creation with everything a tenant starts with, lookup, ownership.

use super::{Backend, DB, Tx, commit, db_error, record};
use crate::domain::audit::{Actor, Change};
use crate::domain::changes::NewUser;
use crate::domain::clock::now_ms;
use crate::domain::permissions::{admin, template_permissions};
use crate::domain::*;

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: String,
    slug: String,
    name: String,
    owner_user_id: Option<String>,
    created_at: i64,
}

impl From<TenantRow> for Tenant {
    fn from(r: TenantRow) -> Self {
        Tenant {
            id: TenantId(r.id),
            slug: r.slug,
            name: r.name,
            owner_user_id: r.owner_user_id.map(UserId),
            created_at: r.created_at,
        }
    }
}

impl Backend {
    pub async fn tenant_by_slug(&self, slug: &str) -> Result<Option<Tenant>> {
        sqlx::query_as::<DB, TenantRow>(
            "SELECT id, slug, name, owner_user_id, created_at FROM tenants WHERE slug = $1",
        )
        .bind(slug)
        .fetch_optional(&self.pool)
        .await
        .map(|r| r.map(Tenant::from))
        .map_err(db_error)
    }

    pub async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        sqlx::query_as::<DB, TenantRow>(
            "SELECT id, slug, name, owner_user_id, created_at FROM tenants ORDER BY slug",
        )
        .fetch_all(&self.pool)
        .await
        .map(|rs| rs.into_iter().map(Tenant::from).collect())
        .map_err(db_error)
    }

    /// Creates a tenant with its permission catalogue, seeded roles, Guest account, notification
    /// types and its owner (invited, Owner role, Guest membership), all in one transaction.
    pub async fn create_tenant(
        &self,
        slug: &str,
        name: &str,
        owner: NewUser,
        actor: &Actor,
    ) -> Result<(Tenant, User)> {
        let mut tx = self.write_tx().await?;
        let tenant_id = TenantId::generate();
        let now = now_ms();
        sqlx::query("INSERT INTO tenants (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(tenant_id.as_str())
            .bind(slug)
            .bind(name)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| match db_error(e) {
                DomainError::Conflict(_) => {
                    DomainError::conflict(format!("a tenant `{slug}` already exists"))
                }
                other => other,
            })?;
        seed_catalogue(&mut tx, &tenant_id, now).await?;
        let owner_role = role_id_by_template(&mut tx, &tenant_id, RoleTemplate::Owner).await?;
        let owner = NewUser {
            roles: vec![owner_role],
            main_account: None,
            ..owner
        };
        let user_id = Self::insert_user_tx(&mut tx, &tenant_id, &owner, now * 1_000).await?;
        sqlx::query("UPDATE tenants SET owner_user_id = $1 WHERE id = $2")
            .bind(user_id.as_str())
            .bind(tenant_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let user = Self::user_tx(&mut tx, &tenant_id, &user_id).await?;
        record(
            &mut tx,
            &tenant_id,
            actor,
            Change::new("tenant.create", "tenant", &tenant_id)
                .after(serde_json::json!({"slug": slug, "name": name})),
        )
        .await?;
        record(
            &mut tx,
            &tenant_id,
            actor,
            Change::new("user.create", "user", &user_id).after(&user),
        )
        .await?;
        commit(
            tx,
            &tenant_id,
            actor,
            Change::new("owner.set", "user", &user_id)
                .after(serde_json::json!({"owner_user_id": user_id})),
        )
        .await?;
        let tenant = Tenant {
            id: tenant_id,
            slug: slug.into(),
            name: name.into(),
            owner_user_id: Some(user_id),
            created_at: now,
        };
        Ok((tenant, user))
    }

    /// Moves the Owner role and the primary-user mark to `new_owner`; the previous owner keeps
    /// administration through the Administrator role.
    pub async fn transfer_ownership(
        &self,
        tenant: &TenantId,
        new_owner: &UserId,
        actor: &Actor,
    ) -> Result<Tenant> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query_as::<DB, TenantRow>(sqlx::AssertSqlSafe(format!(
            "SELECT id, slug, name, owner_user_id, created_at FROM tenants WHERE id = $1{}",
            super::DIALECT.for_update()
        )))
        .bind(tenant.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        let old_owner = row.owner_user_id.clone().map(UserId);
        if old_owner.as_ref() == Some(new_owner) {
            return Err(DomainError::conflict("this user is already the owner"));
        }
        let owner_role = role_id_by_template(&mut tx, tenant, RoleTemplate::Owner).await?;
        let admin_role = role_id_by_template(&mut tx, tenant, RoleTemplate::Administrator).await?;
        if let Some(old) = &old_owner {
            let was_main: Option<bool> = sqlx::query_scalar(
                "DELETE FROM user_roles WHERE user_id = $1 AND role_id = $2 RETURNING is_main",
            )
            .bind(old.as_str())
            .bind(owner_role.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
            let has_main: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM user_roles WHERE user_id = $1 AND is_main)",
            )
            .bind(old.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
            sqlx::query(
                "INSERT INTO user_roles (id, tenant_id, user_id, role_id, account_id, is_main, created_at)
                 VALUES ($1, $2, $3, $4, NULL, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(RoleAssignmentId::generate().0)
            .bind(tenant.as_str())
            .bind(old.as_str())
            .bind(admin_role.as_str())
            .bind(was_main.unwrap_or(false) || !has_main)
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        sqlx::query("UPDATE user_roles SET is_main = FALSE WHERE user_id = $1")
            .bind(new_owner.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        sqlx::query(
            "INSERT INTO user_roles (id, tenant_id, user_id, role_id, account_id, is_main, created_at)
             VALUES ($1, $2, $3, $4, NULL, TRUE, $5)",
        )
        .bind(RoleAssignmentId::generate().0)
        .bind(tenant.as_str())
        .bind(new_owner.as_str())
        .bind(owner_role.as_str())
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query("UPDATE tenants SET owner_user_id = $1 WHERE id = $2")
            .bind(new_owner.as_str())
            .bind(tenant.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("owner.transfer", "user", new_owner)
                .before(serde_json::json!({ "owner_user_id": old_owner }))
                .after(serde_json::json!({ "owner_user_id": new_owner })),
        )
        .await?;
        Ok(Tenant {
            owner_user_id: Some(new_owner.clone()),
            ..Tenant::from(row)
        })
    }
}

pub(super) async fn role_id_by_template(
    tx: &mut Tx,
    tenant: &TenantId,
    t: RoleTemplate,
) -> Result<RoleId> {
    sqlx::query_scalar::<DB, String>("SELECT id FROM roles WHERE tenant_id = $1 AND template = $2")
        .bind(tenant.as_str())
        .bind(t.as_str())
        .fetch_one(&mut **tx)
        .await
        .map(RoleId)
        .map_err(db_error)
}

async fn seed_catalogue(tx: &mut Tx, tenant: &TenantId, now: i64) -> Result<()> {
    for (name, description) in admin::ALL {
        sqlx::query("INSERT INTO permissions (id, tenant_id, name, description, builtin, created_at) VALUES ($1, $2, $3, $4, TRUE, $5)")
            .bind(PermissionId::generate().0)
            .bind(tenant.as_str())
            .bind(name)
            .bind(description)
            .bind(now)
            .execute(&mut **tx)
            .await
            .map_err(db_error)?;
    }
    for template in RoleTemplate::ALL {
        let role_id = RoleId::generate();
        sqlx::query("INSERT INTO roles (id, tenant_id, name, description, template, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)")
            .bind(role_id.as_str())
            .bind(tenant.as_str())
            .bind(template.display_name())
            .bind(format!("Seeded {} role", template.display_name()))
            .bind(template.as_str())
            .bind(now)
            .execute(&mut **tx)
            .await
            .map_err(db_error)?;
        for perm in template_permissions(template) {
            sqlx::query(
                "INSERT INTO role_permissions (role_id, permission_id)
                 SELECT $1, id FROM permissions WHERE tenant_id = $2 AND name = $3",
            )
            .bind(role_id.as_str())
            .bind(tenant.as_str())
            .bind(perm)
            .execute(&mut **tx)
            .await
            .map_err(db_error)?;
        }
    }
    sqlx::query("INSERT INTO accounts (id, tenant_id, name, kind, builtin, created_at, updated_at, name_f) VALUES ($1, $2, 'Guest', 'guest', TRUE, $3, $3, 'guest')")
        .bind(AccountId::generate().0)
        .bind(tenant.as_str())
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    for (key, description) in BUILTIN_NOTIFICATION_TYPES {
        sqlx::query("INSERT INTO notification_types (id, tenant_id, key, description, builtin, default_enabled, created_at) VALUES ($1, $2, $3, $4, TRUE, TRUE, $5)")
            .bind(NotificationTypeId::generate().0)
            .bind(tenant.as_str())
            .bind(key)
            .bind(description)
            .bind(now)
            .execute(&mut **tx)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}
