"""Hash field expiry (Redis 7.4's HEXPIRE family) in shoal.

There is no Redis 7.4 here to diff against (the reference server is 7.0,
which has none of these commands), so this file *is* the written-down
semantics, taken from the public Redis 7.4 command docs and command JSON:

HEXPIRE/HPEXPIRE/HEXPIREAT/HPEXPIREAT key time [NX|XX|GT|LT] FIELDS n field...
  - key looked up first: WRONGTYPE before any argument error;
  - time: an integer ("value is not an integer or out of range"), >= 0
    ("invalid expire time, must be >= 0"), and the absolute time in ms must be
    at most 2^46-1 ("invalid expire time in '<cmd>' command");
  - at most one of NX/XX/GT/LT right after the time; anything else there (two
    conditions, a typo) makes FIELDS be "missing or not at the right position";
  - numfields: an integer >= 1 ("Parameter `numFields` should be greater than
    0"), equal to the number of fields that follow ("The `numfields` parameter
    must match the number of arguments");
  - reply, one per field: -2 no such field (or no such key), 0 condition not
    met, 1 TTL set, 2 field deleted because the time is now or past;
  - NX: only fields without TTL; XX: only fields with one; GT: only a TTL
    later than the current one (no TTL = infinite: never); LT: only an
    earlier one (no TTL = infinite: always);
  - a hash whose last field goes is deleted;
  - effects: `HPEXPIREAT key <abs ms> [cond] FIELDS k <fields set>`, fields
    deleted because the time passed as `HDEL key field...`;
  - events: `hexpire` (or `hdel` when fields were deleted), `del` for the key.
HTTL/HPTTL/HEXPIRETIME/HPEXPIRETIME key FIELDS n field...
  - -2 no such field/key, -1 no TTL, else the TTL (s, rounded up) or the
    Unix time; numfields errors: "Number of fields must be a positive integer"
    and the same "must match" error.
HPERSIST key FIELDS n field...: -2 / -1 / 1, event `hpersist`.

Field TTLs survive HINCRBY/HINCRBYFLOAT, are dropped by HSET/HMSET/HDEL,
move with RENAME/MOVE/COPY, survive DUMP/RESTORE, DEBUG RELOAD, restarts
(RDB types 24/25) and the AOF (incr files and rewrites). Expired fields are
invisible to every read, are removed lazily on access and actively by the
expiry cron, and propagate as HDEL (event `hexpired`).
"""

from __future__ import annotations

import time

import pytest
import redis

import servers

DEBUG = ("--enable-debug-command", "yes")
MAX_MS = (1 << 46) - 1


def client(s, db=0, **kw):
    return redis.Redis(host="127.0.0.1", port=s.port, db=db, socket_timeout=20, **kw)


def x(r, *args):
    """The reply, or the error text."""
    try:
        return r.execute_command(*args)
    except redis.ResponseError as e:
        return "ERR " + str(e) if not str(e).startswith("WRONGTYPE") else str(e)


