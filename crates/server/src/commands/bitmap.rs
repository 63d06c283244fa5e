//! Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.
//!
//! The bit arithmetic lives in [`shoal_util::bits`]. This file owns what Redis
//! decides around it: the order in which arguments are checked (which decides the
//! error a client sees first), how a missing or wrongly typed key answers, and how
//! written strings are stored. Parsing is kept apart from applying: `parse_*`
//! functions are pure and return the Redis error text on failure.
//!
//! Strings written here (SETBIT, BITFIELD with SET/INCRBY, BITOP) carry
//! [`FLAG_RAW`], since Redis edits them in place and `OBJECT ENCODING` says `raw`.
//! Bit offsets are bounded by `proto-max-bulk-len`, as in Redis.

use super::{dispose, eq_ic, err, lookup_read, lookup_write, parse_int, Ctx};
use crate::notify::class;
use crate::server::Server;
use shoal_store::db::FLAG_RAW;
use shoal_store::{StrRef, Value};
use shoal_util::bits::{self, BitOp, BitfieldType, Overflow, BITFIELD_TYPE_ERROR, BIT_OFFSET_ERROR};

const BIT_VALUE_ERROR: &str = "ERR bit is not an integer or out of range";
const BITPOS_BIT_ERROR: &str = "ERR The bit argument must be 1 or 0.";
const BITOP_NOT_ERROR: &str = "ERR BITOP NOT must be called with a single source key.";
const OVERFLOW_TYPE_ERROR: &str = "ERR Invalid OVERFLOW type specified";
const BITFIELD_RO_ERROR: &str = "ERR BITFIELD_RO only supports the GET subcommand";

/// A bit offset argument (SETBIT, GETBIT), limited by `proto-max-bulk-len`.
fn parse_offset(arg: &[u8], max_bulk_len: u64) -> Result<u64, &'static str> {
    bits::parse_bit_offset(arg, None, max_bulk_len).ok_or(BIT_OFFSET_ERROR)
}

/// The optional `BYTE|BIT` unit argument: true for BIT.
fn parse_unit(arg: &[u8]) -> Result<bool, &'static str> {
    if eq_ic(arg, "bit") {
        Ok(true)
    } else if eq_ic(arg, "byte") {
        Ok(false)
    } else {
        Err(err::SYNTAX)
    }
}

fn int(arg: &[u8]) -> Result<i64, &'static str> {
    parse_int(arg).ok_or(err::NOT_INT)
}

/// Looks up `key` as a string to edit in place: created empty if missing (with
/// a `new` event), made a growable raw buffer of at least `min_len` bytes (zero
/// padded) and flagged raw. Also says whether the key was created or grown
/// (Redis then reports the write even if no bit changed). Err(()) when the key
/// holds another type.
fn string_for_write<'a>(
    srv: &'a mut Server,
    me: &mut crate::client::ClientState,
    db: usize,
    key: &[u8],
    min_len: usize,
) -> Result<(&'a mut Vec<u8>, bool), ()> {
    let mut dirty = false;
    match lookup_write(srv, db, key) {
        None => {
            srv.keyspace.dbs[db].set(key, Value::Raw(Box::default()), false);
            crate::notify::notify(srv, Some(me), class::NEW, "new", db, key);
            dirty = true;
        }
        Some(e) if e.value.is_string() => {}
        Some(_) => return Err(()),
    }
    let e = lookup_write(srv, db, key).expect("string exists now");
    e.flags |= FLAG_RAW;
    let buf = e.value.make_raw();
    if buf.len() < min_len {
        buf.resize(min_len, 0);
        dirty = true;
    }
    Ok((buf, dirty))
}

/// SETBIT key offset value
pub fn setbit(ctx: &mut Ctx, args: &[&[u8]]) {
    let offset = match parse_offset(args[2], ctx.srv.config.proto_max_bulk_len) {
        Ok(o) => o,
        Err(e) => return ctx.out().error(e),
    };
    let on = match parse_int(args[3]) {
        Some(0) => false,
        Some(1) => true,
        _ => return ctx.out().error(BIT_VALUE_ERROR),
    };
    let db = ctx.client.db;
    let min_len = (offset >> 3) as usize + 1;
    match string_for_write(ctx.srv, ctx.client, db, args[1], min_len) {
        Ok((buf, dirty)) => {
            let old = bits::setbit(buf, offset, on);
            if dirty || old != on {
                ctx.notify(class::STRING, "setbit", args[1]);
            }
            ctx.client.out.int(old as i64);
        }
        Err(()) => ctx.client.out.error(err::WRONGTYPE),
    }
}

