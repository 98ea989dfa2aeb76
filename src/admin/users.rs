//! Users: create, read, list, update, lifecycle (activate, deactivate, reactivate, delete,
//! anonymise) and ownership transfer.

use super::validate;
use crate::domain::attributes::{check_required, validate_changes};
use crate::domain::authz::{Caller, UserScope};
use crate::domain::changes::{NewUser, UserProfile};
use crate::domain::model::decode_cursor;
use crate::domain::permissions::admin;
use crate::domain::profile_policy::ProfilePolicy;
use crate::domain::versions::retry_unconditional;
use crate::domain::*;
use crate::oidc::logout::Notifier;
use crate::store::Store;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    /// Defaults to the email.
    pub username: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    pub phone: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    pub external_id: Option<String>,
    /// `invited` (the default) or `active`.
    pub status: Option<UserStatus>,
    #[serde(default)]
    pub attributes: BTreeMap<String, Value>,
    /// The main account; the Guest account when absent.
    pub account_id: Option<AccountId>,
    /// The main membership's first day (`YYYY-MM-DD`); open when absent.
    #[serde(default, with = "crate::domain::clock::opt_date")]
    pub start_date: Option<time::Date>,
    /// The main membership's last day (`YYYY-MM-DD`); open when absent.
    #[serde(default, with = "crate::domain::clock::opt_date")]
    pub end_date: Option<time::Date>,
    /// Roles to hold; the first is the main role. Member when empty.
    #[serde(default)]
    pub role_ids: Vec<RoleId>,
    /// Also send the invitation (`admin::invitations::create_and_send`); the user is `invited`.
    #[serde(default)]
    pub invite: bool,
}

