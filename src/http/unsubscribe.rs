//! `/t/{tenant}/notifications/unsubscribe`: the one-click unsubscribe link of optional
//! notification mail (RFC 8058). `GET` shows a confirmation page; `POST` (the page's button, or
//! a mail client's one-click request with `List-Unsubscribe=One-Click`) turns the type off for
//! the user. The link's signature (`mail::unsubscribe`) is what authorises it: it names one
//! user, one type, one tenant, and only the server can make it, so the form needs no other
//! anti-forgery token.

use crate::domain::audit::Actor;
use crate::domain::{NotificationPref, UserId, is_mandatory_notification};
use crate::http::AppState;
use crate::http::oidc::i18n::Lang;
use crate::http::oidc::pages::{self, Filled, Frame};
use crate::mail::unsubscribe;
use askama::Template;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route(
        "/t/{tenant}/notifications/unsubscribe",
        axum::routing::get(show).post(confirm),
    )
}

#[derive(Deserialize)]
pub struct Link {
    u: Option<String>,
    e: Option<String>,
    s: Option<String>,
}

/// The page's texts in one language.
struct Texts {
    title: &'static str,
    ask: &'static str,
    button: &'static str,
    done_title: &'static str,
    done: &'static str,
    settings: &'static str,
    invalid_title: &'static str,
    invalid: &'static str,
}

fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Fr => &Texts {
            title: "Ne plus recevoir ces notifications ?",
            ask: "Vous ne recevrez plus « {type} » par e-mail.",
            button: "Me désabonner",
            done_title: "Vous êtes désabonné",
            done: "Vous ne recevrez plus « {type} » par e-mail.",
            settings: "Choisir mes notifications",
            invalid_title: "Lien de désabonnement non valable",
            invalid: "Ce lien de désabonnement n'est pas valable. Choisissez vos notifications depuis votre compte.",
        },
        Lang::De => &Texts {
            title: "Diese Benachrichtigungen abbestellen?",
            ask: "Sie erhalten „{type}“ dann nicht mehr per E-Mail.",
            button: "Abbestellen",
            done_title: "Abbestellt",
            done: "Sie erhalten „{type}“ nicht mehr per E-Mail.",
            settings: "Meine Benachrichtigungen wählen",
            invalid_title: "Ungültiger Abmeldelink",
            invalid: "Dieser Abmeldelink ist nicht gültig. Wählen Sie Ihre Benachrichtigungen in Ihrem Konto.",
        },
        Lang::En => &Texts {
            title: "Stop these notifications?",
            ask: "You will no longer receive “{type}” by email.",
            button: "Unsubscribe",
            done_title: "You are unsubscribed",
            done: "You will no longer receive “{type}” by email.",
            settings: "Choose my notifications",
            invalid_title: "Unsubscribe link not valid",
            invalid: "This unsubscribe link is not valid. Choose your notifications from your account.",
        },
    }
}

#[derive(Template)]
#[template(path = "pages/unsubscribe.html")]
struct Page<'a> {
    frame: Frame,
    title: &'a str,
    message: Filled,
    action: Option<String>,
    button: &'a str,
    settings: String,
    settings_label: &'a str,
}

/// What a valid link names.
struct Target {
    tenant: crate::domain::Tenant,
    user: UserId,
    pref: NotificationPref,
    label: String,
}

/// The tenant, user and (optional) type a link names, when its signature holds.
async fn target(s: &AppState, slug: &str, link: &Link) -> Option<Target> {
    let (Some(u), Some(e), Some(sig)) = (&link.u, &link.e, &link.s) else {
        return None;
    };
    let user = UserId::parse(u)?;
    let tenant = s.store.tenant_by_slug(slug).await.ok()??;
    let key = s.store.master_key()?;
    if !unsubscribe::verify(key, &tenant.id, &user, e, sig) || is_mandatory_notification(e) {
        return None;
    }
    let pref = s
        .store
        .notification_prefs(&tenant.id, &user)
        .await
        .ok()?
        .into_iter()
        .find(|p| &p.event_type == e)?;
    let label = s
        .store
        .notification_types(&tenant.id)
        .await
        .ok()?
        .into_iter()
        .find(|t| &t.key == e)
        .and_then(|t| t.description)
        .unwrap_or_else(|| e.clone());
    Some(Target {
        tenant,
        user,
        pref,
        label,
    })
}

fn invalid(lang: Lang) -> Response {
    let t = texts(lang);
    pages::error_in(lang, StatusCode::BAD_REQUEST, t.invalid_title, t.invalid)
}

fn page(lang: Lang, target: &Target, done: bool, action: Option<String>) -> Response {
    let t = texts(lang);
    let title = if done { t.done_title } else { t.title };
    let p = Page {
        frame: Frame::new(lang, title, Some(&target.tenant.name)),
        title,
        message: Filled::new(if done { t.done } else { t.ask }, "{type}", &target.label),
        action,
        button: t.button,
        settings: format!("/t/{}/account/notifications", target.tenant.slug),
        settings_label: t.settings,
    };
    pages::render(StatusCode::OK, &p)
}

/// `GET`: the confirmation page.
async fn show(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    query: Result<Query<Link>, QueryRejection>,
) -> Response {
    let lang = Lang::choose(None, &headers);
    let Ok(Query(link)) = query else {
        return invalid(lang);
    };
    let Some(target) = target(&s, &slug, &link).await else {
        return invalid(lang);
    };
    let mut action = url::Url::parse("http://x/").expect("a valid URL");
    action.set_path(&format!(
        "/t/{}/notifications/unsubscribe",
        target.tenant.slug
    ));
    action
        .query_pairs_mut()
        .append_pair("u", target.user.as_str())
        .append_pair("e", &target.pref.event_type)
        .append_pair("s", link.s.as_deref().unwrap_or_default());
    let action = format!("{}?{}", action.path(), action.query().unwrap_or_default());
    page(lang, &target, false, Some(action))
}

/// `POST`: turns the type off (its channels kept for when the person turns it on again).
async fn confirm(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    query: Result<Query<Link>, QueryRejection>,
) -> Response {
    let lang = Lang::choose(None, &headers);
    let Ok(Query(link)) = query else {
        return invalid(lang);
    };
    let Some(target) = target(&s, &slug, &link).await else {
        return invalid(lang);
    };
    if target.pref.enabled {
        let off = NotificationPref {
            enabled: false,
            ..target.pref.clone()
        };
        let actor = Actor::of_user(&target.user, "unsubscribe link");
        if let Err(e) = s
            .store
            .set_notification_prefs(&target.tenant.id, &target.user, &[off], &actor)
            .await
        {
            tracing::error!(error = %e, "unsubscribing failed");
            let t = lang.texts();
            return pages::error_in(
                lang,
                StatusCode::INTERNAL_SERVER_ERROR,
                t.failed_title,
                t.internal,
            );
        }
    }
    page(lang, &target, true, None)
}
