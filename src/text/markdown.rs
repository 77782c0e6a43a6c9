//! Markdown to safe HTML, once, when a post is written (pages serve the stored HTML).

use std::collections::HashMap;
use std::sync::LazyLock;

use pulldown_cmark::{html, CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd};

use crate::text::highlight;
use crate::text::own_markup::{self, own};

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .link_rel(Some("nofollow ugc noopener"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .rm_tags(["img"])
        // Task boxes. Whatever a post's own HTML makes of an `<input>`, it leaves here a
        // disabled checkbox (which `- [x]` makes anyway): no form control a post can use.
        .add_tags(["input"])
        .add_tag_attributes("input", ["checked", "aria-label"])
        .set_tag_attribute_value("input", "type", "checkbox")
        .set_tag_attribute_value("input", "disabled", "")
        // Classes and labels only from Agora's own markup (`own_markup`), and of those only
        // the ones mentions, quotes and highlighted code are drawn with.
        .attribute_filter(own_markup::filter_attribute)
        .add_allowed_classes("a", ["mention"])
        .add_allowed_classes("aside", ["quote"])
        .add_allowed_classes("p", ["quote-by"])
        // Highlighted code (`text::highlight`): the scopes the stylesheet colours.
        .add_allowed_classes("pre", ["highlight"])
        // A code block scrolls sideways on a phone: keyboard users must be able to reach it.
        .set_tag_attribute_value("pre", "tabindex", "0")
        .add_allowed_classes("span", highlight::CLASSES);
    builder
});

/// Who a post's `@names` and quotes refer to, resolved from the database before
/// rendering (`forum::mentions`). Names missing here stay plain text.
#[derive(Debug, Default, Clone)]
pub struct References {
    /// Lower-case username to member id.
    pub mentions: HashMap<String, i64>,
    /// (topic id, post number) of a quoted post to its author and address.
    pub quotes: HashMap<(i64, i64), Attribution>,
}

#[derive(Debug, Clone)]
pub struct Attribution {
    pub name: String,
    pub url: String,
}

/// Usernames are 3–20 of these (see `auth::domain::Username`).
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// The `@name`s in a piece of text: byte ranges of the whole `@name` and the name,
/// lower-cased. An `@` inside a word (an e-mail address) is not a mention.
fn mentions_in(text: &str) -> Vec<(std::ops::Range<usize>, String)> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    for (at, _) in text.match_indices('@') {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| is_name_char(c) || c == '@' || c == '/') {
            continue;
        }
        let len = text[at + 1..].chars().take_while(|&c| is_name_char(c)).count();
        if (3..=20).contains(&len) && bytes.get(at + 1 + len) != Some(&b'@') {
            found.push((at..at + 1 + len, text[at + 1..at + 1 + len].to_ascii_lowercase()));
        }
    }
    found
}

/// Where a mention may be: text outside code blocks and links (inline code is an event
/// of its own, never `Text`). Fed every event in order.
#[derive(Default)]
struct Prose {
    in_code: bool,
    in_link: usize,
}

impl Prose {
    /// Whether `event` is text a mention may be in.
    fn is_prose(&mut self, event: &Event<'_>) -> bool {
        match event {
            Event::Start(Tag::CodeBlock(_)) => self.in_code = true,
            Event::End(TagEnd::CodeBlock) => self.in_code = false,
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) => self.in_link += 1,
            Event::End(TagEnd::Link | TagEnd::Image) => self.in_link = self.in_link.saturating_sub(1),
            Event::Text(_) => return !self.in_code && self.in_link == 0,
            _ => {}
        }
        false
    }
}

