//! The employment forms of a user's memberships page (`memberships.rs`): add an employment,
//! change its dates, make it the main account, and delete it after a confirmation, through
//! `admin::memberships` (a manager changes memberships only for their people, in accounts they
//! manage).

use super::confirm::Confirm;
use super::forms::{FieldErrors, Posted, signed_post, status_of};
use super::memberships::{Row, Typed, address, show, user_id, writable};
use super::users::display_name;
use super::{Console, Shell, refusal, render};
use crate::admin::memberships::{self, AddMembership, UpdateMembership};
use crate::admin::users::authorised_user;
use crate::domain::clock::parse_date;
use crate::domain::throttle::Client;
use crate::domain::{DomainError, Membership, MembershipId, User, UserId};
use crate::http::AppState;
use crate::http::oidc::pages::see_other;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use time::Date;

/// A date field: empty is open (`None`), else `YYYY-MM-DD`, else an error on the field.
fn date_field(f: &Posted, name: &str) -> Result<Option<Date>, DomainError> {
    match f.opt(name) {
        None => Ok(None),
        Some(text) => parse_date(&text).map(Some).ok_or_else(|| {
            DomainError::invalid(name, "enter a date as YYYY-MM-DD (for example 2025-01-31)")
        }),
    }
}

const MEMBERSHIP_FIELDS: &[&str] = &["account_id", "start_date", "end_date", "main"];

/// `POST /t/{tenant}/console/users/{id}/memberships` (`account_id`, `start_date`, `end_date`,
/// `main`): adds an employment.
pub(super) async fn add(
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
    let done = async {
        let account_id = crate::domain::AccountId::parse(f.get("account_id"))
            .ok_or_else(|| DomainError::invalid("account_id", "choose an account"))?;
        let req = AddMembership {
            account_id,
            start_date: date_field(&f, "start_date")?,
            end_date: date_field(&f, "end_date")?,
            main: f.get("main") == "on",
        };
        memberships::add(&s.store, &console.caller, &id, req).await
    }
    .await;
    let e = match done {
        Ok(_) => return see_other(&format!("{back}?notice=added")),
        Err(e) => e,
    };
    // Bad input is for the form only when the caller may change this user at all.
    let Some(errors) = FieldErrors::of(&e, MEMBERSHIP_FIELDS) else {
        return refusal(e);
    };
    let target = match authorised_user(&s.store, &console.caller, &id, true).await {
        Ok(u) => u,
        Err(e) => return refusal(e),
    };
    let typed = Typed {
        account_id: f.get("account_id").to_owned(),
        start: f.get("start_date").to_owned(),
        end: f.get("end_date").to_owned(),
        main: f.get("main") == "on",
        ..Default::default()
    };
    show(
        &s,
        &console,
        target,
        "",
        typed,
        (errors, "membership"),
        status_of(&e),
    )
    .await
}

/// A membership id from the path.
fn membership_id(id: &str) -> Result<MembershipId, DomainError> {
    MembershipId::parse(id).ok_or(DomainError::NotFound("membership"))
}

/// The membership `mid` of `user`, as the caller may read it.
async fn membership(
    s: &AppState,
    console: &Console,
    user: &UserId,
    mid: &MembershipId,
) -> Result<Membership, DomainError> {
    memberships::list(&s.store, &console.caller, user)
        .await?
        .into_iter()
        .find(|m| &m.id == mid)
        .ok_or(DomainError::NotFound("membership"))
}

#[derive(Template)]
#[template(path = "console/membership_edit.html")]
struct EditPage {
    shell: Shell,
    user_id: String,
    user_label: String,
    r: Row,
    start: String,
    end: String,
    errors: FieldErrors,
}

/// Loads what the edit, main and delete routes share: the console, the user and the membership.
async fn context(
    s: &AppState,
    slug: &str,
    headers: &HeaderMap,
    client: &Client,
    ids: (&str, &str),
    suffix: &str,
) -> Result<(Console, User, Membership, String), Response> {
    let id = user_id(ids.0).map_err(refusal)?;
    let mid = membership_id(ids.1).map_err(refusal)?;
    let back = format!("{}/{mid}{suffix}", address(slug, &id));
    let console = Console::of(s, slug, headers, client, &back).await?;
    let user = authorised_user(&s.store, &console.caller, &id, false)
        .await
        .map_err(refusal)?;
    let m = membership(s, &console, &id, &mid).await.map_err(refusal)?;
    Ok((console, user, m, back))
}

