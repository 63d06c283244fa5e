//! One key and its value in a single allocation.
//!
//! An [`Entry`] is a 32-byte header (value, access stamp, flags) followed by a
//! tail holding, in order: the absolute expiry time (8 bytes, only for keys that
//! ever had a TTL), the key length (4 bytes, only for keys of 65,535 bytes or
//! more; shorter lengths sit in the header) and the key bytes. A 16-byte key
//! without a TTL takes a 48-byte allocation, where a fixed layout with an
//! inline key buffer and an expiry field took 64, and long keys need no
//! second allocation.
//!
//! [`EntryBox`] owns an entry through a thin pointer (8 bytes in a hash table
//! bucket). `Entry` is a dynamically sized type whose slice tail has the tail's
//! exact length, so `&Entry` covers the whole allocation: reading the key through
//! a reference never leaves the borrowed memory.
//!
//! Giving a key without a TTL slot a TTL needs a bigger allocation, so only the
//! owner of the [`EntryBox`] (the database) can do it; a key whose TTL is removed
//! keeps its slot, holding [`NO_EXPIRE`].

use crate::value::Value;
use std::alloc::{self, Layout};
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

/// `expire_at` of a key without a TTL. Every other value is a real time: Redis
/// accepts expiry times up to i64::MAX ms, and times in the past delete the key
/// instead of being stored, so the minimum is free to mean "none".
pub const NO_EXPIRE: i64 = i64::MIN;

/// Entry flag: a string Redis would report as `raw` (edited in place).
pub const FLAG_RAW: u8 = 1;
/// Entry flag: an integer Redis holds in an object of its own rather than a
/// shared one (COPY duplicates the object), so OBJECT REFCOUNT reads 1.
/// Cleared, like [`FLAG_RAW`], whenever the value is replaced.
pub const FLAG_UNSHARED: u8 = 2;

/// `layout` bit: the tail starts with an 8-byte expiry time.
const HAS_EXPIRE_SLOT: u8 = 1;
/// `short_len` value meaning "the key length is a u32 in the tail".
const LONG_KEY: u16 = u16::MAX;

const HEADER: usize = 32;

/// A key and its value. Always behind an [`EntryBox`] (or a reference to one).
#[repr(C)]
pub struct Entry {
    pub value: Value,
    /// Last access time in seconds (LRU clock), or the LFU counter and time.
    pub lru: u32,
    /// [`FLAG_RAW`], [`FLAG_UNSHARED`] and future per-key bits.
    pub flags: u8,
    /// Which optional parts the tail has ([`HAS_EXPIRE_SLOT`]).
    layout: u8,
    /// The key length, or [`LONG_KEY`].
    short_len: u16,
    /// `[expiry i64][key length u32][key]`, the first two only when present.
    tail: [u8],
}

impl Entry {
    #[inline]
    fn key_offset(&self) -> usize {
        let mut off = 0;
        if self.layout & HAS_EXPIRE_SLOT != 0 {
            off += 8;
        }
        if self.short_len == LONG_KEY {
            off += 4;
        }
        off
    }

    #[inline]
    pub fn key(&self) -> &[u8] {
        &self.tail[self.key_offset()..]
    }

    /// Absolute expiry in Unix milliseconds, or [`NO_EXPIRE`].
    #[inline]
    pub fn expire_at(&self) -> i64 {
        if self.layout & HAS_EXPIRE_SLOT == 0 {
            return NO_EXPIRE;
        }
        i64::from_ne_bytes(self.tail[..8].try_into().expect("8 bytes"))
    }

    #[inline]
    pub fn has_expire(&self) -> bool {
        self.expire_at() != NO_EXPIRE
    }

    #[inline]
    pub(crate) fn is_expired(&self, now_ms: i64) -> bool {
        let at = self.expire_at();
        at != NO_EXPIRE && at <= now_ms
    }

    /// Stores a TTL in place; false if this entry has no slot for one.
    #[inline]
    pub(crate) fn try_set_expire(&mut self, at_ms: i64) -> bool {
        if self.layout & HAS_EXPIRE_SLOT == 0 {
            return at_ms == NO_EXPIRE;
        }
        self.tail[..8].copy_from_slice(&at_ms.to_ne_bytes());
        true
    }

    /// Bytes of the allocation.
    pub fn alloc_size(&self) -> usize {
        layout_for(self.tail.len()).size()
    }

    /// Approximate bytes used by this entry, for MEMORY USAGE: the allocation,
    /// its table bucket and the value's heap.
    pub fn memory_usage(&self) -> usize {
        self.alloc_size() + 8 + self.value.heap_size()
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("key", &String::from_utf8_lossy(self.key()))
            .field("value", &self.value)
            .field("expire_at", &self.expire_at())
            .field("lru", &self.lru)
            .field("flags", &self.flags)
            .finish()
    }
}

