//! Sign in with GitHub against a fake GitHub: P2 (verified e-mail only), P3 (the five
//! fields, stored by us, nothing more), and every way the round trip can go wrong.

use agora::db::schema::{avatars, github_signups, oauth_states, sessions, users};
use diesel::prelude::*;

use crate::fake_github::{tiny_png, Failure, FakeEmail, FakeGithub, FakeUser};
use crate::helpers::{spawn_app, Backend, TestApp};
use crate::on_both_backends_with_github;

on_both_backends_with_github!(
    p2_p3_new_member_joins_with_github_and_only_the_policy_fields_are_stored,
    returning_member_signs_in_without_overwriting_local_changes,
    renamed_github_login_still_finds_the_same_account,
    username_collision_offers_a_free_variant,
    p2_no_verified_primary_email_means_no_account,
    denied_consent_creates_nothing,
    state_mismatch_and_other_browser_are_refused,
    replayed_callback_and_replayed_code_are_refused,
    github_server_errors_and_bad_json_end_on_a_clear_page,
    github_timeout_ends_on_a_clear_page,
    oversized_or_non_image_avatar_gives_the_default_picture,
    local_member_links_and_unlinks_github,
    github_email_matching_a_local_account_is_not_merged,
    reimport_refreshes_names_and_picture_on_request,
);

struct Counts {
    users: i64,
    sessions: i64,
    signups: i64,
    avatars: i64,
}

fn counts(app: &TestApp) -> Counts {
    let mut conn = app.db.get().unwrap();
    Counts {
        users: users::table.filter(users::role.ne("system")).count().get_result(&mut *conn).unwrap(),
        sessions: sessions::table.count().get_result(&mut *conn).unwrap(),
        signups: github_signups::table.count().get_result(&mut *conn).unwrap(),
        avatars: avatars::table.count().get_result(&mut *conn).unwrap(),
    }
}

fn assert_nothing_created(app: &TestApp) {
    let counts = counts(app);
    assert_eq!((counts.users, counts.sessions, counts.signups, counts.avatars), (0, 0, 0, 0));
}

fn octocat() -> FakeUser {
    FakeUser::new(583231, "octocat", Some("Mona Lisa Octocat"))
}

async fn p2_p3_new_member_joins_with_github_and_only_the_policy_fields_are_stored(app: TestApp, github: FakeGithub) {
    github.add_user(octocat());
    github.sign_in_as(583231);

    let login = app.get("/login").await;
    assert!(login.texts("button.github").contains(&"Sign in with GitHub".to_string()));

    let callback = app.github_sign_in().await;
    assert_eq!(callback.location.as_deref(), Some("/auth/github/finish"));
    assert_eq!(counts(&app).users, 0, "no account before the boxes are ticked");

    let consent = app.get("/auth/github/finish").await;
    assert_eq!(consent.status, 200);
    assert_eq!(consent.field("username").as_deref(), Some("octocat"));
    assert!(consent.body.contains("octocat@users.example.com"));
    // Without the boxes: no account, form kept.
    let refused = app.post_form("/auth/github/finish", &[("username", "octocat")]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("at least 13 years old"));
    assert_eq!(counts(&app).users, 0);

    let joined = app
        .post_form(
            "/auth/github/finish",
            &[("username", "octocat"), ("age_confirmed", "yes"), ("accept_policy", "yes")],
        )
        .await;
    assert_eq!(joined.status, 303, "{}", joined.body);
    assert_eq!(app.get("/").await.texts(".signed-in-as strong"), vec!["octocat"]);

    let mut conn = app.db.get().unwrap();
    type Row = (
        i64,
        String,
        Option<String>,
        bool,
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<String>,
    );
    let row: Row = users::table
        .filter(users::role.ne("system"))
        .select((
            users::id,
            users::username,
            users::email,
            users::email_verified,
            users::first_name,
            users::last_name,
            users::github_id,
            users::github_login,
            users::password_hash,
        ))
        .first(&mut *conn)
        .unwrap();
    let user_id = row.0;
    assert_eq!(
        row,
        (
            user_id,
            "octocat".into(),
            Some("octocat@users.example.com".into()),
            true,
            Some("Mona Lisa".into()),
            Some("Octocat".into()),
            Some(583231),
            Some("octocat".into()),
            None
        )
    );
    let (content_type, image): (String, Vec<u8>) =
        avatars::table.find(user_id).select((avatars::content_type, avatars::image)).first(&mut *conn).unwrap();
    assert_eq!((content_type.as_str(), image.clone()), ("image/png", tiny_png(583231u32 as u8)));

    // The picture comes from Agora's origin, with the right bytes and type.
    let picture = app.client.get(app.url(&format!("/avatars/{user_id}"))).send().await.unwrap();
    assert_eq!(picture.status(), 200);
    assert_eq!(picture.headers()["content-type"], "image/png");
    assert!(picture.headers()["cache-control"].to_str().unwrap().contains("max-age"));
    assert_eq!(picture.bytes().await.unwrap().to_vec(), image);

    let account = app.get("/account").await;
    assert_eq!(account.texts("dd.first-name"), vec!["Mona Lisa"]);
    assert_eq!(account.texts("dd.last-name"), vec!["Octocat"]);
    assert_eq!(account.texts("dd.email"), vec!["octocat@users.example.com (verified)"]);
    assert!(account.body.contains(&format!("src=\"/avatars/{user_id}\"")));

    // Nothing else: no pending rows, no token, no raw profile.
    let counts = counts(&app);
    assert_eq!((counts.signups, counts.users), (0, 1));
    let states: i64 = oauth_states::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(states, 0);
    if let Some(bytes) = app.sqlite_bytes() {
        let haystack = String::from_utf8_lossy(&bytes);
        for token in github.tokens_issued() {
            assert!(!haystack.contains(&token), "the access token is never stored");
        }
        assert!(!haystack.contains("A biography Agora must not store."));
        assert!(!haystack.contains("octocat-old@example.com"), "only the verified primary e-mail");
    }
}

