//! Two-factor sign-in (issue 28): an authenticator app's codes and recovery codes, after
//! the password or GitHub; turned off only with the password; guesses limited; a mail
//! each time it changes; and, where an admin requires it, staff set it up first.

use agora::auth::two_factor::code_at;
use agora::db::schema::{recovery_codes, sessions, two_factor, users};
use diesel::prelude::*;

use crate::fake_github::{FakeGithub, FakeUser};
use crate::helpers::{spawn_app_with, Backend, Page, TestApp};
use crate::{on_both_backends, on_both_backends_with_github};

on_both_backends!(
    two_factor_turns_on_with_an_app_code_and_then_asks_for_one_at_sign_in,
    two_factor_turns_off_only_with_the_password,
    two_factor_staff_are_sent_to_set_it_up_when_required,
);
on_both_backends_with_github!(two_factor_follows_sign_in_with_github);

fn now() -> u64 {
    agora::db::now() as u64
}

/// Turns it on (`TestApp::turn_on_two_factor`), after checking the set-up page shows the
/// QR code and the key in text.
async fn turn_on(app: &TestApp) -> (String, Vec<String>) {
    let setup = app.get("/account/two-factor").await;
    assert!(setup.body.contains("<svg"), "a QR code drawn on the page");
    let secret = setup.field("secret").unwrap();
    assert!(setup.text("code.secret").replace(' ', "").contains(&secret), "and the key in text");
    app.turn_on_two_factor().await
}

/// Signs in with a password; returns the page (the second step's, when it is on).
async fn sign_in(app: &TestApp, username: &str, password: &str) -> Page {
    app.post_form("/login", &[("login", username), ("password", password)]).await
}

async fn second_step(app: &TestApp, page: &Page, code: &str) -> Page {
    let mut form: Vec<(String, String)> = ["user_id", "expires", "remember", "next", "signature"]
        .iter()
        .map(|name| (name.to_string(), page.field(name).unwrap_or_default()))
        .collect();
    form.push(("code".into(), code.into()));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.post_form("/login/second-step", &form).await
}

fn session_count(app: &TestApp, username: &str) -> i64 {
    let id = app.user_id(username).unwrap();
    let mut conn = app.db.get().unwrap();
    sessions::table.filter(sessions::user_id.eq(id)).count().get_result(&mut *conn).unwrap()
}

async fn two_factor_turns_on_with_an_app_code_and_then_asks_for_one_at_sign_in(app: TestApp) {
    let password = app.register("careful").await;
    let (secret, codes) = turn_on(&app).await;
    assert_eq!(codes.len(), 10);
    assert_eq!(app.last_mail_to("careful@example.org").subject, "Two-factor sign-in is on");
    {
        let id = app.user_id("careful").unwrap();
        let mut conn = app.db.get().unwrap();
        let stored: String = two_factor::table.find(id).select(two_factor::secret).first(&mut *conn).unwrap();
        assert_eq!(stored, secret);
        let hashes: Vec<String> = recovery_codes::table
            .filter(recovery_codes::user_id.eq(id))
            .select(recovery_codes::code_hash)
            .load(&mut *conn)
            .unwrap();
        assert_eq!(hashes.len(), 10);
        assert!(codes.iter().all(|code| !hashes.iter().any(|h| h.contains(code.as_str()))), "only hashes kept");
        let on: bool = users::table.find(id).select(users::two_factor_on).first(&mut *conn).unwrap();
        assert!(on);
    }
    assert!(app.get("/account").await.text("li.two-factor").contains("on"));

    // A new browser: the password alone gives the second step, not a session.
    let browser = app.another_browser();
    let sessions_before = session_count(&app, "careful");
    let step = sign_in(&browser, "careful", &password).await;
    assert_eq!(step.status, 200, "{}", step.body);
    assert!(step.text("h1").contains("One more step"));
    assert_eq!(session_count(&app, "careful"), sessions_before, "no session yet");
    let wrong = second_step(&browser, &step, "000000").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.field("signature").is_some(), "the second step's form again");
    let next_code = code_at(&secret, now() + 30).unwrap();
    let passed = second_step(&browser, &step, &next_code).await;
    assert_eq!(passed.status, 303, "the next step's code (a clock a little ahead) works: {}", passed.body);
    assert_eq!(session_count(&app, "careful"), sessions_before + 1);
    // The same code again is spent.
    let other = app.another_browser();
    let step = sign_in(&other, "careful", &password).await;
    assert_eq!(second_step(&other, &step, &next_code).await.status, 401, "a code works once");
    // A recovery code works once, too.
    let recovered = second_step(&other, &step, &codes[0].to_uppercase()).await;
    assert_eq!(recovered.status, 303, "{}", recovered.body);
    let third = app.another_browser();
    let step = sign_in(&third, "careful", &password).await;
    assert_eq!(second_step(&third, &step, &codes[0]).await.status, 401, "a recovery code is spent once used");
    assert!(app.get("/account/two-factor").await.body.contains("9 unused recovery codes"));
}

