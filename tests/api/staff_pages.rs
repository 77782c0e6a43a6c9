//! Staff pages that read as finished (#15): the audit log names people and things, the
//! flag queue names topics and confirms decisions, the dashboard's charts have axes,
//! destructive buttons look destructive, and the members page lists members.

use agora::db::schema::{audit_log, flags, notifications, posts, topics, users};
use diesel::prelude::*;

use crate::helpers::{Page, TestApp};
use crate::on_both_backends;

on_both_backends!(
    the_audit_log_names_who_acted_and_links_what_they_acted_on,
    the_flag_queue_names_the_topic_and_confirms_each_decision,
    the_dashboard_charts_have_axes_and_count_distinct_posters,
    destructive_buttons_look_destructive_on_staff_pages_and_account_deletion,
    the_members_page_lists_members_newest_first_by_role_and_standing,
);

/// A member, a moderator and an admin, each in their own browser, and a topic by the
/// member; returns the browsers, the topic's id and its first post's id.
async fn cast(app: &TestApp) -> (TestApp, TestApp, TestApp, i64, i64) {
    let member = app.another_browser();
    member.register("mem").await;
    let moderator = app.another_browser();
    moderator.register("mod").await;
    app.set_role("mod", "moderator");
    let admin = app.another_browser();
    admin.register("ada").await;
    app.set_role("ada", "admin");
    let topic = member.create_topic("A member's topic", "Something to moderate").await;
    let topic_id: i64 = topic.split('/').nth(2).unwrap().parse().unwrap();
    let mut conn = app.db.get().unwrap();
    let post_id: i64 = posts::table.filter(posts::topic_id.eq(topic_id)).select(posts::id).first(&mut *conn).unwrap();
    (member, moderator, admin, topic_id, post_id)
}

/// One row of the audit page as a reader sees it.
#[derive(Debug, PartialEq)]
struct AuditRow {
    action: String,
    actor: String,
    actor_link: Option<String>,
    target: String,
    target_link: Option<String>,
}

fn audit_rows(page: &Page) -> Vec<AuditRow> {
    let html = page.html();
    let select = |s: &str| scraper::Selector::parse(s).unwrap();
    let text = |e: scraper::ElementRef| e.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ");
    html.select(&select("tr.audit-entry"))
        .map(|row| {
            let cell = |class: &str| row.select(&select(&format!("td.{class}"))).next().unwrap();
            let link = |class: &str| {
                cell(class).select(&select("a")).next().map(|a| a.value().attr("href").unwrap().to_string())
            };
            let target_name = cell("target").select(&select("a, .gone")).next().map(text).unwrap_or_default();
            AuditRow {
                action: text(cell("action")),
                actor: text(cell("actor")),
                actor_link: link("actor"),
                target: target_name,
                target_link: link("target"),
            }
        })
        .collect()
}

fn row<'a>(rows: &'a [AuditRow], action: &str) -> &'a AuditRow {
    rows.iter().find(|r| r.action == action).unwrap_or_else(|| panic!("no {action:?} in {rows:#?}"))
}

