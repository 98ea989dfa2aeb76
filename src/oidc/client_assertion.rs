//! `private_key_jwt` (RFC 7523 §2.2 and §3, OpenID Connect Core §9): a JWT the client signs with
//! a key of its registered JWK Set. Every failure is the caller's one `invalid_client`.

use crate::domain::clock::now_ms;
use crate::domain::oidc::Client;
use crate::domain::{DomainError, Result, TenantId};
use crate::store::Store;
use base64::Engine;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse};
use serde::Deserialize;

/// `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The algorithms a client may sign its assertions with.
pub const ALGORITHMS: [Algorithm; 4] = [
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

/// The names of [`ALGORITHMS`], as discovery advertises them.
pub const ALGORITHM_NAMES: [&str; 4] = ["RS256", "PS256", "ES256", "EdDSA"];

/// Clock skew allowed to clients, in seconds.
const SKEW: u64 = 30;
/// The furthest in the future an assertion may expire, in seconds: assertions are for one use.
const MAX_LIFETIME: i64 = 600;

#[derive(Deserialize)]
struct AssertionClaims {
    exp: i64,
    #[serde(default)]
    iat: Option<i64>,
    #[serde(default)]
    jti: Option<String>,
}

/// The `iss` of an assertion, read without verifying anything: it only names the client whose
/// keys will verify it.
pub fn unverified_issuer(assertion: &str) -> Option<String> {
    let mut parts = assertion.split('.');
    let (_, payload) = (parts.next()?, parts.next()?);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims["iss"]
        .as_str()
        .filter(|s| !s.is_empty() && s.len() <= 256 && !crate::domain::text::has_forbidden(s))
        .map(str::to_owned)
}

/// Checks a registered `jwks`: a JWK Set of public signing keys Castellan can verify with.
pub fn check_jwks(jwks: &serde_json::Value) -> std::result::Result<(), String> {
    let set: JwkSet =
        serde_json::from_value(jwks.clone()).map_err(|e| format!("not a JWK set: {e}"))?;
    if set.keys.is_empty() {
        return Err("the JWK set has no keys".into());
    }
    let raw = jwks["keys"].as_array().cloned().unwrap_or_default();
    for (i, (key, json)) in set.keys.iter().zip(raw).enumerate() {
        if ["d", "p", "q", "k"].iter().any(|f| json.get(f).is_some()) {
            return Err(format!(
                "key {i} holds private key material; register public keys only"
            ));
        }
        if supported(key) && jsonwebtoken::DecodingKey::from_jwk(key).is_ok() {
            if matches!(key.common.public_key_use, Some(PublicKeyUse::Encryption)) {
                return Err(format!("key {i} is for encryption, not signatures"));
            }
            continue;
        }
        return Err(format!(
            "key {i} is not an RSA, EC P-256 or Ed25519 public key"
        ));
    }
    Ok(())
}

/// Whether `assertion` authenticates `client`: signed by one of its keys (by `kid` when named),
/// `iss` = `sub` = its `client_id`, `aud` naming the token endpoint or the issuer, not expired
/// nor valid for longer than ten minutes, and a `jti` it never used before.
pub async fn verify(
    store: &Store,
    tenant: &TenantId,
    client: &Client,
    assertion: &str,
    issuer: &str,
) -> Result<bool> {
    let Some(claims) = signed_claims(client, assertion, issuer) else {
        return Ok(false);
    };
    let now = now_ms() / 1000;
    let skew = SKEW as i64;
    if claims.exp > now + MAX_LIFETIME + skew || claims.iat.is_some_and(|iat| iat > now + skew) {
        return Ok(false);
    }
    let Some(jti) = claims.jti.filter(|j| !j.is_empty() && j.len() <= 256) else {
        return Ok(false);
    };
    let until = (claims.exp + skew)
        .checked_mul(1000)
        .ok_or_else(|| DomainError::Internal("assertion expiry overflows".into()))?;
    store
        .use_assertion_jti(tenant, &client.id, &jti, until)
        .await
}

/// The claims of an assertion whose signature, issuer, subject, audience and expiry hold.
fn signed_claims(client: &Client, assertion: &str, issuer: &str) -> Option<AssertionClaims> {
    let header = jsonwebtoken::decode_header(assertion).ok()?;
    if !ALGORITHMS.contains(&header.alg) {
        return None;
    }
    let set: JwkSet = serde_json::from_value(client.jwks.clone()?).ok()?;
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.leeway = SKEW;
    v.set_audience(&[format!("{issuer}/token"), issuer.to_owned()]);
    v.set_issuer(&[&client.client_id]);
    v.sub = Some(client.client_id.clone());
    v.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    set.keys
        .iter()
        .filter(|k| usable(k, header.kid.as_deref(), header.alg))
        .find_map(|k| {
            let key = jsonwebtoken::DecodingKey::from_jwk(k).ok()?;
            jsonwebtoken::decode::<AssertionClaims>(assertion, &key, &v)
                .ok()
                .map(|d| d.claims)
        })
}

/// Whether `key` is of a type the accepted algorithms verify with.
fn supported(key: &Jwk) -> bool {
    match &key.algorithm {
        AlgorithmParameters::RSA(_) => true,
        AlgorithmParameters::EllipticCurve(p) => p.curve == EllipticCurve::P256,
        AlgorithmParameters::OctetKeyPair(p) => p.curve == EllipticCurve::Ed25519,
        _ => false,
    }
}

/// Whether `key` may verify a signature made with `alg` by the key named `kid`.
fn usable(key: &Jwk, kid: Option<&str>, alg: Algorithm) -> bool {
    let kid_ok = kid.is_none_or(|kid| key.common.key_id.as_deref() == Some(kid));
    let alg_ok = key
        .common
        .key_algorithm
        .is_none_or(|a| a.to_string() == format!("{alg:?}"));
    let use_ok = !matches!(key.common.public_key_use, Some(PublicKeyUse::Encryption));
    kid_ok && alg_ok && use_ok
}
