//! One way to start Agora in a test: `spawn_app` gives a running server on a random
//! port over a fresh database (a temporary SQLite file, or a PostgreSQL database
//! created for this test and dropped after it), and a client with a cookie jar.

use std::sync::Mutex;

use agora::config::{Config, GithubConfig};
use agora::db::Database;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};
use rand::RngCore;

use crate::fake_github::FakeGithub;

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    /// The same database the server uses, for asserting what was stored.
    pub db: Database,
    /// The settings the server runs with (ports resolved), for library calls a test makes.
    pub config: Config,
    /// Holds the mail folder and the backup folder.
    scratch: std::sync::Arc<tempfile::TempDir>,
    _sqlite_dir: Option<tempfile::TempDir>,
    _postgres: Option<PostgresScratch>,
}

/// A database created for one test and dropped when it ends.
struct PostgresScratch {
    base: String,
    admin_url: String,
    name: String,
    /// More databases made for this test (restore targets), dropped with it.
    extra: Mutex<Vec<String>>,
}

impl Drop for PostgresScratch {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name));
            for extra in self.extra.lock().unwrap().iter() {
                let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{extra}\" WITH (FORCE)"));
            }
        }
    }
}

/// A test database's URL on the loopback server. Without TLS: the server is on this
/// machine, and with TLS libpq's OpenSSL tears its globals down at process exit while
/// pool threads still hold connections, which ended the test binary with SIGSEGV after
/// every test had passed (about one run in ten).
fn pg_url(base: &str, database: &str) -> String {
    format!("{base}/{database}?sslmode=disable")
}

