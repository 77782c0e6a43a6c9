//! Registration, sign-in and sessions: P4 (hashes only), P17 (13+), policy consent.

use agora::db::schema::{sessions, users};
use diesel::prelude::*;

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    register_stores_member_consent_and_signs_in,
    p4_passwords_are_stored_only_as_argon2id_hashes,
    p17_registration_requires_the_age_and_policy_boxes,
    usernames_and_emails_are_unique_regardless_of_case,
    sign_in_sign_out_and_wrong_password,
    keep_me_signed_in_chooses_the_cookie_lifetime,
    sessions_store_only_a_hash_of_the_cookie_token,
);

async fn register_stores_member_consent_and_signs_in(app: TestApp) {
    let form = app.get("/register").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("I am at least 13 years old"));

    app.register("Alice").await;
    let home = app.get("/").await;
    assert_eq!(home.texts(".signed-in-as strong"), vec!["Alice"]);

    let mut conn = app.db.get().unwrap();
    let (username, email, policy, accepted, age) = users::table
        .filter(users::role.ne("system"))
        .select((
            users::username,
            users::email,
            users::policy_version,
            users::policy_accepted_at,
            users::age_confirmed_at,
        ))
        .first::<(String, Option<String>, Option<String>, Option<i64>, Option<i64>)>(&mut *conn)
        .unwrap();
    assert_eq!(username, "Alice");
    assert_eq!(email.as_deref(), Some("alice@example.org"));
    assert_eq!(policy.as_deref(), Some(agora::privacy::policy::BUNDLED_POLICY_VERSION));
    let now = agora::db::now();
    assert!(accepted.is_some_and(|t| (now - t).abs() < 60));
    assert!(age.is_some_and(|t| (now - t).abs() < 60));
}

async fn p4_passwords_are_stored_only_as_argon2id_hashes(app: TestApp) {
    let password = app.register("hasher").await;
    let mut conn = app.db.get().unwrap();
    let hash: Option<String> =
        users::table.filter(users::role.ne("system")).select(users::password_hash).first(&mut *conn).unwrap();
    let hash = hash.unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    assert!(!hash.contains(&password));
}

async fn p17_registration_requires_the_age_and_policy_boxes(app: TestApp) {
    let page = app
        .post_form(
            "/register",
            &[("username", "young"), ("email", "young@example.org"), ("password", "a-long-enough-password")],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("You must be at least 13 years old"));
    assert!(page.body.contains("accept the privacy policy"));
    // What was typed is kept, except the password.
    assert_eq!(page.field("username").as_deref(), Some("young"));
    assert_eq!(page.field("email").as_deref(), Some("young@example.org"));
    assert_eq!(page.field("password").as_deref(), Some(""));
    let mut conn = app.db.get().unwrap();
    let count: i64 = users::table.filter(users::role.ne("system")).count().get_result(&mut *conn).unwrap();
    assert_eq!(count, 0, "no account without both boxes");
}

async fn usernames_and_emails_are_unique_regardless_of_case(app: TestApp) {
    app.another_browser().register("Carol").await;
    let taken = app
        .post_form(
            "/register",
            &[
                ("username", "CAROL"),
                ("email", "other@example.org"),
                ("password", "a-long-enough-password"),
                ("age_confirmed", "yes"),
                ("accept_policy", "yes"),
            ],
        )
        .await;
    assert_eq!(taken.status, 422);
    assert!(taken.body.contains("That username is already taken"));
    assert_eq!(taken.field("username").as_deref(), Some("CAROL"));

    let email_taken = app
        .post_form(
            "/register",
            &[
                ("username", "carol2"),
                ("email", "Carol@Example.org"),
                ("password", "a-long-enough-password"),
                ("age_confirmed", "yes"),
                ("accept_policy", "yes"),
            ],
        )
        .await;
    assert_eq!(email_taken.status, 422);
    assert!(email_taken.body.contains("already exists"));
}

