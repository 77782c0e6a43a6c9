//! Search: stemming, phrases, ranking, highlighting, filters, what is never found, bad
//! input and the search limit, on both backends.

use agora::db::schema::{categories, posts, topics};
use diesel::prelude::*;

use crate::helpers::{spawn_app_with, topic_id, Backend, Page, TestApp};
use crate::on_both_backends;

on_both_backends!(
    search_finds_stemmed_words_and_exact_phrases_best_match_first,
    search_filters_by_category_author_date_and_titles,
    hidden_deleted_and_held_posts_are_found_only_by_staff_who_ask,
    the_index_follows_edits_and_renames,
    a_deleted_members_posts_are_found_by_anonymous_never_by_their_old_name,
    bad_search_input_gets_the_form_never_a_500,
);

fn titles(page: &Page) -> Vec<String> {
    page.texts(".search-results .result-title")
}

/// What the search form's own box holds (the header has a box named `q` too).
fn query_box(page: &Page) -> Option<String> {
    let selector = scraper::Selector::parse("#search-q").unwrap();
    page.html().select(&selector).next().and_then(|i| i.value().attr("value")).map(str::to_string)
}

/// alice's two topics and bob's reply, in General.
async fn library(app: &TestApp) -> (String, String) {
    app.register("alice").await;
    let borrow = app.create_topic("Borrow checker errors", "The checker complains about lifetimes in my loop.").await;
    let cooking = app
        .create_topic("Cooking for the meetup", "Recipes: cooking pasta, and borrowing sugar from a neighbour.")
        .await;
    let bob = app.another_browser();
    bob.register("bob").await;
    let reply = bob
        .post_form(
            &format!("/t/{}/reply", topic_id(&borrow)),
            &[("body", "Cooking pasta helps me think about lifetimes.")],
        )
        .await;
    assert_eq!(reply.status, 303);
    (borrow, cooking)
}

async fn search_finds_stemmed_words_and_exact_phrases_best_match_first(app: TestApp) {
    library(&app).await;
    // "borrowing" is stemmed: it finds "Borrow" in a title and "borrowing" in a body,
    // and the title match ranks first.
    let page = app.get("/search?q=borrowing").await;
    assert_eq!(page.status, 200);
    assert_eq!(titles(&page), vec!["Borrow checker errors", "Cooking for the meetup"]);
    assert!(page.texts(".search-results mark").iter().any(|m| m == "borrowing"), "{}", page.body);
    assert_eq!(page.texts(".search-results .meta")[0].split(" · ").next(), Some("General"));

    // A phrase must appear as written; the same words in another order are not it.
    let phrase = app.get("/search?q=%22cooking+pasta%22").await;
    assert_eq!(phrase.texts(".search-results li").len(), 2, "the reply and the topic: {}", phrase.body);
    assert!(titles(&app.get("/search?q=%22pasta+cooking%22").await).is_empty());

    // Every word is required.
    assert_eq!(titles(&app.get("/search?q=lifetimes+sugar").await), Vec::<String>::new());
    let both = app.get("/search?q=lifetimes+pasta").await;
    assert_eq!(titles(&both), vec!["Borrow checker errors"]);
    assert!(both.texts(".search-results .meta")[0].contains("by bob"));
    let selector = scraper::Selector::parse(".search-results .result-title").unwrap();
    let href = both.html().select(&selector).next().and_then(|a| a.value().attr("href")).map(str::to_string);
    assert!(href.unwrap_or_default().ends_with("#post-2"), "links to the reply itself");

    // Newest first puts bob's reply (written last) ahead of alice's topic.
    let newest = app.get("/search?q=lifetimes&order=newest").await;
    let metas = newest.texts(".search-results .meta");
    assert!(metas[0].contains("by bob") && metas[1].contains("by alice"), "{metas:?}");
}

