//! The pages of second factors: the user's security page, authenticator app setup and recovery
//! codes shown once (the second-factor step of signing in is `super::second_factor_page`).
//! Plain HTML, every value escaped, in the people's layout (`pages::page_in`), until they move
//! to the account portal's templates; the WebAuthn buttons are wired by
//! `/t/{tenant}/webauthn.js` through their data attributes.

use super::i18n::Lang;
use super::mfa_texts::{MfaTexts, with_n};
use super::pages::{escape, page_in};
use crate::http::headers::FormTarget;
use axum::http::StatusCode;
use axum::response::Response;
use qrcodegen::{QrCode, QrCodeEcc};

/// Styles these pages add to the common ones.
const STYLE: &str = "<style>main{max-width:520px}\
h2{font-size:16px;margin:28px 0 8px}\
input[type=text]{width:100%;padding:10px 12px;font-size:15px;border:1px solid #d1d5db;border-radius:8px}\
ul.factors{list-style:none;padding:0;margin:8px 0}\
ul.factors li{border:1px solid #e5e7eb;border-radius:8px;padding:10px 12px;margin:8px 0}\
.kind{font-size:12px;color:#374151;background:#eef2ff;border-radius:4px;padding:1px 6px;margin-left:6px}\
.row{display:flex;gap:8px;align-items:center;margin-top:8px}\
.row input{flex:1}.row button{width:auto;margin:0;padding:8px 14px}\
button.small{width:auto;margin-top:8px;padding:8px 14px;font-size:14px}\
a.button{display:block;text-align:center;margin-top:24px;padding:11px;font-weight:600;color:#fff;\
background:#2563eb;border-radius:8px;text-decoration:none}\
ul.codes{columns:2;font-family:ui-monospace,monospace;font-size:15px;line-height:1.9}\
.notice{margin:0 0 8px;padding:10px 12px;border-radius:8px;background:#ecfdf5;border:1px solid #a7f3d0;color:#065f46;font-size:14px}\
.qr{display:block;width:200px;height:200px;margin:8px auto}\
code.secret{display:block;word-break:break-all;font-size:15px;padding:8px}\
details{margin-top:20px}summary{cursor:pointer;font-size:14px;color:#2563eb}\
[hidden]{display:none!important}</style>";

/// A message shown at the top of a page: an error or a confirmation. Fixed texts only (the
/// query parameter carries a code, never text), so nothing can be injected through a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    WrongCode,
    WrongRecoveryCode,
    Locked { minutes: i64 },
    CodeAlreadyUsed,
    TotpAdded,
    TotpPending,
    FactorRemoved,
    FactorRenamed,
    KeepOneFactor,
    PasswordRemoved,
    PasswordNeeded,
    BadName,
    NoSuchFactor,
    AlreadySetUp,
    CodesRegenerated,
}

impl Notice {
    pub fn text(self, t: &MfaTexts) -> String {
        match self {
            Self::WrongCode => t.wrong_code.into(),
            Self::WrongRecoveryCode => t.wrong_recovery_code.into(),
            Self::Locked { minutes } => with_n(t.locked, minutes),
            Self::CodeAlreadyUsed => t.code_already_used.into(),
            Self::TotpAdded => t.totp_added.into(),
            Self::TotpPending => t.totp_pending.into(),
            Self::FactorRemoved => t.factor_removed.into(),
            Self::FactorRenamed => t.factor_renamed.into(),
            Self::KeepOneFactor => t.keep_one_factor.into(),
            Self::PasswordRemoved => t.password_removed.into(),
            Self::PasswordNeeded => t.password_needed.into(),
            Self::BadName => t.bad_name.into(),
            Self::NoSuchFactor => t.no_such_factor.into(),
            Self::AlreadySetUp => t.already_set_up.into(),
            Self::CodesRegenerated => t.codes_regenerated.into(),
        }
    }

    pub fn is_error(self) -> bool {
        !matches!(
            self,
            Self::TotpAdded
                | Self::FactorRemoved
                | Self::FactorRenamed
                | Self::PasswordRemoved
                | Self::CodesRegenerated
        )
    }

    /// The code carried in a redirect's `notice` parameter.
    pub fn code(self) -> &'static str {
        match self {
            Self::TotpAdded => "totp_added",
            Self::FactorRemoved => "factor_removed",
            Self::FactorRenamed => "factor_renamed",
            Self::KeepOneFactor => "keep_one_factor",
            Self::PasswordRemoved => "password_removed",
            Self::PasswordNeeded => "password_needed",
            Self::BadName => "bad_name",
            Self::NoSuchFactor => "no_such_factor",
            Self::AlreadySetUp => "already_set_up",
            Self::CodesRegenerated => "codes_regenerated",
            Self::TotpPending => "totp_pending",
            Self::WrongCode | Self::WrongRecoveryCode | Self::Locked { .. } => "error",
            Self::CodeAlreadyUsed => "code_used",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [
            Self::TotpAdded,
            Self::FactorRemoved,
            Self::FactorRenamed,
            Self::KeepOneFactor,
            Self::PasswordRemoved,
            Self::PasswordNeeded,
            Self::BadName,
            Self::NoSuchFactor,
            Self::AlreadySetUp,
            Self::CodesRegenerated,
            Self::TotpPending,
            Self::CodeAlreadyUsed,
        ]
        .into_iter()
        .find(|n| n.code() == code)
    }

