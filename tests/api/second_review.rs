//! The second security review's findings (issue 28), one test each, on both backends.

use agora::db::schema::{notifications, posts, topics, users};
use diesel::prelude::*;

use crate::helpers::{spawn_app_with, topic_id, Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    render_bomb_a_padded_table_is_refused_in_preview_and_post,
    render_bomb_html_out_of_proportion_is_refused,
    render_bomb_quote_nesting_counts_after_expansion,
    render_bomb_previews_are_for_confirmed_members,
    task_markers_typed_into_a_link_stay_text,
    own_classes_cannot_be_faked_by_raw_html,
    new_member_link_cap_counts_links_as_a_browser_resolves_them,
    mention_spam_by_edit_tells_a_member_once_per_post,
    like_toggling_counts_each_liker_once,
    zero_width_characters_are_refused_in_names,
    canonical_link_keeps_search_words_only_on_search,
    preview_is_refused_in_a_locked_topic,
    banned_moderator_sees_no_staff_buttons,
);

/// The posts stored, as (Markdown, HTML).
fn stored_posts(app: &TestApp) -> Vec<(String, String)> {
    let mut conn = app.db.get().unwrap();
    posts::table.select((posts::body_markdown, posts::body_html)).order(posts::id).load(&mut *conn).unwrap()
}

/// The review's table: 4,000 columns in the header, 7,900 one-cell rows, which
/// Markdown pads to the header's width (262,144 cells from 32,000 characters).
fn padded_table() -> String {
    format!("{}|\n{}|\n{}", "|a".repeat(4000), "|-".repeat(4000), "x\n".repeat(7900)).chars().take(32_000).collect()
}

async fn render_bomb_a_padded_table_is_refused_in_preview_and_post(app: TestApp) {
    app.register("tabby").await;
    let path = app.create_topic("Tables", "A table of 3 cells is fine:\n\n|a|b|c|\n|-|-|-|\n|1|2|3|").await;
    assert_eq!(app.get(&path).await.texts(".post-body td"), vec!["1", "2", "3"]);
    let bomb = padded_table();
    let reply = format!("/t/{}/reply", topic_id(&path));
    for extra in [Some(("preview", "yes")), None] {
        let mut form = vec![("body", bomb.as_str())];
        form.extend(extra);
        let refused = app.post_form(&reply, &form).await;
        assert_eq!(refused.status, 422, "{extra:?}");
        assert!(
            refused.text(".form-errors li").contains("more than 2000 cells"),
            "{}",
            refused.text(".form-errors li")
        );
        assert_eq!(refused.texts("textarea#body").len(), 1, "the form comes back");
        assert!(refused.html().select(&scraper::Selector::parse(".preview").unwrap()).next().is_none());
    }
    assert_eq!(stored_posts(&app).len(), 1, "nothing stored");
}

async fn render_bomb_html_out_of_proportion_is_refused(app: TestApp) {
    app.another_browser().register("abc").await;
    app.register("linky").await;
    // 5,300 empty links: 2 elements for every 6 characters.
    let links = "[](x) ".repeat(5300);
    let refused = app.post_form("/c/1/new", &[("title", "Links"), ("body", &links)]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.text(".form-errors li").contains("pieces of formatting"), "{}", refused.text(".form-errors li"));
    // 6,000 mentions of a member: few elements, but 15 times their length in HTML.
    let mentions = "@abc ".repeat(6000);
    let refused = app.post_form("/c/1/new", &[("title", "Mentions"), ("body", &mentions)]).await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.text(".form-errors li").contains("too large for its length"),
        "{}",
        refused.text(".form-errors li")
    );
    assert_eq!(refused.field("body").map(|b| b.trim_end().to_string()), Some(mentions.trim_end().to_string()));
    // An ordinary long post is not refused, and what is stored keeps within the budget.
    let long = "A sentence with **bold**, _emphasis_ and `code`.\n\n".repeat(600);
    let path = app.create_topic("Long", &long).await;
    assert_eq!(app.get(&path).await.status, 200);
    let stored = stored_posts(&app);
    assert_eq!(stored.len(), 1);
    for (markdown, html) in stored {
        assert!(html.len() <= agora::text::markdown::html_budget(markdown.len()), "{} > budget", html.len());
    }
}

