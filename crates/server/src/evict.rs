//! maxmemory: how much memory is in use, and sampled eviction by policy
//! (Redis's approximated LRU/LFU/TTL/random), plus the LFU access counter.
//!
//! Memory in use comes from the allocator: an exact jemalloc reading (`epoch`
//! advance + `stats.allocated`) taken every cron tick and whenever the limit
//! seems crossed, plus the engine thread's own allocation counters since then,
//! which cost two loads per command.

use crate::server::Server;
use shoal_config::MaxmemoryPolicy;
use tikv_jemalloc_ctl::thread::ThreadLocal;
use tikv_jemalloc_ctl::thread::{allocatedp, deallocatedp};

/// Estimates `used_memory` cheaply between exact readings.
pub struct MemoryGauge {
    snapshot: u64,
    alloc_at: u64,
    dealloc_at: u64,
    alloc: Option<ThreadLocal<u64>>,
    dealloc: Option<ThreadLocal<u64>>,
}

impl Default for MemoryGauge {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryGauge {
    /// Must be created on the engine thread (the counters are per thread).
    pub fn new() -> Self {
        let mut g = MemoryGauge {
            snapshot: 0,
            alloc_at: 0,
            dealloc_at: 0,
            alloc: allocatedp::read().ok(),
            dealloc: deallocatedp::read().ok(),
        };
        g.refresh();
        g
    }

    fn counters(&self) -> (u64, u64) {
        (
            self.alloc.as_ref().map_or(0, |a| a.get()),
            self.dealloc.as_ref().map_or(0, |d| d.get()),
        )
    }

    /// Takes an exact reading from the allocator.
    pub fn refresh(&mut self) {
        use tikv_jemalloc_ctl::{epoch, stats};
        let _ = epoch::advance();
        self.snapshot = stats::allocated::read().unwrap_or(0) as u64;
        (self.alloc_at, self.dealloc_at) = self.counters();
    }

    /// Bytes in use now (estimate).
    pub fn used(&self) -> u64 {
        let (a, d) = self.counters();
        (self.snapshot + a.saturating_sub(self.alloc_at)).saturating_sub(d.saturating_sub(self.dealloc_at))
    }
}

/// Redis's initial LFU counter for new keys.
pub const LFU_INIT: u32 = 5;

/// Minutes, 16 bits, as LFU keeps its last-decrement time.
pub fn lfu_minutes(now_ms: i64) -> u32 {
    shoal_util::lfu::minutes(now_ms)
}

pub fn is_lfu(policy: MaxmemoryPolicy) -> bool {
    matches!(policy, MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu)
}

/// The access stamp a new key starts with under the current policy.
pub fn initial_stamp(srv: &Server) -> u32 {
    if is_lfu(srv.config.maxmemory_policy) {
        (lfu_minutes(srv.now_ms) << 8) | LFU_INIT
    } else {
        srv.lru_clock
    }
}

/// The LFU counter after time decay (what OBJECT FREQ reports).
pub fn lfu_decayed(stamp: u32, now_ms: i64, decay_minutes: u32) -> u32 {
    shoal_util::lfu::decayed(stamp, lfu_minutes(now_ms), decay_minutes)
}

/// LFU word (minutes << 8 | counter) with a logarithmic, decayed increment.
#[inline]
pub fn access_stamp(
    old: u32,
    config: &shoal_config::Config,
    lru_clock: u32,
    now_ms: i64,
    rng: &mut shoal_util::rand::FastRng,
) -> u32 {
    if !is_lfu(config.maxmemory_policy) {
        return lru_clock;
    }
    let mut counter = lfu_decayed(old, now_ms, config.lfu_decay_time);
    if counter < 255 {
        let base = counter.saturating_sub(LFU_INIT) as f64;
        let p = 1.0 / (base * config.lfu_log_factor as f64 + 1.0);
        if rng.next_f64() < p {
            counter += 1;
        }
    }
    (lfu_minutes(now_ms) << 8) | counter
}

/// Evicts keys until memory is under `maxmemory`. Returns false when it cannot
/// (policy `noeviction`, or nothing evictable left).
pub fn perform_evictions(srv: &mut Server) -> bool {
    let limit = srv.config.maxmemory;
    if limit == 0 || srv.memory.used() <= limit {
        return true;
    }
    // The estimate may be stale (memory freed on other threads): re-read.
    srv.memory.refresh();
    if srv.memory.used() <= limit {
        return true;
    }
    let policy = srv.config.maxmemory_policy;
    if policy == MaxmemoryPolicy::Noeviction {
        return false;
    }
    let volatile = matches!(
        policy,
        MaxmemoryPolicy::VolatileLru
            | MaxmemoryPolicy::VolatileLfu
            | MaxmemoryPolicy::VolatileRandom
            | MaxmemoryPolicy::VolatileTtl
    );
    let samples = srv.config.maxmemory_samples.max(1) as usize;
    // Bound the work per call so one command never stalls on a huge deficit.
    for _ in 0..10_000 {
        if srv.memory.used() <= limit {
            return true;
        }
        let Some((db, key)) = pick_victim(srv, policy, volatile, samples) else {
            return false;
        };
        crate::snapshot::before_write(srv, db, Some(&[&key[..]]));
        if let Some(entry) = srv.keyspace.dbs[db].remove(&key) {
            srv.stats.evicted_keys += 1;
            crate::propagate::propagate_deletion(srv, db, &key, srv.config.lazyfree_lazy_eviction);
            crate::notify::notify(srv, None, crate::notify::class::EVICTED, "evicted", db, &key);
            srv.blocking.signal(db, &key);
            srv.watches.touch(db, &key);
            if srv.config.lazyfree_lazy_eviction {
                srv.lazyfree.free(entry);
                // Freed elsewhere: our thread's counters won't see it.
                srv.memory.refresh();
            }
        }
    }
    srv.memory.used() <= limit
}

/// Samples keys from every database and returns the best candidate.
fn pick_victim(srv: &mut Server, policy: MaxmemoryPolicy, volatile: bool, samples: usize) -> Option<(usize, Vec<u8>)> {
    let now = srv.now_ms;
    let clock = srv.lru_clock;
    let decay = srv.config.lfu_decay_time;
    let mut best: Option<(u64, usize, Vec<u8>)> = None;
    for db in 0..srv.keyspace.dbs.len() {
        let d = &srv.keyspace.dbs[db];
        if (volatile && d.volatile_len() == 0) || d.is_empty() {
            continue;
        }
        for (key, stamp, expire_at) in d.sample(&mut srv.rng, samples, volatile) {
            let score = match policy {
                MaxmemoryPolicy::AllkeysLru | MaxmemoryPolicy::VolatileLru => clock.saturating_sub(stamp) as u64,
                MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu => {
                    255 - lfu_decayed(stamp, now, decay) as u64
                }
                MaxmemoryPolicy::VolatileTtl => u64::MAX - expire_at.max(0) as u64,
                _ => 0,
            };
            if best.as_ref().is_none_or(|b| score > b.0) {
                best = Some((score, db, key));
            }
        }
    }
    best.map(|(_, db, key)| (db, key))
}
