"""Keyspace notifications end to end with redis-py: a cache invalidated
through keyspace events, as applications build it.  Every test runs against
redis-server too (parametrized), so the expectations are Redis 7.0.15's.
"""

from __future__ import annotations

import time

import pytest
import redis


def client(server, **kw) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=10, **kw)


class InvalidatedCache:
    """A read-through cache of whole values, invalidated by keyspace events
    (`__keyspace@0__:<key>`) on its own Pub/Sub connection."""

    def __init__(self, server, **kw):
        self.db = client(server, **kw)
        self.pubsub = self.db.pubsub()
        self.pubsub.psubscribe("__keyspace@0__:*")
        # the subscription confirmation
        assert self.pubsub.get_message(timeout=5)["type"] == "psubscribe"
        self.entries: dict[bytes, object] = {}
        self.loads = 0
        self.events: list[tuple[bytes, bytes]] = []

    def _load(self, key: bytes):
        self.loads += 1
        t = self.db.type(key)
        if t == b"string":
            return self.db.get(key)
        if t == b"hash":
            return self.db.hgetall(key)
        if t == b"list":
            return self.db.lrange(key, 0, -1)
        return None

    def get(self, key: str):
        k = key.encode()
        self.process()
        if k not in self.entries:
            self.entries[k] = self._load(k)
        return self.entries[k]

    def process(self, timeout: float = 0.0):
        """Applies the events that arrived (waiting up to `timeout` for one)."""
        while True:
            m = self.pubsub.get_message(timeout=timeout)
            if m is None:
                return
            timeout = 0.0
            if m["type"] != "pmessage":
                continue
            key = m["channel"].split(b"__:", 1)[1]
            self.events.append((key, m["data"]))
            self.entries.pop(key, None)

    def wait_for(self, key: str, event: str, timeout: float = 5.0):
        deadline = time.monotonic() + timeout
        while (key.encode(), event.encode()) not in self.events:
            left = deadline - time.monotonic()
            assert left > 0, f"no {event} event for {key}; got {self.events}"
            self.process(timeout=min(left, 0.2))

    def close(self):
        self.pubsub.close()
        self.db.close()


@pytest.fixture
def notifying(any_server):
    with client(any_server) as c:
        c.flushall()
        c.config_set("notify-keyspace-events", "KA")
    yield any_server
    with client(any_server) as c:
        c.config_set("notify-keyspace-events", "")
        c.config_set("maxmemory", 0)


def test_config_round_trip(notifying):
    with client(notifying) as c:
        assert c.config_get("notify-keyspace-events") == {"notify-keyspace-events": "AK"}
        c.config_set("notify-keyspace-events", "Eg$lshzxetmdn")
        assert c.config_get("notify-keyspace-events") == {"notify-keyspace-events": "AEm"}
        c.config_set("notify-keyspace-events", "Kx")
        assert c.config_get("notify-keyspace-events") == {"notify-keyspace-events": "xK"}
        with pytest.raises(redis.ResponseError, match="Invalid event class character"):
            c.config_set("notify-keyspace-events", "KQ")
        c.config_set("notify-keyspace-events", "")
        assert c.config_get("notify-keyspace-events") == {"notify-keyspace-events": ""}


