#!/usr/bin/env python3
"""An independent OpenID Connect relying party (Authlib) checking a running Castellan.

Usage: oidc_check.py --issuer URL --client-id ID --client-secret SECRET
                     [--post-client-id ID --post-client-secret SECRET]

The first client is registered with client_secret_basic; the optional second one with
client_secret_post (a server enforces the method a client registered, RFC 7591 section 2).

Checks, each printed as PASS/FAIL, exit status 1 if any failed:
- Discovery 1.0: the document is served at the issuer's well-known URL, `issuer` matches exactly,
  every REQUIRED field is present, every advertised endpoint answers.
- JWKS: keys have kid/kty/alg/use, no private members.
- client_credentials (RFC 6749 4.4) with client_secret_basic and client_secret_post through
  Authlib's OAuth2Session; the access token is an RFC 9068 JWT (typ at+jwt) whose signature
  verifies against the JWKS and whose iss/exp/iat/client_id/jti claims are right.
- Errors (RFC 6749 5.2): bad secret -> 401 invalid_client with WWW-Authenticate, unknown grant ->
  unsupported_grant_type, JSON bodies with `error`, never a 5xx.
- With --code-client-id/--code-client-secret/--redirect-uri/--username/--password: the
  authorization code flow with PKCE S256 through Authlib (authorization URL, Castellan's sign-in
  form driven by a cookie-keeping session, state and RFC 9207 `iss` on the callback, code
  exchange), the ID token validated as OpenID Connect Core 3.1.3.7 asks (Authlib CodeIDToken:
  iss, aud, exp, iat, nonce), userinfo, refresh with rotation and reuse detection (RFC 9700),
  introspection (RFC 7662) and revocation (RFC 7009).
"""
import argparse
import sys
import time

import requests
from authlib.integrations.requests_client import OAuth2Session
import warnings

warnings.filterwarnings("ignore", message="authlib.jose module is deprecated")
from authlib.jose import JsonWebKey, jwt  # noqa: E402

RESULTS = []


def check(name, ok, detail=""):
    RESULTS.append(ok)
    print(f"{'PASS' if ok else 'FAIL'} {name}{'' if ok else ': ' + detail}")
    return ok


def discovery(issuer):
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    r = requests.get(url, timeout=10)
    check("discovery answers 200 JSON", r.status_code == 200 and r.headers.get("content-type", "").startswith("application/json"), f"{r.status_code}")
    doc = r.json()
    check("discovery issuer matches exactly", doc.get("issuer") == issuer, f"{doc.get('issuer')!r} != {issuer!r}")
    for field in ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported",
                  "subject_types_supported", "id_token_signing_alg_values_supported"]:
        check(f"discovery has required `{field}`", field in doc, "missing")
    for field in ["token_endpoint", "jwks_uri"]:
        if field in doc:
            check(f"`{field}` is under the issuer", doc[field].startswith(issuer + "/"), doc[field])
    check("code_challenge_methods_supported is S256 only", doc.get("code_challenge_methods_supported", ["S256"]) == ["S256"], str(doc.get("code_challenge_methods_supported")))
    return doc


def jwks(doc):
    r = requests.get(doc["jwks_uri"], timeout=10)
    check("jwks answers 200", r.status_code == 200, f"{r.status_code}")
    keys = r.json().get("keys", [])
    check("jwks has keys", len(keys) > 0, "empty")
    for k in keys:
        check(f"jwk {k.get('kid')} has kid/kty/alg/use=sig", all(k.get(f) for f in ["kid", "kty", "alg"]) and k.get("use") == "sig", str(k))
        check(f"jwk {k.get('kid')} has no private members", not any(f in k for f in ["d", "p", "q", "dp", "dq", "qi"]), "private key material published")
    return JsonWebKey.import_key_set(r.json())


def verify_access_token(token, keyset, issuer, client_id):
    import base64
    import json
    head = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "==="))
    check("access token header typ is at+jwt (RFC 9068)", head.get("typ") == "at+jwt", str(head))
    check("access token header has kid", "kid" in head, str(head))
    try:
        claims = jwt.decode(token, keyset)
        claims.validate(now=int(time.time()))
        ok = True
    except Exception as e:  # noqa: BLE001 - any failure to verify is the finding
        check("access token signature verifies against the JWKS", False, repr(e))
        return
    check("access token signature verifies against the JWKS", ok)
    check("access token iss is the issuer", claims.get("iss") == issuer, str(claims.get("iss")))
    check("access token client_id", claims.get("client_id") == client_id, str(claims.get("client_id")))
    check("access token sub is the client (client_credentials)", claims.get("sub") == client_id, str(claims.get("sub")))
    check("access token has jti, iat, exp in the future", bool(claims.get("jti")) and claims.get("iat") and claims["exp"] > time.time(), str(claims))
    check("access token lifetime is short (<= 1 h)", claims["exp"] - claims["iat"] <= 3600, str(claims["exp"] - claims["iat"]))


