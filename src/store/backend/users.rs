//! Users: the profile row, custom attribute values, lifecycle, search, management scope.

use super::scim_fold::folded;
use super::{Backend, DB, Tx, commit, db_error};
use crate::domain::attributes::{AttributeChanges, to_json};
use crate::domain::audit::{Actor, Change};
use crate::domain::authz::UserScope;
use crate::domain::changes::{NewUser, UserProfile, normalise};
use crate::domain::clock::{format_date, now_ms, now_us, today};
use crate::domain::scim::fold;
use crate::domain::*;
use std::collections::BTreeMap;

pub(super) const USER_COLUMNS: &str = "u.id, u.username, u.email, u.email_verified, u.given_name, u.family_name, u.display_name, \
     u.phone, u.locale, u.timezone, u.external_id, u.status, u.created_at, u.updated_at, u.version, \
     COALESCE(u.id = t.owner_user_id, FALSE) AS is_owner";

#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    pub(super) id: String,
    username: String,
    email: String,
    email_verified: bool,
    given_name: Option<String>,
    family_name: Option<String>,
    display_name: Option<String>,
    phone: Option<String>,
    locale: Option<String>,
    timezone: Option<String>,
    external_id: Option<String>,
    status: String,
    created_at: i64,
    updated_at: i64,
    version: i64,
    is_owner: bool,
}

impl UserRow {
    pub(super) fn into_user(self, attributes: BTreeMap<String, serde_json::Value>) -> User {
        User {
            id: UserId(self.id),
            username: self.username,
            email: self.email,
            email_verified: self.email_verified,
            given_name: self.given_name,
            family_name: self.family_name,
            display_name: self.display_name,
            phone: self.phone,
            locale: self.locale,
            timezone: self.timezone,
            external_id: self.external_id,
            status: UserStatus::parse(&self.status).unwrap_or(UserStatus::Inactive),
            attributes,
            is_owner: self.is_owner,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        }
    }
}

#[derive(sqlx::FromRow)]
struct AttrRow {
    user_id: String,
    key: String,
    kind: String,
    value: String,
    num: Option<f64>,
}

/// An argument of a query built at run time.
pub enum Arg {
    Text(String),
    Int(i64),
}

/// SQL (an `IN (...)` operand) selecting the ids of the users `manager` manages: directly, or
/// through a current membership in an account they manage or in an account of a group they manage.
pub fn scope_sql(manager: usize, today: usize) -> String {
    let current = format!(
        "(ms.start_date IS NULL OR ms.start_date <= ${today}) AND (ms.end_date IS NULL OR ms.end_date >= ${today})"
    );
    format!(
        "SELECT mg.target_user_id FROM management mg WHERE mg.manager_id = ${manager} AND mg.target_user_id IS NOT NULL \
         UNION SELECT ms.user_id FROM memberships ms JOIN management mg ON mg.target_account_id = ms.account_id \
           WHERE mg.manager_id = ${manager} AND {current} \
         UNION SELECT ms.user_id FROM memberships ms JOIN account_group_members agm ON agm.account_id = ms.account_id \
           JOIN management mg ON mg.target_account_group_id = agm.group_id WHERE mg.manager_id = ${manager} AND {current}"
    )
}

/// The smallest string greater than every string starting with `prefix` (byte order).
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = last as u32 + 1;
        if (0xD800..0xE000).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

