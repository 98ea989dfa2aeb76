//! Planning one row: what it asks for, checked by the admin API's rules against the tenant as it
//! is now, without writing anything. A row becomes a creation, a set of changes, "unchanged", or
//! a refusal with its reason.

use super::parse::{Column, ImportFile};
use super::wanted::{Catalogue, Wanted};
use crate::admin::users::{self, CreateUser, Lifecycle, UpdateUser};
use crate::domain::attributes::{check_required, to_json, validate_changes};
use crate::domain::authz::{Caller, UserScope};
use crate::domain::changes::Relations;
use crate::domain::*;
use crate::store::Store;
use std::collections::BTreeMap;
use time::Date;

/// A new user: the creation request (the main membership's dates in it), then what the admin
/// API does in further calls.
#[derive(Debug)]
pub struct Creation {
    pub req: CreateUser,
    pub other_accounts: Vec<AccountId>,
    pub groups: Vec<GroupId>,
    /// Created `invited`, then deactivated (a new user is `invited` or `active`).
    pub deactivate: bool,
}

/// The changes a row makes to an existing user; every field empty means "unchanged".
#[derive(Debug, Default)]
pub struct Changes {
    pub profile: Option<UpdateUser>,
    pub lifecycle: Option<Lifecycle>,
    /// Accounts to join: whether it becomes the main one, and its dates.
    pub join: Vec<(AccountId, bool, Option<Date>, Option<Date>)>,
    /// An existing membership to make main.
    pub main_membership: Option<MembershipId>,
    /// An existing membership (the main one) whose dates change.
    pub dates: Option<(MembershipId, Option<Date>, Option<Date>)>,
    /// Roles to take, each with whether it becomes the main one.
    pub take_roles: Vec<(RoleId, bool)>,
    /// An existing assignment to make main.
    pub main_assignment: Option<RoleAssignmentId>,
    pub join_groups: Vec<GroupId>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.profile.is_none()
            && self.lifecycle.is_none()
            && self.join.is_empty()
            && self.main_membership.is_none()
            && self.dates.is_none()
            && self.take_roles.is_empty()
            && self.main_assignment.is_none()
            && self.join_groups.is_empty()
    }
}

#[derive(Debug)]
pub enum Plan {
    Create(Box<Creation>),
    Update(UserId, Box<Changes>),
    Unchanged(UserId),
}

impl Plan {
    pub fn outcome(&self) -> super::Outcome {
        match self {
            Plan::Create(_) => super::Outcome::Create,
            Plan::Update(..) => super::Outcome::Update,
            Plan::Unchanged(_) => super::Outcome::Unchanged,
        }
    }
}

/// Plans one row whose wishes were read, given the user it matched (by email or external id).
pub async fn plan_row(
    store: &Store,
    caller: &Caller,
    cat: &Catalogue,
    file: &ImportFile<'_>,
    wanted: Wanted,
    found: Option<(User, &Relations)>,
) -> std::result::Result<Plan, String> {
    let Some((user, held)) = found else {
        return plan_creation(store, caller, cat, wanted)
            .await
            .map(|c| Plan::Create(Box::new(c)));
    };
    let changes = plan_changes(store, caller, cat, file, &wanted, &user, held).await?;
    Ok(if changes.is_empty() {
        Plan::Unchanged(user.id)
    } else {
        Plan::Update(user.id, Box::new(changes))
    })
}

/// The text of an error as a report's reason.
pub fn reason(e: DomainError) -> String {
    match e {
        DomainError::Invalid {
            field: Some(field),
            message,
        } => format!("{field}: {message}"),
        DomainError::Internal(detail) => {
            tracing::error!(%detail, "an import row failed");
            "internal error (the server log has the detail)".to_owned()
        }
        e => e.to_string(),
    }
}

async fn plan_creation(
    store: &Store,
    caller: &Caller,
    cat: &Catalogue,
    mut w: Wanted,
) -> std::result::Result<Creation, String> {
    let deactivate = w.create.status == Some(UserStatus::Inactive);
    if deactivate {
        w.create.status = Some(UserStatus::Invited);
    }
    users::new_profile(&w.create).map_err(reason)?;
    let tenant = caller.tenant_id();
    if let UserScope::ManagedBy(manager) = caller.user_write_scope().map_err(reason)? {
        let managed = match &w.create.account_id {
            Some(a) => store
                .manages_account(tenant, &manager, a)
                .await
                .map_err(reason)?,
            None => false,
        };
        if !managed {
            return Err("as a manager, give a `main_account` you manage".to_owned());
        }
    }
    for role in &w.create.role_ids {
        cat.check_grantable(store, caller, role).await?;
    }
    let attributes = validate_changes(&cat.defs, &w.create.attributes).map_err(reason)?;
    check_required(&cat.defs, &[], &attributes).map_err(reason)?;
    // Empty cells are "no value": a new user has none to remove.
    w.create.attributes.retain(|_, v| !v.is_null());
    Ok(Creation {
        req: w.create,
        other_accounts: w.other_accounts,
        groups: w.groups,
        deactivate,
    })
}

