"""Every intended difference between redis-server and shoal-server replies.

This is the ONE place where the differential harness compares anything other
than exactly.  A reply is compared exactly (same RESP type, same bytes, same
order, same nesting) unless a rule below matches the command; the rule with
the longest matching command prefix wins.  Each rule names the comparison it
uses and why that is the right comparison.  Reports of a mismatch show the
rule that was applied.

Two principles hold for every rule:
  * errors are always compared exactly (if either side replied with an error,
    both replies must be identical), so a rule can never hide a wrong error
    text or an error on one side only;
  * the special outcomes of the harness (connection closed, no reply, timeout)
    are always compared exactly.

To add a difference: add a Rule to RULES with a reason a reviewer would accept.
Commands not in the reference at all cannot be made "different" here; they
are simply not in the case files yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional

from resp import (AGGREGATES, ARRAY, BULK, INTEGER, MAP, SIMPLE, VERBATIM,
                  Reply, format_reply)

# A comparator returns None when the replies are acceptable, else a short
# explanation of what differs.
Comparator = Callable[[Reply, Reply, list], Optional[str]]


@dataclass(frozen=True)
class Rule:
    command: tuple          # upper-case command and optional subcommand(s)
    compare: str            # name of a comparator in COMPARATORS
    reason: str
    # For the "tolerance" comparator: allowed absolute difference.
    tolerance: int = 0


# ---------------------------------------------------------------------------
# Comparators
# ---------------------------------------------------------------------------

def first_difference(a: Reply, b: Reply, path: str = "") -> Optional[str]:
    """Where two replies first differ, e.g. 'at [3]: "x" instead of "y"'."""
    here = path or "top"
    if a.kind != b.kind:
        return f"at {here}: {b.kind} {_brief(b)} instead of {a.kind} {_brief(a)}"
    if a.kind in AGGREGATES:
        for i, (x, y) in enumerate(zip(a.value, b.value)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        if len(a.value) != len(b.value):
            i = min(len(a.value), len(b.value))
            extra = (f"unexpected {_brief(b.value[i])}" if len(b.value) > i
                     else f"missing {_brief(a.value[i])}")
            return f"at {here}: {len(b.value)} items instead of {len(a.value)}; [{i}] {extra}"
        return None
    if a.kind == MAP:
        for i, ((k1, v1), (k2, v2)) in enumerate(zip(a.value, b.value)):
            d = first_difference(k1, k2, f"{path}{{key {i}}}") or \
                first_difference(v1, v2, f"{path}{{{k1.text() if isinstance(k1.value, bytes) else i}}}")
            if d:
                return d
        if len(a.value) != len(b.value):
            return f"at {here}: map of {len(b.value)} instead of {len(a.value)}"
        return None
    if a != b:
        return f"at {here}: {_brief(b)} instead of {_brief(a)}"
    return None


def _brief(r: Reply, width=120) -> str:
    t = " ".join(format_reply(r, limit=4).split())
    return t if len(t) <= width else t[:width] + "..."


def exact(a: Reply, b: Reply, args) -> Optional[str]:
    return None if a == b else (first_difference(a, b) or "replies differ")


def same_type(a: Reply, b: Reply, args) -> Optional[str]:
    if a.kind != b.kind:
        return f"reply type {b.kind}, expected {a.kind}"
    return None


def _shape(a: Reply, b: Reply, path="") -> Optional[str]:
    if a.kind != b.kind:
        return f"type at {path or 'top'}: {b.kind}, expected {a.kind}"
    if a.kind in AGGREGATES:
        if len(a.value) != len(b.value):
            return f"length at {path or 'top'}: {len(b.value)}, expected {len(a.value)}"
        for i, (x, y) in enumerate(zip(a.value, b.value)):
            d = _shape(x, y, f"{path}[{i}]")
            if d:
                return d
    if a.kind == MAP:
        if len(a.value) != len(b.value):
            return f"map size at {path or 'top'}: {len(b.value)}, expected {len(a.value)}"
        for i, ((k1, v1), (k2, v2)) in enumerate(zip(a.value, b.value)):
            d = _shape(k1, k2, f"{path}{{key {i}}}") or _shape(v1, v2, f"{path}{{{i}}}")
            if d:
                return d
    return None


def shape(a: Reply, b: Reply, args) -> Optional[str]:
    """Same RESP types and aggregate lengths, recursively; scalar values free."""
    return _shape(a, b)


def _canon(r: Reply):
    """A hashable, order-free canonical form used only by the unordered
    comparators below (nested sets/maps are also order-free)."""
    k, v = r.kind, r.value
    if k in AGGREGATES:
        return (k, tuple(_canon(x) for x in v))
    if k == MAP:
        return (k, tuple(sorted((repr(_canon(x)), repr(_canon(y))) for x, y in v)))
    return (k, v if not isinstance(v, tuple) else repr(v))


def _short(items, n=5, width=150) -> str:
    items = list(items)
    out = []
    for x in items[:n]:
        t = x if isinstance(x, str) else repr(x)
        out.append(t if len(t) <= width else t[:width] + "...")
    more = f" (+{len(items) - n} more)" if len(items) > n else ""
    return "[" + ", ".join(out) + "]" + more


def _diff_dicts(da: dict, db: dict, what="keys") -> Optional[str]:
    if da == db:
        return None
    missing = sorted(set(da) - set(db), key=repr)
    extra = sorted(set(db) - set(da), key=repr)
    changed = sorted((k for k in set(da) & set(db) if da[k] != db[k]), key=repr)
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing {what} {_short(missing)}")
    if extra:
        parts.append(f"{len(extra)} unexpected {what} {_short(extra)}")
    if changed:
        parts.append(f"{len(changed)} {what} with different values {_short(changed)}")
    return "; ".join(parts)


def unordered(a: Reply, b: Reply, args) -> Optional[str]:
    """Same aggregate type and the same multiset of (exactly compared) items."""
    if a.kind != b.kind:
        return f"reply type {b.kind}, expected {a.kind}"
    if a.kind in AGGREGATES:
        ca = sorted(repr(_canon(x)) for x in a.value)
        cb = sorted(repr(_canon(x)) for x in b.value)
        if ca != cb:
            missing = sorted(set(ca) - set(cb))
            extra = sorted(set(cb) - set(ca))
            return (f"items differ (ignoring order): {len(missing)} missing "
                    f"{_short(missing)}, {len(extra)} unexpected {_short(extra)}")
        return None
    if a.kind == MAP:
        return map_unordered(a, b, args)
    return exact(a, b, args)


def _pairs(r: Reply):
    """Key/value pairs of a RESP3 map or a RESP2 flat array of pairs."""
    if r.kind == MAP:
        return list(r.value)
    if r.kind == ARRAY and len(r.value) % 2 == 0:
        return list(zip(r.value[0::2], r.value[1::2]))
    return None


def map_unordered(a: Reply, b: Reply, args) -> Optional[str]:
    if a.kind != b.kind:
        return f"reply type {b.kind}, expected {a.kind}"
    pa, pb = _pairs(a), _pairs(b)
    if pa is None or pb is None:
        return exact(a, b, args)
    da = {repr(_canon(k)): _canon(v) for k, v in pa}
    db = {repr(_canon(k)): _canon(v) for k, v in pb}
    d = _diff_dicts(da, db)
    return f"pairs differ (ignoring order): {d}" if d else None


def _function_list_canon(r: Reply):
    """FUNCTION LIST reply with libraries, and each library's functions, in a
    canonical order."""
    libs = []
    for lib in r.value:
        pairs = _pairs(lib)
        if pairs is None:
            libs.append(repr(_canon(lib)))
            continue
        entry = []
        for k, v in pairs:
            if k.value == b"functions" and v.kind in AGGREGATES:
                entry.append((repr(_canon(k)), tuple(sorted(repr(_canon(f)) for f in v.value))))
            else:
                entry.append((repr(_canon(k)), repr(_canon(v))))
        libs.append(repr((lib.kind, entry)))
    return sorted(libs)


def function_list(a: Reply, b: Reply, args) -> Optional[str]:
    """Same libraries with the same functions, in any order."""
    if a.kind != b.kind:
        return f"reply type {b.kind}, expected {a.kind}"
    if a.kind not in AGGREGATES:
        return exact(a, b, args)
    ca, cb = _function_list_canon(a), _function_list_canon(b)
    if ca != cb:
        missing = sorted(set(ca) - set(cb))
        extra = sorted(set(cb) - set(ca))
        return (f"libraries differ (ignoring order): {len(missing)} missing "
                f"{_short(missing)}, {len(extra)} unexpected {_short(extra)}")
    return None


# CONFIG parameters whose values are paths, ports or otherwise depend on how
# the harness started each server rather than on the server's behaviour.
CONFIG_PER_INSTANCE = {
    b"dir": "each server runs in its own temporary directory",
    b"port": "each server listens on its own free port",
    b"pidfile": "per-instance path",
    b"logfile": "per-instance path",
    b"unixsocket": "per-instance path",
    b"tls-port": "per-instance port",
    b"cluster-config-file": "per-instance path",
    b"cluster-port": "derived from port",
}

# Directives shoal has that Redis 7.0.15 does not: Redis 7.2's set listpack
# thresholds, used by shoal's compact sets.
CONFIG_EXTENSIONS = {b"set-max-listpack-entries", b"set-max-listpack-value"}


def config_get(a: Reply, b: Reply, args) -> Optional[str]:
    """CONFIG GET: pairs compared ignoring order; per-instance parameters
    (CONFIG_PER_INSTANCE) must be present on both but their values are free."""
    if a.kind != b.kind:
        return f"reply type {b.kind}, expected {a.kind}"
    pa, pb = _pairs(a), _pairs(b)
    if pa is None or pb is None:
        return exact(a, b, args)

    def norm(pairs):
        out = {}
        for k, v in pairs:
            if k.value in CONFIG_EXTENSIONS:
                continue
            if k.value in CONFIG_PER_INSTANCE:
                v = Reply(v.kind, b"<per-instance>")
            out[repr(k)] = v
        return out

    da, db = norm(pa), norm(pb)
    if da == db:
        return None
    missing = sorted(set(da) - set(db))
    extra = sorted(set(db) - set(da))
    changed = sorted(k for k in set(da) & set(db) if da[k] != db[k])
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing: {', '.join(missing[:8])}")
    if extra:
        parts.append(f"{len(extra)} unexpected: {', '.join(extra[:8])}")
    if changed:
        parts.append("different values: " + ", ".join(
            f"{k}={db[k]!r} (expected {da[k]!r})" for k in changed[:8]))
    return "; ".join(parts)


def _cmd_entry(r: Reply):
    """Canonical form of one COMMAND/COMMAND INFO entry: name, arity, flags,
    first/last/step and ACL categories exact; the subcommand list (element
    10) as a set of entries. Tips (8) and key specs (9) are not compared:
    see NOT_YET below."""
    if r.kind == ARRAY and len(r.value) >= 10 and r.value[9].kind in AGGREGATES:
        subs = frozenset(_cmd_entry(x) for x in r.value[9].value if _cmd_name(x) not in _SKIP_SUBS)
        return (r.value[:7], subs, r.value[10:])
    return r


# Commands of Redis 7.0.15 that shoal does not implement yet. Whole-table
# replies (COMMAND, COMMAND INFO/DOCS/LIST without names, COMMAND COUNT) are
# compared on the commands both servers have; a command shoal has and Redis
# lacks is still a difference (except the deliberate extensions listed).
NOT_YET = (
    "Redis commands that shoal has not implemented yet (sorted sets, streams, "
    "HyperLogLog, geo, transactions, scripting, pub/sub, ACL, persistence, "
    "replication, cluster; see the open issues) are left out of whole-table "
    "comparisons, and the command table does not carry Redis's command tips "
    "and key-spec flags or the argument docs yet"
)
# Redis 7.4's hash field expiry commands, which shoal has ahead of the 7.0
# reference (tests/test_hash_field_expiry.py holds their semantics).
HFE_COMMANDS = {"hexpire", "hexpireat", "hexpiretime", "hpersist", "hpexpire",
                "hpexpireat", "hpexpiretime", "hpttl", "httl"}
EXTENSIONS = {"client|setinfo"} | HFE_COMMANDS
# Subcommands of implemented commands that shoal does not have yet (NOT_YET).
SUBCOMMANDS_NOT_YET = {
    "command|getkeysandflags", "latency|graph", "latency|histogram",
    "memory|doctor", "debug", "script|debug",
}
_SKIP_SUBS = EXTENSIONS | SUBCOMMANDS_NOT_YET


def _restrict(entries: dict, other: dict) -> dict:
    """The entries of the reference (Redis) that shoal also has."""
    return {k: v for k, v in entries.items() if k in other}


def _cmd_name(r: Reply) -> str:
    if r.kind == ARRAY and r.value and r.value[0].kind == BULK:
        return r.value[0].text()
    return repr(r)


def command_table(a: Reply, b: Reply, args) -> Optional[str]:
    """COMMAND / COMMAND INFO: entries exact, except that subcommand lists are
    compared as sets; without command names the entries are a set too."""
    if a.kind != ARRAY or b.kind != ARRAY:
        return exact(a, b, args)
    named = len(args) > 2  # COMMAND INFO name...
    if named:
        if len(a.value) != len(b.value):
            return f"{len(b.value)} entries, expected {len(a.value)}"
        for x, y in zip(a.value, b.value):
            if _cmd_entry(x) != _cmd_entry(y):
                return f"entry for {_cmd_name(x)} differs: {_entry_difference(x, y)}"
        return None
    da = {_cmd_name(x): _cmd_entry(x) for x in a.value}
    db = {_cmd_name(x): _cmd_entry(x) for x in b.value}
    if len(da) != len(a.value) or len(db) != len(b.value):
        return "duplicate command names"
    db = {k: v for k, v in db.items() if k not in EXTENSIONS}
    da = _restrict(da, db)
    d = _diff_dicts(da, db, "commands")
    if not d:
        return None
    ra = {_cmd_name(x): x for x in a.value}
    rb = {_cmd_name(x): x for x in b.value}
    changed = sorted(k for k in set(da) & set(db) if da[k] != db[k])
    if changed:
        d += f"; first: {changed[0]} {_entry_difference(ra[changed[0]], rb[changed[0]])}"
    return f"command table differs: {d}"


_CMD_FIELDS = ["name", "arity", "flags", "first key", "last key", "step",
               "acl categories", "tips", "key specs", "subcommands"]


def _entry_difference(x: Reply, y: Reply) -> str:
    if x.kind != ARRAY or y.kind != ARRAY or len(x.value) < 10 or len(y.value) < 10:
        return first_difference(x, y) or "?"
    for i in range(7):
        d = first_difference(x.value[i], y.value[i])
        if d:
            return f"{_CMD_FIELDS[i]} {d}"
    sa = {_cmd_name(s): s for s in x.value[9].value if _cmd_name(s) not in _SKIP_SUBS}
    sb = {_cmd_name(s): s for s in y.value[9].value if _cmd_name(s) not in _SKIP_SUBS}
    if set(sa) != set(sb):
        return (f"subcommands: missing {sorted(set(sa) - set(sb))[:6]}, "
                f"unexpected {sorted(set(sb) - set(sa))[:6]}")
    for k in sorted(sa):
        if _cmd_entry(sa[k]) != _cmd_entry(sb[k]):
            return f"subcommand {k}: {_entry_difference(sa[k], sb[k])}"
    return first_difference(x, y) or "?"


def _docs(r: Reply):
    """name -> doc of a COMMAND DOCS reply; a doc is its field names in order
    plus the field values, where "subcommands" is again a name -> doc dict."""
    pairs = _pairs(r)
    if pairs is None:
        return r
    out = {}
    for k, v in pairs:
        fields = _pairs(v)
        if fields is None:
            out[k.value] = v
            continue
        out[k.value] = (tuple(f.value for f, _ in fields),
                        tuple((f.value, _docs(x) if f.value == b"subcommands" else x)
                              for f, x in fields))
    return out


def _freeze(x):
    if isinstance(x, dict):
        return frozenset((k, _freeze(v)) for k, v in x.items())
    if isinstance(x, tuple):
        return tuple(_freeze(i) for i in x)
    return x


def command_docs(a: Reply, b: Reply, args) -> Optional[str]:
    """COMMAND DOCS: each command's doc exact (fields in order, arguments in
    order) except that subcommands, and the commands themselves when no
    names are given, are compared as name -> doc dictionaries."""
    if a.kind != b.kind or _pairs(a) is None or _pairs(b) is None:
        return exact(a, b, args)
    da, db = _docs(a), _docs(b)
    if len(args) > 2 and [k for k, _ in _pairs(a)] != [k for k, _ in _pairs(b)]:
        return "documented commands are not in the order requested"
    db = {k: v for k, v in db.items() if not (isinstance(k, bytes) and k.decode() in EXTENSIONS)}
    da = _restrict(da, db)
    fa = {k: _freeze(_doc_core(v)) for k, v in da.items()}
    fb = {k: _freeze(_doc_core(v)) for k, v in db.items()}
    d = _diff_dicts(fa, fb, "commands")
    if not d:
        return None
    changed = sorted(k for k in set(fa) & set(fb) if fa[k] != fb[k])
    if changed:
        d += f"; first: {changed[0].decode()}: {_doc_difference(da[changed[0]], db[changed[0]])}"
    return f"command docs differ: {d}"


def _doc_core(doc):
    """The parts of a command doc shoal reproduces today: group, since and
    the documented subcommands (NOT_YET: summaries follow newer Redis
    wording, and arguments are not documented yet)."""
    if not isinstance(doc, tuple):
        return doc
    fields = dict(doc[1])
    subs = fields.get(b"subcommands")
    return (fields.get(b"group"), fields.get(b"since"),
            {k: _doc_core(v) for k, v in subs.items() if k.decode() not in _SKIP_SUBS}
            if isinstance(subs, dict) else None)


def _doc_difference(x, y) -> str:
    x, y = _doc_core(x), _doc_core(y)
    if x != y:
        return f"group/since/subcommands {y!r:.200} instead of {x!r:.200}"
    return "?"


def _doc_difference_full(x, y) -> str:
    if not (isinstance(x, tuple) and isinstance(y, tuple)):
        return "?"
    if x[0] != y[0]:
        return (f"fields {[f.decode() for f in y[0]]} instead of "
                f"{[f.decode() for f in x[0]]}")
    for (f, vx), (_, vy) in zip(x[1], y[1]):
        if _freeze(vx) != _freeze(vy):
            if isinstance(vx, dict) and isinstance(vy, dict):
                if set(vx) != set(vy):
                    return (f"{f.decode()}: missing {sorted(set(vx) - set(vy))[:5]}, "
                            f"unexpected {sorted(set(vy) - set(vx))[:5]}")
                k = next(k for k in sorted(vx) if _freeze(vx[k]) != _freeze(vy[k]))
                return f"{f.decode()} {k.decode()}: {_doc_difference(vx[k], vy[k])}"
            if isinstance(vx, Reply) and isinstance(vy, Reply):
                return f"{f.decode()} {first_difference(vx, vy)}"
            return f"{f.decode()} differs"
    return "?"


def _text(r: Reply) -> Optional[bytes]:
    if r.kind in (BULK, SIMPLE):
        return r.value
    if r.kind == VERBATIM:
        return r.value[1]
    return None


def info_sections(a: Reply, b: Reply, args) -> Optional[str]:
    """INFO: same reply type and the same "# Section" headers in the same
    order.  Field values are counters, sizes, pids, times: they differ."""
    if a.kind != b.kind:
        return f"reply type {b.kind}, expected {a.kind}"
    ta, tb = _text(a), _text(b)
    if ta is None or tb is None:
        return shape(a, b, args)
    ha = [l for l in ta.split(b"\r\n") if l.startswith(b"#")]
    hb = [l for l in tb.split(b"\r\n") if l.startswith(b"#")]
    if ha != hb:
        return f"INFO sections {hb}, expected {ha}"
    if not tb.endswith(b"\r\n") and ta.endswith(b"\r\n"):
        return "INFO text does not end with CRLF"
    return None


# CLIENT LIST / CLIENT INFO fields whose values legitimately differ between two
# processes (ids, addresses, file descriptors, ages, buffer and memory sizes).
CLIENT_VOLATILE_FIELDS = {
    b"id", b"addr", b"laddr", b"fd", b"age", b"idle", b"qbuf", b"qbuf-free",
    b"argv-mem", b"multi-mem", b"rbs", b"rbp", b"obl", b"oll", b"omem",
    b"tot-mem",
}


def _client_lines(t: bytes):
    out = []
    for line in t.split(b"\n"):
        if not line:
            continue
        fields = []
        for tok in line.split(b" "):
            k, _, v = tok.partition(b"=")
            fields.append((k, v))
        out.append(fields)
    return out


def client_list(a: Reply, b: Reply, args) -> Optional[str]:
    """CLIENT LIST/INFO: same reply type, same number of lines, the same field
    names in the same order, and equal values except CLIENT_VOLATILE_FIELDS."""
    if a.kind != b.kind:
        return f"reply type {b.kind}, expected {a.kind}"
    ta, tb = _text(a), _text(b)
    if ta is None or tb is None:
        return exact(a, b, args)
    if ta.endswith(b"\n") != tb.endswith(b"\n"):
        return "trailing newline differs"
    la, lb = _client_lines(ta), _client_lines(tb)
    if len(la) != len(lb):
        return f"{len(lb)} client lines, expected {len(la)}"
    for i, (fa, fb) in enumerate(zip(la, lb)):
        na, nb = [k for k, _ in fa], [k for k, _ in fb]
        if na != nb:
            missing = [k.decode() for k in na if k not in nb]
            extra = [k.decode() for k in nb if k not in na]
            if missing or extra:
                return (f"line {i + 1}: missing fields {missing}, unexpected "
                        f"fields {extra}")
            j = next(j for j, (x, y) in enumerate(zip(na, nb)) if x != y)
            return (f"line {i + 1}: field order differs from field {j + 1}: "
                    f"{[k.decode() for k in nb[j:j + 4]]} instead of "
                    f"{[k.decode() for k in na[j:j + 4]]}")
        for (k, va), (_, vb) in zip(fa, fb):
            if k == b"redir" and _both_client_ids(va, vb):
                continue
            if k not in CLIENT_VOLATILE_FIELDS and va != vb:
                return f"line {i + 1}: {k.decode()}={vb!r}, expected {va!r}"
    return None


def _both_client_ids(va: bytes, vb: bytes) -> bool:
    """Two client ids (redir=...): each server numbers its own clients."""
    return va.isdigit() and vb.isdigit() and int(va) > 0 and int(vb) > 0


def _same_or_client_ids(a: Reply, b: Reply) -> bool:
    return a == b or (a.kind == INTEGER and b.kind == INTEGER
                      and a.value > 0 and b.value > 0)


def client_id(a: Reply, b: Reply, args) -> Optional[str]:
    """CLIENT GETREDIR: -1 and 0 exactly; a client id (> 0) may differ,
    since each server numbers its own connections."""
    return None if _same_or_client_ids(a, b) else exact(a, b, args)


def tracking_info(a: Reply, b: Reply, args) -> Optional[str]:
    """CLIENT TRACKINGINFO: exact, except that a redirect client id (> 0)
    is compared as "some client" (ids differ per process)."""
    pa, pb = _pairs(a), _pairs(b)
    if a.kind != b.kind or pa is None or pb is None or len(pa) != len(pb):
        return exact(a, b, args)
    for (ka, va), (kb, vb) in zip(pa, pb):
        if ka != kb:
            return first_difference(ka, kb)
        if ka.value == b"redirect" and _same_or_client_ids(va, vb):
            continue
        d = first_difference(va, vb)
        if d:
            return f"{ka.text()}: {d}"
    return None


def pushed(a: Reply, b: Reply, args) -> Optional[str]:
    """@read: a `tracking-redir-broken` push names the lost redirect target
    by client id (per process); everything else as monitor-line."""
    def redir_broken(r):
        return (r.kind in AGGREGATES and len(r.value) == 2
                and r.value[0].value == b"tracking-redir-broken")
    if redir_broken(a) and redir_broken(b) and a.kind == b.kind:
        return None if _same_or_client_ids(a.value[1], b.value[1]) else exact(a, b, args)
    return monitor_line(a, b, args)


def hello(a: Reply, b: Reply, args) -> Optional[str]:
    """HELLO: the map/array is compared exactly except the value of "id"
    (client ids depend on how many connections each server has seen)."""
    pa, pb = _pairs(a), _pairs(b)
    if a.kind != b.kind or pa is None or pb is None:
        return exact(a, b, args)
    if [k for k, _ in pa] != [k for k, _ in pb]:
        return f"HELLO fields {[k.text() for k, _ in pb]}, expected {[k.text() for k, _ in pa]}"
    for (k, va), (_, vb) in zip(pa, pb):
        if k.value == b"id":
            if va.kind != vb.kind:
                return f"id type {vb.kind}, expected {va.kind}"
        elif va != vb:
            return f"HELLO {k.text()}: {vb!r}, expected {va!r}"
    return None


def time_reply(a: Reply, b: Reply, args) -> Optional[str]:
    """TIME: two bulk strings of digits (seconds, microseconds < 1e6)."""
    d = shape(a, b, args)
    if d:
        return d
    secs, usecs = b.value
    if not (secs.value.isdigit() and usecs.value.isdigit()
            and int(usecs.value) < 1_000_000):
        return f"TIME fields not seconds/microseconds: {b!r}"
    if abs(int(secs.value) - int(a.value[0].value)) > 5:
        return "TIME seconds more than 5s apart from the reference"
    return None


def tolerance(a: Reply, b: Reply, args, tol: int = 0) -> Optional[str]:
    """Integers within +-tol of each other; negative sentinel values (-1 no
    expiry, -2 no key) must be equal."""
    if a.kind != INTEGER or b.kind != INTEGER:
        return exact(a, b, args)
    if a.value < 0 or b.value < 0:
        return exact(a, b, args)
    if abs(a.value - b.value) > tol:
        return f"{b.value} differs from {a.value} by more than {tol}"
    return None


def scan(a: Reply, b: Reply, args) -> Optional[str]:
    """SCAN: cursors are opaque; the elements of one call depend on the table
    layout.  Shape [cursor, [keys...]] must match; when the call started at
    cursor 0 and both returned cursor 0, the scan was complete in one call and
    the keys must match ignoring order."""
    if a.kind != ARRAY or b.kind != ARRAY or len(a.value) != 2 or len(b.value) != 2:
        return exact(a, b, args)
    ca, ka = a.value
    cb, kb = b.value
    if cb.kind != BULK or not cb.value.isdigit():
        return f"cursor is not a bulk string of digits: {cb!r}"
    if kb.kind != ARRAY:
        return f"keys reply type {kb.kind}, expected array"
    if (len(args) > 1 and args[1] == b"0" and ca.value == b"0"
            and cb.value == b"0"):
        return unordered(ka, kb, args)
    return None


def debug_object(a: Reply, b: Reply, args) -> Optional[str]:
    """DEBUG OBJECT: "Value at:<address> refcount:.. encoding:.. serializedlength:..
    lru:.. lru_seconds_idle:..": the address and LRU clock values differ;
    serializedlength depends on the LZF compressor's choices (shoal's output is
    valid LZF but not byte-identical to Redis's); the other fields are compared."""
    if a.kind != SIMPLE or b.kind != SIMPLE:
        return exact(a, b, args)

    def fields(t):
        t = re.sub(rb"^Value at:\S+ ", b"", t)
        return [tuple(f.split(b":", 1)) for f in t.split(b" ")]

    fa, fb = fields(a.value), fields(b.value)
    if [f[0] for f in fa] != [f[0] for f in fb]:
        return f"DEBUG OBJECT fields differ: {b.value!r}"
    for x, y in zip(fa, fb):
        if x[0] not in (b"lru", b"lru_seconds_idle", b"serializedlength") and x != y:
            return f"DEBUG OBJECT {x[0].decode()}: {y!r}, expected {x!r}"
    return None


