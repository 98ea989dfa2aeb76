//! The SCIM Group resource: Castellan's groups with their user members.

use super::error::{ScimError, ScimResult};
use super::filter::AttrPath;
use super::json::{get_ci, opt_string};
use super::schema::GROUP;
use crate::domain::UserId;
use crate::domain::clock::format_us;
use crate::domain::scim::{GroupField, ScimGroup, ScimGroupWrite};
use serde_json::{Map, Value, json};

/// The resource as JSON (members left out when `members` is false).
pub fn to_json(g: &ScimGroup, base: &str, members: bool) -> Value {
    let mut o = Map::new();
    o.insert("schemas".into(), json!([GROUP]));
    o.insert("id".into(), json!(g.id));
    if let Some(x) = &g.external_id {
        o.insert("externalId".into(), json!(x));
    }
    o.insert("displayName".into(), json!(g.display_name));
    if members {
        let list: Vec<Value> = g
            .members
            .iter()
            .map(|(id, _)| json!({"value": id, "$ref": format!("{base}/Users/{id}"), "type": "User"}))
            .collect();
        o.insert("members".into(), Value::Array(list));
    }
    o.insert(
        "meta".into(),
        json!({
            "resourceType": "Group",
            "created": format_us(g.created_at),
            "lastModified": format_us(g.updated_at),
            "location": format!("{base}/Groups/{}", g.id),
            "version": super::etag(g.version),
        }),
    );
    Value::Object(o)
}

/// Validates a whole Group resource.
pub fn parse(body: &Value) -> ScimResult<ScimGroupWrite> {
    let o = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the resource must be a JSON object"))?;
    let display_name = opt_string(
        get_ci(o, "displayName"),
        "displayName",
        super::limits::GROUP_NAME,
    )?
    .ok_or_else(|| ScimError::invalid_value("displayName is required"))?;
    let mut members: Vec<UserId> = Vec::new();
    match get_ci(o, "members") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            let mut seen = std::collections::HashSet::with_capacity(items.len());
            for m in items {
                let id = member_id(m)?;
                if seen.insert(id.clone()) {
                    members.push(id);
                }
            }
        }
        Some(_) => return Err(ScimError::invalid_value("members must be an array")),
    }
    Ok(ScimGroupWrite {
        display_name,
        external_id: opt_string(
            get_ci(o, "externalId"),
            "externalId",
            super::limits::EXTERNAL_ID,
        )?,
        members,
    })
}

/// The user id of one member value; groups as members (nesting) are refused.
pub fn member_id(m: &Value) -> ScimResult<UserId> {
    let o = m
        .as_object()
        .ok_or_else(|| ScimError::invalid_value("each member must be an object with a value"))?;
    if let Some(t) = get_ci(o, "type").and_then(Value::as_str)
        && !t.eq_ignore_ascii_case("User")
    {
        return Err(ScimError::invalid_value(
            "only users can be members: groups do not nest in Castellan",
        ));
    }
    match get_ci(o, "value") {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(UserId(s.trim().to_owned())),
        _ => super::json::ref_id(get_ci(o, "$ref"))
            .map(UserId)
            .ok_or_else(|| ScimError::invalid_value("each member needs a value (the user's id)")),
    }
}

/// Resolves a filter or sort path on groups.
pub fn resolve(path: &AttrPath, within: Option<&str>, base: &str) -> ScimResult<GroupField> {
    let unknown = || ScimError::invalid_filter(format!("unknown attribute `{}`", path.name));
    if let Some(uri) = &path.uri
        && !uri.eq_ignore_ascii_case(GROUP)
    {
        return Err(unknown());
    }
    let name = path.name.to_ascii_lowercase();
    let sub = path.sub.as_deref().map(str::to_ascii_lowercase);
    if within.is_some() {
        return match name.as_str() {
            "value" => Ok(GroupField::MemberId),
            "type" => Ok(GroupField::MemberType),
            "$ref" => Ok(GroupField::MemberRef(format!("{base}/Users/"))),
            _ => Err(unknown()),
        };
    }
    Ok(match (name.as_str(), sub.as_deref()) {
        ("id", None) => GroupField::Id,
        ("externalid", None) => GroupField::ExternalId,
        ("displayname", None) => GroupField::DisplayName,
        ("meta", Some("created")) => GroupField::Created,
        ("meta", Some("lastmodified")) => GroupField::LastModified,
        ("members", None | Some("value")) => GroupField::MemberId,
        ("members", Some("type")) => GroupField::MemberType,
        ("members", Some("$ref")) => GroupField::MemberRef(format!("{base}/Users/")),
        _ => return Err(unknown()),
    })
}