async fn sign_in_sign_out_and_wrong_password(app: TestApp) {
    let password = app.another_browser().register("dave").await;

    let wrong = app.post_form("/login", &[("login", "dave"), ("password", "not-the-password")]).await;
    assert_eq!(wrong.status, 401);
    let unknown = app.post_form("/login", &[("login", "nobody"), ("password", "not-the-password")]).await;
    assert_eq!(unknown.status, 401);
    // The same words either way: sign-in does not reveal who has an account.
    assert_eq!(wrong.texts("[role=alert]"), unknown.texts("[role=alert]"));
    assert_eq!(wrong.field("login").as_deref(), Some("dave"));

    let ok = app
        .post_form("/login", &[("login", "DAVE@example.org"), ("password", &password), ("next", "/c/1/general")])
        .await;
    assert_eq!(ok.status, 303);
    assert_eq!(ok.location.as_deref(), Some("/c/1/general"));
    assert_eq!(app.get("/").await.texts(".signed-in-as strong"), vec!["dave"]);

    // `next` never leads off-site.
    let other = app.another_browser();
    let offsite =
        other.post_form("/login", &[("login", "dave"), ("password", &password), ("next", "//evil.example")]).await;
    assert_eq!(offsite.location.as_deref(), Some("/"));

    let out = app.post_form("/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert!(app.get("/").await.texts(".signed-in-as").is_empty());
    let mut conn = app.db.get().unwrap();
    let left: i64 = sessions::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(left, 2, "signing out ends this session only; the other two browsers stay signed in");
}

async fn keep_me_signed_in_chooses_the_cookie_lifetime(app: TestApp) {
    let password = app.another_browser().register("erin").await;
    let short = app.post_form("/login", &[("login", "erin"), ("password", &password)]).await;
    let cookie = short.set_cookies.iter().find(|c| c.starts_with("agora_session=")).unwrap();
    assert!(!cookie.to_lowercase().contains("max-age"), "browser-session cookie: {cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"), "not Secure over plain http");

    let long = app
        .another_browser()
        .post_form("/login", &[("login", "erin"), ("password", &password), ("remember", "yes")])
        .await;
    let cookie = long.set_cookies.iter().find(|c| c.starts_with("agora_session=")).unwrap();
    assert!(cookie.contains("Max-Age=2592000"), "30-day cookie: {cookie}");
}

async fn sessions_store_only_a_hash_of_the_cookie_token(app: TestApp) {
    let password = app.another_browser().register("frank").await;
    let page = app.post_form("/login", &[("login", "frank"), ("password", &password)]).await;
    let cookie = page.set_cookies.iter().find(|c| c.starts_with("agora_session=")).unwrap();
    let token = cookie.trim_start_matches("agora_session=").split(';').next().unwrap();
    let mut conn = app.db.get().unwrap();
    let stored: Vec<(String, String)> =
        sessions::table.select((sessions::token_hash, sessions::ip)).load(&mut *conn).unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|(hash, _)| hash != token && hash.len() == 64));
    assert!(stored.iter().any(|(hash, _)| *hash == agora::web::tokens::hash_token(token)));
    assert!(stored.iter().all(|(_, ip)| ip == "127.0.0.1"));
}

#[actix_web::test]
async fn secure_cookies_when_the_public_url_is_https() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Backend::Sqlite, |config| {
        config.public_url = "https://forum.example.org".into();
    })
    .await
    .unwrap();
    let response = app.client.get(app.url("/")).send().await.unwrap();
    // Hole 10: browsers are told to use https only from now on.
    assert_eq!(response.headers()["strict-transport-security"], "max-age=31536000");
    // Hole 12: the `__Host-` prefix, which browsers accept only when Secure, site-wide.
    let set_cookies: Vec<String> =
        response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    let cookie = set_cookies.iter().find(|c| c.starts_with("__Host-agora_csrf=")).expect("a token cookie");
    assert!(cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"), "{cookie}");
}

/// Several instances share one PostgreSQL database and no memory: a member signed in
/// through one instance is signed in on the other, and a form from one is accepted by the
/// other (sessions are rows, CSRF tokens are cookies).
#[actix_web::test]
async fn two_instances_share_sessions_and_forms_through_postgres() {
    let Some(first) = crate::helpers::spawn_app(crate::helpers::Backend::Postgres).await else { return };
    let mut config = first.config.clone();
    config.bind = "127.0.0.1:0".into();
    config.public_url = "http://127.0.0.1:0".into();
    let second = agora::App::build(config).expect("a second instance starts on the same database");
    let second_address = format!("http://127.0.0.1:{}", second.port());
    actix_web::rt::spawn(second.run_until_stopped());

    first.register("roamer").await;
    // The same browser (cookies belong to the host, not the port) reaches the other instance.
    let page = first.get_absolute(&format!("{second_address}/")).await;
    assert_eq!(page.texts(".signed-in-as strong"), vec!["roamer"]);
    let token = first.csrf_token().await;
    let posted = first
        .client
        .post(format!("{second_address}/c/1/new"))
        .form(&[("csrf_token", token.as_str()), ("title", "Written on instance two"), ("body", "hello")])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 303);
    assert!(first.get("/c/1/general").await.body.contains("Written on instance two"), "instance one sees it");
}