/// GETBIT key offset
pub fn getbit(ctx: &mut Ctx, args: &[&[u8]]) {
    let offset = match parse_offset(args[2], ctx.srv.config.proto_max_bulk_len) {
        Ok(o) => o,
        Err(e) => return ctx.out().error(e),
    };
    let db = ctx.client.db;
    let out = &mut ctx.client.out;
    match lookup_read(ctx.srv, db, args[1]).map(|e| e.value.str_bytes()) {
        None => out.int(0),
        Some(None) => out.error(err::WRONGTYPE),
        Some(Some(data)) => out.int(bits::getbit(&data, offset) as i64),
    }
}

/// BITCOUNT's optional `start end [BYTE|BIT]` (the arguments after the key):
/// None for the whole string, else (start, end, bit unit). Start and end are
/// checked before the unit, and a reversed negative range skips the unit check.
fn parse_bitcount_range(rest: &[&[u8]]) -> Result<Option<(i64, i64, bool)>, &'static str> {
    match rest.len() {
        0 => Ok(None),
        2 | 3 => {
            let start = int(rest[0])?;
            let end = int(rest[1])?;
            // Both from the end and reversed: Redis answers 0 before it looks at
            // the unit (`BITCOUNT k -1 -2 foo` is 0, not a syntax error).
            if start < 0 && end < 0 && start > end {
                return Ok(Some((start, end, false)));
            }
            let bit_unit = match rest.get(2) {
                Some(u) => parse_unit(u)?,
                None => false,
            };
            Ok(Some((start, end, bit_unit)))
        }
        _ => Err(err::SYNTAX),
    }
}

/// BITCOUNT key [start end [BYTE|BIT]]
///
/// Redis looks the key up before it looks at the range: a missing key counts 0
/// and a wrong type is WRONGTYPE whatever the other arguments are.
pub fn bitcount(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let out = &mut ctx.client.out;
    let Some(e) = lookup_read(ctx.srv, db, args[1]) else {
        return out.int(0);
    };
    let Some(data) = e.value.str_bytes() else {
        return out.error(err::WRONGTYPE);
    };
    match parse_bitcount_range(&args[2..]) {
        Ok(None) => out.int(bits::bitcount(&data) as i64),
        Ok(Some((start, end, bit_unit))) => out.int(bits::bitcount_range(&data, start, end, bit_unit) as i64),
        Err(e) => out.error(e),
    }
}

/// BITPOS's bit argument: an integer (else "not an integer"), then 0 or 1.
fn parse_bitpos_bit(arg: &[u8]) -> Result<bool, &'static str> {
    match int(arg)? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(BITPOS_BIT_ERROR),
    }
}

/// A parsed BITPOS range: start, end, bit unit.
type BitposRange = (Option<i64>, Option<i64>, bool);

/// BITPOS's optional `start [end [BYTE|BIT]]` (after the bit argument). Redis
/// checks the argument count first, then start, then the unit, then end.
fn parse_bitpos_range(rest: &[&[u8]]) -> Result<BitposRange, &'static str> {
    if rest.len() > 3 {
        return Err(err::SYNTAX);
    }
    let start = rest.first().map(|a| int(a)).transpose()?;
    let bit_unit = match rest.get(2) {
        Some(u) => parse_unit(u)?,
        None => false,
    };
    let end = rest.get(1).map(|a| int(a)).transpose()?;
    Ok((start, end, bit_unit))
}