#[allow(clippy::too_many_arguments)]
async fn plan_changes(
    store: &Store,
    caller: &Caller,
    cat: &Catalogue,
    file: &ImportFile<'_>,
    w: &Wanted,
    user: &User,
    relations: &Relations,
) -> std::result::Result<Changes, String> {
    let mut c = Changes {
        profile: profile_changes(cat, file, w, user)?,
        lifecycle: lifecycle_step(w.create.status, user)?,
        ..Changes::default()
    };
    if file.has(&Column::MainAccount) || file.has(&Column::Accounts) {
        let held = &relations.memberships;
        let main = w.create.account_id.clone();
        for account in main.iter().chain(&w.other_accounts) {
            let is_main = main.as_ref() == Some(account);
            match held.iter().find(|m| &m.account_id == account) {
                None => {
                    let (start, end) = w.dates.filter(|_| is_main).unwrap_or_default();
                    c.join.push((account.clone(), is_main, start, end));
                }
                Some(m) if is_main && !m.main => c.main_membership = Some(m.id.clone()),
                Some(_) => {}
            }
        }
        if let (Some(main), Some((start, end))) = (&main, w.dates)
            && let Some(m) = held.iter().find(|m| &m.account_id == main)
            && (m.start_date, m.end_date) != (start, end)
        {
            c.dates = Some((m.id.clone(), start, end));
        }
    }
    if file.has(&Column::MainRole) || file.has(&Column::Roles) {
        let held = &relations.assignments;
        for (i, role) in w.create.role_ids.iter().enumerate() {
            let is_main = i == 0 && file.has(&Column::MainRole);
            match held
                .iter()
                .find(|a| &a.role_id == role && a.account_id.is_none())
            {
                None => {
                    cat.check_grantable(store, caller, role).await?;
                    c.take_roles.push((role.clone(), is_main));
                }
                Some(a) if is_main && !a.main => c.main_assignment = Some(a.id.clone()),
                Some(_) => {}
            }
        }
    }
    if !w.groups.is_empty() {
        let names = &relations.groups;
        for g in &w.groups {
            if !names.iter().any(|n| cat.group_is(g, n)) {
                c.join_groups.push(g.clone());
            }
        }
    }
    Ok(c)
}

/// The profile and attribute update a row asks for, or `None` when it changes nothing.
fn profile_changes(
    cat: &Catalogue,
    file: &ImportFile<'_>,
    w: &Wanted,
    user: &User,
) -> std::result::Result<Option<UpdateUser>, String> {
    if user.status == UserStatus::Anonymised {
        return Err("an anonymised user cannot be changed".to_owned());
    }
    let r = &w.create;
    let present = |c: Column| file.has(&c).then_some(());
    let text = |c: Column, v: &Option<String>| present(c).map(|_| v.clone());
    let mut req = UpdateUser {
        email: Some(r.email.clone()),
        username: r.username.clone(),
        email_verified: present(Column::EmailVerified).map(|_| r.email_verified),
        given_name: text(Column::GivenName, &r.given_name),
        family_name: text(Column::FamilyName, &r.family_name),
        display_name: text(Column::DisplayName, &r.display_name),
        phone: text(Column::Phone, &r.phone),
        locale: text(Column::Locale, &r.locale),
        timezone: text(Column::Timezone, &r.timezone),
        external_id: text(Column::ExternalId, &r.external_id),
        attributes: BTreeMap::new(),
    };
    let after = users::updated_profile(user, &req).map_err(reason)?;
    let changes = validate_changes(&cat.defs, &r.attributes).map_err(reason)?;
    for ((key, value), (_, stored)) in r.attributes.iter().zip(&changes) {
        let now = user.attributes.get(key);
        let then = stored.as_ref().and_then(|s| {
            cat.defs
                .iter()
                .find(|d| &d.key == key)
                .map(|d| to_json(d.kind, &s.value, s.num))
        });
        if now != then.as_ref() {
            req.attributes.insert(key.clone(), value.clone());
        }
    }
    let existing: Vec<AttributeId> = cat
        .defs
        .iter()
        .filter(|d| user.attributes.contains_key(&d.key))
        .map(|d| d.id.clone())
        .collect();
    check_required(&cat.defs, &existing, &changes).map_err(reason)?;
    let same_profile = after == users::profile_of(user);
    Ok((!same_profile || !req.attributes.is_empty()).then_some(req))
}

/// The lifecycle step from the user's status to the wanted one.
fn lifecycle_step(
    wanted: Option<UserStatus>,
    user: &User,
) -> std::result::Result<Option<Lifecycle>, String> {
    use UserStatus::*;
    Ok(match (user.status, wanted) {
        (_, None) => None,
        (now, Some(w)) if now == w => None,
        (Invited, Some(Active)) => Some(Lifecycle::Activate),
        (Invited | Active, Some(Inactive)) => Some(Lifecycle::Deactivate),
        (Inactive, Some(Active)) => Some(Lifecycle::Reactivate),
        (now, Some(w)) => {
            return Err(format!(
                "status: a user who is {} cannot become {} by import",
                now.as_str(),
                w.as_str()
            ));
        }
    })
}
