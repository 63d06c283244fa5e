"""Seeded random command generator for the differential harness.

``generate(seed, n)`` returns n harness Steps: commands from the issue's
command list (GENERATORS below, weighted), on keys from a small pool, with
values of many shapes (small/huge/boundary integers, floats, binary, empty,
embstr/raw-boundary lengths) and, for ~12% of the commands, deliberately
broken arguments (dropped or extra arguments, garbage numbers, wrong case,
unknown options).

Lists, hashes, sets and sorted sets use the same key pool as strings, so
types collide (WRONGTYPE paths); about half of the scripts start by lowering
encoding thresholds with CONFIG SET (``config_prelude``) so listpack/intset
conversions and quicklist node splits happen.  Random picks (SRANDMEMBER,
HRANDFIELD, ZRANDMEMBER) are compared by rules in known_differences.py;
SPOP is only generated with counts that pop all or nothing.

Streams, HyperLogLog, GEO and SORT commands mostly use their family's own
keys (FAMILY_KEYS: one shared with the pool, one private), so streams grow
groups and pending entries, HLLs turn dense and geo sets fill up; each
script may also focus on one of these families (FOCUS: its weights times
FOCUS_FACTOR).  Determinism: stream IDs are explicit (``ms-seq`` or
``ms-*``, never ``*``), following the script's own ID clock; idle and
delivery times (XPENDING, XINFO) are compared within a tolerance by a rule;
XCLAIM/XAUTOCLAIM use min-idle-time 0 or 1 h and IDLE/TIME that leave entries
fresh or decades old; XREAD/XREADGROUP never BLOCK.  HLL keys are also
overwritten with damaged HLL strings (SET, SETRANGE, APPEND) for the
corruption errors.  GEO points come from a few clusters, with members at
the very same spot (ties on distance).  SORT gets its own list/set/zset and
weight keys (w_<elem>, h_<elem>); it is never generated with STORE together
with ALPHA BY <pattern> (ties stored in hash order), and a rule compares the
cases whose order Redis leaves to hash order.

The same seed always yields the same script, so a mismatch is reproduced
with ``tests/diff/cli.py --seed N``.

Adding a command: write ``def g_name(r): return [b"NAME", ...]`` and add it
to GENERATORS with a weight.  Keep results deterministic on a correct server:
no relative expiry shorter than ~100 s (other than <= 0, which deletes at
once), no commands whose output is random unless a rule in
known_differences.py says how it is compared.
"""

from __future__ import annotations

import random

from harness import Step

DEFAULT_LEN = 250

# Generated scripts start with this (it is part of the script, so reproducers
# keep it).  Active expiry is switched off: keys given an expiry time in the
# past stay in the keyspace until something touches them, and when active
# expiry removes them depends on timing, which DBSIZE, RANDOMKEY and SCAN
# would show.  Lazy expiry (on access, SCAN, ...) is deterministic and tested.
PRELUDE = [[b"DEBUG", b"SET-ACTIVE-EXPIRE", b"0"]]
SERVER_ARGS = ["--enable-debug-command", "yes"]

KEYS = [b"k1", b"k2", b"k3", b"s", b"n", b"{tag}a", b"", b"bin\x00\xff",
        b"long:key:" + b"x" * 40]

# Per-family favourite keys (see G.fkey); the second of each is only used by
# that family's commands
FAMILY_KEYS = {"stream": [b"s", b"st"], "geo": [b"n", b"geo"], "hll": [b"k2", b"hll"],
               "sort": [b"{tag}a", b"sl", b"ss", b"sz"]}

INT_EDGES = [b"0", b"1", b"-1", b"9223372036854775807", b"-9223372036854775808",
             b"9223372036854775808", b"-9223372036854775809", b"4294967296",
             b"2147483647", b"536870912", b"100"]
FLOATS = [b"1.5", b"-0.25", b"3e2", b"0.1", b"1e-5", b".5", b"5.", b"-0",
          b"1.7976931348623157e308", b"2.5E+3", b"10.000", b"0x10", b"inf",
          b"-inf", b"nan", b"1e400"]
GARBAGE = [b"abc", b"", b"1.5", b" 1", b"1 ", b"99999999999999999999999",
           b"-", b"+1", b"0x1", b"1e3", b"\x00"]
WORDS = [b"hello", b"foobar", b"ohmytext", b"mynewtext", b"abc", b"a",
         b"Hello World", b"\xff\xf0\x00", b"\x00\x01\x02"]


class G:
    """Random helpers bound to one rng."""

    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.sms = 0          # the script's stream-ID clock (see _sid)
        self.weights = _WEIGHTS

    def key(self):
        return self.r.choice(KEYS)

    def fkey(self, family):
        """A key for a command of one data type family: mostly one of that
        family's two keys (one of them also in KEYS, so other types still
        collide with it), so values of that type live long enough to grow."""
        if self.r.random() < 0.7:
            return self.r.choice(FAMILY_KEYS[family])
        return self.key()

    def keys(self, lo=1, hi=4):
        return [self.key() for _ in range(self.r.randint(lo, hi))]

    def small_int(self, lo=-10, hi=100):
        return str(self.r.randint(lo, hi)).encode()

    def value(self):
        r = self.r.random()
        if r < 0.25:
            return self.small_int(-20, 20)
        if r < 0.32:
            return self.r.choice(INT_EDGES)
        if r < 0.42:
            return self.r.choice(FLOATS)
        if r < 0.62:
            return self.r.choice(WORDS)
        if r < 0.72:
            return bytes(self.r.randrange(256) for _ in range(self.r.randint(0, 8)))
        if r < 0.77:
            return b""
        if r < 0.85:
            return b"v" * self.r.choice([43, 44, 45, 46, 63, 64, 65])
        if r < 0.9:
            return self.r.choice([b"0123", b" 1", b"+1", b"1 ", b"00", b"-0"])
        return self.r.choice(WORDS) + self.small_int(0, 999)

    def number(self, lo=-10, hi=1000):
        r = self.r.random()
        if r < 0.8:
            return self.small_int(lo, hi)
        if r < 0.9:
            return self.r.choice(INT_EDGES)
        return self.r.choice(GARBAGE)

    def bit_offset(self):
        """Valid offsets stay small (a valid huge offset allocates up to
        512 MB); the invalid ones are the interesting edges."""
        r = self.r.random()
        if r < 0.9:
            return self.small_int(0, 300)
        return self.r.choice([b"4294967296", b"-1", b"abc", b"1.5",
                              b"9223372036854775808", b"20000"])

    def ttl_seconds(self):
        r = self.r.random()
        if r < 0.75:
            return str(self.r.randint(100, 100000)).encode()
        if r < 0.9:
            return self.r.choice([b"0", b"-1", b"-100"])
        return self.r.choice([b"9223372036854775807", b"9223372036854775",
                              b"abc", b"1.5", b""])

    def ttl_ms(self):
        r = self.r.random()
        if r < 0.75:
            return str(self.r.randint(100000, 100000000)).encode()
        if r < 0.9:
            return self.r.choice([b"0", b"-1"])
        return self.r.choice([b"9223372036854775807", b"abc"])

    def unix_seconds(self):
        r = self.r.random()
        if r < 0.7:
            return str(4102444800 + self.r.randint(0, 10**6)).encode()
        if r < 0.9:
            return str(self.r.randint(1, 10**6)).encode()  # in the past
        return self.r.choice([b"0", b"-1", b"9223372036854775807", b"x"])

    def unix_ms(self):
        r = self.r.random()
        if r < 0.7:
            return str(4102444800000 + self.r.randint(0, 10**9)).encode()
        if r < 0.9:
            return str(self.r.randint(1, 10**9)).encode()
        return self.r.choice([b"0", b"-1", b"9223372036854775807", b"x"])

    def maybe(self, p, items):
        return list(items) if self.r.random() < p else []

    def pick(self, *opts):
        return self.r.choice(opts)

    def pattern(self):
        return self.r.choice([b"*", b"k*", b"k?", b"[ks]*", b"*a*", b"{tag}*",
                              b"nosuch*", b"\\k1", b"[^k]*", b"long:*", b"?",
                              b"bin*", b"[a-z]"])


def _expire_opts(g: G):
    r = g.r.random()
    if r < 0.55:
        return []
    if r < 0.9:
        return [g.pick(b"NX", b"XX", b"GT", b"LT")]
    return g.r.sample([b"NX", b"XX", b"GT", b"LT", b"FOO"], 2)


def _set_opts(g: G):
    opts = []
    r = g.r.random()
    if r < 0.2:
        opts += [b"EX", g.ttl_seconds()]
    elif r < 0.3:
        opts += [b"PX", g.ttl_ms()]
    elif r < 0.35:
        opts += [b"EXAT", g.unix_seconds()]
    elif r < 0.4:
        opts += [b"PXAT", g.unix_ms()]
    elif r < 0.47:
        opts += [b"KEEPTTL"]
    if g.r.random() < 0.2:
        opts.append(g.pick(b"NX", b"XX"))
    if g.r.random() < 0.15:
        opts.append(b"GET")
    g.r.shuffle(opts) if g.r.random() < 0.1 else None
    return opts


