//! How far members have read: the position moves forward only, lists show how many posts
//! are new and which topics are new, "unread" jumps to the first new post, which the page
//! marks; `/unread`, `/new` and "mark all as read"; read state is in the export and goes
//! with the account.

use agora::db::schema::{categories, category_reads, topic_reads, topics};
use diesel::prelude::*;
use serde_json::Value;

use crate::helpers::{spawn_app_with, topic_id, Backend, Page, TestApp};
use crate::on_both_backends;

on_both_backends!(
    the_position_moves_forward_and_lists_show_what_is_new,
    new_and_unread_lists_and_mark_all_read,
    read_state_is_exported_and_erased_with_the_account,
);

fn position(app: &TestApp, username: &str, topic: i64) -> Option<(i64, i64)> {
    let user = app.user_id(username)?;
    let mut conn = app.db.get().unwrap();
    topic_reads::table
        .find((user, topic))
        .select((topic_reads::last_read_post_number, topic_reads::updated_at))
        .first(&mut *conn)
        .optional()
        .unwrap()
}

async fn the_position_moves_forward_and_lists_show_what_is_new(app: TestApp) {
    app.register("alice").await;
    let path = app.create_topic("Where were we", "The first post.").await;
    let id = topic_id(&path);
    let bob = app.another_browser();
    bob.register("bobreads").await;
    assert_eq!(position(&app, "bobreads", id), None, "nothing until bob opens it");
    let first_visit = bob.get(&path).await;
    assert!(first_visit.texts(".unread-marker").is_empty(), "a first visit marks nothing");
    assert_eq!(position(&app, "bobreads", id).map(|p| p.0), Some(1));
    assert!(bob.get("/c/1/general").await.texts(".new-posts").is_empty());

    for n in 2..=3 {
        let reply = app.post_form(&format!("/t/{id}/reply"), &[("body", &format!("Reply {n}."))]).await;
        assert_eq!(reply.status, 303);
    }
    assert_eq!(bob.get("/c/1/general").await.texts(".new-posts"), vec!["2 new"]);
    assert_eq!(bob.get("/").await.texts(".new-posts"), vec!["2 new"]);
    assert_eq!(bob.get("/latest").await.texts(".new-posts"), vec!["2 new"]);
    assert!(app.another_browser().get("/").await.texts(".new-posts").is_empty(), "visitors see no counts");
    let jump = bob.get(&format!("{path}/unread")).await;
    assert_eq!(jump.status, 303);
    assert_eq!(jump.location.as_deref(), Some(format!("{path}#post-2").as_str()));

    let page = bob.get(&path).await;
    assert_eq!(page.texts(".first-unread .unread-marker"), vec!["New since you last read"]);
    assert_eq!(
        page.html()
            .select(&scraper::Selector::parse("article.first-unread").unwrap())
            .next()
            .unwrap()
            .value()
            .attr("id"),
        Some("post-2")
    );
    assert_eq!(position(&app, "bobreads", id).map(|p| p.0), Some(3));
    assert!(bob.get("/c/1/general").await.texts(".new-posts").is_empty(), "all read");
    assert_eq!(bob.get(&format!("{path}/unread")).await.location.as_deref(), Some(format!("{path}#post-3").as_str()));

    // Reading again writes nothing.
    {
        let user = app.user_id("bobreads").unwrap();
        let mut conn = app.db.get().unwrap();
        diesel::update(topic_reads::table.find((user, id)))
            .set(topic_reads::updated_at.eq(7))
            .execute(&mut *conn)
            .unwrap();
    }
    bob.get(&path).await;
    assert_eq!(position(&app, "bobreads", id), Some((3, 7)));

    // Only what was on the page counts as read: 25 posts, page 1 shows 20.
    for n in 4..=25 {
        app.post_form(&format!("/t/{id}/reply"), &[("body", &format!("Reply {n}."))]).await;
    }
    bob.get(&path).await;
    assert_eq!(position(&app, "bobreads", id).map(|p| p.0), Some(20));
    assert_eq!(
        bob.get(&format!("{path}/unread")).await.location.as_deref(),
        Some(format!("{path}?page=2#post-21").as_str())
    );
    // The position never moves back.
    bob.get(&format!("{path}?page=2")).await;
    bob.get(&path).await;
    assert_eq!(position(&app, "bobreads", id).map(|p| p.0), Some(25));
    // A visitor's jump goes to the start.
    assert_eq!(
        app.another_browser().get(&format!("{path}/unread")).await.location.as_deref(),
        Some(format!("{path}#post-1").as_str())
    );
}

