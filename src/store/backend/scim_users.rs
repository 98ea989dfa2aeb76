//! Users as SCIM reads and writes them: filtered, sorted and paged lists evaluated in the
//! database, and whole-profile writes (emails, enterprise fields, manager, custom attributes,
//! lifecycle) in one transaction each.

use super::batch::{Val, insert_rows};
use super::scim_fold::{folded, user_shadow_columns, user_shadows};
use super::scim_sql::{Bind, Sql, driven_by_subquery, user_filter, user_sort};
use super::{Backend, DB, DIALECT, Tx, commit, db_error, placeholders};
use crate::domain::audit::{Actor, Change};
use crate::domain::changes::normalise;
use crate::domain::clock::{now_ms, now_us};
use crate::domain::mail::OutgoingMail;
use crate::domain::scim::*;
use crate::domain::*;
use std::collections::{BTreeMap, HashMap};

/// Binds every argument of a query built at run time, in order.
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Bind::Text(s) => q.bind(s),
                Bind::Int(i) => q.bind(i),
                Bind::Float(f) => q.bind(f),
                Bind::Bool(b) => q.bind(b),
            };
        }
        q
    }};
}
pub(super) use bind_args;

pub(super) const COLUMNS: &str = "u.id, u.username, u.external_id, u.given_name, u.family_name, u.middle_name, \
     u.honorific_prefix, u.honorific_suffix, u.display_name, u.nick_name, u.title, u.user_type, \
     u.preferred_language, u.locale, u.timezone, u.employee_number, u.cost_center, u.organization, \
     u.division, u.department, u.status, u.created_at, u.updated_at, u.version, \
     COALESCE(u.id = t.owner_user_id, FALSE) AS is_owner";

/// Users SCIM sees: not removed by a SCIM DELETE, not anonymised.
const VISIBLE: &str = "u.tenant_id = $1 AND NOT u.scim_removed AND u.status <> 'anonymised'";
/// The same, for SQLite when a subquery's index should drive the search (`+` keeps the planner
/// off the tenant index, which would otherwise scan every user of the tenant).
const VISIBLE_DRIVEN: &str =
    "+u.tenant_id = $1 AND NOT u.scim_removed AND u.status <> 'anonymised'";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    username: String,
    external_id: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    middle_name: Option<String>,
    honorific_prefix: Option<String>,
    honorific_suffix: Option<String>,
    display_name: Option<String>,
    nick_name: Option<String>,
    title: Option<String>,
    user_type: Option<String>,
    preferred_language: Option<String>,
    locale: Option<String>,
    timezone: Option<String>,
    employee_number: Option<String>,
    cost_center: Option<String>,
    organization: Option<String>,
    division: Option<String>,
    department: Option<String>,
    status: String,
    created_at: i64,
    updated_at: i64,
    version: i64,
    is_owner: bool,
}

impl Row {
    fn into_user(self, extra: &mut Extra) -> ScimUser {
        let fields = ScimUserFields {
            user_name: self.username,
            external_id: self.external_id,
            given_name: self.given_name,
            family_name: self.family_name,
            middle_name: self.middle_name,
            honorific_prefix: self.honorific_prefix,
            honorific_suffix: self.honorific_suffix,
            display_name: self.display_name,
            nick_name: self.nick_name,
            title: self.title,
            user_type: self.user_type,
            preferred_language: self.preferred_language,
            locale: self.locale,
            timezone: self.timezone,
            emails: extra.emails.remove(&self.id).unwrap_or_default(),
            plurals: extra.plurals.remove(&self.id).unwrap_or_default(),
            addresses: extra.addresses.remove(&self.id).unwrap_or_default(),
            employee_number: self.employee_number,
            cost_center: self.cost_center,
            organization: self.organization,
            division: self.division,
            department: self.department,
        };
        ScimUser {
            manager: extra.managers.remove(&self.id),
            groups: extra.groups.remove(&self.id).unwrap_or_default(),
            attributes: extra.attributes.remove(&self.id).unwrap_or_default(),
            id: UserId(self.id),
            fields,
            status: UserStatus::parse(&self.status).unwrap_or(UserStatus::Inactive),
            is_owner: self.is_owner,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        }
    }
}

