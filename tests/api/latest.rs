//! Latest: the home page's list across categories and `/latest`'s cursor pages.

use agora::db::schema::{categories, topics};
use diesel::prelude::*;

use crate::helpers::{Page, TestApp};
use crate::on_both_backends;

on_both_backends!(
    the_home_page_shows_latest_across_categories_beside_the_categories,
    latest_pages_through_every_topic_by_cursor,
);

/// Where the page's "Older topics" link goes.
fn next_link(page: &Page) -> String {
    let selector = scraper::Selector::parse("a[rel=next]").unwrap();
    page.html().select(&selector).next().and_then(|a| a.value().attr("href")).expect("a next page").to_string()
}

fn topic_titles(page: &Page) -> Vec<String> {
    page.texts("table.latest tbody td:first-child a:not(.author)")
}

async fn the_home_page_shows_latest_across_categories_beside_the_categories(app: TestApp) {
    app.register("lena").await;
    let kitchen: i64 = {
        let mut conn = app.db.get().unwrap();
        diesel::insert_into(categories::table)
            .values((
                categories::slug.eq("kitchen"),
                categories::name.eq("Kitchen"),
                categories::description.eq("Food"),
                categories::position.eq(5),
            ))
            .returning(categories::id)
            .get_result(&mut *conn)
            .unwrap()
    };
    let first = app.create_topic("First in General", "Hello.").await;
    let soup = app.post_form(&format!("/c/{kitchen}/new"), &[("title", "Soup in Kitchen"), ("body", "Warm.")]).await;
    assert_eq!(soup.status, 303);
    app.create_topic("Third in General", "Hi.").await;
    {
        // As if they were written minutes apart, in this order.
        let mut conn = app.db.get().unwrap();
        diesel::update(topics::table).set(topics::last_post_at.eq(topics::id * 60)).execute(&mut *conn).unwrap();
    }
    // A reply makes the first topic the most recently active.
    let id = first.split('/').nth(2).unwrap();
    assert_eq!(app.post_form(&format!("/t/{id}/reply"), &[("body", "Back again.")]).await.status, 303);
    // A held topic is no one's Latest.
    {
        let mut conn = app.db.get().unwrap();
        diesel::update(topics::table.filter(topics::title.eq("Third in General")))
            .set(topics::held.eq(true))
            .execute(&mut *conn)
            .unwrap();
    }
    let home = app.another_browser().get("/").await;
    assert_eq!(home.status, 200);
    assert_eq!(topic_titles(&home), vec!["First in General", "Soup in Kitchen"]);
    assert_eq!(home.texts("table.latest .category-link"), vec!["General", "Kitchen"]);
    assert_eq!(home.texts("table.latest tbody td:nth-child(3)"), vec!["1", "0"], "replies");
    assert!(home.texts("table.latest .meta").iter().all(|m| m == "by lena"));
    assert!(home.texts(".home-categories .category-name").contains(&"Kitchen".to_string()));
    assert!(!home.body.contains("href=\"/latest\""), "one page of Latest needs no link to more");
}

async fn latest_pages_through_every_topic_by_cursor(app: TestApp) {
    app.register("mika").await;
    {
        // 65 topics, one second apart, so the order is known.
        let mut conn = app.db.get().unwrap();
        let author = app.user_id("mika").unwrap();
        for n in 1..=65i64 {
            diesel::insert_into(topics::table)
                .values((
                    topics::category_id.eq(1),
                    topics::user_id.eq(author),
                    topics::title.eq(format!("Topic {n}")),
                    topics::slug.eq(format!("topic-{n}")),
                    topics::created_at.eq(1_000 + n),
                    topics::last_post_at.eq(1_000 + n),
                    topics::post_count.eq(1),
                ))
                .execute(&mut *conn)
                .unwrap();
        }
    }
    let home = app.get("/").await;
    assert_eq!(topic_titles(&home).len(), 30);
    assert!(home.body.contains("href=\"/latest\""));
    let first = app.get("/latest").await;
    let titles = topic_titles(&first);
    assert_eq!(titles.first().map(String::as_str), Some("Topic 65"));
    assert_eq!(titles.last().map(String::as_str), Some("Topic 36"));
    let next = next_link(&first);
    let second = app.get(&next).await;
    assert_eq!(topic_titles(&second).first().map(String::as_str), Some("Topic 35"));
    let next = next_link(&second);
    let third = app.get(&next).await;
    assert_eq!(topic_titles(&third), vec!["Topic 5", "Topic 4", "Topic 3", "Topic 2", "Topic 1"]);
    assert!(!third.body.contains("rel=\"next\""));
    assert_eq!(app.get("/latest?after=garbage").await.status, 400);
    assert_eq!(app.get("/latest?after=1.1").await.status, 404, "past the end is not a page");
}

