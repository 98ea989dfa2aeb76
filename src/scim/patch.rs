//! PATCH (RFC 7644 §3.5.2) applied to a resource's JSON. Every operation applies to one copy
//! of the resource; the result is then validated as a whole and written in one transaction, so
//! a PATCH takes effect entirely or not at all.
//!
//! What real directories send is accepted: operation names in any case (`Replace`), booleans as
//! strings, `remove` of `members` with a value list (removes those members only), `replace`
//! with a value object and no path (keys may be paths, extension URNs or `urn:...:attr`), and
//! `add`/`replace` on a value-filtered path that matches nothing (the value is created).

use super::error::{ScimError, ScimResult};
use super::filter::{self, CompValue, CompareOp, Filter, PatchPath};
use super::json::{get_ci, key_ci, object_entry, parse_bool};
use super::schema::{Attr, Mutability, Schema};
use serde_json::{Map, Value};

/// Core attributes of RFC 7643 that Castellan does not keep: directories send them with every
/// change, and they are ignored (they are not in `/Schemas`, so nobody expects them back).
const IGNORED: [&str; 9] = [
    "phoneNumbers",
    "addresses",
    "ims",
    "photos",
    "entitlements",
    "roles",
    "x509Certificates",
    "profileUrl",
    "name.formatted",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Add,
    Replace,
    Remove,
}

/// One operation of a PatchOp request.
#[derive(Clone, Debug)]
pub struct Operation {
    pub kind: Kind,
    pub path: Option<String>,
    pub value: Option<Value>,
}

/// The operations of a PatchOp body.
pub fn parse_request(body: &Value) -> ScimResult<Vec<Operation>> {
    let o = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("a PATCH body is a PatchOp JSON object"))?;
    let ops = match get_ci(o, "Operations") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        _ => {
            return Err(ScimError::invalid_syntax(
                "a PatchOp needs a non-empty `Operations` array",
            ));
        }
    };
    ops.iter()
        .map(|op| {
            let m = op
                .as_object()
                .ok_or_else(|| ScimError::invalid_syntax("each operation is an object"))?;
            let kind = match get_ci(m, "op")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
            {
                Some(k) if k == "add" => Kind::Add,
                Some(k) if k == "replace" => Kind::Replace,
                Some(k) if k == "remove" => Kind::Remove,
                _ => {
                    return Err(ScimError::invalid_syntax("`op` is add, replace or remove"));
                }
            };
            let path = match get_ci(m, "path") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if s.trim().is_empty() => None,
                Some(Value::String(s)) => Some(s.trim().to_owned()),
                Some(_) => return Err(ScimError::invalid_path("`path` must be a string")),
            };
            let value = get_ci(m, "value").cloned();
            if kind != Kind::Remove && value.is_none() {
                return Err(ScimError::invalid_value("add and replace need a `value`"));
            }
            Ok(Operation { kind, path, value })
        })
        .collect()
}

/// The schemas of a resource type: its core schema and its extensions.
pub struct Schemas<'a> {
    pub core: &'a Schema,
    pub extensions: Vec<&'a Schema>,
}

impl Schemas<'_> {
    fn extension(&self, urn: &str) -> Option<&Schema> {
        self.extensions
            .iter()
            .copied()
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }
}

/// Applies the operations in order to `resource`.
pub fn apply(
    resource: &mut Map<String, Value>,
    ops: &[Operation],
    s: &Schemas<'_>,
) -> ScimResult<()> {
    for op in ops {
        match &op.path {
            Some(p) => apply_path(resource, op.kind, p, op.value.as_ref(), s)?,
            None => apply_without_path(resource, op, s)?,
        }
    }
    Ok(())
}

fn apply_without_path(
    resource: &mut Map<String, Value>,
    op: &Operation,
    s: &Schemas<'_>,
) -> ScimResult<()> {
    if op.kind == Kind::Remove {
        return Err(ScimError::bad("noTarget", "remove needs a `path`"));
    }
    let Some(Value::Object(value)) = &op.value else {
        return Err(ScimError::invalid_value(
            "without a `path`, the value is an object of attributes",
        ));
    };
    for (k, v) in value {
        if ["schemas", "meta", "id"]
            .iter()
            .any(|x| k.eq_ignore_ascii_case(x))
        {
            continue;
        }
        if let Some(ext) = s.extension(k) {
            let Value::Object(inner) = v else {
                return Err(ScimError::invalid_value(format!("{k} must be an object")));
            };
            for (k2, v2) in inner {
                if !k2.eq_ignore_ascii_case("schemas") {
                    apply_path(resource, op.kind, &format!("{}:{k2}", ext.id), Some(v2), s)?;
                }
            }
            continue;
        }
        apply_path(resource, op.kind, k, Some(v), s)?;
    }
    Ok(())
}