/// A row of a list page: the user and how many users match in all.
#[derive(sqlx::FromRow)]
struct PageRow {
    #[sqlx(flatten)]
    row: Row,
    total: i64,
}

/// What hangs off a page of users, loaded in one query (`EXTRA_SQL`).
#[derive(Default)]
struct Extra {
    emails: HashMap<String, Vec<Email>>,
    plurals: HashMap<String, BTreeMap<Plural, Vec<PluralValue>>>,
    addresses: HashMap<String, Vec<Address>>,
    managers: HashMap<String, (UserId, Option<String>)>,
    groups: HashMap<String, Vec<(GroupId, String)>>,
    attributes: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
}

/// One row of everything that hangs off a page of users, read in one query: `k` says what
/// the row is and the meaning of the text columns `a`..`g` (see `EXTRA_SQL`).
#[derive(sqlx::FromRow)]
struct ExtraRow {
    k: i32,
    user_id: String,
    a: Option<String>,
    b: Option<String>,
    c: Option<String>,
    d: Option<String>,
    e: Option<String>,
    f: Option<String>,
    g: Option<String>,
    flag: Option<bool>,
    num: Option<f64>,
}

const EXTRA_EMAIL: i32 = 1;
const EXTRA_MANAGER: i32 = 2;
const EXTRA_GROUP: i32 = 3;
const EXTRA_ATTRIBUTE: i32 = 4;
const EXTRA_VALUE: i32 = 5;
const EXTRA_ADDRESS: i32 = 6;

/// The extras of the users `{ids}` (a placeholder list), each kind a branch of one UNION ALL:
/// emails, the SCIM manager, groups, custom attributes, plural values, addresses. `st` and
/// `pos` order each kind as it is shown (groups by name; the rest as stored).
const EXTRA_SQL: &str = "\
SELECT 1 AS k, user_id, value AS a, type AS b, CAST(NULL AS TEXT) AS c, CAST(NULL AS TEXT) AS d, \
  CAST(NULL AS TEXT) AS e, CAST(NULL AS TEXT) AS f, CAST(NULL AS TEXT) AS g, is_primary AS flag, \
  CAST(NULL AS DOUBLE PRECISION) AS num, '' AS st, position AS pos \
  FROM user_emails WHERE user_id IN ({ids}) \
UNION ALL SELECT 2, m.target_user_id, m.manager_id, COALESCE(mu.display_name, mu.username), NULL, NULL, \
  NULL, NULL, NULL, NULL, NULL, '', 0 \
  FROM management m JOIN users mu ON mu.id = m.manager_id WHERE m.from_scim AND m.target_user_id IN ({ids}) \
UNION ALL SELECT 3, gm.user_id, g.id, g.display_name, NULL, NULL, NULL, NULL, NULL, NULL, NULL, g.display_name, 0 \
  FROM group_members gm JOIN groups g ON g.id = gm.group_id WHERE gm.user_id IN ({ids}) \
UNION ALL SELECT 4, ua.user_id, d.key, d.kind, ua.value, NULL, NULL, NULL, NULL, NULL, ua.num, '', 0 \
  FROM user_attributes ua JOIN attribute_defs d ON d.id = ua.attribute_id WHERE ua.user_id IN ({ids}) \
UNION ALL SELECT 5, user_id, attribute, value, display, type, NULL, NULL, NULL, is_primary, NULL, attribute, position \
  FROM user_values WHERE user_id IN ({ids}) \
UNION ALL SELECT 6, user_id, type, formatted, street_address, locality, region, postal_code, country, \
  is_primary, NULL, '', position \
  FROM user_addresses WHERE user_id IN ({ids}) \
ORDER BY k, user_id, st, pos, a";

