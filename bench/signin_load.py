#!/usr/bin/env python3
"""Sign-in latency of a real user, alone and under a flood of wrong passwords.

Usage: signin_load.py BASE_URL TENANT EMAIL PASSWORD SCENARIO [SECONDS]

SCENARIO: `alone` (the real user signs in again and again), `spray` (16 clients send wrong
passwords for random unknown emails, each request from a random address of 203.0.113.0/24 and
10.x: a botnet that no per-account or per-address limit stops, so every guess costs argon2) or
`one` (16 clients send wrong passwords for one other account from one address: stopped by the
account and address locks). The server must trust 127.0.0.1 as a proxy: addresses are sent as
`X-Forwarded-For`. The real user comes from its own address.

The real user is measured twice, alternately: as a returning user (signed in once before the
flood, it keeps the device cookie each sign-in sets: a trusted device) and as a first-time user
(no device cookie: the same account from a new browser).

Prints one line: scenario; for the returning user its sign-ins, median and p99 latency (ms) of
its successful sign-ins and how many of its attempts were turned away (503); the same for the
first-time user (`new_*`); and the flood's requests per second and status counts.
"""
import http.client, random, statistics, sys, threading, time, urllib.parse

base, tenant, email, password, scenario = sys.argv[1:6]
seconds = float(sys.argv[6]) if len(sys.argv) > 6 else 15
u = urllib.parse.urlparse(base)
PATH = f"/t/{tenant}/login"
stop = threading.Event()


def form_pair(conn):
    """The cookies and CSRF token of a fresh sign-in page (tokens are bound to the browser's
    CSRF nonce cookie: a client cannot choose one)."""
    conn.request("GET", PATH)
    r = conn.getresponse()
    html = r.read().decode()
    cookies = "; ".join(v.split(";", 1)[0] for k, v in r.getheaders() if k.lower() == "set-cookie")
    start = html.index('name="csrf" value="') + len('name="csrf" value="')
    return cookies, html[start:html.index('"', start)]


DEVICE = "castellan_device="


def post(conn, mail, pwd, addr, pair, device=None):
    """(status, the device cookie the answer sets or None)."""
    cookies, csrf = pair
    if device:
        cookies = f"{cookies}; {DEVICE}{device}"
    body = urllib.parse.urlencode({"email": mail, "password": pwd, "csrf": csrf})
    conn.request("POST", PATH, body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": cookies,
        "X-Forwarded-For": addr,
        "User-Agent": "castellan-bench",
    })
    r = conn.getresponse()
    r.read()
    set_device = [v.split(";", 1)[0][len(DEVICE):] for k, v in r.getheaders()
                  if k.lower() == "set-cookie" and v.startswith(DEVICE)]
    return r.status, (set_device[0] if set_device else None)


flood_status = {}
flood_count = [0]
lock = threading.Lock()


def flooder(i):
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    pair = form_pair(conn)
    n = 0
    while not stop.is_set():
        if scenario == "spray":
            mail = f"nobody{random.getrandbits(48)}@example.test"
            addr = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        else:
            mail, addr = "target@example.test", "203.0.113.66"
        try:
            st, _ = post(conn, mail, f"wrong guess {n}", addr, pair)
        except Exception:
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
            pair = form_pair(conn)
            st = "err"
        n += 1
        with lock:
            flood_status[st] = flood_status.get(st, 0) + 1
            flood_count[0] += 1


# The returning user's first sign-in, before any flood: its browser keeps the device cookie.
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
st, device = post(conn, email, password, "198.51.100.1", form_pair(conn))
assert st == 303 and device, f"the first sign-in failed: {st}"

threads = []
if scenario != "alone":
    threads = [threading.Thread(target=flooder, args=(i,), daemon=True) for i in range(16)]
    for t in threads:
        t.start()
    time.sleep(2)  # let the flood fill the queue before measuring

lat = {"trusted": [], "new": []}
busy = {"trusted": 0, "new": 0}
other = {}
flood_start = flood_count[0]
t0 = time.monotonic()
n = 0
while time.monotonic() - t0 < seconds:
    kind = "trusted" if n % 2 == 0 else "new"
    n += 1
    pair = form_pair(conn)  # a fresh page each time, as a person gets; not timed
    s = time.perf_counter()
    st, renewed = post(conn, email, password, "198.51.100.1", pair,
                       device if kind == "trusted" else None)
    ms = (time.perf_counter() - s) * 1000
    if st == 303:
        lat[kind].append(ms)
        if kind == "trusted" and renewed:
            device = renewed
    elif st == 503:
        busy[kind] += 1
        time.sleep(0.05)
    else:
        other[st] = other.get(st, 0) + 1
elapsed = time.monotonic() - t0
flood_rps = (flood_count[0] - flood_start) / elapsed if threads else 0
stop.set()
for t in threads:
    t.join(timeout=35)


def stats(xs):
    xs = sorted(xs)
    p99 = xs[min(len(xs) - 1, int(len(xs) * 0.99))] if xs else 0
    return len(xs), (statistics.median(xs) if xs else 0), p99


(tn, tp50, tp99), (nn, np50, np99) = stats(lat["trusted"]), stats(lat["new"])
print(f"scenario={scenario} signins={tn} p50_ms={tp50:.1f} p99_ms={tp99:.1f} busy={busy['trusted']} "
      f"new_signins={nn} new_p50_ms={np50:.1f} new_p99_ms={np99:.1f} new_busy={busy['new']} "
      f"other={other or 0} flood_rps={flood_rps:.0f} "
      f"flood_status={dict(sorted((str(k), v) for k, v in flood_status.items()))}")
