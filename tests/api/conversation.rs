//! Talking to each other: mentions link and notify (only real members, at most ten,
//! never in code), quotes name and link their post and notify its author, replies notify
//! the topic's starter, likes are grouped, nobody hears about their own actions; the
//! notifications page, the header's count, opening and marking read; and what deletion
//! leaves of all that.

use agora::db::schema::{notifications, post_mentions, posts, users};
use diesel::prelude::*;

use crate::helpers::{spawn_app_with, topic_id, Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    mentions_link_by_id_and_notify_real_members_only,
    replies_and_quotes_notify_once_and_notifications_open_at_the_post,
    likes_are_grouped_into_one_notification,
    watching_tells_of_every_reply_and_muting_of_nothing,
    deleting_a_member_unlinks_their_mentions_and_quotes_and_drops_what_they_caused,
    blocking_collapses_posts_and_silences_the_blocked_member,
    tracking_counts_only_and_categories_are_watched_or_muted,
    turning_off_watching_own_topics_is_kept,
);

/// (kind, actor username) of each of a member's notifications, oldest first.
fn notifications_of(app: &TestApp, username: &str) -> Vec<(String, Option<String>, i64)> {
    let id = app.user_id(username).unwrap();
    let mut conn = app.db.get().unwrap();
    notifications::table
        .left_join(users::table.on(users::id.nullable().eq(notifications::actor_id)))
        .filter(notifications::user_id.eq(id))
        .order(notifications::id)
        .select((notifications::kind, users::username.nullable(), notifications::others))
        .load(&mut *conn)
        .unwrap()
}

fn body_html(app: &TestApp, topic: i64, number: i64) -> String {
    let mut conn = app.db.get().unwrap();
    posts::table
        .filter(posts::topic_id.eq(topic))
        .filter(posts::post_number.eq(number))
        .select(posts::body_html)
        .first(&mut *conn)
        .unwrap()
}

