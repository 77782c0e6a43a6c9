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

pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS;
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

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn formats_and_marks_links() {
        let html = render("**bold** [site](https://example.org)\n\n```\ncode\n```");
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains(r#"<a href="https://example.org" rel="nofollow ugc noopener">site</a>"#), "{html}");
        assert!(html.contains("<pre><code>code\n</code></pre>"));
    }

    #[test]
    fn strips_scripts_handlers_and_javascript_urls() {
        let html = render("<script>alert(1)</script><b onclick=\"x()\">hi</b> [x](javascript:alert)");
        assert!(!html.contains("<script"));
        assert!(!html.contains("onclick"));
        assert!(!html.contains("href=\"javascript"), "{html}");
    }

    #[test]
    fn images_become_links() {
        let html = render("![a cat](https://example.org/cat.png)");
        assert!(!html.contains("<img"));
        assert!(html.contains(r#"href="https://example.org/cat.png""#));
        assert!(html.contains("a cat"));
    }
}
