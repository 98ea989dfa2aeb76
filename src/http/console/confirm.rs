//! The confirmation page shown before a destructive action (`templates/console/confirm.html`).

use super::{Console, render};
use axum::http::StatusCode;
use axum::response::Response;

#[derive(askama::Template)]
#[template(path = "console/confirm.html")]
struct ConfirmPage<'a> {
    shell: super::Shell,
    title: &'a str,
    consequence: &'a str,
    action: &'a str,
    button: &'a str,
    list_href: &'a str,
    list_label: &'a str,
    error: Option<String>,
}

/// What a confirmation page says and where its form goes.
pub struct Confirm<'a> {
    /// The section of the navigation.
    pub section: &'a str,
    pub title: &'a str,
    pub consequence: &'a str,
    /// The address the form posts to.
    pub action: &'a str,
    pub button: &'a str,
    /// The page to go back to, and its name.
    pub back: (&'a str, &'a str),
}

impl Confirm<'_> {
    /// The page, with the refusal of a previous try when there was one.
    pub fn page(&self, console: &Console, status: StatusCode, error: Option<String>) -> Response {
        render(
            status,
            &ConfirmPage {
                shell: console.shell(self.section),
                title: self.title,
                consequence: self.consequence,
                action: self.action,
                button: self.button,
                list_href: self.back.0,
                list_label: self.back.1,
                error,
            },
        )
    }
}
