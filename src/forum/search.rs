//! Full-text search over posts and topic titles (no HTTP here). SQLite answers with its
//! FTS5 index (Porter stemming), PostgreSQL with a `tsvector` column and GIN index
//! (English stemming); both are kept by triggers in the write's own transaction.
//!
//! What a visitor types is never handed to either engine as syntax: it is cut into
//! plain words and "quoted phrases" of letters and digits, and the engine's query is
//! built from those, so an operator, a stray quote or a bracket can only be a word.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::{DbConn, DbError};

pub const RESULTS_PER_PAGE: i64 = 20;
/// Deeper pages are not offered: a search that needs them needs better words.
pub const MAX_PAGE: i64 = 50;
/// Longer queries are cut here, and the page says so.
pub const MAX_QUERY_CHARS: usize = 200;
/// At most this many words and phrases count.
pub const MAX_TERMS: usize = 12;

/// Words people type as search operators; outside a phrase they are left out.
const OPERATOR_WORDS: &[&str] = &["and", "or", "not"];

/// Where the excerpt's highlighted words begin and end (control characters, which
/// the page turns into `<mark>` after escaping everything else).
const MARK_START: char = '\u{2}';
const MARK_END: char = '\u{3}';

/// A query cut into what the engines are asked for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Terms {
    pub words: Vec<String>,
    pub phrases: Vec<Vec<String>>,
    /// An `@name` in the query: the author to look for.
    pub author: Option<String>,
    /// The query was longer than [`MAX_QUERY_CHARS`] or had more than [`MAX_TERMS`] terms.
    pub cut: bool,
}

fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

impl Terms {
    pub fn parse(raw: &str) -> Terms {
        let mut terms = Terms { cut: raw.chars().count() > MAX_QUERY_CHARS, ..Terms::default() };
        let raw: String = raw.chars().take(MAX_QUERY_CHARS).collect();
        // Text between a pair of double quotes is a phrase; an unpaired quote is nothing.
        for (i, part) in raw.split('"').enumerate() {
            let closed = i % 2 == 1 && raw.split('"').count() > i + 1;
            if closed {
                let phrase = words_of(part);
                match phrase.len() {
                    0 => {}
                    1 => terms.words.extend(phrase),
                    _ => terms.phrases.push(phrase),
                }
                continue;
            }
            for token in part.split_whitespace() {
                if let Some(name) = token.strip_prefix('@') {
                    let name: String = name.chars().filter(|c| c.is_alphanumeric() || *c == '_' || *c == '-').collect();
                    if !name.is_empty() {
                        terms.author = Some(name.to_lowercase());
                    }
                    continue;
                }
                // Typed as operators, read as nothing (PostgreSQL drops them as
                // stop words anyway): both backends then answer alike.
                terms.words.extend(words_of(token).into_iter().filter(|w| !OPERATOR_WORDS.contains(&w.as_str())));
            }
        }
        if terms.words.len() + terms.phrases.len() > MAX_TERMS {
            terms.cut = true;
            terms.words.truncate(MAX_TERMS.saturating_sub(terms.phrases.len().min(MAX_TERMS)));
            terms.phrases.truncate(MAX_TERMS);
        }
        terms
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.phrases.is_empty()
    }

    /// FTS5 query syntax: every word and phrase in double quotes (so nothing is an
    /// operator), all of them required; `titles_only` keeps them to the title column.
    pub fn fts5(&self, titles_only: bool) -> String {
        let mut parts: Vec<String> = self.words.iter().map(|w| format!("\"{w}\"")).collect();
        parts.extend(self.phrases.iter().map(|p| format!("\"{}\"", p.join(" "))));
        let all = parts.join(" ");
        if titles_only {
            format!("title : ({all})")
        } else {
            all
        }
    }

