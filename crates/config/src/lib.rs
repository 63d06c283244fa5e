//! shoal-config: the server configuration, compatible with Redis 7.0.15's
//! `redis.conf` and `redis-server --directive value` command line.
//!
//! # What this crate owns
//!
//! * Reading configuration: the `shoal-server` command line
//!   ([`Config::from_args`]), config files with `include`, quoting and
//!   escapes, memory units, and the exact start-up error texts
//!   ([`ConfigError`]).
//! * The single declarative table of every directive ([`DIRECTIVES`], built
//!   in `table.rs`): name, aliases, [`Kind`] (type and bounds), default,
//!   mutability and whether shoal implements it. Every other part reads it;
//!   there is no second list.
//! * The logic of CONFIG GET ([`Config::get`]), CONFIG SET ([`Config::set`])
//!   and CONFIG REWRITE ([`Config::rewrite`]) that does not depend on server
//!   state.
//!
//! It does no I/O beyond reading config files (and the checks redis-server
//! makes at load time: `dir` exists, the log file can be opened) and writing
//! the file on CONFIG REWRITE. It never changes the process (no `chdir`, no
//! logging, no listening): the server does that with the values it finds
//! here, and reacts to the names [`Config::set`] returns.
//!
//! # Layout
//!
//! * `table.rs`: [`Kind`], [`Directive`], the `directives!` table that
//!   generates [`Config`] and [`DIRECTIVES`].
//! * `field.rs`: per field type, parsing from arguments, CONFIG GET text and
//!   CONFIG REWRITE lines.
//! * `values.rs`: typed values ([`LogLevel`], [`ObufLimit`], [`SavePoint`],
//!   [`KeyspaceEvents`], ...).
//! * `load.rs`: command line, files, `include`, line dispatch.
//! * `rewrite.rs`: CONFIG REWRITE.
//! * `parse.rs`: argument splitting and quoting, numbers, memory sizes, glob.
//! * `error.rs`: [`ConfigError`] and its Redis-identical texts.
//!
//! # Fields the server uses
//!
//! Every directive is a public field named after it (`-` becomes `_`). The
//! ones shoal implements today ([`Directive::IMPLEMENTED`]):
//!
//! | field | type | directive |
//! |---|---|---|
//! | `port` | `u16` | port (0: no TCP listener) |
//! | `bind` | `Vec<String>` | bind (a leading `-` marks an optional address) |
//! | `protected_mode`, `daemonize` | `bool` | |
//! | `pidfile`, `logfile` | `String` | empty: none / stdout |
//! | `loglevel` | [`LogLevel`] | |
//! | `syslog_enabled`, `syslog_ident`, `syslog_facility` | `bool`, `String`, [`SyslogFacility`] | |
//! | `dir` | `PathBuf` | absolute; the server `chdir`s to it |
//! | `databases`, `maxclients`, `timeout`, `tcp_keepalive`, `tcp_backlog` | `u32` | |
//! | `requirepass` | `String` | empty: no password |
//! | `proto_max_bulk_len`, `client_query_buffer_limit` | `u64` | bytes |
//! | `client_output_buffer_limit` | `[ObufLimit; 3]` | index with [`ClientClass`] |
//! | `latency_monitor_threshold` | `u64` | ms |
//! | `slowlog_log_slower_than` | `i64` | µs; negative disables |
//! | `slowlog_max_len` | `u64` | |
//! | `maxmemory` | `u64` | bytes, 0: no limit |
//! | `maxmemory_policy`, `maxmemory_samples` | [`MaxmemoryPolicy`], `u32` | |
//! | `hz`, `dynamic_hz`, `active_expire_effort` | `u32`, `bool`, `u32` | `hz` already within 1..=500 |
//! | `lazyfree_lazy_{eviction,expire,server_del,user_del,user_flush}` | `bool` | |
//! | `hash_max_listpack_{entries,value}`, `zset_max_listpack_{entries,value}` | `u64` | |
//! | `set_max_intset_entries`, `set_max_listpack_{entries,value}` | `u64` | the last two are a shoal extension (Redis 7.2 names) |
//! | `list_max_listpack_size`, `list_compress_depth` | `i32`, `u32` | |
//! | `stream_node_max_bytes`, `stream_node_max_entries` | `u64` | |
//! | `busy_reply_threshold` | `u64` | ms (alias `lua-time-limit`) |
//! | `notify_keyspace_events` | [`KeyspaceEvents`] | bits; `to_string()` is the canonical text |
//!
//! Also implemented: RDB persistence (`save: Vec<SavePoint>`, `dbfilename`,
//! `rdbcompression`, `rdbchecksum`), the AOF (`appendonly: bool`,
//! `appendfsync: AppendFsync`, `appendfilename`, `appenddirname`,
//! `aof_use_rdb_preamble`, `aof_load_truncated`, `aof_disable_auto_gc`,
//! `aof_timestamp_enabled`, `auto_aof_rewrite_*`, `no_appendfsync_on_rewrite`),
//! `enable-debug-command`,
//! the LFU and HyperLogLog tunables. Parsed, validated and shown but not acted
//! on yet (the server warns for each name in [`Config::unsupported_in_use`]):
//! `aof_rewrite_incremental_fsync`, replication (`replicaof: Option<ReplicaOf>`, `masterauth`,
//! `masteruser`), cluster (`cluster_enabled: bool`, `cluster_config_file:
//! String`, `cluster_node_timeout: u64`, the other `cluster_*`), the file-only
//! `rename_command`, `user`, `loadmodule`, and everything else.