pub(super) fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The SQL value of `users.email_shared` for a user of the tenant bound at `tenant` (a
/// placeholder): whether the tenant lets users share a sign-in email (its SCIM setting
/// `unique_emails`, unique when never set), which takes them out of the unique email index. The
/// one rule for every writer of the column: admin API and SCIM writes, and the setting itself.
pub(super) fn email_shared(tenant: &str) -> String {
    format!(
        "COALESCE((SELECT NOT s.unique_emails FROM scim_settings s WHERE s.tenant_id = {tenant}), FALSE)"
    )
}

impl Backend {
    pub(super) async fn insert_user_tx(
        tx: &mut Tx,
        tenant: &TenantId,
        u: &NewUser,
        now_us: i64,
    ) -> Result<UserId> {
        // The user's own instants are microseconds; its membership and roles keep milliseconds.
        let now = now_us / 1_000;
        let id = UserId::generate();
        sqlx::query::<DB>(sqlx::AssertSqlSafe(format!(
            "INSERT INTO users (id, tenant_id, username, username_norm, email, email_norm, email_verified, given_name,
                 family_name, display_name, phone, locale, timezone, external_id, status, created_at, updated_at, version,
                 email_shared, given_name_f, family_name_f, display_name_f, locale_f, timezone_f)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, 1, {}, $17, $18, $19, $20, $21)",
            email_shared("$2")
        )))
        .bind(id.as_str())
        .bind(tenant.as_str())
        .bind(&u.username)
        .bind(normalise(&u.username))
        .bind(&u.email)
        .bind(normalise(&u.email))
        .bind(u.email_verified)
        .bind(&u.given_name)
        .bind(&u.family_name)
        .bind(&u.display_name)
        .bind(&u.phone)
        .bind(&u.locale)
        .bind(&u.timezone)
        .bind(&u.external_id)
        .bind(u.status.as_str())
        .bind(now_us)
        .bind(folded(&u.given_name))
        .bind(folded(&u.family_name))
        .bind(folded(&u.display_name))
        .bind(folded(&u.locale))
        .bind(folded(&u.timezone))
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
        write_attributes(tx, &id, &u.attributes).await?;
        sqlx::query(
            "INSERT INTO user_emails (user_id, tenant_id, position, value, value_norm, type, is_primary)
             VALUES ($1, $2, 0, $3, $4, NULL, TRUE)",
        )
        .bind(id.as_str())
        .bind(tenant.as_str())
        .bind(&u.email)
        .bind(normalise(&u.email))
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
        let account = match &u.main_account {
            Some(a) => a.clone(),
            None => sqlx::query_scalar::<DB, String>(
                "SELECT id FROM accounts WHERE tenant_id = $1 AND kind = 'guest' AND builtin",
            )
            .bind(tenant.as_str())
            .fetch_one(&mut **tx)
            .await
            .map(AccountId)
            .map_err(db_error)?,
        };
        super::accounts::insert_membership(
            tx,
            tenant,
            &id,
            &account,
            u.start_date,
            u.end_date,
            true,
            now,
        )
        .await?;
        let roles = if u.roles.is_empty() {
            vec![super::tenants::role_id_by_template(tx, tenant, RoleTemplate::Member).await?]
        } else {
            u.roles.clone()
        };
        for (i, role) in roles.iter().enumerate() {
            super::roles::insert_assignment(tx, tenant, &id, role, None, i == 0, now).await?;
        }
        Ok(id)
    }

    pub async fn insert_user(&self, tenant: &TenantId, u: &NewUser, actor: &Actor) -> Result<User> {
        let mut tx = self.write_tx().await?;
        let id = Self::insert_user_tx(&mut tx, tenant, u, now_us()).await?;
        let user = Self::user_tx(&mut tx, tenant, &id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("user.create", "user", &id).after(&user),
        )
        .await?;
        Ok(user)
    }

    pub(super) async fn user_tx(tx: &mut Tx, tenant: &TenantId, id: &UserId) -> Result<User> {
        let row = sqlx::query_as::<DB, UserRow>(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.tenant_id = $1 AND u.id = $2"
        )))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_error)?
        .ok_or(DomainError::NotFound("user"))?;
        let mut attrs = load_attributes(&mut **tx, std::slice::from_ref(&row.id)).await?;
        let a = attrs.remove(&row.id).unwrap_or_default();
        Ok(row.into_user(a))
    }

    /// The user, with their row locked until the transaction ends (PostgreSQL; SQLite's write
    /// transaction already excludes other writers), checked against the version a conditional
    /// write requires: read-modify-write without lost updates.
    pub(super) async fn locked_user_tx(
        tx: &mut Tx,
        tenant: &TenantId,
        id: &UserId,
        version: Option<i64>,
        actor: &Actor,
    ) -> Result<User> {
        super::holders::lock_user(tx, tenant, id, actor).await?;
        let user = Self::user_tx(tx, tenant, id).await?;
        match version {
            Some(v) if v != user.version => Err(DomainError::PreconditionFailed(v)),
            _ => Ok(user),
        }
    }

    /// The user with their custom attributes, in one query (a row per attribute).
    pub async fn get_user(&self, tenant: &TenantId, id: &UserId) -> Result<Option<User>> {
        let rows = sqlx::query::<DB>(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS}, {ATTRIBUTE_COLUMNS}
             FROM users u JOIN tenants t ON t.id = u.tenant_id
             LEFT JOIN (user_attributes ua JOIN attribute_defs d ON d.id = ua.attribute_id)
               ON ua.user_id = u.id
             WHERE u.tenant_id = $1 AND u.id = $2"
        )))
        .bind(tenant.as_str())
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        user_from_rows(&rows)
    }

    /// The user whose sign-in email is `email`. A user a SCIM DELETE removed or anonymised
    /// gives way to a current user with the same email; when several current users share it
    /// (a tenant that allows it), none is chosen.
    pub async fn user_by_email(&self, tenant: &TenantId, email: &str) -> Result<Option<User>> {
        let rows: Vec<(String, bool)> = sqlx::query_as(
            "SELECT id, (scim_removed OR status = 'anonymised') AS gone FROM users \
             WHERE tenant_id = $1 AND email_norm = $2 ORDER BY gone, id LIMIT 2",
        )
        .bind(tenant.as_str())
        .bind(normalise(email))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        match rows.as_slice() {
            [(_, false), (_, false)] => Ok(None),
            [(id, _), ..] => self.get_user(tenant, &UserId(id.clone())).await,
            [] => Ok(None),
        }
    }

    /// The users (at most two: enough to tell one from several) whose external id is `external_id`,
    /// anonymised and SCIM-removed ones left out.
    pub async fn users_by_external_id(
        &self,
        tenant: &TenantId,
        external_id: &str,
    ) -> Result<Vec<UserId>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM users WHERE tenant_id = $1 AND external_id = $2 \
             AND NOT scim_removed AND status <> 'anonymised' ORDER BY id LIMIT 2",
        )
        .bind(tenant.as_str())
        .bind(external_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(ids.into_iter().map(UserId).collect())
    }

    /// The user who signs in with `login`: the one whose sign-in email it is, or, when no
    /// current user or several have that email, the one whose username it is.
    pub async fn user_for_sign_in(&self, tenant: &TenantId, login: &str) -> Result<Option<User>> {
        if let Some(u) = self.user_by_email(tenant, login).await? {
            return Ok(Some(u));
        }
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM users WHERE tenant_id = $1 AND username_norm = $2")
                .bind(tenant.as_str())
                .bind(normalise(login))
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
        match id {
            Some(id) => self.get_user(tenant, &UserId(id)).await,
            None => Ok(None),
        }
    }

    /// Lists users in the query's order (by normalised email, or by creation), keyset-paged.
    pub async fn list_users(&self, tenant: &TenantId, q: &UserQuery) -> Result<Page<User>> {
        let mut args = vec![Arg::Text(tenant.0.clone())];
        let mut sql = format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.tenant_id = $1"
        );
        let push = |args: &mut Vec<Arg>, a: Arg| {
            args.push(a);
            args.len()
        };
        if let Some(prefix) = q
            .email_prefix
            .as_deref()
            .map(normalise)
            .filter(|p| !p.is_empty())
        {
            let lo = push(&mut args, Arg::Text(prefix.clone()));
            sql += &format!(" AND u.email_norm >= ${lo}");
            if let Some(hi) = prefix_upper_bound(&prefix) {
                let hi = push(&mut args, Arg::Text(hi));
                sql += &format!(" AND u.email_norm < ${hi}");
            }
        }
        if let Some(text) = q.text.as_deref().filter(|t| !t.is_empty()) {
            // The names' folded shadows, not lower(): SQLite's knows only ASCII.
            let p = push(
                &mut args,
                Arg::Text(format!("%{}%", like_escape(&fold(text)))),
            );
            sql += &format!(
                " AND (u.email_norm LIKE ${p} ESCAPE '\\' OR u.username_norm LIKE ${p} ESCAPE '\\' \
                 OR COALESCE(u.display_name_f, '') LIKE ${p} ESCAPE '\\' \
                 OR (COALESCE(u.given_name_f, '') || ' ' || COALESCE(u.family_name_f, '')) LIKE ${p} ESCAPE '\\')"
            );
        }
        if let Some(status) = q.status {
            let p = push(&mut args, Arg::Text(status.as_str().into()));
            sql += &format!(" AND u.status = ${p}");
        }
        let day = format_date(today());
        if let Some(account) = &q.account_id {
            let a = push(&mut args, Arg::Text(account.0.clone()));
            let d = push(&mut args, Arg::Text(day.clone()));
            sql += &format!(
                " AND u.id IN (SELECT ms.user_id FROM memberships ms WHERE ms.account_id = ${a} \
                 AND (ms.start_date IS NULL OR ms.start_date <= ${d}) AND (ms.end_date IS NULL OR ms.end_date >= ${d}))"
            );
        }
        if let Some(role) = &q.role_id {
            let p = push(&mut args, Arg::Text(role.0.clone()));
            sql += &format!(
                " AND u.id IN (SELECT ur.user_id FROM user_roles ur WHERE ur.role_id = ${p})"
            );
        }
        if let Some(group) = &q.group_id {
            let p = push(&mut args, Arg::Text(group.0.clone()));
            sql += &format!(
                " AND u.id IN (SELECT gm.user_id FROM group_members gm WHERE gm.group_id = ${p})"
            );
        }
        if let UserScope::ManagedBy(manager) = &q.scope {
            let m = push(&mut args, Arg::Text(manager.0.clone()));
            let d = push(&mut args, Arg::Text(day));
            sql += &format!(" AND u.id IN ({})", scope_sql(m, d));
        }
        // The position is (sort key, id): a removed user, or users of a tenant that lets them
        // share an email, may have the same email, and creation instants may be equal. The
        // range on the key keeps PostgreSQL on the index (where `a > x OR (a = x AND b > y)`
        // alone did not).
        if let Some((key, id)) = &q.after {
            let i = push(&mut args, Arg::Text(id.0.clone()));
            match q.sort {
                UserSort::Email => {
                    let e = push(&mut args, Arg::Text(key.clone()));
                    sql += &format!(
                        " AND u.email_norm >= ${e} AND (u.email_norm > ${e} OR u.id > ${i})"
                    );
                }
                UserSort::Oldest | UserSort::Newest => {
                    let at: i64 = key.parse().map_err(|_| {
                        DomainError::invalid("cursor", "`cursor` is not one this API gave out")
                    })?;
                    let c = push(&mut args, Arg::Int(at));
                    let (cmp, strict) = if q.sort == UserSort::Oldest {
                        (">=", ">")
                    } else {
                        ("<=", "<")
                    };
                    sql += &format!(
                        " AND u.created_at {cmp} ${c} AND (u.created_at {strict} ${c} OR u.id {strict} ${i})"
                    );
                }
            }
        }
        let limit = q.limit.clamp(1, 1000);
        let l = push(&mut args, Arg::Int(i64::from(limit) + 1));
        sql += match q.sort {
            UserSort::Email => " ORDER BY u.email_norm, u.id",
            UserSort::Oldest => " ORDER BY u.created_at, u.id",
            UserSort::Newest => " ORDER BY u.created_at DESC, u.id DESC",
        };
        sql += &format!(" LIMIT ${l}");

        let mut query = sqlx::query_as::<DB, UserRow>(sqlx::AssertSqlSafe(sql));
        for a in args {
            query = match a {
                Arg::Text(s) => query.bind(s),
                Arg::Int(i) => query.bind(i),
            };
        }
        let mut rows = query.fetch_all(&self.pool).await.map_err(db_error)?;
        let next_cursor = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|r| {
                let key = match q.sort {
                    UserSort::Email => normalise(&r.email),
                    UserSort::Oldest | UserSort::Newest => r.created_at.to_string(),
                };
                crate::domain::model::encode_cursor(&key, &r.id)
            })
        } else {
            None
        };
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut attrs = load_attributes(&self.pool, &ids).await?;
        let items = rows
            .into_iter()
            .map(|r| {
                let a = attrs.remove(&r.id).unwrap_or_default();
                r.into_user(a)
            })
            .collect();
        Ok(Page { items, next_cursor })
    }

    /// Writes a user's profile and attribute changes if the stored version is still `version`.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        version: i64,
        profile: &UserProfile,
        attributes: &AttributeChanges,
        action: &'static str,
        actor: &Actor,
    ) -> Result<User> {
        let mut tx = self.write_tx().await?;
        let before = Self::locked_user_tx(&mut tx, tenant, id, Some(version), actor).await?;
        write_profile(&mut tx, tenant, id, profile).await?;
        write_attributes(&mut tx, id, attributes).await?;
        if profile.status == UserStatus::Inactive && before.status != UserStatus::Inactive {
            end_sign_in_state(&mut tx, id).await?;
        }
        let after = Self::user_tx(&mut tx, tenant, id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new(action, "user", id)
                .before(&before)
                .after(&after),
        )
        .await?;
        Ok(after)
    }

    /// Removes a user and everything that hangs off them; the audit log keeps their last state.
    pub async fn delete_user(&self, tenant: &TenantId, id: &UserId, actor: &Actor) -> Result<()> {
        self.delete_user_if(tenant, id, None, actor).await
    }

    /// [`Self::delete_user`] if the stored version is still `version` (when given; 412 if not).
    pub async fn delete_user_if(
        &self,
        tenant: &TenantId,
        id: &UserId,
        version: Option<i64>,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let before = Self::locked_user_tx(&mut tx, tenant, id, version, actor).await?;
        if before.is_owner {
            return Err(DomainError::conflict(
                "the tenant's owner cannot be deleted; transfer ownership first",
            ));
        }
        sqlx::query("DELETE FROM users WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_str())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("user.delete", "user", id).before(&before),
        )
        .await?;
        Ok(())
    }

    /// Replaces a user's personal data for good. Kept: the id, memberships (history) and the audit
    /// trail, whose copies of the personal data are redacted. Removed: attribute values, roles,
    /// overrides, group memberships, management relations, notification choices and the
    /// notifications raised, API tokens, grants, sessions (and the WebAuthn ceremonies bound to
    /// them), second factors (WebAuthn credentials, authenticator app, recovery codes) and the
    /// count of wrong one-time codes.
    pub async fn anonymise_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        profile: &UserProfile,
        actor: &Actor,
    ) -> Result<User> {
        self.anonymise_user_if(tenant, id, None, profile, actor)
            .await
    }

    /// [`Self::anonymise_user`] if the stored version is still `version` (when given; 412 if
    /// not).
    pub async fn anonymise_user_if(
        &self,
        tenant: &TenantId,
        id: &UserId,
        version: Option<i64>,
        profile: &UserProfile,
        actor: &Actor,
    ) -> Result<User> {
        let mut tx = self.write_tx().await?;
        let before = Self::locked_user_tx(&mut tx, tenant, id, version, actor).await?;
        if before.is_owner {
            return Err(DomainError::conflict(
                "the tenant's owner cannot be anonymised; transfer ownership first",
            ));
        }
        write_profile(&mut tx, tenant, id, profile).await?;
        for sql in [
            "DELETE FROM user_attributes WHERE user_id = $1",
            "DELETE FROM user_emails WHERE user_id = $1 AND NOT is_primary",
            "DELETE FROM user_values WHERE user_id = $1",
            "DELETE FROM user_addresses WHERE user_id = $1",
            "DELETE FROM user_roles WHERE user_id = $1",
            "DELETE FROM permission_overrides WHERE user_id = $1",
            "DELETE FROM group_members WHERE user_id = $1",
            "DELETE FROM management WHERE manager_id = $1 OR target_user_id = $1",
            "DELETE FROM notification_prefs WHERE user_id = $1",
            "DELETE FROM api_tokens WHERE user_id = $1",
            "DELETE FROM grants WHERE user_id = $1",
            "DELETE FROM mfa_ceremonies WHERE session_id IN (SELECT id FROM sessions WHERE user_id = $1)",
            "DELETE FROM sessions WHERE user_id = $1",
            "DELETE FROM webauthn_credentials WHERE user_id = $1",
            "DELETE FROM totp_factors WHERE user_id = $1",
            "DELETE FROM recovery_codes WHERE user_id = $1",
            "DELETE FROM mfa_failures WHERE user_id = $1",
            "DELETE FROM sign_in_throttle WHERE subject = 'user:' || $1 OR subject = 'mfa:' || $1 \
             OR subject LIKE 'device:' || $1 || ':%'",
            "DELETE FROM notifications WHERE user_id = $1",
            "UPDATE users SET password_hash = NULL WHERE id = $1",
        ] {
            sqlx::query(sql)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        let redacted =
            serde_json::json!({ "id": id, "redacted": "personal data removed by anonymisation" })
                .to_string();
        sqlx::query(
            "UPDATE audit_log SET before = CASE WHEN before IS NULL THEN NULL ELSE $1 END,
                                  after = CASE WHEN after IS NULL THEN NULL ELSE $1 END
             WHERE tenant_id = $2 AND target_kind = 'user' AND target_id = $3",
        )
        .bind(&redacted)
        .bind(tenant.as_str())
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let after = Self::user_tx(&mut tx, tenant, id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("user.anonymise", "user", id).after(&after),
        )
        .await?;
        Ok(after)
    }

    /// Whether `manager` manages `user` (directly or through a current membership).
    pub async fn manages_user(
        &self,
        tenant: &TenantId,
        manager: &UserId,
        user: &UserId,
    ) -> Result<bool> {
        let sql = format!(
            "SELECT COUNT(*) FROM users u WHERE u.tenant_id = $1 AND u.id = $2 AND u.id IN ({})",
            scope_sql(3, 4)
        );
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(tenant.as_str())
            .bind(user.as_str())
            .bind(manager.as_str())
            .bind(format_date(today()))
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(n > 0)
    }

    pub async fn count_users(&self, tenant: &TenantId) -> Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE tenant_id = $1")
            .bind(tenant.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)
    }
}

