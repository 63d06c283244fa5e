//! Generic key commands: DEL, UNLINK, EXISTS, TYPE, RENAME, COPY, KEYS, SCAN,
//! RANDOMKEY, DBSIZE, FLUSHDB, FLUSHALL, the EXPIRE family, TTL, PERSIST, TOUCH,
//! OBJECT, SELECT, SWAPDB, MOVE.

use super::{dispose, eq_ic, err, help_reply, int_arg, lookup_read, lookup_write, parse_int, Ctx};
use crate::notify::class;
use shoal_store::db::FLAG_RAW;
use shoal_store::entry::FLAG_UNSHARED;
use shoal_store::NO_EXPIRE;

fn delete_keys(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let mut removed = 0;
    for key in &args[1..] {
        if lookup_write(ctx.srv, db, key).is_some() {
            if let Some(e) = ctx.srv.keyspace.dbs[db].remove(key) {
                removed += 1;
                if e.value.is_big() {
                    ctx.srv.lazyfree.free(e);
                }
                ctx.notify(class::GENERIC, "del", key);
            }
        }
    }
    if removed == 0 {
        // Nothing deleted: nothing to propagate (as Redis).
        ctx.propagate_nothing();
    }
    ctx.changed(removed as u64);
    ctx.out().int(removed);
}

pub fn del(ctx: &mut Ctx, args: &[&[u8]]) {
    delete_keys(ctx, args)
}

/// UNLINK: like DEL; big values are always freed off the engine thread.
pub fn unlink(ctx: &mut Ctx, args: &[&[u8]]) {
    delete_keys(ctx, args)
}

pub fn exists(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let n = args[1..]
        .iter()
        .filter(|k| lookup_read(ctx.srv, db, k).is_some())
        .count();
    ctx.out().int(n as i64);
}

pub fn type_(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let name = lookup_read(ctx.srv, db, args[1]).map_or("none", |e| e.value.type_name());
    ctx.out().simple(name);
}

fn rename_generic(ctx: &mut Ctx, args: &[&[u8]], nx: bool) {
    let db = ctx.client.db;
    let (src, dst) = (args[1], args[2]);
    if lookup_write(ctx.srv, db, src).is_none() {
        ctx.out().error(err::NO_KEY);
        return;
    }
    // Renaming onto itself, or RENAMENX onto a key, changes nothing:
    // nothing to propagate (as Redis).
    if src == dst {
        ctx.propagate_nothing();
        if nx {
            ctx.out().int(0);
        } else {
            ctx.out().ok();
        }
        return;
    }
    if nx && lookup_write(ctx.srv, db, dst).is_some() {
        ctx.propagate_nothing();
        ctx.out().int(0);
        return;
    }
    let d = &mut ctx.srv.keyspace.dbs[db];
    let entry = d.remove(src).expect("checked above");
    let expire = entry.expire_at();
    let flags = entry.flags;
    if let Some(old) = d.remove(dst) {
        if old.value.is_big() {
            ctx.srv.lazyfree.free(old);
        }
    }
    let value = entry.into_value();
    let d = &mut ctx.srv.keyspace.dbs[db];
    d.insert_entry(dst, value, expire);
    if let Some(e) = d.get_mut(dst, i64::MIN) {
        e.flags = flags;
    }
    ctx.notify(class::NEW, "new", dst);
    ctx.notify(class::GENERIC, "rename_from", src);
    ctx.notify(class::GENERIC, "rename_to", dst);
    if nx {
        ctx.out().int(1);
    } else {
        ctx.out().ok();
    }
}

pub fn rename(ctx: &mut Ctx, args: &[&[u8]]) {
    rename_generic(ctx, args, false)
}

pub fn renamenx(ctx: &mut Ctx, args: &[&[u8]]) {
    rename_generic(ctx, args, true)
}