_MONITOR_RE = re.compile(rb"^\d+\.\d{6} \[(\d+) ([^\]]+)\] (.*)$", re.S)


def monitor_line(a: Reply, b: Reply, args) -> Optional[str]:
    """A MONITOR feed line "+<unix time>.<usec> [<db> <client addr>] "cmd" ...":
    the timestamp and the client's address:port differ; db and the quoted
    command must match.  Anything that is not a monitor line is exact."""
    if a.kind == SIMPLE and b.kind == SIMPLE:
        ma, mb = _MONITOR_RE.match(a.value), _MONITOR_RE.match(b.value)
        if ma and mb:
            if ma.group(1) != mb.group(1) or ma.group(3) != mb.group(3):
                return (f"monitor line: db {mb.group(1)!r} command {mb.group(3)!r}, "
                        f"expected db {ma.group(1)!r} command {ma.group(3)!r}")
            if ma.group(2).startswith(b"127.0.0.1:") != mb.group(2).startswith(b"127.0.0.1:") \
                    and ma.group(2) != b"lua":
                return "monitor line client address differs in kind"
            return None
    return exact(a, b, args)


def command_list(a: Reply, b: Reply, args) -> Optional[str]:
    """COMMAND LIST: unordered; Redis's commands that shoal lacks are allowed
    (NOT_YET), anything shoal lists that Redis does not is a difference."""
    if a.kind != ARRAY or b.kind != ARRAY:
        return exact(a, b, args)
    names_a = {x.value for x in a.value}
    names_b = {x.value for x in b.value if x.value.decode() not in _SKIP_SUBS}
    extra = sorted(names_b - names_a)
    return f"shoal lists commands Redis does not have: {extra[:8]}" if extra else None


