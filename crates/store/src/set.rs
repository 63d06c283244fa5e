//! Set values in three encodings.
//!
//! - `intset`: a sorted array of integers in one buffer, 2, 4 or 8 bytes per
//!   member (the narrowest width that holds every member), for sets whose members
//!   are all canonical integers, up to `set-max-intset-entries`.
//! - listpack: members in one [`Listpack`] buffer, up to `set-max-listpack-entries`
//!   members of at most `set-max-listpack-value` bytes (Redis 7.2's small set).
//! - `hashtable`: a [`SegTable`].
//!
//! The two small forms are one exactly sized allocation each, held by the
//! 16-byte [`SetValue`] without a box; only the table is boxed.
//!
//! Redis 7.0.15 has no listpack sets, and `OBJECT ENCODING` follows 7.0.15: it
//! answers `intset` or `hashtable`, so a listpack set reports `hashtable`. A set
//! leaves `intset` when a non-integer is added or it outgrows the intset limit,
//! like Redis, and never goes back.

use crate::bytes::SmallBytes;
use crate::hash::{Listpack, SegTable};
use crate::thinbuf::ThinBuf;
use crate::value::StrRef;
use shoal_util::num::{format_i64_buf, parse_i64};
use shoal_util::rand::FastRng;

/// Conversion thresholds from config.
#[derive(Clone, Copy, Debug)]
pub struct SetLimits {
    pub max_intset: usize,
    pub max_listpack: usize,
    pub max_value: usize,
}

// ---------------------------------------------------------------------------
// Intset
// ---------------------------------------------------------------------------

/// Sorted integers, little endian, `width` bytes each, in one exactly sized
/// allocation ([`ThinBuf`]). Its `aux` is `INTSET_TAG | width`: the tag tells a
/// set's intset buffer from its listpack buffer, whose `aux` is the entry
/// count (always below `INTSET_TAG`).
#[derive(Clone, Debug, PartialEq)]
#[repr(transparent)]
pub struct Intset {
    buf: ThinBuf,
}

/// Marks a set's small buffer as an intset (see [`Intset`]).
const INTSET_TAG: u32 = 1 << 31;

/// Most members a listpack set holds: the configured limit, capped so that
/// its count never reaches [`INTSET_TAG`].
fn lp_limit(lim: SetLimits) -> usize {
    lim.max_listpack.min(INTSET_TAG as usize - 1)
}

impl Default for Intset {
    fn default() -> Self {
        let mut buf = ThinBuf::new();
        buf.set_aux(INTSET_TAG | 2);
        Intset { buf }
    }
}

fn width_for(v: i64) -> u8 {
    if v >= i16::MIN as i64 && v <= i16::MAX as i64 {
        2
    } else if v >= i32::MIN as i64 && v <= i32::MAX as i64 {
        4
    } else {
        8
    }
}

impl Intset {
    /// Views a set's small buffer tagged as an intset as one.
    fn view(buf: &ThinBuf) -> &Intset {
        debug_assert!(buf.aux() & INTSET_TAG != 0);
        // SAFETY: `Intset` is a `repr(transparent)` wrapper of `ThinBuf`, so
        // both have the same layout and validity, and the returned reference
        // borrows `buf` for its whole lifetime.
        unsafe { &*(buf as *const ThinBuf as *const Intset) }
    }

    /// Views a set's small buffer tagged as an intset as one, mutably.
    fn view_mut(buf: &mut ThinBuf) -> &mut Intset {
        debug_assert!(buf.aux() & INTSET_TAG != 0);
        // SAFETY: as in `view`; the exclusive borrow of `buf` is handed on.
        unsafe { &mut *(buf as *mut ThinBuf as *mut Intset) }
    }

