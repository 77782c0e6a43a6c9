//! Every parser of what people send, fed arbitrary input: no panic, and (for Markdown)
//! no input shape whose rendering cost runs away.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use agora::auth::domain::{Email, NewPassword, Username};
use agora::forum::domain::{PostBody, Title};
use agora::forum::queries::TopicCursor;
use agora::text::markdown;
use agora::web::client_ip::resolve;
use agora::web::rate_limit::RateLimits;
use proptest::prelude::*;

/// Markdown built from the pieces that nest and interact: quotes, list markers,
/// emphasis, links, code fences, tables, HTML.
fn markdown_soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("> ".to_string()),
        Just("- ".to_string()),
        Just("1. ".to_string()),
        Just("  ".to_string()),
        Just("\n".to_string()),
        Just("\n\n".to_string()),
        Just("*".to_string()),
        Just("**".to_string()),
        Just("_".to_string()),
        Just("`".to_string()),
        Just("```\n".to_string()),
        Just("[x](https://e.org/".to_string()),
        Just("](".to_string()),
        Just("<div>".to_string()),
        Just("</div>".to_string()),
        Just("|a|b|\n|-|-|\n".to_string()),
        Just("- [ ] ".to_string()),
        // Quotes nest after expansion; a wide header pads every row below it.
        Just("[quote=\"a, post:1, topic:1\"]\n".to_string()),
        Just("[/quote]\n".to_string()),
        Just(format!("{}|\n{}|\n", "|h".repeat(64), "|-".repeat(64))),
        Just("```rust\nfn f() { 1 }\n```\n".to_string()),
        Just("@someone ".to_string()),
        Just("<a href=\"/\\x\">".to_string()),
        "[a-z ]{0,8}",
        "\\PC{0,4}",
    ];
    prop::collection::vec(piece, 0..400).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn markdown_renders_anything_quickly_or_refuses_it(input in markdown_soup(), repeat in 1usize..40) {
        let input = input.repeat(repeat);
        let input: String = input.chars().take(PostBody::MAX).collect();
        let started = Instant::now();
        if let Ok(html) = markdown::render(&input) {
            prop_assert!(!html.contains("<script"));
            prop_assert!(!html.contains("<img"));
            // Cost, not only safety: what is accepted stays within its HTML budget.
            prop_assert!(html.len() <= markdown::html_budget(input.len()), "{} bytes of HTML", html.len());
        }
        // Generous for an unoptimised build; the runaway case took seconds even optimised.
        prop_assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    }

    #[test]
    fn usernames_emails_passwords_titles_and_bodies_never_panic(raw in "\\PC{0,300}") {
        if let Ok(name) = Username::parse(&raw) {
            prop_assert!(name.as_str().chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        }
        if let Ok(email) = Email::parse(&raw) {
            prop_assert!(email.as_str().parse::<lettre::Address>().is_ok(), "the mailer takes every accepted address");
        }
        let _ = NewPassword::parse(&raw, "name", "name@example.org");
        if let Ok(title) = Title::parse(&raw) {
            let misleading = |c: char| c.is_control() || ('\u{202A}'..='\u{202E}').contains(&c);
            prop_assert!(!title.as_str().chars().any(misleading), "{:?}", title.as_str());
        }
        let _ = PostBody::parse(&raw);
        let _ = agora::text::plain_line(&raw, "A name");
    }

    #[test]
    fn any_text_with_hostile_characters_is_refused_as_a_title(
        before in "[a-z]{1,20}",
        hostile in prop::sample::select(vec!['\u{0}', '\u{1b}', '\u{7f}', '\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}']),
        after in "[a-z]{1,20}",
    ) {
        let title = format!("{before}{hostile}{after}");
        prop_assert!(Title::parse(&title).is_err(), "{:?}", title);
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused(at in any::<i64>(), id in any::<i64>(), garbage in "\\PC{0,40}") {
        let cursor = TopicCursor { last_post_at: at, id };
        prop_assert_eq!(TopicCursor::parse(&cursor.encode()), Some(cursor));
        let _ = TopicCursor::parse(&garbage);
    }

    #[test]
    fn forwarded_for_headers_never_panic_and_untrusted_peers_are_believed_only_for_themselves(
        header in "[0-9a-f:., ]{0,120}",
        peer in any::<[u8; 4]>(),
    ) {
        let peer = IpAddr::from(peer);
        let trusted = agora::config::parse_proxies("127.0.0.1, 10.0.0.0/8").unwrap();
        let client = resolve(peer, Some(&header), &trusted);
        if !trusted.iter().any(|net| net.contains(&peer)) {
            prop_assert_eq!(client, peer);
        }
    }

    #[test]
    fn rate_limit_settings_never_panic(raw in "[a-z_=/0-9,]{0,80}") {
        let _ = RateLimits::parse(&raw);
    }

    #[test]
    fn page_numbers_in_any_form_never_panic(raw in "\\PC{0,30}") {
        // Pages come through actix's query parser into an i64, then a bounds check.
        let _ = serde_urlencoded::from_str::<std::collections::HashMap<String, i64>>(&format!("page={raw}"));
    }
}
