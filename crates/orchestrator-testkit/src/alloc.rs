//! A global allocator that counts the allocations of the current thread, to prove a path
//! allocates nothing (`tests/integration/no_alloc.rs`) or to count what it allocates (the middleware
//! bench). Install it in the test or bench binary:
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: orchestrator_testkit::alloc::Counting = orchestrator_testkit::alloc::Counting;
//!
//! let before = orchestrator_testkit::alloc::allocations();
//! // ... the path under test ...
//! assert_eq!(orchestrator_testkit::alloc::allocations() - before, 0);
//! ```
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting each allocation in a thread-local counter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: delegates every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// How many allocations this thread has made so far (with [`Counting`] installed).
pub fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}
