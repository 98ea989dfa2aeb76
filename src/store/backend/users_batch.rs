//! Many new users in one transaction (the CSV import's creations), the way SCIM `/Bulk` creates
//! them: all at once with a few multi-row `INSERT`s ([`super::batch`]); if any of them is
//! refused, the transaction rolls back to a savepoint and each user is created again on its own
//! behind a savepoint, so a refused one leaves nothing behind and the others are kept. Either
//! way each user gets the same audit entry as a single creation writes.

use super::batch::{Savepoint, Val, insert_rows_sharing};
use super::scim_create::{Home, home};
use super::scim_fold::folded;
use super::users::{USER_COLUMNS, UserRow, load_attributes};
use super::{Backend, Conn, DB, DIALECT, Tx, commit_many, db_error, in_order};
use crate::domain::audit::{Actor, Change};
use crate::domain::changes::{NewUser, UserKey, normalise};
use crate::domain::clock::{format_date, now_us};
use crate::domain::scim::fold;
use crate::domain::*;
use std::collections::{BTreeSet, HashMap};

/// Ids per `IN (...)` list.
const IN_CHUNK: usize = 500;

impl Backend {
    /// Inserts `users` in order; the outcome of each.
    pub async fn insert_users(
        &self,
        tenant: &TenantId,
        users: &[NewUser],
        actor: &Actor,
    ) -> Result<Vec<Result<User>>> {
        let mut tx = self.write_tx().await?;
        let now = now_us();
        let ids: Vec<UserId> = users.iter().map(|_| UserId::generate()).collect();
        let sp = Savepoint::start(&mut tx, "import_users").await?;
        let outcomes: Vec<Result<UserId>> =
            match insert_many(&mut tx, tenant, &ids, users, now).await {
                Ok(()) => {
                    sp.release(&mut tx).await?;
                    ids.into_iter().map(Ok).collect()
                }
                Err(DomainError::Contention) => return Err(DomainError::Contention),
                Err(_) => {
                    sp.rollback(&mut tx).await?;
                    one_by_one(&mut tx, tenant, users, now).await?
                }
            };
        let made: Vec<String> = outcomes
            .iter()
            .filter_map(|o| o.as_ref().ok().map(|id| id.0.clone()))
            .collect();
        let mut stored = users_by_ids(&mut tx, tenant, &made).await?;
        let mut changes = Vec::with_capacity(made.len());
        let outcomes = outcomes
            .into_iter()
            .map(|o| {
                let user = stored
                    .remove(o?.as_str())
                    .ok_or_else(|| DomainError::Internal("a new user went missing".into()))?;
                changes.push(Change::new("user.create", "user", &user.id).after(&user));
                Ok(user)
            })
            .collect();
        commit_many(tx, tenant, actor, changes).await?;
        Ok(outcomes)
    }
}

/// Each user on its own behind a savepoint: the same statements as a single creation.
async fn one_by_one(
    tx: &mut Tx,
    tenant: &TenantId,
    users: &[NewUser],
    now: i64,
) -> Result<Vec<Result<UserId>>> {
    let mut outcomes = Vec::with_capacity(users.len());
    for u in users {
        let sp = Savepoint::start(tx, "import_user").await?;
        match Backend::insert_user_tx(tx, tenant, u, now).await {
            Ok(id) => {
                sp.release(tx).await?;
                outcomes.push(Ok(id));
            }
            Err(DomainError::Contention) => return Err(DomainError::Contention),
            Err(e) => {
                sp.rollback(tx).await?;
                outcomes.push(Err(e));
            }
        }
    }
    Ok(outcomes)
}

/// Refuses (as a whole) a batch naming an account or a role that is not the tenant's: the
/// checks a single creation makes one statement at a time, here one per kind.
async fn check_known(conn: &mut Conn, tenant: &TenantId, users: &[NewUser]) -> Result<()> {
    let accounts: BTreeSet<&str> = users
        .iter()
        .filter_map(|u| u.main_account.as_ref().map(AccountId::as_str))
        .collect();
    let roles: BTreeSet<&str> = users
        .iter()
        .flat_map(|u| u.roles.iter().map(RoleId::as_str))
        .collect();
    for (table, wanted) in [("accounts", accounts), ("roles", roles)] {
        let wanted: Vec<&str> = wanted.into_iter().collect();
        for chunk in wanted.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT count(*) FROM {table} WHERE tenant_id = {} AND id IN ({})",
                in_order(1, 1),
                in_order(2, chunk.len())
            );
            let mut q =
                sqlx::query_scalar::<DB, i64>(sqlx::AssertSqlSafe(sql)).bind(tenant.as_str());
            for id in chunk {
                q = q.bind(*id);
            }
            let found = q.fetch_one(&mut *conn).await.map_err(db_error)?;
            if usize::try_from(found).ok() != Some(chunk.len()) {
                return Err(DomainError::invalid(
                    table,
                    format!("a new user names {table} this tenant does not have"),
                ));
            }
        }
    }
    Ok(())
}

