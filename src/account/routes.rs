//! `/account`: what the forum holds about the signed-in member.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::account::store::{self, Profile};
use crate::web::errors::AppError;
use crate::web::visitor::Visitor;
use crate::web::{filters, render};
use crate::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/account", web::get().to(account_page));
}

#[derive(Template)]
#[template(path = "account/profile.html")]
struct AccountPage {
    visitor: Visitor,
    profile: Profile,
    github_enabled: bool,
}

async fn account_page(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    let user_id = visitor.member()?.user_id;
    let profile = state.db.run(move |c| store::profile(c, user_id)).await?.ok_or(AppError::NotFound)?;
    render(&AccountPage { visitor, profile, github_enabled: state.github.is_some() })
}
