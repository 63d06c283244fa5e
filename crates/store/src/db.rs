//! One numbered database.
//!
//! Keys are spread over one hash table per cluster hash slot (CRC16 of the key or its
//! `{hash tag}`, mod 16384). Why per slot:
//! - never stall: a table only ever grows or shrinks with its own slot's keys, a
//!   1/16384 share of the database, so no single resize touches the whole keyspace;
//! - slot operations (COUNTKEYSINSLOT, GETKEYSINSLOT, migration) touch one table;
//! - SCAN walks the slots in order and returns whole slots, so every key present for
//!   the whole scan is returned at least once whatever resizes happen in between.
//!
//! Each table holds [`EntryBox`]es: 8 bytes plus a control byte per bucket, and
//! the entry (value, LRU, expiry, key) in one allocation (see [`crate::entry`]).

use crate::value::Value;
use crate::SLOTS;
use hashbrown::HashTable;
use shoal_util::crc16::key_hash_slot;
use shoal_util::glob::glob_match;
use std::hash::BuildHasher;

pub use crate::entry::{Entry, EntryBox, FLAG_RAW, NO_EXPIRE};

#[derive(Default)]
struct SlotTable {
    table: HashTable<EntryBox>,
    /// Keys with a TTL in this slot, so the expiry cycle can skip slots without.
    volatile: u32,
}

/// Outcome of a lookup that may find an expired key.
pub enum Lookup<'a> {
    Found(&'a mut Entry),
    Missing,
    /// The key had expired and was removed by this lookup.
    Expired,
}

type Hasher = foldhash::fast::FixedState;

pub struct Db {
    /// Empty until the first key arrives, then [`SLOTS`] tables.
    slots: Vec<SlotTable>,
    hasher: Hasher,
    len: usize,
    volatile: usize,
    /// Where the active expiry cycle continues.
    expire_cursor: usize,
    /// When false, lookups don't remove expired keys (replicas; set by the server).
    pub expire_on_lookup: bool,
    /// The server's LRU clock (seconds), stamped on keys as they are created.
    pub lru_clock: u32,
    /// Hashes with field TTLs (see [`Db::note_field_ttls`]), by the time
    /// their earliest field expires, so field expiry finds the due ones
    /// first. An indexed time may be earlier than the hash's (a TTL was
    /// removed or moved later): the walk re-files it. Never later.
    hfe: HfeIndex,
}

#[derive(Default)]
struct HfeIndex {
    /// key -> the time it is filed under.
    by_key: std::collections::BTreeMap<Vec<u8>, i64>,
    by_time: std::collections::BTreeSet<(i64, Vec<u8>)>,
}

impl HfeIndex {
    fn file(&mut self, key: &[u8], at: i64) {
        match self.by_key.get_mut(key) {
            Some(t) if *t <= at => {}
            Some(t) => {
                self.by_time.remove(&(*t, key.to_vec()));
                *t = at;
                self.by_time.insert((at, key.to_vec()));
            }
            None => {
                self.by_key.insert(key.to_vec(), at);
                self.by_time.insert((at, key.to_vec()));
            }
        }
    }

    fn forget(&mut self, key: &[u8]) {
        if let Some(t) = self.by_key.remove(key) {
            self.by_time.remove(&(t, key.to_vec()));
        }
    }
}

/// Fields that [`Db::field_expire_step`] removed from one hash.
pub struct ExpiredFields {
    pub key: Vec<u8>,
    pub fields: Vec<Vec<u8>>,
    /// The key itself, when its last field expired and it was deleted.
    pub deleted: Option<EntryBox>,
}

impl Default for Db {
    fn default() -> Self {
        Self::new()
    }
}

/// What a SCAN step returns.
pub struct ScanPage {
    pub next_cursor: u64,
    pub keys: Vec<Vec<u8>>,
}