impl Extra {
    fn add(&mut self, r: ExtraRow) {
        let ExtraRow {
            k,
            user_id: user,
            a,
            b,
            c,
            d,
            e,
            f,
            g,
            flag,
            num,
        } = r;
        let primary = flag.unwrap_or(false);
        match k {
            EXTRA_EMAIL => self.emails.entry(user).or_default().push(Email {
                value: a.unwrap_or_default(),
                kind: b,
                primary,
            }),
            EXTRA_MANAGER => {
                self.managers
                    .insert(user, (UserId(a.unwrap_or_default()), b));
            }
            EXTRA_GROUP => self
                .groups
                .entry(user)
                .or_default()
                .push((GroupId(a.unwrap_or_default()), b.unwrap_or_default())),
            EXTRA_ATTRIBUTE => {
                let value = super::users::attribute_json(
                    b.as_deref().unwrap_or_default(),
                    c.as_deref().unwrap_or_default(),
                    num,
                );
                self.attributes
                    .entry(user)
                    .or_default()
                    .insert(a.unwrap_or_default(), value);
            }
            EXTRA_VALUE => {
                if let Some(p) = a.as_deref().and_then(Plural::from_name) {
                    self.plurals
                        .entry(user)
                        .or_default()
                        .entry(p)
                        .or_default()
                        .push(PluralValue {
                            value: b.unwrap_or_default(),
                            display: c,
                            kind: d,
                            primary,
                        });
                }
            }
            EXTRA_ADDRESS => self.addresses.entry(user).or_default().push(Address {
                kind: a,
                primary,
                formatted: b,
                street_address: c,
                locality: d,
                region: e,
                postal_code: f,
                country: g,
            }),
            _ => {}
        }
    }
}

/// The rows of `user_values` and `user_addresses` for users' plural attributes and addresses.
pub(super) fn more_rows(
    tenant: &TenantId,
    users: &[(&UserId, &ScimUserFields)],
) -> (Vec<Vec<Val>>, Vec<Vec<Val>>) {
    let mut values = vec![];
    let mut addresses = vec![];
    for (id, f) in users {
        for (p, vs) in &f.plurals {
            for (i, v) in vs.iter().enumerate() {
                values.push(vec![
                    id.as_str().into(),
                    tenant.as_str().into(),
                    p.name().into(),
                    Val::Int(i as i64),
                    v.value.as_str().into(),
                    Val::Text(Some(normalise(&v.value))),
                    (&v.display).into(),
                    (&v.kind).into(),
                    Val::Bool(v.primary),
                    Val::Text(folded(&v.display)),
                    Val::Text(folded(&v.kind)),
                ]);
            }
        }
        for (i, a) in f.addresses.iter().enumerate() {
            let mut row = vec![
                id.as_str().into(),
                tenant.as_str().into(),
                Val::Int(i as i64),
                (&a.kind).into(),
                Val::Bool(a.primary),
                (&a.formatted).into(),
                (&a.street_address).into(),
                (&a.locality).into(),
                (&a.region).into(),
                (&a.postal_code).into(),
                (&a.country).into(),
            ];
            let texts = [
                &a.kind,
                &a.formatted,
                &a.street_address,
                &a.locality,
                &a.region,
                &a.postal_code,
                &a.country,
            ];
            row.extend(texts.map(|v| Val::Text(folded(v))));
            addresses.push(row);
        }
    }
    (values, addresses)
}

/// Inserts the rows `more_rows` made.
pub(super) async fn insert_more(
    conn: &mut super::Conn,
    (values, addresses): (Vec<Vec<Val>>, Vec<Vec<Val>>),
) -> Result<()> {
    insert_rows(
        &mut *conn,
        "INSERT INTO user_values (user_id, tenant_id, attribute, position, value, value_norm, display, type, is_primary, \
         display_f, type_f)",
        11,
        values,
    )
    .await?;
    insert_rows(
        conn,
        "INSERT INTO user_addresses (user_id, tenant_id, position, type, is_primary, formatted, street_address, \
         locality, region, postal_code, country, type_f, formatted_f, street_address_f, locality_f, region_f, \
         postal_code_f, country_f)",
        18,
        addresses,
    )
    .await
}

async fn load_extra(conn: &mut super::Conn, ids: &[String]) -> Result<Extra> {
    let mut x = Extra::default();
    if ids.is_empty() {
        return Ok(x);
    }
    let sql = EXTRA_SQL.replace("{ids}", &placeholders(1, ids.len()));
    let q = sqlx::query_as::<DB, ExtraRow>(sqlx::AssertSqlSafe(sql));
    for r in bind_ids(q, ids)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?
    {
        x.add(r);
    }
    Ok(x)
}

