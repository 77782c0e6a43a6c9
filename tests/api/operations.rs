//! Running it as a service: health and readiness for a load balancer, metrics for
//! Prometheus (from allowed addresses only), the daily maintenance run once a day across
//! instances, and pages that say 503 while PostgreSQL is unreachable and recover by
//! themselves when it is back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use agora::db::schema::settings;
use diesel::prelude::*;

use crate::helpers::{postgres_base_url, spawn_app_with, Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    health_readiness_and_metrics_answer,
    daily_maintenance_runs_once_a_day_across_instances,
    seeding_fills_an_empty_forum_that_members_can_use,
);

async fn health_readiness_and_metrics_answer(app: TestApp) {
    let health = app.get("/healthz").await;
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    let ready = app.get("/readyz").await;
    assert_eq!((ready.status, ready.body.as_str()), (200, "ready\n"));
    app.register("alice").await;
    let topic = app.create_topic("Metrics", "Counting.").await;
    app.get(&topic).await;
    app.get("/no/such/page").await;

    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.header("content-type").unwrap().starts_with("application/openmetrics-text"));
    let text = metrics.body;
    let line = |prefix: &str| text.lines().find(|l| l.starts_with(prefix)).map(str::to_string);
    let topic_views = line("agora_http_requests_total{route=\"/t/{id}/{slug}\",method=\"GET\",status=\"200\"}")
        .unwrap_or_else(|| panic!("requests by route template: {text}"));
    assert!(topic_views.ends_with(" 1"), "{topic_views}");
    assert!(line("agora_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}").is_some(), "{text}");
    assert!(
        line("agora_http_request_duration_seconds_bucket{le=\"0.5\",route=\"/t/{id}/{slug}\"}").is_some(),
        "{text}"
    );
    assert!(!text.contains("/t/1/metrics"), "paths with ids never become labels");
    assert_eq!(line("agora_active_sessions ").as_deref(), Some("agora_active_sessions 1"), "{text}");
    assert!(line("agora_mail_queue_pending ").is_some() && line("agora_db_pool_idle ").is_some(), "{text}");
    assert!(text.trim_end().ends_with("# EOF"));
}

#[actix_web::test]
async fn metrics_are_hidden_from_addresses_not_allowed() {
    let app = spawn_app_with(Backend::Sqlite, |config| {
        crate::helpers::trust_local_proxy(config);
        config.metrics_allow = agora::config::parse_proxies("10.1.0.0/16").unwrap();
    })
    .await
    .unwrap();
    assert_eq!(app.get("/metrics").await.status, 404, "loopback is not in the list");
    let outsider = app.browser_from("203.0.113.9").get("/metrics").await;
    assert_eq!(outsider.status, 404);
    assert!(outsider.body.contains("<html"), "the forum's own 404 page");
    assert_eq!(app.browser_from("10.1.2.3").get("/metrics").await.status, 200);
}

async fn daily_maintenance_runs_once_a_day_across_instances(app: TestApp) {
    let mut config = app.config.clone();
    config.backup_dir = app.backup_dir();
    // Two instances' pools, asking at the same moment.
    let (one, two) = (app.db.clone(), agora::db::Database::connect(&config.database_url, 2).unwrap());
    let (c1, c2) = (config.clone(), config.clone());
    let first = std::thread::spawn(move || agora::ops::maintenance::run_if_due(&one, &c1).unwrap());
    let second = std::thread::spawn(move || agora::ops::maintenance::run_if_due(&two, &c2).unwrap());
    let ran = [first.join().unwrap(), second.join().unwrap()];
    assert_eq!(ran.iter().filter(|r| **r).count(), 1, "exactly one ran: {ran:?}");
    let backups = || agora::ops::backup::list(&config.backup_dir).unwrap().len();
    assert_eq!(backups(), 1);
    assert!(!agora::ops::maintenance::run_if_due(&app.db, &config).unwrap(), "not again the same day");
    assert_eq!(backups(), 1);

    // A day later it is due again.
    let mut conn = app.db.get().unwrap();
    let yesterday = (agora::db::now() - 25 * 3600).to_string();
    diesel::update(settings::table.find("maintenance_last_run"))
        .set(settings::value.eq(yesterday))
        .execute(&mut *conn)
        .unwrap();
    drop(conn);
    assert!(agora::ops::maintenance::run_if_due(&app.db, &config).unwrap());
    let last = agora::ops::maintenance::last_run(&mut app.db.get().unwrap()).unwrap().unwrap();
    assert!(agora::db::now() - last < 60);
}

/// A TCP proxy in front of PostgreSQL that the test can cut and restore, as if the
/// database server went away and came back on the same address. Plain threads: the
/// server under test blocks its own runtime's thread while it starts.
struct Cuttable {
    port: u16,
    open: Arc<AtomicBool>,
    streams: Arc<Mutex<Vec<std::net::TcpStream>>>,
}

