//! What text Castellan accepts from outside: no NUL or other control characters, valid UTF-8,
//! tenant slugs of a fixed alphabet. The HTTP layer checks every path, query string and body
//! with these rules before anything reaches a handler (and so the database); the store maps a
//! NUL that got past them anyway onto invalid input.

use percent_encoding::percent_decode;
use std::fmt;

/// Why a piece of input was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The bytes (after percent-decoding) are not UTF-8.
    NotUtf8 { name: Option<String> },
    /// The text holds a control character it may not hold.
    Control { name: Option<String> },
}

impl Refusal {
    /// The parameter or field the refusal is about, when it has a printable name.
    pub fn name(&self) -> Option<&str> {
        match self {
            Refusal::NotUtf8 { name } | Refusal::Control { name } => name.as_deref(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.name() {
            Some(n) => format!("the parameter `{n}`"),
            None => "the input".to_owned(),
        };
        match self {
            Refusal::NotUtf8 { .. } => write!(f, "{what} is not valid UTF-8"),
            Refusal::Control { .. } => write!(
                f,
                "{what} contains a control character (NUL, C0 other than tab and line breaks, DEL or C1)"
            ),
        }
    }
}

/// Whether free text may not hold `c`: NUL and the other C0 controls except tab, line feed and
/// carriage return, DEL, and the C1 controls. PostgreSQL cannot store NUL at all; the others
/// have no business in names, emails, ids or parameters and are used to spoof logs and pages.
pub fn is_forbidden(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Whether `s` holds a character [`is_forbidden`] refuses.
pub fn has_forbidden(s: &str) -> bool {
    s.chars().any(is_forbidden)
}

/// A tenant slug: 1 to 63 lowercase ASCII letters, digits and `-`, not starting with `-`.
pub fn is_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 63
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
}

/// Checks a URI path: each segment, percent-decoded, is UTF-8 without any control character
/// (not even tab or line breaks: no path Castellan serves holds one).
pub fn check_path(path: &str) -> Result<(), Refusal> {
    for segment in path.split('/') {
        let bytes: Vec<u8> = percent_decode(segment.as_bytes()).collect();
        let text = std::str::from_utf8(&bytes).map_err(|_| Refusal::NotUtf8 { name: None })?;
        if text.chars().any(char::is_control) {
            return Err(Refusal::Control { name: None });
        }
    }
    Ok(())
}

/// Checks `application/x-www-form-urlencoded` bytes (a form body or a query string): every name
/// and value, decoded as the form decoder will (`+` is a space, `%XX` a byte), is UTF-8 without a
/// forbidden character. The form decoders replace bad UTF-8 silently; this refuses it.
pub fn check_form(input: &[u8]) -> Result<(), Refusal> {
    for pair in input.split(|b| *b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let mut halves = pair.splitn(2, |b| *b == b'=');
        let name = decode_form_component(halves.next().unwrap_or_default());
        let value = halves.next().map(decode_form_component);
        let shown = match &name {
            Ok(n) if n.len() <= 64 && n.bytes().all(|b| b.is_ascii_graphic()) => Some(n.clone()),
            _ => None,
        };
        for part in std::iter::once(name).chain(value) {
            match part {
                Err(()) => return Err(Refusal::NotUtf8 { name: shown }),
                Ok(text) if has_forbidden(&text) => return Err(Refusal::Control { name: shown }),
                Ok(_) => {}
            }
        }
    }
    Ok(())
}

fn decode_form_component(raw: &[u8]) -> Result<String, ()> {
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    let bytes: Vec<u8> = percent_decode(&plus_as_space).collect();
    String::from_utf8(bytes).map_err(|_| ())
}

/// Checks a JSON body for forbidden characters in its strings, written raw (DEL, C1) or as
/// `\uXXXX` escapes (NUL and every other control). Raw C0 bytes and bad UTF-8 are not looked at:
/// no JSON parser accepts them. Only reads, never builds a value, so it costs one pass over the
/// bytes. Outside strings a backslash is a syntax error anyway, so escapes need no string
/// tracking.
pub fn check_json(input: &[u8]) -> Result<(), Refusal> {
    let refused = || Refusal::Control { name: None };
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'\\' => {
                if input.get(i + 1) == Some(&b'u')
                    && let Some(code) = input.get(i + 2..i + 6).and_then(hex4)
                    && char::from_u32(code).is_some_and(is_forbidden)
                {
                    return Err(refused());
                }
                // Skip the escaped character, so `\\u0000` (a backslash, then text) passes.
                i += 2;
                continue;
            }
            0x7f => return Err(refused()),
            0xc2 if input.get(i + 1).is_some_and(|b| (0x80..=0x9f).contains(b)) => {
                return Err(refused());
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

fn hex4(digits: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(digits).ok()?;
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_characters() {
        for c in [
            '\0', '\u{1}', '\u{1b}', '\u{1f}', '\u{7f}', '\u{80}', '\u{9f}',
        ] {
            assert!(is_forbidden(c), "{c:?}");
        }
        for c in ['\t', '\n', '\r', ' ', 'a', 'é', '\u{a0}', '\u{200b}', '😀'] {
            assert!(!is_forbidden(c), "{c:?}");
        }
    }

    #[test]
    fn slugs() {
        assert!(is_slug("acme") && is_slug("a-1") && is_slug(&"a".repeat(63)));
        for bad in ["", "-a", "Acme", "a_b", "a\0", "a b", "é", &"a".repeat(64)] {
            assert!(!is_slug(bad), "{bad:?}");
        }
    }

    #[test]
    fn paths() {
        assert!(check_path("/t/acme/api/v1/users/0190-ab%20c").is_ok());
        assert!(check_path("/t/%00/jwks").is_err());
        assert!(check_path("/t/acme/x%0Ay").is_err());
        assert!(check_path("/t/acme/x%09y").is_err());
        assert_eq!(
            check_path("/t/%ff/jwks"),
            Err(Refusal::NotUtf8 { name: None })
        );
    }

    #[test]
    fn forms() {
        assert!(check_form(b"email=a%40b.c&password=p+w%C3%A9&note=a%0Ab%09c").is_ok());
        assert!(check_form(b"&&a&=b&c=").is_ok());
        assert_eq!(
            check_form(b"x=1&email=a%40b.c%00"),
            Err(Refusal::Control {
                name: Some("email".into())
            })
        );
        assert_eq!(
            check_form(b"email=%C3%28"),
            Err(Refusal::NotUtf8 {
                name: Some("email".into())
            })
        );
        assert_eq!(
            check_form(b"em%00ail=x"),
            Err(Refusal::Control { name: None })
        );
        assert!(check_form(b"a=%7F").is_err());
        assert!(check_form(b"a=%C2%85").is_err());
        assert!(check_form(b"a=\xff").is_err());
    }

    #[test]
    fn json() {
        assert!(check_json(br#"{"a":"x\ty\n\u00e9\u0009","b":"\\u0000"}"#).is_ok());
        for bad in [
            &br#"{"a":"\u0000"}"#[..],
            br#"{"a":"\u001B"}"#,
            br#"{"a":"\u007f"}"#,
            br#"{"a":"\u0085"}"#,
            br#"{"a":"\\\u0000"}"#,
            b"{\"a\":\"\x7f\"}",
            b"{\"a\":\"\xc2\x9f\"}",
        ] {
            assert!(check_json(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        // Truncated escapes are the parser's to refuse.
        assert!(check_json(br#""\u00"#).is_ok());
    }
}
