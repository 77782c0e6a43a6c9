//! Notification mail, as members meet it: replies and mentions e-mailed once the member
//! has been away for an hour (or at once, or in a daily digest, as they choose on the
//! account page), each mail saying why it came with a signed one-click unsubscribe for
//! its kind; nothing for a notification read meanwhile, an unconfirmed address, a
//! suspended member or a post hidden since; the queue sends each mail once across
//! instances, and retries a failure later.

use agora::db::schema::{mail_queue, notification_settings, notifications, posts, sessions, users};
use diesel::prelude::*;

use crate::helpers::{spawn_app_with, topic_id, Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    replies_are_mailed_once_the_member_is_away_and_say_why,
    one_click_unsubscribes_from_one_kind,
    nothing_is_mailed_that_is_no_longer_true,
    a_daily_digest_gathers_what_is_unread_once,
    queued_mail_is_sent_once_by_competing_instances,
    failed_mail_is_retried_later_then_given_up,
    moderators_decisions_and_answered_requests_are_notified,
    an_edit_notifies_only_whom_it_newly_mentions,
    p15_notification_mail_only_after_opting_in,
);

fn address(username: &str) -> String {
    format!("{username}@example.org")
}

/// The member's notification choices through the account page's form; the kinds not
/// named keep the defaults.
async fn choose(app: &TestApp, choices: &[(&str, &str)]) {
    let mut form = vec![
        ("watch_own", "yes"),
        ("reply", "away"),
        ("topic", "away"),
        ("mention", "away"),
        ("quote", "away"),
        ("like", "off"),
        ("moderation", "each"),
    ];
    for (kind, choice) in choices {
        match form.iter_mut().find(|(k, _)| k == kind) {
            Some(slot) => slot.1 = choice,
            None => panic!("no kind {kind}"),
        }
    }
    form.retain(|(k, v)| !(*k == "watch_own" && *v == "no"));
    let saved = app.post_form("/account/notifications", &form).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
}

/// As if the member last visited two hours ago.
fn away(app: &TestApp, username: &str) {
    let id = app.user_id(username).unwrap();
    let mut conn = app.db.get().unwrap();
    diesel::update(sessions::table.filter(sessions::user_id.eq(id)))
        .set(sessions::last_seen_at.eq(agora::db::now() - 7200))
        .execute(&mut *conn)
        .unwrap();
}

/// (kind, status, outcome) of every queued mail to the member, oldest first.
fn queued_for(app: &TestApp, username: &str) -> Vec<(String, String, String)> {
    let id = app.user_id(username).unwrap();
    let mut conn = app.db.get().unwrap();
    mail_queue::table
        .filter(mail_queue::user_id.eq(id))
        .order(mail_queue::id)
        .select((mail_queue::kind, mail_queue::status, mail_queue::outcome))
        .load(&mut *conn)
        .unwrap()
}

