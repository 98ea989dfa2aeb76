//! Custom attribute definitions.

use super::{Backend, DB, db_error};
use crate::domain::*;

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

impl Backend {
    pub async fn attribute_defs(&self, tenant: &TenantId) -> Result<Vec<AttributeDef>> {
        sqlx::query_as::<DB, DefRow>(
            "SELECT id, key, label, description, kind, options, required FROM attribute_defs WHERE tenant_id = $1 ORDER BY key",
        )
        .bind(tenant.as_str())
        .fetch_all(&self.pool)
        .await
        .map(|rs| rs.into_iter().map(AttributeDef::from).collect())
        .map_err(db_error)
    }
}
