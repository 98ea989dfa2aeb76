//! The actions of the console's user page, each behind a confirmation page
//! (`GET /t/{tenant}/console/users/{id}/{action}`) and taken by a form POST to the same address,
//! through the service function the JSON API's endpoint calls: `admin::invitations::send`
//! (resend an invited user's invitation: the page shows the new link once),
//! `admin::users::lifecycle`
//! (activate, deactivate, reactivate), `delete`, `anonymise`, `admin::passwords::set` (refused
//! at once when the hashing queue is full), `admin::mfa::reset` and
//! `admin::users::transfer_ownership` (offered to the owner, on an active user's page). Only
//! the actions that fit
//! the user's status and the caller's permissions are offered; a forged one is refused by the
//! service.

use super::user::open;
use super::users::display_name;
use super::{Console, Shell, refusal, render};
use crate::admin::passwords::{Admission, SetPassword, set as set_password};
use crate::admin::users::{self, Lifecycle, get as get_user};
use crate::domain::authz::Caller;
use crate::domain::permissions::admin;
use crate::domain::throttle::Client;
use crate::domain::{DomainError, User, UserStatus};
use crate::http::AppState;
use crate::http::oidc::pages;
use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

/// An action of the user page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Invite,
    Activate,
    Deactivate,
    Reactivate,
    Password,
    Factors,
    Anonymise,
    Delete,
    Transfer,
}

const ALL: [Action; 9] = [
    Action::Invite,
    Action::Activate,
    Action::Deactivate,
    Action::Reactivate,
    Action::Password,
    Action::Factors,
    Action::Anonymise,
    Action::Delete,
    Action::Transfer,
];

impl Action {
    /// Its segment of the address.
    pub fn slug(self) -> &'static str {
        match self {
            Self::Invite => "invite",
            Self::Activate => "activate",
            Self::Deactivate => "deactivate",
            Self::Reactivate => "reactivate",
            Self::Password => "password",
            Self::Factors => "reset-factors",
            Self::Anonymise => "anonymise",
            Self::Delete => "delete",
            Self::Transfer => "transfer-ownership",
        }
    }

    fn parse(slug: &str) -> Option<Self> {
        ALL.into_iter().find(|a| a.slug() == slug)
    }

    /// The button's words.
    pub fn label(self) -> &'static str {
        match self {
            Self::Invite => "Resend invitation",
            Self::Activate => "Activate",
            Self::Deactivate => "Deactivate",
            Self::Reactivate => "Reactivate",
            Self::Password => "Set a new password",
            Self::Factors => "Reset second factors",
            Self::Anonymise => "Anonymise",
            Self::Delete => "Delete",
            Self::Transfer => "Make owner",
        }
    }

    /// Whether it destroys or locks out (a red button).
    pub fn danger(self) -> bool {
        matches!(
            self,
            Self::Deactivate | Self::Factors | Self::Anonymise | Self::Delete | Self::Transfer
        )
    }

    /// Whether the confirmation asks for a new password.
    pub fn asks_password(self) -> bool {
        self == Self::Password
    }

    /// What the confirmation page says will happen.
    fn consequence(self) -> &'static str {
        match self {
            Self::Invite => {
                "A new invitation link is made, valid 7 days; the link sent before stops \
                 working. Without a mail server, the link is shown to you once, to pass on."
            }
            Self::Activate => "The user becomes active and can sign in.",
            Self::Deactivate => {
                "The user can no longer sign in: their sessions end now and the apps they signed \
                 in to are told. Their data is kept, and they can be reactivated later."
            }
            Self::Reactivate => "The user becomes active again and can sign in.",
            Self::Password => {
                "The user's password is replaced. Tell them the new one through a safe channel."
            }
            Self::Factors => {
                "Every authenticator app, passkey, security key and recovery code of the user is \
                 removed. They will set up a second factor again at their next sign-in if one is \
                 required."
            }
            Self::Anonymise => {
                "The user's name, email and other personal data are replaced by placeholders and \
                 their sessions end. The audit history is kept. This cannot be undone."
            }
            Self::Delete => {
                "The user and their data are deleted and their sessions end. This cannot be \
                 undone."
            }
            Self::Transfer => {
                "This user becomes the organisation's owner (its primary user): they hold the \
                 Owner role and only they can then transfer the ownership again. You keep your \
                 other roles but are no longer the owner."
            }
        }
    }

    /// The `?notice=` of the page the action leads to.
    fn notice(self) -> &'static str {
        match self {
            Self::Invite => "invited",
            Self::Activate => "activated",
            Self::Deactivate => "deactivated",
            Self::Reactivate => "reactivated",
            Self::Password => "password",
            Self::Factors => "factors",
            Self::Anonymise => "anonymised",
            Self::Delete => "deleted",
            Self::Transfer => "owner",
        }
    }

    /// Whether it applies to `user` now, for a caller allowed to change them: the status rules
    /// of the service functions, and the owner is neither deactivated, anonymised nor deleted.
    fn fits(self, caller: &Caller, user: &User) -> bool {
        let deletes = caller.holds(admin::USERS_DELETE) && !user.is_owner;
        match self {
            Self::Invite | Self::Activate => user.status == UserStatus::Invited,
            Self::Deactivate => {
                matches!(user.status, UserStatus::Invited | UserStatus::Active) && !user.is_owner
            }
            Self::Reactivate => user.status == UserStatus::Inactive,
            Self::Password | Self::Factors => user.status != UserStatus::Anonymised,
            Self::Anonymise => deletes && user.status != UserStatus::Anonymised,
            Self::Delete => deletes,
            Self::Transfer => {
                caller.holds(admin::OWNER_TRANSFER)
                    && caller.has_owner_standing()
                    && !user.is_owner
                    && user.status == UserStatus::Active
            }
        }
    }
}

