//! One test per hole the security review found (issue "Safe to open to the public"),
//! named after it, on both backends. Each failed before its fix.

use agora::db::schema::{email_tokens, oauth_states, posts, privacy_requests, topics, users};
use diesel::prelude::*;
use serde_json::Value;

use crate::fake_github::FakeGithub;
use crate::helpers::TestApp;
use crate::{on_both_backends, on_both_backends_with_github};

on_both_backends_with_github!(hole_13_get_requests_change_nothing);

on_both_backends!(
    hole_01_privacy_requests_belong_only_to_a_confirmed_address,
    hole_02_a_sign_in_flood_gets_answers_not_errors,
    hole_03_changing_the_address_needs_the_current_password,
    hole_04_a_markdown_bomb_is_refused_and_the_text_kept,
    hole_05_concurrent_writers_never_see_database_locked,
    hole_06_the_ledger_copy_survives_concurrent_writers_and_heals,
    hole_07_suspended_staff_have_no_powers,
    hole_08_moderators_act_on_members_only,
    hole_09_private_pages_and_forms_are_never_stored_by_caches,
    hole_10_https_forums_send_hsts,
    hole_11_a_password_change_voids_reset_links,
    hole_12_the_csrf_token_is_bound_to_the_session,
    hole_14_misleading_characters_are_refused_in_titles_and_names,
    hole_15_locked_topics_refuse_edits_and_likes,
    hole_16_head_answers_like_get_without_a_body,
    hole_17_addresses_the_mailer_would_refuse_are_refused_up_front,
    hole_19_changing_to_a_taken_address_reveals_nothing,
);

fn count_requests(app: &TestApp) -> Vec<(String, String, Option<i64>)> {
    let mut conn = app.db.get().unwrap();
    privacy_requests::table
        .order(privacy_requests::id)
        .select((privacy_requests::email, privacy_requests::message, privacy_requests::user_id))
        .load(&mut *conn)
        .unwrap()
}

async fn export(app: &TestApp) -> Value {
    app.client.get(app.url("/account/export")).send().await.unwrap().json().await.unwrap()
}

async fn hole_01_privacy_requests_belong_only_to_a_confirmed_address(app: TestApp) {
    // Vera, who has no account, asks for her data.
    let vera = app.another_browser();
    let filed = vera
        .post_form(
            "/privacy/request",
            &[("email", "vera@example.org"), ("kind", "access"), ("message", "Vera Vance asks what you hold")],
        )
        .await;
    assert_eq!(filed.status, 200, "{}", filed.body);

    // Mallory registers with Vera's address and never confirms it.
    let mallory = app.another_browser();
    let password = "mallory-has-a-long-password";
    let registered = mallory
        .post_form(
            "/register",
            &[
                ("username", "mallory"),
                ("email", "vera@example.org"),
                ("password", password),
                ("age_confirmed", "yes"),
                ("accept_policy", "yes"),
            ],
        )
        .await;
    assert_eq!(registered.status, 303);
    assert_eq!(export(&mallory).await["privacy_requests"], serde_json::json!([]), "not Mallory's to see");
    let deleted =
        mallory.post_form("/account/delete", &[("password", password), ("confirm_username", "mallory")]).await;
    assert_eq!(deleted.location.as_deref(), Some("/account/deleted"));
    let requests = count_requests(&app);
    assert_eq!(requests[0].0, "vera@example.org", "deleting Mallory did not blank Vera's request");
    assert_eq!(requests[0].1, "Vera Vance asks what you hold");

    // Vera joins and confirms her address: from then on the request is hers.
    vera.register_unconfirmed("vera").await;
    assert_eq!(export(&vera).await["privacy_requests"], serde_json::json!([]), "not before confirming");
    vera.confirm_address("vera@example.org").await;
    let mine = export(&vera).await["privacy_requests"].clone();
    assert_eq!(mine[0]["message"], "Vera Vance asks what you hold");
    assert_eq!(count_requests(&app)[0].2, app.user_id("vera"));
}

