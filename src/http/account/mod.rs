//! The self-service account portal (`/t/{tenant}/account`): every signed-in person's own
//! profile, password, sessions, connected apps and notification preferences, on the console's
//! layout, in the person's language. A portal request acts as a self-service [`Caller`] that
//! holds no permission and reaches nobody but the person themself (see
//! `admin::users::authorised_user`), through the same service functions (`crate::admin`) as the
//! JSON API and the console.

mod apps;
mod email;
mod field_errors;
mod notifications;
mod password;
mod profile;
mod sessions;
pub(crate) mod texts;

use super::AppState;
use super::console::{NavItem, Shell};
use super::oidc::i18n::Lang;
use super::oidc::mfa::{SignedIn, page_url, signed_in};
use super::oidc::pages;
use crate::domain::authz::{CASTELLAN_NAMESPACE, Caller, Principal};
use crate::domain::throttle::Client;
use crate::oidc::mfa::{self, Requirement};
use axum::Router;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use texts::AccountTexts;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/t/{tenant}/account",
            get(profile::show).post(profile::save),
        )
        .route(
            "/t/{tenant}/account/email",
            get(email::show).post(email::change),
        )
        .route(
            "/t/{tenant}/account/email/confirm",
            axum::routing::post(email::send_confirmation),
        )
        .route(
            "/t/{tenant}/account/password",
            get(password::show).post(password::change),
        )
        .route("/t/{tenant}/account/sessions", get(sessions::list))
        .route(
            "/t/{tenant}/account/sessions/others",
            get(sessions::confirm_others).post(sessions::end_others),
        )
        .route(
            "/t/{tenant}/account/sessions/{id}/end",
            get(sessions::confirm_end).post(sessions::end),
        )
        .route("/t/{tenant}/account/apps", get(apps::list))
        .route(
            "/t/{tenant}/account/apps/{client}/revoke",
            get(apps::confirm).post(apps::revoke),
        )
        .route(
            "/t/{tenant}/account/notifications",
            get(notifications::show).post(notifications::save),
        )
}

/// Where a section's name is in the texts.
type Label = fn(&AccountTexts) -> &'static str;

/// The portal's sections: key (path under `/account`), and its name in the texts.
const SECTIONS: &[(&str, Label)] = &[
    ("", |t| t.nav_profile),
    ("/email", |t| t.nav_email),
    ("/password", |t| t.nav_password),
    ("/security", |t| t.nav_security),
    ("/sessions", |t| t.nav_sessions),
    ("/apps", |t| t.nav_apps),
    ("/notifications", |t| t.nav_notifications),
];

/// A portal request: the signed-in person, as a caller that can act only on themself.
pub struct Portal {
    pub me: SignedIn,
    pub caller: Caller,
    pub need: Requirement,
    pub t: &'static AccountTexts,
    /// The person also administers something: the navigation links to the console.
    console: bool,
}

impl Portal {
    /// The browser's session at the level the person's policy requires (else the sign-in or
    /// second-factor page, coming back to `back`), in the person's language (their profile's,
    /// else the browser's).
    pub async fn of(
        s: &AppState,
        slug: &str,
        headers: &HeaderMap,
        client: &Client,
        back: &str,
    ) -> Result<Self, Response> {
        let mut me = signed_in(s, slug, headers, back).await?;
        me.lang = Lang::choose(me.user.locale.as_deref(), headers);
        let need = mfa::requirement(&s.store, &me.tenant, &me.user, &[])
            .await
            .map_err(internal)?;
        if !need.met_by(&me.session) {
            return Err(pages::see_other(&page_url(slug, back, need.level, None)));
        }
        let eff = s
            .store
            .effective_permissions(&me.tenant.id, &me.user.id)
            .await
            .map_err(internal)?;
        let console = me.user.is_owner || eff.names().any(|p| p.starts_with(CASTELLAN_NAMESPACE));
        let caller = Caller {
            tenant: me.tenant.clone(),
            principal: Principal::SelfService {
                user_id: me.user.id.clone(),
                label: format!("{} (account)", me.user.email),
            },
            permissions: Default::default(),
            ip: client.ip.map(|i| i.to_string()),
        };
        Ok(Portal {
            t: AccountTexts::of(me.lang),
            me,
            caller,
            need,
            console,
        })
    }

    /// The refusal of a form whose CSRF token is not the session's; `None` when it is.
    pub fn csrf_refusal(&self, s: &AppState, field: Option<&str>) -> Option<Response> {
        (!super::oidc::csrf::session_ok(s, &self.me.tenant, &self.me.session, field))
            .then(|| super::oidc::login::form_expired(self.me.lang))
    }

    /// The layout's data, with `current` the section shown (its path under `/account`).
    pub fn shell(&self, current: &str) -> Shell {
        let slug = &self.me.tenant.slug;
        let mut nav: Vec<NavItem> = SECTIONS
            .iter()
            .map(|(key, label)| NavItem {
                href: format!("/t/{slug}/account{key}"),
                label: label(self.t),
                current: *key == current,
            })
            .collect();
        if self.console {
            nav.push(NavItem {
                href: format!("/t/{slug}/console"),
                label: self.t.nav_console,
                current: false,
            });
        }
        Shell {
            lang: self.me.lang.tag(),
            slug: slug.clone(),
            tenant_name: self.me.tenant.name.clone(),
            user_label: self.me.user.email.clone(),
            csrf: self.me.csrf.clone(),
            nav,
            words: self.t.layout,
        }
    }

    /// A service's refusal as a page in the person's language: in English with the service's
    /// own words (which are English), in the other languages what kind of refusal it is.
    pub fn refusal(&self, e: crate::domain::DomainError) -> Response {
        use crate::domain::DomainError as E;
        use axum::http::StatusCode;
        if self.me.lang == Lang::En {
            return super::console::refusal(e);
        }
        let r = &self.t.refusals;
        let (status, (title, text)) = match &e {
            E::Forbidden(_) => (StatusCode::FORBIDDEN, r.forbidden),
            E::NotFound(_) => (StatusCode::NOT_FOUND, r.not_found),
            E::Invalid { .. } => (StatusCode::BAD_REQUEST, r.invalid),
            E::Conflict(_) => (StatusCode::CONFLICT, r.conflict),
            E::PreconditionFailed(_) => (StatusCode::CONFLICT, r.changed),
            E::Unavailable { retry_after } => {
                let text = r.busy.1.replace("{n}", &retry_after.to_string());
                let mut page = pages::error_in(
                    self.me.lang,
                    StatusCode::SERVICE_UNAVAILABLE,
                    r.busy.0,
                    &text,
                );
                page.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    axum::http::HeaderValue::from(*retry_after),
                );
                return page;
            }
            _ => return internal(e),
        };
        pages::error_in(self.me.lang, status, title, text)
    }

    /// `/t/{tenant}/account{path}?notice={notice}`.
    pub fn back_with(&self, path: &str, notice: &str) -> Response {
        pages::see_other(&format!(
            "/t/{}/account{path}?notice={notice}",
            self.me.tenant.slug
        ))
    }
}

/// A millisecond instant as the pages show it (UTC, to the minute).
pub fn when(ms: i64) -> String {
    let text = crate::domain::clock::format_ms(ms);
    // `2026-12-06T11:43:16.123Z` -> `2026-12-06 11:43 UTC`
    match (text.get(..10), text.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => text,
    }
}

fn internal(e: crate::domain::DomainError) -> Response {
    tracing::error!(error = %e, "account portal request failed");
    super::console::refusal(crate::domain::DomainError::Internal(String::new()))
}