def _getex_opts(g: G):
    r = g.r.random()
    if r < 0.3:
        return []
    if r < 0.5:
        return [b"EX", g.ttl_seconds()]
    if r < 0.6:
        return [b"PX", g.ttl_ms()]
    if r < 0.7:
        return [b"EXAT", g.unix_seconds()]
    if r < 0.8:
        return [b"PXAT", g.unix_ms()]
    if r < 0.95:
        return [b"PERSIST"]
    return [b"KEEPTTL"]


def _bf_type(g: G):
    if g.r.random() < 0.5:
        return b"u" + str(g.r.randint(1, 63)).encode()
    if g.r.random() < 0.95:
        return b"i" + str(g.r.randint(1, 64)).encode()
    return g.pick(b"u64", b"i65", b"x8", b"u0")


def _bf_offset(g: G):
    if g.r.random() < 0.3:
        return b"#" + str(g.r.randint(0, 20)).encode()
    return str(g.r.randint(0, 200)).encode()


def _bitfield_ops(g: G, ro=False):
    ops = []
    for _ in range(g.r.randint(1, 4)):
        r = g.r.random()
        if ro or r < 0.35:
            ops += [b"GET", _bf_type(g), _bf_offset(g)]
        elif r < 0.6:
            ops += [b"SET", _bf_type(g), _bf_offset(g), g.number(-300, 300)]
        elif r < 0.9:
            ops += [b"INCRBY", _bf_type(g), _bf_offset(g), g.number(-300, 300)]
        else:
            ops += [b"OVERFLOW", g.pick(b"WRAP", b"SAT", b"FAIL", b"sat")]
    return ops


# --- lists, hashes, sets ------------------------------------------------------
FIELDS = [b"f1", b"f2", b"f3", b"a", b"b", b"1", b"2", b"-3", b"", b"\x00"]


def _member(g: G):
    """Set members / list elements: mostly small integers (so intsets and
    LREM/LPOS hits happen), some edges, some words and odd bytes."""
    r = g.r.random()
    if r < 0.45:
        return g.small_int(-5, 15)
    if r < 0.55:
        return g.r.choice(INT_EDGES + [b"-0", b"007", b"1.0", b" 3"])
    if r < 0.85:
        return g.r.choice(WORDS[:6])
    return g.value()


def _members(g: G, lo=1, hi=5):
    return [_member(g) for _ in range(g.r.randint(lo, hi))]


def _field(g: G):
    r = g.r.random()
    if r < 0.8:
        return g.r.choice(FIELDS)
    if r < 0.9:
        return b"field" + b"x" * g.r.choice([10, 60, 61, 70])
    return g.value()


def _hvalue(g: G):
    r = g.r.random()
    if r < 0.3:
        return g.small_int(-100, 100)
    if r < 0.4:
        return g.r.choice(FLOATS)
    return g.value()


def _count(g: G, lo=-3, hi=8):
    """A count for pops and random picks.  No huge negative counts: a count
    of -2^62 asks both servers for 2^62 replies."""
    r = g.r.random()
    if r < 0.85:
        return g.small_int(lo, hi)
    return g.r.choice([b"9223372036854775807", b"-9223372036854775808", b"x",
                       b"1.5", b"", b"100000"])


def _index(g: G):
    return g.number(-12, 12)


def _timeout(g: G):
    """Block timeouts: short (an empty key makes the command wait that long,
    0 would wait forever); some invalid ones (immediate errors)."""
    r = g.r.random()
    if r < 0.85:
        return g.pick(b"0.01", b"0.02", b".01")
    return g.pick(b"-1", b"abc", b"nan", b"-0.5", b"")


def _side(g: G):
    return g.r.choice([b"LEFT", b"RIGHT", b"left", b"Right"] + ([b"UP"] if g.r.random() < 0.1 else []))


def _numkeys(g: G, keys):
    r = g.r.random()
    if r < 0.9:
        return str(len(keys)).encode()
    return g.pick(b"0", b"-1", b"x", str(len(keys) + 1).encode(), b"2147483648")


def _mpop(g: G, name, blocking=False):
    keys = g.keys(1, 3)
    args = [name] + ([_timeout(g)] if blocking else []) + [_numkeys(g, keys)] + keys + [_side(g)]
    if g.r.random() < 0.4:
        args += [b"COUNT", _count(g, -1, 6)]
    return args


def _lpos(g: G):
    args = [b"LPOS", g.key(), _member(g)]
    opts = [[b"RANK", g.pick(b"1", b"2", b"-1", b"-2", b"0", b"3", g.number(-5, 5))],
            [b"COUNT", _count(g, 0, 4)],
            [b"MAXLEN", g.pick(b"0", b"1", b"3", b"100", b"-1", b"x")]]
    g.r.shuffle(opts)
    for o in opts:
        if g.r.random() < 0.4:
            args += o
    return args


def _hset_pairs(g: G, lo=1, hi=4):
    return [x for _ in range(g.r.randint(lo, hi)) for x in (_field(g), _hvalue(g))]


def _hrandfield(g: G):
    args = [b"HRANDFIELD", g.key()]
    if g.r.random() < 0.7:
        args.append(_count(g, -6, 8))
        if g.r.random() < 0.5:
            args.append(g.pick(b"WITHVALUES", b"withvalues", b"WITHVALUE"))
    return args


def _sscan_opts(g: G):
    opts = []
    if g.r.random() < 0.4:
        opts += [b"MATCH", g.pick(b"*", b"1*", b"f*", b"[a-c]*", b"nosuch", b"?")]
    if g.r.random() < 0.6:
        opts += [b"COUNT", g.pick(b"1000", b"1000", b"2", b"0", b"x")]
    return opts


def _sintercard(g: G):
    keys = g.keys(1, 3)
    args = [b"SINTERCARD", _numkeys(g, keys)] + keys
    if g.r.random() < 0.4:
        args += [b"LIMIT", g.pick(b"0", b"1", b"2", b"100", b"-1", b"x")]
    return args



# --- sorted sets ---------------------------------------------------------------
def _score(g: G):
    r = g.r.random()
    if r < 0.6:
        return g.small_int(-5, 20)
    if r < 0.85:
        return g.pick(b"1.5", b"-0.25", b"0.1", b"3e2", b"inf", b"-inf", b"+inf",
                      b"0", b"-0", b"1e-5", b"9007199254740993", b".5")
    return g.pick(b"nan", b"x", b"", b"1e400", b"(1", b" 1")


def _zmember(g: G):
    r = g.r.random()
    if r < 0.7:
        return g.r.choice([b"a", b"b", b"c", b"d", b"e", b"1", b"2", b""])
    return _member(g)


def _zadd(g: G):
    opts = []
    for o in (b"NX", b"XX", b"GT", b"LT", b"CH", b"INCR"):
        if g.r.random() < 0.12:
            opts.append(o)
    n = 1 if b"INCR" in opts and g.r.random() < 0.8 else g.r.randint(1, 4)
    return [b"ZADD", g.key()] + opts + [x for _ in range(n) for x in (_score(g), _zmember(g))]


def _score_bound(g: G):
    r = g.r.random()
    if r < 0.6:
        return g.pick(b"", b"(") + g.small_int(-3, 12)
    if r < 0.9:
        return g.pick(b"-inf", b"+inf", b"inf", b"(-inf", b"(1.5", b"0.5")
    return g.pick(b"x", b"(", b"[1", b"nan")


def _lex_bound(g: G):
    r = g.r.random()
    if r < 0.8:
        return g.pick(b"-", b"+", b"[a", b"(a", b"[c", b"(d", b"[", b"(", b"[1", b"[e")
    return g.pick(b"a", b"", b"x")


def _near_lex_bound(b: bytes, rev: bool) -> bytes:
    """The bound a lex range starts from (min, or max with REV), made one that
    every member passes or every member fails (or left if invalid), else
    ``-``/``+``.  Redis finds a skiplist's start by descending its levels,
    which assumes members in lex order; members with different scores make
    the start depend on the random node levels.  For read-only lex ranges a
    rule in known_differences.py accepts that (probed); ZREMRANGEBYLEX and
    ZRANGESTORE BYLEX change data, so they get such a near bound instead (the
    walk on to the far bound is deterministic).  No rng call: seeds keep
    their scripts otherwise."""
    if not b or b[:1] not in (b"[", b"(") and b not in (b"-", b"+"):
        return b            # invalid: an error either way
    ok = (b"+", b"-", b"(") if rev else (b"-", b"+", b"[")
    return b if b in ok else (b"+" if rev else b"-")


def _limit(g: G):
    return [b"LIMIT", g.pick(b"0", b"1", b"2", b"-1", b"x"), g.pick(b"1", b"2", b"10", b"-1", b"0")]