async fn replies_are_mailed_once_the_member_is_away_and_say_why(app: TestApp) {
    app.register("alice").await;
    // She asks for mail about replies and mentions once away (the choices' form).
    choose(&app, &[]).await;
    let topic = app.create_topic("Sourdough starters", "Mine is called Bubbles.").await;
    let id = topic_id(&topic);
    let bob = app.another_browser();
    bob.register("bob").await;
    assert_eq!(bob.post_form(&format!("/t/{id}/reply"), &[("body", "Mine sulks in winter.")]).await.status, 303);

    // Alice was on the forum a moment ago: the header told her; the mail waits.
    let before = app.mails_to(&address("alice")).len();
    let first = app.deliver_mail().await;
    assert_eq!((first.sent, first.postponed), (0, 1));
    assert_eq!(app.mails_to(&address("alice")).len(), before);

    // An hour away and it is sent, once.
    away(&app, "alice");
    {
        let mut conn = app.db.get().unwrap();
        diesel::update(mail_queue::table).set(mail_queue::send_after.eq(agora::db::now())).execute(&mut *conn).unwrap();
    }
    assert_eq!(app.deliver_mail().await.sent, 1);
    assert_eq!(app.deliver_mail().await.sent, 0, "never twice");
    let mails = app.mails_to(&address("alice"));
    assert_eq!(mails.len(), before + 1);
    let mail = mails.last().unwrap();
    assert_eq!(mail.subject, "bob replied in “Sourdough starters”");
    assert!(mail.body.starts_with("Hello alice,"), "{}", mail.body);
    assert!(mail.body.contains("> Mine sulks in winter."), "the reply's words: {}", mail.body);
    assert!(mail.body.contains(&format!("{}/t/{id}/sourdough-starters#post-2", app.address)), "{}", mail.body);
    assert!(mail.body.contains("e-mail you about replies in topics you started or watch"), "why: {}", mail.body);
    let unsubscribe = mail.header("List-Unsubscribe").expect("RFC 8058 header");
    assert!(unsubscribe.contains("/notifications/unsubscribe?member=") && unsubscribe.contains("kind=reply"));
    assert_eq!(mail.header("List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
    assert_eq!(mail.header("X-Agora-Names").as_deref(), Some("bob"), "so deleting bob finds this mail");
    assert_eq!(queued_for(&app, "alice"), vec![("notification".into(), "sent".into(), String::new())]);

    // "Each as it happens" does not wait for her to be away.
    choose(&app, &[("mention", "each")]).await;
    bob.post_form(&format!("/t/{id}/reply"), &[("body", "@alice, what flour?")]).await;
    let sent = app.deliver_mail().await;
    assert_eq!(sent.sent, 1, "{sent:?}");
    assert_eq!(app.last_mail_to(&address("alice")).subject, "bob mentioned you in “Sourdough starters”");
    // Likes are off by default: nothing queued.
    let posts_of_alice: i64 = {
        let mut conn = app.db.get().unwrap();
        posts::table
            .filter(posts::topic_id.eq(id))
            .filter(posts::post_number.eq(1))
            .select(posts::id)
            .first(&mut *conn)
            .unwrap()
    };
    bob.post_form(&format!("/p/{posts_of_alice}/like"), &[]).await;
    assert_eq!(queued_for(&app, "alice").len(), 2);
}

async fn one_click_unsubscribes_from_one_kind(app: TestApp) {
    app.register("alice").await;
    choose(&app, &[("reply", "each"), ("mention", "each")]).await;
    let topic = app.create_topic("Knitting", "Socks.").await;
    let id = topic_id(&topic);
    let bob = app.another_browser();
    bob.register("bob").await;
    bob.post_form(&format!("/t/{id}/reply"), &[("body", "Mittens.")]).await;
    assert_eq!(app.deliver_mail().await.sent, 1);
    let link = app.last_mail_to(&address("alice")).header("List-Unsubscribe").unwrap();
    let link = link.trim_matches(|c| c == '<' || c == '>').strip_prefix(&app.address).unwrap().to_string();

    // A mail program's one-click POST: no cookie, no CSRF token, the link's signature.
    let stranger = app.another_browser();
    let tampered = link.replace("kind=reply", "kind=mention");
    assert_eq!(stranger.post_raw(&tampered, &[("List-Unsubscribe", "One-Click")], &[]).await.status, 400);
    let page = stranger.get(&link).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Unsubscribe"), "a page with a button for a person: {}", page.body);
    let done = stranger.post_raw(&link, &[("List-Unsubscribe", "One-Click")], &[]).await;
    assert_eq!(done.status, 200);
    assert!(done.body.contains("we will not e-mail you about replies"), "{}", done.body);
    let id_alice = app.user_id("alice").unwrap();
    let mut conn = app.db.get().unwrap();
    let (reply, mention): (String, String) = notification_settings::table
        .find(id_alice)
        .select((notification_settings::mail_reply, notification_settings::mail_mention))
        .first(&mut *conn)
        .unwrap();
    assert_eq!((reply.as_str(), mention.as_str()), ("off", "each"), "only that kind");
    drop(conn);
    let account = app.get("/account").await;
    assert_eq!(
        account
            .html()
            .select(&scraper::Selector::parse("#mail-reply option[selected]").unwrap())
            .next()
            .unwrap()
            .value()
            .attr("value"),
        Some("off")
    );

    // Replies now are told in the forum only; a mention still comes.
    bob.post_form(&format!("/t/{id}/reply"), &[("body", "Hats.")]).await;
    bob.post_form(&format!("/t/{id}/reply"), &[("body", "@alice scarves?")]).await;
    assert_eq!(app.deliver_mail().await.sent, 1);
    assert!(app.last_mail_to(&address("alice")).subject.contains("mentioned you"));
    assert_eq!(app.get("/notifications").await.texts(".notification .what").len(), 3);
}

async fn nothing_is_mailed_that_is_no_longer_true(app: TestApp) {
    app.register("alice").await;
    choose(&app, &[("reply", "each")]).await;
    let topic = app.create_topic("Bees", "Hives.").await;
    let id = topic_id(&topic);
    let bob = app.another_browser();
    bob.register("bob").await;

    // Read on the forum before the mail went: skipped.
    bob.post_form(&format!("/t/{id}/reply"), &[("body", "Honey.")]).await;
    let mine = app.get("/notifications").await;
    let open = mine
        .html()
        .select(&scraper::Selector::parse("a.what").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("href")
        .unwrap()
        .to_string();
    app.get(&open).await;
    let pass = app.deliver_mail().await;
    assert_eq!((pass.sent, pass.skipped), (0, 1));
    assert_eq!(queued_for(&app, "alice").last().unwrap().2, "read on the forum");

    // A post hidden by a moderator before the mail went: skipped.
    bob.post_form(&format!("/t/{id}/reply"), &[("body", "Wax.")]).await;
    {
        let mut conn = app.db.get().unwrap();
        diesel::update(posts::table.filter(posts::topic_id.eq(id)).filter(posts::post_number.eq(3)))
            .set(posts::hidden.eq(true))
            .execute(&mut *conn)
            .unwrap();
    }
    app.deliver_mail().await;
    assert_eq!(queued_for(&app, "alice").last().unwrap().2, "post no longer public");

    // Suspended: skipped.
    let alice_id = app.user_id("alice").unwrap();
    {
        let mut conn = app.db.get().unwrap();
        diesel::update(users::table.find(alice_id))
            .set(users::suspended_until.eq(Some(agora::db::now() + 3600)))
            .execute(&mut *conn)
            .unwrap();
    }
    bob.post_form(&format!("/t/{id}/reply"), &[("body", "Pollen.")]).await;
    app.deliver_mail().await;
    assert_eq!(queued_for(&app, "alice").last().unwrap().2, "member suspended or banned");

    // An address never confirmed gets nothing.
    let carol = app.another_browser();
    carol.register_unconfirmed("carol").await;
    choose(&carol, &[]).await;
    bob.post_form(&format!("/t/{id}/reply"), &[("body", "@carol, bees?")]).await;
    away(&app, "carol");
    app.deliver_mail().await;
    assert_eq!(queued_for(&app, "carol").last().unwrap().2, "address not confirmed");
    let to_carol = app.mails_to(&address("carol"));
    assert!(to_carol.iter().all(|m| !m.subject.contains("mentioned")), "only her confirmation link");
    assert!(app.mails_to(&address("alice")).iter().all(|m| !m.subject.contains("replied")), "nothing went to alice");
}

async fn a_daily_digest_gathers_what_is_unread_once(app: TestApp) {
    app.register("alice").await;
    choose(&app, &[("reply", "digest"), ("mention", "digest")]).await;
    let topic = app.create_topic("Chess openings", "The Italian.").await;
    let id = topic_id(&topic);
    let bob = app.another_browser();
    bob.register("bob").await;
    bob.post_form(&format!("/t/{id}/reply"), &[("body", "The Sicilian.")]).await;
    bob.post_form(&format!("/t/{id}/reply"), &[("body", "@alice the French?")]).await;
    assert_eq!(queued_for(&app, "alice"), vec![("digest".into(), "pending".into(), String::new())], "one digest waits");
    assert_eq!(app.deliver_mail().await.sent, 0, "due in a day");

    let due_now = |app: &TestApp| {
        let mut conn = app.db.get().unwrap();
        diesel::update(mail_queue::table.filter(mail_queue::status.eq("pending")))
            .set(mail_queue::send_after.eq(agora::db::now()))
            .execute(&mut *conn)
            .unwrap();
    };
    due_now(&app);
    assert_eq!(app.deliver_mail().await.sent, 1);
    let digest = app.last_mail_to(&address("alice"));
    assert_eq!(digest.subject, "Your daily digest: 2 new notifications");
    assert!(digest.body.contains("- bob replied in “Chess openings”"), "{}", digest.body);
    assert!(digest.body.contains("- bob mentioned you in “Chess openings”"), "{}", digest.body);
    assert!(digest.body.contains(&format!("/t/{id}/chess-openings#post-3")), "{}", digest.body);
    assert!(digest.header("List-Unsubscribe").unwrap().contains("kind=digest"));

    // The next digest tells only what came after.
    bob.post_form(&format!("/t/{id}/reply"), &[("body", "The Dutch.")]).await;
    due_now(&app);
    assert_eq!(app.deliver_mail().await.sent, 1);
    let second = app.last_mail_to(&address("alice"));
    assert_eq!(second.subject, "Your daily digest: 1 new notification");
    assert!(!second.body.contains("mentioned you"), "{}", second.body);

    // Its link turns the digest off for every kind in it.
    let link = second.header("List-Unsubscribe").unwrap();
    let link = link.trim_matches(|c| c == '<' || c == '>').strip_prefix(&app.address).unwrap().to_string();
    assert_eq!(app.another_browser().post_raw(&link, &[("List-Unsubscribe", "One-Click")], &[]).await.status, 200);
    bob.post_form(&format!("/t/{id}/reply"), &[("body", "The London.")]).await;
    assert_eq!(queued_for(&app, "alice").len(), 2, "no new digest queued");
}

async fn queued_mail_is_sent_once_by_competing_instances(app: TestApp) {
    app.register("alice").await;
    choose(&app, &[("reply", "each")]).await;
    let topic = app.create_topic("Kites", "Box kites.").await;
    let id = topic_id(&topic);
    let bob = app.another_browser();
    bob.register("bob").await;
    for n in 0..12 {
        bob.post_form(&format!("/t/{id}/reply"), &[("body", &format!("Kite number {n}."))]).await;
    }
    let before = app.mails_to(&address("alice")).len();
    // Two instances' outboxes on the same database, at the same moment.
    let one = agora::conversation::mailing::Outbox::new(app.db.clone(), &app.config).unwrap();
    let other_db = agora::db::Database::connect(&app.config.database_url, 2).unwrap();
    let two = agora::conversation::mailing::Outbox::new(other_db, &app.config).unwrap();
    let (a, b) = tokio::join!(one.deliver_due(), two.deliver_due());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, 12, "{a:?} {b:?}");
    assert_eq!(app.mails_to(&address("alice")).len(), before + 12, "each mail once");
    let statuses: Vec<String> = queued_for(&app, "alice").into_iter().map(|q| q.1).collect();
    assert!(statuses.iter().all(|s| s == "sent"), "{statuses:?}");
}

async fn failed_mail_is_retried_later_then_given_up(app: TestApp) {
    app.register("alice").await;
    choose(&app, &[("reply", "each")]).await;
    let topic = app.create_topic("Ferns", "Shade.").await;
    let bob = app.another_browser();
    bob.register("bob").await;
    bob.post_form(&format!("/t/{}/reply", topic_id(&topic)), &[("body", "Moss.")]).await;

    // An SMTP server that is not there.
    let mut broken = app.config.clone();
    broken.mail = agora::mail::MailSettings::Smtp("smtp://127.0.0.1:9".into());
    let outbox = agora::conversation::mailing::Outbox::new(app.db.clone(), &broken).unwrap();
    assert_eq!(outbox.deliver_due().await.unwrap().failed, 1);
    let mut conn = app.db.get().unwrap();
    let (status, attempts, send_after, outcome): (String, i64, i64, String) = mail_queue::table
        .select((mail_queue::status, mail_queue::attempts, mail_queue::send_after, mail_queue::outcome))
        .first(&mut *conn)
        .unwrap();
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    assert!((send_after - agora::db::now() - 60).abs() <= 5, "tried again in a minute");
    assert!(!outcome.is_empty(), "the error is kept for the operator");
    assert_eq!(outbox.deliver_due().await.unwrap().failed, 0, "not before its time");

    // The last attempt fails: given up, and never sent.
    diesel::update(mail_queue::table)
        .set((mail_queue::attempts.eq(agora::mail::queue::MAX_ATTEMPTS - 1), mail_queue::send_after.eq(0)))
        .execute(&mut *conn)
        .unwrap();
    outbox.deliver_due().await.unwrap();
    let status: String = mail_queue::table.select(mail_queue::status).first(&mut *conn).unwrap();
    assert_eq!(status, "failed");
    drop(conn);
    assert_eq!(app.deliver_mail().await.sent, 0, "a given-up mail stays given up");
}

async fn moderators_decisions_and_answered_requests_are_notified(app: TestApp) {
    app.register("bob").await;
    let topic = app.create_topic("Spam?", "Buy my **soap**.").await;
    let id = topic_id(&topic);
    let moderator = app.another_browser();
    moderator.register("mona").await;
    app.set_role("mona", "moderator");
    let post_id: i64 = {
        let mut conn = app.db.get().unwrap();
        posts::table.filter(posts::topic_id.eq(id)).select(posts::id).first(&mut *conn).unwrap()
    };
    let hidden = moderator.post_form(&format!("/admin/posts/{post_id}/hide"), &[("reason", "advertising")]).await;
    assert_eq!(hidden.status, 303, "{}", hidden.body);
    let page = app.get("/notifications").await;
    assert!(
        page.texts(".notification .what").iter().any(|t| t.contains("A moderator hid your post: advertising")),
        "{:?}",
        page.texts(".notification")
    );
    // Moderators' decisions are mailed as they happen by default, without the post's words.
    assert_eq!(app.deliver_mail().await.sent, 1);
    let mail = app.last_mail_to(&address("bob"));
    assert!(mail.subject.contains("A moderator hid your post: advertising"), "{}", mail.subject);
    assert!(!mail.body.contains("soap"), "{}", mail.body);
    assert!(mail.body.contains(&format!("/t/{id}/spam#post-1")));

    // Unhiding tells nothing.
    moderator.post_form(&format!("/admin/posts/{post_id}/unhide"), &[("reason", "fine after all")]).await;
    let bob_id = app.user_id("bob").unwrap();
    let count = |kind: &str| -> i64 {
        let mut conn = app.db.get().unwrap();
        notifications::table
            .filter(notifications::user_id.eq(bob_id))
            .filter(notifications::kind.eq(kind))
            .count()
            .get_result(&mut *conn)
            .unwrap()
    };
    assert_eq!(count("moderation"), 1);

    // A privacy request answered shows under Notifications (its mail is transactional).
    let filed = app
        .post_form(
            "/privacy/request",
            &[("email", &address("bob")), ("kind", "access"), ("message", "What do you hold?")],
        )
        .await;
    assert_eq!(filed.status, 200, "{}", filed.body);
    let request_id: i64 = {
        let mut conn = app.db.get().unwrap();
        agora::db::schema::privacy_requests::table
            .select(agora::db::schema::privacy_requests::id)
            .first(&mut *conn)
            .unwrap()
    };
    let answered = moderator
        .post_form(
            &format!("/admin/privacy-requests/{request_id}"),
            &[("status", "answered"), ("note", "sent the export")],
        )
        .await;
    assert_eq!(answered.status, 303, "{}", answered.body);
    assert_eq!(count("privacy"), 1);
    assert!(app.get("/notifications").await.body.contains(&format!("Your privacy request #{request_id}")));
}

async fn an_edit_notifies_only_whom_it_newly_mentions(app: TestApp) {
    let alice = app.another_browser();
    alice.register("alice").await;
    let carol = app.another_browser();
    carol.register("carol").await;
    app.register("bob").await;
    let topic = app.create_topic("Picnic", "Who brings bread, @alice?").await;
    let id = topic_id(&topic);
    let post_id: i64 = {
        let mut conn = app.db.get().unwrap();
        posts::table.filter(posts::topic_id.eq(id)).select(posts::id).first(&mut *conn).unwrap()
    };
    let told = |name: &str| -> i64 {
        let user = app.user_id(name).unwrap();
        let mut conn = app.db.get().unwrap();
        notifications::table.filter(notifications::user_id.eq(user)).count().get_result(&mut *conn).unwrap()
    };
    assert_eq!((told("alice"), told("carol")), (1, 0));
    let edited = app
        .post_form(&format!("/p/{post_id}/edit"), &[("body", "Who brings bread, @alice? And cheese, @carol?")])
        .await;
    assert_eq!(edited.status, 303);
    assert_eq!((told("alice"), told("carol")), (1, 1), "carol is new; alice is not told twice");
    app.post_form(&format!("/p/{post_id}/edit"), &[("body", "Bread: @alice. Cheese: @carol. Fruit: me.")]).await;
    assert_eq!((told("alice"), told("carol")), (1, 1));
}

#[actix_web::test]
async fn the_server_sends_queued_mail_by_itself() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = spawn_app_with(backend, |config| config.mail_queue_seconds = 1).await else { continue };
        app.register("alice").await;
        choose(&app, &[("reply", "each")]).await;
        let topic = app.create_topic("Owls", "Barn owls.").await;
        let bob = app.another_browser();
        bob.register("bob").await;
        bob.post_form(&format!("/t/{}/reply", topic_id(&topic)), &[("body", "Tawny owls.")]).await;
        // The mail file is written before its row is marked sent: wait for both.
        let sent = vec![("notification".into(), "sent".into(), String::new())];
        let mut waited = 0;
        while !app.mails_to(&address("alice")).iter().any(|m| m.subject.contains("replied"))
            || queued_for(&app, "alice") != sent
        {
            assert!(waited < 100, "{backend:?}: no mail after 10 s: {:?}", queued_for(&app, "alice"));
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            waited += 1;
        }
    }
}

