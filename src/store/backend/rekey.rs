//! The keys of identity kept in Unicode NFC (issue 13 §12): after the migration that made
//! `normalise` compose canonically equivalent spellings, the stored userNames and the
//! normalised keys of existing users are recomputed once, at the next start.

use super::{Backend, DB, db_error};
use crate::domain::Result;
use crate::domain::changes::{nfc, normalise};

impl Backend {
    /// Recomputes, once, the NFC userName and the normalised keys of every user and email
    /// whose stored form differs; a user whose new key another user already holds (two
    /// spellings of one name, both stored before) is left as they were and logged.
    pub(super) async fn rekey_unicode(&self) -> Result<()> {
        let pending: Option<bool> = sqlx::query_scalar("SELECT pending FROM unicode_rekey")
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        if pending != Some(true) {
            return Ok(());
        }
        let users: Vec<(String, String, String, String, String)> =
            sqlx::query_as("SELECT id, username, username_norm, email, email_norm FROM users")
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
        for (id, username, username_norm, email, email_norm) in users {
            let (name, name_key, email_key) =
                (nfc(&username), normalise(&username), normalise(&email));
            if name == username && name_key == username_norm && email_key == email_norm {
                continue;
            }
            let done = sqlx::query(
                "UPDATE users SET username = $2, username_norm = $3, email_norm = $4 WHERE id = $1",
            )
            .bind(&id)
            .bind(&name)
            .bind(&name_key)
            .bind(&email_key)
            .execute(&self.pool)
            .await;
            if let Err(e) = done {
                tracing::warn!(user = %id, error = %e, "userName or email not renormalised to NFC");
            }
        }
        let emails: Vec<(String, i32, String, String)> =
            sqlx::query_as("SELECT user_id, position, value, value_norm FROM user_emails")
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
        for (user, position, value, value_norm) in emails {
            let key = normalise(&value);
            if key != value_norm {
                sqlx::query::<DB>(
                    "UPDATE user_emails SET value_norm = $3 WHERE user_id = $1 AND position = $2",
                )
                .bind(&user)
                .bind(position)
                .bind(&key)
                .execute(&self.pool)
                .await
                .map_err(db_error)?;
            }
        }
        sqlx::query("DELETE FROM unicode_rekey")
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }
}