    /// Input for PostgreSQL's `websearch_to_tsquery`: words and quoted phrases, all
    /// required. Only letters and digits remain, and `or` (the one word it reads as
    /// an operator) is never among the words.
    pub fn websearch(&self) -> String {
        let mut parts: Vec<String> = self.words.clone();
        parts.extend(self.phrases.iter().map(|p| format!("\"{}\"", p.join(" "))));
        parts.join(" ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    BestMatch,
    Newest,
}

/// A search as the page asks for it.
#[derive(Debug, Clone)]
pub struct Search {
    pub terms: Terms,
    pub category_id: Option<i64>,
    /// Posted on or after (Unix seconds).
    pub since: Option<i64>,
    /// Posted before (Unix seconds).
    pub until: Option<i64>,
    pub titles_only: bool,
    pub order: Order,
    /// 1-based.
    pub page: i64,
    /// Staff only: also hidden, deleted and held posts.
    pub include_removed: bool,
}

#[derive(Debug, QueryableByName)]
pub struct Hit {
    #[diesel(sql_type = BigInt)]
    pub post_id: i64,
    #[diesel(sql_type = BigInt)]
    pub topic_id: i64,
    #[diesel(sql_type = Text)]
    pub topic_slug: String,
    #[diesel(sql_type = Text)]
    pub topic_title: String,
    #[diesel(sql_type = BigInt)]
    pub post_number: i64,
    #[diesel(sql_type = Text)]
    pub author: String,
    #[diesel(sql_type = BigInt)]
    pub created_at: i64,
    #[diesel(sql_type = Text)]
    pub category: String,
    /// The engine's excerpt, with the matched words between the mark characters.
    #[diesel(sql_type = Text)]
    pub excerpt: String,
}

/// One piece of an excerpt: plain text, or a matched word to highlight.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    Plain(&'a str),
    Matched(&'a str),
}

impl Hit {
    /// The excerpt in pieces, for the template to escape and mark.
    pub fn excerpt_pieces(&self) -> Vec<Piece<'_>> {
        let mut pieces = Vec::new();
        for (i, chunk) in self.excerpt.split(MARK_START).enumerate() {
            match chunk.split_once(MARK_END) {
                Some((matched, rest)) if i > 0 => {
                    pieces.push(Piece::Matched(matched));
                    pieces.push(Piece::Plain(rest));
                }
                _ => pieces.push(Piece::Plain(chunk)),
            }
        }
        pieces.retain(|p| !matches!(p, Piece::Plain("") | Piece::Matched("")));
        pieces
    }
}

pub struct Results {
    pub hits: Vec<Hit>,
    pub more: bool,
}

/// The filters shared by both engines' statements, as SQL with `?` placeholders and
/// the values to bind, in order.
struct Filters {
    sql: String,
    ints: Vec<i64>,
    author: Option<String>,
}

fn filters(search: &Search) -> Filters {
    let mut sql = String::new();
    let mut ints = Vec::new();
    if !search.include_removed {
        sql.push_str(" AND p.hidden = FALSE AND p.deleted_at IS NULL AND p.held = FALSE AND t.held = FALSE");
    }
    if let Some(category) = search.category_id {
        sql.push_str(" AND t.category_id = ?");
        ints.push(category);
    }
    if let Some(since) = search.since {
        sql.push_str(" AND p.created_at >= ?");
        ints.push(since);
    }
    if let Some(until) = search.until {
        sql.push_str(" AND p.created_at < ?");
        ints.push(until);
    }
    if search.terms.author.is_some() {
        sql.push_str(" AND u.username_key = ?");
    }
    Filters { sql, ints, author: search.terms.author.clone() }
}

/// PostgreSQL numbers its placeholders.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

const COLUMNS: &str = "p.id AS post_id, p.topic_id AS topic_id, t.slug AS topic_slug, t.title AS topic_title, \
     p.post_number AS post_number, u.username AS author, p.created_at AS created_at, c.name AS category";
const JOINS: &str =
    "JOIN topics t ON t.id = p.topic_id JOIN users u ON u.id = p.user_id JOIN categories c ON c.id = t.category_id";

/// At most this many matches are ranked: the newest ones (both indexes hand matches out
/// newest first cheaply, while ranking every match of a common word at a million posts
/// takes seconds). It is also as deep as the pages go.
pub const CANDIDATES: i64 = RESULTS_PER_PAGE * MAX_PAGE;

/// SQLite's excerpt for one post, read from the index in a second, small query.
#[derive(QueryableByName)]
struct Excerpt {
    #[diesel(sql_type = BigInt)]
    post_id: i64,
    #[diesel(sql_type = Text)]
    excerpt: String,
}

/// One page of matches, best first (among the newest [`CANDIDATES`]) or newest first.
pub fn search(conn: &mut DbConn, search: &Search) -> Result<Results, DbError> {
    let filters = filters(search);
    let page = search.page.clamp(1, MAX_PAGE);
    let offset = (page - 1) * RESULTS_PER_PAGE;
    let mut hits: Vec<Hit> = match conn {
        DbConn::Sqlite(c) => sqlite_page(c, search, &filters, offset)?,
        DbConn::Postgres(c) => {
            let matches = if search.titles_only {
                "to_tsvector('english', t.title) @@ q.query AND p.post_number = 1"
            } else {
                "p.search_vector @@ q.query"
            };
            let order = match search.order {
                Order::BestMatch => "m.score DESC, p.id DESC",
                Order::Newest => "p.id DESC",
            };
            let sql = numbered(&format!(
                "SELECT {COLUMNS}, ts_headline('english', p.body_markdown, q.query, \
                     'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=\" … \"') AS excerpt \
                 FROM ( \
                     SELECT p.id AS id, ts_rank(p.search_vector, q.query) AS score \
                     FROM (SELECT websearch_to_tsquery('english', ?) AS query) q, posts p \
                     JOIN topics t ON t.id = p.topic_id JOIN users u ON u.id = p.user_id \
                     WHERE {matches}{} ORDER BY p.id DESC LIMIT {CANDIDATES}) m \
                 JOIN posts p ON p.id = m.id {JOINS} CROSS JOIN (SELECT websearch_to_tsquery('english', ?) AS query) q \
                 ORDER BY {order} LIMIT ? OFFSET ?",
                filters.sql
            ));
            let websearch = search.terms.websearch();
            let mut query = diesel::sql_query(sql).into_boxed::<diesel::pg::Pg>().bind::<Text, _>(websearch.clone());
            for value in &filters.ints {
                query = query.bind::<BigInt, _>(*value);
            }
            if let Some(author) = &filters.author {
                query = query.bind::<Text, _>(author.clone());
            }
            query
                .bind::<Text, _>(websearch)
                .bind::<BigInt, _>(RESULTS_PER_PAGE + 1)
                .bind::<BigInt, _>(offset)
                .load(c)?
        }
    };
    let more = hits.len() as i64 > RESULTS_PER_PAGE && page < MAX_PAGE;
    hits.truncate(RESULTS_PER_PAGE as usize);
    Ok(Results { hits, more })
}

/// Binds the MATCH text, then the filters' values, to one of the SQLite statements.
fn sqlite_query(
    sql: String,
    fts: &str,
    filters: &Filters,
) -> diesel::query_builder::BoxedSqlQuery<'static, diesel::sqlite::Sqlite, diesel::query_builder::SqlQuery> {
    let mut query = diesel::sql_query(sql).into_boxed::<diesel::sqlite::Sqlite>().bind::<Text, _>(fts.to_string());
    for value in &filters.ints {
        query = query.bind::<BigInt, _>(*value);
    }
    if let Some(author) = &filters.author {
        query = query.bind::<Text, _>(author.clone());
    }
    query
}

