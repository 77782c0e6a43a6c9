//! `/admin/settings`: the forum's name, short description, contact address and logo,
//! kept by admins (`web::site` reads them for every page). Changes are audited.

use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use diesel::prelude::*;
use futures_util::StreamExt;
use serde::Deserialize;

use crate::auth::domain::Email;
use crate::auth::github::client::sniff_image;
use crate::auth::visitor::Visitor;
use crate::db::{now, DbError};
use crate::moderation::audit::{AuditAction, AuditTarget};
use crate::record_audit;
use crate::text::plain_line;
use crate::web::errors::AppError;
use crate::web::rate_limit::Limit;
use crate::web::site::{self, LogoChange, SiteChange, SiteIdentity};
use crate::web::{filters, render_too_many, render_with, see_other};
use crate::AppState;

/// The largest logo accepted: a header image, not a photograph.
pub const MAX_LOGO_BYTES: usize = 256 * 1024;
/// Any other field of the form.
const MAX_FIELD_BYTES: usize = 4 * 1024;
const MAX_NAME_CHARS: usize = 60;
const MAX_DESCRIPTION_CHARS: usize = 200;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/settings", web::get().to(settings_page))
        .route("/admin/settings", web::post().to(save_settings))
        .route("/site/logo", web::get().to(logo));
}

/// What the form shows: the stored values, or what the admin sent when it was refused.
#[derive(Debug, Default)]
struct SettingsForm {
    name: String,
    description: String,
    contact_email: String,
    /// Staff must sign in with two factors.
    staff_two_factor: bool,
    remove_logo: bool,
    csrf_token: String,
    /// The uploaded file, if one was chosen.
    logo: Vec<u8>,
    logo_too_big: bool,
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    visitor: Visitor,
    form: SettingsForm,
    /// The logo stored now, shown above the file field.
    current_logo: Option<String>,
    errors: Vec<String>,
    saved: bool,
}

#[derive(Deserialize)]
pub struct SettingsQuery {
    saved: Option<String>,
}

async fn settings_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<SettingsQuery>,
) -> Result<HttpResponse, AppError> {
    visitor.admin()?;
    // Read now, not from the instance's copy: the form must show what is stored.
    let stored = state.db.run(site::load).await?;
    let form = SettingsForm {
        name: stored.name.clone(),
        description: stored.description.clone(),
        contact_email: stored.contact_email.clone(),
        staff_two_factor: stored.staff_two_factor,
        ..SettingsForm::default()
    };
    let page = SettingsPage {
        visitor,
        form,
        current_logo: stored.logo_url(),
        errors: Vec::new(),
        saved: query.saved.is_some(),
    };
    render_with(StatusCode::OK, &page)
}

/// Reads the multipart form, field by field, refusing any field past its size. A logo
/// past `MAX_LOGO_BYTES` stops the reading (the fields before it, which the form puts
/// first, are kept for the page that says so).
async fn read_form(mut payload: Multipart) -> Result<SettingsForm, AppError> {
    let unreadable = || AppError::BadRequest("The form could not be read. Reload the page and try again.".into());
    let mut form = SettingsForm::default();
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|_| unreadable())?;
        let name = field.name().unwrap_or_default().to_string();
        let limit = if name == "logo" { MAX_LOGO_BYTES } else { MAX_FIELD_BYTES };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| unreadable())?;
            if bytes.len() + chunk.len() > limit {
                if name == "logo" {
                    form.logo_too_big = true;
                    return Ok(form);
                }
                return Err(AppError::PayloadTooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        let text = || String::from_utf8_lossy(&bytes).into_owned();
        match name.as_str() {
            "csrf_token" => form.csrf_token = text(),
            "name" => form.name = text(),
            "description" => form.description = text(),
            "contact_email" => form.contact_email = text(),
            "remove_logo" => form.remove_logo = true,
            "staff_two_factor" => form.staff_two_factor = true,
            "logo" => form.logo = bytes,
            _ => {}
        }
    }
    Ok(form)
}

