//! Abuse: rate limits (with the real defaults, not the suite's wider ones), what new
//! accounts may do, and the staff's spam tools. On both backends.

use agora::config::Config;
use agora::db::schema::{audit_log, posts, topics};
use agora::web::rate_limit::RateLimits;
use diesel::prelude::*;

use crate::helpers::{Backend, Page, TestApp};

/// Runs `test` once per backend on a forum with the given settings.
macro_rules! on_both_backends_with {
    ($($name:ident: $settings:expr),* $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    let app = $crate::helpers::spawn_app_with($crate::helpers::Backend::Sqlite, $settings).await.unwrap();
                    super::$name(app).await;
                }

                #[actix_web::test]
                async fn postgres() {
                    if let Some(app) = $crate::helpers::spawn_app_with($crate::helpers::Backend::Postgres, $settings).await {
                        super::$name(app).await;
                    }
                }
            }
        )*
    };
}

fn default_limits(config: &mut Config) {
    config.rate_limits = RateLimits::default();
}

/// The defaults, with browsers behind a trusted proxy on 127.0.0.1 (`browser_from`).
fn default_limits_behind_a_proxy(config: &mut Config) {
    config.rate_limits = RateLimits::default();
    crate::helpers::trust_local_proxy(config);
}

/// Sign-ins for one name slow down after 6 failures from everywhere.
fn early_slowdown_behind_a_proxy(config: &mut Config) {
    config.rate_limits = RateLimits::parse("login_slowdown_per_account=6/600").unwrap();
    crate::helpers::trust_local_proxy(config);
}

fn small_limits(config: &mut Config) {
    config.rate_limits =
        RateLimits::parse("like_per_member=3/600,flag_per_member=2/3600,github_start_per_ip=2/600").unwrap();
}

fn hold_first_post(config: &mut Config) {
    config.hold_first_posts = 1;
}

on_both_backends_with!(
    sign_in_is_limited_per_account_and_per_address: super::default_limits_behind_a_proxy,
    sign_in_guessed_from_everywhere_is_slowed_not_locked: super::early_slowdown_behind_a_proxy,
    registration_is_limited_per_address_and_keeps_the_input: super::default_limits,
    reset_mails_are_limited_per_address: super::default_limits,
    privacy_requests_are_limited_per_address: super::default_limits,
    new_members_confirm_first_then_post_less_and_link_less: super::default_limits,
    likes_flags_and_github_starts_are_limited: super::small_limits,
    a_new_members_first_post_waits_for_review: super::hold_first_post,
    staff_delete_every_post_of_a_spam_account: super::default_limits,
    mail_choices_and_profile_visibility_are_limited: super::default_limits,
);

fn assert_too_many(page: &Page, what: &str) {
    assert_eq!(page.status, 429, "{what}: {}", page.body);
    assert!(page.body.contains("too often for now"), "{what}: the page says so");
    assert!(page.body.contains("try again in"), "{what}: and when");
}

async fn retry_after(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, Option<u64>) {
    let token = app.csrf_token().await;
    let mut fields = vec![("csrf_token", token.as_str())];
    fields.extend_from_slice(form);
    let response = app.client.post(app.url(path)).form(&fields).send().await.unwrap();
    let after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    (response.status().as_u16(), after)
}