/// Where a path points: the container (top level or an extension object), the attribute.
struct Target {
    container: Option<String>,
    attr: Attr,
    path: PatchPath,
}

fn resolve(raw: &str, s: &Schemas<'_>) -> ScimResult<Option<Target>> {
    // A whole extension (`urn:...:enterprise:2.0:User`) is taken as each of its attributes.
    let path = filter::parse_patch_path(raw)
        .map_err(|e| ScimError::invalid_path(format!("`{raw}`: {e}")))?;
    let (schema, container) = match &path.attr.uri {
        None => (s.core, None),
        Some(u) if u.eq_ignore_ascii_case(&s.core.id) => (s.core, None),
        Some(u) => match s.extension(u) {
            Some(ext) => (ext, Some(ext.id.clone())),
            None => return Err(ScimError::invalid_path(format!("unknown schema `{u}`"))),
        },
    };
    let common = (container.is_none() && path.attr.name.eq_ignore_ascii_case("externalId"))
        .then(super::schema::external_id);
    let Some(attr) = common.as_ref().or_else(|| schema.attr(&path.attr.name)) else {
        let dotted = match &path.attr.sub {
            Some(sub) => format!("{}.{sub}", path.attr.name),
            None => path.attr.name.clone(),
        };
        if container.is_none()
            && IGNORED
                .iter()
                .any(|i| i.eq_ignore_ascii_case(&path.attr.name) || i.eq_ignore_ascii_case(&dotted))
        {
            return Ok(None);
        }
        return Err(ScimError::invalid_path(format!(
            "`{raw}` names no attribute Castellan keeps"
        )));
    };
    if let Some(sub) = path.attr.sub.as_deref().or(path.value_sub.as_deref())
        && attr.child(sub).is_none()
    {
        if container.is_none()
            && IGNORED
                .iter()
                .any(|i| i.eq_ignore_ascii_case(&format!("{}.{sub}", attr.name)))
        {
            return Ok(None);
        }
        return Err(ScimError::invalid_path(format!(
            "`{raw}`: `{sub}` is not a sub-attribute of {}",
            attr.name
        )));
    }
    if path.filter.is_some() && !attr.multi {
        return Err(ScimError::invalid_path(format!(
            "`{}` is not multi-valued",
            attr.name
        )));
    }
    if attr.mutability == Mutability::ReadOnly {
        return Err(ScimError::mutability(format!(
            "`{}` is read-only",
            attr.name
        )));
    }
    Ok(Some(Target {
        container,
        attr: attr.clone(),
        path,
    }))
}

fn apply_path(
    resource: &mut Map<String, Value>,
    kind: Kind,
    raw: &str,
    value: Option<&Value>,
    s: &Schemas<'_>,
) -> ScimResult<()> {
    if ["id", "meta", "schemas"]
        .iter()
        .any(|x| raw.eq_ignore_ascii_case(x))
    {
        return Err(ScimError::mutability(format!("`{raw}` cannot be changed")));
    }
    if let Some(ext) = s.extension(raw) {
        // The whole extension: each attribute given, or all of them for remove.
        let key = key_ci(resource, &ext.id);
        return match (kind, value) {
            (Kind::Remove, _) | (_, Some(Value::Null)) => {
                if let Some(k) = key {
                    resource.remove(&k);
                }
                Ok(())
            }
            (_, Some(Value::Object(inner))) => {
                if kind == Kind::Replace
                    && let Some(k) = key
                {
                    resource.remove(&k);
                }
                for (k2, v2) in inner {
                    if !k2.eq_ignore_ascii_case("schemas") {
                        apply_path(resource, kind, &format!("{}:{k2}", ext.id), Some(v2), s)?;
                    }
                }
                Ok(())
            }
            _ => Err(ScimError::invalid_value(format!(
                "{} takes an object",
                ext.id
            ))),
        };
    }
    let Some(t) = resolve(raw, s)? else {
        return Ok(());
    };
    let container = match &t.container {
        None => resource,
        Some(urn) => {
            let key = key_ci(resource, urn).unwrap_or_else(|| urn.clone());
            object_entry(resource, key)
        }
    };
    let key = key_ci(container, &t.attr.name).unwrap_or_else(|| t.attr.name.clone());
    let sub = t.path.attr.sub.clone();
    match (&t.path.filter, t.attr.multi) {
        (Some(f), _) => filtered(
            container,
            &key,
            &t.attr,
            f,
            t.path.value_sub.as_deref(),
            kind,
            value,
        ),
        (None, true) => multi(container, &key, &t.attr, sub.as_deref(), kind, value),
        (None, false) => single(container, &key, &t.attr, sub.as_deref(), kind, value),
    }
}

