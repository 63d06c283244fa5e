//! Geospatial commands: GEOADD, GEOPOS, GEODIST, GEOHASH, GEOSEARCH,
//! GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and their `_RO` forms.
//!
//! A geo index is a plain sorted set whose scores are 52-bit interleaved
//! geohashes (see `shoal_util::geo`). GEOADD is ZADD with computed scores.
//! Searches visit the centre cell and its eight neighbours at a precision
//! picked from the search size, keep the members inside the shape, and answer
//! in visiting order unless ASC/DESC (or a COUNT without ANY) sorts by distance
//! (equal distances end up in Redis's order: see `sort_hits`).
//! Coordinates are printed like Redis's "human" long doubles (`%.17Lf` with
//! trailing zeros removed); distances with four decimals.

use super::{dispose, eq_ic, err, lookup_read, lookup_write, parse_int, Ctx};
use crate::notify::class;
use crate::server::Server;
use shoal_resp::Reply;
use shoal_store::zset::{cmp_entry, ZSetLimits, ZSetValue};
use shoal_store::Value;
use shoal_util::geo::{self, Shape};
use shoal_util::num::parse_f64;
use std::cmp::Ordering;

const BAD_MEMBER: &str = "ERR could not decode requested zset member";

fn limits(srv: &Server) -> ZSetLimits {
    let c = &srv.config;
    let cap = |v: u64| v.min(usize::MAX as u64) as usize;
    ZSetLimits {
        max_listpack: cap(c.zset_max_listpack_entries),
        max_value: cap(c.zset_max_listpack_value),
    }
}

/// The zset at `key`: Err after a WRONGTYPE reply, Ok(None) when missing.
fn zset<'a>(ctx: &'a mut Ctx, key: &[u8], write: bool) -> Result<Option<&'a ZSetValue>, ()> {
    let db = ctx.client.db;
    let found = if write {
        lookup_write(ctx.srv, db, key)
    } else {
        lookup_read(ctx.srv, db, key)
    };
    match found {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::ZSet(z) => Ok(Some(z)),
            _ => {
                ctx.client.out.error(err::WRONGTYPE);
                Err(())
            }
        },
    }
}

