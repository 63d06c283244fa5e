//! Hash values, plus the two building blocks hashes and sets share.
//!
//! - [`Listpack`]: one contiguous byte buffer of length-prefixed entries (a LEB128
//!   length, then the bytes). Small hashes keep `field, value, field, value...`
//!   in insertion order; small non-integer sets keep their members.
//! - [`SegTable`]: the large form. A power-of-two number of small `hashbrown`
//!   tables ("segments"); an element lives in segment `(hash >> 32) & mask`.
//!   HSCAN/SSCAN walk segments with Redis's reverse-binary cursor, so an element
//!   present during a whole scan is returned at least once even when the
//!   segment count doubles or halves between calls.
//!
//! A [`HashValue`] is `listpack` while it has at most `hash-max-listpack-entries`
//! fields and every field and value written is at most `hash-max-listpack-value`
//! bytes, and `hashtable` after that (never back), exactly when Redis 7.0 converts.
//! The thresholds are passed in ([`HashLimits`]); this crate does not read config.
//!
//! Field expiry (Redis 7.4's HEXPIRE family): a hash whose fields have TTLs
//! carries a side table ([`FieldTtls`], boxed) mapping those fields to absolute
//! Unix ms and ordering them by time, with the earliest time cached. A hash
//! without field TTLs pays one null pointer, and "is anything due" is one
//! comparison. The table is dropped when its last TTL goes. Overwriting a
//! field's value with [`HashValue::insert`] (HSET) drops the field's TTL,
//! [`HashValue::insert_keep_ttl`] (HINCRBY, HINCRBYFLOAT) keeps it, removing a
//! field drops it. Expired fields stay stored until [`HashValue::purge_expired`]
//! removes them: the server calls it whenever a hash is looked up and from its
//! expiry cron, so commands never see them.

use crate::bytes::SmallBytes;
use crate::thinbuf::ThinBuf;
use crate::varint;
use hashbrown::HashTable;
use shoal_util::rand::FastRng;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::BuildHasher;
use std::sync::OnceLock;

// ---------------------------------------------------------------------------
// Listpack
// ---------------------------------------------------------------------------

/// Entries packed in one buffer: `[LEB128 len][bytes]` each. One exactly
/// sized allocation ([`ThinBuf`]); the entry count is kept in its `aux`.
#[derive(Clone, Debug, Default, PartialEq)]
#[repr(transparent)]
pub struct Listpack {
    buf: ThinBuf,
}

fn varint_len(n: usize) -> usize {
    varint::varint_len(n as u64)
}

fn put_varint(out: &mut Vec<u8>, n: usize) {
    varint::put_varint(out, n as u64)
}

impl Listpack {
    /// The buffer (its `aux` is the entry count).
    pub(crate) fn into_buf(self) -> ThinBuf {
        self.buf
    }

    /// Views a buffer holding a listpack as one.
    pub(crate) fn view(buf: &ThinBuf) -> &Listpack {
        // SAFETY: `Listpack` is a `repr(transparent)` wrapper of `ThinBuf`, so
        // both have the same layout and validity, and the returned reference
        // borrows `buf` for its whole lifetime.
        unsafe { &*(buf as *const ThinBuf as *const Listpack) }
    }

    /// Views a buffer holding a listpack as one, mutably.
    pub(crate) fn view_mut(buf: &mut ThinBuf) -> &mut Listpack {
        // SAFETY: as in `view`; the exclusive borrow of `buf` is handed on.
        unsafe { &mut *(buf as *mut ThinBuf as *mut Listpack) }
    }

    /// Number of entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.buf.aux() as usize
    }

    pub fn is_empty(&self) -> bool {
        self.buf.aux() == 0
    }

    /// Bytes used by the entries.
    #[inline]
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    /// The entry starting at byte `off` and the offset of the next one.
    #[inline]
    pub fn entry_at(&self, off: usize) -> (&[u8], usize) {
        let buf = self.buf.as_slice();
        let mut n = 0usize;
        let mut shift = 0;
        let mut i = off;
        loop {
            let b = buf[i];
            i += 1;
            n |= ((b & 0x7f) as usize) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        (&buf[i..i + n], i + n)
    }

    /// Iterates `(offset, entry)`.
    pub fn iter(&self) -> LpIter<'_> {
        LpIter { lp: self, off: 0 }
    }

    /// Appends one entry. The buffer grows to the exact size, as Redis's
    /// listpacks do: doubling would leave up to half of every small
    /// collection unused.
    pub fn push(&mut self, b: &[u8]) {
        let (h, n) = varint::varint_bytes(b.len() as u64);
        let end = self.buf.len();
        self.buf.splice_parts(end, end, &[&h[..n], b]);
        self.buf.set_aux(self.buf.aux() + 1);
    }

    /// Appends two entries with one reallocation (a hash field and its value).
    pub fn push2(&mut self, a: &[u8], b: &[u8]) {
        let (ha, na) = varint::varint_bytes(a.len() as u64);
        let (hb, nb) = varint::varint_bytes(b.len() as u64);
        let end = self.buf.len();
        self.buf.splice_parts(end, end, &[&ha[..na], a, &hb[..nb], b]);
        self.buf.set_aux(self.buf.aux() + 2);
    }

    /// Removes `n` entries occupying bytes `start..end`.
    pub fn remove_range(&mut self, start: usize, end: usize, n: usize) {
        self.buf.splice(start, end, &[]);
        self.buf.set_aux(self.buf.aux() - n as u32);
    }

    /// Replaces the entry at `off` with `b`.
    pub fn replace(&mut self, off: usize, b: &[u8]) {
        let (_, end) = self.entry_at(off);
        let (h, n) = varint::varint_bytes(b.len() as u64);
        self.buf.splice_parts(off, end, &[&h[..n], b]);
    }

    /// Heap bytes owned.
    pub fn heap_size(&self) -> usize {
        self.buf.heap_size()
    }
}

