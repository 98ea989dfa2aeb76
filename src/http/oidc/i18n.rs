//! The languages of the server-rendered pages (OpenID Connect Core §3.1.2.1 `ui_locales`):
//! English, French and German. The request's `ui_locales` wins, then `Accept-Language`, then
//! English; a regional tag (`fr-CA`) matches its language.

use axum::http::{HeaderMap, header};

/// A language the pages are written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    En,
    Fr,
    De,
}

impl Lang {
    /// The BCP 47 tag, for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Fr => "fr",
            Self::De => "de",
        }
    }

    /// The language of a BCP 47 tag, by its primary subtag.
    fn of_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?;
        [Self::En, Self::Fr, Self::De]
            .into_iter()
            .find(|l| primary.eq_ignore_ascii_case(l.tag()))
    }

    /// The first supported tag of `ui_locales` (space-separated, in order of preference).
    fn of_ui_locales(ui_locales: &str) -> Option<Self> {
        ui_locales.split(' ').take(20).find_map(Self::of_tag)
    }

    /// The supported language the `Accept-Language` header prefers most (RFC 9110 §12.5.4).
    fn of_accept_language(value: &str) -> Option<Self> {
        let mut ranked: Vec<(u16, usize, Self)> = Vec::new();
        for (i, item) in value.split(',').take(32).enumerate() {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
                .filter(|q| (0.0..=1.0).contains(q))
                .unwrap_or(0.0);
            if let Some(lang) = Self::of_tag(tag).filter(|_| q > 0.0) {
                ranked.push(((q * 1000.0) as u16, i, lang));
            }
        }
        ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked.first().map(|r| r.2)
    }

    /// The language for a page: `ui_locales` first, then the browser's `Accept-Language`.
    pub fn choose(ui_locales: Option<&str>, headers: &HeaderMap) -> Self {
        ui_locales
            .and_then(Self::of_ui_locales)
            .or_else(|| {
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Self::of_accept_language)
            })
            .unwrap_or_default()
    }

    /// The fixed strings of the pages in this language.
    pub fn texts(self) -> &'static Texts {
        match self {
            Self::En => &EN,
            Self::Fr => &FR,
            Self::De => &DE,
        }
    }
}

/// Every fixed string of the pages. `{app}` and `{email}` are filled in by the page.
pub struct Texts {
    pub sign_in: &'static str,
    /// The sign-in page's identifier field, which takes an email or a username.
    pub identifier: &'static str,
    pub password: &'static str,
    /// The "remember me" checkbox of the sign-in page.
    pub remember_me: &'static str,
    /// The sign-in page's passkey button.
    pub passkey_sign_in: &'static str,
    /// The one answer to every failed sign-in.
    pub refused: &'static str,
    pub footer: &'static str,
    pub error_hint: &'static str,
    pub form_expired_title: &'static str,
    pub form_expired: &'static str,
    pub form_unreadable: &'static str,
    pub link_invalid_title: &'static str,
    pub params_unreadable: &'static str,
    pub failed_title: &'static str,
    pub internal: &'static str,
    /// The page of a sign-in turned away because too many are being checked (503).
    pub busy_title: &'static str,
    pub busy: &'static str,
    pub consent_title: &'static str,
    pub signed_in_as: &'static str,
    pub consent_lead: &'static str,
    pub consent_already: &'static str,
    pub consent_note: &'static str,
    pub allow: &'static str,
    pub deny: &'static str,
    /// Between the password form and the passkey button.
    pub or: &'static str,
    pub sign_out: &'static str,
    /// The sign-out confirmation; `{tenant}` is the organisation's name.
    pub logout_title: &'static str,
    pub logout_app_asks: &'static str,
    pub logout_someone_asks: &'static str,
    pub logout_signed_in_as: &'static str,
    pub stay_signed_in: &'static str,
    pub signed_out_title: &'static str,
    pub signed_out: &'static str,
    pub logout_expired_title: &'static str,
    pub logout_expired: &'static str,
    pub logout_invalid_title: &'static str,
    /// The tenant's home page.
    pub home_signed_in_title: &'static str,
    pub home_signed_in: &'static str,
    pub home_signed_out_title: &'static str,
    pub home_signed_out: &'static str,
    pub not_found_title: &'static str,
    pub no_such_tenant: &'static str,
    scopes: [&'static str; 6],
}

impl Texts {
    /// What granting a standard scope means, in plain words; `None` for an API scope
    /// (`ns:name`), which the page shows as is.
    pub fn scope(&self, scope: &str) -> Option<&'static str> {
        crate::domain::oidc::KNOWN_SCOPES
            .iter()
            .position(|s| *s == scope)
            .map(|i| self.scopes[i])
    }
}

