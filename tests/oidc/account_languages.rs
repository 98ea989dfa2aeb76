//! The account portal in French and German (issue 14): the navigation (with the email page)
//! and the services' field errors are in the person's language on the page, while the admin
//! API keeps the services' English words in its problem+json.

use crate::backends;
use crate::browser::{PASSWORD, user_with_password};
use crate::common::{Backend, TestServer};
use crate::console_account::{api_user, id_of, post_with_csrf, signed_in};
use serde_json::json;

backends!(field_errors_are_in_the_persons_language);

/// What each language says, where.
struct Expected {
    locale: &'static str,
    email_link: &'static str,
    too_long: &'static str,
    not_a_number: &'static str,
    not_one_of: &'static str,
    guessable: &'static str,
}

const LANGUAGES: [Expected; 2] = [
    Expected {
        locale: "fr",
        email_link: "<a href=\"/t/acme/account/email\">Adresse e-mail</a>",
        too_long: "Téléphone : 50 caractères imprimables au plus.",
        not_a_number: "Étage doit être un nombre.",
        not_one_of: "Équipe doit être l&#39;une de ces valeurs : rouge, bleu, vert clair.",
        guessable: "Ce mot de passe est l&#39;un des plus utilisés ; choisissez-en un autre.",
    },
    Expected {
        locale: "de",
        email_link: "<a href=\"/t/acme/account/email\">E-Mail-Adresse</a>",
        too_long: "Telefon: höchstens 50 druckbare Zeichen.",
        not_a_number: "Étage muss eine Zahl sein.",
        not_one_of: "Équipe muss einer dieser Werte sein: rouge, bleu, vert clair.",
        guessable: "Dieses Passwort gehört zu den meistverwendeten; wählen Sie ein anderes.",
    },
];

/// The English words of the services, which no French or German page may show.
const ENGLISH: [&str; 4] = [
    "must be at most",
    "must be a number",
    "must be one of",
    "commonly used",
];

/// `&#39;` as askama escapes an apostrophe; either spelling is the same text.
fn shows(body: &str, text: &str) -> bool {
    body.contains(text) || body.contains(&text.replace("&#39;", "&#x27;"))
}

async fn field_errors_are_in_the_persons_language(b: Backend) {
    let s = TestServer::start(b).await;
    for def in [
        json!({"key": "floor", "label": "Étage", "kind": "number"}),
        json!({"key": "team", "label": "Équipe", "kind": "enum",
               "options": ["rouge", "bleu", "vert clair"]}),
    ] {
        let (st, v) = s.post("/attributes", def).await;
        assert_eq!(st, 201, "{v}");
    }
    let (st, v) = s
        .put(
            "/settings/profile",
            json!({"editable": ["phone", "locale", "attributes.floor", "attributes.team"]}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let id = id_of(&user_with_password(&s, "zoë@acme.test").await).await;
    let b = signed_in(&s, "zoë@acme.test").await;

    for lang in LANGUAGES {
        let (st, v) = s
            .patch(&format!("/users/{id}"), json!({"locale": lang.locale}))
            .await;
        assert_eq!(st, 200, "{v}");
        let before = api_user(&s, &id).await;
        let page = b.get("/t/acme/account/email").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let current = lang.email_link.replace("\">", "\" aria-current=\"page\">");
        assert!(
            page.body.contains(&current),
            "{}: {}",
            lang.locale,
            page.body
        );
        assert!(
            b.get("/t/acme/account")
                .await
                .body
                .contains(lang.email_link),
            "{}: the email entry, not current on the profile",
            lang.locale
        );

        for (field, typed, said) in [
            ("phone", "9".repeat(60), lang.too_long),
            ("attributes.floor", "trois".into(), lang.not_a_number),
            ("attributes.team", "jaune".into(), lang.not_one_of),
        ] {
            let refused = post_with_csrf(
                &b,
                "/t/acme/account",
                "/t/acme/account",
                &[("locale", lang.locale), (field, &typed)],
            )
            .await;
            assert_eq!(refused.status, 400, "{field}: {}", refused.body);
            let error = format!("<p class=\"field-error\" id=\"e-{field}\">");
            let at = refused.body.find(&error).expect("the error by its field");
            let error_text = &refused.body[at + error.len()..];
            let error_text = &error_text[..error_text.find("</p>").unwrap()];
            assert!(shows(error_text, said), "{}: {error_text}", lang.locale);
            for words in ENGLISH {
                assert!(!refused.body.contains(words), "{}: {words}", lang.locale);
            }
            assert_eq!(api_user(&s, &id).await, before, "{field}: nothing saved");
        }

        let url = "/t/acme/account/password";
        let refused = post_with_csrf(
            &b,
            url,
            url,
            &[
                ("current", PASSWORD),
                ("new", "password123"),
                ("confirm", "password123"),
            ],
        )
        .await;
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert!(
            shows(&refused.body, lang.guessable),
            "{}: {}",
            lang.locale,
            refused.body
        );
        assert!(!refused.body.contains("commonly used"), "{}", lang.locale);
    }

    // The admin API keeps the services' English words for the same refusal.
    let (st, v) = s
        .patch(&format!("/users/{id}"), json!({"phone": "9".repeat(60)}))
        .await;
    assert_eq!(st.as_u16(), 422, "{v}");
    assert_eq!(
        v["detail"], "`phone` must be at most 50 printable characters",
        "{v}"
    );
    // An English page says it in English, by the field's label.
    let (st, _) = s
        .patch(&format!("/users/{id}"), json!({"locale": "en"}))
        .await;
    assert_eq!(st, 200);
    let refused = post_with_csrf(
        &b,
        "/t/acme/account",
        "/t/acme/account",
        &[("locale", "en"), ("phone", &"9".repeat(60))],
    )
    .await;
    assert!(
        refused
            .body
            .contains("Phone must be at most 50 printable characters."),
        "{}",
        refused.body
    );
}
