//! `agora seed`: fills an empty database with a realistic community for benchmarks and
//! demos: members (who can sign in: `member1` … with the password [`PASSWORD`]), a few
//! categories, topics with replies spread over a year, and optionally one very long
//! topic. Bodies are Markdown from a small generator, each distinct body rendered once by
//! the real renderer; rows go in in batches, one transaction per batch.

use diesel::prelude::*;

use crate::db::schema::{categories, posts, topics, users};
use crate::db::{DbConn, DbError};
use crate::forum::queries::PostRow;
use crate::text::markdown::{self, References};

/// The password every seeded member has.
pub const PASSWORD: &str = "seeded-member-password";
/// Distinct post bodies (rendered once each).
const BODIES: usize = 997;
/// Rows per INSERT: well under SQLite's 32,766 bound parameters at 8 columns.
const BATCH: usize = 2000;
const CATEGORIES: &[(&str, &str, &str)] = &[
    ("help", "Help", "Questions and answers about using the project."),
    ("ideas", "Ideas", "Proposals and feature requests."),
    ("show", "Show and tell", "What people built."),
    ("meta", "Meta", "About this forum itself."),
];

#[derive(Debug, Clone)]
pub struct Plan {
    pub members: i64,
    pub topics: i64,
    /// Posts in all (first posts included), spread evenly over the topics.
    pub posts: i64,
    /// One more topic with this many posts, for deep-page measurements.
    pub big_topic: Option<i64>,
}

#[derive(Debug, Default)]
pub struct Seeded {
    pub members: i64,
    pub topics: i64,
    pub posts: i64,
    /// The long topic's id, if one was made.
    pub big_topic: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the database already holds {0} posts: seed an empty one, or pass --force to add to it")]
    NotEmpty(i64),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] DbError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// A small deterministic generator (xorshift), so every seed of the same plan is alike.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const WORDS: &[&str] = &[
    "build",
    "release",
    "crate",
    "compiler",
    "error",
    "warning",
    "thread",
    "async",
    "runtime",
    "memory",
    "cache",
    "database",
    "query",
    "index",
    "migration",
    "backup",
    "server",
    "client",
    "request",
    "response",
    "header",
    "cookie",
    "session",
    "token",
    "password",
    "account",
    "profile",
    "avatar",
    "picture",
    "forum",
    "topic",
    "reply",
    "quote",
    "mention",
    "notification",
    "search",
    "ranking",
    "latency",
    "throughput",
    "benchmark",
    "profile",
    "flamegraph",
    "allocation",
    "vector",
    "string",
    "slice",
    "iterator",
    "closure",
    "trait",
    "generic",
    "lifetime",
    "borrow",
    "ownership",
    "module",
    "package",
    "workspace",
    "feature",
    "dependency",
    "version",
    "semver",
    "changelog",
    "documentation",
    "example",
    "tutorial",
    "question",
    "answer",
    "solution",
    "problem",
    "bug",
    "issue",
    "patch",
    "review",
    "merge",
    "branch",
    "commit",
    "history",
    "deploy",
    "container",
    "nginx",
    "proxy",
    "certificate",
    "postgres",
    "sqlite",
    "transaction",
    "lock",
    "deadlock",
    "timeout",
    "retry",
    "backoff",
    "queue",
    "worker",
    "pool",
    "connection",
    "socket",
    "stream",
    "buffer",
    "encoding",
    "unicode",
    "emoji",
    "markdown",
    "table",
    "list",
    "link",
    "image",
    "code",
    "block",
    "inline",
    "test",
    "fixture",
    "mock",
    "assertion",
    "coverage",
    "linux",
    "windows",
    "macos",
    "terminal",
    "shell",
    "script",
    "config",
    "setting",
    "default",
    "option",
    "flag",
];

fn sentence(dice: &mut Dice, words: usize) -> String {
    let mut text: Vec<&str> = (0..words).map(|_| WORDS[dice.below(WORDS.len())]).collect();
    let first = text[0].to_string();
    let capital = first[..1].to_uppercase() + &first[1..];
    text[0] = &capital;
    format!("{}.", text.join(" "))
}

