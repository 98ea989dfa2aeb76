//! Second factors: WebAuthn credentials, authenticator apps, recovery codes, MFA settings,
//! ceremonies in progress, failed-code counts, and the notifications factor changes raise.

use super::{Backend, Conn, DB, Tx, commit, db_error, record};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::{format_date, today};
use crate::domain::clock::{now_ms, now_us};
use crate::domain::mfa::*;
use crate::domain::sealing::{MasterKey, row_aad};
use crate::domain::*;

#[derive(sqlx::FromRow)]
struct CredentialRow {
    id: String,
    user_id: String,
    kind: String,
    name: String,
    credential_id: String,
    credential: String,
    created_at: i64,
    last_used_at: Option<i64>,
}

impl From<CredentialRow> for WebauthnCredential {
    fn from(r: CredentialRow) -> Self {
        WebauthnCredential {
            id: FactorId(r.id),
            user_id: UserId(r.user_id),
            kind: CredentialKind::parse(&r.kind).unwrap_or(CredentialKind::SecurityKey),
            name: r.name,
            credential_id: r.credential_id,
            credential: r.credential,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct TotpRow {
    id: String,
    user_id: String,
    secret: String,
    confirmed_at: Option<i64>,
    last_step: i64,
    created_at: i64,
    last_used_at: Option<i64>,
}

impl TotpRow {
    /// The factor, its seed opened with the master key.
    fn open(self, tenant: &TenantId, master: &MasterKey) -> Result<TotpFactor> {
        let r = self;
        let aad = row_aad("totp_factors", tenant.as_str(), &r.id);
        Ok(TotpFactor {
            secret: master.open_text(&aad, &r.secret)?,
            id: FactorId(r.id),
            user_id: UserId(r.user_id),
            confirmed_at: r.confirmed_at,
            last_step: r.last_step,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct NotificationRow {
    id: String,
    event_type: String,
    channels: String,
    message: String,
    details: String,
    created_at: i64,
}

const CREDENTIAL_COLUMNS: &str =
    "id, user_id, kind, name, credential_id, credential, created_at, last_used_at";
const TOTP_COLUMNS: &str = "id, user_id, secret, confirmed_at, last_step, created_at, last_used_at";

impl Backend {
    /// The tenant's MFA settings (the defaults until an administrator changes them).
    pub async fn mfa_settings(&self, tenant: &TenantId) -> Result<MfaSettings> {
        let row = sqlx::query_as::<DB, (String, bool, String)>(
            "SELECT policy, passkey_only_allowed, security_key_uv FROM mfa_settings WHERE tenant_id = $1",
        )
        .bind(tenant.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(row
            .map(|(p, only, uv)| MfaSettings {
                policy: MfaPolicy::parse(&p).unwrap_or_default(),
                passkey_only_allowed: only,
                security_key_user_verification: UserVerification::parse(&uv).unwrap_or_default(),
            })
            .unwrap_or_default())
    }

    /// Replaces the tenant's MFA settings, audited.
    pub async fn set_mfa_settings(
        &self,
        tenant: &TenantId,
        settings: &MfaSettings,
        actor: &Actor,
    ) -> Result<MfaSettings> {
        let before = self.mfa_settings(tenant).await?;
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO mfa_settings (tenant_id, policy, passkey_only_allowed, security_key_uv, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant_id) DO UPDATE SET policy = excluded.policy,
                 passkey_only_allowed = excluded.passkey_only_allowed,
                 security_key_uv = excluded.security_key_uv, updated_at = excluded.updated_at",
        )
        .bind(tenant.as_str())
        .bind(settings.policy.as_str())
        .bind(settings.passkey_only_allowed)
        .bind(settings.security_key_user_verification.as_str())
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let change = Change::new("tenant.mfa.update", "tenant", tenant)
            .before(&before)
            .after(settings);
        commit(tx, tenant, actor, change).await?;
        Ok(settings.clone())
    }

    /// The strictest MFA policy among the roles the user holds today (directly, through a
    /// current membership, or through a group); `Optional` when none asks for more.
    pub async fn role_mfa_policy(&self, tenant: &TenantId, user: &UserId) -> Result<MfaPolicy> {
        let day = format_date(today());
        let rows = sqlx::query_scalar::<DB, String>(
            "SELECT r.mfa_policy FROM user_roles ur JOIN roles r ON r.id = ur.role_id
             WHERE ur.tenant_id = $1 AND ur.user_id = $2 AND r.mfa_policy IS NOT NULL
               AND (ur.account_id IS NULL OR EXISTS (
                    SELECT 1 FROM memberships ms WHERE ms.user_id = ur.user_id AND ms.account_id = ur.account_id
                      AND (ms.start_date IS NULL OR ms.start_date <= $3) AND (ms.end_date IS NULL OR ms.end_date >= $3)))
             UNION
             SELECT r.mfa_policy FROM group_members gm
             JOIN groups g ON g.id = gm.group_id
             JOIN group_roles gr ON gr.group_id = g.id
             JOIN roles r ON r.id = gr.role_id
             WHERE g.tenant_id = $1 AND gm.user_id = $2 AND r.mfa_policy IS NOT NULL",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(&day)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(rows
            .iter()
            .filter_map(|p| MfaPolicy::parse(p))
            .max()
            .unwrap_or_default())
    }

    /// Everything the user has enrolled (an authenticator app still waiting for its first code
    /// included), how many recovery codes are left, and whether a password is set.
    pub async fn user_factors(&self, tenant: &TenantId, user: &UserId) -> Result<Factors> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        factors_conn(&mut conn, tenant, user, self).await
    }

    /// The credential with this id in this tenant (whoever it belongs to).
    pub async fn webauthn_credential(
        &self,
        tenant: &TenantId,
        credential_id: &str,
    ) -> Result<Option<WebauthnCredential>> {
        sqlx::query_as::<DB, CredentialRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {CREDENTIAL_COLUMNS} FROM webauthn_credentials
             WHERE tenant_id = $1 AND credential_id = $2"
        )))
        .bind(tenant.as_str())
        .bind(credential_id)
        .fetch_optional(&self.pool)
        .await
        .map(|r| r.map(Into::into))
        .map_err(db_error)
    }

    /// Registers a WebAuthn credential, audited and notified; with `recovery` (hashes), the
    /// user's first recovery codes in the same transaction. A credential id already registered
    /// in the tenant is a conflict.
    pub async fn add_webauthn_credential(
        &self,
        tenant: &TenantId,
        cred: &WebauthnCredential,
        recovery: Option<&[String]>,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO webauthn_credentials (id, tenant_id, user_id, kind, name, credential_id, credential, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(cred.id.as_str())
        .bind(tenant.as_str())
        .bind(cred.user_id.as_str())
        .bind(cred.kind.as_str())
        .bind(&cred.name)
        .bind(&cred.credential_id)
        .bind(&cred.credential)
        .bind(cred.created_at)
        .execute(&mut *tx)
        .await
        .map_err(|e| match db_error(e) {
            DomainError::Conflict(_) => {
                DomainError::conflict("this authenticator is already registered")
            }
            other => other,
        })?;
        if let Some(hashes) = recovery {
            insert_recovery_codes(&mut tx, tenant, &cred.user_id, hashes).await?;
        }
        let what = serde_json::json!({ "kind": cred.kind.as_str(), "name": cred.name });
        let message = format!(
            "A {} named “{}” was added",
            kind_label(cred.kind.as_str()),
            cred.name
        );
        factor_changed(
            &mut tx,
            tenant,
            &cred.user_id,
            "user.mfa.add",
            &cred.id,
            what,
            &message,
            actor,
        )
        .await?;
        tx.commit().await.map_err(db_error)
    }

    /// After a successful assertion: the credential's new counter and flags, and when it was used.
    pub async fn touch_webauthn_credential(
        &self,
        tenant: &TenantId,
        id: &FactorId,
        credential: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE webauthn_credentials SET last_used_at = $3, credential = COALESCE($4, credential)
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(now_ms())
        .bind(credential)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    /// Renames one of the user's WebAuthn credentials.
    pub async fn rename_webauthn_credential(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &FactorId,
        name: &str,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let before = sqlx::query_scalar::<DB, String>(
            "SELECT name FROM webauthn_credentials WHERE tenant_id = $1 AND user_id = $2 AND id = $3",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?
        .ok_or(DomainError::NotFound("factor"))?;
        sqlx::query("UPDATE webauthn_credentials SET name = $3 WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let change = Change::new("user.mfa.rename", "user", user)
            .before(serde_json::json!({ "factor": id, "name": before }))
            .after(serde_json::json!({ "factor": id, "name": name }));
        commit(tx, tenant, actor, change).await
    }

    /// Starts enrolling an authenticator app: a new secret waiting for its first code, in place
    /// of any earlier unconfirmed one. A user with a confirmed app must remove it first.
    pub async fn begin_totp(&self, tenant: &TenantId, factor: &TotpFactor) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let confirmed = sqlx::query_scalar::<DB, i64>(
            "SELECT COUNT(*) FROM totp_factors WHERE tenant_id = $1 AND user_id = $2 AND confirmed_at IS NOT NULL",
        )
        .bind(tenant.as_str())
        .bind(factor.user_id.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        if confirmed > 0 {
            return Err(DomainError::conflict(
                "an authenticator app is already set up; remove it before setting up another",
            ));
        }
        sqlx::query("DELETE FROM totp_factors WHERE tenant_id = $1 AND user_id = $2")
            .bind(tenant.as_str())
            .bind(factor.user_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        sqlx::query(
            "INSERT INTO totp_factors (id, tenant_id, user_id, secret, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(factor.id.as_str())
        .bind(tenant.as_str())
        .bind(factor.user_id.as_str())
        .bind(self.master_key()?.seal(
            &row_aad("totp_factors", tenant.as_str(), factor.id.as_str()),
            factor.secret.as_bytes(),
        )?)
        .bind(factor.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    /// Confirms the user's pending authenticator app with the code of `step` (audited,
    /// notified; with `recovery`, the user's first recovery codes). False when there is no
    /// pending app with that id or the step was already used.
    pub async fn confirm_totp(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &FactorId,
        step: i64,
        recovery: Option<&[String]>,
        actor: &Actor,
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let now = now_ms();
        let n = sqlx::query(
            "UPDATE totp_factors SET confirmed_at = $4, last_step = $5, last_used_at = $4
             WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND confirmed_at IS NULL AND last_step < $5",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(id.as_str())
        .bind(now)
        .bind(step)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        if let Some(hashes) = recovery {
            insert_recovery_codes(&mut tx, tenant, user, hashes).await?;
        }
        let what = serde_json::json!({ "kind": "totp", "name": "Authenticator app" });
        factor_changed(
            &mut tx,
            tenant,
            user,
            "user.mfa.add",
            id,
            what,
            "An authenticator app was set up",
            actor,
        )
        .await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    /// Accepts the confirmed app's code of `step` once: false when that step (or a later one)
    /// was already used.
    pub async fn use_totp_step(&self, tenant: &TenantId, user: &UserId, step: i64) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE totp_factors SET last_step = $3, last_used_at = $4
             WHERE tenant_id = $1 AND user_id = $2 AND confirmed_at IS NOT NULL AND last_step < $3",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(step)
        .bind(now_ms())
        .execute(&self.pool)
        .await
        .map_err(db_error)?
        .rows_affected();
        Ok(n == 1)
    }

    /// Uses one recovery code (by hash): false when it is unknown or used. Audited, notified.
    pub async fn use_recovery_code(
        &self,
        tenant: &TenantId,
        user: &UserId,
        code_hash: &str,
        actor: &Actor,
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE recovery_codes SET used_at = $4
             WHERE tenant_id = $1 AND user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(code_hash)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        let left = recovery_left(&mut tx, tenant, user).await?;
        let change = Change::new("user.mfa.recovery_code_used", "user", user)
            .after(serde_json::json!({ "recovery_codes_left": left }));
        record(&mut tx, tenant, actor, change).await?;
        let message = format!("A recovery code was used to sign in; {left} left");
        notify(
            &mut tx,
            tenant,
            user,
            "security.mfa_changed",
            &message,
            serde_json::json!({ "event": "recovery_code_used", "recovery_codes_left": left }),
        )
        .await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    /// Replaces the user's recovery codes with new ones (hashes), audited, notified.
    pub async fn replace_recovery_codes(
        &self,
        tenant: &TenantId,
        user: &UserId,
        hashes: &[String],
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2")
            .bind(tenant.as_str())
            .bind(user.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        insert_recovery_codes(&mut tx, tenant, user, hashes).await?;
        let change = Change::new("user.mfa.recovery_codes_generated", "user", user)
            .after(serde_json::json!({ "recovery_codes_left": hashes.len() }));
        record(&mut tx, tenant, actor, change).await?;
        notify(
            &mut tx,
            tenant,
            user,
            "security.mfa_changed",
            "New recovery codes were generated; the old ones no longer work",
            serde_json::json!({ "event": "recovery_codes_generated" }),
        )
        .await?;
        tx.commit().await.map_err(db_error)
    }

    /// Removes one factor of the user (a WebAuthn credential or the authenticator app), audited,
    /// notified. When no second factor remains, the recovery codes go too.
    pub async fn remove_factor(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &FactorId,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        super::holders::lock_user(&mut tx, tenant, user, actor).await?;
        let cred = sqlx::query_as::<DB, (String, String)>(
            "SELECT kind, name FROM webauthn_credentials WHERE tenant_id = $1 AND user_id = $2 AND id = $3",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let (what, message) = if let Some((kind, name)) = cred {
            sqlx::query("DELETE FROM webauthn_credentials WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.as_str())
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            let message = format!("The {} named “{name}” was removed", kind_label(&kind));
            (serde_json::json!({ "kind": kind, "name": name }), message)
        } else {
            let n = sqlx::query(
                "DELETE FROM totp_factors WHERE tenant_id = $1 AND user_id = $2 AND id = $3 AND confirmed_at IS NOT NULL",
            )
            .bind(tenant.as_str())
            .bind(user.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?
            .rows_affected();
            if n == 0 {
                return Err(DomainError::NotFound("factor"));
            }
            (
                serde_json::json!({ "kind": "totp", "name": "Authenticator app" }),
                "The authenticator app was removed".to_owned(),
            )
        };
        drop_recovery_if_no_factor(&mut tx, tenant, user).await?;
        let change = Change::new("user.mfa.remove", "user", user).before(
            serde_json::json!({ "factor": id, "factor_kind": what["kind"], "name": what["name"] }),
        );
        record(&mut tx, tenant, actor, change).await?;
        notify(
            &mut tx,
            tenant,
            user,
            "security.mfa_changed",
            &message,
            serde_json::json!({ "event": "factor_removed", "factor": what }),
        )
        .await?;
        tx.commit().await.map_err(db_error)
    }

    /// Removes every factor and recovery code of the user (an administrator's reset), audited
    /// with what was removed (never a secret), notified.
    pub async fn reset_factors(
        &self,
        tenant: &TenantId,
        user: &UserId,
        actor: &Actor,
    ) -> Result<Factors> {
        let mut tx = self.write_tx().await?;
        super::holders::lock_user(&mut tx, tenant, user, actor).await?;
        // Read in the transaction, so that what is reported is exactly what is deleted.
        let before = factors_conn(&mut tx, tenant, user, self).await?;
        for sql in [
            "DELETE FROM webauthn_credentials WHERE tenant_id = $1 AND user_id = $2",
            "DELETE FROM totp_factors WHERE tenant_id = $1 AND user_id = $2",
            "DELETE FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2",
        ] {
            sqlx::query(sql)
                .bind(tenant.as_str())
                .bind(user.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        let change = Change::new("user.mfa.reset", "user", user).before(serde_json::json!({
            "factors": before.summary(),
            "recovery_codes_left": before.recovery_codes_left,
        }));
        record(&mut tx, tenant, actor, change).await?;
        notify(
            &mut tx,
            tenant,
            user,
            "security.mfa_changed",
            "An administrator reset your second factors; set one up at your next sign-in",
            serde_json::json!({ "event": "factors_reset" }),
        )
        .await?;
        tx.commit().await.map_err(db_error)?;
        Ok(before)
    }

    /// Removes the user's password (a passkey-only account), audited, notified.
    pub async fn remove_password(
        &self,
        tenant: &TenantId,
        user: &UserId,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        super::holders::lock_user(&mut tx, tenant, user, actor).await?;
        sqlx::query(
            "UPDATE users SET password_hash = NULL, updated_at = $3 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(now_us())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let change = Change::new("user.password.remove", "user", user)
            .after(serde_json::json!({ "password": "removed" }));
        record(&mut tx, tenant, actor, change).await?;
        notify(
            &mut tx,
            tenant,
            user,
            "security.password_changed",
            "Your password was removed: you now sign in with your passkey",
            serde_json::json!({ "event": "password_removed" }),
        )
        .await?;
        tx.commit().await.map_err(db_error)
    }

    /// Stores a ceremony in progress under the hash of its handle.
    pub async fn put_ceremony(
        &self,
        tenant: &TenantId,
        id_hash: &str,
        ceremony: &Ceremony,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO mfa_ceremonies (id, tenant_id, session_id, purpose, state, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id_hash)
        .bind(tenant.as_str())
        .bind(ceremony.session_id.as_deref())
        .bind(&ceremony.purpose)
        .bind(&ceremony.state)
        .bind(ceremony.expires_at)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    /// Takes a ceremony (it is deleted: no challenge is answered twice).
    pub async fn take_ceremony(
        &self,
        tenant: &TenantId,
        id_hash: &str,
    ) -> Result<Option<Ceremony>> {
        sqlx::query_as::<DB, (Option<String>, String, String, i64)>(
            "DELETE FROM mfa_ceremonies WHERE tenant_id = $1 AND id = $2
             RETURNING session_id, purpose, state, expires_at",
        )
        .bind(tenant.as_str())
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await
        .map(|r| {
            r.map(|(session_id, purpose, state, expires_at)| Ceremony {
                session_id,
                purpose,
                state,
                expires_at,
            })
        })
        .map_err(db_error)
    }

    /// Records that the session's user proved more (step-up): its methods, level and time.
    pub async fn raise_session(
        &self,
        tenant: &TenantId,
        session: &crate::domain::sessions::Session,
        old_secret_hash: &str,
        actor: &Actor,
    ) -> Result<bool> {
        let (session_id, amr, acr, auth_time, user) = (
            &session.id,
            &session.amr,
            session.acr.as_deref(),
            session.auth_time,
            &session.user_id,
        );
        let mut tx = self.write_tx().await?;
        // The cookie's secret changes with the level: only the cookie that was raised still
        // works, and of two raises of the same cookie only the first counts.
        let n = sqlx::query(
            "UPDATE sessions SET amr = $3, acr = $4, auth_time = $5, last_seen_at = $5, secret_hash = $6
             WHERE tenant_id = $1 AND id = $2 AND secret_hash = $7 AND ended_at IS NULL",
        )
        .bind(tenant.as_str())
        .bind(session_id)
        .bind(serde_json::to_string(amr).unwrap_or_else(|_| "[]".into()))
        .bind(acr)
        .bind(auth_time)
        .bind(&session.secret_hash)
        .bind(old_secret_hash)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        let change = Change::new("user.sign_in.step_up", "user", user)
            .after(serde_json::json!({ "amr": amr, "acr": acr }));
        commit(tx, tenant, actor, change).await?;
        Ok(true)
    }

    /// The notifications raised for the user, newest first.
    pub async fn notifications(
        &self,
        tenant: &TenantId,
        user: &UserId,
        limit: i64,
    ) -> Result<Vec<Notification>> {
        let rows = sqlx::query_as::<DB, NotificationRow>(
            "SELECT id, event_type, channels, message, details, created_at FROM notifications
             WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|r| Notification {
                id: NotificationId(r.id),
                event_type: r.event_type,
                channels: r
                    .channels
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned)
                    .collect(),
                message: r.message,
                details: serde_json::from_str(&r.details).unwrap_or_default(),
                created_at: r.created_at,
            })
            .collect())
    }

    /// Deletes ceremonies past their time and failures older than a day.
    pub async fn purge_mfa(&self) -> Result<u64> {
        let now = now_ms();
        let mut total = 0;
        for (sql, at) in [
            ("DELETE FROM mfa_ceremonies WHERE expires_at < $1", now),
            (
                "DELETE FROM mfa_failures WHERE at < $1",
                now - 24 * 3600 * 1000,
            ),
        ] {
            total += sqlx::query(sql)
                .bind(at)
                .execute(&self.pool)
                .await
                .map_err(db_error)?
                .rows_affected();
        }
        Ok(total)
    }
}

/// [`Backend::user_factors`] on one connection (or inside a transaction).
async fn factors_conn(
    conn: &mut Conn,
    tenant: &TenantId,
    user: &UserId,
    backend: &Backend,
) -> Result<Factors> {
    let webauthn = sqlx::query_as::<DB, CredentialRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {CREDENTIAL_COLUMNS} FROM webauthn_credentials
             WHERE tenant_id = $1 AND user_id = $2 ORDER BY created_at, id"
    )))
    .bind(tenant.as_str())
    .bind(user.as_str())
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let totp = sqlx::query_as::<DB, TotpRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {TOTP_COLUMNS} FROM totp_factors WHERE tenant_id = $1 AND user_id = $2"
    )))
    .bind(tenant.as_str())
    .bind(user.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    let (left, has_password) = sqlx::query_as::<DB, (i64, bool)>(
            "SELECT (SELECT COUNT(*) FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2 AND used_at IS NULL),
                    COALESCE((SELECT password_hash IS NOT NULL FROM users WHERE tenant_id = $1 AND id = $2), FALSE)",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
    Ok(Factors {
        webauthn: webauthn.into_iter().map(Into::into).collect(),
        // The master key is needed only when there is a seed to open.
        totp: totp
            .map(|t| t.open(tenant, backend.master_key()?))
            .transpose()?,
        recovery_codes_left: left,
        has_password,
    })
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "passkey" => "passkey",
        "security_key" => "security key",
        _ => "authenticator",
    }
}

async fn insert_recovery_codes(
    tx: &mut Tx,
    tenant: &TenantId,
    user: &UserId,
    hashes: &[String],
) -> Result<()> {
    let now = now_ms();
    for h in hashes {
        sqlx::query(
            "INSERT INTO recovery_codes (tenant_id, user_id, code_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(h)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    }
    Ok(())
}

async fn recovery_left(tx: &mut Tx, tenant: &TenantId, user: &UserId) -> Result<i64> {
    sqlx::query_scalar::<DB, i64>(
        "SELECT COUNT(*) FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2 AND used_at IS NULL",
    )
    .bind(tenant.as_str())
    .bind(user.as_str())
    .fetch_one(&mut **tx)
    .await
    .map_err(db_error)
}

/// Recovery codes only stand in for a second factor: without one, they go.
async fn drop_recovery_if_no_factor(tx: &mut Tx, tenant: &TenantId, user: &UserId) -> Result<()> {
    sqlx::query(
        "DELETE FROM recovery_codes WHERE tenant_id = $1 AND user_id = $2
           AND NOT EXISTS (SELECT 1 FROM webauthn_credentials w WHERE w.tenant_id = $1 AND w.user_id = $2)
           AND NOT EXISTS (SELECT 1 FROM totp_factors t WHERE t.tenant_id = $1 AND t.user_id = $2 AND t.confirmed_at IS NOT NULL)",
    )
    .bind(tenant.as_str())
    .bind(user.as_str())
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Audits a factor added and raises `security.mfa_changed` for the user.
#[allow(clippy::too_many_arguments)]
async fn factor_changed(
    tx: &mut Tx,
    tenant: &TenantId,
    user: &UserId,
    action: &'static str,
    factor: &FactorId,
    what: serde_json::Value,
    message: &str,
    actor: &Actor,
) -> Result<()> {
    let change = Change::new(action, "user", user).after(serde_json::json!({
        "factor": factor, "factor_kind": what["kind"], "name": what["name"],
    }));
    record(tx, tenant, actor, change).await?;
    notify(
        tx,
        tenant,
        user,
        "security.mfa_changed",
        message,
        serde_json::json!({ "event": "factor_added", "factor": what }),
    )
    .await
    .map(|_| ())
}

/// Raises `event_type` for the user if their preferences (or the type's default) enable it,
/// on the channels they chose. A mandatory security notification is raised whatever the
/// preferences, and always by email. Whether it was raised.
pub(super) async fn notify(
    tx: &mut Tx,
    tenant: &TenantId,
    user: &UserId,
    event_type: &str,
    message: &str,
    details: serde_json::Value,
) -> Result<bool> {
    let mandatory = is_mandatory_notification(event_type);
    let n = sqlx::query(
        "INSERT INTO notifications (id, tenant_id, user_id, event_type, channels, message, details, created_at)
         SELECT $1, $2, $3, t.key,
                CASE WHEN $8 AND ',' || COALESCE(p.channels, 'email') || ',' NOT LIKE '%,email,%'
                     THEN 'email' || CASE WHEN COALESCE(p.channels, '') = '' THEN '' ELSE ',' || p.channels END
                     ELSE COALESCE(p.channels, 'email') END,
                $5, $6, $7
         FROM notification_types t
         LEFT JOIN notification_prefs p ON p.type_id = t.id AND p.user_id = $3
         WHERE t.tenant_id = $2 AND t.key = $4 AND ($8 OR COALESCE(p.enabled, t.default_enabled))",
    )
    .bind(NotificationId::generate().0)
    .bind(tenant.as_str())
    .bind(user.as_str())
    .bind(event_type)
    .bind(message)
    .bind(details.to_string())
    .bind(now_ms())
    .bind(mandatory)
    .execute(&mut **tx)
    .await
    .map_err(db_error)?
    .rows_affected();
    Ok(n > 0)
}