async fn the_audit_log_names_who_acted_and_links_what_they_acted_on(app: TestApp) {
    let (_member, moderator, admin, topic_id, post_id) = cast(&app).await;
    let mod_id = app.user_id("mod").unwrap();
    let ada_id = app.user_id("ada").unwrap();
    let target = app.another_browser();
    target.register("target").await;
    let target_id = app.user_id("target").unwrap();
    let leaver = app.another_browser();
    leaver.register("leaver").await;
    let leaver_id = app.user_id("leaver").unwrap();
    // A moderator who acts once, then deletes their own account.
    let former = app.another_browser();
    let former_password = former.register("former").await;
    let former_id = app.set_role("former", "moderator");

    let ok = |page: Page| assert_eq!(page.status, 303, "{}", page.body);
    ok(moderator.post_form(&format!("/admin/posts/{post_id}/hide"), &[("reason", "spam")]).await);
    ok(moderator.post_form(&format!("/admin/topics/{topic_id}/lock"), &[("reason", "heated")]).await);
    ok(moderator
        .post_form(
            &format!("/admin/members/{target_id}/standing"),
            &[("action", "suspend"), ("until", "2099-01-01"), ("reason", "rude")],
        )
        .await);
    ok(moderator
        .post_form(&format!("/admin/members/{leaver_id}/standing"), &[("action", "ban"), ("reason", "spam bot")])
        .await);
    ok(moderator.post_form(&format!("/admin/members/{leaver_id}/erase"), &[("category", "staff-other")]).await);
    ok(admin.post_form("/admin/categories", &[("name", "Help desk"), ("description", ""), ("position", "1")]).await);
    ok(former.post_form(&format!("/admin/topics/{topic_id}/pin"), &[("reason", "important")]).await);
    ok(former.post_form("/account/delete", &[("password", &former_password), ("confirm_username", "former")]).await);

    let mut conn = app.db.get().unwrap();
    let slug: String = topics::table.find(topic_id).select(topics::slug).first(&mut *conn).unwrap();
    let help_id: i64 = agora::db::schema::categories::table
        .filter(agora::db::schema::categories::name.eq("Help desk"))
        .select(agora::db::schema::categories::id)
        .first(&mut *conn)
        .unwrap();

    let page = admin.get("/admin/audit").await;
    assert_eq!(page.status, 200);
    let rows = audit_rows(&page);
    let mod_link = Some(format!("/admin/members/{mod_id}"));
    assert_eq!(
        row(&rows, "hide post"),
        &AuditRow {
            action: "hide post".into(),
            actor: "mod".into(),
            actor_link: mod_link.clone(),
            target: "A member's topic #1".into(),
            target_link: Some(format!("/t/{topic_id}/{slug}/1")),
        }
    );
    let lock = row(&rows, "lock topic");
    assert_eq!(
        (lock.target.as_str(), lock.target_link.clone()),
        ("A member's topic", Some(format!("/t/{topic_id}/{slug}")))
    );
    let suspend = row(&rows, "suspend member");
    assert_eq!((suspend.actor.as_str(), suspend.actor_link.clone()), ("mod", mod_link.clone()));
    assert_eq!(
        (suspend.target.as_str(), suspend.target_link.clone()),
        ("target", Some(format!("/admin/members/{target_id}")))
    );
    let category = row(&rows, "create category");
    assert_eq!(
        (category.actor.as_str(), category.actor_link.clone()),
        ("ada", Some(format!("/admin/members/{ada_id}")))
    );
    assert_eq!(
        (category.target.as_str(), category.target_link.clone()),
        ("Help desk", Some(format!("/c/{help_id}/help-desk")))
    );
    // Erased members are Anonymous here as everywhere, with nothing to link to.
    for action in ["ban member", "erase account"] {
        let about_leaver = row(&rows, action);
        assert_eq!(
            (about_leaver.target.as_str(), about_leaver.target_link.as_deref()),
            ("Anonymous", None),
            "{action}"
        );
    }
    let pinned = row(&rows, "pin topic");
    assert_eq!((pinned.actor.as_str(), pinned.actor_link.as_deref()), ("Anonymous", None));
    assert!(rows.iter().all(|r| !r.actor.starts_with("account")), "no bare account ids: {rows:#?}");
    assert!(!page.body.contains("leaver") && !page.body.contains("former"), "erased names are nowhere on the page");

    // What is stored stays ids: the names are read when the page is shown.
    let stored: Vec<(i64, String, String, i64)> = audit_log::table
        .order(audit_log::id)
        .select((audit_log::actor_id, audit_log::action, audit_log::target_type, audit_log::target_id))
        .load(&mut *conn)
        .unwrap();
    for expected in [
        (mod_id, "hide post", "post", post_id),
        (mod_id, "lock topic", "topic", topic_id),
        (mod_id, "suspend member", "member", target_id),
        (mod_id, "erase account", "member", leaver_id),
        (ada_id, "create category", "category", help_id),
        (former_id, "pin topic", "topic", topic_id),
    ] {
        let expected = (expected.0, expected.1.to_string(), expected.2.to_string(), expected.3);
        assert!(stored.contains(&expected), "{expected:?} in {stored:?}");
    }
    let remaining: i64 =
        users::table.filter(users::id.eq_any([former_id, leaver_id])).count().get_result(&mut *conn).unwrap();
    assert_eq!(remaining, 0, "both accounts are gone, their audit rows keep only the ids");
}