pub fn postgres_base_url() -> Option<String> {
    let url = std::env::var("AGORA_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty())?;
    // Accept the server's URL with or without a database name.
    let without_scheme = url.split_once("://").map(|(_, rest)| rest).unwrap_or(&url);
    match without_scheme.find('/') {
        Some(slash) => Some(url[..url.len() - without_scheme.len() + slash].to_string()),
        None => Some(url.trim_end_matches('/').to_string()),
    }
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// Like `spawn_app`, letting the test change settings first.
pub async fn spawn_app_with(backend: Backend, customise: impl FnOnce(&mut Config)) -> Option<TestApp> {
    // AGORA_TEST_LOG=debug shows the server's log in a failing test's output.
    if let Ok(level) = std::env::var("AGORA_TEST_LOG") {
        let _ = tracing_subscriber::fmt().with_env_filter(level).with_test_writer().try_init();
    }
    let mut suffix = [0u8; 8];
    rand::rng().fill_bytes(&mut suffix);
    let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();

    let (database_url, sqlite_dir, postgres) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let url = format!("sqlite://{}", dir.path().join("agora.db").display());
            (url, Some(dir), None)
        }
        Backend::Postgres => {
            let Some(base) = postgres_base_url() else {
                eprintln!("SKIPPED: PostgreSQL run (set AGORA_TEST_POSTGRES_URL to include it)");
                return None;
            };
            let name = format!("agora_test_{suffix}");
            let admin_url = pg_url(&base, "postgres");
            let mut admin = PgConnection::establish(&admin_url).expect("PostgreSQL answers at AGORA_TEST_POSTGRES_URL");
            admin.batch_execute(&format!("CREATE DATABASE \"{name}\"")).expect("create test database");
            let url = pg_url(&base, &name);
            (url, None, Some(PostgresScratch { base, admin_url, name, extra: Mutex::new(Vec::new()) }))
        }
    };

    let scratch = tempfile::tempdir().expect("temporary directory");
    let mut config = Config::from_lookup(|_| None).expect("default settings");
    config.database_url = database_url.clone();
    config.database_pool_size = 4;
    config.bind = "127.0.0.1:0".into();
    // Port 0 here follows the port the server binds.
    config.public_url = "http://127.0.0.1:0".into();
    config.mail = agora::mail::MailSettings::Files(scratch.path().join("mail"));
    config.backup_dir = scratch.path().join("backups");
    config.daily_maintenance = false;
    // Queued mail is sent when a test says so (`deliver_mail`), so a test can also
    // prove that nothing was sent.
    config.mail_queue_seconds = 0;
    // Every member a test makes comes from 127.0.0.1: the limits stay on, a hundred times
    // wider. The rate-limit tests set the real defaults back.
    config.rate_limits = agora::web::rate_limit::RateLimits::default().scaled(100);
    customise(&mut config);
    let app = agora::App::build(config.clone()).expect("Agora starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());

    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client");
    let db = Database::connect(&database_url, 2).expect("test database connection");
    config.public_url = address.clone();
    Some(TestApp {
        address,
        client,
        db,
        config,
        scratch: std::sync::Arc::new(scratch),
        _sqlite_dir: sqlite_dir,
        _postgres: postgres,
    })
}

/// A mail as written to the mail folder.
#[derive(Debug, Clone)]
pub struct SentMail {
    pub to: String,
    pub subject: String,
    pub headers: String,
    pub body: String,
}

impl SentMail {
    fn parse(raw: &str) -> SentMail {
        let (headers, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
        // Long headers are folded onto several lines.
        let headers = headers.replace("\r\n ", " ").replace("\r\n\t", " ");
        let header = |name: &str| {
            headers.lines().find_map(|l| l.strip_prefix(&format!("{name}: "))).map(str::to_string).unwrap_or_default()
        };
        let body = if header("Content-Transfer-Encoding").eq_ignore_ascii_case("quoted-printable") {
            decode_quoted_printable(body)
        } else {
            body.to_string()
        };
        SentMail {
            to: header("To"),
            subject: decode_encoded_words(&header("Subject")),
            headers: headers.clone(),
            body: body.replace("\r\n", "\n"),
        }
    }

    /// The first link in the body whose path starts with `path` (e.g. `/password/reset`),
    /// as a path and query the test client can follow.
    pub fn link(&self, path: &str) -> String {
        let start = self.body.find(path).unwrap_or_else(|| panic!("no {path} link in: {}", self.body));
        self.body[start..].chars().take_while(|c| !c.is_whitespace()).collect()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|l| l.strip_prefix(&format!("{name}: "))).map(str::to_string)
    }
}

/// Undoes RFC 2047 encoded words (`=?utf-8?b?…?=`), as lettre writes a subject that is
/// not plain ASCII.
fn decode_encoded_words(header: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    // Space between two encoded words is not text; any other space is.
    let mut last_encoded = false;
    for word in header.split_whitespace() {
        let inner = word.strip_prefix("=?utf-8?b?").or_else(|| word.strip_prefix("=?UTF-8?B?"));
        let encoded = inner.and_then(|w| w.strip_suffix("?="));
        let joined_to_last = last_encoded && encoded.is_some();
        if !out.is_empty() && !joined_to_last {
            out.push(' ');
        }
        match encoded {
            Some(encoded) => {
                let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).unwrap_or_default();
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
            None => out.push_str(word),
        }
        last_encoded = encoded.is_some();
    }
    out
}

/// Undoes quoted-printable (RFC 2045): soft line breaks and `=XX` bytes.
fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 3 <= bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
    headers: reqwest::header::HeaderMap,
}

impl Page {
    /// A response header's value, if it was sent.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }

    pub fn html(&self) -> scraper::Html {
        scraper::Html::parse_document(&self.body)
    }

