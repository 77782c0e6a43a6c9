//! Account deletion and what outlives it: P11–P14 (erasure, Anonymous, no return),
//! P9 and P12 (backups forget within 14 days, restores replay erasures), P17 (staff
//! can erase an under-13 account at once), P18 (policy changes with notice).

use agora::account::deletion;
use agora::db::schema::{deletion_ledger, likes, posts, sessions, users};
use agora::ops::backup;
use agora::privacy::policy;
use diesel::prelude::*;

use crate::fake_github::{FakeEmail, FakeUser};
use crate::helpers::{spawn_app, spawn_app_with_github_and, Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    p11_deletion_needs_the_password_and_the_typed_username,
    p17_staff_can_erase_an_account_with_a_reason,
    p9_p12_p14_a_restored_backup_never_brings_back_what_was_erased,
    restore_refuses_a_file_that_is_not_a_backup,
    backups_older_than_the_retention_are_pruned,
    p18_policy_changes_need_72_hours_notice_and_show_a_banner,
    p7_p9_daily_maintenance_backs_up_and_prunes_old_backups_and_logs,
    backups_hold_every_table_of_the_live_schema,
    a_failed_backup_shows_in_metrics_and_leaves_no_partial_file,
    a_backup_restores_every_row_and_a_cut_one_changes_nothing,
    a_github_sign_up_begun_after_unlinking_goes_with_the_account,
    mail_naming_a_member_by_an_earlier_name_goes_with_the_account,
    a_deleted_members_name_leaves_quotes_of_them_and_search,
);

async fn backups_hold_every_table_of_the_live_schema(app: TestApp) {
    // The search index is rebuilt from posts by the restore's own inserts (and copied
    // whole by SQLite's VACUUM INTO): it is not a table of its own in the dump.
    let search_index = |t: &str| t.starts_with("post_search");
    let mut tables: Vec<String> = app.live_columns().into_iter().map(|(t, _)| t).filter(|t| !search_index(t)).collect();
    tables.sort();
    tables.dedup();
    let mut backed_up: Vec<String> = backup::backed_up_tables().iter().map(|t| t.to_string()).collect();
    backed_up.sort();
    assert_eq!(backed_up, tables);
}

const ZED_IP: &str = "198.51.100.77";
const ZED_GITHUB_ID: i64 = 987_654_321;

