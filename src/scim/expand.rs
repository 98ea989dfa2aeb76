//! Filter nodes that name no stored field, rewritten into ones that do: `schemas` (which lists
//! the core schema always and an extension when the resource has a value of it) and `pr` on a
//! complex attribute (present when any sub-attribute has a value, RFC 7644 §3.4.2.2 Table 3).

use super::error::ScimResult;
use super::filter::{AttrPath, Filter};
use super::query::{always, any_of, schemas_filter};
use super::schema::{ENTERPRISE, GROUP, TENANT, USER};
use crate::domain::AttributeDef;

const NAME_SUBS: [&str; 5] = [
    "givenName",
    "familyName",
    "middleName",
    "honorificPrefix",
    "honorificSuffix",
];
const ADDRESS_SUBS: [&str; 7] = [
    "type",
    "formatted",
    "streetAddress",
    "locality",
    "region",
    "postalCode",
    "country",
];
const ENTERPRISE_ATTRS: [&str; 6] = [
    "employeeNumber",
    "costCenter",
    "organization",
    "division",
    "department",
    "manager",
];

fn path(uri: Option<&str>, name: &str, sub: Option<&str>) -> AttrPath {
    AttrPath {
        uri: uri.map(str::to_owned),
        name: name.to_owned(),
        sub: sub.map(str::to_owned),
    }
}

/// A core attribute named without a sub-attribute: `name`, or `urn:...:core:2.0:User:name`.
fn is_core(p: &AttrPath, core: &str, name: &str) -> bool {
    p.sub.is_none()
        && p.name.eq_ignore_ascii_case(name)
        && p.uri
            .as_deref()
            .is_none_or(|u| u.eq_ignore_ascii_case(core))
}

/// The rewrite of a user filter node, if it needs one.
pub fn user(f: &Filter, defs: &[AttributeDef]) -> ScimResult<Option<Filter>> {
    let present = |urn: &str| {
        if urn == ENTERPRISE {
            any_of(
                ENTERPRISE_ATTRS
                    .iter()
                    .map(|a| Filter::Present(path(Some(ENTERPRISE), a, None))),
            )
        } else if urn == TENANT {
            any_of(
                defs.iter()
                    .map(|d| Filter::Present(path(Some(TENANT), &d.key, None))),
            )
        } else {
            always()
        }
    };
    Ok(match f {
        Filter::Present(p) if is_core(p, USER, "schemas") => Some(always()),
        Filter::Compare { path: p, op, value } if is_core(p, USER, "schemas") => Some(
            schemas_filter(*op, value, &[USER, ENTERPRISE, TENANT], present)?,
        ),
        Filter::Present(p) if is_core(p, USER, "name") => Some(any_of(
            NAME_SUBS
                .iter()
                .map(|s| Filter::Present(path(None, "name", Some(s)))),
        )),
        Filter::Present(p) if is_core(p, USER, "addresses") => Some(Filter::ValuePath {
            path: path(None, "addresses", None),
            filter: Box::new(any_of(
                ADDRESS_SUBS
                    .iter()
                    .map(|s| Filter::Present(path(None, s, None))),
            )),
        }),
        _ => None,
    })
}

/// The rewrite of a group filter node, if it needs one.
pub fn group(f: &Filter) -> ScimResult<Option<Filter>> {
    Ok(match f {
        Filter::Present(p) if is_core(p, GROUP, "schemas") => Some(always()),
        Filter::Compare { path: p, op, value } if is_core(p, GROUP, "schemas") => {
            Some(schemas_filter(*op, value, &[GROUP], |_| always())?)
        }
        _ => None,
    })
}

/// Whether a filter's text may name `schemas` (the user rewrite then needs the tenant's
/// attribute definitions, for the tenant extension).
pub fn mentions_schemas(filter: Option<&str>) -> bool {
    filter.is_some_and(|f| f.to_ascii_lowercase().contains("schemas"))
}
