//! List commands: pushes and pops at both ends, ranges and edits, LPOS, LMOVE,
//! LMPOP, and the blocking forms (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP).

use super::{eq_ic, err, int_arg, lookup_read, lookup_write, parse_int, Ctx};
use crate::notify::class;
use shoal_store::list::{ListValue, NodeLimit};
use shoal_store::Value;

fn limit(ctx: &Ctx) -> NodeLimit {
    NodeLimit(ctx.srv.config.list_max_listpack_size as i64)
}

/// The list at `key` for writing: Ok(None) if absent, Err after a WRONGTYPE reply.
fn list_mut<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a mut ListValue>, ()> {
    let db = ctx.client.db;
    match lookup_write(ctx.srv, db, key) {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::List(l) => Ok(Some(l)),
            _ => {
                ctx.client.out.error(err::WRONGTYPE);
                Err(())
            }
        },
    }
}

/// The list at `key` for reading (counts hits/misses).
fn list_ref<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a ListValue>, ()> {
    let db = ctx.client.db;
    match lookup_read(ctx.srv, db, key) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::List(l) => Ok(Some(l)),
            _ => {
                ctx.client.out.error(err::WRONGTYPE);
                Err(())
            }
        },
    }
}

/// Deletes `key` if its list became empty (a key never holds an empty list),
/// with its `del` event.
fn drop_if_empty(ctx: &mut Ctx, key: &[u8]) {
    let db = ctx.client.db;
    let empty = matches!(lookup_write(ctx.srv, db, key), Some(e) if matches!(&e.value, Value::List(l) if l.is_empty()));
    if empty {
        ctx.srv.keyspace.dbs[db].remove(key);
        ctx.notify(class::GENERIC, "del", key);
    }
}

/// After a pop was answered: its `lpop`/`rpop` event, then the deletion of an
/// emptied list (Redis's order).
fn finish_pop(ctx: &mut Ctx, key: &[u8], front: bool) {
    ctx.notify(class::LIST, if front { "lpop" } else { "rpop" }, key);
    drop_if_empty(ctx, key);
}

/// Pushes to the head or tail; creates the list unless `only_existing`.
fn push(ctx: &mut Ctx, key: &[u8], items: &[&[u8]], front: bool, only_existing: bool) -> Option<usize> {
    let lim = limit(ctx);
    let db = ctx.client.db;
    let list = match list_mut(ctx, key) {
        Err(()) => return None,
        Ok(Some(l)) => l,
        Ok(None) => {
            if only_existing {
                return Some(0);
            }
            ctx.srv.keyspace.dbs[db].set(key, Value::List(Box::default()), false);
            ctx.notify(class::NEW, "new", key);
            // Not looked up again: that would count an access to the new
            // key (an LFU counter of 6 instead of Redis's 5).
            match ctx.srv.keyspace.dbs[db].get_mut(key, i64::MIN).map(|e| &mut e.value) {
                Some(Value::List(l)) => l,
                _ => unreachable!("just created"),
            }
        }
    };
    for it in items {
        if front {
            list.push_front(it, lim);
        } else {
            list.push_back(it, lim);
        }
    }
    Some(list.len())
}

fn push_cmd(ctx: &mut Ctx, args: &[&[u8]], front: bool, only_existing: bool) {
    if let Some(n) = push(ctx, args[1], &args[2..], front, only_existing) {
        if n == 0 {
            // LPUSHX/RPUSHX on no list changed nothing: nothing to propagate.
            ctx.propagate_nothing();
        }
        ctx.changed(if n == 0 { 0 } else { args.len() as u64 - 2 });
        ctx.out().int(n as i64);
        if n > 0 {
            ctx.notify(class::LIST, if front { "lpush" } else { "rpush" }, args[1]);
        }
    }
}

pub fn lpush(ctx: &mut Ctx, args: &[&[u8]]) {
    push_cmd(ctx, args, true, false)
}
pub fn rpush(ctx: &mut Ctx, args: &[&[u8]]) {
    push_cmd(ctx, args, false, false)
}
pub fn lpushx(ctx: &mut Ctx, args: &[&[u8]]) {
    push_cmd(ctx, args, true, true)
}
pub fn rpushx(ctx: &mut Ctx, args: &[&[u8]]) {
    push_cmd(ctx, args, false, true)
}

