//! A reference evaluator of SCIM filters, sorting and paging (RFC 7644 §3.4.2) over users and
//! groups as their JSON representations show them, written from the RFCs and independently of the SQL
//! compiler: the differential test compares the server's answers with it.

use castellan::domain::scim::fold;
use castellan::scim::filter::{AttrPath, CompValue, CompareOp, Filter};
use serde_json::Value;
use std::cmp::Ordering;

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// Multi-valued attributes of users and groups (RFC 7643 §4.1.2 and §4.2, plus `schemas`).
const MULTI: [&str; 9] = [
    "members",
    "emails",
    "phoneNumbers",
    "ims",
    "photos",
    "addresses",
    "groups",
    "x509Certificates",
    "schemas",
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// `caseExact: false` strings.
    Text,
    /// `caseExact: true` strings.
    Exact,
    DateTime,
    Boolean,
}

/// The type of an attribute, from RFC 7643 (§3.1 common attributes, §4.1 User, §4.2 Group).
fn kind(p: &AttrPath, within: Option<&str>) -> Kind {
    let name = p.name.to_ascii_lowercase();
    let sub = p.sub.as_deref().map(str::to_ascii_lowercase);
    if let Some(parent) = within {
        let parent = parent.to_ascii_lowercase();
        return match (parent.as_str(), name.as_str()) {
            (_, "primary") => Kind::Boolean,
            ("members" | "groups", "value") => Kind::Exact,
            _ => Kind::Text,
        };
    }
    match (name.as_str(), sub.as_deref()) {
        ("id" | "externalid", None) => Kind::Exact,
        ("meta", Some("created" | "lastmodified")) => Kind::DateTime,
        ("active", None) | (_, Some("primary")) => Kind::Boolean,
        ("groups" | "manager" | "members", None | Some("value")) => Kind::Exact,
        _ => Kind::Text,
    }
}

fn get_ci<'a>(v: &'a Value, k: &str) -> Option<&'a Value> {
    v.as_object()?
        .iter()
        .find(|(kk, _)| kk.eq_ignore_ascii_case(k))
        .map(|(_, v)| v)
}

/// The value of the attribute a path names (before its sub-attribute).
fn attribute<'a>(r: &'a Value, p: &AttrPath) -> Option<&'a Value> {
    let base = match &p.uri {
        Some(u) if !u.eq_ignore_ascii_case(CORE) => get_ci(r, u)?,
        _ => r,
    };
    get_ci(base, &p.name)
}

/// The leaf values a path names: every value of a multi-valued attribute, the `value` of a
/// complex one named without a sub-attribute.
fn values(r: &Value, p: &AttrPath) -> Vec<Value> {
    let Some(v) = attribute(r, p) else {
        return vec![];
    };
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    items
        .into_iter()
        .filter_map(|it| match (&p.sub, it) {
            (Some(s), Value::Object(_)) => get_ci(it, s).cloned(),
            (None, Value::Object(_)) => get_ci(it, "value").cloned(),
            (None, x) => Some(x.clone()),
            _ => None,
        })
        .filter(|v| !v.is_null())
        .collect()
}

fn non_empty(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(non_empty),
        Value::Object(o) => o.values().any(non_empty),
        _ => true,
    }
}

fn is_multi(p: &AttrPath, within: Option<&str>) -> bool {
    within.is_none() && p.uri.is_none() && MULTI.iter().any(|m| m.eq_ignore_ascii_case(&p.name))
}

/// Nanoseconds since the epoch of an RFC 3339 text.
pub fn nanos(s: &str) -> Option<i128> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp_nanos())
}

/// Whether one value satisfies `op lit` (`op` is not `ne`).
fn holds(v: &Value, op: CompareOp, lit: &CompValue, k: Kind) -> bool {
    let ord = match (k, v, lit) {
        (Kind::Boolean, Value::Bool(a), CompValue::Bool(b)) => {
            return op == CompareOp::Eq && a == b;
        }
        (Kind::DateTime, Value::String(a), CompValue::String(b)) => match (nanos(a), nanos(b)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => return false,
        },
        (Kind::Text | Kind::Exact, Value::String(a), CompValue::String(b)) => {
            let (a, b) = if k == Kind::Text {
                (fold(a), fold(b))
            } else {
                (a.clone(), b.clone())
            };
            match op {
                CompareOp::Co => return a.contains(&b),
                CompareOp::Sw => return a.starts_with(&b),
                CompareOp::Ew => return a.ends_with(&b),
                _ => a.cmp(&b),
            }
        }
        _ => return false,
    };
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        _ => false,
    }
}

