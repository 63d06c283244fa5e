//! The command table: the one place that describes every command (name, arity,
//! flags, key positions, ACL categories, docs) and points at its implementation.
//! Dispatch, arity checks, key extraction, COMMAND INFO/DOCS/COUNT/LIST/GETKEYS and
//! INFO commandstats all read it.
//!
//! Implementations live one file per group, mirroring Redis's own split:
//! `keyspace` (generic key commands), `string`, `bitmap`, `connection`, `server`
//! (INFO, CONFIG, DEBUG, SLOWLOG, LATENCY, MEMORY, COMMAND...), `client`.

pub mod acl;
pub mod bitmap;
pub mod client;
pub mod connection;
pub mod digest;
pub mod function;
pub mod geo;
pub mod hash;
pub mod hash_ttl;
pub mod hyperloglog;
pub mod introspection;
pub mod keyspace;
pub mod list;
pub mod lua_libs;
pub mod persistence;
pub mod pubsub;
pub mod replication;
pub mod scripting;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
mod table;
pub mod transaction;
pub mod zset;

use crate::client::ClientState;
use crate::server::Server;
use shoal_resp::Reply;
use shoal_store::Db;
use std::collections::HashMap;

pub use table::COMMANDS;

/// What a command implementation receives.
pub struct Ctx<'a> {
    pub srv: &'a mut Server,
    pub client: &'a mut ClientState,
}

impl Ctx<'_> {
    /// The client's selected database.
    #[inline]
    pub fn db(&mut self) -> &mut Db {
        &mut self.srv.keyspace.dbs[self.client.db]
    }
    #[inline]
    pub fn out(&mut self) -> &mut Reply {
        &mut self.client.out
    }
    /// Publishes a keyspace event about `key` in the client's database.
    #[inline]
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        crate::notify::notify_ctx(self, class, event, key)
    }
    #[inline]
    pub fn now(&self) -> i64 {
        self.srv.now_ms
    }
    /// Whether anything consumes the effects stream (an AOF or replicas):
    /// handlers skip building effects when nothing does.
    #[inline]
    pub fn propagating(&self) -> bool {
        crate::propagate::active(self.srv)
    }
    /// Declares one deterministic effect of this command, replacing its own
    /// arguments in the effects stream (call once per effect).
    pub fn propagate(&mut self, argv: Vec<Vec<u8>>) {
        self.client.effects.get_or_insert_with(Vec::new).push(argv);
    }
    /// Reports how many changes this write made, for the save-point dirty
    /// counter (`rdb_changes_since_last_save`, `save <secs> <changes>`) as
    /// Redis counts them: SADD of 3 new members is 3, MSET of 2 keys 2, a
    /// no-op 0. A successful write command that reports nothing counts 1.
    #[inline]
    pub fn changed(&mut self, n: u64) {
        self.client.changes = Some(n);
    }
    /// Declares that this command changed nothing: it is not propagated.
    pub fn propagate_nothing(&mut self) {
        self.client.effects = Some(Vec::new());
    }
}

pub type Handler = fn(&mut Ctx, &[&[u8]]);

/// A command or subcommand.
pub struct CommandSpec {
    /// Lower case, as COMMAND reports it.
    pub name: &'static str,
    /// Redis arity: N = exactly N arguments including the name, -N = at least N.
    pub arity: i32,
    /// Space-separated Redis command flags (`write denyoom fast`...).
    pub flags: &'static str,
    /// First key, last key (negative counts from the end), step; (0,0,0) = no keys.
    pub keys: (i32, i32, i32),
    /// ACL categories beyond the ones the flags imply (`@string @keyspace`...).
    pub acl: &'static str,
    pub group: &'static str,
    pub since: &'static str,
    pub complexity: &'static str,
    pub summary: &'static str,
    /// None for container commands that only dispatch to subcommands.
    pub handler: Option<Handler>,
    pub subcommands: &'static [CommandSpec],
    /// `flags` as bits ([`flag`]), computed at compile time for the hot path.
    pub bits: u32,
}

