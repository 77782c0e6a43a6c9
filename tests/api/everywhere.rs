//! P12 everywhere data lands: a member who has done everything is deleted, then the
//! database (every table, and on SQLite the raw bytes of the file, its write-ahead log
//! and shared memory), the mail folder and the backup folder (after retention) hold
//! none of their identifiers.

use agora::db::schema::{posts, privacy_requests, users};
use agora::ops::backup;
use diesel::prelude::*;

use crate::fake_github::{FakeEmail, FakeUser};
use crate::helpers::{spawn_app_with_github_and, Backend, TestApp};

const USERNAME: &str = "quinnquail";
const FIRST_ADDRESS: &str = "quinn.quail@first.example";
const SECOND_ADDRESS: &str = "quinn.q@second.example";
const FIRST_NAME: &str = "Quincy";
const LAST_NAME: &str = "Quailworth";
const IP: &str = "198.51.100.201";
const USER_AGENT: &str = "QuinnBrowser/7.3";
const GITHUB_LOGIN: &str = "quinn-on-github";
const GITHUB_ID: i64 = 44_556_677;
const PASSWORD: &str = "quinn-has-a-long-password";

fn needles() -> Vec<&'static [u8]> {
    vec![
        USERNAME.as_bytes(),
        FIRST_ADDRESS.as_bytes(),
        SECOND_ADDRESS.as_bytes(),
        FIRST_NAME.as_bytes(),
        LAST_NAME.as_bytes(),
        IP.as_bytes(),
        USER_AGENT.as_bytes(),
        GITHUB_LOGIN.as_bytes(),
    ]
}

/// Where in `bytes` any needle occurs (by its index).
fn hits(bytes: &[u8]) -> Vec<&'static str> {
    let names =
        ["username", "first address", "second address", "first name", "last name", "IP", "user agent", "GitHub login"];
    needles()
        .iter()
        .zip(names)
        .filter(|(needle, _)| bytes.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle)))
        .map(|(_, name)| name)
        .collect()
}

fn files_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            found.push((path, bytes));
        }
    }
    found
}

fn set_age(path: &std::path::Path, days: u64) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(days * 86400)).unwrap();
}

#[actix_web::test]
async fn p12_a_member_who_did_everything_leaves_nothing_anywhere() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some((app, github)) = spawn_app_with_github_and(backend, crate::helpers::trust_local_proxy).await else {
            continue;
        };
        everything_then_nothing(&app, &github, backend).await;
    }
}

