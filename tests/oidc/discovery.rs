//! OpenID Connect Discovery 1.0 and the JWKS, with key rotation.

use crate::backends;
use crate::common::{Backend, TestServer};

async fn discovery_document(b: Backend) {
    let s = TestServer::start(b).await;
    let res = s
        .client
        .get(format!(
            "{}/t/acme/.well-known/openid-configuration",
            s.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let d: serde_json::Value = res.json().await.unwrap();
    let iss = format!("{}/t/acme", s.base);
    assert_eq!(d["issuer"], iss.as_str());
    assert_eq!(d["token_endpoint"], format!("{iss}/token").as_str());
    assert_eq!(d["jwks_uri"], format!("{iss}/jwks").as_str());
    assert_eq!(d["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(d["subject_types_supported"], serde_json::json!(["public"]));
    assert_eq!(
        d["id_token_signing_alg_values_supported"],
        serde_json::json!(["ES256", "RS256", "EdDSA"])
    );
    assert_eq!(
        d["grant_types_supported"],
        serde_json::json!(["authorization_code", "refresh_token", "client_credentials"])
    );
    assert_eq!(
        d["authorization_endpoint"],
        format!("{iss}/authorize").as_str()
    );
    assert_eq!(
        d["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    assert_eq!(d["userinfo_endpoint"], format!("{iss}/userinfo").as_str());
    assert_eq!(
        d["introspection_endpoint"],
        format!("{iss}/introspect").as_str()
    );
    assert_eq!(
        d["introspection_endpoint_auth_methods_supported"],
        serde_json::json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt"
        ])
    );
    assert_eq!(
        d["token_endpoint_auth_methods_supported"],
        serde_json::json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none"
        ])
    );
    let assertion_algs = serde_json::json!(["RS256", "PS256", "ES256", "EdDSA"]);
    assert_eq!(
        d["token_endpoint_auth_signing_alg_values_supported"],
        assertion_algs
    );
    assert_eq!(
        d["introspection_endpoint_auth_signing_alg_values_supported"],
        assertion_algs
    );
    assert_eq!(
        d["prompt_values_supported"],
        serde_json::json!(["none", "login", "consent"])
    );
    assert_eq!(
        d["ui_locales_supported"],
        serde_json::json!(["en", "fr", "de"])
    );
    assert_eq!(d["revocation_endpoint"], format!("{iss}/revoke").as_str());
    assert_eq!(
        d["revocation_endpoint_auth_methods_supported"],
        serde_json::json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none"
        ])
    );
    assert_eq!(d["end_session_endpoint"], format!("{iss}/logout").as_str());
    assert_eq!(d["backchannel_logout_supported"], true);
    assert_eq!(d["backchannel_logout_session_supported"], true);

    let res = s
        .client
        .get(format!(
            "{}/t/nope/.well-known/openid-configuration",
            s.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let e: serde_json::Value = res.json().await.unwrap();
    assert_eq!(e["error"], "not_found");
}

async fn jwks_and_rotation(b: Backend) {
    let s = TestServer::start(b).await;
    let (id, secret, _) = crate::service_client(&s).await;
    let form = [("grant_type", "client_credentials")];
    let (st, _, t1) = crate::token(&s, "acme", Some((&id, &secret)), &form).await;
    assert_eq!(st, 200, "{t1}");
    let t1 = t1["access_token"].as_str().unwrap().to_owned();
    let kid1 = jsonwebtoken::decode_header(&t1).unwrap().kid.unwrap();
    crate::verify(&s, "acme", &t1).await;

    let (_, keys) = s.get("/keys").await;
    let keys = keys.as_array().unwrap().clone();
    let next = keys.iter().find(|k| k["state"] == "next").unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(keys.iter().all(|k| k.get("private_pkcs8").is_none()));
    // The next key is published before it signs.
    let jwks: serde_json::Value = s
        .client
        .get(format!("{}/t/acme/jwks", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(kids.contains(&next.as_str()) && kids.contains(&kid1.as_str()));
    assert!(jwks["keys"][0].get("d").is_none(), "no private parts");

    let (st, after) = s.post("/keys/rotate", serde_json::json!({})).await;
    assert_eq!(st, 200, "{after}");
    let (st, _, t2) = crate::token(&s, "acme", Some((&id, &secret)), &form).await;
    assert_eq!(st, 200);
    let t2 = t2["access_token"].as_str().unwrap().to_owned();
    assert_eq!(jsonwebtoken::decode_header(&t2).unwrap().kid.unwrap(), next);
    // The old token still verifies: its key is retired but published.
    crate::verify(&s, "acme", &t1).await;
    crate::verify(&s, "acme", &t2).await;
}

async fn other_algorithms(b: Backend) {
    let s = TestServer::start(b).await;
    let (_, secret, c) = crate::service_client(&s).await;
    let id = c["id"].as_str().unwrap();
    let client_id = c["client_id"].as_str().unwrap();
    for alg in ["EdDSA", "RS256"] {
        let (st, v) = s
            .patch(
                &format!("/clients/{id}"),
                serde_json::json!({ "id_token_signed_response_alg": alg }),
            )
            .await;
        assert_eq!(st, 200, "{v}");
        let (st, _, t) = crate::token(
            &s,
            "acme",
            Some((client_id, &secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
        assert_eq!(st, 200, "{t}");
        let jwt = t["access_token"].as_str().unwrap();
        assert_eq!(
            format!("{:?}", jsonwebtoken::decode_header(jwt).unwrap().alg),
            alg
        );
        crate::verify(&s, "acme", jwt).await;
    }
}

backends!(discovery_document, jwks_and_rotation, other_algorithms);
