//! SCIM user creation, one or many in one transaction (Bulk): the rows of all new users go in
//! with a few multi-row statements; if any of them is refused, each user is created again on its
//! own behind a savepoint, so one refused user leaves nothing behind and the others are kept.
//! A `userName` that a SCIM DELETE removed (with the `deactivate` setting) comes back: the
//! existing user is reactivated and updated, as Okta and Entra ID expect after a reassignment.

use super::batch::{Savepoint, Val, insert_rows, insert_rows_sharing};
use super::scim_fold::{folded, user_shadow_columns, user_shadows};
use super::scim_sql::{Bind, Sql};
use super::scim_users::{COLUMNS, audit_view, sign_in_email, users_by_sql, write_scim_fields};
use super::{Backend, Conn, DB, Tx, commit_many, db_error, placeholders};
use crate::domain::audit::{Actor, Change};
use crate::domain::changes::normalise;
use crate::domain::clock::now_us;
use crate::domain::scim::*;
use crate::domain::*;
use std::collections::HashMap;

/// Where every new user starts (SCIM's, and an admin creation's by default): a main membership of the Guest account, the Member role.
pub(super) struct Home {
    pub(super) account: String,
    pub(super) role: String,
    /// Whether the tenant lets users share a sign-in email (`ScimSettings::unique_emails`).
    pub(super) email_shared: bool,
}

pub(super) async fn home(conn: &mut Conn, tenant: &TenantId) -> Result<Home> {
    let (account, role, email_shared) =
        sqlx::query_as::<DB, (Option<String>, Option<String>, bool)>(sqlx::AssertSqlSafe(format!(
            "SELECT (SELECT id FROM accounts WHERE tenant_id = $1 AND kind = 'guest' AND builtin),
                (SELECT id FROM roles WHERE tenant_id = $1 AND template = $2), {}",
            super::users::email_shared("$1")
        )))
        .bind(tenant.as_str())
        .bind(RoleTemplate::Member.as_str())
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
    match (account, role) {
        (Some(account), Some(role)) => Ok(Home {
            account,
            role,
            email_shared,
        }),
        _ => Err(DomainError::Internal(format!(
            "tenant {tenant} has no Guest account or Member role"
        ))),
    }
}

/// Users a SCIM DELETE removed, by normalised user name, among the names of `writes`.
async fn removed_by_name(
    conn: &mut Conn,
    tenant: &TenantId,
    writes: &[ScimUserWrite],
) -> Result<HashMap<String, UserId>> {
    let names: Vec<String> = writes
        .iter()
        .map(|w| normalise(&w.fields.user_name))
        .collect();
    let mut out = HashMap::new();
    for chunk in names.chunks(500) {
        let mut q = sqlx::query_as::<DB, (String, String)>(sqlx::AssertSqlSafe(format!(
            "SELECT username_norm, id FROM users WHERE tenant_id = $1 AND scim_removed \
             AND status <> 'anonymised' AND username_norm IN ({})",
            placeholders(2, chunk.len())
        )))
        .bind(tenant.as_str());
        for n in chunk {
            q = q.bind(n.as_str());
        }
        for (name, id) in q.fetch_all(&mut *conn).await.map_err(db_error)? {
            out.insert(name, UserId(id));
        }
    }
    Ok(out)
}

/// A new user's row of `users`, in the column order of `insert_new` (the tenant and the
/// timestamps are shared by every row).
fn user_row(id: &UserId, w: &ScimUserWrite) -> Vec<Val> {
    let f = &w.fields;
    let email = sign_in_email(f);
    let status = if w.active {
        UserStatus::Active
    } else {
        UserStatus::Inactive
    };
    let mut row = vec![
        id.as_str().into(),
        f.user_name.as_str().into(),
        Val::Text(Some(normalise(&f.user_name))),
        Val::Text(Some(normalise(&email))),
        Val::Text(Some(email)),
        (&f.given_name).into(),
        (&f.family_name).into(),
        (&f.display_name).into(),
        (&f.locale).into(),
        (&f.timezone).into(),
        (&f.external_id).into(),
        status.as_str().into(),
        (&f.middle_name).into(),
        (&f.honorific_prefix).into(),
        (&f.honorific_suffix).into(),
        (&f.nick_name).into(),
        (&f.title).into(),
        (&f.user_type).into(),
        (&f.preferred_language).into(),
        (&f.employee_number).into(),
        (&f.cost_center).into(),
        (&f.organization).into(),
        (&f.division).into(),
        (&f.department).into(),
        (&w.password_hash).into(),
    ];
    row.extend(user_shadows(f).into_iter().map(Val::Text));
    row
}