    fn html(self, t: &MfaTexts) -> String {
        let class = if self.is_error() { "error" } else { "notice" };
        let role = if self.is_error() { "alert" } else { "status" };
        format!(
            "<div class=\"{class}\" role=\"{role}\">{}</div>",
            escape(&self.text(t))
        )
    }
}

fn notice_html(n: Option<Notice>, t: &MfaTexts) -> String {
    n.map(|n| n.html(t)).unwrap_or_default()
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
        escape(value)
    )
}

/// What the authenticator app setup page shows.
pub struct TotpSetup<'a> {
    pub lang: Lang,
    pub tenant_name: &'a str,
    pub slug: &'a str,
    pub csrf: &'a str,
    pub secret: &'a str,
    pub uri: &'a str,
    pub return_to: Option<&'a str>,
    pub notice: Option<Notice>,
}

/// The authenticator app setup: QR code, the key to type, and the first code to confirm.
pub fn totp_setup(status: StatusCode, p: &TotpSetup<'_>) -> Response {
    let t = MfaTexts::of(p.lang);
    let slug = escape(p.slug);
    let mut fields = hidden("csrf", p.csrf);
    if let Some(r) = p.return_to {
        fields.push_str(&hidden("return_to", r));
    }
    let body = format!(
        "{STYLE}<p class=\"tenant\">{}</p><h1>{}</h1>{}<p>{}</p>{}\
         <p>{}</p><code class=\"secret\" id=\"totp-secret\">{}</code>\
         <details><summary>{}</summary><code class=\"secret\" id=\"totp-uri\">{}</code></details>\
         <form method=\"post\" action=\"/t/{slug}/account/security/totp\">{fields}\
         <label for=\"totp-code\">{}</label>\
         <input id=\"totp-code\" name=\"code\" type=\"text\" inputmode=\"numeric\" \
         autocomplete=\"one-time-code\" maxlength=\"8\" required>\
         <button type=\"submit\">{}</button></form>",
        escape(p.tenant_name),
        escape(t.totp_title),
        notice_html(p.notice, t),
        escape(t.totp_scan),
        qr_svg(p.uri, t.qr_label),
        escape(t.totp_type_key),
        escape(p.secret),
        escape(t.totp_show_link),
        escape(p.uri),
        escape(t.totp_enter_code),
        escape(t.confirm),
    );
    let title = format!("{} · {}", t.totp_title, p.tenant_name);
    FormTarget::attach(
        FormTarget::of_return_to(p.return_to),
        page_in(p.lang, status, &title, &body),
    )
}

/// Recovery codes, shown this once.
pub fn recovery_codes(lang: Lang, tenant_name: &str, codes: &[String], next: &str) -> Response {
    let t = MfaTexts::of(lang);
    let items: String = codes
        .iter()
        .map(|c| format!("<li><code>{}</code></li>", escape(c)))
        .collect();
    let body = format!(
        "{STYLE}<p class=\"tenant\">{}</p><h1>{}</h1><p>{}</p>\
         <ul class=\"codes\" id=\"recovery-codes\">{items}</ul>\
         <a class=\"button\" id=\"continue\" href=\"{}\">{}</a>",
        escape(tenant_name),
        escape(t.codes_title),
        escape(t.codes_intro),
        escape(next),
        escape(t.continue_)
    );
    let title = format!("{} · {tenant_name}", t.codes_title);
    page_in(lang, StatusCode::OK, &title, &body)
}

/// `text` as a QR code in inline SVG (so the page needs no image source), with a quiet zone.
pub fn qr_svg(text: &str, label: &str) -> String {
    let Ok(qr) = QrCode::encode_text(text, QrCodeEcc::Medium) else {
        return String::new();
    };
    let border = 4;
    let size = qr.size() + border * 2;
    let mut path = String::new();
    for y in 0..qr.size() {
        for x in 0..qr.size() {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    format!(
        "<svg class=\"qr\" id=\"totp-qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         role=\"img\" aria-label=\"{}\" shape-rendering=\"crispEdges\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>",
        escape(label)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_round_trip_through_their_codes() {
        for n in [
            Notice::FactorRemoved,
            Notice::KeepOneFactor,
            Notice::TotpAdded,
        ] {
            assert_eq!(Notice::parse(n.code()), Some(n));
        }
        assert_eq!(Notice::parse("<script>"), None);
    }

    #[test]
    fn qr_code_is_svg_of_dark_modules() {
        let svg = qr_svg("otpauth://totp/Acme:ada?secret=JBSWY3DPEHPK3PXP", "QR");
        assert!(svg.starts_with("<svg") && svg.contains("M4,4h1v1h-1z"));
    }
}