#[actix_web::test]
async fn p11_p12_p13_p14_deletion_erases_every_trace_and_keeps_posts_as_anonymous() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some((app, github)) = spawn_app_with_github_and(backend, crate::helpers::trust_local_proxy).await else {
            continue;
        };
        let mut zed_user = FakeUser::new(ZED_GITHUB_ID, "zedzebra-gh", Some("Zedediah Zebrowski"));
        zed_user.emails =
            vec![FakeEmail { email: "zed.zebrowski@users.example.com".into(), primary: true, verified: true }];
        zed_user.avatar = Some(("image/png".into(), b"\x89PNG\r\n\x1a\nzed-picture-bytes-0451".to_vec()));
        github.add_user(zed_user);
        github.sign_in_as(ZED_GITHUB_ID);

        // Zed joins with GitHub from one address, writes, edits, likes, changes e-mail.
        let zed = app.browser_from(ZED_IP);
        let start = zed.post_form("/auth/github", &[]).await;
        assert_eq!(zed.github_round_trip(start).await.location.as_deref(), Some("/auth/github/finish"));
        let joined = zed
            .post_form(
                "/auth/github/finish",
                &[
                    ("username", "zedzebra"),
                    ("age_confirmed", "yes"),
                    ("accept_policy", "yes"),
                    ("newsletter", "yes"),
                    // Opted in to notification e-mail on GitHub's sign-up page.
                    ("notification_mail", "yes"),
                ],
            )
            .await;
        assert_eq!(joined.status, 303, "{backend:?}");
        let old_id = app.user_id("zedzebra").unwrap();
        let topic = zed.create_topic("Zed's question", "How do I do this?").await;
        let topic_id: i64 = topic.split('/').nth(2).unwrap().parse().unwrap();

        let amy = app.another_browser();
        amy.register("amy").await;
        // Amy asked for replies by e-mail once away.
        amy.choose_mail(&[("reply", "away")]).await;
        amy.post_form(&format!("/t/{topic_id}/reply"), &[("body", "Like this.")]).await;
        zed.post_form(&format!("/t/{topic_id}/reply"), &[("body", "Thanks!")]).await;
        let mut conn = app.db.get().unwrap();
        let (zed_post, amy_post): (i64, i64) = (
            posts::table
                .filter(posts::user_id.eq(old_id))
                .select(posts::id)
                .order(posts::id)
                .first(&mut *conn)
                .unwrap(),
            posts::table.filter(posts::user_id.ne(old_id)).select(posts::id).first(&mut *conn).unwrap(),
        );
        zed.post_form(&format!("/p/{zed_post}/edit"), &[("body", "How do I do this, please?")]).await;
        zed.post_form(&format!("/p/{amy_post}/like"), &[]).await;
        amy.post_form(&format!("/p/{zed_post}/like"), &[]).await;
        {
            use agora::db::schema::{notifications, topic_watches};
            let before: i64 = notifications::table
                .filter(notifications::user_id.eq(old_id).or(notifications::actor_id.eq(old_id)))
                .count()
                .get_result(&mut *conn)
                .unwrap();
            assert_eq!(
                before, 4,
                "{backend:?}: amy's reply and like to Zed; Zed's reply (amy watches) and like to amy"
            );
            let watching: i64 =
                topic_watches::table.filter(topic_watches::user_id.eq(old_id)).count().get_result(&mut *conn).unwrap();
            assert_eq!(watching, 1, "{backend:?}: Zed's reply watched his topic");
        }
        // Zed's choices, blocks both ways, a watched category, queued and sent mail that
        // names him (amy was away when his reply came, and got it by e-mail).
        let choices = [
            ("watch_own", "yes"),
            ("reply", "each"),
            ("topic", "digest"),
            ("mention", "away"),
            ("quote", "away"),
            ("like", "off"),
            ("moderation", "each"),
        ];
        assert_eq!(zed.post_form("/account/notifications", &choices).await.status, 303, "{backend:?}");
        assert_eq!(zed.post_form("/c/1/watch", &[("level", "watching")]).await.status, 303, "{backend:?}");
        let amy_id = app.user_id("amy").unwrap();
        diesel::update(sessions::table.filter(sessions::user_id.eq(amy_id)))
            .set(sessions::last_seen_at.eq(agora::db::now() - 7200))
            .execute(&mut *conn)
            .unwrap();
        app.deliver_mail().await;
        let to_amy = app.last_mail_to("amy@example.org");
        assert_eq!(to_amy.header("X-Agora-Names").as_deref(), Some("zedzebra"), "{backend:?}: {}", to_amy.subject);
        amy.create_topic("Amy's news", "Nothing much.").await;
        assert_eq!(zed.post_form("/u/amy/block", &[]).await.status, 303, "{backend:?}");
        assert_eq!(amy.post_form("/u/zedzebra/block", &[]).await.status, 303, "{backend:?}");
        let about_zed_elsewhere = |conn: &mut agora::db::DbConn| -> Vec<i64> {
            use agora::db::schema::{category_watches, mail_queue, member_blocks, notification_settings};
            vec![
                notification_settings::table
                    .filter(notification_settings::user_id.eq(old_id))
                    .count()
                    .get_result(conn)
                    .unwrap(),
                member_blocks::table
                    .filter(member_blocks::user_id.eq(old_id).or(member_blocks::blocked_id.eq(old_id)))
                    .count()
                    .get_result(conn)
                    .unwrap(),
                category_watches::table.filter(category_watches::user_id.eq(old_id)).count().get_result(conn).unwrap(),
                mail_queue::table.filter(mail_queue::user_id.eq(old_id)).count().get_result(conn).unwrap(),
            ]
        };
        assert_eq!(about_zed_elsewhere(&mut conn), vec![1, 2, 1, 2], "{backend:?}: choices, blocks, category, mail");
        // A GitHub-only member re-proves who they are with GitHub before changing the
        // address or deleting.
        let form = zed.get("/account/delete").await;
        assert!(form.body.contains("Confirm with GitHub"));
        let refused = zed.post_form("/account/delete", &[("confirm_username", "zedzebra")]).await;
        assert_eq!(refused.status, 422);
        assert!(refused.body.contains("Confirm with GitHub first"));
        let start = zed.post_form("/account/github/reauth", &[]).await;
        assert_eq!(zed.github_round_trip(start).await.location.as_deref(), Some("/account/delete"));
        zed.post_form("/account/email", &[("email", "zed.new@example.org")]).await;
        let link = app.last_mail_to("zed.new@example.org").link("/account/change-email?token=");
        let token = zed.get(&link).await.field("token").unwrap();
        assert_eq!(zed.post_form("/account/change-email", &[("token", &token)]).await.status, 303);
        let mistyped = zed.post_form("/account/delete", &[("confirm_username", "zedzebr")]).await;
        assert_eq!(mistyped.status, 422);
        assert!(mistyped.body.contains("Type your username exactly"));
        assert!(app.user_id("zedzebra").is_some(), "nothing deleted yet");

        let deleted = zed.post_form("/account/delete", &[("confirm_username", "zedzebra")]).await;
        assert_eq!(deleted.location.as_deref(), Some("/account/deleted"), "{backend:?}: {}", deleted.body);
        let notice = app.last_mail_to("zed.new@example.org");
        assert_eq!(notice.subject, "Your account has been deleted");
        assert!(zed.get("/").await.texts(".signed-in-as").is_empty(), "signed out");

        // P12: not one trace of Zed in any column of any table.
        let needles: Vec<&[u8]> = vec![
            b"zed.zebrowski@users.example.com",
            b"zed.new@example.org",
            b"Zedediah",
            b"Zebrowski",
            b"zedzebra",
            b"987654321",
            b"zed-picture-bytes-0451",
            ZED_IP.as_bytes(),
        ];
        // The scan itself works: it finds the member who stayed.
        assert!(!app.find_anywhere(&[b"amy@example.org"]).is_empty(), "{backend:?}: the scanner reads the tables");
        let found = app.find_anywhere(&needles);
        assert!(found.is_empty(), "{backend:?}: personal data left behind: {found:?}");

        // P13: the posts stay, by Anonymous; Zed's likes are gone, counts follow.
        let page = app.get(&topic).await;
        assert_eq!(page.texts(".post .author"), vec!["Anonymous", "amy", "Anonymous"]);
        assert!(page.body.contains("How do I do this, please?") && page.body.contains("Thanks!"));
        assert_eq!(page.texts(".post .likes"), vec!["1 like", "0 likes", "0 likes"]);
        let zed_likes: i64 = likes::table.filter(likes::user_id.eq(old_id)).count().get_result(&mut *conn).unwrap();
        assert_eq!(zed_likes, 0);
        // Amy's reply and like notified Zed, his reply and like notified Amy, his reply watched
        // his topic: rows that hold only ids, so checked by id.
        use agora::db::schema::{notifications, topic_watches};
        let about_zed: i64 = notifications::table
            .filter(notifications::user_id.eq(old_id).or(notifications::actor_id.eq(old_id)))
            .count()
            .get_result(&mut *conn)
            .unwrap();
        assert_eq!(about_zed, 0, "{backend:?}: notifications to and from Zed go");
        let watched: i64 =
            topic_watches::table.filter(topic_watches::user_id.eq(old_id)).count().get_result(&mut *conn).unwrap();
        assert_eq!(watched, 0, "{backend:?}");
        assert_eq!(about_zed_elsewhere(&mut conn), vec![0, 0, 0, 0], "{backend:?}: choices, blocks, category, mail");
        // Mail files naming him went too; only the notice of his deletion, to him, is left.
        let naming_zed: Vec<String> = app
            .mails()
            .into_iter()
            .filter(|m| m.headers.contains("zedzebra") || m.body.contains("zedzebra"))
            .map(|m| m.subject)
            .collect();
        assert_eq!(naming_zed, vec!["Your account has been deleted".to_string()], "{backend:?}");
        assert!(app.get("/c/1/general").await.texts("td .meta").contains(&"by Anonymous".to_string()));

        // P14: the same GitHub account later gets a brand-new, empty account.
        let again = app.browser_from("203.0.113.5");
        let start = again.post_form("/auth/github", &[]).await;
        assert_eq!(again.github_round_trip(start).await.location.as_deref(), Some("/auth/github/finish"));
        let finish = again.get("/auth/github/finish").await;
        assert_eq!(finish.field("username").as_deref(), Some("zedzebra-gh"));
        again
            .post_form(
                "/auth/github/finish",
                &[("username", "zedzebra"), ("age_confirmed", "yes"), ("accept_policy", "yes")],
            )
            .await;
        let new_id = app.user_id("zedzebra").unwrap();
        assert_ne!(new_id, old_id);
        let export: serde_json::Value =
            again.client.get(again.url("/account/export")).send().await.unwrap().json().await.unwrap();
        assert_eq!(export["posts"], serde_json::json!([]));
        assert_eq!(export["profile"]["username"], "zedzebra");
    }
}