fn list_titles(page: &Page) -> Vec<String> {
    page.texts("table.latest tbody td:first-child > a:first-child")
}

/// Where the topic's title leads in a list.
fn title_link(page: &Page, title: &str) -> String {
    let html = page.html();
    let selector = scraper::Selector::parse("table.latest tbody td:first-child > a:first-child").unwrap();
    let link = html.select(&selector).find(|a| a.text().collect::<String>() == title);
    link.and_then(|a| a.value().attr("href")).unwrap_or_else(|| panic!("no {title} in the list")).to_string()
}

fn add_category(app: &TestApp, slug: &str, name: &str) -> i64 {
    let mut conn = app.db.get().unwrap();
    diesel::insert_into(categories::table)
        .values((
            categories::slug.eq(slug),
            categories::name.eq(name),
            categories::description.eq(""),
            categories::position.eq(5),
        ))
        .returning(categories::id)
        .get_result(&mut *conn)
        .unwrap()
}

/// Moves a topic's start by `seconds` (seconds are the clock's grain: "before" and
/// "after" a mark or a join must be a second apart).
fn shift_start(app: &TestApp, topic: i64, seconds: i64) {
    let mut conn = app.db.get().unwrap();
    diesel::update(topics::table.find(topic))
        .set(topics::created_at.eq(topics::created_at + seconds))
        .execute(&mut *conn)
        .unwrap();
}

