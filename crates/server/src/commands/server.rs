//! Server commands: INFO, CONFIG, DEBUG, TIME, LASTSAVE, SHUTDOWN, MONITOR.
//!
//! INFO prints the sections and field names of Redis 7.0 in its order, with the
//! truthful values of a node that has no persistence, replicas or cluster yet.
//! Memory figures come from jemalloc (`stats.allocated/active/resident`) and
//! `/proc/self/statm`; [`MemoryReport`] gathers them once for INFO memory,
//! MEMORY STATS and MEMORY DOCTOR.

use super::{eq_ic, err, help_reply, Ctx};
use crate::client::ClientState;
use crate::server::{unix_ms, unix_us, Server, VERSION};
use crate::{log, notice, warning};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

// ---------------------------------------------------------------------------
// Memory accounting shared by INFO, MEMORY STATS and MEMORY DOCTOR.

/// jemalloc's `stats.allocated` right after start-up (INFO used_memory_startup).
static STARTUP_MEMORY: AtomicU64 = AtomicU64::new(0);

/// Remembers the memory in use once the server is initialized, the baseline of
/// `used_memory_startup` and `used_memory_dataset`. Call it once at start-up;
/// without it the first INFO or MEMORY STATS takes the baseline.
pub fn record_startup_memory() {
    let (allocated, _, _) = jemalloc_stats();
    STARTUP_MEMORY.store(allocated, Ordering::Relaxed);
}

fn startup_memory(current: u64) -> u64 {
    match STARTUP_MEMORY.load(Ordering::Relaxed) {
        0 => {
            STARTUP_MEMORY.store(current, Ordering::Relaxed);
            current
        }
        v => v,
    }
}

/// jemalloc's allocated, active and resident bytes, freshly sampled.
pub fn jemalloc_stats() -> (u64, u64, u64) {
    use tikv_jemalloc_ctl::{epoch, stats};
    let _ = epoch::advance();
    (
        stats::allocated::read().unwrap_or(0) as u64,
        stats::active::read().unwrap_or(0) as u64,
        stats::resident::read().unwrap_or(0) as u64,
    )
}

/// The jemalloc version, as INFO's `mem_allocator` shows it (`jemalloc-5.3.0`).
fn allocator_name() -> String {
    let v = tikv_jemalloc_ctl::version::read().unwrap_or("unknown");
    format!("jemalloc-{}", v.split('-').next().unwrap_or(v))
}

fn page_size() -> u64 {
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as u64
    } else {
        4096
    }
}

/// Resident set size of the process, from `/proc/self/statm`.
pub fn process_rss() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()))
        .map(|pages| pages * page_size())
        .unwrap_or(0)
}

fn total_system_memory() -> u64 {
    let pages = unsafe { libc::sysconf(libc::_SC_PHYS_PAGES) };
    if pages > 0 {
        pages as u64 * page_size()
    } else {
        0
    }
}

/// Bytes a client connection holds: its buffers and its own structures.
fn client_memory(query_capacity: usize, state: &ClientState) -> u64 {
    (std::mem::size_of::<crate::client::Client>() + query_capacity + state.out.buf.capacity()) as u64
}

/// Estimated bookkeeping bytes of a database's tables (not keys and values): the
/// per-slot table headers once the database holds a key, plus a pointer and a
/// control byte per bucket at the tables' maximum load (7/8).
pub fn db_overhead(db: &shoal_store::Db) -> u64 {
    if db.is_empty() {
        return 0;
    }
    const SLOT_TABLE_HEADER: u64 = 40;
    shoal_store::SLOTS as u64 * SLOT_TABLE_HEADER + db.len() as u64 * 9 * 8 / 7
}

/// One consistent sample of the memory figures INFO and MEMORY report.
pub struct MemoryReport {
    /// jemalloc `stats.allocated`: INFO used_memory.
    pub used: u64,
    pub peak: u64,
    pub startup: u64,
    pub allocated: u64,
    pub active: u64,
    pub resident: u64,
    pub rss: u64,
    pub clients_normal: u64,
    /// Per database with keys: (index, table overhead).
    pub db_overheads: Vec<(usize, u64)>,
    pub overhead: u64,
    pub keys: u64,
}

impl MemoryReport {
    /// Samples the allocator and walks the clients; `me` is the calling client,
    /// which is out of the client table while its command runs.
    pub fn collect(srv: &mut Server, me: &ClientState) -> MemoryReport {
        let (allocated, active, resident) = jemalloc_stats();
        let used = allocated;
        if used > srv.stats.peak_memory {
            srv.stats.peak_memory = used;
        }
        let startup = startup_memory(used).min(used);
        let mut clients_normal = client_memory(0, me);
        for (_, c) in srv.clients.iter() {
            clients_normal += client_memory(c.query.capacity(), &c.state);
        }
        let db_overheads: Vec<(usize, u64)> = srv
            .keyspace
            .dbs
            .iter()
            .enumerate()
            .filter(|(_, d)| !d.is_empty())
            .map(|(i, d)| (i, db_overhead(d)))
            .collect();
        let overhead = startup + clients_normal + db_overheads.iter().map(|(_, o)| o).sum::<u64>();
        MemoryReport {
            used,
            peak: srv.stats.peak_memory,
            startup,
            allocated,
            active,
            resident,
            rss: process_rss(),
            clients_normal,
            db_overheads,
            overhead: overhead.min(used),
            keys: srv.keyspace.total_keys() as u64,
        }
    }

    pub fn dataset(&self) -> u64 {
        self.used.saturating_sub(self.overhead)
    }

