//! Just enough of `multipart/form-data` (RFC 7578) for the console's upload forms: the parts of
//! a body, each with its field name, whether it is a file, and its bytes. Anything malformed is
//! `None`, never a panic.

/// One part of a form.
#[derive(Debug, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    /// The file name, when the part is a file.
    pub filename: Option<String>,
    pub body: Vec<u8>,
}

/// The boundary of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut pieces = content_type.split(';');
    let kind = pieces.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    pieces.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        let v = v.trim().trim_matches('"');
        (k.trim().eq_ignore_ascii_case("boundary") && !v.is_empty() && v.len() <= 70)
            .then(|| v.to_owned())
    })
}

/// The parts of `body`, delimited by `boundary`.
pub fn parse(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    let delimiter = format!("--{boundary}");
    let mut rest = body;
    // The preamble, then the first delimiter.
    let start = find(rest, delimiter.as_bytes())?;
    rest = &rest[start + delimiter.len()..];
    let next = format!("\r\n--{boundary}");
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let head_end = find(rest, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&rest[..head_end]).ok()?;
        rest = &rest[head_end + 4..];
        let end = find(rest, next.as_bytes())?;
        let (name, filename) = disposition(head)?;
        parts.push(Part {
            name,
            filename,
            body: rest[..end].to_vec(),
        });
        rest = &rest[end + next.len()..];
    }
}

/// The `name` and `filename` of a part's `Content-Disposition: form-data` header.
fn disposition(head: &str) -> Option<(String, Option<String>)> {
    let line = head.split("\r\n").find(|l| {
        l.split(':')
            .next()
            .is_some_and(|h| h.trim().eq_ignore_ascii_case("content-disposition"))
    })?;
    let value = line.split_once(':')?.1;
    let (mut name, mut filename) = (None, None);
    for p in value.split(';').skip(1) {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"').to_owned();
        match k.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(v),
            "filename" => filename = Some(v),
            _ => {}
        }
    }
    Some((name?, filename))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nt0k\r\n--XyZ\r\ncontent-disposition: form-data; name=\"file\"; filename=\"people.csv\"\r\nContent-Type: text/csv\r\n\r\nemail\r\nzo\xc3\xab@x.test\r\n\r\n--XyZ--\r\n";

    #[test]
    fn fields_and_files() {
        assert_eq!(
            boundary("multipart/form-data; boundary=XyZ").as_deref(),
            Some("XyZ")
        );
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
        let parts = parse(BODY, "XyZ").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(
            (parts[0].name.as_str(), parts[0].body.as_slice()),
            ("csrf", &b"t0k"[..])
        );
        assert_eq!(parts[1].filename.as_deref(), Some("people.csv"));
        assert_eq!(parts[1].body, "email\r\nzoë@x.test\r\n".as_bytes());
    }

    #[test]
    fn truncated_or_random_bodies_are_refused_without_panic() {
        for cut in 0..BODY.len() {
            let _ = parse(&BODY[..cut], "XyZ");
        }
        assert!(parse(&BODY[..BODY.len() - 12], "XyZ").is_none());
        use rand::RngExt;
        let mut rng = rand::rng();
        const ALPHABET: &[u8] = b"-XyZ\r\n\"=;: namefilenameContent-Disposition";
        for _ in 0..2000 {
            let len = rng.random_range(0..120);
            let bytes: Vec<u8> = (0..len)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())])
                .collect();
            let _ = parse(&bytes, "XyZ");
        }
    }
}