async fn sign_in_is_limited_per_account_and_per_address(app: TestApp) {
    let password = app.register("guarded").await;
    // Browsers behind the trusted proxy (127.0.0.1), each from an address of its own.
    let attacker = app.browser_from("203.0.113.5");
    for _ in 0..10 {
        let guess = attacker.post_form("/login", &[("login", "guarded"), ("password", "guess-number-n")]).await;
        assert_eq!(guess.status, 401);
    }
    let limited = attacker.post_form("/login", &[("login", "Guarded"), ("password", "guess-number-11")]).await;
    assert_too_many(&limited, "the 11th guess at one account from one address");
    assert_eq!(limited.field("login").as_deref(), Some("Guarded"), "the form keeps what was typed");
    let (status, after) = retry_after(&attacker, "/login", &[("login", "guarded"), ("password", &password)]).await;
    assert_eq!(status, 429, "from the guessing address even the right password waits");
    assert!(after.is_some_and(|s| (1..=600).contains(&s)), "Retry-After: {after:?}");
    // No oracle: the same member's address is a different name to the counters, so the
    // answer (401, not 429) says nothing about whom the address belongs to.
    let address = attacker.post_form("/login", &[("login", "guarded@example.org"), ("password", "x-guess")]).await;
    assert_eq!(address.status, 401, "{}", address.body);
    // No lock-out: the member, from their own address, signs in at once.
    let member = app.browser_from("198.51.100.9");
    let signed_in = member.post_form("/login", &[("login", "guarded"), ("password", &password)]).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    // From one address, 30 attempts in all, whatever the account (13 made above).
    let mut statuses = Vec::new();
    for n in 0..17 {
        let login = format!("nobody{n}");
        statuses.push(attacker.post_form("/login", &[("login", &login), ("password", "guess-guess")]).await.status);
    }
    assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");
    let over = attacker.post_form("/login", &[("login", "someone-else"), ("password", "guess-guess")]).await;
    assert_too_many(&over, "the 31st attempt from one address");
}

/// Guessing from many addresses at one name slows every sign-in for it down; none is
/// refused, and the member still gets in.
async fn sign_in_guessed_from_everywhere_is_slowed_not_locked(app: TestApp) {
    let password = app.register("popular").await;
    for source in 0..3 {
        let guesser = app.browser_from(&format!("203.0.113.{}", 10 + source));
        for _ in 0..2 {
            let guess = guesser.post_form("/login", &[("login", "popular"), ("password", "a-wrong-guess")]).await;
            assert_eq!(guess.status, 401);
        }
    }
    let member = app.browser_from("198.51.100.10");
    let started = std::time::Instant::now();
    let signed_in = member.post_form("/login", &[("login", "popular"), ("password", &password)]).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert!(started.elapsed() >= std::time::Duration::from_secs(2), "slowed down: {:?}", started.elapsed());
}

async fn registration_is_limited_per_address_and_keeps_the_input(app: TestApp) {
    for n in 0..5 {
        app.another_browser().register_unconfirmed(&format!("joiner{n}")).await;
    }
    let sixth = app
        .another_browser()
        .post_form(
            "/register",
            &[
                ("username", "joiner5"),
                ("email", "joiner5@example.org"),
                ("password", "a-long-enough-password"),
                ("age_confirmed", "yes"),
                ("accept_policy", "yes"),
            ],
        )
        .await;
    assert_too_many(&sixth, "the 6th registration from one address in an hour");
    assert_eq!(sixth.field("username").as_deref(), Some("joiner5"));
    assert_eq!(sixth.field("email").as_deref(), Some("joiner5@example.org"));
    assert_eq!(sixth.field("password").as_deref(), Some(""), "passwords are never sent back");
    assert!(app.user_id("joiner5").is_none());
}

async fn reset_mails_are_limited_per_address(app: TestApp) {
    app.register("forgetful").await;
    let before = app.mails().len();
    for _ in 0..3 {
        let asked = app.another_browser().post_form("/password/forgot", &[("email", "forgetful@example.org")]).await;
        assert_eq!(asked.status, 200);
    }
    let fourth = app.another_browser().post_form("/password/forgot", &[("email", "forgetful@example.org")]).await;
    assert_too_many(&fourth, "the 4th reset mail to one address in an hour");
    assert_eq!(fourth.field("email").as_deref(), Some("forgetful@example.org"));
    assert_eq!(app.mails().len() - before, 3, "three mails, not four");
    // Confirmation resends count per address too (registration sent the first).
    let waiting = app.another_browser();
    waiting.register_unconfirmed("waiting").await;
    for _ in 0..3 {
        assert_eq!(waiting.post_form("/account/email/resend", &[]).await.status, 303);
    }
    let fourth = waiting.post_form("/account/email/resend", &[]).await;
    assert_too_many(&fourth, "the 4th confirmation resend in an hour");
}

