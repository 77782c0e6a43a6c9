//! "Best match" on SQLite: BM25 computed here over the newest matches, not by FTS5.
//!
//! FTS5's `bm25()` needs, for every word, how many posts in the whole index hold it,
//! and finds out by reading the word's entire list: 19 ms for a word in 63% of a million
//! posts, on every search, against 0.4 ms to find the newest 1,000 matches. Here the
//! candidates' own text gives each word's frequency, the newest posts give a sample of
//! how common the word is, and the score is BM25's (title words count four times).

use foldhash::{HashMap, HashMapExt};
use rust_stemmers::{Algorithm, Stemmer};

use crate::forum::search::Terms;

const K1: f64 = 1.2;
const B: f64 = 0.75;
/// A word in the title counts this many times (as `bm25(post_search, 4.0, 1.0)` did).
const TITLE_WEIGHT: f64 = 4.0;

/// A matching post as the ranker needs it.
pub struct Candidate {
    pub id: i64,
    pub title: String,
    pub body: String,
}

/// How common each term is: in how many of `sample` recent posts it appears.
pub struct Commonness {
    pub sample: i64,
    /// One count per term, in the order of [`terms_of`].
    pub counts: Vec<i64>,
}

/// A word or phrase, as stems.
type Term = Vec<String>;

/// Gives each distinct stem a number, stemming each distinct word once: posts repeat
/// their words, and the stemmer is the costly part of ranking. Tokenizing a thousand
/// posts' text was a third of a new search (perf): ASCII words are lowercased in place,
/// and the maps hash with foldhash (seeded per process, so posts' words cannot be chosen
/// to collide) instead of SipHash.
struct Stems {
    stemmer: Stemmer,
    words: HashMap<String, u32>,
    stems: HashMap<String, u32>,
    lower: String,
}

impl Stems {
    fn new() -> Stems {
        Stems {
            stemmer: Stemmer::create(Algorithm::English),
            words: HashMap::new(),
            stems: HashMap::new(),
            lower: String::new(),
        }
    }

    fn stem_id(&mut self, stem: &str) -> u32 {
        let next = self.stems.len() as u32;
        *self.stems.entry(stem.to_string()).or_insert(next)
    }

    fn word(&mut self, word: &str) -> u32 {
        self.lower.clear();
        if word.is_ascii() {
            self.lower.push_str(word);
            self.lower.make_ascii_lowercase();
        } else {
            self.lower.extend(word.chars().flat_map(char::to_lowercase));
        }
        if let Some(&id) = self.words.get(self.lower.as_str()) {
            return id;
        }
        let stem = self.stemmer.stem(&self.lower).into_owned();
        let id = self.stem_id(&stem);
        self.words.insert(self.lower.clone(), id);
        id
    }

    fn text(&mut self, text: &str) -> Vec<u32> {
        text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|w| self.word(w)).collect()
    }
}

/// The query's words and phrases, each as stems, in a fixed order.
pub fn terms_of(terms: &Terms) -> Vec<Term> {
    let stemmer = Stemmer::create(Algorithm::English);
    let mut out: Vec<Term> = terms.words.iter().map(|w| vec![stemmer.stem(w).into_owned()]).collect();
    out.extend(terms.phrases.iter().map(|p| p.iter().map(|w| stemmer.stem(w).into_owned()).collect()));
    out
}

/// How often `term` occurs in `tokens` (a phrase: its words in a row).
fn frequency(tokens: &[u32], term: &[u32]) -> f64 {
    if term.is_empty() || tokens.len() < term.len() {
        return 0.0;
    }
    tokens.windows(term.len()).filter(|w| *w == term).count() as f64
}

/// BM25's inverse document frequency (the form that never goes negative).
fn idf(sample: i64, count: i64) -> f64 {
    let (n, df) = (sample.max(1) as f64, (count as f64).min(sample.max(1) as f64));
    ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
}

