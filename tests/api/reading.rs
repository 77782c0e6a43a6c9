//! P1: anyone may read the forum without an account.

use agora::db::schema::{posts, topics};
use diesel::prelude::*;

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    p1_visitor_reads_categories_topics_and_posts_without_an_account,
    topic_pages_hold_twenty_posts_and_permalinks_find_their_page,
    category_lists_thirty_topics_a_page_by_latest_activity,
);

async fn p1_visitor_reads_categories_topics_and_posts_without_an_account(app: TestApp) {
    let home = app.get("/").await;
    assert_eq!(home.status, 200);
    assert_eq!(home.texts(".category-name"), vec!["General"]);

    let author = app.another_browser();
    author.register("writer").await;
    let topic = author.create_topic("Welcome to Agora", "Hello **everyone**").await;

    let category = app.get("/c/1/general").await;
    assert_eq!(category.status, 200);
    assert_eq!(category.texts("table.topics tbody td a:not(.author)"), vec!["Welcome to Agora"]);
    assert_eq!(category.texts("td .meta a.author"), vec!["writer", "writer"], "author and last poster");

    let page = app.get(&topic).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.texts("h1"), vec!["Welcome to Agora"]);
    assert_eq!(page.texts(".post .author"), vec!["writer"]);
    assert!(page.body.contains("Hello <strong>everyone</strong>"));
    // A reader is invited to sign in rather than shown a reply form.
    assert!(page.field("body").is_none());
    assert!(page.body.contains("to reply"));
}

async fn topic_pages_hold_twenty_posts_and_permalinks_find_their_page(app: TestApp) {
    app.register("talker").await;
    let topic = app.create_topic("A long conversation", "Post number 1").await;
    let id: i64 = topic.split('/').nth(2).unwrap().parse().unwrap();
    for n in 2..=25 {
        let reply = app.post_form(&format!("/t/{id}/reply"), &[("body", &format!("Post number {n}"))]).await;
        assert_eq!(reply.status, 303);
        if n == 25 {
            assert_eq!(reply.location.as_deref(), Some(format!("{topic}?page=2#post-25").as_str()));
        }
    }

    let first = app.get(&topic).await;
    assert_eq!(first.texts(".post").len(), 20);
    assert!(first.body.contains("Post number 20") && !first.body.contains("Post number 21"));
    assert!(first.body.contains(&format!("href=\"{topic}?page=2\"")));

    let second = app.get(&format!("{topic}?page=2")).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.texts(".post").len(), 5);
    assert!(second.body.contains("id=\"post-21\"") && second.body.contains("Post number 25"));

    let permalink = app.get(&format!("{topic}/23")).await;
    assert_eq!(permalink.status, 303);
    assert_eq!(permalink.location.as_deref(), Some(format!("{topic}?page=2#post-23").as_str()));
    let early = app.get(&format!("{topic}/3")).await;
    assert_eq!(early.location.as_deref(), Some(format!("{topic}#post-3").as_str()));

    // A wrong or missing slug leads to the canonical address.
    let moved = app.get(&format!("/t/{id}/old-title")).await;
    assert_eq!(moved.status, 301);
    assert_eq!(moved.location.as_deref(), Some(topic.as_str()));

    let mut conn = app.db.get().unwrap();
    let numbers: Vec<i64> = posts::table
        .filter(posts::topic_id.eq(id))
        .select(posts::post_number)
        .order(posts::post_number)
        .load(&mut *conn)
        .unwrap();
    assert_eq!(numbers, (1..=25).collect::<Vec<i64>>());
}

