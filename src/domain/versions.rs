//! Versions and conditional writes: what `If-Match` asks for, and how a write without it
//! survives a concurrent writer.

use std::future::Future;

/// What an `If-Match` header asks of a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precondition {
    /// No header, or `*` (any current version): the write is unconditional.
    Any,
    /// The resource must still be at this version.
    Version(i64),
    /// A header that names none of our entity tags (not one of ours, not UTF-8): it matches
    /// no version, so the write is refused with 412, never done unconditionally.
    Unmatchable,
}

impl Precondition {
    /// Parses the raw bytes of an `If-Match` header (`None`: no header). `*` anywhere in it
    /// asks for any version. A resource has one tag at a time, so a list of several versions
    /// (`W/"3", W/"4"`) is not honoured as "any of them": it is refused like a foreign tag.
    pub fn parse(header: Option<&[u8]>) -> Self {
        let Some(raw) = header else {
            return Self::Any;
        };
        let Ok(text) = std::str::from_utf8(raw) else {
            return Self::Unmatchable;
        };
        let tags: Vec<&str> = text.split(',').map(str::trim).collect();
        if tags.contains(&"*") {
            return Self::Any;
        }
        let versions: Vec<i64> = tags.iter().filter_map(|t| version_of(t)).collect();
        match versions.as_slice() {
            [v] => Self::Version(*v),
            _ => Self::Unmatchable,
        }
    }

    /// The version the store must still find: `None` for any version; an unmatchable header
    /// asks for version 0, which no resource has (versions start at 1).
    pub fn required(self) -> Option<i64> {
        match self {
            Self::Any => None,
            Self::Version(v) => Some(v),
            Self::Unmatchable => Some(0),
        }
    }
}

/// The version in one of our entity tags: `W/"7"` (or the strong `"7"`), a positive number.
fn version_of(tag: &str) -> Option<i64> {
    let quoted = tag.strip_prefix("W/").unwrap_or(tag);
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    inner.parse().ok().filter(|v| *v > 0)
}

/// How many times a write without `If-Match` is done again after losing a race: each loss
/// means another writer's change went in, so this bounds the work, not the correctness.
pub const UNCONDITIONAL_RETRIES: usize = 64;

/// Runs one read-modify-write `attempt`. When the write is unconditional (`conditional` is
/// false) and the attempt failed only because another writer changed the resource after it was
/// read (`is_stale`), it reads and writes again on the new state; a conditional write gets its
/// 412 at once.
pub async fn retry_unconditional<T, E, F, Fut>(
    conditional: bool,
    is_stale: impl Fn(&E) -> bool,
    mut attempt: F,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(e) if !conditional && tries < UNCONDITIONAL_RETRIES && is_stale(&e) => tries += 1,
            done => return done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Precondition::{self, *};

    #[test]
    fn if_match_headers() {
        let p = |h: &[u8]| Precondition::parse(Some(h));
        assert_eq!(Precondition::parse(None), Any);
        assert_eq!(p(b"*"), Any);
        assert_eq!(p(b"W/\"3\", *"), Any);
        assert_eq!(p(b"W/\"3\""), Version(3));
        assert_eq!(p(b" \"12\" "), Version(12));
        for bad in [
            &b"3"[..],
            b"W/3",
            b"\"\"",
            b"W/\"-1\"",
            b"W/\"0\"",
            b"W/\"3x\"",
            b"garbage",
            b"",
            b"\xff\xfe",
            b"W/\"99999999999999999999999\"",
            b"W/\"3\", W/\"4\"",
        ] {
            assert_eq!(p(bad), Unmatchable, "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(Unmatchable.required(), Some(0));
        assert_eq!(Any.required(), None);
    }
}
