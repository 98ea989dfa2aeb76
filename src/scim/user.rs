//! The SCIM User resource: Castellan's user as JSON, JSON (from POST, PUT or a patched
//! resource) validated into a write, and filter paths resolved to fields.

use super::error::{ScimError, ScimResult};
use super::filter::AttrPath;
use super::json::{get_ci, opt_lines, opt_string, parse_bool};
use super::limits;
use super::schema::{ENTERPRISE, TENANT, USER};
use crate::domain::attributes::AttributeChanges;
use crate::domain::clock::format_us;
use crate::domain::scim::{
    Address, AddressSub, Email, Plural, PluralSub, PluralValue, ScimUser, ScimUserFields, UserField,
};
use crate::domain::{AttributeDef, UserId, UserStatus};
use serde_json::{Map, Value, json};

/// The resource as JSON, every attribute included (projection comes after).
pub fn to_json(u: &ScimUser, base: &str) -> Value {
    let f = &u.fields;
    let mut o = Map::new();
    let mut schemas = vec![json!(USER)];
    o.insert("id".into(), json!(u.id));
    put(&mut o, "externalId", &f.external_id);
    o.insert("userName".into(), json!(f.user_name));
    let mut name = Map::new();
    put(&mut name, "familyName", &f.family_name);
    put(&mut name, "givenName", &f.given_name);
    put(&mut name, "middleName", &f.middle_name);
    put(&mut name, "honorificPrefix", &f.honorific_prefix);
    put(&mut name, "honorificSuffix", &f.honorific_suffix);
    if !name.is_empty() {
        o.insert("name".into(), Value::Object(name));
    }
    put(&mut o, "displayName", &f.display_name);
    put(&mut o, "nickName", &f.nick_name);
    put(&mut o, "title", &f.title);
    put(&mut o, "userType", &f.user_type);
    put(&mut o, "preferredLanguage", &f.preferred_language);
    put(&mut o, "locale", &f.locale);
    put(&mut o, "timezone", &f.timezone);
    o.insert(
        "active".into(),
        json!(matches!(u.status, UserStatus::Active | UserStatus::Invited)),
    );
    if !f.emails.is_empty() {
        let emails: Vec<Value> = f
            .emails
            .iter()
            .map(|e| {
                let mut m = Map::new();
                m.insert("value".into(), json!(e.value));
                put(&mut m, "type", &e.kind);
                m.insert("primary".into(), json!(e.primary));
                Value::Object(m)
            })
            .collect();
        o.insert("emails".into(), Value::Array(emails));
    }
    for (p, values) in &f.plurals {
        let items = values
            .iter()
            .map(|v| {
                let mut m = Map::new();
                m.insert("value".into(), json!(v.value));
                put(&mut m, "display", &v.display);
                put(&mut m, "type", &v.kind);
                m.insert("primary".into(), json!(v.primary));
                Value::Object(m)
            })
            .collect();
        o.insert(p.name().into(), Value::Array(items));
    }
    if !f.addresses.is_empty() {
        let items = f
            .addresses
            .iter()
            .map(|a| {
                let mut m = Map::new();
                put(&mut m, "type", &a.kind);
                m.insert("primary".into(), json!(a.primary));
                for (k, v) in address_parts(a) {
                    put(&mut m, k, v);
                }
                Value::Object(m)
            })
            .collect();
        o.insert("addresses".into(), Value::Array(items));
    }
    if !u.groups.is_empty() {
        let groups: Vec<Value> = u
            .groups
            .iter()
            .map(|(id, name)| {
                json!({"value": id, "$ref": format!("{base}/Groups/{id}"), "display": name, "type": "direct"})
            })
            .collect();
        o.insert("groups".into(), Value::Array(groups));
    }
    let mut ent = Map::new();
    put(&mut ent, "employeeNumber", &f.employee_number);
    put(&mut ent, "costCenter", &f.cost_center);
    put(&mut ent, "organization", &f.organization);
    put(&mut ent, "division", &f.division);
    put(&mut ent, "department", &f.department);
    if let Some((id, _)) = &u.manager {
        let mut m = Map::new();
        m.insert("value".into(), json!(id));
        m.insert("$ref".into(), json!(format!("{base}/Users/{id}")));
        ent.insert("manager".into(), Value::Object(m));
    }
    if !ent.is_empty() {
        schemas.push(json!(ENTERPRISE));
        o.insert(ENTERPRISE.into(), Value::Object(ent));
    }
    let custom: Map<String, Value> = u
        .attributes
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !custom.is_empty() {
        schemas.push(json!(TENANT));
        o.insert(TENANT.into(), Value::Object(custom));
    }
    o.insert("schemas".into(), Value::Array(schemas));
    o.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": format_us(u.created_at),
            "lastModified": format_us(u.updated_at),
            "location": format!("{base}/Users/{}", u.id),
            "version": super::etag(u.version),
        }),
    );
    Value::Object(o)
}

