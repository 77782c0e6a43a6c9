#!/usr/bin/env bash
# The benchmark (issue #14): a million posts, every kind of page, both backends.
# Seeds with `agora seed` (cached between runs), starts the release build, and measures
# with wrk on loopback (wrk -t2 -c32 -d10s, on the same 2 cores as the server): the
# trivial route, home, Latest, a category's first page and page 300 (as a visitor and
# signed in), a 20-post topic as a visitor and signed in, page 1 and page 500 of a
# 10,000-post topic, a search repeated, and searches that are never the same twice.
# Visitors' pages come from the page cache once asked for, a search from its second
# asking (while nothing changes); members' pages and new searches are rendered each time.
# Prints req/s, p50, p99, each page's share of the trivial route's req/s, the server's
# RSS after each page, and its peak RSS.
#
# Usage: bench/run.sh [sqlite|postgres|both]      (default: both)
#   AGORA_BIN       the server binary (default target/release/agora; cargo build --release)
#   BENCH_CACHE     where seeded databases are kept (default bench/.cache)
#   BENCH_POSTS     posts to seed (default 1000000, in BENCH_POSTS/20 topics)
#   BENCH_PG        PostgreSQL server URL (default postgres://postgres@127.0.0.1:5432; the
#                   server runs with sslmode=disable and a pool of 4 connections, see below)
#   BENCH_SECONDS   seconds per wrk run (default 10)
# Targets: every page p99 < 10 ms (SQLite), category page 300 within 20% of page 1,
# topic page >= 25% of the trivial route (visitor) and >= 15% (signed in), PostgreSQL at
# least half of SQLite's req/s with p99 < 15 ms, peak RSS < 64 MB, search p99 < 50 ms.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${AGORA_BIN:-$root/target/release/agora}"
[[ -x "$bin" ]] || { echo "no Agora binary at $bin: cargo build --release first" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 2; }
cache="${BENCH_CACHE:-$root/bench/.cache}"
posts="${BENCH_POSTS:-1000000}"
topics=$((posts / 20))
seconds="${BENCH_SECONDS:-10}"
pg="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
which="${1:-both}"
mkdir -p "$cache"
work="$(mktemp -d)"
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

# Seeds DATABASE_URL once: a marker file says it holds this many posts.
seed() {
    local url="$1" marker="$2"
    if [[ -f "$marker" && "$(cat "$marker")" == "$posts" ]]; then return; fi
    echo "seeding $posts posts into $url (cached in $marker)" >&2
    AGORA_DATABASE_URL="$url" "$bin" seed --members 5000 --topics "$topics" --posts "$posts" --big-topic 10000 >&2
    echo "$posts" >"$marker"
}

start_server() {
    local url="$1" port="$2" pool="$3"
    AGORA_DATABASE_URL="$url" AGORA_DATABASE_POOL_SIZE="$pool" AGORA_BIND="127.0.0.1:$port" AGORA_PUBLIC_URL="http://127.0.0.1:$port" \
        AGORA_RATE_LIMITS=off AGORA_DAILY_MAINTENANCE=off AGORA_MAIL_QUEUE_SECONDS=0 \
        AGORA_MAIL_DIR="$work/mail" AGORA_BACKUP_DIR="$work/backups" RUST_LOG=warn \
        "$bin" serve >"$work/server.log" 2>&1 &
    server=$!
    for _ in $(seq 150); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.2; done
    echo "the server did not start:" >&2; cat "$work/server.log" >&2; exit 1
}

# Signs member1 in; prints the session cookie.
sign_in() {
    local base="$1" jar="$work/jar"
    rm -f "$jar"
    local token
    token="$(curl -fs -c "$jar" "$base/login" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')"
    curl -fs -b "$jar" -c "$jar" -o /dev/null -d "csrf_token=$token&login=member1&password=seeded-member-password&next=/" "$base/login"
    awk '$6 == "agora_session" {print "agora_session=" $7}' "$jar"
}

