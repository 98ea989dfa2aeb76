//! Signing keys: private keys kept in the database so every replica signs with the same ones.

use super::{Backend, DB, Tx, db_error, record};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_ms;
use crate::domain::oidc::{KeyAlg, KeyState, PrivateKey, SigningKey};
use crate::domain::sealing::{MasterKey, row_aad};
use crate::domain::*;

#[derive(sqlx::FromRow)]
struct KeyRow {
    kid: String,
    alg: String,
    private_pkcs8: String,
    public_jwk: String,
    state: String,
    created_at: i64,
    activated_at: Option<i64>,
    retired_at: Option<i64>,
    publish_until: Option<i64>,
}

impl KeyRow {
    /// The key, its private part opened with the master key.
    fn open(self, tenant: &TenantId, master: &MasterKey) -> Result<SigningKey> {
        let r = self;
        let bad = |what: &str| DomainError::Internal(format!("signing key {}: bad {what}", r.kid));
        let aad = row_aad("signing_keys", tenant.as_str(), &r.kid);
        let private = master.open_text(&aad, &r.private_pkcs8)?;
        Ok(SigningKey {
            alg: KeyAlg::parse(&r.alg).ok_or_else(|| bad("alg"))?,
            state: KeyState::parse(&r.state).ok_or_else(|| bad("state"))?,
            public_jwk: serde_json::from_str(&r.public_jwk).map_err(|_| bad("public_jwk"))?,
            private_pkcs8: PrivateKey(private),
            kid: r.kid,
            created_at: r.created_at,
            activated_at: r.activated_at,
            retired_at: r.retired_at,
            publish_until: r.publish_until,
        })
    }
}

const COLUMNS: &str = "kid, alg, private_pkcs8, public_jwk, state, created_at, activated_at, retired_at, publish_until";

async fn insert_key(
    tx: &mut Tx,
    tenant: &TenantId,
    key: &SigningKey,
    master: &MasterKey,
) -> Result<()> {
    let aad = row_aad("signing_keys", tenant.as_str(), &key.kid);
    let sealed = master.seal(&aad, key.private_pkcs8.0.as_bytes())?;
    sqlx::query(
        "INSERT INTO signing_keys (id, tenant_id, kid, alg, private_pkcs8, public_jwk, state, created_at, activated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(tenant.as_str())
    .bind(&key.kid)
    .bind(key.alg.as_str())
    .bind(sealed)
    .bind(key.public_jwk.to_string())
    .bind(key.state.as_str())
    .bind(key.created_at)
    .bind(key.activated_at)
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    Ok(())
}

impl Backend {
    /// The tenant's keys that are still published (next, active, retired until `publish_until`),
    /// oldest first.
    pub async fn signing_keys(&self, tenant: &TenantId) -> Result<Vec<SigningKey>> {
        sqlx::query_as::<DB, KeyRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM signing_keys
             WHERE tenant_id = $1 AND (state <> 'retired' OR publish_until > $2)
             ORDER BY created_at, kid"
        )))
        .bind(tenant.as_str())
        .bind(now_ms())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?
        .into_iter()
        .map(|r| r.open(tenant, self.master_key()?))
        .collect()
    }

    /// Stores the first active and next keys of an algorithm. When another process did so
    /// first, answers `false` and stores nothing.
    pub async fn insert_first_keys(
        &self,
        tenant: &TenantId,
        active: &SigningKey,
        next: &SigningKey,
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        for key in [active, next] {
            match insert_key(&mut tx, tenant, key, self.master_key()?).await {
                Ok(()) => {}
                Err(DomainError::Conflict(_)) => return Ok(false),
                Err(e) => return Err(e),
            }
            record(
                &mut tx,
                tenant,
                &Actor::system(),
                Change::new("signing_key.create", "signing_key", &key.kid).after(key),
            )
            .await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    /// Rotates the keys of `alg`: active -> retired (published until `publish_until`),
    /// next -> active, and `new_next` becomes the next key.
    pub async fn rotate_signing_keys(
        &self,
        tenant: &TenantId,
        alg: KeyAlg,
        new_next: &SigningKey,
        publish_until: i64,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let now = now_ms();
        let next: Option<String> = sqlx::query_scalar(
            "SELECT kid FROM signing_keys WHERE tenant_id = $1 AND alg = $2 AND state = 'next'",
        )
        .bind(tenant.as_str())
        .bind(alg.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let Some(next) = next else {
            return Err(DomainError::NotFound("next signing key"));
        };
        sqlx::query(
            "UPDATE signing_keys SET state = 'retired', retired_at = $1, publish_until = $2
             WHERE tenant_id = $3 AND alg = $4 AND state = 'active'",
        )
        .bind(now)
        .bind(publish_until)
        .bind(tenant.as_str())
        .bind(alg.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query("UPDATE signing_keys SET state = 'active', activated_at = $1 WHERE kid = $2")
            .bind(now)
            .bind(&next)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        insert_key(&mut tx, tenant, new_next, self.master_key()?).await?;
        let change = serde_json::json!({ "alg": alg, "activated": next, "next": new_next.kid });
        record(
            &mut tx,
            tenant,
            actor,
            Change::new("signing_key.rotate", "signing_key", &next).after(change),
        )
        .await?;
        // Keys retired long ago are of no use to anyone.
        sqlx::query(
            "DELETE FROM signing_keys WHERE tenant_id = $1 AND state = 'retired' AND publish_until < $2",
        )
        .bind(tenant.as_str())
        .bind(now - 86_400_000)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(())
    }
}
