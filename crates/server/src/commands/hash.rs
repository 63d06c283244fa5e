//! Hash commands: HSET/HMSET/HSETNX, HGET/HMGET, HDEL, HLEN, HEXISTS, HSTRLEN,
//! HINCRBY/HINCRBYFLOAT, HKEYS/HVALS/HGETALL, HRANDFIELD, HSCAN.
//!
//! The encoding thresholds (`hash-max-listpack-entries`/`-value`) are read from
//! config on every write and handed to the store. Also home of the SCAN-family
//! argument parsing shared with SSCAN.

use super::{err, int_arg, lookup_read, lookup_write, parse_int, wrong_arity, Ctx};
use crate::notify::class;
use crate::server::Server;
use shoal_resp::Reply;
use shoal_store::hash::{HashLimits, HashValue};
use shoal_store::Value;

fn limits(srv: &Server) -> HashLimits {
    HashLimits {
        max_entries: srv.config.hash_max_listpack_entries.min(usize::MAX as u64) as usize,
        max_value: srv.config.hash_max_listpack_value.min(usize::MAX as u64) as usize,
    }
}

/// Looks a hash up for reading. `Err` means WRONGTYPE was replied.
fn read_hash<'a>(srv: &'a mut Server, db: usize, key: &[u8], out: &mut Reply) -> Result<Option<&'a HashValue>, ()> {
    match lookup_read(srv, db, key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::Hash(h) => Ok(Some(h)),
            _ => {
                out.error(err::WRONGTYPE);
                Err(())
            }
        },
    }
}

/// Looks a hash up for writing. `Err` means WRONGTYPE was replied.
fn write_hash<'a>(
    srv: &'a mut Server,
    db: usize,
    key: &[u8],
    out: &mut Reply,
) -> Result<Option<&'a mut HashValue>, ()> {
    match lookup_write(srv, db, key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Hash(h) => Ok(Some(h)),
            _ => {
                out.error(err::WRONGTYPE);
                Err(())
            }
        },
    }
}

/// The hash at `key` for writing, created empty if missing (the caller must
/// leave it non-empty). `None` means WRONGTYPE was replied.
fn hash_or_create<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Option<&'a mut HashValue> {
    let db = ctx.client.db;
    match write_hash(ctx.srv, db, key, &mut ctx.client.out) {
        Err(()) => return None,
        Ok(Some(_)) => {}
        Ok(None) => {
            ctx.srv.keyspace.dbs[db].set(key, Value::Hash(Default::default()), false);
            ctx.notify(class::NEW, "new", key);
        }
    }
    match ctx.srv.keyspace.dbs[db].get_mut(key, i64::MIN) {
        Some(e) => match &mut e.value {
            Value::Hash(h) => Some(h),
            _ => unreachable!("checked above"),
        },
        None => unreachable!("created above"),
    }
}

/// Deletes `key` if its hash became empty (with its `del` event).
fn drop_if_empty(ctx: &mut Ctx, key: &[u8]) {
    let db = ctx.client.db;
    let empty = matches!(ctx.srv.keyspace.dbs[db].get_mut(key, i64::MIN), Some(e) if matches!(&e.value, Value::Hash(h) if h.is_empty()));
    if empty {
        ctx.srv.keyspace.dbs[db].remove(key);
        ctx.notify(class::GENERIC, "del", key);
    }
}

fn hset_generic(ctx: &mut Ctx, args: &[&[u8]], name: &str) -> bool {
    if args.len() & 1 == 1 {
        wrong_arity(ctx.out(), name);
        return false;
    }
    let lim = limits(ctx.srv);
    let Some(h) = hash_or_create(ctx, args[1]) else {
        return false;
    };
    let mut added = 0;
    for pair in args[2..].chunks(2) {
        added += h.insert(pair[0], pair[1], lim) as i64;
    }
    // Redis counts every field written, new or not.
    ctx.changed((args.len() as u64 - 2) / 2);
    if name == "hset" {
        ctx.out().int(added);
    } else {
        ctx.out().ok();
    }
    ctx.notify(class::HASH, "hset", args[1]);
    true
}