async fn render_bomb_quote_nesting_counts_after_expansion(app: TestApp) {
    app.register("quoter").await;
    let refused = app.post_form("/c/1/new", &[("title", "Quotes"), ("body", &"[quote=\"\"]\n".repeat(2900))]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.text(".form-errors li").contains("levels deep"), "{}", refused.text(".form-errors li"));
    // Eleven nested quotes around a paragraph are 23 levels of HTML; twelve are 25.
    let nested = |n: usize| format!("{}deep{}", "[quote=\"\"]\n".repeat(n), "\n[/quote]".repeat(n));
    let path = app.create_topic("Deep", &nested(11)).await;
    assert_eq!(app.get(&path).await.texts(".post-body aside.quote").len(), 11);
    let twelve = app.post_form("/c/1/new", &[("title", "Deeper"), ("body", &nested(12))]).await;
    assert_eq!(twelve.status, 422);
    // A list inside quotes counts with them.
    let list_in_quotes = format!("{}{}x", "[quote=\"\"]\n".repeat(10), "- ".repeat(5));
    assert_eq!(app.post_form("/c/1/new", &[("title", "Listed"), ("body", &list_in_quotes)]).await.status, 422);
    assert_eq!(stored_posts(&app).len(), 1);
}

async fn render_bomb_previews_are_for_confirmed_members(app: TestApp) {
    app.register_unconfirmed("fresh").await;
    let preview = app.post_form("/c/1/new", &[("title", "Look"), ("body", "**hi**"), ("preview", "yes")]).await;
    assert_eq!(preview.status, 403);
    assert!(preview.text(".form-errors li").contains("Confirm your e-mail address"), "{}", preview.body);
    assert!(preview.html().select(&scraper::Selector::parse(".preview").unwrap()).next().is_none());
    assert_eq!(preview.field("title").as_deref(), Some("Look"), "the input is kept");
}

async fn task_markers_typed_into_a_link_stay_text(app: TestApp) {
    app.register("marker").await;
    let body = "<a href=\"https://x.test/\u{E000}\">there</a> and \u{E001} typed\n\n- [x] done";
    let path = app.create_topic("Markers", body).await;
    let page = app.get(&path).await;
    let html = page.html();
    let link = scraper::Selector::parse(".post-body a[href^='https://x.test/']").unwrap();
    let link = html.select(&link).next().expect("the link stays a link");
    assert_eq!(link.value().attr("rel"), Some("nofollow ugc noopener"), "and keeps its rel");
    assert!(!link.value().attr("href").unwrap().contains("input"));
    let boxes = scraper::Selector::parse(".post-body input").unwrap();
    assert_eq!(html.select(&boxes).count(), 1, "only the task's box: {}", stored_posts(&app)[0].1);
    let done =
        scraper::Selector::parse(".post-body li input[type=checkbox][checked][disabled][aria-label=done]").unwrap();
    assert_eq!(html.select(&done).count(), 1);
}

async fn own_classes_cannot_be_faked_by_raw_html(app: TestApp) {
    app.register("faker").await;
    let author = app.another_browser();
    author.register("alice").await;
    let quoted = author.create_topic("Real", "Something alice wrote.").await;
    let id = topic_id(&quoted);
    let body = format!(
        "<aside class=\"quote\"><p class=\"quote-by\">alice wrote:</p><blockquote>I am a fake</blockquote></aside>\n\n\
         <a class=\"mention\" href=\"/u/alice\">the real alice</a> <span class=\"hl-comment\">x</span>\n\n\
         [quote=\"alice, post:1, topic:{id}\"]\nSomething alice wrote.\n[/quote]\n\nHi @alice"
    );
    let path = app.create_topic("Fakes", &body).await;
    let page = app.get(&path).await;
    assert_eq!(page.texts(".post-body aside.quote .quote-by"), vec!["alice wrote:"], "only the real quote");
    assert_eq!(page.texts(".post-body a.mention"), vec!["@alice"], "only the real mention");
    let html = &stored_posts(&app)[1].1;
    assert_eq!(html.matches("class=").count(), 3, "{html}");
}