/// A new user's row of `users`, in the column order of [`insert_many`] (the tenant, the
/// timestamps, the version and the shared-email flag are shared by every row).
fn user_row(id: &UserId, u: &NewUser) -> Vec<Val> {
    vec![
        id.as_str().into(),
        u.username.as_str().into(),
        Val::Text(Some(normalise(&u.username))),
        u.email.as_str().into(),
        Val::Text(Some(normalise(&u.email))),
        Val::Bool(u.email_verified),
        (&u.given_name).into(),
        (&u.family_name).into(),
        (&u.display_name).into(),
        (&u.phone).into(),
        (&u.locale).into(),
        (&u.timezone).into(),
        (&u.external_id).into(),
        u.status.as_str().into(),
        Val::Text(folded(&u.given_name)),
        Val::Text(folded(&u.family_name)),
        Val::Text(folded(&u.display_name)),
        Val::Text(folded(&u.locale)),
        Val::Text(folded(&u.timezone)),
    ]
}

/// Rows of the tables a new user's creation writes besides `users`.
#[derive(Default)]
struct Related {
    emails: Vec<Vec<Val>>,
    attributes: Vec<Vec<Val>>,
    memberships: Vec<Vec<Val>>,
    roles: Vec<Vec<Val>>,
}

impl Related {
    fn add(&mut self, id: &UserId, u: &NewUser, home: &Home) {
        self.emails.push(vec![
            id.as_str().into(),
            u.email.as_str().into(),
            Val::Text(Some(normalise(&u.email))),
        ]);
        for (attr, value) in &u.attributes {
            if let Some(v) = value {
                self.attributes.push(vec![
                    id.as_str().into(),
                    attr.as_str().into(),
                    v.value.as_str().into(),
                    Val::Float(v.num),
                    Val::Text(Some(fold(&v.value))),
                ]);
            }
        }
        let account = u
            .main_account
            .as_ref()
            .map_or(home.account.as_str(), AccountId::as_str);
        self.memberships.push(vec![
            Val::Text(Some(MembershipId::generate().0)),
            id.as_str().into(),
            account.into(),
            Val::Text(u.start_date.map(format_date)),
            Val::Text(u.end_date.map(format_date)),
        ]);
        let member = [RoleId(home.role.clone())];
        let roles = if u.roles.is_empty() {
            &member[..]
        } else {
            &u.roles[..]
        };
        for (i, role) in roles.iter().enumerate() {
            self.roles.push(vec![
                Val::Text(Some(RoleAssignmentId::generate().0)),
                id.as_str().into(),
                role.as_str().into(),
                Val::Bool(i == 0),
            ]);
        }
    }
}

/// Inserts every user of `users` (with the ids `ids`) and what hangs off them: a few statements
/// for all of them. Any refusal is the whole batch's.
async fn insert_many(
    tx: &mut Tx,
    tenant: &TenantId,
    ids: &[UserId],
    users: &[NewUser],
    now_us: i64,
) -> Result<()> {
    check_known(tx, tenant, users).await?;
    let home = home(tx, tenant).await?;
    // The users' own instants are microseconds; memberships and roles keep milliseconds.
    let now = now_us / 1_000;
    let rows: Vec<Vec<Val>> = ids
        .iter()
        .zip(users)
        .map(|(id, u)| user_row(id, u))
        .collect();
    insert_rows_sharing(
        tx,
        "INSERT INTO users (id, username, username_norm, email, email_norm, email_verified, given_name,
             family_name, display_name, phone, locale, timezone, external_id, status, given_name_f,
             family_name_f, display_name_f, locale_f, timezone_f, tenant_id, created_at, updated_at, version,
             email_shared)",
        19,
        vec![
            tenant.as_str().into(),
            Val::Int(now_us),
            Val::Int(now_us),
            Val::Int(1),
            Val::Bool(home.email_shared),
        ],
        rows,
    )
    .await?;
    let mut related = Related::default();
    for (id, u) in ids.iter().zip(users) {
        related.add(id, u, &home);
    }
    for (head, width, shared, rows) in [
        (
            "INSERT INTO user_emails (user_id, value, value_norm, tenant_id, position, type, is_primary)",
            3,
            vec![
                tenant.as_str().into(),
                Val::Int(0),
                Val::Text(None),
                Val::Bool(true),
            ],
            related.emails,
        ),
        (
            "INSERT INTO user_attributes (user_id, attribute_id, value, num, value_f)",
            5,
            vec![],
            related.attributes,
        ),
        (
            "INSERT INTO memberships (id, user_id, account_id, start_date, end_date, tenant_id, is_main, created_at, updated_at)",
            5,
            vec![
                tenant.as_str().into(),
                Val::Bool(true),
                Val::Int(now),
                Val::Int(now),
            ],
            related.memberships,
        ),
        (
            "INSERT INTO user_roles (id, user_id, role_id, is_main, tenant_id, created_at)",
            4,
            vec![tenant.as_str().into(), Val::Int(now)],
            related.roles,
        ),
    ] {
        insert_rows_sharing(tx, head, width, shared, rows).await?;
    }
    Ok(())
}