async fn p11_deletion_needs_the_password_and_the_typed_username(app: TestApp) {
    let password = app.register("pia").await;
    let phone = app.another_browser();
    phone.post_form("/login", &[("login", "pia"), ("password", &password)]).await;
    let wrong =
        app.post_form("/account/delete", &[("password", "not-her-password"), ("confirm_username", "pia")]).await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("Your current password is not right"));
    assert!(app.user_id("pia").is_some());

    let done = app.post_form("/account/delete", &[("password", &password), ("confirm_username", "pia")]).await;
    assert_eq!(done.location.as_deref(), Some("/account/deleted"));
    assert!(app.get("/account/deleted").await.body.contains("Your account has been deleted"));
    assert_eq!(app.last_mail_to("pia@example.org").subject, "Your account has been deleted");
    assert!(app.user_id("pia").is_none());
    assert!(phone.get("/").await.texts(".signed-in-as").is_empty(), "signed out everywhere");
    assert_eq!(
        app.another_browser().post_form("/login", &[("login", "pia"), ("password", &password)]).await.status,
        401
    );
}

async fn p17_staff_can_erase_an_account_with_a_reason(app: TestApp) {
    app.register("kiddo").await;
    let id = app.user_id("kiddo").unwrap();
    let mut conn = app.db.get().unwrap();
    let deleted = deletion::delete_account(&mut conn, id, deletion::ErasureReason::Under13).unwrap().unwrap();
    assert_eq!(deleted.email.as_deref(), Some("kiddo@example.org"));
    assert!(app.user_id("kiddo").is_none());
    let ledger: Vec<(i64, String, String)> = deletion_ledger::table
        .select((deletion_ledger::user_id, deletion_ledger::erased, deletion_ledger::reason))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(ledger, vec![(id, "account".to_string(), "under-13".to_string())]);
    assert!(deletion::delete_account(&mut conn, id, deletion::ErasureReason::StaffOther).unwrap().is_none());
}