async fn search_filters_by_category_author_date_and_titles(app: TestApp) {
    library(&app).await;
    let spare: i64 = {
        let mut conn = app.db.get().unwrap();
        diesel::insert_into(categories::table)
            .values((
                categories::slug.eq("kitchen"),
                categories::name.eq("Kitchen"),
                categories::description.eq(""),
                categories::position.eq(5),
            ))
            .returning(categories::id)
            .get_result(&mut *conn)
            .unwrap()
    };
    let cooking = app.get("/search?q=pasta").await;
    assert_eq!(cooking.texts(".search-results li").len(), 2);
    assert!(titles(&app.get(&format!("/search?q=pasta&category={spare}")).await).is_empty());
    assert_eq!(titles(&app.get("/search?q=pasta+%40bob").await), vec!["Borrow checker errors"]);
    assert_eq!(titles(&app.get("/search?q=pasta+%40alice").await), vec!["Cooking for the meetup"]);
    // Titles only: "cooking" is in one title (and in bodies of both topics).
    assert_eq!(titles(&app.get("/search?q=cooking&titles=on").await), vec!["Cooking for the meetup"]);
    assert_eq!(app.get("/search?q=cooking").await.texts(".search-results li").len(), 2);
    // Dates: everything was posted today.
    assert!(titles(&app.get("/search?q=pasta&from=2999-01-01").await).is_empty());
    assert_eq!(app.get("/search?q=pasta&from=2000-01-01&to=2999-12-31").await.texts(".search-results li").len(), 2);
    assert!(titles(&app.get("/search?q=pasta&to=2000-01-01").await).is_empty());
}

async fn hidden_deleted_and_held_posts_are_found_only_by_staff_who_ask(app: TestApp) {
    let (borrow, cooking) = library(&app).await;
    {
        let mut conn = app.db.get().unwrap();
        diesel::update(posts::table.filter(posts::topic_id.eq(topic_id(&cooking))))
            .set(posts::hidden.eq(true))
            .execute(&mut *conn)
            .unwrap();
        diesel::update(posts::table.filter(posts::topic_id.eq(topic_id(&borrow))).filter(posts::post_number.eq(2)))
            .set(posts::deleted_at.eq(Some(1i64)))
            .execute(&mut *conn)
            .unwrap();
    }
    assert!(titles(&app.get("/search?q=pasta").await).is_empty(), "hidden and deleted posts are not found");
    assert!(titles(&app.get("/search?q=pasta&removed=on").await).is_empty(), "members cannot ask for them");
    let visitor = app.another_browser();
    assert!(titles(&visitor.get("/search?q=pasta&removed=on").await).is_empty());
    app.set_role("alice", "moderator");
    assert_eq!(app.get("/search?q=pasta&removed=on").await.texts(".search-results li").len(), 2);
    assert!(titles(&app.get("/search?q=pasta").await).is_empty(), "staff see them only when they ask");
}

async fn the_index_follows_edits_and_renames(app: TestApp) {
    let (borrow, _) = library(&app).await;
    let first_post: i64 = {
        let mut conn = app.db.get().unwrap();
        posts::table
            .filter(posts::topic_id.eq(topic_id(&borrow)))
            .filter(posts::post_number.eq(1))
            .select(posts::id)
            .first(&mut *conn)
            .unwrap()
    };
    let edited = app.post_form(&format!("/p/{first_post}/edit"), &[("body", "Now about generics and traits.")]).await;
    assert_eq!(edited.status, 303, "{}", edited.body);
    assert!(titles(&app.get("/search?q=complains").await).is_empty(), "the old words are gone");
    assert_eq!(titles(&app.get("/search?q=generics").await), vec!["Borrow checker errors"]);
    {
        let mut conn = app.db.get().unwrap();
        diesel::update(topics::table.find(topic_id(&borrow)))
            .set(topics::title.eq("Trait objects"))
            .execute(&mut *conn)
            .unwrap();
    }
    assert!(titles(&app.get("/search?q=checker&titles=on").await).is_empty(), "the old title is gone");
    assert_eq!(titles(&app.get("/search?q=trait&titles=on").await), vec!["Trait objects"]);
    // A reply to the renamed topic is indexed, and the index still answers.
    let reply = app.post_form(&format!("/t/{}/reply", topic_id(&borrow)), &[("body", "Dyn compatibility.")]).await;
    assert_eq!(reply.status, 303);
    assert_eq!(titles(&app.get("/search?q=compatibility").await), vec!["Trait objects"]);
}