/// Pops up to `count` items from one end. The caller answers, then calls
/// [`finish_pop`] when items were popped (an emptied list is deleted there).
fn pop_n(ctx: &mut Ctx, key: &[u8], front: bool, count: usize) -> Result<Option<Vec<Vec<u8>>>, ()> {
    let Some(list) = list_mut(ctx, key)? else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(count.min(list.len()));
    while out.len() < count {
        match if front { list.pop_front() } else { list.pop_back() } {
            Some(v) => out.push(v),
            None => break,
        }
    }
    Ok(Some(out))
}

fn pop_cmd(ctx: &mut Ctx, args: &[&[u8]], front: bool) {
    if args.len() > 3 {
        super::wrong_arity(ctx.out(), if front { "lpop" } else { "rpop" });
        return;
    }
    let count = if args.len() == 3 {
        match parse_int(args[2]) {
            Some(n) if n >= 0 => Some(n as usize),
            _ => {
                ctx.out().error("ERR value is out of range, must be positive");
                return;
            }
        }
    } else {
        None
    };
    match pop_n(ctx, args[1], front, count.unwrap_or(1)) {
        Err(()) => {}
        Ok(None) => {
            ctx.propagate_nothing();
            ctx.changed(0);
            if count.is_some() {
                ctx.out().null_array()
            } else {
                ctx.out().null()
            }
        }
        Ok(Some(items)) => {
            if items.is_empty() {
                ctx.propagate_nothing();
            }
            ctx.changed(items.len() as u64);
            let out = ctx.out();
            if count.is_some() {
                out.array(items.len());
                for it in &items {
                    out.bulk(it);
                }
            } else {
                out.bulk(&items[0]);
            }
            if !items.is_empty() {
                finish_pop(ctx, args[1], front);
            }
        }
    }
}

pub fn lpop(ctx: &mut Ctx, args: &[&[u8]]) {
    pop_cmd(ctx, args, true)
}
pub fn rpop(ctx: &mut Ctx, args: &[&[u8]]) {
    pop_cmd(ctx, args, false)
}

pub fn llen(ctx: &mut Ctx, args: &[&[u8]]) {
    if let Ok(l) = list_ref(ctx, args[1]) {
        let n = l.map_or(0, |l| l.len());
        ctx.out().int(n as i64);
    }
}

/// Normalizes a Redis index (negative counts from the end).
fn norm(index: i64, len: usize) -> i64 {
    if index < 0 {
        index + len as i64
    } else {
        index
    }
}

pub fn lindex(ctx: &mut Ctx, args: &[&[u8]]) {
    // Redis looks the key up before it parses the index.
    let Ok(l) = list_ref(ctx, args[1]) else {
        return;
    };
    let Some(l) = l else {
        ctx.out().null();
        return;
    };
    let len = l.len();
    let Some(index) = parse_int(args[2]) else {
        ctx.out().error(err::NOT_INT);
        return;
    };
    let i = norm(index, len);
    let item = if i < 0 {
        None
    } else {
        match list_ref(ctx, args[1]) {
            Ok(Some(l)) => l.get(i as usize),
            _ => None,
        }
    };
    match item {
        Some(v) => ctx.out().bulk(&v),
        None => ctx.out().null(),
    }
}

pub fn lset(ctx: &mut Ctx, args: &[&[u8]]) {
    let lim = limit(ctx);
    // Redis checks the key (missing, wrong type) before it parses the index.
    match list_mut(ctx, args[1]) {
        Err(()) => return,
        Ok(None) => {
            ctx.out().error(err::NO_KEY);
            return;
        }
        Ok(Some(_)) => {}
    }
    let Some(index) = int_arg(ctx, args[2]) else {
        return;
    };
    let ok = match list_mut(ctx, args[1]) {
        Ok(Some(l)) => {
            let i = norm(index, l.len());
            i >= 0 && l.set(i as usize, args[3], lim)
        }
        _ => false,
    };
    if ok {
        ctx.out().ok();
        ctx.notify(class::LIST, "lset", args[1]);
    } else {
        ctx.out().error("ERR index out of range");
    }
}

/// Clamps LRANGE/LTRIM bounds; None when the range is empty.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let start = norm(start, len).max(0);
    let end = norm(end, len);
    if start > end || start >= len as i64 {
        return None;
    }
    let end = end.min(len as i64 - 1);
    Some((start as usize, end as usize))
}

