//! Public profiles and pictures: what a profile shows to whom, names only when the member
//! chose to show them, author names linking to profiles, pictures beside posts with
//! caching by version, and no profile left after deletion.

use agora::db::schema::users;
use diesel::prelude::*;

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    a_profile_shows_what_is_public_and_names_only_when_chosen,
    author_names_link_to_profiles_and_posts_show_pictures,
    pictures_are_cached_by_version,
    a_deleted_member_has_no_profile,
);

fn post_id_on(page: &crate::helpers::Page, number: usize) -> i64 {
    let html = page.html();
    let selector = scraper::Selector::parse("form[action$='/like']").unwrap();
    let action = html.select(&selector).nth(number).unwrap().value().attr("action").unwrap().to_string();
    action.split('/').nth(2).unwrap().parse().unwrap()
}

async fn a_profile_shows_what_is_public_and_names_only_when_chosen(app: TestApp) {
    app.register("alice").await;
    app.post_form("/account/profile", &[("username", "alice"), ("first_name", "Alice"), ("last_name", "Liddell")])
        .await;
    let topic = app.create_topic("Rabbit holes", "Down we go.").await;
    let id: i64 = topic.split('/').nth(2).unwrap().parse().unwrap();
    assert_eq!(app.post_form(&format!("/t/{id}/reply"), &[("body", "A second thought.")]).await.status, 303);

    let visitor = app.another_browser();
    let profile = visitor.get("/u/alice").await;
    assert_eq!(profile.status, 200);
    assert_eq!(profile.texts("h1"), vec!["alice"]);
    assert_eq!(profile.texts(".post-count"), vec!["2 posts"]);
    assert_eq!(profile.texts(".topic-count"), vec!["1 topic"]);
    assert_eq!(profile.texts(".recent-topics a"), vec!["Rabbit holes"]);
    assert_eq!(profile.texts(".recent-posts .excerpt"), vec!["A second thought.", "Down we go."]);
    assert!(profile.texts(".member-name").is_empty(), "names are not published unless chosen");
    for secret in ["Liddell", "alice@example.org", "127.0.0.1"] {
        // The forum's own address (in its links) is not a member's.
        assert!(!profile.body.replace(&app.address, "").contains(secret), "{secret} is not on the profile");
    }

    // She chooses to show her name; the choice is stored and in her export.
    assert_eq!(app.post_form("/account/profile/visibility", &[("show_name", "yes")]).await.status, 303);
    assert_eq!(visitor.get("/u/alice").await.texts(".member-name"), vec!["Alice Liddell"]);
    let export: serde_json::Value =
        app.client.get(app.url("/account/export")).send().await.unwrap().json().await.unwrap();
    assert_eq!(export["profile"]["show_name_on_profile"], true);
    app.post_form("/account/profile/visibility", &[]).await;
    assert!(visitor.get("/u/alice").await.texts(".member-name").is_empty());

    // One address per member; no profile for nobody or for the Anonymous account.
    let upper = visitor.get("/u/ALICE").await;
    assert_eq!((upper.status, upper.location.as_deref()), (301, Some("/u/alice")));
    assert_eq!(visitor.get("/u/nobody").await.status, 404);
    assert_eq!(visitor.get("/u/anonymous").await.status, 404);
    let alice = app.user_id("alice").unwrap();
    let by_id = visitor.get(&format!("/u/by-id/{alice}")).await;
    assert_eq!((by_id.status, by_id.location.as_deref()), (303, Some("/u/alice")));

    // A hidden reply leaves what others see, and stays, marked, for her and for staff.
    let moderator = app.another_browser();
    moderator.register("mod").await;
    app.set_role("mod", "moderator");
    let reply_id = post_id_on(&moderator.get(&topic).await, 1);
    moderator.post_form(&format!("/admin/posts/{reply_id}/hide"), &[("reason", "off topic")]).await;
    let seen_by_visitor = visitor.get("/u/alice").await;
    assert_eq!(seen_by_visitor.texts(".post-count"), vec!["1 post"]);
    assert_eq!(seen_by_visitor.texts(".recent-posts .excerpt"), vec!["Down we go."]);
    let own = app.get("/u/alice").await;
    assert_eq!(own.texts(".post-count"), vec!["2 posts"]);
    assert_eq!(own.texts(".recent-posts .staff-note"), vec!["not public"]);
    assert_eq!(moderator.get("/u/alice").await.texts(".recent-posts .staff-note"), vec!["not public"]);
}

