//! Stream commands: XADD, XLEN, XRANGE/XREVRANGE, XDEL, XTRIM, XSETID, XREAD,
//! consumer groups (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM) and
//! XINFO.
//!
//! Node size caps come from config on every write. A blocked XREAD/XREADGROUP is
//! re-run when a watched key is written; `$` must keep meaning "the last ID when
//! the command first ran", so the resolved IDs of a parked XREAD are remembered
//! per client here (the engine thread owns this table, like everything else).

use super::{eq_ic, err, lookup_read, lookup_write, wrong_arity, Ctx};
use crate::notify::class;
use crate::server::Server;
use shoal_resp::Reply;
use shoal_store::stream::{
    advance_group, Group, Nack, NodeLimits, StreamId, StreamLog, StreamValue, TrimStrategy, ENTRIES_READ_INVALID,
};
use shoal_store::Value;
use shoal_util::num::parse_u64_lenient;
use std::cell::RefCell;
use std::collections::HashMap;

const ERR_ID: &str = "ERR Invalid stream ID specified as stream command argument";
const ERR_NOKEY_GROUP: &str = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";

fn limits(srv: &Server) -> NodeLimits {
    NodeLimits {
        max_bytes: srv.config.stream_node_max_bytes.min(usize::MAX as u64) as usize,
        max_entries: srv.config.stream_node_max_entries.min(usize::MAX as u64) as usize,
    }
}

// ---------------------------------------------------------------------------
// ID parsing
// ---------------------------------------------------------------------------

/// Parses `ms[-seq]`; a missing seq is `missing_seq`. `-`/`+` are accepted when
/// `minmax` is set.
fn parse_id(arg: &[u8], missing_seq: u64, minmax: bool) -> Option<StreamId> {
    if arg.len() > 127 {
        return None;
    }
    if minmax && arg == b"-" {
        return Some(StreamId::MIN);
    }
    if minmax && arg == b"+" {
        return Some(StreamId::MAX);
    }
    match arg.iter().position(|&b| b == b'-') {
        None => Some(StreamId::new(parse_u64_lenient(arg)?, missing_seq)),
        Some(p) => Some(StreamId::new(
            parse_u64_lenient(&arg[..p])?,
            parse_u64_lenient(&arg[p + 1..])?,
        )),
    }
}

fn id_arg(out: &mut Reply, arg: &[u8], missing_seq: u64, minmax: bool) -> Option<StreamId> {
    let id = parse_id(arg, missing_seq, minmax);
    if id.is_none() {
        out.error(ERR_ID);
    }
    id
}

/// A strict ID (no `-`/`+`, missing seq = 0).
fn strict_id(out: &mut Reply, arg: &[u8]) -> Option<StreamId> {
    id_arg(out, arg, 0, false)
}

/// Range bound with `(` exclusive support. `Ok(None)` = empty range.
fn range_bound(out: &mut Reply, arg: &[u8], start: bool) -> Result<Option<StreamId>, ()> {
    if let Some(rest) = arg.strip_prefix(b"(") {
        let Some(id) = parse_id(rest, if start { 0 } else { u64::MAX }, false) else {
            out.error(ERR_ID);
            return Err(());
        };
        let moved = if start { id.incr() } else { id.decr() };
        match moved {
            Some(m) => Ok(Some(m)),
            None => {
                out.error(if start {
                    "ERR invalid start ID for the interval"
                } else {
                    "ERR invalid end ID for the interval"
                });
                Err(())
            }
        }
    } else {
        match parse_id(arg, if start { 0 } else { u64::MAX }, true) {
            Some(id) => Ok(Some(id)),
            None => {
                out.error(ERR_ID);
                Err(())
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Lookups and reply helpers
// ---------------------------------------------------------------------------

fn read_stream<'a>(srv: &'a mut Server, db: usize, key: &[u8], out: &mut Reply) -> Result<Option<&'a StreamValue>, ()> {
    match lookup_read(srv, db, key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::Stream(s) => Ok(Some(s)),
            _ => {
                out.error(err::WRONGTYPE);
                Err(())
            }
        },
    }
}

/// The stream at `key` for XINFO: a missing key or another type is answered
/// with its error here, and gives `None`.
fn existing_stream<'a>(srv: &'a mut Server, db: usize, key: &[u8], out: &mut Reply) -> Option<&'a StreamValue> {
    match read_stream(srv, db, key, out) {
        Err(()) => None,
        Ok(None) => {
            out.error(err::NO_KEY);
            None
        }
        Ok(Some(s)) => Some(s),
    }
}

fn write_stream<'a>(
    srv: &'a mut Server,
    db: usize,
    key: &[u8],
    out: &mut Reply,
) -> Result<Option<&'a mut StreamValue>, ()> {
    match lookup_write(srv, db, key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Stream(s) => Ok(Some(s)),
            _ => {
                out.error(err::WRONGTYPE);
                Err(())
            }
        },
    }
}

fn create_stream<'a>(srv: &'a mut Server, db: usize, key: &[u8]) -> &'a mut StreamValue {
    srv.keyspace.dbs[db].set(key, Value::Stream(Box::default()), false);
    match srv.keyspace.dbs[db].get_mut(key, i64::MIN).map(|e| &mut e.value) {
        Some(Value::Stream(s)) => s,
        _ => unreachable!("created above"),
    }
}

fn reply_id(out: &mut Reply, id: StreamId) {
    out.bulk(id.to_string().as_bytes());
}

fn reply_entry(out: &mut Reply, id: StreamId, fields: &[&[u8]]) {
    out.array(2);
    reply_id(out, id);
    out.array(fields.len());
    for f in fields {
        out.bulk(f);
    }
}

fn reply_entries(out: &mut Reply, entries: &[(StreamId, Vec<&[u8]>)]) {
    out.array(entries.len());
    for (id, f) in entries {
        reply_entry(out, *id, f);
    }
}

fn unknown_or_arity(out: &mut Reply, sub: &[u8], parent: &str) {
    let sub = String::from_utf8_lossy(sub);
    out.error(&format!(
        "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {parent} HELP."
    ));
}

/// An argument as Redis formats it with `%s`: up to its first NUL byte.
fn cstr(a: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(crate::dispatch::until_nul(a))
}

fn nogroup(out: &mut Reply, key: &[u8], group: &[u8], suffix: &str) {
    out.error(&format!(
        "NOGROUP No such key '{}' or consumer group '{}'{suffix}",
        cstr(key),
        cstr(group)
    ));
}

// ---------------------------------------------------------------------------
// Trimming arguments
// ---------------------------------------------------------------------------

#[derive(Default)]
struct TrimArgs {
    strategy: Option<TrimStrategy>,
    approx: bool,
    limit: Option<i64>,
    /// Where the (last) MAXLEN/MINID threshold is in the arguments.
    value_at: usize,
}

