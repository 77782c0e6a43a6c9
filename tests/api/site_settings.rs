//! #15: the forum's identity, kept by admins on /admin/settings: name, description,
//! contact address and logo, shown by every page; audited; bad input refused with the
//! form kept.

use agora::db::schema::{audit_log, site_settings};
use diesel::prelude::*;

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    every_page_shows_the_name_description_contact_and_logo_an_admin_sets,
    bad_settings_are_refused_with_the_form_kept_and_nothing_stored,
    only_admins_change_the_settings,
);

/// The start of a PNG file: what the server sniffs.
fn png(size: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.resize(size, 7);
    bytes
}

async fn an_admin(app: &TestApp) {
    app.register("keeper").await;
    app.set_role("keeper", "admin");
}

fn stored(app: &TestApp) -> (String, String, String, Option<String>, i64) {
    let mut conn = app.db.get().unwrap();
    site_settings::table
        .find(1)
        .select((
            site_settings::name,
            site_settings::description,
            site_settings::contact_email,
            site_settings::logo_type,
            site_settings::revision,
        ))
        .first(&mut *conn)
        .unwrap()
}

async fn every_page_shows_the_name_description_contact_and_logo_an_admin_sets(app: TestApp) {
    an_admin(&app).await;
    let topic = app.create_topic("Hello there", "First post").await;
    let visitor = app.another_browser();
    // A visitor's topic page is cached: the change must not leave the old name there.
    assert_eq!(visitor.get(&topic).await.texts("a.site-name"), vec!["Agora"]);

    let form = app.get("/admin/settings").await;
    assert_eq!(form.status, 200);
    assert_eq!(form.field("name").as_deref(), Some("Agora"));
    let saved = app
        .post_multipart(
            "/admin/settings",
            &[
                ("name", "Rustaceans"),
                ("description", "Questions and answers about Rust."),
                ("contact_email", "Team@Example.org"),
            ],
            Some(("logo", png(2_000))),
        )
        .await;
    assert_eq!((saved.status, saved.location.as_deref()), (303, Some("/admin/settings?saved=1")));
    assert!(app.get("/admin/settings?saved=1").await.texts("p.notice").concat().contains("Settings saved"));
    let (name, description, contact, logo_type, revision) = stored(&app);
    assert_eq!(
        (name.as_str(), description.as_str(), contact.as_str(), logo_type.as_deref()),
        ("Rustaceans", "Questions and answers about Rust.", "team@example.org", Some("image/png"))
    );

    for path in ["/", "/latest", "/c/1/general", topic.as_str(), "/search?q=hello", "/no-such-page"] {
        let page = visitor.get(path).await;
        assert_eq!(page.texts("a.site-name"), vec!["Rustaceans"], "{path}");
        assert!(page.texts("title").concat().contains("Rustaceans"), "{path}");
        assert!(!page.texts("title").concat().contains("Agora"), "{path}");
        assert_eq!(page.texts("a.site-contact"), vec!["Contact: team@example.org"], "{path}");
        let logo = page.html();
        let src = logo
            .select(&scraper::Selector::parse("img.site-logo").unwrap())
            .next()
            .and_then(|img| img.value().attr("src").map(str::to_string));
        assert_eq!(src, Some(format!("/site/logo?v={revision}")), "{path}");
    }
    let home = visitor.get("/").await;
    assert_eq!(home.texts("p.site-description"), vec!["Questions and answers about Rust."]);
    assert!(home.body.contains(r#"<meta name="description" content="Questions and answers about Rust.">"#));

    let logo = visitor.get(&format!("/site/logo?v={revision}")).await;
    assert_eq!(logo.status, 200);
    assert_eq!(logo.header("content-type").as_deref(), Some("image/png"));
    assert!(logo.header("cache-control").unwrap().contains("immutable"));
    assert_eq!(logo.header("content-length").as_deref(), Some("2000"));

    // The audit log says who changed what.
    let mut conn = app.db.get().unwrap();
    let reasons: Vec<String> = audit_log::table
        .filter(audit_log::action.eq("update site settings"))
        .select(audit_log::reason)
        .load(&mut *conn)
        .unwrap();
    assert_eq!(
        reasons,
        vec!["name: Agora → Rustaceans; description; contact address: (none) → team@example.org; new logo"]
    );
    let audit = app.get("/admin/audit").await;
    assert!(audit.texts("td.target a").contains(&"site settings".to_string()));

    // Removing the logo takes it off every page and the address answers 404.
    let removed = app
        .post_multipart(
            "/admin/settings",
            &[("name", "Rustaceans"), ("description", ""), ("contact_email", ""), ("remove_logo", "on")],
            None,
        )
        .await;
    assert_eq!(removed.status, 303);
    let page = visitor.get("/").await;
    assert!(page.texts("img.site-logo").is_empty() && !page.body.contains("site-logo"));
    assert!(page.texts("a.site-contact").is_empty());
    assert_eq!(visitor.get("/site/logo").await.status, 404);
}

/// The fields sent, the logo file, the status, and words the message must hold.
type BadCase<'a> = (&'a [(&'a str, &'a str)], Option<Vec<u8>>, u16, &'a str);

async fn bad_settings_are_refused_with_the_form_kept_and_nothing_stored(app: TestApp) {
    an_admin(&app).await;
    let before = stored(&app);
    let cases: [BadCase; 5] = [
        (&[("name", "   "), ("description", "Kept words")], None, 422, "name is 1 to 60"),
        (&[("name", "Kept name"), ("contact_email", "not-an-address")], None, 422, "Contact address"),
        (
            &[("name", "Kept name"), ("description", "Kept words")],
            Some(b"<svg onload=alert(1)>".to_vec()),
            422,
            "SVG is not accepted",
        ),
        (&[("name", "Kept name"), ("description", "Kept words")], Some(png(300 * 1024)), 413, "larger than 256 KB"),
        (&[("name", "Bad\u{202E}name")], None, 422, "reading direction"),
    ];
    for (fields, logo, status, message) in cases {
        let page = app.post_multipart("/admin/settings", fields, logo.map(|bytes| ("logo", bytes))).await;
        assert_eq!(page.status, status, "{message}");
        assert!(
            page.texts(".form-errors li").concat().contains(message),
            "{message}: {:?}",
            page.texts(".form-errors li")
        );
        for (name, value) in fields {
            if *name == "name" && value.trim().is_empty() {
                continue;
            }
            assert_eq!(page.field(name).as_deref(), Some(*value), "{message}: {name} kept");
        }
    }
    assert_eq!(stored(&app), before, "nothing stored");
    // The admin's own browser, but a form from elsewhere (a wrong token): refused.
    let forged = reqwest::multipart::Form::new().text("csrf_token", "forged").text("name", "Forged");
    let response = app.client.post(app.url("/admin/settings")).multipart(forged).send().await.unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(stored(&app), before);
}

async fn only_admins_change_the_settings(app: TestApp) {
    app.register("moddy").await;
    app.set_role("moddy", "moderator");
    assert_eq!(app.get("/admin/settings").await.status, 403);
    let refused = app.post_multipart("/admin/settings", &[("name", "Taken over")], None).await;
    assert_eq!(refused.status, 403);
    assert_eq!(stored(&app).0, "Agora");
}

#[actix_web::test]
async fn saving_settings_too_often_gets_a_429_page_with_the_form_kept() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = crate::helpers::spawn_app_with(backend, |config| {
            config.rate_limits = agora::web::rate_limit::RateLimits::parse("site_settings_per_admin=2/60").unwrap();
        })
        .await
        else {
            continue;
        };
        an_admin(&app).await;
        for n in 0..2 {
            let name = format!("Name {n}");
            assert_eq!(app.post_multipart("/admin/settings", &[("name", &name)], None).await.status, 303);
        }
        let refused = app.post_multipart("/admin/settings", &[("name", "Third try")], None).await;
        assert_eq!(refused.status, 429, "{backend:?}");
        assert_eq!(refused.field("name").as_deref(), Some("Third try"));
        assert!(refused.header("retry-after").is_some());
        assert_eq!(stored(&app).0, "Name 1");
    }
}