impl Db {
    pub fn new() -> Self {
        Db {
            slots: Vec::new(),
            hasher: Hasher::with_seed(0x5ea1_5ea1_dead_beef),
            len: 0,
            volatile: 0,
            expire_cursor: 0,
            expire_on_lookup: true,
            lru_clock: 0,
            hfe: HfeIndex::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keys with a TTL.
    pub fn volatile_len(&self) -> usize {
        self.volatile
    }

    #[inline]
    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    fn ensure_slots(&mut self) {
        if self.slots.is_empty() {
            self.slots.resize_with(SLOTS, SlotTable::default);
        }
    }

    /// Finds a live key without side effects (expired keys read as missing).
    pub fn peek(&self, key: &[u8], now_ms: i64) -> Option<&Entry> {
        if self.slots.is_empty() {
            return None;
        }
        let slot = &self.slots[key_hash_slot(key) as usize];
        let e = slot.table.find(self.hash(key), |e| e.key() == key)?;
        if e.is_expired(now_ms) {
            None
        } else {
            Some(e)
        }
    }

    /// Finds a key, removing it if it has expired (unless `expire_on_lookup` is off,
    /// in which case an expired key reads as missing but stays).
    pub fn lookup(&mut self, key: &[u8], now_ms: i64) -> Lookup<'_> {
        if self.slots.is_empty() {
            return Lookup::Missing;
        }
        let hash = self.hash(key);
        let slot_idx = key_hash_slot(key) as usize;
        let expired = match self.slots[slot_idx].table.find(hash, |e| e.key() == key) {
            None => return Lookup::Missing,
            Some(e) => e.is_expired(now_ms),
        };
        if expired {
            if self.expire_on_lookup {
                self.remove_in_slot(slot_idx, hash, key);
                return Lookup::Expired;
            }
            return Lookup::Missing;
        }
        match self.slots[slot_idx].table.find_mut(hash, |e| e.key() == key) {
            Some(e) => Lookup::Found(e),
            None => Lookup::Missing,
        }
    }

    /// Convenience: the live entry or None (expired keys are removed).
    pub fn get_mut(&mut self, key: &[u8], now_ms: i64) -> Option<&mut Entry> {
        match self.lookup(key, now_ms) {
            Lookup::Found(e) => Some(e),
            _ => None,
        }
    }

    /// Inserts or replaces a key. The TTL is dropped unless `keep_ttl`. Returns the
    /// old value if there was one (expired or not; callers drop or lazily free it).
    pub fn set(&mut self, key: &[u8], value: Value, keep_ttl: bool) -> Option<Value> {
        let field_ttls = matches!(&value, Value::Hash(h) if h.has_field_ttls());
        let old = self.set_inner(key, value, keep_ttl);
        if field_ttls {
            self.note_field_ttls(key);
        } else if matches!(&old, Some(Value::Hash(h)) if h.has_field_ttls()) {
            self.hfe.forget(key);
        }
        old
    }

    fn set_inner(&mut self, key: &[u8], value: Value, keep_ttl: bool) -> Option<Value> {
        self.ensure_slots();
        let hash = self.hash(key);
        let slot_idx = key_hash_slot(key) as usize;
        let hasher = &self.hasher;
        let slot = &mut self.slots[slot_idx];
        if let Some(e) = slot.table.find_mut(hash, |e| e.key() == key) {
            e.flags = 0;
            if !keep_ttl && e.has_expire() {
                e.try_set_expire(NO_EXPIRE);
                slot.volatile -= 1;
                self.volatile -= 1;
            }
            return Some(std::mem::replace(&mut e.value, value));
        }
        let entry = EntryBox::new(key, value, NO_EXPIRE, self.lru_clock);
        slot.table.insert_unique(hash, entry, |e| hasher.hash_one(e.key()));
        self.len += 1;
        None
    }

    /// Inserts a key with its TTL unless it exists, in one probe (loading a
    /// file, where a duplicate is an error). Gives the value back if it exists.
    pub fn insert_new(&mut self, key: &[u8], value: Value, expire_at: i64) -> Result<(), Value> {
        let field_ttls = matches!(&value, Value::Hash(h) if h.has_field_ttls());
        self.ensure_slots();
        let hash = self.hash(key);
        let hasher = &self.hasher;
        let slot = &mut self.slots[key_hash_slot(key) as usize];
        if slot.table.find(hash, |e| e.key() == key).is_some() {
            return Err(value);
        }
        let entry = EntryBox::new(key, value, expire_at, self.lru_clock);
        slot.table.insert_unique(hash, entry, |e| hasher.hash_one(e.key()));
        if expire_at != NO_EXPIRE {
            slot.volatile += 1;
            self.volatile += 1;
        }
        self.len += 1;
        if field_ttls {
            self.note_field_ttls(key);
        }
        Ok(())
    }

    /// Inserts a key that is known to be absent, with its TTL.
    pub fn insert_entry(&mut self, key: &[u8], value: Value, expire_at: i64) {
        self.set(key, value, false);
        if expire_at != NO_EXPIRE {
            self.set_expire(key, expire_at);
        }
    }

    fn remove_in_slot(&mut self, slot_idx: usize, hash: u64, key: &[u8]) -> Option<EntryBox> {
        let slot = &mut self.slots[slot_idx];
        let found = slot.table.find_entry(hash, |e| e.key() == key).ok()?;
        let (entry, _) = found.remove();
        if matches!(&entry.value, Value::Hash(h) if h.has_field_ttls()) {
            self.hfe.forget(key);
        }
        let slot = &mut self.slots[slot_idx];
        if entry.has_expire() {
            slot.volatile -= 1;
            self.volatile -= 1;
        }
        self.len -= 1;
        // Give memory back when a slot table became mostly empty.
        let cap = slot.table.capacity();
        if cap > 64 && slot.table.len() * 8 < cap {
            let hasher = &self.hasher;
            slot.table.shrink_to(slot.table.len() * 2, |e| hasher.hash_one(e.key()));
        }
        Some(entry)
    }

    /// Removes a key (expired or not) and returns its entry.
    pub fn remove(&mut self, key: &[u8]) -> Option<EntryBox> {
        if self.slots.is_empty() {
            return None;
        }
        let hash = self.hash(key);
        self.remove_in_slot(key_hash_slot(key) as usize, hash, key)
    }

    /// Sets an absolute expiry (ms) on an existing key. Returns false if absent.
    pub fn set_expire(&mut self, key: &[u8], at_ms: i64) -> bool {
        if self.slots.is_empty() {
            return false;
        }
        let hash = self.hash(key);
        let slot = &mut self.slots[key_hash_slot(key) as usize];
        let Some(e) = slot.table.find_mut(hash, |e| e.key() == key) else {
            return false;
        };
        match (!e.has_expire(), at_ms == NO_EXPIRE) {
            (true, false) => {
                slot.volatile += 1;
                self.volatile += 1;
            }
            (false, true) => {
                slot.volatile -= 1;
                self.volatile -= 1;
            }
            _ => {}
        }
        e.set_expire(at_ms);
        true
    }

    /// Records that `key` holds a hash with field TTLs, so field expiry finds
    /// it when its earliest field is due (called when a command gives a field
    /// a TTL; [`Db::set`] and [`Db::insert_new`] do it for values that arrive
    /// with field TTLs: RESTORE, RENAME, MOVE, COPY, loading).
    pub fn note_field_ttls(&mut self, key: &[u8]) {
        let min = match self.peek(key, i64::MIN).map(|e| &e.value) {
            Some(Value::Hash(h)) => h.min_field_expire(),
            _ => None,
        };
        if let Some(at) = min {
            self.hfe.file(key, at);
        }
    }

    /// Whether `key` may hold a hash with field TTLs (false for every key of a
    /// database without any: one length test).
    #[inline]
    pub fn may_have_field_ttls(&self, key: &[u8]) -> bool {
        !self.hfe.by_key.is_empty() && self.hfe.by_key.contains_key(key)
    }

    /// Number of hashes filed for field expiry (an upper bound of the hashes
    /// with field TTLs).
    pub fn field_ttl_keys(&self) -> usize {
        self.hfe.by_key.len()
    }

    /// Whether some hash may have a field due at `now_ms` (one comparison).
    #[inline]
    pub fn fields_due(&self, now_ms: i64) -> bool {
        self.hfe.by_time.first().is_some_and(|(t, _)| *t <= now_ms)
    }

    /// One bounded step of active field expiry: takes up to `budget` hashes
    /// filed as due at `now_ms`, earliest first, removes their due fields (at
    /// most `budget` per hash), deletes a hash whose last field went, and
    /// files the others again under their next time. Returns the number of
    /// hashes visited.
    pub fn field_expire_step(&mut self, now_ms: i64, budget: usize, out: &mut Vec<ExpiredFields>) -> usize {
        let mut visited = 0;
        while visited < budget {
            let Some((t, key)) = self.hfe.by_time.first().cloned() else {
                break;
            };
            if t > now_ms {
                break;
            }
            visited += 1;
            self.hfe.forget(&key);
            let mut next = None;
            let mut fields = Vec::new();
            let mut empty = false;
            if let Some(e) = self.peek_mut_raw(&key) {
                if let Value::Hash(h) = &mut e.value {
                    fields = h.purge_expired(now_ms, budget);
                    empty = h.is_empty();
                    next = h.min_field_expire();
                }
            }
            if let Some(at) = next {
                self.hfe.file(&key, at);
            }
            if !fields.is_empty() {
                let deleted = if empty { self.remove(&key) } else { None };
                out.push(ExpiredFields { key, fields, deleted });
            }
        }
        visited
    }

    /// The entry of `key` whether or not it expired, without side effects.
    fn peek_mut_raw(&mut self, key: &[u8]) -> Option<&mut Entry> {
        if self.slots.is_empty() {
            return None;
        }
        let hash = self.hash(key);
        let slot = &mut self.slots[key_hash_slot(key) as usize];
        slot.table.find_mut(hash, |e| e.key() == key).map(|b| &mut **b)
    }

    /// Drops every key, returning the old tables so the caller can free them off
    /// the engine thread.
    pub fn take_all(&mut self) -> Db {
        let mut fresh = Db::new();
        fresh.expire_on_lookup = self.expire_on_lookup;
        fresh.lru_clock = self.lru_clock;
        std::mem::replace(self, fresh)
    }

    /// Number of keys in one hash slot.
    pub fn count_in_slot(&self, slot: u16) -> usize {
        self.slots.get(slot as usize).map_or(0, |s| s.table.len())
    }

    /// Up to `count` keys of one hash slot.
    pub fn keys_in_slot(&self, slot: u16, count: usize) -> Vec<Vec<u8>> {
        match self.slots.get(slot as usize) {
            None => Vec::new(),
            Some(s) => s.table.iter().take(count).map(|e| e.key().to_vec()).collect(),
        }
    }

    /// All live keys matching a glob pattern (KEYS).
    pub fn keys(&self, pattern: &[u8], now_ms: i64) -> Vec<Vec<u8>> {
        let all = pattern == b"*";
        let mut out = Vec::new();
        for slot in &self.slots {
            for e in slot.table.iter() {
                if !e.is_expired(now_ms) && (all || glob_match(pattern, e.key(), false)) {
                    out.push(e.key().to_vec());
                }
            }
        }
        out
    }

    /// One SCAN step: whole slots from `cursor` on until at least `count` keys were
    /// visited. `filter` decides which visited entries are returned. Expired keys
    /// met on the way are not returned but listed in `expired`, so the caller can
    /// delete them as Redis's SCAN does.
    pub fn scan(
        &self,
        cursor: u64,
        count: usize,
        now_ms: i64,
        expired: &mut Vec<Vec<u8>>,
        mut filter: impl FnMut(&Entry) -> bool,
    ) -> ScanPage {
        let mut keys = Vec::new();
        if self.slots.is_empty() {
            return ScanPage { next_cursor: 0, keys };
        }
        // Cursors we hand out are slot numbers; like Redis, which masks a cursor
        // with its table size, a made-up cursor is taken modulo the slot count.
        let mut slot = (cursor % SLOTS as u64) as usize;
        let mut visited = 0;
        while slot < SLOTS && visited < count {
            for e in self.slots[slot].table.iter() {
                visited += 1;
                if e.is_expired(now_ms) {
                    expired.push(e.key().to_vec());
                } else if filter(e) {
                    keys.push(e.key().to_vec());
                }
            }
            slot += 1;
        }
        ScanPage {
            next_cursor: if slot >= SLOTS { 0 } else { slot as u64 },
            keys,
        }
    }

    /// Up to `n` random entries (key, access stamp, expiry), for eviction.
    /// With `volatile_only`, only keys with a TTL. Bounded work: a sparse match
    /// may return fewer than `n`.
    pub fn sample(
        &self,
        rng: &mut shoal_util::rand::FastRng,
        n: usize,
        volatile_only: bool,
    ) -> Vec<(Vec<u8>, u32, i64)> {
        let mut out = Vec::with_capacity(n);
        if self.len == 0 || (volatile_only && self.volatile == 0) {
            return out;
        }
        for _ in 0..n * 16 {
            if out.len() >= n {
                break;
            }
            let slot = rng.below(SLOTS as u64) as usize;
            let s = &self.slots[slot];
            if s.table.is_empty() || (volatile_only && s.volatile == 0) {
                continue;
            }
            let Some(e) = s.table.iter().nth(rng.below(s.table.len() as u64) as usize) else {
                continue;
            };
            if !volatile_only || e.has_expire() {
                out.push((e.key().to_vec(), e.lru, e.expire_at()));
            }
        }
        if out.is_empty() {
            // Few candidates spread thin: take the first ones from a random start.
            let start = rng.below(SLOTS as u64) as usize;
            for i in 0..SLOTS {
                let s = &self.slots[(start + i) % SLOTS];
                for e in s.table.iter() {
                    if !volatile_only || e.has_expire() {
                        out.push((e.key().to_vec(), e.lru, e.expire_at()));
                        if out.len() >= n {
                            return out;
                        }
                    }
                }
            }
        }
        out
    }

    /// A random live key, or None if the database is empty (RANDOMKEY).
    pub fn random_key(&self, rng: &mut shoal_util::rand::FastRng, now_ms: i64) -> Option<Vec<u8>> {
        if self.len == 0 {
            return None;
        }
        // Mostly-expired databases could make sampling loop long: bound the tries,
        // then fall back to a full walk.
        for _ in 0..100 {
            let slot = self.random_nonempty_slot(rng)?;
            let t = &self.slots[slot].table;
            let e = t.iter().nth(rng.below(t.len() as u64) as usize)?;
            if !e.is_expired(now_ms) {
                return Some(e.key().to_vec());
            }
        }
        self.slots
            .iter()
            .flat_map(|s| s.table.iter())
            .find(|e| !e.is_expired(now_ms))
            .map(|e| e.key().to_vec())
    }

    fn random_nonempty_slot(&self, rng: &mut shoal_util::rand::FastRng) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        if self.len < 64 {
            // Few keys: pick uniformly among keys, not slots.
            let mut n = rng.below(self.len as u64) as usize;
            for (i, s) in self.slots.iter().enumerate() {
                if n < s.table.len() {
                    return Some(i);
                }
                n -= s.table.len();
            }
            return None;
        }
        loop {
            let i = rng.below(SLOTS as u64) as usize;
            if !self.slots[i].table.is_empty() {
                return Some(i);
            }
        }
    }