def _help_entries(r: Reply):
    """A HELP reply as entries: a heading line plus its indented lines."""
    entries, cur = [], None
    for line in r.value[1:]:
        t = line.value
        if t.startswith(b" ") and cur is not None:
            cur.append(t)
        else:
            cur = [t]
            entries.append(cur)
    return [tuple(e) for e in entries]


def help_subset(a: Reply, b: Reply, args) -> Optional[str]:
    """HELP: the first line exact; every entry shoal lists must be Redis's
    entry word for word, in Redis's order. Redis may list more: the
    subcommands shoal does not have yet (NOT_YET). Entries for deliberate
    extensions (CLIENT SETINFO) are ignored."""
    if a.kind != ARRAY or b.kind != ARRAY or not a.value or not b.value:
        return exact(a, b, args)
    if a.value[0] != b.value[0]:
        return first_difference(a.value[0], b.value[0])
    ours = [e for e in _help_entries(b)
            if not any(e[0].lower().startswith(x.split("|")[1].encode()) for x in EXTENSIONS if "|" in x)]
    theirs = _help_entries(a)
    pos = 0
    for e in ours:
        try:
            pos = theirs.index(e, pos) + 1
        except ValueError:
            return f"help entry {e[0]!r} is not Redis's (or out of order)"
    return None