/// Parses one trimming option at `args[i]` if it is one. Returns the next index,
/// `Ok(None)` if `args[i]` is not a trim option, `Err` after replying an error.
fn parse_trim_opt(ctx: &mut Ctx, args: &[&[u8]], i: usize, t: &mut TrimArgs) -> Result<Option<usize>, ()> {
    let a = args[i];
    let more = i + 1 < args.len();
    if (eq_ic(a, "maxlen") || eq_ic(a, "minid")) && more {
        let is_max = eq_ic(a, "maxlen");
        let mut j = i + 1;
        let mut approx = false;
        if args[j] == b"~" || args[j] == b"=" {
            approx = args[j] == b"~";
            if j + 1 < args.len() {
                j += 1;
            }
        }
        if t.strategy.is_some() {
            let same = matches!(
                (t.strategy, is_max),
                (Some(TrimStrategy::MaxLen(_)), true) | (Some(TrimStrategy::MinId(_)), false)
            );
            if !same {
                ctx.out()
                    .error("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
                return Err(());
            }
        }
        if is_max {
            let Some(n) = super::parse_int(args[j]) else {
                ctx.out().error(err::NOT_INT);
                return Err(());
            };
            if n < 0 {
                ctx.out().error("ERR The MAXLEN argument must be >= 0.");
                return Err(());
            }
            t.strategy = Some(TrimStrategy::MaxLen(n as u64));
        } else {
            let Some(id) = strict_id(ctx.out(), args[j]) else {
                return Err(());
            };
            t.strategy = Some(TrimStrategy::MinId(id));
        }
        t.approx = approx;
        t.value_at = j;
        return Ok(Some(j + 1));
    }
    if eq_ic(a, "limit") && more {
        let Some(n) = super::parse_int(args[i + 1]) else {
            ctx.out().error(err::NOT_INT);
            return Err(());
        };
        if n < 0 {
            ctx.out().error("ERR The LIMIT argument must be >= 0.");
            return Err(());
        }
        t.limit = Some(n);
        return Ok(Some(i + 2));
    }
    Ok(None)
}

/// Checks the LIMIT rules once all options are parsed.
fn check_trim(ctx: &mut Ctx, t: &mut TrimArgs) -> bool {
    // Our master's (and the AOF's) exact trims keep the LIMIT the client gave
    // (Redis rewrites `~` to `=` and leaves LIMIT): obey them without a limit.
    if ctx.client.master {
        t.limit = None;
        return true;
    }
    if t.limit.is_some() {
        if t.strategy.is_none() {
            ctx.out()
                .error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
            return false;
        }
        if !t.approx {
            ctx.out()
                .error("ERR syntax error, LIMIT cannot be used without the special ~ option");
            return false;
        }
    }
    true
}

fn apply_trim(srv_limit_default: u64, s: &mut StreamLog, t: &TrimArgs) -> u64 {
    let Some(strategy) = t.strategy else {
        return 0;
    };
    let limit = if t.approx {
        t.limit.map_or(srv_limit_default, |l| l as u64)
    } else {
        0
    };
    s.trim(strategy, t.approx, limit)
}

fn default_trim_limit(srv: &Server) -> u64 {
    srv.config.stream_node_max_entries.saturating_mul(100)
}

/// The effect of an approximate trim, as Redis rewrites it: `~` becomes `=`
/// and the threshold the resulting stream (MAXLEN: its length; MINID: its
/// first stored ID, the maximum ID when empty), so replicas trim exactly the
/// same entries.
fn rewrite_approx_trim(argv: &mut [Vec<u8>], log: &StreamLog, t: &TrimArgs) {
    argv[t.value_at - 1] = b"=".to_vec();
    argv[t.value_at] = match t.strategy {
        Some(TrimStrategy::MaxLen(_)) => log.len().to_string().into_bytes(),
        _ => log.first_stored_id().unwrap_or(StreamId::MAX).to_string().into_bytes(),
    };
}

// ---------------------------------------------------------------------------
// XADD, XLEN, XRANGE, XDEL, XTRIM, XSETID
// ---------------------------------------------------------------------------

enum AddId {
    Auto,
    AutoSeq(u64),
    Explicit(StreamId),
}

pub fn xadd(ctx: &mut Ctx, args: &[&[u8]]) {
    let mut t = TrimArgs::default();
    let mut nomkstream = false;
    let mut i = 2;
    let id_at = loop {
        if i >= args.len() {
            wrong_arity(ctx.out(), "xadd");
            return;
        }
        let a = args[i];
        if eq_ic(a, "nomkstream") {
            nomkstream = true;
            i += 1;
            continue;
        }
        match parse_trim_opt(ctx, args, i, &mut t) {
            Err(()) => return,
            Ok(Some(next)) => {
                i = next;
                continue;
            }
            Ok(None) => break i,
        }
    };
    let raw = args[id_at];
    let id = if raw == b"*" {
        AddId::Auto
    } else if let Some(ms) = raw.strip_suffix(b"-*") {
        match parse_u64_lenient(ms) {
            Some(ms) if raw.len() <= 127 => AddId::AutoSeq(ms),
            _ => {
                ctx.out().error(ERR_ID);
                return;
            }
        }
    } else {
        match strict_id(ctx.out(), raw) {
            Some(id) => AddId::Explicit(id),
            None => return,
        }
    };
    if !check_trim(ctx, &mut t) {
        return;
    }
    let fields = &args[id_at + 1..];
    if fields.is_empty() || fields.len() & 1 == 1 {
        wrong_arity(ctx.out(), "xadd");
        return;
    }
    if let AddId::Explicit(id) = id {
        if id.is_zero() {
            ctx.out().error("ERR The ID specified in XADD must be greater than 0-0");
            return;
        }
    }
    let db = ctx.client.db;
    let lim = limits(ctx.srv);
    let trim_default = default_trim_limit(ctx.srv);
    let now = ctx.now().max(0) as u64;
    let mut created = false;
    let s = match write_stream(ctx.srv, db, args[1], &mut ctx.client.out) {
        Err(()) => return,
        Ok(Some(s)) => s,
        Ok(None) if nomkstream => {
            ctx.propagate_nothing();
            ctx.out().null();
            return;
        }
        Ok(None) => {
            // Validate before creating so a failed XADD leaves no empty key.
            if let AddId::AutoSeq(0) = id {
                // 0-* on a fresh stream is 0-1.
            }
            created = true;
            create_stream(ctx.srv, db, args[1])
        }
    };
    let last = s.log.last_id;
    let new_id = match id {
        AddId::Auto => {
            if last.ms >= now {
                last.incr()
            } else {
                Some(StreamId::new(now, 0))
            }
        }
        AddId::AutoSeq(ms) => {
            if ms == last.ms {
                if last.seq == u64::MAX {
                    if last != StreamId::MAX {
                        drop_if_empty(ctx, args[1]);
                        ctx.out().error("ERR Elements are too large to be stored");
                        return;
                    }
                    None
                } else {
                    Some(StreamId::new(ms, last.seq + 1))
                }
            } else if ms > last.ms {
                Some(StreamId::new(ms, if ms == 0 { 1 } else { 0 }))
            } else {
                Some(StreamId::MIN)
            }
        }
        AddId::Explicit(id) => Some(id),
    };
    let exhausted = last == StreamId::MAX;
    let new_id = match new_id {
        Some(id) if id > last => id,
        Some(_) if exhausted => {
            drop_if_empty(ctx, args[1]);
            ctx.out()
                .error("ERR The stream has exhausted the last possible ID, unable to add more items");
            return;
        }
        Some(_) => {
            drop_if_empty(ctx, args[1]);
            ctx.out()
                .error("ERR The ID specified in XADD is equal or smaller than the target stream top item");
            return;
        }
        None => {
            drop_if_empty(ctx, args[1]);
            ctx.out()
                .error("ERR The stream has exhausted the last possible ID, unable to add more items");
            return;
        }
    };
    s.log.append(new_id, fields, lim);
    let trimmed = apply_trim(trim_default, &mut s.log, &t);
    // Effect as Redis: a generated ID (`*`, `ms-*`) is written out and an
    // approximate trim becomes the exact one it amounted to.
    let rewrite_id = !matches!(id, AddId::Explicit(_));
    if (rewrite_id || t.approx) && crate::propagate::active(ctx.srv) {
        let mut argv: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        if rewrite_id {
            argv[id_at] = new_id.to_string().into_bytes();
        }
        if t.approx {
            let Some(Value::Stream(s)) = ctx.srv.keyspace.dbs[db].peek(args[1], i64::MIN).map(|e| &e.value) else {
                unreachable!("written above")
            };
            rewrite_approx_trim(&mut argv, &s.log, &t);
        }
        ctx.propagate(argv);
    }
    if created {
        ctx.notify(class::NEW, "new", args[1]);
    }
    reply_id(ctx.out(), new_id);
    ctx.notify(class::STREAM, "xadd", args[1]);
    if trimmed > 0 {
        ctx.notify(class::STREAM, "xtrim", args[1]);
    }
}

/// Removes a stream key XADD created but could not fill.
fn drop_if_empty(ctx: &mut Ctx, key: &[u8]) {
    let db = ctx.client.db;
    let fresh = matches!(
        ctx.srv.keyspace.dbs[db].get_mut(key, i64::MIN).map(|e| &e.value),
        Some(Value::Stream(s)) if s.log.entries_added == 0 && s.groups.is_empty() && s.log.last_id.is_zero()
    );
    if fresh {
        ctx.srv.keyspace.dbs[db].remove(key);
    }
}

pub fn xlen(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let out = &mut ctx.client.out;
    if let Ok(s) = read_stream(ctx.srv, db, args[1], out) {
        out.int(s.map_or(0, |s| s.log.len() as i64));
    }
}

fn range_generic(ctx: &mut Ctx, args: &[&[u8]], rev: bool) {
    let (a, b) = if rev { (args[3], args[2]) } else { (args[2], args[3]) };
    let out = &mut ctx.client.out;
    let Ok(start) = range_bound(out, a, true) else {
        return;
    };
    let Ok(end) = range_bound(out, b, false) else {
        return;
    };
    let mut count: Option<i64> = None;
    let mut i = 4;
    while i < args.len() {
        if eq_ic(args[i], "count") && i + 1 < args.len() {
            let Some(n) = super::parse_int(args[i + 1]) else {
                out.error(err::NOT_INT);
                return;
            };
            count = Some(n);
            i += 2;
        } else {
            out.error(err::SYNTAX);
            return;
        }
    }
    let db = ctx.client.db;
    let out = &mut ctx.client.out;
    let Ok(s) = read_stream(ctx.srv, db, args[1], out) else {
        return;
    };
    let Some(s) = s else {
        out.array(0);
        return;
    };
    if count.is_some_and(|n| n <= 0) {
        out.null_array();
        return;
    }
    let (Some(start), Some(end)) = (start, end) else {
        out.array(0);
        return;
    };
    let entries = s.log.range(start, end, count.unwrap_or(0) as usize, rev);
    reply_entries(out, &entries);
}

pub fn xrange(ctx: &mut Ctx, args: &[&[u8]]) {
    range_generic(ctx, args, false)
}

pub fn xrevrange(ctx: &mut Ctx, args: &[&[u8]]) {
    range_generic(ctx, args, true)
}

pub fn xdel(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    match write_stream(ctx.srv, db, args[1], &mut ctx.client.out) {
        Err(()) => return,
        Ok(None) => {
            ctx.propagate_nothing();
            ctx.out().int(0);
            return;
        }
        Ok(Some(_)) => {}
    }
    let mut ids = Vec::with_capacity(args.len() - 2);
    for a in &args[2..] {
        match strict_id(ctx.out(), a) {
            Some(id) => ids.push(id),
            None => return,
        }
    }
    let db = ctx.client.db;
    let n = match write_stream(ctx.srv, db, args[1], &mut ctx.client.out) {
        Err(()) => return,
        Ok(None) => 0,
        Ok(Some(s)) => ids.iter().filter(|&&id| s.log.delete(id)).count(),
    };
    if n == 0 {
        // Nothing changed: nothing to propagate (as Redis).
        ctx.propagate_nothing();
    } else {
        ctx.notify(class::STREAM, "xdel", args[1]);
    }
    ctx.out().int(n as i64);
}

pub fn xtrim(ctx: &mut Ctx, args: &[&[u8]]) {
    let mut t = TrimArgs::default();
    let mut i = 2;
    while i < args.len() {
        match parse_trim_opt(ctx, args, i, &mut t) {
            Err(()) => return,
            Ok(Some(next)) => i = next,
            Ok(None) => {
                ctx.out().error(err::SYNTAX);
                return;
            }
        }
    }
    if t.strategy.is_none() {
        ctx.out().error(err::SYNTAX);
        return;
    }
    if !check_trim(ctx, &mut t) {
        return;
    }
    let db = ctx.client.db;
    let trim_default = default_trim_limit(ctx.srv);
    let propagating = ctx.propagating();
    let mut effect = None;
    let n = match write_stream(ctx.srv, db, args[1], &mut ctx.client.out) {
        Err(()) => return,
        Ok(None) => 0,
        Ok(Some(s)) => {
            let n = apply_trim(trim_default, &mut s.log, &t);
            // Effect as Redis: nothing when nothing was trimmed, the exact
            // equivalent of an approximate trim.
            if n > 0 && t.approx && propagating {
                let mut argv: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
                rewrite_approx_trim(&mut argv, &s.log, &t);
                effect = Some(argv);
            }
            n
        }
    };
    if n == 0 {
        ctx.propagate_nothing();
    } else {
        ctx.notify(class::STREAM, "xtrim", args[1]);
    }
    if let Some(argv) = effect {
        ctx.propagate(argv);
    }
    ctx.out().int(n as i64);
}

pub fn xsetid(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(id) = strict_id(ctx.out(), args[2]) else {
        return;
    };
    let mut entries_added: Option<i64> = None;
    let mut max_deleted: Option<StreamId> = None;
    let mut i = 3;
    while i < args.len() {
        if eq_ic(args[i], "entriesadded") && i + 1 < args.len() {
            let Some(n) = super::int_arg(ctx, args[i + 1]) else {
                return;
            };
            if n < 0 {
                ctx.out().error("ERR entries_added must be positive");
                return;
            }
            entries_added = Some(n);
            i += 2;
        } else if eq_ic(args[i], "maxdeletedid") && i + 1 < args.len() {
            let Some(m) = strict_id(ctx.out(), args[i + 1]) else {
                return;
            };
            if id < m {
                ctx.out()
                    .error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
                return;
            }
            max_deleted = Some(m);
            i += 2;
        } else {
            ctx.out().error(err::SYNTAX);
            return;
        }
    }
    let db = ctx.client.db;
    let s = match write_stream(ctx.srv, db, args[1], &mut ctx.client.out) {
        Err(()) => return,
        Ok(None) => {
            ctx.out().error(err::NO_KEY);
            return;
        }
        Ok(Some(s)) => s,
    };
    if !s.log.is_empty() {
        let top = s.log.last_entry().map(|e| e.0).unwrap_or_default();
        if id < top {
            ctx.out()
                .error("ERR The ID specified in XSETID is smaller than the target stream top item");
            return;
        }
    }
    if let Some(n) = entries_added {
        if (s.log.len() as i64) > n {
            ctx.out()
                .error("ERR The entries_added specified in XSETID is smaller than the target stream length");
            return;
        }
    }
    s.log.last_id = id;
    if let Some(n) = entries_added {
        s.log.entries_added = n as u64;
    }
    if let Some(m) = max_deleted.filter(|m| !m.is_zero()) {
        s.log.max_deleted_id = m;
    }
    ctx.out().ok();
    ctx.notify(class::STREAM, "xsetid", args[1]);
}

// ---------------------------------------------------------------------------
// XREAD / XREADGROUP
// ---------------------------------------------------------------------------

thread_local! {
    /// Resolved start IDs of parked XREAD commands, by client id.
    static PARKED_IDS: RefCell<HashMap<u64, Vec<StreamId>>> = RefCell::new(HashMap::new());
}

enum ReadId {
    /// An ID (after `$` resolution).
    Id(StreamId),
    /// `>`: new entries for the group.
    New,
    /// `$` (resolved later).
    Last,
}

struct ReadArgs<'a> {
    count: usize,
    block: Option<i64>,
    noack: bool,
    group: Option<(&'a [u8], &'a [u8])>,
    keys: Vec<&'a [u8]>,
    raw_ids: Vec<&'a [u8]>,
    ids: Vec<ReadId>,
}