def wait_until(cond, timeout=10.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def now_ms():
    return int(time.time() * 1000)


@pytest.fixture
def srv(server_factory):
    return server_factory.start("shoal", *DEBUG)


@pytest.fixture
def r(srv):
    c = client(srv)
    c.flushall()
    return c


def fields_ttls(r, key):
    """{field: absolute ms or -1} for every field of the hash."""
    out = {}
    for f in r.hkeys(key):
        out[f] = r.execute_command("HPEXPIRETIME", key, "FIELDS", 1, f)[0]
    return out


# ------------------------------------------------------------------ commands


@pytest.mark.parametrize("big", [False, True], ids=["listpack", "hashtable"])
def test_reply_codes_and_conditions(r, big):
    if big:
        r.config_set("hash-max-listpack-entries", 0)
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3})
    assert x(r, "HEXPIRE", "h", 100, "FIELDS", 2, "a", "nope") == [1, -2]
    assert x(r, "HEXPIRE", "nokey", 100, "FIELDS", 2, "a", "b") == [-2, -2]
    # NX: only without TTL.
    assert x(r, "HEXPIRE", "h", 200, "NX", "FIELDS", 2, "a", "b") == [0, 1]
    # XX: only with TTL.
    assert x(r, "HEXPIRE", "h", 300, "XX", "FIELDS", 2, "a", "c") == [1, 0]
    # GT: a field without TTL never qualifies; later only.
    assert x(r, "HEXPIRE", "h", 250, "GT", "FIELDS", 3, "a", "b", "c") == [0, 1, 0]
    # LT: a field without TTL always qualifies; earlier only.
    assert x(r, "HEXPIRE", "h", 260, "LT", "FIELDS", 3, "a", "b", "c") == [1, 0, 1]
    assert x(r, "HTTL", "h", "FIELDS", 3, "a", "b", "c") == [260, 250, 260]
    # Conditions are case-insensitive, so is FIELDS.
    assert x(r, "HPEXPIRE", "h", 1_000_000, "gt", "fields", 1, "a") == [1]
    assert x(r, "HPTTL", "h", "FIELDS", 1, "a")[0] in range(999_000, 1_000_001)
    # Time now or past: deleted (2), the hash goes with its last field.
    assert x(r, "HPEXPIREAT", "h", 1, "FIELDS", 2, "b", "b") == [2, -2]
    assert r.hgetall("h") == {b"a": b"1", b"c": b"3"}
    assert x(r, "HEXPIREAT", "h", 0, "FIELDS", 2, "a", "c") == [2, 2]
    assert r.exists("h") == 0
    # The condition is checked before the time.
    r.hset("h", "a", 1)
    assert x(r, "HEXPIRE", "h", 0, "XX", "FIELDS", 1, "a") == [0]
    assert r.hget("h", "a") == b"1"


