//! `/t/{tenant}/account/password`: the person changes their password. The current one is
//! checked as a sign-in checks it (counted against the account's lock, audited when wrong); the
//! new one is set through `admin::passwords::set` (the tenant's rules, argon2 in the bounded
//! hashing queue); then every other session of the person ends and every refresh token not
//! made in this browser is revoked (`admin::user_sessions::end_others`).

use super::field_errors::field_error;
use super::profile::{Field, NoticeQuery};
use super::{Portal, texts::AccountTexts};
use crate::admin::passwords::{self, Admission, SetPassword};
use crate::admin::user_sessions;
use crate::domain::DomainError;
use crate::domain::passwords::Password;
use crate::domain::throttle::Client;
use crate::http::AppState;
use crate::http::console::{Shell, render};
use crate::http::oidc::i18n::Lang;
use crate::http::oidc::login::form_unreadable;
use crate::oidc::signin::{self, CurrentPassword};
use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "account/password.html")]
struct PasswordPage {
    shell: Shell,
    t: &'static AccountTexts,
    notice: Option<&'static str>,
    has_password: bool,
    fields: Vec<Field>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct PasswordFields {
    csrf: Option<String>,
    current: String,
    new: String,
    confirm: String,
}

impl std::fmt::Debug for PasswordFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordFields { *** }")
    }
}

/// The form's fields (always empty: a password is never sent back), `error` next to its field.
fn fields(t: &AccountTexts, error: Option<(&str, String)>) -> Vec<Field> {
    let min = crate::domain::passwords::MIN_LEN.to_string();
    let new_hint = t.new_password_hint.replace("{n}", &min);
    [
        ("current", t.current_password, "current-password", None),
        ("new", t.new_password, "new-password", Some(new_hint)),
        ("confirm", t.confirm_password, "new-password", None),
    ]
    .into_iter()
    .map(|(name, label, autocomplete, hint)| Field {
        name: name.to_owned(),
        label: label.to_owned(),
        input: "password",
        value: String::new(),
        autocomplete,
        options: Vec::new(),
        required: true,
        hint,
        error: error
            .as_ref()
            .filter(|(f, _)| *f == name)
            .map(|(_, m)| m.clone()),
    })
    .collect()
}

fn page(
    p: &Portal,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<(&str, String)>,
) -> Response {
    render(
        status,
        &PasswordPage {
            shell: p.shell("/password"),
            t: p.t,
            notice,
            has_password: p.need.factors.has_password,
            fields: fields(p.t, error),
        },
    )
}

/// `GET /t/{tenant}/account/password`.
pub async fn show(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<NoticeQuery>, QueryRejection>,
) -> Response {
    let back = format!("/t/{slug}/account/password");
    let p = match Portal::of(&s, &slug, &headers, &client, &back).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let notice = query
        .ok()
        .and_then(|Query(q)| q.notice)
        .filter(|n| n == "changed")
        .map(|_| p.t.password_changed);
    page(&p, StatusCode::OK, notice, None)
}

/// `POST /t/{tenant}/account/password`.
pub async fn change(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<PasswordFields>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return form_unreadable(Lang::choose(None, &headers));
    };
    let back = format!("/t/{slug}/account/password");
    let p = match Portal::of(&s, &slug, &headers, &client, &back).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    if let Some(refused) = p.csrf_refusal(&s, f.csrf.as_deref()) {
        return refused;
    }
    if !p.need.factors.has_password {
        return page(&p, StatusCode::CONFLICT, None, None);
    }
    if f.new != f.confirm {
        let error = Some(("confirm", p.t.passwords_differ.to_owned()));
        return page(&p, StatusCode::BAD_REQUEST, None, error);
    }
    let guard = signin::Guard {
        limits: &s.config.sign_in,
        queue: &s.hash_queue,
        client: &client,
        device: None,
    };
    let current = Password::typed(f.current);
    let checked =
        signin::check_current_password(&s.store, &p.me.tenant, &p.me.user, current, &guard);
    match checked.await {
        Ok(CurrentPassword::Right) => {}
        Ok(CurrentPassword::Wrong) => {
            let error = Some(("current", p.t.wrong_password.to_owned()));
            return page(&p, StatusCode::BAD_REQUEST, None, error);
        }
        Ok(CurrentPassword::Locked) => {
            let error = Some(("current", p.t.password_locked.to_owned()));
            return page(&p, StatusCode::TOO_MANY_REQUESTS, None, error);
        }
        Err(e) => return p.refusal(e),
    }
    let req = SetPassword { password: f.new };
    let set = passwords::set(
        &s.store,
        &p.caller,
        &p.me.user.id,
        req,
        Admission::Refuse(&s.hash_queue),
    );
    match set.await {
        Ok(()) => {}
        Err(DomainError::Invalid { message, .. }) => {
            let message = field_error(p.me.lang, "password", p.t.new_password, &message);
            return page(&p, StatusCode::BAD_REQUEST, None, Some(("new", message)));
        }
        Err(e) => return p.refusal(e),
    }
    let notifier = s.logout_notifier();
    let (store, caller, me) = (&s.store, &p.caller, &p.me);
    if let Err(e) =
        user_sessions::end_others(store, notifier, caller, &me.user.id, &me.session.id).await
    {
        return p.refusal(e);
    }
    p.back_with("/password", "changed")
}
