//! Visitors' pages (home, Latest, categories, topics) come from a cache keyed by the
//! database's content version:
//! served again while nothing changed, never after a change commits (a reply, a hidden
//! post, a deleted member), on this instance or another sharing the database.

use agora::db::schema::{categories, content_version, posts, topics};
use diesel::prelude::*;

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    visitor_pages_are_cached_until_any_change_commits,
    visitor_lists_are_cached_until_any_change_commits,
    visitor_searches_are_cached_until_any_change_commits,
    members_pages_share_rows_but_not_their_own_likes_or_marks,
    a_change_through_another_instance_reaches_this_ones_cache,
    the_busiest_pages_read_an_ended_session_as_a_visitor,
);

/// alice, signed in, and a topic she started: its path and id.
async fn alices_topic(app: &TestApp, title: &str, body: &str) -> (TestApp, String, i64) {
    let author = app.another_browser();
    author.register("alice").await;
    let topic = author.create_topic(title, body).await;
    let id = topic.split('/').nth(2).unwrap().parse().unwrap();
    (author, topic, id)
}

/// Asks for `paths` until they are kept under the version as it stands, and returns it.
/// Kept pages last for the minute they were rendered in, so this waits out a minute's
/// last seconds; and a change that lands after its response (a background job's) moves
/// the version, so the pages are asked for again.
async fn kept_at_version(app: &TestApp, reader: &TestApp, paths: &[&str]) -> i64 {
    loop {
        let second = agora::db::now() % 60;
        if second >= 55 {
            tokio::time::sleep(std::time::Duration::from_secs((61 - second) as u64)).await;
        }
        let before = version(app);
        for path in paths {
            assert_eq!(reader.get(path).await.status, 200, "{path}");
        }
        if version(app) == before {
            return before;
        }
    }
}

/// Makes `change` behind the version's back: the triggers move the version in the
/// change's own transaction, and this puts it back to `before`.
fn behind_the_versions_back(app: &TestApp, before: i64, change: impl FnOnce(&mut agora::db::DbConn)) {
    let mut conn = app.db.get().unwrap();
    change(&mut conn);
    diesel::update(content_version::table).set(content_version::version.eq(before)).execute(&mut *conn).unwrap();
}

/// Moves the version to `to`, as any change would.
fn move_version(app: &TestApp, to: i64) {
    let mut conn = app.db.get().unwrap();
    diesel::update(content_version::table).set(content_version::version.eq(to)).execute(&mut *conn).unwrap();
}

fn version(app: &TestApp) -> i64 {
    let mut conn = app.db.get().unwrap();
    content_version::table.find(1).select(content_version::version).first(&mut *conn).unwrap()
}

async fn visitor_pages_are_cached_until_any_change_commits(app: TestApp) {
    let (author, topic, id) = alices_topic(&app, "Cached soup", "Leek soup.").await;
    let visitor = app.another_browser();
    assert!(visitor.get(&topic).await.body.contains("Leek soup."));

    // Served from the cache while the version stands: a row changed behind the version's
    // back (the trigger moved it; the test moves it back) is not seen...
    let before = kept_at_version(&app, &visitor, &[&topic]).await;
    behind_the_versions_back(&app, before, |conn| {
        diesel::update(posts::table.filter(posts::topic_id.eq(id)))
            .set(posts::body_html.eq("<p>Changed behind its back.</p>"))
            .execute(conn)
            .unwrap();
        assert!(version(&app) > before, "the trigger moved the version in the same statement's transaction");
    });
    assert!(visitor.get(&topic).await.body.contains("Leek soup."), "the cached page");
    // ... and is the moment the version moves.
    move_version(&app, before + 10);
    assert!(visitor.get(&topic).await.body.contains("Changed behind its back."));

    // Every change through the forum reaches the next visitor at once.
    author.post_form(&format!("/t/{id}/reply"), &[("body", "With pepper.")]).await;
    assert!(visitor.get(&topic).await.body.contains("With pepper."), "a reply");
    let mona = app.another_browser();
    mona.register("mona").await;
    app.set_role("mona", "moderator");
    let reply: i64 = {
        let mut conn = app.db.get().unwrap();
        posts::table
            .filter(posts::topic_id.eq(id))
            .filter(posts::post_number.eq(2))
            .select(posts::id)
            .first(&mut *conn)
            .unwrap()
    };
    assert_eq!(mona.post_form(&format!("/admin/posts/{reply}/hide"), &[("reason", "spam")]).await.status, 303);
    let page = visitor.get(&topic).await;
    assert!(!page.body.contains("With pepper."), "a hidden post is gone from the visitor's page");
    assert!(page.body.contains("hidden by a moderator"));
    // A deleted member's name goes from every cached page.
    assert!(page.texts(".post .author").contains(&"alice".to_string()));
    let password = "alice-has-a-long-password";
    let deleted = author.post_form("/account/delete", &[("confirm_username", "alice"), ("password", password)]).await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    let page = visitor.get(&topic).await;
    assert!(!page.texts(".post .author").contains(&"alice".to_string()), "{:?}", page.texts(".post .author"));
    assert!(page.texts(".post .author").contains(&"Anonymous".to_string()));
    // Made-up query strings are answered, not kept.
    assert_eq!(visitor.get(&format!("{topic}?utm=x")).await.status, 200);
}