/// A partial update: absent fields stay, `null` clears an optional field.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub email: Option<String>,
    pub username: Option<String>,
    pub email_verified: Option<bool>,
    #[serde(default, deserialize_with = "validate::nullable")]
    pub given_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::nullable")]
    pub family_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::nullable")]
    pub display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::nullable")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::nullable")]
    pub locale: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::nullable")]
    pub timezone: Option<Option<String>>,
    #[serde(default, deserialize_with = "validate::nullable")]
    pub external_id: Option<Option<String>>,
    /// Values to set; `null` removes a value.
    #[serde(default)]
    pub attributes: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListUsers {
    /// Users whose email starts with this.
    pub email_prefix: Option<String>,
    /// Users whose email, username or name contains this.
    pub q: Option<String>,
    pub status: Option<UserStatus>,
    pub account_id: Option<AccountId>,
    pub role_id: Option<RoleId>,
    pub group_id: Option<GroupId>,
    /// `email` (the default), `created` or `-created`.
    #[serde(default)]
    pub sort: UserSort,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A lifecycle step an administrator takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifecycle {
    /// invited -> active (normally the user's first sign-in does this).
    Activate,
    /// active or invited -> inactive: sign-in refused, data kept.
    Deactivate,
    /// inactive -> active.
    Reactivate,
}

/// Loads a user the caller may read (or, with `write`, change). Out of scope is 403.
pub async fn authorised_user(
    store: &Store,
    caller: &Caller,
    id: &UserId,
    write: bool,
) -> Result<User> {
    if let Some(me) = caller.self_service() {
        // The portal's caller reaches the person themself and nobody else.
        if me != id {
            return Err(DomainError::forbidden(
                "you can only see and change your own account",
            ));
        }
        return store
            .get_user(caller.tenant_id(), id)
            .await?
            .ok_or(DomainError::NotFound("user"));
    }
    let scope = if write {
        caller.user_write_scope()?
    } else {
        caller.user_read_scope()?
    };
    let user = store
        .get_user(caller.tenant_id(), id)
        .await?
        .ok_or(DomainError::NotFound("user"))?;
    if let UserScope::ManagedBy(manager) = &scope
        && !store.manages_user(caller.tenant_id(), manager, id).await?
    {
        return Err(DomainError::forbidden(
            "this user is outside the accounts and people you manage",
        ));
    }
    if write {
        require_power_over(store, caller, &user).await?;
    }
    Ok(user)
}

/// Refuses (403) a caller who may not act on `target`: the rule of
/// [`Caller::require_power_over`], against the target's effective permissions now.
pub async fn require_power_over(store: &Store, caller: &Caller, target: &User) -> Result<()> {
    if caller.has_owner_standing() {
        return Ok(());
    }
    let theirs = store
        .effective_permissions(caller.tenant_id(), &target.id)
        .await?;
    caller.require_power_over(&target.id, theirs.names(), target.is_owner)
}

/// [`require_power_over`] for a user named by id; an unknown user is left for the store to
/// refuse in its own words.
pub async fn require_power_over_id(store: &Store, caller: &Caller, id: &UserId) -> Result<()> {
    match store.get_user(caller.tenant_id(), id).await? {
        Some(target) => require_power_over(store, caller, &target).await,
        None => Ok(()),
    }
}

/// Refuses roles the caller may not hand out: the Owner role (only a transfer moves it) and
/// roles with permissions the caller does not hold.
pub async fn check_grantable_role(
    store: &Store,
    caller: &Caller,
    role_id: &RoleId,
) -> Result<Role> {
    let role = store
        .get_role(caller.tenant_id(), role_id)
        .await?
        .ok_or_else(|| {
            DomainError::invalid("role_id", format!("role `{role_id}` does not exist"))
        })?;
    if role.template == Some(RoleTemplate::Owner) {
        return Err(DomainError::forbidden(
            "the Owner role moves only by ownership transfer",
        ));
    }
    caller.require_all_held(role.permissions.iter().map(String::as_str))?;
    Ok(role)
}

/// The profile of a new user, validated by the rules of [`create`] (without the store).
pub fn new_profile(req: &CreateUser) -> Result<UserProfile> {
    let email = validate::email("email", &req.email)?;
    if let (Some(start), Some(end)) = (req.start_date, req.end_date)
        && end < start
    {
        return Err(DomainError::invalid(
            "end_date",
            format!("`{end}` is before start_date `{start}`"),
        ));
    }
    let username = match &req.username {
        Some(u) => validate::name("username", u, 254)?,
        None => email.clone(),
    };
    let status = match req.status.unwrap_or(UserStatus::Invited) {
        s @ (UserStatus::Invited | UserStatus::Active) => s,
        _ => {
            return Err(DomainError::invalid(
                "status",
                "a new user is `invited` or `active`",
            ));
        }
    };
    Ok(UserProfile {
        username,
        email,
        email_verified: req.email_verified,
        given_name: validate::optional("given_name", req.given_name.clone(), 200)?,
        family_name: validate::optional("family_name", req.family_name.clone(), 200)?,
        display_name: validate::optional("display_name", req.display_name.clone(), 200)?,
        phone: validate::optional("phone", req.phone.clone(), 50)?,
        locale: validate::optional("locale", req.locale.clone(), 35)?,
        timezone: validate::optional("timezone", req.timezone.clone(), 64)?,
        external_id: validate::optional("external_id", req.external_id.clone(), 256)?,
        status,
    })
}

pub async fn create(store: &Store, caller: &Caller, req: CreateUser) -> Result<User> {
    let scope = caller.user_write_scope()?;
    let defs = store.attribute_defs(caller.tenant_id()).await?;
    let username_is_email = req.username.is_none();
    let new = prepare(store, caller, &scope, &defs, &mut Checked::default(), req).await?;
    store
        .insert_user(caller.tenant_id(), &new, &caller.actor())
        .await
        .map_err(|e| taken(e, username_is_email))
}

/// Creates several users, each by the rules of [`create`], in one store transaction (a refused
/// one does not stop the others); the outcome of each, in order.
pub async fn create_many(
    store: &Store,
    caller: &Caller,
    reqs: Vec<CreateUser>,
) -> Result<Vec<Result<User>>> {
    let scope = caller.user_write_scope()?;
    let defs = store.attribute_defs(caller.tenant_id()).await?;
    let mut checked = Checked::default();
    let (mut news, mut outcomes) = (Vec::new(), Vec::with_capacity(reqs.len()));
    for req in reqs {
        let username_is_email = req.username.is_none();
        match prepare(store, caller, &scope, &defs, &mut checked, req).await {
            Ok(new) => {
                news.push(new);
                outcomes.push(Ok(username_is_email));
            }
            Err(e) => outcomes.push(Err(e)),
        }
    }
    let mut made = store
        .insert_users(caller.tenant_id(), &news, &caller.actor())
        .await?
        .into_iter();
    Ok(outcomes
        .into_iter()
        .map(|o| {
            let username_is_email = o?;
            made.next()
                .unwrap_or_else(|| Err(DomainError::Internal("a user went missing".into())))
                .map_err(|e| taken(e, username_is_email))
        })
        .collect())
}

/// What a batch of creations has already found allowed: roles the caller may hand out,
/// accounts a manager manages, the Member role.
#[derive(Default)]
struct Checked {
    roles: std::collections::HashSet<RoleId>,
    accounts: std::collections::HashSet<AccountId>,
    member: Option<RoleId>,
}

/// A creation request checked and turned into the user to store.
async fn prepare(
    store: &Store,
    caller: &Caller,
    scope: &UserScope,
    defs: &[AttributeDef],
    checked: &mut Checked,
    req: CreateUser,
) -> Result<NewUser> {
    // Whether the email is taken is the store's rule (its unique index, which the tenant's
    // shared-email setting and deleted users stand outside of): a 409 from the insert.
    let p = new_profile(&req)?;
    if let UserScope::ManagedBy(manager) = scope {
        let account = req.account_id.as_ref().ok_or_else(|| {
            DomainError::forbidden("as a manager, give the `account_id` of an account you manage")
        })?;
        if !checked.accounts.contains(account) {
            if !store
                .manages_account(caller.tenant_id(), manager, account)
                .await?
            {
                return Err(DomainError::forbidden("you do not manage this account"));
            }
            checked.accounts.insert(account.clone());
        }
    }
    let mut roles = req.role_ids.clone();
    if roles.is_empty() {
        let member = match &checked.member {
            Some(m) => m.clone(),
            None => {
                store
                    .role_by_template(caller.tenant_id(), RoleTemplate::Member)
                    .await?
                    .id
            }
        };
        checked.member = Some(member.clone());
        roles.push(member);
    }
    for role in &roles {
        if !checked.roles.contains(role) {
            check_grantable_role(store, caller, role).await?;
            checked.roles.insert(role.clone());
        }
    }
    let attributes = validate_changes(defs, &req.attributes)?;
    check_required(defs, &[], &attributes)?;
    Ok(NewUser {
        username: p.username,
        email: p.email,
        email_verified: p.email_verified,
        given_name: p.given_name,
        family_name: p.family_name,
        display_name: p.display_name,
        phone: p.phone,
        locale: p.locale,
        timezone: p.timezone,
        external_id: p.external_id,
        status: p.status,
        attributes,
        main_account: req.account_id,
        roles,
        start_date: req.start_date,
        end_date: req.end_date,
    })
}

/// The store's conflict, in words for a client who sent only the email when it did.
fn taken(e: DomainError, username_is_email: bool) -> DomainError {
    match e {
        // The client sent only the email; whichever index refused it, the email is taken.
        DomainError::Conflict(_) if username_is_email => DomainError::conflict(
            "a user with this email already exists (as an email or a username)",
        ),
        e => e,
    }
}

pub async fn get(store: &Store, caller: &Caller, id: &UserId) -> Result<User> {
    authorised_user(store, caller, id, false).await
}

pub async fn list(store: &Store, caller: &Caller, req: ListUsers) -> Result<Page<User>> {
    let scope = caller.user_read_scope()?;
    let after = match req.cursor.as_deref() {
        Some(c) => Some(
            decode_cursor(c)
                .map(|(k, id)| (k, UserId(id)))
                .ok_or_else(|| {
                    DomainError::invalid("cursor", "`cursor` is not one this API gave out")
                })?,
        ),
        None => None,
    };
    let query = UserQuery {
        email_prefix: req.email_prefix,
        text: req.q,
        status: req.status,
        account_id: req.account_id,
        role_id: req.role_id,
        group_id: req.group_id,
        scope,
        sort: req.sort,
        after,
        limit: validate::limit(req.limit)?,
    };
    store.list_users(caller.tenant_id(), &query).await
}

/// The profile fields of `u`.
pub fn profile_of(u: &User) -> UserProfile {
    UserProfile::from(u)
}

fn check_version(user: &User, if_match: Option<i64>) -> Result<()> {
    match if_match {
        Some(v) if v != user.version => Err(DomainError::PreconditionFailed(v)),
        _ => Ok(()),
    }
}

/// An optional profile field of an update: name, requested change, the slot, maximum length.
type OptionalField<'a> = (
    &'static str,
    Option<Option<String>>,
    &'a mut Option<String>,
    usize,
);