/// Redis's "human" long double text: `%.17f`, trailing zeros and dot removed.
fn human(v: f64) -> String {
    let mut s = format!("{v:.17}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" {
        s = "0".to_string();
    }
    s
}

fn reply_coord(out: &mut Reply, lon: f64, lat: f64) {
    out.array(2);
    out.double_text(&human(lon));
    out.double_text(&human(lat));
}

fn reply_dist(out: &mut Reply, d: f64) {
    out.bulk(format!("{d:.4}").as_bytes());
}

/// Meters per unit, or None after the unit error.
fn unit(out: &mut Reply, u: &[u8]) -> Option<f64> {
    let conv = if eq_ic(u, "m") {
        1.0
    } else if eq_ic(u, "km") {
        1000.0
    } else if eq_ic(u, "ft") {
        0.3048
    } else if eq_ic(u, "mi") {
        1609.34
    } else {
        out.error("ERR unsupported unit provided. please use M, KM, FT, MI");
        return None;
    };
    Some(conv)
}

/// Parses a longitude/latitude pair, replying the Redis error on failure.
fn lonlat(out: &mut Reply, lon: &[u8], lat: &[u8]) -> Option<(f64, f64)> {
    let (Some(x), Some(y)) = (parse_f64(lon), parse_f64(lat)) else {
        out.error(err::NOT_FLOAT);
        return None;
    };
    if !geo::valid(x, y) {
        out.error(&format!("ERR invalid longitude,latitude pair {x:.6},{y:.6}"));
        return None;
    }
    Some((x, y))
}

/// GEOADD key [NX|XX] [CH] longitude latitude member [...]
pub fn geoadd(ctx: &mut Ctx, args: &[&[u8]]) {
    let (mut nx, mut xx) = (false, false);
    let mut i = 2;
    while i < args.len() {
        if eq_ic(args[i], "nx") {
            nx = true;
        } else if eq_ic(args[i], "xx") {
            xx = true;
        } else if !eq_ic(args[i], "ch") {
            break;
        }
        i += 1;
    }
    let rest = &args[i..];
    if rest.is_empty() || !rest.len().is_multiple_of(3) || (nx && xx) {
        ctx.out().error(err::SYNTAX);
        return;
    }
    let mut zargs: Vec<Vec<u8>> = args[..i].iter().map(|a| a.to_vec()).collect();
    zargs[0] = b"zadd".to_vec();
    for t in rest.chunks(3) {
        let Some((lon, lat)) = lonlat(ctx.out(), t[0], t[1]) else {
            return;
        };
        zargs.push((geo::score_of(lon, lat) as u64).to_string().into_bytes());
        zargs.push(t[2].to_vec());
    }
    let refs: Vec<&[u8]> = zargs.iter().map(|a| a.as_slice()).collect();
    super::zset::zadd(ctx, &refs);
}

/// GEOPOS key [member ...]
pub fn geopos(ctx: &mut Ctx, args: &[&[u8]]) {
    let Ok(z) = zset(ctx, args[1], false) else {
        return;
    };
    let pts: Vec<Option<(f64, f64)>> = args[2..]
        .iter()
        .map(|m| z.and_then(|z| z.score(m)).map(geo::decode_score))
        .collect();
    let out = ctx.out();
    out.array(pts.len());
    for p in pts {
        match p {
            Some((lon, lat)) => reply_coord(out, lon, lat),
            None => out.null_array(),
        }
    }
}

/// GEODIST key member1 member2 [unit]
pub fn geodist(ctx: &mut Ctx, args: &[&[u8]]) {
    let conv = match args.len() {
        4 => 1.0,
        5 => match unit(ctx.out(), args[4]) {
            Some(c) => c,
            None => return,
        },
        _ => {
            ctx.out().error(err::SYNTAX);
            return;
        }
    };
    let Ok(z) = zset(ctx, args[1], false) else {
        return;
    };
    let pair = z.and_then(|z| Some((z.score(args[2])?, z.score(args[3])?)));
    match pair {
        Some((a, b)) => {
            let (lon1, lat1) = geo::decode_score(a);
            let (lon2, lat2) = geo::decode_score(b);
            let d = geo::distance(lon1, lat1, lon2, lat2) / conv;
            reply_dist(ctx.out(), d);
        }
        None => ctx.out().null(),
    }
}

/// GEOHASH key [member ...]
pub fn geohash(ctx: &mut Ctx, args: &[&[u8]]) {
    let Ok(z) = zset(ctx, args[1], false) else {
        return;
    };
    let hashes: Vec<Option<[u8; 11]>> = args[2..]
        .iter()
        .map(|m| z.and_then(|z| z.score(m)).map(geo::hash_string))
        .collect();
    let out = ctx.out();
    out.array(hashes.len());
    for h in hashes {
        match h {
            Some(h) => out.bulk(&h),
            None => out.null(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// GEORADIUS / GEORADIUS_RO: key lon lat radius unit.
    Radius { ro: bool },
    /// GEORADIUSBYMEMBER(_RO): key member radius unit.
    ByMember { ro: bool },
    /// GEOSEARCH key ...
    Search,
    /// GEOSEARCHSTORE dst src ...
    SearchStore,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    None,
    Asc,
    Desc,
}

enum Center<'a> {
    Point(f64, f64),
    Member(&'a [u8]),
}

struct Hit {
    member: Vec<u8>,
    score: f64,
    dist: f64,
    lon: f64,
    lat: f64,
}

/// Parses a non-negative distance and its unit.
fn radius_arg(out: &mut Reply, r: &[u8], u: &[u8]) -> Option<(f64, f64)> {
    let Some(r) = parse_f64(r) else {
        out.error("ERR need numeric radius");
        return None;
    };
    if r < 0.0 {
        out.error("ERR radius cannot be negative");
        return None;
    }
    Some((r, unit(out, u)?))
}

fn box_arg(out: &mut Reply, w: &[u8], h: &[u8], u: &[u8]) -> Option<(f64, f64, f64)> {
    let Some(w) = parse_f64(w) else {
        out.error("ERR need numeric width");
        return None;
    };
    let Some(h) = parse_f64(h) else {
        out.error("ERR need numeric height");
        return None;
    };
    if w < 0.0 || h < 0.0 {
        out.error("ERR height or width cannot be negative");
        return None;
    }
    Some((w, h, unit(out, u)?))
}

/// Members of `z` inside `shape`, in cell visiting order, stopping at `limit`
/// (0 = no limit).
fn collect(z: &ZSetValue, shape: Shape, conv: f64, lon: f64, lat: f64, limit: usize) -> Vec<Hit> {
    let cells = geo::search_cells(shape, conv, lon, lat);
    let mut hits = Vec::new();
    let mut last = 0usize;
    for (i, cell) in cells.iter().enumerate() {
        let Some(cell) = *cell else {
            continue;
        };
        if last != 0 && cells[last] == Some(cell) {
            continue;
        }
        if limit != 0 && hits.len() >= limit {
            break;
        }
        let (lo, hi) = cell.score_range();
        let (lo, hi) = (lo as f64, hi as f64);
        let start = z.count_below(|s, _| s < lo);
        for (m, s) in z.iter_from(start, false) {
            if s >= hi {
                break;
            }
            let (plon, plat) = geo::decode_score(s);
            if let Some(d) = geo::within(shape, conv, lon, lat, plon, plat) {
                hits.push(Hit {
                    member: m.to_vec(),
                    score: s,
                    dist: d,
                    lon: plon,
                    lat: plat,
                });
                if limit != 0 && hits.len() >= limit {
                    break;
                }
            }
        }
        last = i;
    }
    hits
}

/// Redis's `sort_gp_asc`: by distance only, so equal distances compare equal.
fn by_distance(a: &Hit, b: &Hit) -> Ordering {
    if a.dist > b.dist {
        Ordering::Greater
    } else if a.dist == b.dist {
        Ordering::Equal
    } else {
        Ordering::Less
    }
}

/// Sorts the hits as Redis 7.0 does, including the order it leaves among
/// equal distances: when every hit is returned it calls glibc's `qsort`,
/// which is a stable merge sort for arrays this size (equal distances keep
/// their visiting order, for DESC too); when COUNT cuts the result short it
/// calls its own partial quicksort (`pqsort`) for the first COUNT positions,
/// which is not stable, and [`geo::partial_qsort`] repeats its moves.
fn sort_hits(hits: &mut [Hit], order: Order, count: usize) {
    let desc = match order {
        Order::None => return,
        Order::Asc => false,
        Order::Desc => true,
    };
    let cmp = |a: &Hit, b: &Hit| {
        let o = by_distance(a, b);
        if desc {
            o.reverse()
        } else {
            o
        }
    };
    if count == 0 || count >= hits.len() {
        hits.sort_by(cmp);
    } else {
        geo::partial_qsort(hits, 0, count - 1, cmp);
    }
}

fn search(ctx: &mut Ctx, args: &[&[u8]], mode: Mode) {
    let src_idx = if mode == Mode::SearchStore { 2 } else { 1 };
    let write = matches!(
        mode,
        Mode::SearchStore | Mode::Radius { ro: false } | Mode::ByMember { ro: false }
    );
    // The source's type is checked before any argument.
    let exists = match zset(ctx, args[src_idx], write) {
        Ok(z) => z.is_some(),
        Err(()) => return,
    };
    let out = &mut ctx.client.out;
    let mut center: Option<Center> = None;
    let mut shape: Option<(Shape, f64)> = None;
    let mut base = src_idx + 1;
    match mode {
        Mode::Radius { .. } => {
            let Some((x, y)) = lonlat(out, args[2], args[3]) else {
                return;
            };
            center = Some(Center::Point(x, y));
            let Some((r, conv)) = radius_arg(out, args[4], args[5]) else {
                return;
            };
            shape = Some((Shape::Radius(r), conv));
            base = 6;
        }
        // With no source key the member and radius are not even looked at.
        Mode::ByMember { .. } if !exists => base = 5,
        Mode::ByMember { .. } => {
            // The member is resolved before the radius is parsed.
            let z = match ctx.srv.keyspace.dbs[ctx.client.db]
                .peek(args[1], i64::MIN)
                .map(|e| &e.value)
            {
                Some(Value::ZSet(z)) => z,
                _ => return,
            };
            let Some(s) = z.score(args[2]) else {
                out.error(BAD_MEMBER);
                return;
            };
            let (x, y) = geo::decode_score(s);
            center = Some(Center::Point(x, y));
            let Some((r, conv)) = radius_arg(out, args[3], args[4]) else {
                return;
            };
            shape = Some((Shape::Radius(r), conv));
            base = 5;
        }
        Mode::Search | Mode::SearchStore => {}
    }
    let searching = matches!(mode, Mode::Search | Mode::SearchStore);
    let (mut withdist, mut withhash, mut withcoord, mut any) = (false, false, false, false);
    let mut order = Order::None;
    let mut count: usize = 0;
    let mut store: Option<(&[u8], bool)> = None;
    if mode == Mode::SearchStore {
        store = Some((args[1], false));
    }
    let (mut frommember, mut fromlonlat, mut byradius, mut bybox) = (false, false, false, false);
    let mut i = base;
    while i < args.len() {
        let a = args[i];
        let left = args.len() - i - 1;
        if eq_ic(a, "withdist") {
            withdist = true;
        } else if eq_ic(a, "withhash") {
            withhash = true;
        } else if eq_ic(a, "withcoord") {
            withcoord = true;
        } else if eq_ic(a, "any") {
            any = true;
        } else if eq_ic(a, "asc") {
            order = Order::Asc;
        } else if eq_ic(a, "desc") {
            order = Order::Desc;
        } else if eq_ic(a, "count") && left >= 1 {
            let Some(n) = parse_int(args[i + 1]) else {
                out.error(err::NOT_INT);
                return;
            };
            if n <= 0 {
                out.error("ERR COUNT must be > 0");
                return;
            }
            count = n as usize;
            i += 1;
        } else if matches!(mode, Mode::Radius { ro: false } | Mode::ByMember { ro: false })
            && (eq_ic(a, "store") || eq_ic(a, "storedist"))
            && left >= 1
        {
            store = Some((args[i + 1], eq_ic(a, "storedist")));
            i += 1;
        } else if mode == Mode::SearchStore && eq_ic(a, "storedist") {
            store = Some((args[1], true));
        } else if searching && eq_ic(a, "frommember") && left >= 1 {
            if fromlonlat {
                out.error(err::SYNTAX);
                return;
            }
            // An existing source resolves the member right away.
            if exists {
                let z = match ctx.srv.keyspace.dbs[ctx.client.db]
                    .peek(args[src_idx], i64::MIN)
                    .map(|e| &e.value)
                {
                    Some(Value::ZSet(z)) => z,
                    _ => return,
                };
                let Some(s) = z.score(args[i + 1]) else {
                    out.error(BAD_MEMBER);
                    return;
                };
                let (x, y) = geo::decode_score(s);
                center = Some(Center::Point(x, y));
            } else {
                center = Some(Center::Member(args[i + 1]));
            }
            frommember = true;
            i += 1;
        } else if searching && eq_ic(a, "fromlonlat") && left >= 2 {
            if frommember {
                out.error(err::SYNTAX);
                return;
            }
            let Some((x, y)) = lonlat(out, args[i + 1], args[i + 2]) else {
                return;
            };
            center = Some(Center::Point(x, y));
            fromlonlat = true;
            i += 2;
        } else if searching && eq_ic(a, "byradius") && left >= 2 {
            if bybox {
                out.error(err::SYNTAX);
                return;
            }
            let Some((r, conv)) = radius_arg(out, args[i + 1], args[i + 2]) else {
                return;
            };
            shape = Some((Shape::Radius(r), conv));
            byradius = true;
            i += 2;
        } else if searching && eq_ic(a, "bybox") && left >= 3 {
            if byradius {
                out.error(err::SYNTAX);
                return;
            }
            let Some((w, h, conv)) = box_arg(out, args[i + 1], args[i + 2], args[i + 3]) else {
                return;
            };
            shape = Some((Shape::Box(w, h), conv));
            bybox = true;
            i += 3;
        } else {
            out.error(err::SYNTAX);
            return;
        }
        i += 1;
    }
    if store.is_some() && (withdist || withhash || withcoord) {
        out.error(if mode == Mode::SearchStore {
            "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        } else {
            "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        });
        return;
    }
    let name = String::from_utf8_lossy(args[0]).into_owned();
    if searching && !(frommember || fromlonlat) {
        out.error(&format!(
            "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        ));
        return;
    }
    if searching && !(byradius || bybox) {
        out.error(&format!(
            "ERR exactly one of BYRADIUS and BYBOX can be specified for {name}"
        ));
        return;
    }
    if any && count == 0 {
        out.error("ERR the ANY argument requires COUNT argument");
        return;
    }
    let db = ctx.client.db;
    let z = match ctx.srv.keyspace.dbs[db].peek(args[src_idx], i64::MIN).map(|e| &e.value) {
        Some(Value::ZSet(z)) => Some(z),
        _ => None,
    };
    let (Some(z), Some(center), Some((shape, conv))) = (z, center, shape) else {
        match store {
            Some((dst, _)) => {
                if let Some(old) = ctx.srv.keyspace.dbs[db].remove(dst) {
                    dispose(ctx.srv, old.into_value());
                    ctx.notify(class::GENERIC, "del", dst);
                }
                ctx.out().int(0);
            }
            None => ctx.out().array(0),
        }
        return;
    };
    let (lon, lat) = match center {
        Center::Point(x, y) => (x, y),
        Center::Member(m) => match z.score(m) {
            Some(s) => geo::decode_score(s),
            None => {
                ctx.out().error(BAD_MEMBER);
                return;
            }
        },
    };
    if count != 0 && order == Order::None && !any {
        order = Order::Asc;
    }
    let mut hits = collect(z, shape, conv, lon, lat, if any { count } else { 0 });
    sort_hits(&mut hits, order, count);
    if count != 0 && hits.len() > count {
        hits.truncate(count);
    }
    for h in &mut hits {
        h.dist /= conv;
    }
    match store {
        None => {
            let opts = withdist as usize + withhash as usize + withcoord as usize;
            let out = ctx.out();
            out.array(hits.len());
            for h in &hits {
                if opts == 0 {
                    out.bulk(&h.member);
                    continue;
                }
                out.array(opts + 1);
                out.bulk(&h.member);
                if withdist {
                    reply_dist(out, h.dist);
                }
                if withhash {
                    out.int(h.score as i64);
                }
                if withcoord {
                    reply_coord(out, h.lon, h.lat);
                }
            }
        }
        Some((dst, storedist)) => {
            let mut entries: Vec<(&[u8], f64)> = hits
                .iter()
                .map(|h| (h.member.as_slice(), if storedist { h.dist } else { h.score }))
                .collect();
            entries.sort_by(|a, b| cmp_entry(a.1, a.0, b.1, b.0));
            let n = entries.len();
            let lim = limits(ctx.srv);
            if n > 0 && crate::notify::enabled(ctx.srv, class::NEW | class::EXPIRED) {
                // As Redis's setKey: a stale destination expires first.
                let _ = lookup_write(ctx.srv, db, dst);
            }
            let old = if n == 0 {
                ctx.srv.keyspace.dbs[db].remove(dst).map(|e| e.into_value())
            } else {
                let v = ZSetValue::from_sorted(entries, lim);
                ctx.srv.keyspace.dbs[db].set(dst, Value::ZSet(v), false)
            };
            let had = old.is_some();
            if let Some(old) = old {
                dispose(ctx.srv, old);
            }
            if n > 0 {
                if !had {
                    ctx.notify(class::NEW, "new", dst);
                }
                let event = if mode == Mode::SearchStore {
                    "geosearchstore"
                } else {
                    "georadiusstore"
                };
                ctx.notify(class::ZSET, event, dst);
            } else if had {
                ctx.notify(class::GENERIC, "del", dst);
            }
            ctx.out().int(n as i64);
        }
    }
}

/// GEORADIUS key longitude latitude radius unit [options]
pub fn georadius(ctx: &mut Ctx, args: &[&[u8]]) {
    search(ctx, args, Mode::Radius { ro: false })
}

/// GEORADIUS_RO key longitude latitude radius unit [options]
pub fn georadius_ro(ctx: &mut Ctx, args: &[&[u8]]) {
    search(ctx, args, Mode::Radius { ro: true })
}

/// GEORADIUSBYMEMBER key member radius unit [options]
pub fn georadiusbymember(ctx: &mut Ctx, args: &[&[u8]]) {
    search(ctx, args, Mode::ByMember { ro: false })
}

/// GEORADIUSBYMEMBER_RO key member radius unit [options]
pub fn georadiusbymember_ro(ctx: &mut Ctx, args: &[&[u8]]) {
    search(ctx, args, Mode::ByMember { ro: true })
}

/// GEOSEARCH key FROMMEMBER m|FROMLONLAT lon lat BYRADIUS r unit|BYBOX w h unit [options]
pub fn geosearch(ctx: &mut Ctx, args: &[&[u8]]) {
    search(ctx, args, Mode::Search)
}

/// GEOSEARCHSTORE dst src ... [STOREDIST]
pub fn geosearchstore(ctx: &mut Ctx, args: &[&[u8]]) {
    search(ctx, args, Mode::SearchStore)
}
