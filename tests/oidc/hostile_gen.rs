//! Generators of hostile input for `hostile`: a small seeded RNG (so a failing run can be
//! replayed from its seed) and the values it draws.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::json;

/// SplitMix64: tiny, seedable, good enough to pick inputs.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Percent-encodes every byte but the unreserved ones, so raw bytes (NUL, bad UTF-8) travel as
/// `%XX`.
pub fn enc_bytes(v: &[u8]) -> String {
    v.iter()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (*b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Hostile values.
pub struct Value;

const CONTROLS: [&[u8]; 12] = [
    b"\0",
    b"a\0b",
    b"\x01",
    b"\x07",
    b"\x1b[31mred",
    b"\x08\x08",
    b"\x7f",
    b"\xc2\x85",
    b"\xc2\x9f",
    b"line\x0bbreak",
    b"\x1f",
    b"x\x00\x00",
];
const BAD_UTF8: [&[u8]; 7] = [
    b"\xff",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\xc0\x80",
    b"\xe2\x82",
    b"a\xfe\xffb",
    b"\xf8\x88\x80\x80\x80",
];
const ODD: [&str; 12] = [
    "",
    " ",
    "a@b.c",
    "' OR 1=1 --",
    "\"; DROP TABLE users; --",
    "../../etc/passwd",
    "%00",
    "%",
    "<script>alert(1)</script>",
    "\u{202e}gnp.exe",
    "😀",
    "\t\n\r",
];

impl Value {
    /// A hostile text value, as bytes (not necessarily UTF-8).
    pub fn text(rng: &mut Rng) -> Vec<u8> {
        let mut v = match rng.below(6) {
            0 | 1 => rng.pick(&CONTROLS).to_vec(),
            2 => rng.pick(&BAD_UTF8).to_vec(),
            3 => rng.pick(&ODD).as_bytes().to_vec(),
            // Long, but within what a URL may carry (http's URIs stop at 64 KiB).
            4 => "a".repeat([300, 5_000, 20_000][rng.below(3)]).into_bytes(),
            _ => Self::id(rng),
        };
        if rng.below(3) == 0 {
            let mut prefixed = b"ada@acme.test".to_vec();
            prefixed.append(&mut v);
            v = prefixed;
        }
        v
    }

    /// A malformed (or well-formed but unknown) id.
    pub fn id(rng: &mut Rng) -> Vec<u8> {
        let uuid = "01900000-0000-7000-8000-000000000000";
        match rng.below(9) {
            0 => b"x".to_vec(),
            1 => format!("{uuid}\0").into_bytes(),
            2 => uuid.to_uppercase().into_bytes(),
            3 => b"a..b".to_vec(),
            4 => "9".repeat(40).into_bytes(),
            5 => b"\xff\xfe".to_vec(),
            6 => uuid.into(),
            7 => format!("{{{uuid}}}").into_bytes(),
            _ => rng.pick(&CONTROLS).to_vec(),
        }
    }

    /// A SCIM filter with hostile parts.
    pub fn filter(rng: &mut Rng) -> Vec<u8> {
        let attr = rng.pick(&[
            "userName",
            "emails.value",
            "emails[type eq \"work\"].value",
            "name.givenName",
            "meta.lastModified",
            "x",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        ]);
        let op = rng.pick(&[
            "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr", "zz",
        ]);
        let mut f = format!("{attr} {op} \"").into_bytes();
        f.extend(Self::text(rng));
        f.push(b'"');
        match rng.below(4) {
            0 => f.extend(b" and (".repeat(200)),
            1 => f.extend(b" or not (userName pr)"),
            _ => {}
        }
        f
    }

    /// A JSON value of the wrong kind, or a string holding a hostile text (raw bytes spliced in
    /// when they are not UTF-8, so the body is not valid JSON).
    pub fn json(rng: &mut Rng) -> Vec<u8> {
        match rng.below(10) {
            0 => b"123".to_vec(),
            1 => b"true".to_vec(),
            2 => b"null".to_vec(),
            3 => b"[\"a\", 1, {}]".to_vec(),
            4 => b"{\"nested\": {\"value\": \"\\u0000\"}}".to_vec(),
            5 => {
                let depth = [64, 2_000, 100_000][rng.below(3)];
                let mut v = b"[".repeat(depth);
                v.extend(b"]".repeat(depth));
                v
            }
            6 => b"1e999999".to_vec(),
            // Past the 1 MiB body limit: 413, not a dropped connection.
            7 if rng.below(4) == 0 => serde_json::to_vec(&"b".repeat(1_100_000)).unwrap(),
            _ => {
                let t = Self::text(rng);
                match std::str::from_utf8(&t) {
                    Ok(s) => serde_json::to_vec(s).unwrap(),
                    Err(_) => [&b"\""[..], &t, b"\""].concat(),
                }
            }
        }
    }

    /// A JSON object with hostile values under some of `fields` (sometimes twice).
    pub fn json_object(rng: &mut Rng, fields: &[&str]) -> Vec<u8> {
        let mut out = b"{".to_vec();
        let mut first = true;
        for name in fields {
            let times = match rng.below(6) {
                0 => 0,
                1 => 2,
                _ => 1,
            };
            for _ in 0..times {
                if !first {
                    out.push(b',');
                }
                first = false;
                out.extend(serde_json::to_vec(name).unwrap());
                out.push(b':');
                out.extend(Self::json(rng));
            }
        }
        if rng.below(5) == 0 {
            out.extend(b",\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"]");
        }
        out.push(b'}');
        if out.starts_with(b"{,") {
            out.remove(1);
        }
        out
    }

    /// A SCIM PatchOp with a hostile path or value.
    pub fn patch_op(rng: &mut Rng) -> Vec<u8> {
        let path = Self::text(rng);
        let path = match std::str::from_utf8(&path) {
            Ok(p) if rng.below(2) == 0 => format!("emails[value eq \"{p}\"].value"),
            Ok(p) => p.to_owned(),
            Err(_) => "displayName".into(),
        };
        let op = rng.pick(&["add", "replace", "remove", "ADD", "move", ""]);
        let mut body = serde_json::to_vec(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": op, "path": path, "value": "PLACEHOLDER"}]
        }))
        .unwrap();
        let at = body
            .windows(13)
            .position(|w| w == b"\"PLACEHOLDER\"")
            .unwrap();
        body.splice(at..at + 13, Self::json(rng));
        body
    }

    /// A Bulk request whose operations carry hostile data.
    pub fn bulk(rng: &mut Rng) -> Vec<u8> {
        let mut ops = vec![];
        for i in 0..1 + rng.below(3) {
            let data = Self::json_object(rng, &["userName", "displayName", "members"]);
            let path = enc_bytes(&Self::id(rng));
            ops.push(format!(
                "{{\"method\":\"{}\",\"bulkId\":\"b{i}\",\"path\":\"/Users/{path}\",\"data\":{}}}",
                rng.pick(&["POST", "PUT", "PATCH", "DELETE"]),
                String::from_utf8_lossy(&data)
            ));
        }
        format!(
            "{{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:BulkRequest\"],\"Operations\":[{}]}}",
            ops.join(",")
        )
        .into_bytes()
    }

    /// Something hostile for a JWT: not three parts, bad base64, a payload with a NUL issuer.
    pub fn jwt(rng: &mut Rng) -> Vec<u8> {
        use base64::Engine;
        let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        match rng.below(4) {
            0 => Self::text(rng),
            1 => format!(
                "{}.{}.x",
                b64(b"{\"alg\":\"RS256\"}"),
                b64(b"{\"iss\":\"a\\u0000b\",\"sub\":\"a\"}")
            )
            .into_bytes(),
            2 => format!("{}.{}.", b64(b"{\"alg\":\"none\"}"), b64(&Self::text(rng))).into_bytes(),
            _ => b"a.b.c.d.e".to_vec(),
        }
    }

    /// Duplicates, drops or empties some of the pairs; makes one of them hostile.
    pub fn spoil_pairs(rng: &mut Rng, pairs: &mut Vec<(&str, Vec<u8>)>) {
        let i = rng.below(pairs.len());
        match rng.below(4) {
            0 => {
                let copy = (pairs[i].0, Self::text(rng));
                pairs.push(copy);
            }
            1 => {
                pairs.remove(i);
            }
            _ => pairs[i].1 = Self::text(rng),
        }
    }

    /// An `Authorization` value with hostile content (headers cannot hold NUL or line breaks:
    /// what they can hold is bytes above 0x7f and length).
    pub fn header_value(rng: &mut Rng) -> Option<HeaderValue> {
        let v: Vec<u8> = match rng.below(5) {
            0 => b"Bearer \xff\xfe".to_vec(),
            1 => format!("Bearer {}", "a".repeat(20_000)).into_bytes(),
            2 => b"Basic AGEAYg==".to_vec(),
            3 => b"Bearer".to_vec(),
            _ => [&b"Bearer "[..], &Self::text(rng)].concat(),
        };
        HeaderValue::from_bytes(&v).ok()
    }

    /// Overlong, repeated or odd headers.
    pub fn spoil_headers(rng: &mut Rng, headers: &mut HeaderMap) {
        match rng.below(4) {
            0 => {
                let big = HeaderValue::from_str(&"a".repeat(128 * 1024)).unwrap();
                headers.insert("x-big", big);
            }
            1 => {
                for i in 0..150 {
                    let name = HeaderName::from_bytes(format!("x-h{i}").as_bytes()).unwrap();
                    headers.insert(name, HeaderValue::from_static("v"));
                }
            }
            2 => {
                headers.insert(
                    "user-agent",
                    HeaderValue::from_bytes(b"agent \xff\x80").unwrap(),
                );
                headers.insert(
                    "accept-language",
                    HeaderValue::from_bytes(b"\xfe;q=1").unwrap(),
                );
            }
            _ => {
                headers.append("authorization", HeaderValue::from_static("Bearer one"));
                headers.append("authorization", HeaderValue::from_static("Bearer two"));
            }
        }
    }
}

/// One row of BIGINT columns from the test database.
pub async fn scalar_row(url: &str, sql: &str) -> Vec<i64> {
    use sqlx::{Connection, Row};
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        let row = sqlx::query(sql).fetch_one(&mut c).await.unwrap();
        let out = (0..row.len()).map(|i| row.get::<i64, _>(i)).collect();
        let _ = c.close().await;
        out
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        let row = sqlx::query(sql).fetch_one(&mut c).await.unwrap();
        let out = (0..row.len()).map(|i| row.get::<i64, _>(i)).collect();
        let _ = c.close().await;
        out
    }
}