/// BITPOS key bit [start [end [BYTE|BIT]]]
///
/// The bit is checked first; then a missing key answers -1 (looking for 1) or 0
/// (looking for 0) before the range is even parsed.
pub fn bitpos(ctx: &mut Ctx, args: &[&[u8]]) {
    let bit = match parse_bitpos_bit(args[2]) {
        Ok(b) => b,
        Err(e) => return ctx.out().error(e),
    };
    let db = ctx.client.db;
    let out = &mut ctx.client.out;
    let Some(e) = lookup_read(ctx.srv, db, args[1]) else {
        return out.int(if bit { -1 } else { 0 });
    };
    let Some(data) = e.value.str_bytes() else {
        return out.error(err::WRONGTYPE);
    };
    match parse_bitpos_range(&args[3..]) {
        Ok((start, end, bit_unit)) => out.int(bits::bitpos(&data, bit, start, end, bit_unit)),
        Err(e) => out.error(e),
    }
}

fn parse_bitop(arg: &[u8]) -> Option<BitOp> {
    if eq_ic(arg, "and") {
        Some(BitOp::And)
    } else if eq_ic(arg, "or") {
        Some(BitOp::Or)
    } else if eq_ic(arg, "xor") {
        Some(BitOp::Xor)
    } else if eq_ic(arg, "not") {
        Some(BitOp::Not)
    } else {
        None
    }
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]
///
/// Missing sources are empty strings. An empty result deletes the destination
/// (whatever its type) and answers 0; otherwise the destination becomes a raw
/// string without TTL and the answer is its length.
pub fn bitop(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(op) = parse_bitop(args[1]) else {
        return ctx.out().error(err::SYNTAX);
    };
    let (dest, sources) = (args[2], &args[3..]);
    if op == BitOp::Not && sources.len() != 1 {
        return ctx.out().error(BITOP_NOT_ERROR);
    }
    let db = ctx.client.db;
    // First pass: expire, count hits/misses and check types in argument order.
    for key in sources {
        if lookup_read(ctx.srv, db, key).is_some_and(|e| !e.value.is_string()) {
            return ctx.out().error(err::WRONGTYPE);
        }
    }
    // Second pass: borrow every source at once (expired keys are gone by now).
    let now = ctx.now();
    let result = {
        let dbr = &ctx.srv.keyspace.dbs[db];
        let refs: Vec<StrRef<'_>> = sources
            .iter()
            .map(|key| {
                dbr.peek(key, now)
                    .and_then(|e| e.value.str_bytes())
                    .unwrap_or(StrRef::Bytes(b""))
            })
            .collect();
        let inputs: Vec<&[u8]> = refs.iter().map(|r| &**r).collect();
        bits::bitop(op, &inputs)
    };
    let len = result.len();
    if len == 0 {
        if let Some(old) = ctx.db().remove(dest) {
            dispose(ctx.srv, old.into_value());
            ctx.notify(class::GENERIC, "del", dest);
        }
    } else {
        if crate::notify::enabled(ctx.srv, class::NEW | class::EXPIRED) {
            let _ = lookup_write(ctx.srv, db, dest);
        }
        match ctx.db().set(dest, Value::from_vec(result), false) {
            Some(old) => dispose(ctx.srv, old),
            None => ctx.notify(class::NEW, "new", dest),
        }
        if let Some(e) = lookup_write(ctx.srv, db, dest) {
            e.flags |= FLAG_RAW;
        }
        ctx.notify(class::STRING, "set", dest);
    }
    ctx.out().int(len as i64);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FieldOpKind {
    Get,
    Set,
    IncrBy,
}

/// One BITFIELD GET/SET/INCRBY, with the OVERFLOW policy in force for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FieldOp {
    kind: FieldOpKind,
    ty: BitfieldType,
    offset: u64,
    /// SET's value or INCRBY's increment.
    value: i64,
    overflow: Overflow,
}

