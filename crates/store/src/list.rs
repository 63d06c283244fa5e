//! Lists: a deque of compact nodes, like Redis's quicklist.
//!
//! Each node is one byte buffer of entries encoded as
//! `[forward varint: len][bytes][backward varint: header+len]`, so a node can be
//! walked from either end (LPOP/RPOP touch only the end of an end node). Nodes are
//! bounded like Redis's `list-max-listpack-size`: a negative value caps a node's
//! bytes (-1 = 4 KiB ... -5 = 64 KiB), a positive one its entry count. An entry
//! bigger than the byte cap gets a node of its own. Edits in the middle (LSET,
//! LINSERT, LREM) rebuild only the node they touch.
//!
//! Redis 7.0 reports every list as `quicklist`, whatever its size.

use std::collections::VecDeque;

/// Node size rule derived from `list-max-listpack-size`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeLimit(pub i64);

impl NodeLimit {
    fn bytes(self) -> usize {
        match self.0 {
            -1 => 4096,
            -2 | 0 => 8192,
            -3 => 16384,
            -4 => 32768,
            n if n <= -5 => 65536,
            _ => usize::MAX,
        }
    }
    fn count(self) -> usize {
        if self.0 > 0 {
            self.0 as usize
        } else {
            usize::MAX
        }
    }
    fn fits(self, node: &Node, extra: usize) -> bool {
        (node.count as usize) < self.count() && node.buf.len() + extra <= self.bytes()
    }
}

impl Default for NodeLimit {
    fn default() -> Self {
        NodeLimit(-2)
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Node {
    buf: Vec<u8>,
    count: u32,
}

fn varint_len(v: usize) -> usize {
    crate::varint::varint_len(v as u64)
}

fn put_varint(out: &mut Vec<u8>, v: usize) {
    crate::varint::put_varint(out, v as u64)
}

/// Reads the varint at `pos`: (value, bytes).
fn get_varint(buf: &[u8], pos: usize) -> (usize, usize) {
    let mut end = pos;
    let v = crate::varint::get_varint(buf, &mut end);
    (v as usize, end - pos)
}

/// Writes `v` so that it can be read backwards from its last byte.
fn put_back_varint(out: &mut Vec<u8>, v: usize) {
    let start = out.len();
    put_varint(out, v);
    out[start..].reverse();
}

/// Reads a backward varint ending just before `end`; returns (value, bytes).
fn get_back_varint(buf: &[u8], end: usize) -> (usize, usize) {
    let (mut v, mut shift, mut i) = (0usize, 0, end);
    loop {
        i -= 1;
        let b = buf[i];
        v |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            return (v, end - i);
        }
        shift += 7;
    }
}

fn encoded_size(len: usize) -> usize {
    let head = varint_len(len) + len;
    head + varint_len(head)
}

impl Node {
    fn encode_into(out: &mut Vec<u8>, item: &[u8]) {
        let start = out.len();
        put_varint(out, item.len());
        out.extend_from_slice(item);
        let head = out.len() - start;
        put_back_varint(out, head);
    }

    /// An empty node about to be filled at one end of a list. When the list
    /// already has full nodes it is probably growing, so the node gets its
    /// whole byte budget at once instead of doubling up to it (ten
    /// reallocations whose freed buffers fragment the heap).
    fn new_at_end(list_has_nodes: bool, limit: NodeLimit) -> Node {
        let mut n = Node::default();
        let budget = limit.bytes();
        if list_has_nodes && budget <= 65536 {
            n.buf.reserve_exact(budget);
        }
        n
    }

    fn from_items<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> Node {
        let mut n = Node::default();
        for it in items {
            Node::encode_into(&mut n.buf, it);
            n.count += 1;
        }
        n
    }

    /// The entry starting at `pos`: (data range, next position).
    #[inline]
    fn entry_at(&self, pos: usize) -> (std::ops::Range<usize>, usize) {
        // Items under 127 bytes (the usual case) have one-byte length words at
        // both ends.
        let b = self.buf[pos];
        if b < 0x7f {
            let len = b as usize;
            return (pos + 1..pos + 1 + len, pos + 2 + len);
        }
        let (len, hl) = get_varint(&self.buf, pos);
        let end = pos + hl + len;
        (pos + hl..end, end + varint_len(hl + len))
    }