/// An address's text parts by SCIM name.
fn address_parts(a: &Address) -> [(&'static str, &Option<String>); 6] {
    [
        ("formatted", &a.formatted),
        ("streetAddress", &a.street_address),
        ("locality", &a.locality),
        ("region", &a.region),
        ("postalCode", &a.postal_code),
        ("country", &a.country),
    ]
}

fn put(o: &mut Map<String, Value>, key: &str, v: &Option<String>) {
    if let Some(v) = v {
        o.insert(key.into(), json!(v));
    }
}

/// A user resource validated, before its password is hashed and its manager checked.
#[derive(Debug)]
pub struct ParsedUser {
    pub fields: ScimUserFields,
    /// `None` when the resource does not say (PUT keeps the current state, POST means true).
    pub active: Option<bool>,
    pub manager: Option<UserId>,
    pub attributes: AttributeChanges,
    pub password: Option<crate::domain::passwords::Password>,
}

/// Validates a whole User resource. Read-only attributes (`id`, `meta`, `groups`) are ignored;
/// attributes Castellan does not keep are ignored too (directories send many).
/// `current` holds the custom attributes set now, so absent ones are removed.
pub fn parse(body: &Value, defs: &[AttributeDef], current: &[String]) -> ScimResult<ParsedUser> {
    let o = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the resource must be a JSON object"))?;
    let user_name = opt_string(get_ci(o, "userName"), "userName", limits::USER_NAME)?
        .ok_or_else(|| ScimError::invalid_value("userName is required"))
        .map(|n| crate::domain::changes::nfc(&n))?;
    let name = match get_ci(o, "name") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => return Err(ScimError::invalid_value("name must be an object")),
    };
    let name_part = |k: &str, label: &str| match name {
        Some(n) => opt_string(get_ci(n, k), label, limits::TEXT),
        None => Ok(None),
    };
    let ent = match get_ci(o, ENTERPRISE) {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => {
            return Err(ScimError::invalid_value(
                "the enterprise extension must be an object",
            ));
        }
    };
    let ent_part = |k: &str| match ent {
        Some(e) => opt_string(get_ci(e, k), k, limits::TEXT),
        None => Ok(None),
    };
    let manager = match ent.and_then(|e| get_ci(e, "manager")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(UserId(s.clone())),
        Some(Value::Object(m)) => match get_ci(m, "value") {
            None | Some(Value::Null) => super::json::ref_id(get_ci(m, "$ref")).map(UserId),
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => Some(UserId(s.clone())),
            Some(_) => return Err(ScimError::invalid_value("manager.value must be a string")),
        },
        Some(_) => return Err(ScimError::invalid_value("manager must be an object")),
    };
    let fields = ScimUserFields {
        user_name,
        external_id: opt_string(get_ci(o, "externalId"), "externalId", limits::EXTERNAL_ID)?,
        given_name: name_part("givenName", "name.givenName")?,
        family_name: name_part("familyName", "name.familyName")?,
        middle_name: name_part("middleName", "name.middleName")?,
        honorific_prefix: name_part("honorificPrefix", "name.honorificPrefix")?,
        honorific_suffix: name_part("honorificSuffix", "name.honorificSuffix")?,
        display_name: opt_string(get_ci(o, "displayName"), "displayName", limits::TEXT)?,
        nick_name: opt_string(get_ci(o, "nickName"), "nickName", limits::TEXT)?,
        title: opt_string(get_ci(o, "title"), "title", limits::TEXT)?,
        user_type: opt_string(get_ci(o, "userType"), "userType", limits::SHORT)?,
        preferred_language: opt_string(
            get_ci(o, "preferredLanguage"),
            "preferredLanguage",
            limits::SHORT,
        )?,
        locale: opt_string(get_ci(o, "locale"), "locale", limits::SHORT)?,
        timezone: opt_string(get_ci(o, "timezone"), "timezone", limits::SHORT)?,
        emails: parse_emails(get_ci(o, "emails"))?,
        plurals: parse_plurals(o)?,
        addresses: parse_addresses(get_ci(o, "addresses"))?,
        employee_number: ent_part("employeeNumber")?,
        cost_center: ent_part("costCenter")?,
        organization: ent_part("organization")?,
        division: ent_part("division")?,
        department: ent_part("department")?,
    };
    let active = match get_ci(o, "active") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            parse_bool(v)
                .ok_or_else(|| ScimError::invalid_value("active must be true or false"))?,
        ),
    };
    let password = match get_ci(o, "password") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(crate::domain::passwords::Password::new(p.clone())?),
        Some(_) => return Err(ScimError::invalid_value("password must be a string")),
    };
    Ok(ParsedUser {
        fields,
        active,
        manager,
        attributes: parse_custom(get_ci(o, TENANT), defs, current)?,
        password,
    })
}