def test_ttl_family(r):
    r.hset("h", mapping={"a": 1, "b": 2})
    at = now_ms() + 100_000
    assert x(r, "HPEXPIREAT", "h", at, "FIELDS", 1, "a") == [1]
    assert x(r, "HPEXPIRETIME", "h", "FIELDS", 3, "a", "b", "z") == [at, -1, -2]
    assert x(r, "HEXPIRETIME", "h", "FIELDS", 1, "a") == [(at + 999) // 1000]
    pttl = x(r, "HPTTL", "h", "FIELDS", 1, "a")[0]
    assert 99_000 <= pttl <= 100_000
    assert x(r, "HTTL", "h", "FIELDS", 2, "a", "b") in ([100, -1], [99, -1])
    for cmd in ("HTTL", "HPTTL", "HEXPIRETIME", "HPEXPIRETIME"):
        assert x(r, cmd, "nokey", "FIELDS", 2, "a", "b") == [-2, -2]


def test_hpersist(r):
    r.hset("h", mapping={"a": 1, "b": 2})
    r.execute_command("HEXPIRE", "h", 100, "FIELDS", 1, "a")
    assert x(r, "HPERSIST", "h", "FIELDS", 3, "a", "b", "z") == [1, -1, -2]
    assert x(r, "HTTL", "h", "FIELDS", 1, "a") == [-1]
    assert x(r, "HPERSIST", "nokey", "FIELDS", 1, "a") == [-2]
    assert r.object("encoding", "h") == b"listpack"


def test_argument_errors(r):
    r.hset("h", "a", 1)
    r.set("s", "v")
    wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value"
    # The key comes first.
    assert x(r, "HEXPIRE", "s", "notanumber", "FIELDS", 1, "a") == wrongtype
    assert x(r, "HTTL", "s", "NOTFIELDS", 1, "a") == wrongtype
    assert x(r, "HPERSIST", "s", "FIELDS", 1, "a") == wrongtype
    assert x(r, "HEXPIRE", "h", "x", "FIELDS", 1, "a") == "ERR value is not an integer or out of range"
    assert x(r, "HEXPIRE", "h", -1, "FIELDS", 1, "a") == "ERR invalid expire time, must be >= 0"
    assert x(r, "HPEXPIREAT", "h", -5, "FIELDS", 1, "a") == "ERR invalid expire time, must be >= 0"
    # Overflow checks against 2^46-1 ms, relative and absolute, s and ms.
    assert x(r, "HPEXPIREAT", "h", MAX_MS, "FIELDS", 1, "a") == [1]
    assert x(r, "HPEXPIREAT", "h", MAX_MS + 1, "FIELDS", 1, "a") == \
        "ERR invalid expire time in 'hpexpireat' command"
    assert x(r, "HEXPIREAT", "h", MAX_MS // 1000 + 1, "FIELDS", 1, "a") == \
        "ERR invalid expire time in 'hexpireat' command"
    assert x(r, "HEXPIRE", "h", MAX_MS // 1000, "FIELDS", 1, "a") == \
        "ERR invalid expire time in 'hexpire' command"
    assert x(r, "HPEXPIRE", "h", MAX_MS - now_ms() + 10_000, "FIELDS", 1, "a") == \
        "ERR invalid expire time in 'hpexpire' command"
    assert x(r, "HEXPIRE", "h", 2**63, "FIELDS", 1, "a") == "ERR value is not an integer or out of range"
    assert x(r, "HPEXPIRE", "h", MAX_MS - now_ms() - 10_000, "FIELDS", 1, "a") == [1]
    missing = "ERR Mandatory argument FIELDS is missing or not at the right position"
    assert x(r, "HEXPIRE", "h", 10, "NX", "XX", "FIELDS", 1, "a") == missing
    assert x(r, "HEXPIRE", "h", 10, "GT", "LT", "FIELDS", 1, "a") == missing
    assert x(r, "HEXPIRE", "h", 10, "BAD", "FIELDS", 1, "a") == missing
    assert x(r, "HEXPIRE", "h", 10, "1", "a", "b") == missing
    assert x(r, "HTTL", "h", "NOTFIELDS", 1, "a") == missing
    assert x(r, "HPERSIST", "h", "FIELD", 1, "a") == missing
    positive = "ERR Parameter `numFields` should be greater than 0"
    assert x(r, "HEXPIRE", "h", 10, "FIELDS", 0, "a") == positive
    assert x(r, "HEXPIRE", "h", 10, "FIELDS", -1, "a") == positive
    assert x(r, "HEXPIRE", "h", 10, "NX", "FIELDS", "x", "a") == positive
    positive2 = "ERR Number of fields must be a positive integer"
    assert x(r, "HTTL", "h", "FIELDS", 0, "a") == positive2
    assert x(r, "HPERSIST", "h", "FIELDS", "x", "a") == positive2
    match = "ERR The `numfields` parameter must match the number of arguments"
    assert x(r, "HEXPIRE", "h", 10, "FIELDS", 2, "a") == match
    assert x(r, "HEXPIRE", "h", 10, "FIELDS", 1, "a", "b") == match
    assert x(r, "HPTTL", "h", "FIELDS", 3, "a", "b") == match
    assert x(r, "HPERSIST", "h", "FIELDS", 1, "a", "b") == match
    # Arity.
    assert x(r, "HEXPIRE", "h", 10, "FIELDS", 1) == "ERR wrong number of arguments for 'hexpire' command"
    assert x(r, "HTTL", "h", "FIELDS", 1) == "ERR wrong number of arguments for 'httl' command"
    assert x(r, "HPERSIST", "h", "FIELDS") == "ERR wrong number of arguments for 'hpersist' command"
    # Errors changed nothing.
    assert r.hget("h", "a") == b"1"


def test_command_info(srv):
    with srv.conn() as k:
        info = k.call("COMMAND", "INFO", "hexpire", "httl", "hpersist").to_py()
    names = [i[0] for i in info]
    assert names == [b"hexpire", b"httl", b"hpersist"]
    assert info[0][1] == -6 and info[1][1] == -5 and info[2][1] == -5


# ------------------------------------------------------- writes and TTLs


def test_hset_clears_ttl_hincrby_keeps_it(r):
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3, "d": 4})
    r.execute_command("HEXPIRE", "h", 100, "FIELDS", 4, "a", "b", "c", "d")
    r.hset("h", "a", 10)
    r.execute_command("HMSET", "h", "b", 20)
    r.hincrby("h", "c", 5)
    r.hincrbyfloat("h", "d", 0.5)
    ttls = x(r, "HTTL", "h", "FIELDS", 4, "a", "b", "c", "d")
    assert ttls[:2] == [-1, -1]
    assert all(98 <= t <= 100 for t in ttls[2:])
    assert r.hgetall("h") == {b"a": b"10", b"b": b"20", b"c": b"8", b"d": b"4.5"}
    # HSETNX does not touch an existing field; HDEL drops field and TTL.
    assert r.hsetnx("h", "c", 99) == 0
    assert x(r, "HTTL", "h", "FIELDS", 1, "c")[0] > 0
    r.hdel("h", "c")
    r.hset("h", "c", 1)
    assert x(r, "HTTL", "h", "FIELDS", 1, "c") == [-1]


def test_encoding(r):
    r.hset("h", mapping={"a": 1, "b": 2})
    assert r.object("encoding", "h") == b"listpack"
    r.execute_command("HEXPIRE", "h", 100, "FIELDS", 1, "a")
    assert r.object("encoding", "h") == b"listpackex"
    r.hset("h", "big", "x" * 100)
    assert r.object("encoding", "h") == b"hashtable"
    assert x(r, "HTTL", "h", "FIELDS", 1, "a")[0] > 0


# ------------------------------------------------------- expiry


@pytest.mark.parametrize("big", [False, True], ids=["listpack", "hashtable"])
def test_expired_fields_are_invisible_and_lazily_deleted(r, big):
    if big:
        r.config_set("hash-max-listpack-entries", 0)
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    r.hset("h", mapping={"a": "1", "b": "22", "c": "333"})
    r.hset("src", mapping={"x": "1"})
    r.rpush("list", "x")
    r.execute_command("HPEXPIRE", "h", 50, "FIELDS", 2, "a", "b")
    time.sleep(0.15)
    assert r.hget("h", "a") is None
    assert r.hmget("h", "a", "b", "c") == [None, None, b"333"]
    assert r.hgetall("h") == {b"c": b"333"}
    assert r.hkeys("h") == [b"c"]
    assert r.hvals("h") == [b"333"]
    assert r.hlen("h") == 1
    assert r.hexists("h", "a") is False
    assert r.hstrlen("h", "b") == 0
    assert r.hrandfield("h", -10) == [b"c"] * 10
    assert r.hscan("h") == (0, {b"c": b"333"})
    # A hash whose fields all expired disappears as soon as it is looked at.
    r.hset("gone", mapping={"a": 1, "b": 2})
    r.execute_command("HPEXPIRE", "gone", 50, "FIELDS", 2, "a", "b")
    r.hset("g2", mapping={"a": 1})
    r.execute_command("HPEXPIRE", "g2", 50, "FIELDS", 1, "a")
    r.hset("g3", mapping={"a": 1})
    r.execute_command("HPEXPIRE", "g3", 50, "FIELDS", 1, "a")
    time.sleep(0.15)
    assert r.dbsize() == 6  # nothing removed them yet
    assert r.exists("gone") == 0
    assert r.type("g2") == b"none"
    assert r.hsetnx("g3", "a", "new") == 1  # the expired field is gone
    assert x(r, "HTTL", "g3", "FIELDS", 1, "a") == [-1]
    assert r.dbsize() == 4


def test_sort_dump_digest_memory_see_no_expired_fields(r):
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    r.rpush("ids", 1, 2)
    r.hset("w_1", mapping={"n": 5, "v": "one"})
    r.hset("w_2", mapping={"n": 3, "v": "two"})
    r.execute_command("HPEXPIRE", "w_2", 30, "FIELDS", 1, "v")
    r.hset("plain", mapping={"a": 1})
    r.hset("h", mapping={"a": 1, "b": 2})
    r.execute_command("HPEXPIRE", "h", 30, "FIELDS", 1, "b")
    time.sleep(0.1)
    assert r.sort("ids", by="w_*->n", get="w_*->v") == [None, b"one"]
    expected = r.execute_command("DEBUG", "DIGEST-VALUE", "plain")
    assert r.execute_command("DEBUG", "DIGEST-VALUE", "h") == expected
    assert r.memory_usage("h") > 0
    assert r.hgetall("h") == {b"a": b"1"}
    dumped = r.dump("h")
    r.restore("copy", 0, dumped)
    assert r.hgetall("copy") == {b"a": b"1"}


def test_active_expiry_deletes_fields_and_hashes(r):
    r.config_set("hash-max-listpack-entries", 128)
    for big in (False, True):
        p = r.pipeline(transaction=False)
        for i in range(40):
            k = f"h{big}:{i}"
            fields = {f"f{j}": j for j in range(200 if big else 4)}
            p.hset(k, mapping=fields)
            n = len(fields) - (i % 2)
            p.execute_command("HPEXPIRE", k, 50 + i, "FIELDS", n, *list(fields)[:n])
        p.execute()
    # Nobody reads: the cron removes the fields; every even hash loses all of
    # them and goes away.
    wait_until(lambda: r.dbsize() == 40, what="active field expiry")
    info = r.info("keyspace")
    assert info["db0"]["keys"] == 40
    for big in (False, True):
        for i in range(1, 40, 2):
            k = f"h{big}:{i}"
            assert r.hlen(k) == 1
            assert x(r, "HTTL", k, "FIELDS", 1, f"f{(200 if big else 4) - 1}") == [-1]


def test_active_expiry_finds_due_hashes_among_many(r):
    """Hashes are filed by their earliest field time: the few due ones go at
    once even when many others have far TTLs."""
    p = r.pipeline(transaction=False)
    for i in range(5000):
        p.hset(f"far:{i}", mapping={"a": 1, "b": 2})
        p.execute_command("HEXPIRE", f"far:{i}", 3600, "FIELDS", 1, "a")
    for i in range(10):
        p.hset(f"near:{i}", mapping={"a": 1})
        p.execute_command("HPEXPIRE", f"near:{i}", 30, "FIELDS", 1, "a")
    p.execute()
    wait_until(lambda: r.dbsize() == 5000, timeout=3, what="the due hashes to go")
    assert r.hlen("far:7") == 2


def test_rename_move_copy_keep_ttls(r, srv):
    r.hset("h", mapping={"a": 1, "b": 2})
    at = now_ms() + 100_000
    r.execute_command("HPEXPIREAT", "h", at, "FIELDS", 1, "a")
    r.rename("h", "h2")
    assert fields_ttls(r, "h2") == {b"a": at, b"b": -1}
    r.copy("h2", "h3")
    assert fields_ttls(r, "h3") == {b"a": at, b"b": -1}
    r.move("h3", 2)
    assert fields_ttls(client(srv, db=2), "h3") == {b"a": at, b"b": -1}
    # A renamed hash is still expired actively.
    r.execute_command("HPEXPIRE", "h2", 30, "FIELDS", 2, "a", "b")
    r.rename("h2", "h4")
    wait_until(lambda: client(srv).dbsize() == 0, what="renamed hash to expire")


def test_keyspace_notifications(r, srv):
    r.config_set("notify-keyspace-events", "KEA")
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    sub = client(srv).pubsub()
    sub.psubscribe("__keyspace@0__:*")
    assert sub.get_message(timeout=5)["type"] == "psubscribe"

    def events():
        out = []
        while True:
            m = sub.get_message(timeout=0.5)
            if m is None:
                return out
            out.append((m["channel"].decode().split(":", 1)[1], m["data"].decode()))

    r.hset("h", mapping={"a": 1, "b": 2, "c": 3})
    r.execute_command("HEXPIRE", "h", 100, "FIELDS", 1, "a")
    r.execute_command("HEXPIRE", "h", 100, "NX", "FIELDS", 1, "a")  # not met: no event
    r.execute_command("HPERSIST", "h", "FIELDS", 1, "a")
    r.execute_command("HPEXPIRE", "h", 0, "FIELDS", 1, "a")
    r.execute_command("HPEXPIRE", "h", 20, "FIELDS", 1, "b")
    time.sleep(0.05)
    r.hget("h", "b")
    r.execute_command("HPEXPIRE", "h", 0, "FIELDS", 1, "c")
    assert events() == [("h", "hset"), ("h", "hexpire"), ("h", "hpersist"), ("h", "hdel"),
                        ("h", "hexpire"), ("h", "hexpired"), ("h", "hdel"), ("h", "del")]
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)
    r.hset("k", mapping={"a": 1})
    r.execute_command("HPEXPIRE", "k", 20, "FIELDS", 1, "a")
    wait_until(lambda: r.exists("k") == 0, what="active expiry")
    time.sleep(0.1)
    assert events()[-2:] == [("k", "hexpired"), ("k", "del")]


