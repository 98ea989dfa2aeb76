//! The built-in wording of every kind of mail in English, French and German, with placeholders
//! (`{name}`, `{link}`...) that `render` fills in.

use crate::domain::mail::MailKind;

/// One kind's wording in one locale.
pub struct Builtin {
    pub subject: &'static str,
    pub paragraphs: &'static [&'static str],
    /// The label of the link's button, for kinds that carry a `{link}`.
    pub action: Option<&'static str>,
}

/// The closing lines, per locale: who sent it, and the unsubscribe line of optional
/// notifications.
pub struct Footer {
    pub sent_by: &'static str,
    pub unsubscribe: &'static str,
}

pub fn footer(locale: &str) -> Footer {
    match locale {
        "fr" => Footer {
            sent_by: "Ce message vous est envoyé par {tenant}.",
            unsubscribe: "Ne plus recevoir ces notifications",
        },
        "de" => Footer {
            sent_by: "Diese Nachricht wurde Ihnen von {tenant} gesendet.",
            unsubscribe: "Diese Benachrichtigungen abbestellen",
        },
        _ => Footer {
            sent_by: "This message was sent to you by {tenant}.",
            unsubscribe: "Unsubscribe from these notifications",
        },
    }
}

pub fn builtin(kind: MailKind, locale: &str) -> Builtin {
    match locale {
        "fr" => french(kind),
        "de" => german(kind),
        _ => english(kind),
    }
}

fn english(kind: MailKind) -> Builtin {
    match kind {
        MailKind::Notification => Builtin {
            subject: "{tenant}: {message}",
            paragraphs: &["Hello {name},", "{message}"],
            action: None,
        },
        MailKind::Invitation => Builtin {
            subject: "You are invited to {tenant}",
            paragraphs: &[
                "Hello {name},",
                "You have been invited to {tenant}. Open the link below to choose how you will sign in. The link works once and expires in {days} days.",
            ],
            action: Some("Accept the invitation"),
        },
        MailKind::PasswordReset => Builtin {
            subject: "Reset your {tenant} password",
            paragraphs: &[
                "Hello {name},",
                "Someone asked to reset the password of your {tenant} account. If it was you, open the link below within {minutes} minutes; it works once.",
                "If it was not you, ignore this message: your password stays as it is.",
            ],
            action: Some("Choose a new password"),
        },
        MailKind::EmailVerification => Builtin {
            subject: "Confirm your email address for {tenant}",
            paragraphs: &[
                "Hello {name},",
                "Please confirm that {email} is the address of your {tenant} account by opening the link below.",
            ],
            action: Some("Confirm this address"),
        },
        MailKind::EmailChange => Builtin {
            subject: "Confirm your new email address for {tenant}",
            paragraphs: &[
                "Hello {name},",
                "You asked to make {email} the address of your {tenant} account. Open the link below to confirm it; until you do, your account keeps its previous address.",
                "If it was not you, ignore this message: nothing changes.",
            ],
            action: Some("Confirm this address"),
        },
        MailKind::EmailChanged => Builtin {
            subject: "Your {tenant} email address was changed",
            paragraphs: &[
                "Hello {name},",
                "The email address of your {tenant} account was changed to {email}. If you did not make this change, contact your administrator at once.",
            ],
            action: None,
        },
    }
}

