//! CSRF, sign-in walls and what pages may load.

use agora::db::schema::{posts, topics, users};
use diesel::prelude::*;

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    posts_without_a_valid_csrf_token_are_refused_and_change_nothing,
    writing_needs_a_signed_in_member,
    pages_load_nothing_from_other_origins,
);

async fn posts_without_a_valid_csrf_token_are_refused_and_change_nothing(app: TestApp) {
    app.register("nina").await;
    let no_token = app.post_raw("/c/1/new", &[("title", "Forged"), ("body", "forged")], &[]).await;
    assert_eq!(no_token.status, 403);
    assert!(no_token.body.contains("did not come from this site"));
    let wrong = app
        .post_raw("/c/1/new", &[("csrf_token", "x".repeat(43).as_str()), ("title", "Forged"), ("body", "b")], &[])
        .await;
    assert_eq!(wrong.status, 403);
    // A browser with no token cookie at all (a cross-site form) is refused too.
    let stranger = app.another_browser();
    let forged = stranger
        .post_raw(
            "/register",
            &[
                ("csrf_token", &app.csrf_token().await),
                ("username", "forged"),
                ("email", "forged@example.org"),
                ("password", "a-long-enough-password"),
                ("age_confirmed", "yes"),
                ("accept_policy", "yes"),
            ],
            &[],
        )
        .await;
    assert_eq!(forged.status, 403);

    let mut conn = app.db.get().unwrap();
    let (topic_count, user_count): (i64, i64) = (
        topics::table.count().get_result(&mut *conn).unwrap(),
        users::table.filter(users::role.ne("system")).count().get_result(&mut *conn).unwrap(),
    );
    assert_eq!((topic_count, user_count), (0, 1));
}

async fn writing_needs_a_signed_in_member(app: TestApp) {
    let form = app.get("/c/1/new").await;
    assert_eq!(form.status, 303);
    assert_eq!(form.location.as_deref(), Some("/login?next=%2Fc%2F1%2Fnew"));
    let post = app.post_form("/c/1/new", &[("title", "Anonymous topic"), ("body", "text")]).await;
    assert_eq!(post.status, 303);
    assert!(post.location.unwrap().starts_with("/login"));
    let mut conn = app.db.get().unwrap();
    let count: i64 = posts::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(count, 0);
}

async fn pages_load_nothing_from_other_origins(app: TestApp) {
    app.register("olivia").await;
    let path = app.create_topic("Images", "![tracker](https://tracker.example/pixel.gif)").await;
    let response = app.client.get(app.url(&path)).send().await.unwrap();
    let csp = response.headers().get("content-security-policy").unwrap().to_str().unwrap().to_string();
    assert!(csp.contains("default-src 'self'") && csp.contains("img-src 'self'"));
    let body = response.text().await.unwrap();
    let page = scraper::Html::parse_document(&body);
    assert!(
        page.select(&scraper::Selector::parse(".post-body img").unwrap()).next().is_none(),
        "images in posts become links"
    );
    let pictures: Vec<_> =
        page.select(&scraper::Selector::parse("img").unwrap()).filter_map(|img| img.value().attr("src")).collect();
    assert!(pictures.iter().all(|src| src.starts_with("/avatars/")), "only members' pictures, from here: {pictures:?}");
    for attribute in ["src=\"http", "href=\"//", "src=\"//"] {
        assert!(!body.contains(attribute), "{attribute} in page");
    }
    assert!(body.contains(r#"<link rel="stylesheet" href="/static/agora.css">"#));
    assert_eq!(app.get("/static/agora.css").await.status, 200);
}