# ------------------------------------------------------- persistence


def test_dump_restore_keeps_ttls(r):
    r.config_set("hash-max-listpack-entries", 128)
    for big in (False, True):
        r.delete("h", "c")
        r.hset("h", mapping={f"f{i}": i for i in range(300 if big else 3)})
        at = now_ms() + 100_000
        r.execute_command("HPEXPIREAT", "h", at, "FIELDS", 2, "f1", "f2")
        r.execute_command("HPEXPIREAT", "h", at + 5, "FIELDS", 1, "f0")
        payload = r.dump("h")
        # Type byte: 25 (listpack with TTLs) or 24 (hash with metadata).
        assert payload[0] == (24 if big else 25)
        r.restore("c", 0, payload)
        assert r.hgetall("c") == r.hgetall("h")
        assert fields_ttls(r, "c") == fields_ttls(r, "h")
        assert r.object("encoding", "c") == (b"hashtable" if big else b"listpackex")
    # A hash without field TTLs keeps the Redis 7.0 payload types.
    r.hset("plain", "a", 1)
    assert r.dump("plain")[0] == 16


def test_debug_reload_and_restart_keep_ttls(srv):
    r = client(srv)
    r.flushall()
    r.config_set("hash-max-listpack-entries", 128)
    r.hset("small", mapping={"a": 1, "b": 2, "c": 3})
    r.hset("big", mapping={f"f{i}": i for i in range(200)})
    at = now_ms() + 100_000
    r.execute_command("HPEXPIREAT", "small", at, "FIELDS", 2, "a", "c")
    r.execute_command("HPEXPIREAT", "big", at + 1, "FIELDS", 2, "f5", "f150")
    r.hset("soon", mapping={"a": 1, "b": 2})
    r.execute_command("HPEXPIRE", "soon", 300, "FIELDS", 1, "a")
    before = {k: (r.hgetall(k), fields_ttls(r, k)) for k in ("small", "big")}
    assert r.execute_command("DEBUG", "RELOAD") == b"OK"
    after = {k: (r.hgetall(k), fields_ttls(r, k)) for k in ("small", "big")}
    assert after == before
    assert r.object("encoding", "small") == b"listpackex"
    r.save()
    srv.stop()
    time.sleep(0.4)  # "soon"'s field expires while the server is down
    srv.start()
    r = client(srv)
    after = {k: (r.hgetall(k), fields_ttls(r, k)) for k in ("small", "big")}
    assert after == before
    assert r.hgetall("soon") == {b"b": b"2"}


