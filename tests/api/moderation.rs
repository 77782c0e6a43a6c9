//! Staff pages: who may use them, and that every action changes what members see,
//! writes an audit entry, and is refused to the wrong role or with bad input.

use agora::db::schema::{audit_log, categories, posts, topics, users};
use agora::moderation::{Access, ADMIN_ROUTES};
use diesel::prelude::*;

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(
    every_admin_route_checks_the_role_on_the_server,
    flags_go_to_a_queue_and_the_flaggers_hear_the_outcome,
    suspended_and_banned_members_cannot_write,
    moderators_cannot_act_on_admins,
    topics_are_locked_pinned_moved_and_renamed,
    posts_are_deleted_restored_and_their_history_shown,
    members_are_found_by_name_email_or_ip,
    p10_privacy_requests_are_filed_signed_out_and_answered_within_30_days,
    admins_manage_categories,
    p17_staff_erase_an_account_and_the_audit_keeps_only_its_id,
    search_finds_names_with_underscores_and_wildcards_are_literal,
    moderated_posts_can_no_longer_be_edited_or_liked,
    the_privacy_request_queue_shows_every_open_request_and_pages_the_rest,
);

async fn the_privacy_request_queue_shows_every_open_request_and_pages_the_rest(app: TestApp) {
    let (_member, moderator, _admin, _topic, _post) = cast(&app).await;
    let mut conn = app.db.get().unwrap();
    let oldest_open =
        agora::privacy::requests::file_privacy_request(&mut conn, "first@example.org", None, "access", "").unwrap();
    let mut closed = Vec::new();
    for n in 0..55 {
        let id =
            agora::privacy::requests::file_privacy_request(&mut conn, &format!("r{n}@example.org"), None, "access", "")
                .unwrap();
        agora::moderation::privacy_requests::update_privacy_request(
            &mut conn,
            0,
            id,
            agora::privacy::requests::RequestStatus::Answered,
            "",
            None,
        )
        .unwrap();
        closed.push(id);
    }
    let newest_open =
        agora::privacy::requests::file_privacy_request(&mut conn, "last@example.org", None, "access", "").unwrap();
    let first = moderator.get("/admin/privacy-requests").await;
    let shown: Vec<String> = first.texts(".privacy-request h3");
    // Every open one (oldest first, however many closed ones there are), then the newest 50 others.
    assert!(shown[0].starts_with(&format!("#{oldest_open}:")) && shown[1].starts_with(&format!("#{newest_open}:")));
    assert_eq!(shown.len(), 2 + 50);
    assert!(shown[2].starts_with(&format!("#{}:", closed[54])), "newest answered first: {}", shown[2]);
    let older = first
        .html()
        .select(&scraper::Selector::parse("a[href^='/admin/privacy-requests?before=']").unwrap())
        .next()
        .map(|a| a.value().attr("href").unwrap().to_string())
        .expect("a link to older requests");
    let second = moderator.get(&older).await;
    let rest = second.texts(".privacy-request h3");
    assert_eq!(rest.len(), 2 + 5, "the open ones again, and the five oldest answered");
    assert!(rest[6].starts_with(&format!("#{}:", closed[0])));
}

async fn search_finds_names_with_underscores_and_wildcards_are_literal(app: TestApp) {
    let (_member, moderator, _admin, _topic, _post) = cast(&app).await;
    app.another_browser().register("a_b").await;
    app.another_browser().register("axb").await;
    assert_eq!(moderator.get("/admin/members?q=a_b").await.texts("ul.members a"), vec!["a_b"]);
    assert!(
        moderator.get("/admin/members?q=%25").await.texts("ul.members a").is_empty(),
        "% is a character, not a wildcard"
    );
}

async fn moderated_posts_can_no_longer_be_edited_or_liked(app: TestApp) {
    let (member, moderator, _admin, _topic, post_id) = cast(&app).await;
    moderator.post_form(&format!("/admin/posts/{post_id}/hide"), &[("reason", "spam")]).await;
    let edit = member.post_form(&format!("/p/{post_id}/edit"), &[("body", "sneaky rewrite")]).await;
    assert_eq!(edit.status, 403);
    let liker = app.another_browser();
    liker.register("liker").await;
    assert_eq!(liker.post_form(&format!("/p/{post_id}/like"), &[]).await.status, 403);
    let mut conn = app.db.get().unwrap();
    let body: String = posts::table.find(post_id).select(posts::body_markdown).first(&mut *conn).unwrap();
    assert_eq!(body, "Something to moderate");
}

