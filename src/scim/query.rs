//! List requests (RFC 7644 §3.4.2): filter resolved to fields, sorting, paging, and the
//! `attributes` / `excludedAttributes` projection of returned resources.

use super::error::{ScimError, ScimResult};
use super::filter::{self, AttrPath, CompValue, CompareOp, Filter};
use crate::domain::clock::parse_rfc3339_ns;
use crate::domain::scim::{Cond, FieldKind, ListQuery, Multi, Op, Value as V};
use serde_json::{Map, Value};

/// The most resources one page returns (advertised as `filter.maxResults`).
pub const MAX_RESULTS: i64 = 1000;

/// The parameters of a list or `.search` request, as received.
#[derive(Debug, Default, Clone)]
pub struct ListParams {
    pub filter: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    pub start_index: Option<String>,
    pub count: Option<String>,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
}

impl ListParams {
    /// From query parameters (names compared case-insensitively).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut p = Self::default();
        for (k, v) in pairs {
            let slot = match k.to_ascii_lowercase().as_str() {
                "filter" => &mut p.filter,
                "sortby" => &mut p.sort_by,
                "sortorder" => &mut p.sort_order,
                "startindex" => &mut p.start_index,
                "count" => &mut p.count,
                "attributes" => &mut p.attributes,
                "excludedattributes" => &mut p.excluded_attributes,
                _ => continue,
            };
            *slot = Some(v.to_owned());
        }
        p
    }

    /// From a `SearchRequest` body (RFC 7644 §3.4.3).
    pub fn from_search(body: &Value) -> ScimResult<Self> {
        let o = body
            .as_object()
            .ok_or_else(|| ScimError::invalid_syntax("the search request must be a JSON object"))?;
        let text = |k: &str| -> ScimResult<Option<String>> {
            match super::json::get_ci(o, k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(Value::Array(a)) => Ok(Some(
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(","),
                )),
                Some(_) => Err(ScimError::invalid_value(format!("{k} has the wrong type"))),
            }
        };
        Ok(Self {
            filter: text("filter")?,
            sort_by: text("sortBy")?,
            sort_order: text("sortOrder")?,
            start_index: text("startIndex")?,
            count: text("count")?,
            attributes: text("attributes")?,
            excluded_attributes: text("excludedAttributes")?,
        })
    }

    /// Resolves the request for a resource type.
    pub fn resolve<F: Clone>(&self, r: &Resolver<'_, F>) -> ScimResult<ListQuery<F>> {
        let filter = match self.filter.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(f) => Some(to_cond(&filter::parse(f)?, None, r)?),
        };
        let sort_by = match self.sort_by.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => {
                let path = filter::parse_attr_path(s)
                    .map_err(|e| ScimError::invalid_value(format!("sortBy: {e}")))?;
                Some((r.resolve)(&path, None).map_err(|e| ScimError::invalid_value(e.detail))?)
            }
        };
        let descending = match self.sort_order.as_deref().map(str::trim) {
            None | Some("") => false,
            Some(o) if o.eq_ignore_ascii_case("ascending") => false,
            Some(o) if o.eq_ignore_ascii_case("descending") => true,
            Some(o) => {
                return Err(ScimError::invalid_value(format!(
                    "sortOrder is `ascending` or `descending`, not `{o}`"
                )));
            }
        };
        let number = |v: &Option<String>, name: &str| -> ScimResult<Option<i64>> {
            match v.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(s) => s
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .map(|n| Some(n.clamp(i64::MIN as f64, i64::MAX as f64) as i64))
                    .ok_or_else(|| ScimError::invalid_value(format!("{name} must be an integer"))),
            }
        };
        // RFC 7644 §3.4.2.4: startIndex below 1 means 1; a negative count means 0.
        let start_index = number(&self.start_index, "startIndex")?.unwrap_or(1).max(1);
        let count = number(&self.count, "count")?
            .unwrap_or(100)
            .clamp(0, MAX_RESULTS);
        Ok(ListQuery {
            filter,
            sort_by,
            descending,
            start_index,
            count,
        })
    }

    /// The projection asked for.
    pub fn projection(&self) -> ScimResult<Projection> {
        Projection::parse(
            self.attributes.as_deref(),
            self.excluded_attributes.as_deref(),
        )
    }
}

/// What a resource type knows about its attributes, for filters.
pub struct Resolver<'a, F> {
    pub resolve: &'a (dyn Fn(&AttrPath, Option<&str>) -> ScimResult<F> + Sync),
    pub kind: fn(&F) -> FieldKind,
    pub multi: fn(&str) -> Option<Multi>,
    /// Rewrites a top-level filter node the fields cannot express directly (`schemas eq ...`,
    /// `name pr` on a complex attribute) into one they can; `None` leaves it as it is.
    pub expand: &'a (dyn Fn(&Filter) -> ScimResult<Option<Filter>> + Sync),
}