    /// Memory used beyond the start-up baseline.
    pub fn net(&self) -> u64 {
        self.used.saturating_sub(self.startup)
    }

    pub fn dataset_perc(&self) -> f64 {
        ratio(self.dataset() as f64 * 100.0, self.net() as f64)
    }

    pub fn peak_perc(&self) -> f64 {
        ratio(self.used as f64 * 100.0, self.peak as f64)
    }

    pub fn frag_ratio(&self) -> f64 {
        ratio(self.rss as f64, self.used as f64)
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// Redis's human readable byte counts (`894.77K`, `6.59M`, `0B`).
pub fn bytes_to_human(n: u64) -> String {
    const UNITS: [&str; 6] = ["K", "M", "G", "T", "P", "E"];
    if n < 1024 {
        return format!("{n}B");
    }
    let mut v = n as f64 / 1024.0;
    for (i, unit) in UNITS.iter().enumerate() {
        if v < 1024.0 || i == UNITS.len() - 1 {
            return format!("{v:.2}{unit}");
        }
        v /= 1024.0;
    }
    unreachable!()
}

// ---------------------------------------------------------------------------
// INFO

/// Every section, in the order Redis prints them.
pub const SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];

/// Sections left out of plain `INFO` / `INFO default`.
const NOT_DEFAULT: &[&str] = &["commandstats", "latencystats"];

/// Which sections INFO's arguments ask for, in print order. No argument means
/// `default`; `all` and `everything` mean every section; unknown names are
/// ignored; names are case-insensitive.
pub fn select_sections(args: &[&[u8]]) -> Vec<&'static str> {
    let mut wanted = [false; 13];
    let mark_default = |w: &mut [bool; 13]| {
        for (i, s) in SECTIONS.iter().enumerate() {
            if !NOT_DEFAULT.contains(s) {
                w[i] = true;
            }
        }
    };
    if args.is_empty() {
        mark_default(&mut wanted);
    }
    for a in args {
        let name = String::from_utf8_lossy(a).to_ascii_lowercase();
        match name.as_str() {
            "all" | "everything" => wanted = [true; 13],
            "default" => mark_default(&mut wanted),
            _ => {
                if let Some(i) = SECTIONS.iter().position(|s| *s == name) {
                    wanted[i] = true;
                }
            }
        }
    }
    SECTIONS
        .iter()
        .zip(wanted)
        .filter(|(_, w)| *w)
        .map(|(s, _)| *s)
        .collect()
}

fn uname() -> String {
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return "Linux".into();
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!("{} {} {}", field(&u.sysname), field(&u.release), field(&u.machine))
}

/// A stable build identifier (Redis prints a hash of its build).
fn build_id() -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in concat!("shoal-", env!("CARGO_PKG_VERSION")).bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:x}")
}

/// The LRU clock Redis shows: seconds, 24 bits.
pub fn lru_clock(now_ms: i64) -> u32 {
    ((now_ms / 1000) as u64 & 0xFF_FFFF) as u32
}

fn rusage(who: libc::c_int) -> (String, String) {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut ru) };
    let tv = |t: libc::timeval| format!("{}.{:06}", t.tv_sec, t.tv_usec);
    (tv(ru.ru_stime), tv(ru.ru_utime))
}

/// Appends `name:value\r\n`.
macro_rules! field {
    ($s:expr, $name:expr, $($v:tt)*) => {{
        let _ = write!($s, "{}:", $name);
        let _ = write!($s, $($v)*);
        $s.push_str("\r\n");
    }};
}

fn section_server(srv: &Server) -> String {
    let mut s = String::from("# Server\r\n");
    let now_us = unix_us();
    let uptime = (unix_ms() - srv.start_ms) / 1000;
    field!(s, "redis_version", "{VERSION}");
    field!(s, "redis_git_sha1", "00000000");
    field!(s, "redis_git_dirty", "0");
    field!(s, "redis_build_id", "{}", build_id());
    field!(s, "redis_mode", "standalone");
    field!(s, "os", "{}", uname());
    field!(s, "arch_bits", "{}", usize::BITS);
    field!(s, "monotonic_clock", "POSIX clock_gettime");
    field!(s, "multiplexing_api", "epoll");
    field!(s, "atomicvar_api", "c11-builtin");
    field!(s, "gcc_version", "0.0.0");
    field!(s, "process_id", "{}", std::process::id());
    field!(s, "process_supervised", "no");
    field!(s, "run_id", "{}", srv.run_id);
    field!(s, "tcp_port", "{}", srv.tcp_port);
    field!(s, "server_time_usec", "{now_us}");
    field!(s, "uptime_in_seconds", "{uptime}");
    field!(s, "uptime_in_days", "{}", uptime / 86400);
    field!(s, "hz", "{}", srv.config.hz);
    field!(s, "configured_hz", "{}", srv.config.hz);
    field!(s, "lru_clock", "{}", lru_clock(now_us / 1000));
    field!(s, "executable", "{}", srv.executable);
    let config_file = srv
        .config
        .config_file()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    field!(s, "config_file", "{config_file}");
    field!(s, "io_threads_active", "0");
    s
}

fn section_clients(srv: &Server, me: &ClientState) -> String {
    let mut s = String::from("# Clients\r\n");
    let mut max_in = 0usize;
    let mut max_out = me.pending_output();
    for (_, c) in srv.clients.iter() {
        max_in = max_in.max(c.query.capacity());
        max_out = max_out.max(c.state.pending_output());
    }
    field!(s, "connected_clients", "{}", srv.clients.len());
    field!(s, "cluster_connections", "0");
    field!(s, "maxclients", "{}", srv.config.maxclients);
    field!(s, "client_recent_max_input_buffer", "{max_in}");
    field!(s, "client_recent_max_output_buffer", "{max_out}");
    field!(s, "blocked_clients", "{}", srv.blocking.blocked_clients());
    field!(s, "tracking_clients", "{}", srv.tracking.clients());
    field!(s, "clients_in_timeout_table", "0");
    s
}

