//! Writing a group's members as SCIM changes them: each statement names only the users that
//! change, all of them in one bound value (see [`super::text_list`]), so adding or removing k
//! members of a group costs O(k) whatever the group's size, and so does moving the changed
//! members' versions.

use super::scim_groups::{check_members, group_conn};
use super::{Backend, DB, DIALECT, Tx, commit, db_error, text_list};
use crate::domain::audit::{Actor, Change};
use crate::domain::clock::now_us;
use crate::domain::scim::*;
use crate::domain::*;
use std::collections::HashSet;

/// Makes `ids` members of `group` (those already members stay as they are); returns the users
/// that became members.
pub(super) async fn insert_members(
    tx: &mut Tx,
    group: &GroupId,
    ids: &[&str],
) -> Result<Vec<String>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    // `WHERE TRUE` tells SQLite's parser that `ON CONFLICT` belongs to the INSERT.
    sqlx::query_scalar::<DB, String>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO group_members (group_id, user_id) SELECT $1, w.value FROM ({}) w WHERE TRUE \
         ON CONFLICT DO NOTHING RETURNING user_id",
        DIALECT.text_rows("$2")
    )))
    .bind(group.as_str())
    .bind(text_list(ids)?)
    .fetch_all(&mut **tx)
    .await
    .map_err(db_error)
}

/// Takes `ids` out of `group` when they are members SCIM can see (a user removed from SCIM
/// keeps the memberships the directory can no longer name); returns the users taken out.
async fn delete_members(tx: &mut Tx, group: &GroupId, ids: &[&str]) -> Result<Vec<String>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    sqlx::query_scalar::<DB, String>(sqlx::AssertSqlSafe(format!(
        "DELETE FROM group_members WHERE group_id = $1 AND user_id IN ({}) \
         AND EXISTS (SELECT 1 FROM users u WHERE u.id = group_members.user_id \
         AND NOT u.scim_removed AND u.status <> 'anonymised') RETURNING user_id",
        DIALECT.text_rows("$2")
    )))
    .bind(group.as_str())
    .bind(text_list(ids)?)
    .fetch_all(&mut **tx)
    .await
    .map_err(db_error)
}

/// The ids of the members SCIM shows.
async fn visible_members(tx: &mut Tx, group: &GroupId) -> Result<HashSet<String>> {
    let ids = sqlx::query_scalar::<DB, String>(
        "SELECT gm.user_id FROM group_members gm JOIN users u ON u.id = gm.user_id \
         WHERE gm.group_id = $1 AND NOT u.scim_removed AND u.status <> 'anonymised'",
    )
    .bind(group.as_str())
    .fetch_all(&mut **tx)
    .await
    .map_err(db_error)?;
    Ok(ids.into_iter().collect())
}

/// What the audit log keeps of a group change: its fields and the members that moved (not the
/// whole member list, which would make each one-member change as large as the group).
fn audit_view(g: &ScimGroup, moved: Option<(&[String], &[String])>) -> serde_json::Value {
    let mut v = serde_json::json!({
        "id": g.id,
        "display_name": g.display_name,
        "external_id": g.external_id,
        "version": g.version,
    });
    if let Some((added, removed)) = moved {
        v["members_added"] = serde_json::json!(added);
        v["members_removed"] = serde_json::json!(removed);
    }
    v
}

impl Backend {
    /// Changes a group's fields and members if its version is `version` (when given; 412 if
    /// not): only the members that change are written, and only their versions move. Returns
    /// the group, with its members when `members` is true.
    pub async fn scim_change_group(
        &self,
        tenant: &TenantId,
        id: &GroupId,
        version: Option<i64>,
        c: &ScimGroupChange,
        members: bool,
        actor: &Actor,
    ) -> Result<ScimGroup> {
        let mut tx = self.write_tx().await?;
        let before = group_conn(&mut tx, tenant, id.as_str(), true, false)
            .await?
            .ok_or(DomainError::NotFound("group"))?;
        if let Some(v) = version
            && v != before.version
        {
            return Err(DomainError::PreconditionFailed(v));
        }
        let current = match &c.replace {
            Some(_) => visible_members(&mut tx, id).await?,
            None => HashSet::new(),
        };
        let (add, remove): (Vec<&str>, Vec<&str>) = match &c.replace {
            Some(list) => {
                let wanted: HashSet<&str> = list.iter().map(UserId::as_str).collect();
                let add = wanted
                    .iter()
                    .copied()
                    .filter(|m| !current.contains(*m))
                    .collect();
                let remove = current
                    .iter()
                    .map(String::as_str)
                    .filter(|m| !wanted.contains(m))
                    .collect();
                (add, remove)
            }
            None => (
                c.add.iter().map(UserId::as_str).collect(),
                c.remove.iter().map(UserId::as_str).collect(),
            ),
        };
        // Every member added must be a user SCIM shows, before anything is written.
        check_members(&mut tx, tenant, &add).await?;
        if let Some((name, _)) = &c.fields
            && *name != before.display_name
        {
            // Each member's `groups` shows the name.
            super::groups::bump_members(&mut tx, id).await?;
        }
        let added = insert_members(&mut tx, id, &add).await?;
        let removed = delete_members(&mut tx, id, &remove).await?;
        // A member's `groups` is part of their resource: their version changes with it.
        let changed: Vec<&str> = added.iter().chain(&removed).map(String::as_str).collect();
        // A directory moves no one out of its reach (the owner, administrators) in or out.
        super::holders::check_directory_reach_all(&mut tx, tenant, &changed).await?;
        super::groups::bump_users(&mut tx, &changed).await?;
        let (name, external_id) = match &c.fields {
            Some((n, x)) => (n, x),
            None => (&before.display_name, &before.external_id),
        };
        sqlx::query(
            "UPDATE groups SET display_name = $3, external_id = $4, updated_at = $5, version = version + 1,
                 display_name_f = $6
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_str())
        .bind(name)
        .bind(external_id)
        .bind(now_us())
        .bind(fold(name))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let after = group_conn(&mut tx, tenant, id.as_str(), false, members)
            .await?
            .ok_or(DomainError::NotFound("group"))?;
        commit(
            tx,
            tenant,
            actor,
            Change::new("group.update", "group", id)
                .before(audit_view(&before, None))
                .after(audit_view(&after, Some((&added, &removed)))),
        )
        .await?;
        Ok(after)
    }
}