fn parse_read<'a>(ctx: &mut Ctx, args: &[&'a [u8]], with_group: bool) -> Option<ReadArgs<'a>> {
    let mut r = ReadArgs {
        count: 0,
        block: None,
        noack: false,
        group: None,
        keys: Vec::new(),
        raw_ids: Vec::new(),
        ids: Vec::new(),
    };
    let mut i = 1;
    let mut streams_at = None;
    while i < args.len() {
        let a = args[i];
        let more = args.len() - i - 1;
        if eq_ic(a, "block") && more >= 1 {
            let Some(ms) = super::parse_int(args[i + 1]) else {
                ctx.out().error("ERR timeout is not an integer or out of range");
                return None;
            };
            if ms < 0 {
                ctx.out().error("ERR timeout is negative");
                return None;
            }
            r.block = Some(ms);
            i += 2;
        } else if eq_ic(a, "count") && more >= 1 {
            let n = super::int_arg(ctx, args[i + 1])?;
            r.count = n.max(0) as usize;
            i += 2;
        } else if eq_ic(a, "streams") && more >= 1 {
            streams_at = Some(i + 1);
            break;
        } else if eq_ic(a, "group") && more >= 2 {
            if !with_group {
                ctx.out()
                    .error("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
                return None;
            }
            r.group = Some((args[i + 1], args[i + 2]));
            i += 3;
        } else if eq_ic(a, "noack") {
            if !with_group {
                ctx.out()
                    .error("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
                return None;
            }
            r.noack = true;
            i += 1;
        } else {
            ctx.out().error(err::SYNTAX);
            return None;
        }
    }
    let Some(start) = streams_at else {
        ctx.out().error(err::SYNTAX);
        return None;
    };
    let rest = &args[start..];
    if rest.len() & 1 == 1 {
        // Redis says XREAD for XREADGROUP too.
        ctx.out()
            .error("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
        return None;
    }
    if with_group && r.group.is_none() {
        ctx.out().error("ERR Missing GROUP option for XREADGROUP");
        return None;
    }
    let n = rest.len() / 2;
    r.keys = rest[..n].to_vec();
    r.raw_ids = rest[n..].to_vec();
    Some(r)
}

/// Parses one XREAD/XREADGROUP ID (after its key was looked up, as Redis does).
fn parse_read_id(out: &mut Reply, a: &[u8], with_group: bool) -> Option<ReadId> {
    if a == b"$" {
        if with_group {
            out.error("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.");
            return None;
        }
        Some(ReadId::Last)
    } else if a == b">" {
        if !with_group {
            out.error(
                "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
            );
            return None;
        }
        Some(ReadId::New)
    } else {
        // Redis marks `>` with the maximum ID: an explicit one means `>` too.
        strict_id(out, a).map(|id| {
            if with_group && id == StreamId::MAX {
                ReadId::New
            } else {
                ReadId::Id(id)
            }
        })
    }
}

fn block_deadline(ctx: &Ctx, block: Option<i64>) -> Option<Option<i64>> {
    // Redis's deadline overflows past the end of time: it never comes.
    block.map(|ms| if ms == 0 { None } else { ctx.now().checked_add(ms) })
}

/// Starts a map (RESP3) or array (RESP2) of per-stream results.
fn open_results(out: &mut Reply, n: usize) {
    if out.is_resp3() {
        out.map(n);
    } else {
        out.array(n);
    }
}

fn close_results_pair(out: &mut Reply, key: &[u8]) {
    if !out.is_resp3() {
        out.array(2);
    }
    out.bulk(key);
}

pub fn xread(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(r) = parse_read(ctx, args, false) else {
        return;
    };
    let db = ctx.client.db;
    let rerun = ctx.client.blocked.is_some();
    let client_id = ctx.client.id;
    // Resolve `$` (from the first run when re-running a parked command).
    let remembered = if rerun {
        PARKED_IDS.with(|p| p.borrow().get(&client_id).cloned())
    } else {
        None
    };
    let mut starts = Vec::with_capacity(r.keys.len());
    for (k, raw) in r.keys.iter().zip(&r.raw_ids) {
        let out = &mut ctx.client.out;
        let s = match read_stream(ctx.srv, db, k, out) {
            Err(()) => return,
            Ok(s) => s,
        };
        let Some(rid) = parse_read_id(out, raw, false) else {
            return;
        };
        starts.push(match rid {
            ReadId::Id(id) => id,
            _ => s.map_or(StreamId::MIN, |s| s.log.last_id),
        });
    }
    if let Some(rem) = remembered {
        if rem.len() == starts.len() {
            starts = rem;
        }
    }
    // Collect results.
    let mut hits: Vec<usize> = Vec::new();
    for (i, k) in r.keys.iter().enumerate() {
        let s = match ctx.srv.keyspace.dbs[db].peek(k, ctx.srv.now_ms).map(|e| &e.value) {
            Some(Value::Stream(s)) => s,
            _ => continue,
        };
        if s.log.last_live_id().is_some_and(|l| l > starts[i]) {
            hits.push(i);
        }
    }
    if hits.is_empty() {
        if let Some(deadline) = block_deadline(ctx, r.block) {
            if !ctx.client.in_exec {
                PARKED_IDS.with(|p| {
                    let mut p = p.borrow_mut();
                    if p.len() > 1024 {
                        let srv = &ctx.srv;
                        p.retain(|id, _| srv.clients.index_of(*id).is_some());
                    }
                    p.insert(client_id, starts.clone());
                });
            }
            let keys = r.keys.clone();
            super::block_client(ctx, &keys, deadline);
            return;
        }
        ctx.out().null_array();
        return;
    }
    PARKED_IDS.with(|p| p.borrow_mut().remove(&client_id));
    let now = ctx.srv.now_ms;
    let out = &mut ctx.client.out;
    open_results(out, hits.len());
    for i in hits {
        let k = r.keys[i];
        let Some(Value::Stream(s)) = ctx.srv.keyspace.dbs[db].peek(k, now).map(|e| &e.value) else {
            unreachable!("checked above")
        };
        close_results_pair(out, k);
        let from = starts[i].incr().unwrap_or(StreamId::MAX);
        let entries = s.log.range(from, StreamId::MAX, r.count, false);
        reply_entries(out, &entries);
    }
}

/// A group's state change as Redis propagates it (`streamPropagateXCLAIM`):
/// `XCLAIM key group consumer 0 id TIME <ms> RETRYCOUNT <n> FORCE JUSTID
/// LASTID <group last id>`, which recreates the pending entry exactly on a
/// replica (or drops it there when the entry no longer exists).
fn xclaim_effect(key: &[u8], group: &[u8], id: &[u8], nack: &Nack, last_id: StreamId) -> Vec<Vec<u8>> {
    vec![
        b"XCLAIM".to_vec(),
        key.to_vec(),
        group.to_vec(),
        nack.consumer.clone(),
        b"0".to_vec(),
        id.to_vec(),
        b"TIME".to_vec(),
        nack.delivery_time.to_string().into_bytes(),
        b"RETRYCOUNT".to_vec(),
        nack.delivery_count.to_string().into_bytes(),
        b"FORCE".to_vec(),
        b"JUSTID".to_vec(),
        b"LASTID".to_vec(),
        last_id.to_string().into_bytes(),
    ]
}

/// `XGROUP SETID key group <last id> ENTRIESREAD <n>`.
fn setid_effect(key: &[u8], group: &[u8], g: &Group) -> Vec<Vec<u8>> {
    vec![
        b"XGROUP".to_vec(),
        b"SETID".to_vec(),
        key.to_vec(),
        group.to_vec(),
        g.last_id.to_string().into_bytes(),
        b"ENTRIESREAD".to_vec(),
        g.entries_read.to_string().into_bytes(),
    ]
}

/// XREADGROUP's effects, as Redis: each entry delivered with `>` is an
/// XCLAIM ([`xclaim_effect`]); with NOACK nothing is pending, so a consumer it
/// created is `XGROUP CREATECONSUMER` and the group's new position `XGROUP
/// SETID`. Reading a consumer's history propagates nothing.
pub fn xreadgroup(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(mut r) = parse_read(ctx, args, true) else {
        return;
    };
    let (group, consumer) = r.group.expect("checked");
    let db = ctx.client.db;
    // Every stream and group must exist before anything is read.
    for (k, raw) in r.keys.iter().zip(&r.raw_ids) {
        let out = &mut ctx.client.out;
        match write_stream(ctx.srv, db, k, out) {
            Err(()) => return,
            Ok(Some(s)) if s.groups.contains_key(group) => {}
            Ok(_) => {
                nogroup(out, k, group, " in XREADGROUP with GROUP option");
                return;
            }
        }
        match parse_read_id(out, raw, true) {
            Some(id) => r.ids.push(id),
            None => return,
        }
    }
    let now = ctx.srv.now_ms;
    ctx.propagate_nothing();
    let propagating = ctx.propagating();
    let mut effects: Vec<Vec<Vec<u8>>> = Vec::new();
    // Redis serves the streams one after another, deciding for each whether it
    // has something to say only when it gets to it: a later `>` for the same
    // key sees what an earlier one delivered. The reply's length is known at
    // the end (Redis defers it), so the results are written first and the
    // header put in front of them.
    let mark = ctx.client.out.len();
    let mut nserved = 0;
    for (k, rid) in r.keys.iter().zip(&r.ids) {
        let has = {
            let Some(Value::Stream(s)) = ctx.srv.keyspace.dbs[db].peek(k, now).map(|e| &e.value) else {
                unreachable!("checked above")
            };
            let g = &s.groups[group];
            match rid {
                ReadId::New => s.log.last_live_id().is_some_and(|l| l > g.last_id),
                _ => true,
            }
        };
        if !has {
            continue;
        }
        nserved += 1;
        let created = {
            let Some(Value::Stream(s)) = ctx.srv.keyspace.dbs[db].get_mut(k, i64::MIN).map(|e| &mut e.value) else {
                unreachable!("checked above")
            };
            let g = s.groups.get_mut(group).expect("checked");
            let (c, created) = g.consumer_or_create(consumer, now);
            c.seen_time = now;
            created
        };
        close_results_pair(&mut ctx.client.out, k);
        // Redis sends the event here, inside its reply.
        if created {
            ctx.notify(class::STREAM, "xgroup-createconsumer", k);
        }
        let out = &mut ctx.client.out;
        let Some(Value::Stream(s)) = ctx.srv.keyspace.dbs[db].get_mut(k, i64::MIN).map(|e| &mut e.value) else {
            unreachable!("checked above")
        };
        let StreamValue { log, groups } = &mut **s;
        let g = groups.get_mut(group).expect("checked");
        match rid {
            ReadId::New => {
                if created && r.noack && propagating {
                    effects.push(vec![
                        b"XGROUP".to_vec(),
                        b"CREATECONSUMER".to_vec(),
                        k.to_vec(),
                        group.to_vec(),
                        consumer.to_vec(),
                    ]);
                }
                let before = g.last_id;
                let from = g.last_id.incr().unwrap_or(StreamId::MAX);
                let entries = log.range(from, StreamId::MAX, r.count, false);
                for (id, _) in &entries {
                    advance_group(log, g, *id);
                    if !r.noack {
                        g.deliver(*id, consumer, now, false);
                        if let Some(n) = g.pel.get_mut(id) {
                            n.delivery_count = 1;
                            if propagating {
                                let id_arg = id.to_string().into_bytes();
                                effects.push(xclaim_effect(k, group, &id_arg, n, g.last_id));
                            }
                        }
                    }
                }
                if r.noack && g.last_id != before && propagating {
                    effects.push(setid_effect(k, group, g));
                }
                reply_entries(out, &entries);
            }
            ReadId::Id(start) => {
                let ids: Vec<StreamId> = g
                    .consumers
                    .get(consumer)
                    .map(|c| {
                        let from = start.incr();
                        let it = c
                            .pel
                            .range(from.unwrap_or(StreamId::MAX)..)
                            .filter(move |_| from.is_some())
                            .copied();
                        if r.count == 0 {
                            it.collect()
                        } else {
                            it.take(r.count).collect()
                        }
                    })
                    .unwrap_or_default();
                out.array(ids.len());
                for id in ids {
                    match log.range(id, id, 1, false).pop() {
                        Some((id, f)) => {
                            // Only an entry still in the stream counts as
                            // delivered again.
                            if let Some(n) = g.pel.get_mut(&id) {
                                n.delivery_time = now;
                                n.delivery_count += 1;
                            }
                            reply_entry(out, id, &f)
                        }
                        None => {
                            out.array(2);
                            reply_id(out, id);
                            out.null_array();
                        }
                    }
                }
            }
            ReadId::Last => unreachable!("rejected by the parser"),
        }
    }
    if nserved == 0 {
        if let Some(deadline) = block_deadline(ctx, r.block) {
            let keys = r.keys.clone();
            super::block_client(ctx, &keys, deadline);
            return;
        }
        ctx.client.out.null_array();
        return;
    }
    let results = ctx.client.out.buf.split_off(mark);
    open_results(&mut ctx.client.out, nserved);
    ctx.client.out.buf.extend_from_slice(&results);
    for argv in effects {
        ctx.propagate(argv);
    }
}

// ---------------------------------------------------------------------------
// XGROUP
// ---------------------------------------------------------------------------

fn entries_read_arg(ctx: &mut Ctx, arg: &[u8]) -> Option<i64> {
    let n = super::int_arg(ctx, arg)?;
    if n < 0 && n != ENTRIES_READ_INVALID {
        ctx.out().error("ERR value for ENTRIESREAD must be positive or -1");
        return None;
    }
    Some(n)
}

/// The options after `XGROUP CREATE|SETID key group id`: MKSTREAM (CREATE
/// only) and ENTRIESREAD n. None when an error was answered.
fn group_options(ctx: &mut Ctx, args: &[&[u8]], mkstream_allowed: bool) -> Option<(bool, i64)> {
    let mut mkstream = false;
    let mut entries_read = ENTRIES_READ_INVALID;
    let mut i = 5;
    while i < args.len() {
        if mkstream_allowed && eq_ic(args[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if eq_ic(args[i], "entriesread") && i + 1 < args.len() {
            entries_read = entries_read_arg(ctx, args[i + 1])?;
            i += 2;
        } else {
            unknown_or_arity(ctx.out(), args[1], "XGROUP");
            return None;
        }
    }
    Some((mkstream, entries_read))
}

pub fn xgroup_create(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some((mkstream, entries_read)) = group_options(ctx, args, true) else {
        return;
    };
    let db = ctx.client.db;
    let exists = match write_stream(ctx.srv, db, args[2], &mut ctx.client.out) {
        Err(()) => return,
        Ok(s) => s.is_some(),
    };
    let last = match ctx.srv.keyspace.dbs[db].peek(args[2], i64::MIN).map(|e| &e.value) {
        Some(Value::Stream(s)) => s.log.last_id,
        _ => StreamId::MIN,
    };
    if !exists && !mkstream {
        ctx.out().error(ERR_NOKEY_GROUP);
        return;
    }
    // Repeated options parse, but Redis takes at most 8 arguments.
    if args.len() > 8 {
        unknown_or_arity(ctx.out(), args[1], "XGROUP");
        return;
    }
    let id = if args[4] == b"$" {
        last
    } else {
        match strict_id(ctx.out(), args[4]) {
            Some(id) => id,
            None => return,
        }
    };
    if !exists {
        create_stream(ctx.srv, db, args[2]);
        ctx.notify(class::NEW, "new", args[2]);
    }
    let Some(Value::Stream(s)) = ctx.srv.keyspace.dbs[db]
        .get_mut(args[2], i64::MIN)
        .map(|e| &mut e.value)
    else {
        unreachable!("exists")
    };
    if s.groups.contains_key(args[3]) {
        ctx.out().error("BUSYGROUP Consumer Group name already exists");
        return;
    }
    s.groups.insert(args[3].to_vec(), Group::new(id, entries_read));
    ctx.out().ok();
    ctx.notify(class::STREAM, "xgroup-create", args[2]);
}

/// The group of an existing stream for XGROUP subcommands; replies on failure.
fn xgroup_target<'a>(ctx: &'a mut Ctx, key: &[u8], group: &[u8]) -> Option<&'a mut StreamValue> {
    let db = ctx.client.db;
    let out = &mut ctx.client.out;
    match write_stream(ctx.srv, db, key, out) {
        Err(()) => None,
        Ok(None) => {
            out.error(ERR_NOKEY_GROUP);
            None
        }
        Ok(Some(s)) => {
            if !s.groups.contains_key(group) {
                out.error(&format!(
                    "NOGROUP No such consumer group '{}' for key name '{}'",
                    cstr(group),
                    cstr(key)
                ));
                return None;
            }
            Some(s)
        }
    }
}

pub fn xgroup_setid(ctx: &mut Ctx, args: &[&[u8]]) {
    // As Redis: every ENTRIESREAD pair parses first, then the key and group
    // are checked, then the argument count.
    let Some((_, entries_read)) = group_options(ctx, args, false) else {
        return;
    };
    let (key, group) = (args[2], args[3]);
    if xgroup_target(ctx, key, group).is_none() {
        return;
    }
    if args.len() != 5 && args.len() != 7 {
        unknown_or_arity(ctx.out(), args[1], "XGROUP");
        return;
    }
    let db = ctx.client.db;
    let last = match ctx.srv.keyspace.dbs[db].peek(key, i64::MIN).map(|e| &e.value) {
        Some(Value::Stream(s)) => s.log.last_id,
        _ => unreachable!("checked"),
    };
    let id = if args[4] == b"$" {
        last
    } else {
        match id_arg(ctx.out(), args[4], 0, true) {
            Some(id) => id,
            None => return,
        }
    };
    let Some(s) = xgroup_target(ctx, key, group) else {
        return;
    };
    let g = s.groups.get_mut(group).expect("checked");
    g.last_id = id;
    g.entries_read = entries_read;
    ctx.out().ok();
    ctx.notify(class::STREAM, "xgroup-setid", key);
}

pub fn xgroup_destroy(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let out = &mut ctx.client.out;
    let destroyed = match write_stream(ctx.srv, db, args[2], out) {
        Err(()) => false,
        Ok(None) => {
            out.error(ERR_NOKEY_GROUP);
            false
        }
        Ok(Some(s)) => {
            let gone = s.groups.remove(args[3]).is_some();
            out.int(gone as i64);
            gone
        }
    };
    if destroyed {
        ctx.notify(class::STREAM, "xgroup-destroy", args[2]);
    }
}

pub fn xgroup_createconsumer(ctx: &mut Ctx, args: &[&[u8]]) {
    let now = ctx.now();
    let Some(s) = xgroup_target(ctx, args[2], args[3]) else {
        return;
    };
    let g = s.groups.get_mut(args[3]).expect("checked");
    let created = g.consumer_or_create(args[4], now).1;
    if created {
        ctx.notify(class::STREAM, "xgroup-createconsumer", args[2]);
    }
    ctx.out().int(created as i64);
}

pub fn xgroup_delconsumer(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(s) = xgroup_target(ctx, args[2], args[3]) else {
        return;
    };
    let g = s.groups.get_mut(args[3]).expect("checked");
    let deleted = g.delete_consumer(args[4]);
    if deleted.is_some() {
        ctx.notify(class::STREAM, "xgroup-delconsumer", args[2]);
    }
    ctx.out().int(deleted.unwrap_or(0) as i64);
}

pub fn xgroup_help(ctx: &mut Ctx, _args: &[&[u8]]) {
    super::help_reply(
        ctx.out(),
        "XGROUP",
        &[
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
        ],
    );
}

// ---------------------------------------------------------------------------
// XACK, XPENDING, XCLAIM, XAUTOCLAIM
// ---------------------------------------------------------------------------

pub fn xack(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    // Type and group are checked before the IDs are parsed, as Redis does.
    match write_stream(ctx.srv, db, args[1], &mut ctx.client.out) {
        Err(()) => return,
        Ok(Some(s)) if s.groups.contains_key(args[2]) => {}
        Ok(_) => {
            ctx.propagate_nothing();
            ctx.out().int(0);
            return;
        }
    }
    let mut ids = Vec::with_capacity(args.len() - 3);
    for a in &args[3..] {
        match strict_id(ctx.out(), a) {
            Some(id) => ids.push(id),
            None => return,
        }
    }
    let n = match write_stream(ctx.srv, db, args[1], &mut ctx.client.out) {
        Ok(Some(s)) => match s.groups.get_mut(args[2]) {
            None => 0,
            Some(g) => ids.iter().filter(|&&id| g.ack(id)).count(),
        },
        _ => 0,
    };
    if n == 0 {
        // Nothing changed: nothing to propagate (as Redis).
        ctx.propagate_nothing();
    }
    ctx.out().int(n as i64);
}

pub fn xpending(ctx: &mut Ctx, args: &[&[u8]]) {
    let (key, group) = (args[1], args[2]);
    let mut min_idle: Option<i64> = None;
    let mut range = None;
    let mut consumer: Option<&[u8]> = None;
    // Redis checks the argument count, then IDLE, then COUNT, then the IDs.
    if args.len() != 3 && !(6..=9).contains(&args.len()) {
        ctx.out().error(err::SYNTAX);
        return;
    }
    if args.len() >= 6 {
        let mut i = 3;
        if eq_ic(args[i], "idle") {
            let Some(n) = super::int_arg(ctx, args[i + 1]) else {
                return;
            };
            if args.len() < 8 {
                ctx.out().error(err::SYNTAX);
                return;
            }
            min_idle = Some(n.max(0));
            i += 2;
        }
        let Some(count) = super::int_arg(ctx, args[i + 2]) else {
            return;
        };
        let out = &mut ctx.client.out;
        let Ok(start) = range_bound(out, args[i], true) else {
            return;
        };
        let Ok(end) = range_bound(out, args[i + 1], false) else {
            return;
        };
        if args.len() > i + 3 {
            consumer = Some(args[i + 3]);
        }
        range = Some((start, end, count.max(0) as usize));
    }
    let db = ctx.client.db;
    let now = ctx.now();
    let out = &mut ctx.client.out;
    let s = match read_stream(ctx.srv, db, key, out) {
        Err(()) => return,
        Ok(s) => s,
    };
    let Some(g) = s.and_then(|s| s.groups.get(group)) else {
        nogroup(out, key, group, "");
        return;
    };
    match range {
        None => {
            out.array(4);
            out.int(g.pel.len() as i64);
            match (g.pel.first_key_value(), g.pel.last_key_value()) {
                (Some((a, _)), Some((b, _))) => {
                    reply_id(out, *a);
                    reply_id(out, *b);
                    let mut counts: Vec<(&[u8], usize)> = g
                        .consumers
                        .iter()
                        .filter(|(_, c)| !c.pel.is_empty())
                        .map(|(n, c)| (n.as_slice(), c.pel.len()))
                        .collect();
                    counts.sort();
                    out.array(counts.len());
                    for (n, c) in counts {
                        out.array(2);
                        out.bulk(n);
                        out.bulk(c.to_string().as_bytes());
                    }
                }
                _ => {
                    out.null();
                    out.null();
                    out.null_array();
                }
            }
        }
        Some((start, end, count)) => {
            let (Some(start), Some(end)) = (start, end) else {
                out.array(0);
                return;
            };
            if count == 0 || start > end {
                out.array(0);
                return;
            }
            let mut rows = Vec::new();
            let ids: Box<dyn Iterator<Item = StreamId>> = match consumer {
                Some(c) => match g.consumers.get(c) {
                    Some(c) => Box::new(c.pel.range(start..=end).copied()),
                    None => Box::new(std::iter::empty()),
                },
                None => Box::new(g.pel.range(start..=end).map(|(k, _)| *k)),
            };
            for id in ids {
                let n = &g.pel[&id];
                let idle = (now - n.delivery_time).max(0);
                if min_idle.is_some_and(|m| idle < m) {
                    continue;
                }
                rows.push((id, n, idle));
                if rows.len() >= count {
                    break;
                }
            }
            out.array(rows.len());
            for (id, n, idle) in rows {
                out.array(4);
                reply_id(out, id);
                out.bulk(&n.consumer);
                out.int(idle);
                out.int(n.delivery_count as i64);
            }
        }
    }
}

/// Whether `consumer` exists in `group` of the stream at `key`.
fn consumer_exists(ctx: &Ctx, key: &[u8], group: &[u8], consumer: &[u8]) -> bool {
    match ctx.srv.keyspace.dbs[ctx.client.db]
        .peek(key, i64::MIN)
        .map(|e| &e.value)
    {
        Some(Value::Stream(s)) => s.groups.get(group).is_some_and(|g| g.consumers.contains_key(consumer)),
        _ => false,
    }
}

/// Runs XCLAIM or XAUTOCLAIM, then sends `xgroup-createconsumer` when it
/// created its consumer (it does only when something was claimed). Redis
/// sends it inside the reply, when the header of the claimed entries is
/// written: after the first `header_lines` lines of the reply.
fn claim_with_events(ctx: &mut Ctx, args: &[&[u8]], run: fn(&mut Ctx, &[&[u8]]), header_lines: usize) {
    let existed = !crate::notify::enabled(ctx.srv, class::STREAM) || consumer_exists(ctx, args[1], args[2], args[3]);
    let start = ctx.client.out.buf.len();
    run(ctx, args);
    if !existed && consumer_exists(ctx, args[1], args[2], args[3]) {
        let header_end = ctx.client.out.buf[start..]
            .windows(2)
            .enumerate()
            .filter(|(_, w)| *w == b"\r\n")
            .nth(header_lines - 1)
            .map(|(i, _)| start + i + 2);
        let tail = header_end.map(|at| ctx.client.out.buf.split_off(at));
        ctx.notify(class::STREAM, "xgroup-createconsumer", args[1]);
        if let Some(tail) = tail {
            ctx.client.out.buf.extend_from_slice(&tail);
        }
    }
}

pub fn xclaim(ctx: &mut Ctx, args: &[&[u8]]) {
    // `*<n>`
    claim_with_events(ctx, args, xclaim_run, 1)
}

pub fn xautoclaim(ctx: &mut Ctx, args: &[&[u8]]) {
    // `*3`, the next ID (a bulk string: two lines), `*<n>`
    claim_with_events(ctx, args, xautoclaim_run, 4)
}

fn xclaim_run(ctx: &mut Ctx, args: &[&[u8]]) {
    let (key, group, consumer) = (args[1], args[2], args[3]);
    {
        let db = ctx.client.db;
        let out = &mut ctx.client.out;
        match write_stream(ctx.srv, db, key, out) {
            Err(()) => return,
            Ok(Some(s)) if s.groups.contains_key(group) => {}
            Ok(_) => {
                nogroup(out, key, group, "");
                return;
            }
        }
    }
    let Some(min_idle) = super::parse_int(args[4]) else {
        ctx.out().error("ERR Invalid min-idle-time argument for XCLAIM");
        return;
    };
    let min_idle = min_idle.max(0);
    let mut ids = Vec::new();
    let mut i = 5;
    while i < args.len() {
        match parse_id(args[i], 0, false) {
            Some(id) => ids.push((id, args[i])),
            None => break,
        }
        i += 1;
    }
    let now = ctx.now();
    let mut delivery_time = now;
    let mut retry: Option<i64> = None;
    let mut force = false;
    let mut justid = false;
    let mut lastid: Option<StreamId> = None;
    while i < args.len() {
        let a = args[i];
        let more = i + 1 < args.len();
        if eq_ic(a, "force") {
            force = true;
        } else if eq_ic(a, "justid") {
            justid = true;
        } else if eq_ic(a, "idle") && more {
            i += 1;
            let Some(v) = super::parse_int(args[i]) else {
                ctx.out().error("ERR Invalid IDLE option argument for XCLAIM");
                return;
            };
            delivery_time = now - v;
        } else if eq_ic(a, "time") && more {
            i += 1;
            let Some(v) = super::parse_int(args[i]) else {
                ctx.out().error("ERR Invalid TIME option argument for XCLAIM");
                return;
            };
            delivery_time = v;
        } else if eq_ic(a, "retrycount") && more {
            i += 1;
            let Some(v) = super::parse_int(args[i]) else {
                ctx.out().error("ERR Invalid RETRYCOUNT option argument for XCLAIM");
                return;
            };
            retry = Some(v);
        } else if eq_ic(a, "lastid") && more {
            i += 1;
            let Some(id) = strict_id(ctx.out(), args[i]) else {
                return;
            };
            lastid = Some(id);
        } else {
            ctx.out()
                .error(&format!("ERR Unrecognized XCLAIM option '{}'", cstr(a)));
            return;
        }
        i += 1;
    }
    // Redis replaces a time in the future by now. The times our master (or
    // the AOF) sends were taken from its clock: kept as they are, so replicas
    // and a replayed AOF hold the same pending entries.
    if delivery_time < 0 || (delivery_time > now && !ctx.client.master) {
        delivery_time = now;
    }
    let propagating = ctx.propagating();
    let db = ctx.client.db;
    let out = &mut ctx.client.out;
    let s = match write_stream(ctx.srv, db, key, out) {
        Err(()) => return,
        Ok(s) => s,
    };
    let Some(s) = s.filter(|s| s.groups.contains_key(group)) else {
        nogroup(out, key, group, "");
        return;
    };
    let StreamValue { log, groups } = &mut *s;
    let g = groups.get_mut(group).expect("checked");
    // Effects as Redis: each pending entry claimed, or dropped because the
    // entry was deleted, is an XCLAIM that recreates its new state
    // ([`xclaim_effect`]); a LASTID that moved the group with nothing claimed
    // is `XGROUP SETID`.
    let mut effects: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut moved_last_id = false;
    if let Some(l) = lastid {
        if l > g.last_id {
            g.last_id = l;
            moved_last_id = true;
        }
    }
    // The consumer is created only when something is claimed.
    let mut claimed: Vec<StreamId> = Vec::new();
    for (id, id_arg) in ids {
        let exists = log.contains(id);
        // A pending entry FORCE creates has no idle time to check (Redis).
        let mut forced = false;
        if !g.pel.contains_key(&id) {
            if !(force && exists) {
                continue;
            }
            g.deliver(id, consumer, now, false);
            if let Some(n) = g.pel.get_mut(&id) {
                n.delivery_count = 1;
            }
            forced = true;
        }
        if !exists {
            if propagating {
                effects.push(xclaim_effect(key, group, id_arg, &g.pel[&id], g.last_id));
            }
            moved_last_id = false;
            g.ack(id);
            continue;
        }
        let n = g.pel.get(&id).expect("present");
        if !forced && min_idle > 0 && now - n.delivery_time < min_idle {
            continue;
        }
        g.deliver(id, consumer, delivery_time, false);
        // TIME / IDLE set the entry's delivery time; the consumer was seen now.
        if let Some(c) = g.consumers.get_mut(consumer) {
            c.seen_time = now;
        }
        let n = g.pel.get_mut(&id).expect("present");
        match retry {
            Some(r) if r >= 0 => n.delivery_count = r as u64,
            _ if !justid => n.delivery_count += 1,
            _ => {}
        }
        if propagating {
            effects.push(xclaim_effect(key, group, id_arg, n, g.last_id));
        }
        moved_last_id = false;
        claimed.push(id);
    }
    if moved_last_id && propagating {
        effects.push(setid_effect(key, group, g));
    }
    out.array(claimed.len());
    for id in claimed {
        if justid {
            reply_id(out, id);
        } else if let Some((id, f)) = log.range(id, id, 1, false).pop() {
            reply_entry(out, id, &f);
        }
    }
    ctx.propagate_nothing();
    for argv in effects {
        ctx.propagate(argv);
    }
}

/// XAUTOCLAIM's effects are those of XCLAIM: one per entry claimed or
/// dropped from the pending list because it was deleted.
fn xautoclaim_run(ctx: &mut Ctx, args: &[&[u8]]) {
    let (key, group, consumer) = (args[1], args[2], args[3]);
    // Redis looks the key up (expiring it) before it parses the arguments; a
    // wrong type, a missing key or group are reported after them.
    let db = ctx.client.db;
    let found = match lookup_read(ctx.srv, db, key).map(|e| &e.value) {
        None => Some(false),
        Some(Value::Stream(s)) => Some(s.groups.contains_key(group)),
        Some(_) => None,
    };
    let Some(min_idle) = super::parse_int(args[4]) else {
        ctx.out().error("ERR Invalid min-idle-time argument for XAUTOCLAIM");
        return;
    };
    let min_idle = min_idle.max(0);
    let Ok(Some(start)) = range_bound(ctx.out(), args[5], true) else {
        return;
    };
    let mut count: i64 = 100;
    let mut justid = false;
    let mut i = 6;
    while i < args.len() {
        if eq_ic(args[i], "count") && i + 1 < args.len() {
            let n = super::parse_int(args[i + 1]).unwrap_or(0);
            // LONG_MAX / max(sizeof(streamID), attempts factor 10)
            if !(1..=i64::MAX / 16).contains(&n) {
                ctx.out().error("ERR COUNT must be > 0");
                return;
            }
            count = n;
            i += 2;
        } else if eq_ic(args[i], "justid") {
            justid = true;
            i += 1;
        } else {
            ctx.out().error(err::SYNTAX);
            return;
        }
    }
    let now = ctx.now();
    let propagating = ctx.propagating();
    let out = &mut ctx.client.out;
    let Some(found) = found else {
        out.error(err::WRONGTYPE);
        return;
    };
    let s = match ctx.srv.keyspace.dbs[db].get_mut(key, i64::MIN).map(|e| &mut e.value) {
        Some(Value::Stream(s)) if found => &mut **s,
        _ => {
            nogroup(out, key, group, "");
            return;
        }
    };
    // Redis allocates COUNT stream IDs (16 bytes each) up front; beyond the
    // 47-bit address space of x86-64 the allocation fails.
    if count > (1 << 43) {
        out.error("ERR Insufficient memory, failed allocating transient memory, COUNT too high.");
        return;
    }
    let StreamValue { log, groups } = &mut *s;
    let g = groups.get_mut(group).expect("checked");
    let mut effects: Vec<Vec<Vec<u8>>> = Vec::new();
    // The consumer is created only when something is claimed.
    let mut attempts = count * 10;
    let mut claimed = Vec::new();
    let mut deleted = Vec::new();
    let mut next = StreamId::MIN;
    let candidates: Vec<StreamId> = g.pel.range(start..).map(|(k, _)| *k).collect();
    let mut it = candidates.into_iter().peekable();
    let mut left = count;
    while attempts > 0 && left > 0 {
        let Some(id) = it.next() else {
            break;
        };
        attempts -= 1;
        if !log.contains(id) {
            if propagating {
                effects.push(xclaim_effect(
                    key,
                    group,
                    id.to_string().as_bytes(),
                    &g.pel[&id],
                    g.last_id,
                ));
            }
            g.ack(id);
            deleted.push(id);
            left -= 1;
            continue;
        }
        let n = &g.pel[&id];
        if min_idle > 0 && now - n.delivery_time < min_idle {
            continue;
        }
        g.deliver(id, consumer, now, !justid);
        if propagating {
            effects.push(xclaim_effect(
                key,
                group,
                id.to_string().as_bytes(),
                &g.pel[&id],
                g.last_id,
            ));
        }
        claimed.push(id);
        left -= 1;
    }
    if let Some(&id) = it.peek() {
        next = id;
    }
    out.array(3);
    reply_id(out, next);
    out.array(claimed.len());
    for id in claimed {
        if justid {
            reply_id(out, id);
        } else if let Some((id, f)) = log.range(id, id, 1, false).pop() {
            reply_entry(out, id, &f);
        }
    }
    out.array(deleted.len());
    for id in deleted {
        reply_id(out, id);
    }
    ctx.propagate_nothing();
    for argv in effects {
        ctx.propagate(argv);
    }
}

// ---------------------------------------------------------------------------
// XINFO
// ---------------------------------------------------------------------------

fn reply_opt_entry(out: &mut Reply, e: Option<(StreamId, Vec<&[u8]>)>) {
    match e {
        Some((id, f)) => reply_entry(out, id, &f),
        None => out.null(),
    }
}

fn reply_entries_read(out: &mut Reply, g: &Group) {
    if g.entries_read == ENTRIES_READ_INVALID {
        out.null();
    } else {
        out.int(g.entries_read);
    }
}

fn reply_lag(out: &mut Reply, s: &StreamValue, g: &Group) {
    match s.group_lag(g) {
        Some(l) => out.int(l),
        None => out.null(),
    }
}

/// XINFO `radix-tree-nodes`: Redis's radix tree node count is an artifact of its
/// tree; report one root plus one node per key.
fn tree_nodes(s: &StreamLog) -> i64 {
    s.node_count() as i64 + 1
}

pub fn xinfo_stream(ctx: &mut Ctx, args: &[&[u8]]) {
    // Redis looks the key up before it parses FULL [COUNT n].
    let db = ctx.client.db;
    let now = ctx.now();
    let out = &mut ctx.client.out;
    let Some(s) = existing_stream(ctx.srv, db, args[2], out) else {
        return;
    };
    let mut full = false;
    let mut count: usize = 10;
    if args.len() > 3 {
        if !eq_ic(args[3], "full") {
            unknown_or_arity(out, args[1], "XINFO");
            return;
        }
        full = true;
        if args.len() == 6 && eq_ic(args[4], "count") {
            let Some(n) = super::parse_int(args[5]) else {
                out.error(err::NOT_INT);
                return;
            };
            // 0 is everything; a negative count is the default 10.
            count = if n < 0 { 10 } else { n as usize };
        } else if args.len() != 4 {
            unknown_or_arity(out, args[1], "XINFO");
            return;
        }
    }
    let log = &s.log;
    out.map(if full { 9 } else { 10 });
    out.bulk(b"length");
    out.int(log.len() as i64);
    out.bulk(b"radix-tree-keys");
    out.int(log.node_count() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(tree_nodes(log));
    out.bulk(b"last-generated-id");
    reply_id(out, log.last_id);
    out.bulk(b"max-deleted-entry-id");
    reply_id(out, log.max_deleted_id);
    out.bulk(b"entries-added");
    out.int(log.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    reply_id(out, log.first_id);
    if !full {
        out.bulk(b"groups");
        out.int(s.groups.len() as i64);
        out.bulk(b"first-entry");
        reply_opt_entry(out, log.first_entry());
        out.bulk(b"last-entry");
        reply_opt_entry(out, log.last_entry());
        return;
    }
    out.bulk(b"entries");
    let entries = log.range(StreamId::MIN, StreamId::MAX, count, false);
    reply_entries(out, &entries);
    out.bulk(b"groups");
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        reply_id(out, g.last_id);
        out.bulk(b"entries-read");
        reply_entries_read(out, g);
        out.bulk(b"lag");
        reply_lag(out, s, g);
        out.bulk(b"pel-count");
        out.int(g.pel.len() as i64);
        out.bulk(b"pending");
        let pel: Vec<_> = if count == 0 {
            g.pel.iter().collect()
        } else {
            g.pel.iter().take(count).collect()
        };
        out.array(pel.len());
        for (id, n) in pel {
            out.array(4);
            reply_id(out, *id);
            out.bulk(&n.consumer);
            out.int(n.delivery_time);
            out.int(n.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumers.len());
        for (cname, c) in &g.consumers {
            out.map(4);
            out.bulk(b"name");
            out.bulk(cname);
            out.bulk(b"seen-time");
            out.int(c.seen_time);
            out.bulk(b"pel-count");
            out.int(c.pel.len() as i64);
            out.bulk(b"pending");
            let ids: Vec<_> = if count == 0 {
                c.pel.iter().collect()
            } else {
                c.pel.iter().take(count).collect()
            };
            out.array(ids.len());
            for id in ids {
                let n = &g.pel[id];
                out.array(3);
                reply_id(out, *id);
                out.int(n.delivery_time);
                out.int(n.delivery_count as i64);
            }
        }
    }
    let _ = now;
}

pub fn xinfo_groups(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let out = &mut ctx.client.out;
    let Some(s) = existing_stream(ctx.srv, db, args[2], out) else {
        return;
    };
    out.array(s.groups.len());
    for (name, g) in &s.groups {
        out.map(6);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"consumers");
        out.int(g.consumers.len() as i64);
        out.bulk(b"pending");
        out.int(g.pel.len() as i64);
        out.bulk(b"last-delivered-id");
        reply_id(out, g.last_id);
        out.bulk(b"entries-read");
        reply_entries_read(out, g);
        out.bulk(b"lag");
        reply_lag(out, s, g);
    }
}

pub fn xinfo_consumers(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let now = ctx.now();
    let out = &mut ctx.client.out;
    let Some(s) = existing_stream(ctx.srv, db, args[2], out) else {
        return;
    };
    let Some(g) = s.groups.get(args[3]) else {
        out.error(&format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            cstr(args[3]),
            cstr(args[2])
        ));
        return;
    };
    out.array(g.consumers.len());
    for (name, c) in &g.consumers {
        out.map(3);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"pending");
        out.int(c.pel.len() as i64);
        out.bulk(b"idle");
        out.int((now - c.seen_time).max(0));
    }
}

pub fn xinfo_help(ctx: &mut Ctx, _args: &[&[u8]]) {
    super::help_reply(
        ctx.out(),
        "XINFO",
        &[
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
        ],
    );
}