/// The distinct names a post mentions, in order, outside code spans and blocks.
pub fn mention_candidates(markdown: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut prose = Prose::default();
    for event in Parser::new_ext(markdown, options()) {
        if let (true, Event::Text(text)) = (prose.is_prose(&event), &event) {
            for (_, name) in mentions_in(text) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
    }
    names
}

/// A quote's opening line: `[quote="alice, post:3, topic:12"]`.
fn quote_header(line: &str) -> Option<(String, Option<(i64, i64)>)> {
    let inner = line.trim().strip_prefix("[quote=\"")?.strip_suffix("\"]")?;
    let mut parts = inner.split(',').map(str::trim);
    let name = parts.next().unwrap_or_default().to_string();
    let (mut post, mut topic) = (None, None);
    for part in parts {
        if let Some(n) = part.strip_prefix("post:") {
            post = n.parse::<i64>().ok();
        } else if let Some(t) = part.strip_prefix("topic:") {
            topic = t.parse::<i64>().ok();
        }
    }
    Some((name, topic.zip(post)))
}

/// `markdown` with every quote header that names `name` (any case) naming `replacement`
/// instead, outside code blocks; `None` when there is none. A deleted member's name must
/// not outlive them in the attribution Agora wrote into others' posts (and their
/// search index), even where the quoted post can no longer be looked up.
pub fn rename_quoted(markdown: &str, name: &str, replacement: &str) -> Option<String> {
    let mut out = String::with_capacity(markdown.len());
    let (mut in_fence, mut changed) = (false, false);
    for line in markdown.split_inclusive('\n') {
        if is_fence(line) {
            in_fence = !in_fence;
        }
        match quote_header(line) {
            Some((quoted, _)) if !in_fence && quoted.eq_ignore_ascii_case(name) => {
                let indent = &line[..line.len() - line.trim_start().len()];
                let rest = line.trim_start().strip_prefix("[quote=\"").unwrap_or_default();
                out.push_str(indent);
                out.push_str("[quote=\"");
                out.push_str(replacement);
                out.push_str(&rest[rest.find([',', '"']).unwrap_or(rest.len())..]);
                changed = true;
            }
            _ => out.push_str(line),
        }
    }
    changed.then_some(out)
}

fn is_fence(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("```") || line.starts_with("~~~")
}

/// The posts a post quotes, as (topic id, post number), outside code blocks.
pub fn quote_sources(markdown: &str) -> Vec<(i64, i64)> {
    let mut sources = Vec::new();
    let mut in_fence = false;
    for line in markdown.lines() {
        if is_fence(line) {
            in_fence = !in_fence;
        } else if !in_fence {
            if let Some((_, Some(source))) = quote_header(line) {
                if !sources.contains(&source) {
                    sources.push(source);
                }
            }
        }
    }
    sources
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Turns `[quote=…]` … `[/quote]` lines into HTML blocks around the quoted Markdown
/// (blank lines keep the inside Markdown), with the attribution line "alice wrote:"
/// linking the quoted post. Unclosed quotes close at the end; a stray `[/quote]` stays.
/// Also returns how deep the quotes nest.
fn expand_quotes(markdown: &str, references: &References) -> (String, usize) {
    let mut out = String::with_capacity(markdown.len() + 128);
    let (mut open, mut deepest, mut in_fence) = (0usize, 0usize, false);
    let (aside, by) = (own("quote"), own("quote-by"));
    for line in markdown.lines() {
        if is_fence(line) {
            in_fence = !in_fence;
        }
        if !in_fence {
            if let Some((name, source)) = quote_header(line) {
                let attribution = match source.and_then(|s| references.quotes.get(&s)) {
                    Some(found) => format!("<a href=\"{}\">{} wrote:</a>", escape(&found.url), escape(&found.name)),
                    None if !name.is_empty() => format!("{} wrote:", escape(&name)),
                    None => "Quote:".to_string(),
                };
                out.push_str(&format!(
                    "\n<aside class=\"{aside}\"><p class=\"{by}\">{attribution}</p><blockquote>\n\n"
                ));
                open += 1;
                deepest = deepest.max(open);
                continue;
            }
            if line.trim() == "[/quote]" && open > 0 {
                out.push_str("\n\n</blockquote></aside>\n\n");
                open -= 1;
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    for _ in 0..open {
        out.push_str("\n\n</blockquote></aside>\n");
    }
    (out, deepest)
}

/// Deeper nesting than this (quotes in lists in quotes…) is refused. Parsing is linear,
/// but sanitising deeply nested HTML is not: `"- > "` × 8000 took 1.3 s. A `[quote]`
/// counts twice (an `<aside>` around a `<blockquote>`), after quotes are expanded.
pub const MAX_NESTING: usize = 24;

/// Code highlighted in one post, in bytes; later blocks are shown plain. The grammars
/// parse 6–8 µs a byte of dense code (`examples/markdown_cost.rs`): this keeps a post's
/// highlighting under 10 ms (once a grammar is warm; its first use costs ~50 ms more).
pub const MAX_HIGHLIGHTED_BYTES: usize = 1024;

/// Elements in one post (emphasis, links, list items, cells, raw tags): the sanitiser's
/// work grows with them, about 3 µs each, whatever their size.
pub const MAX_ELEMENTS: usize = 2500;

/// Raw HTML tags are passed to the sanitiser as they are, nested or not: more than this
/// many in one post are refused (6,000 nested `<div>`s took 66 ms; a post needs few).
pub const MAX_RAW_HTML_TAGS: usize = 1000;

/// Table cells in one post. Markdown pads every row of a table to its header's width,
/// so 32,000 characters made 262,144 cells (0.45 s and 160 MB for one preview).
pub const MAX_TABLE_CELLS: usize = 2000;

/// A post's HTML is at most this big, whatever its Markdown: a page of posts stays a
/// page, and one post cannot push the rest out of the page cache.
pub const MAX_HTML_BYTES: usize = 256 * 1024;

/// …and at most this many times its Markdown, plus `HTML_ALLOWANCE` (a short post's
/// markup outweighs its words). Ordinary posts stay under 3×.
pub const MAX_HTML_GROWTH: usize = 8;
const HTML_ALLOWANCE: usize = 8 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error(
        "This post nests quotes and lists more than {MAX_NESTING} levels deep. Flatten it a little and try again."
    )]
    TooDeep,
    #[error("This post has more than {MAX_RAW_HTML_TAGS} HTML tags. Use Markdown instead, or shorten it.")]
    TooMuchHtml,
    #[error("This post's tables have more than {MAX_TABLE_CELLS} cells. Split them up or shorten them.")]
    TooManyCells,
    #[error(
        "This post has more than {MAX_ELEMENTS} pieces of formatting (emphasis, links, list items, cells, HTML tags). Simplify it or split it up."
    )]
    TooManyElements,
    #[error(
        "This post would make a page too large for its length ({0} KB of HTML). Fewer links, mentions or table cells would do."
    )]
    TooLarge(usize),
}

