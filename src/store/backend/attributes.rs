//! Custom attribute definitions: the typed fields a tenant adds to its users.

use super::{Backend, DB, DIALECT, Tx, commit, db_error, placeholders};
use crate::domain::attributes::StoredValue;
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_ms;
use crate::domain::*;

const DEF_COLUMNS: &str = "id, key, label, description, kind, options, required";

#[derive(sqlx::FromRow)]
pub(super) struct DefRow {
    id: String,
    key: String,
    label: String,
    description: Option<String>,
    kind: String,
    options: String,
    required: bool,
}

impl From<DefRow> for AttributeDef {
    fn from(r: DefRow) -> Self {
        AttributeDef {
            id: AttributeId(r.id),
            key: r.key,
            label: r.label,
            description: r.description,
            kind: AttributeKind::parse(&r.kind).unwrap_or(AttributeKind::Text),
            options: serde_json::from_str(&r.options).unwrap_or_default(),
            required: r.required,
        }
    }
}

/// The audit view of a definition, with how many users received the default value.
fn audited(def: &AttributeDef, filled: u64) -> serde_json::Value {
    let mut v = serde_json::to_value(def).unwrap_or_default();
    if let (Some(obj), true) = (v.as_object_mut(), filled > 0) {
        obj.insert("default_written_for".into(), filled.into());
    }
    v
}

fn options_json(def: &AttributeDef) -> String {
    serde_json::to_string(&def.options).unwrap_or_else(|_| "[]".into())
}

impl Backend {
    /// Every attribute definition of the tenant, by key.
    pub async fn attribute_defs(&self, tenant: &TenantId) -> Result<Vec<AttributeDef>> {
        sqlx::query_as::<DB, DefRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {DEF_COLUMNS} FROM attribute_defs WHERE tenant_id = $1 ORDER BY key"
        )))
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await
        .map(|rs| rs.into_iter().map(AttributeDef::from).collect())
        .map_err(db_error)
    }

    /// The definition with this key.
    pub async fn attribute_def(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<AttributeDef>> {
        sqlx::query_as::<DB, DefRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {DEF_COLUMNS} FROM attribute_defs WHERE tenant_id = $1 AND key = $2"
        )))
        .bind(tenant.as_str())
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .map(|r| r.map(AttributeDef::from))
        .map_err(db_error)
    }

    /// Adds a definition. `default` (validated against it) is written for every user who is not
    /// anonymised; a required definition without one is refused while such users exist.
    pub async fn insert_attribute_def(
        &self,
        tenant: &TenantId,
        def: &AttributeDef,
        default: Option<&StoredValue>,
        actor: &Actor,
    ) -> Result<AttributeDef> {
        let mut tx = self.write_tx().await?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO attribute_defs (id, tenant_id, key, label, description, kind, options, required, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(def.id.as_str())
        .bind(tenant.as_str())
        .bind(&def.key)
        .bind(&def.label)
        .bind(&def.description)
        .bind(def.kind.as_str())
        .bind(options_json(def))
        .bind(def.required)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let filled = fill_missing(&mut tx, tenant, def, default).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("attribute.create", "attribute", &def.id).after(audited(def, filled)),
        )
        .await?;
        Ok(def.clone())
    }

    /// Replaces the label, description, options and required flag of the definition with
    /// `def.key` (`def.id` is ignored). The kind cannot change, enum options still in use cannot go, and a definition
    /// becoming required needs `default` while users lack a value.
    pub async fn update_attribute_def(
        &self,
        tenant: &TenantId,
        def: &AttributeDef,
        default: Option<&StoredValue>,
        actor: &Actor,
    ) -> Result<AttributeDef> {
        let mut tx = self.write_tx().await?;
        let before = def_for_update(&mut tx, tenant, &def.key).await?;
        if before.kind != def.kind {
            return Err(DomainError::invalid(
                "kind",
                "the kind of an attribute cannot change; define a new attribute instead",
            ));
        }
        let def = &AttributeDef {
            id: before.id.clone(),
            ..def.clone()
        };
        check_removed_options(&mut tx, &before, def).await?;
        let filled = fill_missing(&mut tx, tenant, def, default).await?;
        sqlx::query(
            "UPDATE attribute_defs SET label = $3, description = $4, options = $5, required = $6, updated_at = $7
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(def.id.as_str())
        .bind(&def.label)
        .bind(&def.description)
        .bind(options_json(def))
        .bind(def.required)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("attribute.update", "attribute", &def.id)
                .before(&before)
                .after(audited(def, filled)),
        )
        .await?;
        Ok(def.clone())
    }

    /// Removes a definition and, with it, every user's value.
    pub async fn delete_attribute_def(
        &self,
        tenant: &TenantId,
        key: &str,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let before = def_for_update(&mut tx, tenant, key).await?;
        sqlx::query("DELETE FROM attribute_defs WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(before.id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("attribute.delete", "attribute", &before.id).before(&before),
        )
        .await?;
        Ok(())
    }
}

