//! The SCIM operations on Users and Groups: validate, call the store, and make deprovisioning
//! take effect everywhere (sessions, grants, back-channel logout) through the same domain
//! functions the admin API uses.

use super::error::{ScimError, ScimResult};
use super::patch::{self, Schemas};
use super::query::{ListParams, Resolver};
use super::{ScimCaller, group, group_patch, schema, user};
use crate::domain::permissions::{
    OWNER_OUT_OF_DIRECTORY_REACH, administrative_permission, directory_refusal,
};
use crate::domain::scim::*;
use crate::domain::versions::retry_unconditional;
use crate::domain::*;
use crate::oidc::logout::Notifier;
use crate::store::Store;
use serde_json::Value;

/// `If-Match` as the store takes it: the version the resource must still have.
pub type IfMatch = Option<i64>;

fn user_resolver<'a>(
    defs: &'a [AttributeDef],
    base: &'a str,
) -> impl Fn(&super::filter::AttrPath, Option<&str>) -> ScimResult<UserField> + Sync + 'a {
    move |p, within| user::resolve(p, within, defs, base)
}

fn user_multi(name: &str) -> Option<Multi> {
    if name.eq_ignore_ascii_case("emails") {
        Some(Multi::Emails)
    } else if name.eq_ignore_ascii_case("groups") {
        Some(Multi::Groups)
    } else if name.eq_ignore_ascii_case("addresses") {
        Some(Multi::Addresses)
    } else {
        Plural::from_name(name).map(Multi::Plurals)
    }
}

fn group_multi(name: &str) -> Option<Multi> {
    name.eq_ignore_ascii_case("members")
        .then_some(Multi::Members)
}

/// Users matching a list request. The tenant's attribute definitions are read only when the
/// filter or sort names an attribute the core and enterprise schemas do not have (the tenant
/// extension's), so that most lookups cost no query for them.
pub async fn list_users(
    store: &Store,
    caller: &ScimCaller,
    params: &ListParams,
) -> ScimResult<(ListPage<ScimUser>, i64)> {
    let resolve_with = |defs: &[AttributeDef]| {
        let resolve = user_resolver(defs, &caller.base);
        let expand = |f: &super::filter::Filter| super::expand::user(f, defs);
        let r = Resolver {
            resolve: &resolve,
            kind: UserField::kind,
            multi: user_multi,
            expand: &expand,
        };
        params.resolve(&r)
    };
    // `schemas` filters list the tenant extension when a user has one of its attributes.
    let q = if super::expand::mentions_schemas(params.filter.as_deref()) {
        resolve_with(&store.attribute_defs(caller.tenant_id()).await?)?
    } else {
        match resolve_with(&[]) {
            Ok(q) => q,
            Err(_) => resolve_with(&store.attribute_defs(caller.tenant_id()).await?)?,
        }
    };
    let page = store.scim_list_users(caller.tenant_id(), &q).await?;
    Ok((page, q.start_index))
}

/// Groups matching a list request; members are loaded only when they will be returned.
pub async fn list_groups(
    store: &Store,
    caller: &ScimCaller,
    params: &ListParams,
    members: bool,
) -> ScimResult<(ListPage<ScimGroup>, i64)> {
    let resolve =
        |p: &super::filter::AttrPath, within: Option<&str>| group::resolve(p, within, &caller.base);
    let expand = super::expand::group;
    let r = Resolver {
        resolve: &resolve,
        kind: GroupField::kind,
        multi: group_multi,
        expand: &expand,
    };
    let q = params.resolve(&r)?;
    let page = store
        .scim_list_groups(caller.tenant_id(), &q, members)
        .await?;
    Ok((page, q.start_index))
}

/// One user, or 404.
pub async fn get_user(store: &Store, caller: &ScimCaller, id: &str) -> ScimResult<ScimUser> {
    let not_found = || ScimError::not_found(format!("no user `{id}`"));
    let id_typed = UserId::parse(id).ok_or_else(not_found)?;
    store
        .scim_user(caller.tenant_id(), &id_typed)
        .await?
        .ok_or_else(|| ScimError::not_found(format!("no user `{id}`")))
}