/// Command flags as bits.
pub mod flag {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const ASKING: u32 = 1 << 11;
    pub const FAST: u32 = 1 << 12;
    pub const NO_AUTH: u32 = 1 << 13;
    pub const MAY_REPLICATE: u32 = 1 << 14;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 15;
    pub const NO_MULTI: u32 = 1 << 16;
    pub const ALLOW_BUSY: u32 = 1 << 17;
    pub const NO_ASYNC_LOADING: u32 = 1 << 18;
    pub const SENTINEL: u32 = 1 << 19;
    /// Keys are not at fixed positions (COMMAND INFO reports `movablekeys`).
    pub const MOVABLEKEYS: u32 = 1 << 20;

    /// Every flag name Redis 7.0 uses, with its bit.
    pub const NAMES: &[(&str, u32)] = &[
        ("write", WRITE),
        ("readonly", READONLY),
        ("denyoom", DENYOOM),
        ("admin", ADMIN),
        ("pubsub", PUBSUB),
        ("noscript", NOSCRIPT),
        ("blocking", BLOCKING),
        ("loading", LOADING),
        ("stale", STALE),
        ("skip_monitor", SKIP_MONITOR),
        ("skip_slowlog", SKIP_SLOWLOG),
        ("asking", ASKING),
        ("fast", FAST),
        ("no_auth", NO_AUTH),
        ("may_replicate", MAY_REPLICATE),
        ("no_mandatory_keys", NO_MANDATORY_KEYS),
        ("no_multi", NO_MULTI),
        ("allow_busy", ALLOW_BUSY),
        ("no_async_loading", NO_ASYNC_LOADING),
        ("sentinel", SENTINEL),
        ("movablekeys", MOVABLEKEYS),
    ];

    const fn word_eq(s: &[u8], start: usize, end: usize, w: &[u8]) -> bool {
        if end - start != w.len() {
            return false;
        }
        let mut i = 0;
        while i < w.len() {
            if s[start + i] != w[i] {
                return false;
            }
            i += 1;
        }
        true
    }

    /// Parses a space-separated flag list at compile time; an unknown flag name
    /// fails the build.
    pub const fn parse(flags: &str) -> u32 {
        let s = flags.as_bytes();
        let mut bits = 0;
        let mut i = 0;
        while i < s.len() {
            while i < s.len() && s[i] == b' ' {
                i += 1;
            }
            let start = i;
            while i < s.len() && s[i] != b' ' {
                i += 1;
            }
            if start == i {
                break;
            }
            let mut k = 0;
            let mut found = false;
            while k < NAMES.len() {
                if word_eq(s, start, i, NAMES[k].0.as_bytes()) {
                    bits |= NAMES[k].1;
                    found = true;
                }
                k += 1;
            }
            assert!(found, "unknown command flag");
        }
        bits
    }
}

impl CommandSpec {
    pub fn has_flag(&self, name: &str) -> bool {
        flag::NAMES.iter().any(|&(n, b)| n == name && self.bits & b != 0)
    }

    #[inline]
    pub fn has(&self, bits: u32) -> bool {
        self.bits & bits != 0
    }

