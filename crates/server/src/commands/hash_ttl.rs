//! Hash field expiry, as Redis 7.4: HEXPIRE, HPEXPIRE, HEXPIREAT, HPEXPIREAT,
//! HTTL, HPTTL, HEXPIRETIME, HPEXPIRETIME, HPERSIST, plus the lazy and active
//! removal of expired fields.
//!
//! The TTLs live in the hash value (`shoal_store::hash`, a side table only
//! hashes with field TTLs have); the database keeps an index of the keys that
//! hold such hashes. Expired fields are removed:
//! - lazily, whenever a command looks the key up ([`purge_if_due`], called by
//!   `commands::lookup` for keys in that set), so no command ever sees one;
//! - actively, from the expiry cron ([`active_expire_fields`]): the database
//!   files these hashes by the time their earliest field expires, so the cron
//!   takes the due ones directly, a bounded number of hashes and fields per
//!   step, within the cron's time budget.
//!
//! Either way the removal propagates as `HDEL key field...`, sends `hexpired`
//! (and `del` when the hash became empty and the key was deleted). A replica
//! removes nothing by itself: it applies its master's HDELs (until then its
//! clients may still read a field that expired). The commands propagate as
//! `HPEXPIREAT key <abs ms> [cond] FIELDS n field...` with only the fields
//! whose TTL was set; fields deleted because the time was already past
//! propagate as HDEL.

use super::{eq_ic, err, lookup_read, lookup_write, parse_int, Ctx};
use crate::notify::class;
use crate::propagate::Target;
use crate::server::Server;
use shoal_store::Value;

/// The largest absolute field expiry Redis 7.4 accepts (2^46 - 1 ms: it keeps
/// the top bits of its 48-bit expiry times for itself).
pub const MAX_FIELD_EXPIRE_MS: i64 = (1 << 46) - 1;

const NO_FIELD: i64 = -2;
const NO_TTL: i64 = -1;

/// Lazy expiry: removes the fields of `key`'s hash whose time has come (every
/// one of them), with their HDEL and events; deletes the key when no field is
/// left. A replica leaves them for its master's HDEL.
pub fn purge_if_due(srv: &mut Server, db: usize, key: &[u8]) {
    if srv.repl.applying_master_stream || srv.repl.master.is_some() {
        return;
    }
    let now = srv.now_ms;
    let d = &mut srv.keyspace.dbs[db];
    // An expired key is key expiry's business (the lookup that follows).
    if !matches!(d.peek(key, now).map(|e| &e.value), Some(Value::Hash(h)) if h.fields_due(now)) {
        return;
    }
    let Some(Value::Hash(h)) = d.get_mut(key, i64::MIN).map(|e| &mut e.value) else {
        return;
    };
    let fields = h.purge_expired(now, usize::MAX);
    let empty = h.is_empty();
    fields_expired(srv, db, key, fields, empty);
}

/// [`purge_if_due`] for commands that read a key without looking it up
/// (MEMORY USAGE, DEBUG DIGEST-VALUE); one length test for most databases.
#[inline]
pub fn purge_key(srv: &mut Server, db: usize, key: &[u8]) {
    if srv.keyspace.dbs[db].may_have_field_ttls(key) {
        purge_if_due(srv, db, key);
    }
}

/// Effects and events of fields removed by expiry (`empty`: the hash has no
/// field left and the key must go).
fn fields_expired(srv: &mut Server, db: usize, key: &[u8], fields: Vec<Vec<u8>>, empty: bool) {
    if empty {
        if let Some(old) = srv.keyspace.dbs[db].remove(key) {
            super::dispose(srv, old.into_value());
        }
    }
    crate::tracking::key_deleted(srv, key);
    if crate::propagate::active(srv) {
        let mut argv = Vec::with_capacity(fields.len() + 2);
        argv.push(b"HDEL".to_vec());
        argv.push(key.to_vec());
        argv.extend(fields);
        crate::propagate::propagate(srv, db, argv, Target::All);
    }
    crate::notify::notify(srv, None, class::HASH, "hexpired", db, key);
    if empty {
        crate::notify::notify(srv, None, class::GENERIC, "del", db, key);
    }
}

