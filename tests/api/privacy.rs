//! The privacy promises P8–P10 and P15–P16: "Your data", editing, e-mail links,
//! newsletter consent, the data export, and the registry of personal data.

use agora::db::schema::{deletion_ledger, email_tokens, newsletter_events, sessions, users};
use agora::privacy::registry::{self, OnDeletion};
use diesel::prelude::*;
use serde_json::Value;

use crate::fake_github::{FakeGithub, FakeUser};
use crate::helpers::TestApp;
use crate::{on_both_backends, on_both_backends_with_github};

on_both_backends!(
    registry_lists_every_column_of_the_live_schema,
    p8_your_data_shows_everything_held_about_the_member,
    p8_p9_editing_the_profile_really_removes_values,
    a_password_change_signs_out_every_other_session,
    p16_local_accounts_confirm_their_address_by_a_single_use_link,
    p8_p16_email_change_takes_effect_only_after_confirmation,
    password_change_needs_the_current_password,
    p16_password_reset_link_is_single_use_and_expires,
    p15_newsletter_only_after_opt_in_and_one_click_unsubscribe,
    members_sign_out_other_sessions_and_everywhere,
    p8_your_data_shows_reading_watches_likes_flags_and_requests_and_the_export_what_staff_did,
);

on_both_backends_with_github!(p10_export_holds_every_exported_column_of_the_registry);

async fn registry_lists_every_column_of_the_live_schema(app: TestApp) {
    let live = app.live_columns();
    assert!(live.len() > 50, "the schema was read: {live:?}");
    let missing: Vec<_> = live.iter().filter(|(t, c)| registry::find(t, c).is_none()).collect();
    assert!(missing.is_empty(), "columns nobody decided about (add them to src/account/registry.rs): {missing:?}");
    let stale: Vec<_> = registry::REGISTRY
        .iter()
        .filter(|entry| !live.iter().any(|(t, c)| t == entry.table && c == entry.column))
        .map(|e| (e.table, e.column))
        .collect();
    assert!(stale.is_empty(), "registry entries for columns that do not exist: {stale:?}");
    // The search index is each backend's own: whichever it has are all listed.
    let index: Vec<_> =
        live.iter().filter(|(t, c)| registry::SEARCH_INDEX.iter().any(|e| e.table == t && e.column == c)).collect();
    assert!(!index.is_empty(), "the live schema has a search index");
}

