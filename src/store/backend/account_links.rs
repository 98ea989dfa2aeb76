//! Using the links of account email (`domain::account_email`): a password reset, an address
//! confirmation, an address change. Each use is one transaction that starts with the link's
//! compare-and-set (`used_at IS NULL` → now), so of several uses at once exactly one does
//! anything; the others, and a link that expired or was replaced, find nothing.

use super::logout::targets;
use super::user_sessions::{end_where, revoke_grants};
use super::users::write_profile;
use super::{Backend, Tx, commit, db_error};
use crate::domain::account_email::{EMAIL_CHANGE, EMAIL_VERIFICATION, PASSWORD_RESET};
use crate::domain::audit::{Actor, Change};
use crate::domain::changes::{UserProfile, normalise};
use crate::domain::clock::{now_ms, now_us};
use crate::domain::mail::OutgoingMail;
use crate::domain::sessions::LogoutTarget;
use crate::domain::*;

/// Marks the live link `token_hash` of `purpose` used; its user and address, if it was live.
async fn take_link(
    tx: &mut Tx,
    tenant: &TenantId,
    purpose: &str,
    token_hash: &str,
) -> Result<Option<(UserId, Option<String>)>> {
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "UPDATE user_links SET used_at = $4 WHERE tenant_id = $1 AND purpose = $2 AND token_hash = $3
         AND used_at IS NULL AND expires_at > $4 RETURNING user_id, email",
    )
    .bind(tenant.as_str())
    .bind(purpose)
    .bind(token_hash)
    .bind(now_ms())
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_error)?;
    Ok(row.map(|(user, email)| (UserId(user), email)))
}