/// The filter that every resource matches (`id pr`).
pub fn always() -> Filter {
    Filter::Present(AttrPath {
        uri: None,
        name: "id".into(),
        sub: None,
    })
}

/// The filter no resource matches.
pub fn never() -> Filter {
    Filter::Not(Box::new(always()))
}

/// `a or b or ...`; `never()` when empty.
pub fn any_of(filters: impl IntoIterator<Item = Filter>) -> Filter {
    filters
        .into_iter()
        .reduce(|a, b| Filter::Or(Box::new(a), Box::new(b)))
        .unwrap_or_else(never)
}

/// `schemas <op> <value>` (RFC 7644 §3.4.2.2 names `schemas` as filterable): true when one of the
/// URNs the resource's `schemas` would list satisfies the comparison (case-insensitively; `ne`
/// too, as for every multi-valued attribute). `present(urn)` is the filter under which a resource lists `urn`.
pub fn schemas_filter(
    op: CompareOp,
    value: &CompValue,
    urns: &[&str],
    present: impl Fn(&str) -> Filter,
) -> ScimResult<Filter> {
    let CompValue::String(v) = value else {
        return Err(ScimError::invalid_filter(
            "`schemas` is compared with a string (a schema URN)",
        ));
    };
    let v = crate::domain::scim::fold(v);
    let holds = |op: CompareOp, urn: &str| {
        let u = crate::domain::scim::fold(urn);
        match op {
            CompareOp::Eq => u == v,
            CompareOp::Ne => u != v,
            CompareOp::Co => u.contains(&v),
            CompareOp::Sw => u.starts_with(&v),
            CompareOp::Ew => u.ends_with(&v),
            CompareOp::Gt => u > v,
            CompareOp::Ge => u >= v,
            CompareOp::Lt => u < v,
            CompareOp::Le => u <= v,
        }
    };
    Ok(any_of(
        urns.iter().filter(|u| holds(op, u)).map(|u| present(u)),
    ))
}

/// Converts a parsed filter into a condition over resolved, typed fields.
pub fn to_cond<F: Clone>(
    f: &Filter,
    within: Option<&str>,
    r: &Resolver<'_, F>,
) -> ScimResult<Cond<F>> {
    if within.is_none()
        && let Some(g) = (r.expand)(f)?
    {
        return to_cond(&g, within, r);
    }
    Ok(match f {
        Filter::And(a, b) => Cond::And(
            Box::new(to_cond(a, within, r)?),
            Box::new(to_cond(b, within, r)?),
        ),
        Filter::Or(a, b) => Cond::Or(
            Box::new(to_cond(a, within, r)?),
            Box::new(to_cond(b, within, r)?),
        ),
        Filter::Not(a) => Cond::Not(Box::new(to_cond(a, within, r)?)),
        Filter::Present(p) => Cond::Present((r.resolve)(p, within)?),
        Filter::ValuePath { path, filter } => {
            let multi = (r.multi)(&path.name)
                .filter(|_| path.sub.is_none())
                .ok_or_else(|| {
                    ScimError::invalid_filter(format!("`{}` is not multi-valued", path.name))
                })?;
            Cond::Within(multi, Box::new(to_cond(filter, Some(&path.name), r)?))
        }
        Filter::Compare { path, op, value } => {
            // A JSON escape can spell a control character the input guard never saw; no stored
            // value holds one (and PostgreSQL refuses NUL in text), so it is a bad filter.
            if let CompValue::String(s) = value
                && s.chars()
                    .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
            {
                return Err(ScimError::invalid_filter(format!(
                    "the value compared with `{}` holds a control character",
                    path.name
                )));
            }
            let field = (r.resolve)(path, within)?;
            let kind = (r.kind)(&field);
            let op = convert_op(*op);
            if let (FieldKind::DateTime, CompValue::String(s)) = (kind, value) {
                return time_cond(field, op, s, path);
            }
            let value = typed_value(kind, op, value, path)?;
            Cond::Compare { field, op, value }
        }
    })
}

/// Nanoseconds in one unit of a stored instant (a microsecond).
const STORED_UNIT_NS: i128 = 1_000;

