//! #15: what makes reading and writing feel finished: relative times, error pages inside
//! the site's layout, what search engines read, and categories where only staff start topics.

use agora::db::schema::{categories, posts, topics};
use diesel::prelude::*;

use crate::helpers::{topic_id, TestApp};
use crate::on_both_backends;

on_both_backends!(
    times_read_relative_with_the_exact_utc_time_beside_them,
    error_pages_keep_the_header_of_whoever_is_signed_in,
    pages_have_a_canonical_address_and_a_description,
    robots_and_sitemaps_list_public_topics_only,
    only_staff_start_topics_in_a_staff_only_category_and_members_reply,
    a_long_topic_has_first_previous_next_and_last_above_and_below_its_posts,
    a_category_pages_newer_and_older_with_its_page_number,
    topic_lists_mark_pinned_and_locked_topics_and_name_the_last_poster,
);

async fn times_read_relative_with_the_exact_utc_time_beside_them(app: TestApp) {
    app.register("clock").await;
    let topic = app.create_topic("What time is it", "Now").await;
    let id: i64 = topic.split('/').nth(2).unwrap().parse().unwrap();
    assert_eq!(app.post_form(&format!("/t/{id}/reply"), &[("body", "Later")]).await.status, 303);
    // The first post was written three hours ago, as far as the page can tell.
    let three_hours_ago = agora::db::now() - 3 * 3600 - 30;
    let mut conn = app.db.get().unwrap();
    diesel::update(posts::table.filter(posts::topic_id.eq(id)).filter(posts::post_number.eq(1)))
        .set(posts::created_at.eq(three_hours_ago))
        .execute(&mut conn)
        .unwrap();
    let page = app.get(&topic).await;
    assert_eq!(page.texts(".post time"), vec!["3 hours ago", "just now"]);
    let html = page.html();
    let first = html.select(&scraper::Selector::parse(".post time").unwrap()).next().unwrap();
    let exact = time::OffsetDateTime::from_unix_timestamp(three_hours_ago).unwrap();
    assert_eq!(
        first.value().attr("datetime"),
        Some(exact.format(&time::format_description::well_known::Rfc3339).unwrap().as_str())
    );
    let title = first.value().attr("title").unwrap();
    assert!(title.ends_with(" UTC") && title.starts_with(&exact.year().to_string()), "{title}");
}

async fn error_pages_keep_the_header_of_whoever_is_signed_in(app: TestApp) {
    let visitor = app.get("/t/999999/nothing-here").await;
    assert_eq!(visitor.status, 404);
    assert_eq!(visitor.texts("h1"), vec!["Page not found"]);
    assert_eq!(visitor.texts(".site-header nav a"), vec!["Sign in", "Register"]);
    assert!(visitor.body.contains("Back to the forum"));

    app.register("wanderer").await;
    let member = app.get("/no/such/page").await;
    assert_eq!(member.status, 404);
    assert!(member.texts(".signed-in-as").concat().contains("wanderer"), "the header says who is signed in");
    assert!(member.texts(".site-header nav a").contains(&"Your account".to_string()));
    let forbidden = app.get("/admin").await;
    assert_eq!(forbidden.status, 403);
    assert!(forbidden.texts(".signed-in-as").concat().contains("wanderer"));
    assert_eq!(forbidden.texts("h1"), vec!["Not allowed"]);
}

async fn pages_have_a_canonical_address_and_a_description(app: TestApp) {
    app.register("writer").await;
    let topic = app.create_topic("Canonical addresses", "Text").await;
    let link = |page: &crate::helpers::Page, selector: &str, attr: &str| {
        let html = page.html();
        let found = html
            .select(&scraper::Selector::parse(selector).unwrap())
            .next()
            .map(|e| e.value().attr(attr).unwrap().to_string());
        found
    };
    let page = app.get(&format!("{topic}?utm_source=mail")).await;
    assert_eq!(link(&page, "link[rel=canonical]", "href"), Some(app.url(&topic)));
    assert_eq!(
        link(&page, "meta[name=description]", "content").as_deref(),
        Some("Canonical addresses: a conversation in General, 1 post.")
    );
    let login = app.another_browser().get("/login?next=/somewhere").await;
    assert_eq!(link(&login, "link[rel=canonical]", "href"), Some(app.url("/login")));
    let category = app.get("/c/1/general").await;
    assert!(link(&category, "meta[name=description]", "content").unwrap().starts_with("General: "));
}

