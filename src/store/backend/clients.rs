//! Clients (apps), their secrets (SHA-256 hashes only) and their service roles.

use super::{Backend, DB, Tx, commit, db_error};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_ms;
use crate::domain::oidc::*;
use crate::domain::*;

#[derive(sqlx::FromRow)]
struct ClientRow {
    id: String,
    client_id: String,
    name: String,
    secret_hash: Option<String>,
    kind: String,
    token_endpoint_auth_method: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    grant_types: String,
    scopes: String,
    permission_namespaces: String,
    first_party: bool,
    id_token_signed_response_alg: String,
    access_token_ttl: i64,
    refresh_token_ttl: i64,
    token_claims_budget: i64,
    jwks: Option<String>,
    backchannel_logout_uri: Option<String>,
    backchannel_logout_session_required: bool,
    created_at: i64,
    updated_at: i64,
}

fn list<T: serde::de::DeserializeOwned>(id: &str, field: &str, text: &str) -> Result<Vec<T>> {
    serde_json::from_str(text)
        .map_err(|e| DomainError::Internal(format!("client {id}: bad {field}: {e}")))
}

impl ClientRow {
    fn into_client(self, role_ids: Vec<String>) -> Result<Client> {
        let bad = |f: &str| DomainError::Internal(format!("client {}: bad {f}", self.id));
        Ok(Client {
            kind: ClientKind::parse(&self.kind).ok_or_else(|| bad("kind"))?,
            token_endpoint_auth_method: AuthMethod::parse(&self.token_endpoint_auth_method)
                .ok_or_else(|| bad("token_endpoint_auth_method"))?,
            id_token_signed_response_alg: KeyAlg::parse(&self.id_token_signed_response_alg)
                .ok_or_else(|| bad("id_token_signed_response_alg"))?,
            redirect_uris: list(&self.id, "redirect_uris", &self.redirect_uris)?,
            post_logout_redirect_uris: list(
                &self.id,
                "post_logout_redirect_uris",
                &self.post_logout_redirect_uris,
            )?,
            grant_types: list(&self.id, "grant_types", &self.grant_types)?,
            scopes: list(&self.id, "scopes", &self.scopes)?,
            permission_namespaces: list(
                &self.id,
                "permission_namespaces",
                &self.permission_namespaces,
            )?,
            jwks: match &self.jwks {
                Some(j) => Some(serde_json::from_str(j).map_err(|_| bad("jwks"))?),
                None => None,
            },
            id: ClientId(self.id),
            client_id: self.client_id,
            name: self.name,
            first_party: self.first_party,
            access_token_ttl: self.access_token_ttl,
            refresh_token_ttl: self.refresh_token_ttl,
            token_claims_budget: self.token_claims_budget,
            backchannel_logout_uri: self.backchannel_logout_uri,
            backchannel_logout_session_required: self.backchannel_logout_session_required,
            secret_hash: self.secret_hash,
            role_ids,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const COLUMNS: &str = "id, client_id, name, secret_hash, kind, token_endpoint_auth_method, redirect_uris, \
    post_logout_redirect_uris, grant_types, scopes, permission_namespaces, first_party, \
    id_token_signed_response_alg, access_token_ttl, jwks, backchannel_logout_uri, \
    backchannel_logout_session_required, created_at, updated_at, refresh_token_ttl, token_claims_budget";

fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

impl Backend {
    async fn role_ids_of(&self, conn: &mut super::Conn, id: &str) -> Result<Vec<String>> {
        let _ = self;
        sqlx::query_scalar("SELECT role_id FROM client_roles WHERE client_id = $1 ORDER BY role_id")
            .bind(id)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)
    }

    async fn client_where(
        &self,
        conn: &mut super::Conn,
        tenant: &TenantId,
        column: &str,
        value: &str,
    ) -> Result<Option<Client>> {
        let row = sqlx::query_as::<DB, ClientRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM clients WHERE tenant_id = $1 AND {column} = $2"
        )))
        .bind(tenant.as_str())
        .bind(value)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?;
        match row {
            Some(row) => {
                let roles = self.role_ids_of(conn, &row.id).await?;
                row.into_client(roles).map(Some)
            }
            None => Ok(None),
        }
    }

