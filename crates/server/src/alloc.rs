//! The global allocator: jemalloc, asked for alignment explicitly.
//!
//! jemalloc is built with an 8-byte quantum (`.cargo/config.toml`), as Redis
//! builds it, for finer small size classes. Then a plain `malloc` guarantees
//! only 8-byte alignment for sizes that are not multiples of 16, where
//! `tikv_jemallocator::Jemalloc` assumes 16 (C's `max_align_t`): this wrapper
//! passes `MALLOCX_ALIGN` for every alignment above 8, so it is correct with
//! either quantum.

use std::alloc::{GlobalAlloc, Layout};
use std::os::raw::{c_int, c_void};
use tikv_jemalloc_sys as ffi;

/// Alignment every jemalloc allocation has without flags.
const MIN_ALIGN: usize = 8;

pub struct Allocator;

#[inline]
fn flags(align: usize) -> c_int {
    if align <= MIN_ALIGN {
        0
    } else {
        ffi::MALLOCX_ALIGN(align)
    }
}

// SAFETY: every method forwards to jemalloc with the layout's size and, when
// the alignment exceeds what jemalloc always gives, the alignment flag; the
// same flags are passed on free and reallocation, as sdallocx/rallocx require.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let f = flags(layout.align());
        let p = if f == 0 {
            ffi::malloc(layout.size())
        } else {
            ffi::mallocx(layout.size(), f)
        };
        p.cast()
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let f = flags(layout.align());
        let p = if f == 0 {
            ffi::calloc(1, layout.size())
        } else {
            ffi::mallocx(layout.size(), f | ffi::MALLOCX_ZERO)
        };
        p.cast()
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ffi::sdallocx(ptr.cast::<c_void>(), layout.size(), flags(layout.align()))
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let f = flags(layout.align());
        let p = if f == 0 {
            ffi::realloc(ptr.cast::<c_void>(), new_size)
        } else {
            ffi::rallocx(ptr.cast::<c_void>(), new_size, f)
        };
        p.cast()
    }
}
