//! The one table of every directive. The `directives!` invocation below
//! declares, per directive, the [`Config`] field that holds it, its name and
//! aliases, its [`Kind`] (type, bounds, validation), its default written in
//! config-file syntax, and its flags. The macro turns that into the `Config`
//! struct and the static [`DIRECTIVES`] slice that parsing, CONFIG GET, SET,
//! REWRITE and the "not implemented yet" report all read.
//!
//! Types, bounds, defaults, aliases and mutability were taken from
//! redis-server 7.0.15 by probing it (`CONFIG GET *`, CONFIG SET of every
//! directive, start-up with bad values).

use std::path::PathBuf;

use crate::field::{Ctx, Field};
use crate::values::*;

/// A string validator: `Err` carries the error text.
pub type StrCheck = fn(&str) -> Result<(), &'static str>;

/// How a directive's arguments are read and checked.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// `yes` / `no`.
    Bool,
    /// A plain integer within bounds; with `clamp`, an accepted value is then
    /// moved into that range (`hz`).
    Int {
        min: i64,
        max: i64,
        clamp: Option<(i64, i64)>,
    },
    /// A byte count with optional unit (`1k`, `1kb`, `1m`, `1mb`, `1g`, `1gb`).
    Memory { min: u64, max: u64 },
    /// An octal number (`unixsocketperm`).
    Octal { max: u32 },
    /// One of a list of names.
    Enum(&'static [&'static str]),
    /// One or more of a list of names (`shutdown-on-sig*`).
    Flags(&'static [(&'static str, u8)]),
    /// A string; `nullable` ones are left out of CONFIG REWRITE when empty.
    Str { nullable: bool, check: Option<StrCheck> },
    /// `save`: pairs of seconds and changes.
    Save,
    /// `bind`: up to 16 addresses.
    Bind,
    /// `client-output-buffer-limit`: groups of class, hard, soft, seconds.
    ObufLimits,
    /// `notify-keyspace-events`.
    KeyspaceEvents,
    /// `oom-score-adj-values`: three numbers.
    OomScoreAdjValues,
    /// `latency-tracking-info-percentiles`: numbers between 0 and 100.
    Percentiles,
    /// `replicaof <host> <port>` or `replicaof no one`.
    ReplicaOf,
    /// `maxmemory-clients`: bytes or `N%`.
    MemoryOrPercent,
    /// `dir`: an existing directory, stored absolute.
    Dir,
    /// File only: `include <path>`.
    Include,
    /// File only: `rename-command <name> <new-name>`.
    RenameCommand,
    /// File only: `user <name> [rules...]`.
    User,
    /// File only: `loadmodule <path> [args...]`.
    LoadModule,
    /// File only: `sentinel ...`, refused outside sentinel mode.
    Sentinel,
    /// Accepted with one argument and ignored, as redis-server 7.0 does.
    Deprecated,
}

/// How many arguments a kind takes.
pub(crate) enum Arity {
    One,
    /// Any number; in a file a single argument is split on white space, and a
    /// single empty argument means none.
    Multi,
    Exact(usize),
    AtLeast(usize),
}

impl Kind {
    pub(crate) fn arity(&self) -> Arity {
        match self {
            Kind::Save
            | Kind::Bind
            | Kind::ObufLimits
            | Kind::OomScoreAdjValues
            | Kind::Percentiles
            | Kind::Flags(_) => Arity::Multi,
            Kind::ReplicaOf | Kind::RenameCommand => Arity::Exact(2),
            Kind::User | Kind::LoadModule | Kind::Sentinel => Arity::AtLeast(1),
            _ => Arity::One,
        }
    }
}

pub(crate) type SetFn = fn(&mut Config, &Directive, &[String], &mut Ctx) -> Result<(), String>;
pub(crate) type GetFn = fn(&Config, &Directive) -> String;
pub(crate) type RewriteFn = fn(&Config, &Directive, &Config) -> Vec<(String, bool)>;

#[derive(Clone, Copy)]
pub(crate) struct Access {
    pub set: SetFn,
    pub get: GetFn,
    pub rewrite: RewriteFn,
}

/// One row of the directive table.
pub struct Directive {
    /// Canonical name (what CONFIG REWRITE writes).
    pub name: &'static str,
    /// Other accepted names; CONFIG GET answers them too.
    pub aliases: &'static [&'static str],
    pub kind: Kind,
    /// Default value in config-file syntax (`dir` defaults to the working
    /// directory at start-up).
    pub default: &'static str,
    /// Bits from `Directive::IMMUTABLE` ... `Directive::EXTENSION`.
    pub flags: u32,
    pub(crate) access: Option<Access>,
}