def shoal_only_ok_or_error(a: Reply, b: Reply, args) -> Optional[str]:
    """The reference does not have this command/subcommand; shoal's reply is
    accepted if it is +OK or an error (checked here, not against Redis)."""
    if b.kind == SIMPLE and b.value == b"OK":
        return None
    if b.is_error:
        return None
    return f"expected +OK or an error, got {b!r}"


# --- collections: order defined by the encoding, random picks ----------------
#
# These comparators may "probe": run a read-only command on the same connection
# of both servers after the compared command (see harness.py).  probe(side,
# args) returns the Reply, or None when the connection cannot answer (then the
# looser comparison is used).  Every comparator probes both sides with the same
# commands so the two servers' state and statistics stay alike.

# Encodings whose iteration order is defined (listpack: insertion order for
# hashes, score order for sorted sets; intset: ascending integers); replies of
# keys in any other encoding (hashtable, skiplist's dict) come in hash order.
COMPACT_ENCODINGS = {b"listpack", b"intset", b"ziplist"}


def _probe_both(probe, args_ref, args_got=None):
    if probe is None:
        return None, None
    ra = probe("ref", args_ref)
    rb = probe("got", args_got if args_got is not None else args_ref)
    return ra, rb


def _encodings(probe, key):
    """(reference encoding, shoal encoding) of key, bytes or None."""
    ra, rb = _probe_both(probe, [b"OBJECT", b"ENCODING", key])
    ea = ra.value if ra is not None and ra.kind == BULK else None
    eb = rb.value if rb is not None and rb.kind == BULK else None
    return ea, eb


def _is_pairs_reply(args) -> bool:
    name = args[0].upper() if args else b""
    if name in (b"HGETALL",):
        return True
    if name in (b"HSCAN", b"ZSCAN"):
        return True
    return False


def _order_free_diff(a: Reply, b: Reply, args) -> Optional[str]:
    if _is_pairs_reply(args):
        return map_unordered(a, b, args)
    return unordered(a, b, args)


def ordered_if_compact(a: Reply, b: Reply, args, probe=None) -> Optional[str]:
    """The whole collection of the key in args[1] (SMEMBERS, HKEYS, HVALS,
    HGETALL): the same items (field/value pairs for HGETALL) in any order;
    when the order differs, OBJECT ENCODING of the key is probed on both
    servers: they must agree, and for a compact encoding (listpack, intset),
    whose order Redis defines, the order must be the same too."""
    if a == b:
        return None
    d = _order_free_diff(a, b, args)
    if d:
        return d
    if len(args) < 2:
        return exact(a, b, args)
    ea, eb = _encodings(probe, args[1])
    if ea is None or eb is None:
        return None
    if ea != eb:
        return f"same items, different order, and OBJECT ENCODING {eb!r} instead of {ea!r}"
    if ea in COMPACT_ENCODINGS:
        return (f"order differs for a {ea.decode()} (whose order is defined): "
                + (first_difference(a, b) or "?"))
    return None


def scan_key(a: Reply, b: Reply, args, probe=None) -> Optional[str]:
    """SSCAN/HSCAN/ZSCAN key cursor ...: for a compact encoding Redis returns
    everything (matching) in one call, in encoding order, with cursor 0: exact.
    For a hash table the cursor is opaque and one call's items depend on the
    table layout: the shape [cursor, [items]] must match, and when the call
    started at 0 and both returned cursor 0 the items must match ignoring order
    (as pairs for HSCAN/ZSCAN)."""
    if a == b:
        return None
    if a.kind != ARRAY or b.kind != ARRAY or len(a.value) != 2 or len(b.value) != 2:
        return exact(a, b, args)
    ca, ka = a.value
    cb, kb = b.value
    if cb.kind != BULK or not cb.value.isdigit():
        return f"cursor is not a bulk string of digits: {cb!r}"
    if kb.kind != ARRAY:
        return f"items reply type {kb.kind}, expected array"
    if len(args) > 1:
        ea, eb = _encodings(probe, args[1])
        if ea is not None and eb is not None:
            if ea != eb:
                return f"OBJECT ENCODING {eb!r} instead of {ea!r}"
            if ea in COMPACT_ENCODINGS:
                return ("a scan of a " + ea.decode() + " is one exact call: "
                        + (first_difference(a, b) or "?"))
    if len(args) > 2 and args[2] == b"0" and ca.value == b"0" and cb.value == b"0":
        return _order_free_diff(ka, kb, args)
    return None


_INT64_RE = re.compile(rb"-?[1-9][0-9]{0,18}|0")


def _intset_member(v: bytes) -> bool:
    return bool(_INT64_RE.fullmatch(v)) and -(1 << 63) <= int(v) < (1 << 63)


def set_union_diff(a: Reply, b: Reply, args, probe=None) -> Optional[str]:
    """SUNION/SDIFF (and SINTER): the result is collected in a temporary set
    (or, for SINTER, read from the smallest input set), so its order is hash
    order unless that set is an intset: items compared ignoring order; when
    every item of the reference's reply is an integer and there are at most
    set-max-intset-entries (probed with CONFIG GET) of them, the temporary set
    of SUNION/SDIFF is an intset in Redis 7.0 and the order must be ascending
    on both."""
    if a == b:
        return None
    d = unordered(a, b, args)
    if d:
        return d
    name = args[0].upper() if args else b""
    if name == b"SINTER" or a.kind not in AGGREGATES:
        return None
    items = [x.value for x in a.value]
    if not all(x.kind == BULK and _intset_member(x.value) for x in a.value):
        return None
    ra, rb = _probe_both(probe, [b"CONFIG", b"GET", b"set-max-intset-entries"])
    pa = _pairs(ra) if ra is not None and not ra.is_error else None
    if not pa:
        return None
    limit = int(pa[0][1].value)
    if len(items) <= limit:
        return ("all-integer result of at most set-max-intset-entries items is an "
                "intset, in ascending order: " + (first_difference(a, b) or "?"))
    return None


def _count_arg(args, i):
    try:
        return int(args[i]) if len(args) > i else None
    except ValueError:
        return None


def _flat_items(r: Reply) -> list:
    return list(r.value) if r.kind in AGGREGATES else []


