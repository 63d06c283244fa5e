//! [`ThinBuf`]: the single allocation behind the small collection encodings
//! (hash and set listpacks, intsets, sorted-set listpacks).
//!
//! A `ThinBuf` is 16 bytes: a pointer to exactly `len` heap bytes, the length
//! as a `u32`, and one spare `u32` (`aux`) its owner uses for an entry count or
//! an integer width. There is no capacity: every size change reallocates to the
//! exact new size, as Redis does with its listpacks (jemalloc resizes in place
//! within a size class, so growing by a few bytes is usually free). Compared to
//! a `Vec<u8>` inside a `Box`ed struct this saves the second allocation and the
//! unused capacity. An empty buffer owns no allocation.
//!
//! Because the pointer is non-null, an enum of a `ThinBuf` and a `Box` is still
//! 16 bytes (the `Box` variant is told apart by a null pointer), which is how
//! `HashValue`, `SetValue` and `ZSetValue` stay small enough to sit inside a
//! 24-byte `Value` without a box of their own.

use std::alloc::{self, Layout};
use std::fmt;
use std::marker::PhantomData;
use std::ptr::NonNull;

/// An exactly sized, growable byte buffer with a spare `u32`; see the module doc.
pub struct ThinBuf {
    /// Points to `len` initialized bytes allocated with `Layout::array::<u8>(len)`
    /// when `len > 0`; dangling (and owning nothing) when `len == 0`.
    ptr: NonNull<u8>,
    len: u32,
    aux: u32,
    /// Owns the bytes, like a `Box<[u8]>` (for auto traits and drop check).
    _owns: PhantomData<Box<[u8]>>,
}

// SAFETY: a ThinBuf uniquely owns its heap bytes (nothing else points to them),
// exactly like a `Box<[u8]>`, which is Send and Sync; `&ThinBuf` only gives
// out shared slices and every mutation needs `&mut ThinBuf`.
unsafe impl Send for ThinBuf {}
// SAFETY: see above.
unsafe impl Sync for ThinBuf {}

#[inline]
fn layout(n: usize) -> Layout {
    Layout::array::<u8>(n).expect("buffer size fits isize")
}

impl ThinBuf {
    /// An empty buffer (no allocation) with `aux == 0`.
    #[inline]
    pub const fn new() -> Self {
        ThinBuf {
            ptr: NonNull::dangling(),
            len: 0,
            aux: 0,
            _owns: PhantomData,
        }
    }