pub struct LpIter<'a> {
    lp: &'a Listpack,
    off: usize,
}

impl<'a> Iterator for LpIter<'a> {
    type Item = (usize, &'a [u8]);
    #[inline]
    fn next(&mut self) -> Option<(usize, &'a [u8])> {
        if self.off >= self.lp.bytes() {
            return None;
        }
        let start = self.off;
        let (e, next) = self.lp.entry_at(start);
        self.off = next;
        Some((start, e))
    }
}

// ---------------------------------------------------------------------------
// Segmented hash table
// ---------------------------------------------------------------------------

/// An element of a [`SegTable`]: something with a byte-string key.
pub trait Keyed {
    fn key(&self) -> &[u8];
    /// Heap bytes owned beyond the element itself.
    fn heap(&self) -> usize;
}

impl Keyed for SmallBytes {
    #[inline]
    fn key(&self) -> &[u8] {
        self.as_slice()
    }
    fn heap(&self) -> usize {
        self.heap_size()
    }
}

/// Average elements per segment before the segment count doubles.
const SEG_FILL: usize = 32;

/// The process-wide seeded hasher for collection elements.
#[inline]
pub fn elem_hash(b: &[u8]) -> u64 {
    static STATE: OnceLock<foldhash::fast::RandomState> = OnceLock::new();
    STATE.get_or_init(foldhash::fast::RandomState::default).hash_one(b)
}

#[inline]
fn seg_of(h: u64, mask: usize) -> usize {
    ((h >> 32) as usize) & mask
}

/// A hash table split into a power-of-two number of segments.
#[derive(Clone, Debug)]
pub struct SegTable<T> {
    segs: Vec<HashTable<T>>,
    len: usize,
}

impl<T: Keyed> Default for SegTable<T> {
    fn default() -> Self {
        SegTable {
            segs: vec![HashTable::new()],
            len: 0,
        }
    }
}

impl<T: Keyed + PartialEq> PartialEq for SegTable<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().all(|e| other.get(e.key()).is_some_and(|o| o == e))
    }
}