async fn p9_p12_p14_a_restored_backup_never_brings_back_what_was_erased(app: TestApp) {
    app.another_browser().register("leaver").await;
    let stayer = app.another_browser();
    stayer.register("stayer").await;
    stayer
        .post_form("/account/profile", &[("username", "stayer"), ("first_name", "Secretname"), ("last_name", "")])
        .await;
    let leaver_id = app.user_id("leaver").unwrap();
    let stayer_id = app.user_id("stayer").unwrap();

    let made = backup::create(&app.db, &app.backup_dir()).unwrap();
    assert!(made.bytes > 0);
    assert_eq!(backup::list(&app.backup_dir()).unwrap().len(), 1);

    // After the backup: one member deletes their account, another removes a value.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let mut conn = app.db.get().unwrap();
    deletion::delete_account(&mut conn, leaver_id, deletion::ErasureReason::SelfService).unwrap().unwrap();
    agora::privacy::ledger::write_file(&mut conn, &app.backup_dir()).unwrap();
    stayer.post_form("/account/profile", &[("username", "stayer"), ("first_name", ""), ("last_name", "")]).await;

    // Restore into a fresh database: the deletion and the removal are replayed.
    let target = app.scratch_database_url();
    let restored = backup::restore(&target, &made.path, &app.backup_dir()).unwrap();
    assert!(restored.erasures_replayed >= 2, "{restored:?}");
    let db = agora::db::Database::connect(&target, 1).unwrap();
    let mut restored_conn = db.get().unwrap();
    let (leaver, first_name): (Option<i64>, Option<String>) = (
        users::table
            .filter(users::username_key.eq("leaver"))
            .select(users::id)
            .first(&mut *restored_conn)
            .optional()
            .unwrap(),
        users::table.find(stayer_id).select(users::first_name).first::<Option<String>>(&mut *restored_conn).unwrap(),
    );
    assert_eq!(leaver, None, "a deleted account stays deleted");
    assert_eq!(first_name, None, "a removed value stays removed");
    let leaver_mail: i64 =
        users::table.filter(users::email.eq("leaver@example.org")).count().get_result(&mut *restored_conn).unwrap();
    assert_eq!(leaver_mail, 0);
}

async fn restore_refuses_a_file_that_is_not_a_backup(app: TestApp) {
    let dir = app.backup_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let target = app.scratch_database_url();
    let misnamed = dir.join("notes.txt");
    std::fs::write(&misnamed, "hello").unwrap();
    let error = backup::restore(&target, &misnamed, &dir).unwrap_err().to_string();
    assert!(error.contains("is not an Agora backup"), "{error}");
    let fake = dir.join(format!(
        "agora-{}.{}",
        agora::db::now(),
        if target.starts_with("sqlite") { "sqlite" } else { "json" }
    ));
    std::fs::write(&fake, "not a backup at all").unwrap();
    let error = backup::restore(&target, &fake, &dir).unwrap_err().to_string();
    assert!(error.contains("nothing was changed"), "{error}");
}

