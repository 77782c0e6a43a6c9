#!/usr/bin/env bash
# What erasure and backups cost on PostgreSQL at a million posts (issue #27): a
# synthetic forum (5,000 members, 50,000 topics, 1,000,000 posts of ~380 bytes of
# Markdown and HTML each) written straight with SQL, then, with the release build:
#   - `agora backup create`: wall time, peak RSS (GNU time), file size;
#   - `agora backup restore` into an empty database: wall time, peak RSS, row counts;
#   - `agora maintenance run` with no account erased since the last rewrite (the
#     personal tables are rewritten, posts not), then after `agora account erase`
#     (posts rewritten too): wall time, and each table's lock time from the log.
# Usage: bench/erasure.sh   (BENCH_PG, default postgres://postgres@127.0.0.1:5432;
#   AGORA_BIN, default target/release/agora). Drops and makes databases agora_erasure
#   and agora_erasure_restored.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${AGORA_BIN:-$root/target/release/agora}"
pg="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
[[ -x "$bin" ]] || { echo "no Agora binary at $bin: cargo build --release first" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export AGORA_BACKUP_DIR="$work/backups" RUST_LOG=info

for db in agora_erasure agora_erasure_restored; do
    psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
done
AGORA_DATABASE_URL="$pg/agora_erasure" "$bin" migrate
echo "filling 1,000,000 posts (a few minutes)"
psql "$pg/agora_erasure" -q -v ON_ERROR_STOP=1 <<'SQL'
SET synchronous_commit = off;
INSERT INTO users (username, username_key, email, email_verified, created_at)
  SELECT 'member'||g, 'member'||g, 'member'||g||'@example.org', true, 1700000000 FROM generate_series(1,5000) g;
INSERT INTO categories (slug, name) VALUES ('general', 'General') ON CONFLICT DO NOTHING;
ALTER TABLE posts DISABLE TRIGGER topics_last_poster_insert;
INSERT INTO topics (category_id, user_id, title, slug, created_at, last_post_at, post_count)
  SELECT 1, 2 + g % 5000, 'Topic number '||g||' about compiling things', 'topic-'||g, 1700000000+g, 1700000000+g, 20
  FROM generate_series(1,50000) g;
INSERT INTO posts (topic_id, post_number, user_id, body_markdown, body_html, created_at, posted_from_ip)
  SELECT 1 + (g-1)/20, 1 + (g-1)%20, 2 + g % 5000,
    repeat('This is reply '||g||' with some words about building, testing and shipping a forum. ', 4),
    '<p>'||repeat('This is reply '||g||' with some words about building, testing and shipping a forum. ', 4)||'</p>',
    1700000000+g, '198.51.'||(g%256)||'.'||(g%200)
  FROM generate_series(1,1000000) g;
ALTER TABLE posts ENABLE TRIGGER topics_last_poster_insert;
ANALYZE;
SQL
psql "$pg/agora_erasure" -Atc "SELECT 'posts heap ' || pg_size_pretty(pg_relation_size('posts')) || ', with indexes and TOAST ' || pg_size_pretty(pg_total_relation_size('posts'))"

measure() { # label, command...
    local label="$1"; shift
    /usr/bin/time -f "$label: %e s wall, peak RSS %M KB" "$@" 2>&1 | grep -E "s wall|rewritten|backup written|restored|rror" || true
}
export AGORA_DATABASE_URL="$pg/agora_erasure"
measure "backup create" "$bin" backup create
ls -l "$AGORA_BACKUP_DIR"/agora-*.jsonl.gz
measure "maintenance, no account erased" "$bin" maintenance run
"$bin" account erase --category staff-other member5
measure "maintenance after an account erasure" "$bin" maintenance run
backup="$(ls "$AGORA_BACKUP_DIR"/agora-*.jsonl.gz | head -1)"
AGORA_DATABASE_URL="$pg/agora_erasure_restored" measure "restore into an empty database" "$bin" backup restore "$backup"
psql "$pg/agora_erasure_restored" -Atc "SELECT 'restored: ' || (SELECT COUNT(*) FROM posts) || ' posts, ' || (SELECT COUNT(*) FROM topics) || ' topics, ' || (SELECT COUNT(*) FROM users) || ' users'"