async fn hole_02_a_sign_in_flood_gets_answers_not_errors(app: TestApp) {
    app.register("target").await;
    let mut tasks = Vec::new();
    for _ in 0..48 {
        let browser = app.another_browser();
        tasks.push(actix_web::rt::spawn(async move {
            browser.post_form("/login", &[("login", "target"), ("password", "wrong-password-guess")]).await.status
        }));
    }
    let home = app.get("/").await;
    assert_eq!(home.status, 200, "the forum keeps answering during the flood");
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    // Wrong passwords (401), or shed load (503) or a rate limit (429): never a failure.
    assert!(statuses.iter().all(|s| [401, 429, 503].contains(s)), "{statuses:?}");
    assert!(statuses.contains(&401));
}

async fn hole_03_changing_the_address_needs_the_current_password(app: TestApp) {
    let password = app.register("owner").await;
    let thief = app.another_browser();
    // A stolen session cookie is a signed-in browser: it knows no password.
    thief.post_form("/login", &[("login", "owner"), ("password", &password)]).await;
    let without = thief.post_form("/account/email", &[("email", "thief@evil.example")]).await;
    assert_eq!(without.status, 422);
    assert!(without.body.contains("Your current password is not right"));
    let wrong = thief
        .post_form("/account/email", &[("email", "thief@evil.example"), ("current_password", "guess-guess")])
        .await;
    assert_eq!(wrong.status, 422);
    assert_eq!(wrong.field("email").as_deref(), Some("thief@evil.example"), "what was typed is kept");
    assert!(app.mails().iter().all(|m| !m.to.contains("thief@evil.example")), "no link was sent");
    let right =
        app.post_form("/account/email", &[("email", "owner@new.example"), ("current_password", &password)]).await;
    assert_eq!(right.location.as_deref(), Some("/account?done=email-sent"));
    assert_eq!(app.last_mail_to("owner@new.example").subject, "Confirm your new e-mail address");
}

async fn hole_04_a_markdown_bomb_is_refused_and_the_text_kept(app: TestApp) {
    app.register("bomber").await;
    let bomb = "- > ".repeat(8000);
    let started = std::time::Instant::now();
    let page = app.post_form("/c/1/new", &[("title", "Nested"), ("body", &bomb)]).await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("nests quotes and lists more than"), "{}", &page.body[..200]);
    assert_eq!(page.field("body").unwrap().trim_end(), bomb.trim_end(), "the text is kept");
    assert_eq!(page.field("title").as_deref(), Some("Nested"));
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "refused without rendering it");
    let mut conn = app.db.get().unwrap();
    let stored: i64 = posts::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(stored, 0);
}