pub fn hset(ctx: &mut Ctx, args: &[&[u8]]) {
    hset_generic(ctx, args, "hset");
}

pub fn hmset(ctx: &mut Ctx, args: &[&[u8]]) {
    hset_generic(ctx, args, "hmset");
}

pub fn hsetnx(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    match write_hash(ctx.srv, db, args[1], &mut ctx.client.out) {
        Err(()) => return,
        Ok(Some(h)) if h.contains(args[2]) => {
            // Nothing changed: nothing to propagate (as Redis).
            ctx.propagate_nothing();
            ctx.changed(0);
            ctx.out().int(0);
            return;
        }
        _ => {}
    }
    let lim = limits(ctx.srv);
    if let Some(h) = hash_or_create(ctx, args[1]) {
        h.insert(args[2], args[3], lim);
        ctx.out().int(1);
        ctx.notify(class::HASH, "hset", args[1]);
    }
}

pub fn hget(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let out = &mut ctx.client.out;
    match read_hash(ctx.srv, db, args[1], out) {
        Err(()) => {}
        Ok(h) => match h.and_then(|h| h.get(args[2])) {
            Some(v) => out.bulk(v),
            None => out.null(),
        },
    }
}

pub fn hmget(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let out = &mut ctx.client.out;
    if let Ok(h) = read_hash(ctx.srv, db, args[1], out) {
        out.array(args.len() - 2);
        for f in &args[2..] {
            match h.and_then(|h| h.get(f)) {
                Some(v) => out.bulk(v),
                None => out.null(),
            }
        }
    }
}

pub fn hdel(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let deleted = match write_hash(ctx.srv, db, args[1], &mut ctx.client.out) {
        Err(()) => return,
        Ok(None) => 0,
        Ok(Some(h)) => {
            let mut n = 0;
            for f in &args[2..] {
                n += h.remove(f) as i64;
                if h.is_empty() {
                    break;
                }
            }
            n
        }
    };
    if deleted > 0 {
        ctx.notify(class::HASH, "hdel", args[1]);
        drop_if_empty(ctx, args[1]);
    } else {
        // Nothing changed: nothing to propagate (as Redis).
        ctx.propagate_nothing();
    }
    ctx.changed(deleted as u64);
    ctx.out().int(deleted);
}

pub fn hlen(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let out = &mut ctx.client.out;
    if let Ok(h) = read_hash(ctx.srv, db, args[1], out) {
        out.int(h.map_or(0, |h| h.len() as i64));
    }
}

pub fn hexists(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let out = &mut ctx.client.out;
    if let Ok(h) = read_hash(ctx.srv, db, args[1], out) {
        out.int(h.is_some_and(|h| h.contains(args[2])) as i64);
    }
}

pub fn hstrlen(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let out = &mut ctx.client.out;
    if let Ok(h) = read_hash(ctx.srv, db, args[1], out) {
        out.int(h.and_then(|h| h.get(args[2])).map_or(0, |v| v.len() as i64));
    }
}

pub fn hincrby(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(incr) = int_arg(ctx, args[3]) else {
        return;
    };
    let lim = limits(ctx.srv);
    let Some(h) = hash_or_create(ctx, args[1]) else {
        return;
    };
    let cur = match h.get(args[2]) {
        None => 0,
        Some(v) => match parse_int(v) {
            Some(n) => n,
            None => {
                let empty = h.is_empty();
                ctx.out().error("ERR hash value is not an integer");
                if empty {
                    drop_if_empty(ctx, args[1]);
                }
                return;
            }
        },
    };
    let Some(new) = cur.checked_add(incr) else {
        let empty = h.is_empty();
        ctx.out().error(err::OVERFLOW);
        if empty {
            drop_if_empty(ctx, args[1]);
        }
        return;
    };
    h.insert_keep_ttl(args[2], new.to_string().as_bytes(), lim);
    ctx.out().int(new);
    ctx.notify(class::HASH, "hincrby", args[1]);
}

