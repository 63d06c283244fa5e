//! COMMAND, SLOWLOG, LATENCY and MEMORY.
//!
//! COMMAND INFO, DOCS, LIST, COUNT and GETKEYS are generated from the command
//! table ([`super::COMMANDS`]): there is no second list of commands here.

use super::server::{jemalloc_stats, subcommand_syntax_error, MemoryReport};
use super::{eq_ic, err, find_subcommand, help_reply, parse_int, wrong_arity, CommandSpec, Ctx, COMMANDS};
use crate::server::Server;
use shoal_resp::Reply;
use shoal_util::num::format_double;
use std::fmt::Write as _;

// ---------------------------------------------------------------------------
// COMMAND

/// ACL categories in Redis's canonical order (the order COMMAND INFO lists them).
const ACL_ORDER: &[&str] = &[
    "@keyspace",
    "@read",
    "@write",
    "@set",
    "@sortedset",
    "@list",
    "@hash",
    "@string",
    "@bitmap",
    "@hyperloglog",
    "@geo",
    "@stream",
    "@pubsub",
    "@admin",
    "@fast",
    "@slow",
    "@blocking",
    "@dangerous",
    "@connection",
    "@transaction",
    "@scripting",
];

fn acl_categories(spec: &CommandSpec) -> Vec<&'static str> {
    let mut cats = spec.acl_categories();
    cats.sort_by_key(|c| ACL_ORDER.iter().position(|o| o == c).unwrap_or(ACL_ORDER.len()));
    cats
}

/// Finds a command by its full name (`get`, `client|list`), any case.
fn lookup_fullname(srv: &Server, name: &[u8]) -> Option<&'static CommandSpec> {
    let mut parts = name.splitn(2, |&b| b == b'|');
    let parent = srv.commands.get(parts.next()?)?;
    match parts.next() {
        None => Some(parent),
        Some(sub) => find_subcommand(parent, sub),
    }
}

/// The key specification Redis 7 describes, derived from (first, last, step):
/// one `index` begin-search and one `range` find-keys.
fn write_key_specs(out: &mut Reply, spec: &CommandSpec) {
    let (first, last, step) = spec.keys;
    if first <= 0 {
        out.set(0);
        return;
    }
    let flags: &[&str] = if spec.has_flag("write") {
        &["RW", "update"]
    } else {
        &["RO", "access"]
    };
    out.set(1);
    out.map(3);
    out.bulk(b"flags");
    out.set(flags.len());
    for f in flags {
        out.simple(f);
    }
    out.bulk(b"begin_search");
    out.map(2);
    out.bulk(b"type");
    out.bulk(b"index");
    out.bulk(b"spec");
    out.map(1);
    out.bulk(b"index");
    out.int(first as i64);
    out.bulk(b"find_keys");
    out.map(2);
    out.bulk(b"type");
    out.bulk(b"range");
    out.bulk(b"spec");
    out.map(3);
    out.bulk(b"lastkey");
    out.int(if last < 0 { last as i64 } else { (last - first) as i64 });
    out.bulk(b"keystep");
    out.int(step as i64);
    out.bulk(b"limit");
    out.int(0);
}

/// One COMMAND INFO entry: name, arity, flags, first/last/step, ACL categories,
/// tips, key specs, subcommands.
fn write_command_info(out: &mut Reply, spec: &CommandSpec) {
    out.array(10);
    out.bulk(spec.name.as_bytes());
    out.int(spec.arity as i64);
    let flags: Vec<&str> = spec.flags.split_ascii_whitespace().collect();
    out.set(flags.len());
    for f in flags {
        out.simple(f);
    }
    let (first, last, step) = spec.keys;
    out.int(first as i64);
    out.int(last as i64);
    out.int(step as i64);
    let cats = acl_categories(spec);
    out.set(cats.len());
    for c in cats {
        out.simple(c);
    }
    out.set(0); // tips
    write_key_specs(out, spec);
    if spec.subcommands.is_empty() {
        out.set(0);
    } else {
        out.array(spec.subcommands.len());
        for sub in spec.subcommands {
            write_command_info(out, sub);
        }
    }
}