fn group_id(id: &str) -> ScimResult<GroupId> {
    GroupId::parse(id).ok_or_else(|| ScimError::not_found(format!("no group `{id}`")))
}

/// One group (with its members when `members` is true), or 404.
pub async fn get_group(
    store: &Store,
    caller: &ScimCaller,
    id: &str,
    members: bool,
) -> ScimResult<ScimGroup> {
    store
        .scim_group(caller.tenant_id(), &group_id(id)?, members)
        .await?
        .ok_or_else(|| ScimError::not_found(format!("no group `{id}`")))
}

/// Turns a parsed resource into a write: the password hashed in a place of the bounded hashing
/// queue (full: 503 with `Retry-After`).
async fn to_write(
    caller: &ScimCaller,
    p: user::ParsedUser,
    active_now: bool,
) -> ScimResult<ScimUserWrite> {
    let password_hash = match p.password {
        Some(pw) => {
            check_password(&caller.tenant, &p.fields, &pw)?;
            let hashed = caller
                .hash_queue
                .run(move || crate::domain::passwords::hash(&pw))
                .await??;
            Some(hashed)
        }
        None => None,
    };
    Ok(ScimUserWrite {
        fields: p.fields,
        active: p.active.unwrap_or(active_now),
        manager: p.manager,
        attributes: p.attributes,
        password_hash,
    })
}

/// Refuses a common password, or one made of the user's userName, emails or the tenant's name.
fn check_password(
    tenant: &crate::domain::Tenant,
    fields: &crate::domain::scim::ScimUserFields,
    pw: &crate::domain::passwords::Password,
) -> ScimResult<()> {
    use crate::domain::passwords::{check_not_guessable, context_words};
    let mut context = context_words(&fields.user_name, &tenant.name, &tenant.slug);
    for e in &fields.emails {
        context.extend(context_words(&e.value, "", ""));
    }
    Ok(check_not_guessable(pw, &context)?)
}

/// A POST /Users body as a write, its password (if any) checked and hashed.
pub async fn prepare_user(
    caller: &ScimCaller,
    defs: &[AttributeDef],
    body: &Value,
) -> ScimResult<ScimUserWrite> {
    to_write(caller, user::parse(body, defs, &[])?, true).await
}

/// POST /Users.
pub async fn create_user(
    store: &Store,
    caller: &ScimCaller,
    defs: &[AttributeDef],
    body: &Value,
) -> ScimResult<ScimUser> {
    let w = prepare_user(caller, defs, body).await?;
    let mut done = store
        .scim_create_users(
            caller.tenant_id(),
            std::slice::from_ref(&w),
            None,
            &caller.actor(),
        )
        .await?;
    match done.pop() {
        Some(Ok(u)) => Ok(u),
        Some(Err(e)) => Err(creation_error(store, caller, &w.fields, e).await),
        None => Err(ScimError::new(500, None, "internal error")),
    }
}

/// The SCIM error for a refused creation. A uniqueness conflict names the attribute and the
/// id of the user that holds the value (RFC 7644 §3.3 allows 409 `uniqueness`), so that a
/// directory retrying a creation whose answer it lost (a Bulk cut off mid-way) can find the
/// user it made and carry on with it.
pub async fn creation_error(
    store: &Store,
    caller: &ScimCaller,
    fields: &crate::domain::scim::ScimUserFields,
    e: DomainError,
) -> ScimError {
    let e = ScimError::from(e);
    if e.status != 409 || e.scim_type != Some("uniqueness") {
        return e;
    }
    match store.scim_user_holding(caller.tenant_id(), fields).await {
        Ok(Some((id, true))) => ScimError::new(
            409,
            Some("uniqueness"),
            format!("userName: the user `{id}` already has this userName"),
        ),
        Ok(Some((id, false))) => ScimError::new(
            409,
            Some("uniqueness"),
            format!(
                "emails.value: the user `{id}` already signs in with this email (the primary email, \
                 else the first, else the userName)"
            ),
        ),
        _ => e,
    }
}