fn options() -> Options {
    Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS
}

/// The most HTML bytes a post of `markdown_bytes` may become.
pub fn html_budget(markdown_bytes: usize) -> usize {
    MAX_HTML_BYTES.min(HTML_ALLOWANCE + MAX_HTML_GROWTH * markdown_bytes)
}

/// Refuses shapes whose rendering cost is out of proportion: nesting past `MAX_NESTING`
/// (`quote_depth` levels of quotes already spent), more raw HTML tags than
/// `MAX_RAW_HTML_TAGS`, more table cells than `MAX_TABLE_CELLS` or more elements than
/// `MAX_ELEMENTS`. Parsing is linear,
/// and the parse stops at the first excess.
fn check_shape(markdown: &str, quote_depth: usize) -> Result<(), RenderError> {
    let max_depth = MAX_NESTING.checked_sub(2 * quote_depth).ok_or(RenderError::TooDeep)?;
    let (mut depth, mut raw_tags, mut cells, mut elements) = (0usize, 0usize, 0usize, 0usize);
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(tag) => {
                depth += 1;
                if depth > max_depth {
                    return Err(RenderError::TooDeep);
                }
                elements += 1;
                if elements + raw_tags > MAX_ELEMENTS {
                    return Err(RenderError::TooManyElements);
                }
                if matches!(tag, Tag::TableCell) {
                    cells += 1;
                    if cells > MAX_TABLE_CELLS {
                        return Err(RenderError::TooManyCells);
                    }
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Html(html) | Event::InlineHtml(html) => {
                raw_tags += html.matches('<').count();
                if raw_tags > MAX_RAW_HTML_TAGS {
                    return Err(RenderError::TooMuchHtml);
                }
                if elements + raw_tags > MAX_ELEMENTS {
                    return Err(RenderError::TooManyElements);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Renders a post, refusing shapes whose rendering cost is out of proportion.
pub fn render(markdown: &str) -> Result<String, RenderError> {
    render_post(markdown, &References::default())
}

/// Whether a post's shape is within the bounds (`render_post` checks it again): the
/// cheap refusal, before anything else reads the whole text.
pub fn check_post(markdown: &str) -> Result<(), RenderError> {
    let (expanded, quote_depth) = expand(markdown, &References::default());
    check_shape(&expanded, quote_depth)
}

/// Renders a post with its mentions and quotes linked, bounded in what it costs: its
/// shape is checked after quotes are expanded, and HTML past [`html_budget`] is refused
/// before and after sanitising (the sanitiser's work grows with what it is given).
pub fn render_post(markdown: &str, references: &References) -> Result<String, RenderError> {
    own_markup::renew();
    let (expanded, quote_depth) = expand(markdown, references);
    check_shape(&expanded, quote_depth)?;
    let budget = html_budget(markdown.len());
    let too_large = |bytes: usize| RenderError::TooLarge(bytes.div_ceil(1024));
    // Agora's own class names carry a prefix the sanitiser removes: allow for it here.
    let unsafe_html = to_unsafe_html(&expanded, references);
    if unsafe_html.len() > 2 * budget {
        return Err(too_large(unsafe_html.len()));
    }
    let html = SANITIZER.clean(&unsafe_html).to_string();
    match html.len() > budget {
        true => Err(too_large(html.len())),
        false => Ok(html),
    }
}

/// Renders text without the shape check (the forum's own texts, e.g. the policy).
pub fn render_trusted(markdown: &str) -> String {
    render_with(markdown, &References::default())
}

/// Renders without the shape check, linking the mentions and quotes `references` knows
/// (for posts already accepted, rendered again).
pub fn render_with(markdown: &str, references: &References) -> String {
    own_markup::renew();
    let (expanded, _) = expand(markdown, references);
    SANITIZER.clean(&to_unsafe_html(&expanded, references)).to_string()
}

/// The Markdown with its quotes expanded (when it has any), and how deep they nest.
fn expand<'m>(markdown: &'m str, references: &References) -> (std::borrow::Cow<'m, str>, usize) {
    if references.quotes.is_empty() && !markdown.contains("[quote=") {
        return (markdown.into(), 0);
    }
    let (expanded, depth) = expand_quotes(markdown, references);
    (expanded.into(), depth)
}

/// The post as HTML before sanitising: highlighted code, images as links, task boxes,
/// emoji and linked mentions.
fn to_unsafe_html(markdown: &str, references: &References) -> String {
    let mut prose = Prose::default();
    let mut events = Vec::new();
    // A fenced block with a language: its text is gathered, then highlighted as a whole.
    let mut fenced: Option<(CowStr<'_>, String)> = None;
    let mention_class = own("mention");
    let mut highlight_left = MAX_HIGHLIGHTED_BYTES;
    for event in Parser::new_ext(markdown, options()) {
        match (&mut fenced, &event) {
            (None, Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(language)))) if !language.is_empty() => {
                fenced = Some((language.clone(), String::new()));
                prose.is_prose(&event);
                continue;
            }
            (Some((_, code)), Event::Text(text)) => {
                code.push_str(text);
                continue;
            }
            (Some(_), Event::End(TagEnd::CodeBlock)) => {
                prose.is_prose(&event);
                let Some((language, code)) = fenced.take() else { continue };
                let highlighted = (code.len() <= highlight_left).then(|| highlight::highlight(&language, &code));
                highlight_left = highlight_left.saturating_sub(code.len());
                match highlighted.flatten() {
                    Some(html) => events.push(Event::Html(html.into())),
                    None => {
                        events.push(Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(language))));
                        events.push(Event::Text(code.into()));
                        events.push(Event::End(TagEnd::CodeBlock));
                    }
                }
                continue;
            }
            _ => {}
        }
        // Images would make readers' browsers fetch from other sites, which the privacy
        // policy rules out: an image becomes a link to it, its alt text the link's text.
        let event = match event {
            Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
                Event::Start(Tag::Link { link_type, dest_url, title, id })
            }
            Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
            // The sanitiser makes every `<input>` a disabled checkbox; the label is ours.
            Event::TaskListMarker(done) => Event::InlineHtml(
                match done {
                    true => format!("<input checked aria-label=\"{}\"> ", own("done")),
                    false => format!("<input aria-label=\"{}\"> ", own("not done")),
                }
                .into(),
            ),
            other => other,
        };
        let in_prose = prose.is_prose(&event);
        // `:smile:` becomes 😄 now, once (never in code or links).
        let event = match event {
            Event::Text(text) if in_prose && text.contains(':') => Event::Text(with_emoji(&text).into()),
            other => other,
        };
        if let (true, Event::Text(text), false) = (in_prose, &event, references.mentions.is_empty()) {
            let mut rest = 0;
            for (range, name) in mentions_in(text) {
                let Some(id) = references.mentions.get(&name) else { continue };
                events.push(Event::Text(text[rest..range.start].to_string().into()));
                let written = escape(&text[range.clone()]);
                events.push(Event::InlineHtml(
                    format!("<a class=\"{mention_class}\" href=\"/u/by-id/{id}\">{written}</a>").into(),
                ));
                rest = range.end;
            }
            if rest > 0 {
                events.push(Event::Text(text[rest..].to_string().into()));
                continue;
            }
        }
        events.push(event);
    }
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, events.into_iter());
    unsafe_html
}