pub fn lrange(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(start) = int_arg(ctx, args[2]) else {
        return;
    };
    let Some(end) = int_arg(ctx, args[3]) else {
        return;
    };
    let db = ctx.client.db;
    let srv = &mut *ctx.srv;
    let out = &mut ctx.client.out;
    match lookup_read(srv, db, args[1]).map(|e| &e.value) {
        None => out.array(0),
        Some(Value::List(l)) => match clamp_range(start, end, l.len()) {
            None => out.array(0),
            Some((s, e)) => {
                out.array(e - s + 1);
                l.range(s, e, |it| out.bulk(it));
            }
        },
        Some(_) => out.error(err::WRONGTYPE),
    }
}

pub fn ltrim(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(start) = int_arg(ctx, args[2]) else {
        return;
    };
    let Some(end) = int_arg(ctx, args[3]) else {
        return;
    };
    let (exists, trimmed) = match list_mut(ctx, args[1]) {
        Err(()) => return,
        Ok(None) => (false, false),
        Ok(Some(l)) => {
            let before = l.len();
            match clamp_range(start, end, l.len()) {
                None => l.trim(1, 0),
                Some((s, e)) => l.trim(s, e),
            }
            (true, l.len() != before)
        }
    };
    if !trimmed {
        // Nothing removed: nothing to propagate (as Redis).
        ctx.propagate_nothing();
    }
    if exists {
        ctx.notify(class::LIST, "ltrim", args[1]);
    }
    drop_if_empty(ctx, args[1]);
    ctx.out().ok();
}

pub fn lrem(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(count) = int_arg(ctx, args[2]) else {
        return;
    };
    let lim = limit(ctx);
    let removed = match list_mut(ctx, args[1]) {
        Err(()) => return,
        Ok(None) => 0,
        Ok(Some(l)) => l.remove(args[3], count, lim),
    };
    if removed == 0 {
        // Nothing changed: nothing to propagate (as Redis).
        ctx.propagate_nothing();
    } else {
        ctx.notify(class::LIST, "lrem", args[1]);
    }
    drop_if_empty(ctx, args[1]);
    ctx.out().int(removed as i64);
}

pub fn linsert(ctx: &mut Ctx, args: &[&[u8]]) {
    let after = if eq_ic(args[2], "after") {
        true
    } else if eq_ic(args[2], "before") {
        false
    } else {
        ctx.out().error(err::SYNTAX);
        return;
    };
    let lim = limit(ctx);
    let reply = match list_mut(ctx, args[1]) {
        Err(()) => return,
        Ok(None) => 0,
        Ok(Some(l)) => {
            if l.insert(args[3], args[4], after, lim) {
                l.len() as i64
            } else {
                -1
            }
        }
    };
    if reply <= 0 {
        // No list or no pivot: nothing changed, nothing to propagate.
        ctx.propagate_nothing();
    } else {
        ctx.notify(class::LIST, "linsert", args[1]);
    }
    ctx.out().int(reply);
}

pub fn lpos(ctx: &mut Ctx, args: &[&[u8]]) {
    let (mut rank, mut count, mut maxlen) = (1i64, None::<usize>, 0usize);
    let mut i = 3;
    while i < args.len() {
        if i + 1 >= args.len() {
            ctx.out().error(err::SYNTAX);
            return;
        }
        let parsed = parse_int(args[i + 1]);
        if eq_ic(args[i], "rank") && parsed.is_none() {
            ctx.out().error(err::NOT_INT);
            return;
        }
        // COUNT and MAXLEN share one message for "not a number" and "negative".
        let n = parsed.unwrap_or(-1);
        if eq_ic(args[i], "rank") {
            if n == 0 {
                ctx.out().error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
                return;
            }
            // Redis 7.0 negates the rank in C, where -i64::MIN wraps to itself and
            // then behaves like -1: the first match from the tail.
            rank = if n == i64::MIN { -1 } else { n };
        } else if eq_ic(args[i], "count") {
            if n < 0 {
                ctx.out().error("ERR COUNT can't be negative");
                return;
            }
            count = Some(n as usize);
        } else if eq_ic(args[i], "maxlen") {
            if n < 0 {
                ctx.out().error("ERR MAXLEN can't be negative");
                return;
            }
            maxlen = n as usize;
        } else {
            ctx.out().error(err::SYNTAX);
            return;
        }
        i += 2;
    }
    let Ok(l) = list_ref(ctx, args[1]) else {
        return;
    };
    let mut found = Vec::new();
    if let Some(l) = l {
        let want = match count {
            Some(0) => usize::MAX,
            Some(n) => n,
            None => 1,
        };
        let mut skip = rank.unsigned_abs() as usize - 1;
        let len = l.len();
        let items: Box<dyn Iterator<Item = (usize, &[u8])>> = if rank > 0 {
            Box::new(l.iter().enumerate())
        } else {
            Box::new(l.iter().rev().enumerate().map(move |(i, v)| (len - 1 - i, v)))
        };
        for (scanned, (idx, it)) in items.enumerate() {
            if maxlen != 0 && scanned >= maxlen {
                break;
            }
            if it == args[2] {
                if skip > 0 {
                    skip -= 1;
                } else {
                    found.push(idx);
                    if found.len() >= want {
                        break;
                    }
                }
            }
        }
    }
    let out = ctx.out();
    match count {
        None => match found.first() {
            Some(&i) => out.int(i as i64),
            None => out.null(),
        },
        Some(_) => {
            out.array(found.len());
            for i in found {
                out.int(i as i64);
            }
        }
    }
}

