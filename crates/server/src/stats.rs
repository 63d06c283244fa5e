//! Counters behind INFO stats, commandstats, errorstats, SLOWLOG and LATENCY.

use std::collections::{BTreeMap, HashMap, VecDeque};

#[derive(Default, Clone)]
pub struct CommandStats {
    pub calls: u64,
    pub usec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
    /// Latency distribution (INFO latencystats), allocated on first use.
    pub latency: Option<Box<LatencyHistogram>>,
}

impl CommandStats {
    /// Records one call's duration for INFO latencystats (`latency-tracking`).
    pub fn record_latency_ns(&mut self, ns: u64) {
        self.latency
            .get_or_insert_with(|| Box::new(LatencyHistogram::new()))
            .record(ns);
    }
}

/// A latency distribution from 1 ns to 1 s with two significant decimal digits:
/// log-linear buckets (each power of two split into 128 linear steps), the same
/// bucketing HdrHistogram uses, so percentiles read the same as Redis's
/// `latency_percentiles_usec_*` lines.
#[derive(Clone)]
pub struct LatencyHistogram {
    counts: Box<[u64]>,
    total: u64,
}

/// log2 of half the linear steps per power of two.
const HIST_HALF_MAG: u32 = 7;
const HIST_HALF: usize = 1 << HIST_HALF_MAG;
/// Powers of two needed above the first 256 values to reach 1 s in ns.
const HIST_BUCKETS: usize = 23;
const HIST_MAX_NS: u64 = 1_000_000_000;

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    pub fn new() -> Self {
        LatencyHistogram {
            counts: vec![0; (HIST_BUCKETS + 1) * HIST_HALF].into_boxed_slice(),
            total: 0,
        }
    }

    fn index_of(v: u64) -> usize {
        // Values below 256 map one to one; above, bucket b has steps of 2^b.
        let bits = 64 - (v | (2 * HIST_HALF as u64 - 1)).leading_zeros() as usize;
        let bucket = bits - (HIST_HALF_MAG as usize + 1);
        let sub = (v >> bucket) as usize;
        ((bucket + 1) << HIST_HALF_MAG) + sub - HIST_HALF
    }

    /// The lowest and highest value that share index `i`.
    fn range_of(i: usize) -> (u64, u64) {
        let mut bucket = (i >> HIST_HALF_MAG) as i64 - 1;
        let mut sub = (i & (HIST_HALF - 1)) + HIST_HALF;
        if bucket < 0 {
            sub -= HIST_HALF;
            bucket = 0;
        }
        let low = (sub as u64) << bucket;
        (low, low + (1u64 << bucket) - 1)
    }

    /// Records a duration in nanoseconds (clamped to 1 ns ..= 1 s).
    pub fn record(&mut self, ns: u64) {
        let v = ns.clamp(1, HIST_MAX_NS);
        self.counts[Self::index_of(v)] += 1;
        self.total += 1;
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// The value (ns) at a percentile: the highest value equivalent to the
    /// sample reached, or the lowest for percentile 0.
    pub fn value_at_percentile(&self, percentile: f64) -> u64 {
        let p = percentile.min(100.0);
        let wanted = ((p / 100.0 * self.total as f64 + 0.5) as u64).max(1);
        let mut seen = 0;
        for (i, &n) in self.counts.iter().enumerate() {
            seen += n;
            if n > 0 && seen >= wanted {
                let (low, high) = Self::range_of(i);
                return if percentile == 0.0 { low } else { high };
            }
        }
        0
    }
}

/// Samples for an `instantaneous_*` metric: a value sampled every 100 ms, averaged
/// over the last 16 samples, as Redis does.
#[derive(Default)]
pub struct InstantMetric {
    last_time_ms: i64,
    last_value: u64,
    samples: [f64; 16],
    idx: usize,
}

impl InstantMetric {
    pub fn sample(&mut self, now_ms: i64, value: u64) {
        if self.last_time_ms > 0 {
            let dt = (now_ms - self.last_time_ms).max(1) as f64;
            let per_sec = (value.saturating_sub(self.last_value)) as f64 * 1000.0 / dt;
            self.samples[self.idx] = per_sec;
            self.idx = (self.idx + 1) % self.samples.len();
        }
        self.last_time_ms = now_ms;
        self.last_value = value;
    }
    pub fn value(&self) -> f64 {
        self.samples.iter().sum::<f64>() / self.samples.len() as f64
    }
}