fn section_memory(srv: &Server, m: &MemoryReport) -> String {
    let mut s = String::from("# Memory\r\n");
    let human = bytes_to_human;
    field!(s, "used_memory", "{}", m.used);
    field!(s, "used_memory_human", "{}", human(m.used));
    field!(s, "used_memory_rss", "{}", m.rss);
    field!(s, "used_memory_rss_human", "{}", human(m.rss));
    field!(s, "used_memory_peak", "{}", m.peak);
    field!(s, "used_memory_peak_human", "{}", human(m.peak));
    field!(s, "used_memory_peak_perc", "{:.2}%", m.peak_perc());
    field!(s, "used_memory_overhead", "{}", m.overhead);
    field!(s, "used_memory_startup", "{}", m.startup);
    field!(s, "used_memory_dataset", "{}", m.dataset());
    field!(s, "used_memory_dataset_perc", "{:.2}%", m.dataset_perc());
    field!(s, "allocator_allocated", "{}", m.allocated);
    field!(s, "allocator_active", "{}", m.active);
    field!(s, "allocator_resident", "{}", m.resident);
    let sys = total_system_memory();
    field!(s, "total_system_memory", "{sys}");
    field!(s, "total_system_memory_human", "{}", human(sys));
    // No Lua and no functions yet.
    field!(s, "used_memory_lua", "0");
    field!(s, "used_memory_vm_eval", "0");
    field!(s, "used_memory_lua_human", "0B");
    field!(s, "used_memory_scripts_eval", "0");
    field!(s, "number_of_cached_scripts", "0");
    field!(s, "number_of_functions", "0");
    field!(s, "number_of_libraries", "0");
    field!(s, "used_memory_vm_functions", "0");
    field!(s, "used_memory_vm_total", "0");
    field!(s, "used_memory_vm_total_human", "0B");
    field!(s, "used_memory_functions", "0");
    field!(s, "used_memory_scripts", "0");
    field!(s, "used_memory_scripts_human", "0B");
    let maxmemory = srv.config.maxmemory;
    field!(s, "maxmemory", "{maxmemory}");
    field!(s, "maxmemory_human", "{}", human(maxmemory));
    field!(s, "maxmemory_policy", "{}", config_text(srv, "maxmemory-policy"));
    field!(
        s,
        "allocator_frag_ratio",
        "{:.2}",
        ratio(m.active as f64, m.allocated as f64)
    );
    field!(s, "allocator_frag_bytes", "{}", m.active as i64 - m.allocated as i64);
    field!(
        s,
        "allocator_rss_ratio",
        "{:.2}",
        ratio(m.resident as f64, m.active as f64)
    );
    field!(s, "allocator_rss_bytes", "{}", m.resident as i64 - m.active as i64);
    field!(s, "rss_overhead_ratio", "{:.2}", ratio(m.rss as f64, m.resident as f64));
    field!(s, "rss_overhead_bytes", "{}", m.rss as i64 - m.resident as i64);
    field!(s, "mem_fragmentation_ratio", "{:.2}", m.frag_ratio());
    field!(s, "mem_fragmentation_bytes", "{}", m.rss as i64 - m.used as i64);
    field!(s, "mem_not_counted_for_evict", "0");
    field!(s, "mem_replication_backlog", "0");
    field!(s, "mem_total_replication_buffers", "0");
    field!(s, "mem_clients_slaves", "0");
    field!(s, "mem_clients_normal", "{}", m.clients_normal);
    field!(s, "mem_cluster_links", "0");
    field!(
        s,
        "mem_aof_buffer",
        "{}",
        srv.aof.as_ref().map_or(0, |a| a.buf.capacity())
    );
    field!(s, "mem_allocator", "{}", allocator_name());
    field!(s, "active_defrag_running", "0");
    field!(s, "lazyfree_pending_objects", "{}", srv.lazyfree.pending());
    field!(s, "lazyfreed_objects", "{}", srv.lazyfree.freed());
    s
}

fn section_persistence(srv: &Server) -> String {
    let mut s = String::from("# Persistence\r\n");
    field!(s, "loading", "{}", srv.loading.is_some() as u8);
    for (name, value) in [
        ("async_loading", "0"),
        ("current_cow_peak", "0"),
        ("current_cow_size", "0"),
        ("current_cow_size_age", "0"),
        ("current_fork_perc", "0.00"),
        ("current_save_keys_processed", "0"),
        ("current_save_keys_total", "0"),
    ] {
        field!(s, name, "{value}");
    }
    let bgsave_secs = srv
        .snapshot
        .as_ref()
        .map_or(-1, |b| b.started.elapsed().as_secs() as i64);
    field!(s, "rdb_changes_since_last_save", "{}", srv.dirty);
    field!(s, "rdb_bgsave_in_progress", "{}", srv.snapshot.is_some() as u8);
    field!(s, "rdb_last_save_time", "{}", srv.last_save_unix);
    field!(
        s,
        "rdb_last_bgsave_status",
        "{}",
        if srv.last_bgsave_ok { "ok" } else { "err" }
    );
    field!(s, "rdb_last_bgsave_time_sec", "{}", srv.last_bgsave_secs);
    field!(s, "rdb_current_bgsave_time_sec", "{}", bgsave_secs);
    field!(s, "rdb_saves", "{}", srv.rdb_saves);
    field!(s, "rdb_last_cow_size", "0");
    field!(
        s,
        "rdb_last_load_keys_expired",
        "{}",
        srv.stats.rdb_last_load_keys_expired
    );
    field!(
        s,
        "rdb_last_load_keys_loaded",
        "{}",
        srv.stats.rdb_last_load_keys_loaded
    );
    let (aof_fields, aof_extra) = crate::aof::info_fields(srv);
    for (name, value) in &aof_fields {
        field!(s, name, "{value}");
    }
    field!(s, "module_fork_in_progress", "0");
    field!(s, "module_fork_last_cow_size", "0");
    for (name, value) in &aof_extra {
        field!(s, name, "{value}");
    }
    if let Some(l) = &srv.loading {
        field!(s, "loading_start_time", "{}", l.start_unix);
        field!(s, "loading_total_bytes", "{}", l.total_bytes);
        field!(s, "loading_rdb_used_mem", "0");
        field!(s, "loading_loaded_bytes", "{}", l.loaded_bytes);
        field!(s, "loading_loaded_perc", "{:.2}", l.loaded_perc());
        field!(s, "loading_eta_seconds", "{}", l.eta_seconds());
    }
    s
}