/// Parses LEFT|RIGHT; true = left.
fn side(arg: &[u8]) -> Option<bool> {
    if eq_ic(arg, "left") {
        Some(true)
    } else if eq_ic(arg, "right") {
        Some(false)
    } else {
        None
    }
}

/// LMOVE's core: pops from `src`, pushes to `dst` (with its events). Ok(None)
/// when `src` is empty. The caller answers, then calls [`finish_pop`] on `src`.
fn move_item(ctx: &mut Ctx, src: &[u8], dst: &[u8], from_left: bool, to_left: bool) -> Result<Option<Vec<u8>>, ()> {
    if list_mut(ctx, src)?.is_none() {
        return Ok(None);
    }
    // The destination's type is checked before anything moves.
    list_mut(ctx, dst)?;
    let item = match pop_n(ctx, src, from_left, 1)? {
        Some(mut v) if !v.is_empty() => v.remove(0),
        _ => return Ok(None),
    };
    push(ctx, dst, &[&item], to_left, false).ok_or(())?;
    ctx.notify(class::LIST, if to_left { "lpush" } else { "rpush" }, dst);
    Ok(Some(item))
}

fn lmove_generic(ctx: &mut Ctx, src: &[u8], dst: &[u8], from_left: bool, to_left: bool) {
    match move_item(ctx, src, dst, from_left, to_left) {
        Err(()) => {}
        Ok(None) => {
            ctx.propagate_nothing();
            ctx.out().null()
        }
        Ok(Some(item)) => {
            ctx.out().bulk(&item);
            finish_pop(ctx, src, from_left);
        }
    }
}

/// The effect of popping from a list: `LPOP|RPOP key [count]`.
fn propagate_pop(ctx: &mut Ctx, key: &[u8], front: bool, count: Option<usize>) {
    if ctx.propagating() {
        let name: &[u8] = if front { b"LPOP" } else { b"RPOP" };
        let mut argv = vec![name.to_vec(), key.to_vec()];
        if let Some(n) = count {
            argv.push(super::keyspace::int_bytes(n as i64));
        }
        ctx.propagate(argv);
    }
}

pub fn lmove(ctx: &mut Ctx, args: &[&[u8]]) {
    let (Some(from), Some(to)) = (side(args[3]), side(args[4])) else {
        ctx.out().error(err::SYNTAX);
        return;
    };
    lmove_generic(ctx, args[1], args[2], from, to)
}

pub fn rpoplpush(ctx: &mut Ctx, args: &[&[u8]]) {
    lmove_generic(ctx, args[1], args[2], false, true)
}

/// Pops from the first non-empty list; replies `[key, [items]]`. Returns false
/// (with no reply) when every list is empty. The effect (LMPOP and BLMPOP, as
/// Redis) is `LPOP|RPOP key <number popped>`.
fn mpop_serve(ctx: &mut Ctx, p: &super::MpopArgs) -> Result<bool, ()> {
    for key in &p.keys {
        if let Some(items) = pop_n(ctx, key, p.first_end, p.count)? {
            propagate_pop(ctx, key, p.first_end, Some(items.len()));
            let out = ctx.out();
            out.array(2);
            out.bulk(key);
            out.array(items.len());
            for it in &items {
                out.bulk(it);
            }
            finish_pop(ctx, key, p.first_end);
            return Ok(true);
        }
    }
    Ok(false)
}

