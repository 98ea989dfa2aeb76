//! The pages of second factors: the second-factor step of signing in, the user's security page,
//! authenticator app setup and recovery codes shown once. Plain HTML, every value escaped; the
//! WebAuthn buttons are wired by `/t/{tenant}/webauthn.js` through their data attributes.

use super::pages::{escape, page};
use crate::domain::clock::format_ms;
use crate::domain::mfa::FactorSummary;
use crate::domain::mfa::{Factors, Level};
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
    pub fn text(self) -> String {
        match self {
            Self::WrongCode => "That code is not right, or it was already used. Wait for the next code and try again.".into(),
            Self::WrongRecoveryCode => "That recovery code is not right, or it was already used.".into(),
            Self::Locked { minutes } => format!(
                "Too many wrong codes. For your security, try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            ),
            Self::CodeAlreadyUsed => "That code was already used. Wait for the next code and try again.".into(),
            Self::TotpAdded => "Your authenticator app is set up.".into(),
            Self::TotpPending => "Start again: the setup of your authenticator app was not found.".into(),
            Self::FactorRemoved => "The sign-in method was removed.".into(),
            Self::FactorRenamed => "The name was changed.".into(),
            Self::KeepOneFactor => "Your organisation requires this kind of sign-in method: add another one before removing this one.".into(),
            Self::PasswordRemoved => "Your password was removed. You now sign in with your passkey.".into(),
            Self::PasswordNeeded => "Your password cannot be removed: your organisation does not allow passkey-only accounts, or you have no passkey yet.".into(),
            Self::BadName => "A name must have 1 to 64 characters.".into(),
            Self::NoSuchFactor => "That sign-in method does not exist (any more).".into(),
            Self::AlreadySetUp => "An authenticator app is already set up. Remove it first to set up another.".into(),
            Self::CodesRegenerated => "New recovery codes were made; the old ones no longer work.".into(),
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

    fn html(self) -> String {
        let class = if self.is_error() { "error" } else { "notice" };
        let role = if self.is_error() { "alert" } else { "status" };
        format!(
            "<div class=\"{class}\" role=\"{role}\">{}</div>",
            escape(&self.text())
        )
    }
}

fn notice_html(n: Option<Notice>) -> String {
    n.map(Notice::html).unwrap_or_default()
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
        escape(value)
    )
}

/// The script that wires the WebAuthn buttons.
fn script(slug: &str) -> String {
    format!(
        "<script src=\"/t/{}/webauthn.js\" defer></script>",
        escape(slug)
    )
}

/// A WebAuthn button of the page script's contract.
fn webauthn_button(
    action: &str,
    slug: &str,
    csrf: &str,
    return_to: Option<&str>,
    kind: Option<(&str, &str)>,
    label: &str,
) -> String {
    let mut attrs = format!(
        "data-webauthn=\"{action}\" data-tenant=\"{}\" data-csrf=\"{}\"",
        escape(slug),
        escape(csrf)
    );
    if let Some(r) = return_to {
        attrs.push_str(&format!(" data-return-to=\"{}\"", escape(r)));
    }
    if let Some((kind, input)) = kind {
        attrs.push_str(&format!(
            " data-kind=\"{kind}\" data-name-input=\"{input}\""
        ));
    }
    format!("<button type=\"button\" {attrs}>{}</button>", escape(label))
}

/// The "add a passkey" and "add a security key" controls, with the elements the script fills.
fn enrol_webauthn(slug: &str, csrf: &str, return_to: Option<&str>) -> String {
    let mut out = format!(
        "<h2>Passkey</h2><p class=\"muted\">Sign in with your fingerprint, face or screen lock, \
         or a phone. Nothing to type, nothing to phish.</p>\
         <label for=\"passkey-name\">Name of the passkey</label>\
         <input id=\"passkey-name\" type=\"text\" maxlength=\"64\" value=\"Passkey\">{}",
        webauthn_button(
            "register",
            slug,
            csrf,
            return_to,
            Some(("passkey", "passkey-name")),
            "Add a passkey"
        )
    );
    {
        out.push_str(&format!(
            "<h2>Security key</h2><p class=\"muted\">A hardware key you touch after typing your \
             password.</p>\
             <label for=\"security-key-name\">Name of the security key</label>\
             <input id=\"security-key-name\" type=\"text\" maxlength=\"64\" value=\"Security key\">{}",
            webauthn_button(
                "register",
                slug,
                csrf,
                return_to,
                Some(("security_key", "security-key-name")),
                "Add a security key"
            )
        ));
    }
    out.push_str(
        "<div class=\"error\" role=\"alert\" data-webauthn-error hidden></div>\
         <div data-webauthn-codes hidden></div>",
    );
    out
}

/// What the second-factor page offers.
pub struct SecondFactor<'a> {
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

/// The second-factor step of signing in.
pub fn second_factor(status: StatusCode, p: &SecondFactor<'_>) -> Response {
    let here = super::mfa::page_url(p.slug, p.return_to, p.level);
    let fields = hidden("csrf", p.csrf)
        + &hidden("return_to", p.return_to)
        + &hidden("level", p.level.as_str());
    let mut body = format!(
        "{STYLE}<p class=\"tenant\">{}</p><h1>{}</h1>{}<p class=\"who\">Signed in as {}</p>",
        escape(p.tenant_name),
        if p.enrol {
            "Add a second sign-in method"
        } else {
            "Confirm it's you"
        },
        notice_html(p.notice),
        escape(p.email),
    );
    if p.totp {
        body.push_str(&format!(
            "<form method=\"post\" action=\"/t/{slug}/login/mfa/totp\">{fields}\
             <label for=\"totp-code\">Code from your authenticator app</label>\
             <input id=\"totp-code\" name=\"code\" type=\"text\" inputmode=\"numeric\" \
             autocomplete=\"one-time-code\" maxlength=\"8\" required autofocus>\
             <button type=\"submit\">Verify</button></form>",
            slug = escape(p.slug)
        ));
    }
    if p.webauthn {
        body.push_str(&format!(
            "<p>{}</p>{}<div class=\"error\" role=\"alert\" data-webauthn-error hidden></div>",
            if p.totp {
                "Or use your passkey or security key."
            } else {
                "Use your passkey or security key to continue."
            },
            webauthn_button(
                "verify",
                p.slug,
                p.csrf,
                Some(&here),
                None,
                "Use a passkey or security key"
            )
        ));
    }
    if p.recovery {
        body.push_str(&format!(
            "<details><summary>Lost your device? Use a recovery code</summary>\
             <form method=\"post\" action=\"/t/{slug}/login/mfa/recovery\">{fields}\
             <label for=\"recovery-code\">Recovery code</label>\
             <input id=\"recovery-code\" name=\"code\" type=\"text\" autocomplete=\"off\" \
             maxlength=\"32\" required>\
             <button type=\"submit\">Use the recovery code</button></form></details>",
            slug = escape(p.slug)
        ));
    }
    if p.enrol {
        let why = match p.level {
            Level::PhishingResistant => {
                "Your organisation requires a passkey or a security key to sign in. Add one now to continue."
            }
            _ => {
                "Your organisation requires a second sign-in method besides your password. Add one now to continue."
            }
        };
        body.push_str(&format!("<p>{why}</p>"));
        if p.enrol_totp {
            body.push_str(&format!(
                "<h2>Authenticator app</h2><p class=\"muted\">A six-digit code from an app such \
                 as Google Authenticator, Microsoft Authenticator or 1Password.</p>\
                 <a class=\"button\" href=\"/t/{}/account/security/totp?return_to={}\">Set up an \
                 authenticator app</a>",
                escape(p.slug),
                escape(&crate::oidc::authorize::enc(&here))
            ));
        }
        body.push_str(&enrol_webauthn(p.slug, p.csrf, Some(&here)));
    }
    if p.webauthn || p.enrol {
        body.push_str(&script(p.slug));
    }
    page(status, &format!("Second factor · {}", p.tenant_name), &body)
}

/// What the security page shows.
pub struct Security<'a> {
    pub tenant_name: &'a str,
    pub slug: &'a str,
    pub csrf: &'a str,
    pub email: &'a str,
    pub factors: &'a Factors,
    pub summaries: &'a [FactorSummary],
    pub passkey_only_allowed: bool,
    pub notice: Option<Notice>,
}