def _zrange(g: G, name=b"ZRANGE", store=False):
    args = [name] + ([g.key()] if store else []) + [g.key()]
    mode = g.pick(b"rank", b"rank", b"BYSCORE", b"BYLEX")
    if mode == b"rank":
        args += [_index(g), _index(g)]
    elif mode == b"BYSCORE":
        args += [_score_bound(g), _score_bound(g), b"BYSCORE"]
    else:
        args += [_lex_bound(g), _lex_bound(g), b"BYLEX"]
    if g.r.random() < 0.3:
        args.append(b"REV")
    if mode != b"rank" and g.r.random() < 0.3:
        args += _limit(g)
    if not store and g.r.random() < 0.4:
        args.append(b"WITHSCORES")
    if store and mode == b"BYLEX":
        args[3] = _near_lex_bound(args[3], b"REV" in args)
    return args


def _zrangeby(g: G, name):
    lex = b"LEX" in name
    bound = _lex_bound if lex else _score_bound
    args = [name, g.key(), bound(g), bound(g)]
    if not lex and g.r.random() < 0.4:
        args.append(b"WITHSCORES")
    if g.r.random() < 0.3:
        args += _limit(g)
    return args


def _zsetop(g: G, name, store=False):
    keys = g.keys(1, 3)
    args = [name] + ([g.key()] if store else []) + [_numkeys(g, keys)] + keys
    if name not in (b"ZDIFF", b"ZDIFFSTORE"):
        if g.r.random() < 0.3:
            args += [b"WEIGHTS"] + [g.pick(b"1", b"2", b"-1", b"0", b"0.5", b"inf", b"x")
                                    for _ in range(len(keys) if g.r.random() < 0.9 else 1)]
        if g.r.random() < 0.3:
            args += [b"AGGREGATE", g.pick(b"SUM", b"MIN", b"MAX", b"max", b"AVG")]
    if not store and g.r.random() < 0.4:
        args.append(b"WITHSCORES")
    return args


def _zmpop(g: G, name, blocking=False):
    keys = g.keys(1, 3)
    args = [name] + ([_timeout(g)] if blocking else []) + [_numkeys(g, keys)] + keys \
        + [g.pick(b"MIN", b"MAX", b"min", b"MIDDLE")]
    if g.r.random() < 0.4:
        args += [b"COUNT", _count(g, -1, 6)]
    return args



# --- streams ------------------------------------------------------------------
# Only explicit IDs: "*" (and the sequence part of a missing "ms-*") would take
# the clock; "ms-*" with an explicit ms is deterministic.
GROUPS = [b"g1", b"g2"]
CONSUMERS = [b"c1", b"c2", b"c3"]
MAX_ID = b"18446744073709551615-18446744073709551615"


def _group(g: G):
    return b"g1" if g.r.random() < 0.75 else b"g2"


def _sid(g: G, seq_star=True, add=False):
    """A stream ID.  XADD (add=True) mostly takes the next one of the
    script's own clock (g.sms), so appends succeed; others are random up to
    that clock, edges and garbage."""
    r = g.r.random()
    if add and r < 0.75:
        g.sms += g.r.choice([0, 0, 1, 1, 2, 5])
        if seq_star and g.r.random() < 0.35:
            return b"%d-*" % g.sms
        return b"%d-%d" % (g.sms, g.r.randint(0, 3))
    ms = g.r.randint(0, g.sms + 2)
    r = g.r.random()
    if add and r < 0.8 and r >= 0.6:
        r = 0.2          # fewer edge IDs (a max ID ends the stream's growth)
    if r < 0.45:
        return b"%d-%d" % (ms, g.r.randint(0, 3))
    if r < 0.6:
        return b"%d" % ms
    if r < 0.75 and seq_star:
        return b"%d-*" % ms
    if r < 0.9:
        if add and g.r.random() < 0.8:
            return g.pick(b"0-0", b"0-1", b"0", b"1-18446744073709551615")
        return g.pick(b"0-0", b"0-1", b"0", MAX_ID, b"18446744073709551615-*",
                      b"18446744073709551615", b"1-18446744073709551615")
    return g.pick(b"-1", b"1-x", b"x", b"1-", b"-", b"+", b"1.5", b"18446744073709551616",
                  b"1-2-3", b"")


def _sbound(g: G, low=True):
    r = g.r.random()
    if r < 0.35:
        return b"-" if low else b"+"
    if r < 0.7:
        return _sid(g, seq_star=False)
    if r < 0.85:
        return b"(" + _sid(g, seq_star=False)
    return g.pick(b"+", b"-", b"(-", b"(+", b"(0-0", b"(" + MAX_ID, b"(")


def _sfields(g: G):
    n = 1 if g.r.random() < 0.6 else g.r.randint(2, 3)
    out = []
    for _ in range(n):
        out += [g.pick(b"f", b"a", b"b", b"f", b"\x00", b"field" + b"x" * 30), _hvalue(g)]
    return out


def _strim(g: G):
    """MAXLEN|MINID [=|~] threshold [LIMIT n]."""
    kind = g.pick(b"MAXLEN", b"MAXLEN", b"MINID", b"maxlen")
    args = [kind]
    op = g.pick(None, b"=", b"~", b"~")
    if op:
        args.append(op)
    if kind == b"MINID":
        args.append(_sid(g, seq_star=False) if g.r.random() < 0.9 else b"x")
    else:
        args.append(g.pick(b"0", b"1", b"2", b"3", b"5", b"10", b"100", b"-1", b"x"))
    if g.r.random() < 0.25:
        args += [b"LIMIT", g.pick(b"0", b"1", b"2", b"10", b"100", b"-1", b"x")]
    return args


def _xadd(g: G):
    args = [b"XADD", g.fkey("stream")]
    if g.r.random() < 0.15:
        args.append(b"NOMKSTREAM")
    if g.r.random() < 0.25:
        args += _strim(g)
    return args + [_sid(g, add=True)] + _sfields(g)


def _xcount(g: G):
    return [b"COUNT", g.pick(b"1", b"2", b"3", b"10", b"1", b"2", b"10", b"0", b"-1", b"x")]


def _xrange(g: G, name):
    lo, hi = _sbound(g, True), _sbound(g, False)
    if name == b"XREVRANGE":
        lo, hi = hi, lo
    return [name, g.fkey("stream"), lo, hi] + g.maybe(0.4, _xcount(g))


def _xread_ids(g: G, n, group=False):
    if group:
        return [g.pick(b">", b">", b">", b"0", b"0-0", _sid(g, seq_star=False))
                for _ in range(n)]
    return [g.pick(b"0", b"0-0", b"$", b"+", _sid(g, seq_star=False), _sid(g, seq_star=False))
            for _ in range(n)]


def _xread_keys(g: G):
    if g.r.random() < 0.7:
        return [g.fkey("stream")]
    return [g.fkey("stream"), g.fkey("stream")]


def _xread(g: G):
    keys = _xread_keys(g)
    args = [b"XREAD"] + g.maybe(0.5, _xcount(g)) + [b"STREAMS"] + keys
    n = len(keys) if g.r.random() < 0.92 else len(keys) + 1
    return args + _xread_ids(g, n)


def _xreadgroup(g: G):
    keys = _xread_keys(g)
    args = [b"XREADGROUP", b"GROUP", _group(g), g.r.choice(CONSUMERS)]
    opts = [_xcount(g)] if g.r.random() < 0.5 else []
    if g.r.random() < 0.25:
        opts.append([b"NOACK"])
    g.r.shuffle(opts)
    args += [x for o in opts for x in o] + [b"STREAMS"] + keys
    n = len(keys) if g.r.random() < 0.96 else len(keys) - 1 or 2
    return args + _xread_ids(g, n, group=True)


def _group_id(g: G):
    return g.pick(b"$", b"0", b"0-0", _sid(g, seq_star=False))


def _entriesread(g: G):
    return g.maybe(0.25, [b"ENTRIESREAD", g.pick(b"0", b"1", b"3", b"-1", b"-2", b"100", b"x")])


def _xgroup(g: G):
    sub = g.r.choices([b"CREATE", b"SETID", b"DESTROY", b"CREATECONSUMER", b"DELCONSUMER",
                       b"create", b"NOSUCH"], [6, 2, 0.6, 2, 1, 0.5, 0.2])[0]
    args = [b"XGROUP", sub, g.fkey("stream"), _group(g)]
    if sub.upper() == b"CREATE":
        args.append(_group_id(g))
        if g.r.random() < 0.6:
            args.append(b"MKSTREAM")
        args += _entriesread(g)
    elif sub == b"SETID":
        args += [_group_id(g)] + _entriesread(g)
    elif sub in (b"CREATECONSUMER", b"DELCONSUMER"):
        args.append(g.r.choice(CONSUMERS))
    return args