/// A single-valued attribute, simple or complex (`name`, `manager`).
fn single(
    c: &mut Map<String, Value>,
    key: &str,
    attr: &Attr,
    sub: Option<&str>,
    kind: Kind,
    value: Option<&Value>,
) -> ScimResult<()> {
    let value = value.cloned().unwrap_or(Value::Null);
    if let Some(sub) = sub {
        let m = object_entry(c, key.to_owned());
        let sk = key_ci(m, sub).unwrap_or_else(|| sub.to_owned());
        if kind == Kind::Remove || value.is_null() {
            m.remove(&sk);
        } else {
            m.insert(sk, value);
        }
        return Ok(());
    }
    if kind == Kind::Remove || value.is_null() {
        c.remove(key);
        return Ok(());
    }
    if attr.sub.is_empty() {
        c.insert(key.to_owned(), value);
        return Ok(());
    }
    // A complex attribute: the given sub-attributes replace theirs, the others stay.
    let value = match value {
        // Entra sends the manager as the bare id.
        Value::String(s) => {
            let mut m = Map::new();
            m.insert("value".into(), Value::String(s));
            Value::Object(m)
        }
        v => v,
    };
    let Value::Object(given) = value else {
        return Err(ScimError::invalid_value(format!(
            "`{}` takes an object",
            attr.name
        )));
    };
    let m = object_entry(c, key.to_owned());
    for (k, v) in given {
        let k = key_ci(m, &k).unwrap_or(k);
        m.insert(k, v);
    }
    Ok(())
}

fn as_list(value: Option<&Value>) -> Vec<Value> {
    match value {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a.clone(),
        Some(v) => vec![v.clone()],
    }
}

