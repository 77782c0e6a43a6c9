//! Memory the allocator keeps for reuse, given back where it piles up.
//!
//! The server allocates with mimalloc (see `main.rs`), which keeps freed pages in the
//! heap of the thread that freed them. A search ranks a thousand posts' text on a thread
//! of the blocking pool, a different one each time; every such thread kept what its
//! search had used, and 32 concurrent searches left the server at 150-175 MB resident
//! (measured with `bench/run.sh`; 57 MB with glibc's allocator, which was slower on
//! every other page). Collecting the thread's heap after each search keeps the memory
//! a search needs while it runs and nothing after.

/// Returns this thread's free mimalloc pages to the system. Costs microseconds; harmless
/// where mimalloc is not the allocator (the tests), whose heap is then empty.
pub fn give_back_thread_cache() {
    // SAFETY: mi_collect takes no pointers and may be called from any thread at any time.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
