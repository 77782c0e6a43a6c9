//! The privacy policy: a Markdown file in the repository, served at `/privacy`.

use std::sync::LazyLock;

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::web::errors::AppError;
use crate::web::render;
use crate::web::visitor::Visitor;

/// The version members accept at registration; bump it with every material change.
pub const POLICY_VERSION: &str = "2026-11-25";

const POLICY_MARKDOWN: &str = include_str!("../../templates/privacy/policy.md");

/// Rendered once: the policy is part of the binary and never changes while it runs.
static POLICY_HTML: LazyLock<String> = LazyLock::new(|| crate::forum::markdown::render(POLICY_MARKDOWN));

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/privacy", web::get().to(privacy_policy));
}

#[derive(Template)]
#[template(path = "account/privacy.html")]
struct PolicyPage {
    visitor: Visitor,
    version: &'static str,
    policy_html: &'static str,
}

async fn privacy_policy(visitor: Visitor) -> Result<HttpResponse, AppError> {
    render(&PolicyPage { visitor, version: POLICY_VERSION, policy_html: POLICY_HTML.as_str() })
}
