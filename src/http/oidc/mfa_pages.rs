//! The pages of second factors: the user's security page, authenticator app setup and recovery
//! codes shown once (the second-factor step of signing in is `super::second_factor_page`).
//! Templates in the people's layout (`templates/pages/`), values escaped by askama.

use super::i18n::Lang;
use super::mfa_texts::{MfaTexts, with_n};
use super::pages::{Frame, render};
use crate::http::headers::FormTarget;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use qrcodegen::{QrCode, QrCodeEcc};

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

#[derive(Template)]
#[template(path = "pages/totp_setup.html")]
struct TotpSetupPage<'a> {
    frame: Frame,
    heading: &'static str,
    /// The notice's text and whether it is an error.
    notice: Option<(String, bool)>,
    scan: &'static str,
    /// Inline SVG made by [`qr_svg`]: our markup, the label escaped.
    qr: String,
    type_key: &'static str,
    secret: &'a str,
    show_link: &'static str,
    uri: &'a str,
    slug: &'a str,
    csrf: &'a str,
    return_to: Option<&'a str>,
    enter_code: &'static str,
    confirm: &'static str,
}

/// The authenticator app setup: QR code, the key to type, and the first code to confirm.
pub fn totp_setup(status: StatusCode, p: &TotpSetup<'_>) -> Response {
    let t = MfaTexts::of(p.lang);
    let page = TotpSetupPage {
        frame: Frame::new(
            p.lang,
            format!("{} · {}", t.totp_title, p.tenant_name),
            Some(p.tenant_name),
        ),
        heading: t.totp_title,
        notice: p.notice.map(|n| (n.text(t), n.is_error())),
        scan: t.totp_scan,
        qr: qr_svg(p.uri, t.qr_label),
        type_key: t.totp_type_key,
        secret: p.secret,
        show_link: t.totp_show_link,
        uri: p.uri,
        slug: p.slug,
        csrf: p.csrf,
        return_to: p.return_to,
        enter_code: t.totp_enter_code,
        confirm: t.confirm,
    };
    FormTarget::attach(FormTarget::of_return_to(p.return_to), render(status, &page))
}

#[derive(Template)]
#[template(path = "pages/recovery_codes.html")]
struct RecoveryCodesPage<'a> {
    frame: Frame,
    heading: &'static str,
    intro: &'static str,
    codes: &'a [String],
    next: &'a str,
    continue_label: &'static str,
}

/// Recovery codes, shown this once.
pub fn recovery_codes(lang: Lang, tenant_name: &str, codes: &[String], next: &str) -> Response {
    let t = MfaTexts::of(lang);
    let page = RecoveryCodesPage {
        frame: Frame::new(
            lang,
            format!("{} · {tenant_name}", t.codes_title),
            Some(tenant_name),
        ),
        heading: t.codes_title,
        intro: t.codes_intro,
        codes,
        next,
        continue_label: t.continue_,
    };
    render(StatusCode::OK, &page)
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
        label
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
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
