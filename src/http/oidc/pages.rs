//! The pages people see on their way to an app: askama templates in `templates/pages/`, each
//! extending `templates/people.html` (itself on `templates/base.html`, the base of every page),
//! with their texts in the page's language ([`super::i18n`]). Escaping is askama's.

use super::i18n::{Lang, Texts};
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// What the people's layout shows around a page: its language, title, tenant and footer.
pub struct Frame {
    pub lang: &'static str,
    pub title: String,
    /// The organisation, shown above the heading (none on pages without a tenant).
    pub tenant_name: Option<String>,
    pub footer: &'static str,
}

impl Frame {
    /// The frame of a page in `lang` titled `title`, for `tenant_name` if any.
    pub fn new(lang: Lang, title: impl Into<String>, tenant_name: Option<&str>) -> Self {
        Frame {
            lang: lang.tag(),
            title: title.into(),
            tenant_name: tenant_name.map(str::to_owned),
            footer: lang.texts().footer,
        }
    }
}

/// A text with one placeholder (`{app}`, `{email}`) split around it, so that the template shows
/// the value (escaped, in `<strong>`) inside the translated sentence.
pub struct Filled {
    pub before: String,
    pub value: String,
    pub after: String,
}

impl Filled {
    /// `text` with `placeholder` (its first occurrence) standing for `value`.
    pub fn new(text: &str, placeholder: &str, value: &str) -> Self {
        let (before, after) = text.split_once(placeholder).unwrap_or((text, ""));
        let value = if text.contains(placeholder) {
            value
        } else {
            ""
        };
        Filled {
            before: before.to_owned(),
            value: value.to_owned(),
            after: after.to_owned(),
        }
    }
}

/// Renders a page with `status` (the security headers layer keeps it out of caches and frames,
/// see `http::headers`). A template that fails to render is logged and answered with a bare 500.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page could not be rendered");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "An internal error occurred; it has been logged. Please try again.",
            )
                .into_response()
        }
    }
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

/// `message` as a sentence: its first letter a capital, a full stop at the end.
pub fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
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

#[derive(Template)]
#[template(path = "pages/login.html")]
struct LoginPage<'a> {
    frame: Frame,
    t: &'static Texts,
    f: &'a LoginForm<'a>,
    /// The "forgot password" link's text.
    forgot: &'static str,
}

/// The sign-in page.
pub fn login(status: StatusCode, f: &LoginForm<'_>) -> Response {
    let t = f.lang.texts();
    let title = format!("{} · {}", t.sign_in, f.tenant_name);
    let frame = Frame::new(f.lang, title, Some(f.tenant_name));
    let forgot = crate::http::account_email::texts::EmailTexts::of(f.lang).forgot_link;
    render(
        status,
        &LoginPage {
            frame,
            t,
            f,
            forgot,
        },
    )
}

#[derive(Template)]
#[template(path = "pages/error.html")]
struct ErrorPage<'a> {
    frame: Frame,
    title: &'a str,
    message: &'a str,
    hint: &'static str,
}

/// A readable error page in English (for errors that must not redirect anywhere).
pub fn error(status: StatusCode, title: &str, message: &str) -> Response {
    error_in(Lang::En, status, title, message)
}

/// A readable error page in `lang`.
pub fn error_in(lang: Lang, status: StatusCode, title: &str, message: &str) -> Response {
    let page = ErrorPage {
        frame: Frame::new(lang, title, None),
        title,
        message,
        hint: lang.texts().error_hint,
    };
    render(status, &page)
}

#[derive(Template)]
#[template(path = "pages/info.html")]
struct InfoPage<'a> {
    frame: Frame,
    title: &'a str,
    message: &'a str,
    link: Option<(&'a str, &'a str)>,
}

/// A plain information page in `lang`, with a link onwards if any (`(href, text)`).
pub fn info_in(
    lang: Lang,
    tenant_name: &str,
    title: &str,
    message: &str,
    link: Option<(&str, &str)>,
) -> Response {
    let page = InfoPage {
        frame: Frame::new(lang, title, Some(tenant_name)),
        title,
        message,
        link,
    };
    render(StatusCode::OK, &page)
}

/// A plain information page in English with one link onwards.
pub fn info_with_link(
    tenant_name: &str,
    title: &str,
    message: &str,
    link: (&str, &str),
) -> Response {
    info_in(Lang::En, tenant_name, title, message, Some(link))
}

#[cfg(test)]
mod tests {
    use super::Filled;

    #[test]
    fn fills_a_placeholder_inside_a_sentence() {
        let f = Filled::new("If you allow it, {app} will:", "{app}", "<b>");
        assert_eq!(
            (f.before.as_str(), f.value.as_str(), f.after.as_str()),
            ("If you allow it, ", "<b>", " will:")
        );
        let none = Filled::new("No placeholder", "{app}", "x");
        assert_eq!(
            (none.before.as_str(), none.value.as_str()),
            ("No placeholder", "")
        );
    }
}
