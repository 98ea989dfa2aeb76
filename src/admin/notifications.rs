//! Notification types (tenant settings) and each user's notification preferences.

use super::users::authorised_user;
use super::validate;
use crate::domain::authz::Caller;
use crate::domain::permissions::admin;
use crate::domain::*;
use crate::store::Store;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The channels a notification can go out on, in their canonical order.
pub const CHANNELS: [&str; 3] = ["email", "in_app", "push"];

/// A new notification type.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateNotificationType {
    pub key: String,
    pub description: Option<String>,
    /// Whether users who made no choice get it; true by default.
    pub default_enabled: Option<bool>,
}

/// A user's choice for one type.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefChoice {
    pub enabled: bool,
    /// The channels to use; the current ones when absent.
    pub channels: Option<Vec<String>>,
}

/// Choices by notification type key; types not named keep theirs.
pub type SetPrefs = BTreeMap<String, PrefChoice>;

/// A type key: lowercase letters, digits and `._-`, at most 100.
fn validate_type_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.len() <= 100
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "key",
            format!(
                "`{key}` is not a valid notification type key: use lowercase letters, digits and `._-` (at most 100)"
            ),
        ))
    }
}

/// Known channels, each once, in canonical order.
fn validate_channels(field: &str, channels: &[String]) -> Result<Vec<String>> {
    if let Some(bad) = channels.iter().find(|c| !CHANNELS.contains(&c.as_str())) {
        return Err(DomainError::invalid(
            field,
            format!("`{bad}` is not a channel: use {}", CHANNELS.join(", ")),
        ));
    }
    Ok(CHANNELS
        .iter()
        .filter(|c| channels.iter().any(|x| x == *c))
        .map(|c| c.to_string())
        .collect())
}

/// The tenant's notification types.
pub async fn list_types(store: &Store, caller: &Caller) -> Result<Vec<NotificationType>> {
    caller.require(admin::SETTINGS_READ)?;
    store.notification_types(caller.tenant_id()).await
}

/// Adds a notification type.
pub async fn create_type(
    store: &Store,
    caller: &Caller,
    req: CreateNotificationType,
) -> Result<NotificationType> {
    caller.require(admin::SETTINGS_WRITE)?;
    validate_type_key(&req.key)?;
    let t = NotificationType {
        id: NotificationTypeId::generate(),
        key: req.key,
        description: validate::optional("description", req.description, 1000)?,
        builtin: false,
        default_enabled: req.default_enabled.unwrap_or(true),
    };
    store
        .insert_notification_type(caller.tenant_id(), &t, &caller.actor())
        .await
}

/// Removes a tenant-defined notification type (built-in ones stay).
pub async fn delete_type(store: &Store, caller: &Caller, key: &str) -> Result<()> {
    caller.require(admin::SETTINGS_WRITE)?;
    store
        .delete_notification_type(caller.tenant_id(), key, &caller.actor())
        .await
}

/// A user's effective choice for every type.
pub async fn prefs(store: &Store, caller: &Caller, user: &UserId) -> Result<Vec<NotificationPref>> {
    authorised_user(store, caller, user, false).await?;
    store.notification_prefs(caller.tenant_id(), user).await
}

/// A user's effective choice for every type, with the type it is for (what a person choosing
/// sees: the catalogue is read with the user's own authorisation, no settings permission).
pub async fn choices(
    store: &Store,
    caller: &Caller,
    user: &UserId,
) -> Result<Vec<(NotificationType, NotificationPref)>> {
    let mine = prefs(store, caller, user).await?;
    let types = store.notification_types(caller.tenant_id()).await?;
    Ok(types
        .into_iter()
        .filter_map(|t| {
            let p = mine.iter().find(|p| p.event_type == t.key)?.clone();
            Some((t, p))
        })
        .collect())
}

