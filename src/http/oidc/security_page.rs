//! The security page (`/t/{tenant}/account/security`) as a page of the account portal: the
//! portal's layout and navigation around the person's sign-in methods (an askama template,
//! `templates/account/security.html`), with the ids and `data-webauthn` controls that
//! `webauthn.js` and the tests rely on.

use super::mfa_pages::Notice;
use super::mfa_texts::{MfaTexts, with_n};
use crate::domain::clock::format_ms;
use crate::domain::mfa::FactorSummary;
use crate::http::account::Portal;
use crate::http::console::{Shell, render};
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

/// One sign-in method of the list.
pub struct Line {
    id: String,
    kind: &'static str,
    kind_label: &'static str,
    name: String,
    added: String,
    used: String,
    renamable: bool,
}

#[derive(Template)]
#[template(path = "account/security.html")]
struct SecurityPage {
    shell: Shell,
    t: &'static MfaTexts,
    email: String,
    /// The notice's text, and whether it tells of a refusal.
    notice: Option<(String, bool)>,
    lines: Vec<Line>,
    totp_setup: bool,
    any: bool,
    recovery_left: String,
    has_password: bool,
    may_remove_password: bool,
}

fn when(ms: i64) -> String {
    let s = format_ms(ms);
    format!("{} UTC", s.get(..16).unwrap_or(&s).replace('T', " "))
}

fn kind_label(t: &MfaTexts, kind: &str) -> &'static str {
    match kind {
        "passkey" => t.passkey,
        "security_key" => t.security_key,
        _ => t.authenticator_app,
    }
}

/// The page for the person of `p`, in the language of their pages.
pub fn page(p: &Portal, passkey_only_allowed: bool, notice: Option<Notice>) -> Response {
    let t = MfaTexts::of(p.me.lang);
    let f = &p.need.factors;
    let summaries: Vec<FactorSummary> = f.summary();
    let lines = summaries
        .into_iter()
        .map(|s| Line {
            id: s.id.to_string(),
            kind: s.kind,
            kind_label: kind_label(t, s.kind),
            renamable: s.kind != "totp",
            added: format!("{} {}", t.added, when(s.created_at)),
            used: match s.last_used_at {
                Some(at) => format!("{} {}", t.last_used, when(at)),
                None => t.never_used.to_owned(),
            },
            name: s.name,
        })
        .collect();
    render(
        StatusCode::OK,
        &SecurityPage {
            shell: p.shell("/security"),
            t,
            email: p.me.user.email.clone(),
            notice: notice.map(|n| (n.text(t), n.is_error())),
            lines,
            totp_setup: f.confirmed_totp().is_none(),
            any: f.any(),
            recovery_left: with_n(t.recovery_left, f.recovery_codes_left),
            has_password: f.has_password,
            may_remove_password: passkey_only_allowed && f.passkeys().next().is_some(),
        },
    )
}
