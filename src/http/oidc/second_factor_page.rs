//! The second-factor step of signing in (`templates/pages/second_factor.html`): a code of the
//! authenticator app, a passkey or security key (wired by `/t/{tenant}/webauthn.js`), a recovery
//! code; or, when the user has nothing that reaches the level asked for, enrolment.

use super::i18n::Lang;
use super::mfa_pages::Notice;
use super::mfa_texts::MfaTexts;
use super::pages::{self, Frame};
use crate::domain::mfa::Level;
use crate::http::headers::FormTarget;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

/// What the second-factor page offers.
pub struct SecondFactor<'a> {
    pub lang: Lang,
    /// Carried through the forms, so the answer is in the same language.
    pub ui_locales: Option<&'a str>,
    pub tenant_name: &'a str,
    pub slug: &'a str,
    pub csrf: &'a str,
    pub email: &'a str,
    pub return_to: &'a str,
    pub level: Level,
    /// Offer a code of the authenticator app.
    pub totp: bool,
    /// Offer the user's passkeys and security keys.
    pub webauthn: bool,
    pub recovery: bool,
    /// The user has nothing that reaches the level: offer enrolment.
    pub enrol: bool,
    pub enrol_totp: bool,
    pub notice: Option<Notice>,
}

/// What the "add a passkey / security key" partial (`pages/webauthn_enrol.html`) needs.
pub struct Enrol<'a> {
    pub slug: &'a str,
    pub csrf: &'a str,
    /// Where to go once a key is added (else the page reloads).
    pub return_to: Option<String>,
}

/// A notice as the page shows it.
pub struct Shown {
    pub text: String,
    pub is_error: bool,
}

#[derive(Template)]
#[template(path = "pages/second_factor.html")]
struct SecondFactorPage<'a> {
    frame: Frame,
    t: &'static MfaTexts,
    p: &'a SecondFactor<'a>,
    notice: Option<Shown>,
    /// This page, to come back to after a key was used or added.
    here: String,
    here_encoded: String,
    why: &'static str,
    enrol: Enrol<'a>,
}

/// The second-factor step of signing in.
pub fn second_factor(status: StatusCode, p: &SecondFactor<'_>) -> Response {
    let t = MfaTexts::of(p.lang);
    let here = super::mfa::page_url(p.slug, p.return_to, p.level, p.ui_locales);
    let page = SecondFactorPage {
        frame: Frame::new(
            p.lang,
            format!("{} · {}", t.second_factor_title, p.tenant_name),
            Some(p.tenant_name),
        ),
        t,
        p,
        notice: p.notice.map(|n| Shown {
            text: n.text(t),
            is_error: n.is_error(),
        }),
        here_encoded: crate::oidc::authorize::enc(&here),
        why: match p.level {
            Level::PhishingResistant => t.requires_phr,
            _ => t.requires_mfa,
        },
        enrol: Enrol {
            slug: p.slug,
            csrf: p.csrf,
            return_to: Some(here.clone()),
        },
        here,
    };
    FormTarget::attach(
        FormTarget::of_return_to(Some(p.return_to)),
        pages::render(status, &page),
    )
}