    /// The text of every element matching `selector`, whitespace collapsed.
    pub fn texts(&self, selector: &str) -> Vec<String> {
        let selector = scraper::Selector::parse(selector).expect("valid selector");
        self.html()
            .select(&selector)
            .map(|e| e.text().collect::<Vec<_>>().join(" ").split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    }

    /// The text of every element matching `selector`, as one line.
    pub fn text(&self, selector: &str) -> String {
        self.texts(selector).join(" ")
    }

    /// The `value` of the form field named `name` (or a textarea's text).
    pub fn field(&self, name: &str) -> Option<String> {
        let html = self.html();
        let input = scraper::Selector::parse(&format!("input[name=\"{name}\"]")).unwrap();
        if let Some(e) = html.select(&input).next() {
            return Some(e.value().attr("value").unwrap_or("").to_string());
        }
        let textarea = scraper::Selector::parse(&format!("textarea[name=\"{name}\"]")).unwrap();
        html.select(&textarea).next().map(|e| e.text().collect())
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    async fn page(response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let location = response.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
        let set_cookies = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        let headers = response.headers().clone();
        let body = response.text().await.expect("response body");
        Page { status, location, set_cookies, body, headers }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.get_absolute(&self.url(path)).await
    }

    /// A GET to any address (the fake GitHub's, or an absolute redirect).
    pub async fn get_absolute(&self, url: &str) -> Page {
        Self::page(self.client.get(url).send().await.expect("GET")).await
    }

    /// The CSRF token this client's pages carry now (read from a page, as a browser's
    /// form would). It changes when the browser signs in or out, so it is read afresh.
    pub async fn csrf_token(&self) -> String {
        // Signed in: the header's sign-out form; signed out: the sign-in form.
        let page = self.get("/account").await;
        let token = match page.status {
            200 => page.field("csrf_token"),
            _ => self.get("/login").await.field("csrf_token"),
        };
        token.expect("pages carry a CSRF token")
    }

    /// Submits a form the way a browser does, CSRF token included.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf_token().await;
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        form.extend_from_slice(fields);
        self.post_raw(path, &form, &[]).await
    }

    /// Submits a `multipart/form-data` form (one with a file field), CSRF token included.
    pub async fn post_multipart(&self, path: &str, fields: &[(&str, &str)], file: Option<(&str, Vec<u8>)>) -> Page {
        let token = self.csrf_token().await;
        let mut form = reqwest::multipart::Form::new().text("csrf_token", token);
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        if let Some((name, bytes)) = file {
            form = form.part(name.to_string(), reqwest::multipart::Part::bytes(bytes).file_name("upload"));
        }
        Self::page(self.client.post(self.url(path)).multipart(form).send().await.expect("POST")).await
    }

    pub async fn post_raw(&self, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Page {
        let mut request = self.client.post(self.url(path)).form(form);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Self::page(request.send().await.expect("POST")).await
    }

    /// Registers and signs in a member with a valid password and confirms their address
    /// through the link mailed to it; returns the password.
    pub async fn register(&self, username: &str) -> String {
        let password = self.register_unconfirmed(username).await;
        self.confirm_address(&format!("{}@example.org", username.to_lowercase())).await;
        password
    }

    /// Opens the newest confirmation link mailed to `email` and presses its button.
    pub async fn confirm_address(&self, email: &str) {
        let link = self.last_mail_to(email).link("/account/confirm-email");
        let page = self.get(&link).await;
        let token = page.field("token").expect("the confirmation page carries the token");
        let confirmed = self.post_form("/account/confirm-email", &[("token", &token)]).await;
        assert_eq!(confirmed.status, 303, "confirming {email} failed: {}", confirmed.body);
    }

    /// Saves this member's notification-mail choices on Your data: each kind named gets
    /// its choice, every other kind is not mailed (moderators' decisions: each).
    pub async fn choose_mail(&self, chosen: &[(&str, &str)]) {
        let mut form = vec![("watch_own", "yes"), ("moderation", "each")];
        for kind in ["reply", "topic", "mention", "quote", "like"] {
            form.push((kind, chosen.iter().find(|(k, _)| *k == kind).map_or("off", |(_, choice)| *choice)));
        }
        let saved = self.post_form("/account/notifications", &form).await;
        assert_eq!(saved.status, 303, "{}", saved.body);
    }

    /// Turns two-factor sign-in on as a member would: opens the set-up page, types the
    /// code the app shows now; returns the secret and the recovery codes shown once.
    pub async fn turn_on_two_factor(&self) -> (String, Vec<String>) {
        let setup = self.get("/account/two-factor").await;
        assert_eq!(setup.status, 200, "{}", setup.body);
        let secret = setup.field("secret").expect("the set-up form carries the secret");
        let signature = setup.field("signature").expect("and its signature");
        let code = agora::auth::two_factor::code_at(&secret, agora::db::now() as u64).unwrap();
        let on = self
            .post_form("/account/two-factor/enable", &[("secret", &secret), ("signature", &signature), ("code", &code)])
            .await;
        assert_eq!(on.status, 200, "{}", on.body);
        (secret, on.texts(".recovery-codes code"))
    }

    /// Registers and signs in a member whose address is not confirmed yet.
    pub async fn register_unconfirmed(&self, username: &str) -> String {
        let password = format!("{username}-has-a-long-password");
        let email = format!("{}@example.org", username.to_lowercase());
        let page = self
            .post_form(
                "/register",
                &[
                    ("username", username),
                    ("email", &email),
                    ("password", &password),
                    ("age_confirmed", "yes"),
                    ("accept_policy", "yes"),
                ],
            )
            .await;
        assert_eq!(page.status, 303, "registration of {username} failed: {}", page.body);
        password
    }

    /// The raw bytes of a SQLite database (file and write-ahead log), to prove
    /// something is stored nowhere at all; `None` on PostgreSQL.
    pub fn sqlite_bytes(&self) -> Option<Vec<u8>> {
        let dir = self._sqlite_dir.as_ref()?;
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(dir.path()).ok()?.flatten() {
            bytes.extend(std::fs::read(entry.path()).unwrap_or_default());
        }
        Some(bytes)
    }

    /// Every file of a PostgreSQL test database's directory (heap, index, TOAST, free
    /// space and visibility maps, `base/<oid>/`), after a checkpoint wrote out what the
    /// server held in memory; `None` on SQLite. Needs the server's files on this
    /// machine (the test's PostgreSQL is local) and a superuser to ask where they are.
    pub fn postgres_files(&self) -> Option<Vec<(std::path::PathBuf, Vec<u8>)>> {
        use diesel::sql_types::Text;
        #[derive(diesel::QueryableByName)]
        struct Place {
            #[diesel(sql_type = Text)]
            dir: String,
        }
        let mut conn = self.db.get().unwrap();
        let agora::db::DbConn::Postgres(pg) = &mut *conn else { return None };
        pg.batch_execute("CHECKPOINT").expect("CHECKPOINT (the test role must be a superuser)");
        let place: Place = diesel::sql_query(
            "SELECT current_setting('data_directory') || '/base/' || oid::text AS dir FROM pg_database \
             WHERE datname = current_database()",
        )
        .get_result(pg)
        .unwrap();
        let entries = std::fs::read_dir(&place.dir).unwrap_or_else(|e| panic!("{}: {e}", place.dir));
        let mut files = Vec::new();
        for entry in entries.flatten() {
            // A file may be unlinked between the listing and the read: it holds nothing then.
            if let Ok(bytes) = std::fs::read(entry.path()) {
                files.push((entry.path(), bytes));
            }
        }
        Some(files)
    }

    /// Every mail sent so far, oldest first.
    pub fn mails(&self) -> Vec<SentMail> {
        let dir = self.scratch.path().join("mail");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|entries| {
                entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect()
            })
            .unwrap_or_default();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files.iter().map(|p| SentMail::parse(&std::fs::read_to_string(p).unwrap())).collect()
    }

    /// Sends the queued mail that is due, as a server's background loop does.
    pub async fn deliver_mail(&self) -> agora::conversation::mailing::Delivery {
        let outbox = agora::conversation::mailing::Outbox::new(self.db.clone(), &self.config).expect("outbox");
        outbox.deliver_due().await.expect("queued mail delivered")
    }

    /// The mails to `address`, oldest first.
    pub fn mails_to(&self, address: &str) -> Vec<SentMail> {
        self.mails().into_iter().filter(|m| m.to.contains(address)).collect()
    }

    /// The newest mail to `address`.
    pub fn last_mail_to(&self, address: &str) -> SentMail {
        self.mails()
            .into_iter()
            .rev()
            .find(|m| m.to.contains(address))
            .unwrap_or_else(|| panic!("no mail to {address}"))
    }

    /// A second browser: its own cookie jar, same server and database.
    pub fn another_browser(&self) -> TestApp {
        self.browser_with(reqwest::header::HeaderMap::new())
    }

    /// A fresh browser for another server (a second instance, a moved community).
    pub fn browser_for(&self, address: &str) -> TestApp {
        let mut browser = self.another_browser();
        browser.address = address.to_string();
        browser
    }

    /// A browser behind a proxy that reports it as `ip` (the app must trust 127.0.0.1).
    pub fn browser_from(&self, ip: &str) -> TestApp {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-forwarded-for", ip.parse().unwrap());
        self.browser_with(headers)
    }

    pub fn browser_with(&self, headers: reqwest::header::HeaderMap) -> TestApp {
        TestApp {
            address: self.address.clone(),
            client: reqwest::Client::builder()
                .cookie_store(true)
                .default_headers(headers)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            db: self.db.clone(),
            config: self.config.clone(),
            scratch: self.scratch.clone(),
            _sqlite_dir: None,
            _postgres: None,
        }
    }

    /// Creates a topic in General and returns its path (`/t/ID/slug`).
    pub async fn create_topic(&self, title: &str, body: &str) -> String {
        let page = self.post_form("/c/1/new", &[("title", title), ("body", body)]).await;
        assert_eq!(page.status, 303, "topic creation failed: {}", page.body);
        page.location.expect("redirect to the new topic")
    }
}

pub const GITHUB_CLIENT_ID: &str = "Iv1.agora-test-client";
pub const GITHUB_CLIENT_SECRET: &str = "agora-test-secret";

/// Agora with sign-in with GitHub pointed at a fake GitHub started for this test.
pub async fn spawn_app_with_github(backend: Backend) -> Option<(TestApp, FakeGithub)> {
    spawn_app_with_github_and(backend, |_| {}).await
}

/// Like `spawn_app_with_github`, letting the test change settings first.
pub async fn spawn_app_with_github_and(
    backend: Backend,
    customise: impl FnOnce(&mut Config),
) -> Option<(TestApp, FakeGithub)> {
    let fake = FakeGithub::start(GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET).await;
    let url = fake.url.clone();
    let app = spawn_app_with(backend, |config| {
        customise(config);
        config.github = Some(GithubConfig {
            client_id: GITHUB_CLIENT_ID.into(),
            client_secret: GITHUB_CLIENT_SECRET.into(),
            web_url: url.clone(),
            api_url: url,
            timeout: std::time::Duration::from_secs(2),
        });
    })
    .await?;
    fake.set_callback(&format!("{}/auth/github/callback", app.address));
    Some((app, fake))
}

impl TestApp {
    /// Clicks "Sign in with GitHub" and follows GitHub's redirects back to Agora,
    /// returning Agora's answer to the callback.
    pub async fn github_round_trip(&self, start: Page) -> Page {
        assert_eq!(start.status, 303, "the flow starts with a redirect: {}", start.body);
        let authorize = start.location.expect("a redirect to GitHub");
        let at_github = self.get_absolute(&authorize).await;
        assert_eq!(at_github.status, 302, "fake GitHub approves: {}", at_github.body);
        let callback = at_github.location.expect("GitHub redirects back");
        assert!(callback.starts_with(&self.address), "back to Agora: {callback}");
        self.get_absolute(&callback).await
    }