fn set_role(app: &TestApp, username: &str, role: &str) -> i64 {
    let mut conn = app.db.get().unwrap();
    let key = username.to_lowercase();
    diesel::update(users::table.filter(users::username_key.eq(&key)))
        .set(users::role.eq(role))
        .returning(users::id)
        .get_result(&mut *conn)
        .unwrap()
}

fn audit_actions(app: &TestApp) -> Vec<(String, String, i64, String)> {
    let mut conn = app.db.get().unwrap();
    audit_log::table
        .order(audit_log::id)
        .select((audit_log::action, audit_log::target_type, audit_log::target_id, audit_log::reason))
        .load(&mut *conn)
        .unwrap()
}

/// A member, a moderator and an admin, each in their own browser, and a topic by the member.
async fn cast(app: &TestApp) -> (TestApp, TestApp, TestApp, String, i64) {
    let member = app.another_browser();
    member.register("mem").await;
    let moderator = app.another_browser();
    moderator.register("mod").await;
    set_role(app, "mod", "moderator");
    let admin = app.another_browser();
    admin.register("ada").await;
    set_role(app, "ada", "admin");
    let topic = member.create_topic("A member's topic", "Something to moderate").await;
    let mut conn = app.db.get().unwrap();
    let post_id: i64 = posts::table.select(posts::id).order(posts::id).first(&mut *conn).unwrap();
    (member, moderator, admin, topic, post_id)
}

async fn every_admin_route_checks_the_role_on_the_server(app: TestApp) {
    let (member, moderator, admin, topic, post_id) = cast(&app).await;
    let topic_id: i64 = topic.split('/').nth(2).unwrap().parse().unwrap();
    let target = app.another_browser();
    target.register("target").await;
    let target_id = set_role(&app, "target", "member");
    let mut conn = app.db.get().unwrap();
    let request_id =
        agora::privacy::requests::file_privacy_request(&mut conn, "x@example.org", None, "access", "").unwrap();
    let category_id = agora::moderation::categories::create_category(
        &mut conn,
        0,
        agora::moderation::categories::NewCategory {
            slug: "spare",
            name: "Spare",
            description: "",
            position: 9,
            staff_only_topics: false,
        },
    )
    .unwrap();
    let fill = |path: &str| {
        path.replace("{post}", &post_id.to_string())
            .replace("{topic}", &topic_id.to_string())
            .replace("{member}", &target_id.to_string())
            .replace("{request}", &request_id.to_string())
            .replace("{category}", &category_id.to_string())
            .replace("{action}", if path.contains("/posts/") { "hide" } else { "lock" })
    };
    let fields =
        [("reason", "checking access"), ("action", "lift"), ("role", "member"), ("status", "open"), ("name", "Spare")];

    assert!(app.get("/").await.texts("a[href='/admin']").is_empty());
    assert!(member.get("/").await.texts("a[href='/admin']").is_empty());
    assert_eq!(moderator.get("/").await.texts("a[href='/admin']"), vec!["Moderation"]);

    for (who, browser) in [("visitor", &app), ("member", &member), ("moderator", &moderator), ("admin", &admin)] {
        for (method, path, access) in ADMIN_ROUTES {
            let path = fill(path);
            let page =
                if *method == "GET" { browser.get(&path).await } else { browser.post_form(&path, &fields).await };
            let allowed = match who {
                "visitor" | "member" => false,
                "moderator" => *access == Access::Staff,
                _ => true,
            };
            if who == "visitor" {
                assert_eq!(page.status, 303, "{who} {method} {path}");
                assert!(page.location.as_deref().unwrap_or("").starts_with("/login"), "{who} {method} {path}");
            } else if allowed {
                assert_ne!(page.status, 403, "{who} may {method} {path}: {}", page.body);
                assert!(!page.location.as_deref().unwrap_or("").starts_with("/login"), "{who} {method} {path}");
            } else {
                assert_eq!(page.status, 403, "{who} may not {method} {path}");
            }
        }
    }
}