/// The candidates' ids, best match first; equal scores keep the newer post first.
/// With one term, how common it is does not change the order, so `commonness` may be
/// `None`.
pub fn rank(terms: &[Term], commonness: Option<&Commonness>, candidates: &[Candidate]) -> Vec<i64> {
    let mut stems = Stems::new();
    let terms: Vec<Vec<u32>> = terms.iter().map(|term| term.iter().map(|stem| stems.stem_id(stem)).collect()).collect();
    let docs: Vec<(Vec<u32>, Vec<u32>)> =
        candidates.iter().map(|c| (stems.text(&c.title), stems.text(&c.body))).collect();
    let length = |(title, body): &(Vec<u32>, Vec<u32>)| TITLE_WEIGHT * title.len() as f64 + body.len() as f64;
    let average = (docs.iter().map(length).sum::<f64>() / docs.len().max(1) as f64).max(1.0);
    let weights: Vec<f64> = (0..terms.len())
        .map(|i| commonness.and_then(|c| c.counts.get(i).map(|&count| idf(c.sample, count))).unwrap_or(1.0))
        .collect();
    let mut scored: Vec<(f64, i64)> = docs
        .iter()
        .zip(candidates)
        .map(|(doc, candidate)| {
            let norm = K1 * (1.0 - B + B * length(doc) / average);
            let score = terms
                .iter()
                .zip(&weights)
                .map(|(term, weight)| {
                    let tf = TITLE_WEIGHT * frequency(&doc.0, term) + frequency(&doc.1, term);
                    weight * tf * (K1 + 1.0) / (tf + norm)
                })
                .sum::<f64>();
            (score, candidate.id)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
    scored.into_iter().map(|(_, id)| id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(id: i64, title: &str, body: &str) -> Candidate {
        Candidate { id, title: title.into(), body: body.into() }
    }

    #[test]
    fn more_mentions_rank_higher_a_title_counts_more_and_stems_match() {
        let terms = terms_of(&Terms::parse("borrowing"));
        let posts = [
            candidate(1, "Unrelated", "I borrowed it once, among many other words in a long reply about things."),
            candidate(2, "Unrelated", "borrow borrows borrowing"),
            candidate(3, "The borrow checker", "about it"),
            candidate(4, "Unrelated", "the borrowed book"),
        ];
        // Three mentions in a short post; one in a title; one in a short body; one in a long one.
        assert_eq!(rank(&terms, None, &posts), vec![2, 3, 4, 1]);
    }

    #[test]
    fn words_are_the_same_in_any_case_ascii_or_not() {
        let mut stems = Stems::new();
        assert_eq!(stems.text("Borrowing BORROW borrows"), vec![0, 0, 0]);
        assert_eq!(stems.text("ÉCLAIR éclair Éclair"), vec![1, 1, 1]);
        assert_eq!(stems.text("Straße STRASSE"), vec![2, 3], "lowercase, not case-folded: as before");
    }

    #[test]
    fn a_rare_word_outweighs_a_common_one_and_phrases_need_their_order() {
        let terms = terms_of(&Terms::parse("tokio panic"));
        let common = Commonness { sample: 1000, counts: vec![900, 10] };
        let posts = [candidate(1, "x", "tokio tokio tokio panic"), candidate(2, "x", "tokio panic panic panic")];
        assert_eq!(rank(&terms, Some(&common), &posts), vec![2, 1]);

        let phrase = terms_of(&Terms::parse("\"checker borrow\""));
        let posts = [candidate(7, "x", "borrow checker"), candidate(5, "x", "the checker borrows")];
        assert_eq!(rank(&phrase, None, &posts), vec![5, 7], "only 5 has the words in that order");
        assert_eq!(
            rank(&phrase, None, &[candidate(8, "a", "b"), candidate(9, "a", "b")]),
            vec![9, 8],
            "ties: newest first"
        );
    }
}