fn bind_ids<'q, O>(
    mut q: sqlx::query::QueryAs<'q, DB, O, <DB as sqlx::Database>::Arguments>,
    ids: &'q [String],
) -> sqlx::query::QueryAs<'q, DB, O, <DB as sqlx::Database>::Arguments> {
    for id in ids {
        q = q.bind(id.as_str());
    }
    q
}

pub(super) async fn users_by_sql(conn: &mut super::Conn, sql: Sql) -> Result<Vec<ScimUser>> {
    let q = bind_args!(
        sqlx::query_as::<DB, Row>(sqlx::AssertSqlSafe(sql.text)),
        sql.args
    );
    let rows = q.fetch_all(&mut *conn).await.map_err(db_error)?;
    with_extra(conn, rows).await
}

/// Users from their rows and what hangs off them.
async fn with_extra(conn: &mut super::Conn, rows: Vec<Row>) -> Result<Vec<ScimUser>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut extra = load_extra(conn, &ids).await?;
    Ok(rows.into_iter().map(|r| r.into_user(&mut extra)).collect())
}

/// The first of `ids` (in id order) that is not a user SCIM sees in the tenant (not removed,
/// not anonymised), in one statement whatever their number.
pub(super) async fn first_missing_user(
    conn: &mut super::Conn,
    tenant: &TenantId,
    ids: &[&str],
) -> Result<Option<String>> {
    if ids.is_empty() {
        return Ok(None);
    }
    sqlx::query_scalar::<DB, String>(sqlx::AssertSqlSafe(format!(
        "SELECT w.value FROM ({}) w WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = w.value \
         AND u.tenant_id = $1 AND NOT u.scim_removed AND u.status <> 'anonymised') \
         ORDER BY w.value LIMIT 1",
        DIALECT.text_rows("$2")
    )))
    .bind(tenant.as_str())
    .bind(super::text_list(ids)?)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)
}

/// A visible user, read inside `conn` (locked for update on PostgreSQL when `lock`).
async fn scim_user_conn(
    conn: &mut super::Conn,
    tenant: &TenantId,
    id: &str,
    lock: bool,
) -> Result<Option<ScimUser>> {
    let mut sql = Sql::new(tenant.as_str());
    let p = sql.bind(Bind::Text(id.to_owned()));
    sql.text = format!(
        "SELECT {COLUMNS} FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE {VISIBLE} AND u.id = {p}{}",
        if lock {
            DIALECT.for_update().replace("UPDATE", "UPDATE OF u")
        } else {
            String::new()
        }
    );
    Ok(users_by_sql(conn, sql).await?.pop())
}

