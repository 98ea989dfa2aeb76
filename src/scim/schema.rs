//! The schemas Castellan serves (RFC 7643 §7): exactly the attributes it stores, so `/Schemas`
//! tells the truth. The same definitions drive PATCH paths, `attributes` and filters.

use crate::domain::{AttributeDef, AttributeKind};
use serde_json::{Value, json};

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The tenant's custom attributes, one schema per tenant generated from their definitions.
pub const TENANT: &str = "urn:castellan:params:scim:schemas:extension:tenant:2.0:User";
pub const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
pub const SPC: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
pub const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    String,
    Boolean,
    DateTime,
    Decimal,
    Reference,
    Complex,
    Binary,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

/// One attribute of a schema.
#[derive(Clone, Debug)]
pub struct Attr {
    pub name: String,
    pub kind: Type,
    pub multi: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub unique: bool,
    pub canonical: Vec<String>,
    pub description: String,
    pub sub: Vec<Attr>,
    /// What a reference may point to (`User`, `Group`).
    pub ref_types: Vec<&'static str>,
}

impl Attr {
    fn new(name: &str, kind: Type, description: &str) -> Self {
        Self {
            name: name.into(),
            kind,
            multi: false,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            unique: false,
            canonical: vec![],
            description: description.into(),
            sub: vec![],
            ref_types: vec![],
        }
    }
    fn string(name: &str, description: &str) -> Self {
        Self::new(name, Type::String, description)
    }
    fn reference(name: &str, to: &'static str, description: &str) -> Self {
        let mut a = Self::new(name, Type::Reference, description);
        a.ref_types = vec![to];
        a
    }
    fn multi(mut self) -> Self {
        self.multi = true;
        self
    }
    fn required(mut self) -> Self {
        self.required = true;
        self
    }
    fn exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    fn read_only(mut self) -> Self {
        self.mutability = Mutability::ReadOnly;
        self
    }
    fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
    fn sub(mut self, sub: Vec<Attr>) -> Self {
        self.sub = sub;
        self
    }

    /// The sub-attribute with this name (case-insensitive).
    pub fn child(&self, name: &str) -> Option<&Attr> {
        self.sub.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }

    fn to_json(&self) -> Value {
        let mut v = json!({
            "name": self.name,
            "type": match self.kind {
                Type::String => "string",
                Type::Boolean => "boolean",
                Type::DateTime => "dateTime",
                Type::Decimal => "decimal",
                Type::Reference => "reference",
                Type::Complex => "complex",
                Type::Binary => "binary",
            },
            "multiValued": self.multi,
            "description": self.description,
            "required": self.required,
            "mutability": match self.mutability {
                Mutability::ReadOnly => "readOnly",
                Mutability::ReadWrite => "readWrite",
                Mutability::Immutable => "immutable",
                Mutability::WriteOnly => "writeOnly",
            },
            "returned": if self.mutability == Mutability::WriteOnly { "never" } else { "default" },
        });
        if self.kind != Type::Complex {
            v["caseExact"] = json!(self.case_exact);
            v["uniqueness"] = json!(if self.unique { "server" } else { "none" });
        }
        if self.kind == Type::Reference {
            v["referenceTypes"] = json!(self.ref_types);
        }
        if !self.canonical.is_empty() {
            v["canonicalValues"] = json!(self.canonical);
        }
        if !self.sub.is_empty() {
            v["subAttributes"] = Value::Array(self.sub.iter().map(Attr::to_json).collect());
        }
        v
    }
}

/// A schema: its URN, name and attributes.
#[derive(Clone, Debug)]
pub struct Schema {
    pub id: String,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: Vec<Attr>,
}

impl Schema {
    /// The attribute with this name (case-insensitive).
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The schema resource (RFC 7643 §7), `location` under `base`.
    pub fn to_json(&self, base: &str) -> Value {
        json!({
            "schemas": [SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": self.attributes.iter().map(Attr::to_json).collect::<Vec<_>>(),
            "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{}", self.id)},
        })
    }
}

/// The core User schema: the attributes Castellan stores (sign-in emails unique).
pub fn user() -> Schema {
    user_with(true)
}