pub fn hincrbyfloat(ctx: &mut Ctx, args: &[&[u8]]) {
    // The increment is validated before the key is looked at.
    if let Err(e) = shoal_util::num::hincr_by_float(None, args[3]) {
        ctx.out().error(e.message());
        return;
    }
    let lim = limits(ctx.srv);
    let Some(h) = hash_or_create(ctx, args[1]) else {
        return;
    };
    match shoal_util::num::hincr_by_float(h.get(args[2]), args[3]) {
        Ok(new) => {
            h.insert_keep_ttl(args[2], &new, lim);
            let ttl = h.field_expire(args[2]);
            // Redis propagates the result as HSET: float arithmetic and
            // formatting may differ between nodes.
            if ctx.propagating() {
                ctx.propagate(vec![b"HSET".to_vec(), args[1].to_vec(), args[2].to_vec(), new.clone()]);
                if let Some(at) = ttl {
                    ctx.propagate(super::hash_ttl::restore_ttl_effect(args[1], args[2], at));
                }
            }
            ctx.out().bulk(&new);
            ctx.notify(class::HASH, "hincrbyfloat", args[1]);
        }
        Err(e) => {
            ctx.out().error(e.message());
            drop_if_empty(ctx, args[1]);
        }
    }
}

fn getall_generic(ctx: &mut Ctx, key: &[u8], fields: bool, values: bool) {
    let db = ctx.client.db;
    let out = &mut ctx.client.out;
    let Ok(h) = read_hash(ctx.srv, db, key, out) else {
        return;
    };
    let n = h.map_or(0, |h| h.len());
    if fields && values {
        out.map(n);
    } else {
        out.array(n);
    }
    if let Some(h) = h {
        for (f, v) in h.iter() {
            if fields {
                out.bulk(f);
            }
            if values {
                out.bulk(v);
            }
        }
    }
}

pub fn hkeys(ctx: &mut Ctx, args: &[&[u8]]) {
    getall_generic(ctx, args[1], true, false);
}

pub fn hvals(ctx: &mut Ctx, args: &[&[u8]]) {
    getall_generic(ctx, args[1], false, true);
}

pub fn hgetall(ctx: &mut Ctx, args: &[&[u8]]) {
    getall_generic(ctx, args[1], true, true);
}

/// Parses a random-count argument as Redis does (`-LONG_MAX..=LONG_MAX`).
pub(crate) fn random_count(ctx: &mut Ctx, arg: &[u8]) -> Option<i64> {
    let n = int_arg(ctx, arg)?;
    if n == i64::MIN {
        ctx.out()
            .error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
        return None;
    }
    Some(n)
}

pub fn hrandfield(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    if args.len() == 2 {
        let out = &mut ctx.client.out;
        if let Ok((h, rng)) = read_hash_split(ctx.srv, db, args[1], out) {
            match h {
                None => out.null(),
                Some(h) => out.bulk(h.random(rng).0),
            }
        }
        return;
    }
    let Some(count) = random_count(ctx, args[2]) else {
        return;
    };
    let mut withvalues = false;
    if args.len() > 3 {
        if args.len() > 4 || !super::eq_ic(args[3], "withvalues") {
            ctx.out().error(err::SYNTAX);
            return;
        }
        // Redis doubles the count for the reply: out of range past half of i64.
        if !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
            ctx.out().error("ERR value is out of range");
            return;
        }
        withvalues = true;
    }
    let srv = &mut *ctx.srv;
    let out = &mut ctx.client.out;
    let Ok(h) = read_hash_split(srv, db, args[1], out) else {
        return;
    };
    let (h, rng) = h;
    let Some(h) = h else {
        out.array(0);
        return;
    };
    let resp3 = out.is_resp3();
    let emit = |out: &mut Reply, f: &[u8], v: &[u8]| {
        if withvalues && resp3 {
            out.array(2);
        }
        out.bulk(f);
        if withvalues {
            out.bulk(v);
        }
    };
    let n_out = |k: usize| if withvalues && !resp3 { k * 2 } else { k };
    if count < 0 {
        let k = count.unsigned_abs() as usize;
        out.array(n_out(k));
        for _ in 0..k {
            let (f, v) = h.random(rng);
            emit(out, f, v);
        }
        return;
    }
    let k = count as usize;
    if k >= h.len() {
        out.array(n_out(h.len()));
        for (f, v) in h.iter() {
            emit(out, f, v);
        }
        return;
    }
    let picked = h.random_distinct(rng, k);
    out.array(n_out(picked.len()));
    for (f, v) in picked {
        emit(out, f, v);
    }
}