impl Backend {
    /// One user as SCIM sees them; `None` for users of other tenants, removed or anonymised.
    pub async fn scim_user(&self, tenant: &TenantId, id: &UserId) -> Result<Option<ScimUser>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        scim_user_conn(&mut conn, tenant, id.as_str(), false).await
    }

    /// The visible user that holds the userName or the sign-in email `fields` would take, if
    /// any: their id, and whether it is the userName (else the email) they hold.
    pub async fn scim_user_holding(
        &self,
        tenant: &TenantId,
        fields: &ScimUserFields,
    ) -> Result<Option<(UserId, bool)>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT id, CAST(CASE WHEN username_norm = $2 THEN 1 ELSE 0 END AS BIGINT) AS by_name FROM users \
             WHERE tenant_id = $1 AND NOT scim_removed AND status <> 'anonymised' \
             AND (username_norm = $2 OR email_norm = $3) ORDER BY by_name DESC, id LIMIT 1",
        )
        .bind(tenant.as_str())
        .bind(normalise(&fields.user_name))
        .bind(normalise(&sign_in_email(fields)))
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(row.map(|(id, by_name)| (UserId(id), by_name == 1)))
    }

    /// A page of users matching the query, and how many match in all.
    pub async fn scim_list_users(
        &self,
        tenant: &TenantId,
        q: &ListQuery<UserField>,
    ) -> Result<ListPage<ScimUser>> {
        let mut sql = Sql::new(tenant.as_str());
        let cond = match &q.filter {
            Some(f) => format!(" AND {}", user_filter(&mut sql, f)?),
            None => String::new(),
        };
        let visible = match &q.filter {
            Some(f) if DIALECT == crate::store::Dialect::Sqlite && driven_by_subquery(f) => {
                VISIBLE_DRIVEN
            }
            _ => VISIBLE,
        };
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        let count_sql = format!("SELECT COUNT(*) FROM users u WHERE {visible}{cond}");
        let count_args = sql.args.clone();
        let count = async |conn: &mut super::Conn| {
            bind_args!(
                sqlx::query_scalar::<DB, i64>(sqlx::AssertSqlSafe(count_sql.clone())),
                count_args.clone()
            )
            .fetch_one(&mut *conn)
            .await
            .map_err(db_error)
        };
        if q.count <= 0 {
            let total = count(&mut conn).await?;
            return Ok(ListPage {
                total,
                items: vec![],
            });
        }
        let order = match &q.sort_by {
            Some(f) => {
                let e = user_sort(&mut sql, f);
                // Missing values last ascending, first descending (RFC 7644 §3.4.2.3).
                let dir = if q.descending { "DESC" } else { "ASC" };
                format!("({e}) IS NULL {dir}, {e} {dir}, u.id {dir}")
            }
            None => "u.id".into(),
        };
        // Written into the SQL, not bound: SQLite recompiles a statement whose LIMIT is a
        // parameter each time it is bound again (the planner uses its value), which cost two
        // thirds of a lookup's instructions. Both are integers, so nothing can be injected.
        // The total comes with the page, from a subquery the database evaluates once.
        let (limit, offset) = (q.count, q.start_index - 1);
        sql.text = format!(
            "SELECT {COLUMNS}, ({count_sql}) AS total FROM users u JOIN tenants t ON t.id = u.tenant_id \
             WHERE {visible}{cond} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
        );
        let rows: Vec<PageRow> = bind_args!(
            sqlx::query_as::<DB, PageRow>(sqlx::AssertSqlSafe(sql.text)),
            sql.args
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
        let total = match rows.first() {
            Some(r) => r.total,
            // No row: nothing matches, or the page starts after the last match.
            None if q.start_index > 1 => count(&mut conn).await?,
            None => 0,
        };
        let items = with_extra(&mut conn, rows.into_iter().map(|r| r.row).collect()).await?;
        Ok(ListPage { total, items })
    }

    /// Replaces a user's SCIM profile if the stored version is `version` (when given).
    /// `active: false` deactivates: sessions end, grants are revoked, in the same transaction.
    /// `tell_old`: the "your address was changed" mail to the user's current address, written
    /// (with the mandatory `security.email_changed` notification) in the same transaction when
    /// the write moves an active user, who stays active, off that address.
    pub async fn scim_replace_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        version: Option<i64>,
        w: &ScimUserWrite,
        tell_old: Option<&OutgoingMail>,
        actor: &Actor,
    ) -> Result<ScimUser> {
        let mut tx = self.write_tx().await?;
        let before = scim_user_conn(&mut tx, tenant, id.as_str(), true)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        if let Some(v) = version
            && v != before.version
        {
            return Err(DomainError::PreconditionFailed(v));
        }
        let was_active = matches!(before.status, UserStatus::Active | UserStatus::Invited);
        let status = match (w.active, was_active) {
            (true, true) => before.status,
            (true, false) => UserStatus::Active,
            (false, _) => UserStatus::Inactive,
        };
        if status == UserStatus::Inactive && was_active && before.is_owner {
            return Err(DomainError::conflict(
                "the tenant's owner cannot be deactivated; transfer ownership first",
            ));
        }
        write_scim_fields(&mut tx, tenant, id, w, status, true).await?;
        super::users::write_attributes(&mut tx, id, &w.attributes).await?;
        if let Some(mail) = tell_old {
            let old = normalise(&sign_in_email(&before.fields));
            let moved = normalise(&mail.to) == old && normalise(&sign_in_email(&w.fields)) != old;
            let stays = before.status == UserStatus::Active && status == UserStatus::Active;
            if moved && stays {
                self.email_changed_in(&mut tx, tenant, id, mail).await?;
            }
        }
        let action = if status == UserStatus::Inactive && was_active {
            super::users::end_sign_in_state(&mut tx, id).await?;
            "user.deactivate"
        } else if status == UserStatus::Active && !was_active {
            "user.reactivate"
        } else {
            "user.update"
        };
        let after = scim_user_conn(&mut tx, tenant, id.as_str(), false)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        commit(
            tx,
            tenant,
            actor,
            Change::new(action, "user", id)
                .before(audit_view(&before))
                .after(audit_view(&after)),
        )
        .await?;
        Ok(after)
    }

    /// The SCIM DELETE of a user with `DeleteAction::Deactivate`: the user becomes inactive
    /// (sessions ended, grants revoked) and SCIM answers 404 for them from then on.
    pub async fn scim_remove_user(
        &self,
        tenant: &TenantId,
        id: &UserId,
        actor: &Actor,
    ) -> Result<()> {
        self.scim_remove_user_if(tenant, id, None, actor).await
    }

    /// [`Self::scim_remove_user`] if the stored version is still `version` (when given; 412
    /// if not).
    pub async fn scim_remove_user_if(
        &self,
        tenant: &TenantId,
        id: &UserId,
        version: Option<i64>,
        actor: &Actor,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let before = scim_user_conn(&mut tx, tenant, id.as_str(), true)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        if let Some(v) = version
            && v != before.version
        {
            return Err(DomainError::PreconditionFailed(v));
        }
        if before.is_owner {
            return Err(DomainError::conflict(
                "the tenant's owner cannot be deprovisioned; transfer ownership first",
            ));
        }
        sqlx::query(
            "UPDATE users SET status = 'inactive', scim_removed = TRUE, updated_at = $3, version = version + 1 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(now_us())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        super::users::end_sign_in_state(&mut tx, id).await?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("user.scim_remove", "user", id).before(audit_view(&before)),
        )
        .await
    }
}