/// Active field expiry, from the expiry cron after key expiry: takes the
/// hashes whose earliest field is due, earliest first, in bounded steps until
/// `deadline` (at least one step per database with due fields). A database
/// with nothing due costs one comparison.
pub fn active_expire_fields(srv: &mut Server, now: i64, deadline: std::time::Instant) {
    let mut out = Vec::new();
    for db in 0..srv.keyspace.dbs.len() {
        while srv.keyspace.dbs[db].fields_due(now) {
            srv.keyspace.dbs[db].field_expire_step(now, 32, &mut out);
            for x in out.drain(..) {
                let empty = x.deleted.is_some();
                if let Some(e) = x.deleted {
                    super::dispose(srv, e.into_value());
                }
                fields_expired(srv, db, &x.key, x.fields, false);
                if empty {
                    crate::notify::notify(srv, None, class::GENERIC, "del", db, &x.key);
                }
            }
            if std::time::Instant::now() >= deadline {
                break;
            }
        }
    }
}

/// Parses `FIELDS numfields field...` starting at `args[at]` (the FIELDS
/// keyword); replies the error and returns None when invalid.
fn fields_arg<'a>(ctx: &mut Ctx, args: &'a [&'a [u8]], at: usize, count_error: &str) -> Option<&'a [&'a [u8]]> {
    if !eq_ic(args[at], "fields") {
        ctx.out()
            .error("ERR Mandatory argument FIELDS is missing or not at the right position");
        return None;
    }
    let n = match parse_int(args[at + 1]) {
        Some(n) if n >= 1 => n as u64,
        _ => {
            ctx.out().error(count_error);
            return None;
        }
    };
    let fields = &args[at + 2..];
    if n != fields.len() as u64 {
        ctx.out()
            .error("ERR The `numfields` parameter must match the number of arguments");
        return None;
    }
    Some(fields)
}

/// Looks the hash up: Ok(true) found, Ok(false) missing, Err = WRONGTYPE replied.
fn find_hash(ctx: &mut Ctx, key: &[u8], write: bool) -> Result<bool, ()> {
    let db = ctx.client.db;
    let e = if write {
        lookup_write(ctx.srv, db, key)
    } else {
        lookup_read(ctx.srv, db, key)
    };
    match e.map(|e| matches!(e.value, Value::Hash(_))) {
        None => Ok(false),
        Some(true) => Ok(true),
        Some(false) => {
            ctx.out().error(err::WRONGTYPE);
            Err(())
        }
    }
}

fn hash_mut<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Option<&'a mut shoal_store::hash::HashValue> {
    match ctx.db().get_mut(key, i64::MIN).map(|e| &mut e.value) {
        Some(Value::Hash(h)) => Some(h),
        _ => None,
    }
}