async fn privacy_requests_are_limited_per_address(app: TestApp) {
    let before = app.mails().len();
    for _ in 0..3 {
        let filed = app
            .another_browser()
            .post_form("/privacy/request", &[("email", "third@party.example"), ("kind", "access"), ("message", "")])
            .await;
        assert_eq!(filed.status, 200);
    }
    let fourth = app
        .another_browser()
        .post_form(
            "/privacy/request",
            &[("email", "third@party.example"), ("kind", "access"), ("message", "and again")],
        )
        .await;
    assert_too_many(&fourth, "the 4th request about one address in a day");
    assert_eq!(fourth.field("message").as_deref(), Some("and again"));
    assert_eq!(app.mails().len() - before, 3, "the address got three receipts, not four");
}

async fn new_members_confirm_first_then_post_less_and_link_less(app: TestApp) {
    app.register_unconfirmed("fresh").await;
    let unconfirmed = app.post_form("/c/1/new", &[("title", "Buy now"), ("body", "Kept text")]).await;
    assert_eq!(unconfirmed.status, 403);
    assert!(unconfirmed.body.contains("Confirm your e-mail address before you post"));
    assert_eq!(unconfirmed.field("body").as_deref(), Some("Kept text"));
    app.confirm_address("fresh@example.org").await;

    // Raw HTML links count as well, whatever the order of their attributes.
    let links = "[a](https://a.example) [b](https://b.example) <a title=\"x\" href=\"https://c.example\">c</a>";
    let linky = app.post_form("/c/1/new", &[("title", "Three links"), ("body", links)]).await;
    assert_eq!(linky.status, 422);
    assert!(linky.body.contains("at most 2 links"), "{}", linky.body);
    assert_eq!(linky.field("body").as_deref(), Some(links));

    // Three topics an hour; refused attempts count too (each cost the server a render).
    for n in 0..2 {
        let made = app.post_form("/c/1/new", &[("title", &format!("Topic {n}")), ("body", "hello")]).await;
        assert_eq!(made.status, 303);
    }
    let fourth = app.post_form("/c/1/new", &[("title", "Topic 3"), ("body", "one too many")]).await;
    assert_too_many(&fourth, "a new member's 4th topic attempt in an hour");
    assert_eq!(fourth.field("body").as_deref(), Some("one too many"));
    let topic_id: i64 = {
        let mut conn = app.db.get().unwrap();
        topics::table.select(topics::id).order(topics::id).first(&mut *conn).unwrap()
    };
    // Ten posts in ten minutes in the first day (3 topics so far, and the refused ones count).
    let mut statuses = Vec::new();
    for n in 0..8 {
        statuses.push(app.post_form(&format!("/t/{topic_id}/reply"), &[("body", &format!("reply {n}"))]).await.status);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    let refused = app.post_form(&format!("/t/{topic_id}/reply"), &[("body", "kept reply")]).await;
    assert_too_many(&refused, "a new member's replies");
    assert_eq!(refused.field("body").as_deref(), Some("kept reply"));
}

async fn likes_flags_and_github_starts_are_limited(app: TestApp) {
    let author = app.another_browser();
    author.register("author").await;
    let topic = author.create_topic("Likeable", "post 1").await;
    let topic_id: i64 = topic.split('/').nth(2).unwrap().parse().unwrap();
    for n in 2..=4 {
        author.post_form(&format!("/t/{topic_id}/reply"), &[("body", &format!("post {n}"))]).await;
    }
    let ids: Vec<i64> = {
        let mut conn = app.db.get().unwrap();
        posts::table.select(posts::id).order(posts::id).load(&mut *conn).unwrap()
    };
    app.register("fan").await;
    for id in &ids[..3] {
        assert_eq!(app.post_form(&format!("/p/{id}/like"), &[]).await.status, 303);
    }
    let fourth = app.post_form(&format!("/p/{}/like", ids[3]), &[]).await;
    assert_too_many(&fourth, "likes");
    for id in &ids[..2] {
        let flagged = app.post_form(&format!("/p/{id}/flag"), &[("reason", "spam"), ("details", "")]).await;
        assert_eq!(flagged.status, 303);
    }
    let third = app.post_form(&format!("/p/{}/flag", ids[2]), &[("reason", "spam"), ("details", "")]).await;
    assert_too_many(&third, "flags");
}

#[actix_web::test]
async fn github_sign_in_starts_are_limited_per_address() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some((app, _github)) = crate::helpers::spawn_app_with_github_and(backend, small_limits).await else {
            continue;
        };
        for _ in 0..2 {
            assert_eq!(app.another_browser().post_form("/auth/github", &[]).await.status, 303);
        }
        let third = app.another_browser().post_form("/auth/github", &[]).await;
        assert_too_many(&third, "the 3rd GitHub sign-in start from one address");
    }
}