fn parse_emails(v: Option<&Value>) -> ScimResult<Vec<Email>> {
    let items = match v {
        None | Some(Value::Null) => return Ok(vec![]),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(ScimError::invalid_value("emails must be an array")),
    };
    let mut out: Vec<Email> = Vec::with_capacity(items.len());
    for item in items {
        let m = item
            .as_object()
            .ok_or_else(|| ScimError::invalid_value("each email must be an object"))?;
        let Some(value) = opt_string(get_ci(m, "value"), "emails.value", limits::EMAIL)? else {
            continue;
        };
        if !value.contains('@') {
            return Err(ScimError::invalid_value(format!(
                "`{value}` is not an email address"
            )));
        }
        let primary = match get_ci(m, "primary") {
            None | Some(Value::Null) => false,
            Some(p) => parse_bool(p)
                .ok_or_else(|| ScimError::invalid_value("emails.primary must be true or false"))?,
        };
        // At most one primary (RFC 7643 §2.4): a later one takes the mark over.
        if primary {
            out.iter_mut().for_each(|e| e.primary = false);
        }
        out.push(Email {
            value,
            kind: opt_string(get_ci(m, "type"), "emails.type", limits::SHORT)?,
            primary,
        });
    }
    Ok(out)
}

/// The objects of a multi-valued attribute (absent or null: none).
fn items<'a>(v: Option<&'a Value>, name: &str) -> ScimResult<Vec<&'a Map<String, Value>>> {
    match v {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(a)) => a
            .iter()
            .map(|i| {
                i.as_object().ok_or_else(|| {
                    ScimError::invalid_value(format!("each value of {name} must be an object"))
                })
            })
            .collect(),
        Some(_) => Err(ScimError::invalid_value(format!("{name} must be an array"))),
    }
}

fn primary_of(m: &Map<String, Value>, name: &str) -> ScimResult<bool> {
    match get_ci(m, "primary") {
        None | Some(Value::Null) => Ok(false),
        Some(p) => parse_bool(p).ok_or_else(|| {
            ScimError::invalid_value(format!("{name}.primary must be true or false"))
        }),
    }
}

/// phoneNumbers, ims, photos, x509Certificates. A value without `value` is dropped (what a
/// PATCH removing `phoneNumbers[type eq "work"].value` leaves); at most one is primary.
fn parse_plurals(
    o: &Map<String, Value>,
) -> ScimResult<std::collections::BTreeMap<Plural, Vec<PluralValue>>> {
    let mut out = std::collections::BTreeMap::new();
    for p in Plural::ALL {
        let name = p.name();
        let max = if p == Plural::X509Certificates {
            16_384
        } else {
            2048
        };
        let mut values: Vec<PluralValue> = vec![];
        for m in items(get_ci(o, name), name)? {
            let Some(value) = opt_string(get_ci(m, "value"), &format!("{name}.value"), max)? else {
                continue;
            };
            let primary = primary_of(m, name)?;
            if primary {
                values.iter_mut().for_each(|v| v.primary = false);
            }
            values.push(PluralValue {
                value,
                display: opt_string(
                    get_ci(m, "display"),
                    &format!("{name}.display"),
                    limits::TEXT,
                )?,
                kind: opt_string(get_ci(m, "type"), &format!("{name}.type"), limits::SHORT)?,
                primary,
            });
        }
        if !values.is_empty() {
            out.insert(p, values);
        }
    }
    Ok(out)
}