    /// One client of the tenant, by its id.
    pub async fn get_client(&self, tenant: &TenantId, id: &ClientId) -> Result<Option<Client>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        self.client_where(&mut conn, tenant, "id", id.as_str())
            .await
    }

    /// One client of the tenant, by the `client_id` it presents.
    pub async fn client_by_client_id(
        &self,
        tenant: &TenantId,
        client_id: &str,
    ) -> Result<Option<Client>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        self.client_where(&mut conn, tenant, "client_id", client_id)
            .await
    }

    /// Every client of the tenant, by name.
    pub async fn list_clients(&self, tenant: &TenantId) -> Result<Vec<Client>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        let rows = sqlx::query_as::<DB, ClientRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM clients WHERE tenant_id = $1 ORDER BY name, id"
        )))
        .bind(tenant.as_str())
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let roles = self.role_ids_of(&mut conn, &row.id).await?;
            out.push(row.into_client(roles)?);
        }
        Ok(out)
    }

    /// Registers a client.
    pub async fn insert_client(
        &self,
        tenant: &TenantId,
        client_id: &str,
        settings: &ClientSettings,
        secret_hash: Option<&str>,
        actor: &Actor,
    ) -> Result<Client> {
        let mut tx = self.write_tx().await?;
        let id = ClientId::generate();
        let now = now_ms();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO clients (tenant_id, {COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19, $20, $21)"
        )))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(client_id)
        .bind(&settings.name)
        .bind(secret_hash)
        .bind(settings.kind.as_str())
        .bind(settings.token_endpoint_auth_method.as_str())
        .bind(json(&settings.redirect_uris))
        .bind(json(&settings.post_logout_redirect_uris))
        .bind(json(&settings.grant_types))
        .bind(json(&settings.scopes))
        .bind(json(&settings.permission_namespaces))
        .bind(settings.first_party)
        .bind(settings.id_token_signed_response_alg.as_str())
        .bind(settings.access_token_ttl)
        .bind(settings.jwks.as_ref().map(|j| j.to_string()))
        .bind(&settings.backchannel_logout_uri)
        .bind(settings.backchannel_logout_session_required)
        .bind(now)
        .bind(settings.refresh_token_ttl)
        .bind(settings.token_claims_budget)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let client = self.client_tx(&mut tx, tenant, &id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("client.create", "client", &id).after(&client),
        )
        .await?;
        Ok(client)
    }

    async fn client_tx(&self, tx: &mut Tx, tenant: &TenantId, id: &ClientId) -> Result<Client> {
        self.client_where(tx, tenant, "id", id.as_str())
            .await?
            .ok_or(DomainError::NotFound("client"))
    }

    /// Replaces a client's settings.
    pub async fn update_client(
        &self,
        tenant: &TenantId,
        id: &ClientId,
        settings: &ClientSettings,
        actor: &Actor,
    ) -> Result<Client> {
        let mut tx = self.write_tx().await?;
        let before = self.client_tx(&mut tx, tenant, id).await?;
        sqlx::query(
            "UPDATE clients SET name = $1, kind = $2, token_endpoint_auth_method = $3, redirect_uris = $4,
                 post_logout_redirect_uris = $5, grant_types = $6, scopes = $7, permission_namespaces = $8,
                 first_party = $9, id_token_signed_response_alg = $10, access_token_ttl = $11, jwks = $12,
                 updated_at = $13, backchannel_logout_uri = $16, backchannel_logout_session_required = $17
             WHERE tenant_id = $14 AND id = $15",
        )
        .bind(&settings.name)
        .bind(settings.kind.as_str())
        .bind(settings.token_endpoint_auth_method.as_str())
        .bind(json(&settings.redirect_uris))
        .bind(json(&settings.post_logout_redirect_uris))
        .bind(json(&settings.grant_types))
        .bind(json(&settings.scopes))
        .bind(json(&settings.permission_namespaces))
        .bind(settings.first_party)
        .bind(settings.id_token_signed_response_alg.as_str())
        .bind(settings.access_token_ttl)
        .bind(settings.jwks.as_ref().map(|j| j.to_string()))
        .bind(now_ms())
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(&settings.backchannel_logout_uri)
        .bind(settings.backchannel_logout_session_required)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query(
            "UPDATE clients SET refresh_token_ttl = $1, token_claims_budget = $2 WHERE tenant_id = $3 AND id = $4",
        )
        .bind(settings.refresh_token_ttl)
        .bind(settings.token_claims_budget)
        .bind(tenant.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        // A public client keeps no secret.
        if settings.kind == ClientKind::Public {
            sqlx::query("UPDATE clients SET secret_hash = NULL WHERE id = $1")
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        let after = self.client_tx(&mut tx, tenant, id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("client.update", "client", id)
                .before(&before)
                .after(&after),
        )
        .await?;
        Ok(after)
    }

    /// Removes a client; its secret stops working at once.
    pub async fn delete_client(
        &self,
        tenant: &TenantId,
        id: &ClientId,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let before = self.client_tx(&mut tx, tenant, id).await?;
        sqlx::query("DELETE FROM clients WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("client.delete", "client", id).before(&before),
        )
        .await?;
        Ok(())
    }

    /// Replaces a client's secret hash (the old secret stops working at once).
    pub async fn set_client_secret(
        &self,
        tenant: &TenantId,
        id: &ClientId,
        secret_hash: &str,
        actor: &Actor,
    ) -> Result<Client> {
        let mut tx = self.write_tx().await?;
        self.client_tx(&mut tx, tenant, id).await?;
        sqlx::query(
            "UPDATE clients SET secret_hash = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4",
        )
        .bind(secret_hash)
        .bind(now_ms())
        .bind(tenant.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let client = self.client_tx(&mut tx, tenant, id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("client.secret.rotate", "client", id),
        )
        .await?;
        Ok(client)
    }

    /// Gives a client a service role (idempotent).
    pub async fn grant_client_role(
        &self,
        tenant: &TenantId,
        id: &ClientId,
        role: &RoleId,
        actor: &Actor,
    ) -> Result<Client> {
        let mut tx = self.write_tx().await?;
        let before = self.client_tx(&mut tx, tenant, id).await?;
        let exists: Option<String> =
            sqlx::query_scalar("SELECT id FROM roles WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.as_str())
                .bind(role.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
        if exists.is_none() {
            return Err(DomainError::NotFound("role"));
        }
        if before.role_ids.iter().any(|r| r == role.as_str()) {
            return Ok(before);
        }
        sqlx::query(
            "INSERT INTO client_roles (client_id, role_id, created_at) VALUES ($1, $2, $3)",
        )
        .bind(id.as_str())
        .bind(role.as_str())
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let after = self.client_tx(&mut tx, tenant, id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("client.role.grant", "client", id)
                .before(&before.role_ids)
                .after(&after.role_ids),
        )
        .await?;
        Ok(after)
    }

    /// Takes a service role from a client.
    pub async fn revoke_client_role(
        &self,
        tenant: &TenantId,
        id: &ClientId,
        role: &RoleId,
        actor: &Actor,
    ) -> Result<Client> {
        let mut tx = self.write_tx().await?;
        let before = self.client_tx(&mut tx, tenant, id).await?;
        if !before.role_ids.iter().any(|r| r == role.as_str()) {
            return Err(DomainError::NotFound("role of the client"));
        }
        sqlx::query("DELETE FROM client_roles WHERE client_id = $1 AND role_id = $2")
            .bind(id.as_str())
            .bind(role.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let after = self.client_tx(&mut tx, tenant, id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("client.role.revoke", "client", id)
                .before(&before.role_ids)
                .after(&after.role_ids),
        )
        .await?;
        Ok(after)
    }

    /// The names of a client's service roles and of the permissions they carry.
    pub async fn client_grants(&self, tenant: &TenantId, id: &ClientId) -> Result<ServiceGrants> {
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT r.name, p.name FROM client_roles cr
             JOIN roles r ON r.id = cr.role_id AND r.tenant_id = $1
             LEFT JOIN role_permissions rp ON rp.role_id = r.id
             LEFT JOIN permissions p ON p.id = rp.permission_id
             WHERE cr.client_id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let mut grants = ServiceGrants::default();
        for (role, permission) in rows {
            grants.roles.push(role);
            grants.permissions.extend(permission);
        }
        for list in [&mut grants.roles, &mut grants.permissions] {
            list.sort();
            list.dedup();
        }
        Ok(grants)
    }

    /// The longest access token lifetime among the tenant's clients, in seconds (0 if none).
    pub async fn max_access_token_ttl(&self, tenant: &TenantId) -> Result<i64> {
        let max: Option<i64> =
            sqlx::query_scalar("SELECT MAX(access_token_ttl) FROM clients WHERE tenant_id = $1")
                .bind(tenant.as_str())
                .fetch_one(&self.pool)
                .await
                .map_err(db_error)?;
        Ok(max.unwrap_or(0))
    }
}