async fn flag(browser: &TestApp, post_id: i64, reason: &str) {
    let filed = browser.post_form(&format!("/p/{post_id}/flag"), &[("reason", reason)]).await;
    assert_eq!(filed.status, 303, "{}", filed.body);
    assert!(filed.location.as_deref().is_some_and(|to| to.starts_with("/t/")), "{:?}", filed.location);
}

async fn the_flag_queue_names_the_topic_and_confirms_each_decision(app: TestApp) {
    let (_member, moderator, _admin, topic_id, post_id) = cast(&app).await;
    let flagger = app.another_browser();
    flagger.register("flagger").await;
    flag(&flagger, post_id, "spam").await;
    let mut conn = app.db.get().unwrap();
    let slug: String = topics::table.find(topic_id).select(topics::slug).first(&mut *conn).unwrap();

    let queue = moderator.get("/admin/flags").await;
    assert_eq!(queue.texts("section.flagged h2 a"), vec!["A member's topic #1"]);
    let html = queue.html();
    let title_link = html.select(&scraper::Selector::parse("section.flagged h2 a").unwrap()).next().unwrap();
    assert_eq!(title_link.value().attr("href"), Some(format!("/t/{topic_id}/{slug}/1").as_str()));
    assert!(queue.texts(".flash").is_empty(), "nothing decided yet");
    assert_eq!(queue.texts("section.flagged button:not(.danger)"), vec!["Dismiss the flags"]);
    assert_eq!(
        queue.texts("section.flagged button.danger"),
        vec!["Hide the post", "Delete the post", "Suspend the author"]
    );

    let dismissed = moderator
        .post_form(&format!("/admin/flags/{post_id}/resolve"), &[("action", "dismiss"), ("reason", "harmless")])
        .await;
    assert_eq!(dismissed.status, 303);
    let back = dismissed.location.unwrap();
    assert_eq!(back, format!("/admin/flags?done=dismiss&post={post_id}"));
    let queue = moderator.get(&back).await;
    assert_eq!(queue.texts("p.flash[role=status]"), vec!["Flags on “A member's topic” #1 dismissed."]);
    assert!(queue.body.contains("No open flags."));
    let outcome: Option<String> =
        flags::table.filter(flags::post_id.eq(post_id)).select(flags::outcome).first(&mut *conn).unwrap();
    assert_eq!(outcome.as_deref(), Some("dismissed, no action taken"));

    // A second flag, settled by hiding the post.
    let second = app.another_browser();
    second.register("second").await;
    flag(&second, post_id, "abuse").await;
    let hidden = moderator
        .post_form(&format!("/admin/flags/{post_id}/resolve"), &[("action", "hide"), ("reason", "advertising")])
        .await;
    assert_eq!(hidden.location.as_deref(), Some(format!("/admin/flags?done=hide&post={post_id}").as_str()));
    let queue = moderator.get(hidden.location.as_deref().unwrap()).await;
    assert_eq!(queue.texts(".flash"), vec!["Flags on “A member's topic” #1 resolved: the post is hidden."]);
    let hidden_now: bool = posts::table.find(post_id).select(posts::hidden).first(&mut *conn).unwrap();
    assert!(hidden_now);
    // The address cannot put words on the page: an unknown decision shows nothing.
    assert!(moderator.get(&format!("/admin/flags?done=pwned&post={post_id}")).await.texts(".flash").is_empty());
    let bad = moderator
        .post_form(&format!("/admin/flags/{post_id}/resolve"), &[("action", "explode"), ("reason", "x")])
        .await;
    assert_eq!(bad.status, 400);

    // Each flagger's notice names the topic (and opens the post), not a post id.
    for (who, outcome) in [(&flagger, "dismissed, no action taken"), (&second, "the post was hidden")] {
        let notices = who.get("/notifications").await;
        let text = notices.texts(".notifications li .what");
        assert_eq!(text.len(), 1, "{text:?}");
        assert!(text[0].contains("A member's topic") && text[0].contains(outcome), "{text:?}");
        assert!(!text[0].contains(&post_id.to_string()), "{text:?}");
        let html = notices.html();
        let link = html.select(&scraper::Selector::parse(".notifications a.what").unwrap()).next().unwrap();
        let opened = who.get(link.value().attr("href").unwrap()).await;
        assert_eq!(opened.location.as_deref(), Some(format!("/t/{topic_id}/{slug}#post-1").as_str()));
    }
    let stored: Vec<(Option<i64>, Option<i64>)> = notifications::table
        .filter(notifications::kind.eq("moderation"))
        .select((notifications::topic_id, notifications::post_id))
        .load(&mut *conn)
        .unwrap();
    assert!(stored.contains(&(Some(topic_id), Some(post_id))), "{stored:?}");
}

