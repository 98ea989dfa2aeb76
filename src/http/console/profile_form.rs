//! The user page's profile form: its fields (the profile and the tenant's custom attributes,
//! with what was typed and the field error of a refused save) and the `UpdateUser` a submitted
//! form makes (only what it changed).

use crate::admin::users::UpdateUser;
use crate::domain::{AttributeDef, AttributeKind, User};
use serde_json::Value;
use std::collections::BTreeMap;

/// The profile fields of the form: name (as the API and its errors name it), label, input type,
/// whether it must be filled in.
const PROFILE: &[(&str, &str, &str, bool)] = &[
    ("email", "Email", "email", true),
    ("username", "Username", "text", true),
    ("given_name", "Given name", "text", false),
    ("family_name", "Family name", "text", false),
    ("display_name", "Display name", "text", false),
    ("phone", "Phone", "tel", false),
    ("locale", "Locale", "text", false),
    ("timezone", "Time zone", "text", false),
    ("external_id", "External id", "text", false),
];

/// One field of the form (or one line of the read-only profile).
pub struct Field {
    pub name: String,
    pub label: String,
    /// `text`, `email`, `tel`, `number`, `date`, `select`.
    pub input: &'static str,
    pub value: String,
    /// The choices of a `select` (the empty choice is added by the template).
    pub options: Vec<String>,
    pub required: bool,
    pub hint: Option<String>,
    pub error: Option<String>,
}

impl Field {
    pub fn new(name: &str, label: &str, input: &'static str, value: String) -> Self {
        Field {
            name: name.to_owned(),
            label: label.to_owned(),
            input,
            value,
            options: Vec::new(),
            required: false,
            hint: None,
            error: None,
        }
    }
}

/// What a refused save brings back to the form: the typed values and the error.
#[derive(Default)]
pub struct Invalid {
    typed: Option<BTreeMap<String, String>>,
    field: Option<String>,
    message: Option<String>,
}

impl Invalid {
    pub fn of(typed: BTreeMap<String, String>, field: Option<String>, message: String) -> Self {
        Invalid {
            typed: Some(typed),
            field,
            message: Some(message),
        }
    }
}

/// A stored attribute value as the form writes it.
fn form_value(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn optional(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// The user's profile fields, in the form's order, as the form writes them.
fn profile_values(u: &User) -> [String; 9] {
    [
        u.email.clone(),
        u.username.clone(),
        optional(&u.given_name),
        optional(&u.family_name),
        optional(&u.display_name),
        optional(&u.phone),
        optional(&u.locale),
        optional(&u.timezone),
        optional(&u.external_id),
    ]
}

pub fn attribute_field(def: &AttributeDef, value: String) -> Field {
    let (input, options) = match def.kind {
        AttributeKind::Number => ("number", Vec::new()),
        AttributeKind::Date => ("date", Vec::new()),
        AttributeKind::Boolean => ("select", vec!["true".to_owned(), "false".to_owned()]),
        AttributeKind::Enum => ("select", def.options.clone()),
        AttributeKind::Text => ("text", Vec::new()),
    };
    Field {
        name: format!("attributes.{}", def.key),
        label: def.label.clone(),
        input,
        value,
        options,
        required: def.required,
        hint: def.description.clone(),
        error: None,
    }
}

/// The form's fields for `user` (with `defs`, the attributes as inputs; without, as stored),
/// showing what was typed and the error of a refused save; and the error above the form.
pub fn form_fields(
    user: &User,
    defs: Option<&[AttributeDef]>,
    invalid: &Invalid,
) -> (Vec<Field>, Vec<Field>, Option<String>) {
    let typed = |name: &str, stored: String| match &invalid.typed {
        Some(t) => t.get(name).cloned().unwrap_or(stored),
        None => stored,
    };
    let mut profile: Vec<Field> = PROFILE
        .iter()
        .zip(profile_values(user))
        .map(|((name, label, input, required), value)| Field {
            required: *required,
            ..Field::new(name, label, input, typed(name, value))
        })
        .collect();
    let mut attributes: Vec<Field> = match defs {
        Some(defs) => defs
            .iter()
            .map(|d| {
                let name = format!("attributes.{}", d.key);
                attribute_field(d, typed(&name, form_value(user.attributes.get(&d.key))))
            })
            .collect(),
        None => user
            .attributes
            .iter()
            .map(|(k, v)| Field::new(&format!("attributes.{k}"), k, "text", form_value(Some(v))))
            .collect(),
    };
    let Some(f) = invalid.field.as_ref().and_then(|field| {
        profile
            .iter_mut()
            .chain(attributes.iter_mut())
            .find(|f| &f.name == field)
    }) else {
        return (profile, attributes, invalid.message.clone());
    };
    // The service names the field as the API does (`cost_centre`); the form by its label.
    let key = f.name.strip_prefix("attributes.").unwrap_or(&f.name);
    f.error = invalid
        .message
        .as_ref()
        .map(|m| m.replace(&format!("`{key}`"), &f.label));
    let above = "The profile was not saved: correct the field marked below.";
    (profile, attributes, Some(above.to_owned()))
}

/// The changes the form makes to `user`: only the fields it carries that differ.
pub fn changes(user: &User, defs: &[AttributeDef], form: &BTreeMap<String, String>) -> UpdateUser {
    let mut req = UpdateUser::default();
    let current = profile_values(user);
    let changed = |i: usize| {
        let name = PROFILE[i].0;
        form.get(name)
            .filter(|v| v.trim() != current[i].trim())
            .cloned()
    };
    req.email = changed(0);
    req.username = changed(1);
    let slots = [
        &mut req.given_name,
        &mut req.family_name,
        &mut req.display_name,
        &mut req.phone,
        &mut req.locale,
        &mut req.timezone,
        &mut req.external_id,
    ];
    for (i, slot) in slots.into_iter().enumerate() {
        *slot = changed(i + 2).map(|v| (!v.trim().is_empty()).then_some(v));
    }
    for def in defs {
        let Some(typed) = form.get(&format!("attributes.{}", def.key)) else {
            continue;
        };
        if typed.trim() == form_value(user.attributes.get(&def.key)) {
            continue;
        }
        req.attributes
            .insert(def.key.clone(), attribute_value(def.kind, typed.trim()));
    }
    req
}

/// A typed attribute as JSON: empty removes it; a number or boolean that does not read as one
/// is passed on as text, for the service to refuse with its own field error.
pub fn attribute_value(kind: AttributeKind, typed: &str) -> Value {
    if typed.is_empty() {
        return Value::Null;
    }
    let parsed = match kind {
        AttributeKind::Number => typed
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        AttributeKind::Boolean => typed.parse::<bool>().ok().map(Value::Bool),
        _ => None,
    };
    parsed.unwrap_or_else(|| Value::String(typed.to_owned()))
}