async fn def_for_update(tx: &mut Tx, tenant: &TenantId, key: &str) -> Result<AttributeDef> {
    sqlx::query_as::<DB, DefRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {DEF_COLUMNS} FROM attribute_defs WHERE tenant_id = $1 AND key = $2{}",
        DIALECT.for_update()
    )))
    .bind(tenant.as_str())
    .bind(key)
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_error)?
    .map(AttributeDef::from)
    .ok_or(DomainError::NotFound("attribute"))
}

/// Refuses to drop enum options that some user's value still uses.
async fn check_removed_options(
    tx: &mut Tx,
    before: &AttributeDef,
    after: &AttributeDef,
) -> Result<()> {
    let removed: Vec<&String> = before
        .options
        .iter()
        .filter(|o| !after.options.contains(o))
        .collect();
    if removed.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT DISTINCT value FROM user_attributes WHERE attribute_id = $1 AND value IN ({}) ORDER BY value",
        placeholders(2, removed.len())
    );
    let mut q = sqlx::query_scalar::<DB, String>(sqlx::AssertSqlSafe(sql)).bind(before.id.as_str());
    for o in &removed {
        q = q.bind(o.as_str());
    }
    let used = q.fetch_all(&mut **tx).await.map_err(db_error)?;
    if used.is_empty() {
        Ok(())
    } else {
        Err(DomainError::conflict(format!(
            "the options {} are still used by some users; change their values first",
            used.join(", ")
        )))
    }
}

/// Writes `default` for every user (not anonymised) without a value; without a default, refuses
/// a required definition while such users exist. The number of users written.
async fn fill_missing(
    tx: &mut Tx,
    tenant: &TenantId,
    def: &AttributeDef,
    default: Option<&StoredValue>,
) -> Result<u64> {
    const MISSING: &str = "FROM users u WHERE u.tenant_id = $1 AND u.status <> 'anonymised'
         AND NOT EXISTS (SELECT 1 FROM user_attributes ua WHERE ua.user_id = u.id AND ua.attribute_id = $2)";
    let Some(value) = default else {
        if !def.required {
            return Ok(0);
        }
        let missing: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {MISSING}")))
                .bind(tenant.as_str())
                .bind(def.id.as_str())
                .fetch_one(&mut **tx)
                .await
                .map_err(db_error)?;
        if missing > 0 {
            return Err(DomainError::conflict(format!(
                "{missing} user(s) have no value for `{}`; give a `default` to make it required",
                def.key
            )));
        }
        return Ok(0);
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO user_attributes (user_id, attribute_id, value, num, value_f) SELECT u.id, $2, $3, $4, $5 {MISSING}"
    )))
    .bind(tenant.as_str())
    .bind(def.id.as_str())
    .bind(&value.value)
    .bind(value.num)
    .bind(crate::domain::scim::fold(&value.value))
    .execute(&mut **tx)
    .await
    .map(|r| r.rows_affected())
    .map_err(db_error)
}