def client_credentials(doc, keyset, issuer, clients):
    """`clients`: (auth method, client id, secret) triples, each used with its registered method."""
    for method, client_id, secret in clients:
        s = OAuth2Session(client_id, secret, token_endpoint_auth_method=method)
        try:
            tok = s.fetch_token(doc["token_endpoint"], grant_type="client_credentials")
        except Exception as e:  # noqa: BLE001
            check(f"client_credentials with {method}", False, repr(e))
            continue
        check(f"client_credentials with {method}", tok.get("token_type", "").lower() == "bearer" and "access_token" in tok, str(tok))
        check(f"{method}: expires_in given", isinstance(tok.get("expires_in"), int), str(tok))
        verify_access_token(tok["access_token"], keyset, issuer, client_id)


def errors(doc, client_id):
    r = requests.post(doc["token_endpoint"], data={"grant_type": "client_credentials"}, auth=(client_id, "wrong-secret"), timeout=10)
    check("bad secret -> 401", r.status_code == 401, f"{r.status_code}")
    check("bad secret -> invalid_client", r.headers.get("content-type", "").startswith("application/json") and r.json().get("error") == "invalid_client", r.text)
    check("bad secret -> WWW-Authenticate", "www-authenticate" in {k.lower() for k in r.headers}, str(r.headers))
    r = requests.post(doc["token_endpoint"], data={"grant_type": "urn:example:nope"}, auth=(client_id, "x"), timeout=10)
    check("unknown grant -> 400 unsupported_grant_type or 401 invalid_client", r.status_code in (400, 401) and r.json().get("error") in ("unsupported_grant_type", "invalid_client"), r.text)
    r = requests.post(doc["token_endpoint"], data="%%%not-a-form", headers={"content-type": "application/x-www-form-urlencoded"}, timeout=10)
    check("garbage body -> 4xx OAuth error JSON", 400 <= r.status_code < 500 and "error" in r.json(), f"{r.status_code} {r.text}")
    r = requests.get(doc["token_endpoint"], timeout=10)
    check("GET on the token endpoint -> 4xx, not 5xx", 400 <= r.status_code < 500, f"{r.status_code}")


def hidden(html, name):
    import html as h
    import re
    m = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), html)
    return h.unescape(m.group(1)) if m else None


def sign_in(browser, url, username, password):
    """Follows the authorization URL through Castellan's sign-in form; returns the callback URL."""
    from urllib.parse import urljoin
    r = browser.get(url, allow_redirects=False, timeout=10)
    for _ in range(5):
        if r.status_code not in (302, 303):
            break
        location = urljoin(r.url, r.headers["location"])
        if "/login" in location.split("?")[0]:
            page = browser.get(location, timeout=10)
            check("sign-in page is HTML with a CSRF field", page.status_code == 200 and hidden(page.text, "csrf") is not None, f"{page.status_code}")
            form = {"email": username, "password": password, "csrf": hidden(page.text, "csrf")}
            if hidden(page.text, "return_to"):
                form["return_to"] = hidden(page.text, "return_to")
            action = urljoin(location, "login")
            r = browser.post(action, data=form, allow_redirects=False, timeout=10)
            continue
        if not location.startswith(("http://127.0.0.1", "http://localhost")) or "/authorize" in location:
            r = browser.get(location, allow_redirects=False, timeout=10)
            continue
        return location
    check("the authorization request ends at the redirect URI", False, f"{r.status_code} {r.headers.get('location')}")
    return None