/// Writes a user's new state; a deactivation tells the apps their sessions signed in to.
async fn write_user(
    store: &Store,
    notifier: Notifier<'_>,
    caller: &ScimCaller,
    before: &ScimUser,
    if_match: IfMatch,
    w: ScimUserWrite,
) -> ScimResult<ScimUser> {
    let was_active = matches!(before.status, UserStatus::Active | UserStatus::Invited);
    let actor = caller.actor();
    let tell = super::email_change::old_address_mail(store, caller, before, &w).await?;
    let change = store.scim_replace_user(
        caller.tenant_id(),
        &before.id,
        if_match,
        &w,
        tell.as_ref(),
        &actor,
    );
    let after = if was_active && !w.active {
        notifier
            .ending_sessions_of(store, &caller.tenant, &before.id, change)
            .await?
    } else {
        change.await?
    };
    Ok(after)
}

/// PUT /Users/{id}: the resource replaces the stored one (absent `active` keeps the state).
/// Without `If-Match`, a replacement that lost a race with another writer is made again.
pub async fn replace_user(
    store: &Store,
    notifier: Notifier<'_>,
    caller: &ScimCaller,
    defs: &[AttributeDef],
    id: &str,
    if_match: IfMatch,
    body: &Value,
) -> ScimResult<ScimUser> {
    retry_unconditional(if_match.is_some(), is_stale, || async {
        let before = get_user(store, caller, id).await?;
        check_version(before.version, if_match)?;
        check_reach(store, caller, &before).await?;
        let current: Vec<String> = before.attributes.keys().cloned().collect();
        let parsed = user::parse(body, defs, &current)?;
        let w = to_write(caller, parsed, is_active(&before)).await?;
        let version = Some(before.version);
        write_user(store, notifier, caller, &before, version, w).await
    })
    .await
}

/// PATCH /Users/{id}: every operation applies to the current resource, then the result is
/// validated and written at once. Without `If-Match`, a patch that lost a race with another
/// writer is applied again to the new state.
pub async fn patch_user(
    store: &Store,
    notifier: Notifier<'_>,
    caller: &ScimCaller,
    defs: &[AttributeDef],
    id: &str,
    if_match: IfMatch,
    body: &Value,
) -> ScimResult<ScimUser> {
    let ops = patch::parse_request(body)?;
    let (core, ent, tenant) = (schema::user(), schema::enterprise(), schema::tenant(defs));
    let schemas = Schemas {
        core: &core,
        extensions: vec![&ent, &tenant],
    };
    retry_unconditional(if_match.is_some(), is_stale, || async {
        let before = get_user(store, caller, id).await?;
        check_version(before.version, if_match)?;
        check_reach(store, caller, &before).await?;
        let Value::Object(mut resource) = user::to_json(&before, &caller.base) else {
            return Err(ScimError::new(500, None, "internal error"));
        };
        patch::apply(&mut resource, &ops, &schemas)?;
        let current: Vec<String> = before.attributes.keys().cloned().collect();
        let parsed = user::parse(&Value::Object(resource), defs, &current)?;
        let w = to_write(caller, parsed, is_active(&before)).await?;
        write_user(store, notifier, caller, &before, Some(before.version), w).await
    })
    .await
}

/// Whether a SCIM write failed only because the resource changed after it was read.
fn is_stale(e: &ScimError) -> bool {
    e.status == 412
}

/// A directory provisions the people of the tenant, not its owner: it may not change,
/// deactivate or remove the owner (who could otherwise be taken over or locked out by
/// whoever holds a SCIM token). 403 in SCIM's error format.
fn check_not_owner(u: &ScimUser) -> ScimResult<()> {
    if u.is_owner {
        Err(ScimError::new(403, None, OWNER_OUT_OF_DIRECTORY_REACH))
    } else {
        Ok(())
    }
}