/// Parses a database index argument the way SELECT/MOVE/COPY do.
fn db_index(ctx: &mut Ctx, arg: &[u8]) -> Option<usize> {
    let n = int_arg(ctx, arg)?;
    if n < 0 || n >= ctx.srv.keyspace.dbs.len() as i64 {
        ctx.out().error(err::DB_INDEX);
        return None;
    }
    Some(n as usize)
}

pub fn copy(ctx: &mut Ctx, args: &[&[u8]]) {
    let src_db = ctx.client.db;
    let mut dst_db = src_db;
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        if eq_ic(args[i], "replace") {
            replace = true;
        } else if eq_ic(args[i], "db") && i + 1 < args.len() {
            let Some(n) = db_index(ctx, args[i + 1]) else {
                return;
            };
            dst_db = n;
            i += 1;
        } else {
            ctx.out().error(err::SYNTAX);
            return;
        }
        i += 1;
    }
    let (src, dst) = (args[1], args[2]);
    if src_db == dst_db && src == dst {
        ctx.out().error("ERR source and destination objects are the same");
        return;
    }
    // Copying nothing changes nothing: nothing to propagate (as Redis).
    let Some(e) = lookup_write(ctx.srv, src_db, src) else {
        ctx.propagate_nothing();
        ctx.out().int(0);
        return;
    };
    let (value, expire, mut flags) = (e.value.clone(), e.expire_at(), e.flags);
    if matches!(value, shoal_store::Value::Int(_)) {
        // Redis's dupStringObject makes a new integer object, never a shared one.
        flags |= FLAG_UNSHARED;
    }
    if lookup_write(ctx.srv, dst_db, dst).is_some() {
        if !replace {
            ctx.propagate_nothing();
            ctx.out().int(0);
            return;
        }
        if let Some(old) = ctx.srv.keyspace.dbs[dst_db].remove(dst) {
            dispose(ctx.srv, old.into_value());
        }
    }
    let d = &mut ctx.srv.keyspace.dbs[dst_db];
    d.insert_entry(dst, value, expire);
    if let Some(e) = d.get_mut(dst, i64::MIN) {
        e.flags = flags;
    }
    crate::notify::notify(ctx.srv, Some(ctx.client), class::NEW, "new", dst_db, dst);
    crate::notify::notify(ctx.srv, Some(ctx.client), class::GENERIC, "copy_to", dst_db, dst);
    ctx.out().int(1);
}

pub fn keys(ctx: &mut Ctx, args: &[&[u8]]) {
    let now = ctx.now();
    let keys = ctx.db().keys(args[1], now);
    let out = ctx.out();
    out.array(keys.len());
    for k in keys {
        out.bulk(&k);
    }
}

pub fn scan(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(cursor) = parse_cursor(args[1]) else {
        ctx.out().error("ERR invalid cursor");
        return;
    };
    let mut pattern: Option<&[u8]> = None;
    let mut count = 10usize;
    let mut type_filter: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        if i + 1 >= args.len() {
            ctx.out().error(err::SYNTAX);
            return;
        }
        let val = args[i + 1];
        if eq_ic(args[i], "count") {
            let Some(n) = int_arg(ctx, val) else {
                return;
            };
            if n < 1 {
                ctx.out().error(err::SYNTAX);
                return;
            }
            count = n as usize;
        } else if eq_ic(args[i], "match") {
            pattern = Some(val);
        } else if eq_ic(args[i], "type") {
            type_filter = Some(val);
        } else {
            ctx.out().error(err::SYNTAX);
            return;
        }
        i += 2;
    }
    let now = ctx.now();
    let mut expired = Vec::new();
    let page = ctx.db().scan(cursor, count, now, &mut expired, |e| {
        pattern.is_none_or(|p| p == b"*" || shoal_util::glob::glob_match(p, e.key(), false))
            && type_filter.is_none_or(|t| t.eq_ignore_ascii_case(e.value.type_name().as_bytes()))
    });
    for key in expired {
        // Reading an expired key through the lookup path deletes and counts it.
        let db = ctx.client.db;
        lookup_write(ctx.srv, db, &key);
    }
    let out = ctx.out();
    out.array(2);
    out.bulk(page.next_cursor.to_string().as_bytes());
    out.array(page.keys.len());
    for k in &page.keys {
        out.bulk(k);
    }
}

