"""The probing comparison rules of known_differences.py accept what they
should and nothing more (no servers: replies and probe answers are faked)."""

import known_differences as kd
from resp import ARRAY, BULK, DOUBLE, ERROR, INTEGER, MAP, NULL_BULK, SET, Reply


def bulk(x):
    return Reply(BULK, x if isinstance(x, bytes) else str(x).encode())


def arr(*items, kind=ARRAY):
    return Reply(kind, tuple(bulk(i) if not isinstance(i, Reply) else i for i in items))


def ints(*vals):
    return Reply(ARRAY, tuple(Reply(INTEGER, v) for v in vals))


class Probe:
    """Answers probes from a dict: (side, command name) -> Reply, or a
    function of the args; records the calls."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __call__(self, side, args):
        self.calls.append((side, [a for a in args]))
        a = self.answers.get((side, args[0].upper())) or self.answers.get(args[0].upper())
        return a(args) if callable(a) else a


def cmp(ref, got, *args, probe=None):
    why, rule = kd.compare(ref, got, [a if isinstance(a, bytes) else a.encode() for a in args], probe)
    assert rule is not None
    return why


def enc(e):
    return Probe({b"OBJECT": bulk(e)})


def test_smembers_order_free_for_hashtable_only():
    a, b = arr("x", "y", "z"), arr("z", "x", "y")
    assert cmp(a, b, "SMEMBERS", "k", probe=enc(b"hashtable")) is None
    assert "order differs" in cmp(a, b, "SMEMBERS", "k", probe=enc(b"intset"))
    assert "missing" in cmp(a, arr("x", "y", "q"), "SMEMBERS", "k", probe=enc(b"hashtable"))
    assert cmp(a, arr("x", "y"), "SMEMBERS", "k", probe=enc(b"hashtable"))
    # RESP3 set type must match too
    assert cmp(arr("x", kind=SET), arr("x"), "SMEMBERS", "k", probe=enc(b"hashtable"))
    # both servers are probed, and must agree on the encoding
    p = Probe({("ref", b"OBJECT"): bulk(b"hashtable"), ("got", b"OBJECT"): bulk(b"listpack")})
    assert "ENCODING" in cmp(a, b, "SMEMBERS", "k", probe=p)
    assert [side for side, _ in p.calls] == ["ref", "got"]
    # equal replies: no probe at all
    p = enc(b"intset")
    assert cmp(a, a, "SMEMBERS", "k", probe=p) is None and not p.calls


def test_hgetall_pairs_must_stay_pairs():
    a = arr("f1", "1", "f2", "2")
    assert cmp(a, arr("f2", "2", "f1", "1"), "HGETALL", "h", probe=enc(b"hashtable")) is None
    assert cmp(a, arr("f1", "2", "f2", "1"), "HGETALL", "h", probe=enc(b"hashtable"))
    assert cmp(a, arr("f2", "2", "f1", "1"), "HGETALL", "h", probe=enc(b"listpack"))
    m1 = Reply(MAP, ((bulk("a"), bulk("1")), (bulk("b"), bulk("2"))))
    m2 = Reply(MAP, ((bulk("b"), bulk("2")), (bulk("a"), bulk("1"))))
    assert cmp(m1, m2, "HGETALL", "h", probe=enc(b"hashtable")) is None
    assert cmp(m1, m2, "HGETALL", "h", probe=enc(b"listpack"))


def test_errors_stay_exact():
    e1, e2 = Reply(ERROR, b"WRONGTYPE x"), Reply(ERROR, b"ERR y")
    for c in ("SMEMBERS", "HKEYS", "SSCAN", "SUNION", "SRANDMEMBER", "SPOP",
              "HRANDFIELD", "ZRANDMEMBER", "ZSCAN"):
        assert cmp(e1, e2, c, "k", "0", probe=enc(b"hashtable"))
        assert cmp(e1, arr(), c, "k", "0", probe=enc(b"hashtable"))


def test_scan_key():
    a = arr(bulk("0"), arr("a", "b"))
    b = arr(bulk("0"), arr("b", "a"))
    assert cmp(a, b, "SSCAN", "k", "0", probe=enc(b"hashtable")) is None
    assert cmp(a, b, "SSCAN", "k", "0", probe=enc(b"intset"))
    assert cmp(a, arr(bulk("0"), arr("a", "c")), "SSCAN", "k", "0", probe=enc(b"hashtable"))
    # a partial scan of a hash table: only the shape
    assert cmp(arr(bulk("12"), arr("a")), arr(bulk("3"), arr("q", "r")), "SSCAN", "k", "0",
               "COUNT", "1", probe=enc(b"hashtable")) is None
    assert cmp(arr(bulk("12"), arr("a")), arr(bulk("x"), arr("a")), "SSCAN", "k", "0",
               probe=enc(b"hashtable"))


def test_set_union_diff_intset_order():
    cfg = Probe({b"CONFIG": arr("set-max-intset-entries", "512")})
    assert cmp(arr("1", "2", "3"), arr("3", "1", "2"), "SUNION", "a", "b", probe=cfg)
    assert cmp(arr("1", "x"), arr("x", "1"), "SUNION", "a", "b", probe=cfg) is None
    small = Probe({b"CONFIG": arr("set-max-intset-entries", "2")})
    assert cmp(arr("1", "2", "3"), arr("3", "1", "2"), "SDIFF", "a", "b", probe=small) is None
    assert cmp(arr("1", "2", "3"), arr("3", "1", "2"), "SINTER", "a", "b", probe=cfg) is None
    assert cmp(arr("1", "2", "3"), arr("3", "1", "4"), "SINTER", "a", "b", probe=cfg)


def test_random_members():
    yes = Probe({b"SMISMEMBER": lambda args: ints(*[1] * (len(args) - 2))})
    no = Probe({b"SMISMEMBER": lambda args: ints(*[0] * (len(args) - 2))})
    assert cmp(bulk("a"), bulk("b"), "SRANDMEMBER", "s", probe=yes) is None
    assert cmp(bulk("a"), bulk("b"), "SRANDMEMBER", "s", probe=no)
    assert cmp(Reply(NULL_BULK, None), bulk("b"), "SRANDMEMBER", "s", probe=yes)
    assert cmp(arr("a", "b"), arr("c", "d"), "SRANDMEMBER", "s", "2", probe=yes) is None
    assert cmp(arr("a", "b"), arr("c", "c"), "SRANDMEMBER", "s", "2", probe=yes)
    assert cmp(arr("a", "a"), arr("c", "c"), "SRANDMEMBER", "s", "-2", probe=yes) is None
    assert cmp(arr("a", "b"), arr("c"), "SRANDMEMBER", "s", "2", probe=yes)
    # SPOP: popped members must be gone
    assert cmp(arr("a", "b"), arr("c", "d"), "SPOP", "s", "2", probe=no) is None
    assert cmp(arr("a", "b"), arr("c", "d"), "SPOP", "s", "2", probe=yes)
    assert cmp(arr("a", "b"), arr("c", "c"), "SPOP", "s", "2", probe=no)


def test_random_fields_values():
    hm = Probe({b"HMGET": lambda args: arr(*[b"v" + f for f in args[2:]])})
    assert cmp(arr("a", "va", "b", "vb"), arr("c", "vc", "d", "vd"),
               "HRANDFIELD", "h", "2", "WITHVALUES", probe=hm) is None
    assert cmp(arr("a", "va", "b", "vb"), arr("c", "vX", "d", "vd"),
               "HRANDFIELD", "h", "2", "WITHVALUES", probe=hm)
    assert cmp(arr("a", "b"), arr("c", "c"), "HRANDFIELD", "h", "2", probe=hm)
    missing = Probe({b"HMGET": lambda args: Reply(ARRAY, tuple(Reply(NULL_BULK, None) for _ in args[2:]))})
    assert cmp(bulk("a"), bulk("b"), "HRANDFIELD", "h", probe=missing)
    # RESP3 ZRANDMEMBER WITHSCORES: [[member, double], ...] against ZMSCORE doubles
    d = lambda v: Reply(DOUBLE, v)
    zm = Probe({b"ZMSCORE": lambda args: Reply(ARRAY, tuple(d(b"1.5") for _ in args[2:]))})
    pair = lambda m, s: Reply(ARRAY, (bulk(m), d(s)))
    assert cmp(Reply(ARRAY, (pair("a", b"1.5"),)), Reply(ARRAY, (pair("b", b"1.5"),)),
               "ZRANDMEMBER", "z", "1", "WITHSCORES", probe=zm) is None
    assert cmp(Reply(ARRAY, (pair("a", b"1.5"),)), Reply(ARRAY, (pair("b", b"2"),)),
               "ZRANDMEMBER", "z", "1", "WITHSCORES", probe=zm)