/// The actions offered on `user`'s page to a caller allowed to change them.
pub fn offered(caller: &Caller, user: &User) -> Vec<Action> {
    ALL.into_iter().filter(|a| a.fits(caller, user)).collect()
}

#[derive(Template)]
#[template(path = "console/user_confirm.html")]
struct ConfirmPage {
    shell: Shell,
    id: String,
    name: String,
    email: String,
    action: Action,
    consequence: &'static str,
    password_error: Option<String>,
}

/// The confirmation form (no `Debug`: it may carry a password).
#[derive(Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// The user and the action named by the path, for a caller to whom the action is offered.
async fn target(
    s: &AppState,
    path: &(String, String, String),
    headers: &HeaderMap,
    client: &Client,
) -> Result<(Console, User, Action), Response> {
    let (slug, id, action) = path;
    let back = format!("/t/{slug}/console/users/{id}");
    let (console, id) = open(s, &(slug.clone(), id.clone()), headers, client, &back).await?;
    let action = Action::parse(action).ok_or_else(|| refusal(DomainError::NotFound("page")))?;
    let user = get_user(&s.store, &console.caller, &id)
        .await
        .map_err(refusal)?;
    Ok((console, user, action))
}

fn confirm_page(
    console: &Console,
    user: &User,
    action: Action,
    status: StatusCode,
    password_error: Option<String>,
) -> Response {
    render(
        status,
        &ConfirmPage {
            shell: console.shell("users"),
            id: user.id.to_string(),
            name: display_name(user),
            email: user.email.clone(),
            action,
            consequence: action.consequence(),
            password_error,
        },
    )
}

/// `GET /t/{tenant}/console/users/{id}/{action}`: what the action will do, and the button.
pub async fn confirm(
    State(s): State<AppState>,
    Path(path): Path<(String, String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let (console, user, action) = match target(&s, &path, &headers, &client).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let may = match super::user::may_change(&s, &console, &user.id).await {
        Ok(m) => m,
        Err(page) => return page,
    };
    if !may || !action.fits(&console.caller, &user) {
        return pages::error(
            StatusCode::FORBIDDEN,
            "Not available",
            "This action is not available for this user.",
        );
    }
    confirm_page(&console, &user, action, StatusCode::OK, None)
}

/// `POST /t/{tenant}/console/users/{id}/{action}`: takes the action, then back to the user's
/// page (the list after a deletion) with a notice.
pub async fn act(
    State(s): State<AppState>,
    Path(path): Path<(String, String, String)>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Response {
    let (console, user, action) = match target(&s, &path, &headers, &client).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let Ok(Form(form)) = form else {
        return refusal(DomainError::invalid("form", "the form could not be read"));
    };
    if let Some(refused) = console.csrf_refusal(&s, &headers, form.csrf.as_deref()) {
        return refused;
    }
    let slug = &console.me.tenant.slug;
    let page = format!("/t/{slug}/console/users/{}", user.id);
    if action == Action::Invite {
        // Not a redirect: the page shows the new link, once.
        let sent = send_invitation(&s, &console.caller, &user.id, Default::default());
        return match sent.await {
            Ok(sent) => super::invitation::sent_page(&console, &user, &sent, false),
            Err(e) => refusal(e),
        };
    }
    match take(&s, &console.caller, &user, action, form.password).await {
        Ok(()) if action == Action::Delete => {
            pages::see_other(&format!("/t/{slug}/console/users?notice=deleted"))
        }
        Ok(()) => pages::see_other(&format!("{page}?notice={}", action.notice())),
        Err(DomainError::Invalid { message, .. }) if action == Action::Password => {
            // The password is not shown again: the field is empty, with what was wrong.
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            confirm_page(&console, &user, action, status, Some(message))
        }
        Err(e) => refusal(e),
    }
}

/// Sends `id` a new invitation (`POST /users/{id}/invitation`'s function).
async fn send_invitation(
    s: &AppState,
    caller: &Caller,
    id: &crate::domain::UserId,
    req: crate::admin::invitations::SendInvitation,
) -> crate::domain::Result<crate::admin::invitations::Sent> {
    let outlet = crate::admin::invitations::Outlet::of(&s.config);
    crate::admin::invitations::send(&s.store, caller, id, req, outlet).await
}

/// Takes `action` on `user` through its service function.
async fn take(
    s: &AppState,
    caller: &Caller,
    user: &User,
    action: Action,
    password: Option<String>,
) -> crate::domain::Result<()> {
    let (store, notifier, id) = (&s.store, s.logout_notifier(), &user.id);
    let step = |step| users::lifecycle(store, notifier, caller, id, step, None);
    match action {
        Action::Invite => send_invitation(s, caller, id, Default::default())
            .await
            .map(drop),
        Action::Activate => step(Lifecycle::Activate).await.map(drop),
        Action::Deactivate => step(Lifecycle::Deactivate).await.map(drop),
        Action::Reactivate => step(Lifecycle::Reactivate).await.map(drop),
        Action::Anonymise => users::anonymise(store, notifier, caller, id, None)
            .await
            .map(drop),
        Action::Delete => users::delete(store, notifier, caller, id, None).await,
        Action::Factors => crate::admin::mfa::reset(store, caller, id).await.map(drop),
        Action::Transfer => {
            let req = users::TransferOwnership {
                user_id: id.clone(),
            };
            users::transfer_ownership(store, caller, req)
                .await
                .map(drop)
        }
        Action::Password => {
            let req = SetPassword {
                password: password.unwrap_or_default(),
            };
            let queue = Admission::Refuse(s.hash_queue.as_ref());
            set_password(store, caller, id, req, queue).await
        }
    }
}