/// The change the form asks for, or what is wrong with it (every problem at once).
fn checked(form: &SettingsForm) -> Result<(String, String, String, LogoChange), Vec<String>> {
    let mut errors = Vec::new();
    let name = plain_line(&form.name, "The forum's name").unwrap_or_else(|e| {
        errors.push(e);
        String::new()
    });
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        errors.push(format!("The forum's name is 1 to {MAX_NAME_CHARS} characters."));
    }
    let description = plain_line(&form.description, "The description").unwrap_or_else(|e| {
        errors.push(e);
        String::new()
    });
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        errors.push(format!("The description is at most {MAX_DESCRIPTION_CHARS} characters."));
    }
    let contact_email = match form.contact_email.trim() {
        "" => String::new(),
        raw => Email::parse(raw).map(|e| e.as_str().to_string()).unwrap_or_else(|e| {
            errors.push(format!("Contact address: {e}"));
            String::new()
        }),
    };
    let logo = if form.logo_too_big {
        errors.push(format!("The logo is larger than {} KB. Choose a smaller image.", MAX_LOGO_BYTES / 1024));
        LogoChange::Keep
    } else if !form.logo.is_empty() {
        match sniff_image(&form.logo) {
            Some(content_type) => LogoChange::Replace(form.logo.clone(), content_type),
            None => {
                errors.push("The logo must be a PNG, JPEG, GIF or WebP image (SVG is not accepted).".into());
                LogoChange::Keep
            }
        }
    } else if form.remove_logo {
        LogoChange::Remove
    } else {
        LogoChange::Keep
    };
    match errors.is_empty() {
        true => Ok((name, description, contact_email, logo)),
        false => Err(errors),
    }
}

/// What the audit row says changed.
fn described(before: &SiteIdentity, change: &SiteChange) -> String {
    let mut changed = Vec::new();
    if before.name != change.name {
        changed.push(format!("name: {} → {}", before.name, change.name));
    }
    if before.description != change.description {
        changed.push("description".to_string());
    }
    if before.staff_two_factor != change.staff_two_factor {
        changed.push(format!(
            "two-factor sign-in for staff: {}",
            if change.staff_two_factor { "required" } else { "not required" }
        ));
    }
    if before.contact_email != change.contact_email {
        changed.push(format!(
            "contact address: {} → {}",
            or_none(&before.contact_email),
            or_none(&change.contact_email)
        ));
    }
    match change.logo {
        LogoChange::Keep => {}
        LogoChange::Remove => changed.push("logo removed".into()),
        LogoChange::Replace(..) => changed.push("new logo".into()),
    }
    match changed.is_empty() {
        true => "saved without changes".into(),
        false => changed.join("; "),
    }
}

fn or_none(value: &str) -> &str {
    if value.is_empty() {
        "(none)"
    } else {
        value
    }
}

async fn save_settings(
    state: web::Data<AppState>,
    visitor: Visitor,
    request: HttpRequest,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let admin = visitor.admin()?.user_id;
    let form = read_form(payload).await?;
    crate::web::csrf::check_token(&request, true, &form.csrf_token)?;
    let stored = state.db.run(site::load).await?;
    let refused = |form: SettingsForm, errors: Vec<String>, visitor: Visitor| SettingsPage {
        visitor,
        form,
        current_logo: stored.logo_url(),
        errors,
        saved: false,
    };
    if let Err(AppError::TooMany(wait)) = state.rate_limit(Limit::SiteSettingsPerAdmin, admin).await {
        let message = crate::web::errors::too_many_message(&wait);
        return render_too_many(wait, &refused(form, vec![message], visitor));
    }
    let (name, description, contact_email, logo) = match checked(&form) {
        Ok(change) => change,
        Err(errors) => {
            let status =
                if form.logo_too_big { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::UNPROCESSABLE_ENTITY };
            return render_with(status, &refused(form, errors, visitor));
        }
    };
    let change = SiteChange { name, description, contact_email, logo, staff_two_factor: form.staff_two_factor };
    let reason = described(&stored, &change);
    let at = now();
    state
        .db
        .run(move |c| {
            c.write_transaction::<_, diesel::result::Error, _>(|c| {
                site::save(c, &change, at)?;
                record_audit!(c, admin, AuditAction::UpdateSiteSettings, AuditTarget::Site, 1, reason, at)?;
                Ok(())
            })
            .map_err(DbError::from)
        })
        .await?;
    state.site.forget();
    Ok(see_other("/admin/settings?saved=1"))
}

#[derive(Deserialize)]
pub struct LogoQuery {
    v: Option<i64>,
}

/// `/site/logo`: the uploaded logo, kept by browsers for a year under its revision.
async fn logo(state: web::Data<AppState>, query: web::Query<LogoQuery>) -> Result<HttpResponse, AppError> {
    let (bytes, content_type, revision) = state.db.run(site::logo).await?.ok_or(AppError::NotFound)?;
    let cache = crate::web::versioned_cache(query.v, revision, crate::web::Keeper::AnyCache);
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::ETAG, format!("\"logo-{revision}\"")))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(bytes))
}
