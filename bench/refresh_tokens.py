#!/usr/bin/env python3
"""Obtain refresh tokens from an OpenID Provider for the refresh-token benchmark (stdlib only).

Signs in once through the provider's own pages (Castellan's /t/{tenant}/login form, or
oidc-provider's devInteractions login + consent pages), then runs the authorization code flow
with PKCE S256 once per token (the browser session is reused, so one sign-in yields many codes)
and exchanges each code at the token endpoint (client_secret_basic).

    refresh_tokens.py --issuer URL --client-id ID --client-secret SECRET --redirect-uri URI
                      --username U --password P --count N --out FILE
                      [--scope 'openid offline_access'] [--prompt consent] [--probe]
                      [--mode refresh|code|access]

FILE gets N refresh tokens, one per line, and `token_endpoint=URL` and `userinfo_endpoint=URL` are
printed on stdout. With --mode code FILE gets N unused authorization codes instead, each with its
PKCE verifier ("CODE VERIFIER" lines, for the code exchange benchmark); with --mode access, the
N access tokens of N code exchanges (for the userinfo benchmark). Tokens are
fetched by --parallel workers (default 4), each with its own browser session (one sign-in each:
concurrent consents in one oidc-provider session fail with "interaction session and
authentication session mismatch").
With --probe, one extra token is used to find out
whether the server rotates refresh tokens: it is refreshed twice in a row, each time with the
refresh token the previous answer returned (or the same one when the answer carried none), and
`rotates=1` or `rotates=0` is printed on stdout. Diagnostics go to stderr as `#` lines.
Exit status: 0 ok, 1 failure.
"""

import argparse
import base64
import concurrent.futures
import hashlib
import html
import http.cookiejar
import json
import re
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Fail(Exception):
    pass