    /// One bounded step of active expiry: visits at most `budget` keys with a TTL,
    /// starting where the previous step stopped, and removes the expired ones.
    /// Returns (keys removed, keys visited).
    pub fn active_expire_step(&mut self, now_ms: i64, budget: usize, removed: &mut Vec<EntryBox>) -> (usize, usize) {
        if self.volatile == 0 || self.slots.is_empty() {
            return (0, 0);
        }
        let mut visited = 0;
        let mut expired_keys: Vec<Vec<u8>> = Vec::new();
        let mut slots_seen = 0;
        let mut count = 0;
        while visited < budget && slots_seen < SLOTS {
            let slot_idx = self.expire_cursor;
            self.expire_cursor = (self.expire_cursor + 1) % SLOTS;
            slots_seen += 1;
            let slot = &self.slots[slot_idx];
            if slot.volatile == 0 {
                continue;
            }
            for e in slot.table.iter() {
                if e.has_expire() {
                    visited += 1;
                    if e.is_expired(now_ms) {
                        expired_keys.push(e.key().to_vec());
                    }
                }
            }
            for k in expired_keys.drain(..) {
                let hash = self.hash(&k);
                if let Some(e) = self.remove_in_slot(slot_idx, hash, &k) {
                    removed.push(e);
                    count += 1;
                }
            }
        }
        (count, visited)
    }