    /// All ACL categories: the explicit ones plus those Redis derives from flags.
    pub fn acl_categories(&self) -> Vec<&'static str> {
        let mut cats: Vec<&'static str> = self.acl.split_ascii_whitespace().collect();
        let mut add = |c: &'static str| {
            if !cats.contains(&c) {
                cats.push(c)
            }
        };
        if self.has_flag("write") {
            add("@write");
        }
        if self.has_flag("readonly") && !self.acl.contains("@scripting") {
            add("@read");
        }
        if self.has_flag("admin") {
            add("@admin");
            add("@dangerous");
        }
        if self.has_flag("pubsub") {
            add("@pubsub");
        }
        if self.has_flag("fast") {
            add("@fast");
        }
        if self.has_flag("blocking") {
            add("@blocking");
        }
        if !self.has_flag("fast") {
            add("@slow");
        }
        cats
    }

    /// Positions of the key arguments in `args` (COMMAND GETKEYS, cluster slots).
    pub fn key_positions(&self, argc: usize) -> Vec<usize> {
        let (first, last, step) = self.keys;
        if first <= 0 || step <= 0 {
            return Vec::new();
        }
        let last = if last < 0 { argc as i32 + last } else { last };
        let mut out = Vec::new();
        let mut i = first;
        while i <= last && (i as usize) < argc {
            out.push(i as usize);
            i += step;
        }
        out
    }

    /// Positions of every key argument, including commands whose keys follow a
    /// numkeys argument or a keyword (`movablekeys`). None when the arguments
    /// cannot be read for keys (bad numkeys, missing STREAMS...).
    pub fn all_key_positions(&self, args: &[&[u8]]) -> Option<Vec<usize>> {
        if !self.has(flag::MOVABLEKEYS) {
            return Some(self.key_positions(args.len()));
        }
        let numkeys_at = |i: usize, prefix: Vec<usize>, allow_zero: bool| -> Option<Vec<usize>> {
            let n = parse_int(args.get(i)?)?;
            if n < 0 || (n == 0 && !allow_zero) || i + n as usize >= args.len() {
                return None;
            }
            Some(prefix.into_iter().chain(i + 1..=i + n as usize).collect())
        };
        match self.name {
            "lmpop" | "zmpop" | "sintercard" | "zunion" | "zinter" | "zdiff" | "zintercard" => {
                numkeys_at(1, vec![], false)
            }
            "blmpop" | "bzmpop" => numkeys_at(2, vec![], false),
            "zunionstore" | "zinterstore" | "zdiffstore" => numkeys_at(2, vec![1], false),
            "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall" | "fcall_ro" => numkeys_at(2, vec![], true),
            "xread" | "xreadgroup" => {
                // Redis 7.0's key spec: the STREAMS keyword, searched from
                // argument 1 (XREADGROUP: 4) up to the second-to-last one, then
                // half of the arguments after it, rounded down, even when keys
                // and IDs do not pair up.
                let from = if self.name == "xread" { 1 } else { 4 };
                let by_spec = (from..args.len().saturating_sub(1))
                    .find(|&i| eq_ic(args[i], "streams"))
                    .map(|at| (at + 1, (args.len() - at - 1) / 2))
                    .filter(|&(_, n)| n > 0);
                if let Some((first, n)) = by_spec {
                    return Some((first..first + n).collect());
                }
                // The spec failed: Redis falls back to xreadGetKeys, which
                // parses the options and wants keys and IDs in pairs.
                let mut i = 1;
                let at = loop {
                    let a = args.get(i)?;
                    if eq_ic(a, "block") || eq_ic(a, "count") {
                        i += 2;
                    } else if eq_ic(a, "group") {
                        i += 3;
                    } else if eq_ic(a, "noack") {
                        i += 1;
                    } else if eq_ic(a, "streams") {
                        break i;
                    } else {
                        return None;
                    }
                };
                let rest = args.len() - at - 1;
                if rest == 0 || !rest.is_multiple_of(2) {
                    return None;
                }
                Some((at + 1..at + 1 + rest / 2).collect())
            }
            "sort" | "sort_ro" | "georadius" | "georadiusbymember" | "georadius_ro" | "georadiusbymember_ro" => {
                let mut keys = vec![1];
                let mut i = 2;
                while i + 1 < args.len() {
                    if eq_ic(args[i], "store") || eq_ic(args[i], "storedist") {
                        keys.push(i + 1);
                        i += 1;
                    }
                    i += 1;
                }
                Some(keys)
            }
            _ => Some(self.key_positions(args.len())),
        }
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a > 0 && argc as i32 == a) || (a < 0 && argc as i32 >= -a)
    }
}

/// Name lookup over [`COMMANDS`].
pub struct CommandTable {
    by_name: HashMap<Vec<u8>, &'static CommandSpec, foldhash::fast::RandomState>,
}

impl Default for CommandTable {
    fn default() -> Self {
        Self::new()
    }
}

impl CommandTable {
    pub fn new() -> Self {
        let by_name = COMMANDS.iter().map(|c| (c.name.as_bytes().to_vec(), c)).collect();
        CommandTable { by_name }
    }

