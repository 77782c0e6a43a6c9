//! Text people write, below every area that shows it: Markdown becomes safe HTML
//! (`markdown`, for posts and the policy page), and short plain text people type (titles,
//! names) follows the rules here: characters that mislead a reader are refused, and there
//! must be something to see.
//!
//! Control characters (NUL, ANSI escapes) garble logs and terminals; bidirectional
//! overrides and isolates (U+202A–U+202E, U+2066–U+2069) make text read differently
//! from how it is stored; invisible characters alone make a title or name that looks
//! empty. Posts are Markdown rendered to HTML and are not held to these rules.

pub mod highlight;
pub mod markdown;
pub mod own_markup;

/// Characters that reorder the text around them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Characters that take no visible space (zero-width and filler characters).
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || is_bidi_control(c)
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'..='\u{2064}'
                | '\u{3164}'
                | '\u{FEFF}'
                | '\u{FFA0}'
        )
}

/// A single line of text as typed: trimmed, without control or bidirectional
/// characters, and (unless empty) with at least one visible character.
/// `what` names the field in the message ("A title").
pub fn plain_line(raw: &str, what: &str) -> Result<String, String> {
    let text = raw.trim();
    if text.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Err(format!(
            "{what} cannot contain control characters or characters that change the reading direction."
        ));
    }
    if !text.is_empty() && text.chars().all(is_invisible) {
        return Err(format!("{what} needs visible characters."));
    }
    Ok(text.to_string())
}

/// Characters that take no space and join nothing: inside a name they only make one
/// name look like another ("ad\u{200B}min"). The joiners some scripts need (U+200C,
/// U+200D) are not among them.
fn is_hidden(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{180E}' | '\u{200B}' | '\u{2060}'
            ..='\u{2064}' | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}'
    )
}

/// A person's name as typed: `plain_line`'s rules, and no hidden characters anywhere.
pub fn name_line(raw: &str, what: &str) -> Result<String, String> {
    let name = plain_line(raw, what)?;
    match name.chars().any(is_hidden) {
        true => Err(format!("{what} cannot contain invisible characters.")),
        false => Ok(name),
    }
}

/// The same text with every misleading character removed (for values that come from
/// elsewhere, e.g. a GitHub profile's name, which cannot be sent back to be fixed).
pub fn strip_misleading(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c) && !is_hidden(*c))
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_direction_changes_are_refused() {
        for hostile in ["a\u{0}b", "red \u{1b}[31mtext", "abc\u{202E}fdp.exe", "x\u{2066}y", "tab\there"] {
            assert!(plain_line(hostile, "A title").is_err(), "{hostile:?}");
        }
        assert_eq!(plain_line("  Ünïcode 👩‍💻 title ", "A title").unwrap(), "Ünïcode 👩‍💻 title");
    }

    #[test]
    fn invisible_only_text_is_refused_but_empty_is_left_to_the_caller() {
        assert!(plain_line("\u{200B}\u{200B}\u{FEFF}", "A title").is_err());
        assert!(plain_line("\u{3164}", "A name").is_err());
        assert_eq!(plain_line("   ", "A name").unwrap(), "");
    }

    #[test]
    fn stripping_keeps_the_visible_text() {
        assert_eq!(strip_misleading("Ann\u{202E} Lee\u{0}\u{200B}"), "Ann Lee");
    }

    #[test]
    fn names_refuse_hidden_characters_but_keep_joiners() {
        for hidden in ["Ad\u{200B}min", "Ann\u{FEFF}", "Lee\u{2060}", "Bo\u{00AD}b"] {
            assert!(name_line(hidden, "A first name").is_err(), "{hidden:?}");
        }
        assert_eq!(name_line("\u{645}\u{200C}\u{6CC}", "A first name").unwrap(), "\u{645}\u{200C}\u{6CC}");
    }
}