fn when(ms: i64) -> String {
    let s = format_ms(ms);
    format!("{} UTC", s.get(..16).unwrap_or(&s).replace('T', " "))
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "passkey" => "Passkey",
        "security_key" => "Security key",
        _ => "Authenticator app",
    }
}

/// The user's own page of sign-in methods.
pub fn security(p: &Security<'_>) -> Response {
    let slug = escape(p.slug);
    let csrf = hidden("csrf", p.csrf);
    let mut body = format!(
        "{STYLE}<p class=\"tenant\">{}</p><h1>Sign-in and security</h1>{}\
         <p class=\"who\">Signed in as {}</p><h2>Your sign-in methods</h2>",
        escape(p.tenant_name),
        notice_html(p.notice),
        escape(p.email)
    );
    if p.summaries.is_empty() {
        body.push_str(
            "<p class=\"muted\" id=\"no-factors\">You have no second sign-in method yet.</p>",
        );
    }
    body.push_str("<ul class=\"factors\" id=\"factors\">");
    for f in p.summaries {
        let id = escape(f.id.as_str());
        let used = f
            .last_used_at
            .map(|t| format!(" · last used {}", when(t)))
            .unwrap_or_else(|| " · never used".into());
        body.push_str(&format!(
            "<li data-kind=\"{kind}\"><strong>{name}</strong><span class=\"kind\">{label}</span>\
             <div class=\"muted\">Added {added}{used}</div>",
            kind = f.kind,
            name = escape(&f.name),
            label = kind_label(f.kind),
            added = when(f.created_at),
        ));
        if f.kind != "totp" {
            body.push_str(&format!(
                "<form class=\"row\" method=\"post\" action=\"/t/{slug}/account/security/factors/{id}/rename\">{csrf}\
                 <input type=\"text\" name=\"name\" maxlength=\"64\" aria-label=\"New name\" value=\"{}\">\
                 <button type=\"submit\" class=\"secondary\">Rename</button></form>",
                escape(&f.name)
            ));
        }
        body.push_str(&format!(
            "<form method=\"post\" action=\"/t/{slug}/account/security/factors/{id}/remove\">{csrf}\
             <button type=\"submit\" class=\"secondary small\">Remove</button></form></li>"
        ));
    }
    body.push_str("</ul>");
    if p.factors.confirmed_totp().is_none() {
        body.push_str(&format!(
            "<h2>Authenticator app</h2><p class=\"muted\">A six-digit code from an app such as \
             Google Authenticator, Microsoft Authenticator or 1Password.</p>\
             <a class=\"button\" href=\"/t/{slug}/account/security/totp\">Set up an authenticator app</a>"
        ));
    }
    body.push_str(&enrol_webauthn(p.slug, p.csrf, None));
    if p.factors.any() {
        body.push_str(&format!(
            "<h2>Recovery codes</h2><p id=\"recovery-left\">You have {} recovery code{} left. \
             Each signs you in once if you lose your devices.</p>\
             <form method=\"post\" action=\"/t/{slug}/account/security/recovery-codes\">{csrf}\
             <button type=\"submit\" class=\"secondary small\">Make new recovery codes</button></form>",
            p.factors.recovery_codes_left,
            if p.factors.recovery_codes_left == 1 { "" } else { "s" }
        ));
    }
    body.push_str("<h2>Password</h2>");
    if !p.factors.has_password {
        body.push_str(
            "<p id=\"no-password\">You have no password: you sign in with your passkey.</p>",
        );
    } else if p.passkey_only_allowed && p.factors.passkeys().next().is_some() {
        body.push_str(&format!(
            "<p class=\"muted\">You can sign in with your passkey alone and remove your password.</p>\
             <form method=\"post\" action=\"/t/{slug}/account/security/password/remove\">{csrf}\
             <button type=\"submit\" class=\"secondary small\">Remove my password</button></form>"
        ));
    } else {
        body.push_str("<p class=\"muted\">You sign in with your password.</p>");
    }
    body.push_str(&script(p.slug));
    page(
        StatusCode::OK,
        &format!("Sign-in and security · {}", p.tenant_name),
        &body,
    )
}