async fn backups_older_than_the_retention_are_pruned(app: TestApp) {
    let dir = app.backup_dir();
    let fresh = backup::create(&app.db, &dir).unwrap();
    let old = dir.join(format!("agora-{}.sqlite", agora::db::now() - 15 * 86400));
    let recent = dir.join(format!("agora-{}.sqlite", agora::db::now() - 13 * 86400));
    std::fs::write(&old, "x").unwrap();
    std::fs::write(&recent, "x").unwrap();
    // A backup that crashed a day ago left its partial file: it goes too; one being
    // written now stays.
    let crashed = dir.join(format!("agora-{}.jsonl.gz.partial", agora::db::now() - 86400 - 60));
    let writing = dir.join(format!("agora-{}.jsonl.gz.partial", agora::db::now()));
    for partial in [&crashed, &writing] {
        std::fs::write(partial, "half a backup").unwrap();
    }
    let file = std::fs::File::options().write(true).open(&crashed).unwrap();
    file.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(86400 + 60)).unwrap();
    let mut removed = backup::prune(&dir, 14).unwrap();
    removed.sort();
    let mut expected = vec![old.clone(), crashed.clone()];
    expected.sort();
    assert_eq!(removed, expected);
    assert!(!old.exists() && recent.exists() && fresh.path.exists());
    assert!(!crashed.exists() && writing.exists());
    let listed: Vec<_> = backup::list(&dir).unwrap().into_iter().map(|b| b.path).collect();
    assert!(!listed.contains(&writing), "a partial file is not a backup");
}

async fn a_failed_backup_shows_in_metrics_and_leaves_no_partial_file(app: TestApp) {
    let dir = app.backup_dir();
    backup::create(&app.db, &dir).unwrap();
    let gauge = |text: &str, name: &str| -> i64 {
        let line = text.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} in {text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let metrics = app.get("/metrics").await.body;
    assert!(gauge(&metrics, "agora_backup_last_success_timestamp_seconds") >= agora::db::now() - 60);
    assert_eq!(gauge(&metrics, "agora_backup_last_failure_timestamp_seconds"), 0);

    let blocked = dir.join("a-file-not-a-folder");
    std::fs::write(&blocked, "x").unwrap();
    assert!(backup::create(&app.db, &blocked).is_err());
    let metrics = app.get("/metrics").await.body;
    let failed = gauge(&metrics, "agora_backup_last_failure_timestamp_seconds");
    assert!(failed >= gauge(&metrics, "agora_backup_last_success_timestamp_seconds"), "{metrics}");
    let health = backup::health(&mut app.db.get().unwrap()).unwrap();
    assert!(health.failing, "{health:?}");
    let partials =
        std::fs::read_dir(&dir).unwrap().flatten().filter(|e| e.path().extension().is_some_and(|x| x == "partial"));
    assert_eq!(partials.count(), 0);
}

async fn p18_policy_changes_need_72_hours_notice_and_show_a_banner(app: TestApp) {
    let mut conn = app.db.get().unwrap();
    let now = agora::db::now();
    let too_soon = policy::publish(&mut conn, "2099-01-01", "# New", now + 71 * 3600).unwrap_err();
    assert!(matches!(too_soon, policy::PublishError::TooSoon));
    let recipients =
        policy::publish(&mut conn, "next", "# Privacy policy\n\nThe new wording.", now + 4 * 86400).unwrap();
    assert!(recipients.is_empty(), "no members yet");

    let home = app.get("/").await;
    assert!(home.texts(".policy-banner")[0].starts_with("Our privacy policy changes on"));
    assert!(home.body.contains("href=\"/privacy/next\""));
    let current = app.get("/privacy").await;
    assert!(current.texts(".policy-version")[0].contains(policy::BUNDLED_POLICY_VERSION));
    assert_eq!(current.texts(".policy-history li").len(), 2);
    let upcoming = app.get("/privacy/next").await;
    assert!(upcoming.body.contains("The new wording."));
    assert_eq!(app.get("/privacy/nonexistent").await.status, 404);

    // Registration still accepts the version in effect today.
    app.register("newbie").await;
    let accepted: Option<String> =
        users::table.filter(users::username_key.eq("newbie")).select(users::policy_version).first(&mut *conn).unwrap();
    assert_eq!(accepted.as_deref(), Some(policy::BUNDLED_POLICY_VERSION));
    let recipients = policy::publish(&mut conn, "later", "# Again", now + 5 * 86400).unwrap();
    assert_eq!(recipients, vec!["newbie@example.org".to_string()]);
}

#[actix_web::test]
async fn an_app_without_members_has_only_the_anonymous_account() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let mut conn = app.db.get().unwrap();
    let rows: Vec<(String, String)> = users::table.select((users::username, users::role)).load(&mut *conn).unwrap();
    assert_eq!(rows, vec![("Anonymous".to_string(), "system".to_string())]);
    assert_eq!(app.post_form("/login", &[("login", "anonymous"), ("password", "")]).await.status, 401);
}

