//! Sorted set values in two encodings.
//!
//! - `listpack`: one exactly sized byte buffer of `[score][LEB128 len][member]`
//!   entries kept sorted by (score, member), for sets of at most
//!   `zset-max-listpack-entries` members of at most `zset-max-listpack-value`
//!   bytes. Every operation is a linear walk over a few kilobytes at most.
//!   Integral scores take one to eight bytes, others nine (see [`score_bytes`]).
//! - `skiplist` (the name Redis reports): an order-statistics tree plus a
//!   member index. The tree is a treap whose nodes live densely in one `Vec`
//!   (u32 child links and subtree sizes, no per-node allocation); rank, select
//!   and range starts are O(log N). The member index is a segmented table of
//!   node numbers (4 bytes a slot) hashed by the member bytes stored in the
//!   node, so a member is stored once. Deleting moves the last node into the
//!   hole (its parent is found by a search for its key), so the node array
//!   never has holes and shrinks with the set.
//!
//! Conversion follows Redis 7.0: a set starts as listpack unless the limit is 0
//! or the first member is too long, leaves listpack when an insert would exceed
//! either limit, and never goes back on its own; [`ZSetValue::from_sorted`]
//! (the STORE commands) picks the encoding from the final contents.
//!
//! Scores are never NaN. A listpack keeps `-0` as `0`, like Redis, which writes
//! integral scores as integers there.

use crate::bytes::SmallBytes;
use crate::hash::elem_hash;
use crate::thinbuf::ThinBuf;
use hashbrown::HashTable;
use shoal_util::rand::FastRng;
use std::cmp::Ordering;

/// Conversion thresholds from config.
#[derive(Clone, Copy, Debug)]
pub struct ZSetLimits {
    pub max_listpack: usize,
    pub max_value: usize,
}

/// Orders (score, member) pairs as Redis does.
#[inline]
pub fn cmp_entry(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    match s1.partial_cmp(&s2) {
        Some(Ordering::Equal) | None => m1.cmp(m2),
        Some(o) => o,
    }
}

// ---------------------------------------------------------------------------
// Listpack form
// ---------------------------------------------------------------------------

fn put_varint(out: &mut Vec<u8>, n: usize) {
    crate::varint::put_varint(out, n as u64)
}

/// Integral scores below this magnitude are stored as integers.
const INT_SCORE_LIMIT: f64 = (1u64 << 53) as f64;

/// `score` in the listpack's score encoding (bytes, and how many are used): a LEB128 varint whose low
/// bit tells the forms apart. An integral score `i` with `|i| < 2^53` (every
/// such value is an exact f64, so decoding gives back the same score) is
/// `zigzag(i) << 1`: one byte for -31..=31, two up to 4095. Anything else is
/// the single byte `1` followed by the 8 little-endian bytes of the f64. `-0`
/// is written as the integer 0, like Redis does in its listpacks.
fn score_bytes(score: f64) -> ([u8; 10], usize) {
    if score.trunc() == score && score.abs() < INT_SCORE_LIMIT {
        let i = score as i64;
        let zz = ((i << 1) ^ (i >> 63)) as u64;
        crate::varint::varint_bytes(zz << 1)
    } else {
        let mut out = [0u8; 10];
        out[0] = 1;
        out[1..9].copy_from_slice(&score.to_le_bytes());
        (out, 9)
    }
}

/// Reads the score at `*pos` (see [`score_bytes`]) and advances past it.
#[inline]
fn get_score(buf: &[u8], pos: &mut usize) -> f64 {
    let v = crate::varint::get_varint(buf, pos);
    if v & 1 == 0 {
        let zz = v >> 1;
        let i = ((zz >> 1) as i64) ^ -((zz & 1) as i64);
        i as f64
    } else {
        let p = *pos;
        *pos += 8;
        f64::from_le_bytes(buf[p..p + 8].try_into().expect("8 bytes"))
    }
}

/// Sorted `[score][len][member]` entries in one exactly sized buffer
/// ([`ThinBuf`]; the entry count is kept in its `aux`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZListpack {
    buf: ThinBuf,
}

/// One decoded listpack entry: member, score, and its byte span.
struct LpEntry<'a> {
    member: &'a [u8],
    score: f64,
    start: usize,
    end: usize,
}

impl ZListpack {
    #[inline]
    fn count(&self) -> usize {
        self.buf.aux() as usize
    }

    fn entry_at(&self, off: usize) -> LpEntry<'_> {
        let b = self.buf.as_slice();
        let mut p = off;
        let score = get_score(b, &mut p);
        let mut len = 0usize;
        let mut shift = 0;
        loop {
            let c = b[p];
            p += 1;
            len |= ((c & 0x7f) as usize) << shift;
            if c & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        LpEntry {
            member: &b[p..p + len],
            score,
            start: off,
            end: p + len,
        }
    }

