//! What a user manages, on their memberships page (`memberships.rs`): the people, accounts and
//! account groups they manage, who manages them, and the forms that add and end a management
//! relation, through `admin::management` (only a caller who may change every user hands out
//! scope).

use super::forms::{FieldErrors, Posted, signed_post, status_of};
use super::memberships::{Typed, address, may_manage, show, user_id};
use super::users::display_name;
use super::{Console, refusal};
use crate::admin::accounts;
use crate::admin::management::{self, AddManagement, TargetKind};
use crate::admin::users::{ListUsers, authorised_user, get as get_user, list as list_users};
use crate::domain::throttle::Client;
use crate::domain::{
    AccountGroupId, AccountId, DomainError, ManagementId, ManagementTarget, UserId,
};
use crate::http::AppState;
use crate::http::oidc::pages::see_other;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

/// One management relation as the page shows it.
pub struct Managed {
    pub(super) id: String,
    pub(super) kind: &'static str,
    pub(super) name: String,
    pub(super) href: Option<String>,
}

/// Someone who manages the person, and through what.
pub struct Manager {
    pub(super) name: String,
    pub(super) href: Option<String>,
    pub(super) through: String,
}

/// The name of account `id`, if the caller may read it (one relation, one lookup: the page no
/// longer loads every account).
async fn account_name(
    s: &AppState,
    console: &Console,
    id: &AccountId,
) -> Result<Option<String>, DomainError> {
    match accounts::get(&s.store, &console.caller, id).await {
        Ok(a) => Ok(Some(a.name)),
        Err(DomainError::Forbidden(_) | DomainError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The name of account group `id`, if the caller may read it.
async fn group_name(
    s: &AppState,
    console: &Console,
    id: &AccountGroupId,
) -> Result<Option<String>, DomainError> {
    match accounts::get_group(&s.store, &console.caller, id).await {
        Ok(g) => Ok(Some(g.name)),
        Err(DomainError::Forbidden(_) | DomainError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Who manages `user` today, as the caller may see them.
pub(super) async fn managers(
    s: &AppState,
    console: &Console,
    user: &UserId,
) -> Result<Vec<Manager>, DomainError> {
    let slug = &console.me.tenant.slug;
    let mut out = Vec::new();
    for m in management::managers_of(&s.store, &console.caller, user).await? {
        let you = m.manager_id == console.me.user.id;
        let (name, href) = match get_user(&s.store, &console.caller, &m.manager_id).await {
            _ if you => (format!("You ({})", console.me.user.email), None),
            Ok(u) => (
                format!("{} ({})", display_name(&u), u.email),
                Some(format!("/t/{slug}/console/users/{}/memberships", u.id)),
            ),
            Err(DomainError::Forbidden(_) | DomainError::NotFound(_)) => {
                ("Someone outside your scope".to_owned(), None)
            }
            Err(e) => return Err(e),
        };
        let through = match &m.target {
            ManagementTarget::User(_) => "Directly".to_owned(),
            ManagementTarget::Account(a) => format!(
                "Through the account {}",
                account_name(s, console, a)
                    .await?
                    .as_deref()
                    .unwrap_or("(hidden)")
            ),
            ManagementTarget::AccountGroup(g) => format!(
                "Through the account group {}",
                group_name(s, console, g)
                    .await?
                    .as_deref()
                    .unwrap_or("(hidden)")
            ),
        };
        out.push(Manager {
            name,
            href,
            through,
        });
    }
    Ok(out)
}

pub(super) async fn managed_items(
    s: &AppState,
    console: &Console,
    user: &UserId,
) -> Result<Vec<Managed>, DomainError> {
    let slug = &console.me.tenant.slug;
    let mut out = Vec::new();
    for m in management::list(&s.store, &console.caller, user).await? {
        let (kind, name, href) = match &m.target {
            ManagementTarget::User(u) => match get_user(&s.store, &console.caller, u).await {
                Ok(u) => (
                    "Person",
                    format!("{} ({})", display_name(&u), u.email),
                    Some(format!("/t/{slug}/console/users/{}", u.id)),
                ),
                Err(DomainError::Forbidden(_) | DomainError::NotFound(_)) => {
                    ("Person", "Someone outside your scope".into(), None)
                }
                Err(e) => return Err(e),
            },
            ManagementTarget::Account(a) => (
                "Account",
                account_name(s, console, a)
                    .await?
                    .unwrap_or_else(|| a.to_string()),
                Some(format!("/t/{slug}/console/accounts/{a}")),
            ),
            ManagementTarget::AccountGroup(g) => (
                "Account group",
                group_name(s, console, g)
                    .await?
                    .unwrap_or_else(|| g.to_string()),
                Some(format!("/t/{slug}/console/account-groups/{g}")),
            ),
        };
        out.push(Managed {
            id: m.id.to_string(),
            kind,
            name,
            href,
        });
    }
    Ok(out)
}

/// The target of a management form: `kind` and the matching field (`account_id`,
/// `account_group_id`, or `target_email` resolved among the people the caller can see).
async fn management_target(
    s: &AppState,
    console: &Console,
    f: &Posted,
) -> Result<AddManagement, DomainError> {
    let (kind, id) = match f.get("kind") {
        "account" => (TargetKind::Account, f.get("account_id").to_owned()),
        "account_group" => (
            TargetKind::AccountGroup,
            f.get("account_group_id").to_owned(),
        ),
        "user" => {
            let email = f.get("target_email").trim().to_lowercase();
            if email.is_empty() {
                return Err(DomainError::invalid(
                    "target_email",
                    "enter the person's email",
                ));
            }
            let found = list_users(
                &s.store,
                &console.caller,
                ListUsers {
                    email_prefix: Some(email.clone()),
                    limit: Some(5),
                    ..Default::default()
                },
            )
            .await?;
            let user = found
                .items
                .into_iter()
                .find(|u| u.email.to_lowercase() == email)
                .ok_or_else(|| {
                    DomainError::invalid("target_email", "nobody you can see has this email")
                })?;
            (TargetKind::User, user.id.to_string())
        }
        _ => {
            return Err(DomainError::invalid(
                "kind",
                "choose a person, an account or an account group",
            ));
        }
    };
    Ok(AddManagement { kind, id })
}

/// `POST /t/{tenant}/console/users/{id}/management` (`kind` and its target): the user now
/// manages that person, account or account group.
pub(super) async fn add_management(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let id = match user_id(&id) {
        Ok(id) => id,
        Err(e) => return refusal(e),
    };
    let back = address(&slug, &id);
    let (console, f) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(p) => return p,
    };
    let done = match management_target(&s, &console, &f).await {
        Ok(req) => management::add(&s.store, &console.caller, &id, req).await,
        // Bad input is worth a form only to someone who may hand out scope at all; anyone
        // else is told what the service would say.
        Err(e @ DomainError::Invalid { .. }) => match may_manage(&s, &console, &id).await {
            Ok(true) => Err(e),
            Ok(false) => Err(DomainError::forbidden(format!(
                "changing who manages what needs the permission `{}`",
                crate::domain::permissions::admin::USERS_WRITE
            ))),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    let e = match done {
        Ok(_) => return see_other(&format!("{back}?notice=managing")),
        Err(e) => e,
    };
    let Some(errors) = FieldErrors::of(
        &e,
        &[
            "kind",
            "target_email",
            "account_id",
            "account_group_id",
            "id",
        ],
    ) else {
        return refusal(e);
    };
    let target = match authorised_user(&s.store, &console.caller, &id, true).await {
        Ok(u) => u,
        Err(e) => return refusal(e),
    };
    let typed = Typed {
        target_email: f.get("target_email").to_owned(),
        ..Default::default()
    };
    show(
        &s,
        &console,
        target,
        "",
        typed,
        (errors, "management"),
        status_of(&e),
    )
    .await
}

/// `POST /t/{tenant}/console/users/{id}/management/{mgid}/delete`: ends a relation.
pub(super) async fn remove_management(
    State(s): State<AppState>,
    Path((slug, id, mgid)): Path<(String, String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let id = match user_id(&id) {
        Ok(id) => id,
        Err(e) => return refusal(e),
    };
    let back = address(&slug, &id);
    let (console, _) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(p) => return p,
    };
    let Some(mgid) = ManagementId::parse(&mgid) else {
        return refusal(DomainError::NotFound("management relation"));
    };
    match management::delete(&s.store, &console.caller, &id, &mgid).await {
        Ok(()) => see_other(&format!("{back}?notice=unmanaged")),
        Err(e) => refusal(e),
    }
}
