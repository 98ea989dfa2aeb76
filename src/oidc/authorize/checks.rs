//! PKCE (RFC 7636) and `prompt` (OpenID Connect Core §3.1.2.1): the checks of an
//! authorization request that need their own rules.

use super::{Prompt, Refusal, refuse};
use std::collections::HashMap;

/// PKCE (RFC 7636) with S256 only: `plain`, or no method at all (which means plain), is refused.
pub(super) fn check_pkce(map: &mut HashMap<String, String>) -> Result<String, Refusal> {
    let challenge = map
        .remove("code_challenge")
        .ok_or_else(|| refuse("invalid_request", "PKCE is required: send `code_challenge`"))?;
    match map.remove("code_challenge_method").as_deref() {
        Some("S256") => {}
        _ => {
            return Err(refuse(
                "invalid_request",
                "`code_challenge_method` must be `S256`",
            ));
        }
    }
    let well_formed = challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(refuse(
            "invalid_request",
            "`code_challenge` must be the base64url SHA-256 of the verifier",
        ));
    }
    Ok(challenge)
}

pub(super) fn parse_prompt(prompt: Option<&str>) -> Result<Prompt, Refusal> {
    let mut p = Prompt::default();
    let values: Vec<&str> = prompt
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    for v in &values {
        match *v {
            "none" => p.none = true,
            "login" => p.login = true,
            "consent" => p.consent = true,
            // One account per browser session: there is nothing to select.
            "select_account" => {}
            other => {
                return Err(refuse(
                    "invalid_request",
                    format!("unknown prompt value `{other}`"),
                ));
            }
        }
    }
    if p.none && values.len() > 1 {
        return Err(refuse(
            "invalid_request",
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(p)
}
