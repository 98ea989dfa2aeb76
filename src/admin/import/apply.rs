//! Carrying out a planned row through the admin API's own service functions: the same
//! authorisation, validation and audit entries as the same changes made one by one.

use super::Outcome;
use super::plan::{Changes, Creation, Plan, reason};
use crate::admin::invitations::{self, Outlet, SendInvitation};
use crate::admin::memberships::{self, AddMembership, UpdateMembership};
use crate::admin::roles::{self, AssignRole, UpdateAssignment};
use crate::admin::{groups, users};
use crate::domain::authz::Caller;
use crate::domain::*;
use crate::oidc::logout::Notifier;
use crate::store::Store;

/// Makes the changes `c` to user `id`.
pub async fn update(
    store: &Store,
    notifier: Notifier<'_>,
    caller: &Caller,
    id: &UserId,
    c: Changes,
) -> Result<()> {
    if let Some(profile) = c.profile {
        users::update(store, caller, id, None, profile).await?;
    }
    if let Some(step) = c.lifecycle {
        users::lifecycle(store, notifier, caller, id, step, None).await?;
    }
    for (account, main, start_date, end_date) in c.join {
        let add = AddMembership {
            account_id: account,
            start_date,
            end_date,
            main,
        };
        memberships::add(store, caller, id, add).await?;
    }
    if let Some(m) = c.main_membership {
        let main = UpdateMembership {
            main: Some(true),
            ..UpdateMembership::default()
        };
        memberships::update(store, caller, id, &m, main).await?;
    }
    if let Some((m, start, end)) = c.dates {
        let dates = UpdateMembership {
            start_date: Some(start),
            end_date: Some(end),
            main: None,
        };
        memberships::update(store, caller, id, &m, dates).await?;
    }
    for (role, main) in c.take_roles {
        let assign = AssignRole {
            role_id: role,
            account_id: None,
            main,
        };
        roles::assign(store, caller, id, assign).await?;
    }
    if let Some(a) = c.main_assignment {
        roles::update_assignment(store, caller, id, &a, UpdateAssignment { main: true }).await?;
    }
    for group in c.join_groups {
        groups::add_member(store, caller, &group, id).await?;
    }
    Ok(())
}

/// Applies a chunk of planned rows: the creations together ([`users::create_many`]), then each
/// creation's remaining steps and each update. The outcome of each row, in order.
pub async fn chunk(
    store: &Store,
    notifier: Notifier<'_>,
    caller: &Caller,
    invite: Option<Outlet<'_>>,
    plans: Vec<std::result::Result<Plan, String>>,
) -> Vec<std::result::Result<Outcome, String>> {
    let mut out: Vec<std::result::Result<Outcome, String>> = Vec::with_capacity(plans.len());
    let (mut creations, mut reqs, mut updates) = (Vec::new(), Vec::new(), Vec::new());
    for (i, p) in plans.into_iter().enumerate() {
        out.push(p.as_ref().map(Plan::outcome).map_err(Clone::clone));
        match p {
            Ok(Plan::Create(c)) => {
                let Creation {
                    req,
                    other_accounts,
                    groups,
                    deactivate,
                } = *c;
                reqs.push(req);
                creations.push((
                    i,
                    Rest {
                        other_accounts,
                        groups,
                        deactivate,
                        invite,
                    },
                ));
            }
            Ok(Plan::Update(id, c)) => updates.push((i, id, c)),
            _ => {}
        }
    }
    if !reqs.is_empty() {
        match users::create_many(store, caller, reqs).await {
            Ok(made) => {
                for ((i, rest), user) in creations.into_iter().zip(made) {
                    let done = match user {
                        Ok(u) => finish_creation(store, notifier, caller, &u, rest)
                            .await
                            .map_err(|e| format!("created, but then: {}", reason(e))),
                        Err(e) => Err(reason(e)),
                    };
                    if let Err(e) = done {
                        out[i] = Err(e);
                    }
                }
            }
            Err(e) => {
                let e = reason(e);
                for (i, _) in creations {
                    out[i] = Err(e.clone());
                }
            }
        }
    }
    for (i, id, c) in updates {
        if let Err(e) = update(store, notifier, caller, &id, *c).await {
            out[i] = Err(reason(e));
        }
    }
    out
}

/// What a creation needs beyond the user itself.
struct Rest<'a> {
    other_accounts: Vec<AccountId>,
    groups: Vec<GroupId>,
    deactivate: bool,
    /// Send an invitation (to an `invited` user) through this outlet.
    invite: Option<Outlet<'a>>,
}

/// The steps after a user's creation, each through the admin API's service function: other
/// accounts, groups, the `inactive` status, the invitation.
async fn finish_creation(
    store: &Store,
    notifier: Notifier<'_>,
    caller: &Caller,
    user: &User,
    rest: Rest<'_>,
) -> Result<()> {
    let id = &user.id;
    for account in rest.other_accounts {
        let add = AddMembership {
            account_id: account,
            start_date: None,
            end_date: None,
            main: false,
        };
        memberships::add(store, caller, id, add).await?;
    }
    for group in rest.groups {
        groups::add_member(store, caller, &group, id).await?;
    }
    if rest.deactivate {
        let step = users::Lifecycle::Deactivate;
        users::lifecycle(store, notifier, caller, id, step, None).await?;
    } else if let Some(outlet) = rest.invite
        && user.status == UserStatus::Invited
    {
        invitations::send(store, caller, id, SendInvitation::default(), outlet).await?;
    }
    Ok(())
}
