//! The policy at `/privacy` says what the code does: every cookie any route sets is in
//! its table (made from `web::cookies`), with who to write to and where data is kept.

use std::collections::BTreeSet;

use crate::fake_github::{FakeGithub, FakeUser};
use crate::helpers::{Page, TestApp};
use crate::{on_both_backends, on_both_backends_with_github};

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

on_both_backends!(
    the_policy_says_what_is_kept_and_who_is_mailed,
    a_new_build_publishes_its_policy_with_notice_and_rewrites_none
);

/// Sentences of the policy that a test elsewhere proves (named beside each), and
/// sentences an older policy said that were not true.
async fn the_policy_says_what_is_kept_and_who_is_mailed(app: TestApp) {
    let page = app.get("/privacy").await;
    assert_eq!(page.status, 200);
    let text = page.texts("main").join(" ");
    let says = [
        // read_state::* keeps how far a member read.
        "how far you have read each topic",
        // notification_mail::p15_notification_mail_only_after_opting_in.
        "without a choice you get no notification e-mail",
        // notifications: a like tells the author who liked.
        "author is told who liked it",
        // everywhere::p12_… (PostgreSQL's files are clean after the maintenance).
        "until the next daily maintenance rewrites them (a day at most)",
        // everywhere::p12_… (only the deletion notice is left in the mail folder).
        "except the notice of the deletion itself, which goes after 14 days",
        // deletion::a_github_sign_up_begun_after_unlinking_goes_with_the_account; purge.
        "kept for 30 minutes at most",
        "(they are its controller)",
    ];
    for sentence in says {
        assert!(text.contains(sentence), "the policy says {sentence:?}");
    }
    let no_longer =
        ["We do not record which pages you read", "who liked what is not shown", "a deleted member's at once"];
    for sentence in no_longer {
        assert!(!text.contains(sentence), "the policy no longer says {sentence:?}");
    }
    assert!(!page.body.contains("[["), "every part the code fills in is filled in");
    assert!(text.contains(&format!("deleted after {} days", app.config.notification_retention_days)));
}

async fn a_new_build_publishes_its_policy_with_notice_and_rewrites_none(app: TestApp) {
    use agora::db::schema::policy_versions;
    use agora::privacy::policy;
    use diesel::prelude::*;
    app.register("pia").await;
    // As a forum made by an earlier build: its policy is an older version, in effect.
    {
        let mut conn = app.db.get().unwrap();
        diesel::update(policy_versions::table.find(policy::BUNDLED_POLICY_VERSION))
            .set((policy_versions::version.eq("2026-01-01"), policy_versions::markdown.eq("The old words.")))
            .execute(&mut *conn)
            .unwrap();
    }
    let (published, recipients) = policy::seed(&app.db).unwrap().expect("this build's text is published");
    assert_eq!(published.version, policy::BUNDLED_POLICY_VERSION);
    assert!(published.effective_at >= agora::db::now() + policy::NOTICE_SECONDS - 5, "72 hours' notice");
    assert_eq!(recipients, vec!["pia@example.org".to_string()], "every member is told");
    let mut conn = app.db.get().unwrap();
    let current = policy::current(&mut conn).unwrap();
    assert_eq!((current.version.as_str(), current.markdown.as_str()), ("2026-01-01", "The old words."));
    drop(conn);
    assert!(policy::seed(&app.db).unwrap().is_none(), "published once");
    let page = app.get("/privacy").await;
    assert!(page.body.contains("The old words."), "the version in effect is shown, unchanged");
}