impl std::fmt::Debug for Directive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directive")
            .field("name", &self.name)
            .field("aliases", &self.aliases)
            .field("kind", &self.kind)
            .field("default", &self.default)
            .field("flags", &self.flags)
            .finish()
    }
}

impl Directive {
    /// CONFIG SET refuses it ("can't set immutable config").
    pub const IMMUTABLE: u32 = 1;
    /// CONFIG SET needs `enable-protected-configs` ("can't set protected config").
    pub const PROTECTED: u32 = 2;
    /// Left out of CONFIG GET patterns; only an exact name finds it.
    pub const HIDDEN: u32 = 4;
    /// shoal acts on it. Others are parsed, validated and shown, and
    /// [`Config::unsupported_in_use`] reports them when a file sets them.
    pub const IMPLEMENTED: u32 = 8;
    /// Only in config files / command line; not in CONFIG GET or SET.
    pub const FILE_ONLY: u32 = 16;
    /// Not a Redis 7.0.15 directive: a shoal addition (names taken from later
    /// Redis versions where there is one).
    pub const EXTENSION: u32 = 32;

    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    pub fn is_mutable(&self) -> bool {
        !self.has(Self::IMMUTABLE) && !self.has(Self::FILE_ONLY) && self.access.is_some()
    }

    pub fn is_implemented(&self) -> bool {
        self.has(Self::IMPLEMENTED)
    }

    /// Whether CONFIG GET / SET know it.
    pub fn is_runtime(&self) -> bool {
        self.access.is_some() && !self.has(Self::FILE_ONLY)
    }

    /// Whether `name` (lower case) is this directive's name or an alias.
    pub fn answers_to(&self, name: &str) -> bool {
        self.name == name || self.aliases.contains(&name)
    }
}

const M: u32 = 0;
const I: u32 = Directive::IMMUTABLE;
const P: u32 = Directive::PROTECTED;
const H: u32 = Directive::HIDDEN;
const Y: u32 = Directive::IMPLEMENTED;
const X: u32 = Directive::EXTENSION;
const F: u32 = Directive::FILE_ONLY | Directive::IMMUTABLE;

const INT_MAX: i64 = i32::MAX as i64;
const INT_MIN: i64 = i32::MIN as i64;
const UINT_MAX: i64 = u32::MAX as i64;
const LLONG_MAX: i64 = i64::MAX;
const MEM_LLONG: u64 = i64::MAX as u64;

const fn int(min: i64, max: i64) -> Kind {
    Kind::Int { min, max, clamp: None }
}
const fn mem(min: u64, max: u64) -> Kind {
    Kind::Memory { min, max }
}
const STR: Kind = Kind::Str {
    nullable: false,
    check: None,
};
const NSTR: Kind = Kind::Str {
    nullable: true,
    check: None,
};
const fn checked(check: StrCheck) -> Kind {
    Kind::Str {
        nullable: false,
        check: Some(check),
    }
}
const fn nchecked(check: StrCheck) -> Kind {
    Kind::Str {
        nullable: true,
        check: Some(check),
    }
}

fn is_path(s: &str) -> bool {
    s.contains('/') || s.contains('\\')
}

fn check_dbfilename(s: &str) -> Result<(), &'static str> {
    if is_path(s) {
        return Err("dbfilename can't be a path, just a filename");
    }
    Ok(())
}

fn check_appendfilename(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        return Err("appendfilename can't be empty");
    }
    if is_path(s) {
        return Err("appendfilename can't be a path, just a filename");
    }
    Ok(())
}

fn check_appenddirname(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        return Err("appenddirname can't be empty");
    }
    if is_path(s) {
        return Err("appenddirname can't be a path, just a dirname");
    }
    Ok(())
}

fn check_hostname(s: &str) -> Result<(), &'static str> {
    if s.len() >= 256 {
        return Err("Hostnames must be less than 256 characters");
    }
    if !s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.') {
        return Err("Hostnames may only contain alphanumeric characters, hyphens or dots");
    }
    Ok(())
}

/// `proc-title-template`: braces must name known variables, and the title
/// must not come out empty. Checked as redis-server does at start-up, where
/// `{title}` and `{server-mode}` expand to nothing.
fn check_proc_title(s: &str) -> Result<(), &'static str> {
    const BAD: &str = "template format is invalid or contains unknown variables";
    let mut out = String::new();
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or(BAD)?;
        match &after[..close] {
            "title" | "server-mode" | "unixsocket" => {}
            "listen-addr" | "port" | "tls-port" | "config-file" => out.push('x'),
            _ => return Err(BAD),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    if out.trim().is_empty() {
        return Err(BAD);
    }
    Ok(())
}

