//! Blocking commands (BLPOP, BLMOVE, BLMPOP, ...): which clients wait on which
//! keys, in arrival order, and which keys got data since the last serving pass.
//!
//! A blocking command that finds no data sets `ClientState::block_request`; the
//! event loop then parks the client here with its command. When a write command
//! touches a watched key, the key is marked ready and the parked commands run
//! again, first blocked first served, until one of them finds the key empty.
//! Nothing polls: a parked client costs nothing until its key or deadline comes.

use std::collections::{BTreeSet, HashMap, VecDeque};

#[derive(Default)]
pub struct Blocking {
    /// Client ids waiting per (db, key), in the order they blocked.
    waiting: HashMap<(usize, Vec<u8>), VecDeque<u64>>,
    /// Keys that may now serve someone.
    ready: VecDeque<(usize, Vec<u8>)>,
    /// (deadline ms, client id) of clients with a timeout.
    deadlines: BTreeSet<(i64, u64)>,
    /// Parked clients (INFO `blocked_clients`).
    clients: usize,
}

impl Blocking {
    /// No client is parked (on keys, or with only a deadline, like WAIT).
    pub fn is_empty(&self) -> bool {
        self.clients == 0
    }

    /// Number of distinct keys clients wait on (INFO `blocked_keys`... and tests).
    pub fn keys_watched(&self) -> usize {
        self.waiting.len()
    }

    /// Parked clients right now.
    pub fn blocked_clients(&self) -> usize {
        self.clients
    }

    /// Parks client `id` on `keys` (called once per parking).
    pub fn add(&mut self, id: u64, db: usize, keys: &[Vec<u8>], deadline_ms: Option<i64>) {
        self.clients += 1;
        for k in keys {
            let q = self.waiting.entry((db, k.clone())).or_default();
            if !q.contains(&id) {
                q.push_back(id);
            }
        }
        if let Some(d) = deadline_ms {
            self.deadlines.insert((d, id));
        }
    }

    /// Unparks client `id` (called once per unparking).
    pub fn remove(&mut self, id: u64, db: usize, keys: &[Vec<u8>], deadline_ms: Option<i64>) {
        self.clients -= 1;
        for k in keys {
            let slot = (db, k.clone());
            if let Some(q) = self.waiting.get_mut(&slot) {
                q.retain(|&c| c != id);
                if q.is_empty() {
                    self.waiting.remove(&slot);
                }
            }
        }
        if let Some(d) = deadline_ms {
            self.deadlines.remove(&(d, id));
        }
    }

    /// Marks a key ready if someone waits on it.
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        let slot = (db, key.to_vec());
        if self.waiting.contains_key(&slot) && !self.ready.contains(&slot) {
            self.ready.push_back(slot);
        }
    }

    /// Marks every watched key ready (after SWAPDB, MOVE, FLUSHALL...).
    pub fn signal_all(&mut self) {
        let all: Vec<_> = self.waiting.keys().cloned().collect();
        for slot in all {
            if !self.ready.contains(&slot) {
                self.ready.push_back(slot);
            }
        }
    }

    pub fn next_ready(&mut self) -> Option<(usize, Vec<u8>)> {
        self.ready.pop_front()
    }

    /// Clients waiting on a key, first blocked first.
    pub fn waiters(&self, db: usize, key: &[u8]) -> Vec<u64> {
        self.waiting
            .get(&(db, key.to_vec()))
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The earliest deadline, for the event loop's poll timeout.
    pub fn next_deadline(&self) -> Option<i64> {
        self.deadlines.first().map(|&(d, _)| d)
    }

    /// Takes the clients whose deadline has passed out of the deadline set.
    pub fn take_expired(&mut self, now_ms: i64) -> Vec<u64> {
        let mut out = Vec::new();
        while let Some(&(d, id)) = self.deadlines.first() {
            if d > now_ms {
                break;
            }
            self.deadlines.pop_first();
            out.push(id);
        }
        out
    }
}