/// One COMMAND DOCS value: summary, since, group, complexity, subcommands.
/// Argument descriptions are not in the table yet, so `arguments` is left out
/// (Redis leaves it out too for commands without arguments).
fn write_command_docs(out: &mut Reply, spec: &CommandSpec) {
    out.map(4 + usize::from(!spec.subcommands.is_empty()));
    out.bulk(b"summary");
    out.bulk(spec.summary.as_bytes());
    out.bulk(b"since");
    out.bulk(spec.since.as_bytes());
    out.bulk(b"group");
    out.bulk(spec.group.as_bytes());
    out.bulk(b"complexity");
    out.bulk(spec.complexity.as_bytes());
    if !spec.subcommands.is_empty() {
        out.bulk(b"subcommands");
        out.map(spec.subcommands.len());
        for sub in spec.subcommands {
            out.bulk(sub.name.as_bytes());
            write_command_docs(out, sub);
        }
    }
}

/// `COMMAND` without a subcommand: COMMAND INFO of every command.
pub fn command(ctx: &mut Ctx, _args: &[&[u8]]) {
    let out = ctx.out();
    out.array(COMMANDS.len());
    for spec in COMMANDS {
        write_command_info(out, spec);
    }
}

pub fn command_count(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.out().int(COMMANDS.len() as i64);
}

pub fn command_info(ctx: &mut Ctx, args: &[&[u8]]) {
    if args.len() == 2 {
        return command(ctx, args);
    }
    let specs: Vec<Option<&'static CommandSpec>> = args[2..].iter().map(|n| lookup_fullname(ctx.srv, n)).collect();
    let out = ctx.out();
    out.array(specs.len());
    for spec in specs {
        match spec {
            Some(s) => write_command_info(out, s),
            None => out.null(),
        }
    }
}

pub fn command_docs(ctx: &mut Ctx, args: &[&[u8]]) {
    let specs: Vec<&'static CommandSpec> = if args.len() == 2 {
        COMMANDS.iter().collect()
    } else {
        args[2..].iter().filter_map(|n| lookup_fullname(ctx.srv, n)).collect()
    };
    let out = ctx.out();
    out.map(specs.len());
    for spec in specs {
        out.bulk(spec.name.as_bytes());
        write_command_docs(out, spec);
    }
}

/// A COMMAND LIST filter.
#[derive(Debug, PartialEq)]
pub enum ListFilter {
    All,
    Module,
    AclCat(String),
    Pattern(Vec<u8>),
}

/// Parses the arguments after `COMMAND LIST`; None is a syntax error.
pub fn parse_list_filter(args: &[&[u8]]) -> Option<ListFilter> {
    match args {
        [] => Some(ListFilter::All),
        [kw, kind, value] if eq_ic(kw, "filterby") => {
            if eq_ic(kind, "module") {
                Some(ListFilter::Module)
            } else if eq_ic(kind, "aclcat") {
                Some(ListFilter::AclCat(String::from_utf8_lossy(value).into_owned()))
            } else if eq_ic(kind, "pattern") {
                Some(ListFilter::Pattern(value.to_vec()))
            } else {
                None
            }
        }
        _ => None,
    }
}

fn filter_matches(filter: &ListFilter, spec: &CommandSpec) -> bool {
    match filter {
        ListFilter::All => true,
        ListFilter::Module => false,
        ListFilter::AclCat(cat) => spec
            .acl_categories()
            .iter()
            .any(|c| c.trim_start_matches('@').eq_ignore_ascii_case(cat)),
        ListFilter::Pattern(p) => shoal_util::glob::glob_match(p, spec.name.as_bytes(), true),
    }
}

/// Full names of the commands and subcommands a filter selects, parents first.
pub fn list_commands(filter: &ListFilter) -> Vec<&'static str> {
    let mut names = Vec::new();
    for spec in COMMANDS {
        if filter_matches(filter, spec) {
            names.push(spec.name);
        }
        for sub in spec.subcommands {
            if filter_matches(filter, sub) {
                names.push(sub.name);
            }
        }
    }
    names
}

pub fn command_list(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(filter) = parse_list_filter(&args[2..]) else {
        ctx.out().error(err::SYNTAX);
        return;
    };
    let names = list_commands(&filter);
    let out = ctx.out();
    out.array(names.len());
    for n in names {
        out.bulk(n.as_bytes());
    }
}