fn section_stats(srv: &Server) -> String {
    let st = &srv.stats;
    let mut s = String::from("# Stats\r\n");
    field!(s, "total_connections_received", "{}", st.connections_received);
    field!(s, "total_commands_processed", "{}", st.commands_processed);
    field!(s, "instantaneous_ops_per_sec", "{}", st.ops.value() as i64);
    field!(s, "total_net_input_bytes", "{}", st.net_input_bytes);
    field!(s, "total_net_output_bytes", "{}", st.net_output_bytes);
    field!(s, "total_net_repl_input_bytes", "0");
    field!(s, "total_net_repl_output_bytes", "0");
    field!(s, "instantaneous_input_kbps", "{:.2}", st.input.value() / 1024.0);
    field!(s, "instantaneous_output_kbps", "{:.2}", st.output.value() / 1024.0);
    field!(s, "instantaneous_input_repl_kbps", "0.00");
    field!(s, "instantaneous_output_repl_kbps", "0.00");
    field!(s, "rejected_connections", "{}", st.rejected_connections);
    field!(s, "sync_full", "{}", st.sync_full);
    field!(s, "sync_partial_ok", "{}", st.sync_partial_ok);
    field!(s, "sync_partial_err", "{}", st.sync_partial_err);
    field!(s, "expired_keys", "{}", st.expired_keys);
    field!(s, "expired_stale_perc", "0.00");
    field!(s, "expired_time_cap_reached_count", "0");
    field!(s, "expire_cycle_cpu_milliseconds", "{}", st.expire_cycle_cpu_ms);
    field!(s, "evicted_keys", "{}", st.evicted_keys);
    field!(s, "evicted_clients", "0");
    field!(s, "total_eviction_exceeded_time", "0");
    field!(s, "current_eviction_exceeded_time", "0");
    field!(s, "keyspace_hits", "{}", st.keyspace_hits);
    field!(s, "keyspace_misses", "{}", st.keyspace_misses);
    for name in [
        "pubsub_channels",
        "pubsub_patterns",
        "pubsubshard_channels",
        "latest_fork_usec",
        "total_forks",
        "migrate_cached_sockets",
        "slave_expires_tracked_keys",
        "active_defrag_hits",
        "active_defrag_misses",
        "active_defrag_key_hits",
        "active_defrag_key_misses",
        "total_active_defrag_time",
        "current_active_defrag_time",
    ] {
        field!(s, name, "0");
    }
    field!(s, "tracking_total_keys", "{}", srv.tracking.total_keys());
    field!(s, "tracking_total_items", "{}", srv.tracking.total_items());
    field!(s, "tracking_total_prefixes", "{}", srv.tracking.total_prefixes());
    field!(s, "unexpected_error_replies", "{}", st.unexpected_error_replies);
    field!(s, "total_error_replies", "{}", st.total_error_replies);
    field!(s, "dump_payload_sanitizations", "0");
    // The event loop does not count its reads and writes yet.
    field!(s, "total_reads_processed", "0");
    field!(s, "total_writes_processed", "0");
    for name in [
        "io_threaded_reads_processed",
        "io_threaded_writes_processed",
        "reply_buffer_shrinks",
        "reply_buffer_expands",
    ] {
        field!(s, name, "0");
    }
    s
}

fn section_replication(srv: &Server) -> String {
    crate::replication::info_section(srv)
}

fn section_cpu() -> String {
    let mut s = String::from("# CPU\r\n");
    let (sys, user) = rusage(libc::RUSAGE_SELF);
    let (csys, cuser) = rusage(libc::RUSAGE_CHILDREN);
    let (msys, muser) = rusage(libc::RUSAGE_THREAD);
    field!(s, "used_cpu_sys", "{sys}");
    field!(s, "used_cpu_user", "{user}");
    field!(s, "used_cpu_sys_children", "{csys}");
    field!(s, "used_cpu_user_children", "{cuser}");
    field!(s, "used_cpu_sys_main_thread", "{msys}");
    field!(s, "used_cpu_user_main_thread", "{muser}");
    s
}