/// A new user's emails, custom attributes, home membership and home role, as rows (without
/// what every row shares: see `insert_new`).
fn related_rows(
    id: &UserId,
    w: &ScimUserWrite,
    [emails, attributes, memberships, roles]: &mut [Vec<Vec<Val>>; 4],
) {
    for (i, e) in w.fields.emails.iter().enumerate() {
        emails.push(vec![
            id.as_str().into(),
            Val::Int(i as i64),
            e.value.as_str().into(),
            Val::Text(Some(normalise(&e.value))),
            (&e.kind).into(),
            Val::Text(folded(&e.kind)),
            Val::Bool(e.primary),
        ]);
    }
    for (attr, value) in &w.attributes {
        if let Some(v) = value {
            attributes.push(vec![
                id.as_str().into(),
                attr.as_str().into(),
                v.value.as_str().into(),
                Val::Float(v.num),
                Val::Text(Some(fold(&v.value))),
            ]);
        }
    }
    memberships.push(vec![
        Val::Text(Some(MembershipId::generate().0)),
        id.as_str().into(),
    ]);
    roles.push(vec![
        Val::Text(Some(RoleAssignmentId::generate().0)),
        id.as_str().into(),
    ]);
}

/// Inserts new users with their emails, home membership and role, custom attributes, other
/// values, addresses and manager: a few statements for all of them.
async fn insert_new(
    conn: &mut Conn,
    tenant: &TenantId,
    home: &Home,
    users: &[(&UserId, &ScimUserWrite)],
    now_us: i64,
) -> Result<()> {
    // The users' own instants are microseconds; memberships, roles and managers keep milliseconds.
    let now = now_us / 1_000;
    let rows: Vec<Vec<Val>> = users.iter().map(|(id, w)| user_row(id, w)).collect();
    let shadows = user_shadow_columns(None);
    insert_rows_sharing(
        conn,
        &format!(
            "INSERT INTO users (id, username, username_norm, email_norm, email, given_name, family_name,
                 display_name, locale, timezone, external_id, status, middle_name, honorific_prefix,
                 honorific_suffix, nick_name, title, user_type, preferred_language, employee_number, cost_center,
                 organization, division, department, password_hash, {shadows}, tenant_id, created_at, updated_at,
                 email_shared)"
        ),
        rows.first().map_or(0, Vec::len),
        vec![
            tenant.as_str().into(),
            Val::Int(now_us),
            Val::Int(now_us),
            Val::Bool(home.email_shared),
        ],
        rows,
    )
    .await?;
    let mut related: [Vec<Vec<Val>>; 4] = Default::default();
    for (id, w) in users {
        related_rows(id, w, &mut related);
    }
    let [emails, attributes, memberships, roles] = related;
    let tenant_only = || vec![Val::from(tenant.as_str())];
    for (head, width, shared, rows) in [
        (
            "INSERT INTO user_emails (user_id, position, value, value_norm, type, type_f, is_primary, tenant_id)",
            7,
            tenant_only(),
            emails,
        ),
        (
            "INSERT INTO user_attributes (user_id, attribute_id, value, num, value_f)",
            5,
            vec![],
            attributes,
        ),
        (
            "INSERT INTO memberships (id, user_id, tenant_id, account_id, is_main, created_at, updated_at)",
            2,
            vec![
                tenant.as_str().into(),
                home.account.as_str().into(),
                Val::Bool(true),
                Val::Int(now),
                Val::Int(now),
            ],
            memberships,
        ),
        (
            "INSERT INTO user_roles (id, user_id, tenant_id, role_id, is_main, created_at)",
            2,
            vec![
                tenant.as_str().into(),
                home.role.as_str().into(),
                Val::Bool(true),
                Val::Int(now),
            ],
            roles,
        ),
    ] {
        insert_rows_sharing(conn, head, width, shared, rows).await?;
    }
    let fields: Vec<(&UserId, &ScimUserFields)> =
        users.iter().map(|(id, w)| (*id, &w.fields)).collect();
    super::scim_users::insert_more(conn, super::scim_users::more_rows(tenant, &fields)).await?;
    let managers: Vec<(&UserId, &UserId)> = users
        .iter()
        .filter_map(|(id, w)| w.manager.as_ref().map(|m| (*id, m)))
        .collect();
    insert_managers(conn, tenant, &managers, now).await
}

