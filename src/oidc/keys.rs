//! Signing keys: generated with aws-lc-rs for every algorithm at once (when the tenant is made, or
//! on first use for older tenants), kept in the database (the truth), parsed once and cached per
//! tenant for a few seconds so a rotation made by another replica is seen; a token naming an
//! unknown `kid` reloads them sooner.

use super::cache::{Cooldown, TtlCache};
use crate::domain::audit::Actor;
use crate::domain::clock::now_ms;
use crate::domain::oidc::{KeyAlg, KeyState, PrivateKey, SigningKey};
use crate::domain::{DomainError, Result, TenantId};
use crate::store::Store;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256,
    RsaKeyPair, RsaPublicKeyComponents,
};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The longest an ID token will live, in seconds (a retired key stays published at least this long).
pub const ID_TOKEN_TTL: i64 = 3600;
/// Clock skew allowed to relying parties, in seconds.
const SKEW: i64 = 60;

enum Pair {
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
    Rsa(RsaKeyPair),
}

/// A parsed private key that signs.
pub struct Signer {
    pub kid: String,
    pub alg: KeyAlg,
    pair: Pair,
}

impl Signer {
    fn parse(key: &SigningKey) -> Result<Self> {
        let bad = || DomainError::Internal(format!("signing key {} cannot be parsed", key.kid));
        let der = STANDARD.decode(&key.private_pkcs8.0).map_err(|_| bad())?;
        let pair = match key.alg {
            KeyAlg::ES256 => Pair::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
                    .map_err(|_| bad())?,
            ),
            KeyAlg::EdDSA => Pair::Ed(Ed25519KeyPair::from_pkcs8(&der).map_err(|_| bad())?),
            KeyAlg::RS256 => Pair::Rsa(RsaKeyPair::from_pkcs8(&der).map_err(|_| bad())?),
        };
        Ok(Signer {
            kid: key.kid.clone(),
            alg: key.alg,
            pair,
        })
    }

    /// The JWS signature of `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let failed = || DomainError::Internal(format!("signing with key {} failed", self.kid));
        let rng = SystemRandom::new();
        match &self.pair {
            Pair::Ec(k) => Ok(k
                .sign(&rng, message)
                .map_err(|_| failed())?
                .as_ref()
                .to_vec()),
            Pair::Ed(k) => Ok(k.sign(message).as_ref().to_vec()),
            Pair::Rsa(k) => {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &rng, message, &mut sig)
                    .map_err(|_| failed())?;
                Ok(sig)
            }
        }
    }

    /// A compact JWS of `claims` with header `typ`.
    pub fn sign_jwt(&self, typ: &str, claims: &impl serde::Serialize) -> Result<String> {
        let claims = serde_json::to_vec(claims)
            .map_err(|e| DomainError::Internal(format!("claims: {e}")))?;
        self.sign_json(typ, &claims)
    }

    /// A compact JWS of the JSON object `claims` (serialized already) with header `typ`: one
    /// string, grown once.
    pub fn sign_json(&self, typ: &str, claims: &[u8]) -> Result<String> {
        #[derive(serde::Serialize)]
        struct Header<'a> {
            alg: &'a str,
            typ: &'a str,
            kid: &'a str,
        }
        let header = serde_json::to_vec(&Header {
            alg: self.alg.as_str(),
            typ,
            kid: &self.kid,
        })
        .map_err(|e| DomainError::Internal(format!("header: {e}")))?;
        // Base64 takes 4 characters per 3 bytes; a signature is at most 512 bytes (RSA-4096).
        let mut jwt = String::with_capacity((header.len() + claims.len() + 512) * 4 / 3 + 8);
        URL_SAFE_NO_PAD.encode_string(header, &mut jwt);
        jwt.push('.');
        URL_SAFE_NO_PAD.encode_string(claims, &mut jwt);
        let sig = self.sign(jwt.as_bytes())?;
        jwt.push('.');
        URL_SAFE_NO_PAD.encode_string(sig, &mut jwt);
        Ok(jwt)
    }
}

/// A tenant's keys as loaded at one moment.
pub struct TenantKeys {
    /// The signing (active) key of each algorithm that has one.
    signers: HashMap<KeyAlg, Arc<Signer>>,
    /// The JWKS document, serialized once.
    pub jwks: Arc<str>,
    /// Every published key, by `kid`, to verify what the tenant signed.
    verifiers: HashMap<String, Verifier>,
}