impl Backend {
    /// The user, purpose and address of a live address link (a confirmation or a change).
    pub async fn email_link(
        &self,
        tenant: &TenantId,
        token_hash: &str,
    ) -> Result<Option<(UserId, String, String)>> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT user_id, purpose, email FROM user_links WHERE tenant_id = $1 AND token_hash = $2
             AND purpose IN ($3, $4) AND email IS NOT NULL AND used_at IS NULL AND expires_at > $5",
        )
        .bind(tenant.as_str())
        .bind(token_hash)
        .bind(EMAIL_VERIFICATION)
        .bind(EMAIL_CHANGE)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(row.map(|(user, purpose, email)| (UserId(user), purpose, email)))
    }

    /// Uses a live reset link to set its (active) user's password to `hash`, and in the same
    /// transaction ends every session of the user, revokes every grant (refresh tokens),
    /// raises the mandatory `security.password_changed` notification and audits it. The apps
    /// the ended sessions signed in to, to tell; `None` when the link is not live (or its user
    /// is no longer active).
    pub async fn reset_password_by_link(
        &self,
        tenant: &TenantId,
        token_hash: &str,
        hash: &str,
    ) -> Result<Option<(UserId, Vec<LogoutTarget>)>> {
        let mut tx = self.write_tx().await?;
        let Some((user, _)) = take_link(&mut tx, tenant, PASSWORD_RESET, token_hash).await? else {
            return Ok(None);
        };
        let set = sqlx::query(
            "UPDATE users SET password_hash = $3, updated_at = $4, version = version + 1
             WHERE tenant_id = $1 AND id = $2 AND status = 'active'",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(hash)
        .bind(now_us())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        if set == 0 {
            // Deactivated (or anonymised) since the link was sent: it does nothing.
            return Ok(None);
        }
        let told = targets(&mut tx, "s.user_id = $2", tenant, user.as_str()).await?;
        // No session has an empty id: every session and every grant of the user ends.
        let ended = end_where(&mut tx, tenant, &user, "id <> $3", "").await?;
        let revoked = revoke_grants(
            &mut tx,
            tenant,
            &user,
            "(session_id IS NULL OR session_id <> $3)",
            "",
        )
        .await?;
        super::mfa::notify(
            &mut tx,
            tenant,
            &user,
            "security.password_changed",
            "Your password was reset",
            serde_json::json!({ "event": "password_reset" }),
        )
        .await?;
        let actor = Actor::of_user(&user, "through a password reset link");
        let change = Change::new("user.password.reset", "user", &user).after(serde_json::json!({
            "password": "reset", "sessions_ended": ended.len(), "grants_revoked": revoked
        }));
        commit(tx, tenant, &actor, change).await?;
        Ok(Some((user, told)))
    }

    /// Uses a live confirmation link: the user's address is marked verified if it is still the
    /// one the link was sent to. `None` when the link is not live or the address changed since.
    pub async fn verify_email_by_link(
        &self,
        tenant: &TenantId,
        token_hash: &str,
    ) -> Result<Option<UserId>> {
        let mut tx = self.write_tx().await?;
        let Some((user, Some(email))) =
            take_link(&mut tx, tenant, EMAIL_VERIFICATION, token_hash).await?
        else {
            return Ok(None);
        };
        let n = sqlx::query(
            "UPDATE users SET email_verified = TRUE, updated_at = $4, version = version + 1
             WHERE tenant_id = $1 AND id = $2 AND email_norm = $3 AND status <> 'anonymised'",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(normalise(&email))
        .bind(now_us())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        if n == 0 {
            return Ok(None);
        }
        let actor = Actor::of_user(&user, "through an address confirmation link");
        let change = Change::new("user.email.verify", "user", &user)
            .after(serde_json::json!({ "email_verified": true }));
        commit(tx, tenant, &actor, change).await?;
        Ok(Some(user))
    }

    /// Uses a live change link: the user's address becomes the link's (verified; a username
    /// that was the old address follows), if the user's address is still `old` (the one
    /// `mail`, the "your address was changed" mail, is written to) and no other user holds the
    /// new one (`Conflict` then: the database's unique index decides, so of two users
    /// confirming the same address at once one wins). In the same transaction: the mandatory
    /// `security.email_changed` notification (its mail is `mail`, to the old address) and the
    /// audit. `None` when the link is not live or the address changed since.
    pub async fn change_email_by_link(
        &self,
        tenant: &TenantId,
        token_hash: &str,
        old: &str,
        mail: &OutgoingMail,
    ) -> Result<Option<UserId>> {
        let mut tx = self.write_tx().await?;
        let Some((user, Some(new))) = take_link(&mut tx, tenant, EMAIL_CHANGE, token_hash).await?
        else {
            return Ok(None);
        };
        let actor = Actor::of_user(&user, "through an address change link");
        let before = Self::locked_user_tx(&mut tx, tenant, &user, None, &actor).await?;
        let gone = matches!(before.status, UserStatus::Anonymised | UserStatus::Inactive);
        if gone || normalise(&before.email) != normalise(old) {
            return Ok(None);
        }
        let mut p = UserProfile::from(&before);
        if normalise(&p.username) == normalise(&p.email) {
            p.username = new.clone();
        }
        p.email = new;
        p.email_verified = true;
        write_profile(&mut tx, tenant, &user, &p).await?;
        self.email_changed_in(&mut tx, tenant, &user, mail).await?;
        let after = Self::user_tx(&mut tx, tenant, &user).await?;
        let change = Change::new("user.email.change", "user", &user)
            .before(&before)
            .after(&after);
        commit(tx, tenant, &actor, change).await?;
        Ok(Some(user))
    }

    /// Inside `tx`, the transaction that changed `user`'s address: the mandatory
    /// `security.email_changed` notification, and its mail `mail` to the old address (the
    /// notification is marked mailed, so the worker sends no other copy to the new address).
    pub(super) async fn email_changed_in(
        &self,
        tx: &mut Tx,
        tenant: &TenantId,
        user: &UserId,
        mail: &OutgoingMail,
    ) -> Result<()> {
        super::mfa::notify(
            tx,
            tenant,
            user,
            "security.email_changed",
            "Your email address was changed",
            serde_json::json!({ "event": "email_changed" }),
        )
        .await?;
        sqlx::query(
            "UPDATE notifications SET mailed_at = $3 WHERE tenant_id = $1 AND user_id = $2
             AND event_type = 'security.email_changed' AND mailed_at IS NULL",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(now_ms())
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
        self.enqueue_mail_in(tx, mail).await?;
        Ok(())
    }
}
