//! The services' field errors as the portal shows them. The services speak English (the admin
//! API's problem+json keeps their words); the portal reads what kind of error a message is and
//! says it in the person's language, by the field's label. A message of a kind the portal does
//! not know is shown as the service said it, the field's API name replaced by its label.

use crate::http::oidc::i18n::Lang;

/// What is wrong with a field, read from the service's message.
#[derive(Debug, PartialEq)]
enum Wrong {
    Empty,
    TooLong(String),
    NotAnEmail,
    NotText,
    NotNumber,
    NotBoolean,
    NotDate,
    NotOneOf(String),
    Required,
    NotDefined,
    PasswordShort(String),
    PasswordLong(String),
    PasswordCommon,
    PasswordContext,
    NotNotificationType,
    MandatoryNotification,
    NotChannel,
}

/// A message's shape (`{}` standing for its variable part) and the kind it says.
type Shape = (&'static str, fn(String) -> Wrong);

/// The services' messages about a named input begin with the name in backticks; what follows
/// says what is wrong. `(after the name, kind)`, a `{}` standing for the variable part.
const NAMED: &[Shape] = &[
    ("must not be empty", |_| Wrong::Empty),
    ("must be at most {} printable characters", Wrong::TooLong),
    ("must be at most {} characters", Wrong::TooLong),
    ("is not a valid email address", |_| Wrong::NotAnEmail),
    ("must be a string", |_| Wrong::NotText),
    ("must be a number", |_| Wrong::NotNumber),
    ("must be true or false", |_| Wrong::NotBoolean),
    ("must be a date of the form YYYY-MM-DD", |_| Wrong::NotDate),
    ("must be one of {}", Wrong::NotOneOf),
    ("is required", |_| Wrong::Required),
    ("is not a defined attribute", |_| Wrong::NotDefined),
    ("is not a notification type", |_| Wrong::NotNotificationType),
    ("is a mandatory security notification{}", |_| {
        Wrong::MandatoryNotification
    }),
    ("is not a channel{}", |_| Wrong::NotChannel),
];

/// The services' messages about a password (which is never named in them).
const PASSWORD: &[Shape] = &[
    (
        "a password has at least {} characters",
        Wrong::PasswordShort,
    ),
    ("a password has at most {} characters", Wrong::PasswordLong),
    (
        "this password is one of the most commonly used passwords; choose another",
        |_| Wrong::PasswordCommon,
    ),
    (
        "a password must not be the email address, its name part or the organisation's name",
        |_| Wrong::PasswordContext,
    ),
];

/// `text` against `pattern` (at most one `{}`): the part `{}` stands for, if it fits.
fn fit(pattern: &str, text: &str) -> Option<String> {
    match pattern.split_once("{}") {
        None => (pattern == text).then(String::new),
        Some((head, tail)) => text
            .strip_prefix(head)?
            .strip_suffix(tail)
            .map(str::to_owned),
    }
}

fn read(message: &str) -> Option<Wrong> {
    if let Some(named) = message.strip_prefix('`') {
        // The name may hold a backtick (a typed address): try every "` " that could close it.
        for (at, _) in named.match_indices("` ") {
            let rest = &named[at + 2..];
            if let Some(w) = NAMED.iter().find_map(|(p, kind)| fit(p, rest).map(kind)) {
                return Some(w);
            }
        }
        return None;
    }
    PASSWORD
        .iter()
        .find_map(|(p, kind)| fit(p, message).map(kind))
}

/// The sentence for `wrong` about the field labelled `label`, in `lang`.
fn say(lang: Lang, label: &str, wrong: Wrong) -> String {
    use Wrong as W;
    let (en, fr, de): (&str, &str, &str) = match &wrong {
        W::Empty => (
            "{label} must not be empty.",
            "{label} ne peut pas être vide.",
            "{label} darf nicht leer sein.",
        ),
        W::TooLong(_) => (
            "{label} must be at most {n} printable characters.",
            "{label} : {n} caractères imprimables au plus.",
            "{label}: höchstens {n} druckbare Zeichen.",
        ),
        W::NotAnEmail => (
            "This is not a valid email address.",
            "Ce n'est pas une adresse e-mail valide.",
            "Das ist keine gültige E-Mail-Adresse.",
        ),
        W::NotText => (
            "{label} must be a text.",
            "{label} doit être un texte.",
            "{label} muss ein Text sein.",
        ),
        W::NotNumber => (
            "{label} must be a number.",
            "{label} doit être un nombre.",
            "{label} muss eine Zahl sein.",
        ),
        W::NotBoolean => (
            "{label}: choose yes or no.",
            "{label} : choisissez oui ou non.",
            "{label}: wählen Sie Ja oder Nein.",
        ),
        W::NotDate => (
            "{label} must be a date (YYYY-MM-DD).",
            "{label} doit être une date (AAAA-MM-JJ).",
            "{label} muss ein Datum sein (JJJJ-MM-TT).",
        ),
        W::NotOneOf(_) => (
            "{label} must be one of: {n}.",
            "{label} doit être l'une de ces valeurs : {n}.",
            "{label} muss einer dieser Werte sein: {n}.",
        ),
        W::Required => (
            "{label} is required.",
            "{label} est obligatoire.",
            "{label} ist ein Pflichtfeld.",
        ),
        W::NotDefined => (
            "This field does not exist (any more).",
            "Ce champ n'existe pas (ou plus).",
            "Dieses Feld gibt es nicht (mehr).",
        ),
        W::PasswordShort(_) => (
            "A password has at least {n} characters.",
            "Un mot de passe compte au moins {n} caractères.",
            "Ein Passwort hat mindestens {n} Zeichen.",
        ),
        W::PasswordLong(_) => (
            "A password has at most {n} characters.",
            "Un mot de passe compte au plus {n} caractères.",
            "Ein Passwort hat höchstens {n} Zeichen.",
        ),
        W::PasswordCommon => (
            "This password is one of the most commonly used; choose another.",
            "Ce mot de passe est l'un des plus utilisés ; choisissez-en un autre.",
            "Dieses Passwort gehört zu den meistverwendeten; wählen Sie ein anderes.",
        ),
        W::PasswordContext => (
            "A password must not be your email address, its name part or the organisation's name.",
            "Un mot de passe ne doit être ni votre adresse e-mail, ni sa partie avant le @, ni le nom de l'organisation.",
            "Ein Passwort darf weder Ihre E-Mail-Adresse noch deren Namensteil oder der Name der Organisation sein.",
        ),
        W::NotNotificationType => (
            "{label} is not a notification of this organisation.",
            "{label} n'est pas une notification de cette organisation.",
            "{label} ist keine Benachrichtigung dieser Organisation.",
        ),
        W::MandatoryNotification => (
            "{label} is a mandatory security notification: it stays on, by email.",
            "{label} est une notification de sécurité obligatoire : elle reste active, par e-mail.",
            "{label} ist eine verpflichtende Sicherheitsbenachrichtigung: Sie bleibt aktiv, per E-Mail.",
        ),
        W::NotChannel => (
            "This is not a way notifications can come.",
            "Les notifications ne peuvent pas arriver par ce moyen.",
            "Auf diesem Weg können keine Benachrichtigungen kommen.",
        ),
    };
    let n = match wrong {
        W::TooLong(n) | W::NotOneOf(n) | W::PasswordShort(n) | W::PasswordLong(n) => n,
        _ => String::new(),
    };
    let text = match lang {
        Lang::En => en,
        Lang::Fr => fr,
        Lang::De => de,
    };
    text.replace("{n}", &n).replace("{label}", label)
}

/// A service's `message` about the input it names `name`, which the page labels `label`, in
/// `lang`.
pub fn field_error(lang: Lang, name: &str, label: &str, message: &str) -> String {
    match read(message) {
        Some(wrong) => say(lang, label, wrong),
        None => message.replace(&format!("`{name}`"), label),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::validate;
    use crate::domain::attributes::validate_value;
    use crate::domain::passwords::{Password, check_not_guessable};
    use crate::domain::{AttributeDef, AttributeKind, DomainError};
    use serde_json::json;

    fn message(e: DomainError) -> String {
        match e {
            DomainError::Invalid { message, .. } => message,
            other => panic!("not a field error: {other}"),
        }
    }

    fn def(kind: AttributeKind) -> AttributeDef {
        AttributeDef {
            id: crate::domain::AttributeId::generate(),
            key: "team".into(),
            label: "Team".into(),
            description: None,
            kind,
            options: vec!["red".into(), "blue".into()],
            required: false,
        }
    }

    /// The services' own messages, so that a reworded one fails here rather than falling back
    /// to English on a French page.
    fn services() -> Vec<(String, Wrong)> {
        let attr = |kind, v| message(validate_value(&def(kind), &v).unwrap_err());
        let context = vec!["ada@acme.test".to_owned()];
        vec![
            (
                message(validate::name("phone", " ", 50).unwrap_err()),
                Wrong::Empty,
            ),
            (
                message(validate::name("phone", &"9".repeat(60), 50).unwrap_err()),
                Wrong::TooLong("50".into()),
            ),
            (
                message(validate::email("email", "a` b@").unwrap_err()),
                Wrong::NotAnEmail,
            ),
            (
                attr(AttributeKind::Text, json!("x".repeat(1025))),
                Wrong::TooLong("1024".into()),
            ),
            (attr(AttributeKind::Text, json!(3)), Wrong::NotText),
            (
                attr(AttributeKind::Number, json!("three")),
                Wrong::NotNumber,
            ),
            (
                attr(AttributeKind::Boolean, json!("maybe")),
                Wrong::NotBoolean,
            ),
            (
                attr(AttributeKind::Date, json!("2026-13-40")),
                Wrong::NotDate,
            ),
            (
                attr(AttributeKind::Enum, json!("green")),
                Wrong::NotOneOf("red, blue".into()),
            ),
            (
                message(Password::new("short".into()).unwrap_err()),
                Wrong::PasswordShort("8".into()),
            ),
            (
                message(Password::new("x".repeat(5000)).unwrap_err()),
                Wrong::PasswordLong(crate::domain::passwords::MAX_LEN.to_string()),
            ),
            (
                message(
                    check_not_guessable(&Password::typed("password123".into()), &[]).unwrap_err(),
                ),
                Wrong::PasswordCommon,
            ),
            (
                message(
                    check_not_guessable(&Password::typed("ada@acme.test".into()), &context)
                        .unwrap_err(),
                ),
                Wrong::PasswordContext,
            ),
        ]
    }

    #[test]
    fn every_service_message_is_read() {
        for (text, wrong) in services() {
            assert_eq!(read(&text), Some(wrong), "{text}");
        }
    }

    #[test]
    fn pages_say_it_in_their_language() {
        let long = message(validate::name("phone", &"9".repeat(60), 50).unwrap_err());
        assert_eq!(
            field_error(Lang::Fr, "phone", "Téléphone", &long),
            "Téléphone : 50 caractères imprimables au plus."
        );
        assert_eq!(
            field_error(Lang::De, "phone", "Telefon", &long),
            "Telefon: höchstens 50 druckbare Zeichen."
        );
        assert_eq!(
            field_error(Lang::En, "phone", "Phone", &long),
            "Phone must be at most 50 printable characters."
        );
        // Every kind has a sentence of its own in each language, none left in English.
        for (text, _) in services() {
            let en = field_error(Lang::En, "team", "Team", &text);
            for lang in [Lang::Fr, Lang::De] {
                let said = field_error(lang, "team", "Team", &text);
                assert_ne!(said, en, "{text}");
                assert!(!said.contains('`'), "{said}");
            }
        }
    }

    #[test]
    fn an_unknown_message_keeps_the_services_words_with_the_label() {
        assert_eq!(
            field_error(Lang::Fr, "badge", "Badge", "`badge` is odd"),
            "Badge is odd"
        );
        assert_eq!(
            read("`x` is not a defined attribute"),
            Some(Wrong::NotDefined)
        );
        assert_eq!(read("`"), None);
        assert_eq!(read("`a\0` b"), None);
    }
}
