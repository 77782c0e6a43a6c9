//! Syntax highlighting of fenced code blocks, done once when a post is saved.
//!
//! The output is spans with CSS classes (`hl-keyword`, `hl-string`, …), never inline
//! styles, so the Content-Security-Policy holds and one stylesheet serves the light and
//! the dark scheme. It still goes through the sanitizer, which keeps only the classes in
//! `CLASSES`.

use std::sync::LazyLock;

use syntect::html::{ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

/// Sublime Text's grammars for the common languages, parsed on first use (~20 ms).
static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(SyntaxSet::load_defaults_newlines);

const STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };

/// Past these sizes a block is shown plain: highlighting is linear but not cheap, and a
/// post is at most 32,000 characters anyway.
const MAX_BYTES: usize = 16_000;
const MAX_LINES: usize = 600;

/// The scope names the stylesheet colours; the sanitizer drops every other class.
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

/// The code as highlighted HTML (`<pre class="highlight"><code>…</code></pre>`), or `None`
/// when the language is unknown, the block too big, or a grammar fails on it (the
/// caller then renders it plain, as Markdown would).
pub fn highlight(language: &str, code: &str) -> Option<String> {
    let token = language.split([' ', ',', '{']).next().unwrap_or("").trim();
    if token.is_empty() || code.len() > MAX_BYTES || code.lines().count() > MAX_LINES {
        return None;
    }
    let syntax = SYNTAXES.find_syntax_by_token(token)?;
    let mut generator = ClassedHTMLGenerator::new_with_class_style(syntax, &SYNTAXES, STYLE);
    for line in LinesWithEndings::from(code) {
        generator.parse_html_for_line_which_includes_newline(line).ok()?;
    }
    Some(format!("<pre class=\"highlight\"><code>{}</code></pre>\n", generator.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_languages_get_classes_and_unknown_ones_nothing() {
        let html = highlight("rust", "fn main() { let x = \"<b>\"; } // done\n").unwrap();
        assert!(html.contains("<span class=\"hl-storage hl-type hl-function hl-rust\">fn</span>"), "{html}");
        assert!(html.contains("&lt;b&gt;"), "text is escaped: {html}");
        assert!(html.contains("hl-comment"), "{html}");
        assert!(!html.contains("style="), "{html}");
        assert_eq!(highlight("no-such-language", "x"), None);
        assert_eq!(highlight("", "x"), None);
    }

    #[test]
    fn big_blocks_stay_plain() {
        assert!(highlight("python", &"x = 1\n".repeat(MAX_LINES + 1)).is_none());
        assert!(highlight("python", &"x = 1\n".repeat(10)).is_some());
    }
}
