//! The memberships, role assignments and direct groups of many users at once (a page of an
//! export, a chunk of an import): three queries per 500 users instead of three per user.

use super::accounts::MembershipRow;
use super::roles::AssignmentRow;
use super::{Backend, Conn, DB, db_error, in_order};
use crate::domain::changes::Relations;
use crate::domain::clock::today;
use crate::domain::*;
use std::collections::HashMap;

/// Users per query.
const CHUNK: usize = 500;

impl Backend {
    /// The relations of each of `users` (of the tenant), by user id; a user without any is
    /// absent. Memberships come main first, then by creation; assignments by creation.
    pub async fn relations_of(
        &self,
        tenant: &TenantId,
        users: &[UserId],
    ) -> Result<HashMap<UserId, Relations>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        let mut out: HashMap<UserId, Relations> = HashMap::with_capacity(users.len());
        let day = today();
        for chunk in users.chunks(CHUNK) {
            let (t, ids) = (in_order(1, 1), in_order(2, chunk.len()));
            let memberships: Vec<MembershipRow> = rows(
                &mut conn,
                tenant,
                chunk,
                format!(
                    "SELECT ms.id, ms.user_id, ms.account_id, a.name AS account_name, ms.start_date, \
                     ms.end_date, ms.is_main FROM memberships ms JOIN accounts a ON a.id = ms.account_id \
                     WHERE ms.tenant_id = {t} AND ms.user_id IN ({ids}) \
                     ORDER BY ms.user_id, ms.is_main DESC, ms.created_at, ms.id"
                ),
            )
            .await?;
            for m in memberships {
                let m = m.into_membership(day);
                out.entry(m.user_id.clone())
                    .or_default()
                    .memberships
                    .push(m);
            }
            let assignments: Vec<AssignmentRow> = rows(
                &mut conn,
                tenant,
                chunk,
                format!(
                    "SELECT ur.id, ur.user_id, ur.role_id, r.name AS role_name, ur.account_id, ur.is_main \
                     FROM user_roles ur JOIN roles r ON r.id = ur.role_id \
                     WHERE ur.tenant_id = {t} AND ur.user_id IN ({ids}) ORDER BY ur.user_id, ur.created_at, ur.id"
                ),
            )
            .await?;
            for a in assignments {
                let a = RoleAssignment::from(a);
                out.entry(a.user_id.clone())
                    .or_default()
                    .assignments
                    .push(a);
            }
            let groups: Vec<(String, String)> = rows(
                &mut conn,
                tenant,
                chunk,
                format!(
                    "SELECT gm.user_id, g.display_name FROM group_members gm JOIN groups g ON g.id = gm.group_id \
                     WHERE g.tenant_id = {t} AND gm.user_id IN ({ids}) ORDER BY gm.user_id, g.display_name"
                ),
            )
            .await?;
            for (user, name) in groups {
                out.entry(UserId(user)).or_default().groups.push(name);
            }
        }
        Ok(out)
    }
}

/// The rows of `sql`, which takes the tenant first and the users after.
async fn rows<T>(
    conn: &mut Conn,
    tenant: &TenantId,
    users: &[UserId],
    sql: String,
) -> Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, <DB as sqlx::Database>::Row> + Send + Unpin,
{
    let mut q = sqlx::query_as::<DB, T>(sqlx::AssertSqlSafe(sql)).bind(tenant.as_str());
    for u in users {
        q = q.bind(u.as_str());
    }
    q.fetch_all(&mut *conn).await.map_err(db_error)
}