/// Behind a proxy that adds a line of its own (HAProxy's `option forwardfor`), the
/// client's own line is not believed: every line is one list, walked from the right.
#[actix_web::test]
async fn client_ip_every_forwarded_line_counts_and_ipv4_mapped_is_ipv4() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = spawn_app_with(backend, crate::helpers::trust_local_proxy).await else {
            continue;
        };
        app.register("proxied").await;
        let path = app.create_topic("Proxied", "first").await;
        let reply = format!("/t/{}/reply", topic_id(&path));
        for (i, lines) in [vec!["8.8.8.8", "198.51.100.23"], vec!["127.0.0.1, 8.8.4.4", "::ffff:198.51.100.24"]]
            .into_iter()
            .enumerate()
        {
            let token = app.csrf_token().await;
            let headers: Vec<(&str, &str)> = lines.iter().map(|line| ("X-Forwarded-For", *line)).collect();
            let body = format!("reply {i}");
            let sent = app.post_raw(&reply, &[("csrf_token", &token), ("body", &body)], &headers).await;
            assert_eq!(sent.status, 303, "{}", sent.body);
        }
        let mut conn = app.db.get().unwrap();
        let ips: Vec<String> = posts::table
            .filter(posts::post_number.gt(1))
            .select(posts::posted_from_ip)
            .order(posts::id)
            .load(&mut *conn)
            .unwrap();
        assert_eq!(ips, vec!["198.51.100.23", "198.51.100.24"], "{backend:?}");
    }
}

async fn new_member_link_cap_counts_links_as_a_browser_resolves_them(app: TestApp) {
    app.register("newbie").await;
    // Twelve links that look local but that a browser takes to spam.test.
    let body = "<a href=\"/\\spam.test\">a</a> <a href=\"/\t/spam.test\">b</a> ".repeat(6);
    let refused = app.post_form("/c/1/new", &[("title", "Local?"), ("body", &body)]).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.text(".form-errors li").contains("this one has 12"), "{}", refused.text(".form-errors li"));
    // Links to places in the forum are not limited.
    let local = "[one](/t/1/x) [two](/c/1) [three](/latest) <a href=\"/u/someone\">four</a>";
    app.create_topic("Local", local).await;
    assert_eq!(stored_posts(&app).len(), 1);
}

async fn mention_spam_by_edit_tells_a_member_once_per_post(app: TestApp) {
    let target = app.another_browser();
    target.register("target").await;
    target.choose_mail(&[("mention", "each")]).await;
    app.register("spammer").await;
    let path = app.create_topic("Hello", "Hello @target").await;
    let post_id: i64 = {
        let mut conn = app.db.get().unwrap();
        posts::table.filter(posts::topic_id.eq(topic_id(&path))).select(posts::id).first(&mut *conn).unwrap()
    };
    for round in 0..4 {
        let without = app.post_form(&format!("/p/{post_id}/edit"), &[("body", &format!("Hello {round}"))]).await;
        assert_eq!(without.status, 303);
        let with = app.post_form(&format!("/p/{post_id}/edit"), &[("body", &format!("Hello @target {round}"))]).await;
        assert_eq!(with.status, 303);
    }
    let target_id = app.user_id("target").unwrap();
    let mut conn = app.db.get().unwrap();
    let told: i64 = notifications::table
        .filter(notifications::user_id.eq(target_id))
        .filter(notifications::post_id.eq(post_id))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(told, 1, "one notification for one post");
    app.deliver_mail().await;
    assert_eq!(app.mails_to("target@example.org").iter().filter(|m| m.subject.contains("mentioned")).count(), 1);
}

async fn like_toggling_counts_each_liker_once(app: TestApp) {
    app.register("liked").await;
    let path = app.create_topic("Like me", "please").await;
    let post_id: i64 = {
        let mut conn = app.db.get().unwrap();
        posts::table.filter(posts::topic_id.eq(topic_id(&path))).select(posts::id).first(&mut *conn).unwrap()
    };
    let (a, b) = (app.another_browser(), app.another_browser());
    a.register("likera").await;
    b.register("likerb").await;
    for _ in 0..5 {
        for liker in [&a, &b] {
            assert_eq!(liker.post_form(&format!("/p/{post_id}/like"), &[]).await.status, 303);
            assert_eq!(liker.post_form(&format!("/p/{post_id}/unlike"), &[]).await.status, 303);
        }
    }
    assert_eq!(a.post_form(&format!("/p/{post_id}/like"), &[]).await.status, 303);
    assert_eq!(b.post_form(&format!("/p/{post_id}/like"), &[]).await.status, 303);
    let shown = app.get("/notifications").await.text("li.notification");
    assert!(shown.contains("likerb and 1 other liked"), "{shown}");
}