async fn two_factor_turns_off_only_with_the_password(app: TestApp) {
    let password = app.register("switcher").await;
    turn_on(&app).await;
    let refused = app.post_form("/account/two-factor/disable", &[("current_password", "not-my-password")]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.text(".form-errors li").contains("current password is not right"));
    let off = app.post_form("/account/two-factor/disable", &[("current_password", &password)]).await;
    assert_eq!((off.status, off.location.as_deref()), (303, Some("/account/two-factor")));
    assert_eq!(app.last_mail_to("switcher@example.org").subject, "Two-factor sign-in was turned off");
    let id = app.user_id("switcher").unwrap();
    let mut conn = app.db.get().unwrap();
    let left: i64 =
        recovery_codes::table.filter(recovery_codes::user_id.eq(id)).count().get_result(&mut *conn).unwrap();
    let secrets: i64 = two_factor::table.filter(two_factor::user_id.eq(id)).count().get_result(&mut *conn).unwrap();
    assert_eq!((left, secrets), (0, 0), "the secret and the codes are gone");
    // The password alone signs in again.
    assert_eq!(sign_in(&app.another_browser(), "switcher", &password).await.status, 303);
    // The policy says what is kept, and that turning it off deletes it.
    let policy = app.get("/privacy").await.text("main");
    assert!(policy.contains("if you turn it on: the secret your authenticator app shares"), "{policy}");
    assert!(policy.contains("Turning it off deletes them"));
}

/// With the default limit: five codes in ten minutes per account, from anywhere (the
/// one that turned it on counts too).
#[actix_web::test]
async fn two_factor_guesses_are_limited() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = spawn_app_with(backend, |config| {
            config.rate_limits = agora::web::rate_limit::RateLimits::parse("second_step_per_account=5/600").unwrap();
        })
        .await
        else {
            continue;
        };
        let password = app.register("guessed").await;
        let (secret, _) = turn_on(&app).await;
        let valid: Vec<String> = (0..5).filter_map(|k| code_at(&secret, now() + k * 30 - 60)).collect();
        let wrong: Vec<String> =
            (0..5).map(|n| format!("{:06}", 111_111 * (n + 1))).filter(|c| !valid.contains(c)).collect();
        let attacker = app.another_browser();
        let step = sign_in(&attacker, "guessed", &password).await;
        let mut statuses = Vec::new();
        for code in wrong.iter().cycle().take(4) {
            statuses.push(second_step(&attacker, &step, code).await.status);
        }
        assert_eq!(statuses, vec![401; 4], "{backend:?}");
        let stopped = second_step(&attacker, &step, &wrong[0]).await;
        assert_eq!(stopped.status, 429, "the fifth guess is refused");
        assert!(stopped.header("retry-after").is_some());
        let right = second_step(&attacker, &step, &code_at(&secret, now() + 30).unwrap()).await;
        assert_eq!(right.status, 429, "even the right code waits once guessing is stopped");
    }
}

async fn two_factor_staff_are_sent_to_set_it_up_when_required(app: TestApp) {
    app.register("boss").await;
    app.set_role("boss", "admin");
    {
        let mut conn = app.db.get().unwrap();
        diesel::update(agora::db::schema::site_settings::table)
            .set(agora::db::schema::site_settings::staff_two_factor.eq(true))
            .execute(&mut *conn)
            .unwrap();
    }
    // Each instance reads the settings again within seconds.
    let mut sent = app.get("/admin").await;
    for _ in 0..60 {
        if sent.status == 303 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        sent = app.get("/admin").await;
    }
    assert_eq!((sent.status, sent.location.as_deref()), (303, Some("/account/two-factor?staff=required")));
    let setup = app.get("/account/two-factor?staff=required").await;
    assert!(setup.text(".flash").contains("asks its moderators and administrators"));
    assert_eq!(app.get("/").await.status, 200, "the rest of the forum works as before");
    turn_on(&app).await;
    assert_eq!(app.get("/admin").await.status, 200, "with it set up, the staff pages open");
    let settings = app.get("/admin/settings").await;
    assert!(settings.html().select(&scraper::Selector::parse("#staff-two-factor[checked]").unwrap()).next().is_some());
}

async fn two_factor_follows_sign_in_with_github(app: TestApp, github: FakeGithub) {
    github.add_user(FakeUser::new(7070, "octo", Some("Octo Cat")));
    github.sign_in_as(7070);
    assert_eq!(app.github_join().await.status, 303);
    let (secret, _) = turn_on(&app).await;
    let browser = app.another_browser();
    let start = browser.post_form("/auth/github", &[]).await;
    let step = browser.github_round_trip(start).await;
    assert_eq!(step.status, 200, "GitHub is only the first step: {}", step.body);
    assert!(step.text("h1").contains("One more step"));
    let signed_in = second_step(&browser, &step, &code_at(&secret, now() + 30).unwrap()).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert!(browser.get("/account").await.status == 200);
}