impl Cuttable {
    fn start(port: u16) -> Cuttable {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("proxy port");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = Arc::new(AtomicBool::new(true));
        let streams: Arc<Mutex<Vec<std::net::TcpStream>>> = Arc::default();
        let (still_open, kept) = (open.clone(), streams.clone());
        std::thread::spawn(move || {
            while still_open.load(Ordering::SeqCst) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    continue;
                };
                client.set_nonblocking(false).unwrap();
                let Ok(server) = std::net::TcpStream::connect("127.0.0.1:5432") else { continue };
                let mut pipes = kept.lock().unwrap();
                pipes.push(client.try_clone().unwrap());
                pipes.push(server.try_clone().unwrap());
                for (mut from, mut to) in [(client.try_clone().unwrap(), server.try_clone().unwrap()), (server, client)]
                {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Cuttable { port, open, streams }
    }

    /// Stops listening and drops every connection through it.
    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for stream in self.streams.lock().unwrap().drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        // The listener closes within its next poll.
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[actix_web::test]
async fn pages_answer_503_while_postgres_is_unreachable_and_recover_by_themselves() {
    let Some(base) = postgres_base_url() else {
        eprintln!("SKIPPED: PostgreSQL run (set AGORA_TEST_POSTGRES_URL to include it)");
        return;
    };
    assert!(base.ends_with(":5432"), "the proxy forwards to 127.0.0.1:5432: {base}");
    let proxy = Cuttable::start(0);
    let port = proxy.port;
    let app = spawn_app_with(Backend::Postgres, |config| {
        config.database_url = config.database_url.replace(":5432/", &format!(":{port}/"));
    })
    .await
    .unwrap();
    assert_eq!(app.get("/").await.status, 200);

    proxy.cut();
    let down = app.get("/").await;
    assert_eq!(down.status, 503, "{}", down.body);
    assert!(down.body.contains("cannot reach its database"), "a clear page: {}", down.body);
    assert_eq!(down.header("retry-after").as_deref(), Some("30"));
    let started = std::time::Instant::now();
    assert_eq!(app.get("/readyz").await.status, 503);
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "readyz answers within about a second");
    assert_eq!(app.get("/healthz").await.status, 200, "the process itself is alive");

    let _back = Cuttable::start(port);
    let mut waited = 0;
    while app.get("/readyz").await.status != 200 {
        assert!(waited < 50, "ready again within 10 s of the database's return");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        waited += 1;
    }
    assert_eq!(app.get("/").await.status, 200, "pages recover without a restart");

    // A blip: the database drops every connection and is back at once, with no request
    // in between. Pages read without pinging their connection first, so several at once
    // take every pooled connection (a pool of 4), each one dead, and none may fail.
    let six_pages = || async {
        let (a, b, c, d, e, f) = tokio::join!(
            app.get("/"),
            app.get("/latest"),
            app.get("/"),
            app.get("/latest"),
            app.get("/"),
            app.get("/")
        );
        [a, b, c, d, e, f]
    };
    six_pages().await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    _back.cut();
    let _again = Cuttable::start(port);
    for page in six_pages().await {
        assert_eq!(page.status, 200, "a page after the blip: {}", page.body);
    }
}

async fn seeding_fills_an_empty_forum_that_members_can_use(app: TestApp) {
    use agora::db::schema::{categories, posts, topics};
    let plan = agora::ops::seed::Plan { members: 30, topics: 40, posts: 1000, big_topic: Some(250) };
    let mut conn = app.db.get().unwrap();
    let seen = std::cell::Cell::new(0);
    let seeded = agora::ops::seed::seed(&mut conn, &plan, false, &|done| seen.set(done)).unwrap();
    assert_eq!((seeded.members, seeded.topics, seeded.posts), (30, 40, 1250));
    assert_eq!(seen.get(), 1250, "progress reached the end");
    let stored: i64 = posts::table.count().get_result(&mut *conn).unwrap();
    assert_eq!(stored, 1250);
    let counters: Vec<i64> = categories::table.select(categories::post_count).load(&mut *conn).unwrap();
    assert_eq!(counters.iter().sum::<i64>(), 1250, "category counters match the posts");
    let big = seeded.big_topic.unwrap();
    let big_count: i64 = topics::table.find(big).select(topics::post_count).first(&mut *conn).unwrap();
    assert_eq!(big_count, 250);
    // Refused on a database that has posts, unless forced.
    let again = agora::ops::seed::seed(&mut conn, &plan, false, &|_| {});
    assert!(matches!(again, Err(agora::ops::seed::SeedError::NotEmpty(1250))));
    drop(conn);

    // What it made is a forum: pages render, a seeded member signs in and replies.
    let page = app.get(&format!("/t/{big}")).await;
    let topic = page.location.expect("the long topic's address");
    let last = app.get(&format!("{topic}?page=13")).await;
    assert_eq!(last.status, 200);
    assert_eq!(last.texts(".post .post-body").len(), 10, "250 posts: the 13th page holds 10");
    assert!(last.body.contains("<p>"), "bodies were rendered from Markdown");
    let signed_in =
        app.post_form("/login", &[("login", "member1"), ("password", agora::ops::seed::PASSWORD), ("next", "/")]).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(app.post_form(&format!("/t/{big}/reply"), &[("body", "A real reply.")]).await.status, 303);
}

#[actix_web::test]
async fn a_sqlite_community_moves_to_postgres_with_db_copy() {
    use agora::db::schema::posts;
    let Some(base) = postgres_base_url() else {
        eprintln!("SKIPPED: PostgreSQL run (set AGORA_TEST_POSTGRES_URL to include it)");
        return;
    };
    let app = crate::helpers::spawn_app(Backend::Sqlite).await.unwrap();
    app.register("alice").await;
    let topic = app.create_topic("Moving house", "We outgrew one **machine**.").await;
    let id: i64 = topic.split('/').nth(2).unwrap().parse().unwrap();
    let bob = app.another_browser();
    bob.register("bob").await;
    bob.post_form(&format!("/t/{id}/reply"), &[("body", "Welcome to PostgreSQL, @alice.")]).await;
    let first: i64 = {
        let mut conn = app.db.get().unwrap();
        posts::table
            .filter(posts::topic_id.eq(id))
            .filter(posts::post_number.eq(1))
            .select(posts::id)
            .first(&mut *conn)
            .unwrap()
    };
    bob.post_form(&format!("/p/{first}/like"), &[]).await;
    app.post_form("/u/bob/block", &[]).await;

    // An empty PostgreSQL database, dropped at the end.
    let name = format!("agora_copy_{}_{}", std::process::id(), agora::db::now());
    let admin_url = format!("{base}/postgres?sslmode=disable");
    let mut admin = diesel::PgConnection::establish(&admin_url).unwrap();
    diesel::connection::SimpleConnection::batch_execute(&mut admin, &format!("CREATE DATABASE \"{name}\"")).unwrap();
    let url = format!("{base}/{name}?sslmode=disable");
    let steps = std::cell::Cell::new(0u64);
    let copied = agora::ops::copy::to_postgres(&app.db, &url, &|_, done, _| steps.set(done)).unwrap();
    assert!(copied.tables.iter().any(|(t, n)| t == "posts" && *n == 2), "{copied:?}");
    assert!(steps.get() > 10, "progress was reported");

    // Start Agora on the copy: the same pages, the same members, new rows continue.
    let moved_db = agora::db::Database::connect(&url, 2).unwrap();
    {
        let mut there = moved_db.get().unwrap();
        let count = |c: &mut agora::db::DbConn, table: &str| -> i64 {
            #[derive(diesel::QueryableByName)]
            struct N {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")).get_result::<N>(c).unwrap().n
        };
        assert_eq!(count(&mut there, "posts"), 2);
        assert_eq!(count(&mut there, "likes"), 1);
        assert_eq!(count(&mut there, "member_blocks"), 1);
        assert!(count(&mut there, "notifications") >= 2, "a reply, a mention, a like");
    }
    let mut config = app.config.clone();
    config.database_url = url.clone();
    config.bind = "127.0.0.1:0".into();
    config.public_url = "http://127.0.0.1:0".into();
    let moved = agora::App::build(config).unwrap();
    let address = format!("http://127.0.0.1:{}", moved.port());
    actix_web::rt::spawn(moved.run_until_stopped());
    let visitor = app.browser_for(&address);
    let page = visitor.get(&topic).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<strong>machine</strong>") && page.body.contains("Welcome to PostgreSQL"));
    assert_eq!(page.texts(".post .likes"), vec!["1 like", "0 likes"]);
    let alice = app.browser_for(&address);
    let signed_in = alice
        .post_form("/login", &[("login", "alice"), ("password", "alice-has-a-long-password"), ("next", "/")])
        .await;
    assert_eq!(signed_in.status, 303, "her password hash came along");
    assert_eq!(
        alice.post_form(&format!("/t/{id}/reply"), &[("body", "Settled in.")]).await.status,
        303,
        "ids continue"
    );
    assert!(alice.get("/account").await.texts(".blocked-members li a").contains(&"bob".to_string()));

    // A database that is not empty is refused.
    let again = agora::ops::copy::to_postgres(&app.db, &url, &|_, _, _| {});
    assert!(again.unwrap_err().to_string().contains("copy into an empty database"));
    drop(moved_db);
    let _ = diesel::connection::SimpleConnection::batch_execute(
        &mut admin,
        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
    );
}