#[derive(QueryableByName)]
struct SqliteCandidate {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Text)]
    body: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many of the newest posts are sampled to tell a common word from a rare one.
const COMMONNESS_SAMPLE: i64 = 20_000;

/// One page of SQLite matches. Newest first is one statement; best match reads the
/// newest [`CANDIDATES`] matches' text, ranks them in `search_rank`, and loads the page.
fn sqlite_page(
    c: &mut diesel::SqliteConnection,
    search: &Search,
    filters: &Filters,
    offset: i64,
) -> Result<Vec<Hit>, DbError> {
    let fts = search.terms.fts5(search.titles_only);
    let mut hits: Vec<Hit> = match search.order {
        Order::Newest => sqlite_query(
            format!(
                "SELECT {COLUMNS}, '' AS excerpt FROM post_search s JOIN posts p ON p.id = s.rowid {JOINS} \
                 WHERE post_search MATCH ?{} ORDER BY s.rowid DESC LIMIT ? OFFSET ?",
                filters.sql
            ),
            &fts,
            filters,
        )
        .bind::<BigInt, _>(RESULTS_PER_PAGE + 1)
        .bind::<BigInt, _>(offset)
        .load(c)?,
        Order::BestMatch => {
            let candidates: Vec<SqliteCandidate> = sqlite_query(
                format!(
                    "SELECT p.id AS id, t.title AS title, p.body_markdown AS body FROM post_search s \
                     JOIN posts p ON p.id = s.rowid {JOINS} \
                     WHERE post_search MATCH ?{} ORDER BY s.rowid DESC LIMIT {CANDIDATES}",
                    filters.sql
                ),
                &fts,
                filters,
            )
            .load(c)?;
            let terms = crate::forum::search_rank::terms_of(&search.terms);
            let commonness = if terms.len() > 1 { Some(sqlite_commonness(c, search)?) } else { None };
            let candidates: Vec<_> = candidates
                .into_iter()
                .map(|c| crate::forum::search_rank::Candidate { id: c.id, title: c.title, body: c.body })
                .collect();
            let ranked = crate::forum::search_rank::rank(&terms, commonness.as_ref(), &candidates);
            let page: Vec<i64> = ranked.into_iter().skip(offset as usize).take(RESULTS_PER_PAGE as usize + 1).collect();
            if page.is_empty() {
                return Ok(Vec::new());
            }
            // Ids are the database's own integers, never the visitor's text.
            let ids: Vec<String> = page.iter().map(i64::to_string).collect();
            let mut hits: Vec<Hit> = diesel::sql_query(format!(
                "SELECT {COLUMNS}, '' AS excerpt FROM posts p {JOINS} WHERE p.id IN ({})",
                ids.join(", ")
            ))
            .load(c)?;
            hits.sort_by_key(|hit| page.iter().position(|id| *id == hit.post_id));
            hits
        }
    };
    if !hits.is_empty() {
        let ids: Vec<String> = hits.iter().map(|h| h.post_id.to_string()).collect();
        let excerpts: Vec<Excerpt> = diesel::sql_query(format!(
            "SELECT rowid AS post_id, snippet(post_search, 1, char(2), char(3), '…', 24) AS excerpt \
             FROM post_search WHERE post_search MATCH ? AND rowid IN ({})",
            ids.join(", ")
        ))
        .bind::<Text, _>(fts)
        .load(c)?;
        for hit in &mut hits {
            if let Some(found) = excerpts.iter().find(|e| e.post_id == hit.post_id) {
                hit.excerpt = found.excerpt.clone();
            }
        }
    }
    Ok(hits)
}

