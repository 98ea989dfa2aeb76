//! A PATCH of a group read as a change of its members: the members to add and to remove (or
//! the whole new list), and the operations on its other attributes. A group of 50,000 members
//! then takes one member in without being read, rewritten or sent back whole.
//!
//! The result is the one `patch::apply` gives on the whole resource (the operations apply in
//! order; members are compared by `value`, exactly, as `members.value` is case-exact). Member
//! operations this reading does not cover (a filter other than `value eq`, a sub-attribute
//! such as `members[value eq "x"].display`) make `plan` answer `None`: the PATCH then applies
//! to the whole resource.

use super::error::ScimResult;
use super::filter::{self, CompValue, CompareOp, Filter};
use super::group::member_id;
use super::json::get_ci;
use super::patch::{Kind, Operation};
use super::schema::GROUP;
use crate::domain::UserId;
use serde_json::{Map, Value};
use std::collections::HashSet;

/// What a PATCH of a group does.
#[derive(Debug, Default)]
pub struct Plan {
    /// The operations on attributes other than `members`, in order.
    pub others: Vec<Operation>,
    /// The whole member list, when an operation replaced or cleared it.
    pub replace: Option<HashSet<UserId>>,
    /// Members to add (without `replace`).
    pub add: HashSet<UserId>,
    /// Members to remove (without `replace`); none of them is in `add`.
    pub remove: HashSet<UserId>,
}

impl Plan {
    fn add(&mut self, id: UserId) {
        match &mut self.replace {
            Some(list) => {
                list.insert(id);
            }
            None => {
                self.remove.remove(&id);
                self.add.insert(id);
            }
        }
    }

    fn remove(&mut self, id: UserId) {
        match &mut self.replace {
            Some(list) => {
                list.remove(&id);
            }
            None => {
                self.add.remove(&id);
                self.remove.insert(id);
            }
        }
    }

    fn replace_all(&mut self, list: Vec<UserId>) {
        self.replace = Some(list.into_iter().collect());
        self.add.clear();
        self.remove.clear();
    }

    /// Whether the plan changes members at all.
    pub fn touches_members(&self) -> bool {
        self.replace.is_some() || !self.add.is_empty() || !self.remove.is_empty()
    }
}

/// Whether a PATCH path names `members` itself (`members`, `...:core:2.0:Group:members`).
fn names_members(p: &filter::AttrPath) -> bool {
    p.name.eq_ignore_ascii_case("members")
        && p.uri
            .as_deref()
            .is_none_or(|u| u.eq_ignore_ascii_case(GROUP))
}

fn as_list(value: Option<&Value>) -> Vec<&Value> {
    match value {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v) => vec![v],
    }
}

/// The ids a `members[value eq "a" or value eq "b"]` filter selects; `None` for any other filter.
fn selected_ids(f: &Filter, out: &mut Vec<UserId>) -> Option<()> {
    match f {
        Filter::Or(a, b) => {
            selected_ids(a, out)?;
            selected_ids(b, out)
        }
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(s),
        } if path.uri.is_none()
            && path.sub.is_none()
            && path.name.eq_ignore_ascii_case("value") =>
        {
            out.push(UserId(s.clone()));
            Some(())
        }
        _ => None,
    }
}

/// The `value` of each listed member, as `remove` with a value list compares them (a listed
/// item without a string `value` matches no member).
fn listed_values(value: Option<&Value>) -> Vec<UserId> {
    as_list(value)
        .into_iter()
        .filter_map(|v| v.as_object().and_then(|m| get_ci(m, "value")))
        .filter_map(Value::as_str)
        .map(|s| UserId(s.to_owned()))
        .collect()
}

fn member_ids(value: Option<&Value>) -> ScimResult<Vec<UserId>> {
    as_list(value).into_iter().map(member_id).collect()
}

/// One operation on `members` (no filter): add, replace or remove the listed members.
fn on_members(plan: &mut Plan, kind: Kind, value: Option<&Value>) -> ScimResult<()> {
    match kind {
        Kind::Add => member_ids(value)?.into_iter().for_each(|m| plan.add(m)),
        Kind::Replace => plan.replace_all(member_ids(value)?),
        Kind::Remove => {
            if as_list(value).is_empty() {
                plan.replace_all(vec![]);
            } else {
                listed_values(value)
                    .into_iter()
                    .for_each(|m| plan.remove(m));
            }
        }
    }
    Ok(())
}

/// Reads the operations of a group PATCH as a plan; `None` when one of them changes members
/// in a way only the whole resource can show.
pub fn plan(ops: &[Operation]) -> ScimResult<Option<Plan>> {
    let mut plan = Plan::default();
    for op in ops {
        match (&op.path, &op.value) {
            (Some(raw), _) => {
                // A path that does not parse is refused by `patch::apply`, as before.
                let Ok(p) = filter::parse_patch_path(raw) else {
                    plan.others.push(op.clone());
                    continue;
                };
                if !names_members(&p.attr) {
                    plan.others.push(op.clone());
                    continue;
                }
                if p.attr.sub.is_some() || p.value_sub.is_some() {
                    return Ok(None);
                }
                match (&p.filter, op.kind) {
                    (None, kind) => on_members(&mut plan, kind, op.value.as_ref())?,
                    (Some(f), Kind::Remove) => {
                        let mut ids = Vec::new();
                        if selected_ids(f, &mut ids).is_none() {
                            return Ok(None);
                        }
                        ids.into_iter().for_each(|m| plan.remove(m));
                    }
                    (Some(_), _) => return Ok(None),
                }
            }
            (None, Some(Value::Object(value))) if op.kind != Kind::Remove => {
                // `{"op": "replace", "value": {"displayName": ..., "members": [...]}}`.
                let mut rest = Map::new();
                for (k, v) in value {
                    match filter::parse_attr_path(k) {
                        Ok(p) if names_members(&p) => {
                            if p.sub.is_some() {
                                return Ok(None);
                            }
                            on_members(&mut plan, op.kind, Some(v))?
                        }
                        _ => {
                            rest.insert(k.clone(), v.clone());
                        }
                    }
                }
                if !rest.is_empty() {
                    plan.others.push(Operation {
                        kind: op.kind,
                        path: None,
                        value: Some(Value::Object(rest)),
                    });
                }
            }
            _ => plan.others.push(op.clone()),
        }
    }
    Ok(Some(plan))
}