/// One post's Markdown: a few paragraphs, sometimes a list, a code block or emphasis.
fn body(dice: &mut Dice) -> String {
    let mut parts = Vec::new();
    for _ in 0..1 + dice.below(3) {
        let n = 2 + dice.below(3);
        let sentences: Vec<String> = (0..n)
            .map(|_| {
                let words = 6 + dice.below(10);
                sentence(dice, words)
            })
            .collect();
        parts.push(sentences.join(" "));
    }
    match dice.below(6) {
        0 => parts.push(format!(
            "```rust\nfn {}() -> Result<(), Error> {{\n    Ok(())\n}}\n```",
            WORDS[dice.below(WORDS.len())]
        )),
        1 => parts.push((0..3).map(|_| format!("- {}", sentence(dice, 4))).collect::<Vec<_>>().join("\n")),
        2 => parts.push(format!(
            "This is **{}** and `{}`.",
            WORDS[dice.below(WORDS.len())],
            WORDS[dice.below(WORDS.len())]
        )),
        _ => {}
    }
    parts.join("\n\n")
}

fn title(dice: &mut Dice, n: i64) -> String {
    let words: Vec<&str> = (0..3 + dice.below(5)).map(|_| WORDS[dice.below(WORDS.len())]).collect();
    let text = words.join(" ");
    format!("{}{} ({n})", text[..1].to_uppercase(), &text[1..])
}

