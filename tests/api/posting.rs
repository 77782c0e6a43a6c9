//! Writing: topics, replies, edits, likes; P5 (what is gathered) and P6 (post IPs).

use agora::db::schema::{categories, likes, post_edits, posts, topics};
use diesel::prelude::*;

use crate::helpers::{spawn_app_with, topic_id, Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    member_creates_a_topic_with_rendered_markdown,
    p6_replies_and_edits_record_the_ip_they_came_from,
    members_like_others_posts_once_and_can_undo_it,
    members_edit_only_their_own_posts,
);

async fn member_creates_a_topic_with_rendered_markdown(app: TestApp) {
    app.register("grace").await;
    let form = app.get("/c/1/new").await;
    assert_eq!(form.status, 200);

    let path = app
        .create_topic(
            "Markdown works",
            "**bold** and [a link](https://example.org)\n\n```\nlet x = 1;\n```\n\n<script>alert('x')</script>",
        )
        .await;
    let page = app.get(&path).await;
    assert!(page.body.contains("<strong>bold</strong>"));
    assert!(page.body.contains(r#"<a href="https://example.org" rel="nofollow ugc noopener">a link</a>"#));
    assert!(page.body.contains("<pre tabindex=\"0\"><code>let x = 1;"), "a code block a keyboard can scroll");
    assert!(!page.body.contains("<script>alert"));

    // Rendered once and stored: the page serves the stored HTML.
    let mut conn = app.db.get().unwrap();
    let (markdown, html): (String, String) =
        posts::table.select((posts::body_markdown, posts::body_html)).first(&mut *conn).unwrap();
    assert!(markdown.contains("**bold**"));
    assert!(html.contains("<strong>bold</strong>") && !html.contains("<script"));
    let (topic_count, post_count): (i64, i64) =
        categories::table.find(1).select((categories::topic_count, categories::post_count)).first(&mut *conn).unwrap();
    assert_eq!((topic_count, post_count), (1, 1));
    assert_eq!(app.get("/").await.texts(".categories .meta"), vec!["1 topics · 1 posts"]);
}

async fn p6_replies_and_edits_record_the_ip_they_came_from(app: TestApp) {
    app.register("heidi").await;
    let path = app.create_topic("Where from?", "first").await;
    let id = topic_id(&path);
    // Without trusted proxies, a forged X-Forwarded-For is ignored.
    let token = app.csrf_token().await;
    let reply = app
        .post_raw(
            &format!("/t/{id}/reply"),
            &[("csrf_token", &token), ("body", "second")],
            &[("X-Forwarded-For", "203.0.113.66")],
        )
        .await;
    assert_eq!(reply.status, 303);

    let mut conn = app.db.get().unwrap();
    let ips: Vec<String> = posts::table.select(posts::posted_from_ip).order(posts::id).load(&mut *conn).unwrap();
    assert_eq!(ips, vec!["127.0.0.1", "127.0.0.1"]);

    let post_id: i64 = posts::table.select(posts::id).order(posts::id).first(&mut *conn).unwrap();
    let edited = app.post_form(&format!("/p/{post_id}/edit"), &[("body", "first, corrected")]).await;
    assert_eq!(edited.status, 303);
    let page = app.get(&path).await;
    assert!(page.body.contains("first, corrected"));
    assert_eq!(page.texts(".post .edited"), vec!["edited"]);
    let edits: Vec<(String, String)> =
        post_edits::table.select((post_edits::previous_markdown, post_edits::edited_from_ip)).load(&mut *conn).unwrap();
    assert_eq!(edits, vec![("first".to_string(), "127.0.0.1".to_string())]);
    // Members never see IP addresses (the forum's own address, in its links, is not one).
    assert!(!page.body.replace(&app.address, "").contains("127.0.0.1"));
}

#[actix_web::test]
async fn p6_behind_a_trusted_proxy_the_forwarded_client_ip_is_recorded() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = spawn_app_with(backend, crate::helpers::trust_local_proxy).await else {
            continue;
        };
        app.register("ivan").await;
        let path = app.create_topic("Proxied", "first").await;
        let token = app.csrf_token().await;
        let reply = app
            .post_raw(
                &format!("/t/{}/reply", topic_id(&path)),
                &[("csrf_token", &token), ("body", "via proxy")],
                &[("X-Forwarded-For", "198.51.100.23, 127.0.0.1")],
            )
            .await;
        assert_eq!(reply.status, 303);
        let mut conn = app.db.get().unwrap();
        let ip: String =
            posts::table.filter(posts::post_number.eq(2)).select(posts::posted_from_ip).first(&mut *conn).unwrap();
        assert_eq!(ip, "198.51.100.23", "{backend:?}");
    }
}

async fn members_like_others_posts_once_and_can_undo_it(app: TestApp) {
    let author = app.another_browser();
    author.register("judy").await;
    let path = author.create_topic("Like me", "please").await;
    app.register("ken").await;
    let mut conn = app.db.get().unwrap();
    let post_id: i64 = posts::table.select(posts::id).first(&mut *conn).unwrap();

    assert_eq!(app.post_form(&format!("/p/{post_id}/like"), &[]).await.status, 303);
    assert_eq!(app.post_form(&format!("/p/{post_id}/like"), &[]).await.status, 303);
    let page = app.get(&path).await;
    assert_eq!(page.texts(".post .likes"), vec!["1 like"]);
    assert!(page.texts(".post-actions button").contains(&"Unlike".to_string()));
    let rows: i64 = likes::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(rows, 1, "one like per member per post");

    // The author cannot like their own post.
    let own = author.post_form(&format!("/p/{post_id}/like"), &[]).await;
    assert_eq!(own.status, 400);

    assert_eq!(app.post_form(&format!("/p/{post_id}/unlike"), &[]).await.status, 303);
    assert_eq!(app.get(&path).await.texts(".post .likes"), vec!["0 likes"]);
    let (count, rows): (i64, i64) = (
        posts::table.find(post_id).select(posts::like_count).first(&mut *conn).unwrap(),
        likes::table.count().get_result(&mut *conn).unwrap(),
    );
    assert_eq!((count, rows), (0, 0));
}