def aof_text(s) -> bytes:
    d = s.dir / "appendonlydir"
    return b"".join(p.read_bytes() for p in sorted(d.glob("*.incr.aof")))


def test_aof_effects_and_replay(server_factory):
    s = server_factory.start("shoal", *DEBUG, "--appendonly", "yes", "--aof-use-rdb-preamble", "no")
    r = client(s)
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3, "d": 4})
    r.execute_command("HEXPIRE", "h", 1000, "NX", "FIELDS", 3, "a", "nope", "b")
    r.execute_command("HPEXPIREAT", "h", 1, "FIELDS", 1, "c")
    r.execute_command("HPERSIST", "h", "FIELDS", 1, "b")
    r.execute_command("HPERSIST", "h", "FIELDS", 1, "b")  # no-op: not logged
    r.execute_command("HEXPIRE", "h", 1000, "XX", "FIELDS", 1, "d")  # not met: not logged
    r.hset("lazy", mapping={"x": 1, "y": 2})
    r.execute_command("HPEXPIRE", "lazy", 30, "FIELDS", 1, "x")
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    time.sleep(0.1)
    assert r.hgetall("lazy") == {b"y": b"2"}
    r.hincrbyfloat("h", "a", 1.5)
    text = aof_text(s)
    assert b"HPEXPIREAT\r\n$1\r\nh\r\n" in text
    assert b"\r\nNX\r\n$6\r\nFIELDS\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\nb\r\n" in text
    assert b"*3\r\n$4\r\nHDEL\r\n$1\r\nh\r\n$1\r\nc\r\n" in text
    assert text.count(b"HPERSIST") == 1
    assert b"XX" not in text
    assert b"*3\r\n$4\r\nHDEL\r\n$4\r\nlazy\r\n$1\r\nx\r\n" in text
    assert b"HEXPIRE\r\n" not in text  # relative forms are never logged
    want = {k: (r.hgetall(k), fields_ttls(r, k)) for k in ("h", "lazy")}
    s.stop()
    s.start()
    r = client(s)
    assert {k: (r.hgetall(k), fields_ttls(r, k)) for k in ("h", "lazy")} == want
    # A rewrite without RDB preamble writes the TTLs as HPEXPIREAT.
    r.hset("big", mapping={f"f{i}": i for i in range(300)})
    at = now_ms() + 100_000
    r.execute_command("HPEXPIREAT", "big", at, "FIELDS", 3, "f1", "f2", "f299")
    want = {k: (r.hgetall(k), fields_ttls(r, k)) for k in ("h", "lazy", "big")}
    r.bgrewriteaof()
    wait_until(lambda: not client(s).info("persistence")["aof_rewrite_in_progress"]
               and not client(s).info("persistence")["aof_rewrite_scheduled"], what="rewrite")
    base = b"".join(p.read_bytes() for p in (s.dir / "appendonlydir").glob("*.base.aof"))
    assert base.count(b"HPEXPIREAT") >= 2
    s.stop()
    s.start()
    r = client(s)
    assert {k: (r.hgetall(k), fields_ttls(r, k)) for k in ("h", "lazy", "big")} == want