async fn new_and_unread_lists_and_mark_all_read(app: TestApp) {
    app.register("alice").await;
    let kitchen = add_category(&app, "kitchen", "Kitchen");
    let old = app.create_topic("Before bob joined", "Old news.").await;
    shift_start(&app, topic_id(&old), -3600);
    let bob = app.another_browser();
    bob.register("bobnew").await;
    let general = app.create_topic("Fresh in General", "Hello.").await;
    let soup = app.post_form(&format!("/c/{kitchen}/new"), &[("title", "Fresh soup"), ("body", "Warm.")]).await;
    assert_eq!(soup.status, 303, "{}", soup.body);
    let soup = soup.location.unwrap();

    // New: started since bob joined, never opened; the old topic is not news to him.
    let home = bob.get("/").await;
    assert_eq!(home.texts(".new-topic").len(), 2, "{}", home.body);
    assert_eq!(list_titles(&bob.get("/new").await), vec!["Fresh soup", "Fresh in General"]);
    assert!(app.get("/").await.texts(".new-topic").is_empty(), "alice wrote them: not new to her");
    assert!(app.get("/").await.texts(".new-posts").is_empty(), "her own posts count as read");
    bob.get(&general).await;
    assert_eq!(list_titles(&bob.get("/new").await), vec!["Fresh soup"]);
    let unread = bob.get("/unread").await;
    assert!(unread.texts(".empty-list")[0].starts_with("Nothing unread"), "{}", unread.body);

    // Unread: opened topics with posts past bob's position, and how many.
    for n in 1..=2 {
        app.post_form(&format!("/t/{}/reply", topic_id(&general)), &[("body", &format!("Reply {n}."))]).await;
    }
    let unread = bob.get("/unread").await;
    assert_eq!(list_titles(&unread), vec!["Fresh in General"]);
    assert_eq!(unread.texts(".new-posts"), vec!["2 new"]);
    assert_eq!(
        title_link(&unread, "Fresh in General"),
        format!("{general}/unread"),
        "the title goes to the first unread post"
    );
    assert_eq!(title_link(&bob.get("/").await, "Fresh soup"), soup, "a topic never opened starts at the top");

    // Mark one category read: Kitchen's new topic is no longer new; General stays.
    let marked = bob.post_form("/read/mark", &[("category_id", &kitchen.to_string())]).await;
    assert_eq!(marked.status, 303);
    assert_eq!(marked.location, Some(format!("/c/{kitchen}/kitchen")));
    let new = bob.get("/new").await;
    assert!(list_titles(&new).is_empty());
    assert!(new.texts(".empty-list")[0].starts_with("No new topics"));
    assert_eq!(bob.get("/unread").await.texts(".new-posts"), vec!["2 new"], "General was not marked");

    // Mark everything read, from /unread: back to an empty /unread.
    let everything = bob.post_form("/read/mark", &[("back", "/unread")]).await;
    assert_eq!(everything.location.as_deref(), Some("/unread"));
    assert!(list_titles(&bob.get("/unread").await).is_empty());
    let user = app.user_id("bobnew").unwrap();
    {
        let mut conn = app.db.get().unwrap();
        let marks: i64 =
            category_reads::table.filter(category_reads::user_id.eq(user)).count().get_result(&mut *conn).unwrap();
        assert_eq!(marks, 2, "one mark per category");
        let read: i64 = topic_reads::table
            .find((user, topic_id(&general)))
            .select(topic_reads::last_read_post_number)
            .first(&mut *conn)
            .unwrap();
        assert_eq!(read, 3, "the opened topic moved to its last post");
    }
    // Only the lists' own addresses are gone back to.
    let elsewhere = bob.post_form("/read/mark", &[("back", "https://evil.example/")]).await;
    assert_eq!(elsewhere.location.as_deref(), Some("/"));

    // After the mark, counts start again from it; topics started later are new.
    app.post_form(&format!("/t/{}/reply", topic_id(&general)), &[("body", "After the mark.")]).await;
    assert_eq!(bob.get("/unread").await.texts(".new-posts"), vec!["1 new"]);
    let later = app.create_topic("Started after the mark", "Hi.").await;
    shift_start(&app, topic_id(&later), 5);
    assert_eq!(list_titles(&bob.get("/new").await), vec!["Started after the mark"]);

    // Visitors are asked to sign in; bad input gets a clear page.
    let visitor = app.another_browser();
    assert_eq!(visitor.get("/unread").await.status, 303);
    assert_eq!(visitor.get("/new").await.status, 303);
    assert_eq!(bob.post_form("/read/mark", &[("category_id", "999")]).await.status, 404);
    assert_eq!(bob.post_form("/read/mark", &[("category_id", "soup")]).await.status, 400);
    assert_eq!(bob.get("/unread?after=nonsense").await.status, 400);
}

#[actix_web::test]
async fn marking_read_over_the_limit_gets_a_429_page() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = spawn_app_with(backend, |config| {
            config.rate_limits = agora::web::rate_limit::RateLimits::parse("mark_read_per_member=2/60").unwrap();
        })
        .await
        else {
            continue;
        };
        app.register("marker").await;
        for _ in 0..2 {
            assert_eq!(app.post_form("/read/mark", &[]).await.status, 303, "{backend:?}");
        }
        let refused = app.post_form("/read/mark", &[]).await;
        assert_eq!(refused.status, 429, "{backend:?}");
        assert!(refused.body.contains("<html"), "{backend:?}: a proper page");
    }
}