    /// A buffer holding a copy of `b`.
    pub fn from_slice(b: &[u8], aux: u32) -> Self {
        let mut t = ThinBuf::new();
        t.aux = aux;
        t.splice(0, 0, b);
        t
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The spare `u32` (kept inline, not on the heap).
    #[inline]
    pub fn aux(&self) -> u32 {
        self.aux
    }

    #[inline]
    pub fn set_aux(&mut self, v: u32) {
        self.aux = v;
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` points to `len` initialized bytes owned by `self` (or is
        // dangling with len 0, which is valid for an empty slice); the borrow
        // of `self` keeps them alive and unmodified.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len()) }
    }

    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`; `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len()) }
    }

    /// Reallocates to exactly `new` bytes, keeping the first `min(len, new)`
    /// bytes; added bytes are zeroed.
    fn resize(&mut self, new: usize) {
        let old = self.len();
        if new == old {
            return;
        }
        let new32 = u32::try_from(new).expect("compact encoding under 4 GiB");
        let ptr = if new == 0 {
            // SAFETY: old > 0, so `ptr` was allocated with `layout(old)`.
            unsafe { alloc::dealloc(self.ptr.as_ptr(), layout(old)) };
            NonNull::dangling()
        } else {
            // Checks that `new` fits isize, as `realloc` requires.
            let new_layout = layout(new);
            let raw = if old == 0 {
                // SAFETY: `new_layout` has a non-zero size.
                unsafe { alloc::alloc(new_layout) }
            } else {
                // SAFETY: `ptr` was allocated by the global allocator with
                // `layout(old)` (old > 0); `new` is non-zero and fits isize.
                unsafe { alloc::realloc(self.ptr.as_ptr(), layout(old), new) }
            };
            let Some(p) = NonNull::new(raw) else {
                alloc::handle_alloc_error(new_layout)
            };
            if new > old {
                // SAFETY: the block is `new` bytes long; zero the `new - old`
                // bytes past the kept ones so every byte is initialized.
                unsafe { std::ptr::write_bytes(p.as_ptr().add(old), 0, new - old) };
            }
            p
        };
        self.ptr = ptr;
        self.len = new32;
    }

    /// Replaces bytes `start..end` with `with` (insert: `start == end`;
    /// delete: empty `with`), reallocating to the exact new size.
    pub fn splice(&mut self, start: usize, end: usize, with: &[u8]) {
        self.splice_parts(start, end, &[with]);
    }

    /// Replaces bytes `start..end` with the concatenation of `parts` (so an
    /// entry's header and body need no temporary buffer).
    pub fn splice_parts(&mut self, start: usize, end: usize, parts: &[&[u8]]) {
        let old = self.len();
        assert!(start <= end && end <= old, "splice range out of bounds");
        let add: usize = parts.iter().map(|p| p.len()).sum();
        let new = old - (end - start) + add;
        let at = start + add;
        if new > old {
            self.resize(new);
        }
        let b = self.as_mut_slice();
        b.copy_within(end..old, at);
        let mut w = start;
        for p in parts {
            b[w..w + p.len()].copy_from_slice(p);
            w += p.len();
        }
        if new < old {
            self.resize(new);
        }
    }

    /// Heap bytes owned.
    #[inline]
    pub fn heap_size(&self) -> usize {
        self.len()
    }
}

impl Drop for ThinBuf {
    fn drop(&mut self) {
        self.resize(0);
    }
}

impl Default for ThinBuf {
    fn default() -> Self {
        ThinBuf::new()
    }
}

impl Clone for ThinBuf {
    fn clone(&self) -> Self {
        ThinBuf::from_slice(self.as_slice(), self.aux)
    }
}

impl PartialEq for ThinBuf {
    fn eq(&self, other: &Self) -> bool {
        self.aux == other.aux && self.as_slice() == other.as_slice()
    }
}

impl fmt::Debug for ThinBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThinBuf")
            .field("aux", &self.aux)
            .field("bytes", &self.as_slice())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(std::mem::size_of::<ThinBuf>(), 16);
        enum E {
            _A(ThinBuf),
            _B(Box<u64>),
        }
        assert_eq!(std::mem::size_of::<E>(), 16);
    }

    #[test]
    fn empty() {
        let mut t = ThinBuf::new();
        assert!(t.is_empty());
        assert_eq!(t.as_slice(), b"");
        assert_eq!(t.as_mut_slice(), b"");
        t.splice(0, 0, b"");
        assert!(t.is_empty());
        let c = t.clone();
        assert!(c.is_empty());
        assert_eq!(c, t);
        assert_eq!(t.heap_size(), 0);
    }

    #[test]
    fn grow_shrink_splice() {
        let mut t = ThinBuf::from_slice(b"hello", 7);
        assert_eq!(t.aux(), 7);
        t.splice(5, 5, b" world");
        assert_eq!(t.as_slice(), b"hello world");
        t.splice(0, 5, b"HI");
        assert_eq!(t.as_slice(), b"HI world");
        t.splice(2, 2, b", big");
        assert_eq!(t.as_slice(), b"HI, big world");
        t.splice(3, 7, b"");
        assert_eq!(t.as_slice(), b"HI, world");
        t.splice(0, 2, b"ho");
        assert_eq!(t.as_slice(), b"ho, world");
        t.splice_parts(2, 4, &[b"", b"!", b"", b"? "]);
        assert_eq!(t.as_slice(), b"ho!? world");
        t.splice_parts(2, 4, &[b"", b","]);
        assert_eq!(t.as_slice(), b"ho, world");
        t.as_mut_slice()[0] = b'H';
        assert_eq!(t.heap_size(), 9);
        let c = t.clone();
        t.splice(0, t.len(), b"");
        assert!(t.is_empty());
        assert_eq!(c.as_slice(), b"Ho, world");
        assert_eq!(c.aux(), 7);
        assert_ne!(c, t);
        t.set_aux(9);
        assert_eq!(t.aux(), 9);
        t.splice(0, 0, &[1u8; 5000]);
        assert_eq!(t.len(), 5000);
        for i in 0..5000 {
            let n = t.len();
            t.splice(n / 2, n / 2 + 1, &[]);
            if i % 2 == 0 {
                t.splice(0, 0, &[2, 3]);
            }
        }
        assert_eq!(t.len(), 5000);
        drop(c);
    }

    #[test]
    #[should_panic]
    fn splice_out_of_range_panics() {
        let mut t = ThinBuf::from_slice(b"ab", 0);
        t.splice(1, 3, b"");
    }
}
