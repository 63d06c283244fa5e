//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.
//!
//! An HLL is an ordinary string value (TYPE string, GET shows its bytes); the
//! format and the algorithm live in [`shoal_util::hll`]. This file decides what
//! Redis decides around them: which keys are looked up for reading or writing,
//! the type check ("WRONGTYPE" for other types, "not a valid HyperLogLog" for
//! other strings, "INVALIDOBJ" for inconsistent ones), when the cached
//! cardinality is written back (PFCOUNT of one key) and which strings end up
//! `raw` (every HLL Redis touches for writing, as it unshares it first).

use super::{eq_ic, err, lookup_read, lookup_write, Ctx};
use crate::notify::class;
use crate::server::Server;
use shoal_store::db::FLAG_RAW;
use shoal_store::{Entry, Value};
use shoal_util::hll;

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

/// Why a key cannot be used as an HLL.
enum Bad {
    WrongType,
    NotHll,
}

impl Bad {
    fn text(&self) -> &'static str {
        match self {
            Bad::WrongType => err::WRONGTYPE,
            Bad::NotHll => NOT_HLL,
        }
    }
}

/// Redis's HLL type check of a stored value.
fn check(v: &Value) -> Result<(), Bad> {
    match v {
        Value::Int(_) => Err(Bad::NotHll),
        _ => match v.str_bytes() {
            None => Err(Bad::WrongType),
            Some(b) if hll::is_hll(&b) => Ok(()),
            Some(_) => Err(Bad::NotHll),
        },
    }
}

/// Runs `f` on the bytes of an HLL entry as a growable buffer (the entry becomes
/// `raw`, as Redis unshares it), then shrinks short values back inline.
fn edit<R>(e: &mut Entry, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    e.flags |= FLAG_RAW;
    let r = f(e.value.make_raw());
    e.value.compact();
    r
}

/// The entry of an HLL key for writing, created empty when missing. Second: created.
fn hll_for_write<'a>(srv: &'a mut Server, db: usize, key: &[u8]) -> Result<(&'a mut Entry, bool), Bad> {
    let created = match lookup_write(srv, db, key) {
        None => {
            srv.keyspace.dbs[db].set(key, Value::from_vec(hll::new_sparse()), false);
            true
        }
        Some(e) => {
            check(&e.value)?;
            false
        }
    };
    let e = lookup_write(srv, db, key).expect("exists now");
    Ok((e, created))
}

/// PFADD key [element ...]
pub fn pfadd(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let max_bytes = ctx.srv.config.hll_sparse_max_bytes;
    let (e, created) = match hll_for_write(ctx.srv, db, args[1]) {
        Ok(x) => x,
        Err(bad) => return ctx.client.out.error(bad.text()),
    };
    let res = edit(e, |buf| {
        // Registers set before a corrupt spot stay set, as in Redis.
        let updated = created | hll::add_all(buf, args[2..].iter().copied(), max_bytes)?;
        if updated {
            hll::invalidate(buf);
        }
        Ok(updated)
    });
    if created {
        ctx.notify(class::NEW, "new", args[1]);
    }
    match res {
        Ok(updated) => {
            if !updated {
                // Nothing changed: nothing to propagate (as Redis).
                ctx.propagate_nothing();
            } else {
                ctx.notify(class::STRING, "pfadd", args[1]);
            }
            ctx.client.out.int(updated as i64)
        }
        Err(hll::Corrupt) => ctx.client.out.error(CORRUPT),
    }
}

/// PFCOUNT key [key ...]
pub fn pfcount(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    if args.len() > 2 {
        // Merge on the fly into one byte per register; nothing is written.
        let mut max = vec![0u8; hll::REGISTERS];
        for key in &args[1..] {
            let Some(e) = lookup_read(ctx.srv, db, key) else {
                continue;
            };
            if let Err(bad) = check(&e.value) {
                return ctx.client.out.error(bad.text());
            }
            let bytes = e.value.str_bytes().expect("checked string");
            if hll::merge_into(&mut max, &bytes).is_err() {
                return ctx.client.out.error(CORRUPT);
            }
        }
        let card = hll::count_registers(&max);
        return ctx.client.out.int(card as i64);
    }
    let Some(e) = lookup_read(ctx.srv, db, args[1]) else {
        return ctx.client.out.int(0);
    };
    if let Err(bad) = check(&e.value) {
        return ctx.client.out.error(bad.text());
    }
    let cached = hll::cached(&e.value.str_bytes().expect("checked string"));
    let recomputed = cached.is_none();
    let card = match cached {
        Some(card) => {
            e.flags |= FLAG_RAW;
            Ok(card)
        }
        // Recompute and store it: this "read-only" command writes the value.
        None => edit(e, |buf| {
            let card = hll::count(buf)?;
            hll::set_cached(buf, card);
            Ok(card)
        }),
    };
    match card {
        Ok(card) => {
            ctx.client.out.int(card as i64);
            // The cached cardinality changed the value's bytes: like Redis,
            // this read-only command then propagates itself.
            if recomputed && ctx.propagating() {
                ctx.propagate(args.iter().map(|a| a.to_vec()).collect());
            }
        }
        Err(hll::Corrupt) => ctx.client.out.error(CORRUPT),
    }
}

