//! Single-use links that let a person set their password without signing in (the owner's
//! first-start link). Stored as hashes of their secrets; using one is a compare-and-set, so a
//! link works exactly once even when it is posted twice at the same moment.

use super::{Backend, commit, db_error};
use crate::domain::account_email::NewLink;
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::{now_ms, now_us};
use crate::domain::*;

impl Backend {
    /// Records a new link (by the hash of its secret) for `user`, valid `ttl_ms`; an unused
    /// link of the same purpose for the same user stops working. Audited (never the secret).
    pub async fn issue_user_link(
        &self,
        tenant: &TenantId,
        user: &UserId,
        purpose: &str,
        token_hash: &str,
        ttl_ms: i64,
        actor: &Actor,
    ) -> Result<()> {
        self.issue_user_link_with_mail(tenant, user, purpose, token_hash, ttl_ms, None, actor)
            .await
    }

    /// [`Backend::issue_user_link`], and `mail` (which carries the link) written to the outbox
    /// in the same transaction: the mail goes out exactly when the link exists.
    #[allow(clippy::too_many_arguments)]
    pub async fn issue_user_link_with_mail(
        &self,
        tenant: &TenantId,
        user: &UserId,
        purpose: &str,
        token_hash: &str,
        ttl_ms: i64,
        mail: Option<&crate::domain::mail::OutgoingMail>,
        actor: &Actor,
    ) -> Result<()> {
        let link = NewLink {
            purpose,
            token_hash,
            ttl_ms,
            email: None,
        };
        self.issue_user_link_for(tenant, user, &link, mail, actor)
            .await
    }

    /// [`Backend::issue_user_link_with_mail`] for a link that names an address (the new one of
    /// an address change, the one a verification confirms).
    pub async fn issue_user_link_for(
        &self,
        tenant: &TenantId,
        user: &UserId,
        link: &NewLink<'_>,
        mail: Option<&crate::domain::mail::OutgoingMail>,
        actor: &Actor,
    ) -> Result<()> {
        self.issue_user_link_within(tenant, user, link, mail, None, actor)
            .await
            .map(|_| ())
    }