async fn zero_width_characters_are_refused_in_names(app: TestApp) {
    app.register("named").await;
    let form = [("username", "named"), ("first_name", "Ad\u{200B}min"), ("last_name", "Lee")];
    let refused = app.post_form("/account/profile", &form).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("cannot contain invisible characters"));
    let mut conn = app.db.get().unwrap();
    let first: Option<String> =
        users::table.filter(users::username_key.eq("named")).select(users::first_name).first(&mut *conn).unwrap();
    assert_eq!(first, None, "nothing stored");
}

async fn canonical_link_keeps_search_words_only_on_search(app: TestApp) {
    let canonical = |page: &crate::helpers::Page| {
        let html = page.html();
        let link = scraper::Selector::parse("link[rel=canonical]").unwrap();
        html.select(&link).next().and_then(|l| l.value().attr("href")).map(str::to_string)
    };
    let latest = app.get("/latest?q=buy+pills&page=2").await;
    assert_eq!(canonical(&latest), Some(app.url("/latest?page=2")));
    let search = app.get("/search?q=soup").await;
    assert_eq!(canonical(&search), Some(app.url("/search?q=soup")));
}

async fn preview_is_refused_in_a_locked_topic(app: TestApp) {
    let author = app.another_browser();
    author.register("starter").await;
    let path = author.create_topic("Soon locked", "text").await;
    let id = topic_id(&path);
    {
        let mut conn = app.db.get().unwrap();
        diesel::update(topics::table.find(id)).set(topics::locked.eq(true)).execute(&mut *conn).unwrap();
    }
    app.register("late").await;
    let preview = app.post_form(&format!("/t/{id}/reply"), &[("body", "**too late**"), ("preview", "yes")]).await;
    assert_eq!(preview.status, 403, "{}", preview.body);
    assert!(preview.body.contains("locked"));
    assert!(!preview.body.contains("<strong>too late</strong>"));
    assert_eq!(app.get(&format!("/t/{id}/reply")).await.status, 403, "nor is the form offered");
}

async fn banned_moderator_sees_no_staff_buttons(app: TestApp) {
    let author = app.another_browser();
    author.register("poster").await;
    let path = author.create_topic("A topic", "A post").await;
    app.register("exmod").await;
    app.set_role("exmod", "moderator");
    assert!(!app.get(&path).await.texts(".post-actions a[href$='/history']").is_empty(), "a moderator sees them");
    {
        let mut conn = app.db.get().unwrap();
        diesel::update(users::table.filter(users::username_key.eq("exmod")))
            .set(users::banned.eq(true))
            .execute(&mut *conn)
            .unwrap();
    }
    let page = app.get(&path).await;
    assert!(page.texts(".post-actions a[href$='/history']").is_empty(), "banned: no staff buttons");
    assert!(page.html().select(&scraper::Selector::parse("form[action*='/admin/']").unwrap()).next().is_none());
}

/// A member still under review whose first post was approved edits it: it goes back to
/// the queue rather than live.
#[actix_web::test]
async fn held_member_edit_goes_back_to_review() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = spawn_app_with(backend, |config| config.hold_first_posts = 3).await else { continue };
        app.register("probation").await;
        let path = app.create_topic("Innocent", "Nice forum.").await;
        let id = topic_id(&path);
        let (post_id, held): (i64, bool) = {
            let mut conn = app.db.get().unwrap();
            posts::table.filter(posts::topic_id.eq(id)).select((posts::id, posts::held)).first(&mut *conn).unwrap()
        };
        assert!(held);
        let moderator = app.another_browser();
        moderator.register("modder").await;
        moderator.set_role("modder", "moderator");
        let approved = moderator.post_form(&format!("/admin/review/{post_id}/approve"), &[]).await;
        assert_eq!(approved.status, 303, "{}", approved.body);
        assert_eq!(app.another_browser().get(&path).await.status, 200, "approved: public");
        let spam = app.post_form(&format!("/p/{post_id}/edit"), &[("body", "BUY PILLS https://spam.test")]).await;
        assert_eq!(spam.status, 303);
        let mut conn = app.db.get().unwrap();
        let (post_held, topic_held): (bool, bool) = posts::table
            .inner_join(topics::table)
            .filter(posts::id.eq(post_id))
            .select((posts::held, topics::held))
            .first(&mut *conn)
            .unwrap();
        assert_eq!((post_held, topic_held), (true, true), "{backend:?}");
        assert_eq!(app.another_browser().get(&path).await.status, 404, "not public until approved again");
        assert_eq!(moderator.get("/admin/review").await.texts("section.held").len(), 1);
    }
}