def test_aof_replay_of_expired_ttls(server_factory):
    """A logged HPEXPIREAT whose time passed while the server was down: the
    replay keeps the field (time is frozen while loading), then it expires."""
    s = server_factory.start("shoal", *DEBUG, "--appendonly", "yes")
    r = client(s)
    r.hset("h", mapping={"a": 1, "b": 2})
    r.execute_command("HPEXPIRE", "h", 300, "FIELDS", 1, "a")
    s.stop()
    time.sleep(0.4)
    s.start()
    r = client(s)
    assert r.hgetall("h") == {b"b": b"2"}


# ------------------------------------------------------- replication


def test_replica_follows_field_expiry(server_factory):
    master = server_factory.start("shoal", *DEBUG, "--repl-diskless-sync-delay", "0")
    replica = server_factory.start("shoal", *DEBUG)
    m, rep = client(master), client(replica)
    # Some state before the sync travels in the snapshot.
    m.hset("pre", mapping={"a": 1, "b": 2})
    m.execute_command("HEXPIRE", "pre", 1000, "FIELDS", 1, "a")
    rep.execute_command("REPLICAOF", "127.0.0.1", master.port)
    wait_until(lambda: rep.info("replication").get("master_link_status") == "up", what="link")
    m.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    m.hset("h", mapping={"a": 1, "b": 2, "c": 3, "d": 4})
    m.execute_command("HEXPIRE", "h", 1000, "FIELDS", 1, "a")
    m.execute_command("HPEXPIRE", "h", 0, "FIELDS", 1, "b")
    m.execute_command("HPEXPIRE", "h", 50, "GT", "FIELDS", 1, "c")  # not met
    m.execute_command("HPEXPIRE", "h", 50, "FIELDS", 1, "c")
    m.hincrbyfloat("h", "a", 2.5)
    m.hset("gone", mapping={"x": 1})
    m.execute_command("HPEXPIRE", "gone", 50, "FIELDS", 1, "x")
    time.sleep(0.15)
    # The replica does not expire by itself: it still stores the fields.
    assert rep.execute_command("HPEXPIRETIME", "h", "FIELDS", 1, "c")[0] == -2
    # The master's lazy expiry sends HDEL.
    assert m.hgetall("h") == {b"a": b"3.5", b"d": b"4"}
    m.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 1)
    wait_until(lambda: m.exists("gone") == 0, what="active expiry on the master")

    def same():
        off = m.info("replication")["master_repl_offset"]
        return rep.info("replication")["master_repl_offset"] >= off

    wait_until(same, what="replica offset")
    for k in ("pre", "h"):
        assert rep.hgetall(k) == m.hgetall(k)
        assert fields_ttls(rep, k) == fields_ttls(m, k)
    assert rep.exists("gone") == 0
    assert fields_ttls(rep, "h")[b"a"] > 0
    assert m.execute_command("DEBUG", "DIGEST") == rep.execute_command("DEBUG", "DIGEST")