/// Changes a user's profile. With `if_match`, only if the user is still at that version (412
/// otherwise); without it, a change that lost a race with another writer is made again on the
/// new state, never refused.
pub async fn update(
    store: &Store,
    caller: &Caller,
    id: &UserId,
    if_match: Option<i64>,
    req: UpdateUser,
) -> Result<User> {
    if caller.self_service().is_some() {
        let policy = super::profile_policy::current(store, caller.tenant_id()).await?;
        check_self_editable(&req, &policy)?;
    }
    let defs = store.attribute_defs(caller.tenant_id()).await?;
    let changes = validate_changes(&defs, &req.attributes)?;
    let stale = |e: &DomainError| matches!(e, DomainError::PreconditionFailed(_));
    let changed = retry_unconditional(if_match.is_some(), stale, || async {
        let user = authorised_user(store, caller, id, true).await?;
        check_version(&user, if_match)?;
        if user.status == UserStatus::Anonymised {
            return Err(DomainError::conflict(
                "an anonymised user cannot be changed",
            ));
        }
        let p = updated_profile(&user, &req)?;
        let existing: Vec<AttributeId> = defs
            .iter()
            .filter(|d| user.attributes.contains_key(&d.key))
            .map(|d| d.id.clone())
            .collect();
        check_required(&defs, &existing, &changes)?;
        let after = store
            .update_user(
                caller.tenant_id(),
                id,
                user.version,
                &p,
                &changes,
                "user.update",
                &caller.actor(),
            )
            .await?;
        Ok((user, after))
    })
    .await?;
    let (before, after) = changed;
    // An address changed by an administrator: the old one is told (mandatory).
    super::account_email::tell_old_address(store, &caller.tenant, &before, &after).await;
    Ok(after)
}