/// What the authenticator app setup page shows.
pub struct TotpSetup<'a> {
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
    let slug = escape(p.slug);
    let mut fields = hidden("csrf", p.csrf);
    if let Some(r) = p.return_to {
        fields.push_str(&hidden("return_to", r));
    }
    let body = format!(
        "{STYLE}<p class=\"tenant\">{}</p><h1>Set up an authenticator app</h1>{}\
         <p>1. Scan this code with your authenticator app.</p>{}\
         <p>2. Or type this key into the app:</p><code class=\"secret\" id=\"totp-secret\">{}</code>\
         <details><summary>Show the setup link</summary><code class=\"secret\" id=\"totp-uri\">{}</code></details>\
         <form method=\"post\" action=\"/t/{slug}/account/security/totp\">{fields}\
         <label for=\"totp-code\">3. Type the six-digit code the app shows</label>\
         <input id=\"totp-code\" name=\"code\" type=\"text\" inputmode=\"numeric\" \
         autocomplete=\"one-time-code\" maxlength=\"8\" required>\
         <button type=\"submit\">Confirm</button></form>",
        escape(p.tenant_name),
        notice_html(p.notice),
        qr_svg(p.uri),
        escape(p.secret),
        escape(p.uri),
    );
    page(
        status,
        &format!("Authenticator app · {}", p.tenant_name),
        &body,
    )
}