async fn p7_p9_daily_maintenance_backs_up_and_prunes_old_backups_and_logs(app: TestApp) {
    let logs = app.backup_dir().with_file_name("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let fortnight_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(15 * 86400);
    for (name, modified) in
        [("agora.log.old", Some(fortnight_ago)), ("agora.log.today", None), ("other.txt", Some(fortnight_ago))]
    {
        let file = std::fs::File::create(logs.join(name)).unwrap();
        if let Some(modified) = modified {
            file.set_modified(modified).unwrap();
        }
    }
    std::fs::create_dir_all(app.backup_dir()).unwrap();
    let stale = app.backup_dir().join(format!("agora-{}.sqlite", agora::db::now() - 20 * 86400));
    std::fs::write(&stale, "x").unwrap();

    // An abandoned GitHub sign-up (personal data) and an expired session.
    let mut conn = app.db.get().unwrap();
    diesel::insert_into(agora::db::schema::github_signups::table)
        .values((
            agora::db::schema::github_signups::token_hash.eq("abandoned"),
            agora::db::schema::github_signups::github_id.eq(5i64),
            agora::db::schema::github_signups::github_login.eq("gone-away"),
            agora::db::schema::github_signups::email.eq("gone-away@example.org"),
            agora::db::schema::github_signups::next_path.eq("/"),
            agora::db::schema::github_signups::created_at.eq(agora::db::now() - 3600),
        ))
        .execute(&mut *conn)
        .unwrap();

    // Mail files: one past the backup retention, one fresh.
    let mail_dir = match &app.config.mail {
        agora::mail::MailSettings::Files(dir) => dir.clone(),
        agora::mail::MailSettings::Smtp(_) => unreachable!(),
    };
    std::fs::create_dir_all(&mail_dir).unwrap();
    let old_mail = mail_dir.join("old.eml");
    std::fs::write(&old_mail, "To: old@example.org\r\n\r\nHello oldie,\r\n").unwrap();
    std::fs::File::options().write(true).open(&old_mail).unwrap().set_modified(fortnight_ago).unwrap();
    let new_mail = mail_dir.join("new.eml");
    std::fs::write(&new_mail, "To: new@example.org\r\n\r\nHello newbie,\r\n").unwrap();
    // Privacy requests from people without an account: answered 91 and 10 days ago.
    let long_ago = agora::db::now() - 91 * 86400;
    for (email, answered_at) in
        [("asked-long-ago@example.org", long_ago), ("asked-lately@example.org", agora::db::now() - 10 * 86400)]
    {
        let id = agora::privacy::requests::file_privacy_request(&mut conn, email, None, "access", "my words").unwrap();
        diesel::update(agora::db::schema::privacy_requests::table.find(id))
            .set((
                agora::db::schema::privacy_requests::status.eq("answered"),
                agora::db::schema::privacy_requests::updated_at.eq(answered_at),
            ))
            .execute(&mut *conn)
            .unwrap();
    }

    let mut config = app.config.clone();
    config.log_dir = Some(logs.clone());
    agora::ops::maintenance::run_once(&app.db, &config).unwrap();
    assert!(app.find_anywhere(&[b"gone-away@example.org"]).is_empty(), "abandoned sign-ups are purged");
    assert!(!old_mail.exists(), "mail files past the backup retention are deleted");
    assert!(new_mail.exists());
    assert!(app.find_anywhere(&[b"asked-long-ago@example.org"]).is_empty(), "answered 91 days ago: erased");
    assert!(!app.find_anywhere(&[b"asked-lately@example.org"]).is_empty(), "answered 10 days ago: kept");

    let backups = backup::list(&app.backup_dir()).unwrap();
    assert_eq!(backups.len(), 1, "today's backup made, the 20-day-old one pruned");
    assert!(!stale.exists());
    assert!(!logs.join("agora.log.old").exists(), "request logs older than 14 days are deleted");
    assert!(logs.join("agora.log.today").exists());
    assert!(logs.join("other.txt").exists(), "only Agora's own log files are touched");
}

async fn a_backup_restores_every_row_and_a_cut_one_changes_nothing(app: TestApp) {
    use agora::db::schema::settings;
    // More rows than a restore inserts at once.
    let rows: Vec<_> = (0..4500)
        .map(|i| (settings::name.eq(format!("filler-{i}")), settings::value.eq(format!("value {i} \"quoted\" é"))))
        .collect();
    {
        let mut conn = app.db.get().unwrap();
        conn.transaction::<_, diesel::result::Error, _>(|c| {
            for row in rows {
                diesel::insert_into(settings::table).values(row).execute(c)?;
            }
            Ok(())
        })
        .unwrap();
    }
    app.register("ruth").await;
    let made = backup::create(&app.db, &app.backup_dir()).unwrap();
    let count = |db: &agora::db::Database| -> i64 {
        settings::table.filter(settings::name.like("filler-%")).count().get_result(&mut *db.get().unwrap()).unwrap()
    };
    let target = app.scratch_database_url();
    if made.path.to_string_lossy().ends_with(".jsonl.gz") {
        // A backup cut short (a full disk, a crash while copying it) is refused whole.
        let bytes = std::fs::read(&made.path).unwrap();
        let cut = app.backup_dir().join(format!("agora-{}.jsonl.gz", made.created_at - 1));
        let mut decoded = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut decoded).unwrap();
        let half = &decoded[..decoded.len() / 2];
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut encoder, half).unwrap();
        std::fs::write(&cut, encoder.finish().unwrap()).unwrap();
        let refused = backup::restore(&target, &cut, &app.backup_dir()).unwrap_err();
        assert!(format!("{refused:#}").contains("incomplete"), "{refused:#}");
        assert_eq!(count(&agora::db::Database::connect(&target, 1).unwrap()), 0, "nothing was restored");
    }
    backup::restore(&target, &made.path, &app.backup_dir()).unwrap();
    let restored = agora::db::Database::connect(&target, 1).unwrap();
    assert_eq!(count(&restored), 4500);
    let value: String =
        settings::table.find("filler-4499").select(settings::value).first(&mut *restored.get().unwrap()).unwrap();
    assert_eq!(value, "value 4499 \"quoted\" é");
    let members: i64 =
        users::table.filter(users::username.eq("ruth")).count().get_result(&mut *restored.get().unwrap()).unwrap();
    assert_eq!(members, 1);
}

