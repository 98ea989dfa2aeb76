//! Server-rendered pages: sign-in form and readable error pages. Plain HTML with inline CSS,
//! every interpolated value escaped.

use super::i18n::Lang;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
 font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f4f6;color:#111827}
main{width:100%;max-width:380px;margin:24px;background:#fff;border-radius:12px;
 box-shadow:0 1px 3px rgba(0,0,0,.08),0 8px 24px rgba(0,0,0,.06);padding:32px}
.tenant{font-size:13px;letter-spacing:.06em;text-transform:uppercase;color:#6b7280;margin:0 0 6px}
h1{font-size:22px;margin:0 0 24px}
label{display:block;font-size:14px;font-weight:600;margin:16px 0 6px}
input[type=email],input[type=password]{width:100%;padding:10px 12px;font-size:15px;
 border:1px solid #d1d5db;border-radius:8px;background:#fff;color:inherit}
input:focus{outline:2px solid #2563eb;outline-offset:1px;border-color:#2563eb}
button{width:100%;margin-top:24px;padding:11px;font-size:15px;font-weight:600;color:#fff;
 background:#2563eb;border:0;border-radius:8px;cursor:pointer}
button:hover{background:#1d4ed8}
.error{margin:0 0 8px;padding:10px 12px;border-radius:8px;background:#fef2f2;
 border:1px solid #fecaca;color:#991b1b;font-size:14px}
p{line-height:1.5}
.who{font-size:14px;color:#374151}
.muted{font-size:13px;color:#6b7280}
ul.scopes{margin:8px 0 16px;padding-left:20px;line-height:1.6}
code{font-size:13px;background:#f3f4f6;border-radius:4px;padding:1px 5px}
.actions{display:flex;gap:12px}
.actions button{flex:1}
button.secondary{background:#fff;color:#374151;border:1px solid #d1d5db}
button.secondary:hover{background:#f9fafb}
footer{margin-top:24px;font-size:12px;color:#6b7280;text-align:center}
"#;

/// A whole page around `body`, in English.
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    page_in(Lang::En, status, title, body)
}

/// A whole page around `body` in `lang` (the security headers layer keeps it out of caches and
/// frames, see `http::headers`).
pub fn page_in(lang: Lang, status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>{body}\
         <footer>{}</footer></main></body></html>",
        lang.tag(),
        escape(title),
        escape(lang.texts().footer)
    );
    (status, Html(html)).into_response()
}

/// A `303 See Other` to `location`, never cached. A location that cannot be a header value
/// (which validation should have prevented) gets an error page instead of a panic.
pub fn see_other(location: &str) -> Response {
    let Ok(value) = HeaderValue::from_str(location) else {
        tracing::error!("refusing to redirect to a location that is not a valid header value");
        return error(
            StatusCode::BAD_REQUEST,
            "This link is not valid",
            "The address to continue to cannot be used.",
        );
    };
    let mut res = StatusCode::SEE_OTHER.into_response();
    let h = res.headers_mut();
    h.insert(header::LOCATION, value);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// What the sign-in form shows.
pub struct LoginForm<'a> {
    pub lang: Lang,
    /// Carried through the form, so the answer is in the same language.
    pub ui_locales: Option<&'a str>,
    pub tenant_name: &'a str,
    pub slug: &'a str,
    pub csrf: &'a str,
    pub return_to: Option<&'a str>,
    pub email: &'a str,
    pub error: Option<&'a str>,
    /// Offer "remember me" (the tenant allows it).
    pub remember_me: bool,
}

/// The sign-in page.
pub fn login(status: StatusCode, f: &LoginForm<'_>) -> Response {
    let error = f
        .error
        .map(|e| format!("<div class=\"error\" role=\"alert\">{}</div>", escape(e)))
        .unwrap_or_default();
    let hidden = |name: &str, v: Option<&str>| {
        v.map(|v| {
            format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                escape(v)
            )
        })
        .unwrap_or_default()
    };
    let return_to = hidden("return_to", f.return_to) + &hidden("ui_locales", f.ui_locales);
    let t = f.lang.texts();
    let autofocus = |on: bool| if on { " autofocus" } else { "" };
    let body = format!(
        "<p class=\"tenant\">{tenant}</p><h1>{sign_in}</h1>{error}\
         <form method=\"post\" action=\"/t/{slug}/login\" novalidate>\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{return_to}\
         <label for=\"email\">{email_label}</label>\
         <input id=\"email\" name=\"email\" type=\"text\" autocapitalize=\"none\" spellcheck=\"false\" autocomplete=\"username webauthn\" required value=\"{email}\"{af_email}>\
         <label for=\"password\">{password_label}</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required{af_pw}>\
         {remember}<button type=\"submit\">{sign_in}</button></form>\
         <div class=\"error\" data-webauthn-error hidden></div>\
         <button type=\"button\" class=\"secondary\" data-webauthn=\"login\" data-tenant=\"{slug}\" \
         data-csrf=\"{csrf}\"{passkey_return}>{passkey}</button>\
         <script src=\"/t/{slug}/webauthn.js\" defer></script>",
        sign_in = escape(t.sign_in),
        email_label = escape(t.identifier),
        password_label = escape(t.password),
        tenant = escape(f.tenant_name),
        slug = escape(f.slug),
        csrf = escape(f.csrf),
        email = escape(f.email),
        af_email = autofocus(f.email.is_empty()),
        af_pw = autofocus(!f.email.is_empty()),
        passkey = escape(t.passkey_sign_in),
        remember = if f.remember_me {
            format!(
                "<label class=\"check\"><input type=\"checkbox\" name=\"remember\" value=\"1\"> {}</label>",
                escape(t.remember_me)
            )
        } else {
            String::new()
        },
        passkey_return = f
            .return_to
            .map(|r| format!(" data-return-to=\"{}\"", escape(r)))
            .unwrap_or_default(),
    );
    page_in(
        f.lang,
        status,
        &format!("{} · {}", t.sign_in, f.tenant_name),
        &body,
    )
}

/// A readable error page in English (for errors that must not redirect anywhere).
pub fn error(status: StatusCode, title: &str, message: &str) -> Response {
    error_in(Lang::En, status, title, message)
}

/// A readable error page in `lang`.
pub fn error_in(lang: Lang, status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!(
        "<h1>{}</h1><div class=\"error\" role=\"alert\">{}</div><p>{}</p>",
        escape(title),
        escape(message),
        escape(lang.texts().error_hint)
    );
    page_in(lang, status, title, &body)
}

/// A plain information page.
pub fn info(tenant_name: &str, title: &str, message: &str) -> Response {
    let body = format!(
        "<p class=\"tenant\">{}</p><h1>{}</h1><p>{}</p>",
        escape(tenant_name),
        escape(title),
        escape(message)
    );
    page(StatusCode::OK, title, &body)
}

/// A plain information page with one link onwards.
pub fn info_with_link(
    tenant_name: &str,
    title: &str,
    message: &str,
    link: (&str, &str),
) -> Response {
    let body = format!(
        "<p class=\"tenant\">{}</p><h1>{}</h1><p>{}</p><p><a id=\"security-link\" href=\"{}\">{}</a></p>",
        escape(tenant_name),
        escape(title),
        escape(message),
        escape(link.0),
        escape(link.1)
    );
    page(StatusCode::OK, title, &body)
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