/// The core User schema, as a tenant's settings make it: when sign-in emails are unique (the
/// default), `emails.value` says so (`uniqueness: server`): the sign-in email (the primary
/// email, else the first, else the userName) of two current users may not be the same.
pub fn user_with(unique_emails: bool) -> Schema {
    let mut value = Attr::string("value", "The email address.").required();
    if unique_emails {
        value = value.unique();
    }
    let email_sub = vec![
        value,
        Attr::string("type", "work, home or other."),
        Attr::new("primary", Type::Boolean, "The sign-in email."),
    ];
    let mut email_type = email_sub;
    email_type[1].canonical = vec!["work".into(), "home".into(), "other".into()];
    Schema {
        id: USER.into(),
        name: "User",
        description: "User Account",
        attributes: vec![
            Attr::string("userName", "Unique identifier for the user, used to sign in.")
                .required()
                .unique(),
            Attr::new("name", Type::Complex, "The components of the user's name.").sub(vec![
                Attr::string("familyName", "Family name."),
                Attr::string("givenName", "Given name."),
                Attr::string("middleName", "Middle name."),
                Attr::string("honorificPrefix", "Honorific prefix."),
                Attr::string("honorificSuffix", "Honorific suffix."),
            ]),
            Attr::string("displayName", "The name displayed to end users."),
            Attr::string("nickName", "Casual name."),
            Attr::string("title", "Job title."),
            Attr::string("userType", "Relationship to the organisation."),
            Attr::string("preferredLanguage", "Preferred language (RFC 7231 Accept-Language)."),
            Attr::string("locale", "Locale (RFC 5646 language tag)."),
            Attr::string("timezone", "IANA time zone, e.g. Europe/Paris."),
            Attr::new(
                "active",
                Type::Boolean,
                "Every user has a lifecycle state: false deactivates (sign-in refused, sessions ended, refresh tokens revoked). Taken as true when a creation leaves it out.",
            )
            .required(),
            Attr::string("password", "Sets the sign-in password; never returned.")
                .exact()
                .write_only(),
            Attr::new("emails", Type::Complex, "Email addresses; the primary one signs in.")
                .multi()
                .sub(email_type),
            plural(
                "phoneNumbers",
                "Phone numbers (filterable like emails).",
                Attr::string("value", "The phone number (RFC 3966 tel URI or free text).").required(),
                &["work", "home", "mobile", "fax", "pager", "other"],
            ),
            plural(
                "ims",
                "Instant messaging addresses.",
                Attr::string("value", "The instant messaging address.").required(),
                &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
            ),
            plural(
                "photos",
                "URLs of photos of the user.",
                Attr::reference("value", "external", "The URL of the photo.").required(),
                &["photo", "thumbnail"],
            ),
            plural(
                "x509Certificates",
                "The user's X.509 certificates (DER, base64).",
                Attr::new("value", Type::Binary, "The certificate, base64-encoded DER.").required(),
                &[],
            ),
            Attr::new("addresses", Type::Complex, "Postal addresses.")
                .multi()
                .sub(vec![
                    Attr::string("formatted", "The full address, for display."),
                    Attr::string("streetAddress", "Street, house number, and so on."),
                    Attr::string("locality", "City or locality."),
                    Attr::string("region", "State or region."),
                    Attr::string("postalCode", "Postal code."),
                    Attr::string("country", "Country (ISO 3166-1 alpha-2 code)."),
                    {
                        let mut t = Attr::string("type", "work, home or other.");
                        t.canonical = vec!["work".into(), "home".into(), "other".into()];
                        t
                    },
                    Attr::new("primary", Type::Boolean, "The main address."),
                ]),
            Attr::new("groups", Type::Complex, "The groups the user belongs to.")
                .multi()
                .read_only()
                .sub(vec![
                    Attr::string("value", "The group's id.").exact().read_only(),
                    Attr::reference("$ref", "Group", "The group's URI.").read_only(),
                    Attr::string("display", "The group's displayName.").read_only(),
                    {
                        let mut t = Attr::string("type", "direct: Castellan groups do not nest.")
                            .read_only();
                        t.canonical = vec!["direct".into()];
                        t
                    },
                ]),
        ],
    }
}

/// A multi-valued attribute shaped `{value, display, type, primary}`.
fn plural(name: &str, description: &str, value: Attr, types: &[&str]) -> Attr {
    let mut t = Attr::string("type", "The kind of value.");
    t.canonical = types.iter().map(|s| s.to_string()).collect();
    Attr::new(name, Type::Complex, description)
        .multi()
        .sub(vec![
            value,
            Attr::string("display", "A human-readable name of the value."),
            t,
            Attr::new("primary", Type::Boolean, "The main value of the attribute."),
        ])
}

impl Attr {
    fn write_only(mut self) -> Self {
        self.mutability = Mutability::WriteOnly;
        self
    }
}

/// `externalId`, common to every resource (RFC 7643 §3.1) and in no schema's list.
pub fn external_id() -> Attr {
    Attr::string("externalId", "The provisioning client's identifier.").exact()
}

/// The enterprise extension (RFC 7643 §4.3) minus what Castellan does not store.
pub fn enterprise() -> Schema {
    Schema {
        id: ENTERPRISE.into(),
        name: "EnterpriseUser",
        description: "Enterprise User",
        attributes: vec![
            Attr::string("employeeNumber", "Employee number."),
            Attr::string("costCenter", "Cost center."),
            Attr::string("organization", "Organisation."),
            Attr::string("division", "Division."),
            Attr::string("department", "Department."),
            Attr::new(
                "manager",
                Type::Complex,
                "The user's manager: a management relation in Castellan.",
            )
            .sub(vec![
                Attr::string("value", "The manager's id.").exact(),
                Attr::reference(
                    "$ref",
                    "User",
                    "The manager's URI (its last segment is taken when value is absent).",
                ),
            ]),
        ],
    }
}

/// The tenant's extension, generated from its custom attribute definitions.
pub fn tenant(defs: &[AttributeDef]) -> Schema {
    Schema {
        id: TENANT.into(),
        name: "TenantUser",
        description: "The tenant's custom user attributes",
        attributes: defs
            .iter()
            .map(|d| {
                let kind = match d.kind {
                    AttributeKind::Number => Type::Decimal,
                    AttributeKind::Boolean => Type::Boolean,
                    _ => Type::String,
                };
                let mut a = Attr::new(&d.key, kind, d.description.as_deref().unwrap_or(&d.label));
                a.required = d.required;
                if d.kind == AttributeKind::Enum {
                    a.canonical = d.options.clone();
                }
                a
            })
            .collect(),
    }
}

/// The core Group schema.
pub fn group() -> Schema {
    Schema {
        id: GROUP.into(),
        name: "Group",
        description: "Group",
        attributes: vec![
            Attr::string("displayName", "The group's name.").required(),
            Attr::new("members", Type::Complex, "The group's members (users).")
                .multi()
                .sub(vec![
                    Attr::string("value", "The member's id.").exact(),
                    Attr::reference(
                        "$ref",
                        "User",
                        "The member's URI (its last segment is taken when value is absent).",
                    ),
                    {
                        let mut t = Attr::string("type", "User.");
                        t.canonical = vec!["User".into()];
                        t
                    },
                ]),
        ],
    }
}
