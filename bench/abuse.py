#!/usr/bin/env python3
"""Bounded, loopback-only abuse test for Agora (see bench/abuse.sh for usage).

Scenario 1, "sign-in flood": bursts of concurrent wrong-password sign-ins against one
account, while a probe times GET / and a sampler watches the server's memory.
Scenario 2, "concurrent writes": members edit, flag and save their profile at once,
first 8 of them, then 32; any 5xx means a write was lost to contention.
Scenario 3, "worst-case previews": bursts of 32 members previewing the costliest posts
we know at once (render bombs), while GET / is timed and memory sampled.

Standard library only. `python3 bench/abuse.py --self-test` checks the parsing helpers.
"""
import argparse, collections, email, email.policy, email.utils, html, http.client, json, os
import re, secrets, socket, subprocess, sys, threading, time, traceback
from datetime import datetime, timezone
from urllib.parse import urlencode

FLOOD_THREADS, FLOOD_BURSTS, BURST_GAP_S, BURST_DEADLINE_S = 64, 3, 0.5, 120
PROBE_INTERVAL_S, PROBE_TIMEOUT_S, RSS_INTERVAL_S = 0.020, 10, 0.100
WRITE_PHASES, WRITE_MAX_ITERATIONS = (8, 32), 100_000
WRITE_SECONDS = min(int(os.environ.get("ABUSE_WRITE_SECONDS", 15)), 300)  # shorter for a quick smoke run
TOPICS = 8
TARGET_PEAK_RSS_MB, TARGET_PROBE_P99_MS = 200, 100
PREVIEW_THREADS, PREVIEW_BURSTS, TARGET_PREVIEW_PROBE_P99_MS = 32, 10, 50
# Nothing here may run unbounded: every waiting loop also has one of these ceilings.
STARTUP_TIMEOUT_S, MAIL_TIMEOUT_S, MAX_SAMPLER_TICKS = 60, 15, 20_000
PASSWORD = "correct-horse-battery-abuse"

CSRF_INPUT_RE = re.compile(r"<input\b[^>]*>", re.I)
CONFIRM_RE = re.compile(r"/account/confirm-email\?token=([A-Za-z0-9_\-]+)(?=\s)")
EDIT_LINK_RE = re.compile(r'href="/p/(\d+)/edit"')


# ---- Parsing helpers (exercised by --self-test) -------------------------------------

def extract_csrf(page: str) -> str | None:
    """The csrf_token hidden field's value, whatever the attribute order."""
    for tag in CSRF_INPUT_RE.findall(page):
        if re.search(r"""\bname\s*=\s*["']?csrf_token\b""", tag):
            m = re.search(r"""\bvalue\s*=\s*(?:"([^"]*)"|'([^']*)')""", tag)
            if m:
                return html.unescape(m.group(1) if m.group(1) is not None else m.group(2))
    return None


def parse_set_cookie(header: str) -> tuple[str, str, bool]:
    """(name, value, removed): removal cookies come with an empty value, Max-Age=0 or a past Expires."""
    first, *attrs = header.split(";")
    name, _, value = first.strip().partition("=")
    value = value.strip().strip('"')
    removed = value == ""
    for attr in attrs:
        key, _, arg = attr.strip().partition("=")
        if key.lower() == "max-age" and arg.strip().lstrip("-").isdigit() and int(arg) <= 0:
            removed = True
        elif key.lower() == "expires":
            try:
                removed |= email.utils.parsedate_to_datetime(arg.strip()) < datetime.now(timezone.utc)
            except (TypeError, ValueError):
                pass
    return name.strip(), value, removed


def confirm_token_from_mail(raw: bytes, address: str) -> str | None:
    """The confirmation token in a mail to `address`. get_content() undoes quoted-printable
    (soft breaks, =3D) so the link is whole; the look-ahead in CONFIRM_RE needs a character
    after the token, so a file caught half-written yields nothing rather than half a token."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if address.lower() not in str(msg.get("To", "")).lower():
        return None
    try:
        body = msg.get_content()
    except Exception:
        return None
    m = CONFIRM_RE.search(body)
    return m.group(1) if m else None


def percentile(values, p):
    """Nearest-rank percentile; None for no data (a missing figure, not a zero)."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, min(len(ordered) - 1, -(-p * len(ordered) // 100) - 1))], 2)


# ---- HTTP: one Browser is one cookie jar and one keep-alive connection ----------------

class Response:
    def __init__(self, status, location, body):
        self.status, self.location, self.body = status, location, body