/// Fills the database; `progress` hears how many posts are in so far (of `plan.posts`
/// plus the long topic's).
pub fn seed(conn: &mut DbConn, plan: &Plan, force: bool, progress: &dyn Fn(u64)) -> Result<Seeded, SeedError> {
    if plan.members < 1 || plan.topics < 1 || plan.posts < plan.topics {
        return Err(SeedError::Invalid("seeding needs at least one member and one topic, and a post per topic".into()));
    }
    let existing: i64 = posts::table.count().get_result(conn)?;
    if existing > 0 && !force {
        return Err(SeedError::NotEmpty(existing));
    }
    let mut dice = Dice(0x5eed_a907_a11c_e5ed);
    let now = crate::db::now();
    let start = now - 365 * 86400;

    // Members: one argon2 hash shared by all, so seeding stays fast and each can sign in.
    let hash = crate::auth::password::hash(PASSWORD)?;
    // member1 … on an empty forum; after those already there when forced.
    let first_member: i64 =
        users::table.filter(users::role.ne(crate::auth::role::Role::System)).count().get_result::<i64>(conn)? + 1;
    let mut member_ids = Vec::with_capacity(plan.members as usize);
    for chunk in (0..plan.members).collect::<Vec<_>>().chunks(BATCH) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|n| {
                let name = format!("member{}", first_member + n);
                (
                    users::username.eq(name.clone()),
                    users::username_key.eq(name.clone()),
                    users::email.eq(Some(format!("{name}@example.org"))),
                    users::email_verified.eq(true),
                    users::password_hash.eq(Some(hash.clone())),
                    users::created_at.eq(start + n * 60),
                    users::age_confirmed_at.eq(Some(start + n * 60)),
                )
            })
            .collect();
        let ids: Vec<i64> = conn.write_transaction::<_, diesel::result::Error, _>(|c| {
            crate::per_backend!(c, |c| diesel::insert_into(users::table)
                .values(&rows)
                .returning(users::id)
                .get_results(c))
        })?;
        member_ids.extend(ids);
    }

    // Categories: General exists; a few more.
    for (position, (slug, name, description)) in CATEGORIES.iter().enumerate() {
        let row = (
            categories::slug.eq(*slug),
            categories::name.eq(*name),
            categories::description.eq(*description),
            categories::position.eq(position as i32 + 1),
        );
        crate::per_backend!(conn, |c| diesel::insert_into(categories::table)
            .values(row)
            .on_conflict(categories::slug)
            .do_nothing()
            .execute(c))?;
    }
    let category_ids: Vec<i64> = categories::table.order(categories::id).select(categories::id).load(conn)?;

    // Bodies: rendered once each.
    let bodies: Vec<(String, String)> = (0..BODIES)
        .map(|_| {
            let markdown = body(&mut dice);
            let html = markdown::render_post(&markdown, &References::default()).unwrap_or_default();
            (markdown, html)
        })
        .collect();

    let per_topic = plan.posts / plan.topics;
    let extra = plan.posts % plan.topics;
    let mut topic_sizes: Vec<i64> = (0..plan.topics).map(|t| per_topic + i64::from(t < extra)).collect();
    if let Some(big) = plan.big_topic.filter(|&n| n > 0) {
        topic_sizes.push(big);
    }
    let span = (now - start).max(1);
    let mut seeded = Seeded { members: plan.members, ..Seeded::default() };
    let mut done: u64 = 0;
    let mut topic_index = 0usize;
    while topic_index < topic_sizes.len() {
        // A batch of topics, then all their posts, in one transaction.
        let mut batch_posts = 0i64;
        let mut batch = Vec::new();
        while topic_index < topic_sizes.len()
            && (batch.is_empty() || batch_posts + topic_sizes[topic_index] <= BATCH as i64 * 5)
        {
            batch.push(topic_index);
            batch_posts += topic_sizes[topic_index];
            topic_index += 1;
        }
        let mut titles = Vec::with_capacity(batch.len());
        let mut topic_rows = Vec::with_capacity(batch.len());
        for &t in &batch {
            let size = topic_sizes[t];
            let created = start + span * t as i64 / topic_sizes.len() as i64;
            let last = (created + (size - 1) * 600).min(now);
            let title = title(&mut dice, t as i64 + 1);
            let slug = crate::forum::domain::slugify(&title);
            titles.push((title, slug, created, last, size));
            topic_rows.push(t);
        }
        let inserted = conn.write_transaction::<_, SeedError, _>(|c| {
            let rows: Vec<_> = titles
                .iter()
                .zip(&topic_rows)
                .map(|((title, slug, created, last, size), &t)| {
                    (
                        topics::category_id.eq(category_ids[t % category_ids.len()]),
                        topics::user_id.eq(member_ids[t % member_ids.len()]),
                        topics::title.eq(title.as_str()),
                        topics::slug.eq(slug.as_str()),
                        topics::created_at.eq(*created),
                        topics::last_post_at.eq(*last),
                        topics::post_count.eq(*size),
                    )
                })
                .collect();
            let ids: Vec<i64> = crate::per_backend!(c, |c| diesel::insert_into(topics::table)
                .values(&rows)
                .returning(topics::id)
                .get_results(c))?;
            let mut posts_in_batch = Vec::with_capacity(BATCH);
            for ((&topic_id, (_, _, created, _, size)), &t) in ids.iter().zip(&titles).zip(&topic_rows) {
                for number in 1..=*size {
                    let (markdown, html) = &bodies[dice.below(BODIES)];
                    posts_in_batch.push(PostRow {
                        topic_id,
                        post_number: number,
                        user_id: member_ids[(t + number as usize * 7) % member_ids.len()],
                        body_markdown: markdown,
                        body_html: html,
                        created_at: (created + (number - 1) * 600).min(now),
                        posted_from_ip: "192.0.2.1",
                        held: false,
                    });
                    if posts_in_batch.len() == BATCH {
                        crate::per_backend!(c, |c| diesel::insert_into(posts::table)
                            .values(&posts_in_batch)
                            .execute(c))?;
                        posts_in_batch.clear();
                    }
                }
            }
            if !posts_in_batch.is_empty() {
                crate::per_backend!(c, |c| diesel::insert_into(posts::table).values(&posts_in_batch).execute(c))?;
            }
            Ok(ids)
        })?;
        if plan.big_topic.is_some() && topic_index == topic_sizes.len() && topic_sizes.len() as i64 > plan.topics {
            seeded.big_topic = inserted.last().copied();
        }
        seeded.topics += inserted.len() as i64;
        seeded.posts += batch_posts;
        done += batch_posts as u64;
        progress(done);
    }
    // The categories' counters, from what is there.
    for &category_id in &category_ids {
        let topic_count: i64 = topics::table.filter(topics::category_id.eq(category_id)).count().get_result(conn)?;
        let post_count: i64 = posts::table
            .inner_join(topics::table)
            .filter(topics::category_id.eq(category_id))
            .count()
            .get_result(conn)?;
        diesel::update(categories::table.find(category_id))
            .set((categories::topic_count.eq(topic_count), categories::post_count.eq(post_count)))
            .execute(conn)?;
    }
    if plan.big_topic.is_some() {
        seeded.topics -= 1;
    }
    // Fresh statistics for the planner: PostgreSQL without them chose plans that made
    // signed-in topic pages 2.3 times slower and searches time out (measured), until
    // autovacuum came round. On SQLite the whole ANALYZE takes under 3 s at a million
    // posts; a sampled one (analysis_limit = 1000) guessed 1,000 topics per category
    // instead of 10,000, and the home page then sorted every topic (6 req/s, measured).
    // On PostgreSQL a VACUUM too: counting each topic's posts left 50,000 dead topic
    // rows for autovacuum to find later (members' topic pages 4% slower until then).
    use diesel::connection::SimpleConnection;
    match conn {
        DbConn::Sqlite(c) => c.batch_execute("ANALYZE;")?,
        DbConn::Postgres(c) => c.batch_execute("VACUUM (ANALYZE)")?,
    }
    Ok(seeded)
}
