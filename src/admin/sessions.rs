//! The tenant's session lifetimes for administrators: idle timeout, maximum lifetime, and
//! whether people may ask to be remembered (with its longer lifetimes).

use crate::domain::authz::Caller;
use crate::domain::permissions::admin;
use crate::domain::sessions::SessionSettings;
use crate::domain::*;
use crate::store::Store;
use serde_json::Value;

/// Applies a partial change (a JSON object) to the settings: absent fields stay; an unknown
/// field or a value of the wrong type is invalid input naming the field; the result must keep
/// the rules of [`SessionSettings::problem`].
pub fn patch_settings(mut settings: SessionSettings, patch: &Value) -> Result<SessionSettings> {
    let Value::Object(fields) = patch else {
        return Err(DomainError::invalid_input(
            "the request body must be a JSON object",
        ));
    };
    for (field, value) in fields {
        let seconds = || {
            value.as_i64().ok_or_else(|| {
                DomainError::invalid(
                    field,
                    format!("`{field}` must be a whole number of seconds"),
                )
            })
        };
        match field.as_str() {
            "idle_timeout_secs" => settings.idle_timeout_secs = seconds()?,
            "max_lifetime_secs" => settings.max_lifetime_secs = seconds()?,
            "remember_me_idle_timeout_secs" => settings.remember_me_idle_timeout_secs = seconds()?,
            "remember_me_max_lifetime_secs" => settings.remember_me_max_lifetime_secs = seconds()?,
            "remember_me" => {
                settings.remember_me = value.as_bool().ok_or_else(|| {
                    DomainError::invalid(field, "`remember_me` must be true or false")
                })?;
            }
            other => {
                return Err(DomainError::invalid(
                    other,
                    format!("`{other}` is not a session setting"),
                ));
            }
        }
    }
    if let Some(problem) = settings.problem() {
        return Err(DomainError::invalid_input(problem));
    }
    Ok(settings)
}

/// The tenant's session settings.
pub async fn settings(store: &Store, caller: &Caller) -> Result<SessionSettings> {
    caller.require(admin::SETTINGS_READ)?;
    store.session_settings(caller.tenant_id()).await
}

/// Changes some of the tenant's session settings (audited as `session_settings.update` when
/// anything changes). They apply at once to existing sessions too.
pub async fn update_settings(
    store: &Store,
    caller: &Caller,
    patch: &Value,
) -> Result<SessionSettings> {
    caller.require(admin::SETTINGS_WRITE)?;
    let current = store.session_settings(caller.tenant_id()).await?;
    let wanted = patch_settings(current.clone(), patch)?;
    if wanted != current {
        store
            .set_session_settings(caller.tenant_id(), &wanted, &caller.actor())
            .await?;
    }
    Ok(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patches_are_checked_whole() {
        let d = SessionSettings::default();
        let p = patch_settings(d.clone(), &json!({ "idle_timeout_secs": 600 })).unwrap();
        assert_eq!(p.idle_timeout_secs, 600);
        for bad in [
            json!({ "idle_timeout_secs": "600" }),
            json!({ "idle_timeout_secs": 10 }),
            json!({ "max_lifetime_secs": 100_000_000 }),
            json!({ "idle_timeout_secs": 40_000 }),
            json!({ "remember_me": 1 }),
            json!({ "colour": "red" }),
            json!([1]),
        ] {
            assert!(patch_settings(d.clone(), &bad).is_err(), "{bad}");
        }
    }
}