/// Makes each manager the SCIM manager of their new user, once every manager is known to be
/// a visible user of the tenant.
async fn insert_managers(
    conn: &mut Conn,
    tenant: &TenantId,
    pairs: &[(&UserId, &UserId)],
    now: i64,
) -> Result<()> {
    let mut wanted: Vec<&str> = pairs.iter().map(|(_, m)| m.as_str()).collect();
    wanted.sort_unstable();
    wanted.dedup();
    if let Some(missing) = super::scim_users::first_missing_user(conn, tenant, &wanted).await? {
        return Err(DomainError::invalid(
            "manager",
            format!("the manager `{missing}` is not a user of this tenant"),
        ));
    }
    let rows: Vec<Vec<Val>> = pairs
        .iter()
        .map(|(user, manager)| {
            vec![
                Val::Text(Some(ManagementId::generate().0)),
                tenant.as_str().into(),
                manager.as_str().into(),
                user.as_str().into(),
                Val::Int(now),
                Val::Bool(true),
            ]
        })
        .collect();
    insert_rows(
        conn,
        "INSERT INTO management (id, tenant_id, manager_id, target_user_id, created_at, from_scim)",
        6,
        rows,
    )
    .await
}

/// Brings back a user a SCIM DELETE removed: visible again, with the new profile and state.
/// Returns the user as they were.
async fn reactivate(
    tx: &mut Tx,
    tenant: &TenantId,
    id: &UserId,
    w: &ScimUserWrite,
) -> Result<ScimUser> {
    super::holders::check_directory_reach(tx, tenant, id).await?;
    let before = users_by_ids(tx, tenant, std::slice::from_ref(id), true)
        .await?
        .pop()
        .ok_or(DomainError::NotFound("user"))?;
    let status = if w.active {
        UserStatus::Active
    } else {
        UserStatus::Inactive
    };
    // The new profile first: the email the user had when removed may be another's now, and
    // only the one they come back with must be free.
    write_scim_fields(tx, tenant, id, w, status, true).await?;
    sqlx::query("UPDATE users SET scim_removed = FALSE WHERE tenant_id = $1 AND id = $2")
        .bind(tenant.as_str())
        .bind(id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    super::users::write_attributes(tx, id, &w.attributes).await?;
    Ok(before)
}

/// Visible users (or users a SCIM DELETE removed, when `removed`) by id, in one query per 500
/// (and one per kind of related data).
async fn users_by_ids(
    conn: &mut Conn,
    tenant: &TenantId,
    ids: &[UserId],
    removed: bool,
) -> Result<Vec<ScimUser>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let mut sql = Sql::new(tenant.as_str());
        let list: Vec<String> = chunk
            .iter()
            .map(|id| sql.bind(Bind::Text(id.0.clone())))
            .collect();
        sql.text = format!(
            "SELECT {COLUMNS} FROM users u JOIN tenants t ON t.id = u.tenant_id \
             WHERE u.tenant_id = $1 AND {}u.scim_removed AND u.id IN ({})",
            if removed { "" } else { "NOT " },
            list.join(", ")
        );
        out.extend(users_by_sql(conn, sql).await?);
    }
    Ok(out)
}