def random_members(a: Reply, b: Reply, args, probe=None) -> Optional[str]:
    """SRANDMEMBER key [count]: random picks.  Reply type and number of items
    must match; with a positive count the picks are distinct; each side's
    picks must be members of its own set (probed with SMISMEMBER)."""
    if a.kind != b.kind:
        return f"reply type {b.kind}, expected {a.kind}"
    if a.is_null:
        return None
    if a.kind == BULK:
        picks_a, picks_b = [a.value], [b.value]
    elif a.kind in AGGREGATES:
        if len(a.value) != len(b.value):
            return f"{len(b.value)} items, expected {len(a.value)}"
        if any(x.kind != BULK for x in b.value):
            return f"non-bulk item in {b!r}"
        picks_a = [x.value for x in a.value]
        picks_b = [x.value for x in b.value]
        count = _count_arg(args, 2)
        if count is not None and count > 0 and len(set(picks_b)) != len(picks_b):
            return "repeated members for a positive count"
    else:
        return exact(a, b, args)
    if not picks_a:
        return None
    key = args[1]
    ra, rb = _probe_both(probe, [b"SMISMEMBER", key] + picks_a,
                         [b"SMISMEMBER", key] + picks_b)
    if rb is not None and rb.kind in AGGREGATES:
        bad = [p for p, r in zip(picks_b, rb.value) if r.value != 1]
        if bad:
            return f"picks that are not members: {_short([repr(x) for x in bad])}"
    return None


def random_fields(a: Reply, b: Reply, args, probe=None) -> Optional[str]:
    """HRANDFIELD key [count [WITHVALUES]] and ZRANDMEMBER key [count
    [WITHSCORES]]: random picks.  Reply type, item count and nesting must
    match; with a positive count the picks are distinct; each side's picks
    must exist in its own key, and with WITHVALUES/WITHSCORES carry the key's
    values/scores (probed with HMGET/ZMSCORE)."""
    d = _shape(a, b) if a.kind in AGGREGATES else (None if a.kind == b.kind else
                                                    f"reply type {b.kind}, expected {a.kind}")
    if d:
        return d
    if a.is_null:
        return None
    zset = args[0].upper() == b"ZRANDMEMBER"
    withvalues = len(args) > 3 and args[3].upper() == (b"WITHSCORES" if zset else b"WITHVALUES")
    if a.kind == BULK:
        pairs_a, pairs_b = [(a.value, None)], [(b.value, None)]
    elif a.kind in AGGREGATES:
        def pairs(r):
            items = r.value
            if not withvalues:
                return [(x.value, None) for x in items]
            if items and items[0].kind in AGGREGATES:       # RESP3: [[f, v], ...]
                return [(x.value[0].value, x.value[1]) for x in items]
            return [(items[i].value, items[i + 1]) for i in range(0, len(items), 2)]
        pairs_a, pairs_b = pairs(a), pairs(b)
        count = _count_arg(args, 2)
        fields_b = [f for f, _ in pairs_b]
        if count is not None and count > 0 and len(set(fields_b)) != len(fields_b):
            return "repeated picks for a positive count"
    else:
        return exact(a, b, args)
    if not pairs_a:
        return None
    key = args[1]
    look = b"ZMSCORE" if zset else b"HMGET"
    ra, rb = _probe_both(probe, [look, key] + [f for f, _ in pairs_a],
                         [look, key] + [f for f, _ in pairs_b])
    if rb is not None and rb.kind in AGGREGATES:
        for (f, v), r in zip(pairs_b, rb.value):
            if r.is_null:
                return f"pick {f!r} is not in the key"
            # RESP2 scores are bulk strings in both replies, RESP3 doubles in both
            if withvalues and (r.kind, r.value) != (v.kind, v.value):
                return f"pick {f!r} with {v!r}, the key has {r!r}"
    return None


def popped_members(a: Reply, b: Reply, args, probe=None) -> Optional[str]:
    """SPOP key [count]: random picks, removed.  Reply type and number of
    items must match, picks are distinct and no longer members afterwards
    (probed with SMISMEMBER)."""
    if a.kind != b.kind:
        return f"reply type {b.kind}, expected {a.kind}"
    if a.is_null:
        return None
    if a.kind == BULK:
        picks_a, picks_b = [a.value], [b.value]
    elif a.kind in AGGREGATES:
        if len(a.value) != len(b.value):
            return f"{len(b.value)} items, expected {len(a.value)}"
        picks_a = [x.value for x in a.value]
        picks_b = [x.value for x in b.value]
        if len(set(picks_b)) != len(picks_b):
            return "repeated members"
    else:
        return exact(a, b, args)
    if not picks_a:
        return None
    key = args[1]
    ra, rb = _probe_both(probe, [b"SMISMEMBER", key] + picks_a,
                         [b"SMISMEMBER", key] + picks_b)
    if rb is not None and rb.kind in AGGREGATES:
        bad = [p for p, r in zip(picks_b, rb.value) if r.value != 0]
        if bad:
            return f"popped members still in the set: {_short([repr(x) for x in bad])}"
    return None


# --- ACL ----------------------------------------------------------------------

def _acl_sort_commands(t: bytes) -> bytes:
    """ACL rule text with each run of single-command rules (+get -hdel
    +select|0, as opposed to +@category rules) sorted; a ')' closing a
    selector stays at the end."""
    out, run = [], []

    def flush(close=b""):
        run.sort()
        if close and run:
            run[-1] += close
        out.extend(run)
        run.clear()

    for tok in t.split(b" "):
        body, close = (tok[:-1], b")") if tok.endswith(b")") else (tok, b"")
        if body[:1] in (b"+", b"-") and body[1:2] != b"@":
            run.append(body)
            if close:
                flush(close)
        else:
            flush()
            out.append(tok)
    flush()
    return b" ".join(out)


def _acl_norm(r: Reply) -> Reply:
    if r.kind in (BULK, SIMPLE) and isinstance(r.value, bytes):
        return Reply(r.kind, _acl_sort_commands(r.value))
    if r.kind in AGGREGATES:
        return Reply(r.kind, tuple(_acl_norm(x) for x in r.value))
    if r.kind == MAP:
        return Reply(r.kind, tuple((k, _acl_norm(v)) for k, v in r.value))
    return r


def acl_rules(a: Reply, b: Reply, args) -> Optional[str]:
    """ACL GETUSER / ACL LIST: exact, except that the single-command rules
    after the categories may come in any order (Redis emits them in its
    command dictionary's hash order, which is random per process)."""
    na, nb = _acl_norm(a), _acl_norm(b)
    return None if na == nb else (first_difference(na, nb) or "replies differ")


def acl_cat(a: Reply, b: Reply, args, probe=None) -> Optional[str]:
    """ACL CAT <category>: the names as a set (Redis lists them in hash
    order), restricted to the commands shoal has (NOT_YET): a command shoal
    has must be in exactly the same categories as in Redis."""
    if a.kind != ARRAY or b.kind != ARRAY or len(args) < 3:
        return exact(a, b, args)
    names_a = {x.value for x in a.value}
    names_b = {x.value for x in b.value if x.value.decode() not in EXTENSIONS}
    ra, rb = _probe_both(probe, [b"COMMAND", b"LIST"])
    if rb is not None and rb.kind == ARRAY:
        ours = {x.value for x in rb.value}  # shoal's commands and subcommands
        names_a = {n for n in names_a if n in ours}
    missing = sorted(names_a - names_b)
    extra = sorted(names_b - names_a)
    if missing or extra:
        return (f"category members differ: missing {_short([m.decode() for m in missing])}, "
                f"unexpected {_short([e.decode() for e in extra])}")
    return None


def _acl_log_entry(x: Reply, y: Reply, i: int) -> Optional[str]:
    px, py = _pairs(x), _pairs(y)
    if px is None or py is None:
        return exact(x, y, [])
    if [k for k, _ in px] != [k for k, _ in py]:
        return f"entry {i}: fields {[k.text() for k, _ in py]}, expected {[k.text() for k, _ in px]}"
    for (k, vx), (_, vy) in zip(px, py):
        if k.value == b"age-seconds":
            if vx.kind != vy.kind:
                return f"entry {i}: age-seconds type {vy.kind}, expected {vx.kind}"
            try:
                if abs(float(vx.value) - float(vy.value)) > 5:
                    return f"entry {i}: age-seconds {vy.value!r} far from {vx.value!r}"
            except ValueError:
                return f"entry {i}: age-seconds not a number: {vy.value!r}"
        elif k.value == b"client-info":
            d = client_list(vx, vy, [])
            if d:
                return f"entry {i}: client-info: {d}"
        elif vx != vy:
            return f"entry {i}: {k.text()} {vy!r}, expected {vx!r}"
    return None


def acl_log(a: Reply, b: Reply, args) -> Optional[str]:
    """ACL LOG: entries exact except age-seconds (timing; within 5 s) and the
    client-info line (compared like CLIENT INFO: ids, addresses and buffer
    sizes differ)."""
    if a.kind != ARRAY or b.kind != ARRAY:
        return exact(a, b, args)
    if len(a.value) != len(b.value):
        return f"{len(b.value)} entries, expected {len(a.value)}"
    for i, (x, y) in enumerate(zip(a.value, b.value)):
        d = _acl_log_entry(x, y, i)
        if d:
            return d
    return None


def acl_genpass(a: Reply, b: Reply, args) -> Optional[str]:
    """ACL GENPASS: random; the same length of lowercase hex."""
    if a.kind != BULK or b.kind != BULK:
        return exact(a, b, args)
    if len(a.value) != len(b.value) or not re.fullmatch(rb"[0-9a-f]*", b.value):
        return f"{b.value!r} is not {len(a.value)} lowercase hex digits"
    return None