/// A published public key: the algorithm it verifies and the key itself.
pub struct Verifier {
    pub alg: jsonwebtoken::Algorithm,
    pub key: jsonwebtoken::DecodingKey,
}

impl TenantKeys {
    pub fn signer(&self, alg: KeyAlg) -> Option<Arc<Signer>> {
        self.signers.get(&alg).cloned()
    }

    /// The published key named `kid`, if any.
    pub fn verifier(&self, kid: &str) -> Option<&Verifier> {
        self.verifiers.get(kid)
    }
}

/// Generates a key of `alg` in `state`.
pub fn generate(alg: KeyAlg, state: KeyState) -> Result<SigningKey> {
    let failed = |e: &dyn std::fmt::Display| DomainError::Internal(format!("key generation: {e}"));
    let rng = SystemRandom::new();
    let kid = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>());
    let (der, mut jwk) = match alg {
        KeyAlg::ES256 => {
            let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(|e| failed(&e))?;
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref())
                .map_err(|e| failed(&e))?;
            let point = pair.public_key().as_ref();
            let (x, y) = point
                .get(1..)
                .unwrap_or_default()
                .split_at(32.min(point.len()));
            let jwk = json!({ "kty": "EC", "crv": "P-256",
                "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y) });
            (doc.as_ref().to_vec(), jwk)
        }
        KeyAlg::EdDSA => {
            let doc = Ed25519KeyPair::generate_pkcs8v1(&rng).map_err(|e| failed(&e))?;
            let pair = Ed25519KeyPair::from_pkcs8(doc.as_ref()).map_err(|e| failed(&e))?;
            let jwk = json!({ "kty": "OKP", "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()) });
            (doc.as_ref().to_vec(), jwk)
        }
        KeyAlg::RS256 => {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|e| failed(&e))?;
            let der: aws_lc_rs::encoding::Pkcs8V1Der = pair.as_der().map_err(|e| failed(&e))?;
            let parts = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
            let jwk = json!({ "kty": "RSA",
                "n": URL_SAFE_NO_PAD.encode(&parts.n), "e": URL_SAFE_NO_PAD.encode(&parts.e) });
            (der.as_ref().to_vec(), jwk)
        }
    };
    if let Some(o) = jwk.as_object_mut() {
        o.insert("kid".into(), json!(kid));
        o.insert("alg".into(), json!(alg.as_str()));
        o.insert("use".into(), json!("sig"));
    }
    let now = now_ms();
    Ok(SigningKey {
        kid,
        alg,
        private_pkcs8: PrivateKey(STANDARD.encode(der)),
        public_jwk: jwk,
        state,
        created_at: now,
        activated_at: (state == KeyState::Active).then_some(now),
        retired_at: None,
        publish_until: None,
    })
}

/// How often a replica may reload a tenant's keys because a token named a `kid` it does not
/// know (a key made or rotated in by another replica since it loaded them).
pub const UNKNOWN_KID_RELOAD: Duration = Duration::from_secs(1);

/// Every tenant's keys, parsed once and kept for a few seconds.
pub struct KeyRing {
    cache: TtlCache<TenantId, Arc<TenantKeys>>,
    /// Reloads of a tenant's keys for an unknown `kid`.
    reloads: Cooldown<TenantId>,
}

impl Default for KeyRing {
    fn default() -> Self {
        Self {
            cache: TtlCache::default(),
            reloads: Cooldown::new(UNKNOWN_KID_RELOAD),
        }
    }
}

/// Makes the active and next keys of every algorithm the tenant lacks, so that every key that
/// may sign is in the JWKS before its first signature (relying parties refetch a JWKS only so
/// often). Returns the tenant's published keys.
pub async fn ensure_keys(store: &Store, tenant: &TenantId) -> Result<Vec<SigningKey>> {
    let mut keys = store.signing_keys(tenant).await?;
    let mut made = false;
    for alg in KeyAlg::ALL {
        if keys
            .iter()
            .any(|k| k.alg == alg && k.state == KeyState::Active)
        {
            continue;
        }
        let active = generate(alg, KeyState::Active)?;
        let next = generate(alg, KeyState::Next)?;
        // Another replica may have won the race; either way the database now has keys.
        store.insert_first_keys(tenant, &active, &next).await?;
        made = true;
    }
    if made {
        keys = store.signing_keys(tenant).await?;
    }
    Ok(keys)
}

impl KeyRing {
    /// The tenant's keys, every algorithm's made on first use.
    pub async fn keys(&self, store: &Store, tenant: &TenantId) -> Result<Arc<TenantKeys>> {
        if let Some(k) = self.cache.get(tenant) {
            return Ok(k);
        }
        self.load(store, tenant).await
    }

    /// The tenant's keys, reloaded from the database first when none is named `kid` (at most
    /// once per `UNKNOWN_KID_RELOAD` per tenant, so made-up `kid`s cannot flood the database).
    pub async fn keys_with(
        &self,
        store: &Store,
        tenant: &TenantId,
        kid: &str,
    ) -> Result<Arc<TenantKeys>> {
        let keys = self.keys(store, tenant).await?;
        if keys.verifier(kid).is_some() || !self.reloads.ready(tenant) {
            return Ok(keys);
        }
        self.load(store, tenant).await
    }

    /// The key that signs with `alg` now.
    pub async fn signer(
        &self,
        store: &Store,
        tenant: &TenantId,
        alg: KeyAlg,
    ) -> Result<Arc<Signer>> {
        if let Some(s) = self.keys(store, tenant).await?.signer(alg) {
            return Ok(s);
        }
        self.load(store, tenant)
            .await?
            .signer(alg)
            .ok_or_else(|| DomainError::Internal(format!("no {} signing key", alg.as_str())))
    }

    async fn load(&self, store: &Store, tenant: &TenantId) -> Result<Arc<TenantKeys>> {
        let keys = ensure_keys(store, tenant).await?;
        let loaded = Arc::new(build(&keys)?);
        self.cache.put(tenant.clone(), loaded.clone());
        Ok(loaded)
    }

    /// Rotates every algorithm: the next key, published since the previous rotation, starts
    /// signing; a new next key is published at once; the active one retires but stays published
    /// until the tokens it signed expire.
    pub async fn rotate(
        &self,
        store: &Store,
        tenant: &TenantId,
        actor: &Actor,
    ) -> Result<Vec<SigningKey>> {
        let keys = ensure_keys(store, tenant).await?;
        let ttl = store.max_access_token_ttl(tenant).await?.max(ID_TOKEN_TTL);
        let publish_until = now_ms() + (ttl + SKEW) * 1000;
        for alg in KeyAlg::ALL {
            if keys
                .iter()
                .any(|k| k.alg == alg && k.state == KeyState::Next)
            {
                let next = generate(alg, KeyState::Next)?;
                store
                    .rotate_signing_keys(tenant, alg, &next, publish_until, actor)
                    .await?;
            }
        }
        self.cache.remove(tenant);
        store.signing_keys(tenant).await
    }
}

fn build(keys: &[SigningKey]) -> Result<TenantKeys> {
    let now = now_ms();
    let mut signers = HashMap::new();
    for key in keys.iter().filter(|k| k.state == KeyState::Active) {
        signers.insert(key.alg, Arc::new(Signer::parse(key)?));
    }
    let published: Vec<&SigningKey> = keys.iter().filter(|k| k.published(now)).collect();
    let mut verifiers = HashMap::new();
    for key in &published {
        verifiers.insert(key.kid.clone(), Verifier::of(key)?);
    }
    let jwks: Vec<&serde_json::Value> = published.iter().map(|k| &k.public_jwk).collect();
    let jwks = json!({ "keys": jwks }).to_string();
    Ok(TenantKeys {
        signers,
        jwks: jwks.into(),
        verifiers,
    })
}

impl Verifier {
    fn of(key: &SigningKey) -> Result<Self> {
        let bad = |e: &dyn std::fmt::Display| {
            DomainError::Internal(format!("public key {} cannot be parsed: {e}", key.kid))
        };
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(key.public_jwk.clone()).map_err(|e| bad(&e))?;
        let alg = match key.alg {
            KeyAlg::ES256 => jsonwebtoken::Algorithm::ES256,
            KeyAlg::EdDSA => jsonwebtoken::Algorithm::EdDSA,
            KeyAlg::RS256 => jsonwebtoken::Algorithm::RS256,
        };
        let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).map_err(|e| bad(&e))?;
        Ok(Verifier { alg, key })
    }
}