/// `GET /t/{tenant}/console/users/{id}/memberships/{mid}`: the dates form.
pub(super) async fn edit(
    State(s): State<AppState>,
    Path((slug, id, mid)): Path<(String, String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let (console, user, m, _) = match context(&s, &slug, &headers, &client, (&id, &mid), "").await {
        Ok(c) => c,
        Err(p) => return p,
    };
    match writable(&s, &console, &user.id).await {
        Ok(true) => {}
        Ok(false) => {
            return refusal(DomainError::forbidden(
                "you cannot change this person's employment",
            ));
        }
        Err(e) => return refusal(e),
    }
    let r = Row::of(m);
    render(
        StatusCode::OK,
        &EditPage {
            shell: console.shell("users"),
            user_id: user.id.to_string(),
            user_label: display_name(&user),
            start: r.start.clone(),
            end: r.end.clone(),
            r,
            errors: FieldErrors::default(),
        },
    )
}

/// `POST /t/{tenant}/console/users/{id}/memberships/{mid}` (`start_date`, `end_date`; empty
/// opens that end).
pub(super) async fn save(
    State(s): State<AppState>,
    Path((slug, id, mid)): Path<(String, String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let Ok(uid) = user_id(&id) else {
        return refusal(DomainError::NotFound("user"));
    };
    let back = address(&slug, &uid);
    let (console, f) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(p) => return p,
    };
    let Ok(mid) = membership_id(&mid) else {
        return refusal(DomainError::NotFound("membership"));
    };
    let done = async {
        let req = UpdateMembership {
            start_date: Some(date_field(&f, "start_date")?),
            end_date: Some(date_field(&f, "end_date")?),
            main: None,
        };
        memberships::update(&s.store, &console.caller, &uid, &mid, req).await
    }
    .await;
    let e = match done {
        Ok(_) => return see_other(&format!("{back}?notice=saved")),
        Err(e) => e,
    };
    let Some(errors) = FieldErrors::of(&e, MEMBERSHIP_FIELDS) else {
        return refusal(e);
    };
    let user = match authorised_user(&s.store, &console.caller, &uid, true).await {
        Ok(u) => u,
        Err(e) => return refusal(e),
    };
    let m = match membership(&s, &console, &uid, &mid).await {
        Ok(m) => m,
        Err(e) => return refusal(e),
    };
    render(
        status_of(&e),
        &EditPage {
            shell: console.shell("users"),
            user_id: user.id.to_string(),
            user_label: display_name(&user),
            r: Row::of(m),
            start: f.get("start_date").to_owned(),
            end: f.get("end_date").to_owned(),
            errors,
        },
    )
}

/// `POST /t/{tenant}/console/users/{id}/memberships/{mid}/main`: makes it the main account.
pub(super) async fn make_main(
    State(s): State<AppState>,
    Path((slug, id, mid)): Path<(String, String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let Ok(uid) = user_id(&id) else {
        return refusal(DomainError::NotFound("user"));
    };
    let back = address(&slug, &uid);
    let (console, _) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(p) => return p,
    };
    let Ok(mid) = membership_id(&mid) else {
        return refusal(DomainError::NotFound("membership"));
    };
    let req = UpdateMembership {
        main: Some(true),
        ..Default::default()
    };
    match memberships::update(&s.store, &console.caller, &uid, &mid, req).await {
        Ok(_) => see_other(&format!("{back}?notice=main")),
        Err(e) => refusal(e),
    }
}

/// The confirmation of deleting `m`, an employment of `user`.
fn delete_page(
    console: &Console,
    user: &User,
    m: Membership,
    error: Option<String>,
    st: StatusCode,
) -> Response {
    let back = address(&console.me.tenant.slug, &user.id);
    let title = format!("Delete the employment in {}?", m.account_name);
    let consequence = format!(
        "{} will no longer belong to {}, and loses the roles held in it. To keep the history, \
         set an end date instead. The main employment and the last one cannot be deleted.",
        display_name(user),
        m.account_name
    );
    Confirm {
        section: "users",
        title: &title,
        consequence: &consequence,
        action: &format!("{back}/{}/delete", m.id),
        button: "Delete employment",
        back: (&back, "Employment and management"),
    }
    .page(console, st, error)
}

/// `GET /t/{tenant}/console/users/{id}/memberships/{mid}/delete`: the confirmation.
pub(super) async fn confirm_delete(
    State(s): State<AppState>,
    Path((slug, id, mid)): Path<(String, String, String)>,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let (console, user, m, _) =
        match context(&s, &slug, &headers, &client, (&id, &mid), "/delete").await {
            Ok(c) => c,
            Err(p) => return p,
        };
    match writable(&s, &console, &user.id).await {
        Ok(true) => {}
        Ok(false) => {
            return refusal(DomainError::forbidden(
                "you cannot change this person's employment",
            ));
        }
        Err(e) => return refusal(e),
    }
    delete_page(&console, &user, m, None, StatusCode::OK)
}

/// `POST /t/{tenant}/console/users/{id}/memberships/{mid}/delete`.
pub(super) async fn delete(
    State(s): State<AppState>,
    Path((slug, id, mid)): Path<(String, String, String)>,
    headers: HeaderMap,
    client: Client,
    body: Bytes,
) -> Response {
    let Ok(uid) = user_id(&id) else {
        return refusal(DomainError::NotFound("user"));
    };
    let back = address(&slug, &uid);
    let (console, _) = match signed_post(&s, &slug, &headers, &client, &back, &body).await {
        Ok(p) => p,
        Err(p) => return p,
    };
    let Ok(mid) = membership_id(&mid) else {
        return refusal(DomainError::NotFound("membership"));
    };
    match memberships::delete(&s.store, &console.caller, &uid, &mid).await {
        Ok(()) => see_other(&format!("{back}?notice=deleted")),
        Err(DomainError::Conflict(why)) => {
            let user = match authorised_user(&s.store, &console.caller, &uid, false).await {
                Ok(u) => u,
                Err(e) => return refusal(e),
            };
            match membership(&s, &console, &uid, &mid).await {
                Ok(m) => delete_page(&console, &user, m, Some(why), StatusCode::CONFLICT),
                Err(e) => refusal(e),
            }
        }
        Err(e) => refusal(e),
    }
}