async fn a_new_members_first_post_waits_for_review(app: TestApp) {
    let moderator = app.another_browser();
    moderator.register("keeper").await;
    app.set_role("keeper", "moderator");
    let newbie = app.another_browser();
    newbie.register("newbie").await;
    let topic = newbie.create_topic("My first topic", "Hello, I am new here").await;
    let reader = app.another_browser();
    assert_eq!(reader.get(&topic).await.status, 404, "held: not there for others");
    assert!(!reader.get("/c/1/general").await.body.contains("My first topic"), "nor listed");
    let own = newbie.get(&topic).await;
    assert!(own.body.contains("Hello, I am new here") && own.body.contains("Waiting for a moderator"));
    let queue = moderator.get("/admin/review").await;
    assert!(queue.body.contains("Hello, I am new here"));
    let post_id: i64 = {
        let mut conn = app.db.get().unwrap();
        posts::table.select(posts::id).filter(posts::held.eq(true)).first(&mut *conn).unwrap()
    };
    assert_eq!(newbie.post_form(&format!("/admin/review/{post_id}/approve"), &[]).await.status, 403);
    assert_eq!(moderator.post_form(&format!("/admin/review/{post_id}/approve"), &[]).await.status, 303);
    assert!(reader.get(&topic).await.body.contains("Hello, I am new here"));
    assert!(reader.get("/c/1/general").await.body.contains("My first topic"));
    // Once one post is through, the next is not held.
    let second = newbie.create_topic("Second topic", "Now trusted").await;
    assert!(reader.get(&second).await.body.contains("Now trusted"));
    // A spammer's first post is deleted from the queue instead.
    let spammer = app.another_browser();
    spammer.register("spammer").await;
    let spam = spammer.create_topic("Cheap pills", "Buy now").await;
    let spam_id: i64 = {
        let mut conn = app.db.get().unwrap();
        posts::table.select(posts::id).filter(posts::held.eq(true)).first(&mut *conn).unwrap()
    };
    assert_eq!(moderator.post_form(&format!("/admin/review/{spam_id}/delete"), &[]).await.status, 303);
    assert_eq!(reader.get(&spam).await.status, 404);
    // A held topic is not there for others by any road.
    let spam_topic: i64 = spam.split('/').nth(2).unwrap().parse().unwrap();
    assert_eq!(reader.get(&format!("/t/{spam_topic}")).await.status, 404);
    assert_eq!(reader.get(&format!("{spam}/1")).await.status, 404);
    reader.register("reader").await;
    assert_eq!(reader.get(&format!("/t/{spam_topic}/reply")).await.status, 404);
    assert_eq!(reader.post_form(&format!("/t/{spam_topic}/reply"), &[("body", "hi")]).await.status, 404);
    // Its first post deleted, the spammer is still new: the next post waits too.
    let again = spammer.create_topic("Cheap pills again", "Buy now").await;
    assert_eq!(reader.get(&again).await.status, 404);
    let pending: i64 = {
        let mut conn = app.db.get().unwrap();
        posts::table.filter(posts::held.eq(true)).count().get_result(&mut *conn).unwrap()
    };
    assert_eq!(pending, 1, "the second spam waits in the queue");
    let mut conn = app.db.get().unwrap();
    let actions: Vec<String> =
        audit_log::table.order(audit_log::id).select(audit_log::action).load(&mut *conn).unwrap();
    assert!(actions.contains(&"approve held post".to_string()) && actions.contains(&"delete held post".to_string()));
}