/// A dateTime comparison, chronological at the precision sent (RFC 7644 §3.4.2.2): stored
/// timestamps are whole microseconds, so a literal with finer digits lies strictly between two
/// of them; `eq` then matches nothing, `gt`/`ge` mean after its microsecond, `lt`/`le` up to it.
fn time_cond<F: Clone>(field: F, op: Op, s: &str, path: &AttrPath) -> ScimResult<Cond<F>> {
    if matches!(op, Op::Co | Op::Sw | Op::Ew) {
        return Err(ScimError::invalid_filter(format!(
            "`{}` is compared with co, sw or ew, which dates do not have",
            path.name
        )));
    }
    let ns = parse_rfc3339_ns(s).ok_or_else(|| {
        ScimError::invalid_filter(format!(
            "`{}` is compared with something that is not an RFC 3339 date-time",
            path.name
        ))
    })?;
    let us = i64::try_from(ns.div_euclid(STORED_UNIT_NS))
        .map_err(|_| ScimError::invalid_filter("the date-time is out of range"))?;
    let cmp = |op, t| Cond::Compare {
        field: field.clone(),
        op,
        value: V::Time(t),
    };
    if ns.rem_euclid(STORED_UNIT_NS) == 0 {
        return Ok(cmp(op, us));
    }
    let between = || Cond::And(Box::new(cmp(Op::Gt, us)), Box::new(cmp(Op::Lt, us + 1)));
    Ok(match op {
        Op::Eq => between(),
        Op::Ne => Cond::Not(Box::new(between())),
        Op::Gt | Op::Ge => cmp(Op::Gt, us),
        _ => cmp(Op::Le, us),
    })
}

fn convert_op(op: CompareOp) -> Op {
    match op {
        CompareOp::Eq => Op::Eq,
        CompareOp::Ne => Op::Ne,
        CompareOp::Co => Op::Co,
        CompareOp::Sw => Op::Sw,
        CompareOp::Ew => Op::Ew,
        CompareOp::Gt => Op::Gt,
        CompareOp::Ge => Op::Ge,
        CompareOp::Lt => Op::Lt,
        CompareOp::Le => Op::Le,
    }
}

fn typed_value(kind: FieldKind, op: Op, v: &CompValue, path: &AttrPath) -> ScimResult<V> {
    let wrong =
        |what: &str| ScimError::invalid_filter(format!("`{}` is compared with {what}", path.name));
    if *v == CompValue::Null {
        return match op {
            Op::Eq | Op::Ne => Ok(V::Null),
            _ => Err(wrong("null, which only eq and ne accept")),
        };
    }
    let substring = matches!(op, Op::Co | Op::Sw | Op::Ew);
    match kind {
        FieldKind::Text { .. } => Ok(V::Text(match v {
            CompValue::String(s) => s.clone(),
            CompValue::Number(n) => n.to_string(),
            CompValue::Bool(b) => b.to_string(),
            CompValue::Null => unreachable!(),
        })),
        FieldKind::Boolean => {
            if op != Op::Eq && op != Op::Ne {
                return Err(wrong("an operator booleans do not have (only eq and ne)"));
            }
            match v {
                CompValue::Bool(b) => Ok(V::Bool(*b)),
                CompValue::String(s) if s.eq_ignore_ascii_case("true") => Ok(V::Bool(true)),
                CompValue::String(s) if s.eq_ignore_ascii_case("false") => Ok(V::Bool(false)),
                _ => Err(wrong("something that is not a boolean")),
            }
        }
        FieldKind::DateTime if substring => Err(wrong("co, sw or ew, which dates do not have")),
        // A date-time string went to `time_cond`; anything else is not a date-time.
        FieldKind::DateTime => Err(wrong("something that is not a date-time")),
        FieldKind::Number if substring => Err(wrong("co, sw or ew, which numbers do not have")),
        FieldKind::Number => match v {
            CompValue::Number(n) => n
                .as_f64()
                .map(V::Number)
                .ok_or_else(|| wrong("a bad number")),
            CompValue::String(s) => s
                .trim()
                .parse()
                .map(V::Number)
                .map_err(|_| wrong("something that is not a number")),
            _ => Err(wrong("something that is not a number")),
        },
    }
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5).
#[derive(Debug, Default, Clone)]
pub struct Projection {
    pub attributes: Vec<AttrPath>,
    pub excluded: Vec<AttrPath>,
}

