#!/usr/bin/env python3
"""Sends a fixed number of requests of one kind, one after the other on one keep-alive
connection, and fails on any answer but 200 (stdlib only). For the profiles of bench/profile.sh,
where a fixed count matters, not the rate.

    drive.py --mode refresh|exchange|userinfo|introspect --url URL --input FILE --count N
             [--auth 'Basic ...'] [--redirect-uri URI]

refresh: FILE has refresh tokens; each answer's new refresh token replaces the one used, and
the file is rewritten with the live ones at the end (a later run presents no used token).
exchange: FILE has "CODE VERIFIER" lines, each used once (at least N of them).
userinfo: FILE has access tokens, cycled, sent as `Authorization: Bearer`.
introspect: FILE has tokens, cycled, posted as `token=` with --auth.
Prints `requests=N seconds=S` on stdout.
"""

import argparse
import http.client
import json
import sys
import time
import urllib.parse


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", required=True, choices=["refresh", "exchange", "userinfo", "introspect"])
    p.add_argument("--url", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--auth", default="")
    p.add_argument("--redirect-uri", default="")
    a = p.parse_args()
    lines = [line.strip() for line in open(a.input) if line.strip()]
    if not lines:
        sys.exit("drive.py: no input lines")
    u = urllib.parse.urlsplit(a.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    path = u.path + (f"?{u.query}" if u.query else "")
    form = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": a.auth}
    start = time.monotonic()
    for i in range(a.count):
        line = lines[i % len(lines)]
        if a.mode == "refresh":
            body = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": line})
            conn.request("POST", path, body, form)
        elif a.mode == "exchange":
            if i >= len(lines):
                sys.exit(f"drive.py: only {len(lines)} codes for {a.count} exchanges")
            code, verifier = line.split()
            body = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code,
                                           "redirect_uri": a.redirect_uri, "code_verifier": verifier})
            conn.request("POST", path, body, form)
        elif a.mode == "userinfo":
            conn.request("GET", path, headers={"Authorization": f"Bearer {line}"})
        else:
            conn.request("POST", path, urllib.parse.urlencode({"token": line}), form)
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            sys.exit(f"drive.py: request {i}: HTTP {r.status}: {data[:300]!r}")
        if a.mode == "refresh":
            lines[i % len(lines)] = json.loads(data)["refresh_token"]
        if a.mode == "introspect" and not json.loads(data).get("active"):
            sys.exit(f"drive.py: request {i}: the token is not active")
    elapsed = time.monotonic() - start
    if a.mode == "refresh":
        with open(a.input, "w") as f:
            f.write("".join(f"{line}\n" for line in lines))
    print(f"requests={a.count} seconds={elapsed:.3f}")


if __name__ == "__main__":
    main()
