"""DEBUG DIGEST and DEBUG DIGEST-VALUE: shoal must print the same digests as
Redis 7.0.15 for the same logical data, whatever the encodings, so that a
replica can be proven equal to its master (and shoal to redis-server).

Both servers get identical data: strings (integers, raw, binary, edited in
place), lists, hashes, sets and sorted sets in their small and big encodings,
sorted-set scores whose text is tricky (-0, inf, 0.1, 1e-300, 2^53+1...),
streams (several nodes, deleted and trimmed entries, consumer groups, an
empty stream), keys with TTLs, and several databases. Then every digest is
compared, reply type included (status replies).
"""

from __future__ import annotations

import random
import time

import pytest

import resp
from resp import Reply

ZEROS = b"0" * 40
DEBUG_ARGS = ("--enable-debug-command", "yes")


@pytest.fixture(scope="module")
def pair(module_factory):
    return (module_factory.start("redis", *DEBUG_ARGS),
            module_factory.start("shoal", *DEBUG_ARGS))


def run(server, commands):
    """Runs commands (pipelined) on a fresh connection; errors fail the test."""
    with server.conn(timeout=60) as c:
        for i in range(0, len(commands), 500):
            chunk = commands[i:i + 500]
            for cmd, r in zip(chunk, c.pipeline(chunk)):
                assert not r.is_error, f"{server.name}: {resp.format_command(cmd)} -> {r}"


def call(server, *args, db=0):
    with server.conn(timeout=60) as c:
        if db:
            assert c.call("SELECT", db) == Reply(resp.SIMPLE, b"OK")
        return c.call(*args)


def both(pair, *args, db=0):
    return [call(s, *args, db=db) for s in pair]


def digest(server) -> Reply:
    return call(server, "DEBUG", "DIGEST")


def all_keys(server, db):
    r = call(server, "KEYS", "*", db=db)
    return sorted(x.value for x in r.value)


def assert_same_digests(pair, dbs=range(16)):
    """DEBUG DIGEST and the DIGEST-VALUE of every key of every db agree."""
    ref, got = pair
    total, b = digest(ref), digest(got)
    assert total.kind == resp.SIMPLE and len(total.value) == 40, total
    assert b == total, f"DEBUG DIGEST: shoal {b}, redis {total}"
    for db in dbs:
        keys = all_keys(ref, db)
        assert all_keys(got, db) == keys, f"db {db}: key sets differ"
        if not keys:
            continue
        a = call(ref, "DEBUG", "DIGEST-VALUE", *keys, db=db)
        b = call(got, "DEBUG", "DIGEST-VALUE", *keys, db=db)
        assert a.kind == resp.ARRAY and len(a.value) == len(keys)
        for k, x, y in zip(keys, a.value, b.value):
            assert y == x, f"db {db} key {k!r}: shoal {y}, redis {x}"
        assert b == a
    return total


# ---------------------------------------------------------------------------
# data


def tricky_scores():
    return ["0", "-0", "1", "-1", "0.1", "0.2", "0.3", "1.5", "-2.25", "3.0e3",
            "0.3333333333333333", "1e-300", "5e-324", "2.2250738585072014e-308",
            "1.7976931348623157e308", "9007199254740993", "123456789012345678",
            "1e17", "1e16", "99999999999999999", "1e21", "inf", "-inf", "+inf",
            "12345.678901234567", "0.000123", "1e-5", "-1e-5", "100", "4.5e15"]