/// Refuses (403) a directory write on the owner, and on an administrator (a holder of
/// `castellan:` permissions beyond a manager's) unless the tenant's SCIM settings allow it.
async fn check_reach(store: &Store, caller: &ScimCaller, u: &ScimUser) -> ScimResult<()> {
    check_not_owner(u)?;
    check_administrator(store, caller, &u.id).await
}

/// The administrator half of [`check_reach`], for a user named by id.
pub async fn check_administrator(
    store: &Store,
    caller: &ScimCaller,
    user: &UserId,
) -> ScimResult<()> {
    if store
        .scim_settings(caller.tenant_id())
        .await?
        .manage_administrators
    {
        return Ok(());
    }
    let held = store
        .effective_permissions(caller.tenant_id(), user)
        .await?;
    match administrative_permission(held.names()) {
        Some(p) => Err(ScimError::new(403, None, directory_refusal(p))),
        None => Ok(()),
    }
}

fn is_active(u: &ScimUser) -> bool {
    matches!(u.status, UserStatus::Active | UserStatus::Invited)
}

/// Refuses early when `If-Match` is already stale (the store checks again under its lock).
fn check_version(current: i64, if_match: IfMatch) -> ScimResult<()> {
    match if_match {
        Some(v) if v != current => Err(DomainError::PreconditionFailed(v).into()),
        _ => Ok(()),
    }
}

/// DELETE /Users/{id}: the user is gone from SCIM; in Castellan the tenant's setting decides
/// between deactivation, deletion and anonymisation. Each ends sessions and tells the apps.
pub async fn delete_user(
    store: &Store,
    notifier: Notifier<'_>,
    caller: &ScimCaller,
    id: &str,
    if_match: IfMatch,
) -> ScimResult<()> {
    let user = get_user(store, caller, id).await?;
    check_version(user.version, if_match)?;
    if user.is_owner {
        return Err(ScimError::new(
            409,
            None,
            "the tenant's owner cannot be deprovisioned; transfer ownership first",
        ));
    }
    check_administrator(store, caller, &user.id).await?;
    let settings = store.scim_settings(caller.tenant_id()).await?;
    let actor = caller.actor();
    let tenant = caller.tenant_id();
    match settings.delete_action {
        DeleteAction::Deactivate => {
            notifier
                .ending_sessions_of(
                    store,
                    &caller.tenant,
                    &user.id,
                    store.scim_remove_user_if(tenant, &user.id, if_match, &actor),
                )
                .await?
        }
        DeleteAction::Delete => {
            notifier
                .ending_sessions_of(
                    store,
                    &caller.tenant,
                    &user.id,
                    store.delete_user_if(tenant, &user.id, if_match, &actor),
                )
                .await?
        }
        DeleteAction::Anonymise => {
            let profile = crate::admin::users::anonymised_profile(&user.id);
            notifier
                .ending_sessions_of(
                    store,
                    &caller.tenant,
                    &user.id,
                    store.anonymise_user_if(tenant, &user.id, if_match, &profile, &actor),
                )
                .await
                .map(|_| ())?
        }
    }
    Ok(())
}

/// POST /Groups.
pub async fn create_group(
    store: &Store,
    caller: &ScimCaller,
    body: &Value,
) -> ScimResult<ScimGroup> {
    let w = group::parse(body)?;
    // The store refuses members out of the directory's reach (the owner, administrators), for
    // all of them in one query inside its transaction.
    Ok(store
        .scim_create_group(caller.tenant_id(), &w, &caller.actor())
        .await?)
}

/// PUT /Groups/{id}: the resource replaces the stored one; only the members that differ are
/// written. The store checks `If-Match` under its lock, so nothing is read before.
pub async fn replace_group(
    store: &Store,
    caller: &ScimCaller,
    id: &str,
    if_match: IfMatch,
    body: &Value,
    members: bool,
) -> ScimResult<ScimGroup> {
    let w = group::parse(body)?;
    let change = ScimGroupChange {
        fields: Some((w.display_name, w.external_id)),
        replace: Some(w.members),
        ..Default::default()
    };
    let (tenant, actor) = (caller.tenant_id(), caller.actor());
    Ok(store
        .scim_change_group(tenant, &group_id(id)?, if_match, &change, members, &actor)
        .await?)
}