    pub async fn github_sign_in(&self) -> Page {
        let start = self.post_form("/auth/github", &[]).await;
        self.github_round_trip(start).await
    }

    /// Signs in with GitHub as a new member and finishes the consent page.
    pub async fn github_join(&self) -> Page {
        let callback = self.github_sign_in().await;
        assert_eq!(callback.location.as_deref(), Some("/auth/github/finish"), "{}", callback.body);
        let form = self.get("/auth/github/finish").await;
        let username = form.field("username").expect("a username field");
        self.post_form(
            "/auth/github/finish",
            &[("username", &username), ("age_confirmed", "yes"), ("accept_policy", "yes")],
        )
        .await
    }
}

/// Where a needle was found: table, column.
pub type Finding = (String, String);

impl TestApp {
    /// Reads every column of every table (the live schema, whatever it holds) and
    /// reports where any of `needles` occurs. Values are compared as bytes, in hex, so
    /// text, numbers and pictures are all covered.
    pub fn find_anywhere(&self, needles: &[&[u8]]) -> Vec<(Finding, usize)> {
        use diesel::sql_types::Text;
        #[derive(diesel::QueryableByName)]
        struct Name {
            #[diesel(sql_type = Text)]
            name: String,
        }
        let hex_needles: Vec<String> = needles.iter().map(|n| n.iter().map(|b| format!("{b:02x}")).collect()).collect();
        let mut found = Vec::new();
        let mut conn = self.db.get().unwrap();
        let columns: Vec<(String, String, String)> = match &mut *conn {
            agora::db::DbConn::Sqlite(c) => {
                let tables: Vec<Name> =
                    diesel::sql_query("SELECT name FROM sqlite_master WHERE type = 'table'").load(c).unwrap();
                tables
                    .into_iter()
                    .flat_map(|t| {
                        let columns: Vec<Name> =
                            diesel::sql_query(format!("SELECT name FROM pragma_table_info('{}')", t.name))
                                .load(c)
                                .unwrap();
                        columns.into_iter().map(move |col| (t.name.clone(), col.name, String::new()))
                    })
                    .collect::<Vec<_>>()
            }
            agora::db::DbConn::Postgres(c) => {
                #[derive(diesel::QueryableByName)]
                struct Col {
                    #[diesel(sql_type = Text)]
                    table_name: String,
                    #[diesel(sql_type = Text)]
                    column_name: String,
                    #[diesel(sql_type = Text)]
                    data_type: String,
                }
                let cols: Vec<Col> = diesel::sql_query(
                    "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = 'public'",
                )
                .load(c)
                .unwrap();
                cols.into_iter().map(|c| (c.table_name, c.column_name, c.data_type)).collect()
            }
        };
        drop(conn);
        for (table, column, data_type) in columns {
            let cells = self.hex_values(&table, &column, data_type == "bytea", "1 = 1");
            for cell in cells {
                for (i, needle) in hex_needles.iter().enumerate() {
                    // Hex digits pair up: only matches on a byte boundary count.
                    if cell.match_indices(needle.as_str()).any(|(at, _)| at % 2 == 0) {
                        found.push(((table.clone(), column.clone()), i));
                    }
                }
            }
        }
        found
    }