def code_flow(doc, keyset, issuer, a):
    from authlib.common.security import generate_token
    from authlib.oidc.core import CodeIDToken
    from urllib.parse import parse_qs, urlparse
    s = OAuth2Session(a.code_client_id, a.code_client_secret, scope="openid email profile",
                      redirect_uri=a.redirect_uri, code_challenge_method="S256")
    verifier, nonce = generate_token(64), generate_token(20)
    url, state = s.create_authorization_url(doc["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    browser = requests.Session()
    callback = sign_in(browser, url, a.username, a.password)
    if not callback:
        return
    q = parse_qs(urlparse(callback).query)
    check("callback carries the code and the same state", "code" in q and q.get("state") == [state], callback)
    check("callback carries iss (RFC 9207)", q.get("iss") == [issuer], str(q.get("iss")))
    try:
        tok = s.fetch_token(doc["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    except Exception as e:  # noqa: BLE001
        check("authorization_code exchange", False, repr(e))
        return
    check("authorization_code exchange returns access, ID and refresh tokens", all(k in tok for k in ["access_token", "id_token", "refresh_token"]), str(list(tok)))
    try:
        claims = jwt.decode(tok["id_token"], keyset, claims_cls=CodeIDToken,
                            claims_options={"iss": {"values": [issuer]}},
                            claims_params={"nonce": nonce, "client_id": a.code_client_id})
        claims.validate(now=int(time.time()))
        check("ID token validates (iss, aud, exp, iat, nonce, signature)", True)
        check("ID token has sub, auth_time, sid, amr", all(k in claims for k in ["sub", "auth_time", "sid", "amr"]), str(dict(claims)))
        check("ID token carries email by scope", claims.get("email") == a.username, str(claims.get("email")))
    except Exception as e:  # noqa: BLE001
        check("ID token validates (iss, aud, exp, iat, nonce, signature)", False, repr(e))
        return
    r = s.get(doc["userinfo_endpoint"], timeout=10)
    check("userinfo answers the same sub", r.status_code == 200 and r.json().get("sub") == claims["sub"], r.text)
    first_refresh = tok["refresh_token"]
    try:
        new = s.refresh_token(doc["token_endpoint"], refresh_token=first_refresh)
        check("refresh returns a new refresh token (rotation)", new.get("refresh_token") not in (None, first_refresh), str(list(new)))
    except Exception as e:  # noqa: BLE001
        check("refresh_token grant", False, repr(e))
        return
    r = requests.post(doc["token_endpoint"], data={"grant_type": "refresh_token", "refresh_token": first_refresh},
                      auth=(a.code_client_id, a.code_client_secret), timeout=10)
    check("a reused refresh token -> 400 invalid_grant", r.status_code == 400 and r.json().get("error") == "invalid_grant", r.text)
    r = requests.post(doc["token_endpoint"], data={"grant_type": "refresh_token", "refresh_token": new["refresh_token"]},
                      auth=(a.code_client_id, a.code_client_secret), timeout=10)
    check("reuse revoked the whole grant: the newest refresh token fails too", r.status_code == 400 and r.json().get("error") == "invalid_grant", r.text)
    # A second grant for introspection and revocation (the browser's session still stands).
    verifier = generate_token(64)
    url, state = s.create_authorization_url(doc["authorization_endpoint"], code_verifier=verifier, nonce=generate_token(20))
    callback = sign_in(browser, url, a.username, a.password)
    tok = s.fetch_token(doc["token_endpoint"], authorization_response=callback, code_verifier=verifier)
    r = s.introspect_token(doc["introspection_endpoint"], token=tok["access_token"])
    check("introspection: the access token is active, same sub", r.status_code == 200 and r.json().get("active") is True and r.json().get("sub") == claims["sub"], r.text)
    r = s.revoke_token(doc["revocation_endpoint"], token=tok["refresh_token"], token_type_hint="refresh_token")
    check("revocation answers 200", r.status_code == 200, f"{r.status_code} {r.text}")
    r = s.introspect_token(doc["introspection_endpoint"], token=tok["access_token"])
    check("after revoking the refresh token its grant's access token is inactive", r.status_code == 200 and r.json() == {"active": False}, r.text)
    r = requests.post(doc["revocation_endpoint"], data={"token": tok["access_token"], "token_type_hint": "saml"},
                      auth=(a.code_client_id, a.code_client_secret), timeout=10)
    check("revocation of an unknown token type -> unsupported_token_type", r.status_code == 400 and r.json().get("error") == "unsupported_token_type", r.text)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--issuer", required=True)
    p.add_argument("--client-id", required=True)
    p.add_argument("--client-secret", required=True)
    p.add_argument("--post-client-id")
    p.add_argument("--post-client-secret")
    p.add_argument("--code-client-id")
    p.add_argument("--code-client-secret")
    p.add_argument("--redirect-uri")
    p.add_argument("--username")
    p.add_argument("--password")
    a = p.parse_args()
    doc = discovery(a.issuer)
    keyset = jwks(doc)
    clients = [("client_secret_basic", a.client_id, a.client_secret)]
    if a.post_client_id:
        clients.append(("client_secret_post", a.post_client_id, a.post_client_secret))
    client_credentials(doc, keyset, a.issuer, clients)
    errors(doc, a.client_id)
    if a.post_client_id:
        r = requests.post(doc["token_endpoint"], data={"grant_type": "client_credentials"}, auth=(a.post_client_id, a.post_client_secret), timeout=10)
        check("a client_secret_post client is refused over client_secret_basic", r.status_code == 401 and r.json().get("error") == "invalid_client", r.text)
    if a.code_client_id:
        code_flow(doc, keyset, a.issuer, a)
    passed = sum(RESULTS)
    print(f"{passed} passed, {len(RESULTS) - passed} failed")
    sys.exit(0 if all(RESULTS) else 1)


if __name__ == "__main__":
    main()
