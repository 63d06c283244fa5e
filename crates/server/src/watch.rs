//! WATCH bookkeeping for optimistic transactions.
//!
//! A transaction is invalidated when a write command touches a watched key
//! (any client, including the watcher itself), or when a watched key's
//! existence changed since WATCH without a command touching it (expiry,
//! FLUSHALL, SWAPDB): EXEC compares existence at WATCH time with now.

use std::collections::{HashMap, HashSet};

#[derive(Default)]
pub struct Watches {
    /// Watching client ids per (db, key).
    by_key: HashMap<(usize, Vec<u8>), Vec<u64>>,
    /// Clients whose transaction a write already invalidated.
    dirty: HashSet<u64>,
}

impl Watches {
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    pub fn watch(&mut self, id: u64, db: usize, key: &[u8]) {
        let ids = self.by_key.entry((db, key.to_vec())).or_default();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }

    /// Forgets a client's watches (UNWATCH, EXEC, DISCARD, RESET, disconnect).
    pub fn unwatch(&mut self, id: u64, keys: &[(usize, Vec<u8>, bool)]) {
        for (db, key, _) in keys {
            let slot = (*db, key.clone());
            if let Some(ids) = self.by_key.get_mut(&slot) {
                ids.retain(|&c| c != id);
                if ids.is_empty() {
                    self.by_key.remove(&slot);
                }
            }
        }
        self.dirty.remove(&id);
    }

    /// A write touched `key`.
    pub fn touch(&mut self, db: usize, key: &[u8]) {
        if let Some(ids) = self.by_key.get(&(db, key.to_vec())) {
            self.dirty.extend(ids.iter().copied());
        }
    }

    /// A write whose keys are not known touched something: every watcher loses.
    pub fn touch_all(&mut self) {
        for ids in self.by_key.values() {
            self.dirty.extend(ids.iter().copied());
        }
    }

    pub fn is_dirty(&self, id: u64) -> bool {
        self.dirty.contains(&id)
    }
}