    /// The non-null values of `table.column` in the rows where `owner` = `id`, as text
    /// (pictures as base64, as the export has them).
    pub fn column_values(&self, table: &str, column: &str, owner: &str, id: i64) -> Vec<String> {
        use base64::Engine;
        let binary = column == "image";
        self.hex_values(table, column, binary, &format!("\"{owner}\" = {id}"))
            .into_iter()
            .map(|hex| {
                let bytes: Vec<u8> =
                    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
                if binary {
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                } else {
                    String::from_utf8(bytes).unwrap()
                }
            })
            .collect()
    }

    /// The non-null values of `table.column` in the rows matching `filter`, as lower-case
    /// hex of their bytes (text as UTF-8; `binary` columns as they are stored).
    fn hex_values(&self, table: &str, column: &str, binary: bool, filter: &str) -> Vec<String> {
        use diesel::sql_types::{Nullable, Text};
        #[derive(diesel::QueryableByName)]
        struct Cell {
            #[diesel(sql_type = Nullable<Text>)]
            value: Option<String>,
        }
        let rows = format!("FROM \"{table}\" WHERE {filter} AND \"{column}\" IS NOT NULL");
        let mut conn = self.db.get().unwrap();
        let cells: Vec<Cell> = match &mut *conn {
            agora::db::DbConn::Sqlite(c) => {
                diesel::sql_query(format!("SELECT lower(hex(\"{column}\")) AS value {rows}")).load(c).unwrap()
            }
            agora::db::DbConn::Postgres(c) => {
                let bytes =
                    if binary { format!("\"{column}\"") } else { format!("convert_to(\"{column}\"::text, 'UTF8')") };
                diesel::sql_query(format!("SELECT encode({bytes}, 'hex') AS value {rows}")).load(c).unwrap()
            }
        };
        cells.into_iter().filter_map(|cell| cell.value).collect()
    }