/// The sign-in email: the primary email, else the first, else the user name.
pub(super) fn sign_in_email(f: &ScimUserFields) -> String {
    f.sign_in_email()
}

/// The audit log's view of a SCIM user.
pub(super) fn audit_view(u: &ScimUser) -> AuditView<'_> {
    AuditView {
        id: &u.id,
        username: &u.fields.user_name,
        external_id: &u.fields.external_id,
        display_name: &u.fields.display_name,
        emails: &u.fields.emails,
        status: u.status,
        manager_id: u.manager.as_ref().map(|m| &m.0),
        attributes: &u.attributes,
        version: u.version,
    }
}

/// What the audit log keeps of a SCIM user (serialised once, straight from the user).
#[derive(serde::Serialize)]
pub(super) struct AuditView<'a> {
    id: &'a UserId,
    username: &'a str,
    external_id: &'a Option<String>,
    display_name: &'a Option<String>,
    emails: &'a [Email],
    status: UserStatus,
    manager_id: Option<&'a UserId>,
    attributes: &'a BTreeMap<String, serde_json::Value>,
    version: i64,
}

/// Writes the SCIM profile columns, emails, manager and password of a user (not the custom
/// attributes: creation writes them with the row).
pub(super) async fn write_scim_fields(
    tx: &mut Tx,
    tenant: &TenantId,
    id: &UserId,
    w: &ScimUserWrite,
    status: UserStatus,
    bump: bool,
) -> Result<()> {
    let f = &w.fields;
    let email = sign_in_email(f);
    let mut q = sqlx::query::<DB>(sqlx::AssertSqlSafe(format!(
        "UPDATE users SET username = $3, username_norm = $4, email = $5, email_norm = $6, external_id = $7,
             given_name = $8, family_name = $9, middle_name = $10, honorific_prefix = $11, honorific_suffix = $12,
             display_name = $13, nick_name = $14, title = $15, user_type = $16, preferred_language = $17,
             locale = $18, timezone = $19, employee_number = $20, cost_center = $21, organization = $22,
             division = $23, department = $24, status = $25, updated_at = $26,
             password_hash = COALESCE($27, password_hash),
             email_verified = CASE WHEN email_norm = $6 THEN email_verified ELSE FALSE END,
             email_shared = {},
             version = version + $28, {}
         WHERE tenant_id = $1 AND id = $2",
        super::users::email_shared("$1"),
        user_shadow_columns(Some(29))
    )))
    .bind(tenant.as_str())
    .bind(id.as_str())
    .bind(&f.user_name)
    .bind(normalise(&f.user_name))
    .bind(&email)
    .bind(normalise(&email))
    .bind(&f.external_id)
    .bind(&f.given_name)
    .bind(&f.family_name)
    .bind(&f.middle_name)
    .bind(&f.honorific_prefix)
    .bind(&f.honorific_suffix)
    .bind(&f.display_name)
    .bind(&f.nick_name)
    .bind(&f.title)
    .bind(&f.user_type)
    .bind(&f.preferred_language)
    .bind(&f.locale)
    .bind(&f.timezone)
    .bind(&f.employee_number)
    .bind(&f.cost_center)
    .bind(&f.organization)
    .bind(&f.division)
    .bind(&f.department)
    .bind(status.as_str())
    .bind(now_us())
    .bind(&w.password_hash)
    .bind(i64::from(bump));
    for shadow in user_shadows(f) {
        q = q.bind(shadow);
    }
    q.execute(&mut **tx).await.map_err(db_error)?;
    sqlx::query("DELETE FROM user_emails WHERE user_id = $1")
        .bind(id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    for (i, e) in f.emails.iter().enumerate() {
        sqlx::query(
            "INSERT INTO user_emails (user_id, tenant_id, position, value, value_norm, type, is_primary, type_f)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.as_str())
        .bind(tenant.as_str())
        .bind(i as i64)
        .bind(&e.value)
        .bind(normalise(&e.value))
        .bind(&e.kind)
        .bind(e.primary)
        .bind(folded(&e.kind))
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    }
    for sql in [
        "DELETE FROM user_values WHERE user_id = $1",
        "DELETE FROM user_addresses WHERE user_id = $1",
    ] {
        sqlx::query(sql)
            .bind(id.as_str())
            .execute(&mut **tx)
            .await
            .map_err(db_error)?;
    }
    insert_more(tx, more_rows(tenant, &[(id, f)])).await?;
    write_manager(tx, tenant, id, w.manager.as_ref()).await
}

/// Makes `manager` the user's SCIM manager (a management relation marked as set by SCIM).
async fn write_manager(
    tx: &mut Tx,
    tenant: &TenantId,
    id: &UserId,
    manager: Option<&UserId>,
) -> Result<()> {
    let current: Option<String> = sqlx::query_scalar(
        "SELECT manager_id FROM management WHERE tenant_id = $1 AND target_user_id = $2 AND from_scim",
    )
    .bind(tenant.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_error)?;
    if current.as_deref() == manager.map(UserId::as_str) {
        return Ok(());
    }
    sqlx::query(
        "DELETE FROM management WHERE tenant_id = $1 AND target_user_id = $2 AND from_scim",
    )
    .bind(tenant.as_str())
    .bind(id.as_str())
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    let Some(manager) = manager else {
        return Ok(());
    };
    if manager == id {
        return Err(DomainError::invalid(
            "manager",
            "a user cannot manage themselves",
        ));
    }
    let exists: Option<String> = sqlx::query_scalar(
        "SELECT id FROM users WHERE tenant_id = $1 AND id = $2 AND NOT scim_removed AND status <> 'anonymised'",
    )
    .bind(tenant.as_str())
    .bind(manager.as_str())
    .fetch_optional(&mut **tx)
    .await
    .map_err(db_error)?;
    if exists.is_none() {
        return Err(DomainError::invalid(
            "manager",
            format!("the manager `{manager}` is not a user of this tenant"),
        ));
    }
    // An administrator may have made the same relation already: SCIM then takes it over.
    let updated = sqlx::query(
        "UPDATE management SET from_scim = TRUE WHERE tenant_id = $1 AND manager_id = $2 AND target_user_id = $3",
    )
    .bind(tenant.as_str())
    .bind(manager.as_str())
    .bind(id.as_str())
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    if updated.rows_affected() == 0 {
        sqlx::query(
            "INSERT INTO management (id, tenant_id, manager_id, target_user_id, created_at, from_scim)
             VALUES ($1, $2, $3, $4, $5, TRUE)",
        )
        .bind(ManagementId::generate().0)
        .bind(tenant.as_str())
        .bind(manager.as_str())
        .bind(id.as_str())
        .bind(now_ms())
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    }
    Ok(())
}