async fn visitor_lists_are_cached_until_any_change_commits(app: TestApp) {
    let (_alice, _, id) = alices_topic(&app, "Cached stew", "Bean stew.").await;
    let visitor = app.another_browser();
    let category = visitor.get("/c/1").await.location.expect("the category's own address");
    let lists = ["/", "/latest", category.as_str()];
    for list in lists {
        assert!(visitor.get(list).await.body.contains("Cached stew"), "{list}");
    }

    // A title changed behind the version's back is not seen while the version stands...
    let before = kept_at_version(&app, &visitor, &lists).await;
    behind_the_versions_back(&app, before, |conn| {
        diesel::update(topics::table.find(id)).set(topics::title.eq("Renamed stew")).execute(conn).unwrap();
    });
    for list in lists {
        let page = visitor.get(list).await;
        assert!(page.body.contains("Cached stew") && !page.body.contains("Renamed stew"), "{list}: the kept page");
    }
    // ... and is seen the moment it moves.
    move_version(&app, before + 10);
    for list in lists {
        assert!(visitor.get(list).await.body.contains("Renamed stew"), "{list}");
    }

    // A reply names its writer as the last poster at once; their deleted account, at once not.
    let bob = app.another_browser();
    bob.register("bob").await;
    bob.post_form(&format!("/t/{id}/reply"), &[("body", "Needs salt.")]).await;
    for list in ["/", "/latest"] {
        assert!(visitor.get(list).await.texts(".last-poster").iter().any(|by| by.contains("bob")), "{list}");
    }
    let deleted =
        bob.post_form("/account/delete", &[("confirm_username", "bob"), ("password", "bob-has-a-long-password")]).await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    for list in lists {
        let page = visitor.get(list).await;
        assert!(
            !page.texts(".last-poster").iter().any(|by| by.contains("bob")),
            "{list}: {:?}",
            page.texts(".last-poster")
        );
    }
    // A topic a moderator moves out of the category leaves its kept page at once.
    let elsewhere: i64 = {
        let mut conn = app.db.get().unwrap();
        diesel::insert_into(categories::table)
            .values((categories::slug.eq("kitchen"), categories::name.eq("Kitchen"), categories::description.eq("")))
            .returning(categories::id)
            .get_result(&mut *conn)
            .unwrap()
    };
    let mona = app.another_browser();
    mona.register("mona").await;
    app.set_role("mona", "moderator");
    let moved = mona
        .post_form(&format!("/admin/topics/{id}/move"), &[("reason", "tidy"), ("category_id", &elsewhere.to_string())])
        .await;
    assert_eq!(moved.status, 303, "{}", moved.body);
    assert!(!visitor.get(&category).await.body.contains("Renamed stew"), "moved away");
    // Made-up cursors are answered, not kept.
    assert_eq!(visitor.get("/latest?after=99999999999.1").await.status, 200);
}

