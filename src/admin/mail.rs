//! Mail: each message's delivery status, the tenant's wording of each kind of mail, and its
//! From address.

use super::validate;
use crate::domain::authz::Caller;
use crate::domain::mail::{LOCALES, MailKind, MailRecord, MailStatus, MailTemplate};
use crate::domain::permissions::admin;
use crate::domain::*;
use crate::store::Store;
use serde::Deserialize;

/// Filters of `GET /mail`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListMail {
    pub recipient: Option<String>,
    pub status: Option<String>,
    pub limit: Option<u32>,
}

/// A tenant's wording of one kind of mail in one locale (placeholders such as `{name}`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetTemplate {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The tenant's mail settings.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// The From address (`Name <address>` or an address); `null`: the configured default.
    pub from: Option<String>,
}

/// The tenant's messages, newest first (reading them needs `castellan:users.read`: they say who
/// was written to about what).
pub async fn list(store: &Store, caller: &Caller, q: ListMail) -> Result<Vec<MailRecord>> {
    caller.require(admin::USERS_READ)?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            MailStatus::parse(s).ok_or_else(|| {
                DomainError::invalid("status", "`status` must be pending, sent, failed or logged")
            })
        })
        .transpose()?;
    let limit = validate::limit(q.limit)?;
    let recipient = q
        .recipient
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    store
        .list_mail(caller.tenant_id(), recipient, status, i64::from(limit))
        .await
}

/// One message's delivery status.
pub async fn get(store: &Store, caller: &Caller, id: &MailId) -> Result<MailRecord> {
    caller.require(admin::USERS_READ)?;
    store
        .get_mail(caller.tenant_id(), id)
        .await?
        .ok_or(DomainError::NotFound("mail"))
}

fn kind_and_locale(kind: &str, locale: &str) -> Result<(MailKind, &'static str)> {
    let k = MailKind::parse(kind).ok_or_else(|| {
        let all: Vec<&str> = MailKind::ALL.iter().map(|k| k.as_str()).collect();
        DomainError::invalid(
            "kind",
            format!("`{kind}` is not a kind of mail: use {}", all.join(", ")),
        )
    })?;
    let l = LOCALES.into_iter().find(|l| *l == locale).ok_or_else(|| {
        DomainError::invalid(
            "locale",
            format!(
                "`{locale}` is not a mail locale: use {}",
                LOCALES.join(", ")
            ),
        )
    })?;
    Ok((k, l))
}

/// The tenant's own wordings.
pub async fn templates(store: &Store, caller: &Caller) -> Result<Vec<MailTemplate>> {
    caller.require(admin::SETTINGS_READ)?;
    store.mail_templates(caller.tenant_id()).await
}

/// Sets the tenant's wording of `kind` in `locale`.
pub async fn set_template(
    store: &Store,
    caller: &Caller,
    kind: &str,
    locale: &str,
    req: SetTemplate,
) -> Result<MailTemplate> {
    caller.require(admin::SETTINGS_WRITE)?;
    let (kind, locale) = kind_and_locale(kind, locale)?;
    let subject = validate::name("subject", req.subject.trim(), 300)?;
    let long = |field: &str, v: String| -> Result<String> {
        if v.trim().is_empty() || v.len() > 100_000 {
            return Err(DomainError::invalid(
                field,
                format!("`{field}` must not be empty and at most 100,000 bytes"),
            ));
        }
        Ok(v)
    };
    let t = MailTemplate {
        kind: kind.as_str().into(),
        locale: locale.into(),
        subject,
        text: long("text", req.text)?,
        html: long("html", req.html)?,
    };
    store
        .set_mail_template(
            caller.tenant_id(),
            kind,
            locale,
            Some(t.clone()),
            &caller.actor(),
        )
        .await?;
    Ok(t)
}

/// Removes the tenant's wording of `kind` in `locale` (the built-in one applies again).
pub async fn delete_template(
    store: &Store,
    caller: &Caller,
    kind: &str,
    locale: &str,
) -> Result<()> {
    caller.require(admin::SETTINGS_WRITE)?;
    let (kind, locale) = kind_and_locale(kind, locale)?;
    store
        .set_mail_template(caller.tenant_id(), kind, locale, None, &caller.actor())
        .await
}

/// The tenant's mail settings.
pub async fn settings(store: &Store, caller: &Caller) -> Result<MailSettings> {
    caller.require(admin::SETTINGS_READ)?;
    Ok(MailSettings {
        from: store.mail_from(caller.tenant_id()).await?,
    })
}

/// Sets the tenant's From address (`null`: the configured default).
pub async fn set_settings(
    store: &Store,
    caller: &Caller,
    req: MailSettings,
) -> Result<MailSettings> {
    caller.require(admin::SETTINGS_WRITE)?;
    let from = req.from.as_deref().map(str::trim).filter(|f| !f.is_empty());
    if let Some(f) = from
        && (f.len() > 320 || f.parse::<lettre::message::Mailbox>().is_err())
    {
        return Err(DomainError::invalid(
            "from",
            format!("`{f}` is not a mail address (use `Name <address@example.com>` or an address)"),
        ));
    }
    store
        .set_mail_from(caller.tenant_id(), from, &caller.actor())
        .await?;
    Ok(MailSettings {
        from: from.map(str::to_string),
    })
}