# --- streams: idle and delivery times ------------------------------------------

# Per-consumer time fields of XINFO CONSUMERS / XINFO STREAM FULL (Redis 7.0
# has seen-time and idle; 7.2 adds active-time and inactive).
STREAM_TIME_FIELDS = {b"seen-time", b"active-time", b"idle", b"inactive"}
# Allowed difference between the two servers' idle / delivery times (ms): each
# command runs on both servers a few ms apart, more on a loaded machine.
STREAM_TIME_TOLERANCE = 5000


def _kv_pairs(r: Reply):
    """(key bytes, value) pairs of a RESP3 map or RESP2 flat field list, else None."""
    if r.kind == MAP:
        return [(k.value, v) for k, v in r.value]
    if r.kind == ARRAY and len(r.value) % 2 == 0 and all(
            r.value[i].kind in (BULK, SIMPLE) for i in range(0, len(r.value), 2)):
        return [(r.value[i].value, r.value[i + 1]) for i in range(0, len(r.value), 2)]
    return None


def _rebuild_kv(r: Reply, pairs) -> Reply:
    if r.kind == MAP:
        return Reply(MAP, tuple((k, v) for (k, _), (_, v) in zip(r.value, pairs)))
    out = []
    for i, (_, v) in enumerate(pairs):
        out += [r.value[2 * i], v]
    return Reply(ARRAY, tuple(out))


_TIME_MASK = Reply(SIMPLE, b"<time>")


def _mask_times(r: Reply, spec, times: list) -> Reply:
    """A copy of r with the time values that spec names replaced by a
    placeholder; the replaced values are appended to times.  spec: ("list",
    item spec), ("entry", index of the time in a PEL entry array), or ("kv",
    {field: spec}) where STREAM_TIME_FIELDS are masked too."""
    kind = spec[0]
    if kind == "list":
        if r.kind not in AGGREGATES:
            return r
        return Reply(r.kind, tuple(_mask_times(x, spec[1], times) for x in r.value))
    if kind == "entry":
        i = spec[1]
        if r.kind not in AGGREGATES or len(r.value) <= i:
            return r
        times.append(r.value[i])
        return Reply(r.kind, r.value[:i] + (_TIME_MASK,) + r.value[i + 1:])
    pairs = _kv_pairs(r)
    if pairs is None:
        return r
    out = []
    for k, v in pairs:
        if k in STREAM_TIME_FIELDS:
            times.append(v)
            v = _TIME_MASK
        elif k in spec[1]:
            v = _mask_times(v, spec[1][k], times)
        out.append((k, v))
    return _rebuild_kv(r, out)


_XINFO_FULL_SPEC = ("kv", {b"groups": ("list", ("kv", {
    b"pending": ("list", ("entry", 2)),           # [id, consumer, delivery time, count]
    b"consumers": ("list", ("kv", {b"pending": ("list", ("entry", 1))})),  # [id, time, count]
}))})


def _stream_time_spec(args):
    up = [x.upper() for x in args]
    if up[0] == b"XPENDING":
        # the extended form: [id, consumer, idle ms, delivery count] entries
        return ("list", ("entry", 2)) if len(args) > 3 else None
    if up[:2] == [b"XINFO", b"CONSUMERS"]:
        return ("list", ("kv", {}))
    if up[:2] == [b"XINFO", b"STREAM"] and b"FULL" in up[3:]:
        return _XINFO_FULL_SPEC
    return None


_TREE_NODES_MASK = Reply(SIMPLE, b"<radix-tree-nodes>")


def _mask_tree_nodes(r: Reply) -> Reply:
    """XINFO STREAM's reply with an integer radix-tree-nodes value masked."""
    pairs = _kv_pairs(r)
    if pairs is None:
        return r
    return _rebuild_kv(r, [(k, _TREE_NODES_MASK if k == b"radix-tree-nodes" and v.kind == INTEGER else v)
                           for k, v in pairs])


def stream_times(a: Reply, b: Reply, args) -> Optional[str]:
    """XPENDING (extended form), XINFO CONSUMERS and XINFO STREAM FULL: exact,
    except the idle times (ms since the last delivery / interaction) and the
    delivery and seen times (unix ms), which must be integers within
    STREAM_TIME_TOLERANCE ms of the reference's.  XINFO STREAM (with or without
    FULL): radix-tree-nodes may be any integer (Redis counts the nodes of its
    rax, which shoal does not have)."""
    if a == b:
        return None
    if [x.upper() for x in args[:2]] == [b"XINFO", b"STREAM"]:
        a, b = _mask_tree_nodes(a), _mask_tree_nodes(b)
        if a == b:
            return None
    spec = _stream_time_spec(args)
    if spec is None:
        return exact(a, b, args)
    ta, tb = [], []
    ma, mb = _mask_times(a, spec, ta), _mask_times(b, spec, tb)
    d = exact(ma, mb, args)
    if d:
        return d
    for x, y in zip(ta, tb):
        if x.kind != INTEGER or y.kind != INTEGER:
            if x != y:
                return f"time field {_brief(y)} instead of {_brief(x)}"
        elif abs(x.value - y.value) > STREAM_TIME_TOLERANCE:
            return f"time {y.value} differs from {x.value} by more than {STREAM_TIME_TOLERANCE} ms"
    return None


# --- SORT: order among equal sort keys -------------------------------------------

def _sort_opts(args):
    """(ALPHA, BY pattern or None, LIMIT given, number of GET patterns, STORE)."""
    up = [x.upper() for x in args]
    alpha, by, limit, gets, store = False, None, False, 0, False
    i = 2
    while i < len(up):
        if up[i] == b"ALPHA":
            alpha = True
        elif up[i] == b"BY" and i + 1 < len(up):
            by = args[i + 1]
            i += 1
        elif up[i] == b"LIMIT" and i + 2 < len(up):
            limit = True
            i += 2
        elif up[i] == b"GET" and i + 1 < len(up):
            gets += 1
            i += 1
        elif up[i] == b"STORE" and i + 1 < len(up):
            store = True
            i += 1
        i += 1
    return alpha, by, limit, gets, store


SORT_NOT_DOUBLE = b"ERR One or more scores can't be converted into double"
# A key the generator and the case files never use: GEORADIUS_RO on it parses
# the coordinates (errno = 0 first) and replies an empty array.
ERRNO_RESET = [b"GEORADIUS_RO", b"__diff_errno_reset__", b"0", b"0", b"1", b"km"]


def _sort_stale_errno(a: Reply, b: Reply, args, probe) -> Optional[str]:
    """Errors are exact, with one exception: Redis 7.0's SORT converts each
    non-integer weight with strtod and then tests errno == ERANGE without
    clearing errno first, so after any earlier out-of-range number in the
    process (1e400 given to GEOADD, INCRBYFLOAT, ...: parsers that set errno
    and leave it) it reports this error for valid weights like 1.5.  When the
    reference replied that error and shoal did not, errno is cleared on both
    servers (ERRNO_RESET) and the command is run again on both (SORT is
    idempotent, STORE included as long as it does not store into its own
    source, which the generator never does): the reference's new reply must
    then match shoal's first one, and shoal must repeat it."""
    if not (a.is_error and a.value == SORT_NOT_DOUBLE and not b.is_error and probe):
        return "errors are always exact: " + (first_difference(a, b) or "?")
    _probe_both(probe, ERRNO_RESET)
    ra, rb = _probe_both(probe, list(args))
    if ra is None or rb is None:
        return "errors are always exact: " + (first_difference(a, b) or "?")
    if ra.is_error:
        return ("errors are always exact (the reference repeats it with errno cleared): "
                + (first_difference(ra, b) or "?"))
    if rb != b:
        return "shoal's reply changed when the command was repeated: " + (first_difference(b, rb) or "?")
    return sort_ties(ra, b, args, probe)