async fn a_github_sign_up_begun_after_unlinking_goes_with_the_account(app: TestApp) {
    use agora::db::schema::github_signups;
    let password = app.register("gwen").await;
    // Gwen unlinked GitHub, then began signing in with it while signed out: GitHub gave
    // the sign-up her address (no account holds that GitHub id any more).
    {
        let mut conn = app.db.get().unwrap();
        diesel::insert_into(github_signups::table)
            .values((
                github_signups::token_hash.eq("pending-gwen"),
                github_signups::github_id.eq(5_150_i64),
                github_signups::github_login.eq("gwen-gh"),
                github_signups::first_name.eq(Some("Gwendolyn")),
                github_signups::email.eq("gwen@example.org"),
                github_signups::next_path.eq("/"),
                github_signups::created_at.eq(agora::db::now()),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
    let made = backup::create(&app.db, &app.backup_dir()).unwrap();
    let deleted = app.post_form("/account/delete", &[("password", &password), ("confirm_username", "gwen")]).await;
    assert_eq!(deleted.location.as_deref(), Some("/account/deleted"));
    let left: i64 = github_signups::table.count().get_result(&mut *app.db.get().unwrap()).unwrap();
    assert_eq!(left, 0, "the unfinished sign-up named her");
    // Nor does a restore bring it back.
    let target = app.scratch_database_url();
    backup::restore(&target, &made.path, &app.backup_dir()).unwrap();
    let restored = agora::db::Database::connect(&target, 1).unwrap();
    let back: i64 = github_signups::table.count().get_result(&mut *restored.get().unwrap()).unwrap();
    assert_eq!(back, 0);
}

async fn mail_naming_a_member_by_an_earlier_name_goes_with_the_account(app: TestApp) {
    app.register("alice").await;
    app.choose_mail(&[("reply", "each")]).await;
    let topic = app.create_topic("Alice asks", "Who knows?").await;
    let topic_id: i64 = topic.split('/').nth(2).unwrap().parse().unwrap();
    let bobby = app.another_browser();
    let password = bobby.register("bobby").await;
    let bobby_id = app.user_id("bobby").unwrap();
    bobby.post_form(&format!("/t/{topic_id}/reply"), &[("body", "I do.")]).await;
    app.deliver_mail().await;
    let mail = app.last_mail_to("alice@example.org");
    assert_eq!(mail.header("X-Agora-Names").as_deref(), Some("bobby"));
    let ids = mail.header("X-Agora-Members").unwrap();
    assert!(ids.split(", ").any(|id| id == bobby_id.to_string()), "{ids}");

    // Bobby becomes robert, then leaves: the mail naming bobby goes with him.
    let renamed =
        bobby.post_form("/account/profile", &[("username", "robert"), ("first_name", ""), ("last_name", "")]).await;
    assert_eq!(renamed.status, 303, "{}", renamed.body);
    let deleted = bobby.post_form("/account/delete", &[("password", &password), ("confirm_username", "robert")]).await;
    assert_eq!(deleted.location.as_deref(), Some("/account/deleted"));
    let naming_bobby: Vec<String> = app
        .mails()
        .into_iter()
        .filter(|m| m.headers.contains("bobby") || m.body.contains("bobby"))
        .map(|m| m.subject)
        .collect();
    assert_eq!(naming_bobby, vec!["Your account has been deleted".to_string()], "only the notice, to him");
}

async fn a_deleted_members_name_leaves_quotes_of_them_and_search(app: TestApp) {
    let password = app.register("zqvvictim").await;
    let topic = app.create_topic("Sourdough troubles", "My starter never rises.").await;
    let topic_id: i64 = topic.split('/').nth(2).unwrap().parse().unwrap();
    let amy = app.another_browser();
    amy.register("amy").await;
    let quote = format!(
        "[quote=\"zqvvictim, post:1, topic:{topic_id}\"]\nMy starter never rises.\n[/quote]\n\nFeed it twice a day."
    );
    assert_eq!(amy.post_form(&format!("/t/{topic_id}/reply"), &[("body", &quote)]).await.status, 303);
    assert!(app.get(&topic).await.body.contains("zqvvictim wrote:"));
    // Amy edits her reply: the version before is in its history, quote and all.
    let reply_id: i64 = posts::table
        .filter(posts::topic_id.eq(topic_id))
        .filter(posts::post_number.eq(2))
        .select(posts::id)
        .first(&mut *app.db.get().unwrap())
        .unwrap();
    let edited = format!("{quote}\n\nAnd keep it warm.");
    assert_eq!(amy.post_form(&format!("/p/{reply_id}/edit"), &[("body", &edited)]).await.status, 303);
    assert_eq!(
        app.get("/search?q=zqvvictim").await.texts(".search-results .result-title").len(),
        1,
        "found by the quote"
    );
    // The quoted post is hidden by a moderator before its author leaves.
    {
        let mut conn = app.db.get().unwrap();
        diesel::update(posts::table.filter(posts::topic_id.eq(topic_id)).filter(posts::post_number.eq(1)))
            .set(posts::hidden.eq(true))
            .execute(&mut *conn)
            .unwrap();
    }
    let deleted = app.post_form("/account/delete", &[("password", &password), ("confirm_username", "zqvvictim")]).await;
    assert_eq!(deleted.location.as_deref(), Some("/account/deleted"));

    let page = app.get(&topic).await;
    assert!(!page.body.to_lowercase().contains("zqvvictim"), "{}", page.body);
    assert!(page.body.contains("Anonymous wrote:"), "{}", page.body);
    assert!(
        app.get("/search?q=zqvvictim").await.texts(".search-results .result-title").is_empty(),
        "search forgets the name"
    );
    assert_eq!(
        app.get("/search?q=twice").await.texts(".search-results .result-title").len(),
        1,
        "the reply is still found"
    );
    let stored: Vec<String> = posts::table
        .filter(posts::topic_id.eq(topic_id))
        .select(posts::body_markdown)
        .load(&mut *app.db.get().unwrap())
        .unwrap();
    assert!(stored.iter().all(|m| !m.to_lowercase().contains("zqvvictim")), "{stored:?}");
    let history: Vec<String> = agora::db::schema::post_edits::table
        .filter(agora::db::schema::post_edits::post_id.eq(reply_id))
        .select(agora::db::schema::post_edits::previous_markdown)
        .load(&mut *app.db.get().unwrap())
        .unwrap();
    assert_eq!(history.len(), 1);
    assert!(
        history.iter().all(|m| !m.to_lowercase().contains("zqvvictim")),
        "the edit history forgets it: {history:?}"
    );
}
