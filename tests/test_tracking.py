"""Client-side caching (CLIENT TRACKING) beyond the differential case files
(tests/diff/cases/tracking*.txt): what depends on Redis's random choices or
on INFO values, and a real client's cache (redis-py).  Every test runs
against redis-server too, so the expectations are Redis 7.0.15's.
"""

from __future__ import annotations

import re
import time

import pytest
import redis

import resp

OK = resp.Reply(resp.SIMPLE, b"OK")


def info_field(conn, section: str, name: str) -> int:
    r = call(conn, "INFO", section)
    text = r.value[1] if r.kind == resp.VERBATIM else r.value
    m = re.search(rb"^" + name.encode() + rb":(\d+)\r$", text, re.M)
    assert m, f"{name} missing from INFO {section}"
    return int(m.group(1))


def pushes_until(conn, reply_kind: str, timeout=5.0) -> tuple[list, resp.Reply]:
    """Reads pushes until a reply that is not a push; returns both."""
    pushes = []
    while True:
        r = conn.read_reply(timeout)
        if r.kind != resp.PUSH:
            assert r.kind == reply_kind, r
            return pushes, r
        pushes.append(r)


def call(conn, *args) -> resp.Reply:
    """A command's reply, skipping invalidation pushes queued before it."""
    conn.send(*args)
    while True:
        r = conn.read_reply(5)
        if r.kind != resp.PUSH:
            return r


def invalidated_keys(pushes) -> list:
    keys = []
    for p in pushes:
        assert p.value[0].value == b"invalidate", p
        keys += [k.value for k in p.value[1].value]
    return keys


@pytest.fixture
def flushed(any_server):
    with any_server.conn() as c:
        assert c.call("FLUSHALL") == OK
        assert c.call("CONFIG", "SET", "tracking-table-max-keys", "1000000") == OK
    return any_server


def test_info_counts_keys_items_prefixes_and_clients(flushed):
    with flushed.conn() as a, flushed.conn() as b, flushed.conn() as c:
        for x in (a, b, c):
            x.call("HELLO", "3")
        assert call(a, "CLIENT", "TRACKING", "ON") == OK
        assert call(b, "CLIENT", "TRACKING", "ON") == OK
        assert call(c, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "x", "PREFIX", "y") == OK
        call(a, "MGET", "k1", "k2", "k3")
        call(b, "MGET", "k2", "k3", "k4", "k4")
        assert info_field(a, "clients", "tracking_clients") == 3
        assert info_field(a, "stats", "tracking_total_keys") == 4
        assert info_field(a, "stats", "tracking_total_items") == 6
        assert info_field(a, "stats", "tracking_total_prefixes") == 2
        # a write forgets the key for everyone
        call(c, "SET", "k2", "v")
        assert info_field(c, "stats", "tracking_total_keys") == 3
        assert info_field(c, "stats", "tracking_total_items") == 4
        # turning tracking off keeps the client's entries until the keys change
        assert call(b, "CLIENT", "TRACKING", "OFF") == OK
        assert info_field(c, "clients", "tracking_clients") == 2
        assert info_field(c, "stats", "tracking_total_items") == 4
        assert call(c, "CLIENT", "TRACKING", "OFF") == OK
        assert info_field(a, "stats", "tracking_total_prefixes") == 0
        assert call(c, "FLUSHALL") == OK
        assert info_field(c, "stats", "tracking_total_keys") == 0
        assert info_field(c, "stats", "tracking_total_items") == 0


def test_table_limit_evicts_with_invalidations(flushed):
    """tracking-table-max-keys: over the limit, keys are invalidated (which
    ones is Redis's random pick) until the table fits again; Redis checks
    before the next command."""
    with flushed.conn() as a:
        a.call("HELLO", "3")
        assert a.call("CONFIG", "SET", "tracking-table-max-keys", "2") == OK
        assert a.call("CLIENT", "TRACKING", "ON") == OK
        a.send("MGET", "a", "b", "c", "d", "e")
        a.send("PING")
        r = a.read_reply(5)
        assert r.kind == resp.ARRAY and len(r.value) == 5
        pushes, pong = pushes_until(a, resp.SIMPLE)
        assert pong.value == b"PONG"
        keys = invalidated_keys(pushes)
        assert len(keys) == 3 and len(set(keys)) == 3
        assert set(keys) <= {b"a", b"b", b"c", b"d", b"e"}
        assert info_field(a, "stats", "tracking_total_keys") == 2
        assert a.call("CONFIG", "SET", "tracking-table-max-keys", "1000000") == OK