/// Refuses the changes a person may not make to their own account in the portal: their email
/// (it needs verification), username, external id, verification state and custom attributes
/// (the tenant's administrators own those).
/// Refuses a self-service change to a field the person may not change themself: the email,
/// username, verification and external id never, the profile fields and custom attributes
/// unless the tenant's profile policy opens them.
fn check_self_editable(req: &UpdateUser, policy: &ProfilePolicy) -> Result<()> {
    let owned = [
        ("email", req.email.is_some()),
        ("username", req.username.is_some()),
        ("email_verified", req.email_verified.is_some()),
        ("external_id", req.external_id.is_some()),
    ];
    let profile = [
        ("given_name", req.given_name.is_some()),
        ("family_name", req.family_name.is_some()),
        ("display_name", req.display_name.is_some()),
        ("phone", req.phone.is_some()),
        ("locale", req.locale.is_some()),
        ("timezone", req.timezone.is_some()),
    ];
    let closed = owned
        .iter()
        .filter(|(_, changed)| *changed)
        .map(|(f, _)| *f)
        .chain(
            profile
                .iter()
                .filter(|(f, changed)| *changed && !policy.allows(f))
                .map(|(f, _)| *f),
        )
        .map(str::to_owned)
        .chain(
            req.attributes
                .keys()
                .map(|k| crate::domain::profile_policy::attribute(k))
                .filter(|k| !policy.allows(k)),
        )
        .next();
    match closed {
        Some(field) => Err(DomainError::forbidden(format!(
            "`{}` cannot be changed from your own account",
            field.chars().take(80).collect::<String>()
        ))),
        None => Ok(()),
    }
}

