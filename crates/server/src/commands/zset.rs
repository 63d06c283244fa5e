//! Sorted set commands: ZADD, ZINCRBY, ZSCORE/ZMSCORE, ZRANK/ZREVRANK, ZCARD,
//! the ZRANGE family (ZRANGE, ZRANGESTORE, ZREVRANGE, ZRANGEBYSCORE,
//! ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX), ZCOUNT/ZLEXCOUNT, ZREM and
//! ZREMRANGEBY*, ZPOPMIN/ZPOPMAX/ZMPOP and their blocking forms, ZRANDMEMBER,
//! ZUNION/ZINTER/ZDIFF and their STORE forms, ZINTERCARD, ZSCAN.
//!
//! The encoding thresholds (`zset-max-listpack-*`) are read from config on every
//! write and handed to the store. Scores are RESP3 doubles; WITHSCORES replies
//! are `[member, score]` pairs in RESP3 and flat in RESP2, as in Redis 7.0.

use super::hash::{parse_cursor, random_count, scan_matches, scan_options};
use super::{dispose, eq_ic, err, lookup_read, lookup_write, parse_int, Ctx};
use crate::notify::class;
use crate::server::Server;
use shoal_resp::Reply;
use shoal_store::set::SetValue;
use shoal_store::zset::{ZSetLimits, ZSetValue};
use shoal_store::Value;
use shoal_util::num::{format_double, parse_f64, parse_f64_loose};

const NAN_SCORE: &str = "ERR resulting score is not a number (NaN)";
const BAD_SCORE_RANGE: &str = "ERR min or max is not a float";
const BAD_LEX_RANGE: &str = "ERR min or max not valid string range item";

fn limits(srv: &Server) -> ZSetLimits {
    let c = &srv.config;
    let cap = |v: u64| v.min(usize::MAX as u64) as usize;
    ZSetLimits {
        max_listpack: cap(c.zset_max_listpack_entries),
        max_value: cap(c.zset_max_listpack_value),
    }
}

fn dbl(out: &mut Reply, v: f64) {
    out.double_text(&format_double(v));
}

/// Checks the type at `key`: Err after a WRONGTYPE reply, Ok(false) if missing.
fn check(srv: &mut Server, db: usize, key: &[u8], out: &mut Reply, write: bool) -> Result<bool, ()> {
    let e = if write {
        lookup_write(srv, db, key)
    } else {
        lookup_read(srv, db, key)
    };
    match e {
        None => Ok(false),
        Some(e) if matches!(e.value, Value::ZSet(_)) => Ok(true),
        Some(_) => {
            out.error(err::WRONGTYPE);
            Err(())
        }
    }
}

fn peek<'a>(srv: &'a Server, db: usize, key: &[u8]) -> Option<&'a ZSetValue> {
    match srv.keyspace.dbs[db].peek(key, i64::MIN).map(|e| &e.value) {
        Some(Value::ZSet(z)) => Some(z),
        _ => None,
    }
}

fn peek_mut<'a>(srv: &'a mut Server, db: usize, key: &[u8]) -> Option<&'a mut ZSetValue> {
    match srv.keyspace.dbs[db].get_mut(key, i64::MIN).map(|e| &mut e.value) {
        Some(Value::ZSet(z)) => Some(z),
        _ => None,
    }
}

/// The zset at `key` for reading: Err after WRONGTYPE, Ok(None) if missing.
fn read<'a>(ctx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a ZSetValue>, ()> {
    let db = ctx.client.db;
    if check(ctx.srv, db, key, &mut ctx.client.out, false)? {
        Ok(peek(ctx.srv, db, key))
    } else {
        Ok(None)
    }
}

/// Deletes `key` if its sorted set became empty (with its `del` event).
fn drop_if_empty(ctx: &mut Ctx, key: &[u8]) {
    let db = ctx.client.db;
    if peek(ctx.srv, db, key).is_some_and(|z| z.is_empty()) {
        if let Some(old) = ctx.srv.keyspace.dbs[db].remove(key) {
            dispose(ctx.srv, old.into_value());
            ctx.notify(class::GENERIC, "del", key);
        }
    }
}

/// Stores `z` at `dst` (deleting `dst` when `z` is empty, `new` when created);
/// returns its size and whether an old `dst` was deleted.
pub(crate) fn store(ctx: &mut Ctx, dst: &[u8], z: ZSetValue) -> (usize, bool) {
    let db = ctx.client.db;
    let n = z.len();
    if n > 0 && crate::notify::enabled(ctx.srv, class::NEW | class::EXPIRED) {
        // As Redis's setKey: a stale destination expires first.
        let _ = lookup_write(ctx.srv, db, dst);
    }
    let old = if n == 0 {
        ctx.srv.keyspace.dbs[db].remove(dst).map(|e| e.into_value())
    } else {
        ctx.srv.keyspace.dbs[db].set(dst, Value::ZSet(z), false)
    };
    let had = old.is_some();
    match old {
        Some(old) => dispose(ctx.srv, old),
        None if n > 0 => ctx.notify(class::NEW, "new", dst),
        None => {}
    }
    (n, had && n == 0)
}

/// After a store command answered: its event, or `del` for a deleted
/// destination.
fn store_event(ctx: &mut Ctx, dst: &[u8], (n, deleted): (usize, bool), event: &str) {
    if n > 0 {
        ctx.notify(class::ZSET, event, dst);
    } else if deleted {
        ctx.notify(class::GENERIC, "del", dst);
    }
}

/// Writes `(member, score)` pairs: flat in RESP2, nested pairs in RESP3.
fn reply_pairs<'a>(out: &mut Reply, items: impl ExactSizeIterator<Item = (&'a [u8], f64)>, withscores: bool) {
    let resp3 = out.is_resp3();
    let n = items.len();
    out.array(if withscores && !resp3 { n * 2 } else { n });
    for (m, s) in items {
        if withscores && resp3 {
            out.array(2);
        }
        out.bulk(m);
        if withscores {
            dbl(out, s);
        }
    }
}