fn french(kind: MailKind) -> Builtin {
    match kind {
        MailKind::Notification => Builtin {
            subject: "{tenant} : {message}",
            paragraphs: &["Bonjour {name},", "{message}"],
            action: None,
        },
        MailKind::Invitation => Builtin {
            subject: "Vous êtes invité·e à rejoindre {tenant}",
            paragraphs: &[
                "Bonjour {name},",
                "Vous êtes invité·e à rejoindre {tenant}. Ouvrez le lien ci-dessous pour choisir comment vous connecter. Le lien ne sert qu'une fois et expire dans {days} jours.",
            ],
            action: Some("Accepter l'invitation"),
        },
        MailKind::PasswordReset => Builtin {
            subject: "Réinitialisez votre mot de passe {tenant}",
            paragraphs: &[
                "Bonjour {name},",
                "Une réinitialisation du mot de passe de votre compte {tenant} a été demandée. Si c'était vous, ouvrez le lien ci-dessous dans les {minutes} minutes ; il ne sert qu'une fois.",
                "Si ce n'était pas vous, ignorez ce message : votre mot de passe reste inchangé.",
            ],
            action: Some("Choisir un nouveau mot de passe"),
        },
        MailKind::EmailVerification => Builtin {
            subject: "Confirmez votre adresse e-mail pour {tenant}",
            paragraphs: &[
                "Bonjour {name},",
                "Confirmez que {email} est bien l'adresse de votre compte {tenant} en ouvrant le lien ci-dessous.",
            ],
            action: Some("Confirmer cette adresse"),
        },
        MailKind::EmailChange => Builtin {
            subject: "Confirmez votre nouvelle adresse e-mail pour {tenant}",
            paragraphs: &[
                "Bonjour {name},",
                "Vous avez demandé que {email} devienne l'adresse de votre compte {tenant}. Ouvrez le lien ci-dessous pour la confirmer ; d'ici là, votre compte garde son adresse précédente.",
                "Si ce n'était pas vous, ignorez ce message : rien ne change.",
            ],
            action: Some("Confirmer cette adresse"),
        },
        MailKind::EmailChanged => Builtin {
            subject: "L'adresse e-mail de votre compte {tenant} a changé",
            paragraphs: &[
                "Bonjour {name},",
                "L'adresse e-mail de votre compte {tenant} est désormais {email}. Si vous n'êtes pas à l'origine de ce changement, contactez tout de suite votre administrateur.",
            ],
            action: None,
        },
    }
}

fn german(kind: MailKind) -> Builtin {
    match kind {
        MailKind::Notification => Builtin {
            subject: "{tenant}: {message}",
            paragraphs: &["Hallo {name},", "{message}"],
            action: None,
        },
        MailKind::Invitation => Builtin {
            subject: "Einladung zu {tenant}",
            paragraphs: &[
                "Hallo {name},",
                "Sie wurden zu {tenant} eingeladen. Öffnen Sie den Link unten, um festzulegen, wie Sie sich anmelden. Der Link funktioniert einmal und läuft in {days} Tagen ab.",
            ],
            action: Some("Einladung annehmen"),
        },
        MailKind::PasswordReset => Builtin {
            subject: "Setzen Sie Ihr Passwort für {tenant} zurück",
            paragraphs: &[
                "Hallo {name},",
                "Für Ihr Konto bei {tenant} wurde das Zurücksetzen des Passworts angefordert. Wenn Sie das waren, öffnen Sie den Link unten innerhalb von {minutes} Minuten; er funktioniert einmal.",
                "Wenn Sie das nicht waren, ignorieren Sie diese Nachricht: Ihr Passwort bleibt unverändert.",
            ],
            action: Some("Neues Passwort wählen"),
        },
        MailKind::EmailVerification => Builtin {
            subject: "Bestätigen Sie Ihre E-Mail-Adresse für {tenant}",
            paragraphs: &[
                "Hallo {name},",
                "Bitte bestätigen Sie über den Link unten, dass {email} die Adresse Ihres Kontos bei {tenant} ist.",
            ],
            action: Some("Adresse bestätigen"),
        },
        MailKind::EmailChange => Builtin {
            subject: "Bestätigen Sie Ihre neue E-Mail-Adresse für {tenant}",
            paragraphs: &[
                "Hallo {name},",
                "Sie haben beantragt, dass {email} die Adresse Ihres Kontos bei {tenant} wird. Öffnen Sie den Link unten, um sie zu bestätigen; bis dahin behält Ihr Konto die bisherige Adresse.",
                "Wenn Sie das nicht waren, ignorieren Sie diese Nachricht: Es ändert sich nichts.",
            ],
            action: Some("Adresse bestätigen"),
        },
        MailKind::EmailChanged => Builtin {
            subject: "Die E-Mail-Adresse Ihres Kontos bei {tenant} wurde geändert",
            paragraphs: &[
                "Hallo {name},",
                "Die E-Mail-Adresse Ihres Kontos bei {tenant} lautet jetzt {email}. Wenn Sie diese Änderung nicht vorgenommen haben, wenden Sie sich sofort an Ihre Administration.",
            ],
            action: None,
        },
    }
}