fn sorted_command_stats(srv: &Server) -> Vec<(&&'static str, &crate::stats::CommandStats)> {
    let mut v: Vec<_> = srv
        .stats
        .commands
        .iter()
        .filter(|(_, c)| c.calls > 0 || c.failed_calls > 0 || c.rejected_calls > 0)
        .collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

fn section_commandstats(srv: &Server) -> String {
    let mut s = String::from("# Commandstats\r\n");
    for (name, c) in sorted_command_stats(srv) {
        let per_call = if c.calls > 0 {
            c.usec as f64 / c.calls as f64
        } else {
            0.0
        };
        field!(
            s,
            format!("cmdstat_{name}"),
            "calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}",
            c.calls,
            c.usec,
            per_call,
            c.rejected_calls,
            c.failed_calls
        );
    }
    s
}

fn section_errorstats(srv: &Server) -> String {
    let mut s = String::from("# Errorstats\r\n");
    for (code, n) in &srv.stats.errors {
        field!(s, format!("errorstat_{code}"), "count={n}");
    }
    s
}

/// The label of a percentile as Redis prints it (`p50`, `p99.9`).
fn percentile_label(p: f64) -> String {
    format!("p{p}")
}

fn section_latencystats(srv: &Server) -> String {
    let mut s = String::from("# Latencystats\r\n");
    let percentiles = &srv.config.latency_tracking_info_percentiles;
    for (name, c) in sorted_command_stats(srv) {
        let Some(h) = c.latency.as_ref().filter(|h| h.total() > 0) else {
            continue;
        };
        let values: Vec<String> = percentiles
            .iter()
            .map(|&p| {
                format!(
                    "{}={:.3}",
                    percentile_label(p),
                    h.value_at_percentile(p) as f64 / 1000.0
                )
            })
            .collect();
        field!(s, format!("latency_percentiles_usec_{name}"), "{}", values.join(","));
    }
    s
}

fn section_keyspace(srv: &Server) -> String {
    let mut s = String::from("# Keyspace\r\n");
    for (i, db) in srv.keyspace.dbs.iter().enumerate() {
        if !db.is_empty() {
            field!(
                s,
                format!("db{i}"),
                "keys={},expires={},avg_ttl=0",
                db.len(),
                db.volatile_len()
            );
        }
    }
    s
}

/// The INFO text for the given sections.
pub fn info_text(srv: &mut Server, me: &ClientState, sections: &[&str]) -> String {
    let memory = sections.contains(&"memory").then(|| MemoryReport::collect(srv, me));
    let mut parts: Vec<String> = Vec::with_capacity(sections.len());
    for name in sections {
        let text = match *name {
            "server" => section_server(srv),
            "clients" => section_clients(srv, me),
            "memory" => section_memory(srv, memory.as_ref().expect("collected above")),
            "persistence" => section_persistence(srv),
            "stats" => section_stats(srv),
            "replication" => section_replication(srv),
            "cpu" => section_cpu(),
            "modules" => "# Modules\r\n".to_string(),
            "commandstats" => section_commandstats(srv),
            "errorstats" => section_errorstats(srv),
            "latencystats" => section_latencystats(srv),
            "cluster" => "# Cluster\r\ncluster_enabled:0\r\n".to_string(),
            "keyspace" => section_keyspace(srv),
            _ => continue,
        };
        parts.push(text);
    }
    parts.join("\r\n")
}

pub fn info(ctx: &mut Ctx, args: &[&[u8]]) {
    let sections = select_sections(&args[1..]);
    let text = info_text(ctx.srv, ctx.client, &sections);
    ctx.out().verbatim("txt", text.as_bytes());
}

// ---------------------------------------------------------------------------
// CONFIG

/// The CONFIG GET text of one directive, or "" if unknown.
fn config_text(srv: &Server, name: &str) -> String {
    srv.config.get_one(name).unwrap_or_default()
}

fn is_local(client: &ClientState) -> bool {
    client.addr.ip().is_loopback()
}

pub fn config_get(ctx: &mut Ctx, args: &[&[u8]]) {
    let pairs = ctx.srv.config.get(&args[2..]);
    let out = ctx.out();
    out.map(pairs.len());
    for (k, v) in pairs {
        out.bulk(k.as_bytes());
        out.bulk(v.as_bytes());
    }
}

pub fn config_set(ctx: &mut Ctx, args: &[&[u8]]) {
    let rest = &args[2..];
    if !rest.len().is_multiple_of(2) {
        ctx.out().error(err::SYNTAX);
        return;
    }
    let pairs: Vec<(&[u8], &[u8])> = rest.chunks(2).map(|p| (p[0], p[1])).collect();
    let before = ctx.srv.config.clone();
    let local = is_local(ctx.client);
    let changed = match ctx.srv.config.set_from_client(&pairs, local) {
        Ok(c) => c,
        Err(e) => {
            ctx.out().error(&e);
            return;
        }
    };
    let in_exec = ctx.client.in_exec;
    if let Err(e) = apply_config_changes(ctx.srv, &changed, in_exec) {
        ctx.srv.config = before;
        ctx.out().error(&e);
        return;
    }
    ctx.out().ok();
}

/// Acts on directives whose value CONFIG SET changed. Most settings are read
/// where they are used (`hz`, `maxclients`, `timeout`, slowlog and latency
/// thresholds...); these need an action now.
fn apply_config_changes(srv: &mut Server, changed: &[String], in_exec: bool) -> Result<(), String> {
    for name in changed {
        match name.as_str() {
            "loglevel" => {
                if let Some(level) = log::Level::parse(&config_text(srv, "loglevel")) {
                    log::set_level(level);
                }
            }
            "dir" => {
                let dir = config_text(srv, "dir");
                if let Err(e) = std::env::set_current_dir(&dir) {
                    return Err(format!(
                        "ERR CONFIG SET failed (possibly related to argument 'dir') - {}",
                        e.to_string().split(" (os error").next().unwrap_or_default()
                    ));
                }
            }
            "requirepass" => {
                let pass = srv.config.requirepass.clone();
                srv.acl.set_default_password(&pass);
            }
            "acl-pubsub-default" => {
                srv.acl.pubsub_all = matches!(
                    srv.config.acl_pubsub_default,
                    shoal_config::AclPubsubDefault::Allchannels
                );
            }
            "appendonly" => crate::aof::config_changed(srv, in_exec)?,
            // As Redis: a lower limit evicts at once (evicted events included).
            "maxmemory" => {
                crate::evict::perform_evictions(srv);
            }
            "port" | "bind" => {
                warning!("CONFIG SET {name}: shoal does not listen again at run time yet; the new value applies after a restart");
            }
            _ => {}
        }
    }
    Ok(())
}

pub fn config_resetstat(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.srv.stats.reset();
    ctx.out().ok();
}

pub fn config_rewrite(ctx: &mut Ctx, _args: &[&[u8]]) {
    match ctx.srv.config.rewrite() {
        Ok(()) => {
            notice!("CONFIG REWRITE executed with success.");
            ctx.out().ok();
        }
        Err(e) => {
            warning!("CONFIG REWRITE failed: {}", e.trim_start_matches("ERR "));
            ctx.out().error(&e);
        }
    }
}

pub fn config_help(ctx: &mut Ctx, _args: &[&[u8]]) {
    help_reply(
        ctx.out(),
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    );
}

// ---------------------------------------------------------------------------
// DEBUG

/// The error for a DEBUG (or other multi-form command) subcommand that is
/// unknown or has the wrong number of arguments.
pub fn subcommand_syntax_error(ctx: &mut Ctx, args: &[&[u8]]) {
    let sub = String::from_utf8_lossy(&args[1][..args[1].len().min(128)]).into_owned();
    let cmd = String::from_utf8_lossy(args[0]).to_ascii_uppercase();
    ctx.out().error(&format!(
        "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {cmd} HELP."
    ));
}

/// C `atoi`: leading blanks, a sign, digits; anything else ends the number.
fn atoi(s: &[u8]) -> i64 {
    let mut i = 0;
    while i < s.len() && (s[i] == b' ' || (b'\t'..=b'\r').contains(&s[i])) {
        i += 1;
    }
    let neg = i < s.len() && s[i] == b'-';
    if i < s.len() && (s[i] == b'-' || s[i] == b'+') {
        i += 1;
    }
    let mut v: i64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v.wrapping_mul(10).wrapping_add((s[i] - b'0') as i64);
        i += 1;
    }
    if neg {
        -v
    } else {
        v
    }
}