/// Recovery codes, shown this once.
pub fn recovery_codes(tenant_name: &str, codes: &[String], next: &str) -> Response {
    let items: String = codes
        .iter()
        .map(|c| format!("<li><code>{}</code></li>", escape(c)))
        .collect();
    let body = format!(
        "{STYLE}<p class=\"tenant\">{}</p><h1>Save your recovery codes</h1>\
         <p>If you lose your devices, each of these codes signs you in once. They are shown \
         <strong>only now</strong>: print them or keep them in your password manager.</p>\
         <ul class=\"codes\" id=\"recovery-codes\">{items}</ul>\
         <a class=\"button\" id=\"continue\" href=\"{}\">Continue</a>",
        escape(tenant_name),
        escape(next)
    );
    page(
        StatusCode::OK,
        &format!("Recovery codes · {tenant_name}"),
        &body,
    )
}

/// The page for a form the server could not read.
pub fn unreadable() -> Response {
    super::pages::error(
        StatusCode::BAD_REQUEST,
        "This form could not be read",
        "Go back, reload the page and try again.",
    )
}

/// `text` as a QR code in inline SVG (so the page needs no image source), with a quiet zone.
pub fn qr_svg(text: &str) -> String {
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
         role=\"img\" aria-label=\"QR code of the setup link\" shape-rendering=\"crispEdges\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
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
        let svg = qr_svg("otpauth://totp/Acme:ada?secret=JBSWY3DPEHPK3PXP");
        assert!(svg.starts_with("<svg") && svg.contains("M4,4h1v1h-1z"));
    }
}
