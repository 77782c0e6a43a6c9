#!/usr/bin/env bash
# Abuse test: reproduces three holes against a locally started Agora and reports figures.
#
# Usage:  bench/abuse.sh [sqlite|postgres]
#   AGORA_BIN   the server binary (default: target/release/agora, relative to the repo root).
#               This script never builds: build it first.
#   postgres    use a fresh database on postgres://postgres@127.0.0.1:5432 (created with
#               psql, dropped afterwards) instead of a SQLite file.
#
# Scenario 1 "sign-in flood": 3 bursts of 64 concurrent wrong-password sign-ins while
#   GET / is timed and the server's memory sampled (targets: peak RSS < 200 MB,
#   GET / p99 < 100 ms, only 401/503 answers).
# Scenario 2 "concurrent writes": 8, then 32 members editing, flagging and saving their
#   profile for 15 s each (target: no 5xx).
# Scenario 3 "worst-case previews": 10 bursts of 32 confirmed members previewing the
#   costliest posts we know at once (targets: peak RSS < 200 MB, GET / p99 < 50 ms,
#   only 200/422/503 answers).
# Everything runs on 127.0.0.1 and is bounded in time (a few minutes at most). The server
# runs with AGORA_RATE_LIMITS=off so the other defences are what is measured.
#   ABUSE_WRITE_SECONDS  length of each write phase (default 15, at most 300), for a quick smoke run.
# Results: a table on stdout and $TMP/abuse-results.json (the path is printed).
# Exit status: 0 all targets met, 1 a target failed, 2 bad usage or no binary.
# `python3 bench/abuse.py --self-test` checks the script's parsing helpers alone.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
backend="${1:-sqlite}"
case "$backend" in
    sqlite | postgres) ;;
    *) echo "usage: $0 [sqlite|postgres]" >&2; exit 2 ;;
esac

bin="${AGORA_BIN:-target/release/agora}"
[[ "$bin" == /* ]] || bin="$root/$bin"
if [[ ! -x "$bin" ]]; then
    echo "no Agora binary at $bin: build it first (this script does not build), or set AGORA_BIN" >&2
    exit 2
fi
if [[ "$backend" == postgres ]] && ! command -v psql >/dev/null; then
    echo "the postgres run needs psql on PATH" >&2
    exit 2
fi

if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "bench/abuse.py needs Python 3.11 or newer as python3" >&2
    exit 2
fi

# Kept afterwards: it holds the results, the server logs and the mail for inspection.
tmp="$(mktemp -d "${TMPDIR:-/tmp}/agora-abuse.XXXXXX")"
echo "binary: $bin"
echo "scratch: $tmp"
exec python3 "$root/bench/abuse.py" --bin "$bin" --tmp "$tmp" --backend "$backend"
