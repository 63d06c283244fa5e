//! Set commands: SADD, SREM, SCARD, SISMEMBER/SMISMEMBER, SMEMBERS, SPOP,
//! SRANDMEMBER, SMOVE, SINTER/SUNION/SDIFF and their STORE forms, SINTERCARD,
//! SSCAN.
//!
//! The encoding thresholds (`set-max-intset-entries`, `set-max-listpack-*`) are
//! read from config on every write and handed to the store.

use super::hash::{parse_cursor, random_count, scan_matches, scan_options, scan_reply};
use super::{dispose, err, lookup_read, lookup_write, parse_int, Ctx};
use crate::notify::class;
use crate::server::Server;
use shoal_resp::Reply;
use shoal_store::set::{SetLimits, SetValue};
use shoal_store::Value;

fn limits(srv: &Server) -> SetLimits {
    let c = &srv.config;
    let cap = |v: u64| v.min(usize::MAX as u64) as usize;
    SetLimits {
        max_intset: cap(c.set_max_intset_entries),
        max_listpack: cap(c.set_max_listpack_entries),
        max_value: cap(c.set_max_listpack_value),
    }
}

/// Checks the type of the set at `key` (looked up for reading). `Err` means
/// WRONGTYPE was replied; `Ok(false)` the key is missing.
fn check_read(srv: &mut Server, db: usize, key: &[u8], out: &mut Reply) -> Result<bool, ()> {
    match lookup_read(srv, db, key) {
        None => Ok(false),
        Some(e) if matches!(e.value, Value::Set(_)) => Ok(true),
        Some(_) => {
            out.error(err::WRONGTYPE);
            Err(())
        }
    }
}

/// Like [`check_read`] without counting hits and misses.
fn check_write(srv: &mut Server, db: usize, key: &[u8], out: &mut Reply) -> Result<bool, ()> {
    match lookup_write(srv, db, key) {
        None => Ok(false),
        Some(e) if matches!(e.value, Value::Set(_)) => Ok(true),
        Some(_) => {
            out.error(err::WRONGTYPE);
            Err(())
        }
    }
}

/// The set at `key`, already checked to exist.
fn peek_set<'a>(srv: &'a Server, db: usize, key: &[u8]) -> Option<&'a SetValue> {
    match srv.keyspace.dbs[db].peek(key, i64::MIN).map(|e| &e.value) {
        Some(Value::Set(s)) => Some(s),
        _ => None,
    }
}

fn peek_set_mut<'a>(srv: &'a mut Server, db: usize, key: &[u8]) -> Option<&'a mut SetValue> {
    match srv.keyspace.dbs[db].get_mut(key, i64::MIN).map(|e| &mut e.value) {
        Some(Value::Set(s)) => Some(s),
        _ => None,
    }
}

/// Deletes `key` if its set became empty (with its `del` event).
fn drop_if_empty(ctx: &mut Ctx, key: &[u8]) {
    let db = ctx.client.db;
    if peek_set(ctx.srv, db, key).is_some_and(|s| s.is_empty()) {
        ctx.srv.keyspace.dbs[db].remove(key);
        ctx.notify(class::GENERIC, "del", key);
    }
}

pub fn sadd(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let Ok(exists) = check_write(ctx.srv, db, args[1], &mut ctx.client.out) else {
        return;
    };
    if !exists {
        ctx.srv.keyspace.dbs[db].set(args[1], Value::Set(Default::default()), false);
        ctx.notify(class::NEW, "new", args[1]);
    }
    let lim = limits(ctx.srv);
    let s = peek_set_mut(ctx.srv, db, args[1]).expect("set exists");
    let mut added = 0;
    for m in &args[2..] {
        added += s.add(m, lim) as i64;
    }
    if added == 0 {
        // Nothing changed: nothing to propagate (as Redis).
        ctx.propagate_nothing();
    } else {
        ctx.notify(class::SET, "sadd", args[1]);
    }
    ctx.changed(added as u64);
    ctx.out().int(added);
}

pub fn srem(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let Ok(exists) = check_write(ctx.srv, db, args[1], &mut ctx.client.out) else {
        return;
    };
    let mut removed = 0;
    if exists {
        let s = peek_set_mut(ctx.srv, db, args[1]).expect("set exists");
        for m in &args[2..] {
            removed += s.remove(m) as i64;
            if s.is_empty() {
                break;
            }
        }
        if removed > 0 {
            ctx.notify(class::SET, "srem", args[1]);
        }
        drop_if_empty(ctx, args[1]);
    }
    if removed == 0 {
        // Nothing changed: nothing to propagate (as Redis).
        ctx.propagate_nothing();
    }
    ctx.changed(removed as u64);
    ctx.out().int(removed);
}