def test_cache_invalidated_through_keyspace_events(notifying):
    cache = InvalidatedCache(notifying)
    writer = client(notifying)
    try:
        writer.set("user:1", "alice")
        writer.hset("profile:1", mapping={"name": "alice", "age": "30"})
        writer.rpush("feed:1", "a", "b")
        cache.wait_for("feed:1", "rpush")
        assert cache.get("user:1") == b"alice"
        assert cache.get("profile:1") == {b"name": b"alice", b"age": b"30"}
        assert cache.get("feed:1") == [b"a", b"b"]
        loads = cache.loads
        # Served from the cache while nothing changes.
        assert cache.get("user:1") == b"alice"
        assert cache.loads == loads

        # Writes by another client invalidate exactly the keys they touch.
        writer.set("user:1", "bob")
        writer.hincrby("profile:1", "age", 1)
        writer.lpop("feed:1")
        cache.wait_for("feed:1", "lpop")
        assert cache.get("user:1") == b"bob"
        assert cache.get("profile:1") == {b"name": b"alice", b"age": b"31"}
        assert cache.get("feed:1") == [b"b"]
        assert cache.loads == loads + 3

        # A list emptied by a pop is deleted: `del` follows the pop event.
        writer.lpop("feed:1")
        cache.wait_for("feed:1", "del")
        assert cache.get("feed:1") is None

        # Renames invalidate both names.
        writer.rename("user:1", "user:2")
        cache.wait_for("user:2", "rename_to")
        assert (b"user:1", b"rename_from") in cache.events
        assert cache.get("user:1") is None
        assert cache.get("user:2") == b"bob"

        # An expired key is dropped by the server's active expiry, without
        # anyone touching it.
        writer.set("session", "s1", px=100)
        cache.wait_for("session", "expire")
        assert cache.get("session") == b"s1"
        cache.wait_for("session", "expired", timeout=10)
        assert cache.get("session") is None
        assert writer.exists("session") == 0

        # A MULTI/EXEC and a script invalidate like single commands.
        pipe = writer.pipeline(transaction=True)
        pipe.set("user:2", "carol").delete("profile:1")
        pipe.execute()
        cache.wait_for("profile:1", "del")
        assert cache.get("user:2") == b"carol"
        assert cache.get("profile:1") is None
        writer.eval("return redis.call('append', KEYS[1], '!')", 1, "user:2")
        cache.wait_for("user:2", "append")
        assert cache.get("user:2") == b"carol!"

        # Eviction under maxmemory is an event too.
        writer.config_set("maxmemory-policy", "allkeys-random")
        writer.config_set("maxmemory", 1)
        cache.wait_for("user:2", "evicted")
        writer.config_set("maxmemory", 0)
        assert cache.get("user:2") is None
    finally:
        cache.close()
        writer.close()


def test_keyevent_channel_and_ordering(notifying):
    """Events of one command arrive in Redis's order on the keyevent channels."""
    with client(notifying) as c:
        c.config_set("notify-keyspace-events", "Egln")
        p = c.pubsub()
        p.psubscribe("__keyevent@0__:*")
        assert p.get_message(timeout=5)["type"] == "psubscribe"
        c.rpush("src", "x")
        c.lmove("src", "dst", "LEFT", "RIGHT")
        got = []
        while len(got) < 6:
            m = p.get_message(timeout=5)
            assert m is not None, got
            got.append((m["channel"].split(b"__:", 1)[1].decode(), m["data"].decode()))
        assert got == [
            ("new", "src"), ("rpush", "src"),
            ("new", "dst"), ("rpush", "dst"), ("lpop", "src"), ("del", "src"),
        ]
        assert p.get_message(timeout=0.2) is None
        p.close()


def test_resp3_client_gets_pushes(notifying):
    """A RESP3 connection can subscribe and keep running commands; its own
    events arrive as push messages."""
    with client(notifying) as c:
        c.config_set("notify-keyspace-events", "E$")
    seen = []
    r = client(notifying, protocol=3)
    try:
        p = r.pubsub(push_handler_func=None)
        p.psubscribe(**{"__keyevent@0__:*": lambda m: seen.append((m["channel"], m["data"]))})
        deadline = time.monotonic() + 5
        r.set("k", "v")
        r.incr("n")
        while len(seen) < 2 and time.monotonic() < deadline:
            p.get_message(timeout=0.2)
        assert seen == [(b"__keyevent@0__:set", b"k"), (b"__keyevent@0__:incrby", b"n")]
        p.close()
    finally:
        r.close()