def test_table_limit_keeps_the_rest_tracked(flushed):
    with flushed.conn() as a, flushed.conn() as w:
        a.call("HELLO", "3")
        w.call("MSET", "a", "1", "b", "2", "c", "3")
        assert a.call("CONFIG", "SET", "tracking-table-max-keys", "1") == OK
        assert a.call("CLIENT", "TRACKING", "ON") == OK
        assert a.call("MGET", "a", "b", "c").kind == resp.ARRAY
        a.send("PING")
        pushes, _ = pushes_until(a, resp.SIMPLE)
        evicted = invalidated_keys(pushes)
        assert len(evicted) == 2
        (kept,) = {b"a", b"b", b"c"} - set(evicted)
        assert w.call("SET", kept, "new") == OK
        a.send("PING")
        pushes, _ = pushes_until(a, resp.SIMPLE)
        assert invalidated_keys(pushes) == [kept]
        assert a.call("CONFIG", "SET", "tracking-table-max-keys", "1000000") == OK


def test_maxmemory_eviction_invalidates(kind, server_factory):
    s = server_factory.start(kind, "--maxmemory-policy", "allkeys-random")
    with s.conn() as a, s.conn() as w:
        a.call("HELLO", "3")
        assert a.call("CLIENT", "TRACKING", "ON") == OK
        w.call("SET", "victim", "x" * 1000)
        assert a.call("GET", "victim").kind == resp.BULK
        assert w.call("CONFIG", "SET", "maxmemory", "1") == OK
        # any command makes the server evict; the key is invalidated
        w.call("PING")
        a.send("PING")
        pushes, pong = pushes_until(a, resp.SIMPLE)
        assert invalidated_keys(pushes) == [b"victim"]
        assert w.call("CONFIG", "SET", "maxmemory", "0") == OK


def test_bcast_batches_one_turn_per_message(flushed):
    """Keys changed in one event-loop turn (a pipeline) arrive as one
    message, sorted."""
    with flushed.conn() as a, flushed.conn() as w:
        a.call("HELLO", "3")
        assert a.call("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:") == OK
        w.pipeline([("SET", "user:2", "x"), ("SET", "other", "y"), ("SET", "user:1", "z"),
                    ("DEL", "user:2")])
        r = a.read_reply(5)
        assert r.kind == resp.PUSH
        assert invalidated_keys([r]) == [b"user:1", b"user:2"]


def test_redis_py_client_side_cache(any_server, monkeypatch):
    """redis-py's client-side caching (RESP3, default tracking mode) sees
    other clients' writes.  redis-py 8 only enables its cache for servers
    that report 7.4 or later (a support policy: the tracking protocol it uses
    is Redis 6's), so the test lowers that bar for 7.0.15 and shoal alike."""
    from redis.cache import CacheConfig
    from redis.connection import CacheProxyConnection

    monkeypatch.setattr(CacheProxyConnection, "MIN_ALLOWED_VERSION", "7.0.0")

    cached = redis.Redis(host="127.0.0.1", port=any_server.port, protocol=3,
                         cache_config=CacheConfig())
    other = redis.Redis(host="127.0.0.1", port=any_server.port)
    try:
        other.flushall()
        other.set("foo", "bar")
        assert cached.get("foo") == b"bar"
        assert cached.get("foo") == b"bar"           # from the local cache
        cache = cached.get_cache()
        assert cache is not None and cache.size >= 1
        other.set("foo", "baz")
        deadline = time.time() + 5
        value = cached.get("foo")
        while value != b"baz" and time.time() < deadline:
            time.sleep(0.02)
            value = cached.get("foo")
        assert value == b"baz"
        other.delete("foo")
        deadline = time.time() + 5
        value = cached.get("foo")
        while value is not None and time.time() < deadline:
            time.sleep(0.02)
            value = cached.get("foo")
        assert value is None
        # a flush empties the local cache
        other.set("k1", "1")
        assert cached.get("k1") == b"1"
        other.flushall()
        deadline = time.time() + 5
        value = cached.get("k1")
        while value is not None and time.time() < deadline:
            time.sleep(0.02)
            value = cached.get("k1")
        assert value is None
    finally:
        cached.close()
        other.close()