pub fn command_getkeys(ctx: &mut Ctx, args: &[&[u8]]) {
    // Redis 7.0 declares COMMAND GETKEYS with arity -4.
    if args.len() < 4 {
        wrong_arity(ctx.out(), "command|getkeys");
        return;
    }
    let cmd = &args[2..];
    let spec = ctx.srv.commands.get(cmd[0]).and_then(|parent| {
        if parent.subcommands.is_empty() {
            Some(parent)
        } else {
            find_subcommand(parent, cmd[1])
        }
    });
    let Some(spec) = spec else {
        ctx.out().error("ERR Invalid command specified");
        return;
    };
    if spec.keys.0 <= 0 && !spec.has(super::flag::MOVABLEKEYS) {
        ctx.out().error("ERR The command has no key arguments");
        return;
    }
    if !spec.arity_ok(cmd.len()) {
        ctx.out().error("ERR Invalid number of arguments specified for command");
        return;
    }
    let mut positions = spec.all_key_positions(cmd).unwrap_or_default();
    if spec.name == "pfmerge" && cmd.len() < 3 {
        // Redis 7.0's key specs for PFMERGE want at least one source key
        // (their range ends before it starts otherwise) and the command has
        // no other way to find keys.
        positions.clear();
    }
    if positions.is_empty() {
        ctx.out().error("ERR Invalid arguments specified for command");
        return;
    }
    let out = ctx.out();
    out.array(positions.len());
    for p in positions {
        out.bulk(cmd[p]);
    }
}

pub fn command_help(ctx: &mut Ctx, _args: &[&[u8]]) {
    help_reply(
        ctx.out(),
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
        ],
    );
}

// ---------------------------------------------------------------------------
// SLOWLOG

pub fn slowlog_get(ctx: &mut Ctx, args: &[&[u8]]) {
    if args.len() > 3 {
        subcommand_syntax_error(ctx, args);
        return;
    }
    let count = match args.get(2) {
        None => 10,
        Some(a) => match parse_int(a) {
            Some(-1) => usize::MAX,
            Some(n) if n >= 0 => n as usize,
            _ => {
                ctx.out().error("ERR count should be greater than or equal to -1");
                return;
            }
        },
    };
    let c = &mut *ctx.client;
    let entries = &ctx.srv.slowlog.entries;
    let n = count.min(entries.len());
    let out = &mut c.out;
    out.array(n);
    for e in entries.iter().take(n) {
        out.array(6);
        out.int(e.id as i64);
        out.int(e.time);
        out.int(e.micros as i64);
        out.array(e.args.len());
        for a in &e.args {
            out.bulk(a);
        }
        out.bulk(e.peer.as_bytes());
        out.bulk(&e.name);
    }
}

pub fn slowlog_len(ctx: &mut Ctx, _args: &[&[u8]]) {
    let n = ctx.srv.slowlog.entries.len();
    ctx.out().int(n as i64);
}

pub fn slowlog_reset(ctx: &mut Ctx, _args: &[&[u8]]) {
    ctx.srv.slowlog.entries.clear();
    ctx.out().ok();
}

pub fn slowlog_help(ctx: &mut Ctx, _args: &[&[u8]]) {
    help_reply(
        ctx.out(),
        "SLOWLOG",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    );
}

// ---------------------------------------------------------------------------
// LATENCY

pub fn latency_latest(ctx: &mut Ctx, _args: &[&[u8]]) {
    let c = &mut *ctx.client;
    let events = &ctx.srv.latency.events;
    let out = &mut c.out;
    let live: Vec<_> = events.iter().filter(|(_, e)| !e.samples.is_empty()).collect();
    out.array(live.len());
    for (name, e) in live {
        let (t, ms) = *e.samples.back().expect("non-empty");
        out.array(4);
        out.bulk(name.as_bytes());
        out.int(t);
        out.int(ms as i64);
        out.int(e.max as i64);
    }
}

pub fn latency_history(ctx: &mut Ctx, args: &[&[u8]]) {
    let name = String::from_utf8_lossy(args[2]).into_owned();
    let c = &mut *ctx.client;
    let out = &mut c.out;
    match ctx.srv.latency.events.get(&name) {
        None => out.array(0),
        Some(e) => {
            out.array(e.samples.len());
            for &(t, ms) in &e.samples {
                out.array(2);
                out.int(t);
                out.int(ms as i64);
            }
        }
    }
}

