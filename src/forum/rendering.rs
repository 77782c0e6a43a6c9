//! A post's Markdown becomes HTML when it is posted, edited or previewed: whom it
//! mentions and quotes is looked up in the database, then the render runs with no
//! connection held, off the async workers and one at a time per core but one
//! (`CpuSlots`), so a flood of the costliest posts queues instead of taking the pool or
//! every core.

use std::sync::OnceLock;

use crate::forum::mentions::{self, Refs, Resolved};
use crate::text::markdown;
use crate::web::cpu_slots::CpuSlots;
use crate::web::errors::AppError;
use crate::AppState;

fn slots() -> &'static CpuSlots {
    static SLOTS: OnceLock<CpuSlots> = OnceLock::new();
    SLOTS.get_or_init(|| {
        CpuSlots::leaving_a_core("The forum is very busy showing posts. Please try again in a few seconds.")
    })
}

/// `markdown` by `author` as HTML, with whom it mentions and quotes; a shape whose cost
/// is out of proportion is refused (400, with the renderer's reason).
pub async fn render(state: &AppState, markdown: String, author: i64) -> Result<(String, Resolved), AppError> {
    // The shape first: looking up names parses the whole text, and a shape refused here
    // (262,144 padded table cells, say) must cost no more than its refusal.
    // The names and quotes it refers to are read there too: every parse of the text is
    // bounded, and the database sees only the lookup.
    let text = markdown.clone();
    let refs = slots().run(move || markdown::check_post(&text).map(|()| Refs::of(&text))).await?.map_err(refused)?;
    let resolved = state.db.run(move |c| mentions::resolve_refs(c, &refs, author).map_err(AppError::from)).await?;
    let (html, resolved) = slots()
        .run(move || {
            let html = markdown::render_post(&markdown, &resolved.references);
            (html, resolved)
        })
        .await?;
    Ok((html.map_err(refused)?, resolved))
}

fn refused(error: markdown::RenderError) -> AppError {
    AppError::BadRequest(error.to_string())
}
