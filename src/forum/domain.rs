//! Topic titles and post bodies, parsed at the edge.

/// 3–150 characters after trimming.
#[derive(Debug, Clone)]
pub struct Title(String);

impl Title {
    pub const MIN: usize = 3;
    pub const MAX: usize = 150;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let title = crate::text::plain_line(raw, "A title")?;
        let length = title.chars().count();
        if length == 0 {
            return Err("Give your topic a title.".into());
        }
        if !(Self::MIN..=Self::MAX).contains(&length) {
            return Err(format!("A title is {} to {} characters long.", Self::MIN, Self::MAX));
        }
        Ok(Title(title.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Markdown of 1 to 32,000 characters.
#[derive(Debug, Clone)]
pub struct PostBody(String);

impl PostBody {
    pub const MAX: usize = 32_000;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let body = raw.trim_end();
        if body.trim().is_empty() {
            return Err("Write something in the post.".into());
        }
        let length = body.chars().count();
        if length > Self::MAX {
            return Err(format!("A post is at most {} characters; this one has {length}.", Self::MAX));
        }
        Ok(PostBody(body.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

crate::text_enum! {
    /// Why a member flags a post (stored in `flags.reason`).
    pub enum FlagReason {
        Spam => "spam",
        Abuse => "abuse",
        OffTopic => "off-topic",
        /// Needs the member's own words.
        Other => "other",
    }
}

impl FlagReason {
    /// How the flag form offers it.
    pub fn label(self) -> &'static str {
        match self {
            FlagReason::Spam => "Spam",
            FlagReason::Abuse => "Abusive or harassing",
            FlagReason::OffTopic => "Off-topic",
            FlagReason::Other => "Something else",
        }
    }
}

/// The readable part of a topic URL: lower-case ASCII words joined by dashes.
/// Only decoration; the id finds the topic.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for word in title.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        if slug.len() + word.len() + 1 > 60 {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word.to_ascii_lowercase());
    }
    if slug.is_empty() {
        "topic".into()
    } else {
        slug
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("Hello, World! Rust 2024?"), "hello-world-rust-2024");
        assert_eq!(slugify("¿¡!!"), "topic");
        assert!(slugify(&"word ".repeat(40)).len() <= 60);
    }

    #[test]
    fn titles_and_bodies() {
        assert!(Title::parse("  ").is_err());
        assert!(Title::parse("ab").is_err());
        assert_eq!(Title::parse("  Hello  ").unwrap().as_str(), "Hello");
        assert!(Title::parse(&"x".repeat(151)).is_err());
        assert!(PostBody::parse(" \n ").is_err());
        assert!(PostBody::parse(&"y".repeat(32_001)).is_err());
        assert!(PostBody::parse(&"y".repeat(32_000)).is_ok());
    }
}