async fn returning_member_signs_in_without_overwriting_local_changes(app: TestApp, github: FakeGithub) {
    github.add_user(octocat());
    github.sign_in_as(583231);
    assert_eq!(app.github_join().await.status, 303);
    let mut conn = app.db.get().unwrap();
    diesel::update(users::table.filter(users::role.ne("system")))
        .set(users::first_name.eq("Mona"))
        .execute(&mut *conn)
        .unwrap();
    assert_eq!(app.post_form("/logout", &[]).await.status, 303);

    github.update_user(583231, |u| u.name = Some("Someone Else".into()));
    let again = app.github_sign_in().await;
    assert_eq!(again.status, 303);
    assert_eq!(again.location.as_deref(), Some("/"));
    assert_eq!(app.get("/").await.texts(".signed-in-as strong"), vec!["octocat"]);
    let names: Vec<(Option<String>, Option<String>)> = users::table
        .filter(users::role.ne("system"))
        .select((users::first_name, users::last_name))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(names, vec![(Some("Mona".into()), Some("Octocat".into()))]);
}

async fn renamed_github_login_still_finds_the_same_account(app: TestApp, github: FakeGithub) {
    github.add_user(octocat());
    github.sign_in_as(583231);
    assert_eq!(app.github_join().await.status, 303);
    app.post_form("/logout", &[]).await;

    github.update_user(583231, |u| u.login = "octo-renamed".into());
    let again = app.github_sign_in().await;
    assert_eq!(again.location.as_deref(), Some("/"));
    let mut conn = app.db.get().unwrap();
    let rows: Vec<(String, Option<String>)> = users::table
        .filter(users::role.ne("system"))
        .select((users::username, users::github_login))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(rows, vec![("octocat".to_string(), Some("octo-renamed".to_string()))]);
}

async fn username_collision_offers_a_free_variant(app: TestApp, github: FakeGithub) {
    app.another_browser().register("octocat").await;
    github.add_user(octocat());
    github.sign_in_as(583231);
    assert_eq!(app.github_sign_in().await.location.as_deref(), Some("/auth/github/finish"));
    let form = app.get("/auth/github/finish").await;
    assert_eq!(form.field("username").as_deref(), Some("octocat-2"));

    let taken = app
        .post_form(
            "/auth/github/finish",
            &[("username", "OctoCat"), ("age_confirmed", "yes"), ("accept_policy", "yes")],
        )
        .await;
    assert_eq!(taken.status, 422);
    assert!(taken.body.contains("already taken"));
    assert_eq!(taken.field("username").as_deref(), Some("OctoCat"));
    assert!(taken.body.contains("id=\"age_confirmed\" name=\"age_confirmed\" type=\"checkbox\" value=\"yes\" checked"));

    let joined = app
        .post_form(
            "/auth/github/finish",
            &[("username", "octocat-2"), ("age_confirmed", "yes"), ("accept_policy", "yes")],
        )
        .await;
    assert_eq!(joined.status, 303);
    assert_eq!(app.get("/").await.texts(".signed-in-as strong"), vec!["octocat-2"]);
}