async fn author_names_link_to_profiles_and_posts_show_pictures(app: TestApp) {
    app.register("bea").await;
    let topic = app.create_topic("Pictures beside posts", "Searchable words here.").await;
    let bea = app.user_id("bea").unwrap();
    let visitor = app.another_browser();
    let page = visitor.get(&topic).await;
    let html = page.html();
    let author = scraper::Selector::parse("article.post a.author").unwrap();
    let link = html.select(&author).next().expect("the author links to the profile");
    assert_eq!(link.value().attr("href"), Some("/u/bea"));
    let picture = scraper::Selector::parse("article.post img.avatar-small").unwrap();
    let img = html.select(&picture).next().expect("each post shows its author's picture");
    assert_eq!(img.value().attr("src"), Some(format!("/avatars/{bea}?v=0").as_str()));
    assert_eq!((img.value().attr("width"), img.value().attr("height")), (Some("48"), Some("48")));
    assert!(img.value().attr("alt").is_some());

    for list in ["/", "/latest", "/c/1/general", "/search?q=searchable"] {
        let page = visitor.get(list).await;
        let html = page.html();
        let hrefs: Vec<_> = html
            .select(&scraper::Selector::parse("a.author").unwrap())
            .filter_map(|a| a.value().attr("href"))
            .collect();
        assert!(hrefs.contains(&"/u/bea"), "{list} links the author: {hrefs:?}");
    }
}

async fn pictures_are_cached_by_version(app: TestApp) {
    app.register("cal").await;
    let cal = app.user_id("cal").unwrap();
    let current = app.client.get(app.url(&format!("/avatars/{cal}?v=0"))).send().await.unwrap();
    assert_eq!(current.status(), 200);
    assert_eq!(current.headers()["content-type"], "image/svg+xml");
    // A member's picture is kept by their browser, never by a shared cache (P9, P12).
    assert_eq!(current.headers()["cache-control"], "private, max-age=31536000, immutable");
    let etag = current.headers()["etag"].to_str().unwrap().to_string();
    assert!(current.text().await.unwrap().contains(">C</text>"), "the generated picture shows the initial");
    let again =
        app.client.get(app.url(&format!("/avatars/{cal}?v=0"))).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());

    // A rename changes the generated picture, so its version and URL change.
    app.post_form("/account/profile", &[("username", "dot"), ("first_name", ""), ("last_name", "")]).await;
    let mut conn = app.db.get().unwrap();
    let version: i64 = users::table.find(cal).select(users::avatar_version).first(&mut *conn).unwrap();
    assert_eq!(version, 1);
    let stale =
        app.client.get(app.url(&format!("/avatars/{cal}?v=0"))).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(stale.status(), 200, "the old ETag no longer matches");
    assert_eq!(stale.headers()["cache-control"], "private, max-age=300", "an old version is not kept for long");
    assert!(stale.text().await.unwrap().contains(">D</text>"));
    let topic = app.create_topic("New name", "Same member.").await;
    assert!(app.get(&topic).await.body.contains(&format!("src=\"/avatars/{cal}?v=1\"")));
    assert_eq!(app.get("/avatars/999999").await.status, 404);
}

async fn a_deleted_member_has_no_profile(app: TestApp) {
    let password = app.register("dana").await;
    let topic = app.create_topic("Staying behind", "My words stay.").await;
    let dana = app.user_id("dana").unwrap();
    let deleted = app.post_form("/account/delete", &[("password", &password), ("confirm_username", "dana")]).await;
    assert_eq!(deleted.location.as_deref(), Some("/account/deleted"));
    let visitor = app.another_browser();
    assert_eq!(visitor.get("/u/dana").await.status, 404);
    assert_eq!(visitor.get(&format!("/u/by-id/{dana}")).await.status, 404);
    assert_eq!(visitor.get(&format!("/avatars/{dana}")).await.status, 404);
    let page = visitor.get(&topic).await;
    assert_eq!(page.texts("article.post .author"), vec!["Anonymous"]);
    assert!(!page.body.contains("/u/dana"));
    assert!(
        page.html().select(&scraper::Selector::parse("article.post a.author").unwrap()).next().is_none(),
        "Anonymous links nowhere"
    );
}
