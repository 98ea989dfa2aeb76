//! OpenID Connect Discovery 1.0 provider metadata.

use crate::domain::oidc::KeyAlg;
use crate::oidc::client_assertion::ALGORITHM_NAMES;

/// The languages of the sign-in and consent pages (BCP 47), as `ui_locales` may ask for them.
pub const UI_LOCALES: [&str; 3] = ["en", "fr", "de"];
use serde_json::{Value, json};

/// The claims Castellan's tokens carry today.
const CLAIMS: [&str; 26] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "jti",
    "azp",
    "client_id",
    "scope",
    "auth_time",
    "nonce",
    "sid",
    "amr",
    "acr",
    "email",
    "email_verified",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "locale",
    "zoneinfo",
    "roles",
    "permissions",
    "groups",
    "accounts",
];

/// The metadata of the issuer `issuer`. Only what works is advertised.
pub fn document(issuer: &str) -> Value {
    let algs: Vec<&str> = KeyAlg::ALL.iter().map(|a| a.as_str()).collect();
    let auth_methods = [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    ];
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "introspection_endpoint": format!("{issuer}/introspect"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_signing_alg_values_supported": ALGORITHM_NAMES,
        "revocation_endpoint": format!("{issuer}/revoke"),
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "revocation_endpoint_auth_signing_alg_values_supported": ALGORITHM_NAMES,
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ALGORITHM_NAMES,
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent"],
        "ui_locales_supported": UI_LOCALES,
        "acr_values_supported": crate::domain::mfa::ACR_VALUES_SUPPORTED,
        "claims_supported": CLAIMS,
        "access_token_signing_alg_values_supported": algs,
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
    })
}
