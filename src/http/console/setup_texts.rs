//! The fixed strings of the link page (`/t/{tenant}/setup`), in the languages of the sign-in
//! pages. `{email}` and `{slug}` stand for values the template shows escaped.

use crate::http::oidc::i18n::Lang;

pub struct SetupTexts {
    pub form_title: &'static str,
    /// The owner's set-up: `{email}` is the owner.
    pub owner_intro: &'static str,
    /// An invitation: `{email}` is the person invited.
    pub invite_intro: &'static str,
    pub password: &'static str,
    pub password_hint: &'static str,
    pub confirm: &'static str,
    pub submit: &'static str,
    pub mismatch: &'static str,
    pub gone_title: &'static str,
    pub gone_why: &'static str,
    pub gone_invited: &'static str,
    pub gone_owner: &'static str,
    pub sign_in: &'static str,
    pub or: &'static str,
    pub passkey_about: &'static str,
    pub use_passkey: &'static str,
}

const EN: SetupTexts = SetupTexts {
    form_title: "Set your password",
    owner_intro: "Choose the password of {email}, the owner of this organisation. You are then signed in and reach the console.",
    invite_intro: "You are invited to join this organisation. Choose the password of {email}; you are then signed in.",
    password: "New password",
    password_hint: "At least 8 characters; not a common password, nor your email or the organisation's name.",
    confirm: "The same password again",
    submit: "Set the password",
    mismatch: "The two passwords are not the same.",
    gone_title: "This link no longer works",
    gone_why: "This link was already used, has expired, or was replaced by a newer one.",
    gone_invited: "If you already chose your password, sign in with it. Otherwise ask the person who invited you to send you a new invitation.",
    gone_owner: "The organisation's owner can get a new set-up link from whoever runs this server: {slug}.",
    sign_in: "Sign in",
    or: "or",
    passkey_about: "Sign in with a passkey instead of a password: your device's fingerprint, face or screen lock.",
    use_passkey: "Use a passkey instead",
};

const FR: SetupTexts = SetupTexts {
    form_title: "Choisissez votre mot de passe",
    owner_intro: "Choisissez le mot de passe de {email}, propriétaire de cette organisation. Vous serez ensuite connecté et arriverez à la console.",
    invite_intro: "Vous êtes invité à rejoindre cette organisation. Choisissez le mot de passe de {email} ; vous serez ensuite connecté.",
    password: "Nouveau mot de passe",
    password_hint: "Au moins 8 caractères ; pas un mot de passe courant, ni votre e-mail ni le nom de l'organisation.",
    confirm: "Le même mot de passe, à nouveau",
    submit: "Enregistrer le mot de passe",
    mismatch: "Les deux mots de passe ne sont pas identiques.",
    gone_title: "Ce lien ne fonctionne plus",
    gone_why: "Ce lien a déjà été utilisé, a expiré ou a été remplacé par un plus récent.",
    gone_invited: "Si vous avez déjà choisi votre mot de passe, connectez-vous avec. Sinon, demandez à la personne qui vous a invité de vous envoyer une nouvelle invitation.",
    gone_owner: "Le propriétaire de l'organisation peut obtenir un nouveau lien auprès de l'exploitant de ce serveur : {slug}.",
    sign_in: "Se connecter",
    or: "ou",
    passkey_about: "Connectez-vous avec une clé d'accès plutôt qu'un mot de passe : l'empreinte, le visage ou le verrouillage de votre appareil.",
    use_passkey: "Utiliser une clé d'accès",
};

const DE: SetupTexts = SetupTexts {
    form_title: "Legen Sie Ihr Passwort fest",
    owner_intro: "Wählen Sie das Passwort von {email}, dem Eigentümer dieser Organisation. Danach sind Sie angemeldet und gelangen zur Konsole.",
    invite_intro: "Sie sind eingeladen, dieser Organisation beizutreten. Wählen Sie das Passwort von {email}; danach sind Sie angemeldet.",
    password: "Neues Passwort",
    password_hint: "Mindestens 8 Zeichen; kein gängiges Passwort, weder Ihre E-Mail-Adresse noch der Name der Organisation.",
    confirm: "Dasselbe Passwort noch einmal",
    submit: "Passwort festlegen",
    mismatch: "Die beiden Passwörter stimmen nicht überein.",
    gone_title: "Dieser Link funktioniert nicht mehr",
    gone_why: "Dieser Link wurde bereits verwendet, ist abgelaufen oder wurde durch einen neueren ersetzt.",
    gone_invited: "Wenn Sie Ihr Passwort schon gewählt haben, melden Sie sich damit an. Andernfalls bitten Sie die Person, die Sie eingeladen hat, Ihnen eine neue Einladung zu senden.",
    gone_owner: "Der Eigentümer der Organisation erhält einen neuen Einrichtungslink beim Betreiber dieses Servers: {slug}.",
    sign_in: "Anmelden",
    or: "oder",
    passkey_about: "Melden Sie sich mit einem Passkey statt mit einem Passwort an: Fingerabdruck, Gesicht oder Bildschirmsperre Ihres Geräts.",
    use_passkey: "Stattdessen einen Passkey verwenden",
};

impl SetupTexts {
    pub fn of(lang: Lang) -> &'static SetupTexts {
        match lang {
            Lang::En => &EN,
            Lang::Fr => &FR,
            Lang::De => &DE,
        }
    }
}