// ---------------------------------------------------------------------------
// ZADD / ZINCRBY
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Default)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// What ZADD's pairs did to a sorted set.
#[derive(Default)]
struct AddOutcome {
    added: i64,
    updated: i64,
    /// The member's new score (INCR), if it was set.
    incr_result: Option<f64>,
    /// INCR produced NaN: stopped there.
    nan: bool,
}

fn apply_pairs(z: &mut ZSetValue, f: AddFlags, pairs: &[&[u8]], scores: &[f64], lim: ZSetLimits) -> AddOutcome {
    let mut o = AddOutcome::default();
    for (p, &score) in pairs.chunks(2).zip(scores) {
        let m = p[1];
        match z.score(m) {
            Some(cur) => {
                if f.nx {
                    continue;
                }
                let new = if f.incr { cur + score } else { score };
                if new.is_nan() {
                    o.nan = true;
                    break;
                }
                if (f.gt && new <= cur) || (f.lt && new >= cur) {
                    continue;
                }
                if new != cur {
                    z.set(m, new, lim);
                    o.updated += 1;
                }
                o.incr_result = Some(new);
            }
            None => {
                if f.xx {
                    continue;
                }
                z.set(m, score, lim);
                o.added += 1;
                o.incr_result = Some(score);
            }
        }
    }
    o
}