pub fn scard(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    if let Ok(exists) = check_read(ctx.srv, db, args[1], &mut ctx.client.out) {
        let n = if exists {
            peek_set(ctx.srv, db, args[1]).map_or(0, |s| s.len())
        } else {
            0
        };
        ctx.out().int(n as i64);
    }
}

pub fn sismember(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    if let Ok(exists) = check_read(ctx.srv, db, args[1], &mut ctx.client.out) {
        let hit = exists && peek_set(ctx.srv, db, args[1]).is_some_and(|s| s.contains(args[2]));
        ctx.out().int(hit as i64);
    }
}

pub fn smismember(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let Ok(exists) = check_read(ctx.srv, db, args[1], &mut ctx.client.out) else {
        return;
    };
    let s = if exists { peek_set(ctx.srv, db, args[1]) } else { None };
    let out = &mut ctx.client.out;
    out.array(args.len() - 2);
    for m in &args[2..] {
        out.int(s.is_some_and(|s| s.contains(m)) as i64);
    }
}

fn reply_members(out: &mut Reply, s: Option<&SetValue>) {
    match s {
        None => out.set(0),
        Some(s) => {
            out.set(s.len());
            for m in s.iter() {
                out.bulk(&m);
            }
        }
    }
}

pub fn smembers(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let Ok(exists) = check_read(ctx.srv, db, args[1], &mut ctx.client.out) else {
        return;
    };
    let s = if exists { peek_set(ctx.srv, db, args[1]) } else { None };
    reply_members(&mut ctx.client.out, s);
}

pub fn spop(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let key = args[1];
    if args.len() > 3 {
        ctx.out().error(err::SYNTAX);
        return;
    }
    let count = if args.len() == 3 {
        match parse_int(args[2]) {
            Some(n) if n >= 0 => Some(n as u64),
            _ => {
                ctx.out().error("ERR value is out of range, must be positive");
                return;
            }
        }
    } else {
        None
    };
    let Ok(exists) = check_write(ctx.srv, db, key, &mut ctx.client.out) else {
        return;
    };
    if !exists || count == Some(0) {
        match count {
            None => ctx.out().null(),
            Some(_) => ctx.out().set(0),
        }
        ctx.propagate_nothing();
        return;
    }
    // Effects as Redis: the popped members as `SREM key member`, one per
    // member; popping the whole set is `DEL key` (always DEL in Redis 7.0).
    ctx.notify(class::SET, "spop", key);
    let propagating = ctx.propagating();
    let mut effects: Vec<Vec<Vec<u8>>> = Vec::new();
    let srem = |m: &[u8]| vec![b"SREM".to_vec(), key.to_vec(), m.to_vec()];
    let Server { keyspace, rng, .. } = &mut *ctx.srv;
    let Some(Value::Set(s)) = keyspace.dbs[db].get_mut(key, i64::MIN).map(|e| &mut e.value) else {
        return;
    };
    let out = &mut ctx.client.out;
    match count {
        None => {
            let m = s.pop_random(rng);
            out.bulk(&m);
            if propagating {
                effects.push(srem(&m));
            }
        }
        Some(n) if n as usize >= s.len() => {
            reply_members(out, Some(s));
            if let Some(old) = keyspace.dbs[db].remove(key) {
                dispose(ctx.srv, old.into_value());
            }
            super::keyspace::propagate_del(ctx, key, false);
            ctx.notify(class::GENERIC, "del", key);
            return;
        }
        Some(n) => {
            let picked = s.random_distinct(rng, n as usize);
            out.set(picked.len());
            for m in &picked {
                s.remove(m);
                out.bulk(m);
            }
            if propagating {
                effects.extend(picked.iter().map(|m| srem(m)));
            }
        }
    }
    drop_if_empty(ctx, key);
    for argv in effects {
        ctx.propagate(argv);
    }
}

pub fn srandmember(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let key = args[1];
    if args.len() > 3 {
        ctx.out().error(err::SYNTAX);
        return;
    }
    let count = if args.len() == 3 {
        match random_count(ctx, args[2]) {
            Some(n) => Some(n),
            None => return,
        }
    } else {
        None
    };
    let Ok(exists) = check_read(ctx.srv, db, key, &mut ctx.client.out) else {
        return;
    };
    let out = &mut ctx.client.out;
    if !exists {
        match count {
            None => out.null(),
            Some(_) => out.array(0),
        }
        return;
    }
    let Server { keyspace, rng, .. } = &mut *ctx.srv;
    let Some(Value::Set(s)) = keyspace.dbs[db].peek(key, i64::MIN).map(|e| &e.value) else {
        return;
    };
    match count {
        None => out.bulk(&s.random(rng)),
        Some(n) if n < 0 => {
            let k = n.unsigned_abs() as usize;
            out.array(k);
            for _ in 0..k {
                out.bulk(&s.random(rng));
            }
        }
        Some(n) if n as usize >= s.len() => {
            out.array(s.len());
            for m in s.iter() {
                out.bulk(&m);
            }
        }
        Some(n) => {
            let picked = s.random_distinct(rng, n as usize);
            out.array(picked.len());
            for m in &picked {
                out.bulk(m);
            }
        }
    }
}