def _xids(g: G, lo=1, hi=3):
    return [_sid(g, seq_star=False) for _ in range(g.r.randint(lo, hi))]


def _xpending(g: G):
    args = [b"XPENDING", g.fkey("stream"), _group(g)]
    if g.r.random() < 0.6:
        if g.r.random() < 0.3:
            # 0 or 1 h: entries are either fresh or, after XCLAIM IDLE/TIME
            # (below), decades old, so both servers select the same ones
            args += [b"IDLE", g.pick(b"0", b"3600000", b"-1", b"x")]
        args += [_sbound(g, True), _sbound(g, False),
                 g.pick(b"1", b"2", b"10", b"10", b"0", b"-1", b"x")]
        if g.r.random() < 0.4:
            args.append(g.r.choice(CONSUMERS))
    return args


def _xclaim(g: G):
    args = [b"XCLAIM", g.fkey("stream"), _group(g), g.r.choice(CONSUMERS),
            g.pick(b"0", b"0", b"0", b"3600000", b"-1", b"x")] + _xids(g)
    opts = []
    # IDLE/TIME set the delivery time: either now or decades ago, so later
    # XPENDING IDLE filters (0 or 1 h) select the same entries on both servers
    if g.r.random() < 0.15:
        opts.append([b"IDLE", g.pick(b"0", b"1000000000000", b"-1")])
    if g.r.random() < 0.1:
        opts.append([b"TIME", g.pick(b"1000", b"0")])
    if g.r.random() < 0.2:
        opts.append([b"RETRYCOUNT", g.pick(b"0", b"5", b"-1", b"x")])
    if g.r.random() < 0.25:
        opts.append([b"FORCE"])
    if g.r.random() < 0.3:
        opts.append([b"JUSTID"])
    if g.r.random() < 0.1:
        opts.append([b"LASTID", _sid(g, seq_star=False)])
    g.r.shuffle(opts)
    return args + [x for o in opts for x in o]


def _xautoclaim(g: G):
    return ([b"XAUTOCLAIM", g.fkey("stream"), _group(g), g.r.choice(CONSUMERS),
             g.pick(b"0", b"0", b"0", b"3600000", b"x"), _sbound(g, True)]
            + g.maybe(0.5, [b"COUNT", g.pick(b"1", b"2", b"10", b"0", b"-1",
                                              b"4611686018427387904", b"x")])
            + g.maybe(0.3, [b"JUSTID"]))


def _xinfo(g: G):
    r = g.r.random()
    if r < 0.4:
        args = [b"XINFO", b"STREAM", g.fkey("stream")]
        if g.r.random() < 0.4:
            args.append(b"FULL")
            if g.r.random() < 0.5:
                args += [b"COUNT", g.pick(b"0", b"1", b"2", b"-1", b"x")]
        return args
    if r < 0.7:
        return [b"XINFO", b"GROUPS", g.fkey("stream")]
    if r < 0.95:
        return [b"XINFO", b"CONSUMERS", g.fkey("stream"), _group(g)]
    return [b"XINFO", g.pick(b"HELP", b"NOSUCH"), g.fkey("stream")]


def _xsetid(g: G):
    args = [b"XSETID", g.fkey("stream"), _sid(g, seq_star=False)]
    if g.r.random() < 0.3:
        args += [b"ENTRIESADDED", g.pick(b"0", b"1", b"5", b"100", b"-1", b"x")]
    if g.r.random() < 0.3:
        args += [b"MAXDELETEDID", _sid(g, seq_star=False)]
    return args


# --- HyperLogLog --------------------------------------------------------------
def _hll_elems(g: G):
    r = g.r.random()
    if r < 0.75:
        return [_member(g) for _ in range(g.r.randint(1, 5))]
    # a burst of distinct elements: promotes sparse to dense with the low
    # hll-sparse-max-bytes the config prelude may set
    base = g.r.randint(0, 10000)
    return [b"e%d" % (base + i) for i in range(g.r.randint(20, 300))]


def _hll_junk(g: G):
    """A string that looks like (or is) a damaged HLL."""
    r = g.r.random()
    if r < 0.3:
        return b"HYLL" + bytes(g.r.randrange(256) for _ in range(g.r.randint(0, 20)))
    if r < 0.6:
        # header: sparse (1) or dense (0) encoding byte, then garbage
        return (b"HYLL" + bytes([g.pick(0, 1, 2)]) + b"\x00" * 11
                + bytes(g.r.randrange(256) for _ in range(g.r.randint(0, 12))))
    return b"HYLL" + b"\x01" + b"\x00" * 11 + bytes([g.pick(0x7f, 0x40, 0x80, 0xff)]) * g.r.randint(1, 4)


# --- GEO ------------------------------------------------------------------------
LONS = [b"0", b"1", b"-1", b"0.5", b"13.361389", b"15.087269", b"13.5", b"2.35", b"-73.98",
        b"179.9999", b"180", b"-180", b"100"]
LATS = [b"0", b"1", b"-1", b"0.5", b"38.115556", b"37.502669", b"38.1", b"48.85", b"40.75",
        b"85.05112878", b"-85.05112878", b"80", b"-66.5"]
BAD_LONS = [b"180.0001", b"-181", b"x", b"nan", b"inf", b""]
BAD_LATS = [b"85.06", b"90", b"-90", b"x", b"nan", b"1e400"]
UNITS = [b"m", b"km", b"km", b"km", b"ft", b"mi", b"mi", b"KM", b"M"]


# Points GEOADD and the search centres use: a few clusters (so searches
# find members) and members at the very same spot (equal distances: their
# order is checked, see sort_hits in crates/server/src/commands/geo.rs).
POINTS = [(b"13.361389", b"38.115556"), (b"15.087269", b"37.502669"), (b"13.5", b"38.1"),
          (b"14", b"38"), (b"0", b"0"), (b"1", b"1"), (b"-1", b"-1"), (b"1", b"-1"),
          (b"-1", b"1"), (b"0.5", b"0.5"), (b"2.35", b"48.85"), (b"-73.98", b"40.75"),
          (b"180", b"85.05112878"), (b"-180", b"-85.05112878"), (b"179.9999", b"0"),
          (b"-179.9999", b"0.5"), (b"100", b"80"), (b"0", b"-66.5")]


def _lonlat(g: G):
    r = g.r.random()
    if r < 0.7:
        return list(g.r.choice(POINTS))
    if r < 0.85:
        lon, lat = g.r.choice(POINTS[:10])
        return [b"%.6f" % (float(lon) + g.r.uniform(-1, 1)),
                b"%.6f" % (float(lat) + g.r.uniform(-1, 1))]
    if r < 0.93:
        return [g.r.choice(LONS), g.r.choice(LATS)]
    if r < 0.965:
        return [g.r.choice(BAD_LONS), g.r.choice(LATS)]
    return [g.r.choice(LONS), g.r.choice(BAD_LATS)]


def _unit(g: G):
    return g.r.choice(UNITS) if g.r.random() < 0.95 else g.pick(b"parsecs", b"")


def _gdist(g: G):
    r = g.r.random()
    if r < 0.85:
        return g.pick(b"0", b"1", b"10", b"100", b"200", b"200", b"500", b"1000", b"1000",
                      b"3000", b"5000", b"20000", b"0.5", b"150.5", b"300")
    return g.pick(b"-1", b"x", b"nan", b"inf", b"1e400")


def _geoadd(g: G):
    args = [b"GEOADD", g.fkey("geo")]
    for o in (b"NX", b"XX", b"CH"):
        if g.r.random() < 0.12:
            args.append(o)
    for _ in range(g.r.randint(1, 4)):
        args += _lonlat(g) + [_zmember(g)]
    return args


def _geo_opts(g: G, store=None, ro=False):
    """Result options; store: None (none allowed), b"GEORADIUS" style
    (STORE/STOREDIST key) or b"SEARCHSTORE" (STOREDIST flag)."""
    opts = []
    if g.r.random() < 0.55:
        opts.append([g.pick(b"ASC", b"DESC", b"asc", b"desc")])
    if g.r.random() < 0.4:
        opts.append([b"COUNT", g.pick(b"1", b"2", b"3", b"5", b"100", b"0", b"-1", b"x")]
                    + g.maybe(0.35, [b"ANY"]))
    elif g.r.random() < 0.03:
        opts.append([b"ANY"])
    stored = False
    if store == b"GEORADIUS" and not ro and g.r.random() < 0.2:
        opts.append([g.pick(b"STORE", b"STOREDIST"), g.fkey("geo")])
        stored = True
    elif store == b"SEARCHSTORE" and g.r.random() < 0.4:
        opts.append([b"STOREDIST"])
    if not stored or g.r.random() < 0.1:
        for w in (b"WITHCOORD", b"WITHDIST", b"WITHHASH"):
            if g.r.random() < (0.3 if store != b"SEARCHSTORE" else 0.03):
                opts.append([w])
    g.r.shuffle(opts)
    return [x for o in opts for x in o]