async fn robots_and_sitemaps_list_public_topics_only(app: TestApp) {
    let robots = app.get("/robots.txt").await;
    assert_eq!(robots.status, 200);
    assert!(robots.body.contains("Disallow: /admin") && robots.body.contains("Disallow: /account"));
    assert!(robots.body.contains(&format!("Sitemap: {}", app.url("/sitemap.xml"))));

    app.register("mapper").await;
    let public = app.create_topic("On the map", "Visible").await;
    let held = app.create_topic("Waiting for review", "Held").await;
    let held_id: i64 = held.split('/').nth(2).unwrap().parse().unwrap();
    let mut conn = app.db.get().unwrap();
    diesel::update(agora::db::schema::topics::table.find(held_id))
        .set(agora::db::schema::topics::held.eq(true))
        .execute(&mut conn)
        .unwrap();

    let index = app.get("/sitemap.xml").await;
    assert_eq!(index.status, 200);
    assert_eq!(index.header("content-type").as_deref(), Some("application/xml; charset=utf-8"));
    assert!(index.body.contains(&format!("<loc>{}</loc>", app.url("/sitemap/categories.xml"))));
    assert!(index.body.contains(&format!("<loc>{}</loc>", app.url("/sitemap/topics-0.xml"))));
    let topics = app.get("/sitemap/topics-0.xml").await;
    assert!(topics.body.contains(&format!("<loc>{}</loc>", app.url(&public))));
    assert!(!topics.body.contains("waiting-for-review"), "a held topic is not public");
    assert!(topics.body.contains("<lastmod>"));
    let categories = app.get("/sitemap/categories.xml").await;
    assert!(categories.body.contains(&format!("<loc>{}</loc>", app.url("/c/1/general"))));
    assert_eq!(app.get("/sitemap/topics-x.xml").await.status, 404);
}

async fn only_staff_start_topics_in_a_staff_only_category_and_members_reply(app: TestApp) {
    let admin = app.another_browser();
    admin.register("boss").await;
    app.set_role("boss", "admin");
    let saved = admin
        .post_form(
            "/admin/categories/1",
            &[("name", "General"), ("description", "News"), ("position", "0"), ("staff_only_topics", "on")],
        )
        .await;
    assert_eq!(saved.status, 303);
    let mut conn = app.db.get().unwrap();
    let stored: bool = categories::table.find(1).select(categories::staff_only_topics).first(&mut conn).unwrap();
    assert!(stored);
    let topic = admin.create_topic("Announcing", "News").await;
    let id: i64 = topic.split('/').nth(2).unwrap().parse().unwrap();

    app.register("reader").await;
    let list = app.get("/c/1/general").await;
    assert!(list.texts(".category-actions a.button").is_empty(), "no New topic button for members");
    assert!(list.body.contains("Only moderators start topics here"));
    let form = app.get("/c/1/new").await;
    assert_eq!(form.status, 403);
    assert!(form.body.contains("moderators start topics in General. You can reply"), "{}", form.body);
    let sent = app.post_form("/c/1/new", &[("title", "Sneaking in"), ("body", "Hello")]).await;
    assert_eq!(sent.status, 403);
    let count: i64 = agora::db::schema::topics::table.count().get_result(&mut conn).unwrap();
    assert_eq!(count, 1, "nothing was stored");
    assert_eq!(app.post_form(&format!("/t/{id}/reply"), &[("body", "Thanks for the news")]).await.status, 303);

    let unset = admin
        .post_form("/admin/categories/1", &[("name", "General"), ("description", "News"), ("position", "0")])
        .await;
    assert_eq!(unset.status, 303);
    assert_eq!(app.get("/c/1/new").await.status, 200);
}

async fn a_long_topic_has_first_previous_next_and_last_above_and_below_its_posts(app: TestApp) {
    app.register("talker").await;
    let topic = app.create_topic("Three pages", "Post number 1").await;
    let id: i64 = topic.split('/').nth(2).unwrap().parse().unwrap();
    for n in 2..=41 {
        assert_eq!(
            app.post_form(&format!("/t/{id}/reply"), &[("body", &format!("Post number {n}"))]).await.status,
            303
        );
    }
    let page = app.get(&format!("{topic}?page=2")).await;
    assert_eq!(page.texts("nav.pagination .page-of"), vec!["Page 2 of 3", "Page 2 of 3"], "above and below");
    let html = page.html();
    let links = |label: &str| -> Vec<(String, String)> {
        let selector = scraper::Selector::parse(&format!("nav[aria-label='{label}'] a")).unwrap();
        html.select(&selector)
            .map(|a| (a.text().collect::<String>(), a.value().attr("href").unwrap().to_string()))
            .collect()
    };
    let expected: Vec<(String, String)> = [
        ("First", topic.clone()),
        ("Previous", topic.clone()),
        ("1", topic.clone()),
        ("3", format!("{topic}?page=3")),
        ("Next", format!("{topic}?page=3")),
        ("Last", format!("{topic}?page=3")),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b))
    .collect();
    assert_eq!(links("Jump to page"), expected);
    assert_eq!(links("Pages"), expected);
    assert_eq!(page.texts("nav.pagination [aria-current=page]"), vec!["2", "2"]);
    let last = app.get(&format!("{topic}?page=3")).await;
    assert!(!last.texts("nav.pagination a").contains(&"Next".to_string()), "no Next on the last page");
}

fn link_to(page: &crate::helpers::Page, text: &str) -> Option<String> {
    let selector = scraper::Selector::parse("nav.pagination a").unwrap();
    page.html()
        .select(&selector)
        .find(|a| a.text().collect::<String>() == text)
        .map(|a| a.value().attr("href").unwrap().to_string())
}

