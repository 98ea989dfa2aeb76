//! Notification types and users' notification preferences.

use super::{Backend, DB, Tx, commit, db_error};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_ms;
use crate::domain::*;

/// The channels of a type without a stored choice (the column's default).
const DEFAULT_CHANNELS: &str = "email";

#[derive(sqlx::FromRow)]
struct TypeRow {
    id: String,
    key: String,
    description: Option<String>,
    builtin: bool,
    default_enabled: bool,
}

impl From<TypeRow> for NotificationType {
    fn from(r: TypeRow) -> Self {
        NotificationType {
            id: NotificationTypeId(r.id),
            key: r.key,
            description: r.description,
            builtin: r.builtin,
            default_enabled: r.default_enabled,
        }
    }
}

#[derive(sqlx::FromRow)]
struct PrefRow {
    key: String,
    enabled: bool,
    channels: String,
}

impl From<PrefRow> for NotificationPref {
    fn from(r: PrefRow) -> Self {
        let mandatory = is_mandatory_notification(&r.key);
        let mut channels: Vec<String> = r
            .channels
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
        if mandatory && !channels.iter().any(|c| c == "email") {
            channels.insert(0, "email".into());
        }
        NotificationPref {
            event_type: r.key,
            enabled: r.enabled || mandatory,
            channels,
            mandatory,
        }
    }
}

impl Backend {
    /// The tenant's notification types, by key.
    pub async fn notification_types(&self, tenant: &TenantId) -> Result<Vec<NotificationType>> {
        sqlx::query_as::<DB, TypeRow>(
            "SELECT id, key, description, builtin, default_enabled FROM notification_types
             WHERE tenant_id = $1 ORDER BY key",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await
        .map(|rs| rs.into_iter().map(NotificationType::from).collect())
        .map_err(db_error)
    }

    /// Adds a tenant-defined notification type.
    pub async fn insert_notification_type(
        &self,
        tenant: &TenantId,
        t: &NotificationType,
        actor: &Actor,
    ) -> Result<NotificationType> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO notification_types (id, tenant_id, key, description, builtin, default_enabled, created_at)
             VALUES ($1, $2, $3, $4, FALSE, $5, $6)",
        )
        .bind(t.id.as_str())
        .bind(tenant.as_str())
        .bind(&t.key)
        .bind(&t.description)
        .bind(t.default_enabled)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let created = NotificationType {
            builtin: false,
            ..t.clone()
        };
        commit(
            tx,
            tenant,
            actor,
            Change::new("notification_type.create", "notification_type", &t.id).after(&created),
        )
        .await?;
        Ok(created)
    }

    /// Removes a tenant-defined notification type and every user's choice for it.
    pub async fn delete_notification_type(
        &self,
        tenant: &TenantId,
        key: &str,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let t = sqlx::query_as::<DB, TypeRow>(
            "SELECT id, key, description, builtin, default_enabled FROM notification_types
             WHERE tenant_id = $1 AND key = $2",
        )
        .bind(tenant.as_str())
        .bind(key)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?
        .map(NotificationType::from)
        .ok_or(DomainError::NotFound("notification type"))?;
        if t.builtin {
            return Err(DomainError::conflict(format!(
                "`{key}` is a built-in notification type and cannot be removed"
            )));
        }
        sqlx::query("DELETE FROM notification_types WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(t.id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("notification_type.delete", "notification_type", &t.id).before(&t),
        )
        .await?;
        Ok(())
    }

    /// The user's effective choice for every type: the stored one, or the type's default.
    pub async fn notification_prefs(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> Result<Vec<NotificationPref>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        prefs(&mut conn, tenant, user).await
    }

    /// Stores the user's choices for the given types (others keep theirs); every type must exist.
    pub async fn set_notification_prefs(
        &self,
        tenant: &TenantId,
        user: &UserId,
        choices: &[NotificationPref],
        actor: &Actor,
    ) -> Result<Vec<NotificationPref>> {
        let mut tx = self.write_tx().await?;
        Self::user_tx(&mut tx, tenant, user).await?;
        let before = prefs(&mut tx, tenant, user).await?;
        for c in choices {
            upsert_pref(&mut tx, tenant, user, c).await?;
        }
        let after = prefs(&mut tx, tenant, user).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("user.notifications.update", "user", user)
                .before(&before)
                .after(&after),
        )
        .await?;
        Ok(after)
    }
}

async fn prefs(
    conn: &mut super::Conn,
    tenant: &TenantId,
    user: &UserId,
) -> Result<Vec<NotificationPref>> {
    sqlx::query_as::<DB, PrefRow>(
        "SELECT t.key, COALESCE(p.enabled, t.default_enabled) AS enabled,
                COALESCE(p.channels, $3) AS channels
         FROM notification_types t
         LEFT JOIN notification_prefs p ON p.type_id = t.id AND p.user_id = $2
         WHERE t.tenant_id = $1 ORDER BY t.key",
    )
    .bind(tenant.as_str())
    .bind(user.as_str())
    .bind(DEFAULT_CHANNELS)
    .fetch_all(&mut *conn)
    .await
    .map(|rs| rs.into_iter().map(NotificationPref::from).collect())
    .map_err(db_error)
}

async fn upsert_pref(
    tx: &mut Tx,
    tenant: &TenantId,
    user: &UserId,
    c: &NotificationPref,
) -> Result<()> {
    let n = sqlx::query(
        "INSERT INTO notification_prefs (user_id, type_id, enabled, channels)
         SELECT $1, t.id, $4, $5 FROM notification_types t WHERE t.tenant_id = $2 AND t.key = $3
         ON CONFLICT (user_id, type_id) DO UPDATE SET enabled = excluded.enabled, channels = excluded.channels",
    )
    .bind(user.as_str())
    .bind(tenant.as_str())
    .bind(&c.event_type)
    .bind(c.enabled)
    .bind(c.channels.join(","))
    .execute(&mut **tx)
    .await
    .map_err(db_error)?
    .rows_affected();
    if n == 0 {
        return Err(DomainError::invalid(
            c.event_type.as_str(),
            format!("`{}` is not a notification type", c.event_type),
        ));
    }
    Ok(())
}

impl Backend {
    /// Raises an event of a tenant-defined type for a user (an app's), audited; whether the
    /// user's preferences let it through (then the delivery worker mails it if they chose
    /// email).
    pub async fn raise_notification(
        &self,
        tenant: &TenantId,
        user: &UserId,
        event_type: &str,
        message: &str,
        details: &serde_json::Value,
        actor: &Actor,
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let raised =
            super::mfa::notify(&mut tx, tenant, user, event_type, message, details.clone()).await?;
        let change = Change::new("user.notification.raise", "user", user)
            .after(serde_json::json!({ "type": event_type, "delivered": raised }));
        commit(tx, tenant, actor, change).await?;
        Ok(raised)
    }
}
