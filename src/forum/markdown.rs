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

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error(
        "This post nests quotes and lists more than {MAX_NESTING} levels deep. Flatten it a little and try again."
    )]
    TooDeep,
}

fn options() -> Options {
    Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS
}

/// The deepest nesting of blocks and inline elements, stopping early past `MAX_NESTING`.
fn too_deep(markdown: &str) -> bool {
    let mut depth = 0usize;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(_) => {
                depth += 1;
                if depth > MAX_NESTING {
                    return true;
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Renders a post, refusing shapes whose rendering cost is out of proportion.
pub fn render(markdown: &str) -> Result<String, RenderError> {
    if too_deep(markdown) {
        return Err(RenderError::TooDeep);
    }
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
        let quoted = render("> > > three levels\n\n- a\n  - b\n    - c").unwrap();
        assert!(quoted.matches("<blockquote>").count() == 3, "{quoted}");
    }
}
