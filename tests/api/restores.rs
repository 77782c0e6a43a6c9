//! P9 for every change, not only deletions: a backup restored after a member changed
//! something never brings back what they removed or replaced. One kind of ledger entry
//! each: newsletter opt-out, GitHub unlink, password change, picture removal, two-factor
//! sign-in turned off; and no session or e-mail link survives a restore.

use agora::db::schema::{avatars, email_tokens, sessions, users};
use agora::ops::backup;
use diesel::prelude::*;

use crate::fake_github::{FakeGithub, FakeUser};
use crate::helpers::TestApp;
use crate::{on_both_backends, on_both_backends_with_github};

on_both_backends_with_github!(p9_a_restore_honours_every_change_made_after_the_backup);
on_both_backends!(a_restore_names_members_left_without_a_way_in);

async fn p9_a_restore_honours_every_change_made_after_the_backup(app: TestApp, github: FakeGithub) {
    let password = "keeper-has-a-long-password";
    let joined = app
        .post_form(
            "/register",
            &[
                ("username", "keeper"),
                ("email", "keeper@example.org"),
                ("password", password),
                ("age_confirmed", "yes"),
                ("accept_policy", "yes"),
                ("newsletter", "yes"),
            ],
        )
        .await;
    assert_eq!(joined.status, 303);
    app.confirm_address("keeper@example.org").await;
    github.add_user(FakeUser::new(7_070, "keeper-gh", Some("Kee Per")));
    github.sign_in_as(7_070);
    let start = app.post_form("/account/github/link", &[("current_password", password)]).await;
    assert_eq!(app.github_round_trip(start).await.location.as_deref(), Some("/account"));
    let id = app.user_id("keeper").unwrap();
    {
        let mut conn = app.db.get().unwrap();
        diesel::insert_into(avatars::table)
            .values((
                avatars::user_id.eq(id),
                avatars::content_type.eq("image/png"),
                avatars::image.eq(b"\x89PNG\r\n\x1a\nkeeper".to_vec()),
                avatars::updated_at.eq(1i64),
            ))
            .execute(&mut *conn)
            .unwrap();
    }
    // Names shown on the profile, replies mailed, a member blocked.
    assert_eq!(app.post_form("/account/profile/visibility", &[("show_name", "yes")]).await.status, 303);
    app.choose_mail(&[("reply", "each")]).await;
    app.another_browser().register("pest").await;
    let pest = app.user_id("pest").unwrap();
    assert_eq!(app.post_form("/u/pest/block", &[]).await.status, 303);
    // Two-factor sign-in on, with an authenticator app.
    app.turn_on_two_factor().await;
    let made = backup::create(&app.db, &app.backup_dir()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));

    // After the backup: every kind of change.
    assert_eq!(app.post_form("/account/newsletter", &[]).await.status, 303);
    let off = app.post_form("/account/two-factor/disable", &[("current_password", password)]).await;
    assert_eq!(off.status, 303, "{}", off.body);
    assert_eq!(app.post_form("/account/github/unlink", &[]).await.status, 303);
    let changed = app
        .post_form("/account/password", &[("current_password", password), ("new_password", "keeper-new-long-password")])
        .await;
    assert_eq!(changed.status, 303);
    assert_eq!(app.post_form("/account/picture/remove", &[]).await.status, 303);
    assert_eq!(app.post_form("/account/profile/visibility", &[]).await.status, 303);
    app.choose_mail(&[]).await;
    assert_eq!(app.post_form("/u/pest/unblock", &[]).await.status, 303);
    app.another_browser().post_form("/password/forgot", &[("email", "keeper@example.org")]).await;

    let target = app.scratch_database_url();
    backup::restore(&target, &made.path, &app.backup_dir()).unwrap();
    let restored = agora::db::Database::connect(&target, 1).unwrap();
    let mut conn = restored.get().unwrap();
    let (newsletter, github_id, password_hash): (bool, Option<i64>, Option<String>) = users::table
        .find(id)
        .select((users::newsletter, users::github_id, users::password_hash))
        .first(&mut *conn)
        .unwrap();
    assert!(!newsletter, "the opt-out holds");
    assert_eq!(github_id, None, "the unlinked GitHub account stays unlinked");
    assert_eq!(password_hash, None, "the replaced password is not brought back: the member resets it");
    let (pictures, live_sessions, links): (i64, i64, i64) = (
        avatars::table.filter(avatars::user_id.eq(id)).count().get_result(&mut *conn).unwrap(),
        sessions::table.count().get_result(&mut *conn).unwrap(),
        email_tokens::table.count().get_result(&mut *conn).unwrap(),
    );
    assert_eq!((pictures, live_sessions, links), (0, 0, 0), "picture, sessions and e-mail links");
    use agora::db::schema::{member_blocks, newsletter_events, notification_settings};
    let show_name: bool = users::table.find(id).select(users::show_name).first(&mut *conn).unwrap();
    assert!(!show_name, "the names hidden after the backup stay hidden");
    let mail_reply: String =
        notification_settings::table.find(id).select(notification_settings::mail_reply).first(&mut *conn).unwrap();
    assert_eq!(mail_reply, "off", "the unsubscribe holds");
    let blocks: i64 = member_blocks::table.find((id, pest)).count().get_result(&mut *conn).unwrap();
    assert_eq!(blocks, 0, "the unblock holds");
    let opt_outs: i64 = newsletter_events::table
        .filter(newsletter_events::user_id.eq(id))
        .filter(newsletter_events::subscribed.eq(false))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(opt_outs, 1, "the opt-out is in the history");
    use agora::db::schema::{recovery_codes, two_factor};
    let secrets: i64 = two_factor::table.filter(two_factor::user_id.eq(id)).count().get_result(&mut *conn).unwrap();
    let codes: i64 =
        recovery_codes::table.filter(recovery_codes::user_id.eq(id)).count().get_result(&mut *conn).unwrap();
    let flag: bool = users::table.find(id).select(users::two_factor_on).first(&mut *conn).unwrap();
    assert_eq!((secrets, codes, flag), (0, 0, false), "the secret turned off after the backup does not come back");
}

/// A member whose password and address both changed after the backup has neither after
/// a restore (the old ones are erased, the new ones were never in it): the restore
/// names them, so an administrator can give them a way back (`agora admin
/// recover-access`).
async fn a_restore_names_members_left_without_a_way_in(app: TestApp) {
    let password = app.register("drifter").await;
    app.another_browser().register("settled").await;
    let made = backup::create(&app.db, &app.backup_dir()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let changed = app
        .post_form(
            "/account/password",
            &[("current_password", &password), ("new_password", "drifter-new-long-password")],
        )
        .await;
    assert_eq!(changed.status, 303);
    let asked = app
        .post_form(
            "/account/email",
            &[("email", "drifter@new.example"), ("current_password", "drifter-new-long-password")],
        )
        .await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    let link = app.last_mail_to("drifter@new.example").link("/account/change-email?token=");
    let token = app.get(&link).await.field("token").unwrap();
    assert_eq!(app.post_form("/account/change-email", &[("token", &token)]).await.status, 303);

    let restored = backup::restore(&app.scratch_database_url(), &made.path, &app.backup_dir()).unwrap();
    assert_eq!(restored.stranded, vec!["drifter".to_string()], "only the member left without a way in");
}