    /// [`Backend::issue_user_link_for`] unless `quota` (`(since_ms, max)`) says the address of
    /// `mail` was sent `max` mails of its kind since `since_ms`: then nothing is written and
    /// the answer is false. The count and the write are one transaction that holds the user's
    /// row, so of many requests at once at most `max` pass.
    pub async fn issue_user_link_within(
        &self,
        tenant: &TenantId,
        user: &UserId,
        link: &NewLink<'_>,
        mail: Option<&crate::domain::mail::OutgoingMail>,
        quota: Option<(i64, i64)>,
        actor: &Actor,
    ) -> Result<bool> {
        let NewLink {
            purpose,
            token_hash,
            ttl_ms,
            email,
        } = *link;
        let mut tx = self.write_tx().await?;
        if let (Some((since, max)), Some(mail)) = (quota, mail) {
            // Requests for one user queue here (SQLite's write transaction excludes them all).
            sqlx::query_scalar::<super::DB, String>(sqlx::AssertSqlSafe(format!(
                "SELECT id FROM users WHERE tenant_id = $1 AND id = $2{}",
                super::DIALECT.for_update()
            )))
            .bind(tenant.as_str())
            .bind(user.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?
            .ok_or(DomainError::NotFound("user"))?;
            let sent: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM mail_outbox WHERE tenant_id = $1 AND recipient = $2
                 AND kind = $3 AND created_at > $4",
            )
            .bind(tenant.as_str())
            .bind(&mail.to)
            .bind(mail.kind.as_str())
            .bind(since)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
            if sent >= max {
                return Ok(false);
            }
        }
        let now = now_ms();
        sqlx::query(
            "DELETE FROM user_links WHERE tenant_id = $1 AND user_id = $2 AND purpose = $3 AND used_at IS NULL",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(purpose)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query(
            "INSERT INTO user_links (token_hash, tenant_id, user_id, purpose, created_at, expires_at, email)
             SELECT $1, $2, $3, $4, $5, $6, $7 FROM users WHERE tenant_id = $2 AND id = $3",
        )
        .bind(token_hash)
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(purpose)
        .bind(now)
        .bind(now + ttl_ms)
        .bind(email)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected()
        .eq(&1)
        .then_some(())
        .ok_or(DomainError::NotFound("user"))?;
        if let Some(mail) = mail {
            self.enqueue_mail_in(&mut tx, mail).await?;
        }
        let change = Change::new("user.link.issue", "user", user)
            .after(serde_json::json!({ "purpose": purpose, "expires_at": now + ttl_ms }));
        commit(tx, tenant, actor, change).await?;
        Ok(true)
    }

    /// The user a live link (unused, unexpired, of `purpose`) of the tenant is for.
    pub async fn user_link(
        &self,
        tenant: &TenantId,
        purpose: &str,
        token_hash: &str,
    ) -> Result<Option<UserId>> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT user_id FROM user_links WHERE tenant_id = $1 AND purpose = $2 AND token_hash = $3
             AND used_at IS NULL AND expires_at > $4",
        )
        .bind(tenant.as_str())
        .bind(purpose)
        .bind(token_hash)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(id.map(UserId))
    }

    /// The user and purpose of a live link (unused, unexpired) of the tenant.
    pub async fn live_link(
        &self,
        tenant: &TenantId,
        token_hash: &str,
    ) -> Result<Option<(UserId, String)>> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT user_id, purpose FROM user_links WHERE tenant_id = $1 AND token_hash = $2
             AND used_at IS NULL AND expires_at > $3",
        )
        .bind(tenant.as_str())
        .bind(token_hash)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(row.map(|(user, purpose)| (UserId(user), purpose)))
    }

    /// Uses a live link to set its user's password (`hash`), in one transaction: the link is
    /// marked used by a compare-and-set, so of several uses at once exactly one sets the
    /// password. `None` when the link is unknown, used or expired. Audited as the user.
    pub async fn set_password_by_link(
        &self,
        tenant: &TenantId,
        purpose: &str,
        token_hash: &str,
        hash: &str,
    ) -> Result<Option<UserId>> {
        self.use_link_with(tenant, purpose, token_hash, Some(hash))
            .await
    }

    /// Uses a live link without a password (the person registered a passkey with it), by the
    /// same compare-and-set. `None` when the link is unknown, used or expired.
    pub async fn use_link(
        &self,
        tenant: &TenantId,
        purpose: &str,
        token_hash: &str,
    ) -> Result<Option<UserId>> {
        self.use_link_with(tenant, purpose, token_hash, None).await
    }

    async fn use_link_with(
        &self,
        tenant: &TenantId,
        purpose: &str,
        token_hash: &str,
        hash: Option<&str>,
    ) -> Result<Option<UserId>> {
        let mut tx = self.write_tx().await?;
        let now = now_ms();
        let user: Option<String> = sqlx::query_scalar(
            "UPDATE user_links SET used_at = $4 WHERE tenant_id = $1 AND purpose = $2 AND token_hash = $3
             AND used_at IS NULL AND expires_at > $4 RETURNING user_id",
        )
        .bind(tenant.as_str())
        .bind(purpose)
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let Some(user) = user.map(UserId) else {
            return Ok(None);
        };
        if let Some(hash) = hash {
            sqlx::query(
                "UPDATE users SET password_hash = $3, updated_at = $4, version = version + 1
                 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant.as_str())
            .bind(user.as_str())
            .bind(hash)
            .bind(now_us())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        if purpose == crate::domain::invitations::PURPOSE {
            // An invitation that came by mail proves the address: it is verified.
            sqlx::query(
                "UPDATE users SET email_verified = TRUE WHERE tenant_id = $1 AND id = $2
                 AND EXISTS (SELECT 1 FROM invitations i WHERE i.tenant_id = $1 AND i.user_id = $2
                             AND i.delivery = $3)",
            )
            .bind(tenant.as_str())
            .bind(user.as_str())
            .bind(crate::domain::invitations::delivery::QUEUED)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        // An invitation the link belonged to is over (a no-op for other purposes).
        sqlx::query(
            "UPDATE invitations SET accepted_at = $3 WHERE tenant_id = $1 AND user_id = $2
             AND accepted_at IS NULL",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let actor = Actor::of_user(&user, "through a single-use link");
        let change = match hash {
            Some(_) => Change::new("user.password.set", "user", &user)
                .after(serde_json::json!({ "password": "set", "through": purpose })),
            None => Change::new("user.link.use", "user", &user)
                .after(serde_json::json!({ "through": purpose, "with": "passkey" })),
        };
        commit(tx, tenant, &actor, change).await?;
        Ok(Some(user))
    }
}