/// C `strtod` on the argument: the longest valid prefix, 0 if none.
fn strtod(s: &[u8]) -> f64 {
    let Ok(c) = std::ffi::CString::new(s.iter().copied().take_while(|&b| b != 0).collect::<Vec<u8>>()) else {
        return 0.0;
    };
    unsafe { libc::strtod(c.as_ptr(), std::ptr::null_mut()) }
}

/// Length of an RDB length prefix.
fn rdb_len_size(len: usize) -> usize {
    if len < 1 << 6 {
        1
    } else if len < 1 << 14 {
        2
    } else if len <= u32::MAX as usize {
        5
    } else {
        9
    }
}

/// Bytes a string value takes in an RDB file (DEBUG OBJECT serializedlength):
/// small integers in 1, 2 or 4 bytes plus a type byte, strings over 20 bytes
/// LZF-compressed when that saves more than 4 bytes, else length-prefixed.
pub fn rdb_string_len(bytes: &[u8]) -> usize {
    if bytes.len() <= 11 {
        if let Some(v) = shoal_util::num::parse_i64(bytes) {
            if (i8::MIN as i64..=i8::MAX as i64).contains(&v) {
                return 2;
            }
            if (i16::MIN as i64..=i16::MAX as i64).contains(&v) {
                return 3;
            }
            if (i32::MIN as i64..=i32::MAX as i64).contains(&v) {
                return 5;
            }
        }
    }
    if bytes.len() > 20 {
        if let Some(c) = shoal_util::lzf::lzf_compress(bytes, bytes.len() - 4) {
            return 1 + rdb_len_size(c.len()) + rdb_len_size(bytes.len()) + c.len();
        }
    }
    rdb_len_size(bytes.len()) + bytes.len()
}

fn debug_allowed(ctx: &Ctx) -> bool {
    ctx.srv.config.enable_debug_command.allows(is_local(ctx.client))
}