async fn visitor_searches_are_cached_until_any_change_commits(app: TestApp) {
    let (_alice, _, id) = alices_topic(&app, "Lentil soup", "Red lentils simmer slowly.").await;
    let visitor = app.another_browser();
    let search = "/search?q=lentils";
    assert!(visitor.get(search).await.body.contains("Lentil soup"));

    // Kept from the second time it is asked for while the version stands (most searches
    // are never repeated: those are not kept at all), seen the moment the version moves.
    let asked_once = "/search?q=simmer";
    let before = kept_at_version(&app, &visitor, &[search, search, asked_once]).await;
    behind_the_versions_back(&app, before, |conn| {
        diesel::update(topics::table.find(id)).set(topics::title.eq("Pea soup")).execute(conn).unwrap();
    });
    assert!(visitor.get(search).await.body.contains("Lentil soup"), "the kept page");
    assert!(visitor.get(asked_once).await.body.contains("Pea soup"), "a search asked for once is not kept");
    move_version(&app, before + 10);
    assert!(visitor.get(search).await.body.contains("Pea soup"));

    // A post a moderator hides leaves the results at once.
    let post: i64 = {
        let mut conn = app.db.get().unwrap();
        posts::table.filter(posts::topic_id.eq(id)).select(posts::id).first(&mut *conn).unwrap()
    };
    let mona = app.another_browser();
    mona.register("mona").await;
    app.set_role("mona", "moderator");
    assert_eq!(mona.post_form(&format!("/admin/posts/{post}/hide"), &[("reason", "spam")]).await.status, 303);
    let page = visitor.get(search).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("Pea soup"), "a hidden post is gone from the kept results");
}

async fn members_pages_share_rows_but_not_their_own_likes_or_marks(app: TestApp) {
    let (author, topic, id) = alices_topic(&app, "Shared rows", "Rye bread.").await;
    let post: i64 = {
        let mut conn = app.db.get().unwrap();
        posts::table.filter(posts::topic_id.eq(id)).select(posts::id).first(&mut *conn).unwrap()
    };
    let bob = app.another_browser();
    bob.register("bob").await;
    let carol = app.another_browser();
    carol.register("carol").await;
    assert!(bob.get(&topic).await.body.contains("Rye bread."));

    // A member's page is rendered from the rows kept under the version...
    let before = kept_at_version(&app, &bob, &[&topic]).await;
    behind_the_versions_back(&app, before, |conn| {
        diesel::update(posts::table.find(post)).set(posts::body_html.eq("<p>Spelt bread.</p>")).execute(conn).unwrap();
    });
    assert!(carol.get(&topic).await.body.contains("Rye bread."), "another member shares the kept rows");
    // ... until it moves.
    move_version(&app, before + 10);
    assert!(carol.get(&topic).await.body.contains("Spelt bread."));

    // Members' lists are rendered from shared rows the same way, their marks their own.
    for list in ["/", "/latest", "/c/1/general"] {
        assert!(carol.get(list).await.body.contains("Shared rows"), "{list}");
    }
    let before = kept_at_version(&app, &carol, &["/", "/latest", "/c/1/general"]).await;
    behind_the_versions_back(&app, before, |conn| {
        diesel::update(topics::table.find(id)).set(topics::title.eq("Shared loaves")).execute(conn).unwrap();
    });
    for list in ["/", "/latest", "/c/1/general"] {
        let page = bob.get(list).await;
        assert!(page.body.contains("Shared rows") && !page.body.contains("Shared loaves"), "{list}: the kept rows");
    }
    move_version(&app, before + 10);
    for list in ["/", "/latest", "/c/1/general"] {
        assert!(bob.get(list).await.body.contains("Shared loaves"), "{list}");
    }
    // A reply by alice is new to carol, who had read the topic: her own mark, on rows
    // every member shares.
    author.post_form(&format!("/t/{id}/reply"), &[("body", "And butter.")]).await;
    let marks = carol.get("/latest").await.texts(".new-posts");
    assert_eq!(marks, vec!["1 new".to_string()], "carol's unread count");

    // Likes are each member's own, and the count moves for everyone at once.
    assert_eq!(bob.post_form(&format!("/p/{post}/like"), &[]).await.status, 303);
    let bobs = bob.get(&topic).await;
    let carols = carol.get(&topic).await;
    assert!(
        bobs.texts(".post-actions button").contains(&"Unlike".to_string()),
        "{:?}",
        bobs.texts(".post-actions button")
    );
    assert!(carols.texts(".post-actions button").contains(&"Like".to_string()));
    assert!(!carols.texts(".post-actions button").contains(&"Unlike".to_string()));
    assert!(carols.texts(".likes").contains(&"1 like".to_string()), "{:?}", carols.texts(".likes"));
    // The member's statement asks about the likes of the posts the page showed last; a
    // post written since (which bob likes before he sees it on the page) is asked about
    // again, not missed.
    author.post_form(&format!("/t/{id}/reply"), &[("body", "And jam.")]).await;
    let jam: i64 = {
        let mut conn = app.db.get().unwrap();
        let of_topic = posts::table.filter(posts::topic_id.eq(id));
        of_topic.filter(posts::post_number.eq(3)).select(posts::id).first(&mut *conn).unwrap()
    };
    assert_eq!(bob.post_form(&format!("/p/{jam}/like"), &[]).await.status, 303);
    let buttons = bob.get(&topic).await.texts(".post-actions button");
    assert_eq!(buttons.iter().filter(|b| *b == "Unlike").count(), 2, "both of bob's likes: {buttons:?}");
    // A post a moderator hides is hidden on members' pages at once.
    let mona = app.another_browser();
    mona.register("mona").await;
    app.set_role("mona", "moderator");
    assert_eq!(mona.post_form(&format!("/admin/posts/{post}/hide"), &[("reason", "spam")]).await.status, 303);
    let page = carol.get(&topic).await;
    assert!(!page.body.contains("Spelt bread.") && page.body.contains("hidden by a moderator"));
}