/// A day (days since 1970-01-01) as the charts' x axis writes it: "Dec 4".
fn axis_date(day: i64) -> String {
    let format = time::macros::format_description!("[month repr:short] [day padding:none]");
    time::OffsetDateTime::from_unix_timestamp(day * 86400).unwrap().format(format).unwrap()
}

async fn the_dashboard_charts_have_axes_and_count_distinct_posters(app: TestApp) {
    let (member, moderator, _admin, topic_id, first_post) = cast(&app).await;
    // mem posts today and (after the change below) yesterday, mod today: three
    // member-days, two members.
    assert_eq!(member.post_form(&format!("/t/{topic_id}/reply"), &[("body", "Today again")]).await.status, 303);
    assert_eq!(moderator.post_form(&format!("/t/{topic_id}/reply"), &[("body", "Staff reply")]).await.status, 303);
    let mut conn = app.db.get().unwrap();
    let today = agora::db::now() / 86400;
    diesel::update(posts::table.find(first_post))
        .set(posts::created_at.eq((today - 1) * 86400 + 3600))
        .execute(&mut *conn)
        .unwrap();
    let since = (today - 29) * 86400;
    let in_period = posts::table.filter(posts::created_at.ge(since));
    let stored_posts: i64 = in_period.count().get_result(&mut *conn).unwrap();
    let stored_posters: i64 =
        in_period.select(diesel::dsl::count(posts::user_id).aggregate_distinct()).get_result(&mut *conn).unwrap();
    assert_eq!((stored_posts, stored_posters), (3, 2));

    let page = moderator.get("/admin").await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.texts(".chart .chart-title"),
        vec!["Sign-ups per day", "Posts per day", "Members who posted, per day"]
    );
    assert_eq!(
        page.texts("#chart-posters .chart-summary"),
        vec!["2 different members in the last 30 days, at most 2 on one day"],
        "counted over the period, not summed over the days (that would say 3)"
    );
    assert_eq!(page.texts("#chart-posts .chart-summary"), vec!["3 in the last 30 days, at most 2 on one day"]);
    assert_eq!(page.texts("#chart-signups .chart-summary"), vec!["3 in the last 30 days, at most 3 on one day"]);
    // The y axis runs from 0 to the busiest day; the x axis shows the first, middle and
    // last day.
    assert_eq!(page.texts("#chart-posts .y-axis text"), vec!["2", "0"]);
    assert_eq!(page.texts("#chart-signups .y-axis text"), vec!["3", "0"]);
    let dates = vec![axis_date(today - 29), axis_date(today - 15), axis_date(today)];
    for chart in ["signups", "posts", "posters"] {
        assert_eq!(page.texts(&format!("#chart-{chart} .x-axis text")), dates, "{chart}");
        assert_eq!(page.texts(&format!("#chart-{chart} rect.bar")).len(), 30, "{chart}");
    }
    // The bars: mem yesterday, both today.
    let html = page.html();
    let heights: Vec<i64> = html
        .select(&scraper::Selector::parse("#chart-posters rect.bar").unwrap())
        .map(|bar| bar.value().attr("height").unwrap().parse().unwrap())
        .collect();
    assert_eq!(&heights[27..], &[0, 40, 80], "yesterday one of two, today two");
    // No inline style (the CSP forbids it) and no fixed colour: the stylesheet's classes
    // colour the chart in both schemes.
    let svg = &page.body[page.body.find("<svg").unwrap()..page.body.rfind("</svg>").unwrap()];
    assert!(!svg.contains("style=") && !svg.contains("fill=\"#") && !svg.contains("stroke=\"#"), "{svg}");
    let css = app.get("/static/agora.css").await.body;
    assert!(css.contains(".chart .bar { fill: var(--accent); }"));
}

