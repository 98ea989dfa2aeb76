//! The app form of the console: its fields as typed, read from a form body or from a client,
//! turned into the admin API's [`ClientInput`] with field errors next to their fields.

use crate::admin::clients::ClientInput;
use crate::domain::DomainError;
use crate::domain::oidc::{AuthMethod, Client, ClientKind, GrantType, KeyAlg};

/// The fields of the app form, as typed (`grant_type` repeats, once per checked box).
#[derive(Default)]
pub struct Fields {
    pub csrf: Option<String>,
    pub name: String,
    pub method: String,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub grant_types: Vec<String>,
    pub scopes: String,
    pub permission_namespaces: String,
    pub first_party: bool,
    pub alg: String,
    pub access_token_ttl: String,
    pub refresh_token_ttl: String,
    pub token_claims_budget: String,
    pub backchannel_logout_uri: String,
    pub jwks: String,
}

/// Field errors, by the name of the field (the admin API's field names), and one for the form.
#[derive(Default)]
pub struct Errors {
    items: Vec<(String, String)>,
    pub form: Option<String>,
}

impl Errors {
    /// The error of field `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, m)| m.as_str())
    }

    fn add(&mut self, field: &str, message: impl Into<String>) {
        if self.get(field).is_none() {
            self.items.push((field.to_owned(), message.into()));
        }
    }

    fn is_empty(&self) -> bool {
        self.items.is_empty() && self.form.is_none()
    }

    /// A service refusal worth showing in the form (bad input, a conflict), or `None` for one
    /// that is a page of its own.
    pub fn of(e: &DomainError) -> Option<Self> {
        let mut errors = Errors::default();
        match e {
            DomainError::Invalid { field, message } => match field.as_deref() {
                Some(f) if FIELDS.contains(&f) => errors.add(f, message.clone()),
                _ => errors.form = Some(message.clone()),
            },
            DomainError::Conflict(message) => errors.form = Some(message.clone()),
            _ => return None,
        }
        Some(errors)
    }
}

/// The fields the form shows (a service error naming another goes on top of the form).
const FIELDS: [&str; 13] = [
    "name",
    "token_endpoint_auth_method",
    "redirect_uris",
    "post_logout_redirect_uris",
    "grant_types",
    "scopes",
    "permission_namespaces",
    "id_token_signed_response_alg",
    "access_token_ttl",
    "refresh_token_ttl",
    "token_claims_budget",
    "backchannel_logout_uri",
    "jwks",
];