def sort_ties(a: Reply, b: Reply, args, probe=None) -> Optional[str]:
    """SORT / SORT_RO whose result order Redis does not define: Redis loads a
    sorted set's elements from its dict and a hash-table set's from its table
    (both in hash order, seeded per process), so items whose sort keys compare
    equal come out in that order: with ALPHA (BY a pattern whose values tie or
    are missing, or elements equal up to a NUL byte: strcoll) and, for a set,
    BY without '*' (no sorting).  Lists and intsets are loaded in a defined
    order and are compared exactly, as is every other case.  When the order
    is undefined: same number of items; without LIMIT the same items (each
    element's group of GET results) in any order; with LIMIT, which items
    the range holds depends on the order too, so only the count is checked.
    ALPHA without BY and GET: the elements up to their first NUL byte (what
    strcoll compares) must come in the same order.  The type and encoding of
    the key are probed (TYPE, OBJECT ENCODING).  Errors: see
    _sort_stale_errno."""
    if a == b:
        return None
    if a.is_error or b.is_error:
        return _sort_stale_errno(a, b, args, probe)
    if a.kind != ARRAY or b.kind != ARRAY or len(args) < 2:
        return exact(a, b, args)
    alpha, by, limit, gets, store = _sort_opts(args)
    dontsort = by is not None and b"*" not in by
    if store or not (alpha or dontsort):
        return exact(a, b, args)
    ra, rb = _probe_both(probe, [b"TYPE", args[1]])
    ta = ra.value if ra is not None and ra.kind == SIMPLE else None
    tb = rb.value if rb is not None and rb.kind == SIMPLE else None
    if ta != tb:
        return f"TYPE {tb!r} instead of {ta!r}"
    if ta == b"zset":
        if dontsort:            # no sorting: the sorted set's own order
            return exact(a, b, args)
    elif ta == b"set":
        ea, eb = _encodings(probe, args[1])
        if ea != eb:
            return f"OBJECT ENCODING {eb!r} instead of {ea!r}"
        if ea in COMPACT_ENCODINGS:
            return exact(a, b, args)
    else:
        return exact(a, b, args)
    if len(a.value) != len(b.value):
        return f"{len(b.value)} items instead of {len(a.value)}"
    if by is None and gets == 0:
        # ALPHA on the elements themselves: only elements equal up to a NUL
        # byte tie, so the sequence of those prefixes is defined
        def prefixes(r):
            return [x.value.split(b"\0", 1)[0] if isinstance(x.value, bytes) else x.value
                    for x in r.value]
        if prefixes(a) != prefixes(b):
            return "ALPHA order (elements up to a NUL byte) differs: " + (first_difference(a, b) or "?")
        return None
    if limit:
        return None
    n = max(gets, 1)
    ga = [tuple(_canon(x) for x in a.value[i:i + n]) for i in range(0, len(a.value), n)]
    gb = [tuple(_canon(x) for x in b.value[i:i + n]) for i in range(0, len(b.value), n)]
    if sorted(map(repr, ga)) != sorted(map(repr, gb)):
        return "different items (ignoring the undefined order): " + (first_difference(a, b) or "?")
    return None


COMPARATORS: dict[str, Comparator] = {
    "exact": exact,
    "type": same_type,
    "shape": shape,
    "unordered": unordered,
    "map-unordered": map_unordered,
    "config-get": config_get,
    "command-table": command_table,
    "command-docs": command_docs,
    "info-sections": info_sections,
    "client-list": client_list,
    "hello": hello,
    "time": time_reply,
    "tolerance": tolerance,
    "scan": scan,
    "debug-object": debug_object,
    "monitor-line": monitor_line,
    "shoal-only": shoal_only_ok_or_error,
    "command-list": command_list,
    "help-subset": help_subset,
    "ordered-if-compact": ordered_if_compact,
    "scan-key": scan_key,
    "set-union-diff": set_union_diff,
    "random-members": random_members,
    "random-fields": random_fields,
    "popped-members": popped_members,
    "stream-times": stream_times,
    "sort-ties": sort_ties,
    "acl-rules": acl_rules,
    "acl-cat": acl_cat,
    "acl-log": acl_log,
    "acl-genpass": acl_genpass,
    "function-list": function_list,
    "client-id": client_id,
    "tracking-info": tracking_info,
    "pushed": pushed,
}

# Comparators that take the probe argument (see harness.py).
_PROBING = {"acl-cat", "ordered-if-compact", "scan-key", "set-union-diff", "random-members",
            "random-fields", "popped-members", "sort-ties"}

# Comparators that may accept an error reply on one side (they check that
# themselves); all others go through the "errors are exact" guard.
_ERROR_AWARE = {"shoal-only", "sort-ties"}


# ---------------------------------------------------------------------------
# The rules
# ---------------------------------------------------------------------------

RULES: list[Rule] = [
    # --- ordering that Redis itself does not define -------------------------
    Rule(("KEYS",), "unordered",
         "KEYS returns keys in hash-table order, which Redis does not define"),
    Rule(("SCAN",), "scan",
         "SCAN cursors encode the hash-table position; one call's keys depend on "
         "the table layout (full scans are compared as sets with @scanall)"),
    Rule(("@SCANALL",), "unordered",
         "harness directive: a complete SCAN iteration; SCAN guarantees which "
         "keys are returned, not their order or duplicates-free-ness (duplicates "
         "are removed by the harness before comparison)"),
    Rule(("FUNCTION", "LIST"), "function-list",
         "FUNCTION LIST walks the libraries dictionary and each library's functions "
         "dictionary in hash-table order (SipHash with a per-process random seed): "
         "Redis itself lists them in a different order from one run to the next"),
    Rule(("PUBSUB", "CHANNELS"), "unordered",
         "PUBSUB CHANNELS lists channels in hash-table order, which Redis does not define"),
    Rule(("PUBSUB", "SHARDCHANNELS"), "unordered",
         "PUBSUB SHARDCHANNELS lists channels in hash-table order, which Redis does not define"),
    Rule(("RANDOMKEY",), "type",
         "RANDOMKEY picks a random key: only nil-vs-key (the reply type) is fixed"),
    Rule(("COMMAND",), "command-table",
         "COMMAND (no subcommand) lists commands, and each command its "
         "subcommands, in hash-table order; " + NOT_YET),
    Rule(("COMMAND", "LIST"), "command-list",
         "COMMAND LIST lists commands in command-table hash order; " + NOT_YET),
    Rule(("COMMAND", "DOCS"), "command-docs",
         "COMMAND DOCS lists subcommands (and, without names, commands) in "
         "hash-table order; with names the order requested is checked; " + NOT_YET),
    Rule(("COMMAND", "INFO"), "command-table",
         "COMMAND INFO lists subcommands (and, without names, commands) in "
         "hash-table order; with names the order requested is checked; " + NOT_YET),
    Rule(("COMMAND", "COUNT"), "type", NOT_YET),
    Rule(("COMMAND", "GETKEYS"), "exact", "overrides the COMMAND rule: exact"),
    Rule(("COMMAND", "GETKEYSANDFLAGS"), "exact", "overrides the COMMAND rule: exact"),
    Rule(("COMMAND", "HELP"), "help-subset", NOT_YET),
    Rule(("CLIENT", "HELP"), "help-subset", NOT_YET),
    Rule(("LATENCY", "HELP"), "help-subset", NOT_YET),
    Rule(("DEBUG", "HELP"), "help-subset", NOT_YET),
    Rule(("CONFIG", "GET"), "config-get",
         "CONFIG GET returns pairs in config-dict order (undefined); values of "
         "per-instance parameters (paths, ports) differ by construction"),

    # --- per-process facts: compared by type or shape ------------------------
    Rule(("INFO",), "info-sections",
         "INFO values are counters, sizes, pids and times of each process; the "
         "section headers are compared"),
    Rule(("CLIENT", "LIST"), "client-list",
         "client ids, addresses, fds, ages and buffer sizes differ per process"),
    Rule(("CLIENT", "INFO"), "client-list",
         "client ids, addresses, fds, ages and buffer sizes differ per process"),
    Rule(("CLIENT", "ID"), "type",
         "client ids depend on how many connections each server has accepted "
         "(the harness's readiness probes included)"),
    Rule(("HELLO",), "hello",
         "HELLO includes the client id, which differs per process"),
    Rule(("TIME",), "time", "the clock moves"),
    Rule(("LASTSAVE",), "type",
         "LASTSAVE is the start time of each process when nothing was saved"),
    Rule(("TTL",), "tolerance",
         "TTL is rounded from the remaining ms, which depends on when each "
         "server ran the command", tolerance=1),
    Rule(("EXPIRETIME",), "tolerance",
         "relative expiries set a few ms apart on the two servers can straddle "
         "a second", tolerance=1),
    Rule(("PTTL",), "tolerance",
         "remaining ms depend on when each server ran the commands", tolerance=250),
    Rule(("PEXPIRETIME",), "tolerance",
         "absolute ms of a relative expiry depends on when each server ran it",
         tolerance=250),
    Rule(("OBJECT", "IDLETIME"), "type", "idle time depends on timing"),
    Rule(("OBJECT", "FREQ"), "type",
         "the LFU counter is probabilistic and decays with time"),
    Rule(("DEBUG", "OBJECT"), "debug-object",
         "DEBUG OBJECT shows a memory address and LRU clock values"),
    Rule(("MEMORY", "USAGE"), "type",
         "memory usage per key is allocator- and layout-specific; shoal is "
         "meant to use less"),
    Rule(("MEMORY", "STATS"), "type", "allocator statistics differ"),
    Rule(("MEMORY", "DOCTOR"), "type", "free-text report about this process"),
    Rule(("MEMORY", "MALLOC-STATS"), "type", "allocator-specific text"),
    Rule(("LATENCY", "LATEST"), "type",
         "latency events depend on how long each process took"),
    Rule(("LATENCY", "HISTORY"), "type",
         "latency events depend on how long each process took"),
    Rule(("LATENCY", "DOCTOR"), "type", "free-text report about this process"),
    Rule(("LATENCY", "RESET"), "type",
         "number of event series reset depends on timing"),
    Rule(("SLOWLOG", "GET"), "type",
         "slow log entries hold times, durations and client addresses"),
    Rule(("SLOWLOG", "LEN"), "type", "which commands were slow depends on timing"),
    Rule(("@READ",), "pushed",
         "harness directive: a pushed/streamed reply; MONITOR lines carry a "
         "timestamp and the client's address:port; tracking-redir-broken "
         "carries a client id"),
    Rule(("CLIENT", "GETREDIR"), "client-id",
         "the redirect target is a client id, numbered per process"),
    Rule(("CLIENT", "TRACKINGINFO"), "tracking-info",
         "the redirect target is a client id, numbered per process"),

    # --- collections: hash order, random picks ---------------------------------
    Rule(("SMEMBERS",), "ordered-if-compact",
         "a set in a hash table is returned in hash order, which Redis does not "
         "define; an intset's ascending order is checked (encoding probed)"),
    Rule(("HKEYS",), "ordered-if-compact",
         "a hash in a hash table is returned in hash order, which Redis does not "
         "define; a listpack's insertion order is checked (encoding probed)"),
    Rule(("HVALS",), "ordered-if-compact",
         "a hash in a hash table is returned in hash order, which Redis does not "
         "define; a listpack's insertion order is checked (encoding probed)"),
    Rule(("HGETALL",), "ordered-if-compact",
         "a hash in a hash table is returned in hash order, which Redis does not "
         "define (pairs must still match); a listpack's order is checked"),
    Rule(("SSCAN",), "scan-key",
         "a hash-table set is scanned in table order with opaque cursors; an "
         "intset is returned whole, exactly"),
    Rule(("HSCAN",), "scan-key",
         "a hash-table hash is scanned in table order with opaque cursors; a "
         "listpack is returned whole, exactly"),
    Rule(("SUNION",), "set-union-diff",
         "the result is gathered in a temporary set: hash order, unless it is an "
         "intset (all integers, few enough), whose ascending order is checked"),
    Rule(("SDIFF",), "set-union-diff",
         "the result is gathered in a temporary set: hash order, unless it is an "
         "intset (all integers, few enough), whose ascending order is checked"),
    Rule(("SINTER",), "set-union-diff",
         "the result follows the iteration order of the smallest input set, "
         "which is hash order unless it is an intset (and which of two equally "
         "small sets is first is not defined): compared ignoring order"),
    Rule(("SRANDMEMBER",), "random-members",
         "random picks: count, distinctness (positive count) and membership "
         "(probed) are checked, not which members"),
    Rule(("SPOP",), "popped-members",
         "random picks: count and distinctness are checked, and that the "
         "popped members are gone (probed), not which ones"),
    Rule(("ZSCAN",), "scan-key",
         "a skiplist zset is scanned in its dict's order with opaque cursors; a "
         "listpack is returned whole, exactly"),
    Rule(("ZRANDMEMBER",), "random-fields",
         "random picks: count, nesting, distinctness (positive count), that the "
         "members exist and, with WITHSCORES, their scores (probed) are checked"),
    Rule(("HRANDFIELD",), "random-fields",
         "random picks: count, nesting, distinctness (positive count), that the "
         "fields exist and, with WITHVALUES, their values (probed) are checked"),
    *[Rule((name,), "sort-ties",
           f"{name} reads a sorted set's or hash-table set's elements in hash order, "
           "so items with equal ALPHA sort keys (and a set's BY-nosort result) come "
           "in an order Redis does not define; and Redis tests a stale errno after "
           "strtod, so an earlier out-of-range float elsewhere makes it reject valid "
           "weights (checked by clearing errno and repeating); everything else is "
           "exact (see sort_ties)")
      for name in ("SORT", "SORT_RO")],

    # --- streams: times -----------------------------------------------------------
    Rule(("XPENDING",), "stream-times",
         "the extended form reports each entry's idle time (ms since delivery), "
         "which depends on when each server ran the commands: compared within "
         "a tolerance, everything else exact"),
    Rule(("XINFO", "CONSUMERS"), "stream-times",
         "each consumer's idle time (ms since it was last seen) depends on "
         "timing: compared within a tolerance, everything else exact"),
    Rule(("XINFO", "STREAM"), "stream-times",
         "FULL shows consumers' seen-time and pending entries' delivery times "
         "(unix ms) of each process: compared within a tolerance; "
         "radix-tree-nodes counts the nodes of Redis's rax (shoal has none): "
         "any integer; everything else (and the form without FULL) exact"),

    # --- ACL ------------------------------------------------------------------
    *[Rule(("ACL", sub), "acl-rules",
           "single-command rules come in Redis's command-dictionary hash order, "
           "random per process; shoal uses its command table's order")
      for sub in ("GETUSER", "LIST")],
    Rule(("ACL", "CAT"), "acl-cat",
         "ACL CAT <category> lists commands in hash order (random per process); "
         "Redis's commands that shoal lacks are left out (NOT_YET)"),
    Rule(("ACL", "LOG"), "acl-log",
         "age-seconds depends on timing; client-info holds ids, addresses and "
         "buffer sizes that differ between processes"),
    Rule(("ACL", "GENPASS"), "acl-genpass", "random passwords"),
    Rule(("ACL", "HELP"), "exact", "overrides nothing: exact"),

    # --- deliberate extensions beyond Redis 7.0.15 -----------------------------
    Rule(("CLIENT", "SETINFO"), "shoal-only",
         "CLIENT SETINFO is a Redis 7.2 subcommand (sent by redis-py and other "
         "current clients on connect) that the issue asks shoal to support; "
         "7.0.15 answers 'unknown subcommand'"),
]