/// In how many of the newest [`COMMONNESS_SAMPLE`] posts each word and phrase appears:
/// a bounded read of each one's list, from its newest end.
fn sqlite_commonness(
    c: &mut diesel::SqliteConnection,
    search: &Search,
) -> Result<crate::forum::search_rank::Commonness, DbError> {
    let newest: Count = diesel::sql_query("SELECT COALESCE(MAX(id), 0) AS n FROM posts").get_result(c)?;
    let since = newest.n - COMMONNESS_SAMPLE;
    let one = |terms: Terms| terms.fts5(search.titles_only);
    let mut queries: Vec<String> =
        search.terms.words.iter().map(|w| one(Terms { words: vec![w.clone()], ..Terms::default() })).collect();
    queries.extend(search.terms.phrases.iter().map(|p| one(Terms { phrases: vec![p.clone()], ..Terms::default() })));
    let mut counts = Vec::with_capacity(queries.len());
    for query in queries {
        let count: Count =
            diesel::sql_query("SELECT COUNT(*) AS n FROM post_search WHERE post_search MATCH ? AND rowid > ?")
                .bind::<Text, _>(query)
                .bind::<BigInt, _>(since)
                .get_result(c)?;
        counts.push(count.n);
    }
    Ok(crate::forum::search_rank::Commonness { sample: COMMONNESS_SAMPLE.min(newest.n), counts })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_and_stray_quotes_are_only_words() {
        let terms = Terms::parse(r#"rust NEAR(async) OR "tokio runtime" -panic "unclosed"#);
        assert_eq!(terms.words, vec!["rust", "near", "async", "panic", "unclosed"]);
        assert_eq!(terms.phrases, vec![vec!["tokio".to_string(), "runtime".to_string()]]);
        assert_eq!(terms.fts5(false), r#""rust" "near" "async" "panic" "unclosed" "tokio runtime""#);
        assert_eq!(terms.fts5(true), r#"title : ("rust" "near" "async" "panic" "unclosed" "tokio runtime")"#);
        assert_eq!(Terms::parse(r#""this or that""#).phrases[0], vec!["this", "or", "that"], "phrases keep them");
        assert_eq!(terms.websearch(), r#"rust near async panic unclosed "tokio runtime""#);
    }

    #[test]
    fn an_at_name_is_the_author_and_long_queries_are_cut() {
        let terms = Terms::parse("@Alice borrow checker");
        assert_eq!(terms.author.as_deref(), Some("alice"));
        assert_eq!(terms.words, vec!["borrow", "checker"]);
        assert!(!terms.cut);
        let long = Terms::parse(&"word ".repeat(100));
        assert!(long.cut);
        assert_eq!(long.words.len(), MAX_TERMS);
        assert!(Terms::parse("\"\" @ -- ()").is_empty());
    }

    #[test]
    fn excerpts_split_into_plain_and_matched_pieces() {
        let hit = Hit {
            post_id: 1,
            topic_id: 1,
            topic_slug: String::new(),
            topic_title: String::new(),
            post_number: 1,
            author: String::new(),
            created_at: 0,
            category: String::new(),
            excerpt: "the \u{2}borrow\u{3} <b>checker</b>".into(),
        };
        assert_eq!(
            hit.excerpt_pieces(),
            vec![Piece::Plain("the "), Piece::Matched("borrow"), Piece::Plain(" <b>checker</b>")]
        );
    }
}
