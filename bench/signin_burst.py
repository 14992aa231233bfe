#!/usr/bin/env python3
"""The load generator of bench/signin-burst: one table row.

    signin_burst.py BASE N many|one ADMIN_PASSWORD

Signs in as admin@example.com (the signed-in user), fetches N sign-in forms, then
sends the N attempts at once from threads while the user loads /companies in a loop.
"""
import collections
import http.client
import re
import sys
import threading
import time
import urllib.parse

base, n, spread, admin_password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
url = urllib.parse.urlsplit(base)


def request(method, path, body=None, cookie=None, xff=None):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    headers = {"X-Forwarded-For": xff or "127.0.0.1"}
    if cookie:
        headers["Cookie"] = cookie
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    t0 = time.monotonic()
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, resp.getheaders(), data, time.monotonic() - t0


def cookies(headers):
    return "; ".join(v.split(";")[0] for k, v in headers if k.lower() == "set-cookie")


def login_form():
    _, headers, data, _ = request("GET", "/login")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', data).group(1).decode()
    return cookies(headers), token


pre, token = login_form()
body = urllib.parse.urlencode({"email": "admin@example.com", "password": admin_password, "csrf_token": token})
status, headers, _, _ = request("POST", "/login", body, pre, "192.0.2.1")
if status != 303:
    sys.exit(f"signin_burst: the admin sign-in answered {status}")
user = cookies(headers)

emails = ["admin@example.com", "nobody@example.invalid", "   "]
forms = [login_form() for _ in range(n)]
answers = []
pages = []
stop = threading.Event()


def attempt(i):
    cookie, tok = forms[i]
    xff = f"10.99.{i // 250}.{i % 250 + 1}" if spread == "many" else "10.98.0.1"
    fields = urllib.parse.urlencode({"email": emails[i % 3], "password": "x", "csrf_token": tok})
    answers.append(request("POST", "/login", fields, cookie, xff)[0])


def browse():
    while not stop.is_set():
        status, _, _, took = request("GET", "/companies", cookie=user, xff="192.0.2.1")
        pages.append((status, took))


browser = threading.Thread(target=browse)
browser.start()
time.sleep(0.2)
threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
t0 = time.monotonic()
for t in threads:
    t.start()
for t in threads:
    t.join()
took = time.monotonic() - t0
stop.set()
browser.join()

ms = sorted(t * 1000 for _, t in pages)
bad = sum(1 for s, _ in pages if s != 200)
count = collections.Counter(answers)
said = ", ".join(f"{count[s]}× {s}" for s in sorted(count))
print(f"| {'one each' if spread == 'many' else 'all one'} | {took:.2f} s | {said} | "
      f"{len(ms)}{f' ({bad} not 200)' if bad else ''} | {ms[len(ms) // 2]:.1f} ms | "
      f"{ms[min(len(ms) - 1, int(len(ms) * 0.99))]:.1f} ms | {ms[-1]:.1f} ms |")
