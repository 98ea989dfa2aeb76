//! The SCIM operations on Users and Groups: validate, call the store, and make deprovisioning
//! take effect everywhere (sessions, grants, back-channel logout) through the same domain
//! functions the admin API uses.

use super::error::{ScimError, ScimResult};
use super::patch::{self, Schemas};
use super::query::{ListParams, Resolver};
use super::{ScimCaller, group, schema, user};
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
) -> impl Fn(&super::filter::AttrPath, Option<&str>) -> ScimResult<UserField> + Sync + 'a {
    move |p, within| user::resolve(p, within, defs)
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
        let resolve = user_resolver(defs);
        let r = Resolver {
            resolve: &resolve,
            kind: UserField::kind,
            multi: user_multi,
        };
        params.resolve(&r)
    };
    let q = match resolve_with(&[]) {
        Ok(q) => q,
        Err(_) => resolve_with(&store.attribute_defs(caller.tenant_id()).await?)?,
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
    let resolve = group::resolve;
    let r = Resolver {
        resolve: &resolve,
        kind: GroupField::kind,
        multi: group_multi,
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

/// One group, or 404.
pub async fn get_group(store: &Store, caller: &ScimCaller, id: &str) -> ScimResult<ScimGroup> {
    let not_found = || ScimError::not_found(format!("no group `{id}`"));
    let id_typed = GroupId::parse(id).ok_or_else(not_found)?;
    store
        .scim_group(caller.tenant_id(), &id_typed)
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
        .scim_create_users(caller.tenant_id(), &[w], None, &caller.actor())
        .await?;
    Ok(done
        .pop()
        .ok_or_else(|| ScimError::new(500, None, "internal error"))??)
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
    let change = store.scim_replace_user(caller.tenant_id(), &before.id, if_match, &w, &actor);
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
        check_not_owner(&before)?;
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
        check_not_owner(&before)?;
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
        Err(ScimError::new(
            403,
            None,
            "the tenant's owner cannot be changed through SCIM; use the admin API as the owner",
        ))
    } else {
        Ok(())
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
    Ok(store
        .scim_create_group(caller.tenant_id(), &w, &caller.actor())
        .await?)
}

/// PUT /Groups/{id}. Without `If-Match`, a replacement that lost a race is made again.
pub async fn replace_group(
    store: &Store,
    caller: &ScimCaller,
    id: &str,
    if_match: IfMatch,
    body: &Value,
) -> ScimResult<ScimGroup> {
    let w = group::parse(body)?;
    retry_unconditional(if_match.is_some(), is_stale, || async {
        let before = get_group(store, caller, id).await?;
        check_version(before.version, if_match)?;
        Ok(store
            .scim_replace_group(
                caller.tenant_id(),
                &before.id,
                Some(before.version),
                &w,
                &caller.actor(),
            )
            .await?)
    })
    .await
}

/// PATCH /Groups/{id}. Without `If-Match`, a patch that lost a race is applied again to the
/// new state (two directories adding members at once both get their members in).
pub async fn patch_group(
    store: &Store,
    caller: &ScimCaller,
    id: &str,
    if_match: IfMatch,
    body: &Value,
) -> ScimResult<ScimGroup> {
    let ops = patch::parse_request(body)?;
    let core = schema::group();
    let schemas = Schemas {
        core: &core,
        extensions: vec![],
    };
    retry_unconditional(if_match.is_some(), is_stale, || async {
        let before = get_group(store, caller, id).await?;
        check_version(before.version, if_match)?;
        let Value::Object(mut resource) = group::to_json(&before, &caller.base, true) else {
            return Err(ScimError::new(500, None, "internal error"));
        };
        patch::apply(&mut resource, &ops, &schemas)?;
        let w = group::parse(&Value::Object(resource))?;
        Ok(store
            .scim_replace_group(
                caller.tenant_id(),
                &before.id,
                Some(before.version),
                &w,
                &caller.actor(),
            )
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
    let g = get_group(store, caller, id).await?;
    check_version(g.version, if_match)?;
    Ok(store
        .delete_group_if(caller.tenant_id(), &g.id, if_match, &caller.actor())
        .await?)
}