// In the order of `KNOWN_SCOPES`: openid, profile, email, phone, offline_access, roles.
static EN: Texts = Texts {
    sign_in: "Sign in",
    identifier: "Email or username",
    password: "Password",
    remember_me: "Keep me signed in on this device",
    passkey_sign_in: "Sign in with a passkey",
    refused: crate::oidc::signin::REFUSED,
    footer: "Secured by Castellan",
    error_hint: "If you followed a link from an application, go back to it and try again.",
    form_expired_title: "Form expired",
    form_expired: "The form has expired or was not sent from this site. Go back, reload the page and try again.",
    form_unreadable: "The form was not sent correctly.",
    link_invalid_title: "This sign-in link is not valid",
    params_unreadable: "The request's parameters cannot be read.",
    failed_title: "Something went wrong",
    internal: "An internal error occurred; it has been logged. Please try again.",
    busy_title: "Please try again shortly",
    busy: "Too many sign-ins are being checked right now. Wait a moment, then go back and sign in again.",
    consent_title: "{app} wants to access your account",
    signed_in_as: "Signed in as {email}",
    consent_lead: "If you allow it, {app} will be able to:",
    consent_already: "You already allowed it to:",
    consent_note: "Only allow applications you trust. Your administrator can withdraw this permission at any time.",
    allow: "Allow",
    deny: "Deny",
    or: "or",
    sign_out: "Sign out",
    logout_title: "Sign out of {tenant}?",
    logout_app_asks: "{app} asks to sign you out.",
    logout_someone_asks: "An application asks to sign you out.",
    logout_signed_in_as: "You are signed in as {email}; signing out ends this sign-in for every application that uses it.",
    stay_signed_in: "Stay signed in",
    signed_out_title: "You are signed out",
    signed_out: "You can close this page. To use an application again, open it and sign in.",
    logout_expired_title: "Sign-out form expired",
    logout_expired: "The sign-out form has expired or was not sent from this site. You are still signed in.",
    logout_invalid_title: "This sign-out link is not valid",
    home_signed_in_title: "You are signed in",
    home_signed_in: "Signed in as {email}. You can close this page and return to your application.",
    home_signed_out_title: "You are not signed in",
    home_signed_out: "Open the application you want to use; it will bring you to the sign-in page.",
    not_found_title: "Not found",
    no_such_tenant: "There is no such organisation here.",
    scopes: [
        "Sign you in",
        "See your name and profile",
        "See your email address",
        "See your phone number",
        "Stay signed in and access your account when you're not there",
        "See your roles and permissions",
    ],
};