def _geosearch_shape(g: G):
    parts = []
    if g.r.random() < 0.5:
        parts.append([b"FROMMEMBER", _zmember(g)])
    else:
        parts.append([b"FROMLONLAT"] + _lonlat(g))
    if g.r.random() < 0.55:
        parts.append([b"BYRADIUS", _gdist(g), _unit(g)])
    else:
        parts.append([b"BYBOX", _gdist(g), _gdist(g), _unit(g)])
    r = g.r.random()
    if r < 0.03:
        parts.pop(g.r.randrange(2))
    elif r < 0.06:
        parts.append(g.pick([b"FROMLONLAT", b"1", b"1"], [b"BYRADIUS", b"1", b"km"]))
    if g.r.random() < 0.2:
        parts.reverse()
    return [x for p in parts for x in p]


def _geosearch(g: G, store=False):
    if store:
        return ([b"GEOSEARCHSTORE", g.fkey("geo"), g.fkey("geo")] + _geosearch_shape(g)
                + _geo_opts(g, store=b"SEARCHSTORE"))
    return [b"GEOSEARCH", g.fkey("geo")] + _geosearch_shape(g) + _geo_opts(g)


def _georadius(g: G, name):
    ro = name.endswith(b"_RO")
    if name.startswith(b"GEORADIUSBYMEMBER"):
        args = [name, g.fkey("geo"), _zmember(g)]
    else:
        args = [name, g.fkey("geo")] + _lonlat(g)
    return args + [_gdist(g), _unit(g)] + _geo_opts(g, store=b"GEORADIUS", ro=ro)


def _family_keyspace(g: G):
    """Keyspace commands on the stream/geo/hll families' own keys."""
    k = g.fkey(g.pick("stream", "geo", "hll"))
    return g.pick([b"TYPE", k], [b"DEL", k], [b"OBJECT", b"ENCODING", k], [b"EXISTS", k],
                  [b"RENAME", k, g.key()], [b"RENAME", g.key(), k], [b"COPY", k, g.key()],
                  [b"COPY", k, g.fkey("stream"), b"REPLACE"])


# --- SORT -----------------------------------------------------------------------
SORT_BY = [b"nosort", b"k*", b"*", b"k*->f1", b"*->a", b"{tag}*", b"w_*", b"w_*", b"h_*->f",
           b"h_*->f", b"k*->", b"*->f2", b"s", b"n*"]
SORT_GET = [b"#", b"#", b"k*", b"*", b"k*->f1", b"*->a", b"nosuch*", b"k", b"*->", b"{tag}*",
            b"w_*", b"h_*->f", b"h_*->g"]
# Elements of the SORT family's own list/set/zset (sl, ss, sz): numbers that
# tie as numbers, strings that tie up to a NUL byte (strcoll), and names whose
# weight keys w_<e> / hashes h_<e> the "SORT weights" entry sets.
SORT_ELEMS = [b"1", b"2", b"3", b"10", b"-1", b"1.5", b"01", b"1.0", b"a", b"b", b"c", b"B",
              b"", b"a\x00b", b"a\x00c", b"\xff", b"k1", b"k2"]


def _sort_data(g: G):
    elems = [g.r.choice(SORT_ELEMS) for _ in range(g.r.randint(1, 6))]
    r = g.r.random()
    if r < 0.4:
        return [g.pick(b"RPUSH", b"LPUSH"), g.pick(b"sl", b"sl", g.fkey("sort"))] + elems
    if r < 0.7:
        return [b"SADD", g.pick(b"ss", b"ss", g.fkey("sort"))] + elems
    return [b"ZADD", g.pick(b"sz", b"sz", g.fkey("sort"))] + [
        x for e in elems for x in (g.pick(b"1", b"2", b"0", b"-1.5", b"3"), e)]


def _sort_weight(g: G):
    e = g.r.choice(SORT_ELEMS)
    v = g.pick(b"1", b"2", b"2", b"3", b"-1", b"1.5", b"0", b"10", b"1e2", b"a", b"b", b"")
    if g.r.random() < 0.6:
        return [b"SET", b"w_" + e, v]
    return [b"HSET", b"h_" + e, g.pick(b"f", b"f", b"g"), v]


def _sort(g: G, name=b"SORT"):
    args = [name, g.fkey("sort")]
    opts = []
    if g.r.random() < 0.35:
        opts.append([b"BY", g.r.choice(SORT_BY)])
    if g.r.random() < 0.3:
        opts.append([b"LIMIT", g.pick(b"0", b"1", b"2", b"-1", b"5", b"x"),
                     g.pick(b"1", b"2", b"3", b"10", b"-1", b"0")])
    for _ in range(g.r.choice([0, 0, 0, 1, 1, 2])):
        opts.append([b"GET", g.r.choice(SORT_GET)])
    if g.r.random() < 0.3:
        opts.append([g.pick(b"ASC", b"DESC", b"desc")])
    if g.r.random() < 0.35:
        opts.append([g.pick(b"ALPHA", b"alpha")])
    # No STORE with ALPHA BY <pattern>: items whose BY values tie are stored
    # in the source's hash order for a sorted set or a hash-table set (see
    # sort_ties in known_differences.py), and the two servers' lists differ.
    alpha_by = any(o[0] == b"BY" and b"*" in o[1] for o in opts) and \
        any(o[0].upper() == b"ALPHA" for o in opts)
    if name == b"SORT" and not alpha_by and g.r.random() < 0.2:
        # Never into its own source: the stale-errno check in
        # known_differences.py repeats the command and needs it idempotent.
        dest = g.key()
        while dest == args[1]:
            dest = g.key()
        opts.append([b"STORE", dest])
    if g.r.random() < 0.2:
        g.r.shuffle(opts)
    return args + [x for o in opts for x in o]