impl Projection {
    pub fn parse(attributes: Option<&str>, excluded: Option<&str>) -> ScimResult<Self> {
        let list = |s: Option<&str>| -> ScimResult<Vec<AttrPath>> {
            s.unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    filter::parse_attr_path(s)
                        .map_err(|e| ScimError::invalid_value(format!("`{s}`: {e}")))
                })
                .collect()
        };
        Ok(Self {
            attributes: list(attributes)?,
            excluded: list(excluded)?,
        })
    }

    /// Whether `name` (a top-level attribute) is left out, so it need not be loaded.
    pub fn excludes(&self, name: &str) -> bool {
        let top =
            |p: &AttrPath| p.uri.is_none() && p.sub.is_none() && p.name.eq_ignore_ascii_case(name);
        self.excluded.iter().any(top)
            || (!self.attributes.is_empty()
                && !self
                    .attributes
                    .iter()
                    .any(|p| p.uri.is_none() && p.name.eq_ignore_ascii_case(name)))
    }

    /// Applies the projection to a resource; `id` and `schemas` always stay.
    pub fn apply(&self, v: Value) -> Value {
        let Value::Object(mut o) = v else { return v };
        if !self.attributes.is_empty() {
            let mut out = Map::new();
            for keep in ["schemas", "id"] {
                if let Some(x) = o.get(keep) {
                    out.insert(keep.into(), x.clone());
                }
            }
            for p in &self.attributes {
                copy_path(&o, &mut out, p);
            }
            o = out;
        }
        for p in &self.excluded {
            remove_path(&mut o, p);
        }
        Value::Object(o)
    }
}

/// The container key and the attribute name of a path: (`None`, name) for core attributes,
/// (Some(extension URN key), name) for extension attributes, or (Some(urn), "") for a whole
/// extension named by its URN.
fn locate(o: &Map<String, Value>, p: &AttrPath) -> (Option<String>, String) {
    match &p.uri {
        None => (None, p.name.clone()),
        Some(uri) => {
            let whole = format!("{uri}:{}", p.name);
            if let Some(k) = super::json::key_ci(o, &whole) {
                return (Some(k), String::new());
            }
            match super::json::key_ci(o, uri) {
                Some(k) => (Some(k), p.name.clone()),
                // The core schema's URN: the attribute is top-level.
                None if uri.eq_ignore_ascii_case(super::schema::USER)
                    || uri.eq_ignore_ascii_case(super::schema::GROUP) =>
                {
                    (None, p.name.clone())
                }
                None => (Some(uri.clone()), p.name.clone()),
            }
        }
    }
}

fn copy_path(from: &Map<String, Value>, to: &mut Map<String, Value>, p: &AttrPath) {
    let (container, name) = locate(from, p);
    let (src, dst) = match &container {
        None => (Some(from), to),
        Some(c) => {
            let src = from.get(c).and_then(Value::as_object);
            if src.is_none() {
                return;
            }
            if name.is_empty() {
                to.insert(c.clone(), from[c].clone());
                return;
            }
            let dst = super::json::object_entry(to, c.clone());
            (src, dst)
        }
    };
    let Some(src) = src else { return };
    let Some(key) = super::json::key_ci(src, &name) else {
        return;
    };
    match (&p.sub, &src[&key]) {
        (None, v) => {
            dst.insert(key, v.clone());
        }
        (Some(sub), Value::Object(m)) => {
            if let Some(sk) = super::json::key_ci(m, sub) {
                let d = dst.entry(key).or_insert_with(|| Value::Object(Map::new()));
                if let Some(d) = d.as_object_mut() {
                    d.insert(sk.clone(), m[&sk].clone());
                }
            }
        }
        (Some(sub), Value::Array(items)) => {
            let picked: Vec<Value> = items
                .iter()
                .filter_map(|i| {
                    let m = i.as_object()?;
                    let sk = super::json::key_ci(m, sub)?;
                    let mut one = Map::new();
                    one.insert(sk.clone(), m[&sk].clone());
                    Some(Value::Object(one))
                })
                .collect();
            dst.insert(key, Value::Array(picked));
        }
        _ => {}
    }
}

fn remove_path(o: &mut Map<String, Value>, p: &AttrPath) {
    let (container, name) = locate(o, p);
    if name.eq_ignore_ascii_case("id") || name.eq_ignore_ascii_case("schemas") {
        return;
    }
    let target = match &container {
        None => Some(o),
        Some(c) if name.is_empty() => {
            o.remove(c);
            return;
        }
        Some(c) => o.get_mut(c).and_then(Value::as_object_mut),
    };
    let Some(target) = target else { return };
    let Some(key) = super::json::key_ci(target, &name) else {
        return;
    };
    match &p.sub {
        None => {
            target.remove(&key);
        }
        Some(sub) => match target.get_mut(&key) {
            Some(Value::Object(m)) => {
                if let Some(sk) = super::json::key_ci(m, sub) {
                    m.remove(&sk);
                }
            }
            Some(Value::Array(items)) => {
                for i in items.iter_mut().filter_map(Value::as_object_mut) {
                    if let Some(sk) = super::json::key_ci(i, sub) {
                        i.remove(&sk);
                    }
                }
            }
            _ => {}
        },
    }
}
