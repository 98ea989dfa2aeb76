//! Rendering a mail: the tenant's wording of its kind in the recipient's locale when it has
//! one, the built-in wording otherwise; placeholders filled in, every value HTML-escaped in the
//! HTML part.

use super::texts::{self, Builtin};
use crate::domain::mail::{MailKind, MailTemplate};
use askama::Template;
use std::collections::BTreeMap;

/// The values of a mail's placeholders, by name (`name`, `tenant`, `link`...).
pub type Vars = BTreeMap<&'static str, String>;

/// A mail's three parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Template)]
#[template(path = "mail/message.html")]
struct MessageHtml<'a> {
    lang: &'a str,
    subject: &'a str,
    paragraphs: Vec<String>,
    action: Option<(String, String)>,
    sent_by: String,
    unsubscribe: Option<(String, String)>,
}

/// `text` with each `{key}` of `vars` replaced by `value(v)`; other braces stay as they are.
pub fn fill(text: &str, vars: &Vars, value: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}').map(|close| (&after[..close], close)) {
            Some((key, close)) if vars.contains_key(key) => {
                out.push_str(&value(&vars[key]));
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Escapes text for HTML (element content and quoted attribute values).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
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

/// A subject is one line: line breaks in it (or in a value) become spaces.
fn one_line(text: &str) -> String {
    text.split(['\r', '\n'])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Renders `kind` in `locale` with `vars`, in the tenant's wording `custom` when given.
pub fn render(
    kind: MailKind,
    locale: &str,
    vars: &Vars,
    custom: Option<&MailTemplate>,
) -> Rendered {
    let raw = |v: &str| v.to_string();
    if let Some(t) = custom {
        return Rendered {
            subject: one_line(&fill(&t.subject, vars, raw)),
            text: fill(&t.text, vars, raw),
            html: fill(&t.html, vars, escape_html),
        };
    }
    builtin(texts::builtin(kind, locale), locale, vars)
}

fn builtin(b: Builtin, locale: &str, vars: &Vars) -> Rendered {
    let raw = |v: &str| v.to_string();
    let footer = texts::footer(locale);
    let subject = one_line(&fill(b.subject, vars, raw));
    let paragraphs: Vec<String> = b.paragraphs.iter().map(|p| fill(p, vars, raw)).collect();
    let action = b
        .action
        .zip(vars.get("link"))
        .map(|(label, link)| (label.to_string(), link.clone()));
    let unsubscribe = vars
        .get("unsubscribe")
        .map(|u| (footer.unsubscribe.to_string(), u.clone()));
    let sent_by = fill(footer.sent_by, vars, raw);
    let mut text = paragraphs.join("\n\n");
    if let Some((label, link)) = &action {
        text.push_str(&format!("\n\n{label}:\n{link}"));
    }
    text.push_str(&format!("\n\n-- \n{sent_by}\n"));
    if let Some((label, link)) = &unsubscribe {
        text.push_str(&format!("{label}: {link}\n"));
    }
    let html = MessageHtml {
        lang: locale,
        subject: &subject,
        paragraphs,
        action,
        sent_by,
        unsubscribe,
    }
    .render()
    .unwrap_or_else(|e| {
        tracing::error!(error = %e, "rendering a mail's HTML part failed");
        String::new()
    });
    Rendered {
        subject,
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&'static str, &str)]) -> Vars {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn placeholders_are_filled_and_unknown_ones_kept() {
        let v = vars(&[("name", "Ann"), ("link", "https://x/y?a=1&b=2")]);
        assert_eq!(fill("Hi {name} {x} {", &v, |s| s.into()), "Hi Ann {x} {");
        assert_eq!(fill("{{name}}", &v, |s| s.into()), "{Ann}");
        assert_eq!(fill("{link}", &v, escape_html), "https://x/y?a=1&amp;b=2");
    }

    #[test]
    fn every_value_is_escaped_in_html_and_subjects_are_one_line() {
        let hostile = "<script>alert(1)</script>\"'&\r\nBcc: x@evil";
        let v = vars(&[
            ("name", hostile),
            ("tenant", hostile),
            ("link", "https://id.example/t/a/reset?token=abc&x=\"1\""),
            ("minutes", "30"),
        ]);
        for locale in ["en", "fr", "de"] {
            for kind in MailKind::ALL {
                let r = render(kind, locale, &v, None);
                assert!(!r.html.contains("<script>"), "{kind:?} {locale}");
                assert!(!r.html.contains("\"1\""), "{kind:?} {locale}");
                assert!(!r.subject.contains('\n') && !r.subject.contains('\r'));
            }
        }
        let custom = MailTemplate {
            kind: "password_reset".into(),
            locale: "en".into(),
            subject: "Reset {name}".into(),
            text: "Go {link}".into(),
            html: "<p>Hi {name}</p><a href=\"{link}\">go</a>".into(),
        };
        let r = render(MailKind::PasswordReset, "en", &v, Some(&custom));
        assert!(r.html.starts_with("<p>Hi &lt;script&gt;"));
        assert!(r.html.contains("token=abc&amp;x=&quot;1&quot;"));
        assert!(
            r.text
                .starts_with("Go https://id.example/t/a/reset?token=abc&x=\"1\"")
        );
        assert!(!r.subject.contains('\n'));
    }

    #[test]
    fn built_in_wording_per_locale_carries_the_link() {
        let v = vars(&[
            ("name", "Ann"),
            ("tenant", "Acme"),
            ("link", "https://id.example/l"),
            ("minutes", "30"),
        ]);
        let en = render(MailKind::PasswordReset, "en", &v, None);
        let fr = render(MailKind::PasswordReset, "fr", &v, None);
        let de = render(MailKind::PasswordReset, "de", &v, None);
        assert_eq!(en.subject, "Reset your Acme password");
        assert!(fr.subject.starts_with("Réinitialisez"));
        assert!(de.text.contains("30 Minuten"));
        for r in [&en, &fr, &de] {
            assert!(r.text.contains("https://id.example/l"));
            assert!(r.html.contains("href=\"https://id.example/l\""));
        }
    }
}