    /// Bytes per member: 2, 4 or 8.
    #[inline]
    fn width(&self) -> u8 {
        (self.buf.aux() & !INTSET_TAG) as u8
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.buf.len() / self.width() as usize
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    #[inline]
    pub fn get(&self, i: usize) -> i64 {
        let w = self.width() as usize;
        let b = &self.buf.as_slice()[i * w..i * w + w];
        match w {
            2 => i16::from_le_bytes([b[0], b[1]]) as i64,
            4 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
            _ => i64::from_le_bytes(b.try_into().expect("8 bytes")),
        }
    }

    fn encode(v: i64, w: u8) -> [u8; 8] {
        let mut out = [0u8; 8];
        match w {
            2 => out[..2].copy_from_slice(&(v as i16).to_le_bytes()),
            4 => out[..4].copy_from_slice(&(v as i32).to_le_bytes()),
            _ => out = v.to_le_bytes(),
        }
        out
    }

    pub fn search(&self, v: i64) -> Result<usize, usize> {
        if width_for(v) > self.width() {
            return Err(if v < 0 { 0 } else { self.len() });
        }
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.get(mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    pub fn contains(&self, v: i64) -> bool {
        self.search(v).is_ok()
    }

    /// Adds `v`; false if present. The buffer grows to the exact size (see
    /// `Listpack::push`).
    pub fn insert(&mut self, v: i64) -> bool {
        let pos = match self.search(v) {
            Ok(_) => return false,
            Err(p) => p,
        };
        let need = width_for(v);
        if need > self.width() {
            let mut wide = Vec::with_capacity((self.len() + 1) * need as usize);
            for i in 0..self.len() {
                wide.extend_from_slice(&Self::encode(self.get(i), need)[..need as usize]);
            }
            self.buf = ThinBuf::from_slice(&wide, INTSET_TAG | need as u32);
        }
        let w = self.width() as usize;
        let enc = Self::encode(v, self.width());
        self.buf.splice(pos * w, pos * w, &enc[..w]);
        true
    }

    pub fn remove(&mut self, v: i64) -> bool {
        match self.search(v) {
            Ok(i) => {
                let w = self.width() as usize;
                self.buf.splice(i * w, i * w + w, &[]);
                true
            }
            Err(_) => false,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

fn int_ref(v: i64) -> StrRef<'static> {
    let mut buf = [0u8; 20];
    let len = format_i64_buf(v, &mut buf) as u8;
    StrRef::Int { buf, len }
}

// ---------------------------------------------------------------------------
// SetValue
// ---------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Repr {
    /// An intset or a listpack (told apart by [`INTSET_TAG`] in `aux`): one
    /// allocation, no box.
    Small(ThinBuf),
    Table(Box<SegTable<SmallBytes>>),
}

/// Borrowed contents of any form.
enum View<'a> {
    Intset(&'a Intset),
    Listpack(&'a Listpack),
    Table(&'a SegTable<SmallBytes>),
}

enum ViewMut<'a> {
    Intset(&'a mut Intset),
    Listpack(&'a mut Listpack),
    Table(&'a mut SegTable<SmallBytes>),
}

/// A set value: 16 bytes, held by a `Value` without a box of its own.
#[derive(Clone, Debug, PartialEq)]
pub struct SetValue {
    repr: Repr,
}

impl Default for SetValue {
    fn default() -> Self {
        Self::new()
    }
}

impl SetValue {
    /// An empty set; it starts as an `intset`, as Redis creates a set for an
    /// integer first member (the first non-integer converts it).
    pub fn new() -> Self {
        SetValue {
            repr: Repr::Small(Intset::default().buf),
        }
    }

    #[inline]
    fn view(&self) -> View<'_> {
        match &self.repr {
            Repr::Small(b) if b.aux() & INTSET_TAG != 0 => View::Intset(Intset::view(b)),
            Repr::Small(b) => View::Listpack(Listpack::view(b)),
            Repr::Table(t) => View::Table(t),
        }
    }

    #[inline]
    fn view_mut(&mut self) -> ViewMut<'_> {
        match &mut self.repr {
            Repr::Small(b) => {
                if b.aux() & INTSET_TAG != 0 {
                    ViewMut::Intset(Intset::view_mut(b))
                } else {
                    ViewMut::Listpack(Listpack::view_mut(b))
                }
            }
            Repr::Table(t) => ViewMut::Table(t),
        }
    }

    pub fn len(&self) -> usize {
        match self.view() {
            View::Intset(s) => s.len(),
            View::Listpack(lp) => lp.len(),
            View::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name `OBJECT ENCODING` reports (Redis 7.0.15 names; see the module doc).
    pub fn encoding_name(&self) -> &'static str {
        match self.view() {
            View::Intset(_) => "intset",
            View::Listpack(_) | View::Table(_) => "hashtable",
        }
    }

    /// The internal encoding, including `listpack`.
    pub fn internal_encoding(&self) -> &'static str {
        match self.view() {
            View::Intset(_) => "intset",
            View::Listpack(_) => "listpack",
            View::Table(_) => "hashtable",
        }
    }

    /// True when SSCAN returns the whole set in one call (cursor 0).
    pub fn is_compact(&self) -> bool {
        !matches!(self.view(), View::Table(_))
    }

    /// Heap bytes owned by the value (the box of the large forms included).
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Small(b) => b.heap_size(),
            Repr::Table(t) => std::mem::size_of::<SegTable<SmallBytes>>() + t.heap_size(),
        }
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        match self.view() {
            View::Intset(s) => parse_i64(m).is_some_and(|v| s.contains(v)),
            View::Listpack(lp) => lp.iter().any(|(_, e)| e == m),
            View::Table(t) => t.get(m).is_some(),
        }
    }

    /// Moves every member into `target` form: listpack if they all fit, else table.
    fn convert(&mut self, extra: usize, lim: SetLimits, allow_listpack: bool) {
        let n = self.len() + extra;
        let fits = allow_listpack && n <= lp_limit(lim) && self.iter().all(|m| m.len() <= lim.max_value);
        if fits {
            let mut lp = Listpack::default();
            for m in self.iter() {
                lp.push(&m);
            }
            self.repr = Repr::Small(lp.into_buf());
        } else {
            let mut t = SegTable::with_capacity(n);
            for m in self.iter() {
                t.insert_new(SmallBytes::new(&m));
            }
            self.repr = Repr::Table(Box::new(t));
        }
    }

    /// Adds a member; returns true if it was new.
    pub fn add(&mut self, m: &[u8], lim: SetLimits) -> bool {
        if let ViewMut::Intset(s) = self.view_mut() {
            match parse_i64(m) {
                Some(v) => {
                    if !s.insert(v) {
                        return false;
                    }
                    if s.len() > lim.max_intset {
                        self.convert(0, lim, true);
                    }
                    return true;
                }
                None => {
                    if self.contains(m) {
                        return false;
                    }
                    let fits = m.len() <= lim.max_value;
                    self.convert(1, lim, fits);
                }
            }
        }
        if let View::Listpack(lp) = self.view() {
            if lp.iter().any(|(_, e)| e == m) {
                return false;
            }
            if lp.len() + 1 > lp_limit(lim) || m.len() > lim.max_value {
                self.convert(1, lim, false);
            }
        }
        match self.view_mut() {
            ViewMut::Listpack(lp) => {
                lp.push(m);
                true
            }
            ViewMut::Table(t) => {
                if t.get(m).is_some() {
                    return false;
                }
                t.insert_new(SmallBytes::new(m));
                true
            }
            ViewMut::Intset(_) => unreachable!("converted above"),
        }
    }

    /// Removes a member; returns true if it existed.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self.view_mut() {
            ViewMut::Intset(s) => parse_i64(m).is_some_and(|v| s.remove(v)),
            ViewMut::Listpack(lp) => {
                let found = lp.iter().find(|(_, e)| *e == m).map(|(off, e)| (off, e.len()));
                match found {
                    Some((off, _)) => {
                        let (_, end) = lp.entry_at(off);
                        lp.remove_range(off, end, 1);
                        true
                    }
                    None => false,
                }
            }
            ViewMut::Table(t) => t.remove(m).is_some(),
        }
    }

    /// Every member: ascending for `intset`, insertion order for listpack.
    pub fn iter(&self) -> SetIter<'_> {
        match self.view() {
            View::Intset(s) => SetIter::Int(s, 0),
            View::Listpack(lp) => SetIter::Lp(lp.iter()),
            View::Table(t) => SetIter::Table(Box::new(t.iter())),
        }
    }

    /// A random member; the set must not be empty.
    pub fn random(&self, rng: &mut FastRng) -> StrRef<'_> {
        match self.view() {
            View::Intset(s) => int_ref(s.get(rng.below_usize(s.len()))),
            View::Listpack(lp) => StrRef::Bytes(lp.iter().nth(rng.below_usize(lp.len())).expect("below len").1),
            View::Table(t) => StrRef::Bytes(t.random(rng)),
        }
    }