async fn flags_go_to_a_queue_and_the_flaggers_hear_the_outcome(app: TestApp) {
    let (member, moderator, admin, topic, post_id) = cast(&app).await;
    let flagger = app.another_browser();
    flagger.register("flagger").await;
    let second = app.another_browser();
    second.register("second").await;

    // The form is a page of its own, linked from each post a member may flag.
    let on_topic = flagger.get(&topic).await;
    assert!(on_topic.body.contains(&format!("href=\"/p/{post_id}/flag\"")), "the post's Flag link");
    let form = flagger.get(&format!("/p/{post_id}/flag")).await;
    assert_eq!(form.status, 200);
    assert_eq!(form.texts("h1"), vec!["Flag post #1".to_string()]);
    let visitor = app.another_browser();
    assert_eq!(visitor.get(&format!("/p/{post_id}/flag")).await.status, 303, "visitors sign in first");
    assert_eq!(flagger.get("/p/999999/flag").await.status, 404);

    assert_eq!(
        flagger.post_form(&format!("/p/{post_id}/flag"), &[("reason", "spam"), ("details", "ads")]).await.status,
        303
    );
    let again = flagger.post_form(&format!("/p/{post_id}/flag"), &[("reason", "abuse")]).await;
    assert_eq!(again.status, 409, "one flag per member per post");
    // "Other" needs words: the form again, with the message and what was chosen.
    let refused = second.post_form(&format!("/p/{post_id}/flag"), &[("reason", "other"), ("details", "   ")]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.texts(".form-errors li").contains(&"Say what is wrong with the post.".to_string()));
    assert!(refused.body.contains(r#"<option value="other" selected>"#), "the reason kept");
    assert_eq!(second.post_form(&format!("/p/{post_id}/flag"), &[("reason", "abuse")]).await.status, 303);
    assert_eq!(flagger.post_form("/p/999999/flag", &[("reason", "spam")]).await.status, 404);

    let dashboard = moderator.get("/admin").await;
    assert_eq!(dashboard.texts(".open-flags"), vec!["2"]);
    assert_eq!(
        dashboard.html().select(&scraper::Selector::parse("svg rect").unwrap()).count(),
        90,
        "three 30-day charts"
    );
    let queue = moderator.get("/admin/flags").await;
    assert_eq!(queue.texts("section.flagged").len(), 1, "grouped by post");
    assert_eq!(queue.texts(".flag-list li").len(), 2);

    let no_reason =
        moderator.post_form(&format!("/admin/flags/{post_id}/resolve"), &[("action", "hide"), ("reason", " ")]).await;
    assert_eq!(no_reason.status, 400);
    let hidden = moderator
        .post_form(&format!("/admin/flags/{post_id}/resolve"), &[("action", "hide"), ("reason", "advertising")])
        .await;
    assert_eq!(hidden.status, 303);
    assert!(moderator.get("/admin/flags").await.body.contains("No open flags."));

    // Members see a placeholder, staff the content; the author too sees the placeholder.
    assert!(app.get(&topic).await.body.contains("This post is hidden by a moderator."));
    assert!(!app.get(&topic).await.body.contains("Something to moderate"));
    assert!(member.get(&topic).await.body.contains("This post is hidden by a moderator."));
    assert!(moderator.get(&topic).await.body.contains("Something to moderate"));

    let home = flagger.get("/").await;
    assert_eq!(home.texts(".unread-count"), vec!["(1)"]);
    let notices = flagger.get("/notifications").await;
    assert!(
        notices.texts(".notifications li")[0].contains("Outcome: the post was hidden"),
        "{:?}",
        notices.texts(".notifications li")
    );
    // Hole 13: looking changes nothing; "Mark all read" (a POST) does.
    assert_eq!(flagger.get("/").await.texts(".unread-count"), vec!["(1)"], "a GET marks nothing read");
    assert_eq!(flagger.post_form("/notifications/read", &[]).await.status, 303);
    assert!(flagger.get("/").await.texts(".unread-count").is_empty(), "read once marked");

    let audit = admin.get("/admin/audit").await;
    let actions = audit.texts(".audit-entry .action");
    assert!(
        actions.contains(&"hide post".to_string())
            && actions.contains(&"resolve flags: the post was hidden".to_string())
    );
    assert!(audit.texts(".audit-entry .reason").contains(&"advertising".to_string()));
}

async fn suspended_and_banned_members_cannot_write(app: TestApp) {
    let (member, moderator, _admin, topic, post_id) = cast(&app).await;
    let topic_id: i64 = topic.split('/').nth(2).unwrap().parse().unwrap();
    let member_id = set_role(&app, "mem", "member");
    let other = app.another_browser();
    other.register("other").await;
    other.post_form(&format!("/t/{topic_id}/reply"), &[("body", "a reply to like")]).await;
    let mut conn = app.db.get().unwrap();
    let other_post: i64 = posts::table.select(posts::id).order(posts::id.desc()).first(&mut *conn).unwrap();

    let standing = format!("/admin/members/{member_id}/standing");
    let past =
        moderator.post_form(&standing, &[("action", "suspend"), ("until", "2020-01-01"), ("reason", "spam")]).await;
    assert_eq!(past.status, 409);
    assert!(past.body.contains("must end in the future"));
    let no_reason =
        moderator.post_form(&standing, &[("action", "suspend"), ("until", "2099-01-01"), ("reason", "")]).await;
    assert_eq!(no_reason.status, 400);
    assert!(member.get("/").await.texts(".restriction-banner").is_empty(), "nothing changed");

    let suspended = moderator
        .post_form(&standing, &[("action", "suspend"), ("until", "2099-01-01"), ("reason", "repeated spam")])
        .await;
    assert_eq!(suspended.status, 303);
    let banner = member.get("/").await.texts(".restriction-banner");
    assert!(banner[0].contains("suspended until 2099-01-01") && banner[0].contains("repeated spam"), "{banner:?}");
    for (path, fields) in [
        (format!("/t/{topic_id}/reply"), vec![("body", "still here")]),
        (format!("/p/{post_id}/edit"), vec![("body", "edited")]),
        (format!("/p/{other_post}/like"), vec![]),
        (format!("/p/{other_post}/flag"), vec![("reason", "spam")]),
        ("/c/1/new".to_string(), vec![("title", "New topic"), ("body", "text")]),
    ] {
        let refused = member.post_form(&path, &fields).await;
        assert_eq!(refused.status, 403, "{path}");
        assert!(refused.body.contains("repeated spam"), "{path}");
    }
    let member_page = moderator.get(&format!("/admin/members/{member_id}")).await;
    assert!(member_page.texts("dd.status")[0].contains("suspended"));

    moderator.post_form(&standing, &[("action", "lift"), ("reason", "served")]).await;
    assert_eq!(member.post_form(&format!("/t/{topic_id}/reply"), &[("body", "back")]).await.status, 303);
    moderator.post_form(&standing, &[("action", "ban"), ("reason", "threats")]).await;
    let refused = member.post_form(&format!("/t/{topic_id}/reply"), &[("body", "again")]).await;
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("banned: threats"));
    let audit: Vec<String> = audit_actions(&app).into_iter().map(|a| a.0).collect();
    assert!(
        audit.contains(&"suspend member".into())
            && audit.contains(&"lift suspension or ban".into())
            && audit.contains(&"ban member".into())
    );
}

async fn moderators_cannot_act_on_admins(app: TestApp) {
    let (_member, moderator, admin, _topic, _post) = cast(&app).await;
    let admin_id = set_role(&app, "ada", "admin");
    let refused = moderator
        .post_form(&format!("/admin/members/{admin_id}/standing"), &[("action", "ban"), ("reason", "coup")])
        .await;
    assert_eq!(refused.status, 409);
    assert_eq!(
        moderator.post_form(&format!("/admin/members/{admin_id}/erase"), &[("category", "staff-other")]).await.status,
        409
    );
    assert_eq!(
        moderator.post_form(&format!("/admin/members/{admin_id}/role"), &[("role", "member")]).await.status,
        403
    );
    assert!(admin.get("/").await.texts(".restriction-banner").is_empty());
    let mod_id = set_role(&app, "mod", "moderator");
    assert_eq!(admin.post_form(&format!("/admin/members/{mod_id}/role"), &[("role", "member")]).await.status, 303);
    assert_eq!(moderator.get("/admin").await.status, 403, "the role is checked on every request");
    assert_eq!(admin.post_form(&format!("/admin/members/{mod_id}/role"), &[("role", "emperor")]).await.status, 400);
}

async fn topics_are_locked_pinned_moved_and_renamed(app: TestApp) {
    let (member, moderator, admin, topic, _post) = cast(&app).await;
    let topic_id: i64 = topic.split('/').nth(2).unwrap().parse().unwrap();
    let other_topic = member.create_topic("Another topic", "more").await;

    assert_eq!(
        moderator.post_form(&format!("/admin/topics/{topic_id}/lock"), &[("reason", "heated")]).await.status,
        303
    );
    let locked = member.get(&topic).await;
    assert!(locked.body.contains("This topic is locked"));
    assert!(locked.field("body").is_none(), "no reply form");
    let refused = member.post_form(&format!("/t/{topic_id}/reply"), &[("body", "let me in")]).await;
    assert_eq!(refused.status, 403);
    moderator.post_form(&format!("/admin/topics/{topic_id}/unlock"), &[("reason", "calm again")]).await;
    assert_eq!(member.post_form(&format!("/t/{topic_id}/reply"), &[("body", "thanks")]).await.status, 303);

    // The other topic is newer, but the pinned one leads the list.
    moderator.post_form(&format!("/admin/topics/{topic_id}/pin"), &[("reason", "important")]).await;
    let listing = app.get("/c/1/general").await;
    assert_eq!(listing.texts("tr.pinned td a:not(.author)"), vec!["A member's topic"]);
    assert_eq!(listing.texts("table.topics tbody td a:not(.author)"), vec!["A member's topic", "Another topic"]);
    let _ = other_topic;

    let mut conn = app.db.get().unwrap();
    let new_category = agora::moderation::categories::create_category(
        &mut conn,
        0,
        agora::moderation::categories::NewCategory {
            slug: "archive",
            name: "Archive",
            description: "",
            position: 1,
            staff_only_topics: false,
        },
    )
    .unwrap();
    // The move form offers the categories by name, the topic's own chosen.
    let staff_view = moderator.get(&topic).await;
    assert_eq!(staff_view.texts("select#move-to option"), vec!["General", "Archive"]);
    assert_eq!(staff_view.texts("select#move-to option[selected]"), vec!["General"]);
    assert!(member.get(&topic).await.texts("select#move-to option").is_empty(), "members see no move form");
    let bad_move = moderator
        .post_form(&format!("/admin/topics/{topic_id}/move"), &[("reason", "x"), ("category_id", "999")])
        .await;
    assert_eq!(bad_move.status, 409);
    moderator
        .post_form(
            &format!("/admin/topics/{topic_id}/move"),
            &[("reason", "old"), ("category_id", &new_category.to_string())],
        )
        .await;
    let counts: Vec<(i64, i64)> = categories::table
        .order(categories::id)
        .select((categories::topic_count, categories::post_count))
        .load(&mut *conn)
        .unwrap();
    assert_eq!(counts, vec![(1, 1), (1, 2)], "the topic and its two posts moved");
    assert_eq!(
        app.get(&format!("/c/{new_category}/archive")).await.texts("table.topics tbody td a:not(.author)"),
        vec!["A member's topic"]
    );

    let empty_title =
        moderator.post_form(&format!("/admin/topics/{topic_id}/rename"), &[("reason", "x"), ("title", "")]).await;
    assert_eq!(empty_title.status, 400);
    moderator
        .post_form(&format!("/admin/topics/{topic_id}/rename"), &[("reason", "clearer"), ("title", "A clearer title")])
        .await;
    let (title, slug): (String, String) =
        topics::table.find(topic_id).select((topics::title, topics::slug)).first(&mut *conn).unwrap();
    assert_eq!((title.as_str(), slug.as_str()), ("A clearer title", "a-clearer-title"));
    let actions: Vec<String> = admin.get("/admin/audit").await.texts(".audit-entry .action");
    for action in ["lock topic", "unlock topic", "pin topic", "move topic", "rename topic"] {
        assert!(actions.contains(&action.to_string()), "{action} in {actions:?}");
    }
}

async fn posts_are_deleted_restored_and_their_history_shown(app: TestApp) {
    let (member, moderator, _admin, topic, post_id) = cast(&app).await;
    member.post_form(&format!("/p/{post_id}/edit"), &[("body", "Second wording")]).await;
    let history = moderator.get(&format!("/admin/posts/{post_id}/history")).await;
    assert!(history.body.contains("Something to moderate") && history.body.contains("Second wording"));
    assert!(history.body.contains("127.0.0.1"), "staff see where the edit came from");
    assert_eq!(member.get(&format!("/admin/posts/{post_id}/history")).await.status, 403);

    assert_eq!(
        moderator.post_form(&format!("/admin/posts/{post_id}/delete"), &[("reason", "off-topic")]).await.status,
        303
    );
    assert!(app.get(&topic).await.body.contains("This post was deleted by a moderator."));
    assert!(moderator.get(&topic).await.body.contains("Deleted: off-topic"));
    moderator.post_form(&format!("/admin/posts/{post_id}/restore"), &[("reason", "mistake")]).await;
    assert!(app.get(&topic).await.body.contains("Second wording"));
    assert_eq!(moderator.post_form("/admin/posts/999999/hide", &[("reason", "x")]).await.status, 404);
    assert_eq!(moderator.post_form(&format!("/admin/posts/{post_id}/explode"), &[("reason", "x")]).await.status, 404);
}

async fn members_are_found_by_name_email_or_ip(app: TestApp) {
    let (_member, moderator, _admin, _topic, _post) = cast(&app).await;
    let by_name = moderator.get("/admin/members?q=ME").await;
    assert_eq!(by_name.texts("ul.members a"), vec!["mem"]);
    let by_email = moderator.get("/admin/members?q=ada%40example").await;
    assert_eq!(by_email.texts("ul.members a"), vec!["ada"]);
    let by_ip = moderator.get("/admin/members?q=127.0.0.1").await;
    assert_eq!(by_ip.texts("ul.members a"), vec!["mem"], "only members who posted from it");

    let member_id = set_role(&app, "mem", "member");
    let page = moderator.get(&format!("/admin/members/{member_id}")).await;
    assert_eq!(page.texts("dd.post-count"), vec!["1"]);
    assert_eq!(page.texts(".member-ips a"), vec!["127.0.0.1"]);
    let lookup = moderator.get("/admin/ip?ip=127.0.0.1").await;
    assert_eq!(lookup.texts(".ip-posts li").len(), 1);
    assert!(lookup.body.contains("A member&#39;s topic #1") || lookup.body.contains("A member's topic #1"));
    assert_eq!(moderator.get("/admin/ip?ip=not-an-ip").await.status, 400);
    assert_eq!(moderator.get("/admin/members/999999").await.status, 404);
}

async fn p10_privacy_requests_are_filed_signed_out_and_answered_within_30_days(app: TestApp) {
    let (_member, moderator, _admin, _topic, _post) = cast(&app).await;
    let form = app.get("/privacy/request").await;
    assert_eq!(form.status, 200);
    let bad = app.post_form("/privacy/request", &[("email", "nope"), ("kind", "access"), ("message", "hi")]).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.field("message").as_deref(), Some("hi"));
    let filed = app
        .post_form(
            "/privacy/request",
            &[("email", "someone@example.net"), ("kind", "deletion"), ("message", "Please remove me.")],
        )
        .await;
    assert_eq!(filed.status, 200);
    assert!(filed.texts(".flash")[0].contains("is filed"));
    assert!(app.last_mail_to("someone@example.net").body.contains("We will answer by"));

    assert_eq!(moderator.get("/admin").await.texts(".open-requests"), vec!["1"]);
    let queue = moderator.get("/admin/privacy-requests").await;
    assert!(
        queue.texts(".deadline")[0].contains("29 days left") || queue.texts(".deadline")[0].contains("30 days left")
    );
    let mut conn = app.db.get().unwrap();
    let id: i64 = agora::db::schema::privacy_requests::table
        .select(agora::db::schema::privacy_requests::id)
        .first(&mut *conn)
        .unwrap();
    let no_reason =
        moderator.post_form(&format!("/admin/privacy-requests/{id}"), &[("status", "refused"), ("note", "")]).await;
    assert_eq!(no_reason.status, 409);
    let refused = moderator
        .post_form(
            &format!("/admin/privacy-requests/{id}"),
            &[("status", "refused"), ("note", "checked"), ("refusal_reason", "We hold nothing about this address.")],
        )
        .await;
    assert_eq!(refused.status, 303);
    let mail = app.last_mail_to("someone@example.net");
    assert!(mail.body.contains("is now: refused") && mail.body.contains("We hold nothing about this address."));
    assert_eq!(moderator.get("/admin").await.texts(".open-requests"), vec!["0"]);
}