macro_rules! directives {
    (
        fields {
            $(
                $(#[doc = $doc:literal])*
                $field:ident : $ty:ty = $name:literal $([$($alias:literal),*])?, $kind:expr, $default:literal, $flags:expr;
            )*
        }
        plain {
            $( $pname:literal, $pkind:expr, $pflags:expr; )*
        }
    ) => {
        /// The server configuration: one public field per directive, typed.
        /// See the crate documentation for the fields shoal acts on.
        #[derive(Clone, Debug)]
        pub struct Config {
            $( $(#[doc = $doc])* pub $field: $ty, )*
            pub(crate) meta: crate::Meta,
        }

        impl Config {
            /// Every field at its type's zero value, before defaults apply.
            pub(crate) fn blank() -> Self {
                Config { $( $field: Default::default(), )* meta: Default::default() }
            }
        }

        /// Every directive, in one table.
        pub static DIRECTIVES: &[Directive] = &[
            $(
                Directive {
                    name: $name,
                    aliases: &[$($($alias),*)?],
                    kind: $kind,
                    default: $default,
                    flags: $flags,
                    access: Some(Access {
                        set: |c, d, args, ctx| {
                            let v = <$ty as Field>::parse(&d.kind, args, ctx, &c.$field)?;
                            c.$field = v;
                            Ok(())
                        },
                        get: |c, d| <$ty as Field>::show(&c.$field, &d.kind),
                        rewrite: |c, d, def| <$ty as Field>::rewrite(&c.$field, &d.kind, d.name, &def.$field),
                    }),
                },
            )*
            $(
                Directive { name: $pname, aliases: &[], kind: $pkind, default: "", flags: $pflags, access: None },
            )*
        ];
    };
}

directives! {
    fields {
        acl_pubsub_default: AclPubsubDefault = "acl-pubsub-default", Kind::Enum(AclPubsubDefault::NAMES), "resetchannels", M | Y;
        aclfile: String = "aclfile", STR, "", I | Y;
        acllog_max_len: u64 = "acllog-max-len", int(0, LLONG_MAX), "128", M | Y;
        active_defrag_cycle_max: u32 = "active-defrag-cycle-max", int(1, 99), "25", M;
        active_defrag_cycle_min: u32 = "active-defrag-cycle-min", int(1, 99), "1", M;
        active_defrag_ignore_bytes: u64 = "active-defrag-ignore-bytes", mem(1, MEM_LLONG), "104857600", M;
        active_defrag_max_scan_fields: u64 = "active-defrag-max-scan-fields", int(1, LLONG_MAX), "1000", M;
        active_defrag_threshold_lower: u32 = "active-defrag-threshold-lower", int(0, 1000), "10", M;
        active_defrag_threshold_upper: u32 = "active-defrag-threshold-upper", int(0, 1000), "100", M;
        /// `active-expire-effort` (1..10): how hard the active expire cycle works.
        active_expire_effort: u32 = "active-expire-effort", int(1, 10), "1", M | Y;
        activedefrag: bool = "activedefrag", Kind::Bool, "no", M;
        activerehashing: bool = "activerehashing", Kind::Bool, "yes", M;
        always_show_logo: bool = "always-show-logo", Kind::Bool, "no", I;
        aof_disable_auto_gc: bool = "aof-disable-auto-gc", Kind::Bool, "no", M | Y;
        aof_load_truncated: bool = "aof-load-truncated", Kind::Bool, "yes", M | Y;
        aof_rewrite_incremental_fsync: bool = "aof-rewrite-incremental-fsync", Kind::Bool, "yes", M;
        aof_timestamp_enabled: bool = "aof-timestamp-enabled", Kind::Bool, "no", M | Y;
        aof_use_rdb_preamble: bool = "aof-use-rdb-preamble", Kind::Bool, "yes", M | Y;
        aof_rewrite_cpulist: String = "aof_rewrite_cpulist", NSTR, "", I;
        /// `appenddirname`: the AOF directory inside `dir`.
        appenddirname: String = "appenddirname", checked(check_appenddirname), "appendonlydir", I | Y;
        /// `appendfilename`: base name of the AOF files and manifest.
        appendfilename: String = "appendfilename", checked(check_appendfilename), "appendonly.aof", I | Y;
        /// `appendfsync`.
        appendfsync: AppendFsync = "appendfsync", Kind::Enum(AppendFsync::NAMES), "everysec", M | Y;
        /// `appendonly`.
        appendonly: bool = "appendonly", Kind::Bool, "no", M | Y;
        auto_aof_rewrite_min_size: u64 = "auto-aof-rewrite-min-size", mem(0, MEM_LLONG), "67108864", M | Y;
        auto_aof_rewrite_percentage: u32 = "auto-aof-rewrite-percentage", int(0, INT_MAX), "100", M | Y;
        bgsave_cpulist: String = "bgsave_cpulist", NSTR, "", I;
        /// `bind`: addresses to listen on; a leading `-` marks one that may be
        /// unavailable. Default `* -::*`. Empty: listen on no TCP address.
        bind: Vec<String> = "bind", Kind::Bind, "* -::*", M | Y;
        bind_source_addr: String = "bind-source-addr", NSTR, "", M;
        bio_cpulist: String = "bio_cpulist", NSTR, "", I;
        /// `busy-reply-threshold` (alias `lua-time-limit`), milliseconds.
        busy_reply_threshold: u64 = "busy-reply-threshold" ["lua-time-limit"], int(0, LLONG_MAX), "5000", M | Y;
        /// `client-output-buffer-limit`, indexed by [`ClientClass`].
        client_output_buffer_limit: [ObufLimit; 3] = "client-output-buffer-limit", Kind::ObufLimits,
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", M | Y;
        /// `client-query-buffer-limit`, bytes.
        client_query_buffer_limit: u64 = "client-query-buffer-limit", mem(1024 * 1024, MEM_LLONG), "1073741824", M | Y;
        cluster_allow_pubsubshard_when_down: bool = "cluster-allow-pubsubshard-when-down", Kind::Bool, "yes", M;
        cluster_allow_reads_when_down: bool = "cluster-allow-reads-when-down", Kind::Bool, "no", M;
        cluster_allow_replica_migration: bool = "cluster-allow-replica-migration", Kind::Bool, "yes", M;
        cluster_announce_bus_port: u16 = "cluster-announce-bus-port", int(0, 65535), "0", M;
        cluster_announce_hostname: String = "cluster-announce-hostname", nchecked(check_hostname), "", M;
        cluster_announce_ip: String = "cluster-announce-ip", NSTR, "", M;
        cluster_announce_port: u16 = "cluster-announce-port", int(0, 65535), "0", M;
        cluster_announce_tls_port: u16 = "cluster-announce-tls-port", int(0, 65535), "0", M;
        /// `cluster-config-file` (not implemented yet).
        cluster_config_file: String = "cluster-config-file", STR, "nodes.conf", I;
        /// `cluster-enabled` (not implemented yet).
        cluster_enabled: bool = "cluster-enabled", Kind::Bool, "no", I;
        cluster_link_sendbuf_limit: u64 = "cluster-link-sendbuf-limit", mem(0, u64::MAX), "0", M;
        cluster_migration_barrier: u32 = "cluster-migration-barrier", int(0, INT_MAX), "1", M;
        /// `cluster-node-timeout`, milliseconds (not implemented yet).
        cluster_node_timeout: u64 = "cluster-node-timeout", int(0, LLONG_MAX), "15000", M;
        cluster_port: u16 = "cluster-port", int(0, 65535), "0", I;
        cluster_preferred_endpoint_type: EndpointType = "cluster-preferred-endpoint-type", Kind::Enum(EndpointType::NAMES), "ip", M;
        cluster_replica_no_failover: bool = "cluster-replica-no-failover" ["cluster-slave-no-failover"], Kind::Bool, "no", M;
        cluster_replica_validity_factor: u32 = "cluster-replica-validity-factor" ["cluster-slave-validity-factor"], int(0, INT_MAX), "10", M;
        cluster_require_full_coverage: bool = "cluster-require-full-coverage", Kind::Bool, "yes", M;
        crash_log_enabled: bool = "crash-log-enabled", Kind::Bool, "yes", M;
        crash_memcheck_enabled: bool = "crash-memcheck-enabled", Kind::Bool, "yes", M;
        /// `daemonize`: detach from the terminal at start-up.
        daemonize: bool = "daemonize", Kind::Bool, "no", I | Y;
        /// `databases`: number of logical databases.
        databases: u32 = "databases", int(1, INT_MAX), "16", I | Y;
        /// `dbfilename` (not implemented yet).
        dbfilename: String = "dbfilename", checked(check_dbfilename), "dump.rdb", M | P | Y;
        /// `dir`: absolute working directory. Parsing only checks it exists;
        /// the server changes to it. Defaults to the working directory.
        dir: PathBuf = "dir", Kind::Dir, ".", M | P | Y;
        disable_thp: bool = "disable-thp", Kind::Bool, "yes", I;
        /// `dynamic-hz`.
        dynamic_hz: bool = "dynamic-hz", Kind::Bool, "yes", M | Y;
        enable_debug_command: EnableLevel = "enable-debug-command", Kind::Enum(EnableLevel::NAMES), "no", I | Y;
        enable_module_command: EnableLevel = "enable-module-command", Kind::Enum(EnableLevel::NAMES), "no", I;
        enable_protected_configs: EnableLevel = "enable-protected-configs", Kind::Enum(EnableLevel::NAMES), "no", I;
        /// `event-loop-spin-us` (shoal extension): after handling events the
        /// engine polls without sleeping for this many microseconds, so a
        /// client's next request finds it awake instead of paying a wake-up;
        /// 0 sleeps at once, as Redis does.
        event_loop_spin_us: u64 = "event-loop-spin-us", int(0, 1_000_000), "30", M | Y | X;
        /// `hash-max-listpack-entries` (alias `hash-max-ziplist-entries`).
        hash_max_listpack_entries: u64 = "hash-max-listpack-entries" ["hash-max-ziplist-entries"], int(0, LLONG_MAX), "512", M | Y;
        /// `hash-max-listpack-value` (alias `hash-max-ziplist-value`), bytes.
        hash_max_listpack_value: u64 = "hash-max-listpack-value" ["hash-max-ziplist-value"], mem(0, MEM_LLONG), "64", M | Y;
        hll_sparse_max_bytes: u64 = "hll-sparse-max-bytes", mem(0, MEM_LLONG), "3000", M | Y;
        /// `hz`: accepted from 0, then kept within 1..=500.
        hz: u32 = "hz", Kind::Int { min: 0, max: INT_MAX, clamp: Some((1, 500)) }, "10", M | Y;
        ignore_warnings: String = "ignore-warnings", STR, "", M;
        io_threads: u32 = "io-threads", int(1, 128), "1", I;
        io_threads_do_reads: bool = "io-threads-do-reads", Kind::Bool, "no", I;
        jemalloc_bg_thread: bool = "jemalloc-bg-thread", Kind::Bool, "yes", M;
        key_load_delay: i32 = "key-load-delay", int(INT_MIN, INT_MAX), "0", M | H;
        /// `latency-monitor-threshold`, milliseconds; 0 disables.
        latency_monitor_threshold: u64 = "latency-monitor-threshold", int(0, LLONG_MAX), "0", M | Y;
        latency_tracking: bool = "latency-tracking", Kind::Bool, "yes", M | Y;
        latency_tracking_info_percentiles: Vec<f64> = "latency-tracking-info-percentiles", Kind::Percentiles, "50 99 99.9", M;
        /// `lazyfree-lazy-eviction`.
        lazyfree_lazy_eviction: bool = "lazyfree-lazy-eviction", Kind::Bool, "no", M | Y;
        /// `lazyfree-lazy-expire`.
        lazyfree_lazy_expire: bool = "lazyfree-lazy-expire", Kind::Bool, "no", M | Y;
        /// `lazyfree-lazy-server-del`.
        lazyfree_lazy_server_del: bool = "lazyfree-lazy-server-del", Kind::Bool, "no", M | Y;
        /// `lazyfree-lazy-user-del`.
        lazyfree_lazy_user_del: bool = "lazyfree-lazy-user-del", Kind::Bool, "no", M | Y;
        /// `lazyfree-lazy-user-flush`.
        lazyfree_lazy_user_flush: bool = "lazyfree-lazy-user-flush", Kind::Bool, "no", M | Y;
        lfu_decay_time: u32 = "lfu-decay-time", int(0, INT_MAX), "1", M | Y;
        lfu_log_factor: u32 = "lfu-log-factor", int(0, INT_MAX), "10", M | Y;
        /// `list-compress-depth`.
        list_compress_depth: u32 = "list-compress-depth", int(0, INT_MAX), "0", M | Y;
        /// `list-max-listpack-size` (alias `list-max-ziplist-size`): entries
        /// when positive, -1..-5 for 4..64 KiB.
        list_max_listpack_size: i32 = "list-max-listpack-size" ["list-max-ziplist-size"], int(INT_MIN, INT_MAX), "-2", M | Y;
        loading_process_events_interval_bytes: u32 = "loading-process-events-interval-bytes", int(1024, INT_MAX), "2097152", M | H;
        /// `logfile`: empty means standard output. Relative to `dir`.
        logfile: String = "logfile", STR, "", I | Y;
        /// `loglevel`.
        loglevel: LogLevel = "loglevel", Kind::Enum(LogLevel::NAMES), "notice", M | Y;
        masterauth: String = "masterauth", NSTR, "", M | Y;
        masteruser: String = "masteruser", NSTR, "", M | Y;
        /// `maxclients`.
        maxclients: u32 = "maxclients", int(1, UINT_MAX), "10000", M | Y;
        /// `maxmemory`, bytes; 0 means no limit.
        maxmemory: u64 = "maxmemory", mem(0, u64::MAX), "0", M | Y;
        maxmemory_clients: ClientsMemLimit = "maxmemory-clients", Kind::MemoryOrPercent, "0", M;
        maxmemory_eviction_tenacity: u32 = "maxmemory-eviction-tenacity", int(0, 100), "10", M;
        /// `maxmemory-policy`.
        maxmemory_policy: MaxmemoryPolicy = "maxmemory-policy", Kind::Enum(MaxmemoryPolicy::NAMES), "noeviction", M | Y;
        /// `maxmemory-samples`.
        maxmemory_samples: u32 = "maxmemory-samples", int(1, INT_MAX), "5", M | Y;
        min_replicas_max_lag: u32 = "min-replicas-max-lag" ["min-slaves-max-lag"], int(0, INT_MAX), "10", M | Y;
        min_replicas_to_write: u32 = "min-replicas-to-write" ["min-slaves-to-write"], int(0, INT_MAX), "0", M | Y;
        no_appendfsync_on_rewrite: bool = "no-appendfsync-on-rewrite", Kind::Bool, "no", M | Y;
        /// `notify-keyspace-events`.
        notify_keyspace_events: KeyspaceEvents = "notify-keyspace-events", Kind::KeyspaceEvents, "", M | Y;
        oom_score_adj: OomScoreAdj = "oom-score-adj", Kind::Enum(OomScoreAdj::NAMES), "no", M;
        oom_score_adj_values: [i32; 3] = "oom-score-adj-values", Kind::OomScoreAdjValues, "0 200 800", M;
        /// `pidfile`: empty means none (redis-server writes
        /// `/var/run/redis.pid` when daemonized without one).
        pidfile: String = "pidfile", NSTR, "", I | Y;
        /// `port`: TCP port; 0 means no TCP listener.
        port: u16 = "port", int(0, 65535), "6379", M | Y;
        proc_title_template: String = "proc-title-template", checked(check_proc_title), "{title} {listen-addr} {server-mode}", M;
        propagation_error_behavior: PropagationErrorBehavior = "propagation-error-behavior", Kind::Enum(PropagationErrorBehavior::NAMES), "ignore", M;
        /// `protected-mode`.
        protected_mode: bool = "protected-mode", Kind::Bool, "yes", M | Y;
        /// `proto-max-bulk-len`, bytes.
        proto_max_bulk_len: u64 = "proto-max-bulk-len", mem(1024 * 1024, MEM_LLONG), "536870912", M | Y;
        rdb_del_sync_files: bool = "rdb-del-sync-files", Kind::Bool, "no", M;
        /// `rdb-key-save-delay`, microseconds per saved key (a testing aid, as in
        /// Redis): paces the snapshot walk without stalling the engine.
        rdb_key_save_delay: i32 = "rdb-key-save-delay", int(INT_MIN, INT_MAX), "0", M | H | Y;
        rdb_save_incremental_fsync: bool = "rdb-save-incremental-fsync", Kind::Bool, "yes", M;
        rdbchecksum: bool = "rdbchecksum", Kind::Bool, "yes", I | Y;
        rdbcompression: bool = "rdbcompression", Kind::Bool, "yes", M | Y;
        repl_backlog_size: u64 = "repl-backlog-size", mem(1, MEM_LLONG), "1048576", M | Y;
        repl_backlog_ttl: u64 = "repl-backlog-ttl", int(0, LLONG_MAX), "3600", M | Y;
        repl_disable_tcp_nodelay: bool = "repl-disable-tcp-nodelay", Kind::Bool, "no", M;
        repl_diskless_load: ReplDisklessLoad = "repl-diskless-load", Kind::Enum(ReplDisklessLoad::NAMES), "disabled", M;
        repl_diskless_sync: bool = "repl-diskless-sync", Kind::Bool, "yes", M;
        repl_diskless_sync_delay: u32 = "repl-diskless-sync-delay", int(0, INT_MAX), "5", M;
        repl_diskless_sync_max_replicas: u32 = "repl-diskless-sync-max-replicas", int(0, INT_MAX), "0", M;
        repl_ping_replica_period: u32 = "repl-ping-replica-period" ["repl-ping-slave-period"], int(1, INT_MAX), "10", M | Y;
        repl_timeout: u32 = "repl-timeout", int(1, INT_MAX), "60", M | Y;
        replica_announce_ip: String = "replica-announce-ip" ["slave-announce-ip"], NSTR, "", M;
        replica_announce_port: u16 = "replica-announce-port" ["slave-announce-port"], int(0, 65535), "0", M | Y;
        replica_announced: bool = "replica-announced", Kind::Bool, "yes", M | Y;
        replica_ignore_disk_write_errors: bool = "replica-ignore-disk-write-errors", Kind::Bool, "no", M;
        replica_ignore_maxmemory: bool = "replica-ignore-maxmemory" ["slave-ignore-maxmemory"], Kind::Bool, "yes", M;
        replica_lazy_flush: bool = "replica-lazy-flush" ["slave-lazy-flush"], Kind::Bool, "no", M;
        replica_priority: u32 = "replica-priority" ["slave-priority"], int(0, INT_MAX), "100", M | Y;
        replica_read_only: bool = "replica-read-only" ["slave-read-only"], Kind::Bool, "yes", M | Y;
        replica_serve_stale_data: bool = "replica-serve-stale-data" ["slave-serve-stale-data"], Kind::Bool, "yes", M | Y;
        /// `replicaof` (alias `slaveof`).
        replicaof: Option<ReplicaOf> = "replicaof" ["slaveof"], Kind::ReplicaOf, "no one", I | Y;
        /// `requirepass`: empty means no password.
        requirepass: String = "requirepass", NSTR, "", M | Y;
        sanitize_dump_payload: SanitizeDumpPayload = "sanitize-dump-payload", Kind::Enum(SanitizeDumpPayload::NAMES), "no", M;
        /// `save` points (not implemented yet).
        save: Vec<SavePoint> = "save", Kind::Save, "3600 1 300 100 60 10000", M | Y;
        server_cpulist: String = "server_cpulist", NSTR, "", I;
        /// `set-max-intset-entries`.
        set_max_intset_entries: u64 = "set-max-intset-entries", int(0, LLONG_MAX), "512", M | Y;
        /// `set-max-listpack-entries` (shoal extension, from Redis 7.2).
        set_max_listpack_entries: u64 = "set-max-listpack-entries", int(0, LLONG_MAX), "128", M | Y | X;
        /// `set-max-listpack-value` (shoal extension, from Redis 7.2), bytes.
        set_max_listpack_value: u64 = "set-max-listpack-value", mem(0, MEM_LLONG), "64", M | Y | X;
        set_proc_title: bool = "set-proc-title", Kind::Bool, "yes", I;
        shutdown_on_sigint: ShutdownFlags = "shutdown-on-sigint", Kind::Flags(ShutdownFlags::NAMES), "default", M;
        shutdown_on_sigterm: ShutdownFlags = "shutdown-on-sigterm", Kind::Flags(ShutdownFlags::NAMES), "default", M;
        shutdown_timeout: u32 = "shutdown-timeout", int(0, INT_MAX), "10", M;
        /// `slowlog-log-slower-than`, microseconds; negative disables.
        slowlog_log_slower_than: i64 = "slowlog-log-slower-than", int(-1, LLONG_MAX), "10000", M | Y;
        /// `slowlog-max-len`.
        slowlog_max_len: u64 = "slowlog-max-len", int(0, LLONG_MAX), "128", M | Y;
        socket_mark_id: u32 = "socket-mark-id", int(0, UINT_MAX), "0", I;
        stop_writes_on_bgsave_error: bool = "stop-writes-on-bgsave-error", Kind::Bool, "yes", M | Y;
        /// `stream-node-max-bytes`.
        stream_node_max_bytes: u64 = "stream-node-max-bytes", mem(0, MEM_LLONG), "4096", M | Y;
        /// `stream-node-max-entries`.
        stream_node_max_entries: u64 = "stream-node-max-entries", int(0, LLONG_MAX), "100", M | Y;
        supervised: Supervised = "supervised", Kind::Enum(Supervised::NAMES), "no", I;
        /// `syslog-enabled`.
        syslog_enabled: bool = "syslog-enabled", Kind::Bool, "no", I | Y;
        /// `syslog-facility`.
        syslog_facility: SyslogFacility = "syslog-facility", Kind::Enum(SyslogFacility::NAMES), "local0", I | Y;
        /// `syslog-ident`.
        syslog_ident: String = "syslog-ident", STR, "redis", I | Y;
        /// `tcp-backlog`.
        tcp_backlog: u32 = "tcp-backlog", int(0, INT_MAX), "511", I | Y;
        /// `tcp-keepalive`, seconds; 0 disables.
        tcp_keepalive: u32 = "tcp-keepalive", int(0, INT_MAX), "300", M | Y;
        /// `timeout`: idle client timeout in seconds; 0 disables.
        timeout: u32 = "timeout", int(0, INT_MAX), "0", M | Y;
        tls_auth_clients: TlsAuthClients = "tls-auth-clients", Kind::Enum(TlsAuthClients::NAMES), "yes", M;
        tls_ca_cert_dir: String = "tls-ca-cert-dir", NSTR, "", M;
        tls_ca_cert_file: String = "tls-ca-cert-file", NSTR, "", M;
        tls_cert_file: String = "tls-cert-file", NSTR, "", M;
        tls_ciphers: String = "tls-ciphers", NSTR, "", M;
        tls_ciphersuites: String = "tls-ciphersuites", NSTR, "", M;
        tls_client_cert_file: String = "tls-client-cert-file", NSTR, "", M;
        tls_client_key_file: String = "tls-client-key-file", NSTR, "", M;
        tls_client_key_file_pass: String = "tls-client-key-file-pass", NSTR, "", M;
        tls_cluster: bool = "tls-cluster", Kind::Bool, "no", M;
        tls_dh_params_file: String = "tls-dh-params-file", NSTR, "", M;
        tls_key_file: String = "tls-key-file", NSTR, "", M;
        tls_key_file_pass: String = "tls-key-file-pass", NSTR, "", M;
        tls_port: u16 = "tls-port", int(0, 65535), "0", M;
        tls_prefer_server_ciphers: bool = "tls-prefer-server-ciphers", Kind::Bool, "no", M;
        tls_protocols: String = "tls-protocols", NSTR, "", M;
        tls_replication: bool = "tls-replication", Kind::Bool, "no", M;
        tls_session_cache_size: u32 = "tls-session-cache-size", int(0, INT_MAX), "20480", M;
        tls_session_cache_timeout: u32 = "tls-session-cache-timeout", int(0, INT_MAX), "300", M;
        tls_session_caching: bool = "tls-session-caching", Kind::Bool, "yes", M;
        tracking_table_max_keys: u64 = "tracking-table-max-keys", int(0, LLONG_MAX), "1000000", M;
        unixsocket: String = "unixsocket", NSTR, "", I;
        unixsocketperm: u32 = "unixsocketperm", Kind::Octal { max: 0o777 }, "0", I;
        watchdog_period: u32 = "watchdog-period", int(0, INT_MAX), "0", M | H;
        /// `zset-max-listpack-entries` (alias `zset-max-ziplist-entries`).
        zset_max_listpack_entries: u64 = "zset-max-listpack-entries" ["zset-max-ziplist-entries"], int(0, LLONG_MAX), "128", M | Y;
        /// `zset-max-listpack-value` (alias `zset-max-ziplist-value`), bytes.
        zset_max_listpack_value: u64 = "zset-max-listpack-value" ["zset-max-ziplist-value"], mem(0, MEM_LLONG), "64", M | Y;

        /// `rename-command` lines, in order (file only; not implemented yet).
        rename_command: Vec<RenameCommand> = "rename-command", Kind::RenameCommand, "", F;
        /// `user` lines, each as its arguments (file only): ACL users made at start-up.
        user: Vec<Vec<String>> = "user", Kind::User, "", F | Y;
        /// `loadmodule` lines, each as its arguments (file only; modules are not supported).
        loadmodule: Vec<Vec<String>> = "loadmodule", Kind::LoadModule, "", F;
    }
    plain {
        "include", Kind::Include, F | Y;
        "sentinel", Kind::Sentinel, F;
        "list-max-ziplist-entries", Kind::Deprecated, F;
        "list-max-ziplist-value", Kind::Deprecated, F;
        "lua-replicate-commands", Kind::Deprecated, F;
    }
}

/// Looks a directive up by name or alias, ignoring ASCII case.
pub(crate) fn lookup(name: &str) -> Option<(usize, &'static Directive)> {
    let lower = name.to_ascii_lowercase();
    DIRECTIVES.iter().enumerate().find(|(_, d)| d.answers_to(&lower))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_lower_case() {
        let mut all: Vec<&str> = Vec::new();
        for d in DIRECTIVES {
            for n in std::iter::once(&d.name).chain(d.aliases.iter()) {
                assert_eq!(*n, n.to_ascii_lowercase());
                assert!(!all.contains(n), "duplicate {n}");
                all.push(n);
            }
        }
    }

    #[test]
    fn proc_title_rules() {
        for ok in [
            "{title} {listen-addr} {server-mode}",
            "{title} x",
            "x {title}",
            "{listen-addr}",
            "{port}",
            "{title}}",
            "}",
            "abc",
            "a}b",
        ] {
            assert!(check_proc_title(ok).is_ok(), "{ok}");
        }
        for bad in [
            "{title}",
            "{title}{title}",
            "{",
            "{}",
            "{server-mode}",
            " {title}",
            "{title} ",
            "x{title",
            "{foo} {title}",
            "",
        ] {
            assert!(check_proc_title(bad).is_err(), "{bad}");
        }
    }
}
