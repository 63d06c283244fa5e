"""Application patterns from the seeds, end to end with redis-py, on both
servers: a Redlock acquire/release across three independent servers (the
release script of seed 002), and a pub/sub fan-out to many subscribers.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis

# Redlock's release: delete the lock only if we still own it.
RELEASE = """
if redis.call("get", KEYS[1]) == ARGV[1] then
    return redis.call("del", KEYS[1])
else
    return 0
end
"""


class Redlock:
    """The Redlock algorithm over independent servers (majority quorum)."""

    def __init__(self, clients, ttl_ms=2000):
        self.clients = clients
        self.ttl_ms = ttl_ms
        self.quorum = len(clients) // 2 + 1
        self.release_scripts = [c.register_script(RELEASE) for c in clients]

    @staticmethod
    def _try(call):
        """A server that is down counts as a refusal."""
        try:
            return call()
        except redis.ConnectionError:
            return 0

    def acquire(self, resource):
        token = uuid.uuid4().hex
        start = time.monotonic()
        got = sum(1 for c in self.clients
                  if self._try(lambda c=c: c.set(resource, token, nx=True, px=self.ttl_ms)))
        elapsed_ms = (time.monotonic() - start) * 1000
        if got >= self.quorum and elapsed_ms < self.ttl_ms:
            return token
        self.release(resource, token)
        return None

    def release(self, resource, token):
        return sum(self._try(lambda s=s: s(keys=[resource], args=[token])) for s in self.release_scripts)


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_redlock_across_three_servers(server_factory, kind):
    servers = [server_factory.start(kind) for _ in range(3)]
    clients = [redis.Redis(host="127.0.0.1", port=s.port, socket_connect_timeout=0.5) for s in servers]
    lock = Redlock(clients)
    token = lock.acquire("resource:1")
    assert token
    # A second owner cannot get it while it is held...
    assert Redlock(clients).acquire("resource:1") is None
    # ...and a stranger's release (wrong token, via EVALSHA) deletes nothing.
    assert lock.release("resource:1", "not-the-owner") == 0
    assert all(c.get("resource:1") == token.encode() for c in clients)
    assert lock.release("resource:1", token) == 3
    assert all(c.get("resource:1") is None for c in clients)
    # The lock expires by itself if its owner dies.
    short = Redlock(clients, ttl_ms=100)
    assert short.acquire("resource:3")
    assert Redlock(clients).acquire("resource:3") is None
    time.sleep(0.3)
    assert Redlock(clients).acquire("resource:3")
    # With one server down the majority still decides (the client's own
    # reconnection attempts take time, hence the long validity).
    servers[0].stop()
    assert Redlock(clients, ttl_ms=30_000).acquire("resource:2")
    assert Redlock(clients, ttl_ms=30_000).acquire("resource:2") is None


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_pubsub_fan_out(server_factory, kind):
    srv = server_factory.start(kind)
    subscribers = 50
    messages = 200
    received = [[] for _ in range(subscribers)]
    ready = threading.Barrier(subscribers + 1)

    def listen(i):
        p = redis.Redis(port=srv.port).pubsub()
        p.subscribe("news")
        p.psubscribe("ne*")
        ready.wait(10)
        deadline = time.time() + 20
        while len(received[i]) < 2 * messages and time.time() < deadline:
            m = p.get_message(timeout=1)
            if m and m["type"] in ("message", "pmessage"):
                received[i].append((m["type"], m["data"]))
        p.close()

    threads = [threading.Thread(target=listen, args=(i,)) for i in range(subscribers)]
    for t in threads:
        t.start()
    ready.wait(10)
    pub = redis.Redis(port=srv.port)
    deadline = time.time() + 10
    while pub.pubsub_numsub("news")[0][1] < subscribers and time.time() < deadline:
        time.sleep(0.05)
    for n in range(messages):
        # Each message reaches every channel and pattern subscription.
        assert pub.publish("news", str(n)) == 2 * subscribers
    for t in threads:
        t.join(30)
    expected = [str(n).encode() for n in range(messages)]
    for got in received:
        assert [d for kind_, d in got if kind_ == "message"] == expected
        assert [d for kind_, d in got if kind_ == "pmessage"] == expected