async fn p8_your_data_shows_everything_held_about_the_member(app: TestApp) {
    assert_eq!(app.get("/account").await.location.as_deref(), Some("/login?next=%2Faccount"));
    let page = app
        .post_form(
            "/register",
            &[
                ("username", "dana"),
                ("email", "dana@example.org"),
                ("password", "dana-has-a-long-password"),
                ("age_confirmed", "yes"),
                ("accept_policy", "yes"),
                ("newsletter", "yes"),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(app.get("/account").await.texts("dd.email"), vec!["dana@example.org (not verified)"]);
    app.confirm_address("dana@example.org").await;
    app.create_topic("Hello", "first post").await;
    let laptop = app.another_browser();
    laptop.post_form("/login", &[("login", "dana"), ("password", "dana-has-a-long-password")]).await;

    let account = app.get("/account").await;
    assert_eq!(account.status, 200);
    assert_eq!(account.texts("dd.username"), vec!["dana"]);
    assert_eq!(account.texts("dd.email"), vec!["dana@example.org (verified)"]);
    assert!(account.texts("dd.policy")[0].contains(agora::privacy::policy::BUNDLED_POLICY_VERSION));
    assert_eq!(account.texts("li.password"), vec!["Password: set"]);
    assert!(account.body.contains("id=\"newsletter\" name=\"newsletter\" type=\"checkbox\" value=\"yes\" checked"));
    assert!(account.texts(".newsletter-events li")[0].starts_with("Subscribed on"));
    assert!(account.texts(".newsletter-events li")[0].ends_with("(registration)"));
    assert_eq!(account.texts("tr.session").len(), 2, "both browsers are listed");
    assert_eq!(account.texts("tr.session td.ip"), vec!["127.0.0.1", "127.0.0.1"]);
    assert!(account.body.contains("(this browser)"));
    let ips = account.texts(".post-ips li");
    assert!(ips[0].starts_with("127.0.0.1") && ips[0].contains("1 post or edit"), "{ips:?}");
}

async fn p8_p9_editing_the_profile_really_removes_values(app: TestApp) {
    app.register("erin").await;
    let id = app.user_id("erin").unwrap();
    let saved = app
        .post_form("/account/profile", &[("username", "Erin"), ("first_name", "Erin"), ("last_name", "Example")])
        .await;
    assert_eq!(saved.location.as_deref(), Some("/account?done=profile"));
    let account = app.get("/account?done=profile").await;
    assert_eq!(account.texts("dd.first-name"), vec!["Erin"]);
    assert!(account.texts(".flash")[0].contains("saved"));

    // Emptying a field removes the value from the database, and the ledger notes it
    // so a restored backup cannot bring it back (P9).
    app.post_form("/account/profile", &[("username", "erin-renamed"), ("first_name", ""), ("last_name", "Example")])
        .await;
    let mut conn = app.db.get().unwrap();
    let (username, first, last): (String, Option<String>, Option<String>) =
        users::table.find(id).select((users::username, users::first_name, users::last_name)).first(&mut *conn).unwrap();
    assert_eq!((username.as_str(), first, last.as_deref()), ("erin-renamed", None, Some("Example")));
    let erased: Vec<String> = deletion_ledger::table
        .filter(deletion_ledger::user_id.eq(id))
        .select(deletion_ledger::erased)
        .load(&mut *conn)
        .unwrap();
    assert!(erased.contains(&"first_name".to_string()) && erased.contains(&"username".to_string()), "{erased:?}");
    assert!(std::fs::read_to_string(app.backup_dir().join("deletion-ledger.json")).unwrap().contains("first_name"));

    // The old username is free again; a taken one is refused with the input kept.
    let newcomer = app
        .another_browser()
        .post_form(
            "/register",
            &[
                ("username", "erin"),
                ("email", "another-erin@example.org"),
                ("password", "a-long-enough-password"),
                ("age_confirmed", "yes"),
                ("accept_policy", "yes"),
            ],
        )
        .await;
    assert_eq!(newcomer.status, 303, "the old username is free again");
    let taken =
        app.post_form("/account/profile", &[("username", "ERIN"), ("first_name", "Typed"), ("last_name", "")]).await;
    assert_eq!(taken.status, 422);
    assert!(taken.body.contains("already taken"));
    assert_eq!(taken.field("username").as_deref(), Some("ERIN"));
    assert_eq!(taken.field("first_name").as_deref(), Some("Typed"));
}

async fn a_password_change_signs_out_every_other_session(app: TestApp) {
    let old = app.register("kit").await;
    let phone = app.another_browser();
    phone.post_form("/login", &[("login", "kit"), ("password", &old)]).await;
    app.post_form("/account/password", &[("current_password", &old), ("new_password", "kit-new-long-password")]).await;
    assert!(phone.get("/").await.texts(".signed-in-as").is_empty(), "the other session is signed out");
    assert_eq!(app.get("/").await.texts(".signed-in-as strong"), vec!["kit"], "this one stays");
}

async fn p16_local_accounts_confirm_their_address_by_a_single_use_link(app: TestApp) {
    app.register_unconfirmed("fay").await;
    // Every page reminds her, with a button that sends the link again.
    let home = app.get("/").await;
    assert!(home.texts(".confirm-banner p")[0].starts_with("Check your e-mail"), "{}", home.body);
    let sent_before = app.mails().len();
    let resent = app.post_form("/account/email/resend", &[]).await;
    assert_eq!(resent.location.as_deref(), Some("/account?done=confirmation-sent"));
    assert_eq!(app.mails().len(), sent_before + 1);
    let mail = app.last_mail_to("fay@example.org");
    assert_eq!(mail.subject, "Confirm your e-mail address");
    let link = mail.link("/account/confirm-email?token=");
    let page = app.get(&link).await;
    assert_eq!(page.status, 200);
    let token = page.field("token").unwrap();
    let confirmed = app.post_form("/account/confirm-email", &[("token", &token)]).await;
    assert_eq!(confirmed.location.as_deref(), Some("/account?done=email-confirmed"));
    assert_eq!(app.get("/account").await.texts("dd.email"), vec!["fay@example.org (verified)"]);
    assert!(app.get("/").await.texts(".confirm-banner").is_empty(), "no reminder once confirmed");
    // Used once, gone.
    assert_eq!(app.get(&link).await.status, 400);
    assert_eq!(app.post_form("/account/confirm-email", &[("token", &token)]).await.status, 400);
    assert_eq!(app.get("/account/confirm-email?token=made-up").await.status, 400);
}

async fn p8_p16_email_change_takes_effect_only_after_confirmation(app: TestApp) {
    app.another_browser().register("taken").await;
    let password = app.register("gus").await;
    let id = app.user_id("gus").unwrap();

    let malformed = app.post_form("/account/email", &[("email", "nope"), ("current_password", &password)]).await;
    assert_eq!(malformed.status, 422);
    let asked = app.post_form("/account/email", &[("email", "gus@new.example"), ("current_password", &password)]).await;
    assert_eq!(asked.location.as_deref(), Some("/account?done=email-sent"));
    // Nothing changes until the new address proves it is the member's.
    assert_eq!(app.get("/account").await.texts("dd.email"), vec!["gus@example.org (verified)"]);
    let told_old = app.last_mail_to("gus@example.org");
    assert_eq!(told_old.subject, "Your e-mail address is being changed");
    let to_new = app.last_mail_to("gus@new.example");
    let link = to_new.link("/account/change-email?token=");
    let token = app.get(&link).await.field("token").unwrap();
    let done = app.post_form("/account/change-email", &[("token", &token)]).await;
    assert_eq!(done.location.as_deref(), Some("/account?done=email-changed"));
    assert_eq!(app.get("/account").await.texts("dd.email"), vec!["gus@new.example (verified)"]);
    let mut conn = app.db.get().unwrap();
    let pending: i64 = email_tokens::table
        .filter(email_tokens::user_id.eq(id))
        .filter(email_tokens::purpose.eq("change-email"))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(pending, 0);
    assert_eq!(app.post_form("/account/change-email", &[("token", &token)]).await.status, 400);
}

async fn password_change_needs_the_current_password(app: TestApp) {
    let old = app.register("hal").await;
    let wrong = app
        .post_form(
            "/account/password",
            &[("current_password", "not-it-at-all"), ("new_password", "a-brand-new-password")],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("current password is not right"));
    let weak = app.post_form("/account/password", &[("current_password", &old), ("new_password", "short")]).await;
    assert_eq!(weak.status, 422);
    let ok = app
        .post_form("/account/password", &[("current_password", &old), ("new_password", "a-brand-new-password")])
        .await;
    assert_eq!(ok.location.as_deref(), Some("/account?done=password"));
    let other = app.another_browser();
    assert_eq!(other.post_form("/login", &[("login", "hal"), ("password", &old)]).await.status, 401);
    assert_eq!(other.post_form("/login", &[("login", "hal"), ("password", "a-brand-new-password")]).await.status, 303);
}

async fn p16_password_reset_link_is_single_use_and_expires(app: TestApp) {
    app.another_browser().register("ivy").await;
    let id = app.user_id("ivy").unwrap();
    // Unsubscribed from everything, transactional mail still comes (P16).
    let mut conn = app.db.get().unwrap();
    assert!(!users::table.find(id).select(users::newsletter).first::<bool>(&mut *conn).unwrap());

    let before = app.mails().len();
    let unknown = app.post_form("/password/forgot", &[("email", "nobody@example.org")]).await;
    assert_eq!(unknown.status, 200);
    assert_eq!(app.mails().len(), before, "no mail for an unknown address");
    let asked = app.post_form("/password/forgot", &[("email", "IVY@example.org")]).await;
    assert_eq!(asked.texts(".flash"), unknown.texts(".flash"), "the same answer either way");
    let mail = app.last_mail_to("ivy@example.org");
    assert_eq!(mail.subject, "Reset your password");
    let link = mail.link("/password/reset?token=");
    let token = app.get(&link).await.field("token").unwrap();

    let weak = app.post_form("/password/reset", &[("token", &token), ("password", "ivy")]).await;
    assert_eq!(weak.status, 422);
    let done = app.post_form("/password/reset", &[("token", &token), ("password", "ivy-chose-a-new-one")]).await;
    assert_eq!(done.location.as_deref(), Some("/login?done=password-reset"));
    let left: i64 = sessions::table.filter(sessions::user_id.eq(id)).count().get_result(&mut *conn).unwrap();
    assert_eq!(left, 0, "signed out everywhere");
    assert_eq!(app.post_form("/login", &[("login", "ivy"), ("password", "ivy-chose-a-new-one")]).await.status, 303);
    assert_eq!(
        app.post_form("/password/reset", &[("token", &token), ("password", "yet-another-password")]).await.status,
        400
    );

    // A link older than an hour no longer works.
    app.post_form("/password/forgot", &[("email", "ivy@example.org")]).await;
    let late = app.last_mail_to("ivy@example.org").link("/password/reset?token=");
    diesel::update(email_tokens::table)
        .set(email_tokens::expires_at.eq(agora::db::now() - 1))
        .execute(&mut *conn)
        .unwrap();
    assert_eq!(app.get(&late).await.status, 400);
}

async fn p15_newsletter_only_after_opt_in_and_one_click_unsubscribe(app: TestApp) {
    let form = app.get("/register").await;
    assert!(
        form.body.contains("id=\"newsletter\" name=\"newsletter\" type=\"checkbox\" value=\"yes\">"),
        "unticked by default"
    );
    app.another_browser().register("quiet").await;
    let fan = app.another_browser();
    fan.register("fan").await;
    assert_eq!(fan.post_form("/account/newsletter", &[("newsletter", "yes")]).await.status, 303);
    let fan_id = app.user_id("fan").unwrap();
    // Newsletters go to confirmed addresses only.
    let mut conn = app.db.get().unwrap();
    diesel::update(users::table).set(users::email_verified.eq(true)).execute(&mut *conn).unwrap();

    let recipients = agora::account::newsletter::subscribers(&mut conn).unwrap();
    assert_eq!(recipients, vec![(fan_id, "fan@example.org".to_string())]);
    let mailer = agora::mail::Mailer::new(&app.config.mail, &app.config.mail_from).unwrap();
    let signer = agora::web::signing::Signer::new(agora::db::settings::signing_key(&mut conn).unwrap());
    let sent =
        agora::account::newsletter::send(&mailer, &signer, &app.address, recipients, "News", "Hello **all**").await;
    assert_eq!(sent, 1);
    assert!(app.mails().iter().all(|m| !(m.to.contains("quiet@") && m.subject == "News")));
    let news = app.last_mail_to("fan@example.org");
    assert_eq!(news.subject, "News");
    let header = news.header("List-Unsubscribe").unwrap();
    assert_eq!(news.header("List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    let url = header.trim_start_matches('<').trim_end_matches('>').to_string();
    assert!(news.body.contains(&url), "the link is in the text too");

    // The link works without signing in; a mail program's one-click POST needs no cookie.
    let stranger = reqwest::Client::new();
    let page = stranger.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let tampered = stranger
        .post(url.replace("signature=", "signature=00"))
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), 400);
    let one_click = stranger.post(&url).form(&[("List-Unsubscribe", "One-Click")]).send().await.unwrap();
    assert_eq!(one_click.status(), 200);
    let events: Vec<(bool, String)> = newsletter_events::table
        .filter(newsletter_events::user_id.eq(fan_id))
        .order(newsletter_events::id)
        .select((newsletter_events::subscribed, newsletter_events::source))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(events, vec![(true, "account page".to_string()), (false, "unsubscribe link".to_string())]);
    assert!(agora::account::newsletter::subscribers(&mut conn).unwrap().is_empty());
}

async fn members_sign_out_other_sessions_and_everywhere(app: TestApp) {
    let password = app.register("joe").await;
    let phone = app.another_browser();
    phone.post_form("/login", &[("login", "joe"), ("password", &password)]).await;
    let account = app.get("/account").await;
    let html = account.html();
    let forms: Vec<String> = html
        .select(&scraper::Selector::parse("tr.session form").unwrap())
        .map(|f| f.value().attr("action").unwrap().to_string())
        .collect();
    let current = html
        .select(&scraper::Selector::parse("tr.session").unwrap())
        .find(|row| row.text().any(|t| t.contains("(this browser)")))
        .unwrap()
        .select(&scraper::Selector::parse("form").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("action")
        .unwrap()
        .to_string();
    let other = forms.iter().find(|f| **f != current).unwrap();
    assert_eq!(app.post_form(other, &[]).await.location.as_deref(), Some("/account?done=session-ended"));
    assert!(phone.get("/").await.texts(".signed-in-as").is_empty(), "the phone is signed out");
    assert_eq!(app.get("/").await.texts(".signed-in-as strong"), vec!["joe"]);
    // Someone else's session cannot be ended from here.
    assert_eq!(app.post_form("/account/sessions/999999/end", &[]).await.status, 404);

    phone.post_form("/login", &[("login", "joe"), ("password", &password)]).await;
    assert_eq!(app.post_form("/account/sessions/end-all", &[]).await.location.as_deref(), Some("/login"));
    assert!(app.get("/").await.texts(".signed-in-as").is_empty());
    assert!(phone.get("/").await.texts(".signed-in-as").is_empty());
}

/// Every scalar in the document, as text (numbers, strings; booleans both ways).
fn scalars(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Bool(b) => out.extend([b.to_string(), (*b as u8).to_string()]),
        Value::Array(items) => items.iter().for_each(|v| scalars(v, out)),
        Value::Object(map) => map.values().for_each(|v| scalars(v, out)),
        Value::Null => {}
    }
}

async fn p10_export_holds_every_exported_column_of_the_registry(app: TestApp, github: FakeGithub) {
    github.add_user(FakeUser::new(4242, "kim", Some("Kim Example")));
    github.sign_in_as(4242);
    assert_eq!(app.github_join().await.status, 303);
    let id = app.user_id("kim").unwrap();
    // A first password needs a fresh GitHub confirmation.
    let refused = app.post_form("/account/password", &[("new_password", "kim-sets-a-password")]).await;
    assert_eq!(refused.status, 422);
    let start = app.post_form("/account/github/reauth", &[]).await;
    assert_eq!(app.github_round_trip(start).await.location.as_deref(), Some("/account/delete"));
    assert_eq!(app.post_form("/account/password", &[("new_password", "kim-sets-a-password")]).await.status, 303);
    app.post_form("/account/newsletter", &[("newsletter", "yes")]).await;
    let topic = app.create_topic("Kim's topic", "kim wrote this").await;
    let topic_id: i64 = topic.split('/').nth(2).unwrap().parse().unwrap();
    let mut conn = app.db.get().unwrap();
    let post_id: i64 = agora::db::schema::posts::table
        .filter(agora::db::schema::posts::user_id.eq(id))
        .select(agora::db::schema::posts::id)
        .first(&mut *conn)
        .unwrap();
    app.post_form(&format!("/p/{post_id}/edit"), &[("body", "kim rewrote this")]).await;
    let other = app.another_browser();
    other.register("lee").await;
    other.post_form(&format!("/t/{topic_id}/reply"), &[("body", "lee's reply")]).await;
    let lee_post: i64 = agora::db::schema::posts::table
        .filter(agora::db::schema::posts::user_id.ne(id))
        .select(agora::db::schema::posts::id)
        .first(&mut *conn)
        .unwrap();
    app.post_form(&format!("/p/{lee_post}/like"), &[]).await;

    let response = app.client.get(app.url("/account/export")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let export: Value = response.json().await.unwrap();
    assert_eq!(export["profile"]["username"], "kim");
    assert_eq!(export["third_parties"]["categories_shared_with"], serde_json::json!([]));
    assert_eq!(export["posts"][0]["posted_from_ip"], "127.0.0.1");

    // Registry-driven: every value of every exported column about Kim is in the export.
    let mut texts = Vec::new();
    scalars(&export, &mut texts);
    let owner = |table: &str| match table {
        "users" => "id",
        _ => "user_id",
    };
    let mut checked = 0;
    for entry in registry::REGISTRY.iter().filter(|e| e.exported) {
        assert!(entry.personal, "{}.{} is exported but not personal", entry.table, entry.column);
        if entry.table == "privacy_requests" {
            continue; // filed by e-mail address; covered by the moderation tests
        }
        let values = app.column_values(entry.table, entry.column, owner(entry.table), id);
        checked += usize::from(!values.is_empty());
        for value in values {
            assert!(texts.contains(&value), "{}.{} = {value:?} is missing from the export", entry.table, entry.column);
        }
    }
    assert!(checked >= 35, "the test member fills most exported columns ({checked} checked)");
    assert!(registry::REGISTRY.iter().any(|e| e.on_deletion == OnDeletion::Erased));
}

/// The policy says "Your data" shows everything held: read positions, watches, likes,
/// mentions, flags filed and privacy requests are on the page (the download has every
/// row), and the download has what moderators did about the member and their posts,
/// what others flagged on those posts, and the staff's note on their requests.
async fn p8_your_data_shows_reading_watches_likes_flags_and_requests_and_the_export_what_staff_did(app: TestApp) {
    app.register("reader").await;
    let other = app.another_browser();
    other.register("writer").await;
    let theirs = other.create_topic("Their topic", "Words by writer, for @reader").await;
    let their_id: i64 = theirs.split('/').nth(2).unwrap().parse().unwrap();
    let mine = app.create_topic("My topic", "Words by reader").await;
    let mine_id: i64 = mine.split('/').nth(2).unwrap().parse().unwrap();
    assert_eq!(app.get(&theirs).await.status, 200, "read");
    assert_eq!(app.post_form(&format!("/t/{their_id}/watch"), &[("level", "watching")]).await.status, 303);
    let (their_post, my_post): (i64, i64) = {
        let mut conn = app.db.get().unwrap();
        let mut post = |topic: i64| {
            agora::db::schema::posts::table
                .filter(agora::db::schema::posts::topic_id.eq(topic))
                .select(agora::db::schema::posts::id)
                .first::<i64>(&mut *conn)
                .unwrap()
        };
        (post(their_id), post(mine_id))
    };
    assert_eq!(app.post_form(&format!("/p/{their_post}/like"), &[]).await.status, 303);
    let flagged =
        app.post_form(&format!("/p/{their_post}/flag"), &[("reason", "other"), ("details", "Looks odd")]).await;
    assert_eq!(flagged.status, 303, "{}", flagged.body);
    let asked = app
        .post_form(
            "/privacy/request",
            &[("email", "reader@example.org"), ("kind", "access"), ("message", "All of it, please")],
        )
        .await;
    assert_eq!(asked.status, 200, "{}", asked.body);

    let page = app.get("/account").await;
    assert!(page.text("li.reading").contains("2 topics"), "theirs and their own: {}", page.text("li.reading"));
    assert!(page.text("li.watching").contains("1 topic"), "{}", page.text("li.watching"));
    assert!(page.text("li.likes").contains("Posts you like: 1"), "{}", page.text("li.likes"));
    assert!(page.text("li.mentions").contains(": 1"), "{}", page.text("li.mentions"));
    assert!(page.text("ul.flags-filed").contains("Looks odd"), "{}", page.text("ul.flags-filed"));
    assert!(page.text("ul.privacy-requests").contains("access"), "{}", page.text("ul.privacy-requests"));

    // Staff act on the member's post, with a reason; someone else flags it.
    other.set_role("writer", "moderator");
    other.post_form(&format!("/p/{my_post}/flag"), &[("reason", "spam"), ("details", "Seems like spam")]).await;
    let hidden = other.post_form(&format!("/admin/posts/{my_post}/hide"), &[("reason", "off topic here")]).await;
    assert_eq!(hidden.status, 303, "{}", hidden.body);
    let export: serde_json::Value =
        app.client.get(app.url("/account/export")).send().await.unwrap().json().await.unwrap();
    let moderation = export["moderation_of_you_and_your_posts"].to_string();
    assert!(moderation.contains("off topic here") && moderation.contains(&format!("post {my_post}")), "{moderation}");
    assert!(!moderation.contains("writer"), "who acted is not in it");
    let flags = export["flags_on_your_posts"].to_string();
    assert!(flags.contains("Seems like spam"), "{flags}");
    assert!(export["privacy_requests"][0].get("staff_note").is_some());
}
