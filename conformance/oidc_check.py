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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--issuer", required=True)
    p.add_argument("--client-id", required=True)
    p.add_argument("--client-secret", required=True)
    p.add_argument("--post-client-id")
    p.add_argument("--post-client-secret")
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
    passed = sum(RESULTS)
    print(f"{passed} passed, {len(RESULTS) - passed} failed")
    sys.exit(0 if all(RESULTS) else 1)


if __name__ == "__main__":
    main()