async fn p2_no_verified_primary_email_means_no_account(app: TestApp, github: FakeGithub) {
    let mut user = octocat();
    user.emails = vec![
        FakeEmail { email: "primary@example.com".into(), primary: true, verified: false },
        FakeEmail { email: "other@example.com".into(), primary: false, verified: true },
    ];
    github.add_user(user);
    github.sign_in_as(583231);
    let page = app.github_sign_in().await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains("no verified primary e-mail address"));
    assert!(page.body.contains("Settings → Emails"));
    assert_nothing_created(&app);
}

async fn denied_consent_creates_nothing(app: TestApp, github: FakeGithub) {
    github.add_user(octocat());
    github.sign_in_as(583231);
    github.deny_next();
    let page = app.github_sign_in().await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains("You chose not to let this forum see your GitHub profile"));
    assert_nothing_created(&app);
}

async fn state_mismatch_and_other_browser_are_refused(app: TestApp, github: FakeGithub) {
    github.add_user(octocat());
    github.sign_in_as(583231);
    let start = app.post_form("/auth/github", &[]).await;
    let at_github = app.get_absolute(start.location.as_deref().unwrap()).await;
    let callback = at_github.location.unwrap();

    // The same callback in a browser that did not start the flow.
    let stranger = app.another_browser().get_absolute(&callback).await;
    assert_eq!(stranger.status, 400);
    assert!(stranger.body.contains("started in another browser"));

    // A forged state in the right browser.
    let code = callback.split("code=").nth(1).unwrap().split('&').next().unwrap();
    let forged = app.get(&format!("/auth/github/callback?code={code}&state=forged")).await;
    assert_eq!(forged.status, 400);
    assert_nothing_created(&app);
}

async fn replayed_callback_and_replayed_code_are_refused(app: TestApp, github: FakeGithub) {
    github.add_user(octocat());
    github.sign_in_as(583231);
    let start = app.post_form("/auth/github", &[]).await;
    let at_github = app.get_absolute(start.location.as_deref().unwrap()).await;
    let callback = at_github.location.unwrap();
    assert_eq!(app.get_absolute(&callback).await.status, 303);

    // The same callback again: its state is spent.
    let replay = app.get_absolute(&callback).await;
    assert_eq!(replay.status, 400);

    // The old code with a fresh state: GitHub refuses a code used once.
    let old_code = callback.split("code=").nth(1).unwrap().split('&').next().unwrap().to_string();
    let fresh = app.post_form("/auth/github", &[]).await;
    let fresh_state =
        fresh.location.as_deref().unwrap().split("state=").nth(1).unwrap().split('&').next().unwrap().to_string();
    let reused = app.get(&format!("/auth/github/callback?code={old_code}&state={fresh_state}")).await;
    assert_eq!(reused.status, 400);
    assert!(reused.body.contains("GitHub did not accept this sign-in"));
    assert_eq!(counts(&app).signups, 1, "only the first round trip left a pending sign-up");
}

async fn github_server_errors_and_bad_json_end_on_a_clear_page(app: TestApp, github: FakeGithub) {
    github.add_user(octocat());
    github.sign_in_as(583231);
    for failure in [Failure::TokenEndpointServerError, Failure::ApiServerError, Failure::MalformedUserJson] {
        github.fail_with(failure);
        let page = app.github_sign_in().await;
        assert_eq!(page.status, 502, "{failure:?}");
        assert!(page.body.contains("GitHub could not be reached"), "{failure:?}");
        assert_nothing_created(&app);
    }
}

