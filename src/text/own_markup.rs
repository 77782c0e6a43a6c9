//! Markup only Agora writes: the classes that draw quotes, mentions and highlighted
//! code, and the labels of task boxes.
//!
//! A post may hold raw HTML, and raw HTML could fake them: `<aside class="quote">` with
//! "alice wrote:" above words alice never wrote, or `<a class="mention">` to anywhere.
//! So Agora's own markup writes these values behind a prefix drawn at random when the
//! process starts, which never leaves it: the sanitiser keeps a class or label only when
//! it carries the prefix, and writes it without. A class a post brings itself is dropped.

use std::borrow::Cow;
use std::sync::LazyLock;

static PREFIX: LazyLock<&'static str> =
    LazyLock::new(|| Box::leak(format!("ag{:016x}-", rand::random::<u64>()).into_boxed_str()));

/// The prefix Agora's own class names and labels are written with before sanitising.
pub fn prefix() -> &'static str {
    &PREFIX
}

/// `name` as Agora's own markup writes it (a class or a label).
pub fn own(name: &str) -> String {
    format!("{}{name}", prefix())
}

/// The sanitiser's attribute filter: a `class` or `aria-label` keeps only the values
/// Agora wrote (without the prefix) and is dropped when none is left; every other
/// attribute is left to the sanitiser's own rules.
pub fn filter_attribute<'v>(_element: &str, attribute: &str, value: &'v str) -> Option<Cow<'v, str>> {
    if attribute != "class" && attribute != "aria-label" {
        return Some(Cow::Borrowed(value));
    }
    let kept: Vec<&str> = match attribute {
        "class" => value.split_ascii_whitespace().filter_map(|class| class.strip_prefix(prefix())).collect(),
        _ => value.strip_prefix(prefix()).into_iter().collect(),
    };
    (!kept.is_empty()).then(|| Cow::Owned(kept.join(" ")))
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
}