/// Merges choices for the named types into the user's preferences.
pub async fn set_prefs(
    store: &Store,
    caller: &Caller,
    user: &UserId,
    req: SetPrefs,
) -> Result<Vec<NotificationPref>> {
    let u = authorised_user(store, caller, user, true).await?;
    if u.status == UserStatus::Anonymised {
        return Err(DomainError::conflict(
            "an anonymised user cannot be changed",
        ));
    }
    let current = store.notification_prefs(caller.tenant_id(), user).await?;
    let mut choices = Vec::with_capacity(req.len());
    for (key, choice) in req {
        let now = current
            .iter()
            .find(|p| p.event_type == key)
            .ok_or_else(|| {
                DomainError::invalid(&key, format!("`{key}` is not a notification type"))
            })?;
        let channels = match &choice.channels {
            Some(c) => validate_channels(&format!("{key}.channels"), c)?,
            None => now.channels.clone(),
        };
        if now.mandatory && (!choice.enabled || !channels.iter().any(|c| c == "email")) {
            return Err(DomainError::invalid(
                &key,
                format!(
                    "`{key}` is a mandatory security notification: it cannot be turned off, nor stop coming by email"
                ),
            ));
        }
        choices.push(NotificationPref {
            event_type: key,
            enabled: choice.enabled,
            channels,
            mandatory: now.mandatory,
        });
    }
    store
        .set_notification_prefs(caller.tenant_id(), user, &choices, &caller.actor())
        .await
}

/// An event an app raises for a user, of one of the tenant's own types.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaiseEvent {
    #[serde(rename = "type")]
    pub event_type: String,
    /// What the user is told (one line, at most 1000 characters).
    pub message: String,
    /// Anything the app wants kept with it (a JSON object, at most 10,000 bytes).
    pub details: Option<serde_json::Value>,
}

/// Raises an event of a tenant-defined type for a user (needs write access to the user: an
/// app's token with `castellan:users.write`, or a manager for the people they manage). Whether
/// the user's preferences let it through; the delivery worker mails it when they chose email.
pub async fn raise_event(
    store: &Store,
    caller: &Caller,
    user: &UserId,
    req: RaiseEvent,
) -> Result<bool> {
    let u = authorised_user(store, caller, user, true).await?;
    if u.status == UserStatus::Anonymised {
        return Err(DomainError::conflict(
            "an anonymised user cannot be notified",
        ));
    }
    let types = store.notification_types(caller.tenant_id()).await?;
    let Some(t) = types.iter().find(|t| t.key == req.event_type) else {
        return Err(DomainError::invalid(
            "type",
            format!(
                "`{}` is not a notification type of this tenant",
                req.event_type
            ),
        ));
    };
    if t.builtin {
        return Err(DomainError::invalid(
            "type",
            format!(
                "`{}` is a built-in type that Castellan raises itself; apps raise the tenant's own types",
                t.key
            ),
        ));
    }
    let message = validate::name("message", &req.message, 1000)?;
    let details = req.details.unwrap_or_else(|| serde_json::json!({}));
    if !details.is_object() || details.to_string().len() > 10_000 {
        return Err(DomainError::invalid(
            "details",
            "`details` must be a JSON object of at most 10,000 bytes",
        ));
    }
    store
        .raise_notification(
            caller.tenant_id(),
            user,
            &t.key,
            &message,
            &details,
            &caller.actor(),
        )
        .await
}

/// How many notification events one request may ask for.
pub const MAX_EVENTS: u32 = 200;

/// The notifications raised for a user (their outbox), newest first: `limit` of them, 50 by
/// default, 1 to [`MAX_EVENTS`].
pub async fn events(
    store: &Store,
    caller: &Caller,
    user: &UserId,
    limit: Option<u32>,
) -> Result<Vec<crate::domain::mfa::Notification>> {
    authorised_user(store, caller, user, false).await?;
    let limit = match limit {
        None => 50,
        Some(n) if (1..=MAX_EVENTS).contains(&n) => n,
        Some(_) => {
            return Err(DomainError::invalid(
                "limit",
                format!("`limit` must be between 1 and {MAX_EVENTS}"),
            ));
        }
    };
    store
        .notifications(caller.tenant_id(), user, i64::from(limit))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_channels() {
        assert!(validate_type_key("billing.invoice_ready-v2").is_ok());
        assert!(validate_type_key("Billing").is_err());
        assert!(validate_type_key("").is_err());
        assert!(validate_type_key("a b").is_err());
        let c = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            validate_channels("c", &c(&["push", "email", "push"])).unwrap(),
            c(&["email", "push"])
        );
        assert!(validate_channels("c", &c(&["sms"])).is_err());
    }
}
