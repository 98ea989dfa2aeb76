//! What the organisation pages (groups, accounts, account groups, memberships) share: a posted
//! form read as fields, a service refusal turned into errors next to the fields, and a page of
//! a list the service gives whole.

use crate::domain::DomainError;
use axum::http::StatusCode;
use std::collections::HashMap;

/// A posted `application/x-www-form-urlencoded` body: the first value of each field.
#[derive(Default)]
pub struct Posted(HashMap<String, String>);

impl Posted {
    pub fn read(body: &[u8]) -> Self {
        let mut fields = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(body) {
            fields
                .entry(k.into_owned())
                .or_insert_with(|| v.into_owned());
        }
        Posted(fields)
    }

    /// The field as typed (empty when absent).
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }

    /// The field trimmed, `None` when empty.
    pub fn opt(&self, name: &str) -> Option<String> {
        let v = self.get(name).trim();
        (!v.is_empty()).then(|| v.to_owned())
    }

    pub fn csrf(&self) -> Option<&str> {
        self.0.get("csrf").map(String::as_str)
    }
}

/// Errors of a form: one per field, shown next to it, and one for the whole form.
#[derive(Default)]
pub struct FieldErrors {
    fields: HashMap<String, String>,
    pub form: Option<String>,
}

impl FieldErrors {
    /// An error on `field`.
    pub fn one(field: &str, message: impl Into<String>) -> Self {
        let mut e = FieldErrors::default();
        e.fields.insert(field.to_owned(), message.into());
        e
    }

    /// A refusal worth showing in the form (bad input on one of `known` fields or on the
    /// form, a conflict), or `None` for one that is a page of its own (forbidden, not found,
    /// internal).
    pub fn of(e: &DomainError, known: &[&str]) -> Option<Self> {
        match e {
            DomainError::Invalid { field, message } => Some(match field.as_deref() {
                Some(f) if known.contains(&f) => FieldErrors::one(f, message.clone()),
                _ => FieldErrors {
                    form: Some(message.clone()),
                    ..Default::default()
                },
            }),
            DomainError::Conflict(message) => Some(FieldErrors {
                form: Some(message.clone()),
                ..Default::default()
            }),
            _ => None,
        }
    }

    /// The error of `field`, if any.
    pub fn on(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }
}

/// The status of a form shown again with its errors: 409 for a conflict, else 400.
pub fn status_of(e: &DomainError) -> StatusCode {
    match e {
        DomainError::Conflict(_) => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// Items shown per page of the organisation lists.
pub const PAGE_SIZE: usize = 25;

/// Page `number` (from 1) of `items`, and whether there is a next one.
pub fn page_of<T>(items: Vec<T>, number: usize) -> (Vec<T>, bool) {
    let start = number.saturating_sub(1).saturating_mul(PAGE_SIZE);
    let more = items.len() > start.saturating_add(PAGE_SIZE);
    (
        items.into_iter().skip(start).take(PAGE_SIZE).collect(),
        more,
    )
}

/// A console POST: the signed-in person (else the sign-in page, coming back to `back`) and
/// the posted fields, once the form's CSRF token is the session's (else the refusal).
pub async fn signed_post(
    s: &crate::http::AppState,
    slug: &str,
    headers: &axum::http::HeaderMap,
    client: &crate::domain::throttle::Client,
    back: &str,
    body: &[u8],
) -> Result<(super::Console, Posted), axum::response::Response> {
    let console = super::Console::of(s, slug, headers, client, back).await?;
    let posted = Posted::read(body);
    match console.csrf_refusal(s, headers, posted.csrf()) {
        Some(refused) => Err(refused),
        None => Ok((console, posted)),
    }
}