class Browser:
    """A cookie-keeping client that does not follow redirects (we follow them by hand)."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def request(self, url, data=None, headers=None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(url, data=body, headers=headers or {})
        if body is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self.opener.open(req, timeout=30) as r:
                return r.status, r.headers, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode("utf-8", "replace")


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def basic(client_id, secret):
    # RFC 6749 section 2.3.1: form-urlencode both parts before base64.
    pair = f"{urllib.parse.quote(client_id, safe='')}:{urllib.parse.quote(secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def field(page, name):
    m = re.search(r'<input[^>]*name="%s"[^>]*value="([^"]*)"' % re.escape(name), page)
    return html.unescape(m.group(1)) if m else None


def form_action(page, base):
    m = re.search(r'<form[^>]*action="([^"]*)"', page)
    return urllib.parse.urljoin(base, html.unescape(m.group(1))) if m else base


class Provider:
    def __init__(self, a):
        self.a = a
        self.b = Browser()
        status, _, body = self.b.request(a.issuer.rstrip("/") + "/.well-known/openid-configuration")
        if status != 200:
            raise Fail(f"discovery: HTTP {status}")
        meta = json.loads(body)
        self.authorize_endpoint = meta["authorization_endpoint"]
        self.token_endpoint = meta["token_endpoint"]
        self.userinfo_endpoint = meta.get("userinfo_endpoint", "")
        self.auth = basic(a.client_id, a.client_secret)
        self.signins = 0

    def page(self, url, page):
        """Answer a sign-in or consent page; returns the next URL."""
        a = self.a
        if 'name="csrf"' in page:  # Castellan's sign-in form
            data = {"email": a.username, "password": a.password, "csrf": field(page, "csrf") or ""}
            if field(page, "return_to") is not None:
                data["return_to"] = field(page, "return_to")
            self.signins += 1
        elif field(page, "prompt") == "login":  # oidc-provider devInteractions
            data = {"prompt": "login", "login": a.username, "password": a.password}
            self.signins += 1
        elif field(page, "prompt") == "consent":
            data = {"prompt": "consent"}
        else:
            raise Fail(f"unexpected page at {url}: {page[:300]!r}")
        if self.signins > 3:
            raise Fail("signed in more than 3 times: the session is not kept (wrong credentials?)")
        action = form_action(page, url)
        status, headers, body = self.b.request(action, data)
        if status not in (302, 303) or not headers.get("Location"):
            raise Fail(f"POST {action}: HTTP {status}: {body[:300]!r}")
        return urllib.parse.urljoin(action, headers["Location"])

    def code(self):
        """One authorization code (and its PKCE verifier)."""
        a = self.a
        verifier = b64url(secrets.token_bytes(32))
        state = b64url(secrets.token_bytes(12))
        q = {
            "response_type": "code", "client_id": a.client_id, "redirect_uri": a.redirect_uri,
            "scope": a.scope, "state": state,
            "code_challenge": b64url(hashlib.sha256(verifier.encode()).digest()),
            "code_challenge_method": "S256",
        }
        if a.prompt:
            q["prompt"] = a.prompt
        url = self.authorize_endpoint + "?" + urllib.parse.urlencode(q, quote_via=urllib.parse.quote)
        for _ in range(20):
            if url.startswith(a.redirect_uri):
                got = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
                if "code" not in got:
                    raise Fail(f"authorization failed: {got}")
                if got.get("state") != state:
                    raise Fail("state mismatch")
                return got["code"], verifier
            status, headers, body = self.b.request(url)
            if status in (301, 302, 303, 307) and headers.get("Location"):
                url = urllib.parse.urljoin(url, headers["Location"])
            elif status == 200:
                url = self.page(url, body)
            else:
                raise Fail(f"GET {url}: HTTP {status}: {body[:300]!r}")
        raise Fail("too many redirects")

    def token(self, form):
        status, _, body = self.b.request(self.token_endpoint, form, {
            "Authorization": self.auth, "Accept": "application/json"})
        if status != 200:
            raise Fail(f"token endpoint: HTTP {status}: {body[:300]}")
        return json.loads(body)

    def one(self, mode):
        """One line of output for `mode`: a refresh token, a code and its verifier, or an access token."""
        if mode == "code":
            return " ".join(self.code())
        if mode == "access":
            code, verifier = self.code()
            res = self.token({"grant_type": "authorization_code", "code": code,
                              "redirect_uri": self.a.redirect_uri, "code_verifier": verifier})
            if not res.get("access_token"):
                raise Fail("no access_token in the code exchange")
            return res["access_token"]
        return self.refresh_token()

    def refresh_token(self):
        code, verifier = self.code()
        res = self.token({"grant_type": "authorization_code", "code": code,
                          "redirect_uri": self.a.redirect_uri, "code_verifier": verifier})
        if not res.get("refresh_token"):
            raise Fail(f"no refresh_token in the code exchange (scope {res.get('scope')!r})")
        return res["refresh_token"]

    def probe_rotation(self):
        rt = self.refresh_token()
        rotated = []
        for _ in range(2):
            res = self.token({"grant_type": "refresh_token", "refresh_token": rt})
            new = res.get("refresh_token")
            rotated.append(bool(new) and new != rt)
            self.last = res
            rt = new or rt
        if rotated[0] != rotated[1]:
            raise Fail(f"inconsistent rotation: {rotated}")
        return rotated[0]


def jwt_alg(tok):
    """`JWT alg/typ` or `opaque`."""
    try:
        if not isinstance(tok, str) or tok.count(".") != 2:
            return "opaque" if tok else "none"
        h = json.loads(base64.urlsafe_b64decode(tok.split(".")[0] + "=="))
        return f"JWT {h.get('alg')}" + (f" typ {h['typ']}" if h.get("typ") else "")
    except ValueError:
        return "opaque"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--issuer", required=True)
    p.add_argument("--client-id", required=True)
    p.add_argument("--client-secret", required=True)
    p.add_argument("--redirect-uri", required=True)
    p.add_argument("--username", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--scope", default="openid offline_access")
    p.add_argument("--prompt", default="")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--parallel", type=int, default=4)
    p.add_argument("--probe", action="store_true")
    p.add_argument("--mode", choices=["refresh", "code", "access"], default="refresh")
    a = p.parse_args()
    try:
        workers = max(1, min(a.parallel, a.count))
        provs = [Provider(a) for _ in range(workers)]
        prov = provs[0]
        shares = [a.count // workers + (i < a.count % workers) for i in range(workers)]
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            parts = pool.map(lambda w: [w[0].one(a.mode) for _ in range(w[1])], zip(provs, shares))
            tokens = [t for part in parts for t in part]
        if len(set(tokens)) != len(tokens):
            raise Fail("the server returned the same token twice")
        with open(a.out, "w") as f:
            f.write("".join(t + "\n" for t in tokens))
        print(f"# {len(tokens)} {a.mode} lines from {a.issuer} -> {a.out}", file=sys.stderr)
        print(f"token_endpoint={prov.token_endpoint}")
        print(f"userinfo_endpoint={prov.userinfo_endpoint}")
        if a.probe:
            print(f"rotates={int(prov.probe_rotation())}")
            print(f"# {a.issuer}: refresh answer: access token {jwt_alg(prov.last.get('access_token'))}, "
                  f"id_token {jwt_alg(prov.last.get('id_token'))}", file=sys.stderr)
    except (Fail, OSError, ValueError, KeyError) as e:
        print(f"refresh_tokens.py: {a.issuer}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