mod error;
mod field;
mod load;
mod parse;
mod rewrite;
mod table;
mod values;

use std::path::{Path, PathBuf};

pub use error::{usage, ConfigError, Source, REDIS_VERSION};
pub use rewrite::REWRITE_SIGNATURE;
pub use table::{Config, Directive, Kind, StrCheck, DIRECTIVES};
pub use values::*;

use field::{Ctx, Mode};
use load::lossy;
use parse::{glob_match, has_glob, split_args};
use table::{lookup, Arity};

/// State that is about the configuration rather than a directive.
#[derive(Clone, Debug, Default)]
pub(crate) struct Meta {
    /// Absolute path of the config file given on the command line.
    pub config_file: Option<PathBuf>,
    /// Per row of [`DIRECTIVES`]: whether the file / command line set it.
    pub user_set: Vec<bool>,
}

impl Default for Config {
    /// Redis 7.0.15's defaults (`dir`: the current working directory).
    fn default() -> Self {
        let mut c = Config::blank();
        c.meta.user_set = vec![false; DIRECTIVES.len()];
        let mut ctx = Ctx::new(Mode::Default);
        for d in DIRECTIVES.iter().filter(|d| d.is_runtime()) {
            let args: Vec<String> = match d.kind.arity() {
                Arity::One => vec![d.default.to_string()],
                _ => split_args(d.default.as_bytes())
                    .unwrap_or_default()
                    .iter()
                    .map(|a| lossy(a))
                    .collect(),
            };
            let set = d.access.expect("runtime directive").set;
            if let Err(e) = set(&mut c, d, &args, &mut ctx) {
                panic!("bad default for {}: {e}", d.name);
            }
        }
        c
    }
}

fn set_failed(name: &str, msg: &str) -> String {
    format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {msg}")
}