#[derive(Default)]
pub struct Stats {
    pub connections_received: u64,
    pub sync_full: u64,
    pub sync_partial_ok: u64,
    pub sync_partial_err: u64,
    pub rdb_last_load_keys_loaded: u64,
    pub rdb_last_load_keys_expired: u64,
    pub commands_processed: u64,
    pub rejected_connections: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub expired_keys: u64,
    pub evicted_keys: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub total_error_replies: u64,
    pub unexpected_error_replies: u64,
    pub client_qbuf_limit_disconnections: u64,
    pub client_outbuf_limit_disconnections: u64,
    pub expire_cycle_cpu_ms: u64,
    pub errors: BTreeMap<String, u64>,
    pub commands: HashMap<&'static str, CommandStats, foldhash::fast::RandomState>,
    /// Highest `used_memory` seen (INFO used_memory_peak); reset by RESETSTAT.
    pub peak_memory: u64,
    pub ops: InstantMetric,
    pub input: InstantMetric,
    pub output: InstantMetric,
}

impl Stats {
    /// CONFIG RESETSTAT.
    pub fn reset(&mut self) {
        *self = Stats::default();
    }
}

#[cfg(test)]
mod histogram_tests {
    use super::LatencyHistogram;

    #[test]
    fn percentiles_use_equivalent_ranges() {
        let mut h = LatencyHistogram::new();
        h.record(14_000);
        // 14000 ns falls in the 64 ns wide step 13952..=14015.
        assert_eq!(h.value_at_percentile(50.0), 14_015);
        assert_eq!(h.value_at_percentile(0.0), 13_952);
        let mut h = LatencyHistogram::new();
        for v in [4_000, 4_000, 4_000, 10_092_000] {
            h.record(v);
        }
        assert_eq!(h.value_at_percentile(50.0), 4_015);
        assert_eq!(h.value_at_percentile(99.99), 10_092_543);
        assert_eq!(h.value_at_percentile(0.0), 4_000);
        let mut h = LatencyHistogram::new();
        h.record(0);
        h.record(5_000_000_000);
        assert_eq!(h.value_at_percentile(0.0), 1);
        assert_eq!(h.total(), 2);
        assert!(h.value_at_percentile(100.0) >= 1_000_000_000);
    }
}

pub struct SlowlogEntry {
    pub id: u64,
    pub time: i64,
    pub micros: u64,
    pub args: Vec<Vec<u8>>,
    pub peer: String,
    pub name: Vec<u8>,
}

#[derive(Default)]
pub struct Slowlog {
    pub entries: VecDeque<SlowlogEntry>,
    pub next_id: u64,
}

/// How many arguments and bytes per argument a slowlog entry keeps (as Redis).
const SLOWLOG_MAX_ARGC: usize = 32;
const SLOWLOG_MAX_ARGLEN: usize = 128;

impl Slowlog {
    pub fn push(&mut self, args: &[&[u8]], micros: u64, peer: String, name: Vec<u8>, max_len: usize) {
        let mut kept: Vec<Vec<u8>> = Vec::new();
        let argc = args.len().min(SLOWLOG_MAX_ARGC);
        for (i, a) in args.iter().take(argc).enumerate() {
            if argc != args.len() && i == argc - 1 {
                kept.push(format!("... ({} more arguments)", args.len() - argc + 1).into_bytes());
            } else if a.len() > SLOWLOG_MAX_ARGLEN {
                let mut v = a[..SLOWLOG_MAX_ARGLEN].to_vec();
                v.extend_from_slice(format!("... ({} more bytes)", a.len() - SLOWLOG_MAX_ARGLEN).as_bytes());
                kept.push(v);
            } else {
                kept.push(a.to_vec());
            }
        }
        self.entries.push_front(SlowlogEntry {
            id: self.next_id,
            time: crate::server::unix_ms() / 1000,
            micros,
            args: kept,
            peer,
            name,
        });
        self.next_id += 1;
        self.entries.truncate(max_len);
    }
}

/// One latency event's history (LATENCY HISTORY / LATEST).
#[derive(Default)]
pub struct LatencyEvent {
    /// (unix seconds, latency ms), oldest first, at most 160 samples.
    pub samples: VecDeque<(i64, u64)>,
    pub max: u64,
}

#[derive(Default)]
pub struct LatencyMonitor {
    pub events: BTreeMap<String, LatencyEvent>,
}

impl LatencyMonitor {
    /// Records a sample if it reaches the threshold (ms; 0 disables).
    pub fn record(&mut self, event: &str, ms: u64, threshold_ms: u64) {
        if threshold_ms == 0 || ms < threshold_ms {
            return;
        }
        let now = crate::server::unix_ms() / 1000;
        let ev = self.events.entry(event.to_string()).or_default();
        match ev.samples.back_mut() {
            Some(last) if last.0 == now => last.1 = last.1.max(ms),
            _ => {
                ev.samples.push_back((now, ms));
                if ev.samples.len() > 160 {
                    ev.samples.pop_front();
                }
            }
        }
        ev.max = ev.max.max(ms);
    }
}