def load_commands(seed=7):
    rnd = random.Random(seed)
    cmds = []

    def word(n=None):
        n = rnd.randint(1, 12) if n is None else n
        return "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))

    # strings: shared and big integers, non-canonical integers, raw, binary
    for i, v in enumerate(["0", "1", "9999", "10000", "-1", "12345678901", "9223372036854775807",
                           "-9223372036854775808", "9223372036854775808", "0012", "-0", " 1",
                           "1.5", "", "hello", "x" * 44, "y" * 45, "z" * 300, "q" * 70000]):
        cmds.append(["SET", f"str:{i}", v])
    cmds.append(["SET", "str:bin", b"\x00\xff\r\n\x01binary"])
    cmds += [["APPEND", "str:app", "123"], ["APPEND", "str:app2", "12"], ["APPEND", "str:app2", "34"],
             ["SETRANGE", "str:range", "3", "7"], ["INCRBY", "str:incr", "41"],
             ["INCRBYFLOAT", "str:float", "0.1"], ["INCRBYFLOAT", "str:float", "0.2"],
             ["SETBIT", "str:bits", "100", "1"], ["SET", "str:num", "42"], ["APPEND", "str:num", "0"]]

    # lists: listpack and quicklist, with integers and long items
    cmds.append(["RPUSH", "list:small", "a", "1", "-7", "b", "", "9223372036854775807"])
    big = [word() if rnd.random() < 0.5 else str(rnd.randint(-10**12, 10**12)) for _ in range(1500)]
    big[100] = "L" * 200
    for i in range(0, len(big), 300):
        cmds.append(["RPUSH", "list:big", *big[i:i + 300]])
    cmds += [["LPUSH", "list:big", "head"], ["LINSERT", "list:big", "BEFORE", "head", "first"],
             ["LSET", "list:big", "700", "changed"], ["LREM", "list:big", "0", big[5]],
             ["RPUSH", "list:long", *["v" * 100 for _ in range(10)]]]

    # hashes: listpack and hashtable, integer and long values
    cmds.append(["HSET", "hash:small", "f1", "v1", "f2", "2", "3", "v3", "empty", ""])
    fields = []
    for i in range(700):
        fields += [f"field:{i}", str(i * 7) if i % 2 else word()]
    cmds.append(["HSET", "hash:big", *fields])
    cmds += [["HSET", "hash:longval", "f", "v" * 100], ["HSET", "hash:longval", "g", "1"],
             ["HINCRBY", "hash:small", "counter", "5"], ["HINCRBYFLOAT", "hash:small", "fl", "1.5"],
             ["HDEL", "hash:big", "field:3"]]

    # sets: intset (small and big), listpack-less string sets, hashtable
    cmds.append(["SADD", "set:int", "1", "2", "3", "-5", "100000", "9223372036854775807"])
    cmds.append(["SADD", "set:bigint", *[str(i * 3) for i in range(700)]])
    cmds.append(["SADD", "set:str", "a", "b", "c", "1"])
    cmds.append(["SADD", "set:big", *[word(8) for _ in range(400)]])
    cmds += [["SADD", "set:conv", "1", "2"], ["SADD", "set:conv", "x"], ["SREM", "set:conv", "x"],
             ["SADD", "set:longmember", "m" * 100]]

    # sorted sets: listpack and skiplist, tricky scores, integer members
    scores = tricky_scores()
    zs = []
    for i, s in enumerate(scores):
        zs += [s, f"m{i}"]
    cmds.append(["ZADD", "zset:small", *zs[:40]])
    cmds.append(["ZADD", "zset:small2", *zs[40:]])
    cmds.append(["ZADD", "zset:tricky-big", *zs, *sum(([str(j), f"pad{j}"] for j in range(150)), [])])
    zbig = []
    for i in range(400):
        zbig += [repr(rnd.uniform(-1e6, 1e6)) if i % 3 else str(rnd.randint(-1000, 1000)),
                 str(i) if i % 5 == 0 else word()]
    cmds.append(["ZADD", "zset:big", *zbig])
    cmds += [["ZADD", "zset:intmembers", "1", "1", "2", "200", "3", "-30"],
             ["ZINCRBY", "zset:small", "0.1", "m1"], ["ZINCRBY", "zset:incr", "0.1", "a"],
             ["ZINCRBY", "zset:incr", "0.2", "a"], ["ZADD", "zset:longmember", "1", "M" * 100],
             ["ZADD", "zset:negzero", "-0", "a", "0", "b"],
             ["ZADD", "zset:negzero-big", "-0", "a", *sum(([str(j), f"p{j}"] for j in range(200)), [])]]

    # streams: several nodes, deletions, trimming, groups and an empty stream
    for i in range(1, 260):
        nf = 1 + i % 3
        fv = []
        for j in range(nf):
            fv += [f"f{j}" if i % 7 else str(j), str(i * 10 + j) if j % 2 else word()]
        cmds.append(["XADD", "stream:big", f"{1000 + i // 3}-{i % 3}", *fv])
    cmds += [["XDEL", "stream:big", "1001-0", "1010-2", "1020-1"],
             ["XGROUP", "CREATE", "stream:big", "g1", "0"],
             ["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "5", "STREAMS", "stream:big", ">"],
             ["XGROUP", "CREATE", "stream:big", "g2", "$"],
             ["XADD", "stream:small", "1-1", "a", "1", "b", "2"],
             ["XADD", "stream:small", "2-5", "a", "3", "b", "4"],
             ["XADD", "stream:small", "3-0", "c", "5"],
             ["XADD", "stream:small", "18446744073709551615-18446744073709551614", "big", "id"],
             ["XADD", "stream:trim", "MAXLEN", "50", "7-7", "k", "v"]]
    for i in range(120):
        cmds.append(["XADD", "stream:trimmed", f"5-{i}", "k", str(i)])
    cmds += [["XTRIM", "stream:trimmed", "MAXLEN", "30"],
             ["XGROUP", "CREATE", "stream:empty", "g", "$", "MKSTREAM"],
             ["XADD", "stream:emptied", "1-1", "a", "b"], ["XDEL", "stream:emptied", "1-1"],
             ["XADD", "stream:longval", "1-1", "f", "V" * 300]]

    # TTLs on every type
    cmds += [["SET", "ttl:str", "v", "EX", "1000000"], ["SET", "ttl:int", "5", "PX", "999999999"],
             ["RPUSH", "ttl:list", "a"], ["EXPIRE", "ttl:list", "100000"],
             ["HSET", "ttl:hash", "f", "v"], ["PEXPIREAT", "ttl:hash", "33000000000000"],
             ["SADD", "ttl:set", "1"], ["EXPIRE", "ttl:set", "100000"],
             ["ZADD", "ttl:zset", "1", "a"], ["EXPIRE", "ttl:zset", "100000"],
             ["XADD", "ttl:stream", "1-1", "a", "b"], ["EXPIRE", "ttl:stream", "100000"],
             ["SET", "ttl:persisted", "v", "EX", "100"], ["PERSIST", "ttl:persisted"]]
    return cmds


def multi_db_commands():
    cmds = []
    for db in (1, 5, 15):
        cmds += [["SELECT", str(db)], ["SET", "k", f"db{db}"], ["RPUSH", "l", "x", str(db)],
                 ["HSET", "h", "f", str(db)], ["SET", f"only{db}", "1", "EX", "100000"]]
    cmds += [["SELECT", "9"], ["SET", "moved", "v"], ["MOVE", "moved", "10"], ["SELECT", "0"]]
    return cmds


# ---------------------------------------------------------------------------
# tests


def test_empty_dataset_is_zeros(pair):
    for s in pair:
        assert call(s, "FLUSHALL") == Reply(resp.SIMPLE, b"OK")
    a, b = both(pair, "DEBUG", "DIGEST")
    assert a == b == Reply(resp.SIMPLE, ZEROS)


def test_reply_shapes(pair):
    for s in pair:
        call(s, "FLUSHALL")
        call(s, "SET", "k", "v")
    # zero keys: an empty array; missing keys: zeros; one status reply per key
    for args in (["DEBUG", "DIGEST-VALUE"], ["DEBUG", "digest-value", "k", "nosuch", "k"],
                 ["DEBUG", "DIGEST", "extra"], ["debug", "Digest"]):
        a, b = both(pair, *args)
        assert b == a, f"{args}: shoal {b}, redis {a}"
    r = call(pair[1], "DEBUG", "DIGEST-VALUE", "k", "nosuch")
    assert r.kind == resp.ARRAY and [x.kind for x in r.value] == [resp.SIMPLE] * 2
    assert r.value[1].value == ZEROS and r.value[0].value != ZEROS
    # DIGEST-VALUE reads the selected database
    a, b = both(pair, "DEBUG", "DIGEST-VALUE", "k", db=3)
    assert a == b == Reply(resp.ARRAY, (Reply(resp.SIMPLE, ZEROS),))


def test_every_type_and_encoding(pair):
    cmds = load_commands()
    for s in pair:
        call(s, "FLUSHALL")
        run(s, cmds)
    # the encodings really are the small and big ones on both servers (7.0
    # lists are always quicklists)
    for key, enc in [("list:big", b"quicklist"),
                     ("hash:small", b"listpack"), ("hash:big", b"hashtable"),
                     ("set:int", b"intset"), ("set:bigint", b"hashtable"), ("set:big", b"hashtable"),
                     ("zset:small", b"listpack"), ("zset:big", b"skiplist"),
                     ("str:1", b"int"), ("str:14", b"embstr"), ("str:17", b"raw")]:
        a, b = both(pair, "OBJECT", "ENCODING", key)
        assert a == b == Reply(resp.BULK, enc), (key, a, b)
    d = assert_same_digests(pair)
    assert d != Reply(resp.SIMPLE, ZEROS)


def test_multiple_databases_and_swapdb(pair):
    for s in pair:
        call(s, "FLUSHALL")
        run(s, load_commands(seed=11) + multi_db_commands())
    before = assert_same_digests(pair)
    # the database number is part of the digest
    for s in pair:
        assert call(s, "SWAPDB", "1", "5") == Reply(resp.SIMPLE, b"OK")
    after = assert_same_digests(pair)
    assert after != before


def test_digest_changes_and_order_independence(pair):
    ref, got = pair
    for s in pair:
        call(s, "FLUSHALL")
        run(s, [["SADD", "s1", *map(str, range(50)), "x"], ["SADD", "s2", "x", *map(str, reversed(range(50)))],
                ["HSET", "h1", "a", "1", "b", "2"], ["HSET", "h2", "b", "2", "a", "1"],
                ["ZADD", "z1", "1", "a", "2", "b"], ["ZADD", "z2", "2", "b", "1", "a"],
                ["RPUSH", "l1", "a", "b"], ["RPUSH", "l2", "b", "a"]])
    for s in pair:
        r = call(s, "DEBUG", "DIGEST-VALUE", "s1", "s2", "h1", "h2", "z1", "z2", "l1", "l2").value
        assert r[0] == r[1] and r[2] == r[3] and r[4] == r[5], s.name
        assert r[6] != r[7], s.name
    base = assert_same_digests(pair)
    for change in (["SADD", "s1", "y"], ["HSET", "h1", "a", "2"], ["ZADD", "z1", "1.5", "a"],
                   ["LSET", "l1", "0", "z"], ["EXPIRE", "l2", "100000"], ["SET", "new", "1"]):
        for s in pair:
            run(s, [change])
        now = assert_same_digests(pair)
        assert now != base, change
        base = now


def test_stream_groups_and_ids(pair):
    """Stream digests cover the entries (IDs, fields, values) only: group
    state does not change them, on Redis as on shoal."""
    for s in pair:
        call(s, "FLUSHALL")
        run(s, [["XADD", "st", "1-1", "a", "1"], ["XADD", "st", "2-1", "b", "2"]])
    a = assert_same_digests(pair)
    for s in pair:
        run(s, [["XGROUP", "CREATE", "st", "g", "0"],
                ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "st", ">"], ["XACK", "st", "g", "1-1"]])
    assert assert_same_digests(pair) == a
    for s in pair:
        run(s, [["XADD", "st", "3-0", "c", "3"], ["XDEL", "st", "3-0"]])
    assert assert_same_digests(pair) == a
    for s in pair:
        run(s, [["XSETID", "st", "10-0"]])
    assert assert_same_digests(pair) == a


