//! Multi-factor authentication for administrators: the tenant's MFA settings, and a user's
//! factors (listed as summaries, removed one by one or reset). No secret or key material ever
//! leaves through here.

use super::users::authorised_user;
use crate::domain::authz::Caller;
use crate::domain::mfa::{FactorSummary, Factors, MfaPolicy, MfaSettings, UserVerification};
use crate::domain::permissions::admin;
use crate::domain::*;
use crate::store::Store;
use serde::Serialize;
use serde_json::Value;

/// A user's factors as administrators see them.
#[derive(Debug, Serialize)]
pub struct FactorsView {
    pub factors: Vec<FactorSummary>,
    pub recovery_codes_left: i64,
    pub has_password: bool,
}

impl From<&Factors> for FactorsView {
    fn from(f: &Factors) -> Self {
        FactorsView {
            factors: f.summary(),
            recovery_codes_left: f.recovery_codes_left,
            has_password: f.has_password,
        }
    }
}

/// What a reset removed.
#[derive(Debug, Serialize)]
pub struct ResetView {
    pub factors: Vec<FactorSummary>,
    pub recovery_codes: i64,
}

const POLICIES: &str = "`optional`, `required` or `passkey_required`";
const VERIFICATIONS: &str = "`required`, `preferred` or `discouraged`";

/// An MFA policy given as JSON: `null` is none, otherwise one of the three names.
pub fn policy_field(field: &str, value: &Value) -> Result<Option<MfaPolicy>> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => MfaPolicy::parse(s).map(Some).ok_or_else(|| {
            DomainError::invalid(field, format!("`{s}` is not an MFA policy: use {POLICIES}"))
        }),
        _ => Err(DomainError::invalid(
            field,
            format!("`{field}` must be {POLICIES} or null"),
        )),
    }
}

/// Applies a partial change (a JSON object) to the settings: absent fields stay; an unknown
/// field, an unknown value or a value of the wrong type is invalid input naming the field.
pub fn patch_settings(mut settings: MfaSettings, patch: &Value) -> Result<MfaSettings> {
    let Value::Object(fields) = patch else {
        return Err(DomainError::invalid_input(
            "the request body must be a JSON object",
        ));
    };
    for (field, value) in fields {
        match field.as_str() {
            "policy" => {
                settings.policy = value.as_str().and_then(MfaPolicy::parse).ok_or_else(|| {
                    DomainError::invalid(field, format!("`policy` must be {POLICIES}"))
                })?;
            }
            "passkey_only_allowed" => {
                settings.passkey_only_allowed = value.as_bool().ok_or_else(|| {
                    DomainError::invalid(field, "`passkey_only_allowed` must be true or false")
                })?;
            }
            "security_key_user_verification" => {
                settings.security_key_user_verification = value
                    .as_str()
                    .and_then(UserVerification::parse)
                    .ok_or_else(|| {
                        DomainError::invalid(
                            field,
                            format!("`security_key_user_verification` must be {VERIFICATIONS}"),
                        )
                    })?;
            }
            other => {
                return Err(DomainError::invalid(
                    other,
                    format!("`{other}` is not an MFA setting"),
                ));
            }
        }
    }
    Ok(settings)
}

/// The tenant's MFA settings.
pub async fn settings(store: &Store, caller: &Caller) -> Result<MfaSettings> {
    caller.require(admin::SETTINGS_READ)?;
    store.mfa_settings(caller.tenant_id()).await
}

/// Changes some of the tenant's MFA settings (audited as `tenant.mfa.update` when anything
/// changes). The whole patch is checked before anything is written.
pub async fn update_settings(store: &Store, caller: &Caller, patch: &Value) -> Result<MfaSettings> {
    caller.require(admin::SETTINGS_WRITE)?;
    let current = store.mfa_settings(caller.tenant_id()).await?;
    let wanted = patch_settings(current.clone(), patch)?;
    if wanted == current {
        return Ok(current);
    }
    store
        .set_mfa_settings(caller.tenant_id(), &wanted, &caller.actor())
        .await
}

/// A user's enrolled factors, recovery codes left and whether a password is set.
pub async fn factors(store: &Store, caller: &Caller, user: &UserId) -> Result<FactorsView> {
    authorised_user(store, caller, user, false).await?;
    let f = store.user_factors(caller.tenant_id(), user).await?;
    Ok(FactorsView::from(&f))
}

/// Removes one of the user's factors (a factor of anyone else is not found).
pub async fn remove_factor(
    store: &Store,
    caller: &Caller,
    user: &UserId,
    factor: &FactorId,
) -> Result<()> {
    authorised_user(store, caller, user, true).await?;
    store
        .remove_factor(caller.tenant_id(), user, factor, &caller.actor())
        .await
}

/// Removes every second factor and recovery code of the user; answers what went.
pub async fn reset(store: &Store, caller: &Caller, user: &UserId) -> Result<ResetView> {
    authorised_user(store, caller, user, true).await?;
    let before = store
        .reset_factors(caller.tenant_id(), user, &caller.actor())
        .await?;
    Ok(ResetView {
        factors: before.summary(),
        recovery_codes: before.recovery_codes_left,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(e: DomainError) -> Option<String> {
        match e {
            DomainError::Invalid { field, .. } => field,
            _ => None,
        }
    }

    #[test]
    fn patches_change_only_what_they_name() {
        let s = patch_settings(MfaSettings::default(), &json!({"policy": "required"})).unwrap();
        assert_eq!(s.policy, MfaPolicy::Required);
        assert!(!s.passkey_only_allowed);
        let s = patch_settings(
            s,
            &json!({"passkey_only_allowed": true, "security_key_user_verification": "discouraged"}),
        )
        .unwrap();
        assert_eq!(s.policy, MfaPolicy::Required);
        assert!(s.passkey_only_allowed);
        assert_eq!(
            s.security_key_user_verification,
            UserVerification::Discouraged
        );
    }

    #[test]
    fn bad_patches_name_the_field() {
        for (body, field) in [
            (json!({"policy": "sometimes"}), "policy"),
            (json!({"policy": null}), "policy"),
            (json!({"policy": 2}), "policy"),
            (
                json!({"passkey_only_allowed": "yes"}),
                "passkey_only_allowed",
            ),
            (
                json!({"security_key_user_verification": "always"}),
                "security_key_user_verification",
            ),
            (json!({"colour": "red"}), "colour"),
        ] {
            let e = patch_settings(MfaSettings::default(), &body).unwrap_err();
            assert_eq!(field_of(e).as_deref(), Some(field), "{body}");
        }
        assert!(patch_settings(MfaSettings::default(), &json!([1])).is_err());
    }

    #[test]
    fn role_policies() {
        assert_eq!(policy_field("p", &Value::Null).unwrap(), None);
        assert_eq!(
            policy_field("p", &json!("passkey_required")).unwrap(),
            Some(MfaPolicy::PasskeyRequired)
        );
        assert!(policy_field("p", &json!("strict")).is_err());
        assert!(policy_field("p", &json!(true)).is_err());
    }
}