/// PATCH /Groups/{id}. Member operations become a change of the members they name (the group
/// is not read whole); other attributes are patched on the group without its members. A PATCH
/// of members that only the whole resource can show (a filter other than `value eq`) applies
/// to the whole resource. Without `If-Match`, a patch that lost a race is applied again to the
/// new state (two directories adding members at once both get their members in).
pub async fn patch_group(
    store: &Store,
    caller: &ScimCaller,
    id: &str,
    if_match: IfMatch,
    body: &Value,
    members: bool,
) -> ScimResult<ScimGroup> {
    let ops = patch::parse_request(body)?;
    let gid = group_id(id)?;
    let core = schema::group();
    let schemas = Schemas {
        core: &core,
        extensions: vec![],
    };
    let Some(plan) = group_patch::plan(&ops)? else {
        return patch_whole_group(store, caller, &gid, if_match, &ops, &schemas, members).await;
    };
    let change = ScimGroupChange {
        fields: None,
        replace: plan.replace.map(|r| r.into_iter().collect()),
        add: plan.add.into_iter().collect(),
        remove: plan.remove.into_iter().collect(),
    };
    let (tenant, actor) = (caller.tenant_id(), caller.actor());
    retry_unconditional(if_match.is_some(), is_stale, || async {
        let mut change = change.clone();
        let mut version = if_match;
        if !plan.others.is_empty() {
            let before = get_group(store, caller, id, false).await?;
            check_version(before.version, if_match)?;
            let Value::Object(mut resource) = group::to_json(&before, &caller.base, false) else {
                return Err(ScimError::new(500, None, "internal error"));
            };
            patch::apply(&mut resource, &plan.others, &schemas)?;
            let w = group::parse(&Value::Object(resource))?;
            change.fields = Some((w.display_name, w.external_id));
            version = Some(before.version);
        }
        Ok(store
            .scim_change_group(tenant, &gid, version, &change, members, &actor)
            .await?)
    })
    .await
}

/// A PATCH applied to the whole resource, members included, then written as a replacement.
async fn patch_whole_group(
    store: &Store,
    caller: &ScimCaller,
    gid: &GroupId,
    if_match: IfMatch,
    ops: &[patch::Operation],
    schemas: &Schemas<'_>,
    members: bool,
) -> ScimResult<ScimGroup> {
    let (tenant, actor) = (caller.tenant_id(), caller.actor());
    retry_unconditional(if_match.is_some(), is_stale, || async {
        let before = get_group(store, caller, gid.as_str(), true).await?;
        check_version(before.version, if_match)?;
        let Value::Object(mut resource) = group::to_json(&before, &caller.base, true) else {
            return Err(ScimError::new(500, None, "internal error"));
        };
        patch::apply(&mut resource, ops, schemas)?;
        let w = group::parse(&Value::Object(resource))?;
        let change = ScimGroupChange {
            fields: Some((w.display_name, w.external_id)),
            replace: Some(w.members),
            ..Default::default()
        };
        let version = Some(before.version);
        Ok(store
            .scim_change_group(tenant, gid, version, &change, members, &actor)
            .await?)
    })
    .await
}

/// DELETE /Groups/{id}: the group goes; its members lose the roles it granted.
pub async fn delete_group(
    store: &Store,
    caller: &ScimCaller,
    id: &str,
    if_match: IfMatch,
) -> ScimResult<()> {
    let g = get_group(store, caller, id, false).await?;
    check_version(g.version, if_match)?;
    Ok(store
        .delete_group_if(caller.tenant_id(), &g.id, if_match, &caller.actor())
        .await?)
}