/// Deactivation takes effect at once: the user's sessions end, their grants (refresh tokens,
/// and the access tokens that name them) are revoked and their unused authorization codes are
/// deleted, in the transaction that deactivates them.
pub(super) async fn end_sign_in_state(tx: &mut Tx, user: &UserId) -> Result<()> {
    let now = now_ms();
    sqlx::query("UPDATE sessions SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL")
        .bind(now)
        .bind(user.as_str())
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    sqlx::query(
        "UPDATE grants SET revoked_at = $1, revoked_reason = 'user deactivated'
         WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(user.as_str())
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    sqlx::query("DELETE FROM authorization_codes WHERE user_id = $1 AND NOT used")
        .bind(user.as_str())
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    Ok(())
}

pub(super) async fn write_profile(
    tx: &mut Tx,
    tenant: &TenantId,
    id: &UserId,
    p: &UserProfile,
) -> Result<()> {
    sqlx::query::<DB>(sqlx::AssertSqlSafe(format!(
        "UPDATE users SET username = $3, username_norm = $4, email = $5, email_norm = $6, email_verified = $7,
             given_name = $8, family_name = $9, display_name = $10, phone = $11, locale = $12, timezone = $13,
             external_id = $14, status = $15, updated_at = $16, version = version + 1, email_shared = {},
             given_name_f = $17, family_name_f = $18, display_name_f = $19, locale_f = $20, timezone_f = $21
         WHERE tenant_id = $1 AND id = $2",
        email_shared("$1")
    )))
    .bind(tenant.as_str())
    .bind(id.as_str())
    .bind(&p.username)
    .bind(normalise(&p.username))
    .bind(&p.email)
    .bind(normalise(&p.email))
    .bind(p.email_verified)
    .bind(&p.given_name)
    .bind(&p.family_name)
    .bind(&p.display_name)
    .bind(&p.phone)
    .bind(&p.locale)
    .bind(&p.timezone)
    .bind(&p.external_id)
    .bind(p.status.as_str())
    .bind(now_us())
    .bind(folded(&p.given_name))
    .bind(folded(&p.family_name))
    .bind(folded(&p.display_name))
    .bind(folded(&p.locale))
    .bind(folded(&p.timezone))
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    // The sign-in email is the primary one of the user's emails (SCIM `emails`).
    sqlx::query(
        "UPDATE user_emails SET value = $2, value_norm = $3 WHERE user_id = $1 AND is_primary",
    )
    .bind(id.as_str())
    .bind(&p.email)
    .bind(normalise(&p.email))
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    Ok(())
}

pub(super) async fn write_attributes(
    tx: &mut Tx,
    user: &UserId,
    changes: &AttributeChanges,
) -> Result<()> {
    for (attr, value) in changes {
        match value {
            Some(v) => sqlx::query(
                "INSERT INTO user_attributes (user_id, attribute_id, value, num, value_f) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (user_id, attribute_id) DO UPDATE
                 SET value = excluded.value, num = excluded.num, value_f = excluded.value_f",
            )
            .bind(user.as_str())
            .bind(attr.as_str())
            .bind(&v.value)
            .bind(v.num)
            .bind(fold(&v.value)),
            None => sqlx::query("DELETE FROM user_attributes WHERE user_id = $1 AND attribute_id = $2")
                .bind(user.as_str())
                .bind(attr.as_str()),
        }
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    }
    Ok(())
}

/// A stored custom attribute value as JSON, by the kind its definition names.
pub(super) fn attribute_json(kind: &str, value: &str, num: Option<f64>) -> serde_json::Value {
    to_json(
        AttributeKind::parse(kind).unwrap_or(AttributeKind::Text),
        value,
        num,
    )
}

pub(super) async fn load_attributes<'e, E>(
    exec: E,
    user_ids: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, serde_json::Value>>>
where
    E: sqlx::Executor<'e, Database = DB>,
{
    let mut out: BTreeMap<String, BTreeMap<String, serde_json::Value>> = BTreeMap::new();
    if user_ids.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT ua.user_id, d.key, d.kind, ua.value, ua.num FROM user_attributes ua
         JOIN attribute_defs d ON d.id = ua.attribute_id WHERE ua.user_id IN ({})",
        super::in_order(1, user_ids.len())
    );
    let mut q = sqlx::query_as::<DB, AttrRow>(sqlx::AssertSqlSafe(sql));
    for id in user_ids {
        q = q.bind(id.as_str());
    }
    for r in q.fetch_all(exec).await.map_err(db_error)? {
        out.entry(r.user_id)
            .or_default()
            .insert(r.key, attribute_json(&r.kind, &r.value, r.num));
    }
    Ok(out)
}