    fn iter(&self) -> LpWalk<'_> {
        LpWalk { lp: self, off: 0 }
    }

    fn find(&self, m: &[u8]) -> Option<(usize, LpEntry<'_>)> {
        self.iter().enumerate().find(|(_, e)| e.member == m)
    }

    /// Appends the encoding of one entry to `out`.
    fn encode(out: &mut Vec<u8>, m: &[u8], score: f64) {
        let (s, n) = score_bytes(score);
        out.extend_from_slice(&s[..n]);
        put_varint(out, m.len());
        out.extend_from_slice(m);
    }

    fn insert(&mut self, m: &[u8], score: f64) {
        let score = if score == 0.0 { 0.0 } else { score };
        let pos = self
            .iter()
            .find(|e| cmp_entry(e.score, e.member, score, m) == Ordering::Greater)
            .map_or(self.buf.len(), |e| e.start);
        let (s, sn) = score_bytes(score);
        let (h, hn) = crate::varint::varint_bytes(m.len() as u64);
        // Exact growth keeps small sorted sets compact (see `Listpack::push`).
        self.buf.splice_parts(pos, pos, &[&s[..sn], &h[..hn], m]);
        self.buf.set_aux(self.buf.aux() + 1);
    }

    /// Removes the `n` entries in bytes `start..end`.
    fn remove_span(&mut self, start: usize, end: usize, n: usize) {
        self.buf.splice(start, end, &[]);
        self.buf.set_aux(self.buf.aux() - n as u32);
    }
}

struct LpWalk<'a> {
    lp: &'a ZListpack,
    off: usize,
}

impl<'a> Iterator for LpWalk<'a> {
    type Item = LpEntry<'a>;
    fn next(&mut self) -> Option<LpEntry<'a>> {
        if self.off >= self.lp.buf.len() {
            return None;
        }
        let e = self.lp.entry_at(self.off);
        self.off = e.end;
        Some(e)
    }
}

// ---------------------------------------------------------------------------
// Tree form
// ---------------------------------------------------------------------------

const NIL: u32 = u32::MAX;

#[derive(Clone, Debug)]
struct Node {
    member: SmallBytes,
    score: f64,
    left: u32,
    right: u32,
    size: u32,
    prio: u32,
}

/// Average members per index segment before the segment count doubles.
const SEG_FILL: usize = 32;

/// The order-statistics treap plus its member index.
#[derive(Clone, Debug)]
pub struct ZTree {
    nodes: Vec<Node>,
    root: u32,
    segs: Vec<HashTable<u32>>,
    seed: u32,
}

#[inline]
fn seg_of(h: u64, mask: usize) -> usize {
    ((h >> 32) as usize) & mask
}

impl ZTree {
    fn new() -> Self {
        ZTree {
            nodes: Vec::new(),
            root: NIL,
            segs: vec![HashTable::new()],
            seed: 0x9e37_79b9,
        }
    }

    #[inline]
    fn len(&self) -> usize {
        self.nodes.len()
    }

    #[inline]
    fn size(&self, n: u32) -> u32 {
        if n == NIL {
            0
        } else {
            self.nodes[n as usize].size
        }
    }

    #[inline]
    fn fix(&mut self, n: u32) {
        let (l, r) = (self.nodes[n as usize].left, self.nodes[n as usize].right);
        self.nodes[n as usize].size = 1 + self.size(l) + self.size(r);
    }

    fn next_prio(&mut self) -> u32 {
        // xorshift32
        let mut x = self.seed;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.seed = x;
        x
    }

    #[inline]
    fn mask(&self) -> usize {
        self.segs.len() - 1
    }

    fn find_idx(&self, m: &[u8]) -> Option<u32> {
        let h = elem_hash(m);
        let nodes = &self.nodes;
        self.segs[seg_of(h, self.mask())]
            .find(h, |&i| nodes[i as usize].member.as_slice() == m)
            .copied()
    }

    fn index_insert(&mut self, idx: u32) {
        let h = elem_hash(&self.nodes[idx as usize].member);
        let m = self.mask();
        let nodes = &self.nodes;
        self.segs[seg_of(h, m)].insert_unique(h, idx, |&i| elem_hash(&nodes[i as usize].member));
        if self.nodes.len() > self.segs.len() * SEG_FILL {
            self.resize_index(self.segs.len() * 2);
        }
    }

    /// Removes node number `idx` (whose member is `m`) from the index.
    fn index_remove(&mut self, m: &[u8], idx: u32) {
        let h = elem_hash(m);
        let mask = self.mask();
        let seg = &mut self.segs[seg_of(h, mask)];
        if let Ok(e) = seg.find_entry(h, |&i| i == idx) {
            e.remove();
        }
        let cap = seg.capacity();
        if cap > 16 && seg.len() * 4 < cap {
            let nodes = &self.nodes;
            seg.shrink_to(seg.len() * 2, |&i| elem_hash(&nodes[i as usize].member));
        }
    }