def rule_for(args) -> Optional[Rule]:
    """The rule with the longest command prefix matching args, or None."""
    up = [a.upper() if isinstance(a, bytes) else str(a).upper().encode() for a in args]
    best = None
    for r in RULES:
        n = len(r.command)
        if len(up) >= n and all(up[i] == r.command[i].encode() for i in range(n)):
            if best is None or n > len(best.command):
                best = r
    return best


def compare(ref: Reply, got: Reply, args, probe=None) -> tuple[Optional[str], Optional[Rule]]:
    """Compare one reference reply with one shoal reply for command ``args``.
    probe(side, args): see harness.py; used by the _PROBING comparators.

    Returns (explanation or None, rule used or None)."""
    rule = rule_for(args)
    if rule is None:
        return exact(ref, got, args), None
    if rule.compare not in _ERROR_AWARE and (ref.is_error or got.is_error):
        return (None if ref == got else
                "errors are always exact: " + first_difference(ref, got)), rule
    fn = COMPARATORS[rule.compare]
    if rule.compare == "tolerance":
        return tolerance(ref, got, args, rule.tolerance), rule
    if rule.compare in _PROBING:
        return fn(ref, got, args, probe), rule
    return fn(ref, got, args), rule


# --- lex ranges over a skiplist whose members have different scores ----------
#
# Redis finds where a lex range starts (ends, for REV) by descending its
# skiplist's levels while the near bound fails, which assumes the members are
# in lex order, i.e. all share one score.  When they do not, which member it
# lands on depends on the random levels of the nodes (ZLEXCOUNT also finds
# the far end that way), so the reply is not defined; for a listpack Redis
# scans linearly and shoal matches it exactly (see tests/diff/cases/
# zsets_gen_found.txt).  ZREMRANGEBYLEX and ZRANGESTORE BYLEX change data, so
# no rule could keep the two servers alike after them: gen.py only gives
# them near bounds that every member passes or every member fails.

_LEX_READS = {b"ZRANGEBYLEX", b"ZREVRANGEBYLEX", b"ZLEXCOUNT", b"ZRANGE"}


def _probed_score(r: Optional[Reply]):
    """The score in a ZRANGE key i i WITHSCORES reply (RESP2 [m, s] or
    RESP3 [[m, s]]), or None."""
    if r is None or r.kind != ARRAY or not r.value:
        return None
    if len(r.value) == 1 and r.value[0].kind == ARRAY and len(r.value[0].value) == 2:
        return r.value[0].value[1]
    if len(r.value) == 2:
        return r.value[1]
    return None


def lex_range_if_defined(a: Reply, b: Reply, args, probe=None) -> Optional[str]:
    """ZRANGEBYLEX, ZREVRANGEBYLEX, ZLEXCOUNT and ZRANGE ... BYLEX: exact,
    unless the replies differ and (probed) both servers hold the key as a
    skiplist whose first and last members have different scores: then Redis's
    reply depends on its random skiplist levels, and only the reply type is
    compared."""
    if a == b:
        return None
    name = args[0].upper() if args else b""
    if name not in _LEX_READS or len(args) < 2:
        return exact(a, b, args)
    if name == b"ZRANGE" and b"BYLEX" not in [x.upper() for x in args[4:]]:
        return exact(a, b, args)
    if a.kind != b.kind:
        return exact(a, b, args)
    ea, eb = _encodings(probe, args[1])
    if ea != b"skiplist" or eb != b"skiplist":
        return exact(a, b, args)
    key = args[1]
    fa, fb = _probe_both(probe, [b"ZRANGE", key, b"0", b"0", b"WITHSCORES"])
    la, lb = _probe_both(probe, [b"ZRANGE", key, b"-1", b"-1", b"WITHSCORES"])
    sfa, sla = _probed_score(fa), _probed_score(la)
    sfb, slb = _probed_score(fb), _probed_score(lb)
    if None in (sfa, sla, sfb, slb) or sfa == sla or sfb == slb:
        return exact(a, b, args)
    return None


COMPARATORS["lex-range"] = lex_range_if_defined
_PROBING.add("lex-range")
_LEX_REASON = ("over a skiplist whose members have different scores Redis's lex "
               "range depends on the random node levels (probed: encoding, first "
               "and last score); everything else exact")
RULES += [
    Rule(("ZRANGEBYLEX",), "lex-range", _LEX_REASON),
    Rule(("ZREVRANGEBYLEX",), "lex-range", _LEX_REASON),
    Rule(("ZLEXCOUNT",), "lex-range", _LEX_REASON),
    Rule(("ZRANGE",), "lex-range", "ZRANGE ... BYLEX: " + _LEX_REASON),
]