/// Parses BITFIELD's operations (the arguments after the key). Each operation
/// is checked in order: enough arguments (else syntax error), type, offset,
/// then the value. The BITFIELD_RO restriction is the caller's, after this.
fn parse_bitfield(rest: &[&[u8]], max_bulk_len: u64) -> Result<Vec<FieldOp>, &'static str> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut i = 0;
    while i < rest.len() {
        let (name, left) = (rest[i], rest.len() - i - 1);
        let kind = if eq_ic(name, "get") && left >= 2 {
            FieldOpKind::Get
        } else if eq_ic(name, "set") && left >= 3 {
            FieldOpKind::Set
        } else if eq_ic(name, "incrby") && left >= 3 {
            FieldOpKind::IncrBy
        } else if eq_ic(name, "overflow") && left >= 1 {
            let policy = rest[i + 1];
            overflow = if eq_ic(policy, "wrap") {
                Overflow::Wrap
            } else if eq_ic(policy, "sat") {
                Overflow::Sat
            } else if eq_ic(policy, "fail") {
                Overflow::Fail
            } else {
                return Err(OVERFLOW_TYPE_ERROR);
            };
            i += 2;
            continue;
        } else {
            return Err(err::SYNTAX);
        };
        let ty = bits::parse_bitfield_type(rest[i + 1]).ok_or(BITFIELD_TYPE_ERROR)?;
        let offset = bits::parse_bit_offset(rest[i + 2], Some(ty.bits()), max_bulk_len).ok_or(BIT_OFFSET_ERROR)?;
        let value = if kind == FieldOpKind::Get { 0 } else { int(rest[i + 3])? };
        ops.push(FieldOp {
            kind,
            ty,
            offset,
            value,
            overflow,
        });
        i += if kind == FieldOpKind::Get { 3 } else { 4 };
    }
    Ok(ops)
}

/// BITFIELD key [GET type offset | SET type offset value |
/// INCRBY type offset increment | OVERFLOW WRAP|SAT|FAIL]...
pub fn bitfield(ctx: &mut Ctx, args: &[&[u8]]) {
    bitfield_generic(ctx, args, false)
}

/// BITFIELD_RO key [GET type offset]... (OVERFLOW is accepted and ignored).
pub fn bitfield_ro(ctx: &mut Ctx, args: &[&[u8]]) {
    bitfield_generic(ctx, args, true)
}