impl Config {
    /// Reads the configuration from `redis-server`-style arguments (argv
    /// without the program name): an optional config file path first (a
    /// word not starting with `-`), `-` (first or last) to read more config
    /// from stdin, and `--directive value...` options. As in Redis the file,
    /// then stdin, then the options form one config text, so later lines win
    /// (and `save` lines add up).
    ///
    /// `-v`/`--version` and `-h`/`--help` as the first argument return
    /// [`ConfigError::Version`] / [`ConfigError::Help`]: print the error's
    /// `Display` and exit with [`ConfigError::exit_code`].
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        load::from_args_with_stdin(args, &mut || {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map(|_| buf)
        })
    }

    /// Parses config text that does not come from a file (tests, embedding).
    /// Relative `include` paths are taken from `dir`.
    pub fn from_text(text: &str) -> Result<Config, ConfigError> {
        load::from_text(text)
    }

    /// The config file the server started from (absolute), if any.
    pub fn config_file(&self) -> Option<&Path> {
        self.meta.config_file.as_deref()
    }

    /// Sets the file CONFIG REWRITE writes to.
    pub fn set_config_file(&mut self, path: Option<PathBuf>) {
        self.meta.config_file = path;
    }

    /// The directive `name` (or alias, any case) in the table.
    pub fn directive(name: &str) -> Option<&'static Directive> {
        lookup(name).map(|(_, d)| d)
    }

    /// Whether shoal acts on directive `name` (false if unknown).
    pub fn is_implemented(name: &str) -> bool {
        Self::directive(name).is_some_and(Directive::is_implemented)
    }

    /// Canonical names of directives that the config file or command line
    /// set to a non-default value but that shoal does not implement yet, so
    /// the server can log a warning for each. Setting one to its default is
    /// not reported, since nothing is lost.
    pub fn unsupported_in_use(&self) -> Vec<String> {
        let defaults = Config::default();
        DIRECTIVES
            .iter()
            .enumerate()
            .filter(|(i, d)| self.meta.user_set.get(*i) == Some(&true) && !d.is_implemented())
            .filter(|(_, d)| match d.access {
                None => false,
                Some(_) if d.has(Directive::FILE_ONLY) => true,
                Some(a) => (a.get)(self, d) != (a.get)(&defaults, d),
            })
            .map(|(_, d)| d.name.to_string())
            .collect()
    }

    /// The CONFIG GET text of one directive (name or alias, any case).
    pub fn get_one(&self, name: &str) -> Option<String> {
        let d = Self::directive(name).filter(|d| d.is_runtime())?;
        Some((d.access?.get)(self, d))
    }

    /// CONFIG GET: name/value pairs for every directive matching one of the
    /// glob patterns (case-insensitive). An argument without `*`, `?` or `[`
    /// is an exact name: it also finds hidden directives, and the reply uses
    /// the spelling asked for. Aliases are answered under their own names.
    /// No name appears twice.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut push = |key: &str, d: &Directive| {
            if !out.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
                let get = d.access.expect("runtime directive").get;
                out.push((key.to_string(), get(self, d)));
            }
        };
        for p in patterns {
            if !has_glob(p) {
                let name = lossy(p);
                if let Some(d) = Self::directive(&name).filter(|d| d.is_runtime()) {
                    push(&name, d);
                }
                continue;
            }
            for d in DIRECTIVES
                .iter()
                .filter(|d| d.is_runtime() && !d.has(Directive::HIDDEN))
            {
                for n in std::iter::once(&d.name).chain(d.aliases) {
                    if glob_match(p, n.as_bytes(), true) {
                        push(n, d);
                    }
                }
            }
        }
        out
    }

    /// CONFIG SET from a client that is not local; see [`Config::set_from_client`].
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<Vec<String>, String> {
        self.set_from_client(pairs, false)
    }

    /// CONFIG SET of one or more name/value pairs, all or nothing. Returns
    /// the canonical names whose value changed, in order, so the server can
    /// act (listen again, resize, ...); if acting fails, the server should
    /// restore a clone taken before and answer
    /// `ERR CONFIG SET failed (possibly related to argument '<name>') - <reason>`.
    ///
    /// `local_client` (loopback or unix socket) matters for protected
    /// directives (`dir`, `dbfilename`) when `enable-protected-configs` is
    /// `local`. An odd number of arguments is the caller's
    /// `ERR syntax error`. Errors are Redis's texts, e.g.
    /// `ERR Unknown option or number of arguments for CONFIG SET - 'foo'`.
    pub fn set_from_client(&mut self, pairs: &[(&[u8], &[u8])], local_client: bool) -> Result<Vec<String>, String> {
        if pairs.is_empty() {
            return Err("ERR wrong number of arguments for 'config|set' command".into());
        }
        let mut rows: Vec<(&'static Directive, String)> = Vec::with_capacity(pairs.len());
        for (name, _) in pairs {
            let given = lossy(name);
            let Some(d) = Self::directive(&given).filter(|d| d.is_runtime()) else {
                // Redis prints the name with C's %s, which stops at a NUL byte.
                let shown = given.split('\0').next().unwrap_or("");
                return Err(format!(
                    "ERR Unknown option or number of arguments for CONFIG SET - '{shown}'"
                ));
            };
            if d.has(Directive::IMMUTABLE) {
                return Err(set_failed(&given, "can't set immutable config"));
            }
            if d.has(Directive::PROTECTED) && !self.enable_protected_configs.allows(local_client) {
                return Err(set_failed(&given, "can't set protected config"));
            }
            let lower = given.to_ascii_lowercase();
            if rows.iter().any(|(_, n)| *n == lower) {
                return Err(set_failed(&given, "duplicate parameter"));
            }
            rows.push((d, lower));
        }
        let mut next = self.clone();
        let mut ctx = Ctx::new(Mode::Set);
        for ((d, name), (_, value)) in rows.iter().zip(pairs) {
            let mut value = lossy(value);
            // Redis compares names and parses numbers and booleans as C strings:
            // a NUL byte ends them (`noeviction\0junk` is `noeviction`).
            if matches!(
                d.kind,
                Kind::Bool | Kind::Enum(_) | Kind::Flags(_) | Kind::Int { .. } | Kind::Memory { .. }
            ) {
                if let Some(i) = value.find('\0') {
                    value.truncate(i);
                }
            }
            let args = match d.kind.arity() {
                Arity::Multi if value.is_empty() => Vec::new(),
                Arity::Multi => value.split(' ').map(str::to_string).collect(),
                _ => vec![value],
            };
            let access = d.access.expect("runtime directive");
            (access.set)(&mut next, d, &args, &mut ctx).map_err(|m| set_failed(name, &m))?;
        }
        let mut changed: Vec<String> = Vec::new();
        for (d, _) in &rows {
            let get = d.access.expect("runtime directive").get;
            if get(self, d) != get(&next, d) && !changed.iter().any(|c| c == d.name) {
                changed.push(d.name.to_string());
            }
        }
        *self = next;
        Ok(changed)
    }
}

#[cfg(test)]
mod tests;