    fn index_renumber(&mut self, m_hash: u64, from: u32, to: u32) {
        let mask = self.mask();
        if let Some(slot) = self.segs[seg_of(m_hash, mask)].find_mut(m_hash, |&i| i == from) {
            *slot = to;
        }
    }

    fn resize_index(&mut self, n: usize) {
        let old = std::mem::take(&mut self.segs);
        let per = self.nodes.len() / n + 1;
        self.segs = (0..n).map(|_| HashTable::with_capacity(per)).collect();
        let m = n - 1;
        let nodes = &self.nodes;
        for seg in old {
            for i in seg {
                let h = elem_hash(&nodes[i as usize].member);
                self.segs[seg_of(h, m)].insert_unique(h, i, |&x| elem_hash(&nodes[x as usize].member));
            }
        }
    }

    fn key_of(&self, n: u32) -> (f64, &[u8]) {
        let node = &self.nodes[n as usize];
        (node.score, node.member.as_slice())
    }

    /// Inserts node `x` (already in `nodes`, a leaf) into subtree `t`.
    fn insert_at(&mut self, t: u32, x: u32) -> u32 {
        if t == NIL {
            return x;
        }
        if self.nodes[x as usize].prio > self.nodes[t as usize].prio {
            let (l, r) = self.split(t, x);
            let node = &mut self.nodes[x as usize];
            node.left = l;
            node.right = r;
            self.fix(x);
            return x;
        }
        let (xs, xm) = self.key_of(x);
        let (ts, tm) = self.key_of(t);
        if cmp_entry(xs, xm, ts, tm) == Ordering::Less {
            let l = self.nodes[t as usize].left;
            let nl = self.insert_at(l, x);
            self.nodes[t as usize].left = nl;
        } else {
            let r = self.nodes[t as usize].right;
            let nr = self.insert_at(r, x);
            self.nodes[t as usize].right = nr;
        }
        self.fix(t);
        t
    }

