//! What a client sends the token endpoint: an `Authorization` header (first line of the input)
//! and a form body (the rest), decoded as axum's `Form` does, checked as the HTTP guard does,
//! typed into a `TokenRequest` (client authentication by Basic, form secret or JWT assertion);
//! and the input as a JWT client assertion.
#![no_main]

use castellan::domain::text;
use castellan::oidc::client_assertion;
use castellan::oidc::token::TokenRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = text::check_form(data);
    let _ = text::check_json(data);
    let (header, form) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&[][..], data),
    };
    let authorization = std::str::from_utf8(header).ok().filter(|h| !h.is_empty());
    if let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(form) {
        let guarded = text::check_form(form).is_ok();
        if let Ok(request) = TokenRequest::parse(authorization, pairs)
            && guarded
        {
            // What passed the guard and the parser names a client in printable text.
            assert!(!text::has_forbidden(&request.client.client_id));
        }
    }
    if let Ok(assertion) = std::str::from_utf8(data) {
        let _ = text::check_path(assertion);
        if let Some(iss) = client_assertion::unverified_issuer(assertion) {
            assert!(!iss.is_empty() && iss.len() <= 256);
            assert!(!text::has_forbidden(&iss));
        }
    }
});