async fn a_change_through_another_instance_reaches_this_ones_cache(app: TestApp) {
    // A second instance on the same database, as behind a load balancer.
    let mut config = app.config.clone();
    config.bind = "127.0.0.1:0".into();
    config.public_url = "http://127.0.0.1:0".into();
    let other = agora::App::build(config).unwrap();
    let other_address = format!("http://127.0.0.1:{}", other.port());
    actix_web::rt::spawn(other.run_until_stopped());
    let (author, topic, id) = alices_topic(&app, "Two instances", "First words.").await;
    let client = reqwest::Client::new();
    let read_other =
        || async { client.get(format!("{other_address}{topic}")).send().await.unwrap().text().await.unwrap() };
    assert!(read_other().await.contains("First words."));
    author.post_form(&format!("/t/{id}/reply"), &[("body", "Second words.")]).await;
    assert!(read_other().await.contains("Second words."), "the other instance's cached page was not served");
}

/// The busiest pages look the session up in their own statement (with the member's
/// position, watch level and the content version): a session that ended or expired
/// while the browser still sends its cookie reads them as a visitor, and a member's
/// page is never kept for visitors.
async fn the_busiest_pages_read_an_ended_session_as_a_visitor(app: TestApp) {
    use agora::db::schema::{sessions, users};
    let (alice, topic, _) = alices_topic(&app, "Sessions on busy pages", "The body of the topic.").await;
    let pages = ["/", "/latest", "/c/1/general", topic.as_str()];
    for path in pages {
        let page = alice.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(page.texts(".signed-in-as strong"), vec!["alice"], "{path}");
    }
    // Her page was not kept for the next visitor.
    for path in pages {
        assert!(app.get(path).await.texts(".signed-in-as").is_empty(), "{path}");
    }
    let alice_id: i64 = {
        let mut conn = app.db.get().unwrap();
        users::table.filter(users::username.eq("alice")).select(users::id).first(&mut *conn).unwrap()
    };
    let end_sessions = |change: &dyn Fn(&mut agora::db::DbConn)| change(&mut app.db.get().unwrap());
    // Expired (past its time, as a browser session a day idle is) ...
    end_sessions(&|c| {
        diesel::update(sessions::table.filter(sessions::user_id.eq(alice_id)))
            .set(sessions::expires_at.eq(agora::db::now() - 1))
            .execute(c)
            .unwrap();
    });
    for path in pages {
        let page = alice.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.texts(".signed-in-as").is_empty(), "expired session still signed in on {path}");
        assert!(page.body.contains("/login"), "{path} offers no sign-in");
    }
    // ... or ended (signed out elsewhere, or by staff).
    end_sessions(&|c| {
        diesel::delete(sessions::table.filter(sessions::user_id.eq(alice_id))).execute(c).unwrap();
    });
    for path in pages {
        let page = alice.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.texts(".signed-in-as").is_empty(), "ended session still signed in on {path}");
    }
}