/// PFMERGE destkey [sourcekey ...]: the destination counts as a source too.
pub fn pfmerge(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let max_bytes = ctx.srv.config.hll_sparse_max_bytes;
    let mut max = vec![0u8; hll::REGISTERS];
    let mut dense = false;
    for key in &args[1..] {
        let Some(e) = lookup_read(ctx.srv, db, key) else {
            continue;
        };
        if let Err(bad) = check(&e.value) {
            return ctx.client.out.error(bad.text());
        }
        let bytes = e.value.str_bytes().expect("checked string");
        dense |= bytes[4] == hll::DENSE;
        if hll::merge_into(&mut max, &bytes).is_err() {
            return ctx.client.out.error(CORRUPT);
        }
    }
    let (e, created) = match hll_for_write(ctx.srv, db, args[1]) {
        Ok(x) => x,
        Err(bad) => return ctx.client.out.error(bad.text()),
    };
    let res = edit(e, |buf| hll::store_merged(buf, &max, dense, max_bytes));
    if created {
        ctx.notify(class::NEW, "new", args[1]);
    }
    match res {
        Ok(()) => {
            ctx.notify(class::STRING, "pfadd", args[1]);
            ctx.client.out.ok()
        }
        Err(hll::Corrupt) => ctx.client.out.error(CORRUPT),
    }
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key
pub fn pfdebug(ctx: &mut Ctx, args: &[&[u8]]) {
    let db = ctx.client.db;
    let sub = args[1];
    let Some(e) = lookup_write(ctx.srv, db, args[2]) else {
        return ctx.client.out.error("ERR The specified key does not exist");
    };
    if let Err(bad) = check(&e.value) {
        return ctx.client.out.error(bad.text());
    }
    e.flags |= FLAG_RAW;
    let out = &mut ctx.client.out;
    if eq_ic(sub, "getreg") {
        match edit(e, hll::to_dense) {
            Ok(()) => {
                let bytes = e.value.str_bytes().expect("checked string");
                out.array(hll::REGISTERS);
                for i in 0..hll::REGISTERS {
                    out.int(hll::dense_register(&bytes, i) as i64);
                }
            }
            Err(hll::Corrupt) => out.error(CORRUPT),
        }
    } else if eq_ic(sub, "decode") {
        let bytes = e.value.str_bytes().expect("checked string");
        if bytes[4] != hll::SPARSE {
            return out.error("ERR HLL encoding is not sparse");
        }
        out.bulk(hll::decode_sparse(&bytes).as_bytes());
    } else if eq_ic(sub, "encoding") {
        let bytes = e.value.str_bytes().expect("checked string");
        out.simple(if bytes[4] == hll::DENSE { "dense" } else { "sparse" });
    } else if eq_ic(sub, "todense") {
        let sparse = e.value.str_bytes().expect("checked string")[4] == hll::SPARSE;
        match edit(e, hll::to_dense) {
            Ok(()) => out.int(sparse as i64),
            Err(hll::Corrupt) => out.error(CORRUPT),
        }
    } else {
        let sub = crate::dispatch::until_nul(sub);
        out.error(&format!(
            "ERR Unknown PFDEBUG subcommand '{}'",
            String::from_utf8_lossy(sub)
        ));
    }
}

/// PFSELFTEST: checks the register packing and that sparse and dense forms
/// agree, replying OK or the first failure.
pub fn pfselftest(ctx: &mut Ctx, _args: &[&[u8]]) {
    match hll::self_test() {
        Ok(()) => ctx.client.out.ok(),
        Err(msg) => ctx.client.out.error(&format!("ERR {msg}")),
    }
}