impl<T: Keyed> SegTable<T> {
    pub fn with_capacity(n: usize) -> Self {
        let segs = (n / SEG_FILL).max(1).next_power_of_two();
        SegTable {
            segs: (0..segs).map(|_| HashTable::with_capacity(n / segs + 1)).collect(),
            len: 0,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn mask(&self) -> usize {
        self.segs.len() - 1
    }

    pub fn get(&self, key: &[u8]) -> Option<&T> {
        let h = elem_hash(key);
        self.segs[seg_of(h, self.mask())].find(h, |e| e.key() == key)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut T> {
        let h = elem_hash(key);
        let m = self.mask();
        self.segs[seg_of(h, m)].find_mut(h, |e| e.key() == key)
    }

    /// Inserts an element whose key is known to be absent.
    pub fn insert_new(&mut self, elem: T) {
        let h = elem_hash(elem.key());
        let m = self.mask();
        self.segs[seg_of(h, m)].insert_unique(h, elem, |e| elem_hash(e.key()));
        self.len += 1;
        if self.len > self.segs.len() * SEG_FILL {
            self.resize(self.segs.len() * 2);
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<T> {
        let h = elem_hash(key);
        let m = self.mask();
        let seg = &mut self.segs[seg_of(h, m)];
        let (e, _) = seg.find_entry(h, |e| e.key() == key).ok()?.remove();
        self.len -= 1;
        let cap = seg.capacity();
        if cap > 16 && seg.len() * 4 < cap {
            seg.shrink_to(seg.len() * 2, |e| elem_hash(e.key()));
        }
        if self.segs.len() > 1 && self.len * 8 < self.segs.len() * SEG_FILL {
            self.resize(self.segs.len() / 2);
        }
        Some(e)
    }

    fn resize(&mut self, n: usize) {
        let old = std::mem::take(&mut self.segs);
        let per = self.len / n + 1;
        self.segs = (0..n).map(|_| HashTable::with_capacity(per)).collect();
        let m = n - 1;
        for seg in old {
            for e in seg {
                let h = elem_hash(e.key());
                self.segs[seg_of(h, m)].insert_unique(h, e, |x| elem_hash(x.key()));
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.segs.iter().flat_map(|s| s.iter())
    }

    /// A random element (segments are picked uniformly among non-empty ones,
    /// then an element uniformly within; close to fair since segments are
    /// balanced). The table must not be empty.
    pub fn random(&self, rng: &mut FastRng) -> &T {
        loop {
            let seg = &self.segs[rng.below_usize(self.segs.len())];
            if !seg.is_empty() {
                let i = rng.below_usize(seg.len());
                return seg.iter().nth(i).expect("index below len");
            }
        }
    }

    /// One SCAN step: visits whole segments starting at `cursor` until at least
    /// `count` elements were passed to `f` or the walk wrapped; returns the next
    /// cursor (0 when done).
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut f: impl FnMut(&'a T)) -> u64 {
        let mask = self.mask() as u64;
        let mut v = cursor;
        let mut seen = 0;
        loop {
            let seg = &self.segs[(v & mask) as usize];
            for e in seg.iter() {
                f(e);
            }
            seen += seg.len();
            // Reverse-binary increment over the masked bits.
            v |= !mask;
            v = v.reverse_bits().wrapping_add(1).reverse_bits();
            if v == 0 || seen >= count {
                return v;
            }
        }
    }

    /// Heap bytes owned, element payloads included.
    pub fn heap_size(&self) -> usize {
        let slot = std::mem::size_of::<T>() + 1;
        self.segs.capacity() * std::mem::size_of::<HashTable<T>>()
            + self
                .segs
                .iter()
                .map(|s| {
                    let buckets = if s.capacity() == 0 {
                        0
                    } else {
                        (s.capacity() * 8 / 7).next_power_of_two()
                    };
                    buckets * slot + s.iter().map(|e| e.heap()).sum::<usize>()
                })
                .sum::<usize>()
    }
}

// ---------------------------------------------------------------------------
// HashValue
// ---------------------------------------------------------------------------

/// Conversion thresholds (from `hash-max-listpack-entries` / `-value`).
#[derive(Clone, Copy, Debug)]
pub struct HashLimits {
    pub max_entries: usize,
    pub max_value: usize,
}

/// A field and its value in the table form, packed into one [`SmallBytes`]
/// (`[LEB128 field length][field][value]`): 24 bytes per table slot, and no
/// allocation at all while field and value together fit in 21 bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct HashEntry {
    data: SmallBytes,
}

impl HashEntry {
    pub fn new(field: &[u8], value: &[u8]) -> Self {
        let mut buf = Vec::with_capacity(varint_len(field.len()) + field.len() + value.len());
        put_varint(&mut buf, field.len());
        buf.extend_from_slice(field);
        buf.extend_from_slice(value);
        HashEntry {
            data: SmallBytes::new(&buf),
        }
    }

    #[inline]
    fn split(&self) -> (&[u8], &[u8]) {
        let d = self.data.as_slice();
        let (mut n, mut shift, mut i) = (0usize, 0, 0);
        loop {
            let b = d[i];
            i += 1;
            n |= ((b & 0x7f) as usize) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        (&d[i..i + n], &d[i + n..])
    }

    #[inline]
    pub fn field(&self) -> &[u8] {
        self.split().0
    }

    #[inline]
    pub fn value(&self) -> &[u8] {
        self.split().1
    }
}

impl Keyed for HashEntry {
    #[inline]
    fn key(&self) -> &[u8] {
        self.field()
    }
    fn heap(&self) -> usize {
        self.data.heap_size()
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Repr {
    /// `field, value, field, value...` in insertion order.
    Listpack(Listpack),
    Table(SegTable<HashEntry>),
}

/// The field TTLs of one hash: absolute Unix ms per field, and the same
/// ordered by time so the due ones come first. Never empty while present.
#[derive(Clone, Debug, Default, PartialEq)]
struct FieldTtls {
    by_field: BTreeMap<Vec<u8>, i64>,
    by_time: BTreeSet<(i64, Vec<u8>)>,
    /// The earliest time in `by_time` (i64::MAX when empty).
    min: i64,
}

impl FieldTtls {
    fn refresh_min(&mut self) {
        self.min = self.by_time.first().map_or(i64::MAX, |(t, _)| *t);
    }

    fn set(&mut self, field: &[u8], at: i64) {
        if let Some(old) = self.by_field.insert(field.to_vec(), at) {
            self.by_time.remove(&(old, field.to_vec()));
        }
        self.by_time.insert((at, field.to_vec()));
        if at < self.min {
            self.min = at;
        } else {
            self.refresh_min();
        }
    }

    fn remove(&mut self, field: &[u8]) -> Option<i64> {
        let at = self.by_field.remove(field)?;
        self.by_time.remove(&(at, field.to_vec()));
        if at <= self.min {
            self.refresh_min();
        }
        Some(at)
    }

    fn heap_size(&self) -> usize {
        std::mem::size_of::<Self>()
            + self
                .by_field
                .keys()
                .map(|f| 2 * (f.capacity() + 24 + 8) + 16)
                .sum::<usize>()
    }
}

/// The boxed form of a hash: the `hashtable` encoding, or any hash with field
/// TTLs (`listpackex` or `hashtable`).
#[derive(Clone, Debug, PartialEq)]
struct Big {
    repr: Repr,
    /// Field TTLs; `None` for a table without any.
    ttl: Option<Box<FieldTtls>>,
}

/// Invariant: `Big` never holds a listpack without TTLs (that is `Small`), so
/// the derived equality compares like with like.
#[derive(Clone, Debug, PartialEq)]
enum Inner {
    /// A `listpack` hash without field TTLs: one allocation, no box.
    Small(Listpack),
    Big(Box<Big>),
}

/// A hash value: 16 bytes, held by a `Value` without a box of its own.
#[derive(Clone, Debug, PartialEq)]
pub struct HashValue {
    inner: Inner,
}

/// Borrowed contents of either form.
enum Body<'a> {
    Lp(&'a Listpack),
    Table(&'a SegTable<HashEntry>),
}

enum BodyMut<'a> {
    Lp(&'a mut Listpack),
    Table(&'a mut SegTable<HashEntry>),
}

impl Default for HashValue {
    fn default() -> Self {
        Self::new()
    }
}

impl HashValue {
    /// An empty hash in the `listpack` encoding.
    pub fn new() -> Self {
        HashValue {
            inner: Inner::Small(Listpack::default()),
        }
    }

    #[inline]
    fn body(&self) -> Body<'_> {
        match &self.inner {
            Inner::Small(lp) => Body::Lp(lp),
            Inner::Big(b) => match &b.repr {
                Repr::Listpack(lp) => Body::Lp(lp),
                Repr::Table(t) => Body::Table(t),
            },
        }
    }

    #[inline]
    fn body_mut(&mut self) -> BodyMut<'_> {
        match &mut self.inner {
            Inner::Small(lp) => BodyMut::Lp(lp),
            Inner::Big(b) => match &mut b.repr {
                Repr::Listpack(lp) => BodyMut::Lp(lp),
                Repr::Table(t) => BodyMut::Table(t),
            },
        }
    }

    #[inline]
    fn ttl(&self) -> Option<&FieldTtls> {
        match &self.inner {
            Inner::Small(_) => None,
            Inner::Big(b) => b.ttl.as_deref(),
        }
    }

    /// The TTL table, created (boxing a small hash) if absent.
    fn ttl_or_insert(&mut self) -> &mut FieldTtls {
        if let Inner::Small(lp) = &mut self.inner {
            let lp = std::mem::take(lp);
            self.inner = Inner::Big(Box::new(Big {
                repr: Repr::Listpack(lp),
                ttl: None,
            }));
        }
        let Inner::Big(b) = &mut self.inner else {
            unreachable!("boxed above")
        };
        b.ttl.get_or_insert_with(Box::default)
    }

    /// Drops the TTL table once it is empty, and unboxes a listpack then.
    fn drop_empty_ttls(&mut self) {
        let Inner::Big(b) = &mut self.inner else {
            return;
        };
        if b.ttl.as_ref().is_some_and(|t| t.by_field.is_empty()) {
            b.ttl = None;
        }
        if b.ttl.is_none() {
            if let Repr::Listpack(lp) = &mut b.repr {
                let lp = std::mem::take(lp);
                self.inner = Inner::Small(lp);
            }
        }
    }

    pub fn len(&self) -> usize {
        match self.body() {
            Body::Lp(lp) => lp.len() / 2,
            Body::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_listpack(&self) -> bool {
        matches!(self.body(), Body::Lp(_))
    }

    /// The name `OBJECT ENCODING` reports (`listpackex`: a small hash with
    /// field TTLs, as Redis 7.4 names it).
    pub fn encoding_name(&self) -> &'static str {
        match (self.body(), self.ttl().is_some()) {
            (Body::Lp(_), false) => "listpack",
            (Body::Lp(_), true) => "listpackex",
            (Body::Table(_), _) => "hashtable",
        }
    }

    /// Heap bytes owned by the value (the box of the large form included).
    pub fn heap_size(&self) -> usize {
        match &self.inner {
            Inner::Small(lp) => lp.heap_size(),
            Inner::Big(b) => {
                std::mem::size_of::<Big>()
                    + match &b.repr {
                        Repr::Listpack(lp) => lp.heap_size(),
                        Repr::Table(t) => t.heap_size(),
                    }
                    + b.ttl.as_ref().map_or(0, |t| t.heap_size())
            }
        }
    }

    // ---- field expiry ----

    /// Whether any field has a TTL.
    #[inline]
    pub fn has_field_ttls(&self) -> bool {
        self.ttl().is_some()
    }

    /// The earliest field expiry time, if any field has a TTL.
    #[inline]
    pub fn min_field_expire(&self) -> Option<i64> {
        self.ttl().map(|t| t.min)
    }

    /// Whether some field expires at or before `now_ms` (one comparison for a
    /// hash with field TTLs, one tag test for the others).
    #[inline]
    pub fn fields_due(&self, now_ms: i64) -> bool {
        match self.ttl() {
            None => false,
            Some(t) => t.min <= now_ms,
        }
    }

    /// The absolute expiry (Unix ms) of a field, if it has one.
    pub fn field_expire(&self, field: &[u8]) -> Option<i64> {
        self.ttl()?.by_field.get(field).copied()
    }

    /// Sets the expiry of an existing field; returns false if the field is absent.
    pub fn set_field_expire(&mut self, field: &[u8], at_ms: i64) -> bool {
        if !self.contains(field) {
            return false;
        }
        self.ttl_or_insert().set(field, at_ms);
        true
    }

    /// Drops a field's TTL; returns true if it had one.
    pub fn persist_field(&mut self, field: &[u8]) -> bool {
        let Inner::Big(b) = &mut self.inner else {
            return false;
        };
        let Some(t) = &mut b.ttl else {
            return false;
        };
        let had = t.remove(field).is_some();
        self.drop_empty_ttls();
        had
    }

    /// Number of fields with a TTL.
    pub fn field_ttl_count(&self) -> usize {
        self.ttl().map_or(0, |t| t.by_field.len())
    }

    /// Every `(field, expiry)`, earliest first.
    pub fn field_ttls(&self) -> impl Iterator<Item = (&[u8], i64)> {
        self.ttl()
            .into_iter()
            .flat_map(|t| t.by_time.iter().map(|(at, f)| (f.as_slice(), *at)))
    }

    /// Removes up to `limit` fields whose expiry is at or before `now_ms`,
    /// earliest first, and returns their names.
    pub fn purge_expired(&mut self, now_ms: i64, limit: usize) -> Vec<Vec<u8>> {
        let mut gone = Vec::new();
        while gone.len() < limit && self.fields_due(now_ms) {
            let Inner::Big(b) = &mut self.inner else {
                unreachable!("due implies a TTL table")
            };
            let t = b.ttl.as_mut().expect("due implies a table");
            let (_, field) = t.by_time.pop_first().expect("due implies an entry");
            t.by_field.remove(&field);
            t.refresh_min();
            self.remove_entry(&field);
            self.drop_empty_ttls();
            gone.push(field);
        }
        gone
    }

    /// Listpack: byte offset of the field's entry, and of its value entry.
    fn lp_find(lp: &Listpack, field: &[u8]) -> Option<(usize, usize)> {
        let mut off = 0;
        let end = lp.bytes();
        while off < end {
            let (f, voff) = lp.entry_at(off);
            let (_, next) = lp.entry_at(voff);
            if f == field {
                return Some((off, voff));
            }
            off = next;
        }
        None
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self.body() {
            Body::Lp(lp) => Self::lp_find(lp, field).map(|(_, v)| lp.entry_at(v).0),
            Body::Table(t) => t.get(field).map(|e| e.value()),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    fn convert(&mut self) {
        let Body::Lp(lp) = self.body() else {
            return;
        };
        let mut t = SegTable::with_capacity(lp.len() / 2 + 1);
        let mut it = lp.iter();
        while let (Some((_, f)), Some((_, v))) = (it.next(), it.next()) {
            t.insert_new(HashEntry::new(f, v));
        }
        match &mut self.inner {
            Inner::Small(_) => {
                self.inner = Inner::Big(Box::new(Big {
                    repr: Repr::Table(t),
                    ttl: None,
                }))
            }
            Inner::Big(b) => b.repr = Repr::Table(t),
        }
    }

    /// Sets a field (HSET: an existing field loses its TTL); returns true if it
    /// was new. Converts to `hashtable` when the field or value is longer than
    /// `max_value` or the hash outgrows `max_entries`.
    pub fn insert(&mut self, field: &[u8], value: &[u8], lim: HashLimits) -> bool {
        if self.has_field_ttls() {
            self.persist_field(field);
        }
        self.insert_keep_ttl(field, value, lim)
    }

    /// Sets a field keeping its TTL if it has one (HINCRBY, HINCRBYFLOAT);
    /// returns true if it was new.
    pub fn insert_keep_ttl(&mut self, field: &[u8], value: &[u8], lim: HashLimits) -> bool {
        if self.is_listpack() && (field.len() > lim.max_value || value.len() > lim.max_value) {
            self.convert();
        }
        let new = match self.body_mut() {
            BodyMut::Lp(lp) => match Self::lp_find(lp, field) {
                Some((_, voff)) => {
                    lp.replace(voff, value);
                    false
                }
                None => {
                    lp.push2(field, value);
                    true
                }
            },
            BodyMut::Table(t) => match t.get_mut(field) {
                Some(e) => {
                    *e = HashEntry::new(field, value);
                    false
                }
                None => {
                    t.insert_new(HashEntry::new(field, value));
                    true
                }
            },
        };
        if new && self.is_listpack() && self.len() > lim.max_entries {
            self.convert();
        }
        new
    }

    /// Deletes a field (and its TTL); returns true if it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        if self.has_field_ttls() {
            self.persist_field(field);
        }
        self.remove_entry(field)
    }

    fn remove_entry(&mut self, field: &[u8]) -> bool {
        match self.body_mut() {
            BodyMut::Lp(lp) => match Self::lp_find(lp, field) {
                Some((off, voff)) => {
                    let (_, end) = lp.entry_at(voff);
                    lp.remove_range(off, end, 2);
                    true
                }
                None => false,
            },
            BodyMut::Table(t) => t.remove(field).is_some(),
        }
    }

    /// Every `(field, value)`: insertion order for `listpack`.
    pub fn iter(&self) -> HashIter<'_> {
        match self.body() {
            Body::Lp(lp) => HashIter::Lp(lp.iter()),
            Body::Table(t) => HashIter::Table(Box::new(t.iter())),
        }
    }

    /// A random `(field, value)`; the hash must not be empty.
    pub fn random(&self, rng: &mut FastRng) -> (&[u8], &[u8]) {
        match self.body() {
            Body::Lp(lp) => {
                let i = rng.below_usize(lp.len() / 2);
                self.iter().nth(i).expect("index below len")
            }
            Body::Table(t) => {
                let e = t.random(rng);
                e.split()
            }
        }
    }

    /// `count` distinct random entries (`count < len`), in no particular order.
    pub fn random_distinct(&self, rng: &mut FastRng, count: usize) -> Vec<(&[u8], &[u8])> {
        let n = self.len();
        if self.is_listpack() || count * 3 > n {
            // Small or dense: drop random entries until `count` remain.
            let mut all: Vec<(&[u8], &[u8])> = self.iter().collect();
            while all.len() > count {
                let i = rng.below_usize(all.len());
                all.swap_remove(i);
            }
            return all;
        }
        let mut seen = std::collections::HashSet::with_capacity(count);
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            let e = self.random(rng);
            if seen.insert(e.0.as_ptr()) {
                out.push(e);
            }
        }
        out
    }

    /// One HSCAN step. Listpacks return everything with cursor 0, as Redis does.
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut f: impl FnMut(&'a [u8], &'a [u8])) -> u64 {
        match self.body() {
            Body::Lp(_) => {
                for (k, v) in self.iter() {
                    f(k, v);
                }
                0
            }
            Body::Table(t) => t.scan(cursor, count, |e| {
                let (k, v) = e.split();
                f(k, v)
            }),
        }
    }
}

/// Iterator over a hash's `(field, value)` pairs.
pub enum HashIter<'a> {
    Lp(LpIter<'a>),
    Table(Box<dyn Iterator<Item = &'a HashEntry> + 'a>),
}

impl<'a> Iterator for HashIter<'a> {
    type Item = (&'a [u8], &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            HashIter::Lp(it) => {
                let (_, f) = it.next()?;
                let (_, v) = it.next()?;
                Some((f, v))
            }
            HashIter::Table(it) => it.next().map(|e| e.split()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const LIM: HashLimits = HashLimits {
        max_entries: 128,
        max_value: 64,
    };

    #[test]
    fn listpack_entries() {
        let mut lp = Listpack::default();
        lp.push(b"a");
        lp.push(&[7u8; 300]);
        lp.push(b"");
        let v: Vec<_> = lp.iter().map(|(_, e)| e.to_vec()).collect();
        assert_eq!(v, vec![b"a".to_vec(), vec![7u8; 300], vec![]]);
        let (_, off) = lp.entry_at(0);
        lp.replace(off, b"xyz");
        assert_eq!(lp.iter().nth(1).unwrap().1, b"xyz");
        assert_eq!(lp.len(), 3);
    }

    #[test]
    fn small_hash_is_one_exact_allocation() {
        assert_eq!(std::mem::size_of::<HashValue>(), 16);
        let mut h = HashValue::new();
        assert_eq!(h.heap_size(), 0);
        for j in 0..10 {
            h.insert(format!("f{j}").as_bytes(), format!("v{}", 100 + j).as_bytes(), LIM);
        }
        // 10 x ([1]f_ + [1]v1__): no header, no box, no spare capacity.
        assert_eq!(h.heap_size(), 10 * (3 + 5));
        assert!(matches!(h.inner, Inner::Small(_)));
        // A field TTL boxes it; losing the last TTL unboxes it again.
        h.set_field_expire(b"f1", 100);
        assert!(matches!(h.inner, Inner::Big(_)));
        assert_eq!(h.encoding_name(), "listpackex");
        let c = h.clone();
        assert_eq!(c, h);
        assert!(h.persist_field(b"f1"));
        assert!(matches!(h.inner, Inner::Small(_)));
        assert_eq!(h.encoding_name(), "listpack");
        assert_ne!(c, h);
        h.set_field_expire(b"f2", 100);
        assert_eq!(h.purge_expired(100, 10), vec![b"f2".to_vec()]);
        assert!(matches!(h.inner, Inner::Small(_)));
        assert_eq!(h.len(), 9);
        h.set_field_expire(b"f3", 100);
        assert!(h.remove(b"f3"));
        assert!(matches!(h.inner, Inner::Small(_)));
        for j in 0..10 {
            h.remove(format!("f{j}").as_bytes());
        }
        assert!(h.is_empty());
        assert_eq!(h.heap_size(), 0);
    }

    #[test]
    fn converts_on_entries_and_value_length() {
        let mut h = HashValue::new();
        for i in 0..128 {
            assert!(h.insert(format!("f{i}").as_bytes(), b"v", LIM));
        }
        assert_eq!(h.encoding_name(), "listpack");
        assert!(!h.insert(b"f0", b"w", LIM));
        assert_eq!(h.encoding_name(), "listpack");
        h.insert(b"x", b"v", LIM);
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.len(), 129);
        assert_eq!(h.get(b"f0"), Some(&b"w"[..]));
        for i in 0..128 {
            assert!(h.remove(format!("f{i}").as_bytes()));
        }
        assert_eq!(h.encoding_name(), "hashtable");

        let mut h = HashValue::new();
        h.insert(b"a", &[b'x'; 64], LIM);
        assert_eq!(h.encoding_name(), "listpack");
        h.insert(b"a", &[b'x'; 65], LIM);
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.get(b"a").unwrap().len(), 65);
    }

    #[test]
    fn random_ops_match_model() {
        let mut rng = FastRng::new(7);
        for round in 0..20 {
            let lim = HashLimits {
                max_entries: [0, 4, 128, 1000][round % 4],
                max_value: 16,
            };
            let mut h = HashValue::new();
            let mut model: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
            for _ in 0..3000 {
                let f = format!("f{}", rng.below(700)).into_bytes();
                match rng.below(3) {
                    0 | 1 => {
                        let v = vec![b'v'; rng.below_usize(20)];
                        assert_eq!(h.insert(&f, &v, lim), model.insert(f, v).is_none());
                    }
                    _ => assert_eq!(h.remove(&f), model.remove(&f).is_some()),
                }
                assert_eq!(h.len(), model.len());
            }
            let got: HashMap<Vec<u8>, Vec<u8>> = h.iter().map(|(a, b)| (a.to_vec(), b.to_vec())).collect();
            assert_eq!(got, model);
            for (f, v) in &model {
                assert_eq!(h.get(f), Some(&v[..]));
            }
            // A full scan returns every field.
            let mut seen = HashMap::new();
            let mut cur = 0;
            loop {
                cur = h.scan(cur, 10, |f, v| {
                    seen.insert(f.to_vec(), v.to_vec());
                });
                if cur == 0 {
                    break;
                }
            }
            assert_eq!(seen, model);
        }
    }

    #[test]
    fn scan_survives_resizes() {
        let mut t: SegTable<SmallBytes> = SegTable::default();
        for i in 0..5000 {
            t.insert_new(SmallBytes::new(format!("m{i}").as_bytes()));
        }
        let mut seen = std::collections::HashSet::new();
        let mut cur = 0;
        let mut next = 5000;
        loop {
            cur = t.scan(cur, 50, |e| {
                seen.insert(e.to_vec());
            });
            // Grow between calls, then shrink: originals must all be seen.
            for _ in 0..200 {
                t.insert_new(SmallBytes::new(format!("m{next}").as_bytes()));
                next += 1;
            }
            if cur == 0 {
                break;
            }
        }
        for i in 0..5000 {
            assert!(seen.contains(format!("m{i}").as_bytes()), "m{i}");
        }
        let mut seen = std::collections::HashSet::new();
        let mut cur = 0;
        loop {
            cur = t.scan(cur, 50, |e| {
                seen.insert(e.to_vec());
            });
            for _ in 0..300 {
                if next > 5000 {
                    next -= 1;
                    t.remove(format!("m{next}").as_bytes());
                }
            }
            if cur == 0 {
                break;
            }
        }
        for i in 0..5000 {
            assert!(seen.contains(format!("m{i}").as_bytes()), "m{i}");
        }
    }

    #[test]
    fn field_ttls_follow_writes() {
        for lim in [
            LIM,
            HashLimits {
                max_entries: 0,
                max_value: 64,
            },
        ] {
            let mut h = HashValue::new();
            for f in ["a", "b", "c"] {
                h.insert(f.as_bytes(), b"1", lim);
            }
            assert!(!h.has_field_ttls());
            assert!(!h.fields_due(i64::MAX));
            assert!(!h.set_field_expire(b"missing", 10));
            assert!(h.set_field_expire(b"a", 300));
            assert!(h.set_field_expire(b"b", 100));
            assert!(h.set_field_expire(b"c", 200));
            if h.is_listpack() {
                assert_eq!(h.encoding_name(), "listpackex");
            } else {
                assert_eq!(h.encoding_name(), "hashtable");
            }
            assert_eq!(h.min_field_expire(), Some(100));
            // Moving the earliest one later updates the minimum.
            h.set_field_expire(b"b", 400);
            assert_eq!(h.min_field_expire(), Some(200));
            assert_eq!(
                h.field_ttls().collect::<Vec<_>>(),
                vec![(&b"c"[..], 200), (&b"a"[..], 300), (&b"b"[..], 400)]
            );
            // HINCRBY-style writes keep the TTL, HSET-style writes drop it.
            h.insert_keep_ttl(b"a", b"2", lim);
            assert_eq!(h.field_expire(b"a"), Some(300));
            h.insert(b"a", b"3", lim);
            assert_eq!(h.field_expire(b"a"), None);
            // Deleting a field drops its TTL.
            assert!(h.remove(b"c"));
            assert_eq!(h.field_expire(b"c"), None);
            assert_eq!(h.min_field_expire(), Some(400));
            assert!(!h.persist_field(b"a"));
            assert!(h.persist_field(b"b"));
            assert!(!h.has_field_ttls());
            assert_eq!(
                h.encoding_name(),
                if h.is_listpack() { "listpack" } else { "hashtable" }
            );
        }
    }

    #[test]
    fn purge_removes_due_fields_in_bounded_steps() {
        let mut h = HashValue::new();
        for i in 0..10 {
            h.insert(format!("f{i}").as_bytes(), b"v", LIM);
            if i < 6 {
                h.set_field_expire(format!("f{i}").as_bytes(), 100 + i);
            }
        }
        assert!(!h.fields_due(99));
        assert!(h.purge_expired(99, usize::MAX).is_empty());
        assert!(h.fields_due(102));
        assert_eq!(h.purge_expired(102, 2), vec![b"f0".to_vec(), b"f1".to_vec()]);
        assert_eq!(h.purge_expired(102, 2), vec![b"f2".to_vec()]);
        assert_eq!(h.len(), 7);
        assert!(!h.contains(b"f2"));
        assert_eq!(h.purge_expired(i64::MAX, usize::MAX).len(), 3);
        assert!(!h.has_field_ttls());
        assert_eq!(h.len(), 4);
        // Conversion to the table form keeps TTLs.
        let mut h = HashValue::new();
        h.insert(b"x", b"v", LIM);
        h.set_field_expire(b"x", 5);
        h.insert(b"long", &[b'v'; 100], LIM);
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.field_expire(b"x"), Some(5));
        assert_eq!(h.purge_expired(5, 10), vec![b"x".to_vec()]);
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn random_ttls_match_model() {
        let mut rng = FastRng::new(11);
        let mut h = HashValue::new();
        let mut model: HashMap<Vec<u8>, Option<i64>> = HashMap::new();
        for step in 0..5000i64 {
            let f = format!("f{}", rng.below(50)).into_bytes();
            match rng.below(5) {
                0 => {
                    h.insert(&f, b"v", LIM);
                    model.insert(f, None);
                }
                1 => {
                    let at = step + rng.below(200) as i64;
                    assert_eq!(h.set_field_expire(&f, at), model.contains_key(&f));
                    if let Some(t) = model.get_mut(&f) {
                        *t = Some(at);
                    }
                }
                2 => {
                    h.remove(&f);
                    model.remove(&f);
                }
                3 => {
                    let had = model.get(&f).is_some_and(|t| t.is_some());
                    assert_eq!(h.persist_field(&f), had);
                    if let Some(t) = model.get_mut(&f) {
                        *t = None;
                    }
                }
                _ => {
                    let mut gone = h.purge_expired(step, usize::MAX);
                    gone.sort();
                    let mut want: Vec<Vec<u8>> = model
                        .iter()
                        .filter(|(_, t)| t.is_some_and(|t| t <= step))
                        .map(|(f, _)| f.clone())
                        .collect();
                    want.sort();
                    assert_eq!(gone, want);
                    model.retain(|_, t| !t.is_some_and(|t| t <= step));
                }
            }
            assert_eq!(h.len(), model.len());
            let min = model.values().filter_map(|t| *t).min();
            assert_eq!(h.min_field_expire(), min);
            for (f, t) in &model {
                assert_eq!(h.field_expire(f), *t);
            }
        }
    }
}