static FR: Texts = Texts {
    sign_in: "Se connecter",
    identifier: "Adresse e-mail ou nom d’utilisateur",
    password: "Mot de passe",
    remember_me: "Rester connecté sur cet appareil",
    passkey_sign_in: "Se connecter avec une clé d\u{2019}accès",
    refused: "Adresse e-mail ou mot de passe incorrect",
    footer: "Sécurisé par Castellan",
    error_hint: "Si vous avez suivi un lien depuis une application, revenez-y et réessayez.",
    form_expired_title: "Formulaire expiré",
    form_expired: "Le formulaire a expiré ou n'a pas été envoyé depuis ce site. Revenez en arrière, rechargez la page et réessayez.",
    form_unreadable: "Le formulaire n'a pas été envoyé correctement.",
    link_invalid_title: "Ce lien de connexion n'est pas valide",
    params_unreadable: "Les paramètres de la demande sont illisibles.",
    failed_title: "Une erreur est survenue",
    internal: "Une erreur interne est survenue ; elle a été enregistrée. Veuillez réessayer.",
    busy_title: "Veuillez réessayer dans un instant",
    busy: "Trop de connexions sont en cours de vérification. Patientez un instant, puis revenez en arrière et connectez-vous à nouveau.",
    consent_title: "{app} souhaite accéder à votre compte",
    signed_in_as: "Connecté en tant que {email}",
    consent_lead: "Si vous l'autorisez, {app} pourra :",
    consent_already: "Vous l'avez déjà autorisé à :",
    consent_note: "N'autorisez que les applications de confiance. Votre administrateur peut retirer cette autorisation à tout moment.",
    allow: "Autoriser",
    deny: "Refuser",
    or: "ou",
    sign_out: "Se déconnecter",
    logout_title: "Se déconnecter de {tenant} ?",
    logout_app_asks: "{app} demande à vous déconnecter.",
    logout_someone_asks: "Une application demande à vous déconnecter.",
    logout_signed_in_as: "Vous êtes connecté en tant que {email} ; la déconnexion met fin à cette connexion pour toutes les applications qui l’utilisent.",
    stay_signed_in: "Rester connecté",
    signed_out_title: "Vous êtes déconnecté",
    signed_out: "Vous pouvez fermer cette page. Pour utiliser à nouveau une application, ouvrez-la et connectez-vous.",
    logout_expired_title: "Formulaire de déconnexion expiré",
    logout_expired: "Le formulaire de déconnexion a expiré ou n’a pas été envoyé depuis ce site. Vous êtes toujours connecté.",
    logout_invalid_title: "Ce lien de déconnexion n’est pas valide",
    home_signed_in_title: "Vous êtes connecté",
    home_signed_in: "Connecté en tant que {email}. Vous pouvez fermer cette page et revenir à votre application.",
    home_signed_out_title: "Vous n’êtes pas connecté",
    home_signed_out: "Ouvrez l’application que vous souhaitez utiliser ; elle vous mènera à la page de connexion.",
    not_found_title: "Introuvable",
    no_such_tenant: "Cette organisation n’existe pas ici.",
    scopes: [
        "Vous connecter",
        "Voir votre nom et votre profil",
        "Voir votre adresse e-mail",
        "Voir votre numéro de téléphone",
        "Rester connecté et accéder à votre compte en votre absence",
        "Voir vos rôles et vos autorisations",
    ],
};