async fn github_timeout_ends_on_a_clear_page(app: TestApp, github: FakeGithub) {
    github.add_user(octocat());
    github.sign_in_as(583231);
    github.fail_with(Failure::SlowApi(std::time::Duration::from_secs(4)));
    let page = app.github_sign_in().await;
    assert_eq!(page.status, 502);
    assert!(page.body.contains("try again in a few minutes"));
    assert_nothing_created(&app);
}

async fn oversized_or_non_image_avatar_gives_the_default_picture(app: TestApp, github: FakeGithub) {
    let mut big = octocat();
    let mut bytes = tiny_png(1);
    bytes.resize(1024 * 1024 + 1, 0);
    big.avatar = Some(("image/png".into(), bytes));
    github.add_user(big);
    let mut html = FakeUser::new(2, "htmlface", None);
    html.avatar = Some(("image/png".into(), b"<html><script>alert(1)</script></html>".to_vec()));
    github.add_user(html);

    for id in [583231, 2] {
        let browser = app.another_browser();
        github.sign_in_as(id);
        assert_eq!(browser.github_join().await.status, 303);
    }
    assert_eq!(counts(&app).avatars, 0);
    let mut conn = app.db.get().unwrap();
    let ids: Vec<i64> =
        users::table.filter(users::role.ne("system")).select(users::id).order(users::id).load(&mut *conn).unwrap();
    for id in ids {
        let picture = app.client.get(app.url(&format!("/avatars/{id}"))).send().await.unwrap();
        assert_eq!(picture.status(), 200);
        assert_eq!(picture.headers()["content-type"], "image/svg+xml");
        assert!(picture.text().await.unwrap().starts_with("<svg"));
    }
}

async fn local_member_links_and_unlinks_github(app: TestApp, github: FakeGithub) {
    let password = app.register_unconfirmed("mona").await;
    github.add_user(octocat());
    github.sign_in_as(583231);
    // Only a confirmed address may link GitHub (no pre-hijacking with someone else's address).
    assert_eq!(app.post_form("/account/github/link", &[]).await.status, 409);
    let link = app.last_mail_to("mona@example.org").link("/account/confirm-email?token=");
    let token = app.get(&link).await.field("token").unwrap();
    app.post_form("/account/confirm-email", &[("token", &token)]).await;
    let account = app.get("/account").await;
    assert!(account.body.contains("Link your GitHub account"));

    // Linking adds a way in: a stolen session (no password) cannot do it.
    let without = app.post_form("/account/github/link", &[]).await;
    assert_eq!(without.status, 403);
    assert!(without.body.contains("Your current password is not right"));
    let start = app.post_form("/account/github/link", &[("current_password", &password)]).await;
    let back = app.github_round_trip(start).await;
    assert_eq!(back.location.as_deref(), Some("/account"));
    assert!(app.get("/account").await.texts("li.github strong").contains(&"octocat".to_string()));
    assert_eq!(app.last_mail_to("mona@example.org").subject, "A GitHub account was linked to your account");
    // While one is linked, no other can be (a thief cannot swap in theirs).
    let again = app.post_form("/account/github/link", &[("current_password", &password)]).await;
    assert_eq!(again.status, 409);

    // Signing in with GitHub now reaches the same account.
    app.post_form("/logout", &[]).await;
    assert_eq!(app.github_sign_in().await.location.as_deref(), Some("/"));
    assert_eq!(app.get("/").await.texts(".signed-in-as strong"), vec!["mona"]);
    assert_eq!(counts(&app).users, 1);

    // The same GitHub account cannot be linked to a second member.
    let other = app.another_browser();
    other.register("someone").await;
    let mut conn = app.db.get().unwrap();
    diesel::update(users::table.filter(users::username_key.eq("someone")))
        .set(users::email_verified.eq(true))
        .execute(&mut *conn)
        .unwrap();
    let start = other.post_form("/account/github/link", &[("current_password", "someone-has-a-long-password")]).await;
    let refused = other.github_round_trip(start).await;
    assert_eq!(refused.status, 409);

    assert_eq!(app.post_form("/account/github/unlink", &[]).await.status, 303);
    let linked: Vec<Option<i64>> =
        users::table.filter(users::username.eq("mona")).select(users::github_id).load(&mut *conn).unwrap();
    assert_eq!(linked, vec![None]);
    // The password still works.
    app.post_form("/logout", &[]).await;
    assert_eq!(app.post_form("/login", &[("login", "mona"), ("password", &password)]).await.status, 303);
}