/// Whether two values of a multi-valued attribute are the same value (`value` compared).
fn same_value(a: &Value, b: &Value, attr: &Attr) -> bool {
    let v = |x: &Value| x.as_object().and_then(|m| get_ci(m, "value")).cloned();
    match (v(a), v(b)) {
        (Some(Value::String(x)), Some(Value::String(y))) => {
            if attr.child("value").is_some_and(|c| c.case_exact) {
                x == y
            } else {
                x.eq_ignore_ascii_case(&y)
            }
        }
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

fn is_primary(v: &Value) -> bool {
    v.as_object()
        .and_then(|m| get_ci(m, "primary"))
        .and_then(parse_bool)
        .unwrap_or(false)
}

fn clear_primary(items: &mut [Value]) {
    for i in items.iter_mut().filter_map(Value::as_object_mut) {
        if let Some(k) = key_ci(i, "primary") {
            i.insert(k, Value::Bool(false));
        }
    }
}

/// A multi-valued attribute without a value filter.
fn multi(
    c: &mut Map<String, Value>,
    key: &str,
    attr: &Attr,
    sub: Option<&str>,
    kind: Kind,
    value: Option<&Value>,
) -> ScimResult<()> {
    let mut items = match c.remove(key) {
        Some(Value::Array(a)) => a,
        _ => vec![],
    };
    if let Some(sub) = sub {
        // `emails.type`: every value's sub-attribute.
        for i in items.iter_mut().filter_map(Value::as_object_mut) {
            let sk = key_ci(i, sub).unwrap_or_else(|| sub.to_owned());
            match (kind, value) {
                (Kind::Remove, _) | (_, None | Some(Value::Null)) => {
                    i.remove(&sk);
                }
                (_, Some(v)) => {
                    i.insert(sk, v.clone());
                }
            }
        }
    } else {
        match kind {
            Kind::Add => {
                for v in as_list(value) {
                    if is_primary(&v) {
                        clear_primary(&mut items);
                    }
                    match items.iter_mut().find(|i| same_value(i, &v, attr)) {
                        Some(existing) => *existing = v,
                        None => items.push(v),
                    }
                }
            }
            Kind::Replace => items = as_list(value),
            Kind::Remove => {
                let listed = as_list(value);
                if listed.is_empty() {
                    items.clear();
                } else {
                    // Entra and Okta remove some members this way: only those go.
                    items.retain(|i| !listed.iter().any(|l| same_value(i, l, attr)));
                }
            }
        }
    }
    if !items.is_empty() {
        c.insert(key.to_owned(), Value::Array(items));
    }
    Ok(())
}

/// `emails[type eq "work"]`, `members[value eq "x"]`, optionally followed by `.sub`.
fn filtered(
    c: &mut Map<String, Value>,
    key: &str,
    attr: &Attr,
    f: &Filter,
    value_sub: Option<&str>,
    kind: Kind,
    value: Option<&Value>,
) -> ScimResult<()> {
    let mut items = match c.remove(key) {
        Some(Value::Array(a)) => a,
        _ => vec![],
    };
    let matches: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, i)| i.as_object().is_some_and(|m| eval(f, m, attr)))
        .map(|(n, _)| n)
        .collect();
    match kind {
        Kind::Remove => {
            if let Some(sub) = value_sub {
                for n in &matches {
                    if let Some(m) = items[*n].as_object_mut()
                        && let Some(sk) = key_ci(m, sub)
                    {
                        m.remove(&sk);
                    }
                }
            } else {
                let mut n = 0;
                items.retain(|_| {
                    n += 1;
                    !matches.contains(&(n - 1))
                });
            }
        }
        Kind::Add | Kind::Replace => {
            let value = value.cloned().unwrap_or(Value::Null);
            let targets = if matches.is_empty() {
                // Nothing matches: create the value the filter describes.
                items.push(Value::Object(equalities(f)));
                vec![items.len() - 1]
            } else {
                matches
            };
            if value_sub.is_none() && is_primary(&value) {
                clear_primary(&mut items);
            }
            if value_sub.is_some_and(|s| s.eq_ignore_ascii_case("primary"))
                && parse_bool(&value) == Some(true)
            {
                clear_primary(&mut items);
            }
            for n in targets {
                // Only objects match the filter, and the value made for it is one.
                let Some(m) = items[n].as_object_mut() else {
                    continue;
                };
                match (value_sub, &value) {
                    (Some(sub), v) => {
                        let sk = key_ci(m, sub).unwrap_or_else(|| sub.to_owned());
                        m.insert(sk, v.clone());
                    }
                    (None, Value::Object(given)) => {
                        for (k, v) in given {
                            let k = key_ci(m, k).unwrap_or_else(|| k.clone());
                            m.insert(k, v.clone());
                        }
                    }
                    (None, _) => {
                        return Err(ScimError::invalid_value(format!(
                            "a value of `{}` is an object",
                            attr.name
                        )));
                    }
                }
            }
        }
    }
    if !items.is_empty() {
        c.insert(key.to_owned(), Value::Array(items));
    }
    Ok(())
}

/// The `attr eq "value"` parts of a filter joined by `and`: what a new value must hold.
fn equalities(f: &Filter) -> Map<String, Value> {
    let mut out = Map::new();
    fn walk(f: &Filter, out: &mut Map<String, Value>) {
        match f {
            Filter::And(a, b) => {
                walk(a, out);
                walk(b, out);
            }
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value,
            } => {
                let v = match value {
                    CompValue::String(s) => Value::String(s.clone()),
                    CompValue::Bool(b) => Value::Bool(*b),
                    CompValue::Number(n) => Value::Number(n.clone()),
                    CompValue::Null => return,
                };
                out.insert(path.name.clone(), v);
            }
            _ => {}
        }
    }
    walk(f, &mut out);
    out
}

/// Evaluates a value filter on one value of a multi-valued attribute (one resource's data,
/// never a search: searches run in the database).
fn eval(f: &Filter, m: &Map<String, Value>, attr: &Attr) -> bool {
    match f {
        Filter::And(a, b) => eval(a, m, attr) && eval(b, m, attr),
        Filter::Or(a, b) => eval(a, m, attr) || eval(b, m, attr),
        Filter::Not(a) => !eval(a, m, attr),
        Filter::ValuePath { .. } => false,
        Filter::Present(p) => get_ci(m, &p.name).is_some_and(|v| !v.is_null() && v != ""),
        Filter::Compare { path, op, value } => {
            let exact = attr.child(&path.name).is_some_and(|a| a.case_exact);
            let have = get_ci(m, &path.name);
            compare(have, *op, value, exact)
        }
    }
}

