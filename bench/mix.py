#!/usr/bin/env python3
"""A sustained mix of what a provider serves all day (stdlib only): sign-ins, code exchanges,
refreshes, userinfo and client credentials, from --threads workers each with its own browser
session and tokens (bench/refresh_tokens.py's Provider).

    mix.py --issuer URL --client-id ID --client-secret S --redirect-uri URI --username U
           --password P --cc-client-id ID --cc-client-secret S [--threads 16] [--seconds 60]
           [--rate R] [--server-pid PID]

Each worker picks an operation by weight (sign-in 1, code exchange 10, refresh 40, userinfo 30,
client credentials 19): a sign-in is a new browser signing in and getting a code (the sign-in
POST is timed); a code exchange gets a code with the worker's session, then times the exchange;
a refresh rotates the worker's refresh token; userinfo uses the worker's latest access token.
Without --rate the workers run closed-loop (the peak); with --rate they pace themselves to R
operations a second in all (open loop: a late operation does not make the next one wait).
stdout: one line per operation, `op=... count=... p50_ms=... p99_ms=... errors=...`, then
`total rps=... errors=... p50_ms=... p99_ms=...` and, with --server-pid, `rss_max_mb=...`
(VmHWM). Exit status 3 when any operation failed.
"""

import argparse
import os
import random
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refresh_tokens as rt  # noqa: E402

SIGNIN_SLOTS = threading.BoundedSemaphore(4)
WEIGHTS = [("signin", 1), ("code_exchange", 10), ("refresh", 40), ("userinfo", 30),
           ("client_credentials", 19)]


class Worker:
    def __init__(self, a):
        self.a = a
        self.p = rt.Provider(a)
        self.refresh = self.p.refresh_token()
        self.access = None
        self.cc_auth = rt.basic(a.cc_client_id, a.cc_client_secret)

    def timed(self, f):
        t = time.monotonic()
        f()
        return time.monotonic() - t

    def exchange(self, prov):
        code, verifier = prov.code()
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": self.a.redirect_uri, "code_verifier": verifier}
        t = time.monotonic()
        res = prov.token(form)
        took = time.monotonic() - t
        self.access = res["access_token"]
        return took

    def op(self, name):
        if name == "signin":
            # Every worker signs in to the one bench account, and Castellan's account throttle
            # counts attempts while they are in flight (failure_factor 5 by default): at most 4
            # at once, as no person signs in to one account from five browsers at the same time.
            with SIGNIN_SLOTS:
                prov = rt.Provider(self.a)  # a new browser: the sign-in page, then the form
                t = time.monotonic()
                prov.code()
                return time.monotonic() - t
        if name == "code_exchange":
            return self.exchange(self.p)
        if name == "refresh":
            t = time.monotonic()
            res = self.p.token({"grant_type": "refresh_token", "refresh_token": self.refresh})
            took = time.monotonic() - t
            self.refresh, self.access = res["refresh_token"], res["access_token"]
            return took
        if name == "userinfo":
            if self.access is None:
                self.exchange(self.p)
            t = time.monotonic()
            status, _, body = self.p.b.request(self.p.userinfo_endpoint, None,
                                               {"Authorization": f"Bearer {self.access}"})
            took = time.monotonic() - t
            if status != 200:
                raise rt.Fail(f"userinfo: HTTP {status}: {body[:200]}")
            return took
        t = time.monotonic()
        status, _, body = self.p.b.request(self.p.token_endpoint, {"grant_type": "client_credentials"},
                                           {"Authorization": self.cc_auth})
        took = time.monotonic() - t
        if status != 200:
            raise rt.Fail(f"client_credentials: HTTP {status}: {body[:200]}")
        return took


def main():
    p = argparse.ArgumentParser()
    for k in ["issuer", "client-id", "client-secret", "redirect-uri", "username", "password",
              "cc-client-id", "cc-client-secret"]:
        p.add_argument(f"--{k}", required=True)
    p.add_argument("--scope", default="openid offline_access")
    p.add_argument("--prompt", default="")
    p.add_argument("--threads", type=int, default=16)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--rate", type=float, default=0)
    p.add_argument("--server-pid", type=int, default=0)
    a = p.parse_args()
    workers = [Worker(a) for _ in range(a.threads)]
    names = [n for n, w in WEIGHTS for _ in range(w)]
    lat = {n: [] for n, _ in WEIGHTS}
    errors = {n: 0 for n, _ in WEIGHTS}
    lock = threading.Lock()
    start = time.monotonic()
    end = start + a.seconds

    def run(w, idx):
        rng = random.Random(idx)
        gap = a.threads / a.rate if a.rate else 0
        due = start + rng.random() * gap
        while True:
            if gap:
                now = time.monotonic()
                if due > now:
                    time.sleep(due - now)
                due += gap
            if time.monotonic() >= end:
                return
            name = rng.choice(names)
            try:
                took = w.op(name)
                with lock:
                    lat[name].append(took)
            except (rt.Fail, OSError, ValueError, KeyError) as e:
                with lock:
                    errors[name] += 1
                    if errors[name] <= 3:
                        print(f"# {name}: {e}", file=sys.stderr)

    threads = [threading.Thread(target=run, args=(w, i)) for i, w in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - start
    ms = lambda v, q: statistics.quantiles(v, n=100)[q - 1] * 1000 if len(v) >= 2 else 0.0
    everything = []
    for name, _ in WEIGHTS:
        v = lat[name]
        everything += v
        print(f"op={name} count={len(v)} p50_ms={ms(v, 50):.2f} p99_ms={ms(v, 99):.2f} errors={errors[name]}")
    total_errors = sum(errors.values())
    print(f"total rps={len(everything) / secs:.1f} errors={total_errors} "
          f"p50_ms={ms(everything, 50):.2f} p99_ms={ms(everything, 99):.2f}")
    if a.server_pid:
        for line in open(f"/proc/{a.server_pid}/status"):
            if line.startswith("VmHWM"):
                print(f"rss_max_mb={int(line.split()[1]) / 1024:.1f}")
    return 3 if total_errors else 0


if __name__ == "__main__":
    sys.exit(main())