fn zadd_generic(ctx: &mut Ctx, key: &[u8], f: AddFlags, pairs: &[&[u8]]) {
    // Scores are all checked before anything changes; a few fit on the stack.
    let n = pairs.len() / 2;
    let mut small = [0f64; 8];
    let mut big = Vec::new();
    let scores: &mut [f64] = if n <= small.len() {
        &mut small[..n]
    } else {
        big.resize(n, 0.0);
        &mut big
    };
    for (s, p) in scores.iter_mut().zip(pairs.chunks(2)) {
        match parse_f64(p[0]) {
            Some(v) => *s = v,
            None => {
                ctx.out().error(err::NOT_FLOAT);
                return;
            }
        }
    }
    let db = ctx.client.db;
    let lim = limits(ctx.srv);
    // The usual case, an existing sorted set, takes one lookup.
    let outcome = match lookup_write(ctx.srv, db, key) {
        Some(e) => match &mut e.value {
            Value::ZSet(z) => apply_pairs(z, f, pairs, scores, lim),
            _ => {
                ctx.client.out.error(err::WRONGTYPE);
                return;
            }
        },
        None => {
            if f.xx {
                ctx.propagate_nothing();
                ctx.changed(0);
                if f.incr {
                    ctx.out().null();
                } else {
                    ctx.out().int(0);
                }
                return;
            }
            let z = ZSetValue::new_for(pairs[1].len(), lim);
            ctx.srv.keyspace.dbs[db].set(key, Value::ZSet(z), false);
            ctx.notify(class::NEW, "new", key);
            let z = peek_mut(ctx.srv, db, key).expect("zset exists");
            let o = apply_pairs(z, f, pairs, scores, lim);
            // Only a NaN increment leaves a new set empty.
            drop_if_empty(ctx, key);
            o
        }
    };
    let AddOutcome {
        added,
        updated,
        incr_result,
        nan,
    } = outcome;
    if added + updated == 0 {
        // Nothing changed: nothing to propagate (as Redis).
        ctx.propagate_nothing();
    }
    ctx.changed((added + updated) as u64);
    let out = ctx.out();
    if nan {
        out.error(NAN_SCORE);
    } else if f.incr {
        match incr_result {
            Some(v) => dbl(out, v),
            None => out.null(),
        }
    } else {
        out.int(if f.ch { added + updated } else { added });
    }
    if added + updated > 0 {
        ctx.notify(class::ZSET, if f.incr { "zincr" } else { "zadd" }, key);
    }
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
pub fn zadd(ctx: &mut Ctx, args: &[&[u8]]) {
    let mut f = AddFlags::default();
    let mut i = 2;
    while i < args.len() {
        let a = args[i];
        if eq_ic(a, "nx") {
            f.nx = true;
        } else if eq_ic(a, "xx") {
            f.xx = true;
        } else if eq_ic(a, "gt") {
            f.gt = true;
        } else if eq_ic(a, "lt") {
            f.lt = true;
        } else if eq_ic(a, "ch") {
            f.ch = true;
        } else if eq_ic(a, "incr") {
            f.incr = true;
        } else {
            break;
        }
        i += 1;
    }
    let pairs = &args[i..];
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        ctx.out().error(err::SYNTAX);
        return;
    }
    if f.nx && f.xx {
        ctx.out()
            .error("ERR XX and NX options at the same time are not compatible");
        return;
    }
    if ((f.gt || f.lt) && f.nx) || (f.gt && f.lt) {
        ctx.out()
            .error("ERR GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if f.incr && pairs.len() > 2 {
        ctx.out()
            .error("ERR INCR option supports a single increment-element pair");
        return;
    }
    zadd_generic(ctx, args[1], f, pairs);
}

/// ZINCRBY key increment member
pub fn zincrby(ctx: &mut Ctx, args: &[&[u8]]) {
    let f = AddFlags {
        incr: true,
        ..AddFlags::default()
    };
    zadd_generic(ctx, args[1], f, &args[2..4]);
}

// ---------------------------------------------------------------------------
// Point reads
// ---------------------------------------------------------------------------

pub fn zcard(ctx: &mut Ctx, args: &[&[u8]]) {
    if let Ok(z) = read(ctx, args[1]) {
        let n = z.map_or(0, |z| z.len());
        ctx.out().int(n as i64);
    }
}

pub fn zscore(ctx: &mut Ctx, args: &[&[u8]]) {
    if let Ok(z) = read(ctx, args[1]) {
        let s = z.and_then(|z| z.score(args[2]));
        let out = ctx.out();
        match s {
            Some(s) => dbl(out, s),
            None => out.null(),
        }
    }
}

pub fn zmscore(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let Ok(exists) = check(ctx.srv, db, args[1], &mut ctx.client.out, false) else {
        return;
    };
    let z = if exists { peek(ctx.srv, db, args[1]) } else { None };
    let out = &mut ctx.client.out;
    out.array(args.len() - 2);
    for m in &args[2..] {
        match z.and_then(|z| z.score(m)) {
            Some(s) => dbl(out, s),
            None => out.null(),
        }
    }
}

fn rank_generic(ctx: &mut Ctx, args: &[&[u8]], rev: bool) {
    if let Ok(z) = read(ctx, args[1]) {
        let r = z.and_then(|z| z.rank(args[2]).map(|(r, _)| if rev { z.len() - 1 - r } else { r }));
        let out = ctx.out();
        match r {
            Some(r) => out.int(r as i64),
            None => out.null(),
        }
    }
}

pub fn zrank(ctx: &mut Ctx, args: &[&[u8]]) {
    rank_generic(ctx, args, false)
}

pub fn zrevrank(ctx: &mut Ctx, args: &[&[u8]]) {
    rank_generic(ctx, args, true)
}

// ---------------------------------------------------------------------------
// Ranges
// ---------------------------------------------------------------------------

#[derive(Clone, Copy)]
struct ScoreRange {
    min: f64,
    minex: bool,
    max: f64,
    maxex: bool,
}

fn parse_score_bound(a: &[u8]) -> Option<(f64, bool)> {
    let (ex, s) = match a.first() {
        Some(b'(') => (true, &a[1..]),
        _ => (false, a),
    };
    parse_f64_loose(s).map(|v| (v, ex))
}

fn parse_score_range(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
    let (min, minex) = parse_score_bound(min)?;
    let (max, maxex) = parse_score_bound(max)?;
    Some(ScoreRange { min, minex, max, maxex })
}

impl ScoreRange {
    fn below_min(&self, s: f64) -> bool {
        s < self.min || (self.minex && s == self.min)
    }
    fn above_max(&self, s: f64) -> bool {
        s > self.max || (self.maxex && s == self.max)
    }
}

enum LexBound {
    NegInf,
    PosInf,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

fn parse_lex_bound(a: &[u8]) -> Option<LexBound> {
    match a.first() {
        Some(b'+') if a.len() == 1 => Some(LexBound::PosInf),
        Some(b'-') if a.len() == 1 => Some(LexBound::NegInf),
        Some(b'[') => Some(LexBound::Incl(a[1..].to_vec())),
        Some(b'(') => Some(LexBound::Excl(a[1..].to_vec())),
        _ => None,
    }
}

struct LexRange {
    min: LexBound,
    max: LexBound,
}

fn parse_lex_range(min: &[u8], max: &[u8]) -> Option<LexRange> {
    Some(LexRange {
        min: parse_lex_bound(min)?,
        max: parse_lex_bound(max)?,
    })
}

impl LexRange {
    /// True when no string can be in the range (`-` and `+` count as exclusive).
    fn is_empty(&self) -> bool {
        fn rank(b: &LexBound) -> (u8, &[u8], bool) {
            match b {
                LexBound::NegInf => (0, b"", true),
                LexBound::Incl(x) => (1, x, false),
                LexBound::Excl(x) => (1, x, true),
                LexBound::PosInf => (2, b"", true),
            }
        }
        let (a, b) = (rank(&self.min), rank(&self.max));
        match (a.0, a.1).cmp(&(b.0, b.1)) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal => a.2 || b.2,
            std::cmp::Ordering::Less => false,
        }
    }

    fn below_min(&self, m: &[u8]) -> bool {
        match &self.min {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Incl(x) => m < x.as_slice(),
            LexBound::Excl(x) => m <= x.as_slice(),
        }
    }
    fn above_max(&self, m: &[u8]) -> bool {
        match &self.max {
            LexBound::PosInf => false,
            LexBound::NegInf => true,
            LexBound::Incl(x) => m > x.as_slice(),
            LexBound::Excl(x) => m >= x.as_slice(),
        }
    }
}

enum Range {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

impl Range {
    fn below_min(&self, s: f64, m: &[u8]) -> bool {
        match self {
            Range::Score(r) => r.below_min(s),
            Range::Lex(r) => r.below_min(m),
            Range::Rank(..) => false,
        }
    }
    fn above_max(&self, s: f64, m: &[u8]) -> bool {
        match self {
            Range::Score(r) => r.above_max(s),
            Range::Lex(r) => r.above_max(m),
            Range::Rank(..) => false,
        }
    }

    /// Whether the range can hold anything of `z` at all: not an empty range,
    /// the last entry is not below the minimum and the first not above the
    /// maximum (what decides lex ranges over members of different scores).
    fn may_hit(&self, z: &ZSetValue) -> bool {
        if let Range::Lex(r) = self {
            if r.is_empty() {
                return false;
            }
        }
        match (z.at(0), z.len().checked_sub(1).and_then(|k| z.at(k))) {
            (Some((fm, fs)), Some((lm, ls))) => !self.below_min(ls, lm) && !self.above_max(fs, fm),
            _ => false,
        }
    }

    /// For a lex range over a listpack, where Redis's reply is defined even
    /// when members are not in lex order (scores differ), the rank Redis
    /// starts from, as its zzlFirstInLexRange / zzlLastInLexRange find it:
    /// forward, the first entry from the head not below the minimum; reverse,
    /// the first entry from the tail not above the maximum. That entry must
    /// also pass the other bound, or the range is empty (None). Walking on,
    /// Redis then only tests the far bound, stopping at the first entry that
    /// fails it, so entries beyond the near bound may be included.
    /// None when this is not a lex range over a listpack.
    fn listpack_lex_start(&self, z: &ZSetValue, rev: bool) -> Option<Option<usize>> {
        if !matches!(self, Range::Lex(_)) || !z.is_compact() {
            return None;
        }
        if !self.may_hit(z) {
            return Some(None);
        }
        let entries: Vec<(&[u8], f64)> = z.iter().collect();
        let at = if rev {
            entries.iter().rposition(|(m, s)| !self.above_max(*s, m))
        } else {
            entries.iter().position(|(m, s)| !self.below_min(*s, m))
        };
        Some(at.filter(|&k| {
            let (m, s) = entries[k];
            if rev {
                !self.below_min(s, m)
            } else {
                !self.above_max(s, m)
            }
        }))
    }

    /// Ascending ranks `lo..hi` of a score or lex range. `walk`: find `hi` by
    /// walking from `lo` while the far bound holds, as Redis's
    /// ZREMRANGEBYLEX does in a skiplist too (what differs from a rank search
    /// for members of different scores); ZLEXCOUNT uses ranks there.
    fn ranks(&self, z: &ZSetValue, walk: bool) -> (usize, usize) {
        if let Some(start) = self.listpack_lex_start(z, false) {
            let Some(lo) = start else {
                return (0, 0);
            };
            let n = z
                .iter_from(lo, false)
                .take_while(|(m, s)| !self.above_max(*s, m))
                .count();
            return (lo, lo + n);
        }
        if !self.may_hit(z) {
            return (0, 0);
        }
        let lo = z.count_below(|s, m| self.below_min(s, m));
        let hi = if z.is_compact() || walk {
            lo + z
                .iter_from(lo, false)
                .take_while(|(m, s)| !self.above_max(*s, m))
                .count()
        } else {
            z.count_below(|s, m| !self.above_max(s, m))
        };
        (lo, hi.max(lo))
    }
}

/// Normalizes a rank range to ascending `lo..hi` (empty when lo >= hi).
fn rank_bounds(start: i64, end: i64, len: usize) -> (usize, usize) {
    let n = len as i64;
    let mut start = if start < 0 { start + n } else { start };
    let mut end = if end < 0 { end + n } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= n {
        return (0, 0);
    }
    if end >= n {
        end = n - 1;
    }
    (start as usize, end as usize + 1)
}

/// Selects the entries of `range` in reply order.
fn select<'a>(z: &'a ZSetValue, range: &Range, rev: bool, offset: i64, limit: i64) -> Vec<(&'a [u8], f64)> {
    let len = z.len();
    match range {
        Range::Rank(start, end) => {
            let (lo, hi) = rank_bounds(*start, *end, len);
            if lo >= hi {
                return Vec::new();
            }
            if rev {
                z.iter_from(len - 1 - lo, true).take(hi - lo).collect()
            } else {
                z.iter_from(lo, false).take(hi - lo).collect()
            }
        }
        _ => {
            if offset < 0 || !range.may_hit(z) {
                return Vec::new();
            }
            let take = if limit < 0 { usize::MAX } else { limit as usize };
            let skip = offset as usize;
            // Where Redis starts: for a listpack lex range its linear scan,
            // else the first (last, for REV) entry not beyond the near bound.
            let start = match range.listpack_lex_start(z, rev) {
                Some(start) => start,
                None if rev => z.count_below(|s, m| !range.above_max(s, m)).checked_sub(1),
                None => Some(z.count_below(|s, m| range.below_min(s, m))),
            };
            let far = |m: &[u8], s: f64| {
                if rev {
                    range.below_min(s, m)
                } else {
                    range.above_max(s, m)
                }
            };
            let Some(k) = start.filter(|&k| z.at(k).is_some_and(|(m, s)| !far(m, s))) else {
                return Vec::new();
            };
            // As Redis: the offset is skipped without testing the range, then
            // entries are taken while they pass the far bound (which, for lex
            // ranges over members of different scores, need not hold for all
            // the entries skipped).
            z.iter_from(k, rev)
                .skip(skip)
                .take_while(|(m, s)| !far(m, *s))
                .take(take)
                .collect()
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Rank,
    Score,
    Lex,
}

/// The shared ZRANGE machinery. `args[0..3]` are `key min max` (after the
/// command name and, for ZRANGESTORE, the destination). `kind` None lets
/// BYSCORE/BYLEX choose; `rev` None lets REV choose.
fn zrange_generic(ctx: &mut Ctx, args: &[&[u8]], dst: Option<&[u8]>, kind: Option<Kind>, rev: Option<bool>) {
    let mut withscores = false;
    let mut limit: Option<(i64, i64)> = None;
    let mut k = kind.unwrap_or(Kind::Rank);
    let mut reverse = rev.unwrap_or(false);
    let mut j = 3;
    while j < args.len() {
        let a = args[j];
        let left = args.len() - j - 1;
        if eq_ic(a, "withscores") && dst.is_none() {
            withscores = true;
        } else if eq_ic(a, "limit") && left >= 2 {
            let (Some(o), Some(c)) = (parse_int(args[j + 1]), parse_int(args[j + 2])) else {
                ctx.out().error(err::NOT_INT);
                return;
            };
            limit = Some((o, c));
            j += 2;
        // REV, BYLEX and BYSCORE may each appear once, and only one BY*.
        } else if rev.is_none() && !reverse && eq_ic(a, "rev") {
            reverse = true;
        } else if kind.is_none() && k == Kind::Rank && eq_ic(a, "bylex") {
            k = Kind::Lex;
        } else if kind.is_none() && k == Kind::Rank && eq_ic(a, "byscore") {
            k = Kind::Score;
        } else {
            ctx.out().error(err::SYNTAX);
            return;
        }
        j += 1;
    }
    if limit.is_some_and(|(_, c)| c != -1) && k == Kind::Rank {
        ctx.out()
            .error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
        return;
    }
    if withscores && k == Kind::Lex {
        ctx.out()
            .error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return;
    }
    let (mut lo, mut hi) = (args[1], args[2]);
    if reverse && k != Kind::Rank {
        std::mem::swap(&mut lo, &mut hi);
    }
    let range = match k {
        Kind::Rank => {
            let (Some(a), Some(b)) = (parse_int(lo), parse_int(hi)) else {
                ctx.out().error(err::NOT_INT);
                return;
            };
            Range::Rank(a, b)
        }
        Kind::Score => match parse_score_range(lo, hi) {
            Some(r) => Range::Score(r),
            None => {
                ctx.out().error(BAD_SCORE_RANGE);
                return;
            }
        },
        Kind::Lex => match parse_lex_range(lo, hi) {
            Some(r) => Range::Lex(r),
            None => {
                ctx.out().error(BAD_LEX_RANGE);
                return;
            }
        },
    };
    let (offset, count) = limit.unwrap_or((0, -1));
    let db = ctx.client.db;
    let key = args[0];
    let Ok(exists) = check(ctx.srv, db, key, &mut ctx.client.out, dst.is_some()) else {
        return;
    };
    let z = if exists { peek(ctx.srv, db, key) } else { None };
    let items = z.map(|z| select(z, &range, reverse, offset, count)).unwrap_or_default();
    match dst {
        None => reply_pairs(&mut ctx.client.out, items.into_iter(), withscores),
        Some(dst) => {
            let mut owned: Vec<(Vec<u8>, f64)> = items.into_iter().map(|(m, s)| (m.to_vec(), s)).collect();
            if reverse {
                owned.reverse();
            }
            let lim = limits(ctx.srv);
            let z = ZSetValue::from_sorted(owned.iter().map(|(m, s)| (m.as_slice(), *s)), lim);
            let stored = store(ctx, dst, z);
            ctx.out().int(stored.0 as i64);
            store_event(ctx, dst, stored, "zrangestore");
        }
    }
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]
pub fn zrange(ctx: &mut Ctx, args: &[&[u8]]) {
    zrange_generic(ctx, &args[1..], None, None, None)
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
pub fn zrangestore(ctx: &mut Ctx, args: &[&[u8]]) {
    zrange_generic(ctx, &args[2..], Some(args[1]), None, None)
}

pub fn zrevrange(ctx: &mut Ctx, args: &[&[u8]]) {
    zrange_generic(ctx, &args[1..], None, Some(Kind::Rank), Some(true))
}

pub fn zrangebyscore(ctx: &mut Ctx, args: &[&[u8]]) {
    zrange_generic(ctx, &args[1..], None, Some(Kind::Score), Some(false))
}

pub fn zrevrangebyscore(ctx: &mut Ctx, args: &[&[u8]]) {
    zrange_generic(ctx, &args[1..], None, Some(Kind::Score), Some(true))
}

pub fn zrangebylex(ctx: &mut Ctx, args: &[&[u8]]) {
    zrange_generic(ctx, &args[1..], None, Some(Kind::Lex), Some(false))
}

pub fn zrevrangebylex(ctx: &mut Ctx, args: &[&[u8]]) {
    zrange_generic(ctx, &args[1..], None, Some(Kind::Lex), Some(true))
}

fn count_generic(ctx: &mut Ctx, args: &[&[u8]], lex: bool) {
    let range = if lex {
        match parse_lex_range(args[2], args[3]) {
            Some(r) => Range::Lex(r),
            None => {
                ctx.out().error(BAD_LEX_RANGE);
                return;
            }
        }
    } else {
        match parse_score_range(args[2], args[3]) {
            Some(r) => Range::Score(r),
            None => {
                ctx.out().error(BAD_SCORE_RANGE);
                return;
            }
        }
    };
    if let Ok(z) = read(ctx, args[1]) {
        let n = z.map_or(0, |z| {
            let (lo, hi) = range.ranks(z, false);
            hi - lo
        });
        ctx.out().int(n as i64);
    }
}

pub fn zcount(ctx: &mut Ctx, args: &[&[u8]]) {
    count_generic(ctx, args, false)
}

pub fn zlexcount(ctx: &mut Ctx, args: &[&[u8]]) {
    count_generic(ctx, args, true)
}

// ---------------------------------------------------------------------------
// Removal
// ---------------------------------------------------------------------------

pub fn zrem(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let Ok(exists) = check(ctx.srv, db, args[1], &mut ctx.client.out, true) else {
        return;
    };
    let mut removed = 0;
    if exists {
        let z = peek_mut(ctx.srv, db, args[1]).expect("zset exists");
        for m in &args[2..] {
            removed += z.remove(m) as i64;
            if z.is_empty() {
                break;
            }
        }
        if removed > 0 {
            ctx.notify(class::ZSET, "zrem", args[1]);
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

fn remrange(ctx: &mut Ctx, args: &[&[u8]], kind: Kind) {
    let range = match kind {
        Kind::Rank => {
            let (Some(a), Some(b)) = (parse_int(args[2]), parse_int(args[3])) else {
                ctx.out().error(err::NOT_INT);
                return;
            };
            Range::Rank(a, b)
        }
        Kind::Score => match parse_score_range(args[2], args[3]) {
            Some(r) => Range::Score(r),
            None => {
                ctx.out().error(BAD_SCORE_RANGE);
                return;
            }
        },
        Kind::Lex => match parse_lex_range(args[2], args[3]) {
            Some(r) => Range::Lex(r),
            None => {
                ctx.out().error(BAD_LEX_RANGE);
                return;
            }
        },
    };
    let db = ctx.client.db;
    let Ok(exists) = check(ctx.srv, db, args[1], &mut ctx.client.out, true) else {
        return;
    };
    let mut n = 0;
    if exists {
        let z = peek_mut(ctx.srv, db, args[1]).expect("zset exists");
        let (lo, hi) = match &range {
            Range::Rank(a, b) => rank_bounds(*a, *b, z.len()),
            r => r.ranks(z, true),
        };
        n = z.remove_rank_range(lo, hi);
        if n > 0 {
            let event = match kind {
                Kind::Rank => "zremrangebyrank",
                Kind::Score => "zremrangebyscore",
                Kind::Lex => "zremrangebylex",
            };
            ctx.notify(class::ZSET, event, args[1]);
        }
        drop_if_empty(ctx, args[1]);
    }
    if n == 0 {
        // Nothing removed: nothing to propagate (as Redis).
        ctx.propagate_nothing();
    }
    ctx.out().int(n as i64);
}

pub fn zremrangebyrank(ctx: &mut Ctx, args: &[&[u8]]) {
    remrange(ctx, args, Kind::Rank)
}

pub fn zremrangebyscore(ctx: &mut Ctx, args: &[&[u8]]) {
    remrange(ctx, args, Kind::Score)
}

pub fn zremrangebylex(ctx: &mut Ctx, args: &[&[u8]]) {
    remrange(ctx, args, Kind::Lex)
}

// ---------------------------------------------------------------------------
// Pops
// ---------------------------------------------------------------------------

/// Pops up to `count` entries from `key`; Ok(None) if the key is missing.
/// The caller replies with [`pop_events`] between header and entries, then
/// calls [`drop_if_empty`] (Redis's order of events and reply).
/// Owned (member, score) entries.
type Entries = Vec<(Vec<u8>, f64)>;

fn pop_n(ctx: &mut Ctx, key: &[u8], max: bool, count: usize) -> Result<Option<Entries>, ()> {
    let db = ctx.client.db;
    if !check(ctx.srv, db, key, &mut ctx.client.out, true)? {
        return Ok(None);
    }
    let z = peek_mut(ctx.srv, db, key).expect("zset exists");
    let mut items = Vec::with_capacity(count.min(z.len()));
    while items.len() < count {
        match z.pop(max) {
            Some(e) => items.push(e),
            None => break,
        }
    }
    Ok(Some(items))
}

/// The `zpopmin`/`zpopmax` event, sent when entries were popped.
fn pop_events(ctx: &mut Ctx, key: &[u8], max: bool, popped: usize) {
    if popped > 0 {
        ctx.notify(class::ZSET, if max { "zpopmax" } else { "zpopmin" }, key);
    }
}

fn pop_cmd(ctx: &mut Ctx, args: &[&[u8]], max: bool) {
    if args.len() > 3 {
        ctx.out().error(err::SYNTAX);
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
    let Ok(items) = pop_n(ctx, args[1], max, count.unwrap_or(1)) else {
        return;
    };
    let items = items.unwrap_or_default();
    if items.is_empty() {
        ctx.propagate_nothing();
    }
    let resp3 = ctx.client.out.is_resp3();
    let nested = count.is_some() && resp3;
    ctx.out().array(if nested { items.len() } else { items.len() * 2 });
    pop_events(ctx, args[1], max, items.len());
    let out = ctx.out();
    for (m, s) in &items {
        if nested {
            out.array(2);
        }
        out.bulk(m);
        dbl(out, *s);
    }
    drop_if_empty(ctx, args[1]);
}

pub fn zpopmin(ctx: &mut Ctx, args: &[&[u8]]) {
    pop_cmd(ctx, args, false)
}

pub fn zpopmax(ctx: &mut Ctx, args: &[&[u8]]) {
    pop_cmd(ctx, args, true)
}

/// The effect of popping from a sorted set: `ZPOPMIN|ZPOPMAX key [count]`.
fn propagate_pop(ctx: &mut Ctx, key: &[u8], max: bool, count: Option<usize>) {
    if ctx.propagating() {
        let name: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
        let mut argv = vec![name.to_vec(), key.to_vec()];
        if let Some(n) = count {
            argv.push(super::keyspace::int_bytes(n as i64));
        }
        ctx.propagate(argv);
    }
}

/// Pops from the first non-empty key and replies `[key, [[m, s]...]]`;
/// Ok(false) without a reply when every key is empty. The effect (ZMPOP and
/// BZMPOP, as Redis) is `ZPOPMIN|ZPOPMAX key <number popped>`.
fn mpop_serve(ctx: &mut Ctx, p: &super::MpopArgs) -> Result<bool, ()> {
    for key in &p.keys {
        if let Some(items) = pop_n(ctx, key, !p.first_end, p.count)? {
            propagate_pop(ctx, key, !p.first_end, Some(items.len()));
            let out = ctx.out();
            out.array(2);
            out.bulk(key);
            out.array(items.len());
            pop_events(ctx, key, !p.first_end, items.len());
            let out = ctx.out();
            for (m, s) in &items {
                out.array(2);
                out.bulk(m);
                dbl(out, *s);
            }
            drop_if_empty(ctx, key);
            return Ok(true);
        }
    }
    Ok(false)
}

pub fn zmpop(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(p) = super::parse_mpop(ctx, &args[1..], ("min", "max")) else {
        return;
    };
    if let Ok(false) = mpop_serve(ctx, &p) {
        ctx.propagate_nothing();
        ctx.out().null_array();
    }
}

fn bpop(ctx: &mut Ctx, args: &[&[u8]], max: bool) {
    let Some(deadline) = super::timeout_arg(ctx, args[args.len() - 1]) else {
        return;
    };
    let keys = &args[1..args.len() - 1];
    for key in keys {
        match pop_n(ctx, key, max, 1) {
            Err(()) => return,
            Ok(None) => continue,
            Ok(Some(items)) => {
                propagate_pop(ctx, key, max, None);
                let out = ctx.out();
                out.array(3);
                out.bulk(key);
                pop_events(ctx, key, max, items.len());
                let out = ctx.out();
                out.bulk(&items[0].0);
                dbl(out, items[0].1);
                drop_if_empty(ctx, key);
                return;
            }
        }
    }
    // Not served (parked, or answered nil inside EXEC): no effect.
    ctx.propagate_nothing();
    super::block_client(ctx, keys, deadline);
}

pub fn bzpopmin(ctx: &mut Ctx, args: &[&[u8]]) {
    bpop(ctx, args, false)
}

pub fn bzpopmax(ctx: &mut Ctx, args: &[&[u8]]) {
    bpop(ctx, args, true)
}

pub fn bzmpop(ctx: &mut Ctx, args: &[&[u8]]) {
    // Redis validates numkeys, keys, direction and COUNT before the timeout.
    let Some(p) = super::parse_mpop(ctx, &args[2..], ("min", "max")) else {
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

// ---------------------------------------------------------------------------
// ZRANDMEMBER
// ---------------------------------------------------------------------------

pub fn zrandmember(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let mut count = None;
    let mut withscores = false;
    if args.len() >= 3 {
        let Some(n) = random_count(ctx, args[2]) else {
            return;
        };
        if args.len() > 4 {
            ctx.out().error(err::SYNTAX);
            return;
        }
        if args.len() == 4 {
            if !eq_ic(args[3], "withscores") {
                ctx.out().error(err::SYNTAX);
                return;
            }
            // Redis doubles the count for the reply: out of range past half of i64.
            if !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&n) {
                ctx.out().error("ERR value is out of range");
                return;
            }
            withscores = true;
        }
        count = Some(n);
    }
    let Ok(exists) = check(ctx.srv, db, args[1], &mut ctx.client.out, false) else {
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
    let Some(Value::ZSet(z)) = keyspace.dbs[db].peek(args[1], i64::MIN).map(|e| &e.value) else {
        return;
    };
    let Some(count) = count else {
        out.bulk(z.random(rng).0);
        return;
    };
    let len = z.len();
    let items: Vec<(&[u8], f64)> = if count < 0 {
        (0..count.unsigned_abs()).map(|_| z.random(rng)).collect()
    } else if count as usize >= len {
        z.iter().collect()
    } else {
        let k = count as usize;
        let mut ranks: Vec<usize>;
        if k * 3 > len {
            ranks = (0..len).collect();
            while ranks.len() > k {
                let i = rng.below_usize(ranks.len());
                ranks.swap_remove(i);
            }
        } else {
            let mut seen = std::collections::HashSet::with_capacity(k);
            ranks = Vec::with_capacity(k);
            while ranks.len() < k {
                let r = rng.below_usize(len);
                if seen.insert(r) {
                    ranks.push(r);
                }
            }
        }
        ranks.into_iter().filter_map(|r| z.at(r)).collect()
    };
    reply_pairs(out, items.into_iter(), withscores);
}

// ---------------------------------------------------------------------------
// ZUNION / ZINTER / ZDIFF
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Agg {
    Sum,
    Min,
    Max,
}

/// A source of a set operation: a sorted set, or a plain set (every score 1).
enum Src<'a> {
    Missing,
    Z(&'a ZSetValue),
    S(&'a SetValue),
}

impl Src<'_> {
    fn len(&self) -> usize {
        match self {
            Src::Missing => 0,
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
        }
    }
    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Src::Missing => None,
            Src::Z(z) => z.score(m),
            Src::S(s) => s.contains(m).then_some(1.0),
        }
    }
    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Src::Missing => {}
            Src::Z(z) => z.iter().for_each(|(m, s)| f(m, s)),
            Src::S(s) => s.iter().for_each(|m| f(&m, 1.0)),
        }
    }
}

fn weighted(s: f64, w: f64) -> f64 {
    let v = s * w;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

fn aggregate(acc: f64, v: f64, agg: Agg) -> f64 {
    match agg {
        Agg::Sum => {
            let r = acc + v;
            if r.is_nan() {
                0.0
            } else {
                r
            }
        }
        // Ties (including -0 against 0) keep the accumulated value.
        Agg::Min => {
            if v < acc {
                v
            } else {
                acc
            }
        }
        Agg::Max => {
            if v > acc {
                v
            } else {
                acc
            }
        }
    }
}

/// Type-checks every source key and returns which kind each is.
fn check_sources(ctx: &mut Ctx, keys: &[&[u8]], write: bool) -> Option<Vec<u8>> {
    let db = ctx.client.db;
    let mut kinds = Vec::with_capacity(keys.len());
    for k in keys {
        let e = if write {
            lookup_write(ctx.srv, db, k)
        } else {
            lookup_read(ctx.srv, db, k)
        };
        kinds.push(match e.map(|e| &e.value) {
            None => 0,
            Some(Value::ZSet(_)) => 1,
            Some(Value::Set(_)) => 2,
            Some(_) => {
                ctx.out().error(err::WRONGTYPE);
                return None;
            }
        });
    }
    Some(kinds)
}

fn sources<'a>(srv: &'a Server, db: usize, keys: &[&[u8]], kinds: &[u8]) -> Vec<Src<'a>> {
    keys.iter()
        .zip(kinds)
        .map(
            |(k, &kind)| match (kind, srv.keyspace.dbs[db].peek(k, i64::MIN).map(|e| &e.value)) {
                (1, Some(Value::ZSet(z))) => Src::Z(z),
                (2, Some(Value::Set(s))) => Src::S(s),
                _ => Src::Missing,
            },
        )
        .collect()
}

/// Computes the operation; the result is sorted by (score, member). Union and
/// intersection accumulate the inputs smallest first (stable for equal sizes),
/// which decides the result where order matters (`inf + -inf` is 0, and MIN or
/// MAX ties between `0` and `-0`), as in Redis.
fn compute(srcs: &[Src], weights: &[f64], op: SetOp, agg: Agg) -> Vec<(Vec<u8>, f64)> {
    let mut res: Vec<(Vec<u8>, f64)> = Vec::new();
    let mut order: Vec<usize> = (0..srcs.len()).collect();
    if op != SetOp::Diff {
        order.sort_by_key(|&i| srcs[i].len());
    }
    let sorted: Vec<(&Src, f64)> = order.iter().map(|&i| (&srcs[i], weights[i])).collect();
    match op {
        SetOp::Union => {
            let mut acc: std::collections::HashMap<Vec<u8>, f64> = std::collections::HashMap::new();
            for &(src, w) in &sorted {
                src.for_each(|m, s| {
                    let v = weighted(s, w);
                    match acc.get_mut(m) {
                        Some(a) => *a = aggregate(*a, v, agg),
                        None => {
                            acc.insert(m.to_vec(), v);
                        }
                    }
                });
            }
            res = acc.into_iter().collect();
        }
        SetOp::Inter => {
            if srcs.iter().any(|s| s.len() == 0) {
                return res;
            }
            sorted[0].0.for_each(|m, _| {
                let mut acc: Option<f64> = None;
                for &(src, w) in &sorted {
                    let Some(s) = src.score(m) else {
                        return;
                    };
                    // Only the first input's product is cleaned of NaN; a
                    // NaN later on turns a SUM into 0 and loses MIN/MAX.
                    acc = Some(match acc {
                        None => weighted(s, w),
                        Some(a) => aggregate(a, s * w, agg),
                    });
                }
                if let Some(a) = acc {
                    res.push((m.to_vec(), a));
                }
            });
        }
        SetOp::Diff => {
            srcs[0].for_each(|m, s| {
                if srcs[1..].iter().all(|o| o.score(m).is_none()) {
                    res.push((m.to_vec(), s));
                }
            });
        }
    }
    res.sort_by(|a, b| shoal_store::zset::cmp_entry(a.1, &a.0, b.1, &b.0));
    res
}

/// Parses `numkeys key...` at the start of `args`, replies the error and
/// returns None when invalid.
fn numkeys_arg(ctx: &mut Ctx, args: &[&[u8]], name: &str) -> Option<usize> {
    let numkeys = match parse_int(args[0]) {
        Some(n) => n,
        None => {
            ctx.out().error(err::NOT_INT);
            return None;
        }
    };
    if numkeys < 1 {
        ctx.out()
            .error(&format!("ERR at least 1 input key is needed for '{name}' command"));
        return None;
    }
    if numkeys as u64 > (args.len() - 1) as u64 {
        ctx.out().error(err::SYNTAX);
        return None;
    }
    Some(numkeys as usize)
}

/// ZUNION/ZINTER/ZDIFF[STORE] argument handling. `args` start at numkeys.
fn setop_generic(ctx: &mut Ctx, args: &[&[u8]], dst: Option<&[u8]>, op: SetOp, name: &str) {
    let Some(nk) = numkeys_arg(ctx, args, name) else {
        return;
    };
    let keys = &args[1..1 + nk];
    let Some(kinds) = check_sources(ctx, keys, dst.is_some()) else {
        return;
    };
    let mut weights = vec![1.0f64; nk];
    let mut agg = Agg::Sum;
    let mut withscores = false;
    let mut j = 1 + nk;
    while j < args.len() {
        let left = args.len() - j - 1;
        let a = args[j];
        if op != SetOp::Diff && eq_ic(a, "weights") && left >= nk {
            for (i, w) in weights.iter_mut().enumerate() {
                match parse_f64(args[j + 1 + i]) {
                    Some(v) => *w = v,
                    None => {
                        ctx.out().error("ERR weight value is not a float");
                        return;
                    }
                }
            }
            j += nk;
        } else if op != SetOp::Diff && eq_ic(a, "aggregate") && left >= 1 {
            let v = args[j + 1];
            agg = if eq_ic(v, "sum") {
                Agg::Sum
            } else if eq_ic(v, "min") {
                Agg::Min
            } else if eq_ic(v, "max") {
                Agg::Max
            } else {
                ctx.out().error(err::SYNTAX);
                return;
            };
            j += 1;
        } else if dst.is_none() && eq_ic(a, "withscores") {
            withscores = true;
        } else {
            ctx.out().error(err::SYNTAX);
            return;
        }
        j += 1;
    }
    let db = ctx.client.db;
    let srcs = sources(ctx.srv, db, keys, &kinds);
    let res = compute(&srcs, &weights, op, agg);
    drop(srcs);
    match dst {
        None => reply_pairs(
            &mut ctx.client.out,
            res.iter().map(|(m, s)| (m.as_slice(), *s)),
            withscores,
        ),
        Some(dst) => {
            let lim = limits(ctx.srv);
            let z = ZSetValue::from_sorted(res.iter().map(|(m, s)| (m.as_slice(), *s)), lim);
            let stored = store(ctx, dst, z);
            ctx.out().int(stored.0 as i64);
            store_event(ctx, dst, stored, name);
        }
    }
}

pub fn zunion(ctx: &mut Ctx, args: &[&[u8]]) {
    setop_generic(ctx, &args[1..], None, SetOp::Union, "zunion")
}

pub fn zinter(ctx: &mut Ctx, args: &[&[u8]]) {
    setop_generic(ctx, &args[1..], None, SetOp::Inter, "zinter")
}

pub fn zdiff(ctx: &mut Ctx, args: &[&[u8]]) {
    setop_generic(ctx, &args[1..], None, SetOp::Diff, "zdiff")
}

pub fn zunionstore(ctx: &mut Ctx, args: &[&[u8]]) {
    setop_generic(ctx, &args[2..], Some(args[1]), SetOp::Union, "zunionstore")
}

pub fn zinterstore(ctx: &mut Ctx, args: &[&[u8]]) {
    setop_generic(ctx, &args[2..], Some(args[1]), SetOp::Inter, "zinterstore")
}

pub fn zdiffstore(ctx: &mut Ctx, args: &[&[u8]]) {
    setop_generic(ctx, &args[2..], Some(args[1]), SetOp::Diff, "zdiffstore")
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
pub fn zintercard(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(nk) = numkeys_arg(ctx, &args[1..], "zintercard") else {
        return;
    };
    let keys = &args[2..2 + nk];
    let Some(kinds) = check_sources(ctx, keys, false) else {
        return;
    };
    let mut limit = 0u64;
    let mut i = 2 + nk;
    while i < args.len() {
        if eq_ic(args[i], "limit") && i + 1 < args.len() {
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
    let db = ctx.client.db;
    let srcs = sources(ctx.srv, db, keys, &kinds);
    let mut n = 0u64;
    if srcs.iter().all(|s| s.len() > 0) {
        let (first, _) = srcs.iter().enumerate().min_by_key(|(_, s)| s.len()).expect("non-empty");
        let mut done = false;
        srcs[first].for_each(|m, _| {
            if done {
                return;
            }
            if srcs.iter().all(|s| s.score(m).is_some()) {
                n += 1;
                if n == limit {
                    done = true;
                }
            }
        });
    }
    ctx.out().int(n as i64);
}

// ---------------------------------------------------------------------------
// ZSCAN
// ---------------------------------------------------------------------------

pub fn zscan(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(cursor) = parse_cursor(args[2]) else {
        ctx.out().error("ERR invalid cursor");
        return;
    };
    let db = ctx.client.db;
    match check(ctx.srv, db, args[1], &mut ctx.client.out, false) {
        Err(()) => return,
        Ok(false) => {
            let out = ctx.out();
            out.array(2);
            out.bulk(b"0");
            out.array(0);
            return;
        }
        Ok(true) => {}
    }
    let Some((pattern, count)) = scan_options(ctx, args, 3) else {
        return;
    };
    let out = &mut ctx.client.out;
    let Some(z) = peek(ctx.srv, db, args[1]) else {
        return;
    };
    let mut items: Vec<(&[u8], f64)> = Vec::new();
    let next = z.scan(cursor, count, |m, s| {
        if scan_matches(pattern, m) {
            items.push((m, s));
        }
    });
    out.array(2);
    out.bulk(next.to_string().as_bytes());
    out.array(items.len() * 2);
    for (m, s) in items {
        out.bulk(m);
        out.bulk(format_double(s).as_bytes());
    }
}
