//! Bad input gets a clear message with the input kept, or a proper error page.

use agora::db::schema::{posts, topics};
use diesel::prelude::*;

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    registration_explains_each_invalid_field,
    topic_form_keeps_input_on_bad_title_or_body,
    replies_and_edits_refuse_empty_and_overlong_bodies,
    unknown_and_malformed_addresses_get_error_pages,
    oversized_request_bodies_get_413,
);

async fn registration_explains_each_invalid_field(app: TestApp) {
    let cases = [
        ("ab", "ok@example.org", "a-long-enough-password", "3 to 20 characters"),
        ("has space", "ok@example.org", "a-long-enough-password", "only letters, digits"),
        ("validname", "not-an-email", "a-long-enough-password", "Enter an e-mail address"),
        ("validname", "ok@example.org", "short", "at least 10 characters"),
        ("validname", "ok@example.org", "validname", "at least 10 characters"),
        ("validname1", "ok@example.org", "validname1", "must not be your username"),
    ];
    for (username, email, password, message) in cases {
        let page = app
            .post_form(
                "/register",
                &[
                    ("username", username),
                    ("email", email),
                    ("password", password),
                    ("age_confirmed", "yes"),
                    ("accept_policy", "yes"),
                ],
            )
            .await;
        assert_eq!(page.status, 422, "{username}/{email}");
        assert!(page.body.contains(message), "expected {message:?} for {username}/{email}/{password}");
        assert_eq!(page.field("username").as_deref(), Some(username));
        assert_eq!(page.field("email").as_deref(), Some(email));
        assert_eq!(page.field("password").as_deref(), Some(""));
    }
}

async fn topic_form_keeps_input_on_bad_title_or_body(app: TestApp) {
    app.register("pat").await;
    let empty_title = app.post_form("/c/1/new", &[("title", "   "), ("body", "My careful text")]).await;
    assert_eq!(empty_title.status, 422);
    assert!(empty_title.body.contains("Give your topic a title."));
    assert_eq!(empty_title.field("body").as_deref(), Some("My careful text"));

    let long_title = "t".repeat(151);
    let page = app.post_form("/c/1/new", &[("title", &long_title), ("body", "")]).await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("3 to 150 characters") && page.body.contains("Write something"));
    assert_eq!(page.field("title").as_deref(), Some(long_title.as_str()));

    assert_eq!(app.post_form("/c/999/new", &[("title", "Lost"), ("body", "x")]).await.status, 404);
    let mut conn = app.db.get().unwrap();
    let (topic_count, post_count): (i64, i64) =
        (topics::table.count().get_result(&mut *conn).unwrap(), posts::table.count().get_result(&mut *conn).unwrap());
    assert_eq!((topic_count, post_count), (0, 0), "nothing half-written");
}

async fn replies_and_edits_refuse_empty_and_overlong_bodies(app: TestApp) {
    app.register("quinn").await;
    let path = app.create_topic("Limits", "fine").await;
    let id: i64 = path.split('/').nth(2).unwrap().parse().unwrap();

    let empty = app.post_form(&format!("/t/{id}/reply"), &[("body", "  \n ")]).await;
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("Write something in the post."));

    let long = "x".repeat(32_001);
    let too_long = app.post_form(&format!("/t/{id}/reply"), &[("body", &long)]).await;
    assert_eq!(too_long.status, 422);
    assert!(too_long.body.contains("at most 32000 characters"));
    assert_eq!(too_long.field("body").map(|b| b.len()), Some(32_001));

    let mut conn = app.db.get().unwrap();
    let post_id: i64 = posts::table.select(posts::id).first(&mut *conn).unwrap();
    let edit = app.post_form(&format!("/p/{post_id}/edit"), &[("body", "")]).await;
    assert_eq!(edit.status, 422);
    let (count, body): (i64, String) = (
        posts::table.count().get_result(&mut *conn).unwrap(),
        posts::table.select(posts::body_markdown).first(&mut *conn).unwrap(),
    );
    assert_eq!((count, body.as_str()), (1, "fine"));

    assert_eq!(app.post_form("/t/424242/reply", &[("body", "into the void")]).await.status, 404);
}

async fn unknown_and_malformed_addresses_get_error_pages(app: TestApp) {
    app.register("ruth").await;
    let path = app.create_topic("Only page", "one post").await;

    for (address, status, words) in [
        ("/t/999999/nothing", 404, "Page not found"),
        ("/c/999999/nothing", 404, "Page not found"),
        ("/t/abc/slug", 400, "malformed id"),
        ("/p/notanumber/edit", 400, "malformed id"),
        ("/no/such/page", 404, "Page not found"),
        (&format!("{path}?page=2"), 404, "Page not found"),
        (&format!("{path}?page=0"), 404, "Page not found"),
        (&format!("{path}?page=two"), 400, "malformed parameter"),
        (&format!("{path}/7"), 404, "Page not found"),
        ("/c/1/general?after=garbage", 400, "malformed"),
        ("/c/1/general?after=1.1", 404, "Page not found"),
    ] {
        let page = app.get(address).await;
        assert_eq!(page.status, status, "{address}");
        assert!(page.body.contains("<!DOCTYPE html>"), "{address} is an HTML page");
        assert!(page.body.contains(words), "{address} says {words:?}: {}", page.body);
    }
}

async fn oversized_request_bodies_get_413(app: TestApp) {
    app.register("sam").await;
    let huge = "y".repeat(300 * 1024);
    let page = app.post_form("/c/1/new", &[("title", "Huge"), ("body", &huge)]).await;
    assert_eq!(page.status, 413);
    assert!(page.body.contains("larger than the forum accepts"));
}