/// The profile `user` has once `req` is applied.
pub fn updated_profile(user: &User, req: &UpdateUser) -> Result<UserProfile> {
    let mut p = profile_of(user);
    if let Some(e) = &req.email {
        let e = validate::email("email", e)?;
        if p.username == p.email && req.username.is_none() {
            p.username = e.clone();
        }
        if e != p.email {
            p.email_verified = false;
        }
        p.email = e;
    }
    if let Some(u) = &req.username {
        p.username = validate::name("username", u, 254)?;
    }
    if let Some(v) = req.email_verified {
        p.email_verified = v;
    }
    let fields: [OptionalField<'_>; 7] = [
        ("given_name", req.given_name.clone(), &mut p.given_name, 200),
        (
            "family_name",
            req.family_name.clone(),
            &mut p.family_name,
            200,
        ),
        (
            "display_name",
            req.display_name.clone(),
            &mut p.display_name,
            200,
        ),
        ("phone", req.phone.clone(), &mut p.phone, 50),
        ("locale", req.locale.clone(), &mut p.locale, 35),
        ("timezone", req.timezone.clone(), &mut p.timezone, 64),
        (
            "external_id",
            req.external_id.clone(),
            &mut p.external_id,
            256,
        ),
    ];
    for (field, change, slot, max) in fields {
        if let Some(v) = change {
            *slot = validate::optional(field, v, max)?;
        }
    }
    Ok(p)
}

/// A lifecycle step; deactivation ends the user's sessions and tells the apps they signed in to.
pub async fn lifecycle(
    store: &Store,
    notifier: Notifier<'_>,
    caller: &Caller,
    id: &UserId,
    step: Lifecycle,
    if_match: Option<i64>,
) -> Result<User> {
    let stale = |e: &DomainError| matches!(e, DomainError::PreconditionFailed(_));
    retry_unconditional(if_match.is_some(), stale, || {
        lifecycle_once(store, notifier, caller, id, step, if_match)
    })
    .await
}

async fn lifecycle_once(
    store: &Store,
    notifier: Notifier<'_>,
    caller: &Caller,
    id: &UserId,
    step: Lifecycle,
    if_match: Option<i64>,
) -> Result<User> {
    let user = authorised_user(store, caller, id, true).await?;
    check_version(&user, if_match)?;
    let (from, to, action): (&[UserStatus], UserStatus, &'static str) = match step {
        Lifecycle::Activate => (&[UserStatus::Invited], UserStatus::Active, "user.activate"),
        Lifecycle::Deactivate => (
            &[UserStatus::Invited, UserStatus::Active],
            UserStatus::Inactive,
            "user.deactivate",
        ),
        Lifecycle::Reactivate => (
            &[UserStatus::Inactive],
            UserStatus::Active,
            "user.reactivate",
        ),
    };
    if step == Lifecycle::Deactivate && user.is_owner {
        return Err(DomainError::conflict(
            "the tenant's owner cannot be deactivated; transfer ownership first",
        ));
    }
    if !from.contains(&user.status) {
        return Err(DomainError::conflict(format!(
            "a user who is {} cannot be {}",
            user.status.as_str(),
            to_verb(step)
        )));
    }
    let profile = UserProfile {
        status: to,
        ..profile_of(&user)
    };
    let (actor, no_attributes) = (caller.actor(), Vec::new());
    let change = store.update_user(
        caller.tenant_id(),
        id,
        user.version,
        &profile,
        &no_attributes,
        action,
        &actor,
    );
    if step == Lifecycle::Deactivate {
        notifier
            .ending_sessions_of(store, &caller.tenant, id, change)
            .await
    } else {
        change.await
    }
}

fn to_verb(step: Lifecycle) -> &'static str {
    match step {
        Lifecycle::Activate => "activated",
        Lifecycle::Deactivate => "deactivated",
        Lifecycle::Reactivate => "reactivated",
    }
}

/// Deletes a user; the apps their live sessions signed in to are told.
pub async fn delete(
    store: &Store,
    notifier: Notifier<'_>,
    caller: &Caller,
    id: &UserId,
    if_match: Option<i64>,
) -> Result<()> {
    caller.require(admin::USERS_DELETE)?;
    let user = authorised_user(store, caller, id, false).await?;
    if user.is_owner {
        return Err(DomainError::conflict(
            "the tenant's owner cannot be deleted; transfer ownership first",
        ));
    }
    require_power_over(store, caller, &user).await?;
    check_version(&user, if_match)?;
    let actor = caller.actor();
    let change = store.delete_user_if(caller.tenant_id(), id, if_match, &actor);
    notifier
        .ending_sessions_of(store, &caller.tenant, id, change)
        .await
}