async fn admins_manage_categories(app: TestApp) {
    let (_member, _moderator, admin, _topic, _post) = cast(&app).await;
    assert_eq!(admin.post_form("/admin/categories", &[("name", ""), ("description", "")]).await.status, 400);
    assert_eq!(
        admin
            .post_form("/admin/categories", &[("name", "Help"), ("description", "Questions"), ("position", "1")])
            .await
            .status,
        303
    );
    assert_eq!(
        admin.post_form("/admin/categories", &[("name", "help"), ("description", "")]).await.status,
        409,
        "names are unique"
    );
    let mut conn = app.db.get().unwrap();
    let help: i64 =
        categories::table.filter(categories::slug.eq("help")).select(categories::id).first(&mut *conn).unwrap();
    admin
        .post_form(
            &format!("/admin/categories/{help}"),
            &[("name", "Support"), ("description", "Ask here"), ("position", "0")],
        )
        .await;
    admin
        .post_form("/admin/categories/1", &[("name", "General"), ("description", "Anything"), ("position", "5")])
        .await;
    assert_eq!(app.get("/").await.texts(".category-name"), vec!["Support", "General"], "reordered");
    assert_eq!(admin.post_form("/admin/categories/1/delete", &[]).await.status, 409, "not empty");
    assert_eq!(admin.post_form(&format!("/admin/categories/{help}/delete"), &[]).await.status, 303);
    assert_eq!(app.get("/").await.texts(".category-name"), vec!["General"]);
}