async fn a_category_pages_newer_and_older_with_its_page_number(app: TestApp) {
    app.register("writer").await;
    let mut conn = app.db.get().unwrap();
    for n in 1..=62 {
        let path = app.create_topic(&format!("Topic {n:02}"), "body").await;
        // Topic n was active at second n: the list runs 62, 61, … 1.
        diesel::update(topics::table.find(topic_id(&path)))
            .set(topics::last_post_at.eq(1_000 + n))
            .execute(&mut *conn)
            .unwrap();
    }
    let titles = |page: &crate::helpers::Page| page.texts("table.topics tbody td > a:not(.author):not(.new-posts)");
    let first = app.get("/c/1/general").await;
    assert_eq!(first.texts("nav.pagination .page-of"), vec!["Page 1 of 3"]);
    assert_eq!(link_to(&first, "Newer topics"), None);
    assert_eq!(titles(&first).first().map(String::as_str), Some("Topic 62"));

    let second = app.get(&link_to(&first, "Older topics").expect("older")).await;
    assert_eq!(second.texts("nav.pagination .page-of"), vec!["Page 2 of 3"]);
    assert_eq!(titles(&second).first().map(String::as_str), Some("Topic 32"));
    assert_eq!(link_to(&second, "Newer topics").as_deref(), Some("/c/1/general"), "page 1 is the plain address");

    let third = app.get(&link_to(&second, "Older topics").expect("older")).await;
    assert_eq!(third.texts("nav.pagination .page-of"), vec!["Page 3 of 3"]);
    assert_eq!(titles(&third), vec!["Topic 02", "Topic 01"]);
    assert_eq!(link_to(&third, "Older topics"), None);
    assert_eq!(link_to(&third, "First page").as_deref(), Some("/c/1/general"));

    let back = app.get(&link_to(&third, "Newer topics").expect("newer")).await;
    assert_eq!(back.status, 200);
    assert_eq!(back.texts("nav.pagination .page-of"), vec!["Page 2 of 3"]);
    assert_eq!(titles(&back), titles(&second), "newer from page 3 is page 2 again");
    assert_eq!(app.get("/c/1/general?after=1.1&before=1.1").await.status, 400);
    // A newer page that reaches the top of the list is the first page.
    let top = app.get("/c/1/general?before=1040.40&page=2").await;
    assert_eq!((top.status, top.header("location").as_deref()), (303, Some("/c/1/general")));
}

async fn topic_lists_mark_pinned_and_locked_topics_and_name_the_last_poster(app: TestApp) {
    app.register("starter").await;
    let pinned = app.create_topic("Read this first", "Rules").await;
    let locked = app.create_topic("Old news", "Closed").await;
    let lively = app.create_topic("Lively", "Hello").await;
    let replier = app.another_browser();
    replier.register("replier").await;
    assert_eq!(replier.post_form(&format!("/t/{}/reply", topic_id(&lively)), &[("body", "Hi back")]).await.status, 303);
    let mut conn = app.db.get().unwrap();
    diesel::update(topics::table.find(topic_id(&pinned))).set(topics::pinned.eq(true)).execute(&mut *conn).unwrap();
    diesel::update(topics::table.find(topic_id(&locked))).set(topics::locked.eq(true)).execute(&mut *conn).unwrap();

    for path in ["/c/1/general", "/latest", "/"] {
        let page = app.get(path).await;
        assert_eq!(page.texts(".pinned-marker"), vec!["Pinned"], "{path}");
        assert_eq!(page.texts(".locked-marker"), vec!["Locked"], "{path}");
        let posters = page.texts(".last-poster");
        assert!(posters.contains(&"by replier".to_string()), "{path}: {posters:?}");
        assert_eq!(posters.iter().filter(|p| *p == "by starter").count(), 2, "{path}: {posters:?}");
    }

    // A hidden last post names nobody: its author is not shown as the last poster.
    diesel::update(posts::table.filter(posts::topic_id.eq(topic_id(&lively))).filter(posts::post_number.eq(2)))
        .set(posts::hidden.eq(true))
        .execute(&mut *conn)
        .unwrap();
    let page = app.get("/c/1/general").await;
    assert!(!page.texts(".last-poster").contains(&"by replier".to_string()));
    assert_eq!(page.texts(".last-poster").len(), 2);
    // Shown again, named again (the topic keeps it: a trigger follows the last post).
    diesel::update(posts::table.filter(posts::topic_id.eq(topic_id(&lively))).filter(posts::post_number.eq(2)))
        .set(posts::hidden.eq(false))
        .execute(&mut *conn)
        .unwrap();
    assert!(app.get("/latest").await.texts(".last-poster").contains(&"by replier".to_string()));
    let stored: Option<i64> =
        topics::table.find(topic_id(&lively)).select(topics::last_poster_id).first(&mut *conn).unwrap();
    assert_eq!(stored, app.user_id("replier"));
}