/// The users with these ids, as stored, by id.
async fn users_by_ids(
    conn: &mut Conn,
    tenant: &TenantId,
    ids: &[String],
) -> Result<HashMap<String, User>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN tenants t ON t.id = u.tenant_id \
             WHERE u.tenant_id = {} AND u.id IN ({})",
            in_order(1, 1),
            in_order(2, chunk.len())
        );
        let mut q = sqlx::query_as::<DB, UserRow>(sqlx::AssertSqlSafe(sql)).bind(tenant.as_str());
        for id in chunk {
            q = q.bind(id.as_str());
        }
        let rows = q.fetch_all(&mut *conn).await.map_err(db_error)?;
        let mut attributes = load_attributes(&mut *conn, chunk).await?;
        for row in rows {
            let a = attributes.remove(&row.id).unwrap_or_default();
            let user = row.into_user(a);
            out.insert(user.id.0.clone(), user);
        }
    }
    Ok(out)
}

impl Backend {
    /// Refreshes the planner's statistics of the tables a bulk import fills (PostgreSQL; SQLite
    /// plans without them). Without it PostgreSQL keeps planning with the row counts of before
    /// the import and reads a chunk's users by scanning the whole tenant.
    pub async fn refresh_statistics(&self) -> Result<()> {
        if DIALECT == crate::store::Dialect::Postgres {
            sqlx::query(
                "ANALYZE users, user_emails, user_attributes, memberships, user_roles, group_members",
            )
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        }
        Ok(())
    }

    /// The users with these ids, by id.
    pub async fn get_users(
        &self,
        tenant: &TenantId,
        ids: &[UserId],
    ) -> Result<HashMap<UserId, User>> {
        let ids: Vec<String> = ids.iter().map(|i| i.0.clone()).collect();
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        let users = users_by_ids(&mut conn, tenant, &ids).await?;
        Ok(users.into_values().map(|u| (u.id.clone(), u)).collect())
    }
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: String,
    email_norm: String,
    external_id: Option<String>,
    scim_removed: bool,
    status: String,
}

impl Backend {
    /// The users whose normalised email is one of `emails` (normalised here) or whose external
    /// id is one of `external_ids`: what matching an import's rows to users needs, for many
    /// rows in a few queries.
    pub async fn users_matching(
        &self,
        tenant: &TenantId,
        emails: &[String],
        external_ids: &[String],
    ) -> Result<Vec<UserKey>> {
        let emails: Vec<String> = emails.iter().map(|e| normalise(e)).collect();
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        let (mut out, mut seen) = (Vec::new(), std::collections::HashSet::new());
        for (column, values) in [
            ("email_norm", &emails),
            ("external_id", &external_ids.to_vec()),
        ] {
            for chunk in values.chunks(IN_CHUNK) {
                let sql = format!(
                    "SELECT id, email_norm, external_id, scim_removed, status FROM users \
                     WHERE tenant_id = {} AND {column} IN ({})",
                    in_order(1, 1),
                    in_order(2, chunk.len())
                );
                let mut q =
                    sqlx::query_as::<DB, KeyRow>(sqlx::AssertSqlSafe(sql)).bind(tenant.as_str());
                for v in chunk {
                    q = q.bind(v.as_str());
                }
                for r in q.fetch_all(&mut *conn).await.map_err(db_error)? {
                    if !seen.insert(r.id.clone()) {
                        continue;
                    }
                    out.push(UserKey {
                        id: UserId(r.id),
                        email_norm: r.email_norm,
                        external_id: r.external_id,
                        scim_removed: r.scim_removed,
                        status: UserStatus::parse(&r.status).unwrap_or(UserStatus::Inactive),
                    });
                }
            }
        }
        Ok(out)
    }
}