async fn github_email_matching_a_local_account_is_not_merged(app: TestApp, github: FakeGithub) {
    let owner = app.another_browser();
    owner
        .post_form(
            "/register",
            &[
                ("username", "mona"),
                ("email", "octocat@users.example.com"),
                ("password", "a-long-enough-password"),
                ("age_confirmed", "yes"),
                ("accept_policy", "yes"),
            ],
        )
        .await;
    github.add_user(octocat());
    github.sign_in_as(583231);
    let page = app.github_sign_in().await;
    assert_eq!(page.status, 409);
    assert!(page.body.contains("Sign in with its password, then link GitHub"));
    let mut conn = app.db.get().unwrap();
    let rows: Vec<(String, Option<i64>)> = users::table
        .filter(users::role.ne("system"))
        .select((users::username, users::github_id))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(rows, vec![("mona".to_string(), None)]);
    assert!(app.get("/").await.texts(".signed-in-as").is_empty(), "not signed in as anyone");
}

async fn reimport_refreshes_names_and_picture_on_request(app: TestApp, github: FakeGithub) {
    github.add_user(octocat());
    github.sign_in_as(583231);
    assert_eq!(app.github_join().await.status, 303);
    github.update_user(583231, |u| {
        u.name = Some("Mona Renamed".into());
        u.avatar = Some(("image/gif".into(), b"GIF89a-new-picture".to_vec()));
    });
    let start = app.post_form("/account/github/reimport", &[]).await;
    assert_eq!(app.github_round_trip(start).await.location.as_deref(), Some("/account"));
    let account = app.get("/account").await;
    assert_eq!(account.texts("dd.first-name"), vec!["Mona"]);
    assert_eq!(account.texts("dd.last-name"), vec!["Renamed"]);
    let mut conn = app.db.get().unwrap();
    let (content_type, image): (String, Vec<u8>) =
        avatars::table.select((avatars::content_type, avatars::image)).first(&mut *conn).unwrap();
    assert_eq!((content_type.as_str(), image.as_slice()), ("image/gif", b"GIF89a-new-picture".as_slice()));
}

#[actix_web::test]
async fn without_a_client_id_github_sign_in_is_hidden_and_says_so() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    assert!(app.get("/login").await.texts(".github").is_empty());
    assert!(app.get("/register").await.texts(".github").is_empty());
    let page = app.post_form("/auth/github", &[]).await;
    assert_eq!(page.status, 404);
    assert!(page.body.contains("Sign-in with GitHub is not configured"));
}

#[test]
fn the_fake_serves_real_png_pictures() {
    let png = tiny_png(200);
    assert_eq!(agora::auth::github::client::sniff_image(&png), Some("image/png"));
    assert_eq!(&png[12..16], b"IHDR");
    assert!(png.ends_with(&[0xAE, 0x42, 0x60, 0x82]), "IEND's CRC is the well-known AE426082");
}

#[actix_web::test]
async fn a_password_reset_takes_back_an_account_someone_else_linked_before_confirming() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some((app, github)) = crate::helpers::spawn_app_with_github(backend).await else { continue };
        // Someone registers with the victim's address and (were it allowed) links their GitHub.
        app.register_unconfirmed("victim").await;
        let mut conn = app.db.get().unwrap();
        diesel::update(users::table.filter(users::username_key.eq("victim")))
            .set((users::github_id.eq(Some(777i64)), users::github_login.eq(Some("intruder"))))
            .execute(&mut *conn)
            .unwrap();
        let owner = app.another_browser();
        owner.post_form("/password/forgot", &[("email", "victim@example.org")]).await;
        let link = app.last_mail_to("victim@example.org").link("/password/reset?token=");
        let token = owner.get(&link).await.field("token").unwrap();
        let reset =
            owner.post_form("/password/reset", &[("token", &token), ("password", "the-real-owner-password")]).await;
        assert_eq!(reset.status, 303, "{}", reset.body);
        let (github_id, verified): (Option<i64>, bool) = users::table
            .filter(users::username_key.eq("victim"))
            .select((users::github_id, users::email_verified))
            .first(&mut *conn)
            .unwrap();
        assert_eq!((github_id, verified), (None, true), "{backend:?}");
        let _ = github;
    }
}