    /// Splits `t` into keys below node `x`'s key and keys above it.
    fn split(&mut self, t: u32, x: u32) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        let (xs, xm) = self.key_of(x);
        let (ts, tm) = self.key_of(t);
        if cmp_entry(ts, tm, xs, xm) == Ordering::Less {
            let r = self.nodes[t as usize].right;
            let (a, b) = self.split(r, x);
            self.nodes[t as usize].right = a;
            self.fix(t);
            (t, b)
        } else {
            let l = self.nodes[t as usize].left;
            let (a, b) = self.split(l, x);
            self.nodes[t as usize].left = b;
            self.fix(t);
            (a, t)
        }
    }

    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].prio > self.nodes[b as usize].prio {
            let r = self.nodes[a as usize].right;
            let m = self.merge(r, b);
            self.nodes[a as usize].right = m;
            self.fix(a);
            a
        } else {
            let l = self.nodes[b as usize].left;
            let m = self.merge(a, l);
            self.nodes[b as usize].left = m;
            self.fix(b);
            b
        }
    }

    /// Unlinks node `x` from subtree `t` (x must be in it).
    fn unlink(&mut self, t: u32, x: u32) -> u32 {
        if t == x {
            let (l, r) = (self.nodes[x as usize].left, self.nodes[x as usize].right);
            return self.merge(l, r);
        }
        let (xs, xm) = self.key_of(x);
        let (ts, tm) = self.key_of(t);
        if cmp_entry(xs, xm, ts, tm) == Ordering::Less {
            let l = self.nodes[t as usize].left;
            let nl = self.unlink(l, x);
            self.nodes[t as usize].left = nl;
        } else {
            let r = self.nodes[t as usize].right;
            let nr = self.unlink(r, x);
            self.nodes[t as usize].right = nr;
        }
        self.fix(t);
        t
    }

    fn insert(&mut self, m: &[u8], score: f64) {
        let idx = self.nodes.len() as u32;
        let prio = self.next_prio();
        self.nodes.push(Node {
            member: SmallBytes::new(m),
            score,
            left: NIL,
            right: NIL,
            size: 1,
            prio,
        });
        self.root = self.insert_at(self.root, idx);
        self.index_insert(idx);
    }

    /// Changes the score of node `idx`.
    fn rescore(&mut self, idx: u32, score: f64) {
        self.root = self.unlink(self.root, idx);
        let node = &mut self.nodes[idx as usize];
        node.score = score;
        node.left = NIL;
        node.right = NIL;
        node.size = 1;
        self.root = self.insert_at(self.root, idx);
    }

    /// Deletes node `idx`, returning its member and score.
    fn delete(&mut self, idx: u32) -> (SmallBytes, f64) {
        self.root = self.unlink(self.root, idx);
        let m = self.nodes[idx as usize].member.clone();
        self.index_remove(&m, idx);
        let last = (self.nodes.len() - 1) as u32;
        if idx != last {
            // Move the last node into the hole: repoint its parent and its index slot.
            let h = elem_hash(&self.nodes[last as usize].member);
            let (ls, lm) = {
                let n = &self.nodes[last as usize];
                (n.score, n.member.clone())
            };
            if self.root == last {
                self.root = idx;
            } else {
                let mut p = self.root;
                loop {
                    let (ps, pm) = self.key_of(p);
                    let go_left = cmp_entry(ls, &lm, ps, pm) == Ordering::Less;
                    let node = &mut self.nodes[p as usize];
                    let child = if go_left { &mut node.left } else { &mut node.right };
                    if *child == last {
                        *child = idx;
                        break;
                    }
                    p = *child;
                }
            }
            self.index_renumber(h, last, idx);
            self.nodes.swap(idx as usize, last as usize);
        }
        let gone = self.nodes.pop().expect("non-empty");
        if self.nodes.capacity() > 16 && self.nodes.len() * 4 < self.nodes.capacity() {
            self.nodes.shrink_to(self.nodes.len() * 2);
        }
        if self.segs.len() > 1 && self.nodes.len() * 8 < self.segs.len() * SEG_FILL {
            self.resize_index(self.segs.len() / 2);
        }
        (gone.member, gone.score)
    }

    /// Number of leading entries (in order) for which `below` holds; `below`
    /// must be true on a prefix of the order.
    fn count_below(&self, below: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut n = self.root;
        let mut count = 0usize;
        while n != NIL {
            let node = &self.nodes[n as usize];
            if below(node.score, &node.member) {
                count += self.size(node.left) as usize + 1;
                n = node.right;
            } else {
                n = node.left;
            }
        }
        count
    }

    /// 0-based rank of node `idx`.
    fn rank_of(&self, idx: u32) -> usize {
        let (s, m) = self.key_of(idx);
        self.count_below(|ns, nm| cmp_entry(ns, nm, s, m) == Ordering::Less)
    }

    /// Node at rank `k` (< len).
    fn select(&self, mut k: u32) -> u32 {
        let mut n = self.root;
        loop {
            let node = &self.nodes[n as usize];
            let ls = self.size(node.left);
            match k.cmp(&ls) {
                Ordering::Less => n = node.left,
                Ordering::Equal => return n,
                Ordering::Greater => {
                    k -= ls + 1;
                    n = node.right;
                }
            }
        }
    }

    /// In-order iterator starting at rank `k`, ascending or descending.
    fn iter_from(&self, k: usize, rev: bool) -> TreeIter<'_> {
        let mut stack = Vec::new();
        if k < self.len() {
            let mut k = k as u32;
            let mut n = self.root;
            while n != NIL {
                let node = &self.nodes[n as usize];
                let ls = self.size(node.left);
                match k.cmp(&ls) {
                    Ordering::Less => {
                        if !rev {
                            stack.push(n);
                        }
                        n = node.left;
                    }
                    Ordering::Equal => {
                        stack.push(n);
                        break;
                    }
                    Ordering::Greater => {
                        if rev {
                            stack.push(n);
                        }
                        k -= ls + 1;
                        n = node.right;
                    }
                }
            }
        }
        TreeIter { tree: self, stack, rev }
    }

    fn heap_size(&self) -> usize {
        let slot = std::mem::size_of::<u32>() + 1;
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.nodes.iter().map(|n| n.member.heap_size()).sum::<usize>()
            + self.segs.capacity() * std::mem::size_of::<HashTable<u32>>()
            + self
                .segs
                .iter()
                .map(|s| {
                    if s.capacity() == 0 {
                        0
                    } else {
                        (s.capacity() * 8 / 7).next_power_of_two() * slot
                    }
                })
                .sum::<usize>()
    }

    /// One ZSCAN step over the index segments (reverse-binary cursor).
    fn scan<'a>(&'a self, cursor: u64, count: usize, mut f: impl FnMut(&'a [u8], f64)) -> u64 {
        let mask = self.mask() as u64;
        let mut v = cursor;
        let mut seen = 0;
        loop {
            let seg = &self.segs[(v & mask) as usize];
            for &i in seg.iter() {
                let n = &self.nodes[i as usize];
                f(&n.member, n.score);
            }
            seen += seg.len();
            v |= !mask;
            v = v.reverse_bits().wrapping_add(1).reverse_bits();
            if v == 0 || seen >= count {
                return v;
            }
        }
    }
}

struct TreeIter<'a> {
    tree: &'a ZTree,
    stack: Vec<u32>,
    rev: bool,
}