    /// Every column of the live schema, as (table, column).
    pub fn live_columns(&self) -> Vec<(String, String)> {
        use diesel::sql_types::Text;
        #[derive(diesel::QueryableByName)]
        struct Col {
            #[diesel(sql_type = Text)]
            t: String,
            #[diesel(sql_type = Text)]
            c: String,
        }
        let mut conn = self.db.get().unwrap();
        let cols: Vec<Col> = match &mut *conn {
            agora::db::DbConn::Sqlite(c) => diesel::sql_query(
                "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
            )
            .load(c)
            .unwrap(),
            agora::db::DbConn::Postgres(c) => diesel::sql_query(
                "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns WHERE table_schema = 'public'",
            )
            .load(c)
            .unwrap(),
        };
        cols.into_iter().map(|c| (c.t, c.c)).collect()
    }

    /// A fresh, empty database URL of the same backend, to restore a backup into.
    pub fn scratch_database_url(&self) -> String {
        match &self._postgres {
            None => {
                format!("sqlite://{}", self.scratch.path().join(format!("restored-{}.db", agora::db::now())).display())
            }
            Some(pg) => {
                let name = format!("{}_restored", pg.name);
                let mut admin = PgConnection::establish(&pg.admin_url).unwrap();
                admin.batch_execute(&format!("CREATE DATABASE \"{name}\"")).unwrap();
                pg.extra.lock().unwrap().push(name.clone());
                pg_url(&pg.base, &name)
            }
        }
    }

