#!/usr/bin/env python3
"""SCIM load and latency probe, the same for any SCIM 2.0 server (stdlib only).

    scim_load.py --url URL --token TOKEN [--users 100000] [--creates 300] [--samples 500]

Steps, each printed as one `metric=... key=value` line on stdout:
  bulk_import_10k  POST /Bulk, 1,000 users per request, the first 10,000 users (users per second)
  fill             the rest of --users through /Bulk (not measured, only timed)
  create           POST /Users one at a time on one keep-alive connection (users per second)
  lookup_username  GET /Users?filter=userName eq "..." (a different user each time): median, p99
  lookup_email     GET /Users?filter=emails[type eq "work" and value sw "..."]&startIndex=1&count=10
It also writes the two lookup URLs (with a fixed user) to --wrk-urls for a throughput run with wrk.
"""
import argparse, http.client, json, random, statistics, sys, time, urllib.parse

p = argparse.ArgumentParser()
p.add_argument("--url", required=True)
p.add_argument("--token", required=True)
p.add_argument("--users", type=int, default=100_000)
p.add_argument("--creates", type=int, default=300)
p.add_argument("--samples", type=int, default=500)
p.add_argument("--wrk-urls")
a = p.parse_args()
u = urllib.parse.urlsplit(a.url)
base = u.path.rstrip("/")
H = {"Authorization": f"Bearer {a.token}", "Content-Type": "application/scim+json", "Accept": "application/scim+json"}
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)


def call(method, path, body=None):
    conn.request(method, base + path, body=json.dumps(body) if body is not None else None, headers=H)
    r = conn.getresponse()
    data = r.read()
    return r.status, data


def user(i):
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": f"user{i:06d}@bench.example",
        "name": {"givenName": f"Given{i}", "familyName": f"Family{i % 997}"},
        "emails": [{"value": f"user{i:06d}@work.example", "type": "work", "primary": True},
                   {"value": f"u{i:06d}@home.example", "type": "home"}],
        "active": True,
    }


def bulk(start, n):
    ops = [{"method": "POST", "path": "/Users", "bulkId": str(i), "data": user(i)} for i in range(start, start + n)]
    st, data = call("POST", "/Bulk", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops})
    if st != 200:
        sys.exit(f"Bulk answered {st}: {data[:300]!r}")
    bad = [o for o in json.loads(data)["Operations"] if not str(o.get("status", "")).startswith("2")]
    if bad:
        sys.exit(f"Bulk operations failed: {bad[:2]}")


def emit(metric, **kv):
    print("metric=" + metric + "".join(f" {k}={v}" for k, v in kv.items()), flush=True)


t0 = time.perf_counter()
for s in range(0, 10_000, 1000):
    bulk(s, 1000)
dt = time.perf_counter() - t0
emit("bulk_import_10k", seconds=f"{dt:.2f}", users_per_s=f"{10_000 / dt:.0f}")

t0 = time.perf_counter()
for s in range(10_000, a.users, 1000):
    bulk(s, min(1000, a.users - s))
emit("fill", users=a.users, seconds=f"{time.perf_counter() - t0:.1f}")

t0 = time.perf_counter()
for i in range(a.creates):
    st, data = call("POST", "/Users", user(10_000_000 + i))
    if st != 201:
        sys.exit(f"POST /Users answered {st}: {data[:300]!r}")
dt = time.perf_counter() - t0
emit("create", users=a.creates, users_per_s=f"{a.creates / dt:.0f}", median_ms=f"{dt / a.creates * 1000:.2f}")


def probe(metric, make):
    lat = []
    for _ in range(a.samples):
        i = random.randrange(a.users)
        path, want = make(i)
        t = time.perf_counter()
        st, data = call("GET", path)
        lat.append((time.perf_counter() - t) * 1000)
        if st != 200 or json.loads(data)["totalResults"] != want:
            sys.exit(f"{metric}: {st} {data[:300]!r}")
    lat.sort()
    emit(metric, median_ms=f"{statistics.median(lat):.2f}", p99_ms=f"{lat[int(len(lat) * 0.99) - 1]:.2f}", samples=len(lat))


def by_username(i):
    f = f'userName eq "user{i:06d}@bench.example"'
    return "/Users?filter=" + urllib.parse.quote(f), 1


def by_email(i):
    # A prefix shared by 10 users (user012340 .. user012349): one page of 10.
    prefix = f"user{i // 10:05d}"
    f = f'emails[type eq "work" and value sw "{prefix}"]'
    return "/Users?filter=" + urllib.parse.quote(f) + "&startIndex=1&count=10", 10


probe("lookup_username", by_username)
probe("lookup_email", by_email)
if a.wrk_urls:
    with open(a.wrk_urls, "w") as out:
        for make in (by_username, by_email):
            out.write(f"{u.scheme}://{u.netloc}{base}{make(4242)[0]}\n")