/// Members straight into the table: mentions need names that exist, not sign-ins.
fn add_members(app: &TestApp, names: &[String]) {
    let mut conn = app.db.get().unwrap();
    for name in names {
        diesel::insert_into(users::table)
            .values((
                users::username.eq(name),
                users::username_key.eq(name.to_lowercase()),
                users::role.eq("member"),
                users::created_at.eq(1),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
}

async fn mentions_link_by_id_and_notify_real_members_only(app: TestApp) {
    let alice = app.another_browser();
    alice.register("alice").await;
    app.register("bob").await;
    add_members(&app, &["carol".to_string()]);
    let topic = app
        .create_topic(
            "Hello all",
            "Thanks @Alice and @carol, and @nobody. Not me: @bob.\n\n`@carol` in code\n\n```\n@alice\n```",
        )
        .await;
    let id = topic_id(&topic);
    assert_eq!(notifications_of(&app, "alice"), vec![("mention".into(), Some("bob".into()), 0)]);
    assert_eq!(notifications_of(&app, "carol"), vec![("mention".into(), Some("bob".into()), 0)]);
    assert!(notifications_of(&app, "bob").is_empty(), "nobody hears about their own post");
    let alice_id = app.user_id("alice").unwrap();
    let html = body_html(&app, id, 1);
    assert!(html.contains(&format!("href=\"/u/by-id/{alice_id}\"")), "{html}");
    assert_eq!(html.matches("class=\"mention\"").count(), 3, "alice, carol and bob himself; not in code: {html}");
    assert!(html.contains("@nobody") && !html.contains("/u/by-id/0"));
    let page = app.get(&topic).await;
    assert_eq!(page.texts(".post-body a.mention"), vec!["@Alice", "@carol", "@bob"]);

    // The link follows the id: renamed, alice is still found.
    alice.post_form("/account/profile", &[("username", "alicia"), ("first_name", ""), ("last_name", "")]).await;
    let follow = app.get(&format!("/u/by-id/{alice_id}")).await;
    assert_eq!(follow.location.as_deref(), Some("/u/alicia"));

    // Twelve names: the first ten are told.
    let names: Vec<String> = (1..=12).map(|n| format!("member{n:02}")).collect();
    add_members(&app, &names);
    let many = names.iter().map(|n| format!("@{n}")).collect::<Vec<_>>().join(" ");
    assert_eq!(app.post_form(&format!("/t/{id}/reply"), &[("body", &many)]).await.status, 303);
    let told: usize = names.iter().map(|n| notifications_of(&app, n).len()).sum();
    assert_eq!(told, 10);
    assert!(notifications_of(&app, "member11").is_empty() && notifications_of(&app, "member12").is_empty());
    assert_eq!(body_html(&app, id, 2).matches("class=\"mention\"").count(), 12, "all are linked");
}

async fn replies_and_quotes_notify_once_and_notifications_open_at_the_post(app: TestApp) {
    app.register("alice").await;
    let topic = app.create_topic("Soup recipes", "Start with **onions**.").await;
    let id = topic_id(&topic);
    let bob = app.another_browser();
    bob.register("bob").await;
    assert_eq!(bob.post_form(&format!("/t/{id}/reply"), &[("body", "And garlic.")]).await.status, 303);
    assert_eq!(notifications_of(&app, "alice"), vec![("reply".into(), Some("bob".into()), 0)]);

    // Quote: the form starts with the post, attributed; the saved reply links it.
    let form = bob.get(&format!("/t/{id}/reply?quote=1")).await;
    let quoted = form.field("body").unwrap();
    assert_eq!(quoted, format!("[quote=\"alice, post:1, topic:{id}\"]\nStart with **onions**.\n[/quote]\n\n"));
    let body = format!("{quoted}I disagree.");
    assert_eq!(bob.post_form(&format!("/t/{id}/reply"), &[("body", &body)]).await.status, 303);
    let kinds: Vec<String> = notifications_of(&app, "alice").into_iter().map(|n| n.0).collect();
    assert_eq!(kinds, vec!["reply", "quote"], "a quote in her topic is one notification, not two");
    let page = app.get(&topic).await;
    assert_eq!(page.texts("#post-3 aside.quote .quote-by"), vec!["alice wrote:"]);
    assert_eq!(page.texts("#post-3 aside.quote blockquote strong"), vec!["onions"]);
    assert!(body_html(&app, id, 3).contains(&format!("href=\"/t/{id}/soup-recipes/1\"")));
    assert_eq!(bob.get(&format!("/t/{id}/reply?quote=99")).await.status, 404);
    assert_eq!(page.texts("#post-1 .quote-action"), vec!["Quote"]);

    // Her own reply tells nobody; the header counts what is unread.
    app.post_form(&format!("/t/{id}/reply"), &[("body", "Thanks both.")]).await;
    assert_eq!(notifications_of(&app, "alice").len(), 2);
    assert_eq!(
        notifications_of(&app, "bob"),
        vec![("reply".into(), Some("alice".into()), 0)],
        "bob replied: he watches it"
    );
    assert_eq!(app.get("/").await.texts(".unread-count"), vec!["(2)"]);
    let list = app.get("/notifications").await;
    assert_eq!(
        list.texts(".notification.unread .what"),
        vec!["quoted you in “Soup recipes”", "replied in “Soup recipes”"]
    );
    assert_eq!(list.texts(".notification a.author"), vec!["bob", "bob"]);

    // Opening one marks it read and lands on the post; someone else's is not found.
    let html = list.html();
    let first = scraper::Selector::parse(".notification a.what").unwrap();
    let href = html.select(&first).next().unwrap().value().attr("href").unwrap().to_string();
    assert_eq!(bob.get(&href).await.status, 404, "not bob's");
    let opened = app.get(&href).await;
    assert_eq!(opened.location, Some(format!("/t/{id}/soup-recipes#post-3")));
    assert_eq!(app.get("/").await.texts(".unread-count"), vec!["(1)"]);
    assert_eq!(app.post_form("/notifications/read", &[]).await.status, 303);
    assert!(app.get("/").await.texts(".unread-count").is_empty());
    assert_eq!(app.get("/notices").await.location.as_deref(), Some("/notifications"));
    assert_eq!(app.another_browser().get("/notifications").await.status, 303, "visitors sign in first");

    // Daily maintenance deletes notifications past their retention (90 days).
    let mut conn = app.db.get().unwrap();
    let old = days_ago(91);
    diesel::update(notifications::table.filter(notifications::kind.eq("reply")))
        .set(notifications::created_at.eq(old))
        .execute(&mut *conn)
        .unwrap();
    drop(conn);
    agora::ops::maintenance::purge_expired(&app.db, &app.config).unwrap();
    let kinds: Vec<String> = notifications_of(&app, "alice").into_iter().map(|n| n.0).collect();
    assert_eq!(kinds, vec!["quote"]);
}

fn days_ago(days: i64) -> i64 {
    agora::db::now() - days * 86400
}

async fn likes_are_grouped_into_one_notification(app: TestApp) {
    app.register("alice").await;
    let topic = app.create_topic("Like me", "Please.").await;
    let page = app.get(&topic).await;
    let html = page.html();
    let edit = scraper::Selector::parse("a[href$='/edit']").unwrap();
    let post_id: i64 =
        html.select(&edit).next().unwrap().value().attr("href").unwrap().split('/').nth(2).unwrap().parse().unwrap();
    assert_eq!(app.post_form(&format!("/p/{post_id}/like"), &[]).await.status, 400, "not one's own post");
    for name in ["bob", "carl", "dora"] {
        let liker = app.another_browser();
        liker.register(name).await;
        assert_eq!(liker.post_form(&format!("/p/{post_id}/like"), &[]).await.status, 303);
    }
    assert_eq!(notifications_of(&app, "alice"), vec![("like".into(), Some("dora".into()), 2)]);
    let list = app.get("/notifications").await;
    assert_eq!(
        list.texts(".notification"),
        vec![format!("New: dora and 2 others liked your post in “Like me” {}", list.texts(".notification time")[0])]
    );
    // Once read, the next like starts a new one.
    app.post_form("/notifications/read", &[]).await;
    let eve = app.another_browser();
    eve.register("eve").await;
    eve.post_form(&format!("/p/{post_id}/like"), &[]).await;
    assert_eq!(notifications_of(&app, "alice").len(), 2);
}

async fn deleting_a_member_unlinks_their_mentions_and_quotes_and_drops_what_they_caused(app: TestApp) {
    let alice = app.another_browser();
    let password = alice.register("alice").await;
    let topic = alice.create_topic("Her topic", "Her words.").await;
    let id = topic_id(&topic);
    app.register("bob").await;
    let quote = app.get(&format!("/t/{id}/reply?quote=1")).await.field("body").unwrap();
    let body = format!("{quote}Right, @alice?");
    assert_eq!(app.post_form(&format!("/t/{id}/reply"), &[("body", &body)]).await.status, 303);
    alice.post_form(&format!("/t/{id}/reply"), &[("body", "Yes, @bob.")]).await;
    let alice_id = app.user_id("alice").unwrap();
    assert_eq!(notifications_of(&app, "bob").len(), 1, "alice mentioned bob");

    // Her export lists her notifications and the posts that refer to her.
    let export: serde_json::Value =
        alice.client.get(alice.url("/account/export")).send().await.unwrap().json().await.unwrap();
    let kinds: Vec<&str> =
        export["notifications"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["mention"], "bob's reply both quotes and mentions her: one notification");
    assert_eq!(export["notifications"][0]["by"], "bob");
    assert_eq!(export["posts_mentioning_or_quoting_you"].as_array().unwrap().len(), 1);

    let deleted = alice.post_form("/account/delete", &[("password", &password), ("confirm_username", "alice")]).await;
    assert_eq!(deleted.location.as_deref(), Some("/account/deleted"));
    let html = body_html(&app, id, 2);
    assert!(!html.contains(&format!("/u/by-id/{alice_id}")), "the mention is plain text now: {html}");
    assert!(html.contains("@alice"), "what bob wrote stays as he wrote it");
    let page = app.get(&topic).await;
    assert_eq!(page.texts("#post-2 .quote-by"), vec!["Anonymous wrote:"], "the quoted post is Anonymous's now");
    assert!(notifications_of(&app, "bob").is_empty(), "what she caused goes with her");
    let mut conn = app.db.get().unwrap();
    let left: i64 =
        post_mentions::table.filter(post_mentions::user_id.eq(alice_id)).count().get_result(&mut *conn).unwrap();
    assert_eq!(left, 0);
    let hers: i64 =
        notifications::table.filter(notifications::user_id.eq(alice_id)).count().get_result(&mut *conn).unwrap();
    assert_eq!(hers, 0);
}

async fn watching_tells_of_every_reply_and_muting_of_nothing(app: TestApp) {
    app.register("alice").await;
    let topic = app.create_topic("Garden plans", "Tomatoes first.").await;
    let id = topic_id(&topic);
    let bob = app.another_browser();
    bob.register("bob").await;
    bob.post_form(&format!("/t/{id}/reply"), &[("body", "Beans too.")]).await;
    assert!(bob.get(&topic).await.texts(".watch-now").join("").contains("watching"), "replying watches the topic");
    let carol = app.another_browser();
    carol.register("carol").await;
    carol.post_form(&format!("/t/{id}/reply"), &[("body", "And basil.")]).await;
    assert_eq!(notifications_of(&app, "bob"), vec![("reply".into(), Some("carol".into()), 0)], "bob watches it");
    assert_eq!(notifications_of(&app, "alice").len(), 2, "the starter hears of both replies");

    // Alice mutes it: not even a mention in it reaches her. Bob goes back to normal.
    let muted = app.post_form(&format!("/t/{id}/watch"), &[("level", "muted")]).await;
    assert_eq!(muted.location, Some(format!("/t/{id}/garden-plans#watching")));
    assert!(app.get(&topic).await.texts(".watch-now").join("").contains("muted"));
    assert_eq!(bob.post_form(&format!("/t/{id}/watch"), &[("level", "normal")]).await.status, 303);
    carol.post_form(&format!("/t/{id}/reply"), &[("body", "Right, @alice?")]).await;
    assert_eq!(notifications_of(&app, "alice").len(), 2, "muted");
    assert_eq!(notifications_of(&app, "bob").len(), 1, "normal: not his topic, no mention");
    assert_eq!(app.post_form(&format!("/t/{id}/watch"), &[("level", "loud")]).await.status, 400);
    assert_eq!(app.post_form("/t/999999/watch", &[("level", "muted")]).await.status, 404);

    let export: serde_json::Value =
        app.client.get(app.url("/account/export")).send().await.unwrap().json().await.unwrap();
    assert_eq!(export["topics_watched_or_muted"], serde_json::json!([{"topic_id": id, "level": "muted"}]));
}

#[actix_web::test]
async fn watching_over_the_limit_gets_a_429_page() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = spawn_app_with(backend, |config| {
            config.rate_limits = agora::web::rate_limit::RateLimits::parse("watch_per_member=2/60").unwrap();
        })
        .await
        else {
            continue;
        };
        app.register("fidget").await;
        let topic = app.create_topic("Toggle", "On and off.").await;
        let id = topic_id(&topic);
        for level in ["watching", "muted"] {
            assert_eq!(app.post_form(&format!("/t/{id}/watch"), &[("level", level)]).await.status, 303, "{backend:?}");
        }
        let refused = app.post_form(&format!("/t/{id}/watch"), &[("level", "normal")]).await;
        assert_eq!(refused.status, 429, "{backend:?}");
        assert!(refused.body.contains("<html"), "{backend:?}: a proper page");
    }
}

async fn blocking_collapses_posts_and_silences_the_blocked_member(app: TestApp) {
    app.register("alice").await;
    let topic = app.create_topic("Quiet please", "A calm topic.").await;
    let id = topic_id(&topic);
    let bob = app.another_browser();
    bob.register("bob").await;
    let carol = app.another_browser();
    carol.register("carol").await;
    let mona = app.another_browser();
    mona.register("mona").await;
    app.set_role("mona", "moderator");

    let profile = app.get("/u/bob").await;
    assert_eq!(profile.texts(".block-form button"), vec!["Block"]);
    let blocked = app.post_form("/u/bob/block", &[]).await;
    assert_eq!(blocked.location.as_deref(), Some("/u/bob"));
    assert_eq!(app.get("/u/bob").await.texts(".block-form button"), vec!["Unblock"]);
    assert_eq!(app.post_form("/u/alice/block", &[]).await.status, 400, "not oneself");
    assert_eq!(app.post_form("/u/mona/block", &[]).await.status, 403, "not staff");
    assert!(app.get("/u/mona").await.texts(".block-form button").is_empty());
    assert_eq!(app.post_form("/u/nobody/block", &[]).await.status, 404);

    // Nothing bob does reaches alice: replies, mentions, quotes, likes.
    bob.post_form(&format!("/t/{id}/reply"), &[("body", "Loud reply, @alice!")]).await;
    let first_post: i64 = {
        let mut conn = app.db.get().unwrap();
        posts::table
            .filter(posts::topic_id.eq(id))
            .filter(posts::post_number.eq(1))
            .select(posts::id)
            .first(&mut *conn)
            .unwrap()
    };
    bob.post_form(&format!("/p/{first_post}/like"), &[]).await;
    carol.post_form(&format!("/t/{id}/reply"), &[("body", "A calm reply.")]).await;
    assert_eq!(notifications_of(&app, "alice"), vec![("reply".into(), Some("carol".into()), 0)]);

    // Bob's post is collapsed for alice, open for everyone else.
    let page = app.get(&topic).await;
    assert_eq!(page.texts("article#post-2 details.blocked-post summary"), vec!["You blocked bob. Show this post"]);
    assert!(page.texts("article#post-3 details.blocked-post").is_empty());
    assert!(carol.get(&topic).await.texts("details.blocked-post").is_empty());
    let account = app.get("/account").await;
    assert_eq!(account.texts(".blocked-members li a"), vec!["bob"]);
    let export: serde_json::Value =
        app.client.get(app.url("/account/export")).send().await.unwrap().json().await.unwrap();
    assert_eq!(export["members_blocked"][0]["username"], "bob");

    // Unblocked: he is heard again.
    assert_eq!(app.post_form("/u/bob/unblock", &[]).await.status, 303);
    bob.post_form(&format!("/t/{id}/reply"), &[("body", "Sorry, @alice.")]).await;
    assert_eq!(notifications_of(&app, "alice").last().unwrap().0, "mention");
    assert!(app.get(&topic).await.texts("details.blocked-post").is_empty());
}

async fn tracking_counts_only_and_categories_are_watched_or_muted(app: TestApp) {
    app.register("alice").await;
    let topic = app.create_topic("Rivers", "The Rhine.").await;
    let id = topic_id(&topic);
    assert_eq!(app.post_form(&format!("/t/{id}/watch"), &[("level", "tracking")]).await.status, 303);
    assert!(app.get(&topic).await.texts(".watch-now").join("").contains("tracking"));
    let bob = app.another_browser();
    bob.register("bob").await;
    bob.post_form(&format!("/t/{id}/reply"), &[("body", "The Danube.")]).await;
    assert!(notifications_of(&app, "alice").is_empty(), "tracking: replies are counted, not told");
    bob.post_form(&format!("/t/{id}/reply"), &[("body", "@alice the Volga?")]).await;
    assert_eq!(notifications_of(&app, "alice"), vec![("mention".into(), Some("bob".into()), 0)]);

    // Carol watches the category: every new topic and reply in it.
    let carol = app.another_browser();
    carol.register("carol").await;
    let watched = carol.post_form("/c/1/watch", &[("level", "watching")]).await;
    assert_eq!(watched.location.as_deref(), Some("/c/1/general#watching"));
    assert!(carol.get("/c/1/general").await.texts(".watch-now").join("").contains("watching"));
    let lakes = bob.create_topic("Lakes", "Baikal.").await;
    bob.post_form(&format!("/t/{}/reply", topic_id(&lakes)), &[("body", "Titicaca.")]).await;
    assert_eq!(
        notifications_of(&app, "carol"),
        vec![("topic".into(), Some("bob".into()), 0), ("reply".into(), Some("bob".into()), 0)]
    );
    let notes = carol.get("/notifications").await.texts(".notification .what");
    assert!(notes.contains(&"started “Lakes”".to_string()), "{notes:?}");

    // Dave mutes the category: his own topic in it tells him nothing, a mention still does.
    let dave = app.another_browser();
    dave.register("dave").await;
    let seas = dave.create_topic("Seas", "The Baltic.").await;
    assert_eq!(dave.post_form("/c/1/watch", &[("level", "muted")]).await.status, 303);
    bob.post_form(&format!("/t/{}/reply", topic_id(&seas)), &[("body", "The Adriatic.")]).await;
    assert!(notifications_of(&app, "dave").is_empty(), "muted category");
    bob.post_form(&format!("/t/{}/reply", topic_id(&seas)), &[("body", "@dave the Aegean?")]).await;
    assert_eq!(notifications_of(&app, "dave").len(), 1);
    assert_eq!(
        dave.post_form("/c/1/watch", &[("level", "tracking")]).await.status,
        400,
        "categories are watched or muted"
    );
    assert_eq!(dave.post_form("/c/999/watch", &[("level", "muted")]).await.status, 404);
    let export: serde_json::Value =
        dave.client.get(dave.url("/account/export")).send().await.unwrap().json().await.unwrap();
    assert_eq!(export["categories_watched_or_muted"], serde_json::json!([{"category_id": 1, "level": "muted"}]));
}

async fn turning_off_watching_own_topics_is_kept(app: TestApp) {
    app.register("alice").await;
    let saved = app
        .post_form(
            "/account/notifications",
            &[
                ("reply", "away"),
                ("topic", "away"),
                ("mention", "away"),
                ("quote", "away"),
                ("like", "off"),
                ("moderation", "each"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    assert!(app
        .get("/account")
        .await
        .html()
        .select(&scraper::Selector::parse("#watch_own[checked]").unwrap())
        .next()
        .is_none());
    let own = app.create_topic("My own", "Mine.").await;
    let bob = app.another_browser();
    bob.register("bob").await;
    let his = bob.create_topic("His", "His.").await;
    app.post_form(&format!("/t/{}/reply", topic_id(&his)), &[("body", "Me too.")]).await;
    assert!(app.get(&his).await.texts(".watch-now").join("").contains("normal"), "replying did not watch it");
    bob.post_form(&format!("/t/{}/reply", topic_id(&own)), &[("body", "Hello.")]).await;
    bob.post_form(&format!("/t/{}/reply", topic_id(&his)), &[("body", "Thanks.")]).await;
    assert!(notifications_of(&app, "alice").is_empty(), "she asked not to be told of replies");
    let refused = app
        .post_form(
            "/account/notifications",
            &[
                ("reply", "loud"),
                ("topic", "away"),
                ("mention", "away"),
                ("quote", "away"),
                ("like", "off"),
                ("moderation", "each"),
            ],
        )
        .await;
    assert_eq!(refused.status, 400);
}

#[actix_web::test]
async fn blocking_over_the_limit_gets_a_429_page() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = spawn_app_with(backend, |config| {
            config.rate_limits = agora::web::rate_limit::RateLimits::parse("block_per_member=2/60").unwrap();
        })
        .await
        else {
            continue;
        };
        app.register("fidget").await;
        add_members(&app, &["target".to_string()]);
        assert_eq!(app.post_form("/u/target/block", &[]).await.status, 303, "{backend:?}");
        assert_eq!(app.post_form("/u/target/unblock", &[]).await.status, 303, "{backend:?}");
        let refused = app.post_form("/u/target/block", &[]).await;
        assert_eq!(refused.status, 429, "{backend:?}");
        assert!(refused.body.contains("<html"), "{backend:?}: a proper page");
    }
}
