"""The load for bench/failover.sh: members write and read through nginx while the script
kills one Agora instance. Standard library only.

Usage: failover.py BASE_URL MAIL_DIR SECONDS KILL_AT_SECONDS PID_TO_KILL RESULT_JSON
Writes what happened (requests, failures by second, acknowledged posts) to RESULT_JSON.
"""

import http.cookiejar
import json
import email
import os
import re
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

BASE, MAIL_DIR, SECONDS, KILL_AT, PID, RESULT = sys.argv[1:7]
SECONDS, KILL_AT, PID = float(SECONDS), float(KILL_AT), int(PID)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Member:
    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def request(self, path, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(BASE + path, data=data, timeout=10) as response:
                return response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace"), error.headers

    def token(self):
        status, page, _ = self.request("/account")
        if status != 200:
            status, page, _ = self.request("/login")
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def post(self, path, form):
        return self.request(path, {"csrf_token": self.token(), **form})


def newest_mail_to(address):
    files = sorted((os.path.join(MAIL_DIR, f) for f in os.listdir(MAIL_DIR)), key=os.path.getmtime)
    for path in reversed(files):
        text = open(path, encoding="utf-8").read()
        if f"To: {address}" in text:
            return email.message_from_string(text).get_payload(decode=True).decode()
    raise SystemExit(f"no mail to {address}")


def member(name):
    m = Member()
    status, _, _ = m.post("/register", {
        "username": name, "email": f"{name}@example.org", "password": f"{name}-long-password",
        "age_confirmed": "yes", "accept_policy": "yes",
    })
    assert status == 303, f"register {name}: {status}"
    link = re.search(r"(/account/confirm-email\?token=\S+)", newest_mail_to(f"{name}@example.org")).group(1)
    _, page, _ = m.request(link)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    status, _, _ = m.post("/account/confirm-email", {"token": token})
    assert status == 303, f"confirm {name}: {status}"
    return m


writers = [member(f"writer{n}") for n in range(4)]
status, _, headers = writers[0].post("/c/1/new", {"title": "Failover test", "body": "Posts keep coming."})
assert status == 303, f"topic: {status}"
topic = headers["Location"]
topic_id = topic.split("/")[2]

lock = threading.Lock()
started = time.monotonic()
events = []  # (second, kind, status)
acknowledged = []


def record(kind, status):
    with lock:
        events.append((time.monotonic() - started, kind, status))


def write(m, n):
    i = 0
    while time.monotonic() - started < SECONDS:
        body = f"Reply {n}-{i} survives."
        try:
            status, _, _ = m.post(f"/t/{topic_id}/reply", {"body": body})
        except Exception:  # connection refused or reset
            status = 0
        record("write", status)
        if status == 303:
            with lock:
                acknowledged.append(body)
        i += 1


def read(m):
    while time.monotonic() - started < SECONDS:
        try:
            status, _, _ = m.request(topic)
        except Exception:
            status = 0
        record("read", status)


def kill():
    time.sleep(KILL_AT)
    os.kill(PID, signal.SIGKILL)
    record("kill", 0)


threads = [threading.Thread(target=write, args=(m, n)) for n, m in enumerate(writers)]
threads += [threading.Thread(target=read, args=(Member(),)) for _ in range(4)]
threads.append(threading.Thread(target=kill))
for t in threads:
    t.start()
for t in threads:
    t.join()

# Sessions live in the database: every writer is still signed in on the instance left.
still_signed_in = sum(1 for m in writers if m.request("/account")[0] == 200)
json.dump({
    "topic_id": int(topic_id),
    "events": events,
    "acknowledged": acknowledged,
    "still_signed_in": still_signed_in,
    "writers": len(writers),
}, open(RESULT, "w"))