pub fn latency_reset(ctx: &mut Ctx, args: &[&[u8]]) {
    let events = &mut ctx.srv.latency.events;
    let n = if args.len() == 2 {
        let n = events.len();
        events.clear();
        n
    } else {
        args[2..]
            .iter()
            .filter(|a| events.remove(String::from_utf8_lossy(a).as_ref()).is_some())
            .count()
    };
    ctx.out().int(n as i64);
}

/// The LATENCY DOCTOR report.
pub fn latency_report(srv: &Server) -> String {
    let events: Vec<_> = srv
        .latency
        .events
        .iter()
        .filter(|(_, e)| !e.samples.is_empty())
        .collect();
    if events.is_empty() && srv.config.latency_monitor_threshold == 0 {
        return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".to_string();
    }
    if events.is_empty() {
        return "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n".to_string();
    }
    let now = crate::server::unix_ms() / 1000;
    let mut s = String::from(
        "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n",
    );
    let mut commands = false;
    let mut expire = false;
    for (i, (name, e)) in events.iter().enumerate() {
        let n = e.samples.len() as f64;
        let avg = e.samples.iter().map(|s| s.1 as f64).sum::<f64>() / n;
        let mad = e.samples.iter().map(|s| (s.1 as f64 - avg).abs()).sum::<f64>() / n;
        let first = e.samples.front().map(|s| s.0).unwrap_or(now);
        let period = (now - first).max(1) as f64 / n;
        let _ = write!(
            s,
            "{}. {}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.\n\n",
            i + 1,
            name,
            e.samples.len(),
            avg as u64,
            mad as u64,
            period,
            e.max
        );
        commands |= name.as_str() == "command" || name.as_str() == "fast-command";
        expire |= name.starts_with("expire");
    }
    s.push_str("I have a few advices for you:\n\n");
    let threshold_us = srv.config.latency_monitor_threshold as i64 * 1000;
    if commands {
        let slower = srv.config.slowlog_log_slower_than;
        if slower < 0 || slower >= threshold_us {
            s.push_str("- The Slow Log only records commands slower than the latency monitor threshold, or is disabled: use 'CONFIG SET slowlog-log-slower-than 0' (or a value below the threshold) to capture the commands behind these spikes.\n");
        }
        s.push_str("- Look at SLOWLOG GET for the commands that are too slow, and avoid O(N) commands on big values (KEYS, big ranges, SORT, big set operations).\n");
    }
    if commands || expire {
        s.push_str("- Deleting or expiring very big values blocks the server; prefer UNLINK and lazyfree, or split big values into several smaller keys.\n");
    }
    if !commands && !expire {
        s.push_str("- Check the host for other processes competing for CPU and for swapping.\n");
    }
    s
}

pub fn latency_doctor(ctx: &mut Ctx, _args: &[&[u8]]) {
    let text = latency_report(ctx.srv);
    ctx.out().verbatim("txt", text.as_bytes());
}

pub fn latency_help(ctx: &mut Ctx, _args: &[&[u8]]) {
    help_reply(
        ctx.out(),
        "LATENCY",
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
        ],
    );
}

// ---------------------------------------------------------------------------
// MEMORY

pub fn memory_usage(ctx: &mut Ctx, args: &[&[u8]]) {
    let mut j = 3;
    while j < args.len() {
        if eq_ic(args[j], "samples") && j + 1 < args.len() {
            match parse_int(args[j + 1]) {
                None => {
                    ctx.out().error(err::NOT_INT);
                    return;
                }
                Some(n) if n < 0 => {
                    ctx.out().error(err::SYNTAX);
                    return;
                }
                Some(_) => {}
            }
            j += 2;
        } else {
            ctx.out().error(err::SYNTAX);
            return;
        }
    }
    let now = ctx.now();
    let db = ctx.client.db;
    super::hash_ttl::purge_key(ctx.srv, db, args[2]);
    // Strings are measured exactly, so SAMPLES changes nothing yet.
    match ctx.srv.keyspace.dbs[db].peek(args[2], now).map(|e| e.memory_usage()) {
        Some(n) => ctx.out().int(n as i64),
        None => ctx.out().null(),
    }
}

/// A float as MEMORY STATS sends it: single precision, printed with `%.17g`.
fn stat_float(out: &mut Reply, v: f64) {
    out.double_text(&format_double(v as f32 as f64));
}

