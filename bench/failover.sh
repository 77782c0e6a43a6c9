#!/usr/bin/env bash
# Several instances, proven (issue #14): two Agora instances on one PostgreSQL database
# behind Debian's nginx on a loopback port (the upstream and proxy settings of
# deploy/nginx-agora.conf), a write+read load through nginx for 20 s (bench/failover.py:
# 4 members replying, 4 visitors reading), and SIGKILL to one instance 8 s in. Checks
# that every acknowledged post is in the database, that the members' sessions work on
# the instance left, and that nothing failed once nginx had marked the dead one down;
# reports how many requests failed during the switch.
#
# Usage: bench/failover.sh        (cargo build --release first; apt-get install nginx)
#   AGORA_BIN   the server binary (default target/release/agora)
#   BENCH_PG    PostgreSQL server URL (default postgres://postgres@127.0.0.1:5432)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${AGORA_BIN:-$root/target/release/agora}"
[[ -x "$bin" ]] || { echo "no Agora binary at $bin: cargo build --release first" >&2; exit 2; }
command -v nginx >/dev/null || { echo "nginx is needed (apt-get install nginx)" >&2; exit 2; }
pg="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    [[ -f "$work/nginx.pid" ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

db=agora_failover
psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -qc "CREATE DATABASE $db"
AGORA_DATABASE_URL="$pg/$db" "$bin" migrate >/dev/null

front=18960
start() {
    local port="$1" maintenance="$2"
    AGORA_DATABASE_URL="$pg/$db" AGORA_BIND="127.0.0.1:$port" AGORA_PUBLIC_URL="http://127.0.0.1:$front" \
        AGORA_TRUSTED_PROXIES=127.0.0.1 AGORA_RATE_LIMITS=off AGORA_DAILY_MAINTENANCE="$maintenance" \
        AGORA_MAIL_DIR="$work/mail" AGORA_BACKUP_DIR="$work/backups" RUST_LOG=warn \
        "$bin" serve >>"$work/agora-$port.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
    echo "instance on $port did not start" >&2; exit 1
}
start 18961 on
first=${pids[-1]}
start 18962 off

mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<EOF
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log $work/nginx-access.log;
    client_body_temp_path $work/nginx;
    proxy_temp_path $work/nginx;
    fastcgi_temp_path $work/nginx;
    uwsgi_temp_path $work/nginx;
    scgi_temp_path $work/nginx;
    upstream agora {
        server 127.0.0.1:18961 max_fails=3 fail_timeout=10s;
        server 127.0.0.1:18962 max_fails=3 fail_timeout=10s;
        keepalive 32;
    }
    server {
        listen 127.0.0.1:$front;
        location / {
            proxy_pass http://agora;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_connect_timeout 2s;
            proxy_next_upstream error timeout http_502 http_503 http_504;
            proxy_next_upstream_tries 2;
        }
    }
}
EOF
nginx -c "$work/nginx.conf" -g "daemon on;"
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$front/healthz" >/dev/null && break; sleep 0.1; done

python3 "$root/bench/failover.py" "http://127.0.0.1:$front" "$work/mail" 20 8 "$first" "$work/result.json"

# Every acknowledged post is stored: one query for the topic's bodies, compared in Python.
topic_id="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['topic_id'])" "$work/result.json")"
psql "$pg/$db" -tAc "SELECT body_markdown FROM posts WHERE topic_id = $topic_id" >"$work/stored.txt"
python3 - "$work/result.json" "$work/stored.txt" <<'EOF'
import json, sys
result = json.load(open(sys.argv[1]))
stored = set(open(sys.argv[2]).read().splitlines())
events = result["events"]
kill_at = next(t for t, kind, _ in events if kind == "kill")
requests = [(t, kind, status) for t, kind, status in events if kind != "kill"]
ok = lambda kind, status: status in (200, 303)
failed = [(t, kind, status) for t, kind, status in requests if not ok(kind, status)]
during = [f for f in failed if kill_at <= f[0] < kill_at + 2]
after = [f for f in failed if f[0] >= kill_at + 2]
before = [f for f in failed if f[0] < kill_at]
missing = [b for b in result["acknowledged"] if b not in stored]
print(f"requests through nginx: {len(requests)} in 20 s ({sum(1 for r in requests if r[1] == 'write')} writes, "
      f"{sum(1 for r in requests if r[1] == 'read')} reads); one instance killed with SIGKILL at {kill_at:.1f} s")
print(f"failed before the kill: {len(before)}; in the 2 s after it: {len(during)} "
      f"({', '.join(sorted(set(str(s) for _, _, s in during))) or 'none'}); later: {len(after)}")
print(f"acknowledged posts: {len(result['acknowledged'])}; missing from the database: {len(missing)}")
print(f"members still signed in on the instance left: {result['still_signed_in']} of {result['writers']}")
problems = []
if missing: problems.append(f"{len(missing)} acknowledged posts are not stored")
if after: problems.append(f"{len(after)} requests failed after nginx marked the dead instance down")
if before: problems.append(f"{len(before)} requests failed before the kill")
if result["still_signed_in"] != result["writers"]: problems.append("sessions did not survive")
if problems:
    sys.exit("FAILED: " + "; ".join(problems))
print("passed")
EOF