    /// Case-insensitive lookup without allocating for short names.
    pub fn get(&self, name: &[u8]) -> Option<&'static CommandSpec> {
        let mut buf = [0u8; 32];
        if name.len() <= buf.len() {
            for (d, s) in buf.iter_mut().zip(name) {
                *d = s.to_ascii_lowercase();
            }
            self.by_name.get(&buf[..name.len()]).copied()
        } else {
            None
        }
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// Finds a subcommand of a container command, case-insensitively.
pub fn find_subcommand(parent: &'static CommandSpec, name: &[u8]) -> Option<&'static CommandSpec> {
    parent.subcommands.iter().find(|s| {
        s.name
            .split('|')
            .nth(1)
            .is_some_and(|n| n.as_bytes().eq_ignore_ascii_case(name))
    })
}

// ---- helpers shared by implementations ----

/// Redis's standard error texts.
pub mod err {
    pub const SYNTAX: &str = "ERR syntax error";
    pub const NOT_INT: &str = "ERR value is not an integer or out of range";
    pub const NOT_FLOAT: &str = "ERR value is not a valid float";
    pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
    pub const NO_KEY: &str = "ERR no such key";
    pub const DB_INDEX: &str = "ERR DB index is out of range";
    pub const OVERFLOW: &str = "ERR increment or decrement would overflow";
    pub const INVALID_EXPIRE: &str = "ERR invalid expire time in '{}' command";
}

/// Parses an integer argument with Redis's strictness.
pub fn parse_int(arg: &[u8]) -> Option<i64> {
    shoal_util::num::parse_i64(arg)
}

/// Parses an integer argument or replies "not an integer" and returns None.
pub fn int_arg(ctx: &mut Ctx, arg: &[u8]) -> Option<i64> {
    let v = parse_int(arg);
    if v.is_none() {
        ctx.out().error(err::NOT_INT);
    }
    v
}

pub fn eq_ic(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

/// Replies with the "wrong number of arguments" error for a command name.
pub fn wrong_arity(out: &mut Reply, fullname: &str) {
    out.error(&format!("ERR wrong number of arguments for '{fullname}' command"));
}

/// The standard reply to an unknown subcommand.
pub fn unknown_subcommand(out: &mut Reply, sub: &[u8], parent: &str) {
    let sub = crate::dispatch::until_nul(sub);
    out.error(&format!(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        String::from_utf8_lossy(&sub[..sub.len().min(128)]),
        parent.to_ascii_uppercase()
    ));
}

/// Writes a HELP reply: a header line, the given lines, and the HELP line.
pub fn help_reply(out: &mut Reply, command: &str, lines: &[&str]) {
    out.array(lines.len() + 3);
    out.simple(&format!(
        "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        command
    ));
    for l in lines {
        out.simple(l);
    }
    out.simple("HELP");
    out.simple("    Prints this help.");
}

/// Looks a key up for reading: expired keys are removed (and counted), hits and
/// misses are counted, and the access is recorded (LRU clock or LFU counter).
pub fn lookup_read<'a>(srv: &'a mut Server, db: usize, key: &[u8]) -> Option<&'a mut shoal_store::Entry> {
    lookup(srv, db, key, true)
}

/// Looks a key up for writing: like [`lookup_read`] without hit/miss counting.
pub fn lookup_write<'a>(srv: &'a mut Server, db: usize, key: &[u8]) -> Option<&'a mut shoal_store::Entry> {
    lookup(srv, db, key, false)
}

fn lookup<'a>(srv: &'a mut Server, db: usize, key: &[u8], count: bool) -> Option<&'a mut shoal_store::Entry> {
    use crate::notify::class;
    // Hash fields whose TTL passed go before anyone sees them.
    hash_ttl::purge_key(srv, db, key);
    if crate::notify::enabled(srv, class::EXPIRED | class::MISS) {
        let now = if srv.repl.applying_master_stream {
            i64::MIN
        } else {
            srv.now_ms
        };
        if srv.keyspace.dbs[db].peek(key, now).is_none() {
            // Absent or expired: Redis sends `expired` (when the lookup deletes
            // it) and, for reads, `keymiss`.
            let expired_before = srv.stats.expired_keys;
            let _ = lookup_raw(srv, db, key, count);
            if srv.stats.expired_keys != expired_before {
                crate::notify::notify(srv, None, class::EXPIRED, "expired", db, key);
            }
            if count {
                crate::notify::notify(srv, None, class::MISS, "keymiss", db, key);
            }
            return None;
        }
    }
    lookup_raw(srv, db, key, count)
}