async fn members_edit_only_their_own_posts(app: TestApp) {
    let author = app.another_browser();
    author.register("leo").await;
    let path = author.create_topic("Mine", "original").await;
    app.register("mallory").await;
    let mut conn = app.db.get().unwrap();
    let post_id: i64 = posts::table.select(posts::id).first(&mut *conn).unwrap();

    assert_eq!(app.get(&format!("/p/{post_id}/edit")).await.status, 403);
    let attempt = app.post_form(&format!("/p/{post_id}/edit"), &[("body", "defaced")]).await;
    assert_eq!(attempt.status, 403);
    assert!(app.get(&path).await.body.contains("original"));
    let edits: i64 = post_edits::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(edits, 0);
    let title: String = topics::table.select(topics::title).first(&mut *conn).unwrap();
    assert_eq!(title, "Mine");
}

on_both_backends!(preview_renders_the_post_without_posting_it);

async fn preview_renders_the_post_without_posting_it(app: TestApp) {
    use agora::db::schema::{notifications, posts};
    use diesel::prelude::*;
    app.register("alice").await;
    let bob = app.another_browser();
    bob.register("bob").await;
    let count = |table: &str| -> i64 {
        let mut conn = app.db.get().unwrap();
        match table {
            "posts" => posts::table.count().get_result(&mut *conn).unwrap(),
            _ => notifications::table.count().get_result(&mut *conn).unwrap(),
        }
    };
    // A new topic: the rendered post above the form, the title and text kept, nothing stored.
    let body = "Hello **world**, @bob.\n\n- [ ] one";
    let page = app.post_form("/c/1/new", &[("title", "Preview me"), ("body", body), ("preview", "yes")]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.texts(".preview .post-body strong"), vec!["world"]);
    assert_eq!(page.texts(".preview a.mention"), vec!["@bob"], "mentions resolve as they will");
    assert_eq!(page.field("title").as_deref(), Some("Preview me"));
    assert_eq!(page.texts("textarea#body"), vec![body.split_whitespace().collect::<Vec<_>>().join(" ")]);
    assert_eq!((count("posts"), count("notifications")), (0, 0), "previewing posts nothing, tells nobody");
    let boxes = page.html();
    let open_box = scraper::Selector::parse(".preview li input[type=checkbox][disabled]:not([checked])").unwrap();
    assert_eq!(boxes.select(&open_box).count(), 1, "a task keeps its (open) state");

    // A reply and an edit preview the same way; bad input is the usual form error.
    let tasks = app.create_topic("Tasks", "- [x] shipped :tada:\n- [ ] documented").await;
    let stored_page = app.get(&tasks).await;
    assert!(stored_page.body.contains("shipped 🎉"), "shortcodes become emoji when the post is saved");
    let stored = stored_page.html();
    let done = scraper::Selector::parse(".post-body li input[type=checkbox][checked][disabled]").unwrap();
    assert_eq!(stored.select(&done).count(), 1, "a done task keeps its tick on the page");
    let topic = app.create_topic("Real", "Real post.").await;
    let id: i64 = topic.split('/').nth(2).unwrap().parse().unwrap();
    let reply = app.post_form(&format!("/t/{id}/reply"), &[("body", "_soon_"), ("preview", "yes")]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.texts(".preview .post-body em"), vec!["soon"]);
    let empty = app.post_form(&format!("/t/{id}/reply"), &[("body", "  "), ("preview", "yes")]).await;
    assert_eq!(empty.status, 422);
    assert!(empty.html().select(&scraper::Selector::parse(".preview").unwrap()).next().is_none());
    let post_id: i64 = {
        let mut conn = app.db.get().unwrap();
        posts::table.filter(posts::body_markdown.eq("Real post.")).select(posts::id).first(&mut *conn).unwrap()
    };
    let edit = app.post_form(&format!("/p/{post_id}/edit"), &[("body", "Changed `code`"), ("preview", "yes")]).await;
    assert_eq!(edit.status, 200);
    assert_eq!(edit.texts(".preview .post-body code"), vec!["code"]);
    let mut conn = app.db.get().unwrap();
    let stored: String = posts::table.find(post_id).select(posts::body_markdown).first(&mut *conn).unwrap();
    assert_eq!(stored, "Real post.", "an edit's preview changes nothing");
    assert_eq!(count("posts"), 2);
}

#[actix_web::test]
async fn previews_over_the_limit_get_a_429_page_with_the_text_kept() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = crate::helpers::spawn_app_with(backend, |config| {
            config.rate_limits = agora::web::rate_limit::RateLimits::parse("preview_per_member=2/60").unwrap();
        })
        .await
        else {
            continue;
        };
        app.register("eager").await;
        for _ in 0..2 {
            let page =
                app.post_form("/c/1/new", &[("title", "Draft title"), ("body", "Draft"), ("preview", "yes")]).await;
            assert_eq!(page.status, 200, "{backend:?}");
        }
        let refused =
            app.post_form("/c/1/new", &[("title", "Kept title"), ("body", "Kept draft"), ("preview", "yes")]).await;
        assert_eq!(refused.status, 429, "{backend:?}");
        assert_eq!(refused.field("title").as_deref(), Some("Kept title"), "{backend:?}");
        assert!(refused.body.contains("Kept draft"));
    }
}