/// Replaces GitHub's emoji shortcodes (`:tada:`) with the emoji; anything else between
/// colons (a time, `:name:` that is no emoji) stays as written.
fn with_emoji(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(':') {
        let after = &rest[start + 1..];
        let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-')));
        match end.filter(|&end| end > 0 && after[end..].starts_with(':')) {
            Some(end) => match emojis::get_by_shortcode(&after[..end]) {
                Some(emoji) => {
                    out.push_str(&rest[..start]);
                    out.push_str(emoji.as_str());
                    rest = &after[end + 1..];
                }
                None => {
                    // Not an emoji: keep the text up to the second colon, which may open one.
                    out.push_str(&rest[..start + 1 + end]);
                    rest = &after[end..];
                }
            },
            None => {
                out.push_str(&rest[..start + 1]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The words of a post without its Markdown, cut after about `max_chars` characters at
/// a word's end (with "…" when cut): for lists that show the start of a post.
pub fn excerpt(markdown: &str, max_chars: usize) -> String {
    // What the member wrote, not what they quoted: `[quote]` blocks are left out.
    let mut own = String::with_capacity(markdown.len());
    let mut depth = 0usize;
    for line in markdown.lines() {
        if quote_header(line).is_some() {
            depth += 1;
        } else if line.trim() == "[/quote]" && depth > 0 {
            depth -= 1;
        } else if depth == 0 {
            own.push_str(line);
            own.push('\n');
        }
    }
    let mut text = String::new();
    for event in Parser::new_ext(&own, options()) {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(_) => text.push(' '),
            _ => {}
        }
        if text.chars().count() > max_chars {
            break;
        }
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max_chars {
        return text;
    }
    let cut: String = text.chars().take(max_chars).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut}…")
}

/// The links to other sites in rendered, sanitised HTML: every `<a>` whose address a
/// browser would take somewhere other than this forum, resolved as a browser resolves it
/// (WHATWG URL parsing: `/\spam.test` and `/<tab>/spam.test` are `//spam.test`). Links
/// to a path here (mentions, quotes, `/t/…`) do not count: spam cannot use them.
pub fn count_links(html: &str) -> usize {
    const HERE: &str = "agora.invalid";
    // Under either scheme the forum may be served with (`https:x` is relative under https).
    let bases: Vec<url::Url> =
        ["http", "https"].iter().filter_map(|scheme| url::Url::parse(&format!("{scheme}://{HERE}/")).ok()).collect();
    let elsewhere =
        |href: &str| bases.iter().any(|base| base.join(href).map_or(true, |url| url.host_str() != Some(HERE)));
    link_addresses(html).filter(|href| elsewhere(href)).count()
}

/// The `href` of every `<a>` in HTML as the sanitiser writes it: attribute values in
/// double quotes, with `&`, `"` and the no-break space escaped.
fn link_addresses(html: &str) -> impl Iterator<Item = String> + '_ {
    html.match_indices("<a ").filter_map(|(at, _)| {
        let mut rest = &html[at + 3..];
        loop {
            rest = rest.trim_start();
            let name_end = rest.find(['=', ' ', '>'])?;
            let (name, after) = rest.split_at(name_end);
            let Some(quoted) = after.strip_prefix("=\"") else {
                if after.starts_with('>') {
                    return None;
                }
                rest = after;
                continue;
            };
            let value_end = quoted.find('"')?;
            if name == "href" {
                let value = &quoted[..value_end];
                return Some(
                    value
                        .replace("&quot;", "\"")
                        .replace("&nbsp;", "\u{a0}")
                        .replace("&lt;", "<")
                        .replace("&gt;", ">")
                        .replace("&amp;", "&"),
                );
            }
            rest = &quoted[value_end + 1..];
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_marks_links() {
        let html = render("**bold** [site](https://example.org)\n\n```\ncode\n```").unwrap();
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains(r#"<a href="https://example.org" rel="nofollow ugc noopener">site</a>"#), "{html}");
        assert!(html.contains("<pre tabindex=\"0\"><code>code\n</code></pre>"));
    }

    #[test]
    fn strips_scripts_handlers_and_javascript_urls() {
        let html = render("<script>alert(1)</script><b onclick=\"x()\">hi</b> [x](javascript:alert)").unwrap();
        assert!(!html.contains("<script"));
        assert!(!html.contains("onclick"));
        assert!(!html.contains("href=\"javascript"), "{html}");
    }

    #[test]
    fn emoji_shortcodes_become_emoji_outside_code() {
        assert_eq!(with_emoji("Great :tada: at 10:30, :not_an_emoji: :+1:"), "Great 🎉 at 10:30, :not_an_emoji: 👍");
        assert_eq!(with_emoji("::smile::"), ":😄:");
        let html = render_post(":smile: `:smile:`\n\n```\n:smile:\n```", &References::default()).unwrap();
        assert!(html.starts_with("<p>😄 <code>:smile:</code></p>"), "{html}");
        assert!(html.contains("<pre tabindex=\"0\"><code>:smile:\n</code></pre>"), "{html}");
    }

    #[test]
    fn fenced_code_with_a_language_is_highlighted_with_classes_the_sanitizer_keeps() {
        let html = render("```python\ndef f(x): return \"<script>\" # :smile: @ada\n```\n\n```\nplain\n```").unwrap();
        assert!(html.starts_with("<pre class=\"highlight\" tabindex=\"0\"><code>"), "{html}");
        assert!(html.contains("<span class=\"hl-keyword\">def</span>"), "one class a run: {html}");
        assert!(html.contains("class=\"hl-comment\""), "{html}");
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script"), "{html}");
        assert!(html.contains(":smile: @ada"), "no emoji or mentions in code: {html}");
        assert!(
            html.contains("<pre tabindex=\"0\"><code>plain\n</code></pre>"),
            "no language, no highlighting: {html}"
        );
        let unknown = render("```klingon\nqapla'\n```").unwrap();
        assert_eq!(unknown, "<pre tabindex=\"0\"><code>qapla'\n</code></pre>\n");
        let code = "x = 1\n".repeat(MAX_HIGHLIGHTED_BYTES / 6);
        let budget = render(&format!("```python\n{code}```\n\n```python\n{code}```")).unwrap();
        assert_eq!(
            budget.matches("<pre class=\"highlight\"").count(),
            1,
            "the second block is past the budget: {budget}"
        );
    }

    #[test]
    fn task_lists_keep_their_state_as_disabled_checkboxes() {
        let html =
            render("- [x] done\n- [ ] to do\n\n<input type=\"text\" name=\"x\" aria-label=\"Password\">").unwrap();
        // (The sanitiser writes set attributes in no fixed order: read it as a browser would.)
        let page = scraper::Html::parse_fragment(&html);
        let count = |selector: &str| page.select(&scraper::Selector::parse(selector).unwrap()).count();
        assert_eq!(count("li input[type=checkbox][disabled][checked][aria-label=done]"), 1, "{html}");
        assert_eq!(count("li input[type=checkbox][disabled]:not([checked])[aria-label='not done']"), 1, "{html}");
        assert_eq!(count("input"), 3, "{html}");
        assert_eq!(
            count("input[type=checkbox][disabled]:not([aria-label]):not([name])"),
            1,
            "a typed form control is an inert box without its label: {html}"
        );
        let marker = render("<a href=\"https://x.test/\u{E000}\">x</a> \u{E001}").unwrap();
        assert!(!marker.contains("<input") && marker.contains("rel=\"nofollow ugc noopener\""), "{marker}");
    }

    #[test]
    fn excerpts_drop_markup_and_cut_at_a_word() {
        assert_eq!(excerpt("**Hello** `world`.\n\n> quoted", 100), "Hello world. quoted");
        assert_eq!(excerpt("[quote=\"a, post:1, topic:2\"]\ntheirs\n[/quote]\n\nMine.", 100), "Mine.");
        assert_eq!(excerpt("one two three four", 9), "one two…");
        assert_eq!(excerpt("", 10), "");
    }

    #[test]
    fn mentions_link_by_id_outside_code_and_links() {
        let mut references = References::default();
        references.mentions.insert("alice".into(), 7);
        let markdown = "Hi @Alice and @bob, mail me@alice.org\n\n`@alice` [@alice](https://x.org)\n\n```\n@alice\n```";
        assert_eq!(mention_candidates(markdown), vec!["alice", "bob"]);
        let html = render_post(markdown, &references).unwrap();
        assert!(
            html.contains(r#"<a class="mention" href="/u/by-id/7" rel="nofollow ugc noopener">@Alice</a>"#),
            "{html}"
        );
        assert_eq!(html.matches("/u/by-id/").count(), 1, "not in code, links or addresses: {html}");
        assert!(html.contains("@bob"), "an unknown name stays text");
        assert!(!render("<a class=\"evil\" href=\"/x\">x</a>").unwrap().contains("evil"), "other classes go");
    }

    #[test]
    fn quotes_name_and_link_their_post_and_nest() {
        let markdown = "[quote=\"alice, post:3, topic:12\"]\nShe said **this**.\n[quote=\"bob, post:1, topic:12\"]\ninner\n[/quote]\n[/quote]\n\nMy answer.";
        assert_eq!(quote_sources(markdown), vec![(12, 3), (12, 1)]);
        let mut references = References::default();
        references.quotes.insert((12, 3), Attribution { name: "alice".into(), url: "/t/12/soup/3".into() });
        let html = render_post(markdown, &references).unwrap();
        assert!(html.contains(r#"<aside class="quote"><p class="quote-by"><a href="/t/12/soup/3" rel="nofollow ugc noopener">alice wrote:</a></p><blockquote>"#), "{html}");
        assert!(html.contains("<strong>this</strong>"), "the inside is Markdown: {html}");
        assert!(html.contains("bob wrote:"), "an unresolved quote keeps its name, unlinked: {html}");
        assert_eq!(html.matches("<aside").count(), 2);
        assert!(html.contains("<p>My answer.</p>"));
        let fenced = render("```\n[quote=\"x, post:1, topic:1\"]\n```").unwrap();
        assert!(!fenced.contains("<aside"), "{fenced}");
    }

    #[test]
    fn only_links_to_other_sites_count_as_a_browser_resolves_them() {
        let html =
            r#"<a href="/u/by-id/1">@a</a> <a href="//evil.example/">x</a> <a title="x>" href="https://e.org">y</a>"#;
        assert_eq!(count_links(html), 2);
        assert_eq!(count_links(r#"<a href="/t/1/x?a=1&amp;b=2">here</a> <a name="top">no address</a>"#), 0);
        for sneaky in ["/\\spam.test", "/\t/spam.test", "\\\\spam.test", "https:spam.test", "/\n/spam.test"] {
            let rendered = render(&format!("<a href=\"{sneaky}\">x</a>")).unwrap();
            assert_eq!(count_links(&rendered), 1, "{sneaky:?} leaves the forum: {rendered}");
        }
        let local = render("[a topic](/t/1/x) and [a page](page)").unwrap();
        assert_eq!(count_links(&local), 0, "{local}");
    }

    #[test]
    fn images_become_links() {
        let html = render("![a cat](https://example.org/cat.png)").unwrap();
        assert!(!html.contains("<img"));
        assert!(html.contains(r#"href="https://example.org/cat.png""#));
        assert!(html.contains("a cat"));
    }

    #[test]
    fn deep_nesting_is_refused_and_ordinary_nesting_is_not() {
        assert_eq!(render(&"- > ".repeat(8000)), Err(RenderError::TooDeep));
        assert_eq!(render(&format!("{}deep", "> ".repeat(MAX_NESTING + 1))), Err(RenderError::TooDeep));
        assert_eq!(render(&"<div>".repeat(MAX_RAW_HTML_TAGS + 1)), Err(RenderError::TooMuchHtml));
        assert!(render(&"<b>bold</b> ".repeat(MAX_RAW_HTML_TAGS / 2)).is_ok());
        let quoted = render("> > > three levels\n\n- a\n  - b\n    - c").unwrap();
        assert!(quoted.matches("<blockquote>").count() == 3, "{quoted}");
    }

    #[test]
    fn a_quoted_name_is_replaced_in_headers_only() {
        let markdown = "[quote=\"ZqvVictim, post:3, topic:12\"]\nZqvVictim said so.\n[/quote]\n```\n[quote=\"zqvvictim, post:1, topic:1\"]\n```\n  [quote=\"zqvVICTIM\"]\nx\n[/quote]\n[quote=\"bob, post:1, topic:12\"]\ny\n[/quote]";
        let renamed = rename_quoted(markdown, "zqvvictim", "Anonymous").unwrap();
        assert_eq!(
            renamed,
            "[quote=\"Anonymous, post:3, topic:12\"]\nZqvVictim said so.\n[/quote]\n```\n[quote=\"zqvvictim, post:1, topic:1\"]\n```\n  [quote=\"Anonymous\"]\nx\n[/quote]\n[quote=\"bob, post:1, topic:12\"]\ny\n[/quote]"
        );
        assert_eq!(rename_quoted("[quote=\"bob, post:1, topic:1\"]\nx\n[/quote]", "zqvvictim", "Anonymous"), None);
    }
}