    /// The entry ending at `end`: (data range, its start position).
    fn entry_before(&self, end: usize) -> (std::ops::Range<usize>, usize) {
        let (head, bl) = get_back_varint(&self.buf, end);
        let start = end - bl - head;
        let (len, hl) = get_varint(&self.buf, start);
        (start + hl..start + hl + len, start)
    }

    fn items(&self) -> Vec<&[u8]> {
        let mut out = Vec::with_capacity(self.count as usize);
        let mut pos = 0;
        while pos < self.buf.len() {
            let (r, next) = self.entry_at(pos);
            out.push(&self.buf[r]);
            pos = next;
        }
        out
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListValue {
    nodes: VecDeque<Node>,
    len: usize,
}

impl ListValue {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn encoding_name(&self) -> &'static str {
        "quicklist"
    }

    pub fn heap_size(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.nodes.iter().map(|n| n.buf.capacity()).sum::<usize>()
    }

    pub fn push_back(&mut self, item: &[u8], limit: NodeLimit) {
        let need = encoded_size(item.len());
        match self.nodes.back_mut() {
            Some(n) if limit.fits(n, need) => {
                Node::encode_into(&mut n.buf, item);
                n.count += 1;
            }
            _ => {
                let mut n = Node::new_at_end(!self.nodes.is_empty(), limit);
                Node::encode_into(&mut n.buf, item);
                n.count = 1;
                self.nodes.push_back(n);
            }
        }
        self.len += 1;
    }

    pub fn push_front(&mut self, item: &[u8], limit: NodeLimit) {
        let need = encoded_size(item.len());
        match self.nodes.front_mut() {
            Some(n) if limit.fits(n, need) => {
                let mut entry = Vec::with_capacity(need);
                Node::encode_into(&mut entry, item);
                n.buf.splice(0..0, entry);
                n.count += 1;
            }
            _ => self.nodes.push_front(Node::from_items([item])),
        }
        self.len += 1;
    }

    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let n = self.nodes.front_mut()?;
        let (r, next) = n.entry_at(0);
        let item = n.buf[r].to_vec();
        n.buf.drain(..next);
        n.count -= 1;
        if n.count == 0 {
            self.nodes.pop_front();
        }
        self.len -= 1;
        Some(item)
    }

    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let n = self.nodes.back_mut()?;
        let (r, start) = n.entry_before(n.buf.len());
        let item = n.buf[r].to_vec();
        n.buf.truncate(start);
        n.count -= 1;
        if n.count == 0 {
            self.nodes.pop_back();
        }
        self.len -= 1;
        Some(item)
    }

