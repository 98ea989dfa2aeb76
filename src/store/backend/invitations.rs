//! Invitations: issuing an invitation link (a `user_links` row of purpose `invitation`, only
//! its hash) together with the invitation's state and, with a mail server, its mail in the
//! outbox, in one transaction; reading that state.

use super::{Backend, Tx, commit, db_error};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_ms;
use crate::domain::invitations::{Invitation, PURPOSE as INVITATION};
use crate::domain::mail::OutgoingMail;
use crate::domain::*;

type Row = (i64, i64, i64, i64, String, Option<i64>);

fn invitation((first, last, times, expires, delivery, accepted): Row) -> Invitation {
    Invitation {
        first_sent_at: first,
        last_sent_at: last,
        times_sent: times,
        expires_at: expires,
        delivery,
        accepted_at: accepted,
    }
}

/// A user's invitation row.
const SELECT: &str =
    "SELECT first_sent_at, last_sent_at, times_sent, expires_at, delivery, accepted_at
     FROM invitations WHERE tenant_id = $1 AND user_id = $2";

impl Backend {
    /// Issues an invitation link (by its secret's hash) for an invited user, valid `ttl_ms`:
    /// the unused link sent before stops working, the invitation counts one more sending. The
    /// invitation row is written first, so two sendings at once queue on it and exactly one
    /// link stays live. `NotFound` for an unknown user, `Conflict` when the user is not invited.
    #[allow(clippy::too_many_arguments)]
    pub async fn issue_invitation(
        &self,
        tenant: &TenantId,
        user: &UserId,
        token_hash: &str,
        ttl_ms: i64,
        delivery: &str,
        mail: Option<&OutgoingMail>,
        actor: &Actor,
    ) -> Result<Invitation> {
        let mut tx = self.write_tx().await?;
        let now = now_ms();
        let written = sqlx::query(
            "INSERT INTO invitations (tenant_id, user_id, first_sent_at, last_sent_at, times_sent,
                 expires_at, delivery)
             SELECT $1, $2, $3, $3, 1, $4, $5 FROM users
             WHERE tenant_id = $1 AND id = $2 AND status = 'invited'
             ON CONFLICT (tenant_id, user_id) DO UPDATE SET
                 last_sent_at = excluded.last_sent_at,
                 times_sent = invitations.times_sent + 1,
                 expires_at = excluded.expires_at,
                 delivery = excluded.delivery,
                 accepted_at = NULL",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(now)
        .bind(now + ttl_ms)
        .bind(delivery)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        if written == 0 {
            return Err(not_invitable(&mut tx, tenant, user).await);
        }
        sqlx::query(
            "DELETE FROM user_links WHERE tenant_id = $1 AND user_id = $2 AND purpose = $3 AND used_at IS NULL",
        )
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(INVITATION)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query(
            "INSERT INTO user_links (token_hash, tenant_id, user_id, purpose, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash)
        .bind(tenant.as_str())
        .bind(user.as_str())
        .bind(INVITATION)
        .bind(now)
        .bind(now + ttl_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let row: Row = sqlx::query_as(SELECT)
            .bind(tenant.as_str())
            .bind(user.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        let invitation = invitation(row);
        if let Some(mail) = mail {
            self.enqueue_mail_in(&mut tx, mail).await?;
        }
        let change = Change::new("user.invite", "user", user).after(serde_json::json!({
            "times_sent": invitation.times_sent,
            "expires_at": invitation.expires_at,
            "delivery": delivery,
        }));
        commit(tx, tenant, actor, change).await?;
        Ok(invitation)
    }

    /// The invitation of a user of the tenant, if one was ever sent.
    pub async fn invitation(&self, tenant: &TenantId, user: &UserId) -> Result<Option<Invitation>> {
        let row: Option<Row> = sqlx::query_as(SELECT)
            .bind(tenant.as_str())
            .bind(user.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(row.map(invitation))
    }
}

/// Why no invitation was written: the user does not exist, or is not invited.
async fn not_invitable(tx: &mut Tx, tenant: &TenantId, user: &UserId) -> DomainError {
    let status: std::result::Result<Option<String>, _> =
        sqlx::query_scalar("SELECT status FROM users WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(user.as_str())
            .fetch_optional(&mut **tx)
            .await;
    match status {
        Ok(None) => DomainError::NotFound("user"),
        Ok(Some(s)) => DomainError::conflict(format!(
            "only an invited user can be sent an invitation; this user is {s}"
        )),
        Err(e) => db_error(e),
    }
}