/// A deep page of Latest starts at its cursor in the index: no sort, no scan of newer topics.
#[actix_web::test]
async fn latest_reads_its_index_as_a_range() {
    use diesel::sql_types::Text;
    #[derive(diesel::QueryableByName)]
    struct Step {
        #[diesel(sql_type = Text)]
        detail: String,
    }
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await.unwrap();
    let mut conn = app.db.get().unwrap();
    let agora::db::DbConn::Sqlite(c) = &mut *conn else { unreachable!() };
    let steps: Vec<Step> = diesel::sql_query(
        "EXPLAIN QUERY PLAN SELECT topics.id FROM topics INNER JOIN users ON users.id = topics.user_id \
         INNER JOIN categories ON categories.id = topics.category_id WHERE topics.held = 0 \
         AND topics.last_post_at <= 5000 AND (topics.last_post_at < 5000 OR topics.id < 77) \
         ORDER BY topics.last_post_at DESC, topics.id DESC LIMIT 31",
    )
    .load(c)
    .unwrap();
    let plan = steps.into_iter().map(|s| s.detail).collect::<Vec<_>>().join(" | ");
    assert!(plan.contains("USING INDEX topics_latest (last_post_at<?)") && !plan.contains("TEMP B-TREE"), "{plan}");
}

/// On PostgreSQL the hot lists are prepared once and then run on one generic plan, not
/// planned afresh each time: their page size and flags are written into the statement
/// (a bound `LIMIT $n` made PostgreSQL re-plan Latest's join on every execution, 80% of
/// the query's time). Read off `pg_prepared_statements` after a few pages of each.
#[actix_web::test]
async fn postgres_keeps_one_plan_for_each_hot_list() {
    use agora::forum::queries::{self, TopicListPage};
    use diesel::sql_types::{BigInt, Text};
    #[derive(diesel::QueryableByName, Debug)]
    struct Prepared {
        #[diesel(sql_type = Text)]
        statement: String,
        #[diesel(sql_type = BigInt)]
        generic_plans: i64,
    }
    let Some(app) = crate::helpers::spawn_app(crate::helpers::Backend::Postgres).await else {
        eprintln!("SKIPPED: PostgreSQL run (set AGORA_TEST_POSTGRES_URL to include it)");
        return;
    };
    let mut conn = app.db.get().unwrap();
    for _ in 0..8 {
        agora::forum::latest::latest_topics(&mut conn, None).unwrap();
        queries::list_topics(&mut conn, 1, TopicListPage::First).unwrap();
        queries::pinned_topics(&mut conn, 1).unwrap();
    }
    let prepared: Vec<Prepared> =
        diesel::sql_query("SELECT statement, generic_plans FROM pg_prepared_statements").load(&mut *conn).unwrap();
    let plans_of = |needle: &str| -> i64 {
        let found: Vec<&Prepared> = prepared.iter().filter(|p| p.statement.contains(needle)).collect();
        assert_eq!(found.len(), 1, "one prepared statement with {needle:?}: {prepared:#?}");
        found[0].generic_plans
    };
    assert!(plans_of("INNER JOIN \"categories\"") > 0, "Latest runs on its generic plan: {prepared:#?}");
    assert!(plans_of("\"pinned\" = FALSE") > 0, "a category's page runs on its generic plan: {prepared:#?}");
    assert!(plans_of("\"pinned\" = TRUE") > 0, "its pinned topics run on their generic plan: {prepared:#?}");
}