# --- generators: each returns the argument list of one command --------------
GENERATORS = {
    # keyspace
    "DEL": (4, lambda g: [b"DEL"] + g.keys()),
    "UNLINK": (2, lambda g: [b"UNLINK"] + g.keys()),
    "EXISTS": (4, lambda g: [b"EXISTS"] + g.keys()),
    "TYPE": (3, lambda g: [b"TYPE", g.key()]),
    "RENAME": (2, lambda g: [b"RENAME", g.key(), g.key()]),
    "RENAMENX": (2, lambda g: [b"RENAMENX", g.key(), g.key()]),
    "COPY": (2, lambda g: [b"COPY", g.key(), g.key()]
             + g.maybe(0.3, [b"DB", g.pick(b"0", b"1", b"2", b"16", b"x")])
             + g.maybe(0.3, [b"REPLACE"])),
    "KEYS": (2, lambda g: [b"KEYS", g.pattern()]),
    "SCAN": (1, lambda g: [b"SCAN", b"0"] + g.maybe(0.5, [b"MATCH", g.pattern()])
             + [b"COUNT", b"1000"] + g.maybe(0.3, [b"TYPE", g.pick(b"string", b"list", b"x")])),
    "@scanall": (2, lambda g: ["@scanall"] + g.maybe(0.5, [b"MATCH", g.pattern()])
                 + g.maybe(0.5, [b"COUNT", g.pick(b"1", b"2", b"10")])
                 + g.maybe(0.3, [b"TYPE", g.pick(b"string", b"hash")])),
    "RANDOMKEY": (1, lambda g: [b"RANDOMKEY"]),
    "DBSIZE": (2, lambda g: [b"DBSIZE"]),
    "FLUSHDB": (0.3, lambda g: [b"FLUSHDB"] + g.maybe(0.5, [g.pick(b"ASYNC", b"SYNC")])),
    "FLUSHALL": (0.2, lambda g: [b"FLUSHALL"] + g.maybe(0.5, [g.pick(b"ASYNC", b"SYNC")])),
    "EXPIRE": (3, lambda g: [b"EXPIRE", g.key(), g.ttl_seconds()] + _expire_opts(g)),
    "PEXPIRE": (2, lambda g: [b"PEXPIRE", g.key(), g.ttl_ms()] + _expire_opts(g)),
    "EXPIREAT": (2, lambda g: [b"EXPIREAT", g.key(), g.unix_seconds()] + _expire_opts(g)),
    "PEXPIREAT": (2, lambda g: [b"PEXPIREAT", g.key(), g.unix_ms()] + _expire_opts(g)),
    "TTL": (3, lambda g: [b"TTL", g.key()]),
    "PTTL": (2, lambda g: [b"PTTL", g.key()]),
    "EXPIRETIME": (2, lambda g: [b"EXPIRETIME", g.key()]),
    "PEXPIRETIME": (2, lambda g: [b"PEXPIRETIME", g.key()]),
    "PERSIST": (2, lambda g: [b"PERSIST", g.key()]),
    "TOUCH": (1, lambda g: [b"TOUCH"] + g.keys()),
    "OBJECT": (3, lambda g: [b"OBJECT", g.pick(b"ENCODING", b"ENCODING", b"REFCOUNT",
                                               b"FREQ", b"IDLETIME"), g.key()]),
    "SELECT": (1.5, lambda g: [b"SELECT", g.pick(b"0", b"0", b"1", b"2", b"16", b"x")]),
    "SWAPDB": (0.7, lambda g: [b"SWAPDB", g.pick(b"0", b"1", b"2"), g.pick(b"0", b"1", b"2", b"99")]),
    "MOVE": (1, lambda g: [b"MOVE", g.key(), g.pick(b"0", b"1", b"2", b"16")]),
    # strings
    "SET": (12, lambda g: [b"SET", g.key(), g.value()] + _set_opts(g)),
    "GET": (8, lambda g: [b"GET", g.key()]),
    "GETEX": (2, lambda g: [b"GETEX", g.key()] + _getex_opts(g)),
    "GETDEL": (1.5, lambda g: [b"GETDEL", g.key()]),
    "GETSET": (1.5, lambda g: [b"GETSET", g.key(), g.value()]),
    "MGET": (2, lambda g: [b"MGET"] + g.keys()),
    "MSET": (2, lambda g: [b"MSET"] + [x for _ in range(g.r.randint(1, 3))
                                       for x in (g.key(), g.value())]),
    "MSETNX": (1, lambda g: [b"MSETNX"] + [x for _ in range(g.r.randint(1, 3))
                                           for x in (g.key(), g.value())]),
    "SETNX": (1, lambda g: [b"SETNX", g.key(), g.value()]),
    "SETEX": (1, lambda g: [b"SETEX", g.key(), g.ttl_seconds(), g.value()]),
    "PSETEX": (1, lambda g: [b"PSETEX", g.key(), g.ttl_ms(), g.value()]),
    "APPEND": (3, lambda g: [b"APPEND", g.key(), g.value()]),
    "STRLEN": (2, lambda g: [b"STRLEN", g.key()]),
    "GETRANGE": (2, lambda g: [b"GETRANGE", g.key(), g.number(-20, 20), g.number(-20, 20)]),
    "SETRANGE": (2, lambda g: [b"SETRANGE", g.key(), g.number(0, 70), g.value()]),
    "INCR": (3, lambda g: [b"INCR", g.key()]),
    "DECR": (2, lambda g: [b"DECR", g.key()]),
    "INCRBY": (2, lambda g: [b"INCRBY", g.key(), g.number(-1000, 1000)]),
    "DECRBY": (2, lambda g: [b"DECRBY", g.key(), g.number(-1000, 1000)]),
    "INCRBYFLOAT": (3, lambda g: [b"INCRBYFLOAT", g.key(),
                                  g.pick(*FLOATS, b"1", b"-3", b"0.001", b"abc")]),
    "LCS": (1.5, lambda g: [b"LCS", g.key(), g.key()] + g.pick(
        [], [b"LEN"], [b"IDX"], [b"IDX", b"WITHMATCHLEN"],
        [b"IDX", b"MINMATCHLEN", g.number(0, 4)], [b"LEN", b"IDX"])),
    # bitmaps
    "SETBIT": (3, lambda g: [b"SETBIT", g.key(), g.bit_offset(), g.pick(b"0", b"1", b"1", b"2")]),
    "GETBIT": (2, lambda g: [b"GETBIT", g.key(), g.number(0, 300)]),
    "BITCOUNT": (2, lambda g: [b"BITCOUNT", g.key()] + g.maybe(
        0.6, [g.number(-10, 10), g.number(-10, 10)] + g.maybe(0.5, [g.pick(b"BIT", b"BYTE")]))),
    "BITPOS": (2, lambda g: [b"BITPOS", g.key(), g.pick(b"0", b"1")] + g.maybe(
        0.6, [g.number(-10, 10)] + g.maybe(0.6, [g.number(-10, 40)] + g.maybe(
            0.5, [g.pick(b"BIT", b"BYTE")])))),
    "BITOP": (2, lambda g: [b"BITOP", g.pick(b"AND", b"OR", b"XOR", b"NOT", b"and")]
              + [g.key()] + g.keys(1, 3)),
    "BITFIELD": (2, lambda g: [b"BITFIELD", g.key()] + _bitfield_ops(g)),
    "BITFIELD_RO": (1, lambda g: [b"BITFIELD_RO", g.key()] + _bitfield_ops(g, ro=True)),
    # lists
    "LPUSH": (4, lambda g: [b"LPUSH", g.key()] + _members(g)),
    "RPUSH": (4, lambda g: [b"RPUSH", g.key()] + _members(g)),
    "LPUSHX": (0.7, lambda g: [b"LPUSHX", g.key()] + _members(g, 1, 3)),
    "RPUSHX": (0.7, lambda g: [b"RPUSHX", g.key()] + _members(g, 1, 3)),
    "LPOP": (2, lambda g: [b"LPOP", g.key()] + g.maybe(0.4, [_count(g)])),
    "RPOP": (2, lambda g: [b"RPOP", g.key()] + g.maybe(0.4, [_count(g)])),
    "LLEN": (1.5, lambda g: [b"LLEN", g.key()]),
    "LRANGE": (3, lambda g: [b"LRANGE", g.key(), _index(g), _index(g)]),
    "LINDEX": (1.5, lambda g: [b"LINDEX", g.key(), _index(g)]),
    "LSET": (1.5, lambda g: [b"LSET", g.key(), _index(g), _member(g)]),
    "LINSERT": (1.5, lambda g: [b"LINSERT", g.key(), g.pick(b"BEFORE", b"AFTER", b"after", b"MIDDLE"),
                                _member(g), _member(g)]),
    "LREM": (1.5, lambda g: [b"LREM", g.key(), g.number(-3, 3), _member(g)]),
    "LTRIM": (1.2, lambda g: [b"LTRIM", g.key(), _index(g), _index(g)]),
    "LPOS": (1.5, _lpos),
    "LMOVE": (1.5, lambda g: [b"LMOVE", g.key(), g.key(), _side(g), _side(g)]),
    "RPOPLPUSH": (1, lambda g: [b"RPOPLPUSH", g.key(), g.key()]),
    "LMPOP": (1.2, lambda g: _mpop(g, b"LMPOP")),
    "BLPOP": (0.6, lambda g: [b"BLPOP"] + g.keys(1, 3) + [_timeout(g)]),
    "BRPOP": (0.6, lambda g: [b"BRPOP"] + g.keys(1, 3) + [_timeout(g)]),
    "BLMOVE": (0.5, lambda g: [b"BLMOVE", g.key(), g.key(), _side(g), _side(g), _timeout(g)]),
    "BRPOPLPUSH": (0.4, lambda g: [b"BRPOPLPUSH", g.key(), g.key(), _timeout(g)]),
    "BLMPOP": (0.5, lambda g: _mpop(g, b"BLMPOP", blocking=True)),
    # hashes
    "HSET": (5, lambda g: [b"HSET", g.key()] + _hset_pairs(g)),
    "HSETNX": (1, lambda g: [b"HSETNX", g.key(), _field(g), _hvalue(g)]),
    "HMSET": (1, lambda g: [b"HMSET", g.key()] + _hset_pairs(g)),
    "HGET": (2.5, lambda g: [b"HGET", g.key(), _field(g)]),
    "HMGET": (1.5, lambda g: [b"HMGET", g.key()] + [_field(g) for _ in range(g.r.randint(1, 4))]),
    "HDEL": (2, lambda g: [b"HDEL", g.key()] + [_field(g) for _ in range(g.r.randint(1, 3))]),
    "HLEN": (1.2, lambda g: [b"HLEN", g.key()]),
    "HEXISTS": (1.2, lambda g: [b"HEXISTS", g.key(), _field(g)]),
    "HSTRLEN": (1, lambda g: [b"HSTRLEN", g.key(), _field(g)]),
    "HKEYS": (1.2, lambda g: [b"HKEYS", g.key()]),
    "HVALS": (1.2, lambda g: [b"HVALS", g.key()]),
    "HGETALL": (2, lambda g: [b"HGETALL", g.key()]),
    "HINCRBY": (2, lambda g: [b"HINCRBY", g.key(), _field(g), g.number(-100, 100)]),
    "HINCRBYFLOAT": (2, lambda g: [b"HINCRBYFLOAT", g.key(), _field(g),
                                   g.pick(*FLOATS, b"1", b"-3", b"0.001", b"abc")]),
    "HRANDFIELD": (1.2, _hrandfield),
    "HSCAN": (1, lambda g: [b"HSCAN", g.key(), g.pick(b"0", b"0", b"0", b"x", b"-1")] + _sscan_opts(g)),
    # sets
    "SADD": (5, lambda g: [b"SADD", g.key()] + _members(g)),
    "SREM": (2, lambda g: [b"SREM", g.key()] + _members(g, 1, 3)),
    "SCARD": (1.2, lambda g: [b"SCARD", g.key()]),
    "SISMEMBER": (1.2, lambda g: [b"SISMEMBER", g.key(), _member(g)]),
    "SMISMEMBER": (1.2, lambda g: [b"SMISMEMBER", g.key()] + _members(g, 1, 4)),
    "SMEMBERS": (2, lambda g: [b"SMEMBERS", g.key()]),
    "SMOVE": (1.2, lambda g: [b"SMOVE", g.key(), g.key(), _member(g)]),
    # SPOP without a count (or with a count below the size) pops random
    # members, after which the two servers' sets differ: only counts that
    # take everything or nothing are generated (and SPOP is never "broken")
    "SPOP": (0.8, lambda g: [b"SPOP", g.key(), g.pick(b"0", b"100000", b"100000", b"-1", b"x")]),
    "SRANDMEMBER": (1.2, lambda g: [b"SRANDMEMBER", g.key()] + g.maybe(0.7, [_count(g, -6, 8)])),
    "SINTER": (1, lambda g: [b"SINTER"] + g.keys(1, 3)),
    "SUNION": (1, lambda g: [b"SUNION"] + g.keys(1, 3)),
    "SDIFF": (1, lambda g: [b"SDIFF"] + g.keys(1, 3)),
    "SINTERSTORE": (0.8, lambda g: [b"SINTERSTORE", g.key()] + g.keys(1, 3)),
    "SUNIONSTORE": (0.8, lambda g: [b"SUNIONSTORE", g.key()] + g.keys(1, 3)),
    "SDIFFSTORE": (0.8, lambda g: [b"SDIFFSTORE", g.key()] + g.keys(1, 3)),
    "SINTERCARD": (0.8, _sintercard),
    "SSCAN": (1, lambda g: [b"SSCAN", g.key(), g.pick(b"0", b"0", b"0", b"x")] + _sscan_opts(g)),
    # sorted sets
    "ZADD": (5, _zadd),
    "ZINCRBY": (1.5, lambda g: [b"ZINCRBY", g.key(), _score(g), _zmember(g)]),
    "ZCARD": (1, lambda g: [b"ZCARD", g.key()]),
    "ZSCORE": (1.5, lambda g: [b"ZSCORE", g.key(), _zmember(g)]),
    "ZMSCORE": (1, lambda g: [b"ZMSCORE", g.key()] + [_zmember(g) for _ in range(g.r.randint(1, 3))]),
    "ZREM": (1.5, lambda g: [b"ZREM", g.key()] + [_zmember(g) for _ in range(g.r.randint(1, 3))]),
    "ZCOUNT": (1, lambda g: [b"ZCOUNT", g.key(), _score_bound(g), _score_bound(g)]),
    "ZLEXCOUNT": (0.8, lambda g: [b"ZLEXCOUNT", g.key(), _lex_bound(g), _lex_bound(g)]),
    "ZRANK": (1, lambda g: [b"ZRANK", g.key(), _zmember(g)]),
    "ZREVRANK": (0.8, lambda g: [b"ZREVRANK", g.key(), _zmember(g)]),
    "ZRANGE": (3, _zrange),
    "ZRANGESTORE": (0.8, lambda g: _zrange(g, b"ZRANGESTORE", store=True)),
    "ZRANGEBYSCORE": (1, lambda g: _zrangeby(g, b"ZRANGEBYSCORE")),
    "ZREVRANGEBYSCORE": (0.6, lambda g: _zrangeby(g, b"ZREVRANGEBYSCORE")),
    "ZRANGEBYLEX": (0.8, lambda g: _zrangeby(g, b"ZRANGEBYLEX")),
    "ZREVRANGEBYLEX": (0.5, lambda g: _zrangeby(g, b"ZREVRANGEBYLEX")),
    "ZREVRANGE": (0.6, lambda g: [b"ZREVRANGE", g.key(), _index(g), _index(g)]
                  + g.maybe(0.4, [b"WITHSCORES"])),
    "ZREMRANGEBYRANK": (0.6, lambda g: [b"ZREMRANGEBYRANK", g.key(), _index(g), _index(g)]),
    "ZREMRANGEBYSCORE": (0.6, lambda g: [b"ZREMRANGEBYSCORE", g.key(), _score_bound(g), _score_bound(g)]),
    # (near bound: see _near_lex_bound)
    "ZREMRANGEBYLEX": (0.6, lambda g: [b"ZREMRANGEBYLEX", g.key(), _near_lex_bound(_lex_bound(g), False),
                                       _lex_bound(g)]),
    "ZPOPMIN": (1, lambda g: [b"ZPOPMIN", g.key()] + g.maybe(0.5, [_count(g, -1, 5)])),
    "ZPOPMAX": (1, lambda g: [b"ZPOPMAX", g.key()] + g.maybe(0.5, [_count(g, -1, 5)])),
    "ZMPOP": (0.8, lambda g: _zmpop(g, b"ZMPOP")),
    "BZPOPMIN": (0.4, lambda g: [b"BZPOPMIN"] + g.keys(1, 3) + [_timeout(g)]),
    "BZPOPMAX": (0.4, lambda g: [b"BZPOPMAX"] + g.keys(1, 3) + [_timeout(g)]),
    "BZMPOP": (0.4, lambda g: _zmpop(g, b"BZMPOP", blocking=True)),
    "ZUNION": (0.8, lambda g: _zsetop(g, b"ZUNION")),
    "ZINTER": (0.8, lambda g: _zsetop(g, b"ZINTER")),
    "ZDIFF": (0.6, lambda g: _zsetop(g, b"ZDIFF")),
    "ZUNIONSTORE": (0.8, lambda g: _zsetop(g, b"ZUNIONSTORE", store=True)),
    "ZINTERSTORE": (0.8, lambda g: _zsetop(g, b"ZINTERSTORE", store=True)),
    "ZDIFFSTORE": (0.5, lambda g: _zsetop(g, b"ZDIFFSTORE", store=True)),
    "ZINTERCARD": (0.6, lambda g: [b"ZINTERCARD"] + _sintercard(g)[1:]),
    "ZRANDMEMBER": (1, lambda g: [b"ZRANDMEMBER", g.key()] + (
        [_count(g, -6, 8)] + g.maybe(0.5, [g.pick(b"WITHSCORES", b"withscores", b"WITHSCORE")])
        if g.r.random() < 0.7 else [])),
    "ZSCAN": (0.8, lambda g: [b"ZSCAN", g.key(), g.pick(b"0", b"0", b"0", b"x")] + _sscan_opts(g)),
    # streams (explicit IDs only)
    "XADD": (5, _xadd),
    "XLEN": (1, lambda g: [b"XLEN", g.fkey("stream")]),
    "XRANGE": (2, lambda g: _xrange(g, b"XRANGE")),
    "XREVRANGE": (1.2, lambda g: _xrange(g, b"XREVRANGE")),
    "XDEL": (1.2, lambda g: [b"XDEL", g.fkey("stream")] + _xids(g)),
    "XTRIM": (1, lambda g: [b"XTRIM", g.fkey("stream")] + _strim(g)),
    "XSETID": (0.6, _xsetid),
    "XREAD": (1.2, _xread),
    "XGROUP": (4, _xgroup),
    "XREADGROUP": (2.5, _xreadgroup),
    "XACK": (1.2, lambda g: [b"XACK", g.fkey("stream"), _group(g)] + _xids(g)),
    "XPENDING": (1.5, _xpending),
    "XCLAIM": (1.2, _xclaim),
    "XAUTOCLAIM": (1, _xautoclaim),
    "XINFO": (1.5, _xinfo),
    # HyperLogLog
    "PFADD": (3, lambda g: [b"PFADD", g.fkey("hll")] + (_hll_elems(g) if g.r.random() < 0.93 else [])),
    "PFCOUNT": (2, lambda g: [b"PFCOUNT"] + [g.fkey("hll") for _ in range(g.r.randint(1, 3))]),
    "PFMERGE": (1, lambda g: [b"PFMERGE", g.fkey("hll")] + [g.fkey("hll") for _ in range(g.r.randint(0, 3))]),
    "PFDEBUG": (0.4, lambda g: [b"PFDEBUG", g.pick(b"ENCODING", b"TODENSE", b"DECODE",
                                                   b"GETREG", b"NOSUCH"), g.fkey("hll")]),
    "GET HLL": (0.6, lambda g: [b"GET", g.fkey("hll")]),
    "APPEND HLL": (0.3, lambda g: [b"APPEND", g.fkey("hll"), g.pick(b"x", b"\x00", b"\xff" * 3)]),
    "SET HLL-ish": (0.6, lambda g: [b"SET", g.fkey("hll"), _hll_junk(g)]),
    "SETRANGE HLL": (0.6, lambda g: [b"SETRANGE", g.fkey("hll"), g.pick(
        b"0", b"3", b"4", b"5", b"15", b"16", b"17", b"100", b"12304"),
        g.pick(b"\x00", b"\xff", b"\x7f", b"X", b"\x01", b"\x80\x80")]),
    # GEO
    "GEOADD": (3, _geoadd),
    "GEOPOS": (1, lambda g: [b"GEOPOS", g.fkey("geo")] + [_zmember(g) for _ in range(g.r.randint(0, 3))]),
    "GEODIST": (1, lambda g: [b"GEODIST", g.fkey("geo"), _zmember(g), _zmember(g)]
                + g.maybe(0.6, [_unit(g)])),
    "GEOHASH": (1, lambda g: [b"GEOHASH", g.fkey("geo")] + [_zmember(g) for _ in range(g.r.randint(0, 3))]),
    "GEOSEARCH": (2.5, _geosearch),
    "GEOSEARCHSTORE": (1, lambda g: _geosearch(g, store=True)),
    "GEORADIUS": (1, lambda g: _georadius(g, b"GEORADIUS")),
    "GEORADIUS_RO": (0.5, lambda g: _georadius(g, b"GEORADIUS_RO")),
    "GEORADIUSBYMEMBER": (1, lambda g: _georadius(g, b"GEORADIUSBYMEMBER")),
    "GEORADIUSBYMEMBER_RO": (0.5, lambda g: _georadius(g, b"GEORADIUSBYMEMBER_RO")),
    "family keys": (1, _family_keyspace),
    # SORT
    "SORT": (2.5, _sort),
    "SORT data": (1.5, _sort_data),
    "SORT weights": (1.2, _sort_weight),
    "SORT_RO": (1, lambda g: _sort(g, b"SORT_RO")),
    # connection / server
    "PING": (1, lambda g: [b"PING"] + g.maybe(0.5, [g.value()])),
    "ECHO": (1, lambda g: [b"ECHO", g.value()]),
    "HELLO": (0.4, lambda g: [b"HELLO", g.pick(b"2", b"3", b"3", b"4")]),
    "CLIENT": (1, lambda g: g.pick([b"CLIENT", b"GETNAME"], [b"CLIENT", b"ID"],
                                   [b"CLIENT", b"SETNAME", g.pick(b"n1", b"n 2", b"")],
                                   [b"CLIENT", b"NO-EVICT", g.pick(b"on", b"off", b"x")])),
    "CONFIG GET": (0.7, lambda g: [b"CONFIG", b"GET", g.pick(
        b"maxmemory", b"maxmemory-policy", b"hz", b"lfu-*", b"nosuch", b"databases")]),
    "CONFIG SET": (0.4, lambda g: [b"CONFIG", b"SET", b"maxmemory-policy", g.pick(
        b"noeviction", b"allkeys-lfu", b"allkeys-lru", b"bogus")]),
    "INFO": (0.3, lambda g: [b"INFO", g.pick(b"keyspace", b"server", b"stats")]),
    "COMMAND GETKEYS": (1, lambda g: [b"COMMAND", b"GETKEYS"] + gen_command(g, broken=False)),
    "MEMORY USAGE": (0.5, lambda g: [b"MEMORY", b"USAGE", g.key()]),
    "TIME": (0.2, lambda g: [b"TIME"]),
    "LASTSAVE": (0.1, lambda g: [b"LASTSAVE"]),
    "SLOWLOG LEN": (0.1, lambda g: [b"SLOWLOG", b"LEN"]),
    "LATENCY LATEST": (0.1, lambda g: [b"LATENCY", b"LATEST"]),
    "MEMORY STATS": (0.1, lambda g: [b"MEMORY", b"STATS"]),
    "OBJECT HELP": (0.05, lambda g: [b"OBJECT", b"HELP"]),
    "RESET": (0.2, lambda g: [b"RESET"]),
    "QUIT": (0.2, lambda g: [b"QUIT"]),
}

