//! String commands: SET and its variants, GET and its variants, MGET/MSET, APPEND,
//! STRLEN, GETRANGE/SETRANGE, INCR/DECR family, INCRBYFLOAT, LCS.

use super::keyspace::{already_expired, int_bytes, propagate_del};
use super::{dispose, eq_ic, err, int_arg, lookup_read, lookup_write, Ctx};
use crate::notify::class;
use shoal_store::db::FLAG_RAW;
use shoal_store::{Value, NO_EXPIRE};

/// How a command sets or keeps the expiry of the key it writes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ttl {
    /// Drop any TTL (plain SET).
    Clear,
    /// KEEPTTL.
    Keep,
    /// An absolute time in ms.
    At(i64),
    /// GETEX PERSIST.
    Persist,
}

/// The unit of an EX/PX/EXAT/PXAT option.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ExpireUnit {
    Ex,
    Px,
    ExAt,
    PxAt,
}

impl ExpireUnit {
    fn parse(opt: &[u8]) -> Option<ExpireUnit> {
        if eq_ic(opt, "ex") {
            Some(ExpireUnit::Ex)
        } else if eq_ic(opt, "px") {
            Some(ExpireUnit::Px)
        } else if eq_ic(opt, "exat") {
            Some(ExpireUnit::ExAt)
        } else if eq_ic(opt, "pxat") {
            Some(ExpireUnit::PxAt)
        } else {
            None
        }
    }
}

/// The expiry options of SET (KEEPTTL, EX/PX/EXAT/PXAT) or GETEX (PERSIST,
/// EX/PX/EXAT/PXAT) as given. Redis accepts an option again (`EX 1 EX 2`, the
/// last one wins; `KEEPTTL KEEPTTL`) but not two different ones, and checks the
/// time value only after the whole command line parsed.
#[derive(Clone, Copy, Default, Debug)]
struct ExpireArgs<'a> {
    keep_ttl: bool,
    persist: bool,
    unit: Option<(ExpireUnit, &'a [u8])>,
}

