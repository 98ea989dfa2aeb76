//! OpenID Connect Discovery 1.0 provider metadata.

use crate::domain::oidc::KeyAlg;
use serde_json::{Value, json};

/// The claims Castellan's tokens carry today.
const CLAIMS: [&str; 9] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "jti",
    "client_id",
    "roles",
    "permissions",
];

/// The metadata of the issuer `issuer`. Only what works is advertised.
pub fn document(issuer: &str) -> Value {
    let algs: Vec<&str> = KeyAlg::ALL.iter().map(|a| a.as_str()).collect();
    // Later slices of issue 3 add here, as each starts working: authorization_endpoint,
    // userinfo_endpoint, introspection_endpoint, revocation_endpoint, end_session_endpoint,
    // backchannel_logout_supported, code_challenge_methods_supported ["S256"], the
    // authorization_code and refresh_token grants, private_key_jwt, and the user claims.
    json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "scopes_supported": ["openid"],
        // Required by Discovery 1.0; the authorization endpoint that serves them comes next.
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "claims_supported": CLAIMS,
        "access_token_signing_alg_values_supported": algs,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
    })
}
