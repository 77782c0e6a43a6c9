//! The public privacy-request form: anyone, signed in or not, asks for a copy, a
//! correction or a deletion of their information, or who it was shared with.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::domain::Email;
use crate::auth::forms::CsrfForm;
use crate::auth::visitor::Visitor;
use crate::db::now;
use crate::privacy::mails;
use crate::privacy::requests::{self, REQUEST_DEADLINE_SECONDS, REQUEST_KINDS};
use crate::web::errors::AppError;
use crate::web::rate_limit::Limit;
use crate::web::{filters, form_again, render, render_with};
use crate::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/privacy/request", web::get().to(request_form)).route("/privacy/request", web::post().to(file_request));
}

#[derive(Template)]
#[template(path = "account/privacy_request.html")]
struct RequestPage {
    visitor: Visitor,
    kinds: &'static [(&'static str, &'static str)],
    email: String,
    kind: String,
    message: String,
    errors: Vec<String>,
    filed: Option<i64>,
}

impl RequestPage {
    fn is_kind(&self, key: &str) -> bool {
        self.kind == key
    }
}

async fn request_form(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    let email = match visitor.user_id() {
        Some(id) => state
            .db
            .run(move |c| crate::auth::accounts::profile(c, id))
            .await?
            .and_then(|p| p.email)
            .unwrap_or_default(),
        None => String::new(),
    };
    render(&RequestPage {
        visitor,
        kinds: REQUEST_KINDS,
        email,
        kind: String::new(),
        message: String::new(),
        errors: Vec::new(),
        filed: None,
    })
}

#[derive(Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    message: String,
}

async fn file_request(
    state: web::Data<AppState>,
    visitor: Visitor,
    ip: crate::web::client_ip::ClientIp,
    CsrfForm(form): CsrfForm<RequestForm>,
) -> Result<HttpResponse, AppError> {
    let mut errors = Vec::new();
    let email = Email::parse(&form.email).map_err(|e| errors.push(e)).ok();
    if !REQUEST_KINDS.iter().any(|(key, _)| *key == form.kind) {
        errors.push("Choose what you are asking for.".into());
    }
    if form.message.chars().count() > 5000 {
        errors.push("Keep the message under 5,000 characters.".into());
    }
    let (Some(email), true) = (email, errors.is_empty()) else {
        let page = RequestPage {
            visitor,
            kinds: REQUEST_KINDS,
            email: form.email,
            kind: form.kind,
            message: form.message,
            errors,
            filed: None,
        };
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    // Each request mails the address it names: limited per address and per sender.
    for (limit, key) in
        [(Limit::PrivacyRequestPerIp, ip.rate_key()), (Limit::PrivacyRequestPerAddress, email.as_str().into())]
    {
        if let Err(refusal) = state.rate_limit(limit, key).await {
            let (address, kind, message) = (form.email, form.kind, form.message);
            return form_again(refusal, |error| RequestPage {
                visitor,
                kinds: REQUEST_KINDS,
                email: address,
                kind,
                message,
                errors: vec![error],
                filed: None,
            });
        }
    }
    let signed_in = visitor.user_id();
    let (address, kind, message) = (email.as_str().to_string(), form.kind.clone(), form.message.trim().to_string());
    let id = state
        .db
        .run(move |c| -> Result<_, AppError> {
            // The request belongs to whoever filed it signed in, or else to the account
            // whose *confirmed* address it names; a merely typed address claims nothing.
            let owner = match signed_in {
                Some(id) => Some(id),
                None => requests::owner_of_address(c, &address)?,
            };
            Ok(requests::file_privacy_request(c, &address, owner, &kind, &message)?)
        })
        .await?;
    let when = filters::when(now() + REQUEST_DEADLINE_SECONDS, askama::NO_VALUES).unwrap_or_default();
    state.mailer.send_or_log(mails::privacy_request_received(email.as_str(), id, &form.kind, &when)).await;
    render(&RequestPage {
        visitor,
        kinds: REQUEST_KINDS,
        email: String::new(),
        kind: String::new(),
        message: String::new(),
        errors: Vec::new(),
        filed: Some(id),
    })
}