impl<'a> ExpireArgs<'a> {
    /// Takes the expiry option at `args[i]` if it is one allowed here, and returns
    /// how many arguments it used (0: not taken, the caller decides).
    fn take(&mut self, args: &[&'a [u8]], i: usize, allow_keep_ttl: bool, allow_persist: bool) -> usize {
        let a = args[i];
        if allow_keep_ttl && eq_ic(a, "keepttl") && !self.persist && self.unit.is_none() {
            self.keep_ttl = true;
            return 1;
        }
        if allow_persist && eq_ic(a, "persist") && !self.keep_ttl && self.unit.is_none() {
            self.persist = true;
            return 1;
        }
        match ExpireUnit::parse(a) {
            Some(unit)
                if i + 1 < args.len()
                    && !self.keep_ttl
                    && !self.persist
                    && self.unit.is_none_or(|(u, _)| u == unit) =>
            {
                self.unit = Some((unit, args[i + 1]));
                2
            }
            _ => 0,
        }
    }
}

/// Turns an EX/PX/EXAT/PXAT value into an absolute ms time, or replies the error.
fn expire_value(ctx: &mut Ctx, unit: ExpireUnit, arg: &[u8], cmd: &str) -> Option<i64> {
    let n = int_arg(ctx, arg)?;
    let invalid = |ctx: &mut Ctx| {
        ctx.out().error(&format!("ERR invalid expire time in '{cmd}' command"));
    };
    if n <= 0 {
        invalid(ctx);
        return None;
    }
    let at = match unit {
        ExpireUnit::Ex => n.checked_mul(1000).and_then(|ms| ms.checked_add(ctx.now())),
        ExpireUnit::Px => n.checked_add(ctx.now()),
        ExpireUnit::ExAt => n.checked_mul(1000),
        ExpireUnit::PxAt => Some(n),
    };
    if at.is_none() {
        invalid(ctx);
    }
    at
}

/// Writes a string reply for a value, or WRONGTYPE.
fn reply_string(ctx: &mut Ctx, v: Option<&Value>) {
    match v {
        None => ctx.out().null(),
        Some(v) => match v.str_bytes() {
            Some(b) => ctx.client.out.bulk(&b),
            None => ctx.out().error(err::WRONGTYPE),
        },
    }
}

/// Stores a string, applying the TTL rule (a created key sends `new`).
fn store(ctx: &mut Ctx, key: &[u8], value: Value, ttl: Ttl) {
    if crate::notify::enabled(ctx.srv, class::NEW | class::EXPIRED) {
        // As Redis's setKey: a stale key expires (`expired`) before the write.
        let db = ctx.client.db;
        let _ = lookup_write(ctx.srv, db, key);
    }
    let db = &mut ctx.srv.keyspace.dbs[ctx.client.db];
    let old = db.set(key, value, ttl == Ttl::Keep);
    if let Ttl::At(at) = ttl {
        db.set_expire(key, at);
    }
    match old {
        Some(old) => dispose(ctx.srv, old),
        None => ctx.notify(class::NEW, "new", key),
    }
}

/// Stores a string as SET does: `set`, then `expire` when it has a TTL.
fn store_set(ctx: &mut Ctx, key: &[u8], value: Value, ttl: Ttl) {
    store(ctx, key, value, ttl);
    ctx.notify(class::STRING, "set", key);
    if let Ttl::At(_) = ttl {
        ctx.notify(class::GENERIC, "expire", key);
    }
}

pub fn set(ctx: &mut Ctx, args: &[&[u8]]) {
    let (mut nx, mut xx, mut get) = (false, false, false);
    let mut expire = ExpireArgs::default();
    let mut i = 3;
    while i < args.len() {
        let a = args[i];
        let used = if eq_ic(a, "nx") && !xx {
            nx = true;
            1
        } else if eq_ic(a, "xx") && !nx {
            xx = true;
            1
        } else if eq_ic(a, "get") {
            get = true;
            1
        } else {
            expire.take(args, i, true, false)
        };
        if used == 0 {
            ctx.out().error(err::SYNTAX);
            return;
        }
        i += used;
    }
    let ttl = match expire.unit {
        Some((unit, arg)) => match expire_value(ctx, unit, arg, "set") {
            Some(at) => Ttl::At(at),
            None => return,
        },
        None if expire.keep_ttl => Ttl::Keep,
        None => Ttl::Clear,
    };
    let key = args[1];
    let db = ctx.client.db;
    if get {
        // Redis reads the old value the way GET does (counting a hit or a miss).
        let old = lookup_read(ctx.srv, db, key).map(|e| e.value.str_bytes().map(|b| b.to_vec()));
        match old {
            Some(None) => {
                ctx.out().error(err::WRONGTYPE);
                return;
            }
            Some(Some(bytes)) => ctx.client.out.bulk(&bytes),
            None => ctx.out().null(),
        }
    }
    let exists = lookup_write(ctx.srv, db, key).is_some();
    if (nx && exists) || (xx && !exists) {
        if !get {
            ctx.out().null();
        }
        ctx.propagate_nothing();
        ctx.changed(0);
        return;
    }
    store_set(ctx, key, Value::from_bytes(args[2]), ttl);
    if !get {
        ctx.out().ok();
    }
    if ctx.propagating() {
        // Redis: an expiry becomes `SET key value PXAT <ms>` (the whole line
        // rewritten); otherwise the line propagates without its GET options.
        if let Ttl::At(at) = ttl {
            propagate_set_pxat(ctx, key, args[2], at);
        } else if get {
            let argv = args
                .iter()
                .enumerate()
                .filter(|(j, a)| *j < 3 || !a.eq_ignore_ascii_case(b"get"))
                .map(|(_, a)| a.to_vec())
                .collect();
            ctx.propagate(argv);
        }
    }
}

/// The effect of a SET with an expiry: `SET key value PXAT <ms>`.
fn propagate_set_pxat(ctx: &mut Ctx, key: &[u8], value: &[u8], at: i64) {
    if ctx.propagating() {
        ctx.propagate(vec![
            b"SET".to_vec(),
            key.to_vec(),
            value.to_vec(),
            b"PXAT".to_vec(),
            int_bytes(at),
        ]);
    }
}

pub fn setnx(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    if lookup_write(ctx.srv, db, args[1]).is_some() {
        ctx.propagate_nothing();
        ctx.changed(0);
        ctx.out().int(0);
        return;
    }
    store_set(ctx, args[1], Value::from_bytes(args[2]), Ttl::Clear);
    ctx.out().int(1);
}

fn setex_generic(ctx: &mut Ctx, args: &[&[u8]], unit: ExpireUnit, name: &str) {
    let Some(at) = expire_value(ctx, unit, args[2], name) else {
        return;
    };
    store_set(ctx, args[1], Value::from_bytes(args[3]), Ttl::At(at));
    propagate_set_pxat(ctx, args[1], args[3], at);
    ctx.out().ok();
}

pub fn setex(ctx: &mut Ctx, args: &[&[u8]]) {
    setex_generic(ctx, args, ExpireUnit::Ex, "setex")
}

pub fn psetex(ctx: &mut Ctx, args: &[&[u8]]) {
    setex_generic(ctx, args, ExpireUnit::Px, "psetex")
}

pub fn get(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    match lookup_read(ctx.srv, db, args[1]) {
        None => ctx.client.out.null(),
        Some(e) => match e.value.str_bytes() {
            Some(b) => ctx.client.out.bulk(&b),
            None => ctx.client.out.error(err::WRONGTYPE),
        },
    }
}

/// GETEX key [EX|PX|EXAT|PXAT time | PERSIST]: the options are checked for syntax
/// first, then the key (nil, WRONGTYPE), and only then the time value.
pub fn getex(ctx: &mut Ctx, args: &[&[u8]]) {
    let mut expire = ExpireArgs::default();
    let mut i = 2;
    while i < args.len() {
        let used = expire.take(args, i, false, true);
        if used == 0 {
            ctx.out().error(err::SYNTAX);
            return;
        }
        i += used;
    }
    let db = ctx.client.db;
    let Some(e) = lookup_read(ctx.srv, db, args[1]) else {
        ctx.propagate_nothing();
        ctx.changed(0);
        ctx.out().null();
        return;
    };
    let Some(bytes) = e.value.str_bytes().map(|b| b.to_vec()) else {
        ctx.out().error(err::WRONGTYPE);
        return;
    };
    let ttl = match expire.unit {
        Some((unit, arg)) => match expire_value(ctx, unit, arg, "getex") {
            Some(at) => Some(Ttl::At(at)),
            None => return,
        },
        None if expire.persist => Some(Ttl::Persist),
        None => None,
    };
    // Effects as Redis: a time already past deletes the key (DEL, or UNLINK
    // with lazyfree-lazy-expire), a TTL set is `PEXPIREAT key <ms>`, PERSIST
    // is PERSIST when there was a TTL to remove; nothing else changes data.
    ctx.propagate_nothing();
    ctx.changed(0);
    // Redis replies before changing the TTL (its events follow the reply).
    ctx.out().bulk(&bytes);
    match ttl {
        Some(Ttl::At(at)) if already_expired(ctx, at) => {
            if let Some(old) = ctx.db().remove(args[1]) {
                dispose(ctx.srv, old.into_value());
            }
            let lazy = ctx.srv.config.lazyfree_lazy_expire;
            propagate_del(ctx, args[1], lazy);
            ctx.notify(class::GENERIC, "del", args[1]);
            ctx.changed(1);
        }
        Some(Ttl::At(at)) => {
            ctx.db().set_expire(args[1], at);
            ctx.changed(1);
            if ctx.propagating() {
                ctx.propagate(vec![b"PEXPIREAT".to_vec(), args[1].to_vec(), int_bytes(at)]);
            }
            ctx.notify(class::GENERIC, "expire", args[1]);
        }
        Some(Ttl::Persist) => {
            let had = lookup_write(ctx.srv, db, args[1]).is_some_and(|e| e.has_expire());
            if had {
                ctx.db().set_expire(args[1], NO_EXPIRE);
                ctx.changed(1);
                if ctx.propagating() {
                    ctx.propagate(vec![b"PERSIST".to_vec(), args[1].to_vec()]);
                }
                ctx.notify(class::GENERIC, "persist", args[1]);
            }
        }
        _ => {}
    }
}

pub fn getdel(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let Some(e) = lookup_read(ctx.srv, db, args[1]) else {
        ctx.propagate_nothing();
        ctx.changed(0);
        ctx.out().null();
        return;
    };
    if !e.value.is_string() {
        ctx.out().error(err::WRONGTYPE);
        return;
    }
    let old = ctx.db().remove(args[1]).expect("found above");
    // Redis propagates GETDEL as DEL (UNLINK with lazyfree-lazy-user-del).
    let lazy = ctx.srv.config.lazyfree_lazy_user_del;
    propagate_del(ctx, args[1], lazy);
    reply_string(ctx, Some(&old.value));
    dispose(ctx.srv, old.into_value());
    ctx.notify(class::GENERIC, "del", args[1]);
}

pub fn getset(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let old = lookup_read(ctx.srv, db, args[1]).map(|e| e.value.str_bytes().map(|b| b.to_vec()));
    match old {
        Some(None) => {
            ctx.out().error(err::WRONGTYPE);
            return;
        }
        Some(Some(b)) => ctx.client.out.bulk(&b),
        None => ctx.out().null(),
    }
    store_set(ctx, args[1], Value::from_bytes(args[2]), Ttl::Clear);
    // Redis propagates GETSET as SET.
    if ctx.propagating() {
        ctx.propagate(vec![b"SET".to_vec(), args[1].to_vec(), args[2].to_vec()]);
    }
}

pub fn mget(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    ctx.out().array(args.len() - 1);
    for key in &args[1..] {
        match lookup_read(ctx.srv, db, key).and_then(|e| e.value.str_bytes()) {
            Some(b) => ctx.client.out.bulk(&b),
            None => ctx.client.out.null(),
        }
    }
}

pub fn mset(ctx: &mut Ctx, args: &[&[u8]]) {
    if args.len().is_multiple_of(2) {
        super::wrong_arity(ctx.out(), "mset");
        return;
    }
    for pair in args[1..].chunks(2) {
        store_set(ctx, pair[0], Value::from_bytes(pair[1]), Ttl::Clear);
    }
    ctx.changed((args.len() / 2) as u64);
    ctx.out().ok();
}

pub fn msetnx(ctx: &mut Ctx, args: &[&[u8]]) {
    if args.len().is_multiple_of(2) {
        super::wrong_arity(ctx.out(), "msetnx");
        return;
    }
    let db = ctx.client.db;
    if args[1..].chunks(2).any(|p| lookup_write(ctx.srv, db, p[0]).is_some()) {
        ctx.propagate_nothing();
        ctx.changed(0);
        ctx.out().int(0);
        return;
    }
    for pair in args[1..].chunks(2) {
        store_set(ctx, pair[0], Value::from_bytes(pair[1]), Ttl::Clear);
    }
    ctx.changed((args.len() / 2) as u64);
    ctx.out().int(1);
}

/// Checks that `len` bytes fit `proto-max-bulk-len`, replying the error if not.
fn check_string_length(ctx: &mut Ctx, len: u64) -> bool {
    if len > ctx.srv.config.proto_max_bulk_len {
        ctx.out()
            .error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return false;
    }
    true
}

pub fn append(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let new_len = match lookup_write(ctx.srv, db, args[1]) {
        None => {
            ctx.srv.keyspace.dbs[db].set(args[1], Value::from_bytes(args[2]), false);
            ctx.notify(class::NEW, "new", args[1]);
            args[2].len()
        }
        Some(e) => {
            if !e.value.is_string() {
                ctx.out().error(err::WRONGTYPE);
                return;
            }
            let total = (e.value.str_len() + args[2].len()) as u64;
            if total > ctx.srv.config.proto_max_bulk_len {
                ctx.out()
                    .error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
                return;
            }
            let e = lookup_write(ctx.srv, db, args[1]).expect("found above");
            e.flags |= FLAG_RAW;
            let buf = e.value.make_raw();
            buf.extend_from_slice(args[2]);
            buf.len()
        }
    };
    ctx.notify(class::STRING, "append", args[1]);
    ctx.out().int(new_len as i64);
}

pub fn strlen(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    match lookup_read(ctx.srv, db, args[1]) {
        None => ctx.client.out.int(0),
        Some(e) if e.value.is_string() => {
            let n = e.value.str_len();
            ctx.client.out.int(n as i64)
        }
        Some(_) => ctx.client.out.error(err::WRONGTYPE),
    }
}

pub fn getrange(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(mut start) = int_arg(ctx, args[2]) else {
        return;
    };
    let Some(mut end) = int_arg(ctx, args[3]) else {
        return;
    };
    let db = ctx.client.db;
    let Some(e) = lookup_read(ctx.srv, db, args[1]) else {
        ctx.client.out.bulk(b"");
        return;
    };
    let Some(bytes) = e.value.str_bytes() else {
        ctx.client.out.error(err::WRONGTYPE);
        return;
    };
    let len = bytes.len() as i64;
    // Redis: negative start and end both past the beginning give an empty string.
    if start < 0 && end < 0 && start > end {
        ctx.client.out.bulk(b"");
        return;
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if len == 0 || start > end {
        ctx.client.out.bulk(b"");
    } else {
        ctx.client.out.bulk(&bytes[start as usize..=end as usize]);
    }
}

pub fn setrange(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(offset) = int_arg(ctx, args[2]) else {
        return;
    };
    if offset < 0 {
        ctx.out().error("ERR offset is out of range");
        return;
    }
    let value = args[3];
    let db = ctx.client.db;
    let current_len = match lookup_write(ctx.srv, db, args[1]) {
        None => None,
        Some(e) if e.value.is_string() => Some(e.value.str_len()),
        Some(_) => {
            ctx.out().error(err::WRONGTYPE);
            return;
        }
    };
    if value.is_empty() {
        // Nothing written: nothing to propagate (as Redis).
        ctx.propagate_nothing();
        ctx.changed(0);
        ctx.out().int(current_len.unwrap_or(0) as i64);
        return;
    }
    if !check_string_length(ctx, offset as u64 + value.len() as u64) {
        return;
    }
    let offset = offset as usize;
    if current_len.is_none() {
        ctx.srv.keyspace.dbs[db].set(args[1], Value::from_bytes_no_int(b""), false);
        ctx.notify(class::NEW, "new", args[1]);
    }
    let e = lookup_write(ctx.srv, db, args[1]).expect("exists now");
    e.flags |= FLAG_RAW;
    let buf = e.value.make_raw();
    if buf.len() < offset + value.len() {
        buf.resize(offset + value.len(), 0);
    }
    buf[offset..offset + value.len()].copy_from_slice(value);
    let n = buf.len();
    ctx.notify(class::STRING, "setrange", args[1]);
    ctx.out().int(n as i64);
}

fn incr_generic(ctx: &mut Ctx, key: &[u8], delta: i64) {
    let db = ctx.client.db;
    let current = match lookup_write(ctx.srv, db, key) {
        None => 0,
        Some(e) => match &e.value {
            Value::Int(n) => *n,
            v => match v.str_bytes() {
                None => {
                    ctx.out().error(err::WRONGTYPE);
                    return;
                }
                Some(b) => match shoal_util::num::parse_i64(&b) {
                    Some(n) => n,
                    None => {
                        ctx.out().error(err::NOT_INT);
                        return;
                    }
                },
            },
        },
    };
    let Some(new) = current.checked_add(delta) else {
        ctx.out().error(err::OVERFLOW);
        return;
    };
    match lookup_write(ctx.srv, db, key) {
        Some(e) => {
            e.value = Value::Int(new);
            e.flags = 0;
        }
        None => {
            ctx.srv.keyspace.dbs[db].set(key, Value::Int(new), false);
            ctx.notify(class::NEW, "new", key);
        }
    }
    ctx.notify(class::STRING, "incrby", key);
    ctx.out().int(new);
}

pub fn incr(ctx: &mut Ctx, args: &[&[u8]]) {
    incr_generic(ctx, args[1], 1)
}

pub fn decr(ctx: &mut Ctx, args: &[&[u8]]) {
    incr_generic(ctx, args[1], -1)
}

pub fn incrby(ctx: &mut Ctx, args: &[&[u8]]) {
    if let Some(n) = int_arg(ctx, args[2]) {
        incr_generic(ctx, args[1], n)
    }
}

pub fn decrby(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(n) = int_arg(ctx, args[2]) else {
        return;
    };
    if n == i64::MIN {
        ctx.out().error("ERR decrement would overflow");
        return;
    }
    incr_generic(ctx, args[1], -n)
}

pub fn incrbyfloat(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let current = match lookup_write(ctx.srv, db, args[1]) {
        None => b"0".to_vec(),
        Some(e) => match e.value.str_bytes() {
            Some(b) => b.to_vec(),
            None => {
                ctx.out().error(err::WRONGTYPE);
                return;
            }
        },
    };
    match shoal_util::num::incr_by_float(&current, args[2]) {
        Ok(text) => {
            // Redis stores the formatted result as a plain string.
            store(ctx, args[1], Value::from_bytes_no_int(&text), Ttl::Keep);
            ctx.notify(class::STRING, "incrbyfloat", args[1]);
            // Redis propagates the result, not the increment: float
            // arithmetic and formatting may differ between nodes.
            if ctx.propagating() {
                ctx.propagate(vec![
                    b"SET".to_vec(),
                    args[1].to_vec(),
                    text.clone(),
                    b"KEEPTTL".to_vec(),
                ]);
            }
            ctx.out().bulk(&text);
        }
        Err(shoal_util::num::IncrFloatError::NanOrInfinity) => {
            ctx.out().error("ERR increment would produce NaN or Infinity")
        }
        Err(_) => ctx.out().error(err::NOT_FLOAT),
    }
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
///
/// Redis checks the keys' types before the options, then LEN with IDX, then
/// refuses a table of `(len1 + 1) * (len2 + 1)` 4-byte cells bigger than
/// `proto-max-bulk-len` (even for LEN, which needs less).
pub fn lcs(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let mut strings = Vec::with_capacity(2);
    let mut wrong_type = false;
    for key in &args[1..3] {
        match lookup_read(ctx.srv, db, key) {
            None => strings.push(Vec::new()),
            Some(e) => match e.value.str_bytes() {
                Some(b) => strings.push(b.to_vec()),
                None => wrong_type = true,
            },
        }
    }
    if wrong_type {
        ctx.out().error("ERR The specified keys must contain string values");
        return;
    }
    let (mut want_len, mut want_idx, mut with_len) = (false, false, false);
    let mut min_len = 0i64;
    let mut i = 3;
    while i < args.len() {
        if eq_ic(args[i], "len") {
            want_len = true;
        } else if eq_ic(args[i], "idx") {
            want_idx = true;
        } else if eq_ic(args[i], "withmatchlen") {
            with_len = true;
        } else if eq_ic(args[i], "minmatchlen") && i + 1 < args.len() {
            let Some(n) = int_arg(ctx, args[i + 1]) else {
                return;
            };
            min_len = n.max(0);
            i += 1;
        } else {
            ctx.out().error(err::SYNTAX);
            return;
        }
        i += 1;
    }
    if want_len && want_idx {
        ctx.out()
            .error("ERR If you want both the length and indexes, please just use IDX.");
        return;
    }
    let (a, b) = (&strings[0], &strings[1]);
    let limit = ctx.srv.config.proto_max_bulk_len;
    if shoal_util::lcs::lcs_table_bytes(a.len(), b.len()).is_none_or(|n| n as u64 > limit) {
        ctx.out()
            .error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
        return;
    }
    let result = shoal_util::lcs::lcs(a, b, !want_len && !want_idx, want_idx);
    let out = ctx.out();
    if want_len {
        out.int(result.len as i64);
    } else if want_idx {
        let matches: Vec<_> = result.matches.iter().filter(|m| m.len as i64 >= min_len).collect();
        out.map(2);
        out.bulk(b"matches");
        out.array(matches.len());
        for m in matches {
            out.array(if with_len { 3 } else { 2 });
            out.array(2);
            out.int(m.a.0 as i64);
            out.int(m.a.1 as i64);
            out.array(2);
            out.int(m.b.0 as i64);
            out.int(m.b.1 as i64);
            if with_len {
                out.int(m.len as i64);
            }
        }
        out.bulk(b"len");
        out.int(result.len as i64);
    } else {
        out.bulk(&result.string);
    }
}