/// addresses; an address with no part at all is dropped; at most one is primary.
fn parse_addresses(v: Option<&Value>) -> ScimResult<Vec<Address>> {
    let mut out: Vec<Address> = vec![];
    for m in items(v, "addresses")? {
        let part = |k: &str, max: usize| opt_string(get_ci(m, k), &format!("addresses.{k}"), max);
        let lines = |k: &str| opt_lines(get_ci(m, k), &format!("addresses.{k}"), 1024);
        let a = Address {
            kind: part("type", limits::SHORT)?,
            primary: primary_of(m, "addresses")?,
            formatted: lines("formatted")?,
            street_address: lines("streetAddress")?,
            locality: part("locality", limits::TEXT)?,
            region: part("region", limits::TEXT)?,
            postal_code: part("postalCode", limits::SHORT)?,
            country: part("country", limits::SHORT)?,
        };
        if address_parts(&a).iter().all(|(_, v)| v.is_none()) {
            continue;
        }
        if a.primary {
            out.iter_mut().for_each(|x| x.primary = false);
        }
        out.push(a);
    }
    Ok(out)
}

fn parse_custom(
    v: Option<&Value>,
    defs: &[AttributeDef],
    current: &[String],
) -> ScimResult<AttributeChanges> {
    let given = match v {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err(ScimError::invalid_value(
                "the tenant extension must be an object",
            ));
        }
    };
    let mut input = std::collections::BTreeMap::new();
    for (k, v) in &given {
        let def = defs
            .iter()
            .find(|d| d.key.eq_ignore_ascii_case(k))
            .ok_or_else(|| {
                ScimError::invalid_value(format!("`{k}` is not an attribute of this tenant"))
            })?;
        // Directories send every value as a string: convert to the definition's type.
        let v = match (def.kind, v) {
            (crate::domain::AttributeKind::Number, Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .unwrap_or_else(|| v.clone()),
            (crate::domain::AttributeKind::Boolean, Value::String(_)) => {
                parse_bool(v).map(Value::Bool).unwrap_or_else(|| v.clone())
            }
            _ => v.clone(),
        };
        input.insert(def.key.clone(), v);
    }
    for key in current {
        input.entry(key.clone()).or_insert(Value::Null);
    }
    let changes = crate::domain::attributes::validate_changes(defs, &input)?;
    crate::domain::attributes::check_required(defs, &[], &changes)?;
    Ok(changes)
}

const CORE_FIELDS: [(&str, UserField); 14] = [
    ("id", UserField::Id),
    ("externalId", UserField::ExternalId),
    ("userName", UserField::UserName),
    ("displayName", UserField::DisplayName),
    ("nickName", UserField::NickName),
    ("title", UserField::Title),
    ("userType", UserField::UserType),
    ("preferredLanguage", UserField::PreferredLanguage),
    ("locale", UserField::Locale),
    ("timezone", UserField::Timezone),
    ("active", UserField::Active),
    ("emails", UserField::EmailValue),
    ("groups", UserField::GroupId),
    // Returned never (RFC 7643 §4.1.1): no representation shows it, so a filter sees no value
    // (and cannot be used to test guesses of a password).
    ("password", UserField::Unvalued(None)),
];

