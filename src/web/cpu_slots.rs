//! Work that keeps a core busy (password hashing, rendering a post) runs on the blocking
//! pool, at most one piece per core of each kind at once. The rest wait a few seconds
//! for a slot and are then told the forum is busy: a flood of such requests queues
//! instead of starving every page of CPU and memory.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::web::errors::AppError;

/// How long a request waits for a free slot before it is told to come back later.
const SLOT_WAIT: Duration = Duration::from_secs(3);

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
}

/// Slots for one kind of work.
pub struct CpuSlots {
    permits: Arc<Semaphore>,
    wait: Duration,
    /// What a request that found no slot is told ("The forum is very busy …").
    busy: &'static str,
}

impl CpuSlots {
    pub fn per_core(busy: &'static str) -> Self {
        Self::with_permits(cores(), busy)
    }

    /// One per core but one (at least one): work that may come in floods leaves a core
    /// for every other page.
    pub fn leaving_a_core(busy: &'static str) -> Self {
        Self::with_permits(cores().saturating_sub(1).max(1), busy)
    }

    fn with_permits(permits: usize, busy: &'static str) -> Self {
        CpuSlots { permits: Arc::new(Semaphore::new(permits)), wait: SLOT_WAIT, busy }
    }

    /// Runs `work` on the blocking pool once a slot is free (the "busy" page after
    /// `SLOT_WAIT`). The permit travels with the work: if the client goes away and the
    /// request is dropped, the work still finishes before the slot is free again.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let permit = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| AppError::Busy(self.busy.into()))?
            .map_err(|_| AppError::Internal(anyhow::anyhow!("slots closed")))?;
        actix_web::web::block(move || {
            let result = work();
            crate::web::memory::give_back_thread_cache();
            drop(permit);
            result
        })
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("worker failed: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn work_waits_for_a_free_slot_then_gets_a_busy_page() {
        use actix_web::ResponseError;
        let slots = CpuSlots { permits: Arc::new(Semaphore::new(1)), wait: Duration::from_millis(50), busy: "Busy." };
        assert_eq!(slots.run(|| 6 * 7).await.unwrap(), 42);
        let _taken = slots.permits.clone().acquire_owned().await.unwrap();
        let shed = slots.run(|| 0).await.unwrap_err();
        assert_eq!(shed.status_code(), actix_web::http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(shed.error_response().headers().get("retry-after").unwrap(), "5");
    }
}