pub fn lmpop(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(p) = super::parse_mpop(ctx, &args[1..], ("left", "right")) else {
        return;
    };
    if let Ok(false) = mpop_serve(ctx, &p) {
        ctx.propagate_nothing();
        ctx.out().null_array();
    }
}

fn bpop(ctx: &mut Ctx, args: &[&[u8]], front: bool) {
    let Some(deadline) = super::timeout_arg(ctx, args[args.len() - 1]) else {
        return;
    };
    let keys = &args[1..args.len() - 1];
    for key in keys {
        match pop_n(ctx, key, front, 1) {
            Err(()) => return,
            Ok(None) => continue,
            Ok(Some(items)) => {
                propagate_pop(ctx, key, front, None);
                let out = ctx.out();
                out.array(2);
                out.bulk(key);
                out.bulk(&items[0]);
                finish_pop(ctx, key, front);
                return;
            }
        }
    }
    // Not served (parked, or answered nil inside EXEC): no effect.
    ctx.propagate_nothing();
    super::block_client(ctx, keys, deadline);
}

pub fn blpop(ctx: &mut Ctx, args: &[&[u8]]) {
    bpop(ctx, args, true)
}
pub fn brpop(ctx: &mut Ctx, args: &[&[u8]]) {
    bpop(ctx, args, false)
}

/// BLMOVE and BRPOPLPUSH (`sides` None): served, they propagate as LMOVE and
/// RPOPLPUSH, as Redis does (BLMOVE served at once keeps the sides as the
/// client wrote them; served after waiting, they are written in lower case).
fn blmove_generic(
    ctx: &mut Ctx,
    src: &[u8],
    dst: &[u8],
    from_left: bool,
    to_left: bool,
    timeout: &[u8],
    sides: Option<(&[u8], &[u8])>,
) {
    let Some(deadline) = super::timeout_arg(ctx, timeout) else {
        return;
    };
    ctx.propagate_nothing();
    match move_item(ctx, src, dst, from_left, to_left) {
        Err(()) => {}
        Ok(Some(item)) => {
            if ctx.propagating() {
                let argv = match sides {
                    None => vec![b"RPOPLPUSH".to_vec(), src.to_vec(), dst.to_vec()],
                    Some((from, to)) => {
                        let woken = ctx.client.blocked.is_some();
                        let name = |arg: &[u8], left: bool| match (woken, left) {
                            (false, _) => arg.to_vec(),
                            (true, true) => b"left".to_vec(),
                            (true, false) => b"right".to_vec(),
                        };
                        vec![
                            b"LMOVE".to_vec(),
                            src.to_vec(),
                            dst.to_vec(),
                            name(from, from_left),
                            name(to, to_left),
                        ]
                    }
                };
                ctx.propagate(argv);
            }
            ctx.out().bulk(&item);
            finish_pop(ctx, src, from_left);
        }
        // Inside EXEC Redis answers BLMOVE/BRPOPLPUSH with a null bulk string.
        Ok(None) if ctx.client.in_exec => ctx.out().null(),
        Ok(None) => super::block_client(ctx, &[src], deadline),
    }
}

pub fn blmove(ctx: &mut Ctx, args: &[&[u8]]) {
    let (Some(from), Some(to)) = (side(args[3]), side(args[4])) else {
        ctx.out().error(err::SYNTAX);
        return;
    };
    blmove_generic(ctx, args[1], args[2], from, to, args[5], Some((args[3], args[4])))
}

pub fn brpoplpush(ctx: &mut Ctx, args: &[&[u8]]) {
    blmove_generic(ctx, args[1], args[2], false, true, args[3], None)
}

pub fn blmpop(ctx: &mut Ctx, args: &[&[u8]]) {
    // Redis validates numkeys, keys, direction and COUNT before the timeout.
    let Some(p) = super::parse_mpop(ctx, &args[2..], ("left", "right")) else {
        return;
    };
    let Some(deadline) = super::timeout_arg(ctx, args[1]) else {
        return;
    };
    if let Ok(false) = mpop_serve(ctx, &p) {
        let keys = p.keys.clone();
        ctx.propagate_nothing();
        super::block_client(ctx, &keys, deadline);
    }
}
