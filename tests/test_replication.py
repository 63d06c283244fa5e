"""Replication interop with Debian's redis-server 7.0.15, in both directions.

Each test builds a small topology of real processes (shoal and redis in every
master/replica combination), drives a burst of mixed writes (every type, TTLs,
scripts, several databases, MULTI/EXEC, commands whose effects differ from
their arguments), waits until the replica's offset reaches the master's, and
proves the data equal with DEBUG DIGEST (computed the same way by both).

Also covered: partial resynchronization after the link is killed
(sync_partial_ok grows), a promoted replica that lets its sibling continue
with a partial resync, chained replicas, READONLY replicas, WAIT, ROLE and
INFO replication fields.
"""

from __future__ import annotations

import time

import pytest
import redis

DEBUG = ("--enable-debug-command", "yes")
# Redis waits 5 seconds before a diskless sync by default; tests do not.
FAST_SYNC = ("--repl-diskless-sync-delay", "0")


def client(server, db=0):
    return redis.Redis(host="127.0.0.1", port=server.port, db=db, socket_timeout=20)


def replicate(replica, master):
    client(replica).execute_command("REPLICAOF", "127.0.0.1", master.port)


def wait_until(cond, timeout=20.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def info(server, section="replication"):
    return client(server).info(section)


def wait_link_up(replica):
    wait_until(lambda: info(replica).get("master_link_status") == "up", what="master link up")


def wait_in_sync(master, *replicas):
    """Until every replica applied everything the master produced."""
    def done():
        target = info(master)["master_repl_offset"]
        return all(info(r).get("master_link_status") == "up"
                   and info(r)["master_repl_offset"] >= target for r in replicas)
    wait_until(done, what="replica offsets to reach the master's")


def digest(server):
    return client(server).execute_command("DEBUG", "DIGEST")


def mixed_writes(server, rounds=1, tag="a"):
    """Every type, TTLs, several dbs, scripts, transactions and commands whose
    effects must be rewritten (SPOP, INCRBYFLOAT, EXPIRE, SET EX, XADD *)."""
    for db in (0, 3):
        r = client(server, db)
        p = r.pipeline(transaction=False)
        for i in range(rounds * 50):
            k = f"{tag}:{i}"
            p.set(f"s:{k}", i)
            p.append(f"s:{k}", "x")
            p.incrbyfloat(f"f:{k}", 1.1)
            p.rpush(f"l:{k}", *range(i % 7 + 1))
            p.lpop(f"l:{k}")
            p.hset(f"h:{k}", mapping={"a": i, "b": "two"})
            p.hincrbyfloat(f"h:{k}", "c", 0.5)
            p.sadd(f"set:{k}", *range(10))
            p.spop(f"set:{k}")
            p.spop(f"set:{k}", 2)
            p.zadd(f"z:{k}", {"m1": i, "m2": i * 2.5})
            p.zincrby(f"z:{k}", 1, "m1")
            p.set(f"ttl:{k}", "v", ex=1000)
            p.expire(f"s:{k}", 5000)
            p.pfadd(f"hll:{k}", *[f"e{j}" for j in range(i % 20)])
            p.xadd(f"x:{k}", {"f": i})
        p.execute()
        r.xgroup_create(f"x:{tag}:0", "g", id="0")
        r.xreadgroup("g", "c1", {f"x:{tag}:0": ">"})
        r.eval("redis.call('set', KEYS[1], ARGV[1]); return redis.call('incr', KEYS[2])",
               2, f"lua:{tag}", f"luacount:{tag}", "v")
        with r.pipeline(transaction=True) as t:
            t.set(f"tx:{tag}", 1)
            t.incr(f"tx:{tag}")
            t.lpush(f"txl:{tag}", "a", "b")
            t.execute()
        r.execute_command("SETEX", f"setex:{tag}", 100, "v")
        r.getex(f"s:{tag}:1", px=90000)
        r.delete(f"s:{tag}:2")
        r.rename(f"s:{tag}:3", f"renamed:{tag}")
        r.geoadd(f"geo:{tag}", (13.361389, 38.115556, "Palermo"))


@pytest.mark.parametrize("master_kind,replica_kind", [
    ("shoal", "redis"), ("redis", "shoal"), ("shoal", "shoal")])
def test_replica_equals_master(server_factory, master_kind, replica_kind):
    """Both directions and shoal-to-shoal."""
    master = server_factory.start(master_kind, *DEBUG, *FAST_SYNC)
    mixed_writes(master, tag="before")
    replica = server_factory.start(replica_kind, *DEBUG, *FAST_SYNC)
    replicate(replica, master)
    wait_link_up(replica)
    mixed_writes(master, tag="after")
    wait_in_sync(master, replica)
    assert digest(master) != b"0" * 40
    assert digest(replica) == digest(master)
    # A read-only replica refuses writes with Redis's error.
    with pytest.raises(redis.exceptions.ReadOnlyError, match="You can't write against a read only replica."):
        client(replica).set("k", "v")
    role = client(replica).execute_command("ROLE")
    assert role[0] in (b"slave", "slave") and role[3] in (b"connected", "connected")
    mrole = client(master).execute_command("ROLE")
    assert mrole[0] in (b"master", "master") and len(mrole[2]) == 1
    fields = info(master)
    assert fields["connected_slaves"] == 1
    assert fields["slave0"]["state"] == "online"


@pytest.mark.parametrize("master_kind,replica_kind", [("shoal", "redis"), ("redis", "shoal")])
def test_partial_resync_after_link_loss(server_factory, master_kind, replica_kind):
    master = server_factory.start(master_kind, *DEBUG, *FAST_SYNC)
    replica = server_factory.start(replica_kind, *DEBUG, *FAST_SYNC)
    replicate(replica, master)
    wait_link_up(replica)
    mixed_writes(master, tag="one")
    wait_in_sync(master, replica)
    # Continue in a database other than 0: the resumed stream must stay there.
    client(master, 3).set("where", "db3")
    wait_in_sync(master, replica)
    before = info(master, "stats")["sync_partial_ok"]
    client(replica).client_kill_filter(_type="master")
    # Writes while the link is down come from the backlog afterwards.
    client(master, 3).set("during", "gap")
    mixed_writes(master, tag="two")
    wait_until(lambda: info(master, "stats")["sync_partial_ok"] == before + 1,
               what="a partial resync")
    client(master, 3).set("after", "resync")
    wait_in_sync(master, replica)
    assert digest(replica) == digest(master)
    assert info(master, "stats")["sync_full"] == 1


@pytest.mark.parametrize("kinds", [("shoal", "shoal", "redis"), ("redis", "shoal", "redis"),
                                   ("shoal", "redis", "shoal")])
def test_promoted_replica_lets_sibling_continue(server_factory, kinds):
    master = server_factory.start(kinds[0], *DEBUG, *FAST_SYNC)
    first = server_factory.start(kinds[1], *DEBUG, *FAST_SYNC)
    sibling = server_factory.start(kinds[2], *DEBUG, *FAST_SYNC)
    for r in (first, sibling):
        replicate(r, master)
    mixed_writes(master, tag="x")
    wait_in_sync(master, first, sibling)
    master.stop()
    client(first).execute_command("REPLICAOF", "NO", "ONE")
    fields = info(first)
    assert fields["role"] == "master"
    assert fields["second_repl_offset"] > 0
    replicate(sibling, first)
    wait_link_up(sibling)
    client(first).set("new-master-write", 1)
    wait_in_sync(first, sibling)
    stats = info(first, "stats")
    assert stats["sync_partial_ok"] == 1 and stats["sync_full"] == 0
    assert digest(sibling) == digest(first)


@pytest.mark.parametrize("replica_kind", ["redis", "shoal"])
def test_disk_based_full_sync(server_factory, replica_kind):
    """repl-diskless-sync no: the snapshot goes through the RDB file."""
    master = server_factory.start("shoal", *DEBUG, "--repl-diskless-sync", "no")
    mixed_writes(master, tag="disk")
    replica = server_factory.start(replica_kind, *DEBUG)
    replicate(replica, master)
    wait_link_up(replica)
    client(master).set("after", 1)
    wait_in_sync(master, replica)
    assert digest(replica) == digest(master)
    assert (master.dir / "dump.rdb").exists()


def test_diskless_sync_waits_for_the_delay(server_factory):
    """Replicas arriving within repl-diskless-sync-delay share one snapshot."""
    master = server_factory.start("shoal", *DEBUG, "--repl-diskless-sync-delay", "1")
    mixed_writes(master, tag="delay")
    replicas = [server_factory.start(k, *DEBUG) for k in ("redis", "shoal")]
    for r in replicas:
        replicate(r, master)
    for r in replicas:
        wait_link_up(r)
    wait_in_sync(master, *replicas)
    assert all(digest(r) == digest(master) for r in replicas)
    assert info(master, "stats")["sync_full"] == 2
    assert not (master.dir / "dump.rdb").exists()


def test_chained_replicas(server_factory):
    master = server_factory.start("redis", *DEBUG, *FAST_SYNC)
    middle = server_factory.start("shoal", *DEBUG, *FAST_SYNC)
    leaf = server_factory.start("redis", *DEBUG, *FAST_SYNC)
    replicate(middle, master)
    wait_link_up(middle)
    replicate(leaf, middle)
    wait_link_up(leaf)
    mixed_writes(master, tag="chain")
    wait_in_sync(master, middle)
    wait_in_sync(middle, leaf)
    assert digest(leaf) == digest(middle) == digest(master)
    # The middle node passes the master's stream on unchanged: same offsets.
    assert info(leaf)["master_repl_offset"] == info(master)["master_repl_offset"]


def test_wait_counts_acknowledging_replicas(server_factory):
    master = server_factory.start("shoal", *DEBUG)
    assert client(master).execute_command("WAIT", 0, 0) == 0
    start = time.time()
    assert client(master).execute_command("WAIT", 1, 200) == 0
    assert time.time() - start >= 0.19
    replicas = [server_factory.start(k, *DEBUG) for k in ("redis", "shoal")]
    for r in replicas:
        replicate(r, master)
        wait_link_up(r)
    client(master).set("k", "v")
    assert client(master).execute_command("WAIT", 2, 5000) == 2


def test_expiry_reaches_replica_as_del(server_factory):
    master = server_factory.start("shoal", *DEBUG)
    replica = server_factory.start("redis", *DEBUG, *FAST_SYNC)
    replicate(replica, master)
    wait_link_up(replica)
    client(master).set("short", "v", px=100)
    wait_in_sync(master, replica)
    time.sleep(0.3)
    assert client(master).get("short") is None  # lazy expiry on the master...
    wait_in_sync(master, replica)
    # ...propagates as DEL, so the replica really lost the key.
    assert client(replica).execute_command("DEBUG", "DIGEST") == b"0" * 40


def test_replica_does_not_expire_on_its_own(server_factory):
    master = server_factory.start("redis", *DEBUG)
    replica = server_factory.start("shoal", *DEBUG)
    client(master).execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
    replicate(replica, master)
    wait_link_up(replica)
    client(master).set("short", "v", px=100)
    wait_in_sync(master, replica)
    time.sleep(0.5)
    # Logically expired: reads miss, but the key stays until the master's DEL.
    assert client(replica).get("short") is None
    assert client(replica).dbsize() == 1
    client(master).get("short")  # the master expires it now and sends DEL
    wait_until(lambda: client(replica).dbsize() == 0, what="the master's DEL")


def test_old_sync_command_gets_the_rdb(server_factory):
    """SYNC (pre-PSYNC replicas): the payload without a +FULLRESYNC line."""
    import socket
    master = server_factory.start("shoal", "--repl-diskless-sync", "no")
    client(master).set("k", "v")
    s = socket.create_connection(("127.0.0.1", master.port), timeout=10)
    s.sendall(b"SYNC\r\n")
    data = b""
    while b"REDIS0010" not in data or not data.rstrip(b"\n").startswith(b"$"):
        chunk = s.recv(65536)
        assert chunk, data
        data += chunk
        data = data.lstrip(b"\n")  # keepalive newlines while the snapshot runs
    header, _, rest = data.partition(b"\r\n")
    assert header.startswith(b"$") and rest.startswith(b"REDIS0010")
    s.close()


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_stale_replica_answers_masterdown(server_factory, kind):
    replica = server_factory.start(kind, "--replica-serve-stale-data", "no")
    # A master that does not exist: the link never comes up.
    client(replica).execute_command("REPLICAOF", "127.0.0.1", 1)
    with pytest.raises(redis.ResponseError, match="Link with MASTER is down and replica-serve-stale-data is set to .no.."):
        client(replica).get("k")
    assert client(replica).info("server")  # commands flagged stale still run
    assert info(replica)["master_link_status"] == "down"


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_min_replicas_to_write(server_factory, kind):
    master = server_factory.start(kind, "--min-replicas-to-write", "1")
    with pytest.raises(redis.ResponseError, match="NOREPLICAS Not enough good replicas to write."):
        client(master).set("k", "v")
    replica = server_factory.start("shoal", *FAST_SYNC)
    replicate(replica, master)
    wait_link_up(replica)
    wait_until(lambda: info(master).get("min_slaves_good_slaves") == 1, what="a good replica")
    assert client(master).set("k", "v")


@pytest.mark.parametrize("master_kind,replica_kind", [("shoal", "redis"), ("redis", "shoal")])
def test_masterauth(server_factory, master_kind, replica_kind):
    master = server_factory.start(master_kind, "--requirepass", "s3cret")
    replica = server_factory.start(replica_kind, "--masterauth", "s3cret", *FAST_SYNC)
    redis.Redis(port=master.port, password="s3cret").set("k", "v")
    replicate(replica, master)
    wait_link_up(replica)
    wait_until(lambda: client(replica).get("k") == b"v", what="the key on the replica")


@pytest.mark.parametrize("replica_kind", ["redis", "shoal"])
def test_diskless_sync_longer_than_a_second(server_factory, replica_kind):
    """The payload streams across several cron ticks: nothing (such as the
    keepalive newlines for waiting replicas) may be mixed into it."""
    master = server_factory.start("shoal", *DEBUG, *FAST_SYNC)
    client(master).execute_command("DEBUG", "POPULATE", 1_500_000, "key", 32)
    replica = server_factory.start(replica_kind, *DEBUG)
    replicate(replica, master)
    wait_link_up(replica)
    wait_in_sync(master, replica)
    assert client(replica).dbsize() == 1_500_000
    assert digest(replica) == digest(master)