pub fn debug(ctx: &mut Ctx, args: &[&[u8]]) {
    if !debug_allowed(ctx) {
        ctx.out().error("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.");
        return;
    }
    let sub = String::from_utf8_lossy(args[1]).to_ascii_lowercase();
    match (sub.as_str(), args.len()) {
        ("help", 2) => debug_help(ctx),
        ("reload", _) => match super::persistence::debug_reload(ctx.srv, &args[2..]) {
            Ok(()) => ctx.out().ok(),
            Err(e) => ctx.out().error(e),
        },
        ("loadaof", 2) => {
            crate::aof::debug_loadaof(ctx.srv);
            ctx.out().ok();
        }
        ("sleep", 3) => {
            let secs = strtod(args[2]);
            if secs > 0.0 && secs.is_finite() {
                std::thread::sleep(std::time::Duration::from_secs_f64(secs));
            }
            ctx.out().ok();
        }
        ("set-active-expire", 3) => {
            ctx.srv.active_expire_enabled = atoi(args[2]) != 0;
            ctx.out().ok();
        }
        ("object", 3) => debug_object(ctx, args[2]),
        ("digest", 2) => {
            let d = super::digest::dataset_digest(&ctx.srv.keyspace.dbs);
            ctx.out().simple(&super::digest::to_hex(&d));
        }
        ("digest-value", _) => {
            let db = ctx.client.db;
            ctx.client.out.array(args.len() - 2);
            for key in &args[2..] {
                super::hash_ttl::purge_key(ctx.srv, db, key);
                let d = super::digest::value_digest(super::digest::find_raw(&ctx.srv.keyspace.dbs[db], key));
                ctx.client.out.simple(&super::digest::to_hex(&d));
            }
        }
        ("populate", 3..=5) => debug_populate(ctx, args),
        ("log", 3) => {
            warning!("DEBUG LOG: {}", String::from_utf8_lossy(args[2]));
            ctx.out().ok();
        }
        ("error", 3) => {
            let text = String::from_utf8_lossy(args[2]).into_owned();
            ctx.out().error(&text);
        }
        _ => subcommand_syntax_error(ctx, args),
    }
}

fn debug_object(ctx: &mut Ctx, key: &[u8]) {
    let now = ctx.now();
    let db = ctx.client.db;
    let clock = lru_clock(now);
    let Some(e) = ctx.srv.keyspace.dbs[db].peek(key, now) else {
        ctx.out().error(err::NO_KEY);
        return;
    };
    let shared = matches!(e.value, shoal_store::Value::Int(n) if (0..10000).contains(&n));
    let refcount = if shared { i32::MAX as i64 } else { 1 };
    let encoding = e.value.encoding_name(e.flags & shoal_store::db::FLAG_RAW != 0);
    let serialized = e.value.str_bytes().map(|b| rdb_string_len(&b)).unwrap_or(0);
    let lru = e.lru & 0xFF_FFFF;
    let idle = clock.wrapping_sub(lru) & 0xFF_FFFF;
    let line = format!(
        "Value at:{:p} refcount:{refcount} encoding:{encoding} serializedlength:{serialized} lru:{lru} lru_seconds_idle:{idle}",
        (e as *const shoal_store::Entry).cast::<u8>()
    );
    ctx.out().simple(&line);
}

/// Parses a DEBUG POPULATE count or size: a non-negative integer.
fn positive_arg(ctx: &mut Ctx, arg: &[u8]) -> Option<i64> {
    match super::parse_int(arg) {
        Some(v) if v >= 0 => Some(v),
        _ => {
            ctx.out().error("ERR value is out of range, must be positive");
            None
        }
    }
}

fn debug_populate(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(count) = positive_arg(ctx, args[2]) else {
        return;
    };
    let prefix: &[u8] = if args.len() > 3 { args[3] } else { b"key" };
    let size = match args.get(4) {
        Some(a) => match positive_arg(ctx, a) {
            Some(v) => v as usize,
            None => return,
        },
        None => 0,
    };
    let now = ctx.now();
    let clock = ctx.srv.lru_clock;
    let dbi = ctx.client.db;
    let mut key = Vec::with_capacity(prefix.len() + 21);
    for j in 0..count {
        key.clear();
        key.extend_from_slice(prefix);
        key.push(b':');
        key.extend_from_slice(j.to_string().as_bytes());
        if ctx.srv.keyspace.dbs[dbi].peek(&key, now).is_some() {
            continue;
        }
        let mut value = format!("value:{j}").into_bytes();
        if size > 0 {
            value.resize(size, 0);
        }
        let db = &mut ctx.srv.keyspace.dbs[dbi];
        let old = db.set(&key, shoal_store::Value::from_vec(value), false);
        if let Some(e) = db.get_mut(&key, now) {
            e.lru = clock;
        }
        if let Some(old) = old {
            super::dispose(ctx.srv, old);
        }
    }
    ctx.out().ok();
}

fn debug_help(ctx: &mut Ctx) {
    help_reply(
        ctx.out(),
        "DEBUG",
        &[
            "DIGEST",
            "    Output a hex signature representing the current DB content.",
            "DIGEST-VALUE <key> [<key> ...]",
            "    Output a hex signature of the values of all the specified keys.",
            "ERROR <string>",
            "    Return a Redis protocol error with <string> as message. Useful for clients",
            "    unit tests to simulate Redis errors.",
            "LOG <message>",
            "    Write <message> to the server log.",
            "LOADAOF",
            "    Flush the AOF buffers on disk and reload the AOF in memory.",
            "OBJECT <key>",
            "    Show low level info about `key` and associated value.",
            "POPULATE <count> [<prefix>] [<size>]",
            "    Create <count> string keys named key:<num>. If <prefix> is specified then",
            "    it is used instead of the 'key' prefix. These are not propagated to",
            "    replicas. Cluster slots are not respected so keys not belonging to the",
            "    current node can be created in cluster mode.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not",
            "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
            "    default.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
        ],
    );
}

// ---------------------------------------------------------------------------
// TIME, LASTSAVE, SHUTDOWN, MONITOR

pub fn time(ctx: &mut Ctx, _args: &[&[u8]]) {
    let us = unix_us();
    let out = ctx.out();
    out.array(2);
    out.bulk((us / 1_000_000).to_string().as_bytes());
    out.bulk((us % 1_000_000).to_string().as_bytes());
}

pub fn lastsave(ctx: &mut Ctx, _args: &[&[u8]]) {
    let t = ctx.srv.last_save_unix;
    ctx.out().int(t);
}