    /// Removes and returns a random member; the set must not be empty.
    pub fn pop_random(&mut self, rng: &mut FastRng) -> Vec<u8> {
        let m = self.random(rng).to_vec();
        self.remove(&m);
        m
    }

    /// `count` distinct random members (`count < len`), in no particular order.
    pub fn random_distinct(&self, rng: &mut FastRng, count: usize) -> Vec<Vec<u8>> {
        let n = self.len();
        if self.is_compact() || count * 3 > n {
            let mut all: Vec<Vec<u8>> = self.iter().map(|m| m.to_vec()).collect();
            while all.len() > count {
                let i = rng.below_usize(all.len());
                all.swap_remove(i);
            }
            return all;
        }
        let mut seen = std::collections::HashSet::with_capacity(count);
        while seen.len() < count {
            let m = self.random(rng).to_vec();
            seen.insert(m);
        }
        seen.into_iter().collect()
    }

    /// One SSCAN step. Compact encodings return everything with cursor 0.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8])) -> u64 {
        match self.view() {
            View::Table(t) => t.scan(cursor, count, |e| f(e)),
            _ => {
                for m in self.iter() {
                    f(&m);
                }
                0
            }
        }
    }
}

/// Iterator over a set's members.
pub enum SetIter<'a> {
    Int(&'a Intset, usize),
    Lp(crate::hash::LpIter<'a>),
    Table(Box<dyn Iterator<Item = &'a SmallBytes> + 'a>),
}

impl<'a> Iterator for SetIter<'a> {
    type Item = StrRef<'a>;
    fn next(&mut self) -> Option<StrRef<'a>> {
        match self {
            SetIter::Int(s, i) => {
                if *i >= s.len() {
                    return None;
                }
                let v = s.get(*i);
                *i += 1;
                Some(int_ref(v))
            }
            SetIter::Lp(it) => it.next().map(|(_, e)| StrRef::Bytes(e)),
            SetIter::Table(it) => it.next().map(|e| StrRef::Bytes(e.as_slice())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const LIM: SetLimits = SetLimits {
        max_intset: 512,
        max_listpack: 128,
        max_value: 64,
    };

    fn members(s: &SetValue) -> HashSet<Vec<u8>> {
        s.iter().map(|m| m.to_vec()).collect()
    }

    #[test]
    fn intset_widths_and_order() {
        let mut s = Intset::default();
        for v in [5, -3, 40000, i64::MIN, i64::MAX, 0, 5] {
            s.insert(v);
        }
        assert_eq!(s.width(), 8);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![i64::MIN, -3, 0, 5, 40000, i64::MAX]);
        assert!(s.remove(40000));
        assert!(!s.contains(40000));
        assert!(s.contains(i64::MIN));
    }

    #[test]
    fn small_intset_is_one_exact_allocation() {
        assert_eq!(std::mem::size_of::<SetValue>(), 16);
        let mut s = SetValue::new();
        assert_eq!(s.heap_size(), 0);
        for i in 0..20 {
            s.add((1000 + i).to_string().as_bytes(), LIM);
        }
        assert_eq!(s.heap_size(), 40);
        s.add(b"100000", LIM);
        assert_eq!(s.heap_size(), 21 * 4);
        let c = s.clone();
        assert_eq!(c, s);
        for i in 0..20 {
            assert!(s.remove((1000 + i).to_string().as_bytes()));
        }
        assert_eq!(s.heap_size(), 4);
        assert!(s.remove(b"100000"));
        assert!(s.is_empty());
        assert_eq!(s.heap_size(), 0);
        assert_eq!(c.len(), 21);
        assert!(c.contains(b"100000"));
        assert!(c.contains(b"1019"));
    }

    #[test]
    fn small_listpack_set_is_one_exact_allocation() {
        let mut s = SetValue::new();
        s.add(b"7", LIM);
        s.add(b"abc", LIM);
        assert_eq!(s.internal_encoding(), "listpack");
        // [1]7 [3]abc: the intset's tag is gone, the count is 2.
        assert_eq!(s.heap_size(), 2 + 4);
        let c = s.clone();
        assert_eq!(c, s);
        assert!(s.remove(b"7"));
        assert!(s.remove(b"abc"));
        assert!(s.is_empty());
        assert_eq!(s.heap_size(), 0);
        // Still a listpack set when empty: integers stay strings.
        assert!(s.add(b"5", LIM));
        assert_eq!(s.internal_encoding(), "listpack");
        assert_eq!(c.internal_encoding(), "listpack");
        assert!(c.contains(b"7") && c.contains(b"abc"));
    }

    #[test]
    fn encodings_and_conversions() {
        let mut s = SetValue::new();
        for i in 0..512 {
            assert!(s.add(i.to_string().as_bytes(), LIM));
        }
        assert_eq!(s.encoding_name(), "intset");
        assert!(!s.add(b"7", LIM));
        s.add(b"512", LIM);
        assert_eq!(s.internal_encoding(), "hashtable");

        let mut s = SetValue::new();
        s.add(b"1", LIM);
        s.add(b"a", LIM);
        assert_eq!(s.internal_encoding(), "listpack");
        assert_eq!(s.encoding_name(), "hashtable");
        s.remove(b"a");
        assert_eq!(s.internal_encoding(), "listpack");
        for i in 0..127 {
            s.add(format!("m{i}").as_bytes(), LIM);
        }
        assert_eq!(s.internal_encoding(), "listpack");
        s.add(b"one more", LIM);
        assert_eq!(s.internal_encoding(), "hashtable");

        let mut s = SetValue::new();
        s.add(b"01", LIM);
        assert_eq!(s.internal_encoding(), "listpack");
        let mut s = SetValue::new();
        s.add(&[b'x'; 65], LIM);
        assert_eq!(s.internal_encoding(), "hashtable");
    }

    #[test]
    fn random_ops_match_model() {
        let mut rng = FastRng::new(11);
        for round in 0..24 {
            let lim = SetLimits {
                max_intset: [0, 5, 512][round % 3],
                max_listpack: [0, 3, 128, 1000][round % 4],
                max_value: 8,
            };
            let mut s = SetValue::new();
            let mut model: HashSet<Vec<u8>> = HashSet::new();
            for _ in 0..3000 {
                let m = if rng.below(2) == 0 || round < 8 {
                    rng.below(800).to_string().into_bytes()
                } else {
                    vec![b'k'; 1 + rng.below_usize(10)]
                };
                match rng.below(4) {
                    0 | 1 => assert_eq!(s.add(&m, lim), model.insert(m.clone())),
                    2 => assert_eq!(s.remove(&m), model.remove(&m)),
                    _ => {
                        if !model.is_empty() {
                            let p = s.pop_random(&mut rng);
                            assert!(model.remove(&p));
                        }
                    }
                }
                assert_eq!(s.len(), model.len());
                assert_eq!(s.contains(&m), model.contains(&m));
            }
            assert_eq!(members(&s), model);
            let mut seen = HashSet::new();
            let mut cur = 0;
            loop {
                cur = s.scan(cur, 7, |m| {
                    seen.insert(m.to_vec());
                });
                if cur == 0 {
                    break;
                }
            }
            assert_eq!(seen, model);
            if model.len() > 3 {
                let r = s.random_distinct(&mut rng, 3);
                let rs: HashSet<_> = r.iter().cloned().collect();
                assert_eq!(rs.len(), 3);
                assert!(rs.is_subset(&model));
            }
        }
    }
}
