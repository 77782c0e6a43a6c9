//! The house's layers (see README, "Architecture in brief"): each area of `src/` may use
//! only the areas below it, so sign-in never reaches into the member's data pages and
//! what every page shares never reaches into any area. A new upward `crate::` path fails here.

use std::collections::BTreeSet;
use std::path::Path;

/// Each area with the areas it may use (besides itself and the settings in `config`).
const ALLOWED: &[(&str, &[&str])] = &[
    ("db", &[]),
    ("mail", &["db"]),
    ("text", &[]),
    ("web", &["db"]),
    ("privacy", &["db", "mail", "web"]),
    ("auth", &["db", "mail", "text", "web", "privacy"]),
    ("forum", &["db", "mail", "text", "web", "privacy", "auth"]),
    ("conversation", &["db", "mail", "text", "web", "privacy", "auth", "forum"]),
    ("account", &["db", "mail", "text", "web", "privacy", "auth", "forum", "conversation"]),
    // Staff erase an account the way its member would (account::deletion).
    ("moderation", &["db", "mail", "text", "web", "privacy", "auth", "forum", "conversation", "account"]),
    // A restore replays erasures with the member's own deletion.
    ("ops", &["db", "mail", "text", "web", "privacy", "auth", "forum", "conversation", "account", "moderation"]),
];

const AREAS: &[&str] =
    &["db", "mail", "text", "web", "privacy", "auth", "forum", "conversation", "account", "moderation", "ops"];

fn sources(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The areas a file names as `crate::AREA`.
fn used_areas(text: &str) -> BTreeSet<&'static str> {
    AREAS
        .iter()
        .copied()
        .filter(|area| {
            let needle = format!("crate::{area}");
            text.match_indices(&needle)
                .any(|(at, _)| !text[at + needle.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_'))
        })
        .collect()
}

#[test]
fn every_area_uses_only_the_areas_below_it() {
    let mut breaches = Vec::new();
    for (area, allowed) in ALLOWED {
        let mut files = Vec::new();
        let dir = Path::new("src").join(area);
        if dir.is_dir() {
            sources(&dir, &mut files);
        }
        assert!(!files.is_empty(), "src/{area}/ has no source files");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for used in used_areas(&text) {
                if used != *area && !allowed.contains(&used) {
                    breaches.push(format!("{} uses crate::{used}", file.display()));
                }
            }
        }
    }
    assert!(breaches.is_empty(), "upward imports:\n{}", breaches.join("\n"));
}

#[test]
fn the_layer_check_sees_an_upward_path() {
    assert!(used_areas("use crate::account::store;").contains("account"));
    assert!(used_areas("crate::web::csrf::check(&req)").contains("web"));
    assert!(!used_areas("use crate::accounting;").contains("account"), "a longer name is another module");
}