/// Parses a SCAN cursor the way Redis does with C `strtoul` on a C string: it
/// stops at a NUL byte, an empty string is 0, an optional sign is accepted and
/// a negative value wraps; trailing bytes, spaces and overflow are refused.
pub fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let s = crate::dispatch::until_nul(arg);
    if s.is_empty() {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add((d - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

pub fn randomkey(ctx: &mut Ctx, _args: &[&[u8]]) {
    let now = ctx.now();
    let db = ctx.client.db;
    // As Redis: an expired key picked is deleted (lazy expiry, with its
    // `expired` event) and another one picked.
    for _ in 0..100 {
        let srv = &mut *ctx.srv;
        let Some(k) = srv.keyspace.dbs[db].random_key(&mut srv.rng, i64::MIN) else {
            break;
        };
        if srv.keyspace.dbs[db].peek(&k, now).is_some() {
            ctx.client.out.bulk(&k);
            return;
        }
        if lookup_write(ctx.srv, db, &k).is_some() {
            break;
        }
    }
    let srv = &mut *ctx.srv;
    match srv.keyspace.dbs[db].random_key(&mut srv.rng, now) {
        Some(k) => ctx.client.out.bulk(&k),
        None => ctx.client.out.null(),
    }
}

pub fn dbsize(ctx: &mut Ctx, _args: &[&[u8]]) {
    let n = ctx.db().len();
    ctx.out().int(n as i64);
}

/// Whether FLUSHDB/FLUSHALL's arguments are valid: none, or ASYNC or SYNC.
pub(crate) fn flush_args_valid(args: &[&[u8]]) -> bool {
    match args.len() {
        1 => true,
        2 => eq_ic(args[1], "async") || eq_ic(args[1], "sync"),
        _ => false,
    }
}

/// Checks the optional ASYNC|SYNC argument of FLUSHDB/FLUSHALL, answering
/// the syntax error when it is wrong.
fn flush_mode_ok(ctx: &mut Ctx, args: &[&[u8]]) -> bool {
    let valid = flush_args_valid(args);
    if !valid {
        ctx.out().error(err::SYNTAX);
    }
    valid
}

/// Both modes free the old keys on the lazyfree thread: the reply does not wait
/// for memory to be returned, and the engine never stalls on a big flush.
pub fn flushdb(ctx: &mut Ctx, args: &[&[u8]]) {
    if !flush_mode_ok(ctx, args) {
        return;
    }
    let removed = ctx.db().len();
    let old = ctx.db().take_all();
    let db = ctx.client.db;
    crate::snapshot::dispose_flushed(ctx.srv, db, old);
    ctx.changed(removed as u64);
    ctx.out().ok();
}

pub fn flushall(ctx: &mut Ctx, args: &[&[u8]]) {
    if !flush_mode_ok(ctx, args) {
        return;
    }
    let removed = ctx.srv.keyspace.total_keys();
    let old = ctx.srv.keyspace.take_all();
    for (db, old) in old.into_iter().enumerate() {
        crate::snapshot::dispose_flushed(ctx.srv, db, old);
    }
    ctx.changed(removed as u64);
    // As Redis: with save points configured, the now empty data set is saved
    // right away (the dirty counter restarts at 0).
    if !ctx.srv.config.save.is_empty() && super::persistence::save_now(ctx.srv) {
        ctx.changed(0);
    }
    ctx.out().ok();
}

/// An integer as a command argument (for effects).
pub(crate) fn int_bytes(n: i64) -> Vec<u8> {
    n.to_string().into_bytes()
}

/// Whether an absolute expiry time means the key must be deleted now (Redis's
/// `checkAlreadyExpired`). A replica never decides that by itself: it keeps
/// the key with its TTL and waits for its master's DEL.
pub(crate) fn already_expired(ctx: &Ctx, at: i64) -> bool {
    at <= ctx.now() && !ctx.client.master && ctx.srv.repl.master.is_none()
}

/// Declares the deletion of `key` as the command's effect: DEL, or UNLINK
/// when `lazy` (the lazyfree setting that governs this kind of deletion).
pub(crate) fn propagate_del(ctx: &mut Ctx, key: &[u8], lazy: bool) {
    if ctx.propagating() {
        let name: &[u8] = if lazy { b"UNLINK" } else { b"DEL" };
        ctx.propagate(vec![name.to_vec(), key.to_vec()]);
    }
}

/// Shared by EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT.
///
/// Effects as Redis: the key deleted by a time already past propagates as
/// DEL (UNLINK with `lazyfree-lazy-expire`); a TTL set propagates as
/// `PEXPIREAT key <absolute ms> [options]` (PEXPIREAT itself as given); a TTL
/// not set (missing key, NX/XX/GT/LT not met) propagates nothing.
fn expire_generic(ctx: &mut Ctx, args: &[&[u8]], unit_ms: bool, absolute: bool, name: &str) {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in args[3..].iter().map(|o| crate::dispatch::until_nul(o)) {
        if eq_ic(opt, "nx") {
            nx = true;
        } else if eq_ic(opt, "xx") {
            xx = true;
        } else if eq_ic(opt, "gt") {
            gt = true;
        } else if eq_ic(opt, "lt") {
            lt = true;
        } else {
            ctx.out()
                .error(&format!("ERR Unsupported option {}", String::from_utf8_lossy(opt)));
            return;
        }
    }
    if nx && (xx || gt || lt) {
        ctx.out()
            .error("ERR NX and XX, GT or LT options at the same time are not compatible");
        return;
    }
    if gt && lt {
        ctx.out()
            .error("ERR GT and LT options at the same time are not compatible");
        return;
    }
    // Redis checks the options before the time.
    let Some(when) = int_arg(ctx, args[2]) else {
        return;
    };
    let invalid = |ctx: &mut Ctx| ctx.out().error(&format!("ERR invalid expire time in '{name}' command"));
    let Some(ms) = (if unit_ms { Some(when) } else { when.checked_mul(1000) }) else {
        invalid(ctx);
        return;
    };
    let at = if absolute { Some(ms) } else { ms.checked_add(ctx.now()) };
    let Some(at) = at else {
        invalid(ctx);
        return;
    };
    let db = ctx.client.db;
    let Some(e) = lookup_write(ctx.srv, db, args[1]) else {
        ctx.propagate_nothing();
        ctx.changed(0);
        ctx.out().int(0);
        return;
    };
    let current = e.expire_at();
    let has_ttl = current != NO_EXPIRE;
    let allowed = if nx {
        !has_ttl
    } else if xx && !has_ttl {
        false
    } else if gt {
        has_ttl && at > current
    } else if lt {
        !has_ttl || at < current
    } else {
        true
    };
    if !allowed {
        ctx.propagate_nothing();
        ctx.changed(0);
        ctx.out().int(0);
        return;
    }
    if already_expired(ctx, at) {
        // Already in the past: the key is deleted now.
        if let Some(old) = ctx.db().remove(args[1]) {
            dispose(ctx.srv, old.into_value());
        }
        let lazy = ctx.srv.config.lazyfree_lazy_expire;
        propagate_del(ctx, args[1], lazy);
        ctx.notify(class::GENERIC, "del", args[1]);
        ctx.out().int(1);
    } else {
        ctx.db().set_expire(args[1], at);
        if ctx.propagating() && !(unit_ms && absolute) {
            let mut argv: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
            argv[0] = b"PEXPIREAT".to_vec();
            argv[2] = int_bytes(at);
            ctx.propagate(argv);
        }
        // Redis replies before this event.
        ctx.out().int(1);
        ctx.notify(class::GENERIC, "expire", args[1]);
    }
}

pub fn expire(ctx: &mut Ctx, args: &[&[u8]]) {
    expire_generic(ctx, args, false, false, "expire")
}
pub fn pexpire(ctx: &mut Ctx, args: &[&[u8]]) {
    expire_generic(ctx, args, true, false, "pexpire")
}
pub fn expireat(ctx: &mut Ctx, args: &[&[u8]]) {
    expire_generic(ctx, args, false, true, "expireat")
}
pub fn pexpireat(ctx: &mut Ctx, args: &[&[u8]]) {
    expire_generic(ctx, args, true, true, "pexpireat")
}

/// TTL family: -2 missing key, -1 no expiry, else `f(expire_at, now)`.
fn ttl_generic(ctx: &mut Ctx, key: &[u8], f: impl Fn(i64, i64) -> i64) {
    let db = ctx.client.db;
    let now = ctx.now();
    let reply = match lookup_read(ctx.srv, db, key) {
        None => -2,
        Some(e) if !e.has_expire() => -1,
        Some(e) => f(e.expire_at(), now),
    };
    ctx.out().int(reply);
}

pub fn ttl(ctx: &mut Ctx, args: &[&[u8]]) {
    ttl_generic(ctx, args[1], |at, now| ((at - now).max(0) + 500) / 1000)
}
pub fn pttl(ctx: &mut Ctx, args: &[&[u8]]) {
    ttl_generic(ctx, args[1], |at, now| (at - now).max(0))
}
pub fn expiretime(ctx: &mut Ctx, args: &[&[u8]]) {
    ttl_generic(ctx, args[1], |at, _| at / 1000)
}
pub fn pexpiretime(ctx: &mut Ctx, args: &[&[u8]]) {
    ttl_generic(ctx, args[1], |at, _| at)
}

pub fn persist(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let had = lookup_write(ctx.srv, db, args[1]).is_some_and(|e| e.has_expire());
    if had {
        ctx.db().set_expire(args[1], NO_EXPIRE);
        ctx.notify(class::GENERIC, "persist", args[1]);
    } else {
        ctx.propagate_nothing();
    }
    ctx.changed(had as u64);
    ctx.out().int(had as i64);
}

pub fn touch(ctx: &mut Ctx, args: &[&[u8]]) {
    exists(ctx, args)
}

/// OBJECT subcommands look the key up without touching its access time.
/// (An expired key is deleted by this lookup, as Redis's lazy expiry does.)
fn object_entry<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Option<&'a shoal_store::Entry> {
    let now = ctx.now();
    let db = ctx.client.db;
    super::hash_ttl::purge_key(ctx.srv, db, key);
    let expired = match ctx.srv.keyspace.dbs[db].lookup(key, now) {
        shoal_store::db::Lookup::Found(_) => false,
        shoal_store::db::Lookup::Expired => true,
        shoal_store::db::Lookup::Missing => return None,
    };
    if expired {
        let srv = &mut *ctx.srv;
        srv.stats.expired_keys += 1;
        if srv.aof.is_some() || srv.repl.has_stream() {
            srv.propagator.record_deletion(db, key, srv.config.lazyfree_lazy_expire);
        }
        ctx.notify(class::EXPIRED, "expired", key);
        return None;
    }
    ctx.srv.keyspace.dbs[db].peek(key, now)
}

fn lfu_policy(ctx: &Ctx) -> bool {
    ctx.srv.config.maxmemory_policy.name().contains("lfu")
}

pub fn object_encoding(ctx: &mut Ctx, args: &[&[u8]]) {
    let enc = object_entry(ctx, args[2]).map(|e| e.value.encoding_name(e.flags & FLAG_RAW != 0));
    match enc {
        Some(name) => ctx.out().bulk(name.as_bytes()),
        None => ctx.out().null(),
    }
}

pub fn object_freq(ctx: &mut Ctx, args: &[&[u8]]) {
    if object_entry(ctx, args[2]).is_none() {
        ctx.out().null();
        return;
    }
    if !lfu_policy(ctx) {
        ctx.out().error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
        return;
    }
    let stamp = object_entry(ctx, args[2]).map_or(0, |e| e.lru);
    let freq = crate::evict::lfu_decayed(stamp, ctx.now(), ctx.srv.config.lfu_decay_time);
    ctx.out().int(freq as i64);
}

pub fn object_idletime(ctx: &mut Ctx, args: &[&[u8]]) {
    let clock = ctx.srv.lru_clock;
    let Some(lru) = object_entry(ctx, args[2]).map(|e| e.lru) else {
        ctx.out().null();
        return;
    };
    if lfu_policy(ctx) {
        ctx.out().error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
        return;
    }
    ctx.out().int(clock.saturating_sub(lru) as i64);
}

pub fn object_refcount(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(shared) = object_entry(ctx, args[2]).map(|e| {
        // Redis shares the integer objects 0..9999 (unless COPY made one of
        // its own); their refcount reads as INT_MAX.
        matches!(e.value, shoal_store::Value::Int(n) if (0..10000).contains(&n)) && e.flags & FLAG_UNSHARED == 0
    }) else {
        ctx.out().null();
        return;
    };
    ctx.out().int(if shared { i32::MAX as i64 } else { 1 });
}

pub fn object_help(ctx: &mut Ctx, _args: &[&[u8]]) {
    help_reply(
        ctx.out(),
        "OBJECT",
        &[
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ],
    );
}

pub fn select(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(n) = db_index(ctx, args[1]) else {
        return;
    };
    ctx.client.db = n;
    ctx.out().ok();
}

pub fn swapdb(ctx: &mut Ctx, args: &[&[u8]]) {
    let count = ctx.srv.keyspace.dbs.len() as i64;
    let Some(a) = parse_int(args[1]) else {
        ctx.out().error("ERR invalid first DB index");
        return;
    };
    let Some(b) = parse_int(args[2]) else {
        ctx.out().error("ERR invalid second DB index");
        return;
    };
    if a < 0 || a >= count || b < 0 || b >= count {
        ctx.out().error(err::DB_INDEX);
        return;
    }
    crate::snapshot::on_swapdb(ctx.srv, a as usize, b as usize);
    ctx.srv.keyspace.swap(a as usize, b as usize);
    ctx.out().ok();
}

pub fn move_(ctx: &mut Ctx, args: &[&[u8]]) {
    let src_db = ctx.client.db;
    let Some(n) = int_arg(ctx, args[2]) else {
        return;
    };
    if n < 0 || n >= ctx.srv.keyspace.dbs.len() as i64 {
        ctx.out().error(err::DB_INDEX);
        return;
    }
    let dst_db = n as usize;
    if dst_db == src_db {
        ctx.out().error("ERR source and destination objects are the same");
        return;
    }
    if lookup_write(ctx.srv, src_db, args[1]).is_none() || lookup_write(ctx.srv, dst_db, args[1]).is_some() {
        // Nothing moved: nothing to propagate (as Redis).
        ctx.propagate_nothing();
        ctx.out().int(0);
        return;
    }
    let entry = ctx.srv.keyspace.dbs[src_db].remove(args[1]).expect("checked above");
    let (expire, flags) = (entry.expire_at(), entry.flags);
    let d = &mut ctx.srv.keyspace.dbs[dst_db];
    d.insert_entry(args[1], entry.into_value(), expire);
    if let Some(e) = d.get_mut(args[1], i64::MIN) {
        e.flags = flags;
    }
    let srv = &mut *ctx.srv;
    crate::notify::notify(srv, Some(&mut *ctx.client), class::NEW, "new", dst_db, args[1]);
    crate::notify::notify(
        srv,
        Some(&mut *ctx.client),
        class::GENERIC,
        "move_from",
        src_db,
        args[1],
    );
    crate::notify::notify(srv, Some(&mut *ctx.client), class::GENERIC, "move_to", dst_db, args[1]);
    ctx.out().int(1);
}
