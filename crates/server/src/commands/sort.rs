//! SORT and SORT_RO.
//!
//! `SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC]
//! [ALPHA] [STORE destination]` over a list, set or sorted set.
//!
//! Patterns: the first `*` is replaced by the element; a `->field` after it
//! reads a hash field instead of a string; `#` alone is the element itself. A
//! BY pattern without `*` (conventionally `nosort`) skips sorting: lists and
//! sorted sets then keep their native order (reversed by DESC) and LIMIT picks
//! the range directly; a set sorted that way for STORE (or from a script) is
//! sorted ALPHA instead so the result is deterministic.
//!
//! Numeric sorting parses the weights like `strtod` must consume them fully;
//! equal weights fall back to comparing the elements as binary strings.
//! ALPHA compares bytes up to the first NUL (`strcoll` in the C locale), or
//! whole binary strings with STORE (Redis's `compareStringObjects`), and a
//! missing BY weight sorts first. With BY and a LIMIT that leaves items out,
//! Redis uses its partial quicksort (not stable), which we repeat move for
//! move so ties come out in the same order. Like Redis 7.0, SORT leaves a sorted set
//! it reads in the skiplist (tree) encoding.

use super::{dispose, eq_ic, err, lookup_read, lookup_write, parse_int, Ctx};
use crate::notify::class;
use shoal_store::list::{ListValue, NodeLimit};
use shoal_store::Value;
use shoal_util::geo::partial_qsort;
use shoal_util::num::parse_f64_loose;
use std::cmp::Ordering;

const NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

/// SORT key [options]
pub fn sort(ctx: &mut Ctx, args: &[&[u8]]) {
    sort_generic(ctx, args, false)
}

/// SORT_RO key [options] (no STORE)
pub fn sort_ro(ctx: &mut Ctx, args: &[&[u8]]) {
    sort_generic(ctx, args, true)
}

/// Reads the value a pattern names for `elem`: None when the key (or field)
/// is missing or of the wrong type, or when the pattern has no `*`.
fn by_pattern(ctx: &mut Ctx, pattern: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(elem.to_vec());
    }
    let star = pattern.iter().position(|&c| c == b'*')?;
    let after = &pattern[star + 1..];
    let arrow = after.windows(2).position(|w| w == b"->");
    let (postfix, field) = match arrow {
        Some(p) if p + 2 < after.len() => (&after[..p], Some(&after[p + 2..])),
        _ => (after, None),
    };
    let mut key = Vec::with_capacity(pattern.len() + elem.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(postfix);
    let db = ctx.client.db;
    let e = lookup_read(ctx.srv, db, &key)?;
    match field {
        Some(f) => match &e.value {
            Value::Hash(h) => h.get(f).map(|v| v.to_vec()),
            _ => None,
        },
        None => e.value.str_bytes().map(|s| s.to_vec()),
    }
}

/// `strtod` over the whole text (up to a NUL), rejecting NaN and overflow.
fn weight(text: &[u8]) -> Option<f64> {
    let v = parse_f64_loose(text)?;
    if v.is_infinite() && !text.windows(3).any(|w| w.eq_ignore_ascii_case(b"inf")) {
        return None;
    }
    Some(v)
}

fn until_nul(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(p) => &b[..p],
        None => b,
    }
}

struct Item {
    elem: Vec<u8>,
    score: f64,
    by: Option<Vec<u8>>,
}