/// Like [`read_hash`] but also hands out the server's RNG alongside the value.
#[allow(clippy::type_complexity)]
fn read_hash_split<'a>(
    srv: &'a mut Server,
    db: usize,
    key: &[u8],
    out: &mut Reply,
) -> Result<(Option<&'a HashValue>, &'a mut shoal_util::rand::FastRng), ()> {
    let found = match lookup_read(srv, db, key) {
        None => false,
        Some(e) => {
            if !matches!(e.value, Value::Hash(_)) {
                out.error(err::WRONGTYPE);
                return Err(());
            }
            true
        }
    };
    let Server { keyspace, rng, .. } = srv;
    if !found {
        return Ok((None, rng));
    }
    let h = match keyspace.dbs[db].peek(key, i64::MIN).map(|e| &e.value) {
        Some(Value::Hash(h)) => Some(h),
        _ => None,
    };
    Ok((h, rng))
}

// ---- SCAN family argument parsing (shared with SSCAN) ----

/// The SCAN cursor parser shared by SCAN, HSCAN, SSCAN and ZSCAN.
pub(crate) use super::keyspace::parse_cursor;

/// Parses `[MATCH pattern] [COUNT n]` from `args[i..]`; replies the error and
/// returns None when invalid.
pub(crate) fn scan_options<'a>(ctx: &mut Ctx, args: &[&'a [u8]], mut i: usize) -> Option<(Option<&'a [u8]>, usize)> {
    let mut pattern = None;
    let mut count = 10usize;
    while i < args.len() {
        if i + 1 >= args.len() {
            ctx.out().error(err::SYNTAX);
            return None;
        }
        if super::eq_ic(args[i], "count") {
            let n = int_arg(ctx, args[i + 1])?;
            if n < 1 {
                ctx.out().error(err::SYNTAX);
                return None;
            }
            count = n as usize;
        } else if super::eq_ic(args[i], "match") {
            pattern = Some(args[i + 1]).filter(|p| *p != b"*");
        } else {
            ctx.out().error(err::SYNTAX);
            return None;
        }
        i += 2;
    }
    Some((pattern, count))
}

pub(crate) fn scan_matches(pattern: Option<&[u8]>, s: &[u8]) -> bool {
    pattern.is_none_or(|p| shoal_util::glob::glob_match(p, s, false))
}

/// Writes `[cursor, [items...]]`.
pub(crate) fn scan_reply(out: &mut Reply, cursor: u64, items: &[&[u8]]) {
    out.array(2);
    out.bulk(cursor.to_string().as_bytes());
    out.array(items.len());
    for i in items {
        out.bulk(i);
    }
}

pub fn hscan(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(cursor) = parse_cursor(args[2]) else {
        ctx.out().error("ERR invalid cursor");
        return;
    };
    let db = ctx.client.db;
    match read_hash(ctx.srv, db, args[1], &mut ctx.client.out) {
        Err(()) => return,
        Ok(None) => {
            scan_reply(ctx.out(), 0, &[]);
            return;
        }
        Ok(Some(_)) => {}
    }
    let Some((pattern, count)) = scan_options(ctx, args, 3) else {
        return;
    };
    let out = &mut ctx.client.out;
    let Some(Value::Hash(h)) = ctx.srv.keyspace.dbs[db].peek(args[1], i64::MIN).map(|e| &e.value) else {
        return;
    };
    let mut items: Vec<&[u8]> = Vec::new();
    let next = h.scan(cursor, count, |f, v| {
        if scan_matches(pattern, f) {
            items.push(f);
            items.push(v);
        }
    });
    scan_reply(out, next, &items);
}
