//! The administration console (`/t/{tenant}/console`): server-rendered pages (askama templates
//! in `templates/`, one layout), htmx for partial updates, both served by Castellan itself.
//! People sign in with Castellan's own sign-in; a console request acts as a [`Caller`] built
//! from the browser's session, at the second-factor level the person's roles require, and every
//! action goes through the same service functions (`crate::admin`) as the JSON API.

mod account_groups;
mod account_picker;
mod accounts;
mod app_actions;
mod app_form;
mod apps;
mod audit;
mod catalogue;
mod confirm;
mod directory;
mod directory_tokens;
mod fields;
mod forms;
mod groups;
mod imports;
mod invitation;
mod mail;
mod managing;
mod membership_edit;
mod memberships;
mod multipart;
mod notification_types;
mod org_lists;
mod permissions;
pub(crate) mod profile_form;
mod roles;
mod security;
mod self_service;
mod setup;
mod setup_passkey;
mod setup_texts;
mod user;
mod user_actions;
mod user_apps;
mod user_new;
mod user_sessions;
mod users;

use super::AppState;
use super::oidc::mfa::{SignedIn, page_url, signed_in};
use super::oidc::pages;
use crate::domain::authz::{CASTELLAN_NAMESPACE, Caller, Principal};
use crate::domain::throttle::Client;
use crate::oidc::mfa;
use askama::Template;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(root))
        .route("/static/castellan.css", get(stylesheet))
        .route("/static/htmx.min.js", get(htmx))
        .route("/t/{tenant}/console", get(console_home))
        .route("/t/{tenant}/setup", get(setup::show).post(setup::submit))
        .route(
            "/t/{tenant}/setup/passkey/register/start",
            axum::routing::post(setup_passkey::start),
        )
        .route(
            "/t/{tenant}/setup/passkey/register/finish",
            axum::routing::post(setup_passkey::finish),
        )
        .route("/t/{tenant}/console/users", get(users::list))
        .merge(user_new::router())
        .merge(imports::router())
        .merge(user_apps::router())
        .merge(user_sessions::router())
        .merge(audit::router())
        .merge(mail::router())
        .merge(catalogue::router())
        .merge(fields::router())
        .merge(self_service::router())
        .merge(notification_types::router())
        .route(
            "/t/{tenant}/console/users/{id}/permissions",
            get(permissions::page).post(permissions::switch),
        )
        .route(
            "/t/{tenant}/console/roles",
            get(roles::list).post(roles::create),
        )
        .route("/t/{tenant}/console/roles/new", get(roles::new))
        .route(
            "/t/{tenant}/console/roles/{id}",
            get(roles::edit).post(roles::update),
        )
        .route(
            "/t/{tenant}/console/roles/{id}/delete",
            get(roles::confirm_delete).post(roles::delete),
        )
        .route(
            "/t/{tenant}/console/users/{id}",
            get(user::show).post(user::save),
        )
        .route(
            "/t/{tenant}/console/users/{id}/{action}",
            get(user_actions::confirm).post(user_actions::act),
        )
        .merge(groups::router())
        .merge(accounts::router())
        .merge(memberships::router())
        .merge(apps::router())
        .merge(directory::router())
        .merge(security::router())
}

/// The tenant `castellan serve` creates on first start.
const DEFAULT_TENANT: &str = "default";

/// `/`: the default tenant's console.
async fn root() -> Response {
    pages::see_other(&format!("/t/{DEFAULT_TENANT}/console"))
}

/// `/t/{tenant}/console`: its first page.
async fn console_home(Path(slug): Path<String>) -> Response {
    pages::see_other(&format!("/t/{slug}/console/users"))
}

/// A static asset, cached for a day (the `public` mark lets the headers layer keep it cacheable).
fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        body,
    )
        .into_response()
}

async fn stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../static/castellan.css"),
    )
}

/// htmx 2 (Zero-Clause BSD, `../static/htmx.LICENSE`), served here: no CDN.
async fn htmx() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../static/htmx.min.js"),
    )
}

/// One entry of the navigation.
pub struct NavItem {
    pub href: String,
    pub label: &'static str,
    pub current: bool,
}

/// What the layout shows around every page.
pub struct Shell {
    pub lang: &'static str,
    pub slug: String,
    pub tenant_name: String,
    pub user_label: String,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    /// The layout's own words, in the page's language.
    pub words: &'static LayoutWords,
}