    /// The live and expired entries of one hash slot (snapshots walk slot by slot).
    pub fn slot_iter(&self, slot: usize) -> impl Iterator<Item = &Entry> {
        self.slots
            .get(slot)
            .into_iter()
            .flat_map(|s| s.table.iter().map(|b| &**b))
    }

    /// Total of the per-entry memory estimate (used by DEBUG/MEMORY helpers).
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.slots.iter().flat_map(|s| s.table.iter().map(|b| &**b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shoal_util::rand::FastRng;

    fn v(s: &str) -> Value {
        Value::from_bytes(s.as_bytes())
    }

    #[test]
    fn table_buckets_hold_thin_pointers() {
        assert_eq!(std::mem::size_of::<EntryBox>(), 8);
    }

    #[test]
    fn set_get_remove() {
        let mut db = Db::new();
        assert!(db.set(b"a", v("1"), false).is_none());
        assert!(db.set(b"a", v("2"), false).is_some());
        assert_eq!(db.len(), 1);
        assert_eq!(db.peek(b"a", 0).unwrap().value, Value::Int(2));
        assert!(db.remove(b"a").is_some());
        assert!(db.remove(b"a").is_none());
        assert_eq!(db.len(), 0);
    }

    #[test]
    fn expiry_lazy_and_active() {
        let mut db = Db::new();
        for i in 0..1000 {
            let k = format!("k{i}");
            db.set(k.as_bytes(), v("x"), false);
            if i % 2 == 0 {
                db.set_expire(k.as_bytes(), 100);
            }
        }
        assert_eq!(db.volatile_len(), 500);
        assert!(db.peek(b"k0", 99).is_some());
        assert!(db.peek(b"k0", 100).is_none());
        assert!(matches!(db.lookup(b"k0", 100), Lookup::Expired));
        let mut removed = Vec::new();
        let mut total = 1;
        while db.volatile_len() > 0 {
            total += db.active_expire_step(200, 50, &mut removed).0;
        }
        assert_eq!(total, 500);
        assert_eq!(db.len(), 500);
        // set without keep_ttl clears the TTL and the volatile count.
        db.set(b"k1", v("y"), false);
        db.set_expire(b"k1", 5000);
        assert_eq!(db.volatile_len(), 1);
        db.set(b"k1", v("z"), true);
        assert_eq!(db.volatile_len(), 1);
        db.set(b"k1", v("z"), false);
        assert_eq!(db.volatile_len(), 0);
    }

    #[test]
    fn scan_returns_every_key_across_growth() {
        let mut db = Db::new();
        for i in 0..2000 {
            db.set(format!("key:{i}").as_bytes(), v("x"), false);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut extra = 0;
        loop {
            let page = db.scan(cursor, 10, 0, &mut Vec::new(), |_| true);
            seen.extend(page.keys);
            // Grow the table while scanning.
            for _ in 0..50 {
                db.set(format!("new:{extra}").as_bytes(), v("x"), false);
                extra += 1;
            }
            cursor = page.next_cursor;
            if cursor == 0 {
                break;
            }
        }
        for i in 0..2000 {
            assert!(seen.contains(format!("key:{i}").as_bytes()));
        }
    }

    #[test]
    fn slots_and_random() {
        let mut db = Db::new();
        db.set(b"{user1}:a", v("1"), false);
        db.set(b"{user1}:b", v("1"), false);
        let slot = key_hash_slot(b"user1");
        assert_eq!(db.count_in_slot(slot), 2);
        assert_eq!(db.keys_in_slot(slot, 1).len(), 1);
        let mut rng = FastRng::new(7);
        assert!(db.random_key(&mut rng, 0).unwrap().starts_with(b"{user1}"));
        assert_eq!(db.keys(b"*:a", 0), vec![b"{user1}:a".to_vec()]);
    }

    #[test]
    fn field_expiry_index_finds_due_hashes() {
        use crate::hash::{HashLimits, HashValue};
        let lim = HashLimits {
            max_entries: 128,
            max_value: 64,
        };
        let mut db = Db::new();
        for (k, at) in [("a", 100), ("b", 50), ("c", 300)] {
            let mut h = HashValue::new();
            h.insert(b"f", b"1", lim);
            h.insert(b"g", b"2", lim);
            h.set_field_expire(b"f", at);
            if k == "b" {
                h.set_field_expire(b"g", at + 10);
            }
            db.set(k.as_bytes(), Value::Hash(h), false);
        }
        db.set(b"plain", v("x"), false);
        assert_eq!(db.field_ttl_keys(), 3);
        assert!(db.may_have_field_ttls(b"a") && !db.may_have_field_ttls(b"plain"));
        assert!(!db.fields_due(49));
        let mut out = Vec::new();
        assert_eq!(db.field_expire_step(49, 10, &mut out), 0);
        // b (fields at 50 and 60) first, then a (100).
        assert_eq!(db.field_expire_step(100, 10, &mut out), 2);
        let got: Vec<_> = out
            .iter()
            .map(|x| (x.key.clone(), x.fields.clone(), x.deleted.is_some()))
            .collect();
        assert_eq!(
            got,
            vec![
                (b"b".to_vec(), vec![b"f".to_vec(), b"g".to_vec()], true),
                (b"a".to_vec(), vec![b"f".to_vec()], false),
            ]
        );
        assert_eq!(db.field_ttl_keys(), 1);
        // A hash whose every field expires is deleted.
        let mut h = HashValue::new();
        h.insert(b"only", b"1", lim);
        h.set_field_expire(b"only", 200);
        db.set(b"d", Value::Hash(h), false);
        out.clear();
        db.field_expire_step(250, 10, &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].deleted.is_some());
        assert!(db.peek(b"d", 0).is_none());
        // Deleting or replacing a hash forgets it.
        db.remove(b"c");
        assert_eq!(db.field_ttl_keys(), 0);
        assert!(!db.fields_due(i64::MAX));
    }
}