/// Resolves a filter or sort path on users; `within` names the multi-valued attribute of a
/// value filter (`emails[...]`), whose sub-attributes the path then names.
pub fn resolve(
    path: &AttrPath,
    within: Option<&str>,
    defs: &[AttributeDef],
    base: &str,
) -> ScimResult<UserField> {
    let unknown = || ScimError::invalid_filter(format!("unknown attribute `{}`", show(path)));
    let name = path.name.as_str();
    let sub = path.sub.as_deref();
    if let Some(parent) = within {
        return sub_field(parent, Some(name), base).ok_or_else(unknown);
    }
    let uri = path.uri.as_deref().unwrap_or(USER);
    if uri.eq_ignore_ascii_case(USER) {
        let eq = |a: &str| name.eq_ignore_ascii_case(a);
        if eq("name") {
            return match sub.map(str::to_ascii_lowercase).as_deref() {
                Some("givenname") => Ok(UserField::GivenName),
                Some("familyname") => Ok(UserField::FamilyName),
                Some("middlename") => Ok(UserField::MiddleName),
                Some("honorificprefix") => Ok(UserField::HonorificPrefix),
                Some("honorificsuffix") => Ok(UserField::HonorificSuffix),
                // `name` has no `value` sub-attribute to compare.
                None => Ok(UserField::Unvalued(None)),
                _ => Err(unknown()),
            };
        }
        if eq("meta") {
            return match sub.map(str::to_ascii_lowercase).as_deref() {
                Some("created") => Ok(UserField::Created),
                Some("lastmodified") => Ok(UserField::LastModified),
                _ => Err(unknown()),
            };
        }
        if eq("emails") || eq("groups") || Plural::from_name(name).is_some() {
            return sub_field(name, sub.or(Some("value")), base).ok_or_else(unknown);
        }
        if eq("addresses") {
            // An address has no `value` sub-attribute to compare.
            return match sub {
                None => Ok(UserField::Unvalued(Some(
                    crate::domain::scim::Multi::Addresses,
                ))),
                _ => sub_field(name, sub, base).ok_or_else(unknown),
            };
        }
        if sub.is_some() {
            return Err(unknown());
        }
        return CORE_FIELDS
            .iter()
            .find(|(n, _)| eq(n))
            .map(|(_, f)| f.clone())
            .ok_or_else(unknown);
    }
    if uri.eq_ignore_ascii_case(ENTERPRISE) {
        let f = match (
            name.to_ascii_lowercase().as_str(),
            sub.map(str::to_ascii_lowercase).as_deref(),
        ) {
            ("employeenumber", None) => UserField::EmployeeNumber,
            ("costcenter", None) => UserField::CostCenter,
            ("organization", None) => UserField::Organization,
            ("division", None) => UserField::Division,
            ("department", None) => UserField::Department,
            ("manager", None | Some("value")) => UserField::ManagerId,
            ("manager", Some("$ref")) => UserField::ManagerRef(format!("{base}/Users/")),
            _ => return Err(unknown()),
        };
        return Ok(f);
    }
    if uri.eq_ignore_ascii_case(TENANT) && sub.is_none() {
        return defs
            .iter()
            .find(|d| d.key.eq_ignore_ascii_case(name))
            .map(|d| UserField::Custom(d.clone()))
            .ok_or_else(unknown);
    }
    Err(unknown())
}

fn sub_field(parent: &str, sub: Option<&str>, base: &str) -> Option<UserField> {
    let sub = sub?.to_ascii_lowercase();
    if parent.eq_ignore_ascii_case("emails") {
        return match sub.as_str() {
            "value" => Some(UserField::EmailValue),
            "type" => Some(UserField::EmailType),
            "primary" => Some(UserField::EmailPrimary),
            _ => None,
        };
    }
    if let Some(p) = Plural::from_name(parent) {
        let s = match sub.as_str() {
            "value" => PluralSub::Value,
            "display" => PluralSub::Display,
            "type" => PluralSub::Type,
            "primary" => PluralSub::Primary,
            _ => return None,
        };
        return Some(UserField::Plural(p, s));
    }
    if parent.eq_ignore_ascii_case("addresses") {
        let s = match sub.as_str() {
            "type" => AddressSub::Type,
            "primary" => AddressSub::Primary,
            "formatted" => AddressSub::Formatted,
            "streetaddress" => AddressSub::StreetAddress,
            "locality" => AddressSub::Locality,
            "region" => AddressSub::Region,
            "postalcode" => AddressSub::PostalCode,
            "country" => AddressSub::Country,
            _ => return None,
        };
        return Some(UserField::Address(s));
    }
    if parent.eq_ignore_ascii_case("groups") {
        return match sub.as_str() {
            "value" => Some(UserField::GroupId),
            "display" => Some(UserField::GroupDisplay),
            "type" => Some(UserField::GroupType),
            "$ref" => Some(UserField::GroupRef(format!("{base}/Groups/"))),
            _ => None,
        };
    }
    None
}

fn show(p: &AttrPath) -> String {
    let mut s = String::new();
    if let Some(u) = &p.uri {
        s.push_str(u);
        s.push(':');
    }
    s.push_str(&p.name);
    if let Some(sub) = &p.sub {
        s.push('.');
        s.push_str(sub);
    }
    s
}
