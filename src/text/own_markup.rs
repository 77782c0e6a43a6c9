//! Markup only Agora writes: the classes that draw quotes, mentions and highlighted
//! code, and the labels of task boxes.
//!
//! A post may hold raw HTML, and raw HTML could fake them: `<aside class="quote">` with
//! "alice wrote:" above words alice never wrote, or `<a class="mention">` to anywhere.
//! So Agora's own markup writes these values behind a prefix drawn at random for each
//! render, which the sanitiser removes: it keeps a class or label only when it carries
//! the prefix, and writes it without. A class a post brings itself is dropped. Should a
//! prefix ever show (Agora's markup inside a code block a quote line was expanded in),
//! it is worth nothing: the next render draws another.

use std::borrow::Cow;
use std::cell::RefCell;

thread_local! {
    /// This thread's prefix: a render writes and sanitises on one thread.
    static PREFIX: RefCell<String> = RefCell::new(draw());
}

fn draw() -> String {
    format!("ag{:016x}-", rand::random::<u64>())
}

/// Draws a new prefix for the render about to start on this thread.
pub fn renew() {
    PREFIX.with(|prefix| *prefix.borrow_mut() = draw());
}

/// `name` as Agora's own markup writes it (a class or a label).
pub fn own(name: &str) -> String {
    PREFIX.with(|prefix| format!("{}{name}", prefix.borrow()))
}

/// The sanitiser's attribute filter: a `class` or `aria-label` keeps only the values
/// Agora wrote (without the prefix) and is dropped when none is left; every other
/// attribute is left to the sanitiser's own rules.
pub fn filter_attribute<'v>(_element: &str, attribute: &str, value: &'v str) -> Option<Cow<'v, str>> {
    if attribute != "class" && attribute != "aria-label" {
        return Some(Cow::Borrowed(value));
    }
    PREFIX.with(|prefix| {
        let prefix = prefix.borrow();
        let kept: Vec<&str> = match attribute {
            "class" => value.split_ascii_whitespace().filter_map(|class| class.strip_prefix(prefix.as_str())).collect(),
            _ => value.strip_prefix(prefix.as_str()).into_iter().collect(),
        };
        (!kept.is_empty()).then(|| Cow::Owned(kept.join(" ")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_prefixed_values_survive_without_their_prefix() {
        let ours = format!("{} {}", own("quote"), own("x"));
        assert_eq!(filter_attribute("aside", "class", &ours).as_deref(), Some("quote x"));
        assert_eq!(filter_attribute("aside", "class", "quote"), None);
        assert_eq!(filter_attribute("aside", "class", &format!("quote {}", own("y"))).as_deref(), Some("y"));
        assert_eq!(filter_attribute("input", "aria-label", &own("done")).as_deref(), Some("done"));
        assert_eq!(filter_attribute("input", "aria-label", "done"), None);
        assert_eq!(filter_attribute("a", "href", "/x").as_deref(), Some("/x"));
    }

    #[test]
    fn each_render_draws_a_new_prefix() {
        let before = own("quote");
        renew();
        assert_ne!(own("quote"), before);
        assert_eq!(filter_attribute("aside", "class", &before), None, "an old prefix is worth nothing");
    }
}
