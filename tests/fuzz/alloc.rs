//! A counting global allocator: live and peak bytes of the whole process, and an optional cap.
//!
//! The cap is only ever armed inside a child process (a forked proptest case or an isolated
//! test): an allocation that would take the live total past it fails, so the child aborts with
//! "memory allocation of N bytes failed" instead of eating the machine, and its parent reports
//! the case.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Bytes currently allocated.
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// Most bytes allocated at once.
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// Most bytes allowed at once (no cap by default).
static CAP: AtomicUsize = AtomicUsize::new(usize::MAX);

/// The system allocator with byte accounting.
pub struct Counting;

/// Account for `n` more bytes, unless that passes the cap.
fn reserve(n: usize) -> bool {
    let now = LIVE.fetch_add(n, Ordering::Relaxed).saturating_add(n);
    if now > CAP.load(Ordering::Relaxed) {
        LIVE.fetch_sub(n, Ordering::Relaxed);
        return false;
    }
    PEAK.fetch_max(now, Ordering::Relaxed);
    true
}

fn release(n: usize) {
    LIVE.fetch_sub(n, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to `System` with the same layout; the counters never unwind.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !reserve(layout.size()) {
            return std::ptr::null_mut();
        }
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            release(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !reserve(layout.size()) {
            return std::ptr::null_mut();
        }
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            release(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        release(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = layout.size();
        if new_size > old && !reserve(new_size - old) {
            return std::ptr::null_mut();
        }
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            if new_size > old {
                release(new_size - old);
            }
        } else if new_size < old {
            release(old - new_size);
        }
        p
    }
}

/// Fail every allocation that would take the process past `bytes` live (children only).
pub fn arm_cap(bytes: usize) {
    CAP.store(bytes, Ordering::Relaxed);
}

/// Most bytes the process has had allocated at once.
pub fn peak_bytes() -> usize {
    PEAK.load(Ordering::Relaxed)
}