async fn a_deleted_members_posts_are_found_by_anonymous_never_by_their_old_name(app: TestApp) {
    library(&app).await;
    let carol = app.another_browser();
    let password = carol.register("carolsearch").await;
    carol.create_topic("Zebra crossings", "Stripes everywhere.").await;
    let deleted =
        carol.post_form("/account/delete", &[("password", &password), ("confirm_username", "carolsearch")]).await;
    assert_eq!(deleted.location.as_deref(), Some("/account/deleted"), "{}", deleted.body);
    let page = app.get("/search?q=stripes").await;
    assert_eq!(titles(&page), vec!["Zebra crossings"]);
    assert!(page.texts(".search-results .meta")[0].contains("by Anonymous"));
    assert!(!page.body.contains("carolsearch"));
    assert!(titles(&app.get("/search?q=carolsearch").await).is_empty());
    assert!(titles(&app.get("/search?q=stripes+%40carolsearch").await).is_empty());
}

async fn bad_search_input_gets_the_form_never_a_500(app: TestApp) {
    library(&app).await;
    let empty = app.get("/search").await;
    assert_eq!(empty.status, 200);
    assert_eq!(query_box(&empty).as_deref(), Some(""));
    assert!(empty.texts(".search-results li").is_empty());
    assert!(app.get("/").await.body.contains(r#"action="/search""#), "the header has a search box");
    for hostile in [
        "%22unclosed+pasta",
        "NEAR(pasta+cooking)",
        "pasta+OR+AND+NOT",
        "title%3Apasta",
        "*+%5E+-pasta",
        "%27%3B+DROP+TABLE+posts%3B--",
        "%E2%80%AE%E2%80%8B",
    ] {
        let page = app.get(&format!("/search?q={hostile}")).await;
        assert_eq!(page.status, 200, "{hostile}: {}", page.body);
    }
    assert_eq!(titles(&app.get("/search?q=%22unclosed+pasta").await).len(), 0, "all words required");
    assert_eq!(app.get("/search?q=pasta+OR").await.texts(".search-results li").len(), 2, "OR is only a word");
    let long = app.get(&format!("/search?q={}", "pasta+".repeat(120))).await;
    assert_eq!(long.status, 200);
    assert!(long.body.contains("Only the first 200 characters"));
    let bad_date = app.get("/search?q=pasta&from=yesterday").await;
    assert_eq!(bad_date.status, 400);
    assert!(bad_date.body.contains("YYYY-MM-DD"));
    assert_eq!(query_box(&bad_date).as_deref(), Some("pasta"), "the query is kept");
    assert_eq!(app.get("/search?q=pasta&category=999").await.status, 400);
    assert_eq!(app.get("/search?q=pasta&page=abc").await.status, 400);
    assert_eq!(app.get("/search?q=pasta&page=-5").await.status, 200);
}

#[actix_web::test]
async fn searches_over_the_limit_get_a_429_page() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = spawn_app_with(backend, |config| {
            config.rate_limits = agora::web::rate_limit::RateLimits::parse("search_per_ip=3/60").unwrap();
        })
        .await
        else {
            continue;
        };
        // Searches that run count; a visitor's search kept from before (asked twice) is
        // answered from the page cache and costs nothing to count. (Kept pages last for
        // the minute they were rendered in: start well inside one.)
        let second = agora::db::now() % 60;
        if second >= 50 {
            tokio::time::sleep(std::time::Duration::from_secs((61 - second) as u64)).await;
        }
        for words in ["anything", "anything", "else"] {
            assert_eq!(app.get(&format!("/search?q={words}")).await.status, 200);
        }
        assert_eq!(app.get("/search?q=anything").await.status, 200, "kept: not counted");
        let refused = app.client.get(app.url("/search?q=more")).send().await.unwrap();
        assert_eq!(refused.status(), 429, "{backend:?}");
        assert!(refused.headers().get("retry-after").is_some());
        assert!(refused.text().await.unwrap().contains("<html"), "a proper page");
        // The empty form costs nothing and stays available.
        assert_eq!(app.get("/search").await.status, 200);
    }
}
