//! Syntax highlighting of fenced code blocks, done once when a post is saved.
//!
//! The output is spans with CSS classes (`hl-keyword`, `hl-string`, …), never inline
//! styles, so the Content-Security-Policy holds and one stylesheet serves the light and
//! the dark scheme. It still goes through the sanitizer, which keeps only the classes in
//! `CLASSES`.

use std::sync::LazyLock;

use syntect::parsing::{ParseState, Scope, ScopeStack, SyntaxSet};
use syntect::util::LinesWithEndings;

use crate::text::own_markup::own;

/// Sublime Text's grammars for the common languages, parsed on first use (~20 ms).
static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(SyntaxSet::load_defaults_newlines);

/// Past these sizes a block is shown plain: highlighting is linear but not cheap, and a
/// post is at most 32,000 characters anyway.
const MAX_BYTES: usize = 16_000;
const MAX_LINES: usize = 600;

/// The classes highlighted code is drawn with (one colour each in the stylesheet); the
/// sanitizer drops every other class. The older ones (`hl-storage`, `hl-numeric`, …)
/// stay for posts saved before the spans were flattened.
pub const CLASSES: [&str; 16] = [
    "hl-comment",
    "hl-string",
    "hl-constant",
    "hl-numeric",
    "hl-keyword",
    "hl-storage",
    "hl-type",
    "hl-entity",
    "hl-name",
    "hl-function",
    "hl-tag",
    "hl-attribute-name",
    "hl-support",
    "hl-variable",
    "hl-punctuation",
    "hl-invalid",
];

/// Which class a scope is drawn with, most specific scopes first: the innermost scope
/// of a token that has one decides (a comment's `punctuation` inside `comment` is a comment).
static CLASS_OF_SCOPE: LazyLock<Vec<(Scope, &'static str)>> = LazyLock::new(|| {
    [
        ("entity.name.tag", "hl-tag"),
        ("entity.other.attribute-name", "hl-attribute-name"),
        ("comment", "hl-comment"),
        ("string", "hl-string"),
        ("constant", "hl-constant"),
        ("keyword", "hl-keyword"),
        ("storage", "hl-keyword"),
        ("support", "hl-type"),
        ("entity", "hl-entity"),
        ("invalid", "hl-invalid"),
    ]
    .into_iter()
    .filter_map(|(scope, class)| Scope::new(scope).ok().map(|scope| (scope, class)))
    .collect()
});

fn class_of(stack: &ScopeStack) -> Option<&'static str> {
    stack.as_slice().iter().rev().find_map(|scope| {
        CLASS_OF_SCOPE.iter().find(|(prefix, _)| prefix.is_prefix_of(*scope)).map(|(_, class)| *class)
    })
}

/// The code as highlighted HTML (`<pre class="highlight"><code>…</code></pre>`), one
/// flat `<span>` per run of text of one class (nested scopes made the HTML 20–26 times
/// the code, and the sanitiser's work with it), or `None` when the language is unknown,
/// the block too big, or a grammar fails on it (the caller then renders it plain).
pub fn highlight(language: &str, code: &str) -> Option<String> {
    let token = language.split([' ', ',', '{']).next().unwrap_or("").trim();
    if token.is_empty() || code.len() > MAX_BYTES || code.lines().count() > MAX_LINES {
        return None;
    }
    let syntax = SYNTAXES.find_syntax_by_token(token)?;
    let mut state = ParseState::new(syntax);
    let mut stack = ScopeStack::new();
    let mut html = Runs::default();
    for line in LinesWithEndings::from(code) {
        let mut at = 0;
        for (index, op) in state.parse_line(line, &SYNTAXES).ok()? {
            let index = index.min(line.len());
            if index > at {
                html.push(class_of(&stack), line.get(at..index)?);
                at = index;
            }
            stack.apply(&op).ok()?;
        }
        html.push(class_of(&stack), line.get(at..)?);
    }
    Some(format!("<pre class=\"{}\"><code>{}</code></pre>\n", own("highlight"), html.finish()))
}

/// Highlighted HTML built a run at a time: text of one class in one span.
#[derive(Default)]
struct Runs {
    html: String,
    class: Option<&'static str>,
    text: String,
}

impl Runs {
    fn push(&mut self, class: Option<&'static str>, text: &str) {
        if class != self.class {
            self.flush();
            self.class = class;
        }
        self.text.push_str(text);
    }

    fn flush(&mut self) {
        if self.text.is_empty() {
            return;
        }
        let text = escape(&self.text);
        match self.class {
            Some(class) => self.html.push_str(&format!("<span class=\"{}\">{text}</span>", own(class))),
            None => self.html.push_str(&text),
        }
        self.text.clear();
    }

    fn finish(mut self) -> String {
        self.flush();
        self.html
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_languages_get_classes_and_unknown_ones_nothing() {
        let html = highlight("rust", "fn main() { let x = \"<b>\"; } // done\n").unwrap().replace(&own(""), "");
        assert!(html.contains("<span class=\"hl-keyword\">fn</span>"), "{html}");
        assert!(html.contains("<span class=\"hl-string\">\"&lt;b&gt;\"</span>"), "one flat span a run: {html}");
        assert!(html.contains("&lt;b&gt;"), "text is escaped: {html}");
        assert!(html.contains("hl-comment"), "{html}");
        assert!(!html.contains("style="), "{html}");
        assert_eq!(highlight("no-such-language", "x"), None);
        assert_eq!(highlight("", "x"), None);
    }

    #[test]
    fn every_class_the_highlighter_writes_has_a_colour() {
        let css = include_str!("../../static/agora.css");
        for (_, class) in CLASS_OF_SCOPE.iter() {
            assert!(css.contains(&format!(".highlight .{class}")), "{class} has no rule in agora.css");
            assert!(CLASSES.contains(class), "{class} is not kept by the sanitizer");
        }
    }

    #[test]
    fn big_blocks_stay_plain() {
        assert!(highlight("python", &"x = 1\n".repeat(MAX_LINES + 1)).is_none());
        assert!(highlight("python", &"x = 1\n".repeat(10)).is_some());
    }
}