pub fn smove(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let (src, dst, m) = (args[1], args[2], args[3]);
    // As Redis's smoveCommand: both keys are looked up (and so lazily
    // expired) before anything is checked; a missing source then replies 0
    // whatever the destination holds, and only then are the types checked.
    let src_type = lookup_write(ctx.srv, db, src).map(|e| matches!(e.value, Value::Set(_)));
    let dst_type = lookup_write(ctx.srv, db, dst).map(|e| matches!(e.value, Value::Set(_)));
    let Some(src_is_set) = src_type else {
        ctx.propagate_nothing();
        ctx.out().int(0);
        return;
    };
    if !src_is_set || dst_type == Some(false) {
        ctx.out().error(err::WRONGTYPE);
        return;
    }
    let dst_exists = dst_type.is_some();
    // Moving nothing (or onto itself) changes nothing: nothing to propagate.
    if src == dst {
        let hit = peek_set(ctx.srv, db, src).is_some_and(|s| s.contains(m));
        ctx.propagate_nothing();
        ctx.out().int(hit as i64);
        return;
    }
    if !peek_set_mut(ctx.srv, db, src).is_some_and(|s| s.remove(m)) {
        ctx.propagate_nothing();
        ctx.out().int(0);
        return;
    }
    ctx.notify(class::SET, "srem", src);
    drop_if_empty(ctx, src);
    if !dst_exists {
        ctx.srv.keyspace.dbs[db].set(dst, Value::Set(Default::default()), false);
        ctx.notify(class::NEW, "new", dst);
    }
    let lim = limits(ctx.srv);
    if peek_set_mut(ctx.srv, db, dst).is_some_and(|d| d.add(m, lim)) {
        ctx.notify(class::SET, "sadd", dst);
    }
    ctx.out().int(1);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Inter,
    Union,
    Diff,
}

/// Type-checks every key (WRONGTYPE is replied and None returned on the first
/// non-set) and returns which exist.
fn check_all(ctx: &mut Ctx, keys: &[&[u8]]) -> Option<Vec<bool>> {
    let db = ctx.client.db;
    let mut exists = Vec::with_capacity(keys.len());
    for k in keys {
        exists.push(check_read(ctx.srv, db, k, &mut ctx.client.out).ok()?);
    }
    Some(exists)
}

/// Computes an intersection, union or difference as a new set.
fn combine(srv: &Server, db: usize, keys: &[&[u8]], exists: &[bool], op: Op, lim: SetLimits) -> SetValue {
    let sets: Vec<Option<&SetValue>> = keys
        .iter()
        .zip(exists)
        .map(|(k, &e)| if e { peek_set(srv, db, k) } else { None })
        .collect();
    let mut out = SetValue::new();
    match op {
        Op::Inter => {
            if sets.iter().any(|s| s.is_none()) {
                return out;
            }
            let mut sets: Vec<&SetValue> = sets.into_iter().flatten().collect();
            sets.sort_by_key(|s| s.len());
            for m in sets[0].iter() {
                if sets[1..].iter().all(|s| s.contains(&m)) {
                    out.add(&m, lim);
                }
            }
        }
        Op::Union => {
            for s in sets.iter().flatten() {
                for m in s.iter() {
                    out.add(&m, lim);
                }
            }
        }
        Op::Diff => {
            if let Some(first) = sets[0] {
                for m in first.iter() {
                    if !sets[1..].iter().flatten().any(|s| s.contains(&m)) {
                        out.add(&m, lim);
                    }
                }
            }
        }
    }
    out
}

fn combine_reply(ctx: &mut Ctx, keys: &[&[u8]], op: Op) {
    let Some(exists) = check_all(ctx, keys) else {
        return;
    };
    let lim = limits(ctx.srv);
    let result = combine(ctx.srv, ctx.client.db, keys, &exists, op, lim);
    reply_members(&mut ctx.client.out, Some(&result));
}