/// The words of the layout around a page.
pub struct LayoutWords {
    pub skip: &'static str,
    pub sign_out: &'static str,
    /// The navigation's accessible name.
    pub nav: &'static str,
}

/// The console's layout words (the console is in English).
pub const CONSOLE_WORDS: LayoutWords = LayoutWords {
    skip: "Skip to content",
    sign_out: "Sign out",
    nav: "Console",
};

/// The sections of the console, each shown to whoever holds one of its permissions.
const SECTIONS: &[(&str, &str, &[&str])] = &[
    (
        "users",
        "Users",
        &[
            crate::domain::permissions::admin::USERS_READ,
            crate::domain::permissions::admin::USERS_WRITE,
            crate::domain::permissions::admin::MANAGED_USERS_READ,
            crate::domain::permissions::admin::MANAGED_USERS_WRITE,
        ],
    ),
    (
        "roles",
        "Roles",
        &[
            crate::domain::permissions::admin::ROLES_READ,
            crate::domain::permissions::admin::ROLES_WRITE,
        ],
    ),
    (
        "groups",
        "Groups",
        &[
            crate::domain::permissions::admin::GROUPS_READ,
            crate::domain::permissions::admin::GROUPS_WRITE,
        ],
    ),
    (
        "accounts",
        "Accounts",
        &[
            crate::domain::permissions::admin::ACCOUNTS_READ,
            crate::domain::permissions::admin::ACCOUNTS_WRITE,
        ],
    ),
    (
        "permissions",
        "Permissions",
        &[crate::domain::permissions::admin::ROLES_READ],
    ),
    (
        "fields",
        "Custom fields",
        &[crate::domain::permissions::admin::SETTINGS_READ],
    ),
    (
        "notifications",
        "Notifications",
        &[crate::domain::permissions::admin::SETTINGS_READ],
    ),
    (
        "apps",
        "Apps",
        &[
            crate::domain::permissions::admin::SETTINGS_READ,
            crate::domain::permissions::admin::SETTINGS_WRITE,
        ],
    ),
    (
        "directory",
        "Directory",
        &[
            crate::domain::permissions::admin::TOKENS_MANAGE,
            crate::domain::permissions::admin::USERS_READ,
        ],
    ),
    (
        "security",
        "Security",
        &[
            crate::domain::permissions::admin::SETTINGS_READ,
            crate::domain::permissions::admin::SETTINGS_WRITE,
        ],
    ),
    (
        "mail",
        "Mail",
        &[crate::domain::permissions::admin::USERS_READ],
    ),
    (
        "audit",
        "Audit log",
        &[crate::domain::permissions::admin::AUDIT_READ],
    ),
];

/// A console request: the signed-in person, as a caller of the admin service functions.
pub struct Console {
    pub me: SignedIn,
    pub caller: Caller,
}

impl Console {
    /// The browser's session at the level the person's roles require for administration (else
    /// the sign-in or second-factor page, coming back to `back`), as a [`Caller`] with the
    /// person's effective permissions. Someone with no administration permission gets a page
    /// that says so.
    pub async fn of(
        s: &AppState,
        slug: &str,
        headers: &HeaderMap,
        client: &Client,
        back: &str,
    ) -> Result<Self, Response> {
        let me = signed_in(s, slug, headers, back).await?;
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
        let permissions: std::collections::HashSet<String> = eff
            .names()
            .filter(|p| p.starts_with(CASTELLAN_NAMESPACE))
            .map(str::to_owned)
            .collect();
        if permissions.is_empty() && !me.user.is_owner {
            return Err(pages::info_with_link(
                &me.tenant.name,
                "No administration rights",
                "Your account does not let you administer this organisation.",
                (&format!("/t/{slug}/account"), "Your account"),
            ));
        }
        let caller = Caller {
            tenant: me.tenant.clone(),
            principal: Principal::User {
                token_id: None,
                user_id: me.user.id.clone(),
                label: format!("{} (console)", me.user.email),
                owner: me.user.is_owner,
            },
            permissions,
            ip: client.ip.map(|i| i.to_string()),
        };
        Ok(Console { me, caller })
    }

    /// [`Console::of`] for a page only whoever holds `permission` may open (a form whose
    /// service would refuse them): the refusal page for the others.
    pub async fn holding(
        s: &AppState,
        slug: &str,
        headers: &HeaderMap,
        client: &Client,
        back: &str,
        permission: &str,
    ) -> Result<Self, Response> {
        let console = Self::of(s, slug, headers, client, back).await?;
        console.caller.require(permission).map_err(refusal)?;
        Ok(console)
    }