_NAMES = list(GENERATORS)
_WEIGHTS = [GENERATORS[n][0] for n in _NAMES]

# Each script may focus on one family of commands (their weights times
# FOCUS_FACTOR), so streams with groups and pending entries, populated geo
# sets, dense HLLs and SORT on many shapes happen within DEFAULT_LEN commands.
_FAMILY_PREFIX = {"stream": ("X",), "geo": ("GEO",), "hll": ("PF", "SET HLL", "SETRANGE HLL",
                                                            "GET HLL", "APPEND HLL"),
                  "sort": ("SORT",)}
FOCUS = [None, None, None, "stream", "stream", "geo", "geo", "hll", "sort"]
FOCUS_FACTOR = 15


def _focus_weights(family):
    if family is None:
        return _WEIGHTS
    pre = _FAMILY_PREFIX[family]
    return [w * FOCUS_FACTOR if n.startswith(pre) else w for n, w in zip(_NAMES, _WEIGHTS)]


# Commands that are not a key command for COMMAND GETKEYS purposes
_NOT_FOR_GETKEYS = {"@scanall", "COMMAND GETKEYS", "QUIT", "RESET", "HELLO",
                    "OBJECT HELP"}


# Commands whose arguments are never damaged: a damaged SPOP count can make it
# pop random members (the servers' sets would then differ), and a damaged
# blocking command can get timeout 0 and block for ever.
_NEVER_BREAK = {"@scanall", "SPOP", "BLPOP", "BRPOP", "BLMOVE", "BRPOPLPUSH",
                "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP"}


