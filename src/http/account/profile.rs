//! `/t/{tenant}/account`: the person's profile. They change the fields that describe them (names,
//! phone, language, time zone) through `admin::users::update`, which refuses a self-service
//! caller anything else (email, username, external id, custom attributes: the administrators'
//! fields). The email is shown read-only: changing it needs a verification (issue 15).

use super::{Portal, texts::AccountTexts};
use crate::admin::users::{self, UpdateUser};
use crate::domain::throttle::Client;
use crate::domain::{DomainError, User};
use crate::http::AppState;
use crate::http::console::{Shell, refusal, render};
use crate::http::oidc::i18n::Lang;
use crate::http::oidc::login::form_unreadable;
use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

/// One field of an account form: a visible label, the input, an optional hint and the field's
/// error next to it.
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    /// `text`, `tel`, `password`.
    pub input: &'static str,
    pub value: String,
    pub autocomplete: &'static str,
    pub hint: Option<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "account/profile.html")]
struct ProfilePage {
    shell: Shell,
    t: &'static AccountTexts,
    email: String,
    notice: Option<&'static str>,
    invalid: bool,
    fields: Vec<Field>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    pub notice: Option<String>,
}

/// What the form sends.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ProfileFields {
    csrf: Option<String>,
    given_name: String,
    family_name: String,
    display_name: String,
    phone: String,
    locale: String,
    timezone: String,
}

impl ProfileFields {
    fn of(u: &User) -> Self {
        let v = |o: &Option<String>| o.clone().unwrap_or_default();
        ProfileFields {
            csrf: None,
            given_name: v(&u.given_name),
            family_name: v(&u.family_name),
            display_name: v(&u.display_name),
            phone: v(&u.phone),
            locale: v(&u.locale),
            timezone: v(&u.timezone),
        }
    }

    /// The fields of the form, with `error` (field name, message) next to its field.
    fn fields(self, t: &AccountTexts, error: Option<(&str, String)>) -> Vec<Field> {
        let rows = [
            (
                "given_name",
                t.given_name,
                "text",
                self.given_name,
                "given-name",
                None,
            ),
            (
                "family_name",
                t.family_name,
                "text",
                self.family_name,
                "family-name",
                None,
            ),
            (
                "display_name",
                t.display_name,
                "text",
                self.display_name,
                "nickname",
                None,
            ),
            ("phone", t.phone, "tel", self.phone, "tel", None),
            (
                "locale",
                t.locale,
                "text",
                self.locale,
                "language",
                Some(t.locale_hint),
            ),
            (
                "timezone",
                t.timezone,
                "text",
                self.timezone,
                "off",
                Some(t.timezone_hint),
            ),
        ];
        rows.into_iter()
            .map(|(name, label, input, value, autocomplete, hint)| Field {
                name,
                label,
                input,
                value,
                autocomplete,
                hint: hint.map(str::to_owned),
                error: error
                    .as_ref()
                    .filter(|(f, _)| *f == name)
                    .map(|(_, m)| m.clone()),
            })
            .collect()
    }

    /// The label of the field the API calls `name`.
    fn label_of(&self, name: &str, t: &AccountTexts) -> &'static str {
        match name {
            "given_name" => t.given_name,
            "family_name" => t.family_name,
            "display_name" => t.display_name,
            "phone" => t.phone,
            "locale" => t.locale,
            "timezone" => t.timezone,
            _ => "This field",
        }
    }

    /// The change: every field, an empty one cleared.
    fn update(&self) -> UpdateUser {
        let v = |s: &str| Some(Some(s.to_owned()).filter(|s| !s.trim().is_empty()));
        UpdateUser {
            given_name: v(&self.given_name),
            family_name: v(&self.family_name),
            display_name: v(&self.display_name),
            phone: v(&self.phone),
            locale: v(&self.locale),
            timezone: v(&self.timezone),
            ..Default::default()
        }
    }
}

fn page(
    p: &Portal,
    status: StatusCode,
    notice: Option<&'static str>,
    fields: Vec<Field>,
) -> Response {
    render(
        status,
        &ProfilePage {
            shell: p.shell(""),
            t: p.t,
            email: p.me.user.email.clone(),
            notice,
            invalid: status == StatusCode::BAD_REQUEST,
            fields,
        },
    )
}

/// `GET /t/{tenant}/account`.
pub async fn show(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    query: Result<Query<NoticeQuery>, QueryRejection>,
) -> Response {
    let back = format!("/t/{slug}/account");
    let p = match Portal::of(&s, &slug, &headers, &client, &back).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let notice = query
        .ok()
        .and_then(|Query(q)| q.notice)
        .filter(|n| n == "saved")
        .map(|_| p.t.profile_saved);
    let fields = ProfileFields::of(&p.me.user).fields(p.t, None);
    page(&p, StatusCode::OK, notice, fields)
}

/// `POST /t/{tenant}/account`: saves the profile; a refused field comes back with its error
/// next to it (400) and what was typed.
pub async fn save(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    client: Client,
    form: Result<Form<ProfileFields>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return form_unreadable(Lang::choose(None, &headers));
    };
    let back = format!("/t/{slug}/account");
    let p = match Portal::of(&s, &slug, &headers, &client, &back).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    if let Some(refused) = p.csrf_refusal(&s, f.csrf.as_deref()) {
        return refused;
    }
    match users::update(&s.store, &p.caller, &p.me.user.id, None, f.update()).await {
        Ok(_) => p.back_with("", "saved"),
        Err(DomainError::Invalid {
            field: Some(field),
            message,
        }) => {
            // The service names the field as the API does; the form by its label.
            let label = f.label_of(&field, p.t);
            let message = message.replace(&format!("`{field}`"), label);
            let error = Some((field.as_str(), message));
            let fields = f.fields(p.t, error);
            page(&p, StatusCode::BAD_REQUEST, None, fields)
        }
        Err(e) => refusal(e),
    }
}