async fn destructive_buttons_look_destructive_on_staff_pages_and_account_deletion(app: TestApp) {
    let (member, moderator, admin, _topic_id, post_id) = cast(&app).await;
    let member_id = app.user_id("mem").unwrap();
    let danger = |page: &Page| page.texts("button.danger");

    let member_page = moderator.get(&format!("/admin/members/{member_id}")).await;
    assert_eq!(danger(&member_page), vec!["Suspend", "Ban", "Delete all their posts", "Erase this account now"]);
    assert_eq!(member_page.texts(".decision button:not(.danger)"), vec!["Lift a suspension or ban"]);
    let categories = admin.get("/admin/categories").await;
    assert_eq!(danger(&categories), vec!["Delete General (1 topics)"]);
    assert!(!categories.texts("button:not(.danger)").is_empty(), "saving is not destructive");
    let flagger = app.another_browser();
    flagger.register("flagger").await;
    flag(&flagger, post_id, "spam").await;
    let flags_page = moderator.get("/admin/flags").await;
    assert_eq!(danger(&flags_page), vec!["Hide the post", "Delete the post", "Suspend the author"]);
    let own_deletion = member.get("/account/delete").await;
    assert_eq!(danger(&own_deletion), vec!["Delete my account for good"]);
    // A held post: approving is not destructive, deleting is.
    let mut conn = app.db.get().unwrap();
    diesel::update(posts::table.find(post_id)).set(posts::held.eq(true)).execute(&mut *conn).unwrap();
    let review = moderator.get("/admin/review").await;
    assert_eq!(danger(&review), vec!["Delete"]);
    assert!(review.texts("section.held button:not(.danger)").contains(&"Approve".to_string()));
    diesel::update(posts::table.find(post_id)).set(posts::held.eq(false)).execute(&mut *conn).unwrap();
    // One class, styled once, in both schemes (the colour is the scheme's --bad).
    let css = app.get("/static/agora.css").await.body;
    let staff_block = &css[css.find("/* Staff pages (#15) */").expect("the staff pages block")..];
    assert!(staff_block.contains("button.danger { background: var(--bad);"));

    // The buttons do what they say, and say so.
    let flag_free = app.another_browser();
    flag_free.register("flagfree").await;
    let target = app.user_id("flagfree").unwrap();
    let banned = moderator
        .post_form(&format!("/admin/members/{target}/standing"), &[("action", "ban"), ("reason", "spam")])
        .await;
    assert_eq!(banned.location.as_deref(), Some(format!("/admin/members/{target}?done=banned").as_str()));
    let page = moderator.get(banned.location.as_deref().unwrap()).await;
    assert_eq!(page.texts(".flash"), vec!["The member is banned."]);
    assert_eq!(page.texts("dd.status"), vec!["Your account is banned: spam."]);
    let stored: bool = users::table.find(target).select(users::banned).first(&mut *conn).unwrap();
    assert!(stored);
    let removed =
        moderator.post_form(&format!("/admin/members/{member_id}/delete-posts"), &[("reason", "spam account")]).await;
    let page = moderator.get(removed.location.as_deref().unwrap()).await;
    assert_eq!(page.texts(".flash").len(), 1, "the removal is confirmed");
    let left: i64 = posts::table
        .filter(posts::user_id.eq(member_id))
        .filter(posts::deleted_at.is_null())
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(left, 0);
}

/// Adds `n` members straight to the database (registering through the site hashes a
/// password for each, too slow for a page of fifty); returns their ids, oldest first.
fn add_members(app: &TestApp, prefix: &str, n: usize) -> Vec<i64> {
    let mut conn = app.db.get().unwrap();
    let now = agora::db::now();
    (0..n)
        .map(|i| {
            let name = format!("{prefix}{i:02}");
            diesel::insert_into(users::table)
                .values((
                    users::username.eq(&name),
                    users::username_key.eq(&name),
                    users::email.eq(format!("{name}@example.org")),
                    users::role.eq("member"),
                    users::created_at.eq(now),
                ))
                .returning(users::id)
                .get_result(&mut *conn)
                .unwrap()
        })
        .collect()
}

fn member_links(page: &Page) -> Vec<String> {
    page.texts("ul.members li a")
}

