//! Memberships: a user's belonging to accounts, over dates, with exactly one main account.

use super::users::authorised_user;
use crate::domain::authz::{Caller, UserScope};
use crate::domain::clock::opt_date;
use crate::domain::*;
use crate::store::Store;
use serde::{Deserialize, Deserializer};
use time::Date;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddMembership {
    pub account_id: AccountId,
    /// First day of the membership (`YYYY-MM-DD`); open when absent.
    #[serde(default, with = "opt_date")]
    pub start_date: Option<Date>,
    /// Last day of the membership (`YYYY-MM-DD`); open when absent.
    #[serde(default, with = "opt_date")]
    pub end_date: Option<Date>,
    /// Make this the user's main membership (the previous main one stops being main).
    #[serde(default)]
    pub main: bool,
}

/// A partial update: absent fields stay, a `null` date opens that end.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateMembership {
    #[serde(default, deserialize_with = "nullable_date")]
    pub start_date: Option<Option<Date>>,
    #[serde(default, deserialize_with = "nullable_date")]
    pub end_date: Option<Option<Date>>,
    /// `true` makes this the main membership; `false` on the main one is refused (409).
    pub main: Option<bool>,
}

/// A date that may be absent (`None`), null (`Some(None)`) or `YYYY-MM-DD`.
fn nullable_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<Date>>, D::Error> {
    opt_date::deserialize(d).map(Some)
}

/// Refuses a manager (scope `ManagedBy`) acting on an account they do not manage.
async fn check_account_scope(
    store: &Store,
    caller: &Caller,
    scope: &UserScope,
    account: &AccountId,
) -> Result<()> {
    if let UserScope::ManagedBy(manager) = scope
        && !store
            .manages_account(caller.tenant_id(), manager, account)
            .await?
    {
        return Err(DomainError::forbidden(
            "you can only manage memberships in accounts you manage",
        ));
    }
    Ok(())
}

/// The memberships of a user the caller may read.
pub async fn list(store: &Store, caller: &Caller, user: &UserId) -> Result<Vec<Membership>> {
    authorised_user(store, caller, user, false).await?;
    store.list_memberships(caller.tenant_id(), user).await
}

/// Adds a membership to a user the caller may change; a manager only in accounts they manage.
pub async fn add(
    store: &Store,
    caller: &Caller,
    user: &UserId,
    req: AddMembership,
) -> Result<Membership> {
    let scope = caller.user_write_scope()?;
    authorised_user(store, caller, user, true).await?;
    if store
        .get_account(caller.tenant_id(), &req.account_id)
        .await?
        .is_none()
    {
        return Err(DomainError::invalid(
            "account_id",
            format!("account `{}` does not exist", req.account_id),
        ));
    }
    check_account_scope(store, caller, &scope, &req.account_id).await?;
    store
        .add_membership(
            caller.tenant_id(),
            user,
            &req.account_id,
            req.start_date,
            req.end_date,
            req.main,
            &caller.actor(),
        )
        .await
}

/// Loads a membership of a user the caller may change (a manager: in an account they manage).
async fn authorised_membership(
    store: &Store,
    caller: &Caller,
    user: &UserId,
    id: &MembershipId,
) -> Result<Membership> {
    let scope = caller.user_write_scope()?;
    authorised_user(store, caller, user, true).await?;
    let m = store
        .get_membership(caller.tenant_id(), user, id)
        .await?
        .ok_or(DomainError::NotFound("membership"))?;
    check_account_scope(store, caller, &scope, &m.account_id).await?;
    Ok(m)
}

/// Changes a membership's dates or makes it the user's main one.
pub async fn update(
    store: &Store,
    caller: &Caller,
    user: &UserId,
    id: &MembershipId,
    req: UpdateMembership,
) -> Result<Membership> {
    authorised_membership(store, caller, user, id).await?;
    store
        .update_membership(
            caller.tenant_id(),
            user,
            id,
            req.start_date,
            req.end_date,
            req.main,
            &caller.actor(),
        )
        .await
}

/// Deletes a membership that is neither the user's main one nor their last (409 otherwise).
pub async fn delete(
    store: &Store,
    caller: &Caller,
    user: &UserId,
    id: &MembershipId,
) -> Result<()> {
    authorised_membership(store, caller, user, id).await?;
    store
        .delete_membership(caller.tenant_id(), user, id, &caller.actor())
        .await
}

/// At most `page.size` accounts, by name, containing `page.search`, in which the caller may add
/// memberships: every account for a caller who may change every user, for a manager only the
/// accounts they manage (decided by the store in one query; `add` checks again). Naming
/// accounts needs `accounts.read`.
pub async fn choosable_accounts(
    store: &Store,
    caller: &Caller,
    page: &NamedPage,
) -> Result<Vec<Account>> {
    caller.require(crate::domain::permissions::admin::ACCOUNTS_READ)?;
    let manager = match caller.user_write_scope()? {
        UserScope::All => None,
        UserScope::ManagedBy(me) => Some(me),
    };
    store
        .pick_accounts(caller.tenant_id(), page, manager.as_ref())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_and_null_is_distinct_from_absent() {
        let u: UpdateMembership =
            serde_json::from_str(r#"{"end_date": null, "start_date": "2024-02-29"}"#)
                .unwrap_or_default();
        assert_eq!(u.end_date, Some(None));
        assert!(matches!(u.start_date, Some(Some(_))));
        assert!(
            serde_json::from_str::<UpdateMembership>(r#"{"start_date": "2024-02-30"}"#).is_err()
        );
        let a: Result<AddMembership, _> =
            serde_json::from_str(r#"{"account_id": "01900000-0000-7000-8000-000000000000"}"#);
        assert!(a.is_ok_and(|a| a.start_date.is_none() && !a.main));
        // Ids are parsed as what they are.
        assert!(serde_json::from_str::<AddMembership>(r#"{"account_id": "x"}"#).is_err());
    }
}