pub fn memory_stats(ctx: &mut Ctx, _args: &[&[u8]]) {
    let m = MemoryReport::collect(ctx.srv, ctx.client);
    let out = ctx.out();
    out.map(27 + m.db_overheads.len());
    let ints: [(&str, u64); 10] = [
        ("peak.allocated", m.peak),
        ("total.allocated", m.used),
        ("startup.allocated", m.startup),
        ("replication.backlog", 0),
        ("clients.slaves", 0),
        ("clients.normal", m.clients_normal),
        ("cluster.links", 0),
        ("aof.buffer", 0),
        ("lua.caches", 0),
        ("functions.caches", 0),
    ];
    for (k, v) in ints {
        out.bulk(k.as_bytes());
        out.int(v as i64);
    }
    for (i, overhead) in &m.db_overheads {
        out.bulk(format!("db.{i}").as_bytes());
        out.map(3);
        out.bulk(b"overhead.hashtable.main");
        out.int(*overhead as i64);
        out.bulk(b"overhead.hashtable.expires");
        out.int(0);
        out.bulk(b"overhead.hashtable.slot-to-keys");
        out.int(0);
    }
    out.bulk(b"overhead.total");
    out.int(m.overhead as i64);
    out.bulk(b"keys.count");
    out.int(m.keys as i64);
    out.bulk(b"keys.bytes-per-key");
    out.int(m.net().checked_div(m.keys).unwrap_or(0) as i64);
    out.bulk(b"dataset.bytes");
    out.int(m.dataset() as i64);
    out.bulk(b"dataset.percentage");
    stat_float(out, m.dataset_perc());
    out.bulk(b"peak.percentage");
    stat_float(out, m.peak_perc());
    out.bulk(b"allocator.allocated");
    out.int(m.allocated as i64);
    out.bulk(b"allocator.active");
    out.int(m.active as i64);
    out.bulk(b"allocator.resident");
    out.int(m.resident as i64);
    let r = |a: u64, b: u64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
    out.bulk(b"allocator-fragmentation.ratio");
    stat_float(out, r(m.active, m.allocated));
    out.bulk(b"allocator-fragmentation.bytes");
    out.int(m.active as i64 - m.allocated as i64);
    out.bulk(b"allocator-rss.ratio");
    stat_float(out, r(m.resident, m.active));
    out.bulk(b"allocator-rss.bytes");
    out.int(m.resident as i64 - m.active as i64);
    out.bulk(b"rss-overhead.ratio");
    stat_float(out, r(m.rss, m.resident));
    out.bulk(b"rss-overhead.bytes");
    out.int(m.rss as i64 - m.resident as i64);
    out.bulk(b"fragmentation");
    stat_float(out, m.frag_ratio());
    out.bulk(b"fragmentation.bytes");
    out.int(m.rss as i64 - m.used as i64);
}

/// The MEMORY DOCTOR report.
pub fn memory_report(srv: &mut Server, me: &crate::client::ClientState) -> String {
    let m = MemoryReport::collect(srv, me);
    if m.used < 5 * 1024 * 1024 {
        return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n".to_string();
    }
    let mut issues: Vec<String> = Vec::new();
    if m.peak as f64 > m.used as f64 * 1.5 {
        issues.push(format!(
            " * Peak memory: at some point memory use peaked at {} while it is {} now, more than 150% of today's use. The allocator may not give all of it back, which shows as RSS above used memory. 'MEMORY PURGE' returns unused pages; 'CONFIG RESETSTAT' resets the peak.\n\n",
            super::server::bytes_to_human(m.peak),
            super::server::bytes_to_human(m.used)
        ));
    }
    if m.frag_ratio() > 1.4 {
        issues.push(format!(
            " * High fragmentation: the process holds {:.2} times the memory it uses ({} resident for {} used). This happens after many deletes or shrinking values; 'MEMORY PURGE' may help, a restart always does.\n\n",
            m.frag_ratio(),
            super::server::bytes_to_human(m.rss),
            super::server::bytes_to_human(m.used)
        ));
    }
    let clients = srv.clients.len().max(1) as u64;
    if m.clients_normal / clients > 200 * 1024 {
        issues.push(format!(
            " * Big client buffers: connected clients use {} on average ({} in total), usually slow readers of big replies or MONITOR. Check 'CLIENT LIST' (omem, qbuf) and client-output-buffer-limit.\n\n",
            super::server::bytes_to_human(m.clients_normal / clients),
            super::server::bytes_to_human(m.clients_normal)
        ));
    }
    if issues.is_empty() {
        return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n".to_string();
    }
    let mut s = String::from("Sam, I detected a few issues in this Redis instance memory implants:\n\n");
    for i in issues {
        s.push_str(&i);
    }
    s.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
    s
}