/// Anonymises a user; the apps their live sessions signed in to are told.
pub async fn anonymise(
    store: &Store,
    notifier: Notifier<'_>,
    caller: &Caller,
    id: &UserId,
    if_match: Option<i64>,
) -> Result<User> {
    caller.require(admin::USERS_DELETE)?;
    let user = authorised_user(store, caller, id, false).await?;
    if user.is_owner {
        return Err(DomainError::conflict(
            "the tenant's owner cannot be anonymised; transfer ownership first",
        ));
    }
    if user.status == UserStatus::Anonymised {
        return Err(DomainError::conflict("this user is already anonymised"));
    }
    require_power_over(store, caller, &user).await?;
    check_version(&user, if_match)?;
    let profile = anonymised_profile(&user.id);
    let actor = caller.actor();
    let change = store.anonymise_user_if(caller.tenant_id(), id, if_match, &profile, &actor);
    notifier
        .ending_sessions_of(store, &caller.tenant, id, change)
        .await
}

/// The profile an anonymised user keeps: placeholders, no personal data.
pub fn anonymised_profile(id: &UserId) -> UserProfile {
    let placeholder = format!("anonymised-{id}@anonymised.invalid");
    UserProfile {
        username: placeholder.clone(),
        email: placeholder,
        email_verified: false,
        given_name: None,
        family_name: None,
        display_name: Some("Anonymised user".into()),
        phone: None,
        locale: None,
        timezone: None,
        external_id: None,
        status: UserStatus::Anonymised,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferOwnership {
    pub user_id: UserId,
}

/// Makes another user the tenant's owner (primary user). Only the owner (or a tenant-wide
/// token) may: holding `castellan:owner.transfer` through another role is not enough.
pub async fn transfer_ownership(
    store: &Store,
    caller: &Caller,
    req: TransferOwnership,
) -> Result<Tenant> {
    caller.require(admin::OWNER_TRANSFER)?;
    caller.require_owner_standing("transfer the ownership")?;
    let user = store
        .get_user(caller.tenant_id(), &req.user_id)
        .await?
        .ok_or_else(|| DomainError::invalid("user_id", "no such user"))?;
    if user.status != UserStatus::Active {
        return Err(DomainError::conflict(
            "ownership can go only to an active user",
        ));
    }
    store
        .transfer_ownership(caller.tenant_id(), &req.user_id, &caller.actor())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::profile_policy::STANDARD_FIELDS;

    /// The change of exactly one standard field.
    fn change_of(field: &str) -> UpdateUser {
        let v = Some(Some("x".to_owned()));
        let mut req = UpdateUser::default();
        match field {
            "given_name" => req.given_name = v,
            "family_name" => req.family_name = v,
            "display_name" => req.display_name = v,
            "phone" => req.phone = v,
            "locale" => req.locale = v,
            "timezone" => req.timezone = v,
            other => panic!("{other}"),
        }
        req
    }

    /// Over every policy of the standard fields (all 64), a self-service change of one field
    /// passes exactly when the policy opens it; the administrators' fields never pass, and a
    /// custom attribute only when opened by its `attributes.` name.
    #[test]
    fn self_service_changes_follow_the_policy_exactly() {
        for mask in 0u32..(1 << STANDARD_FIELDS.len()) {
            let policy = ProfilePolicy {
                editable: STANDARD_FIELDS
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, f)| (*f).to_owned())
                    .chain(["attributes.badge".to_owned()])
                    .collect(),
            };
            for (i, f) in STANDARD_FIELDS.iter().enumerate() {
                let open = mask & (1 << i) != 0;
                assert_eq!(
                    check_self_editable(&change_of(f), &policy).is_ok(),
                    open,
                    "{f} with mask {mask:b}"
                );
            }
            let owned = [
                UpdateUser {
                    email: Some("x@y.z".into()),
                    ..Default::default()
                },
                UpdateUser {
                    username: Some("x".into()),
                    ..Default::default()
                },
                UpdateUser {
                    email_verified: Some(true),
                    ..Default::default()
                },
                UpdateUser {
                    external_id: Some(Some("x".into())),
                    ..Default::default()
                },
            ];
            for req in owned {
                assert!(check_self_editable(&req, &policy).is_err(), "{req:?}");
            }
            for (key, open) in [("badge", true), ("phone", false), ("floor", false)] {
                let mut req = UpdateUser::default();
                req.attributes.insert(key.into(), Value::Null);
                assert_eq!(check_self_editable(&req, &policy).is_ok(), open, "{key}");
            }
        }
    }
}