static DE: Texts = Texts {
    sign_in: "Anmelden",
    identifier: "E-Mail-Adresse oder Benutzername",
    password: "Passwort",
    remember_me: "Auf diesem Gerät angemeldet bleiben",
    passkey_sign_in: "Mit einem Passkey anmelden",
    refused: "E-Mail-Adresse oder Passwort ist falsch",
    footer: "Geschützt durch Castellan",
    error_hint: "Wenn Sie einem Link aus einer Anwendung gefolgt sind, kehren Sie dorthin zurück und versuchen Sie es erneut.",
    form_expired_title: "Formular abgelaufen",
    form_expired: "Das Formular ist abgelaufen oder wurde nicht von dieser Website gesendet. Gehen Sie zurück, laden Sie die Seite neu und versuchen Sie es erneut.",
    form_unreadable: "Das Formular wurde nicht korrekt gesendet.",
    link_invalid_title: "Dieser Anmeldelink ist ungültig",
    params_unreadable: "Die Parameter der Anfrage können nicht gelesen werden.",
    failed_title: "Etwas ist schiefgelaufen",
    internal: "Ein interner Fehler ist aufgetreten und wurde protokolliert. Bitte versuchen Sie es erneut.",
    busy_title: "Bitte versuchen Sie es gleich noch einmal",
    busy: "Gerade werden zu viele Anmeldungen geprüft. Warten Sie einen Moment, gehen Sie dann zurück und melden Sie sich erneut an.",
    consent_title: "{app} möchte auf Ihr Konto zugreifen",
    signed_in_as: "Angemeldet als {email}",
    consent_lead: "Wenn Sie zustimmen, kann {app}:",
    consent_already: "Bereits erlaubt:",
    consent_note: "Erlauben Sie nur Anwendungen, denen Sie vertrauen. Ihr Administrator kann diese Berechtigung jederzeit widerrufen.",
    allow: "Zulassen",
    deny: "Ablehnen",
    or: "oder",
    sign_out: "Abmelden",
    logout_title: "Von {tenant} abmelden?",
    logout_app_asks: "{app} möchte Sie abmelden.",
    logout_someone_asks: "Eine Anwendung möchte Sie abmelden.",
    logout_signed_in_as: "Sie sind als {email} angemeldet; die Abmeldung beendet diese Anmeldung für alle Anwendungen, die sie nutzen.",
    stay_signed_in: "Angemeldet bleiben",
    signed_out_title: "Sie sind abgemeldet",
    signed_out: "Sie können diese Seite schließen. Um eine Anwendung wieder zu nutzen, öffnen Sie sie und melden Sie sich an.",
    logout_expired_title: "Abmeldeformular abgelaufen",
    logout_expired: "Das Abmeldeformular ist abgelaufen oder wurde nicht von dieser Website gesendet. Sie sind weiterhin angemeldet.",
    logout_invalid_title: "Dieser Abmeldelink ist ungültig",
    home_signed_in_title: "Sie sind angemeldet",
    home_signed_in: "Angemeldet als {email}. Sie können diese Seite schließen und zu Ihrer Anwendung zurückkehren.",
    home_signed_out_title: "Sie sind nicht angemeldet",
    home_signed_out: "Öffnen Sie die Anwendung, die Sie nutzen möchten; sie führt Sie zur Anmeldeseite.",
    not_found_title: "Nicht gefunden",
    no_such_tenant: "Diese Organisation gibt es hier nicht.",
    scopes: [
        "Sie anmelden",
        "Ihren Namen und Ihr Profil sehen",
        "Ihre E-Mail-Adresse sehen",
        "Ihre Telefonnummer sehen",
        "Angemeldet bleiben und auf Ihr Konto zugreifen, wenn Sie nicht da sind",
        "Ihre Rollen und Berechtigungen sehen",
    ],
};

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static(v));
        h
    }

    #[test]
    fn ui_locales_then_accept_language_then_english() {
        let none = HeaderMap::new();
        assert_eq!(Lang::choose(Some("fr"), &none), Lang::Fr);
        assert_eq!(Lang::choose(Some("fr-CA de"), &none), Lang::Fr);
        assert_eq!(Lang::choose(Some("ja DE-at"), &none), Lang::De);
        assert_eq!(Lang::choose(Some("ja"), &accept("de")), Lang::De);
        assert_eq!(Lang::choose(Some("ja"), &none), Lang::En);
        assert_eq!(Lang::choose(None, &none), Lang::En);
        assert_eq!(
            Lang::choose(None, &accept("ja, fr;q=0.5, de;q=0.8")),
            Lang::De
        );
        assert_eq!(Lang::choose(None, &accept("fr;q=0, en-GB;q=0.1")), Lang::En);
        assert_eq!(Lang::choose(None, &accept("*, de;q=bad")), Lang::En);
        assert_eq!(Lang::choose(None, &accept("fr-CH, fr;q=0.9")), Lang::Fr);
    }

    #[test]
    fn scopes_in_plain_words() {
        assert_eq!(Lang::En.texts().scope("openid"), Some("Sign you in"));
        assert_eq!(
            Lang::Fr.texts().scope("email"),
            Some("Voir votre adresse e-mail")
        );
        assert_eq!(Lang::De.texts().scope("billing:read"), None);
    }
}