fn lookup_raw<'a>(srv: &'a mut Server, db: usize, key: &[u8], count: bool) -> Option<&'a mut shoal_store::Entry> {
    let Server {
        keyspace,
        stats,
        rng,
        config,
        lru_clock,
        now_ms,
        propagator,
        aof,
        repl,
        tracking,
        ..
    } = srv;
    // Our master's commands see keys the master still has, even when our
    // clock says they expired (its DEL will follow).
    let now = if repl.applying_master_stream { i64::MIN } else { *now_ms };
    match keyspace.dbs[db].lookup(key, now) {
        shoal_store::db::Lookup::Found(e) => {
            if count {
                stats.keyspace_hits += 1;
            }
            e.lru = crate::evict::access_stamp(e.lru, config, *lru_clock, *now_ms, rng);
            Some(e)
        }
        shoal_store::db::Lookup::Expired => {
            stats.expired_keys += 1;
            if count {
                stats.keyspace_misses += 1;
            }
            // Commands run inside an execution, so the DEL joins its effects.
            if aof.is_some() || repl.has_stream() {
                propagator.record_deletion(db, key, config.lazyfree_lazy_expire);
            }
            // Client-side caching: the deletion invalidates the key.
            tracking.note_expired(key);
            None
        }
        shoal_store::db::Lookup::Missing => {
            if count {
                stats.keyspace_misses += 1;
            }
            None
        }
    }
}

/// Frees a replaced or deleted value, off the engine thread when it is big.
pub fn dispose(srv: &Server, value: shoal_store::Value) {
    if value.is_big() {
        srv.lazyfree.free(value);
    }
}

/// Parks the calling client on `keys` until one gets data or the deadline passes
/// (the event loop answers later). Inside EXEC a blocking command cannot wait:
/// it answers as if it timed out, as Redis does.
pub fn block_client(ctx: &mut Ctx, keys: &[&[u8]], deadline_ms: Option<i64>) {
    if ctx.client.in_exec {
        ctx.out().null_array();
        return;
    }
    ctx.client.block_request = Some(crate::client::BlockRequest {
        keys: keys.iter().map(|k| k.to_vec()).collect(),
        deadline_ms,
    });
}

/// Parses a blocking timeout in seconds into an absolute deadline (None = wait
/// forever), replying the error Redis gives for a bad one.
pub fn timeout_arg(ctx: &mut Ctx, arg: &[u8]) -> Option<Option<i64>> {
    match shoal_util::num::parse_timeout_ms(arg) {
        Ok(0) => Some(None),
        Ok(ms) => Some(Some(ctx.now().saturating_add(ms))),
        Err(shoal_util::num::TimeoutError::Negative) => {
            ctx.out().error("ERR timeout is negative");
            None
        }
        Err(shoal_util::num::TimeoutError::NotAFloat) => {
            ctx.out().error("ERR timeout is not a float or out of range");
            None
        }
    }
}

/// Parsed `numkeys key... <end> [COUNT n]` of LMPOP/BLMPOP/ZMPOP/BZMPOP.
pub struct MpopArgs<'a> {
    pub keys: Vec<&'a [u8]>,
    /// The first of the two end keywords was given (LEFT, or MIN).
    pub first_end: bool,
    pub count: usize,
}

/// Parses `numkeys key... <ends.0|ends.1> [COUNT n]` (args start at numkeys),
/// replying Redis's error when invalid.
pub fn parse_mpop<'a>(ctx: &mut Ctx, args: &[&'a [u8]], ends: (&str, &str)) -> Option<MpopArgs<'a>> {
    let numkeys = match parse_int(args[0]) {
        Some(n) if n > 0 => n as usize,
        _ => {
            ctx.out().error("ERR numkeys should be greater than 0");
            return None;
        }
    };
    if numkeys + 1 > args.len() - 1 {
        ctx.out().error(err::SYNTAX);
        return None;
    }
    let keys = args[1..1 + numkeys].to_vec();
    let end = args[1 + numkeys];
    let first_end = if eq_ic(end, ends.0) {
        true
    } else if eq_ic(end, ends.1) {
        false
    } else {
        ctx.out().error(err::SYNTAX);
        return None;
    };
    let rest = &args[2 + numkeys..];
    let count = match rest {
        [] => 1,
        [opt, n, ..] if eq_ic(opt, "count") => match parse_int(n) {
            Some(n) if n > 0 => n as usize,
            _ => {
                ctx.out().error("ERR count should be greater than 0");
                return None;
            }
        },
        _ => {
            ctx.out().error(err::SYNTAX);
            return None;
        }
    };
    if rest.len() > 2 {
        ctx.out().error(err::SYNTAX);
        return None;
    }
    Some(MpopArgs { keys, first_end, count })
}
