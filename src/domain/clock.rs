//! Time helpers: timestamps are Unix milliseconds in storage and RFC 3339 on the wire, except
//! the created/updated instants of users and groups, which are Unix microseconds: SCIM shows
//! them as `meta.created` / `meta.lastModified` and compares them chronologically at the
//! precision a filter sends (RFC 7644 §3.4.2.2), so they keep at least microsecond precision.

use time::{Date, OffsetDateTime, format_description::well_known::Rfc3339};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Microseconds since the Unix epoch, now: the created/updated instants of users and groups.
pub fn now_us() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000) as i64
}

/// Today's date in UTC: memberships are current on the days between their start and end, inclusive.
pub fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// RFC 3339 text of a millisecond timestamp.
pub fn format_ms(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// RFC 3339 text of a microsecond timestamp, always with six fractional digits, so every
/// user and group instant is written at the same precision (the admin API and SCIM alike).
pub fn format_us(us: i64) -> String {
    let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(us as i128 * 1_000) else {
        return String::new();
    };
    let whole = t.replace_nanosecond(0).unwrap_or(t);
    let Ok(text) = whole.format(&Rfc3339) else {
        return String::new();
    };
    let micros = t.nanosecond() / 1_000;
    match text.strip_suffix('Z') {
        Some(head) => format!("{head}.{micros:06}Z"),
        None => text,
    }
}

/// Parses an RFC 3339 timestamp into Unix milliseconds.
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Parses an RFC 3339 timestamp into Unix nanoseconds (all the digits sent).
pub fn parse_rfc3339_ns(s: &str) -> Option<i128> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp_nanos())
}

const DATE_FORMAT: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// Parses a calendar date `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, DATE_FORMAT).ok()
}

/// Formats a calendar date as `YYYY-MM-DD` (the stored form, which sorts as text).
pub fn format_date(d: Date) -> String {
    d.format(DATE_FORMAT).unwrap_or_default()
}

/// Serde for `Option<Date>` as `YYYY-MM-DD`.
pub mod opt_date {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use time::Date;

    pub fn serialize<S: Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&super::format_date(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => super::parse_date(&s).map(Some).ok_or_else(|| {
                D::Error::custom(format!("`{s}` is not a date of the form YYYY-MM-DD"))
            }),
        }
    }
}

/// Serde for microsecond timestamps (users' and groups' instants) as RFC 3339 text.
pub mod rfc3339_us {
    use serde::Serializer;
    pub fn serialize<S: Serializer>(us: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_us(*us))
    }
}

/// Serde for millisecond timestamps as RFC 3339 text.
pub mod rfc3339_ms {
    use serde::Serializer;
    pub fn serialize<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_ms(*ms))
    }
    pub mod option {
        use serde::Serializer;
        pub fn serialize<S: Serializer>(ms: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
            match ms {
                Some(ms) => s.serialize_str(&crate::domain::clock::format_ms(*ms)),
                None => s.serialize_none(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microsecond_text_has_six_digits_and_round_trips() {
        for us in [
            0,
            1,
            999_999,
            1_700_000_000_123_456,
            1_700_000_000_000_000,
            -1,
        ] {
            let text = format_us(us);
            let frac = text.split('.').nth(1).unwrap();
            assert_eq!(frac.len(), 7, "{text}");
            assert_eq!(parse_rfc3339_ns(&text), Some(us as i128 * 1_000), "{text}");
        }
    }
}
