//! A post's Markdown becomes HTML when it is posted, edited or previewed: whom it
//! mentions and quotes is looked up in the database, then the render runs with no
//! connection held, off the async workers and a few at a time (`CpuSlots`), so a flood
//! of the costliest posts queues instead of taking the pool or every core.

use std::sync::OnceLock;

use crate::forum::mentions::{self, Resolved};
use crate::text::markdown;
use crate::web::cpu_slots::CpuSlots;
use crate::web::errors::AppError;
use crate::AppState;

fn slots() -> &'static CpuSlots {
    static SLOTS: OnceLock<CpuSlots> = OnceLock::new();
    SLOTS.get_or_init(|| CpuSlots::per_core("The forum is very busy showing posts. Please try again in a few seconds."))
}

/// `markdown` by `author` as HTML, with whom it mentions and quotes; a shape whose cost
/// is out of proportion is refused (400, with the renderer's reason).
pub async fn render(state: &AppState, markdown: String, author: i64) -> Result<(String, Resolved), AppError> {
    let text = markdown.clone();
    let resolved = state.db.run(move |c| mentions::resolve(c, &text, author).map_err(AppError::from)).await?;
    let (html, resolved) = slots()
        .run(move || {
            let html = markdown::render_post(&markdown, &resolved.references);
            (html, resolved)
        })
        .await?;
    let html = html.map_err(|refused| AppError::BadRequest(refused.to_string()))?;
    Ok((html, resolved))
}
