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

/// Asks Linux not to back this process's memory with transparent huge pages. mimalloc
/// commits its arena up front, and where the kernel hands out 2 MB pages (THP on
/// `madvise`, which mimalloc asks for) a page touched anywhere is resident whole: with
/// them the server stood at 40 MB after start-up and a sign-in instead of 30, and peaked
/// at 71 MB instead of 61-63 under 32 new searches at once (A/B, `bench/run.sh`'s load).
/// Pages were as fast or up to 5% slower without them (members' pages, A/B, within the
/// runs' noise), a price the memory budget (64 MB) sets. Call it first thing: it applies
/// to memory touched after it. Nothing elsewhere than Linux.
pub fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
