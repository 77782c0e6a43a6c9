"""Seeds a migrated Agora SQLite file with POSTS posts in POSTS/20 topics, for the search
benchmark. The text is drawn from a fixed vocabulary with a Zipf-like spread (so some
words are in a third of all posts and some in a handful), seeded, so every run builds the
same forum. The search triggers index every post as it is inserted, as the server would.

Usage: python3 bench/search_seed.py DATABASE_FILE [POSTS]
"""
import random
import sqlite3
import sys
import time

VOCABULARY = (
    "the borrow checker lifetime async await tokio runtime trait generic closure iterator vector "
    "string slice pattern match enum struct module crate cargo build release debug panic error result "
    "option unwrap macro derive serde json database query index migration sqlite postgres pool "
    "connection transaction session cookie password argon2 hash token forum topic reply post like flag "
    "moderator admin category search latest unread notification mention quote profile avatar privacy "
    "export deletion backup restore ledger newsletter policy consent registration github oauth "
    "network socket thread mutex channel future stream buffer memory allocation performance benchmark "
    "profile flamegraph cache compile linker target windows linux macos docker nginx proxy"
).split()


def main():
    path = sys.argv[1]
    total = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    per_topic = 20
    rng = random.Random(42)
    weights = [1.0 / (rank + 1) for rank in range(len(VOCABULARY))]
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    author = db.execute(
        "INSERT INTO users (username, username_key, email, email_verified, role, created_at) "
        "VALUES ('bencher', 'bencher', 'bencher@example.org', TRUE, 'member', 0) RETURNING id"
    ).fetchone()[0]
    started = time.time()
    now = int(started) - total
    topics = total // per_topic
    for t in range(topics):
        words = rng.choices(VOCABULARY, weights, k=6)
        title = " ".join(words).capitalize()
        topic_id = db.execute(
            "INSERT INTO topics (category_id, user_id, title, slug, created_at, last_post_at, post_count) "
            "VALUES (1, ?, ?, ?, ?, ?, ?) RETURNING id",
            (author, title, "-".join(words), now + t * per_topic, now + t * per_topic + per_topic - 1, per_topic),
        ).fetchone()[0]
        rows = []
        for n in range(1, per_topic + 1):
            body = " ".join(rng.choices(VOCABULARY, weights, k=rng.randint(15, 60)))
            rows.append((topic_id, n, author, body, f"<p>{body}</p>", now + t * per_topic + n - 1, "192.0.2.1"))
        db.executemany(
            "INSERT INTO posts (topic_id, post_number, user_id, body_markdown, body_html, created_at, posted_from_ip) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        if t % 5000 == 4999:
            db.commit()
            print(f"{(t + 1) * per_topic} posts, {time.time() - started:.0f} s", flush=True)
    db.execute("UPDATE categories SET topic_count = ?, post_count = ? WHERE id = 1", (topics, topics * per_topic))
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    print(f"seeded {topics * per_topic} posts in {topics} topics in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