async fn p17_staff_erase_an_account_and_the_audit_keeps_only_its_id(app: TestApp) {
    let (_member, moderator, admin, topic, _post) = cast(&app).await;
    let child = app.another_browser();
    child.register("kiddo").await;
    let child_id = set_role(&app, "kiddo", "member");
    moderator
        .post_form(
            &format!("/admin/members/{child_id}/standing"),
            &[("action", "suspend"), ("until", "2099-01-01"), ("reason", "kiddo said they are 11")],
        )
        .await;
    let erased = moderator.post_form(&format!("/admin/members/{child_id}/erase"), &[("category", "under-13")]).await;
    assert_eq!(erased.status, 303);
    assert_eq!(app.last_mail_to("kiddo@example.org").subject, "Your account has been deleted");
    assert!(child.get("/").await.texts(".signed-in-as").is_empty());
    let about_child: Vec<(String, String)> = audit_actions(&app)
        .into_iter()
        .filter(|(_, target, id, _)| target == "member" && *id == child_id)
        .map(|(action, _, _, reason)| (action, reason))
        .collect();
    assert_eq!(
        about_child,
        vec![("suspend member".to_string(), String::new()), ("erase account".to_string(), "under-13".to_string())]
    );
    assert!(app.find_anywhere(&[b"kiddo"]).is_empty(), "nothing about the child remains");
    assert_eq!(admin.get("/admin/audit").await.status, 200);
    let _ = topic;
}