async fn category_lists_thirty_topics_a_page_by_latest_activity(app: TestApp) {
    app.register("prolific").await;
    let mut paths = Vec::new();
    for n in 1..=32 {
        paths.push(app.create_topic(&format!("Topic {n:02}"), "body").await);
    }
    // Give every topic a distinct activity time: topic n active at second n.
    let mut conn = app.db.get().unwrap();
    for (n, path) in paths.iter().enumerate() {
        let id: i64 = path.split('/').nth(2).unwrap().parse().unwrap();
        diesel::update(topics::table.find(id))
            .set(topics::last_post_at.eq(1_000 + n as i64))
            .execute(&mut *conn)
            .unwrap();
    }
    // A reply to the oldest topic brings it to the top.
    let oldest: i64 = paths[0].split('/').nth(2).unwrap().parse().unwrap();
    assert_eq!(app.post_form(&format!("/t/{oldest}/reply"), &[("body", "bump")]).await.status, 303);

    let first = app.get("/c/1/general").await;
    let titles = first.texts("table.topics tbody td a:not(.author)");
    assert_eq!(titles.len(), 30);
    assert_eq!(titles[0], "Topic 01");
    assert_eq!(titles[1], "Topic 32");
    assert_eq!(titles[29], "Topic 04");
    let next = first.html();
    let link = next
        .select(&scraper::Selector::parse("a[rel=next]").unwrap())
        .next()
        .expect("a link to older topics")
        .value()
        .attr("href")
        .unwrap()
        .to_string();

    let second = app.get(&link).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.texts("table.topics tbody td a:not(.author)"), vec!["Topic 03", "Topic 02"]);
    assert!(!second.body.contains("rel=\"next\""));
}

/// Deep pages cost what the first page costs: both lists are read through an index in
/// order, never sorted or skipped through with OFFSET. Checked on SQLite's query plan for
/// the very statements the category page sends (caught as they start), so a change to
/// how they are written cannot slip past: `NOT pinned` instead of `pinned = FALSE` once
/// made SQLite scan the whole category.
#[actix_web::test]
async fn pagination_walks_indexes_without_sorting_or_offset() {
    use agora::forum::queries::{self, TopicCursor, TopicListPage};
    use diesel::connection::{Connection, InstrumentationEvent};
    use diesel::sql_types::Text;
    use std::sync::{Arc, Mutex};
    #[derive(diesel::QueryableByName)]
    struct Step {
        #[diesel(sql_type = Text)]
        detail: String,
    }
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await.unwrap();
    let mut conn = app.db.get().unwrap();
    let sent: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = sent.clone();
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            seen.lock().unwrap().push(query.to_string());
        }
    });
    let mut statement_of = |read: &dyn Fn(&mut agora::db::DbConn)| -> String {
        sent.lock().unwrap().clear();
        read(&mut conn);
        let sql = sent.lock().unwrap().first().cloned().expect("a statement was sent");
        // The debug form ends with the bound values: EXPLAIN needs only the text.
        sql.split(" -- binds:").next().unwrap().to_string()
    };
    let deep = TopicListPage::After(TopicCursor { last_post_at: 5000, id: 5000 });
    let topics_sql = statement_of(&|c| {
        queries::list_topics(c, 1, deep).unwrap();
    });
    let pinned_sql = statement_of(&|c| {
        queries::pinned_topics(c, 1).unwrap();
    });
    let agora::db::DbConn::Sqlite(c) = &mut *conn else { unreachable!() };
    let mut plan = |sql: &str| -> String {
        let steps: Vec<Step> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}")).load(c).unwrap();
        steps.into_iter().map(|s| s.detail).collect::<Vec<_>>().join(" | ")
    };
    let topics = plan(&topics_sql);
    // A range on last_post_at: a deep page starts at its cursor and reads ~31 entries,
    // instead of reading every entry of the pages before it.
    assert!(
        topics.contains("USING INDEX topics_by_activity (category_id=? AND pinned=? AND last_post_at<?)")
            && !topics.contains("TEMP B-TREE"),
        "{topics_sql}\n{topics}"
    );
    let pinned = plan(&pinned_sql);
    assert!(
        pinned.contains("INDEX topics_by_activity (category_id=? AND pinned=?)") && !pinned.contains("TEMP B-TREE"),
        "{pinned_sql}\n{pinned}"
    );
    let posts = plan(
        "SELECT posts.id FROM posts INNER JOIN users ON users.id = posts.user_id \
         WHERE posts.topic_id = 1 AND posts.post_number >= 4981 AND posts.post_number < 5001 ORDER BY posts.post_number",
    );
    assert!(
        posts.contains("USING INDEX")
            && posts.contains("post_number>? AND post_number<?")
            && !posts.contains("TEMP B-TREE"),
        "{posts}"
    );
}
