#!/usr/bin/env python3
"""Sign-in latency of a real user, alone and under a flood of wrong passwords.

Usage: signin_load.py BASE_URL TENANT EMAIL PASSWORD SCENARIO [SECONDS]

SCENARIO: `alone` (the real user signs in again and again), `spray` (16 clients send wrong
passwords for random unknown emails, each request from a random address of 203.0.113.0/24 and
10.x: a botnet that no per-account or per-address limit stops, so every guess costs argon2) or
`one` (16 clients send wrong passwords for one other account from one address: stopped by the
account and address locks). The server must trust 127.0.0.1 as a proxy: addresses are sent as
`X-Forwarded-For`. The real user comes from its own address.

Prints one line: scenario, sign-ins, median and p99 latency (ms) of the real user's successful
sign-ins, how many of its attempts were turned away (503), and the flood's requests per second
and status counts.
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


def post(conn, mail, pwd, addr, pair):
    cookies, csrf = pair
    body = urllib.parse.urlencode({"email": mail, "password": pwd, "csrf": csrf})
    conn.request("POST", PATH, body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": cookies,
        "X-Forwarded-For": addr,
        "User-Agent": "castellan-bench",
    })
    r = conn.getresponse()
    r.read()
    return r.status


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
            st = post(conn, mail, f"wrong guess {n}", addr, pair)
        except Exception:
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
            pair = form_pair(conn)
            st = "err"
        n += 1
        with lock:
            flood_status[st] = flood_status.get(st, 0) + 1
            flood_count[0] += 1


threads = []
if scenario != "alone":
    threads = [threading.Thread(target=flooder, args=(i,), daemon=True) for i in range(16)]
    for t in threads:
        t.start()
    time.sleep(2)  # let the flood fill the queue before measuring

conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
lat, busy, other = [], 0, {}
flood_start = flood_count[0]
t0 = time.monotonic()
while time.monotonic() - t0 < seconds:
    pair = form_pair(conn)  # a fresh page each time, as a person gets; not timed
    s = time.perf_counter()
    st = post(conn, email, password, "198.51.100.1", pair)
    ms = (time.perf_counter() - s) * 1000
    if st == 303:
        lat.append(ms)
    elif st == 503:
        busy += 1
        time.sleep(0.05)
    else:
        other[st] = other.get(st, 0) + 1
elapsed = time.monotonic() - t0
flood_rps = (flood_count[0] - flood_start) / elapsed if threads else 0
stop.set()
for t in threads:
    t.join(timeout=35)
lat.sort()
p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else 0
med = statistics.median(lat) if lat else 0
print(f"scenario={scenario} signins={len(lat)} p50_ms={med:.1f} p99_ms={p99:.1f} "
      f"busy={busy} other={other or 0} flood_rps={flood_rps:.0f} flood_status={dict(sorted((str(k), v) for k, v in flood_status.items()))}")