def test_digest_survives_debug_reload(pair):
    for s in pair:
        call(s, "FLUSHALL")
        run(s, load_commands(seed=3) + multi_db_commands())
    before = assert_same_digests(pair)
    for s in pair:
        assert call(s, "DEBUG", "RELOAD") == Reply(resp.SIMPLE, b"OK"), s.name
    assert assert_same_digests(pair) == before


def test_many_keys(pair):
    rnd = random.Random(99)
    cmds = []
    for i in range(20000):
        k = f"key:{i}"
        t = rnd.randrange(5)
        if t == 0:
            cmds.append(["SET", k, str(rnd.randint(-10**6, 10**6))])
        elif t == 1:
            cmds.append(["RPUSH", k, *[str(rnd.random()) for _ in range(rnd.randint(1, 5))]])
        elif t == 2:
            cmds.append(["HSET", k, "f", str(i), "g", "x" * rnd.randint(0, 80)])
        elif t == 3:
            cmds.append(["SADD", k, *map(str, rnd.sample(range(1000), 4))])
        else:
            cmds.append(["ZADD", k, str(rnd.uniform(-5, 5)), "m", str(rnd.randint(0, 9)), "n"])
        if rnd.random() < 0.1:
            cmds.append(["EXPIRE", k, "100000"])
    for s in pair:
        call(s, "FLUSHALL")
        run(s, cmds)
    a, b = both(pair, "DEBUG", "DIGEST")
    assert b == a and a.value != ZEROS


def test_logically_expired_keys_still_count(pair):
    """DEBUG reads the table as it is: a key whose TTL has passed but that is
    still stored (active expiry off, not touched) is part of both digests."""
    for s in pair:
        call(s, "FLUSHALL")
        run(s, [["DEBUG", "SET-ACTIVE-EXPIRE", "0"], ["SET", "keep", "v"], ["SET", "gone", "v", "PX", "1"],
                ["HSET", "hgone", "f", "v"], ["PEXPIRE", "hgone", "1"]])
    time.sleep(0.05)
    try:
        d = assert_same_digests(pair, dbs=[])
        a, b = both(pair, "DEBUG", "DIGEST-VALUE", "gone", "hgone")
        assert b == a and all(x.value != ZEROS for x in a.value), (a, b)
        for s in pair:
            run(s, [["DEL", "gone", "hgone"]])
        assert assert_same_digests(pair, dbs=[]) != d
    finally:
        for s in pair:
            run(s, [["DEBUG", "SET-ACTIVE-EXPIRE", "1"]])