/// The allocation for a tail of `tail_len` bytes, padded to the header's
/// alignment: that is the size `&Entry` claims, so it must all be allocated.
fn layout_for(tail_len: usize) -> Layout {
    Layout::from_size_align(HEADER + tail_len, 8)
        .expect("entry size fits isize")
        .pad_to_align()
}

/// Owns one [`Entry`] allocation through a thin pointer.
pub struct EntryBox {
    /// Start of the allocation (the header).
    ptr: NonNull<u8>,
}

// SAFETY: an EntryBox owns its allocation exclusively, like a Box; the entry
// holds a `Value`, which is Send and Sync.
unsafe impl Send for EntryBox {}
unsafe impl Sync for EntryBox {}

impl EntryBox {
    /// A new entry; `expire_at` other than [`NO_EXPIRE`] gets a TTL slot.
    pub fn new(key: &[u8], value: Value, expire_at: i64, lru: u32) -> EntryBox {
        let with_slot = expire_at != NO_EXPIRE;
        let long = key.len() >= LONG_KEY as usize;
        let tail_len = if with_slot { 8 } else { 0 } + if long { 4 } else { 0 } + key.len();
        let layout = layout_for(tail_len);
        // SAFETY: the layout is non-zero sized (at least the header).
        let raw = unsafe { alloc::alloc(layout) };
        let Some(ptr) = NonNull::new(raw) else {
            alloc::handle_alloc_error(layout)
        };
        // SAFETY: `raw` is a fresh allocation of HEADER + tail_len bytes (or
        // more), aligned to 8. The header fields are written at their repr(C)
        // offsets (value at 0, lru at 24, flags 28, layout 29, short_len 30)
        // before any reference to the entry exists; the tail is plain bytes.
        unsafe {
            raw.cast::<Value>().write(value);
            raw.add(24).cast::<u32>().write(lru);
            raw.add(28).write(0);
            raw.add(29).write(if with_slot { HAS_EXPIRE_SLOT } else { 0 });
            let short = if long { LONG_KEY } else { key.len() as u16 };
            raw.add(30).cast::<u16>().write(short);
            let mut t = raw.add(HEADER);
            if with_slot {
                std::ptr::copy_nonoverlapping(expire_at.to_ne_bytes().as_ptr(), t, 8);
                t = t.add(8);
            }
            if long {
                let n = u32::try_from(key.len()).expect("keys are at most 512 MB");
                std::ptr::copy_nonoverlapping(n.to_ne_bytes().as_ptr(), t, 4);
                t = t.add(4);
            }
            std::ptr::copy_nonoverlapping(key.as_ptr(), t, key.len());
        }
        EntryBox { ptr }
    }

    /// The tail length, read from the header through the raw pointer.
    #[inline]
    fn tail_len(&self) -> usize {
        // SAFETY: the header was fully written by `new`; these reads are of
        // initialised bytes at their repr(C) offsets.
        unsafe {
            let raw = self.ptr.as_ptr();
            let layout = *raw.add(29);
            let short = raw.add(30).cast::<u16>().read();
            let slot = if layout & HAS_EXPIRE_SLOT != 0 { 8 } else { 0 };
            if short == LONG_KEY {
                let mut n = [0u8; 4];
                std::ptr::copy_nonoverlapping(raw.add(HEADER + slot), n.as_mut_ptr(), 4);
                slot + 4 + u32::from_ne_bytes(n) as usize
            } else {
                slot + short as usize
            }
        }
    }

    #[inline]
    fn fat(&self) -> *mut Entry {
        std::ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), self.tail_len()) as *mut Entry
    }

    /// Gives the entry a TTL slot (moving it to a larger allocation) and sets it.
    pub(crate) fn set_expire(&mut self, at_ms: i64) {
        if self.try_set_expire(at_ms) {
            return;
        }
        let old_tail = self.tail_len();
        let new_tail = old_tail + 8;
        let new_layout = layout_for(new_tail);
        // SAFETY: the new allocation gets the old header unchanged except for
        // the layout bit, then the 8-byte slot, then the old tail (length word
        // and key). The old allocation is freed without dropping its value,
        // which now lives in the new one: ownership moves, nothing is dropped
        // twice.
        unsafe {
            let raw = alloc::alloc(new_layout);
            if raw.is_null() {
                alloc::handle_alloc_error(new_layout)
            }
            let old = self.ptr.as_ptr();
            std::ptr::copy_nonoverlapping(old, raw, HEADER);
            *raw.add(29) |= HAS_EXPIRE_SLOT;
            std::ptr::copy_nonoverlapping(at_ms.to_ne_bytes().as_ptr(), raw.add(HEADER), 8);
            std::ptr::copy_nonoverlapping(old.add(HEADER), raw.add(HEADER + 8), old_tail);
            alloc::dealloc(old, layout_for(old_tail));
            self.ptr = NonNull::new_unchecked(raw);
        }
    }

    /// Takes the value out, freeing the rest.
    pub fn into_value(self) -> Value {
        let this = std::mem::ManuallyDrop::new(self);
        let layout = layout_for(this.tail_len());
        // SAFETY: the value is read out once and the allocation freed without
        // running Drop (ManuallyDrop), so the value is neither dropped nor
        // used here again.
        unsafe {
            let value = this.ptr.as_ptr().cast::<Value>().read();
            alloc::dealloc(this.ptr.as_ptr(), layout);
            value
        }
    }
}