    /// The id of the member with this username (any case), if there is one.
    pub fn user_id(&self, username: &str) -> Option<i64> {
        use agora::db::schema::users;
        use diesel::prelude::*;
        let mut conn = self.db.get().unwrap();
        let key = username.to_lowercase();
        users::table.filter(users::username_key.eq(&key)).select(users::id).first(&mut *conn).optional().unwrap()
    }

    /// Gives a member a role directly in the database (as `agora admin grant` would).
    pub fn set_role(&self, username: &str, role: &str) -> i64 {
        use agora::db::schema::users;
        use diesel::prelude::*;
        let mut conn = self.db.get().unwrap();
        let key = username.to_lowercase();
        diesel::update(users::table.filter(users::username_key.eq(&key)))
            .set(users::role.eq(role))
            .returning(users::id)
            .get_result(&mut *conn)
            .unwrap()
    }

    pub fn backup_dir(&self) -> std::path::PathBuf {
        self.config.backup_dir.clone()
    }
}

/// Settings for a forum behind a proxy on 127.0.0.1, which every test client is: its
/// `X-Forwarded-For` is believed (`TestApp::browser_from`).
pub fn trust_local_proxy(config: &mut Config) {
    config.trusted_proxies = agora::config::parse_proxies("127.0.0.1").expect("a valid address");
}

/// The id in a topic's path (`/t/ID/slug`).
pub fn topic_id(path: &str) -> i64 {
    path.split('/').nth(2).expect("a topic path").parse().expect("a topic id")
}

/// Runs each named test once per backend: `mod NAME { sqlite, postgres }`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    let app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await.unwrap();
                    super::$name(app).await;
                }

                #[actix_web::test]
                async fn postgres() {
                    if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            }
        )*
    };
}

/// Like `on_both_backends!`, for tests that also need the fake GitHub.
#[macro_export]
macro_rules! on_both_backends_with_github {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    let (app, github) =
                        $crate::helpers::spawn_app_with_github($crate::helpers::Backend::Sqlite).await.unwrap();
                    super::$name(app, github).await;
                }

                #[actix_web::test]
                async fn postgres() {
                    if let Some((app, github)) =
                        $crate::helpers::spawn_app_with_github($crate::helpers::Backend::Postgres).await
                    {
                        super::$name(app, github).await;
                    }
                }
            }
        )*
    };
}