    /// The refusal of a form or htmx request whose CSRF token (the form's `csrf` field, or the
    /// `X-CSRF-Token` header htmx sends from the layout) is not the session's; `None` when it is.
    pub fn csrf_refusal(
        &self,
        s: &AppState,
        headers: &HeaderMap,
        field: Option<&str>,
    ) -> Option<Response> {
        let token = field.or_else(|| headers.get("x-csrf-token").and_then(|v| v.to_str().ok()));
        (!super::oidc::csrf::session_ok(s, &self.me.tenant, &self.me.session, token))
            .then(|| super::oidc::login::form_expired(self.me.lang))
    }

    /// The layout's data, with `current` the section shown.
    pub fn shell(&self, current: &str) -> Shell {
        let slug = &self.me.tenant.slug;
        let nav = SECTIONS
            .iter()
            .filter(|(_, _, perms)| {
                self.caller.has_owner_standing() || perms.iter().any(|p| self.caller.holds(p))
            })
            .map(|(key, label, _)| NavItem {
                href: format!("/t/{slug}/console/{key}"),
                label,
                current: *key == current,
            })
            .collect();
        Shell {
            lang: self.me.lang.tag(),
            slug: slug.clone(),
            tenant_name: self.me.tenant.name.clone(),
            user_label: self.me.user.email.clone(),
            csrf: self.me.csrf.clone(),
            nav,
            words: &CONSOLE_WORDS,
        }
    }
}

/// Whether the request comes from htmx (which then takes a fragment, not a page).
pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|v| v == "true")
}

/// Renders a template as a page, or the error page if it cannot be rendered.
pub fn render(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a console page could not be rendered");
            pages::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The page could not be shown. Try again in a moment.",
            )
        }
    }
}

/// A service function's refusal as a page: what it says, in the page's words.
pub fn refusal(e: crate::domain::DomainError) -> Response {
    use crate::domain::DomainError as E;
    match e {
        E::Forbidden(why) => pages::error(StatusCode::FORBIDDEN, "Not allowed", &why),
        E::NotFound(what) => pages::error(
            StatusCode::NOT_FOUND,
            "Not found",
            &format!("There is no such {what}."),
        ),
        E::Invalid { message, .. } => pages::error(StatusCode::BAD_REQUEST, "Not valid", &message),
        E::Conflict(why) => pages::error(StatusCode::CONFLICT, "Not possible now", &why),
        E::PreconditionFailed(_) => pages::error(
            StatusCode::CONFLICT,
            "Changed meanwhile",
            "Someone else changed this while you were looking. Go back, reload and try again.",
        ),
        E::Unavailable { retry_after } => {
            let mut page = pages::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Busy",
                &format!("Too much work is waiting. Try again in {retry_after} seconds."),
            );
            page.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            page
        }
        other => internal(other),
    }
}

fn internal(e: crate::domain::DomainError) -> Response {
    tracing::error!(error = %e, "console request failed");
    pages::error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The page could not be shown. Try again in a moment.",
    )
}

#[cfg(test)]
mod tests {
    /// The stylesheet is well-formed: every block closed, none closed twice, no merge markers
    /// (an unclosed `@media` silently swallows every rule after it).
    #[test]
    fn stylesheet_blocks_balance() {
        let css = include_str!("../static/castellan.css");
        let mut depth = 0i32;
        let mut in_comment = false;
        let bytes = css.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match (in_comment, bytes[i], bytes.get(i + 1)) {
                (false, b'/', Some(b'*')) => {
                    in_comment = true;
                    i += 1;
                }
                (true, b'*', Some(b'/')) => {
                    in_comment = false;
                    i += 1;
                }
                (false, b'{', _) => depth += 1,
                (false, b'}', _) => {
                    depth -= 1;
                    assert!(depth >= 0, "a `}}` closes nothing at byte {i}");
                }
                _ => {}
            }
            i += 1;
        }
        assert!(!in_comment, "an unclosed comment");
        assert_eq!(depth, 0, "unclosed blocks");
        for marker in ["<<<<<<<", ">>>>>>>", "======="] {
            assert!(!css.contains(marker), "a merge marker");
        }
    }
}