    /// Iterates items from the head.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + '_ {
        self.nodes.iter().flat_map(|n| n.items())
    }

    /// Items `start..=end` (already clamped by the caller), visited in order.
    pub fn range(&self, start: usize, end: usize, mut f: impl FnMut(&[u8])) {
        let mut idx = 0;
        for n in &self.nodes {
            let c = n.count as usize;
            if idx + c <= start {
                idx += c;
                continue;
            }
            let mut pos = 0;
            while pos < n.buf.len() {
                let (r, next) = n.entry_at(pos);
                if idx >= start && idx <= end {
                    f(&n.buf[r]);
                }
                idx += 1;
                pos = next;
                if idx > end {
                    return;
                }
            }
        }
    }

    /// Finds the node holding item `index` and the item's index inside it.
    fn locate(&self, index: usize) -> Option<(usize, usize)> {
        if index >= self.len {
            return None;
        }
        // Walk from the nearer end.
        if index < self.len / 2 {
            let mut idx = 0;
            for (i, n) in self.nodes.iter().enumerate() {
                if index < idx + n.count as usize {
                    return Some((i, index - idx));
                }
                idx += n.count as usize;
            }
        } else {
            let mut idx = self.len;
            for (i, n) in self.nodes.iter().enumerate().rev() {
                idx -= n.count as usize;
                if index >= idx {
                    return Some((i, index - idx));
                }
            }
        }
        None
    }

    pub fn get(&self, index: usize) -> Option<Vec<u8>> {
        let (ni, off) = self.locate(index)?;
        Some(self.nodes[ni].items()[off].to_vec())
    }

    /// Replaces node `ni` by nodes built from `items`, split to respect `limit`.
    fn rebuild_node(&mut self, ni: usize, items: Vec<Vec<u8>>, limit: NodeLimit) {
        let old = self.nodes[ni].count as usize;
        self.len = self.len - old + items.len();
        let mut fresh: Vec<Node> = Vec::new();
        for it in &items {
            let need = encoded_size(it.len());
            match fresh.last_mut() {
                Some(n) if limit.fits(n, need) => {
                    Node::encode_into(&mut n.buf, it);
                    n.count += 1;
                }
                _ => fresh.push(Node::from_items([it.as_slice()])),
            }
        }
        self.nodes.remove(ni);
        for (k, n) in fresh.into_iter().enumerate() {
            self.nodes.insert(ni + k, n);
        }
    }

    fn node_items_owned(&self, ni: usize) -> Vec<Vec<u8>> {
        self.nodes[ni].items().into_iter().map(|s| s.to_vec()).collect()
    }

    /// LSET. Returns false when the index is out of range.
    pub fn set(&mut self, index: usize, value: &[u8], limit: NodeLimit) -> bool {
        let Some((ni, off)) = self.locate(index) else {
            return false;
        };
        let mut items = self.node_items_owned(ni);
        items[off] = value.to_vec();
        self.rebuild_node(ni, items, limit);
        true
    }

    /// LINSERT: inserts before/after the first occurrence of `pivot`.
    /// Returns false when the pivot is absent.
    pub fn insert(&mut self, pivot: &[u8], value: &[u8], after: bool, limit: NodeLimit) -> bool {
        for ni in 0..self.nodes.len() {
            let pos = self.nodes[ni].items().iter().position(|it| *it == pivot);
            if let Some(off) = pos {
                let mut items = self.node_items_owned(ni);
                items.insert(if after { off + 1 } else { off }, value.to_vec());
                self.rebuild_node(ni, items, limit);
                return true;
            }
        }
        false
    }

    /// LREM: removes up to `count` occurrences (0 = all; negative = from the tail).
    pub fn remove(&mut self, value: &[u8], count: i64, limit: NodeLimit) -> usize {
        let max = if count == 0 {
            usize::MAX
        } else {
            count.unsigned_abs() as usize
        };
        let mut removed = 0;
        let order: Vec<usize> = if count < 0 {
            (0..self.nodes.len()).rev().collect()
        } else {
            (0..self.nodes.len()).collect()
        };
        let mut touched = Vec::new();
        for ni in order {
            if removed >= max {
                break;
            }
            let items = self.nodes[ni].items();
            if !items.contains(&value) {
                continue;
            }
            let mut kept: Vec<Vec<u8>> = Vec::with_capacity(items.len());
            let mut drop_flags = vec![false; items.len()];
            let idxs: Vec<usize> = if count < 0 {
                (0..items.len()).rev().collect()
            } else {
                (0..items.len()).collect()
            };
            for i in idxs {
                if removed < max && items[i] == value {
                    drop_flags[i] = true;
                    removed += 1;
                }
            }
            for (i, it) in items.iter().enumerate() {
                if !drop_flags[i] {
                    kept.push(it.to_vec());
                }
            }
            touched.push((ni, kept));
        }
        // Rebuild from the highest node index so earlier indexes stay valid.
        touched.sort_by_key(|t| std::cmp::Reverse(t.0));
        for (ni, kept) in touched {
            self.rebuild_node(ni, kept, limit);
        }
        self.nodes.retain(|n| n.count > 0);
        removed
    }

    /// LTRIM to `start..=end` (clamped by the caller; start > end empties).
    pub fn trim(&mut self, start: usize, end: usize) {
        if start > end || start >= self.len {
            *self = ListValue::new();
            return;
        }
        let end = end.min(self.len - 1);
        for _ in 0..start {
            self.pop_front();
        }
        let keep = end - start + 1;
        while self.len > keep {
            // Drop whole tail nodes at once when possible.
            let last = self.nodes.back().map_or(0, |n| n.count as usize);
            if self.len - last >= keep {
                self.nodes.pop_back();
                self.len -= last;
            } else {
                self.pop_back();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model_check(l: &ListValue, m: &VecDeque<Vec<u8>>) {
        assert_eq!(l.len(), m.len());
        let got: Vec<Vec<u8>> = l.iter().map(|s| s.to_vec()).collect();
        let want: Vec<Vec<u8>> = m.iter().cloned().collect();
        assert_eq!(got, want);
    }

    #[test]
    fn random_ops_match_a_deque() {
        let mut rng = shoal_util::rand::FastRng::new(42);
        for limit in [NodeLimit(-1), NodeLimit(3), NodeLimit(-2)] {
            let mut l = ListValue::new();
            let mut m: VecDeque<Vec<u8>> = VecDeque::new();
            for step in 0..4000 {
                let len = rng.below(if step % 50 == 0 { 300 } else { 12 }) as usize;
                let v: Vec<u8> = (0..len).map(|_| b'a' + rng.below(3) as u8).collect();
                match rng.below(9) {
                    0 | 1 => {
                        l.push_back(&v, limit);
                        m.push_back(v);
                    }
                    2 | 3 => {
                        l.push_front(&v, limit);
                        m.push_front(v);
                    }
                    4 => assert_eq!(l.pop_front(), m.pop_front()),
                    5 => assert_eq!(l.pop_back(), m.pop_back()),
                    6 if !m.is_empty() => {
                        let i = rng.below(m.len() as u64) as usize;
                        assert_eq!(l.get(i), m.get(i).cloned());
                        l.set(i, &v, limit);
                        m[i] = v;
                    }
                    7 => {
                        let c = rng.below(5) as i64 - 2;
                        let target: Vec<u8> = vec![b'a'; rng.below(3) as usize];
                        let n = l.remove(&target, c, limit);
                        let max = if c == 0 { usize::MAX } else { c.unsigned_abs() as usize };
                        let mut removed = 0;
                        if c >= 0 {
                            let mut i = 0;
                            while i < m.len() {
                                if removed < max && m[i] == target {
                                    m.remove(i);
                                    removed += 1;
                                } else {
                                    i += 1;
                                }
                            }
                        } else {
                            let mut i = m.len();
                            while i > 0 {
                                i -= 1;
                                if removed < max && m[i] == target {
                                    m.remove(i);
                                    removed += 1;
                                }
                            }
                        }
                        assert_eq!(n, removed);
                    }
                    8 if !m.is_empty() => {
                        let i = rng.below(m.len() as u64) as usize;
                        let pivot = m[i].clone();
                        let after = rng.below(2) == 1;
                        assert!(l.insert(&pivot, &v, after, limit));
                        let first = m.iter().position(|x| *x == pivot).unwrap();
                        m.insert(if after { first + 1 } else { first }, v);
                    }
                    _ => {}
                }
                model_check(&l, &m);
            }
            let mut got = Vec::new();
            if !m.is_empty() {
                l.range(1.min(m.len() - 1), m.len() - 1, |s| got.push(s.to_vec()));
                assert_eq!(got, m.iter().skip(1.min(m.len() - 1)).cloned().collect::<Vec<_>>());
            }
            l.trim(1, 5);
            let want: VecDeque<Vec<u8>> = m.iter().skip(1).take(5).cloned().collect();
            model_check(&l, &want);
        }
    }

    #[test]
    fn small_items_are_compact() {
        let mut l = ListValue::new();
        for i in 0..100_000 {
            l.push_back(format!("{i}").as_bytes(), NodeLimit::default());
        }
        // ~5 bytes of payload plus 2 bytes of framing per item.
        assert!(l.heap_size() < 100_000 * 9, "{}", l.heap_size());
    }
}