/// SHUTDOWN's options.
#[derive(Default, Debug, PartialEq, Eq)]
pub struct ShutdownOptions {
    pub save: bool,
    pub nosave: bool,
    pub now: bool,
    pub force: bool,
    pub abort: bool,
}

/// Parses `[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`; None is a syntax error.
pub fn parse_shutdown(args: &[&[u8]]) -> Option<ShutdownOptions> {
    let mut o = ShutdownOptions::default();
    for a in args {
        if eq_ic(a, "nosave") {
            o.nosave = true;
        } else if eq_ic(a, "save") {
            o.save = true;
        } else if eq_ic(a, "now") {
            o.now = true;
        } else if eq_ic(a, "force") {
            o.force = true;
        } else if eq_ic(a, "abort") {
            o.abort = true;
        } else {
            return None;
        }
    }
    let conflicting = (o.save && o.nosave) || (o.abort && (o.save || o.nosave || o.now || o.force));
    (!conflicting).then_some(o)
}

pub fn shutdown(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(opts) = parse_shutdown(&args[1..]) else {
        ctx.out().error(err::SYNTAX);
        return;
    };
    if opts.abort {
        // Shutdown is immediate (no replicas to wait for), so none is ever pending.
        ctx.out().error("ERR No shutdown in progress.");
        return;
    }
    if !crate::aof::may_shut_down(ctx.srv, opts.force) {
        ctx.out().error("ERR Errors trying to SHUTDOWN. Check logs.");
        return;
    }
    let would_save = opts.save || (!opts.nosave && !ctx.srv.config.save.is_empty());
    if would_save {
        notice!("Saving the final RDB snapshot before exiting.");
        let path = ctx.srv.config.dbfilename.clone();
        match super::persistence::save_to(ctx.srv, &path) {
            Ok(_) => notice!("DB saved on disk"),
            Err(e) if !opts.force => {
                warning!("Error trying to save the DB, can't exit: {e}");
                ctx.out().error("ERR Errors trying to SHUTDOWN. Check logs.");
                return;
            }
            Err(e) => warning!("Error trying to save the DB ({e}), exiting anyway (FORCE)."),
        }
    }
    ctx.srv.shutdown_requested = true;
    // Like Redis, the client gets no reply and nothing after SHUTDOWN runs: the
    // connection closes as the server exits.
    ctx.client.close_asap = true;
}

pub fn monitor(ctx: &mut Ctx, _args: &[&[u8]]) {
    if ctx.client.monitor {
        return;
    }
    ctx.client.monitor = true;
    let id = ctx.client.id;
    ctx.srv.monitors.push(id);
    ctx.out().ok();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_section_selection() {
        let default = select_sections(&[]);
        assert_eq!(
            default,
            vec![
                "server",
                "clients",
                "memory",
                "persistence",
                "stats",
                "replication",
                "cpu",
                "modules",
                "errorstats",
                "cluster",
                "keyspace"
            ]
        );
        assert_eq!(select_sections(&[b"default"]), default);
        assert_eq!(select_sections(&[b"ALL"]), SECTIONS.to_vec());
        assert_eq!(select_sections(&[b"everything", b"bogus"]), SECTIONS.to_vec());
        assert_eq!(select_sections(&[b"keyspace", b"Server"]), vec!["server", "keyspace"]);
        assert_eq!(select_sections(&[b"cpu", b"CPU"]), vec!["cpu"]);
        assert!(select_sections(&[b"bogus"]).is_empty());
        let d_and_c = select_sections(&[b"default", b"commandstats"]);
        assert!(d_and_c.contains(&"commandstats") && !d_and_c.contains(&"latencystats"));
    }

    #[test]
    fn human_bytes() {
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(916240), "894.77K");
        assert_eq!(bytes_to_human(6914048), "6.59M");
        assert_eq!(bytes_to_human(25276514304), "23.54G");
    }

    #[test]
    fn serialized_lengths() {
        assert_eq!(rdb_string_len(b"bar"), 4);
        assert_eq!(rdb_string_len(b"123"), 2);
        assert_eq!(rdb_string_len(b"-5"), 2);
        assert_eq!(rdb_string_len(b"30000"), 3);
        assert_eq!(rdb_string_len(b"3000000"), 5);
        assert_eq!(rdb_string_len(b"30000000000"), 12);
        // Compressible strings over 20 bytes count their LZF size (Redis: 13 and
        // 21 bytes; the exact size depends on the compressor's choices).
        assert!(rdb_string_len(&[b'a'; 79]) < 20);
        assert!(rdb_string_len(b"0123456789012345678901234567890123456789") < 41);
        assert_eq!(rdb_string_len(b"abcdefghijklmnopqrstuvwxyz"), 27);
    }

    #[test]
    fn shutdown_options() {
        assert_eq!(parse_shutdown(&[]), Some(ShutdownOptions::default()));
        assert!(parse_shutdown(&[b"nosave", b"now", b"force"]).is_some());
        assert!(parse_shutdown(&[b"now", b"now"]).is_some());
        assert!(parse_shutdown(&[b"abort", b"abort"]).unwrap().abort);
        assert!(parse_shutdown(&[b"nosave", b"save"]).is_none());
        assert!(parse_shutdown(&[b"abort", b"now"]).is_none());
        assert!(parse_shutdown(&[b"bogus"]).is_none());
    }

    #[test]
    fn c_number_parsing() {
        assert_eq!(atoi(b"1"), 1);
        assert_eq!(atoi(b"x"), 0);
        assert_eq!(atoi(b" -12abc"), -12);
        assert_eq!(strtod(b"abc"), 0.0);
        assert_eq!(strtod(b"0.25s"), 0.25);
    }
}