/// The columns that, after [`USER_COLUMNS`], bring a user's custom attributes (a row each) from
/// `user_attributes ua JOIN attribute_defs d`.
pub(super) const ATTRIBUTE_COLUMNS: &str =
    "d.key AS attr_key, d.kind AS attr_kind, ua.value AS attr_value, ua.num AS attr_num";

/// The user of rows selected with [`USER_COLUMNS`] and [`ATTRIBUTE_COLUMNS`] (a row per
/// attribute, or one row with none); `None` without rows, or when a `LEFT JOIN users` found
/// none (a NULL `id`).
pub(super) fn user_from_rows(rows: &[<DB as sqlx::Database>::Row]) -> Result<Option<User>> {
    use sqlx::{FromRow, Row};
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    if first
        .try_get::<Option<String>, _>("id")
        .map_err(db_error)?
        .is_none()
    {
        return Ok(None);
    }
    let user = UserRow::from_row(first).map_err(db_error)?;
    let mut attributes = BTreeMap::new();
    for row in rows {
        let key: Option<String> = row.try_get("attr_key").map_err(db_error)?;
        let (Some(key), Some(kind), Some(value)) = (
            key,
            row.try_get::<Option<String>, _>("attr_kind")
                .map_err(db_error)?,
            row.try_get::<Option<String>, _>("attr_value")
                .map_err(db_error)?,
        ) else {
            continue;
        };
        let num: Option<f64> = row.try_get("attr_num").map_err(db_error)?;
        attributes.insert(key, attribute_json(&kind, &value, num));
    }
    Ok(Some(user.into_user(attributes)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn prefix_bounds() {
        assert_eq!(super::prefix_upper_bound("abc").as_deref(), Some("abd"));
        assert_eq!(
            super::prefix_upper_bound("a\u{10FFFF}").as_deref(),
            Some("b")
        );
        assert_eq!(super::prefix_upper_bound(""), None);
    }
}