class Browser:
    def __init__(self, port, timeout=30):
        self.port, self.timeout = port, timeout
        self.cookies, self.csrf, self.conn = {}, None, None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, fields):
        # The token is the one from the latest page: it may change when signing in.
        return self.request("POST", path, {"csrf_token": self.csrf or "", **fields})

    def request(self, method, path, form=None):
        headers = {"User-Agent": "agora-abuse-test"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                # A kept-alive connection the server closed while idle: retry once on a
                # fresh one, as browsers do. A fresh connection failing is a real failure.
                if reused and attempt == 1:
                    continue
                raise
            except Exception:
                self.close()
                raise
            break
        for header in resp.headers.get_all("Set-Cookie") or []:
            name, value, removed = parse_set_cookie(header)
            if removed:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        if resp.will_close:
            self.close()
        text = data.decode("utf-8", "replace")
        token = extract_csrf(text) if "csrf_token" in text else None
        if token:
            self.csrf = token
        return Response(resp.status, resp.headers.get("Location"), text)


def expect(resp, status, what):
    if resp.status != status:
        text = re.sub(r"<[^>]+>|\s+", " ", resp.body)[:300]  # the error page's words, for diagnosis
        raise RuntimeError(f"{what}: expected {status}, got {resp.status} {resp.location or ''} {text}")
    return resp


# ---- The server under test -----------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_memory_kb(pid):
    """VmRSS and VmHWM in kB from /proc, or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])
    except (OSError, KeyError, ValueError):
        return None


class Server:
    """Runs the binary for one scenario; `with` makes sure it is killed, error or not."""

    def __init__(self, binary, tmp, database_url, name):
        self.binary, self.tmp, self.database_url, self.name = binary, tmp, database_url, name
        self.proc, self.port = None, free_port()
        self.mail_dir = os.path.join(tmp, "mail")
        self.log_path = os.path.join(tmp, f"server-{name}.log")

    def __enter__(self):
        # Inherited AGORA_* settings (an SMTP URL, say) must not leak into the test server.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGORA_")}
        env.update(AGORA_DATABASE_URL=self.database_url, AGORA_BIND=f"127.0.0.1:{self.port}",
                   AGORA_PUBLIC_URL=f"http://127.0.0.1:{self.port}", AGORA_MAIL_DIR=self.mail_dir,
                   AGORA_BACKUP_DIR=os.path.join(self.tmp, "backups"), AGORA_DAILY_MAINTENANCE="off",
                   AGORA_RATE_LIMITS="off")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([self.binary], env=env, cwd=self.tmp, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def wait_ready(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log_path}:\n"
                                   + self.log_tail())
            probe = Browser(self.port, timeout=1)
            try:
                if probe.get("/").status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            finally:
                probe.close()
            time.sleep(0.1)
        raise RuntimeError(f"server did not answer GET / within {STARTUP_TIMEOUT_S}s; see {self.log_path}")

    def log_tail(self):
        with open(self.log_path, "rb") as f:
            return f.read()[-2000:].decode("utf-8", "replace")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


# ---- Member set-up -------------------------------------------------------------------

def register(server, username, address, confirm=False):
    b = Browser(server.port)
    b.get("/register")  # the first visit only sets the CSRF cookie; a POST needs it to exist
    expect(b.post("/register", {"username": username, "email": address, "password": PASSWORD,
                                "age_confirmed": "yes", "accept_policy": "yes"}), 303, f"register {username}")
    if confirm:
        token = wait_for_confirmation(server.mail_dir, address)
        expect(b.get(f"/account/confirm-email?token={token}"), 200, f"confirmation page of {username}")
        expect(b.post("/account/confirm-email", {"token": token}), 303, f"confirm {username}")
    expect(b.get("/account"), 200, f"account page of {username}")  # a signed-in page: a fresh token
    return b


def wait_for_confirmation(mail_dir, address):
    deadline = time.monotonic() + MAIL_TIMEOUT_S
    while time.monotonic() < deadline:
        names = sorted(os.listdir(mail_dir)) if os.path.isdir(mail_dir) else []
        for name in (n for n in names if n.endswith(".eml")):
            try:
                with open(os.path.join(mail_dir, name), "rb") as f:
                    token = confirm_token_from_mail(f.read(), address)
            except OSError:
                continue
            if token:
                return token
        time.sleep(0.1)
    raise RuntimeError(f"no confirmation mail to {address} in {mail_dir} within {MAIL_TIMEOUT_S}s")


def own_post_ids(browser, path):
    """A topic page shows Edit links only on the viewer's own posts."""
    page = expect(browser.get(path.split("#")[0]), 200, f"topic page {path}")
    return [int(i) for i in EDIT_LINK_RE.findall(page.body)]


# ---- Scenario 1: sign-in flood -------------------------------------------------------

class Sampler(threading.Thread):
    """Runs `tick` every `interval` seconds until stopped (or `limit` ticks)."""

    def __init__(self, interval, tick, limit):
        super().__init__(daemon=True)
        self.interval, self.tick, self.limit, self.halt = interval, tick, limit, threading.Event()

    def run(self):
        for _ in range(self.limit):
            started = time.perf_counter()
            if self.tick() is False or self.halt.is_set():
                return
            self.halt.wait(max(0.0, self.interval - (time.perf_counter() - started)))

    def stop(self):
        self.halt.set()
        self.join(timeout=PROBE_TIMEOUT_S + 5)


def bursts_under_watch(server, threads, bursts, attack):
    """Runs `bursts` bursts of `threads` concurrent `attack(i, burst)` calls (each returns
    the answer's status as text) while a probe times GET / and a sampler watches memory."""
    memory = {"peak_rss": 0, "hwm": 0}
    def sample_memory():
        m = read_memory_kb(server.proc.pid)
        if m is None:
            return False
        memory["peak_rss"], memory["hwm"] = max(memory["peak_rss"], m[0]), max(memory["hwm"], m[1])
    latencies, probe_failures, prober = [], [], Browser(server.port, timeout=PROBE_TIMEOUT_S)
    def probe():
        started = time.perf_counter()
        try:
            ok = prober.get("/").status == 200
        except (OSError, http.client.HTTPException):
            ok = False
        latencies.append((time.perf_counter() - started) * 1000)
        if not ok:
            probe_failures.append(1)

    rss_before = (read_memory_kb(server.proc.pid) or (0, 0))[0]
    sampler = Sampler(RSS_INTERVAL_S, sample_memory, MAX_SAMPLER_TICKS)
    prober_thread = Sampler(PROBE_INTERVAL_S, probe, MAX_SAMPLER_TICKS)
    sampler.start()
    prober_thread.start()
    statuses, request_ms, burst_seconds = collections.Counter(), [], []
    try:
        for burst in range(bursts):
            results = [("unfinished", None)] * threads
            # The barrier lines the requests up so they really arrive together.
            barrier = threading.Barrier(threads, timeout=30)
            # Everything a thread touches comes in as arguments: a straggler from an
            # earlier burst must not write into this burst's results.
            def one(i, burst, barrier, results):
                try:
                    barrier.wait()
                except threading.BrokenBarrierError:
                    pass
                started = time.perf_counter()
                try:
                    status = attack(i, burst)
                except (OSError, http.client.HTTPException) as e:
                    status = f"error:{type(e).__name__}"
                results[i] = (status, (time.perf_counter() - started) * 1000)
            workers = [threading.Thread(target=one, args=(i, burst, barrier, results), daemon=True)
                       for i in range(threads)]
            started, deadline = time.monotonic(), time.monotonic() + BURST_DEADLINE_S
            for t in workers:
                t.start()
            for t in workers:
                t.join(timeout=max(0.0, deadline - time.monotonic()))
            burst_seconds.append(round(time.monotonic() - started, 3))
            for status, ms in results:
                statuses[status] += 1
                if ms is not None:
                    request_ms.append(ms)
            time.sleep(BURST_GAP_S)
    finally:
        prober_thread.stop()
    time.sleep(1)  # let the server settle, so "after" is what it holds on to
    sampler.stop()
    after = read_memory_kb(server.proc.pid) or (0, 0)
    peak_kb = max(memory["peak_rss"], memory["hwm"], after[1])
    return {
        "responses": dict(sorted(statuses.items())), "burst_seconds": burst_seconds,
        "request_p50_ms": percentile(request_ms, 50), "request_p99_ms": percentile(request_ms, 99),
        "rss_before_mb": round(rss_before / 1024, 1), "peak_rss_mb": round(peak_kb / 1024, 1),
        "rss_after_mb": round(after[0] / 1024, 1),
        "probe": {"count": len(latencies), "failures": len(probe_failures), "p50_ms": percentile(latencies, 50),
                  "p99_ms": percentile(latencies, 99), "max_ms": percentile(latencies, 100)},
        "server_alive": server.alive(),
    }


def scenario_flood(server):
    register(server, "victim", "victim@example.org")
    # Each attacker has its own jar and token, fetched before the clock starts.
    attackers = [Browser(server.port, timeout=60) for _ in range(FLOOD_THREADS)]
    for a in attackers:
        expect(a.get("/login"), 200, "login page")
    def attack(i, burst):
        wrong = f"wrong-{burst}-{i}-{secrets.token_hex(4)}"
        return str(attackers[i].post("/login", {"login": "victim", "password": wrong}).status)
    result = bursts_under_watch(server, FLOOD_THREADS, FLOOD_BURSTS, attack)
    result["unexpected_responses"] = {k: v for k, v in result["responses"].items() if k not in ("401", "503")}
    return result


# ---- Scenario 3: worst-case previews -------------------------------------------------

def worst_posts():
    """The costliest posts we know, each at the 32,000-character limit: the review's
    padded table (refused now), and the worst that are still accepted (see
    examples/markdown_cost.rs for their single-render times)."""
    rust = 'fn main() { let x: Vec<u8> = (0..10).map(|i| i * 2).collect(); println!("{x:?}"); }\n'
    posts = [
        "|a" * 4000 + "|\n" + "|-" * 4000 + "|\n" + "x\n" * 7900,
        ("```rust\n" + rust * (16_000 // len(rust)) + "```\n\n") * 2,
        "<div>" * 1000,
        "|a|b|c|d|\n|-|-|-|-|\n" + "|1|2|3|4|\n" * 499,
        ('[quote="a"]\n' * 12 + "x\n" + "[/quote]\n" * 12) * 100,
    ]
    return [p[:32_000] for p in posts]


def scenario_previews(server):
    members = [register(server, f"abp{n:02d}", f"abp{n:02d}@example.org", confirm=True)
               for n in range(PREVIEW_THREADS)]
    posts = worst_posts()
    def attack(i, burst):
        body = posts[(i + burst) % len(posts)]
        return str(members[i].post("/c/1/new", {"title": "Preview", "body": body, "preview": "yes"}).status)
    result = bursts_under_watch(server, PREVIEW_THREADS, PREVIEW_BURSTS, attack)
    result["unexpected_responses"] = {k: v for k, v in result["responses"].items()
                                      if k not in ("200", "422", "503")}
    return result


# ---- Scenario 2: concurrent writes ---------------------------------------------------

def scenario_writes(server):
    members = []  # (browser, username, own post ids)
    for n in range(1, max(WRITE_PHASES) + 1):
        name = f"abw{n:02d}"
        members.append([register(server, name, f"{name}@example.org", confirm=True), name, []])
    author = members[0][0]
    topics = []
    for t in range(TOPICS):
        r = expect(author.post("/c/1/new", {"title": f"Load test topic {t + 1}",
                                            "body": f"Opening post {t + 1}, to be edited and flagged."}),
                   303, "create topic")
        topics.append(r.location)
        members[0][2] += own_post_ids(author, r.location)
    for k, member in enumerate(members[1:], start=1):
        topic_id = re.search(r"/t/(\d+)/", topics[k % TOPICS]).group(1)
        r = expect(member[0].post(f"/t/{topic_id}/reply", {"body": f"A reply by {member[1]}."}), 303, "reply")
        member[2] = own_post_ids(member[0], r.location)[-1:]
    if not all(m[2] for m in members):
        raise RuntimeError("could not find every member's own post on the topic pages")
    pool = [(post, k) for k, m in enumerate(members) for post in m[2]]
    return {str(n): write_phase(server, members[:n], pool) for n in WRITE_PHASES}


def write_phase(server, members, pool):
    deadline = time.monotonic() + WRITE_SECONDS
    records = [[] for _ in members]  # one list per thread: no lock needed

    def writer(k):
        browser, name, own = members[k]
        # Rotated so the members do not all flag the same post at the same moment.
        targets = [p for p, owner in pool[k:] + pool[:k] if owner != k]
        for i in range(WRITE_MAX_ITERATIONS):
            if time.monotonic() >= deadline:
                return
            step = i // 3
            if i % 3 == 0:
                action, path, form = "edit", f"/p/{own[step % len(own)]}/edit", {"body": f"Edit {i} by {name}."}
            elif i % 3 == 1:
                action, path = "flag", f"/p/{targets[step % len(targets)]}/flag"
                form = {"reason": "spam", "details": ""}
            else:
                action, path, form = "profile", "/account/profile", {
                    "username": name, "first_name": f"First{i}", "last_name": "Loadtest"}
            started = time.perf_counter()
            try:
                r = browser.post(path, form)
                # A redirect to /login means the session was lost: not a write at all.
                lost = r.status == 303 and (r.location or "").startswith("/login")
                outcome = "lost-session" if lost else str(r.status)
            except (OSError, http.client.HTTPException) as e:
                outcome = f"error:{type(e).__name__}"
            records[k].append((action, outcome, (time.perf_counter() - started) * 1000))

    threads = [threading.Thread(target=writer, args=(k,), daemon=True) for k in range(len(members))]
    for t in threads:
        t.start()
    # Requests still in flight at the deadline get their socket timeout, and no more.
    join_deadline = deadline + 60
    for t in threads:
        t.join(timeout=max(0.0, join_deadline - time.monotonic()))
    flat = [r for rs in records for r in rs]
    classes, by_action = collections.Counter(), collections.defaultdict(collections.Counter)
    for action, outcome, _ in flat:
        classes[outcome if not outcome[0].isdigit() else outcome[0] + "xx"] += 1
        by_action[action][outcome] += 1
    return {
        "threads": len(members), "seconds": WRITE_SECONDS, "writes": len(flat),
        "writes_per_second": round(len(flat) / WRITE_SECONDS, 1), "by_class": dict(sorted(classes.items())),
        "by_action": {a: dict(sorted(c.items())) for a, c in sorted(by_action.items())},
        "p50_ms": percentile([ms for *_, ms in flat], 50), "p99_ms": percentile([ms for *_, ms in flat], 99),
        "server_alive": server.alive(),
    }


# ---- Report --------------------------------------------------------------------------

def evaluate(results):
    checks = []  # (scenario, figure, value, target, passed)
    for key, name, ok_answers, probe_target in (("flood", "sign-in flood", "401/503", TARGET_PROBE_P99_MS),
                                                ("previews", "worst-case previews", "200/422/503",
                                                 TARGET_PREVIEW_PROBE_P99_MS)):
        burst = results.get(key, {})
        if "error" in burst:
            checks.append((name, "ran", burst["error"], "no error", False))
        elif burst:
            checks += [
                (name, "responses", " ".join(f"{k}={v}" for k, v in burst["responses"].items()), "", None),
                (name, f"non-{ok_answers} responses", sum(burst["unexpected_responses"].values()), "0",
                 not burst["unexpected_responses"]),
                (name, "request p50 / p99 ms", f"{fmt(burst['request_p50_ms'])} / {fmt(burst['request_p99_ms'])}",
                 "", None),
                (name, "peak RSS MB", burst["peak_rss_mb"], f"< {TARGET_PEAK_RSS_MB}",
                 burst["peak_rss_mb"] < TARGET_PEAK_RSS_MB),
                (name, "RSS before / after MB", f"{burst['rss_before_mb']} / {burst['rss_after_mb']}", "", None),
                (name, "GET / p50 ms", fmt(burst["probe"]["p50_ms"]), "", None),
                (name, "GET / p99 ms", fmt(burst["probe"]["p99_ms"]), f"< {probe_target}",
                 burst["probe"]["p99_ms"] is not None and burst["probe"]["p99_ms"] < probe_target),
                (name, "server still running", burst["server_alive"], "yes", burst["server_alive"])]
    writes = results.get("writes", {})
    if "error" in writes:
        checks.append(("concurrent writes", "ran", writes["error"], "no error", False))
    for n, phase in (writes.items() if "error" not in writes else []):
        name, classes = f"writes x{n}", phase["by_class"]
        failures = classes.get("5xx", 0) + sum(v for k, v in classes.items() if k.startswith("error"))
        # Guard against a vacuous pass: the set-up must really be able to write.
        wrote = all(any(s == "303" for s in phase["by_action"].get(a, {})) for a in ("edit", "profile"))
        checks += [
            (name, "writes (per s)", f"{phase['writes']} ({phase['writes_per_second']})", "", None),
            (name, "by class", " ".join(f"{k}={v}" for k, v in classes.items()), "", None),
            (name, "5xx + transport errors", failures, "0", failures == 0),
            (name, "edits and profile saves succeed", wrote, "yes", wrote),
            (name, "server still running", phase["server_alive"], "yes", phase["server_alive"])]
    return checks


def fmt(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "n/a" if value is None else f"{value:.1f}" if isinstance(value, float) else str(value)


def print_table(checks):
    rows = [("SCENARIO", "FIGURE", "VALUE", "TARGET", "RESULT")] + [
        (s, f, fmt(v), t, "" if ok is None else "PASS" if ok else "FAIL") for s, f, v, t, ok in checks]
    widths = [min(48, max(len(str(r[i])) for r in rows)) for i in range(5)]
    for r in rows:
        print("  ".join(str(c)[:48].ljust(w) for c, w in zip(r, widths)).rstrip())


# ---- Main ----------------------------------------------------------------------------

def psql(sql):
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
                   check=True, timeout=60, stdin=subprocess.DEVNULL)


def run(args):
    results = {"backend": args.backend, "binary": args.bin, "tmp": args.tmp}
    db_name = f"agora_abuse_{os.getpid()}_{secrets.token_hex(4)}"
    if args.backend == "postgres":
        psql(f'CREATE DATABASE "{db_name}"')
        database_url = f"postgres://postgres@127.0.0.1:5432/{db_name}"
    else:
        database_url = f"sqlite://{os.path.join(args.tmp, 'agora.db')}"
    try:
        for key, label, scenario in (("flood", "sign-in flood", scenario_flood),
                                     ("writes", "concurrent writes", scenario_writes),
                                     ("previews", "worst-case previews", scenario_previews)):
            print(f"== {label} ({args.backend})", flush=True)
            try:
                with Server(args.bin, args.tmp, database_url, key) as server:
                    results[key] = scenario(server)
            except Exception as e:  # one broken scenario must not hide the other's figures
                traceback.print_exc()
                results[key] = {"error": f"{type(e).__name__}: {e}"}
    finally:
        if args.backend == "postgres":
            psql(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    checks = evaluate(results)
    results["checks"] = [dict(zip(("scenario", "figure", "value", "target", "pass"), c)) for c in checks]
    results["passed"] = all(ok is not False for *_, ok in checks)
    path = os.path.join(args.tmp, "abuse-results.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=2, default=str)
    print()
    print_table(checks)
    print(f"\n{'PASS' if results['passed'] else 'FAIL'}; results: {path}")
    return 0 if results["passed"] else 1


def self_test():
    page = '<form><input type="hidden" name="csrf_token" value="abcDEF_-0123456789abcdefghijABCDEFGHIJ012345x"></form>'
    assert extract_csrf(page) == "abcDEF_-0123456789abcdefghijABCDEFGHIJ012345x"
    assert extract_csrf("<input value='t&amp;1' type=hidden name=csrf_token>") == "t&1"
    assert extract_csrf('<input name="csrf_token_other" value="x">') is None
    assert parse_set_cookie("agora_csrf=tok123; HttpOnly; SameSite=Lax; Path=/") == ("agora_csrf", "tok123", False)
    assert parse_set_cookie("agora_session=; Path=/; Max-Age=0; Expires=Tue, 01 Jan 2019 00:00:00 GMT")[2]
    assert parse_set_cookie("agora_session=x; Max-Age=2592000")[2] is False
    token = "Zq3" + "x" * 36 + "-_A9"
    qp_link = f"http://127.0.0.1:5/account/confirm-email?token=3D{token[:20]}=\r\n{token[20:]}"
    mail = ("From: Agora <agora@localhost>\r\nTo: abw01@example.org\r\nSubject: Confirm your e-mail address\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\nHello abw01,\r\n\r\nplease confirm:\r\n\r\n"
            f"{qp_link}\r\n\r\nThe link works for 7 days.\r\n").encode()
    assert confirm_token_from_mail(mail, "abw01@example.org") == token
    assert confirm_token_from_mail(mail, "abw02@example.org") is None
    assert confirm_token_from_mail(mail[: mail.index(b"=\r\n" + token[20:].encode()) + 10], "abw01@example.org") is None
    plain_link = f"/account/confirm-email?token={token}".encode()
    plain = mail.replace(b"quoted-printable", b"7bit").replace(qp_link.encode(), plain_link)
    assert confirm_token_from_mail(plain, "abw01@example.org") == token
    assert percentile([5, 1, 3, 2, 4], 50) == 3 and percentile(list(range(1, 101)), 99) == 99
    assert percentile([7], 99) == 7 and percentile([], 50) is None
    assert EDIT_LINK_RE.findall('<a href="/p/12/edit">Edit</a> <a href="/p/3/flag">') == ["12"]
    print("self-test passed")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin")
    parser.add_argument("--tmp")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        self_test()
        sys.exit(0)
    if not (args.bin and args.tmp):
        parser.error("--bin and --tmp are required (bench/abuse.sh passes them)")
    sys.exit(run(args))