trivial_rps=""
# measure NAME URL [COOKIE] [WRK_SCRIPT]
measure() {
    local name="$1" url="$2" cookie="${3:-}" script="${4:-}"
    local args=(-t2 -c32 -d"${seconds}s" --latency)
    [[ -n "$cookie" ]] && args+=(-H "Cookie: $cookie")
    [[ -n "$script" ]] && args+=(-s "$script")
    # Two requests first, as a page usually has been asked for before: the measurement is
    # of the page in use, not of 32 first requests arriving in the same instant. (Two: a
    # visitor's search is kept in the page cache from the second time it is asked for.)
    for _ in 1 2; do curl -s -o /dev/null ${cookie:+-H "Cookie: $cookie"} "$url" || true; done
    local out
    out="$(wrk "${args[@]}" "$url")"
    local rps p50 p99 errors
    rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
    p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
    p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
    errors="$(awk '/Non-2xx/ {print $5}' <<<"$out")"
    [[ -z "$trivial_rps" ]] && trivial_rps="$rps"
    local share
    share="$(awk -v a="$rps" -v b="$trivial_rps" 'BEGIN {printf "%.0f%%", 100 * a / b}')"
    local rss
    rss="$(awk '/VmRSS/ {printf "%.0f MB", $2/1024}' "/proc/$server/status")"
    printf '| %-40s | %9s | %8s | %8s | %6s | %7s |%s\n' "$name" "$rps" "$p50" "$p99" "$share" "$rss" "${errors:+ $errors non-2xx}"
}

run() {
    local backend="$1" url="$2" port="$3" pool="$4"
    start_server "$url" "$port" "$pool"
    local base="http://127.0.0.1:$port"
    # A 20-post topic, the long one, a category's page 300 (following its cursor links).
    local topic big cursor
    topic="$(curl -fs "$base/t/2" -o /dev/null -w '%{redirect_url}')"
    big="$(curl -fs "$base/t/$((topics + 1))" -o /dev/null -w '%{redirect_url}')"
    cursor="/c/1/general"
    for _ in $(seq 299); do
        cursor="$(curl -fs "$base$cursor" | grep -o 'href="/c/1/general?after=[^"]*" rel="next"\|rel="next" href="/c/1/general?after=[^"]*"' | grep -o '/c/1/general?after=[^"]*' | head -1 | sed 's/&amp;/\&/g; s/&#38;/\&/g')"
        [[ -n "$cursor" ]] || { echo "category 1 has fewer than 300 pages" >&2; break; }
    done
    local cookie
    cookie="$(sign_in "$base")"
    [[ -n "$cookie" ]] || { echo "could not sign in as member1" >&2; exit 1; }
    echo
    echo "### $backend, $posts posts in $topics topics (+ one of 10,000), wrk -t2 -c32 -d${seconds}s"
    echo
    printf '| %-40s | %9s | %8s | %8s | %6s | %7s |\n' "page" "req/s" "p50" "p99" "share" "RSS"
    printf '|%s|%s|%s|%s|%s|%s|\n' "------------------------------------------" "-----------" "----------" "----------" "--------" "---------"
    trivial_rps=""
    measure "/static/agora.css (trivial route)" "$base/static/agora.css"
    measure "home (categories)" "$base/"
    measure "/latest" "$base/latest"
    measure "category, first page" "$base/c/1/general"
    [[ -n "$cursor" ]] && measure "category, page 300" "$base$cursor"
    # Members' pages are never kept whole: these are rendered on every request.
    measure "category, first page, signed in" "$base/c/1/general" "$cookie"
    [[ -n "$cursor" ]] && measure "category, page 300, signed in" "$base$cursor" "$cookie"
    measure "topic, 20 posts, visitor" "${topic/#\//$base/}"
    measure "topic, 20 posts, signed in" "${topic/#\//$base/}" "$cookie"
    measure "10,000-post topic, page 1" "${big/#\//$base/}"
    measure "10,000-post topic, page 500" "${big/#\//$base/}?page=500"
    measure "search (a common word)" "$base/search?q=database"
    measure "search (a new pair of words each time)" "$base/" "" "$root/bench/distinct_searches.lua"
    echo
    echo "peak RSS: $(awk '/VmHWM/ {printf "%.0f MB", $2/1024}' "/proc/$server/status")"
    kill "$server"; wait "$server" 2>/dev/null || true
    server=""
}

if [[ "$which" == sqlite || "$which" == both ]]; then
    db="$cache/agora-$posts.db"
    seed "sqlite://$db" "$db.seeded"
    run SQLite "sqlite://$db" 18941 10
fi
if [[ "$which" == postgres || "$which" == both ]]; then
    name="agora_bench_$posts"
    psql "$pg/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1 \
        || { psql "$pg/postgres" -qc "CREATE DATABASE $name"; rm -f "$cache/$name.seeded"; }
    seed "$pg/$name" "$cache/$name.seeded"
    # PostgreSQL runs on the same 2 cores: over loopback, TLS (libpq's default
    # sslmode=prefer) only costs (12% of a member's page, measured), and connections
    # beyond about two per core only add processes waiting for them (p99 8 ms with 4,
    # 13-40 ms with 10). See the README's Performance section.
    run PostgreSQL "$pg/$name?sslmode=disable" 18942 4
fi