impl Deref for EntryBox {
    type Target = Entry;
    #[inline]
    fn deref(&self) -> &Entry {
        // SAFETY: `fat` points to a live, initialised allocation of exactly the
        // size `Entry` with this tail length claims; `&self` guarantees no
        // mutable alias.
        unsafe { &*self.fat() }
    }
}

impl DerefMut for EntryBox {
    #[inline]
    fn deref_mut(&mut self) -> &mut Entry {
        // SAFETY: as in `deref`, and `&mut self` makes the access exclusive.
        unsafe { &mut *self.fat() }
    }
}

impl Drop for EntryBox {
    fn drop(&mut self) {
        let layout = layout_for(self.tail_len());
        // SAFETY: the value was initialised in `new` and is dropped once, here;
        // the allocation was made with this layout.
        unsafe {
            std::ptr::drop_in_place(self.ptr.as_ptr().cast::<Value>());
            alloc::dealloc(self.ptr.as_ptr(), layout);
        }
    }
}

impl std::fmt::Debug for EntryBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_offsets_match_the_raw_writes() {
        let e = EntryBox::new(b"k", Value::Int(7), NO_EXPIRE, 9);
        let base = e.ptr.as_ptr() as usize;
        assert_eq!(&e.value as *const Value as usize - base, 0);
        assert_eq!(&e.lru as *const u32 as usize - base, 24);
        assert_eq!(&e.flags as *const u8 as usize - base, 28);
        assert_eq!(&e.layout as *const u8 as usize - base, 29);
        assert_eq!(&e.short_len as *const u16 as usize - base, 30);
        assert_eq!(e.tail.as_ptr() as usize - base, HEADER);
        assert_eq!(std::mem::size_of::<EntryBox>(), 8);
        assert_eq!(std::mem::size_of::<Option<EntryBox>>(), 8);
    }

    #[test]
    fn short_key_without_ttl_is_48_bytes() {
        let e = EntryBox::new(b"key:000000000001", Value::from_bytes(b"v"), NO_EXPIRE, 1);
        assert_eq!(e.key(), b"key:000000000001");
        assert_eq!(e.alloc_size(), 48);
        assert_eq!(e.expire_at(), NO_EXPIRE);
        assert!(!e.has_expire());
        assert_eq!(e.lru, 1);
        assert_eq!(e.flags, 0);
    }

    #[test]
    fn ttl_slot_is_added_kept_and_cleared() {
        let mut e = EntryBox::new(b"abc", Value::from_bytes(b"hello"), NO_EXPIRE, 3);
        e.flags = FLAG_RAW;
        assert!(e.try_set_expire(NO_EXPIRE));
        assert!(!e.try_set_expire(100));
        e.set_expire(100);
        assert_eq!(e.expire_at(), 100);
        assert!(e.is_expired(100) && !e.is_expired(99));
        assert_eq!((e.key(), e.lru, e.flags), (&b"abc"[..], 3, FLAG_RAW));
        assert_eq!(e.value, Value::from_bytes(b"hello"));
        e.set_expire(NO_EXPIRE);
        assert!(!e.has_expire());
        e.set_expire(i64::MAX);
        assert_eq!(e.expire_at(), i64::MAX);
        let with = EntryBox::new(b"abc", Value::Int(1), 5, 0);
        assert_eq!((with.key(), with.expire_at()), (&b"abc"[..], 5));
    }

    #[test]
    fn long_and_empty_keys() {
        for len in [0usize, 1, 65_534, 65_535, 65_536, 200_000] {
            let key: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut e = EntryBox::new(&key, Value::from_bytes(&key[..len.min(100)]), NO_EXPIRE, 0);
            assert_eq!(e.key(), &key[..]);
            e.set_expire(42);
            assert_eq!(e.key(), &key[..]);
            assert_eq!(e.expire_at(), 42);
            let v = e.into_value();
            assert_eq!(v, Value::from_bytes(&key[..len.min(100)]));
        }
    }

    #[test]
    fn values_are_dropped_once() {
        // Heap values: a double free or a leak would show under the allocator's
        // checks (and Miri).
        let big = vec![1u8; 1000];
        let mut e = EntryBox::new(b"k", Value::from_bytes(&big), NO_EXPIRE, 0);
        e.value = Value::from_bytes(&big[..500]);
        e.set_expire(1);
        drop(e);
        let e = EntryBox::new(b"k", Value::from_bytes(&big), 7, 0);
        assert_eq!(e.into_value(), Value::from_bytes(&big));
    }
}
