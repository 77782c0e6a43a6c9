//! The "Notifications" part of Your data: whether starting or replying to a topic
//! watches it, and per kind of notification whether it is e-mailed (POST
//! `/account/notifications`). The members one blocked are listed beside it.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::auth::forms::CsrfForm;
use crate::auth::visitor::Visitor;
use crate::forum::notification_settings::{self as settings, MailChoice, Settings, MAILED_KINDS};
use crate::forum::notifications::Kind;
use crate::web::errors::AppError;
use crate::web::rate_limit::Limit;
use crate::web::see_other;
use crate::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/account/notifications", web::post().to(save));
}

/// One kind's row in the form.
pub struct ChoiceRow {
    pub field: &'static str,
    pub label: &'static str,
    pub current: MailChoice,
}

impl ChoiceRow {
    pub fn choices(&self) -> &'static [MailChoice] {
        MailChoice::ALL
    }
}

pub fn label(kind: Kind) -> &'static str {
    match kind {
        Kind::Reply => "Replies in topics I started or watch",
        Kind::Topic => "New topics in categories I watch",
        Kind::Mention => "Someone mentions me",
        Kind::Quote => "Someone quotes me",
        Kind::Like => "Someone likes my post",
        Kind::Moderation => "A moderator's decision about my posts or flags",
        Kind::Privacy => "My privacy requests",
    }
}

pub fn rows(current: &Settings) -> Vec<ChoiceRow> {
    MAILED_KINDS
        .iter()
        .map(|&kind| ChoiceRow { field: kind.as_str(), label: label(kind), current: current.mail_for(kind) })
        .collect()
}

#[derive(Deserialize)]
pub struct ChoicesForm {
    watch_own: Option<String>,
    reply: String,
    topic: String,
    mention: String,
    quote: String,
    like: String,
    moderation: String,
}

impl ChoicesForm {
    fn of(&self, kind: Kind) -> &str {
        match kind {
            Kind::Reply => &self.reply,
            Kind::Topic => &self.topic,
            Kind::Mention => &self.mention,
            Kind::Quote => &self.quote,
            Kind::Like => &self.like,
            Kind::Moderation => &self.moderation,
            Kind::Privacy => "",
        }
    }
}

async fn save(
    state: web::Data<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<ChoicesForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    state.rate_limit(Limit::ChoicePerMember, user_id).await?;
    let mut chosen = Settings::defaults(user_id, false);
    chosen.watch_own = form.watch_own.is_some();
    for &kind in MAILED_KINDS {
        let choice = MailChoice::parse(form.of(kind)).ok_or_else(|| {
            AppError::BadRequest(format!("“{}” is not one of the choices for {}.", form.of(kind), label(kind)))
        })?;
        chosen.set_mail(kind, choice);
    }
    if state.db.run(move |c| settings::save(c, &chosen)).await? {
        crate::privacy::erasure::settle_async(&state, None).await;
    }
    Ok(see_other("/account?done=notifications#notifications-heading"))
}