/// Whether resource (or value of a value filter, `within`) `r` matches `f`.
pub fn matches(r: &Value, f: &Filter, within: Option<&str>) -> bool {
    match f {
        Filter::And(a, b) => matches(r, a, within) && matches(r, b, within),
        Filter::Or(a, b) => matches(r, a, within) || matches(r, b, within),
        Filter::Not(a) => !matches(r, a, within),
        Filter::Present(p) => match &p.sub {
            Some(_) => values(r, p).iter().any(non_empty),
            None => attribute(r, p).is_some_and(non_empty),
        },
        Filter::ValuePath { path, filter } => match attribute(r, path) {
            Some(Value::Array(items)) => {
                items.iter().any(|it| matches(it, filter, Some(&path.name)))
            }
            _ => false,
        },
        Filter::Compare { path, op, value } => {
            let k = kind(path, within);
            let vals = values(r, path);
            if *value == CompValue::Null {
                return match op {
                    CompareOp::Eq => vals.is_empty(),
                    _ => !vals.is_empty(),
                };
            }
            if is_multi(path, within) {
                // Multi-valued: the comparison holds for one of the values (RFC 7644 §3.4.2.2),
                // each value compared as a value filter would (`emails[type ne "work"]`): a
                // value without the sub-attribute is not equal to anything.
                let Some(Value::Array(items)) = attribute(r, path) else {
                    return false;
                };
                return items.iter().any(|it| {
                    let one = match (&path.sub, it) {
                        (Some(sub), Value::Object(_)) => get_ci(it, sub),
                        (None, Value::Object(_)) => get_ci(it, "value"),
                        (None, x) => Some(x),
                        _ => None,
                    };
                    let one: Vec<&Value> = one.filter(|v| !v.is_null()).into_iter().collect();
                    match op {
                        CompareOp::Ne => !one.iter().any(|v| holds(v, CompareOp::Eq, value, k)),
                        op => one.iter().any(|v| holds(v, *op, value, k)),
                    }
                });
            }
            match op {
                CompareOp::Ne => !vals.iter().any(|v| holds(v, CompareOp::Eq, value, k)),
                op => vals.iter().any(|v| holds(v, *op, value, k)),
            }
        }
    }
}

/// A sort key: folded or exact text, or a timestamp.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    Text(String),
    Time(i128),
    Bool(bool),
}

/// The value a resource sorts by: of a multi-valued attribute, the primary value or else the
/// first (RFC 7644 §3.4.2.3).
pub fn sort_key(r: &Value, p: &AttrPath) -> Option<Key> {
    let k = kind(p, None);
    let v = match attribute(r, p)? {
        Value::Array(items) => {
            let it = items
                .iter()
                .find(|i| get_ci(i, "primary") == Some(&Value::Bool(true)))
                .or(items.first())?;
            get_ci(it, p.sub.as_deref().unwrap_or("value"))?.clone()
        }
        Value::Object(_) => get_ci(attribute(r, p)?, p.sub.as_deref().unwrap_or("value"))?.clone(),
        v => v.clone(),
    };
    match (k, v) {
        (Kind::DateTime, Value::String(s)) => nanos(&s).map(Key::Time),
        (Kind::Text, Value::String(s)) => Some(Key::Text(fold(&s))),
        (Kind::Exact, Value::String(s)) => Some(Key::Text(s)),
        (Kind::Boolean, Value::Bool(b)) => Some(Key::Bool(b)),
        _ => None,
    }
}

/// The ids of the page the reference answers, and the total.
pub fn answer(
    population: &[Value],
    filter: Option<&Filter>,
    sort_by: Option<&AttrPath>,
    descending: bool,
    start_index: usize,
    count: usize,
) -> (Vec<String>, usize) {
    let mut hits: Vec<(Option<Key>, String)> = population
        .iter()
        .filter(|r| filter.is_none_or(|f| matches(r, f, None)))
        .map(|r| {
            (
                sort_by.and_then(|p| sort_key(r, p)),
                r["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // Missing values last ascending (first descending); ties by id.
    hits.sort_by(|(ka, ia), (kb, ib)| {
        let o = ka
            .is_none()
            .cmp(&kb.is_none())
            .then_with(|| ka.cmp(kb))
            .then_with(|| ia.cmp(ib));
        if descending { o.reverse() } else { o }
    });
    if sort_by.is_none() {
        hits.sort_by(|a, b| a.1.cmp(&b.1));
    }
    let total = hits.len();
    let page = hits
        .into_iter()
        .skip(start_index.max(1) - 1)
        .take(count)
        .map(|(_, id)| id)
        .collect();
    (page, total)
}