async fn everything_then_nothing(app: &TestApp, github: &crate::fake_github::FakeGithub, backend: Backend) {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", IP.parse().unwrap());
    headers.insert("user-agent", USER_AGENT.parse().unwrap());
    let quinn = app.browser_with(headers.clone());
    let signed_out = app.browser_with(headers);

    // Registers (newsletter on), confirms the first address, names themself.
    let joined = quinn
        .post_form(
            "/register",
            &[
                ("username", USERNAME),
                ("email", FIRST_ADDRESS),
                ("password", PASSWORD),
                ("age_confirmed", "yes"),
                ("accept_policy", "yes"),
                ("newsletter", "yes"),
            ],
        )
        .await;
    assert_eq!(joined.status, 303, "{}", joined.body);
    quinn.confirm_address(FIRST_ADDRESS).await;
    quinn
        .post_form("/account/profile", &[("username", USERNAME), ("first_name", FIRST_NAME), ("last_name", LAST_NAME)])
        .await;

    // Privacy requests: signed out under the first address, and signed in.
    let filed = signed_out
        .post_form(
            "/privacy/request",
            &[("email", FIRST_ADDRESS), ("kind", "access"), ("message", "Quincy Quailworth would like a copy")],
        )
        .await;
    assert_eq!(filed.status, 200);
    quinn
        .post_form(
            "/privacy/request",
            &[("email", FIRST_ADDRESS), ("kind", "correction"), ("message", "Fix Quailworth")],
        )
        .await;

    // Writes, edits, likes, flags and is flagged.
    let other = app.another_browser();
    other.register("bystander").await;
    // (What they write in public stays, by Anonymous (P13): it names nobody here.)
    let topic = quinn.create_topic("A question", "Hello from me").await;
    let topic_id: i64 = topic.split('/').nth(2).unwrap().parse().unwrap();
    other.post_form(&format!("/t/{topic_id}/reply"), &[("body", "An answer")]).await;
    let ids: Vec<(i64, String)> = {
        let mut conn = app.db.get().unwrap();
        posts::table
            .inner_join(users::table)
            .order(posts::id)
            .select((posts::id, users::username))
            .load(&mut *conn)
            .unwrap()
    };
    let (quinn_post, other_post) = (ids[0].0, ids[1].0);
    quinn.post_form(&format!("/p/{quinn_post}/edit"), &[("body", "Hello again from me")]).await;
    quinn.post_form(&format!("/p/{other_post}/like"), &[]).await;
    quinn.post_form(&format!("/p/{other_post}/flag"), &[("reason", "other"), ("details", "Quincy thinks so")]).await;
    other.post_form(&format!("/p/{quinn_post}/flag"), &[("reason", "other"), ("details", "Quailworth again")]).await;
    app.set_role("bystander", "moderator");
    other.post_form(&format!("/admin/posts/{quinn_post}/hide"), &[("reason", "Quincy Quailworth asked")]).await;

    // Links GitHub, then unlinks it.
    let mut on_github = FakeUser::new(GITHUB_ID, GITHUB_LOGIN, Some("Quincy Quailworth"));
    on_github.emails = vec![FakeEmail { email: FIRST_ADDRESS.into(), primary: true, verified: true }];
    github.add_user(on_github);
    github.sign_in_as(GITHUB_ID);
    let start = quinn.post_form("/account/github/link", &[("current_password", PASSWORD)]).await;
    assert_eq!(quinn.github_round_trip(start).await.location.as_deref(), Some("/account"));
    assert_eq!(quinn.post_form("/account/github/unlink", &[]).await.status, 303);

    // Changes address, unsubscribes.
    quinn.post_form("/account/email", &[("email", SECOND_ADDRESS), ("current_password", PASSWORD)]).await;
    let link = app.last_mail_to(SECOND_ADDRESS).link("/account/change-email?token=");
    let token = quinn.get(&link).await.field("token").unwrap();
    assert_eq!(quinn.post_form("/account/change-email", &[("token", &token)]).await.status, 303);
    quinn.post_form("/account/newsletter", &[]).await;

    // Turns on two-factor sign-in: the authenticator app's secret is theirs too.
    let (secret, _) = quinn.turn_on_two_factor().await;

    // Both requests are theirs, and in their export.
    let export: serde_json::Value =
        quinn.client.get(quinn.url("/account/export")).send().await.unwrap().json().await.unwrap();
    assert_eq!(export["privacy_requests"].as_array().unwrap().len(), 2, "{backend:?}: {}", export["privacy_requests"]);

    // A backup holds all of this; then the account goes.
    let before = backup::create(&app.db, &app.backup_dir()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let deleted = quinn.post_form("/account/delete", &[("password", PASSWORD), ("confirm_username", USERNAME)]).await;
    assert_eq!(deleted.location.as_deref(), Some("/account/deleted"), "{backend:?}");
    backup::create(&app.db, &app.backup_dir()).unwrap();

    // The tables, and on SQLite every byte of the database's files.
    assert!(!app.find_anywhere(&[b"bystander"]).is_empty(), "the scanner reads the tables");
    let in_tables = app.find_anywhere(&needles());
    assert!(in_tables.is_empty(), "{backend:?}: left in the tables: {in_tables:?}");
    assert!(app.find_anywhere(&[secret.as_bytes()]).is_empty(), "{backend:?}: the two-factor secret is gone");
    let holds_secret = |bytes: &[u8]| bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
    if let Some(bytes) = app.sqlite_bytes() {
        assert!(hits(&bytes).is_empty(), "left in the database files: {:?}", hits(&bytes));
        assert!(!holds_secret(&bytes), "the two-factor secret is in the database files");
    }
    // On PostgreSQL the old row versions are still in the files until the day's
    // maintenance rewrites their tables (the scan would find them here: it reads every
    // file of the database's directory).
    if let Some(files) = app.postgres_files() {
        let total: usize = files.iter().map(|(_, bytes)| bytes.len()).sum();
        assert!(total > 0, "the database's files were read");
        let holding = |files: &[(std::path::PathBuf, Vec<u8>)]| -> Vec<String> {
            files
                .iter()
                .filter(|(_, bytes)| !hits(bytes).is_empty())
                .map(|(path, bytes)| format!("{}: {:?}", path.display(), hits(bytes)))
                .collect()
        };
        assert!(!holding(&files).is_empty(), "before the rewrite the old row versions are there");
        agora::ops::maintenance::run_now(&app.db, &app.config).unwrap();
        let files = app.postgres_files().unwrap();
        assert!(holding(&files).is_empty(), "left in the database's files: {:#?}", holding(&files));
        assert!(!files.iter().any(|(_, bytes)| holds_secret(bytes)), "the two-factor secret is in the files");
        // The member who stayed is still there: the scan reads the rewritten files.
        let bystander = files.iter().any(|(_, bytes)| bytes.windows(9).any(|w| w == b"bystander"));
        assert!(bystander, "the rewritten files hold the members who stayed");
    }
    let requests: Vec<(String, String)> = {
        let mut conn = app.db.get().unwrap();
        privacy_requests::table.select((privacy_requests::email, privacy_requests::message)).load(&mut *conn).unwrap()
    };
    assert_eq!(requests.len(), 2, "the requests' records stay");
    assert!(requests.iter().all(|(email, message)| email.is_empty() && message.is_empty()));

    // The mail folder: nothing but the deletion notice, which goes with the retention.
    let mail_dir = match &app.config.mail {
        agora::mail::MailSettings::Files(dir) => dir.clone(),
        agora::mail::MailSettings::Smtp(_) => unreachable!(),
    };
    let left: Vec<_> = files_under(&mail_dir).into_iter().filter(|(_, bytes)| !hits(bytes).is_empty()).collect();
    let described: Vec<String> =
        left.iter().map(|(_, bytes)| String::from_utf8_lossy(bytes).chars().take(600).collect()).collect();
    assert_eq!(left.len(), 1, "{backend:?}: only the notice: {described:#?}");
    assert!(String::from_utf8_lossy(&left[0].1).contains("Your account has been deleted"));
    set_age(&left[0].0, 15);
    agora::mail::prune_files(&mail_dir, std::time::Duration::from_secs(14 * 86400)).unwrap();
    let left: Vec<_> = files_under(&mail_dir).into_iter().filter(|(_, bytes)| !hits(bytes).is_empty()).collect();
    assert!(left.is_empty(), "{backend:?}: mail left: {:?}", left.iter().map(|(p, _)| p).collect::<Vec<_>>());

    // The backup folder once the backup from before has passed its retention.
    let dir = app.backup_dir();
    let aged = dir.join(format!(
        "agora-{}.{}",
        agora::db::now() - 15 * 86400,
        before.path.extension().unwrap().to_string_lossy()
    ));
    std::fs::rename(&before.path, &aged).unwrap();
    backup::prune(&dir, 14).unwrap();
    let left: Vec<_> = files_under(&dir).into_iter().filter(|(_, bytes)| !hits(bytes).is_empty()).collect();
    assert!(left.is_empty(), "{backend:?}: backups left: {:?}", left.iter().map(|(p, _)| p).collect::<Vec<_>>());
}

/// On PostgreSQL the planner's statistics would copy sample values of every column into
/// `pg_statistic`; no erasure reaches them there. And the daily rewrite must cover every
/// table a member's text or pictures live in.
#[actix_web::test]
async fn p12_postgres_keeps_no_statistics_of_personal_columns_and_rewrites_their_tables() {
    use agora::privacy::registry::{self, OnDeletion};
    use diesel::sql_types::{BigInt, Text};
    let Some(app) = crate::helpers::spawn_app(Backend::Postgres).await else { return };
    app.register("statsy").await;
    let mut conn = app.db.get().unwrap();
    let agora::db::DbConn::Postgres(pg) = &mut *conn else { unreachable!() };
    #[derive(diesel::QueryableByName)]
    struct Column {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        column_name: String,
        #[diesel(sql_type = Text)]
        data_type: String,
        #[diesel(sql_type = BigInt)]
        target: i64,
    }
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT c.table_name::text, c.column_name::text, c.data_type::text, \
         COALESCE(a.attstattarget, -1)::bigint AS target \
         FROM information_schema.columns c \
         JOIN pg_attribute a ON a.attrelid = (quote_ident(c.table_name))::regclass AND a.attname = c.column_name \
         WHERE c.table_schema = current_schema()",
    )
    .load(pg)
    .unwrap();
    // Columns whose values are one of a few fixed words (kinds, levels, statuses): no
    // sample of them describes anyone.
    let fixed_words = [
        ("users", "role"),
        ("users", "policy_version"),
        ("avatars", "content_type"),
        ("github_signups", "avatar_type"),
        ("newsletter_events", "source"),
        ("flags", "reason"),
        ("flags", "outcome"),
        ("notifications", "kind"),
        ("topic_watches", "level"),
        ("category_watches", "level"),
        ("mail_queue", "kind"),
        ("mail_queue", "status"),
        ("mail_queue", "outcome"),
    ];
    let mut sampled = Vec::new();
    for c in &columns {
        let erased = registry::find(&c.table_name, &c.column_name)
            .is_some_and(|r| r.personal && matches!(r.on_deletion, OnDeletion::RowDeleted | OnDeletion::Erased));
        let free_text = matches!(c.data_type.as_str(), "text" | "bytea")
            && !fixed_words.contains(&(c.table_name.as_str(), c.column_name.as_str()))
            && !c.table_name.starts_with("notification_settings");
        if erased && free_text && c.target != 0 {
            sampled.push(format!("{}.{}", c.table_name, c.column_name));
        }
    }
    assert!(sampled.is_empty(), "statistics would sample {sampled:?}");
    // ANALYZE then holds nothing of the member.
    diesel::RunQueryDsl::execute(diesel::sql_query("ANALYZE"), pg).unwrap();
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let sampled: Count = diesel::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT COUNT(*) AS n FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'users' \
             AND attname IN ('username', 'username_key', 'email')",
        ),
        pg,
    )
    .unwrap();
    assert_eq!(sampled.n, 0);

    let tables = agora::ops::rewrite::personal_tables(pg).unwrap();
    for expected in [
        "users",
        "sessions",
        "post_edits",
        "avatars",
        "github_signups",
        "email_tokens",
        "flags",
        "notifications",
        "audit_log",
        "privacy_requests",
        "mail_queue",
    ] {
        assert!(tables.iter().any(|t| t == expected), "{expected} is rewritten daily: {tables:?}");
    }
    for not_daily in ["posts", "topics", "likes", "topic_reads"] {
        assert!(!tables.iter().any(|t| t == not_daily), "{not_daily} is not rewritten daily: {tables:?}");
    }
}
