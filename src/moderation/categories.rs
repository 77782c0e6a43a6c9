//! Categories, kept by admins.

use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::prelude::*;
use serde::Deserialize;

use crate::auth::forms::{CsrfForm, EmptyForm};
use crate::auth::visitor::Visitor;
use crate::db::schema::{categories, topics};
use crate::db::{now, DbConn};
use crate::forum::domain::slugify;
use crate::forum::queries::{self as forum, Category};
use crate::moderation::audit::{AuditAction, AuditTarget};
use crate::moderation::ModError;
use crate::record_audit;
use crate::web::errors::AppError;
use crate::web::{filters, render, see_other};
use crate::AppState;

#[derive(Template)]
#[template(path = "admin/categories.html")]
struct CategoriesPage {
    visitor: Visitor,
    categories: Vec<Category>,
}

pub(super) async fn list_page(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, AppError> {
    visitor.admin()?;
    let categories = state.db.run(forum::list_categories).await?;
    render(&CategoriesPage { visitor, categories })
}

#[derive(Deserialize)]
pub struct CategoryForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    position: i32,
    /// The checkbox: present when ticked.
    #[serde(default)]
    staff_only_topics: Option<String>,
}

fn category_fields(form: &CategoryForm) -> Result<(String, String, String), AppError> {
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err(AppError::BadRequest("A category name is 1 to 60 characters.".into()));
    }
    Ok((name.to_string(), slugify(name), form.description.trim().chars().take(500).collect()))
}

pub(super) async fn create(
    state: web::Data<AppState>,
    visitor: Visitor,
    CsrfForm(form): CsrfForm<CategoryForm>,
) -> Result<HttpResponse, AppError> {
    save(&state, &visitor, None, &form).await
}

pub(super) async fn update(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    CsrfForm(form): CsrfForm<CategoryForm>,
) -> Result<HttpResponse, AppError> {
    save(&state, &visitor, Some(path.into_inner()), &form).await
}

pub(super) async fn save(
    state: &AppState,
    visitor: &Visitor,
    existing: Option<i64>,
    form: &CategoryForm,
) -> Result<HttpResponse, AppError> {
    let admin = visitor.admin()?.user_id;
    let (name, slug, description) = category_fields(form)?;
    let position = form.position;
    let staff_only_topics = form.staff_only_topics.is_some();
    state
        .db
        .run(move |c| {
            let new = NewCategory { slug: &slug, name: &name, description: &description, position, staff_only_topics };
            save_category(c, admin, existing, new)
        })
        .await?;
    Ok(see_other("/admin/categories"))
}

pub(super) async fn delete(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<i64>,
    _: CsrfForm<EmptyForm>,
) -> Result<HttpResponse, AppError> {
    let admin = visitor.admin()?.user_id;
    let id = path.into_inner();
    state.db.run(move |c| delete_category(c, admin, id)).await?;
    Ok(see_other("/admin/categories"))
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = categories)]
pub struct NewCategory<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub position: i32,
    pub staff_only_topics: bool,
}

pub fn create_category(conn: &mut DbConn, actor: i64, new: NewCategory<'_>) -> Result<i64, ModError> {
    save_category(conn, actor, None, new)
}

/// Creates a category, or changes the one with id `existing`; names stay unique.
pub fn save_category(
    conn: &mut DbConn,
    actor: i64,
    existing: Option<i64>,
    new: NewCategory<'_>,
) -> Result<i64, ModError> {
    let now = now();
    let result = conn.write_transaction::<_, ModError, _>(|conn| {
        let (id, action) = match existing {
            None => {
                let id =
                    diesel::insert_into(categories::table).values(&new).returning(categories::id).get_result(conn)?;
                (id, AuditAction::CreateCategory)
            }
            Some(id) => {
                if diesel::update(categories::table.find(id)).set(&new).execute(conn)? == 0 {
                    return Err(ModError::NotFound);
                }
                (id, AuditAction::UpdateCategory)
            }
        };
        record_audit!(conn, actor, action, AuditTarget::Category, id, new.name, now)?;
        Ok(id)
    });
    match result {
        Err(ModError::Db(e)) if e.is_unique_violation() => {
            Err(ModError::Refused("A category with that name exists.".into()))
        }
        other => other,
    }
}

/// Deletes a category that has no topics.
pub fn delete_category(conn: &mut DbConn, actor: i64, id: i64) -> Result<(), ModError> {
    let now = now();
    conn.write_transaction::<_, ModError, _>(|conn| {
        let has_topics = diesel::select(diesel::dsl::exists(topics::table.filter(topics::category_id.eq(id))))
            .get_result::<bool>(conn)?;
        if has_topics {
            return Err(ModError::Refused("Only an empty category can be deleted; move its topics first.".into()));
        }
        if diesel::delete(categories::table.find(id)).execute(conn)? == 0 {
            return Err(ModError::NotFound);
        }
        record_audit!(conn, actor, AuditAction::DeleteCategory, AuditTarget::Category, id, "", now)?;
        Ok(())
    })
}
