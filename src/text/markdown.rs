//! Markdown to safe HTML, once, when a post is written (pages serve the stored HTML).

use std::sync::LazyLock;

use pulldown_cmark::{html, Event, Options, Parser, Tag, TagEnd};

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .link_rel(Some("nofollow ugc noopener"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .rm_tags(["img"]);
    builder
});

/// Deeper nesting than this (quotes in lists in quotes…) is refused. Parsing is linear,
/// but sanitising deeply nested HTML is not: `"- > "` × 8000 took 1.3 s. At this depth
/// the longest post renders in a few milliseconds.
pub const MAX_NESTING: usize = 24;

/// Raw HTML tags are passed to the sanitiser as they are, nested or not: more than this
/// many in one post are refused (6,000 nested `<div>`s took 66 ms; a post needs few).
pub const MAX_RAW_HTML_TAGS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error(
        "This post nests quotes and lists more than {MAX_NESTING} levels deep. Flatten it a little and try again."
    )]
    TooDeep,
    #[error("This post has more than {MAX_RAW_HTML_TAGS} HTML tags. Use Markdown instead, or shorten it.")]
    TooMuchHtml,
}

fn options() -> Options {
    Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS
}

/// Refuses shapes whose rendering cost is out of proportion: Markdown nested past
/// `MAX_NESTING`, or more raw HTML tags than `MAX_RAW_HTML_TAGS`. Parsing is linear.
fn check_shape(markdown: &str) -> Result<(), RenderError> {
    let (mut depth, mut raw_tags) = (0usize, 0usize);
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(_) => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(RenderError::TooDeep);
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Html(html) | Event::InlineHtml(html) => {
                raw_tags += html.matches('<').count();
                if raw_tags > MAX_RAW_HTML_TAGS {
                    return Err(RenderError::TooMuchHtml);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Renders a post, refusing shapes whose rendering cost is out of proportion.
pub fn render(markdown: &str) -> Result<String, RenderError> {
    check_shape(markdown)?;
    Ok(render_trusted(markdown))
}

/// Renders text without the shape check (the forum's own texts, e.g. the policy).
pub fn render_trusted(markdown: &str) -> String {
    let options = options();
    // Images would make readers' browsers fetch from other sites, which the privacy
    // policy rules out: an image becomes a link to it, its alt text the link's text.
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Link { link_type, dest_url, title, id })
        }
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    });
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, events);
    SANITIZER.clean(&unsafe_html).to_string()
}

/// The words of a post without its Markdown, cut after about `max_chars` characters at
/// a word's end (with "…" when cut): for lists that show the start of a post.
pub fn excerpt(markdown: &str, max_chars: usize) -> String {
    let mut text = String::new();
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Text(t) | Event::Code(t) => {
                if !text.is_empty() && !text.ends_with(' ') {
                    text.push(' ');
                }
                text.push_str(t.trim());
            }
            Event::SoftBreak | Event::HardBreak | Event::End(_) if !text.ends_with(' ') => text.push(' '),
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

/// The links in rendered, sanitised HTML: every `<a` element, whatever the order of
/// its attributes (raw HTML in a post may put `href` anywhere).
pub fn count_links(html: &str) -> usize {
    html.matches("<a ").count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_marks_links() {
        let html = render("**bold** [site](https://example.org)\n\n```\ncode\n```").unwrap();
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains(r#"<a href="https://example.org" rel="nofollow ugc noopener">site</a>"#), "{html}");
        assert!(html.contains("<pre><code>code\n</code></pre>"));
    }

    #[test]
    fn strips_scripts_handlers_and_javascript_urls() {
        let html = render("<script>alert(1)</script><b onclick=\"x()\">hi</b> [x](javascript:alert)").unwrap();
        assert!(!html.contains("<script"));
        assert!(!html.contains("onclick"));
        assert!(!html.contains("href=\"javascript"), "{html}");
    }

    #[test]
    fn excerpts_drop_markup_and_cut_at_a_word() {
        assert_eq!(excerpt("**Hello** `world`\n\n> quoted", 100), "Hello world quoted");
        assert_eq!(excerpt("one two three four", 9), "one two…");
        assert_eq!(excerpt("", 10), "");
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
}