/// The users the writes made, by id, as stored. A new user is what was written (nothing else
/// hangs off them yet), so only their custom attributes are read back (as values by key); a
/// reactivated user is read back whole.
async fn made_users(
    conn: &mut Conn,
    tenant: &TenantId,
    pairs: &[(&UserId, &ScimUserWrite)],
    outcomes: &[Result<Done>],
    now: i64,
) -> Result<HashMap<String, ScimUser>> {
    let writes: HashMap<&str, &ScimUserWrite> =
        pairs.iter().map(|(id, w)| (id.as_str(), *w)).collect();
    let (mut created, mut reactivated) = (vec![], vec![]);
    for o in outcomes {
        match o {
            Ok(Done::Created(id)) => created.push(id),
            Ok(Done::Reactivated(id, _)) => reactivated.push(id.clone()),
            Err(_) => {}
        }
    }
    let with_attributes: Vec<String> = created
        .iter()
        .filter(|id| {
            writes
                .get(id.as_str())
                .is_some_and(|w| w.attributes.iter().any(|(_, v)| v.is_some()))
        })
        .map(|id| id.0.clone())
        .collect();
    let mut attributes = super::users::load_attributes(&mut *conn, &with_attributes).await?;
    let mut out: HashMap<String, ScimUser> = users_by_ids(conn, tenant, &reactivated, false)
        .await?
        .into_iter()
        .map(|u| (u.id.0.clone(), u))
        .collect();
    for id in created {
        let Some(w) = writes.get(id.as_str()) else {
            continue;
        };
        let u = ScimUser {
            id: id.clone(),
            fields: w.fields.clone(),
            status: if w.active {
                UserStatus::Active
            } else {
                UserStatus::Inactive
            },
            is_owner: false,
            manager: w.manager.clone().map(|m| (m, None)),
            groups: vec![],
            attributes: attributes.remove(id.as_str()).unwrap_or_default(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        out.insert(id.0.clone(), u);
    }
    Ok(out)
}

/// What became of one write.
enum Done {
    Created(UserId),
    Reactivated(UserId, Box<ScimUser>),
}

/// Creates each user on its own behind a savepoint (reactivating removed ones), in order,
/// stopping after `max_errors` refused ones.
async fn one_by_one(
    tx: &mut Tx,
    tenant: &TenantId,
    home: &Home,
    pairs: &[(&UserId, &ScimUserWrite)],
    mut removed: HashMap<String, UserId>,
    max_errors: Option<usize>,
    now: i64,
) -> Result<Vec<Result<Done>>> {
    let mut outcomes = Vec::with_capacity(pairs.len());
    let mut errors = 0;
    for (id, w) in pairs {
        if max_errors.is_some_and(|m| errors >= m) {
            break;
        }
        let sp = Savepoint::start(tx, "scim_user").await?;
        let name = normalise(&w.fields.user_name);
        let done = match removed.get(&name).cloned() {
            // Once back, the user is live: the same name again is a conflict.
            Some(old) => reactivate(tx, tenant, &old, w)
                .await
                .inspect(|_| {
                    removed.remove(&name);
                })
                .map(|before| Done::Reactivated(old, Box::new(before))),
            None => insert_new(tx, tenant, home, &[(id, w)], now)
                .await
                .map(|()| Done::Created((*id).clone())),
        };
        match &done {
            Ok(_) => sp.release(tx).await?,
            Err(_) => {
                errors += 1;
                sp.rollback(tx).await?
            }
        }
        outcomes.push(done);
    }
    Ok(outcomes)
}

/// The answer to each write and the audit entries of the users made, from what was stored.
fn answers(
    outcomes: Vec<Result<Done>>,
    mut users: HashMap<String, ScimUser>,
) -> (Vec<Result<ScimUser>>, Vec<Change>) {
    let mut changes = Vec::with_capacity(outcomes.len());
    let answers = outcomes
        .into_iter()
        .map(|o| {
            let (id, change) = match o? {
                Done::Created(id) => (id, None),
                Done::Reactivated(id, before) => (id, Some(before)),
            };
            let u = users
                .remove(id.as_str())
                .ok_or(DomainError::NotFound("user"))?;
            changes.push(match change {
                None => Change::new("user.create", "user", &u.id).after(audit_view(&u)),
                Some(before) => Change::new(
                    if u.status == UserStatus::Active {
                        "user.reactivate"
                    } else {
                        "user.update"
                    },
                    "user",
                    &u.id,
                )
                .before(audit_view(&before))
                .after(audit_view(&u)),
            });
            Ok(u)
        })
        .collect();
    (answers, changes)
}

impl Backend {
    /// Creates users from SCIM resources, in order, in one transaction; each is created (or,
    /// for a user name a SCIM DELETE removed, reactivated) entirely or not at all. Stops after
    /// `max_errors` refused users, when given: the answer then has fewer entries than `writes`.
    pub async fn scim_create_users(
        &self,
        tenant: &TenantId,
        writes: &[ScimUserWrite],
        max_errors: Option<usize>,
        actor: &Actor,
    ) -> Result<Vec<Result<ScimUser>>> {
        let mut tx = self.write_tx().await?;
        let home = home(&mut tx, tenant).await?;
        let removed = removed_by_name(&mut tx, tenant, writes).await?;
        let now = now_us();
        let ids: Vec<UserId> = writes.iter().map(|_| UserId::generate()).collect();
        let pairs: Vec<(&UserId, &ScimUserWrite)> = ids.iter().zip(writes).collect();
        let outcomes = if removed.is_empty() && writes.len() == 1 {
            // Alone, the user's failure is the transaction's: nothing to keep.
            if let Err(e) = insert_new(&mut tx, tenant, &home, &pairs, now).await {
                return Ok(vec![Err(e)]);
            }
            vec![Ok(Done::Created(ids[0].clone()))]
        } else {
            // All at once first; if anything is refused, one by one to find out which.
            let sp = Savepoint::start(&mut tx, "scim_users").await?;
            let together = removed.is_empty()
                && insert_new(&mut tx, tenant, &home, &pairs, now)
                    .await
                    .is_ok();
            if together {
                sp.release(&mut tx).await?;
                ids.iter().map(|id| Ok(Done::Created(id.clone()))).collect()
            } else {
                sp.rollback(&mut tx).await?;
                one_by_one(&mut tx, tenant, &home, &pairs, removed, max_errors, now).await?
            }
        };
        let users = made_users(&mut tx, tenant, &pairs, &outcomes, now).await?;
        let (answers, changes) = answers(outcomes, users);
        commit_many(tx, tenant, actor, changes).await?;
        Ok(answers)
    }
}