async fn p15_notification_mail_only_after_opting_in(app: TestApp) {
    // The registration form asks, unticked.
    let form = app.get("/register").await;
    assert_eq!(form.texts("label[for=notification_mail]").len(), 1, "the form asks");
    assert!(form.body.contains("name=\"notification_mail\" type=\"checkbox\" value=\"yes\">"), "unticked");

    // Quiet joined without ticking it; keen ticked it.
    app.register("quiet").await;
    let quiet_topic = topic_id(&app.create_topic("Quiet's question", "Anyone?").await);
    let keen = app.another_browser();
    let joined = keen
        .post_form(
            "/register",
            &[
                ("username", "keen"),
                ("email", "keen@example.org"),
                ("password", "keen-has-a-long-password"),
                ("age_confirmed", "yes"),
                ("accept_policy", "yes"),
                ("notification_mail", "yes"),
            ],
        )
        .await;
    assert_eq!(joined.status, 303, "{}", joined.body);
    keen.confirm_address("keen@example.org").await;
    let keen_topic = topic_id(&keen.create_topic("Keen's question", "Anyone at all?").await);

    let bob = app.another_browser();
    bob.register("bob").await;
    for id in [quiet_topic, keen_topic] {
        assert_eq!(bob.post_form(&format!("/t/{id}/reply"), &[("body", "@quiet @keen here")]).await.status, 303);
    }
    away(&app, "quiet");
    away(&app, "keen");
    {
        let mut conn = app.db.get().unwrap();
        diesel::update(mail_queue::table).set(mail_queue::send_after.eq(agora::db::now())).execute(&mut *conn).unwrap();
    }
    app.deliver_mail().await;

    // Both were told on the forum; only keen by e-mail.
    let told = |name: &str| -> i64 {
        let id = app.user_id(name).unwrap();
        notifications::table
            .filter(notifications::user_id.eq(id))
            .count()
            .get_result(&mut *app.db.get().unwrap())
            .unwrap()
    };
    assert!(told("quiet") >= 1 && told("keen") >= 1);
    assert_eq!(queued_for(&app, "quiet"), vec![], "no choice recorded: no notification e-mail");
    let to_quiet: Vec<String> = app.mails_to("quiet@example.org").into_iter().map(|m| m.subject).collect();
    assert!(to_quiet.iter().all(|s| !s.contains("bob")), "{to_quiet:?}");
    let to_keen: Vec<String> = app.mails_to("keen@example.org").into_iter().map(|m| m.subject).collect();
    assert!(to_keen.iter().any(|s| s.contains("bob replied in") || s.contains("bob mentioned you")), "{to_keen:?}");

    // The account page says what quiet has: every kind off but moderators' decisions.
    let page = app.get("/account").await;
    let selected: Vec<String> = page.texts("select option[selected]");
    assert_eq!(selected.iter().filter(|s| s.as_str() == "Not by e-mail").count(), 5, "{selected:?}");
    // And their export says whether they opted in.
    let export: serde_json::Value =
        keen.client.get(keen.url("/account/export")).send().await.unwrap().json().await.unwrap();
    assert_eq!(export["consents"]["notification_mail_opted_in"], true);
}
