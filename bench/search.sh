#!/usr/bin/env bash
# Search and Latest at a million posts (SQLite): seeds a fresh forum with
# bench/search_seed.py (1,000,000 posts in 50,000 topics unless SEARCH_POSTS says
# otherwise), starts the release server on it, and measures with wrk on loopback:
# the trivial route, the home page (Latest), a deep /latest page, and searches for a
# common word, a rare word, a phrase, two words newest first, and titles only.
# Target (issue #12): a search p99 under 50 ms. The seeded vocabulary is small (130 words,
# Zipf-spread), so every word is common: a worst case, not a real forum's text.
#
# Usage: bench/search.sh            (build first: cargo build --release)
#   AGORA_BIN      the server binary (default target/release/agora)
#   SEARCH_POSTS   how many posts to seed (default 1000000)
#   SEARCH_DB      reuse an already seeded SQLite file instead of seeding one
# Everything runs on 127.0.0.1, each wrk run is 10 s; the whole run takes a few minutes.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${AGORA_BIN:-$root/target/release/agora}"
[[ -x "$bin" ]] || { echo "no Agora binary at $bin: cargo build --release first" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 2; }

work="$(mktemp -d)"
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
db="${SEARCH_DB:-}"
if [[ -z "$db" ]]; then
    db="$work/agora.db"
    AGORA_DATABASE_URL="sqlite://$db" "$bin" migrate
    python3 "$root/bench/search_seed.py" "$db" "${SEARCH_POSTS:-1000000}"
fi

port=18931
AGORA_DATABASE_URL="sqlite://$db" AGORA_BIND="127.0.0.1:$port" AGORA_PUBLIC_URL="http://127.0.0.1:$port" \
    AGORA_RATE_LIMITS=off AGORA_DAILY_MAINTENANCE=off AGORA_MAIL_DIR="$work/mail" AGORA_BACKUP_DIR="$work/backups" \
    RUST_LOG=warn "$bin" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/static/agora.css" >/dev/null && break; sleep 0.2; done

deep_cursor="$(curl -fs "http://127.0.0.1:$port/latest" | grep -o 'after=[0-9.]*' | head -1 || true)"
printf '%-44s %10s %10s %10s\n' "page" "req/s" "p50" "p99"
# Under load (32 connections on the same 2 cores), and one search at a time (-c1: how
# long one search takes, which is what the 50 ms target is about).
measure() {
    local name="$1" path="$2" connections="${3:-32}"
    local out
    out="$(wrk -t"$((connections > 1 ? 2 : 1))" -c"$connections" -d10s --latency "http://127.0.0.1:$port$path")"
    local rps p50 p99
    rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
    p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
    p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
    printf '%-44s %10s %10s %10s\n' "$name" "$rps" "$p50" "$p99"
}
measure "/static/agora.css (trivial route)" "/static/agora.css"
measure "home (Latest + categories)" "/"
[[ -n "$deep_cursor" ]] && measure "/latest, second page" "/latest?$deep_cursor"
measure "search: common word (tokio)" "/search?q=tokio"
measure "search: rare word (proxy)" "/search?q=proxy"
measure "search: phrase (\"borrow checker\")" "/search?q=%22borrow+checker%22"
measure "search: two words, newest first" "/search?q=trait+generic&order=newest"
measure "search: titles only (nginx)" "/search?q=nginx&titles=on"
measure "search: common word, page 10" "/search?q=tokio&page=10"
echo "one search at a time:"
measure "  common word (tokio)" "/search?q=tokio" 1
measure "  rare word (proxy)" "/search?q=proxy" 1
measure "  phrase (\"borrow checker\")" "/search?q=%22borrow+checker%22" 1
measure "  two words, newest first" "/search?q=trait+generic&order=newest" 1
measure "  titles only (nginx)" "/search?q=nginx&titles=on" 1
echo "server RSS: $(ps -o rss= -p "$server" | awk '{printf "%.0f MB", $1/1024}')"
