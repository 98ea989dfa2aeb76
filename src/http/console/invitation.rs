//! Invitations in the console: the invitation state shown on an invited user's page, and the
//! page that follows sending one (from "New user" with "invite", or the user page's "Resend
//! invitation"), which shows the link once when no mail server carries it.

use super::users::display_name;
use super::{Console, Shell, render};
use crate::admin::invitations::{self, InvitationState, Sent, Standing};
use crate::domain::{User, UserStatus};
use crate::http::AppState;
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

/// An invitation as the user page shows it.
pub struct InvitationLine {
    pub status: &'static str,
    pub since: String,
    pub times_sent: i64,
    pub last_sent: String,
    pub expires: String,
    pub delivery: &'static str,
}

/// A stored RFC 3339 instant as the console shows it (to the minute, UTC).
fn when(rfc3339: Option<&str>) -> String {
    rfc3339
        .map(|t| t.get(..16).unwrap_or(t).replace('T', " ") + " UTC")
        .unwrap_or_default()
}

fn delivery_label(delivery: Option<&str>) -> &'static str {
    match delivery {
        Some("shown") => "Link shown to the sender (no mail server)",
        Some("queued") => "Mail queued",
        Some("sent") => "Mail sent",
        Some("failed") => "Mail delivery failed",
        _ => "",
    }
}

impl InvitationLine {
    fn of(state: &InvitationState) -> Self {
        InvitationLine {
            status: match state.status {
                Standing::NotSent => "Not sent yet",
                Standing::Pending => "Pending",
                Standing::Expired => "Expired",
                Standing::Accepted => "Accepted",
            },
            since: when(state.pending_since.as_deref()),
            times_sent: state.times_sent,
            last_sent: when(state.last_sent_at.as_deref()),
            expires: when(state.expires_at.as_deref()),
            delivery: delivery_label(state.last_delivery.as_deref()),
        }
    }
}

/// The invitation of an invited user, for a caller who may see it (`None` otherwise, or when
/// the user is no longer invited).
pub async fn of(s: &AppState, console: &Console, user: &User) -> Option<InvitationLine> {
    if user.status != UserStatus::Invited {
        return None;
    }
    invitations::state(&s.store, &console.caller, &user.id)
        .await
        .ok()
        .map(|state| InvitationLine::of(&state))
}

#[derive(Template)]
#[template(path = "console/invitation_sent.html")]
struct SentPage {
    shell: Shell,
    id: String,
    name: String,
    email: String,
    created: bool,
    line: InvitationLine,
    link: Option<String>,
}

/// The page after an invitation was sent (`created`: with the user, from "New user").
pub fn sent_page(console: &Console, user: &User, sent: &Sent, created: bool) -> Response {
    render(
        StatusCode::OK,
        &SentPage {
            shell: console.shell("users"),
            id: user.id.to_string(),
            name: display_name(user),
            email: user.email.clone(),
            created,
            line: InvitationLine::of(&sent.state),
            link: sent.link.clone(),
        },
    )
}
