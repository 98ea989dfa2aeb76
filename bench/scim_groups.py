#!/usr/bin/env python3
"""Large-group probe for a SCIM 2.0 server (stdlib only).

    scim_groups.py --url URL --token TOKEN [--members 50000] [--batch 10000] [--samples 50] [--rounds 3]

Creates --members + --batch + --samples users through /Bulk once, then per round: a group with
--members members (POST), and times, on one keep-alive connection:
  add_1        PATCH add of one member (a different user each sample): median and p99 of --samples
  add_batch    PATCH add of --batch members in one request
  remove_batch PATCH remove of the same --batch members (a value list, as Entra ID sends it)
  get_full     GET of the group with its members (and the body size)
  get_lean     GET with excludedAttributes=members
  put_same     PUT of the body GET returned (nothing changes)
  put_half     PUT with half the members replaced by others
Each round prints one `round=N key=value ...` line; the last line gives the medians of the rounds.
"""
import argparse, http.client, json, statistics, sys, time, urllib.parse

p = argparse.ArgumentParser()
p.add_argument("--url", required=True)
p.add_argument("--token", required=True)
p.add_argument("--members", type=int, default=50_000)
p.add_argument("--batch", type=int, default=10_000)
p.add_argument("--samples", type=int, default=50)
p.add_argument("--rounds", type=int, default=3)
a = p.parse_args()
u = urllib.parse.urlsplit(a.url)
base = u.path.rstrip("/")
H = {"Authorization": f"Bearer {a.token}", "Content-Type": "application/scim+json"}
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def call(method, path, body=None, want=(200,)):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    t = time.perf_counter()
    conn.request(method, base + path, body=data, headers=H)
    r = conn.getresponse()
    out = r.read()
    ms = (time.perf_counter() - t) * 1000
    if r.status not in want:
        sys.exit(f"{method} {path} answered {r.status}: {out[:300]!r}")
    return ms, out


def patch(path, ops):
    return call("PATCH", path, {"schemas": [PATCH_OP], "Operations": ops}, want=(200, 204))[0]


total = a.members + a.batch + a.samples * a.rounds
ids = []
t0 = time.perf_counter()
for s in range(0, total, 1000):
    ops = [{"method": "POST", "path": "/Users", "bulkId": str(i),
            "data": {"userName": f"member{i:06d}@bench.example"}} for i in range(s, min(total, s + 1000))]
    _, out = call("POST", "/Bulk", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                                    "Operations": ops})
    for o in json.loads(out)["Operations"]:
        if o.get("status") != "201":
            sys.exit(f"Bulk operation failed: {o}")
        ids.append(o["location"].rsplit("/", 1)[1])
print(f"setup users={len(ids)} seconds={time.perf_counter() - t0:.1f}", flush=True)
inside = ids[:a.members]
batch = ids[a.members:a.members + a.batch]
singles = ids[a.members + a.batch:]

rounds = []
for r in range(a.rounds):
    ms, out = call("POST", "/Groups?excludedAttributes=members",
                   {"displayName": f"Big {r}", "members": [{"value": i} for i in inside]}, want=(201,))
    path = "/Groups/" + json.loads(out)["id"]
    res = {"create": ms}
    lat = sorted(patch(path, [{"op": "add", "path": "members", "value": [{"value": i}]}])
                 for i in singles[r * a.samples:(r + 1) * a.samples])
    res["add_1"] = statistics.median(lat)
    res["add_1_p99"] = lat[max(0, int(len(lat) * 0.99) - 1)]
    res["add_batch"] = patch(path, [{"op": "add", "path": "members", "value": [{"value": i} for i in batch]}])
    res["remove_batch"] = patch(path, [{"op": "remove", "path": "members", "value": [{"value": i} for i in batch]}])
    res["get_full"], full = call("GET", path)
    res["get_bytes"] = len(full)
    res["get_lean"], _ = call("GET", path + "?excludedAttributes=members")
    res["put_same"], _ = call("PUT", path + "?excludedAttributes=members", full)
    g = json.loads(full)
    half = len(g["members"]) // 2
    g["members"] = g["members"][half:] + [{"value": i} for i in batch[:half]]
    res["put_half"], _ = call("PUT", path + "?excludedAttributes=members", g)
    call("DELETE", path, want=(204,))
    rounds.append(res)
    print(f"round={r + 1} " + " ".join(f"{k}={v:.1f}" if k != "get_bytes" else f"{k}={v}"
                                        for k, v in res.items()), flush=True)
med = {k: statistics.median(x[k] for x in rounds) for k in rounds[0]}
print("median " + " ".join(f"{k}={v:.1f}" if k != "get_bytes" else f"{k}={int(v)}" for k, v in med.items()))