fn sort_generic(ctx: &mut Ctx, args: &[&[u8]], ro: bool) {
    let mut desc = false;
    let mut alpha = false;
    let mut dontsort = false;
    let mut sortby: Option<&[u8]> = None;
    let mut gets: Vec<&[u8]> = Vec::new();
    let (mut lim_start, mut lim_count) = (0i64, -1i64);
    let mut store: Option<&[u8]> = None;
    let mut j = 2;
    while j < args.len() {
        let a = args[j];
        let left = args.len() - j - 1;
        if eq_ic(a, "asc") {
            desc = false;
        } else if eq_ic(a, "desc") {
            desc = true;
        } else if eq_ic(a, "alpha") {
            alpha = true;
        } else if eq_ic(a, "limit") && left >= 2 {
            let (Some(s), Some(c)) = (parse_int(args[j + 1]), parse_int(args[j + 2])) else {
                ctx.out().error(err::NOT_INT);
                return;
            };
            lim_start = s;
            lim_count = c;
            j += 2;
        } else if !ro && eq_ic(a, "store") && left >= 1 {
            store = Some(args[j + 1]);
            j += 1;
        } else if eq_ic(a, "by") && left >= 1 {
            sortby = Some(args[j + 1]);
            if !args[j + 1].contains(&b'*') {
                dontsort = true;
            } else if !super::acl::full_key_read(ctx.srv, ctx.client, args) {
                // A BY pattern reads keys the ACL cannot check one by one.
                ctx.out()
                    .error("ERR BY option of SORT denied due to insufficient ACL permissions.");
                return;
            }
            j += 1;
        } else if eq_ic(a, "get") && left >= 1 {
            if !super::acl::full_key_read(ctx.srv, ctx.client, args) {
                ctx.out()
                    .error("ERR GET option of SORT denied due to insufficient ACL permissions.");
                return;
            }
            gets.push(args[j + 1]);
            j += 1;
        } else {
            ctx.out().error(err::SYNTAX);
            return;
        }
        j += 1;
    }
    let db = ctx.client.db;
    let key = args[1];
    let found = if store.is_some() {
        lookup_write(ctx.srv, db, key)
    } else {
        lookup_read(ctx.srv, db, key)
    };
    let value = match found {
        None => None,
        Some(e) if matches!(e.value, Value::List(_) | Value::Set(_) | Value::ZSet(_)) => Some(&e.value),
        Some(_) => {
            ctx.out().error(err::WRONGTYPE);
            return;
        }
    };
    if let Some(Value::ZSet(_)) = value {
        if let Some(Value::ZSet(z)) = ctx.srv.keyspace.dbs[db].get_mut(key, i64::MIN).map(|e| &mut e.value) {
            z.force_tree();
        }
    }
    let value = ctx.srv.keyspace.dbs[db].peek(key, i64::MIN).map(|e| &e.value);
    // A set read without sorting is sorted ALPHA when stored or inside a
    // script, so the result does not depend on the set's layout.
    let in_script = ctx.srv.scripts.running.is_some();
    if dontsort && (store.is_some() || in_script) && matches!(value, Some(Value::Set(_))) {
        dontsort = false;
        alpha = true;
        sortby = None;
    }
    let total = match value {
        Some(Value::List(l)) => l.len(),
        Some(Value::Set(s)) => s.len(),
        Some(Value::ZSet(z)) => z.len(),
        _ => 0,
    } as i64;
    let clamp = |n: i64| -> (i64, i64) {
        let start = lim_start.max(0);
        let mut end = if lim_count < 0 {
            n - 1
        } else {
            start.saturating_add(lim_count).saturating_sub(1)
        };
        let mut start = start;
        if start >= n {
            start = n - 1;
            end = n - 2;
        }
        if end >= n {
            end = n - 1;
        }
        (start, end)
    };
    let (mut start, mut end) = clamp(total);
    let mut items: Vec<Item> = Vec::new();
    let native_range = dontsort && matches!(value, Some(Value::List(_) | Value::ZSet(_)));
    let item = |elem: Vec<u8>| Item {
        elem,
        score: 0.0,
        by: None,
    };
    // The rank range a "no sort" read takes directly (empty when start > end).
    let (first, n) = (start.max(0) as usize, (end - start + 1).max(0) as usize);
    match value {
        Some(Value::List(l)) if native_range => {
            if desc {
                items.extend(l.iter().rev().skip(first).take(n).map(|e| item(e.to_vec())));
            } else {
                items.extend(l.iter().skip(first).take(n).map(|e| item(e.to_vec())));
            }
        }
        Some(Value::ZSet(z)) if native_range => {
            let it = if desc {
                z.iter_from(z.len().saturating_sub(1 + first), true)
            } else {
                z.iter_from(first, false)
            };
            items.extend(it.take(n).map(|(m, _)| item(m.to_vec())));
        }
        Some(Value::List(l)) => items.extend(l.iter().map(|e| item(e.to_vec()))),
        Some(Value::Set(s)) => items.extend(s.iter().map(|e| item(e.to_vec()))),
        Some(Value::ZSet(z)) => items.extend(z.iter().map(|(m, _)| item(m.to_vec()))),
        _ => {}
    }
    if native_range {
        start = 0;
        end = items.len() as i64 - 1;
    }
    if !dontsort {
        let mut bad = false;
        for it in items.iter_mut() {
            let w = match sortby {
                Some(p) => match by_pattern(ctx, p, &it.elem) {
                    Some(v) => v,
                    None => continue,
                },
                None => {
                    if alpha {
                        continue;
                    }
                    it.elem.clone()
                }
            };
            if alpha {
                it.by = Some(w);
            } else {
                match weight(&w) {
                    Some(s) => it.score = s,
                    None => bad = true,
                }
            }
        }
        if bad {
            ctx.out().error(NOT_DOUBLE);
            return;
        }
        let by = sortby.is_some();
        let binary = store.is_some();
        let cmp = |a: &Item, b: &Item| {
            let o = if !alpha {
                match a.score.partial_cmp(&b.score) {
                    Some(Ordering::Equal) | None => a.elem.cmp(&b.elem),
                    Some(o) => o,
                }
            } else if by {
                match (&a.by, &b.by) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(x), Some(y)) if binary => x.cmp(y),
                    (Some(x), Some(y)) => until_nul(x).cmp(until_nul(y)),
                }
            } else if binary {
                a.elem.cmp(&b.elem)
            } else {
                until_nul(&a.elem).cmp(until_nul(&b.elem))
            };
            if desc {
                o.reverse()
            } else {
                o
            }
        };
        if by && (start != 0 || end != items.len() as i64 - 1) {
            // Redis sorts with its partial quicksort here, which is not
            // stable: ties come out in that algorithm's order.
            if start >= 0 && start <= end {
                partial_qsort(&mut items, start as usize, end as usize, cmp);
            }
        } else {
            items.sort_by(cmp);
        }
    }
    let picked: Vec<Vec<u8>> = if start <= end {
        items[start as usize..=end as usize]
            .iter_mut()
            .map(|i| std::mem::take(&mut i.elem))
            .collect()
    } else {
        Vec::new()
    };
    let mut results: Vec<Option<Vec<u8>>> = Vec::new();
    for e in picked {
        if gets.is_empty() {
            results.push(Some(e));
        } else {
            for g in &gets {
                results.push(by_pattern(ctx, g, &e));
            }
        }
    }
    match store {
        None => {
            let out = ctx.out();
            out.array(results.len());
            for r in &results {
                match r {
                    Some(v) => out.bulk(v),
                    None => out.null(),
                }
            }
        }
        Some(dst) => {
            let n = results.len();
            if n > 0 && crate::notify::enabled(ctx.srv, class::NEW | class::EXPIRED) {
                // As Redis's setKey: a stale destination expires first.
                let _ = lookup_write(ctx.srv, db, dst);
            }
            let old = if n == 0 {
                ctx.srv.keyspace.dbs[db].remove(dst).map(|e| e.into_value())
            } else {
                let limit = NodeLimit(ctx.srv.config.list_max_listpack_size as i64);
                let mut l = ListValue::new();
                for r in &results {
                    l.push_back(r.as_deref().unwrap_or(b""), limit);
                }
                ctx.srv.keyspace.dbs[db].set(dst, Value::List(Box::new(l)), false)
            };
            let had = old.is_some();
            if let Some(old) = old {
                dispose(ctx.srv, old);
            }
            if n > 0 {
                if !had {
                    ctx.notify(class::NEW, "new", dst);
                }
                ctx.notify(class::LIST, "sortstore", dst);
            } else if had {
                ctx.notify(class::GENERIC, "del", dst);
            }
            ctx.out().int(n as i64);
        }
    }
}