pub fn memory_doctor(ctx: &mut Ctx, _args: &[&[u8]]) {
    let text = memory_report(ctx.srv, ctx.client);
    ctx.out().verbatim("txt", text.as_bytes());
}

// jemalloc as tikv-jemalloc-sys builds it (symbols with its `_rjem_` prefix).
extern "C" {
    #[link_name = "_rjem_mallctl"]
    fn jemalloc_mallctl(
        name: *const libc::c_char,
        oldp: *mut libc::c_void,
        oldlenp: *mut libc::size_t,
        newp: *mut libc::c_void,
        newlen: libc::size_t,
    ) -> libc::c_int;
    #[link_name = "_rjem_malloc_stats_print"]
    fn jemalloc_stats_print(
        write_cb: Option<unsafe extern "C" fn(*mut libc::c_void, *const libc::c_char)>,
        cbopaque: *mut libc::c_void,
        opts: *const libc::c_char,
    );
}

unsafe extern "C" fn append_stats(opaque: *mut libc::c_void, text: *const libc::c_char) {
    // SAFETY: `opaque` is the Vec passed by `allocator_stats_text`, alive for the
    // call; jemalloc hands a NUL-terminated string.
    let out = unsafe { &mut *(opaque as *mut Vec<u8>) };
    out.extend_from_slice(unsafe { std::ffi::CStr::from_ptr(text) }.to_bytes());
}

/// jemalloc's statistics report (`malloc_stats_print`).
pub fn allocator_stats_text() -> Vec<u8> {
    let mut text: Vec<u8> = Vec::new();
    let _ = jemalloc_stats();
    // SAFETY: the callback only appends to `text`, which outlives the call.
    unsafe {
        jemalloc_stats_print(
            Some(append_stats),
            &mut text as *mut Vec<u8> as *mut libc::c_void,
            std::ptr::null(),
        )
    };
    text
}

pub fn memory_malloc_stats(ctx: &mut Ctx, _args: &[&[u8]]) {
    let text = allocator_stats_text();
    ctx.out().verbatim("txt", &text);
}

/// Asks jemalloc to return the dirty pages of every arena to the system.
pub fn purge_allocator() -> bool {
    // arena.<MALLCTL_ARENAS_ALL>.purge takes no value in or out.
    let name = c"arena.4096.purge";
    let rc = unsafe {
        jemalloc_mallctl(
            name.as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        )
    };
    rc == 0
}

pub fn memory_purge(ctx: &mut Ctx, _args: &[&[u8]]) {
    purge_allocator();
    ctx.out().ok();
}

pub fn memory_help(ctx: &mut Ctx, _args: &[&[u8]]) {
    help_reply(
        ctx.out(),
        "MEMORY",
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_filters() {
        assert_eq!(parse_list_filter(&[]), Some(ListFilter::All));
        assert_eq!(
            parse_list_filter(&[b"FILTERBY", b"module", b"x"]),
            Some(ListFilter::Module)
        );
        assert_eq!(parse_list_filter(&[b"filterby", b"aclcat"]), None);
        assert_eq!(parse_list_filter(&[b"filterby", b"bogus", b"x"]), None);
        assert_eq!(parse_list_filter(&[b"x"]), None);
        assert_eq!(parse_list_filter(&[b"filterby", b"aclcat", b"a", b"b"]), None);

        let all = list_commands(&ListFilter::All);
        assert!(all.contains(&"get") && all.contains(&"client|list"));
        assert!(list_commands(&ListFilter::Module).is_empty());
        let clients = list_commands(&ListFilter::Pattern(b"CLIENT|L*".to_vec()));
        assert_eq!(clients, vec!["client|list"]);
        let conn = list_commands(&ListFilter::AclCat("CONNECTION".into()));
        assert!(conn.contains(&"ping") && conn.contains(&"client|id") && !conn.contains(&"get"));
        assert!(list_commands(&ListFilter::AclCat("bogus".into())).is_empty());
    }

    #[test]
    fn acl_categories_in_redis_order() {
        let get = COMMANDS.iter().find(|c| c.name == "get").unwrap();
        assert_eq!(acl_categories(get), vec!["@read", "@string", "@fast"]);
    }
}