fn bitfield_generic(ctx: &mut Ctx, args: &[&[u8]], readonly: bool) {
    let ops = match parse_bitfield(&args[2..], ctx.srv.config.proto_max_bulk_len) {
        Ok(ops) => ops,
        Err(e) => return ctx.out().error(e),
    };
    let writes = ops.iter().any(|op| op.kind != FieldOpKind::Get);
    if readonly && writes {
        return ctx.out().error(BITFIELD_RO_ERROR);
    }
    let db = ctx.client.db;
    let out = &mut ctx.client.out;
    if !writes {
        // Read-only: a missing key reads as zeros and is not created.
        let Some(e) = lookup_read(ctx.srv, db, args[1]) else {
            out.array(ops.len());
            ops.iter().for_each(|_| out.int(0));
            return;
        };
        let Some(data) = e.value.str_bytes() else {
            return out.error(err::WRONGTYPE);
        };
        out.array(ops.len());
        for op in &ops {
            out.int(bits::bitfield_get(&data, op.offset, op.ty));
        }
        return;
    }
    // The string is created and grown for every write first, even those that
    // then fail under OVERFLOW FAIL, as Redis does.
    let min_len = ops
        .iter()
        .filter(|op| op.kind != FieldOpKind::Get)
        .map(|op| bits::bytes_needed(op.offset, op.ty.bits()))
        .max()
        .unwrap_or(0);
    let Ok((buf, dirty)) = string_for_write(ctx.srv, ctx.client, db, args[1], min_len) else {
        return ctx.client.out.error(err::WRONGTYPE);
    };
    let out = &mut ctx.client.out;
    // Redis reports the write when a SET/INCRBY was applied to a created or
    // grown string, or changed a value.
    let mut changed = false;
    out.array(ops.len());
    for op in &ops {
        match op.kind {
            FieldOpKind::Get => out.int(bits::bitfield_get(buf, op.offset, op.ty)),
            FieldOpKind::Set => match bits::bitfield_incr(op.value, 0, op.ty, op.overflow) {
                Some(v) => {
                    let old = bits::bitfield_set(buf, op.offset, op.ty, v);
                    changed |= dirty || old != v;
                    out.int(old)
                }
                None => out.null(),
            },
            FieldOpKind::IncrBy => {
                let old = bits::bitfield_get(buf, op.offset, op.ty);
                match bits::bitfield_incr(old, op.value, op.ty, op.overflow) {
                    Some(v) => {
                        bits::bitfield_set(buf, op.offset, op.ty, v);
                        changed |= dirty || old != v;
                        out.int(v)
                    }
                    None => out.null(),
                }
            }
        }
    }
    if changed {
        ctx.notify(class::STRING, "setbit", args[1]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: u64 = 512 * 1024 * 1024;

    fn a(s: &str) -> Vec<&[u8]> {
        s.split_whitespace().map(|w| w.as_bytes()).collect()
    }

    #[test]
    fn bitcount_range_argument_order() {
        assert_eq!(parse_bitcount_range(&a("")), Ok(None));
        assert_eq!(parse_bitcount_range(&a("0")), Err(err::SYNTAX));
        assert_eq!(parse_bitcount_range(&a("a b foo")), Err(err::NOT_INT));
        assert_eq!(parse_bitcount_range(&a("0 1 foo")), Err(err::SYNTAX));
        assert_eq!(parse_bitcount_range(&a("a b bit x")), Err(err::SYNTAX));
        assert_eq!(parse_bitcount_range(&a("1 -2 BiT")), Ok(Some((1, -2, true))));
        assert!(parse_bitcount_range(&a("-3 -4 foo")).is_ok());
        assert_eq!(parse_bitcount_range(&a("-4 -3 foo")), Err(err::SYNTAX));
    }

    #[test]
    fn bitpos_range_argument_order() {
        assert_eq!(parse_bitpos_range(&a("")), Ok((None, None, false)));
        assert_eq!(parse_bitpos_range(&a("a b BIT x")), Err(err::SYNTAX));
        assert_eq!(parse_bitpos_range(&a("a b foo")), Err(err::NOT_INT));
        assert_eq!(parse_bitpos_range(&a("0 b foo")), Err(err::SYNTAX));
        assert_eq!(parse_bitpos_range(&a("0 b bit")), Err(err::NOT_INT));
        assert_eq!(parse_bitpos_range(&a("3 -1 byte")), Ok((Some(3), Some(-1), false)));
        assert_eq!(parse_bitpos_bit(b"2"), Err(BITPOS_BIT_ERROR));
        assert_eq!(parse_bitpos_bit(b"x"), Err(err::NOT_INT));
    }

    #[test]
    fn bitfield_parsing() {
        assert_eq!(parse_bitfield(&a("GET x8"), MAX), Err(err::SYNTAX));
        assert_eq!(parse_bitfield(&a("GET x8 0 SET"), MAX), Err(BITFIELD_TYPE_ERROR));
        assert_eq!(parse_bitfield(&a("OVERFLOW x GET u8"), MAX), Err(OVERFLOW_TYPE_ERROR));
        assert_eq!(parse_bitfield(&a("SET u8 -1 x"), MAX), Err(BIT_OFFSET_ERROR));
        assert_eq!(parse_bitfield(&a("SET u8 0 x"), MAX), Err(err::NOT_INT));
        let ops = parse_bitfield(&a("get u8 #2 OVERFLOW sat incrby i5 3 -7 overflow FAIL"), MAX).unwrap();
        assert_eq!(
            ops,
            vec![
                FieldOp {
                    kind: FieldOpKind::Get,
                    ty: BitfieldType::Unsigned(8),
                    offset: 16,
                    value: 0,
                    overflow: Overflow::Wrap
                },
                FieldOp {
                    kind: FieldOpKind::IncrBy,
                    ty: BitfieldType::Signed(5),
                    offset: 3,
                    value: -7,
                    overflow: Overflow::Sat
                },
            ]
        );
        // Offsets are bounded by proto-max-bulk-len.
        assert_eq!(parse_bitfield(&a("GET u8 8388607"), 1 << 20).map(|o| o.len()), Ok(1));
        assert_eq!(parse_bitfield(&a("GET u8 8388608"), 1 << 20), Err(BIT_OFFSET_ERROR));
    }
}