def gen_command(g: G, broken=True) -> list:
    while True:
        name = g.r.choices(_NAMES, g.weights)[0]
        if not broken and name in _NOT_FOR_GETKEYS:
            continue
        args = list(GENERATORS[name][1](g))
        break
    if broken and name not in _NEVER_BREAK and g.r.random() < 0.12:
        args = break_args(g, args)
    return args


def break_args(g: G, args: list) -> list:
    """Deliberately damage a command's arguments."""
    r = g.r.random()
    args = list(args)
    if r < 0.25 and len(args) > 1:
        args.pop()                                   # too few
    elif r < 0.45:
        args.append(g.pick(b"extra", b"EX", b"NX", b"1"))   # too many / dangling option
    elif r < 0.75 and len(args) > 1:
        i = g.r.randrange(1, len(args))              # garbage in some position
        args[i] = g.r.choice(GARBAGE)
    elif r < 0.9:
        args[0] = bytes(c ^ 0x20 if g.r.random() < 0.5 and 65 <= (c & ~0x20) <= 90 else c
                        for c in args[0])             # mixed case name
    else:
        args.insert(g.r.randint(1, len(args)), b"NOSUCHOPTION")
    return args


CONFIG_PRELUDE = [  # (probability, directive, values): drawn in this order
    (0.5, b"hash-max-listpack-entries", (b"1", b"2", b"3", b"4", b"8")),
    (0.4, b"hash-max-listpack-value", (b"0", b"2", b"4", b"8", b"16")),
    (0.5, b"set-max-intset-entries", (b"1", b"2", b"3", b"5", b"8")),
    (0.4, b"list-max-listpack-size", (b"1", b"2", b"3", b"-1", b"-2")),
    (0.2, b"list-compress-depth", (b"1", b"2")),
    (0.4, b"zset-max-listpack-entries", (b"1", b"2", b"3", b"5")),
    (0.3, b"zset-max-listpack-value", (b"0", b"1", b"4", b"10")),
    (0.3, b"hll-sparse-max-bytes", (b"0", b"30", b"200", b"1000")),
    (0.3, b"stream-node-max-entries", (b"1", b"2", b"3", b"5")),
]


def config_prelude(g: G) -> list:
    """Sometimes lower the encoding thresholds at the start of a script, so
    listpack -> hashtable, intset -> hashtable and quicklist node splits
    happen with the few small values the generator uses."""
    out = []
    for prob, name, values in CONFIG_PRELUDE:
        if g.r.random() < prob:
            out.append([b"CONFIG", b"SET", name, g.pick(*values)])
    return out


def generate(seed: int, n: int = DEFAULT_LEN) -> list:
    g = G(seed)
    g.weights = _focus_weights(g.r.choice(FOCUS))
    steps = [Step(list(a), 1, None, 0, "") for a in PRELUDE]
    steps += [Step(a, 1, None, 0, "") for a in config_prelude(g)]
    for i in range(n):
        args = gen_command(g)
        conn = 2 if g.r.random() < 0.08 else 1
        if args and args[0] == "@scanall":
            steps.append(Step(list(args[1:]), conn, "@scanall", 0,
                              "", {}))
        elif args == [b"RANDOMKEY"]:
            # RANDOMKEY deletes the logically expired keys it happens to pick
            # (each server its own), after which DBSIZE differs: a full SCAN
            # first removes them all on both servers
            steps.append(Step([b"COUNT", b"1000"], conn, "@scanall", 0, "", {}))
            steps.append(Step(list(args), conn, None, 0, ""))
        else:
            steps.append(Step(list(args), conn, None, 0, ""))
    return steps


def to_case_text(steps) -> str:
    """Render steps in case-file syntax (for reproducers)."""
    return "\n".join(s.describe() for s in steps) + "\n"
