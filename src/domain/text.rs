//! What text Castellan accepts from outside: no NUL or other control characters, valid UTF-8,
//! tenant slugs of a fixed alphabet. The HTTP layer checks every path, query string and body
//! with these rules before anything reaches a handler (and so the database); the store maps a
//! NUL that got past them anyway onto invalid input.

use percent_encoding::percent_decode;
use std::borrow::Cow;
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
        for part in std::iter::once(&name).chain(value.as_ref()) {
            let refusal: fn(Option<String>) -> Refusal = match part {
                Err(()) => |name| Refusal::NotUtf8 { name },
                Ok(text) if has_forbidden(text) => |name| Refusal::Control { name },
                Ok(_) => continue,
            };
            let shown = match &name {
                Ok(n) if n.len() <= 64 && n.bytes().all(|b| b.is_ascii_graphic()) => {
                    Some(n.to_string())
                }
                _ => None,
            };
            return Err(refusal(shown));
        }
    }
    Ok(())
}

/// A form component decoded (`+` is a space, `%XX` a byte), or `Err` when that is not UTF-8;
/// borrowed when there is nothing to decode (a token, an identifier: nearly every component).
fn decode_form_component(raw: &[u8]) -> Result<Cow<'_, str>, ()> {
    if !raw.iter().any(|b| matches!(b, b'+' | b'%')) {
        return std::str::from_utf8(raw).map(Cow::Borrowed).map_err(|_| ());
    }
    let plus_as_space: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    let bytes: Vec<u8> = percent_decode(&plus_as_space).collect();
    String::from_utf8(bytes).map(Cow::Owned).map_err(|_| ())
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

    /// The form check as it was before components without `+` or `%` were borrowed: every
    /// component decoded into a new string.
    fn check_form_reference(input: &[u8]) -> Result<(), Refusal> {
        let decode = |raw: &[u8]| {
            let plain: Vec<u8> = raw
                .iter()
                .map(|b| if *b == b'+' { b' ' } else { *b })
                .collect();
            String::from_utf8(percent_decode(&plain).collect()).map_err(|_| ())
        };
        for pair in input.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let mut halves = pair.splitn(2, |b| *b == b'=');
            let name = decode(halves.next().unwrap_or_default());
            let value = halves.next().map(decode);
            let shown = match &name {
                Ok(n) if n.len() <= 64 && n.bytes().all(|b| b.is_ascii_graphic()) => {
                    Some(n.clone())
                }
                _ => None,
            };
            for part in std::iter::once(name).chain(value) {
                match part {
                    Err(()) => return Err(Refusal::NotUtf8 { name: shown }),
                    Ok(text) if has_forbidden(&text) => {
                        return Err(Refusal::Control { name: shown });
                    }
                    Ok(_) => {}
                }
            }
        }
        Ok(())
    }

    /// Differential: 20,000 generated forms (separators, escapes good and broken, `+`, controls,
    /// multi-byte and invalid UTF-8, long names) get the same verdict and the same name shown as
    /// from the reference.
    #[test]
    fn forms_agree_with_the_reference() {
        use rand::RngExt;
        const PIECES: &[&[u8]] = &[
            b"&",
            b"=",
            b"+",
            b"%",
            b"%2",
            b"%41",
            b"%2B",
            b"%00",
            b"%0A",
            b"%09",
            b"%7F",
            b"%C2%85",
            b"%C3%A9",
            b"%C3",
            b"%ZZ",
            b"a",
            b"email",
            b"x",
            b"\xff",
            b"\x7f",
            b"\x01",
            b"\t",
            "\u{e9}".as_bytes(),
            "\u{85}".as_bytes(),
            b"\xc3",
            b"0123456789abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789",
        ];
        let mut rng = rand::rng();
        for _ in 0..20_000 {
            let mut form = Vec::new();
            for _ in 0..rng.random_range(0..12) {
                form.extend_from_slice(PIECES[rng.random_range(0..PIECES.len())]);
            }
            assert_eq!(
                check_form(&form),
                check_form_reference(&form),
                "{}",
                String::from_utf8_lossy(&form)
            );
        }
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