impl<'a> Iterator for TreeIter<'a> {
    type Item = (&'a [u8], f64);
    fn next(&mut self) -> Option<(&'a [u8], f64)> {
        let n = self.stack.pop()?;
        let nodes = &self.tree.nodes;
        let node = &nodes[n as usize];
        let mut c = if self.rev { node.left } else { node.right };
        while c != NIL {
            self.stack.push(c);
            let cn = &nodes[c as usize];
            c = if self.rev { cn.right } else { cn.left };
        }
        Some((node.member.as_slice(), node.score))
    }
}

// ---------------------------------------------------------------------------
// ZSetValue
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Repr {
    /// One allocation, no box.
    Listpack(ZListpack),
    Tree(Box<ZTree>),
}

/// A sorted set value: 16 bytes, held by a `Value` without a box of its own.
#[derive(Clone, Debug)]
pub struct ZSetValue {
    repr: Repr,
}

impl PartialEq for ZSetValue {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

/// Iterator over (member, score) pairs.
pub struct ZIter<'a>(IterRepr<'a>);

enum IterRepr<'a> {
    Lp(LpWalk<'a>, usize),
    LpRev(Vec<(&'a [u8], f64)>),
    Tree(TreeIter<'a>),
}

impl<'a> Iterator for ZIter<'a> {
    type Item = (&'a [u8], f64);
    fn next(&mut self) -> Option<(&'a [u8], f64)> {
        match &mut self.0 {
            IterRepr::Lp(w, skip) => {
                while *skip > 0 {
                    w.next()?;
                    *skip -= 1;
                }
                w.next().map(|e| (e.member, e.score))
            }
            IterRepr::LpRev(v) => v.pop(),
            IterRepr::Tree(t) => t.next(),
        }
    }
}

impl ZSetValue {
    /// An empty set in the encoding Redis picks for a new key whose first
    /// member is `first_len` bytes long.
    pub fn new_for(first_len: usize, lim: ZSetLimits) -> Self {
        if lim.max_listpack == 0 || first_len > lim.max_value {
            ZSetValue {
                repr: Repr::Tree(Box::new(ZTree::new())),
            }
        } else {
            ZSetValue {
                repr: Repr::Listpack(ZListpack::default()),
            }
        }
    }

    /// Builds a set from entries sorted by (score, member) with distinct
    /// members, in the encoding the final contents call for.
    pub fn from_sorted<'a>(entries: impl IntoIterator<Item = (&'a [u8], f64)>, lim: ZSetLimits) -> Self {
        let entries: Vec<(&[u8], f64)> = entries.into_iter().collect();
        let fits = entries.len() <= lim.max_listpack && entries.iter().all(|(m, _)| m.len() <= lim.max_value);
        if fits {
            let mut enc = Vec::new();
            for &(m, s) in &entries {
                ZListpack::encode(&mut enc, m, if s == 0.0 { 0.0 } else { s });
            }
            let lp = ZListpack {
                buf: ThinBuf::from_slice(&enc, entries.len() as u32),
            };
            ZSetValue {
                repr: Repr::Listpack(lp),
            }
        } else {
            let mut t = ZTree::new();
            for (m, s) in entries {
                t.insert(m, s);
            }
            ZSetValue {
                repr: Repr::Tree(Box::new(t)),
            }
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(lp) => lp.count(),
            Repr::Tree(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `listpack` or `skiplist`, as OBJECT ENCODING answers.
    pub fn encoding_name(&self) -> &'static str {
        match self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Tree(_) => "skiplist",
        }
    }

    /// True when ZSCAN returns the whole set in one call.
    pub fn is_compact(&self) -> bool {
        matches!(self.repr, Repr::Listpack(_))
    }

    /// Heap bytes owned by the value (the box of the tree form included).
    pub fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Listpack(lp) => lp.buf.heap_size(),
            Repr::Tree(t) => std::mem::size_of::<ZTree>() + t.heap_size(),
        }
    }

    pub fn score(&self, m: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Listpack(lp) => lp.find(m).map(|(_, e)| e.score),
            Repr::Tree(t) => t.find_idx(m).map(|i| t.nodes[i as usize].score),
        }
    }

    fn convert_to_tree(&mut self) {
        if let Repr::Listpack(lp) = &self.repr {
            let mut t = ZTree::new();
            for e in lp.iter() {
                t.insert(e.member, e.score);
            }
            self.repr = Repr::Tree(Box::new(t));
        }
    }

    /// Switches to the tree encoding for good (SORT does this to a sorted set
    /// it reads, as Redis 7.0 does).
    pub fn force_tree(&mut self) {
        self.convert_to_tree();
    }

    /// Sets the score of `m`, adding it if absent; returns true if it was added.
    pub fn set(&mut self, m: &[u8], score: f64, lim: ZSetLimits) -> bool {
        debug_assert!(!score.is_nan());
        if let Repr::Listpack(lp) = &mut self.repr {
            if let Some((_, e)) = lp.find(m) {
                let (start, end, old) = (e.start, e.end, e.score);
                let norm = if score == 0.0 { 0.0 } else { score };
                if old.to_bits() != norm.to_bits() {
                    lp.remove_span(start, end, 1);
                    lp.insert(m, norm);
                }
                return false;
            }
            if lp.count() + 1 > lim.max_listpack || m.len() > lim.max_value {
                self.convert_to_tree();
            } else {
                lp.insert(m, score);
                return true;
            }
        }
        let Repr::Tree(t) = &mut self.repr else {
            unreachable!("converted above")
        };
        match t.find_idx(m) {
            Some(i) => {
                if t.nodes[i as usize].score.to_bits() != score.to_bits() {
                    t.rescore(i, score);
                }
                false
            }
            None => {
                t.insert(m, score);
                true
            }
        }
    }

    /// Removes `m`; returns true if it was there.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Listpack(lp) => match lp.find(m).map(|(_, e)| (e.start, e.end)) {
                Some((s, e)) => {
                    lp.remove_span(s, e, 1);
                    true
                }
                None => false,
            },
            Repr::Tree(t) => match t.find_idx(m) {
                Some(i) => {
                    t.delete(i);
                    true
                }
                None => false,
            },
        }
    }

    /// 0-based ascending rank and score of `m`.
    pub fn rank(&self, m: &[u8]) -> Option<(usize, f64)> {
        match &self.repr {
            Repr::Listpack(lp) => lp.find(m).map(|(i, e)| (i, e.score)),
            Repr::Tree(t) => t.find_idx(m).map(|i| (t.rank_of(i), t.nodes[i as usize].score)),
        }
    }

    /// How many leading entries satisfy `below` (true on a prefix of the order).
    /// For the listpack form this is the position of the first entry for which
    /// `below` is false, as a linear walk finds it.
    pub fn count_below(&self, below: impl Fn(f64, &[u8]) -> bool) -> usize {
        match &self.repr {
            Repr::Listpack(lp) => lp.iter().take_while(|e| below(e.score, e.member)).count(),
            Repr::Tree(t) => t.count_below(below),
        }
    }

    /// Entry at ascending rank `k`.
    pub fn at(&self, k: usize) -> Option<(&[u8], f64)> {
        if k >= self.len() {
            return None;
        }
        match &self.repr {
            Repr::Listpack(lp) => lp.iter().nth(k).map(|e| (e.member, e.score)),
            Repr::Tree(t) => Some(t.key_of(t.select(k as u32))).map(|(s, m)| (m, s)),
        }
    }

    /// Entries from ascending rank `k` upward, or (when `rev`) from rank `k`
    /// downward.
    pub fn iter_from(&self, k: usize, rev: bool) -> ZIter<'_> {
        match &self.repr {
            Repr::Listpack(lp) => {
                if rev {
                    let mut v: Vec<(&[u8], f64)> = lp
                        .iter()
                        .take(k.saturating_add(1))
                        .map(|e| (e.member, e.score))
                        .collect();
                    if k >= lp.count() {
                        v.clear();
                    }
                    ZIter(IterRepr::LpRev(v))
                } else {
                    ZIter(IterRepr::Lp(lp.iter(), k))
                }
            }
            Repr::Tree(t) => ZIter(IterRepr::Tree(t.iter_from(k, rev))),
        }
    }

    /// All entries in ascending order.
    pub fn iter(&self) -> ZIter<'_> {
        self.iter_from(0, false)
    }

    /// Removes the entries with ascending ranks `start..end`; returns how many.
    pub fn remove_rank_range(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        match &mut self.repr {
            Repr::Listpack(lp) => {
                let mut w = lp.iter();
                let from = w.nth(start).map(|e| e.start).expect("start < len");
                let to = if end > start + 1 {
                    w.nth(end - start - 2).map(|e| e.end)
                } else {
                    None
                };
                let to = to.unwrap_or_else(|| lp.entry_at(from).end);
                lp.remove_span(from, to, end - start);
            }
            Repr::Tree(t) => {
                for _ in start..end {
                    let i = t.select(start as u32);
                    t.delete(i);
                }
            }
        }
        end - start
    }

    /// Removes and returns the lowest (or highest) entry.
    pub fn pop(&mut self, max: bool) -> Option<(Vec<u8>, f64)> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        let k = if max { n - 1 } else { 0 };
        match &mut self.repr {
            Repr::Listpack(lp) => {
                let e = lp.iter().nth(k).expect("k < len");
                let (m, s, a, b) = (e.member.to_vec(), e.score, e.start, e.end);
                lp.remove_span(a, b, 1);
                Some((m, s))
            }
            Repr::Tree(t) => {
                let i = t.select(k as u32);
                let (m, s) = t.delete(i);
                Some((m.to_vec(), s))
            }
        }
    }

    /// A uniformly random entry; the set must not be empty.
    pub fn random(&self, rng: &mut FastRng) -> (&[u8], f64) {
        self.at(rng.below_usize(self.len())).expect("non-empty")
    }

    /// One ZSCAN step. The listpack form returns everything with cursor 0.
    pub fn scan<'a>(&'a self, cursor: u64, count: usize, mut f: impl FnMut(&'a [u8], f64)) -> u64 {
        match &self.repr {
            Repr::Tree(t) => t.scan(cursor, count, f),
            Repr::Listpack(lp) => {
                for e in lp.iter() {
                    f(e.member, e.score);
                }
                0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashMap};

    const LIM: ZSetLimits = ZSetLimits {
        max_listpack: 128,
        max_value: 64,
    };

    #[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
    struct F(f64);
    impl Eq for F {}
    #[allow(clippy::derive_ord_xor_partial_ord)]
    impl Ord for F {
        fn cmp(&self, o: &Self) -> Ordering {
            self.0.partial_cmp(&o.0).unwrap()
        }
    }

    fn check(z: &ZSetValue, model: &BTreeSet<(F, Vec<u8>)>, rng: &mut FastRng) {
        assert_eq!(z.len(), model.len());
        let all: Vec<(Vec<u8>, f64)> = z.iter().map(|(m, s)| (m.to_vec(), s)).collect();
        let want: Vec<(Vec<u8>, f64)> = model.iter().map(|(s, m)| (m.clone(), s.0)).collect();
        assert_eq!(all, want);
        if !want.is_empty() {
            for _ in 0..5 {
                let k = rng.below_usize(want.len());
                assert_eq!(z.rank(&want[k].0), Some((k, want[k].1)));
                assert_eq!(z.at(k).map(|(m, s)| (m.to_vec(), s)), Some(want[k].clone()));
                let fwd: Vec<_> = z.iter_from(k, false).map(|(m, _)| m.to_vec()).collect();
                assert_eq!(fwd.len(), want.len() - k);
                let rev: Vec<_> = z.iter_from(k, true).map(|(m, _)| m.to_vec()).collect();
                assert_eq!(rev.len(), k + 1);
                assert_eq!(rev[0], want[k].0);
                let s = want[k].1;
                assert_eq!(z.count_below(|x, _| x < s), want.iter().filter(|e| e.1 < s).count());
            }
        }
        assert!(z.iter_from(want.len(), false).next().is_none());
        assert!(z.iter_from(want.len(), true).next().is_none());
    }

    #[test]
    fn random_ops_match_model() {
        let mut rng = FastRng::new(7);
        for round in 0..12 {
            let lim = ZSetLimits {
                max_listpack: [0, 4, 128, 100000][round % 4],
                max_value: [64, 3][round / 4 % 2],
            };
            let mut z = ZSetValue::new_for(1, lim);
            let mut model: BTreeSet<(F, Vec<u8>)> = BTreeSet::new();
            let mut scores: HashMap<Vec<u8>, f64> = HashMap::new();
            let n = if round % 4 == 3 { 300 } else { 3000 };
            for step in 0..n * 3 {
                let m = format!("m{}", rng.below(n as u64)).into_bytes();
                let s = (rng.below(50) as f64) - 25.0;
                match rng.below(6) {
                    0..=2 => {
                        let added = z.set(&m, s, lim);
                        let old = scores.insert(m.clone(), s);
                        assert_eq!(added, old.is_none());
                        if let Some(o) = old {
                            model.remove(&(F(o), m.clone()));
                        }
                        model.insert((F(s), m.clone()));
                    }
                    3 => {
                        let had = scores.remove(&m);
                        assert_eq!(z.remove(&m), had.is_some());
                        if let Some(o) = had {
                            model.remove(&(F(o), m.clone()));
                        }
                    }
                    4 => {
                        let max = rng.below(2) == 0;
                        let p = z.pop(max);
                        let want = if max {
                            model.iter().next_back().cloned()
                        } else {
                            model.iter().next().cloned()
                        };
                        assert_eq!(p.clone().map(|(m, s)| (F(s), m)), want);
                        if let Some(w) = want {
                            model.remove(&w);
                            scores.remove(&w.1);
                        }
                    }
                    _ => {
                        if !model.is_empty() && rng.below(20) == 0 {
                            let a = rng.below_usize(model.len());
                            let b = a + rng.below_usize(4);
                            let removed = z.remove_rank_range(a, b + 1);
                            let gone: Vec<_> = model.iter().skip(a).take(b + 1 - a).cloned().collect();
                            assert_eq!(removed, gone.len());
                            for g in gone {
                                model.remove(&g);
                                scores.remove(&g.1);
                            }
                        }
                    }
                }
                assert_eq!(z.score(&m), scores.get(&m).copied());
                if step % 97 == 0 {
                    check(&z, &model, &mut rng);
                }
            }
            check(&z, &model, &mut rng);
            let mut seen = std::collections::HashSet::new();
            let mut cur = 0;
            loop {
                cur = z.scan(cur, 5, |m, _| {
                    seen.insert(m.to_vec());
                });
                if cur == 0 {
                    break;
                }
            }
            assert_eq!(seen.len(), model.len());
            let copy = z.clone();
            assert_eq!(copy, z);
        }
    }

    #[test]
    fn conversions() {
        let mut z = ZSetValue::new_for(1, LIM);
        for i in 0..128 {
            z.set(format!("m{i}").as_bytes(), i as f64, LIM);
        }
        assert_eq!(z.encoding_name(), "listpack");
        z.set(b"m5", 1000.0, LIM);
        assert_eq!(z.encoding_name(), "listpack");
        z.set(b"x", 1.5, LIM);
        assert_eq!(z.encoding_name(), "skiplist");
        z.remove(b"x");
        assert_eq!(z.encoding_name(), "skiplist");
        let mut z = ZSetValue::new_for(1, LIM);
        z.set(&[b'a'; 65], 1.0, LIM);
        assert_eq!(z.encoding_name(), "skiplist");
        assert_eq!(ZSetValue::new_for(65, LIM).encoding_name(), "skiplist");
        let mut z = ZSetValue::new_for(1, LIM);
        z.set(b"a", -0.0, LIM);
        assert!(z.score(b"a").unwrap().is_sign_positive());
        let big = ZSetValue::from_sorted((0..200).map(|i| (&b"abc"[..], i as f64)).take(129), LIM);
        assert_eq!(big.encoding_name(), "skiplist");
    }

    #[test]
    fn score_encoding_round_trips() {
        let lim2 = 2f64.powi(53);
        for s in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            31.0,
            -31.0,
            32.0,
            -32.0,
            49.0,
            4095.0,
            1e15,
            lim2 - 1.0,
            -(lim2 - 1.0),
            lim2,
            -lim2,
            1e300,
            -1e300,
            0.5,
            -2.25,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN,
        ] {
            let (arr, n) = score_bytes(s);
            let b = &arr[..n];
            let mut pos = 0;
            let got = get_score(b, &mut pos);
            assert_eq!(pos, b.len(), "{s}");
            let want = if s == 0.0 { 0.0 } else { s };
            assert_eq!(got.to_bits(), want.to_bits(), "{s}");
            let integral = s.trunc() == s && s.abs() < lim2;
            assert_eq!(b.len() == 9 && b[0] == 1, !integral, "{s}");
        }
        let len = |s: f64| score_bytes(s).1;
        assert_eq!(len(0.0), 1);
        assert_eq!(len(31.0), 1);
        assert_eq!(len(-31.0), 1);
        assert_eq!(len(49.0), 2);
        assert_eq!(len(1.5), 9);
    }

    #[test]
    fn mixed_scores_keep_order_and_size() {
        let mut z = ZSetValue::new_for(1, LIM);
        let scores = [
            3.0,
            -1.5,
            1e20,
            -0.0,
            2.0,
            f64::INFINITY,
            7.25,
            -100.0,
            2.0,
            f64::NEG_INFINITY,
        ];
        for (i, s) in scores.iter().enumerate() {
            z.set(format!("m{i}").as_bytes(), *s, LIM);
        }
        let got: Vec<f64> = z.iter().map(|(_, s)| s).collect();
        let mut want: Vec<f64> = scores.iter().map(|&s| if s == 0.0 { 0.0 } else { s }).collect();
        want.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(got, want);
        assert_eq!(z.rank(b"m4"), Some((4, 2.0)));
        assert_eq!(z.rank(b"m8"), Some((5, 2.0)));
        z.set(b"m4", 2.5, LIM);
        assert_eq!(z.score(b"m4"), Some(2.5));
        let copy = z.clone();
        assert_eq!(copy, z);
        assert_eq!(z.remove_rank_range(0, 3), 3);
        assert_eq!(z.len(), 7);
        while z.pop(true).is_some() {}
        assert!(z.is_empty());
        assert_eq!(z.heap_size(), 0);
        assert_eq!(z.encoding_name(), "listpack");
        // 50 members with small integral scores, as the memory benchmark adds them:
        // 2 bytes of score, 1 of length, 9 of member each.
        let mut z = ZSetValue::new_for(9, LIM);
        for j in 0..50 {
            z.set(format!("member:{j:02}").as_bytes(), j as f64, LIM);
        }
        assert!(z.heap_size() <= 50 * 12, "{}", z.heap_size());
        let sorted = ZSetValue::from_sorted(z.iter(), LIM);
        assert_eq!(sorted, z);
        assert_eq!(sorted.heap_size(), z.heap_size());
    }

    #[test]
    fn large_ranks() {
        let lim = ZSetLimits {
            max_listpack: 0,
            max_value: 64,
        };
        let mut z = ZSetValue::new_for(1, lim);
        for i in 0..100_000u32 {
            z.set(format!("{i:08}").as_bytes(), (i / 3) as f64, lim);
        }
        assert_eq!(z.rank(b"00050000"), Some((50000, 16666.0)));
        assert_eq!(z.count_below(|s, _| s < 100.0), 300);
        for i in (0..100_000u32).step_by(2) {
            assert!(z.remove(format!("{i:08}").as_bytes()));
        }
        assert_eq!(z.rank(b"00050001"), Some((25000, 16667.0)));
        assert!(z.heap_size() < 50_000 * 160, "{}", z.heap_size());
    }
}