/// The items of a list typed one per line (or separated by spaces or commas).
fn items(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Fields {
    /// What a new app starts with: a confidential web app using the authorization code.
    pub fn new_app() -> Self {
        Fields {
            method: AuthMethod::ClientSecretBasic.as_str().into(),
            grant_types: vec![GrantType::AuthorizationCode.as_str().into()],
            scopes: "openid profile email".into(),
            alg: KeyAlg::ES256.as_str().into(),
            access_token_ttl: "300".into(),
            refresh_token_ttl: "2592000".into(),
            token_claims_budget: "8192".into(),
            ..Default::default()
        }
    }

    /// The settings of `c` as the form shows them.
    pub fn of(c: &Client) -> Self {
        Fields {
            csrf: None,
            name: c.name.clone(),
            method: c.token_endpoint_auth_method.as_str().into(),
            redirect_uris: c.redirect_uris.join("\n"),
            post_logout_redirect_uris: c.post_logout_redirect_uris.join("\n"),
            grant_types: c.grant_types.iter().map(|g| g.as_str().into()).collect(),
            scopes: c.scopes.join(" "),
            permission_namespaces: c.permission_namespaces.join(" "),
            first_party: c.first_party,
            alg: c.id_token_signed_response_alg.as_str().into(),
            access_token_ttl: c.access_token_ttl.to_string(),
            refresh_token_ttl: c.refresh_token_ttl.to_string(),
            token_claims_budget: c.token_claims_budget.to_string(),
            backchannel_logout_uri: c.backchannel_logout_uri.clone().unwrap_or_default(),
            jwks: c
                .jwks
                .as_ref()
                .map(|j| serde_json::to_string_pretty(j).unwrap_or_default())
                .unwrap_or_default(),
        }
    }

    /// The fields of a submitted form.
    pub fn read(body: &[u8]) -> Self {
        let mut f = Fields::default();
        for (k, v) in url::form_urlencoded::parse(body) {
            let v = v.into_owned();
            match &*k {
                "csrf" => f.csrf = Some(v),
                "name" => f.name = v,
                "token_endpoint_auth_method" => f.method = v,
                "redirect_uris" => f.redirect_uris = v,
                "post_logout_redirect_uris" => f.post_logout_redirect_uris = v,
                "grant_type" => f.grant_types.push(v),
                "scopes" => f.scopes = v,
                "permission_namespaces" => f.permission_namespaces = v,
                "first_party" => f.first_party = v == "on" || v == "true",
                "id_token_signed_response_alg" => f.alg = v,
                "access_token_ttl" => f.access_token_ttl = v,
                "refresh_token_ttl" => f.refresh_token_ttl = v,
                "token_claims_budget" => f.token_claims_budget = v,
                "backchannel_logout_uri" => f.backchannel_logout_uri = v,
                "jwks" => f.jwks = v,
                _ => {}
            }
        }
        f
    }

    /// The form as the admin API's input (every field set: the form shows them all), or the
    /// errors of the fields that cannot even be read.
    pub fn input(&self) -> Result<ClientInput, Errors> {
        let mut errors = Errors::default();
        let method = AuthMethod::parse(&self.method);
        if method.is_none() {
            errors.add(
                "token_endpoint_auth_method",
                "Choose how the app authenticates.",
            );
        }
        let alg = KeyAlg::parse(&self.alg);
        if alg.is_none() {
            errors.add(
                "id_token_signed_response_alg",
                "Choose a signing algorithm.",
            );
        }
        let mut number = |field: &str, text: &str| match text.trim().parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.add(field, "Enter a whole number.");
                None
            }
        };
        let access = number("access_token_ttl", &self.access_token_ttl);
        let refresh = number("refresh_token_ttl", &self.refresh_token_ttl);
        let budget = number("token_claims_budget", &self.token_claims_budget);
        let jwks = match self.jwks.trim() {
            "" => None,
            text => match serde_json::from_str(text) {
                Ok(v) => Some(v),
                Err(_) => {
                    errors.add("jwks", "This is not JSON: paste the app's JWK Set.");
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let backchannel = self.backchannel_logout_uri.trim();
        Ok(ClientInput {
            name: Some(self.name.clone()),
            kind: Some(match method {
                Some(AuthMethod::None) => ClientKind::Public,
                _ => ClientKind::Confidential,
            }),
            token_endpoint_auth_method: method,
            redirect_uris: Some(items(&self.redirect_uris)),
            post_logout_redirect_uris: Some(items(&self.post_logout_redirect_uris)),
            grant_types: Some(self.grant_types.clone()),
            scopes: Some(items(&self.scopes)),
            permission_namespaces: Some(items(&self.permission_namespaces)),
            first_party: Some(self.first_party),
            id_token_signed_response_alg: alg,
            access_token_ttl: access,
            refresh_token_ttl: refresh,
            token_claims_budget: budget,
            jwks,
            backchannel_logout_uri: Some((!backchannel.is_empty()).then(|| backchannel.to_owned())),
            backchannel_logout_session_required: None,
        })
    }

    /// Whether the grant type `g` is checked.
    pub fn has_grant(&self, g: &str) -> bool {
        self.grant_types.iter().any(|x| x == g)
    }
}

/// A choice of a select or a checkbox group: value, words, whether chosen.
pub struct Opt {
    pub value: &'static str,
    pub label: &'static str,
    pub chosen: bool,
}

/// The ways an app can authenticate at the token endpoint.
pub fn methods(f: &Fields) -> Vec<Opt> {
    AuthMethod::ALL
        .into_iter()
        .map(|m| Opt {
            value: m.as_str(),
            label: match m {
                AuthMethod::ClientSecretBasic => "Client secret (HTTP Basic)",
                AuthMethod::ClientSecretPost => "Client secret (form field)",
                AuthMethod::PrivateKeyJwt => "Signed JWT (private_key_jwt)",
                AuthMethod::None => "None: public app (browser or mobile, PKCE)",
            },
            chosen: f.method == m.as_str(),
        })
        .collect()
}

/// The grant types an app may use.
pub fn grants(f: &Fields) -> Vec<Opt> {
    GrantType::ALL
        .into_iter()
        .map(|g| Opt {
            value: g.as_str(),
            label: match g {
                GrantType::AuthorizationCode => "Authorization code (people sign in)",
                GrantType::RefreshToken => "Refresh token",
                GrantType::ClientCredentials => "Client credentials (service to service)",
            },
            chosen: f.has_grant(g.as_str()),
        })
        .collect()
}

/// The algorithms an ID token may be signed with.
pub fn algs(f: &Fields) -> Vec<Opt> {
    KeyAlg::ALL
        .into_iter()
        .map(|a| Opt {
            value: a.as_str(),
            label: a.as_str(),
            chosen: f.alg == a.as_str(),
        })
        .collect()
}
