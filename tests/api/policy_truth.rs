//! The policy at `/privacy` says what the code does: every cookie any route sets is in
//! its table (made from `web::cookies`), with who to write to and where data is kept.

use std::collections::BTreeSet;

use crate::fake_github::{FakeGithub, FakeUser};
use crate::helpers::{Page, TestApp};
use crate::on_both_backends_with_github;

on_both_backends_with_github!(the_policy_lists_every_cookie_any_route_sets_and_who_to_ask);

fn cookie_names(page: &Page) -> Vec<String> {
    page.set_cookies.iter().map(|c| c.split('=').next().unwrap().to_string()).collect()
}

async fn the_policy_lists_every_cookie_any_route_sets_and_who_to_ask(app: TestApp, github: FakeGithub) {
    let mut seen = BTreeSet::new();
    let mut note = |page: &Page| seen.extend(cookie_names(page));
    note(&app.get("/").await);
    note(&app.get("/login").await);
    let joined = app
        .post_form(
            "/register",
            &[
                ("username", "cookiejar"),
                ("email", "cookiejar@example.org"),
                ("password", "cookiejar-has-a-long-password"),
                ("age_confirmed", "yes"),
                ("accept_policy", "yes"),
            ],
        )
        .await;
    note(&joined);
    note(&app.post_form("/logout", &[]).await);
    note(
        &app.post_form(
            "/login",
            &[("login", "cookiejar"), ("password", "cookiejar-has-a-long-password"), ("remember", "yes")],
        )
        .await,
    );
    note(&app.post_form("/logout", &[]).await);
    // Joining with GitHub: the round trip's state, then the pending sign-up.
    github.add_user(FakeUser::new(8_080, "cookie-gh", Some("Cookie Monster")));
    github.sign_in_as(8_080);
    let start = app.post_form("/auth/github", &[]).await;
    note(&start);
    let back = app.github_round_trip(start).await;
    note(&back);
    let form = app.get("/auth/github/finish").await;
    let username = form.field("username").unwrap();
    note(
        &app.post_form(
            "/auth/github/finish",
            &[("username", &username), ("age_confirmed", "yes"), ("accept_policy", "yes")],
        )
        .await,
    );
    assert!(seen.contains("agora_github_state") && seen.contains("agora_github_signup"), "{seen:?}");
    assert!(seen.contains("agora_session") && seen.contains("agora_csrf"), "{seen:?}");

    let policy = app.get("/privacy").await;
    let listed = policy.texts("table code");
    for name in &seen {
        assert!(agora::web::cookies::is_known(name), "{name} is set but not in web::cookies");
        assert!(listed.contains(name), "{name} is set but not in the policy's table: {listed:?}");
    }
    assert_eq!(listed.len(), agora::web::cookies::ALL.len());
    // Who runs it, what staff see, how long things are kept.
    assert!(policy.body.contains("has no contact address"), "a local forum says it has none yet");
    assert!(policy.body.contains("moderators and administrators see it"));
    assert!(policy.body.contains("Earlier versions of edited posts"));
    assert!(policy.body.contains("erased 90 days after they are answered"));
    assert!(policy.body.contains("They are kept for 14"));
    assert!(!policy.body.contains("[["), "every marker is filled in");
}

#[actix_web::test]
async fn a_public_forum_names_its_contact_and_data_location_and_prefixed_cookies() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Backend::Sqlite, |config| {
        config.public_url = "https://forum.example.org".into();
        config.contact_email = Some("privacy@forum.example.org".into());
        config.postal_address = Some("1 Forum Street, Example Town".into());
        config.data_location = Some("Data is stored in Frankfurt, Germany.".into());
    })
    .await
    .unwrap();
    let policy = app.get("/privacy").await;
    assert!(policy.body.contains("privacy@forum.example.org"));
    assert!(policy.body.contains("1 Forum Street, Example Town"));
    assert!(policy.body.contains("Data is stored in Frankfurt, Germany."));
    let listed = policy.texts("table code");
    assert!(listed.contains(&"__Host-agora_session".to_string()) && listed.contains(&"__Host-agora_csrf".to_string()));
}
