//! The privacy policy as anyone reads it: the version in force at `/privacy`, with the
//! coming change announced, and every earlier version at `/privacy/{version}`. (The
//! versions themselves, and publishing one, are `privacy::policy`.)

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::auth::visitor::Visitor;
use crate::privacy::policy::{self, fill_in, PolicyVersion};
use crate::web::errors::AppError;
use crate::web::{filters, render};
use crate::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/privacy", web::get().to(privacy_policy)).route("/privacy/{version}", web::get().to(policy_version));
}

#[derive(Template)]
#[template(path = "account/privacy.html")]
struct PolicyPage {
    visitor: Visitor,
    shown: PolicyVersion,
    shown_html: String,
    is_current: bool,
    current_version: String,
    history: Vec<PolicyVersion>,
}

async fn show(state: &AppState, visitor: Visitor, version: Option<String>) -> Result<HttpResponse, AppError> {
    let (shown, current, history) = state
        .db
        .run(move |c| -> Result<_, AppError> {
            let current = policy::current(c)?;
            let shown = match version {
                Some(v) => policy::find(c, &v)?.ok_or(AppError::NotFound)?,
                None => current.clone(),
            };
            Ok((shown, current, policy::history(c)?))
        })
        .await?;
    let shown_html = crate::text::markdown::render_trusted(&fill_in(&shown.markdown, &state.config));
    let is_current = shown.version == current.version;
    render(&PolicyPage { visitor, shown, shown_html, is_current, current_version: current.version, history })
}

async fn privacy_policy(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    show(&state, visitor, None).await
}

async fn policy_version(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    show(&state, visitor, Some(path.into_inner())).await
}