fn compare(have: Option<&Value>, op: CompareOp, want: &CompValue, exact: bool) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (have, want) {
        (None | Some(Value::Null), CompValue::Null) => Some(Ordering::Equal),
        (None | Some(Value::Null), _) => None,
        (Some(_), CompValue::Null) => None,
        (Some(h), CompValue::Bool(b)) => parse_bool(h).map(|x| x.cmp(b)),
        (Some(Value::Number(h)), CompValue::Number(n)) => h
            .as_f64()
            .zip(n.as_f64())
            .and_then(|(a, b)| a.partial_cmp(&b)),
        (Some(Value::String(h)), CompValue::String(s)) => {
            let (h, s) = if exact {
                (h.clone(), s.clone())
            } else {
                (h.to_lowercase(), s.to_lowercase())
            };
            return match op {
                CompareOp::Co => h.contains(&s),
                CompareOp::Sw => h.starts_with(&s),
                CompareOp::Ew => h.ends_with(&s),
                _ => ordered(Some(h.cmp(&s)), op),
            };
        }
        _ => None,
    };
    match op {
        CompareOp::Ne => ord != Some(std::cmp::Ordering::Equal),
        _ => ordered(ord, op),
    }
}

fn ordered(ord: Option<std::cmp::Ordering>, op: CompareOp) -> bool {
    use std::cmp::Ordering::*;
    match (ord, op) {
        (None, CompareOp::Ne) => true,
        (None, _) => false,
        (Some(o), CompareOp::Eq) => o == Equal,
        (Some(o), CompareOp::Ne) => o != Equal,
        (Some(o), CompareOp::Gt) => o == Greater,
        (Some(o), CompareOp::Ge) => o != Less,
        (Some(o), CompareOp::Lt) => o == Less,
        (Some(o), CompareOp::Le) => o != Greater,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema;
    use serde_json::json;

    fn run(resource: Value, ops: Value) -> ScimResult<Value> {
        let core = schema::user();
        let ent = schema::enterprise();
        let s = Schemas {
            core: &core,
            extensions: vec![&ent],
        };
        let ops = parse_request(&json!({ "Operations": ops }))?;
        let mut m = resource.as_object().unwrap().clone();
        apply(&mut m, &ops, &s)?;
        Ok(Value::Object(m))
    }

    #[test]
    fn value_filtered_paths_update_create_and_remove() {
        let r = json!({"userName": "a", "emails": [{"value": "a@x.com", "type": "work", "primary": true}]});
        let out = run(r.clone(), json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "b@x.com"}])).unwrap();
        assert_eq!(out["emails"][0]["value"], "b@x.com");
        let out = run(
            r.clone(),
            json!([{"op": "add", "path": "emails[type eq \"home\"].value", "value": "h@x.com"}]),
        )
        .unwrap();
        assert_eq!(
            out["emails"][1],
            json!({"type": "home", "value": "h@x.com"})
        );
        let out = run(
            r,
            json!([{"op": "remove", "path": "emails[type eq \"work\"]"}]),
        )
        .unwrap();
        assert!(out.get("emails").is_none());
    }

    #[test]
    fn no_path_replace_takes_paths_and_extension_keys() {
        let out = run(
            json!({"userName": "a", "name": {"givenName": "A", "familyName": "F"}}),
            json!([{"op": "replace", "value": {
                "name.givenName": "B",
                "active": "False",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "R&D",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "7"}
            }}]),
        )
        .unwrap();
        assert_eq!(out["name"], json!({"givenName": "B", "familyName": "F"}));
        assert_eq!(out["active"], "False");
        assert_eq!(
            out[schema::ENTERPRISE],
            json!({"department": "R&D", "employeeNumber": "7"})
        );
    }

    #[test]
    fn errors_are_scim_errors() {
        let r = json!({"userName": "a"});
        assert_eq!(
            run(r.clone(), json!([{"op": "explode", "path": "userName"}]))
                .unwrap_err()
                .scim_type,
            Some("invalidSyntax")
        );
        assert_eq!(
            run(
                r.clone(),
                json!([{"op": "add", "path": "nope", "value": 1}])
            )
            .unwrap_err()
            .scim_type,
            Some("invalidPath")
        );
        assert_eq!(
            run(
                r.clone(),
                json!([{"op": "add", "path": "groups", "value": []}])
            )
            .unwrap_err()
            .scim_type,
            Some("mutability")
        );
        assert_eq!(
            run(r.clone(), json!([{"op": "remove"}]))
                .unwrap_err()
                .scim_type,
            Some("noTarget")
        );
        assert_eq!(
            run(
                r,
                json!([{"op": "add", "path": "emails[type eq", "value": 1}])
            )
            .unwrap_err()
            .scim_type,
            Some("invalidPath")
        );
    }
}
