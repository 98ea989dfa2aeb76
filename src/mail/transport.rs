//! Where mail goes: an SMTP server (`smtp_url`), or the log when none is configured.

use crate::domain::mail::ClaimedMail;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Why an attempt failed, and whether trying again can help.
#[derive(Debug)]
pub struct SendError {
    pub message: String,
    /// The server refused for good (bad address, 5xx): no retry.
    pub permanent: bool,
}

/// The configured way out.
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// No SMTP server: each mail is written to the log and marked `logged`.
    Log,
}

impl Transport {
    /// From `smtp_url` (`smtp://[user[:password]@]host[:port]` plain or, with `?tls=required`,
    /// STARTTLS; `smtps://` implicit TLS) and an optional password read from
    /// `smtp_password_file`. An empty URL means the log.
    pub fn new(smtp_url: &str, password: Option<&str>) -> Result<Self, String> {
        if smtp_url.trim().is_empty() {
            return Ok(Self::Log);
        }
        let url = url::Url::parse(smtp_url).map_err(|e| format!("smtp_url is not a URL ({e})"))?;
        if !matches!(url.scheme(), "smtp" | "smtps") {
            return Err(format!(
                "smtp_url must start with smtp:// or smtps://, not `{}:`",
                url.scheme()
            ));
        }
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| format!("smtp_url: {e}"))?
            .timeout(Some(Duration::from_secs(30)));
        if let Some(password) = password {
            let user = percent_encoding::percent_decode_str(url.username())
                .decode_utf8_lossy()
                .into_owned();
            builder = builder.credentials(Credentials::new(user, password.to_string()));
        }
        Ok(Self::Smtp(builder.build()))
    }

    pub fn is_smtp(&self) -> bool {
        matches!(self, Self::Smtp(_))
    }

    /// Sends one message (From: the tenant's address, else `default_from`).
    pub async fn send(&self, mail: &ClaimedMail, default_from: &str) -> Result<(), SendError> {
        let message = build(mail, default_from)?;
        match self {
            Self::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| SendError {
                permanent: e.is_permanent(),
                message: e.to_string(),
            }),
            Self::Log => {
                tracing::info!(
                    mail_id = %mail.id,
                    to = %mail.to,
                    kind = %mail.kind,
                    subject = %mail.subject,
                    text = %mail.text,
                    "SMTP is not configured (set smtp_url or CASTELLAN_SMTP_URL to send mail): this mail was written to the log instead"
                );
                Ok(())
            }
        }
    }
}

fn permanent(message: String) -> SendError {
    SendError {
        message,
        permanent: true,
    }
}

/// The message as it goes on the wire: multipart/alternative with the text and HTML parts.
pub fn build(mail: &ClaimedMail, default_from: &str) -> Result<Message, SendError> {
    let from_text = mail.from.as_deref().unwrap_or(default_from);
    let from: Mailbox = from_text
        .parse()
        .map_err(|e| permanent(format!("the From address `{from_text}` is not valid: {e}")))?;
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|e| permanent(format!("the address `{}` is not valid: {e}", mail.to)))?;
    let mut builder = Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(mail.message_id.clone()))
        .date_now();
    for (name, value) in &mail.headers {
        let name = HeaderName::new_from_ascii(name.clone())
            .map_err(|e| permanent(format!("bad header name `{name}`: {e}")))?;
        builder = builder.raw_header(HeaderValue::new(name, value.clone()));
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))
        .map_err(|e| permanent(format!("the message cannot be built: {e}")))
}