async fn the_members_page_lists_members_newest_first_by_role_and_standing(app: TestApp) {
    let (_member, moderator, _admin, _topic_id, _post_id) = cast(&app).await;
    let crowd = add_members(&app, "crowd", 55);
    let mut conn = app.db.get().unwrap();
    // Two banned, one suspended for long, one whose suspension is over.
    diesel::update(users::table.filter(users::id.eq_any([crowd[3], crowd[40]])))
        .set(users::banned.eq(true))
        .execute(&mut *conn)
        .unwrap();
    diesel::update(users::table.find(crowd[10]))
        .set(users::suspended_until.eq(Some(4_102_444_800)))
        .execute(&mut *conn)
        .unwrap();
    diesel::update(users::table.find(crowd[11]))
        .set(users::suspended_until.eq(Some(1_000)))
        .execute(&mut *conn)
        .unwrap();

    // No search: the newest 50, newest first, then the rest.
    let first = moderator.get("/admin/members").await;
    assert_eq!(first.status, 200);
    let names = member_links(&first);
    let newest_first: Vec<String> = (5..55).rev().map(|i| format!("crowd{i:02}")).collect();
    assert_eq!(names, newest_first);
    assert_eq!(first.texts("select#role option[selected]"), vec!["Any role"]);
    assert_eq!(first.texts("select#standing option[selected]"), vec!["Any standing"]);
    let html = first.html();
    let form = html.select(&scraper::Selector::parse("form.member-filters").unwrap()).next().unwrap();
    assert_eq!(form.value().attr("method"), Some("get"), "filters are a GET form: the address can be shared");
    let older = html
        .select(&scraper::Selector::parse("a[rel=next]").unwrap())
        .next()
        .map(|a| a.value().attr("href").unwrap().to_string())
        .expect("a link to older members");
    assert_eq!(older, format!("/admin/members?role=&standing=&before={}", crowd[5]));
    let second = moderator.get(&older).await;
    let mut rest: Vec<String> = (0..5).rev().map(|i| format!("crowd{i:02}")).collect();
    rest.extend(["ada", "mod", "mem"].map(String::from));
    assert_eq!(member_links(&second), rest, "never the shared Anonymous account");
    assert!(second.texts("a[rel=next]").is_empty());
    assert_eq!(second.texts(".pagination a"), vec!["Newest members"]);

    // Filters, alone and together, and with a search.
    let by = |query: &'static str| {
        let moderator = &moderator;
        async move { member_links(&moderator.get(&format!("/admin/members?{query}")).await) }
    };
    assert_eq!(by("role=moderator&standing=").await, vec!["mod"]);
    assert_eq!(by("role=admin&standing=active").await, vec!["ada"]);
    assert_eq!(by("role=&standing=banned").await, vec!["crowd40", "crowd03"]);
    assert_eq!(by("role=&standing=suspended").await, vec!["crowd10"]);
    assert_eq!(by("role=member&standing=suspended").await, vec!["crowd10"]);
    assert!(by("role=admin&standing=banned").await.is_empty());
    let active = by("standing=active").await;
    assert!(active.contains(&"crowd11".to_string()), "a suspension that is over leaves the member active");
    assert!(!active.iter().any(|n| ["crowd40", "crowd10", "crowd03"].contains(&n.as_str())));
    assert_eq!(by("q=crowd1&standing=suspended").await, vec!["crowd10"]);
    assert_eq!(by("q=crowd0&role=&standing=banned").await, vec!["crowd03"]);
    let filtered = moderator.get("/admin/members?role=member&standing=banned").await;
    assert_eq!(filtered.texts("select#role option[selected]"), vec!["member"]);
    assert_eq!(filtered.texts("select#standing option[selected]"), vec!["banned"]);
    assert_eq!(filtered.texts("ul.members li .member-standing"), vec!["banned", "banned"]);
    assert_eq!(moderator.get("/admin/members?role=emperor").await.status, 400);
    assert_eq!(moderator.get("/admin/members?standing=exiled").await.status, 400);
    assert_eq!(app.another_browser().get("/admin/members").await.status, 303, "visitors sign in first");

    // What the filters read is what is stored.
    let banned_stored: Vec<i64> =
        users::table.filter(users::banned).order(users::id.desc()).select(users::id).load(&mut *conn).unwrap();
    assert_eq!(banned_stored, vec![crowd[40], crowd[3]]);
}