async fn staff_delete_every_post_of_a_spam_account(app: TestApp) {
    let moderator = app.another_browser();
    moderator.register("cleaner").await;
    app.set_role("cleaner", "moderator");
    let spammer = app.another_browser();
    spammer.register("spambot").await;
    let topic = spammer.create_topic("Spam one", "spam").await;
    let topic_id: i64 = topic.split('/').nth(2).unwrap().parse().unwrap();
    spammer.post_form(&format!("/t/{topic_id}/reply"), &[("body", "more spam")]).await;
    let bystander = app.another_browser();
    bystander.register("bystander").await;
    bystander.post_form(&format!("/t/{topic_id}/reply"), &[("body", "this is spam")]).await;
    let spammer_id = app.user_id("spambot").unwrap();
    let no_reason = moderator.post_form(&format!("/admin/members/{spammer_id}/delete-posts"), &[("reason", " ")]).await;
    assert_eq!(no_reason.status, 400);
    let done = moderator.post_form(&format!("/admin/members/{spammer_id}/delete-posts"), &[("reason", "spam")]).await;
    assert_eq!(done.status, 303);
    let page = app.another_browser().get(&topic).await;
    assert!(!page.body.contains("more spam"));
    assert!(page.body.contains("this is spam"), "other members' posts stay");
    let mut conn = app.db.get().unwrap();
    let (deleted, note): (i64, String) = (
        posts::table
            .filter(posts::user_id.eq(spammer_id))
            .filter(posts::deleted_at.is_not_null())
            .count()
            .get_result(&mut *conn)
            .unwrap(),
        audit_log::table
            .filter(audit_log::action.eq("delete all posts"))
            .select(audit_log::reason)
            .first(&mut *conn)
            .unwrap(),
    );
    assert_eq!((deleted, note.as_str()), (2, "spam (2 posts)"));
    // Not on staff.
    let admin_id = {
        app.another_browser().register("chief").await;
        app.set_role("chief", "admin")
    };
    let refused = moderator.post_form(&format!("/admin/members/{admin_id}/delete-posts"), &[("reason", "x")]).await;
    assert_eq!(refused.status, 409);
}

/// Each save that turns something off writes the deletion ledger and its copy beside the
/// backups: toggling it a thousand times is refused after the default 30 in 10 minutes.
async fn mail_choices_and_profile_visibility_are_limited(app: TestApp) {
    app.register("toggler").await;
    for i in 0..30 {
        let chosen = if i % 2 == 0 { vec![("reply", "each")] } else { vec![] };
        app.choose_mail(&chosen).await;
    }
    let full = [
        ("watch_own", "yes"),
        ("reply", "each"),
        ("topic", "off"),
        ("mention", "off"),
        ("quote", "off"),
        ("like", "off"),
        ("moderation", "each"),
    ];
    let refused = app.post_form("/account/notifications", &full).await;
    assert_too_many(&refused, "the 31st save of the choices");
    let hidden = app.post_form("/account/profile/visibility", &[]).await;
    assert_too_many(&hidden, "the visibility toggle shares the limit");
    // What was saved last stands; the ledger holds one entry per change that turned mail off.
    let id = app.user_id("toggler").unwrap();
    let entries: i64 = {
        use agora::db::schema::deletion_ledger;
        deletion_ledger::table
            .filter(deletion_ledger::user_id.eq(id))
            .count()
            .get_result(&mut *app.db.get().unwrap())
            .unwrap()
    };
    assert_eq!(entries, 15);
}