fn reply_all(ctx: &mut Ctx, codes: &[i64]) {
    let out = ctx.out();
    out.array(codes.len());
    for c in codes {
        out.int(*c);
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Cond {
    None,
    Nx,
    Xx,
    Gt,
    Lt,
}

/// Shared by HEXPIRE, HPEXPIRE, HEXPIREAT, HPEXPIREAT:
/// `key time [NX|XX|GT|LT] FIELDS numfields field...`, one reply per field:
/// -2 no such field (or key), 0 condition not met, 1 TTL set, 2 field deleted
/// because the time is already past.
fn expire_generic(ctx: &mut Ctx, args: &[&[u8]], seconds: bool, absolute: bool, name: &str) {
    let key = args[1];
    let Ok(exists) = find_hash(ctx, key, true) else {
        return;
    };
    let Some(t) = super::int_arg(ctx, args[2]) else {
        return;
    };
    if t < 0 {
        ctx.out().error("ERR invalid expire time, must be >= 0");
        return;
    }
    let invalid = |ctx: &mut Ctx| ctx.out().error(&err::INVALID_EXPIRE.replace("{}", name));
    let base = if absolute { 0 } else { ctx.now() };
    if seconds && t > MAX_FIELD_EXPIRE_MS / 1000 {
        invalid(ctx);
        return;
    }
    let ms = if seconds { t * 1000 } else { t };
    if ms > MAX_FIELD_EXPIRE_MS - base {
        invalid(ctx);
        return;
    }
    let at = ms + base;
    let cond = [("nx", Cond::Nx), ("xx", Cond::Xx), ("gt", Cond::Gt), ("lt", Cond::Lt)]
        .into_iter()
        .find(|(n, _)| eq_ic(args[3], n))
        .map_or(Cond::None, |(_, c)| c);
    let fields_at = if cond == Cond::None { 3 } else { 4 };
    let Some(fields) = fields_arg(
        ctx,
        args,
        fields_at,
        "ERR Parameter `numFields` should be greater than 0",
    ) else {
        return;
    };
    if !exists {
        ctx.propagate_nothing();
        reply_all(ctx, &vec![NO_FIELD; fields.len()]);
        return;
    }
    let past = super::keyspace::already_expired(ctx, at);
    let h = hash_mut(ctx, key).expect("looked up above");
    let mut codes = Vec::with_capacity(fields.len());
    let mut set: Vec<&[u8]> = Vec::new();
    let mut deleted: Vec<&[u8]> = Vec::new();
    for &f in fields {
        if !h.contains(f) {
            codes.push(NO_FIELD);
            continue;
        }
        let met = match (h.field_expire(f), cond) {
            (_, Cond::None) => true,
            (None, c) => !matches!(c, Cond::Xx | Cond::Gt),
            (Some(cur), c) => match c {
                Cond::Nx => false,
                Cond::Gt => at > cur,
                Cond::Lt => at < cur,
                _ => true,
            },
        };
        if !met {
            codes.push(0);
        } else if past {
            h.remove(f);
            deleted.push(f);
            codes.push(2);
        } else {
            h.set_field_expire(f, at);
            set.push(f);
            codes.push(1);
        }
    }
    let empty = h.is_empty();
    if !set.is_empty() {
        ctx.db().note_field_ttls(key);
    }
    if empty {
        if let Some(old) = ctx.db().remove(key) {
            super::dispose(ctx.srv, old.into_value());
        }
    }
    if set.is_empty() && deleted.is_empty() {
        ctx.propagate_nothing();
    } else if ctx.propagating() {
        if !deleted.is_empty() {
            let mut argv = vec![b"HDEL".to_vec(), key.to_vec()];
            argv.extend(deleted.iter().map(|f| f.to_vec()));
            ctx.propagate(argv);
        }
        if !set.is_empty() {
            let mut argv = vec![b"HPEXPIREAT".to_vec(), key.to_vec(), at.to_string().into_bytes()];
            if cond != Cond::None {
                argv.push(args[3].to_vec());
            }
            argv.push(b"FIELDS".to_vec());
            argv.push(set.len().to_string().into_bytes());
            argv.extend(set.iter().map(|f| f.to_vec()));
            ctx.propagate(argv);
        }
    }
    reply_all(ctx, &codes);
    if !set.is_empty() || !deleted.is_empty() {
        let event = if deleted.is_empty() { "hexpire" } else { "hdel" };
        ctx.notify(class::HASH, event, key);
    }
    if empty {
        ctx.notify(class::GENERIC, "del", key);
    }
}

pub fn hexpire(ctx: &mut Ctx, args: &[&[u8]]) {
    expire_generic(ctx, args, true, false, "hexpire");
}

pub fn hpexpire(ctx: &mut Ctx, args: &[&[u8]]) {
    expire_generic(ctx, args, false, false, "hpexpire");
}

pub fn hexpireat(ctx: &mut Ctx, args: &[&[u8]]) {
    expire_generic(ctx, args, true, true, "hexpireat");
}

pub fn hpexpireat(ctx: &mut Ctx, args: &[&[u8]]) {
    expire_generic(ctx, args, false, true, "hpexpireat");
}

/// Shared by HTTL, HPTTL, HEXPIRETIME, HPEXPIRETIME: `key FIELDS numfields
/// field...`, one reply per field: -2 no such field (or key), -1 no TTL,
/// otherwise the TTL or the expiry time (seconds round up, as Redis).
fn ttl_generic(ctx: &mut Ctx, args: &[&[u8]], seconds: bool, absolute: bool) {
    let key = args[1];
    let Ok(exists) = find_hash(ctx, key, false) else {
        return;
    };
    let Some(fields) = fields_arg(ctx, args, 2, "ERR Number of fields must be a positive integer") else {
        return;
    };
    let now = ctx.now();
    let base = if absolute { 0 } else { now };
    let db = ctx.client.db;
    let h = match ctx.srv.keyspace.dbs[db].peek(key, i64::MIN).map(|e| &e.value) {
        Some(Value::Hash(h)) if exists => Some(h),
        _ => None,
    };
    let codes: Vec<i64> = fields
        .iter()
        .map(|f| match h {
            Some(h) if h.contains(f) => match h.field_expire(f) {
                None => NO_TTL,
                // Expired but not removed yet (a replica): gone for readers.
                Some(at) if at <= now => NO_FIELD,
                Some(at) if seconds => (at + 999 - base) / 1000,
                Some(at) => at - base,
            },
            _ => NO_FIELD,
        })
        .collect();
    reply_all(ctx, &codes);
}

pub fn httl(ctx: &mut Ctx, args: &[&[u8]]) {
    ttl_generic(ctx, args, true, false);
}

pub fn hpttl(ctx: &mut Ctx, args: &[&[u8]]) {
    ttl_generic(ctx, args, false, false);
}

pub fn hexpiretime(ctx: &mut Ctx, args: &[&[u8]]) {
    ttl_generic(ctx, args, true, true);
}

pub fn hpexpiretime(ctx: &mut Ctx, args: &[&[u8]]) {
    ttl_generic(ctx, args, false, true);
}

/// HPERSIST key FIELDS numfields field...: -2 no such field (or key), -1 no
/// TTL, 1 TTL removed. Propagates as itself when a TTL was removed.
pub fn hpersist(ctx: &mut Ctx, args: &[&[u8]]) {
    let key = args[1];
    let Ok(exists) = find_hash(ctx, key, true) else {
        return;
    };
    let Some(fields) = fields_arg(ctx, args, 2, "ERR Number of fields must be a positive integer") else {
        return;
    };
    if !exists {
        ctx.propagate_nothing();
        reply_all(ctx, &vec![NO_FIELD; fields.len()]);
        return;
    }
    let now = ctx.now();
    let h = hash_mut(ctx, key).expect("looked up above");
    let codes: Vec<i64> = fields
        .iter()
        .map(|f| {
            if !h.contains(f) {
                return NO_FIELD;
            }
            match h.field_expire(f) {
                None => NO_TTL,
                Some(at) if at <= now => NO_FIELD,
                Some(_) => {
                    h.persist_field(f);
                    1
                }
            }
        })
        .collect();
    let changed = codes.contains(&1);
    if !changed {
        ctx.propagate_nothing();
    }
    reply_all(ctx, &codes);
    if changed {
        ctx.notify(class::HASH, "hpersist", key);
    }
}

/// The effect that restores a field's TTL after an HSET effect (HINCRBYFLOAT
/// propagates as HSET, which would drop the TTL where it is applied).
pub fn restore_ttl_effect(key: &[u8], field: &[u8], at: i64) -> Vec<Vec<u8>> {
    vec![
        b"HPEXPIREAT".to_vec(),
        key.to_vec(),
        at.to_string().into_bytes(),
        b"FIELDS".to_vec(),
        b"1".to_vec(),
        field.to_vec(),
    ]
}

/// AOF rewrite: the field TTLs of a hash as HPEXPIREAT commands (one per
/// distinct time, after the fields were written).
pub fn rewrite_field_ttls(out: &mut Vec<u8>, key: &[u8], h: &shoal_store::hash::HashValue) {
    let mut pending: Option<(i64, Vec<Vec<u8>>)> = None;
    let emit = |out: &mut Vec<u8>, at: i64, fields: Vec<Vec<u8>>| {
        let mut argv = vec![
            b"HPEXPIREAT".to_vec(),
            key.to_vec(),
            at.to_string().into_bytes(),
            b"FIELDS".to_vec(),
            fields.len().to_string().into_bytes(),
        ];
        argv.extend(fields);
        crate::propagate::encode_command(out, &argv);
    };
    for (f, at) in h.field_ttls() {
        match &mut pending {
            Some((t, fields)) if *t == at && fields.len() < 64 => fields.push(f.to_vec()),
            _ => {
                if let Some((t, fields)) = pending.take() {
                    emit(out, t, fields);
                }
                pending = Some((at, vec![f.to_vec()]));
            }
        }
    }
    if let Some((t, fields)) = pending {
        emit(out, t, fields);
    }
}