async fn hole_05_concurrent_writers_never_see_database_locked(app: TestApp) {
    let author = app.another_browser();
    author.register("author").await;
    let topic = author.create_topic("Busy topic", "The first post").await;
    let topic_id: i64 = topic.split('/').nth(2).unwrap().parse().unwrap();
    let mut writers = Vec::new();
    for n in 0..8 {
        let writer = app.another_browser();
        writer.register(&format!("writer{n}")).await;
        writers.push(writer);
    }
    let first_post: i64 = {
        let mut conn = app.db.get().unwrap();
        posts::table.select(posts::id).order(posts::id).first(&mut *conn).unwrap()
    };
    let mut tasks = Vec::new();
    for (n, writer) in writers.into_iter().enumerate() {
        tasks.push(actix_web::rt::spawn(async move {
            let mut statuses = Vec::new();
            for round in 0..6 {
                let reply = format!("/t/{topic_id}/reply");
                let body = format!("Reply {round} from writer {n}");
                statuses.push(writer.post_form(&reply, &[("body", &body)]).await.status);
                let name = format!("Name{round}");
                let profile = [("username", format!("writer{n}")), ("first_name", name), ("last_name", String::new())];
                let fields: Vec<(&str, &str)> = profile.iter().map(|(k, v)| (*k, v.as_str())).collect();
                statuses.push(writer.post_form("/account/profile", &fields).await.status);
                statuses.push(writer.post_form(&format!("/p/{first_post}/like"), &[]).await.status);
                statuses.push(writer.post_form(&format!("/p/{first_post}/unlike"), &[]).await.status);
            }
            statuses
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    assert!(all.iter().all(|s| *s < 500), "no write failed: {all:?}");
    let mut conn = app.db.get().unwrap();
    let replies: i64 = posts::table.filter(posts::topic_id.eq(topic_id)).count().get_result(&mut *conn).unwrap();
    assert_eq!(replies, 1 + 8 * 6, "every acknowledged reply is stored");
}

async fn hole_06_the_ledger_copy_survives_concurrent_writers_and_heals(app: TestApp) {
    use agora::privacy::ledger;
    // Erasures recorded in the table, as profile changes make them.
    for n in 0..6 {
        let member = app.another_browser();
        member.register(&format!("eraser{n}")).await;
        member.post_form("/account/profile", &[("username", &format!("eraser{n}")), ("first_name", "Temp")]).await;
        member.post_form("/account/profile", &[("username", &format!("eraser{n}")), ("first_name", "")]).await;
    }
    let dir = app.backup_dir();
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let (db, dir) = (app.db.clone(), dir.clone());
            std::thread::spawn(move || ledger::write_file(&mut db.get().unwrap(), &dir).unwrap())
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let in_table = ledger::entries(&mut app.db.get().unwrap()).unwrap();
    assert!(in_table.len() >= 6);
    let copy = ledger::read_file(&dir).expect("the copy parses after concurrent writers");
    assert!(in_table.iter().all(|e| copy.contains(e)));
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files left behind");

    // A torn copy is set aside and rewritten from the table, and backups go on working.
    std::fs::write(dir.join(ledger::FILE_NAME), b"[{\"user_id\": 3, \"era").unwrap();
    assert!(ledger::read_file(&dir).is_err());
    agora::ops::backup::create(&app.db, &dir).expect("a backup despite the torn copy");
    assert_eq!(ledger::read_file(&dir).unwrap().len(), in_table.len());
    std::fs::write(dir.join(ledger::FILE_NAME), b"garbage").unwrap();
    assert_eq!(ledger::rewrite_file(&mut app.db.get().unwrap(), &dir).unwrap(), in_table.len());
    assert_eq!(ledger::read_file(&dir).unwrap(), in_table);
}

async fn staff(app: &TestApp) -> (TestApp, TestApp, TestApp, i64) {
    let member = app.another_browser();
    member.register("plain").await;
    let moderator = app.another_browser();
    moderator.register("moddy").await;
    app.set_role("moddy", "moderator");
    let admin = app.another_browser();
    admin.register("boss").await;
    app.set_role("boss", "admin");
    admin.create_topic("Announcement", "From the admin").await;
    let mut conn = app.db.get().unwrap();
    let admin_post: i64 = posts::table.select(posts::id).order(posts::id).first(&mut *conn).unwrap();
    (member, moderator, admin, admin_post)
}

async fn hole_07_suspended_staff_have_no_powers(app: TestApp) {
    let (member, moderator, admin, _) = staff(&app).await;
    let moderator_id = app.user_id("moddy").unwrap();
    let banned = admin
        .post_form(&format!("/admin/members/{moderator_id}/standing"), &[("action", "ban"), ("reason", "abuse")])
        .await;
    assert_eq!(banned.status, 303, "{}", banned.body);
    assert_eq!(moderator.get("/admin").await.status, 403);
    let member_id = app.user_id("plain").unwrap();
    let attempt = moderator
        .post_form(&format!("/admin/members/{member_id}/standing"), &[("action", "ban"), ("reason", "revenge")])
        .await;
    assert_eq!(attempt.status, 403);
    assert!(attempt.body.contains("Staff powers are paused"));
    assert!(member.get("/").await.texts(".signed-in-as").len() == 1, "the member is untouched");
    let mut conn = app.db.get().unwrap();
    let member_banned: bool = users::table.find(member_id).select(users::banned).first(&mut *conn).unwrap();
    assert!(!member_banned);
    assert!(!moderator.get("/").await.body.contains("href=\"/admin\""), "no staff links either");
}

async fn hole_08_moderators_act_on_members_only(app: TestApp) {
    let (_member, moderator, admin, admin_post) = staff(&app).await;
    let hide = moderator.post_form(&format!("/admin/posts/{admin_post}/hide"), &[("reason", "mine now")]).await;
    assert_eq!(hide.status, 409);
    let other = app.another_browser();
    other.register("moddy2").await;
    let other_id = app.set_role("moddy2", "moderator");
    let ban = moderator
        .post_form(&format!("/admin/members/{other_id}/standing"), &[("action", "ban"), ("reason", "x")])
        .await;
    assert_eq!(ban.status, 409);
    let erase = moderator.post_form(&format!("/admin/members/{other_id}/erase"), &[("category", "staff-other")]).await;
    assert_eq!(erase.status, 409);
    assert!(app.user_id("moddy2").is_some());
    // An admin may erase a moderator, after proving who they are.
    let unproven = admin.post_form(&format!("/admin/members/{other_id}/erase"), &[("category", "staff-other")]).await;
    assert_eq!(unproven.status, 403);
    assert!(app.user_id("moddy2").is_some());
    let proven = admin
        .post_form(
            &format!("/admin/members/{other_id}/erase"),
            &[("category", "staff-other"), ("current_password", "boss-has-a-long-password")],
        )
        .await;
    assert_eq!(proven.status, 303, "{}", proven.body);
    assert!(app.user_id("moddy2").is_none());
    let mut conn = app.db.get().unwrap();
    let hidden: bool = posts::table.find(admin_post).select(posts::hidden).first(&mut *conn).unwrap();
    assert!(!hidden);
}

async fn hole_09_private_pages_and_forms_are_never_stored_by_caches(app: TestApp) {
    let cache_control = |path: &'static str, client: reqwest::Client, base: String| async move {
        let response = client.get(format!("{base}{path}")).send().await.unwrap();
        response.headers().get("cache-control").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
    };
    for path in ["/", "/login", "/register", "/privacy/request", "/password/forgot"] {
        assert_eq!(cache_control(path, app.client.clone(), app.address.clone()).await, "no-store", "{path}");
    }
    app.register("private").await;
    app.set_role("private", "admin");
    for path in ["/account", "/account/delete", "/notifications", "/admin", "/admin/members", "/c/1/new"] {
        assert_eq!(cache_control(path, app.client.clone(), app.address.clone()).await, "no-store", "{path}");
    }
    assert_eq!(
        cache_control("/static/agora.css", app.client.clone(), app.address.clone()).await,
        "public, max-age=3600"
    );
}

async fn hole_10_https_forums_send_hsts(app: TestApp) {
    // This forum is on http: no HSTS (a browser would ignore it anyway). The https case
    // is `accounts::secure_cookies_when_the_public_url_is_https`.
    let response = app.client.get(app.url("/")).send().await.unwrap();
    assert!(response.headers().get("strict-transport-security").is_none());
    let https = crate::helpers::spawn_app_with(crate::helpers::Backend::Sqlite, |config| {
        config.public_url = "https://forum.example.org".into();
    })
    .await
    .unwrap();
    let response = https.client.get(https.url("/login")).send().await.unwrap();
    assert_eq!(response.headers()["strict-transport-security"], "max-age=31536000");
}

async fn hole_11_a_password_change_voids_reset_links(app: TestApp) {
    let password = app.register("resetter").await;
    app.another_browser().post_form("/password/forgot", &[("email", "resetter@example.org")]).await;
    let link = app.last_mail_to("resetter@example.org").link("/password/reset?token=");
    assert_eq!(app.get(&link).await.status, 200, "the link works before the change");
    let changed = app
        .post_form("/account/password", &[("current_password", &password), ("new_password", "a-whole-new-password")])
        .await;
    assert_eq!(changed.location.as_deref(), Some("/account?done=password"));
    assert_eq!(app.get(&link).await.status, 400, "the old reset link is void");
    let mut conn = app.db.get().unwrap();
    let pending: i64 =
        email_tokens::table.filter(email_tokens::purpose.eq("reset-password")).count().get_result(&mut *conn).unwrap();
    assert_eq!(pending, 0);
}

async fn hole_12_the_csrf_token_is_bound_to_the_session(app: TestApp) {
    let signed_out_token = app.csrf_token().await;
    app.register("bound").await;
    let signed_in_token = app.csrf_token().await;
    assert_ne!(signed_out_token, signed_in_token, "signing in rotates the token");
    // The classic double-submit forgery: the victim's session cookie is sent along, but
    // the CSRF cookie and field are values the attacker chose (e.g. set from a subdomain).
    let raw = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let chosen = "A".repeat(43);
    let signed_in = raw
        .post(app.url("/login"))
        .header("cookie", format!("agora_csrf={chosen}"))
        .form(&[("csrf_token", chosen.as_str()), ("login", "bound"), ("password", "bound-has-a-long-password")])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303, "signed out, the double submit is what protects the sign-in form");
    let session = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("agora_session="))
        .unwrap();
    let forged = raw
        .post(app.url("/c/1/new"))
        .header("cookie", format!("{session}; agora_csrf={chosen}"))
        .form(&[("csrf_token", chosen.as_str()), ("title", "Forged topic"), ("body", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    // Another member's token does not work in this session either.
    let other = app.another_browser();
    other.register("other").await;
    let stolen = other.csrf_token().await;
    let refused = app.post_raw("/c/1/new", &[("csrf_token", &stolen), ("title", "Forged"), ("body", "x")], &[]).await;
    assert_eq!(refused.status, 403, "{:?} {}", refused.location, refused.body);
    let accepted = app.post_form("/c/1/new", &[("title", "Real topic"), ("body", "real")]).await;
    assert_eq!(accepted.status, 303);
    // Signing out rotates it again.
    app.post_form("/logout", &[]).await;
    assert_ne!(app.csrf_token().await, signed_in_token);
}

async fn hole_13_get_requests_change_nothing(app: TestApp, _github: FakeGithub) {
    // GitHub sign-in is configured here: a GET still starts nothing and writes nothing.
    for _ in 0..5 {
        let page = app.get("/auth/github").await;
        assert_eq!(page.status, 404, "starting a sign-in is a POST");
    }
    let mut conn = app.db.get().unwrap();
    let states: i64 = oauth_states::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(states, 0);
    let started = app.post_form("/auth/github", &[]).await;
    assert_eq!(started.status, 303, "the button does start it");
    let states: i64 = oauth_states::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(states, 1);
    // Notifications stay unread while the member only looks at the list (opening one
    // is reading it; see the conversation tests); "mark all read" is a POST.
    app.register("reader").await;
    let id = app.user_id("reader").unwrap();
    diesel::insert_into(agora::db::schema::notifications::table)
        .values((
            agora::db::schema::notifications::user_id.eq(id),
            agora::db::schema::notifications::kind.eq("moderation"),
            agora::db::schema::notifications::message.eq("Something happened"),
            agora::db::schema::notifications::created_at.eq(1),
        ))
        .execute(&mut *conn)
        .unwrap();
    app.get("/notifications").await;
    app.get("/notifications").await;
    assert_eq!(app.get("/").await.texts(".unread-count"), vec!["(1)"]);
    app.post_form("/notifications/read", &[]).await;
    assert!(app.get("/").await.texts(".unread-count").is_empty());
}

async fn hole_14_misleading_characters_are_refused_in_titles_and_names(app: TestApp) {
    app.register("texter").await;
    for title in ["Null\u{0}byte", "Red \u{1b}[31malert", "Invoice\u{202E}fdp.exe", "\u{200B}\u{200B}\u{200B}\u{200B}"]
    {
        let page = app.post_form("/c/1/new", &[("title", title), ("body", "body text")]).await;
        assert_eq!(page.status, 422, "{title:?}");
        assert_eq!(page.field("body").as_deref(), Some("body text"));
    }
    let name = app
        .post_form("/account/profile", &[("username", "texter"), ("first_name", "Ann\u{2067}ie"), ("last_name", "")])
        .await;
    assert_eq!(name.status, 422);
    assert!(name.body.contains("reading direction"));
    let mut conn = app.db.get().unwrap();
    let topics_made: i64 = topics::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(topics_made, 0);
    let ok = app.post_form("/c/1/new", &[("title", "Ünïcode is fine 👩‍💻"), ("body", "body")]).await;
    assert_eq!(ok.status, 303);
}

async fn hole_15_locked_topics_refuse_edits_and_likes(app: TestApp) {
    let (member, moderator, _admin, _) = staff(&app).await;
    let topic = member.create_topic("Soon locked", "My words").await;
    let topic_id: i64 = topic.split('/').nth(2).unwrap().parse().unwrap();
    let mut conn = app.db.get().unwrap();
    let post_id: i64 = posts::table.filter(posts::topic_id.eq(topic_id)).select(posts::id).first(&mut *conn).unwrap();
    moderator.post_form(&format!("/admin/topics/{topic_id}/lock"), &[("reason", "done")]).await;
    let edit = member.post_form(&format!("/p/{post_id}/edit"), &[("body", "changed after the lock")]).await;
    assert_eq!(edit.status, 403);
    let like = moderator.another_browser();
    like.register("liker").await;
    assert_eq!(like.post_form(&format!("/p/{post_id}/like"), &[]).await.status, 403);
    let (body, likes): (String, i64) =
        posts::table.find(post_id).select((posts::body_markdown, posts::like_count)).first(&mut *conn).unwrap();
    assert_eq!((body.as_str(), likes), ("My words", 0));
}

async fn hole_16_head_answers_like_get_without_a_body(app: TestApp) {
    for path in ["/", "/c/1/general", "/login", "/privacy", "/static/agora.css"] {
        let head = app.client.head(app.url(path)).send().await.unwrap();
        assert_eq!(head.status(), 200, "{path}");
        let get = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(head.headers()["content-type"], get.headers()["content-type"], "{path}");
        assert!(head.bytes().await.unwrap().is_empty());
    }
    assert_eq!(app.client.head(app.url("/no-such-page")).send().await.unwrap().status(), 404);
}

async fn hole_17_addresses_the_mailer_would_refuse_are_refused_up_front(app: TestApp) {
    let page = app
        .post_form(
            "/register",
            &[
                ("username", "oddmail"),
                ("email", "odd(comment@example.org"),
                ("password", "a-long-enough-password"),
                ("age_confirmed", "yes"),
                ("accept_policy", "yes"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("Enter an e-mail address"));
    assert_eq!(page.field("email").as_deref(), Some("odd(comment@example.org"));
    assert!(app.user_id("oddmail").is_none());
    let forgot = app.post_form("/password/forgot", &[("email", "odd(comment@example.org")]).await;
    assert_eq!(forgot.status, 422);
}

async fn hole_19_changing_to_a_taken_address_reveals_nothing(app: TestApp) {
    app.another_browser().register("holder").await;
    let password = app.register("prober").await;
    let taken =
        app.post_form("/account/email", &[("email", "holder@example.org"), ("current_password", &password)]).await;
    let free = app.post_form("/account/email", &[("email", "free@example.org"), ("current_password", &password)]).await;
    assert_eq!(taken.status, free.status);
    assert_eq!(taken.location, free.location, "the same answer either way");
    let warning = app.last_mail_to("holder@example.org");
    assert_eq!(warning.subject, "Someone tried to use your e-mail address");
    assert!(!warning.body.contains("prober"), "the owner is not told who tried");
    let mut conn = app.db.get().unwrap();
    let links: Vec<Option<String>> = email_tokens::table
        .filter(email_tokens::purpose.eq("change-email"))
        .select(email_tokens::new_email)
        .load(&mut *conn)
        .unwrap();
    assert_eq!(links, vec![Some("free@example.org".to_string())], "no link for the taken address");
}