async fn read_state_is_exported_and_erased_with_the_account(app: TestApp) {
    app.register("alice").await;
    let path = app.create_topic("Read me", "Once.").await;
    app.post_form(&format!("/t/{}/reply", topic_id(&path)), &[("body", "Twice.")]).await;
    let reader = app.another_browser();
    let password = reader.register("readerx").await;
    reader.get(&path).await;
    assert_eq!(reader.post_form("/read/mark", &[("category_id", "1")]).await.status, 303);
    let export: Value = reader.client.get(reader.url("/account/export")).send().await.unwrap().json().await.unwrap();
    let read = &export["topics_read"][0];
    assert_eq!(read["title"], "Read me");
    assert_eq!(read["read_up_to_post"], 2);
    assert_eq!(read["topic_id"], topic_id(&path));
    assert_eq!(export["categories_marked_read"][0]["name"], "General");
    assert!(export["categories_marked_read"][0]["marked_read_at"].as_i64().unwrap() > 0);

    let user = app.user_id("readerx").unwrap();
    let deleted =
        reader.post_form("/account/delete", &[("password", &password), ("confirm_username", "readerx")]).await;
    assert_eq!(deleted.location.as_deref(), Some("/account/deleted"), "{}", deleted.body);
    let mut conn = app.db.get().unwrap();
    let left: i64 = topic_reads::table.filter(topic_reads::user_id.eq(user)).count().get_result(&mut *conn).unwrap();
    assert_eq!(left, 0, "the read positions went with the account");
    let marks: i64 =
        category_reads::table.filter(category_reads::user_id.eq(user)).count().get_result(&mut *conn).unwrap();
    assert_eq!(marks, 0, "the category marks went with the account");
}

/// `/new` walks `topics_created` from now back to the member's horizon, and `/unread`
/// the member's own positions: neither reads the whole forum.
#[actix_web::test]
async fn new_and_unread_read_their_indexes() {
    use diesel::sql_types::Text;
    #[derive(diesel::QueryableByName)]
    struct Step {
        #[diesel(sql_type = Text)]
        detail: String,
    }
    let app = crate::helpers::spawn_app(Backend::Sqlite).await.unwrap();
    let mut conn = app.db.get().unwrap();
    let agora::db::DbConn::Sqlite(c) = &mut *conn else { unreachable!() };
    let mut plan = |sql: &str| {
        let steps: Vec<Step> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}")).load(c).unwrap();
        steps.into_iter().map(|s| s.detail).collect::<Vec<_>>().join(" | ")
    };
    let new = plan(
        "SELECT topics.id FROM topics INNER JOIN users ON users.id = topics.user_id \
         INNER JOIN categories ON categories.id = topics.category_id \
         LEFT JOIN topic_reads ON topic_reads.topic_id = topics.id AND topic_reads.user_id = 7 \
         LEFT JOIN category_reads ON category_reads.category_id = topics.category_id AND category_reads.user_id = 7 \
         WHERE topics.created_at >= 5000 AND topic_reads.topic_id IS NULL \
         AND (category_reads.marked_at IS NULL OR topics.created_at > category_reads.marked_at) AND topics.held = 0 \
         ORDER BY topics.created_at DESC, topics.id DESC LIMIT 31",
    );
    assert!(new.contains("USING INDEX topics_created (created_at>?)") && !new.contains("TEMP B-TREE"), "{new}");
    let unread = plan(
        "SELECT topics.id FROM topics INNER JOIN users ON users.id = topics.user_id \
         INNER JOIN categories ON categories.id = topics.category_id \
         INNER JOIN topic_reads ON topic_reads.topic_id = topics.id WHERE topic_reads.user_id = 7 \
         AND topics.post_count > topic_reads.last_read_post_number AND topics.held = 0 \
         ORDER BY topics.last_post_at DESC, topics.id DESC LIMIT 31",
    );
    // It starts from the member's rows (the key's first column) and sorts only those.
    assert!(unread.starts_with("SEARCH topic_reads USING") && unread.contains("(user_id=?)"), "{unread}");
}