fn combine_store(ctx: &mut Ctx, dst: &[u8], keys: &[&[u8]], op: Op) {
    let Some(exists) = check_all(ctx, keys) else {
        return;
    };
    let lim = limits(ctx.srv);
    let db = ctx.client.db;
    let result = combine(ctx.srv, db, keys, &exists, op, lim);
    let n = result.len();
    if n > 0 && crate::notify::enabled(ctx.srv, class::NEW | class::EXPIRED) {
        // As Redis's setKey: a stale destination expires first.
        let _ = lookup_write(ctx.srv, db, dst);
    }
    let old = if n == 0 {
        ctx.srv.keyspace.dbs[db].remove(dst).map(|e| e.into_value())
    } else {
        ctx.srv.keyspace.dbs[db].set(dst, Value::Set(result), false)
    };
    let created = old.is_none();
    // Redis deletes the destination before replying when SINTERSTORE meets a
    // missing key, after replying when a result came out empty.
    let del_first = op == Op::Inter && exists.iter().any(|e| !e);
    let deleted = n == 0 && old.is_some();
    match old {
        Some(old) => {
            dispose(ctx.srv, old);
            if deleted && del_first {
                ctx.notify(class::GENERIC, "del", dst);
            }
        }
        // An empty result with no destination to delete changed nothing:
        // nothing to propagate (as Redis).
        None if n == 0 => ctx.propagate_nothing(),
        None => {}
    }
    if n > 0 && created {
        ctx.notify(class::NEW, "new", dst);
    }
    ctx.out().int(n as i64);
    if deleted && !del_first {
        ctx.notify(class::GENERIC, "del", dst);
    }
    if n > 0 {
        let event = match op {
            Op::Inter => "sinterstore",
            Op::Union => "sunionstore",
            Op::Diff => "sdiffstore",
        };
        ctx.notify(class::SET, event, dst);
    }
}

pub fn sinter(ctx: &mut Ctx, args: &[&[u8]]) {
    combine_reply(ctx, &args[1..], Op::Inter);
}

pub fn sunion(ctx: &mut Ctx, args: &[&[u8]]) {
    combine_reply(ctx, &args[1..], Op::Union);
}

pub fn sdiff(ctx: &mut Ctx, args: &[&[u8]]) {
    combine_reply(ctx, &args[1..], Op::Diff);
}

pub fn sinterstore(ctx: &mut Ctx, args: &[&[u8]]) {
    combine_store(ctx, args[1], &args[2..], Op::Inter);
}

pub fn sunionstore(ctx: &mut Ctx, args: &[&[u8]]) {
    combine_store(ctx, args[1], &args[2..], Op::Union);
}

pub fn sdiffstore(ctx: &mut Ctx, args: &[&[u8]]) {
    combine_store(ctx, args[1], &args[2..], Op::Diff);
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
pub fn sintercard(ctx: &mut Ctx, args: &[&[u8]]) {
    let numkeys = match parse_int(args[1]) {
        Some(n) if n > 0 => n as u64,
        _ => {
            ctx.out().error("ERR numkeys should be greater than 0");
            return;
        }
    };
    if numkeys > (args.len() - 2) as u64 {
        ctx.out()
            .error("ERR Number of keys can't be greater than number of args");
        return;
    }
    let nk = numkeys as usize;
    let keys = &args[2..2 + nk];
    let mut limit = 0u64;
    let mut i = 2 + nk;
    while i < args.len() {
        if super::eq_ic(args[i], "limit") && i + 1 < args.len() {
            match parse_int(args[i + 1]) {
                Some(n) if n >= 0 => limit = n as u64,
                _ => {
                    ctx.out().error("ERR LIMIT can't be negative");
                    return;
                }
            }
            i += 2;
        } else {
            ctx.out().error(err::SYNTAX);
            return;
        }
    }
    let Some(exists) = check_all(ctx, keys) else {
        return;
    };
    let db = ctx.client.db;
    let mut n = 0u64;
    if exists.iter().all(|&e| e) {
        let mut sets: Vec<&SetValue> = keys.iter().filter_map(|k| peek_set(ctx.srv, db, k)).collect();
        sets.sort_by_key(|s| s.len());
        for m in sets[0].iter() {
            if sets[1..].iter().all(|s| s.contains(&m)) {
                n += 1;
                if n == limit {
                    break;
                }
            }
        }
    }
    ctx.out().int(n as i64);
}

pub fn sscan(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(cursor) = parse_cursor(args[2]) else {
        ctx.out().error("ERR invalid cursor");
        return;
    };
    let db = ctx.client.db;
    match check_read(ctx.srv, db, args[1], &mut ctx.client.out) {
        Err(()) => return,
        Ok(false) => {
            scan_reply(ctx.out(), 0, &[]);
            return;
        }
        Ok(true) => {}
    }
    let Some((pattern, count)) = scan_options(ctx, args, 3) else {
        return;
    };
    let Some(s) = peek_set(ctx.srv, db, args[1]) else {
        return;
    };
    let mut items: Vec<Vec<u8>> = Vec::new();
    let next = s.scan(cursor, count, |m| {
        if scan_matches(pattern, m) {
            items.push(m.to_vec());
        }
    });
    let refs: Vec<&[u8]> = items.iter().map(|v| v.as_slice()).collect();
    scan_reply(&mut ctx.client.out, next, &refs);
}
