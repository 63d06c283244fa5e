"""Persistence odds and ends, each checked against redis-server 7.0 too:

- DEBUG LOADAOF: writes the AOF buffer out, empties the data set and loads it
  back from the AOF (so keys that never reached the AOF, like DEBUG
  POPULATE's, are gone); replies OK and restarts the dirty counter. Without
  any AOF file the process exits, as Redis's does.
- rdb-save-incremental-fsync / aof-rewrite-incremental-fsync: settable,
  and the files written with either setting load back. shoal's fdatasync
  every 4 MB while writing is counted with strace when it is installed.
- The save-point dirty counter (`rdb_changes_since_last_save`) counts
  changes as Redis does, not commands: SADD of 3 new members is 3, MSET of
  2 keys 2, a no-op 0, DEL of 2 existing keys 2, FLUSHALL the keys it
  removed (or 0 after the save it makes when save points are configured).
- rdb-key-save-delay paces a BGSAVE (microseconds per key) while the server
  keeps answering; FLUSHALL during a BGSAVE ends it without an error status
  and leaves no temp file, and with save points the empty data set it saves
  is not overwritten later by the abandoned snapshot.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import pytest
import redis

STRACE = shutil.which("strace")


def client(s):
    return redis.Redis(port=s.port, socket_timeout=60)


def changes(r):
    return r.info("persistence")["rdb_changes_since_last_save"]


def wait_until(cond, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


# ---------------------------------------------------------------------------
# DEBUG LOADAOF


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_debug_loadaof_reloads_from_the_aof(server_factory, kind):
    srv = server_factory.start(kind, "--appendonly", "yes", "--enable-debug-command", "yes",
                               "--appendfsync", "no")
    r = client(srv)
    # Not propagated, so never in the AOF: gone after the reload.
    r.execute_command("DEBUG", "POPULATE", "20", "pop")
    r.set("a", "1")
    r.rpush("l", "x", "y", "z")
    r.hset("h", mapping={"f": "v", "g": "w"})
    r.expire("a", 1000)
    assert r.dbsize() == 23
    assert changes(r) > 0
    assert r.execute_command("DEBUG", "LOADAOF") in (b"OK", "OK", True)
    assert r.dbsize() == 3
    assert r.get("a") == b"1" and 0 < r.ttl("a") <= 1000
    assert r.lrange("l", 0, -1) == [b"x", b"y", b"z"]
    assert r.hgetall("h") == {b"f": b"v", b"g": b"w"}
    assert changes(r) == 0
    # Writes go on into the same AOF, and a second reload keeps them.
    r.set("b", "2")
    assert r.execute_command("DEBUG", "LOADAOF") in (b"OK", "OK", True)
    assert sorted(r.keys()) == [b"a", b"b", b"h", b"l"]
    assert "Append Only File loaded by DEBUG LOADAOF" in srv.log()


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_debug_loadaof_without_an_aof_exits(server_factory, kind):
    srv = server_factory.start(kind, "--enable-debug-command", "yes")
    r = client(srv)
    r.set("a", "1")
    with pytest.raises(redis.ConnectionError):
        r.execute_command("DEBUG", "LOADAOF")
    assert wait_until(lambda: not srv.alive(), 10)


# ---------------------------------------------------------------------------
# Incremental fsync directives


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_incremental_fsync_directives(server_factory, kind):
    srv = server_factory.start(kind, "--rdb-save-incremental-fsync", "no",
                               "--aof-rewrite-incremental-fsync", "no", "--enable-debug-command", "yes")
    r = client(srv)
    assert r.config_get("rdb-save-incremental-fsync") == {"rdb-save-incremental-fsync": "no"}
    assert r.config_get("aof-rewrite-incremental-fsync") == {"aof-rewrite-incremental-fsync": "no"}
    r.execute_command("DEBUG", "POPULATE", "20000", "key", "300")
    for value in ("yes", "no", "yes"):
        r.config_set("rdb-save-incremental-fsync", value)
        r.config_set("aof-rewrite-incremental-fsync", value)
        assert r.config_get("*incremental-fsync") == {
            "rdb-save-incremental-fsync": value, "aof-rewrite-incremental-fsync": value}
        assert r.save()
        r.bgsave()
        assert wait_until(lambda: r.info("persistence")["rdb_bgsave_in_progress"] == 0)
        assert r.info("persistence")["rdb_last_bgsave_status"] == "ok"
        assert r.execute_command("DEBUG", "RELOAD") in (b"OK", "OK", True)
        assert r.dbsize() == 20000
    # An AOF turned on at run time is written by a rewrite (incremental fsync
    # on), and loads back.
    r.config_set("appendonly", "yes")
    assert wait_until(lambda: r.info("persistence")["aof_rewrite_in_progress"] == 0
                      and r.info("persistence")["aof_rewrite_scheduled"] == 0)
    assert r.info("persistence")["aof_last_bgrewrite_status"] == "ok"
    assert r.execute_command("DEBUG", "LOADAOF") in (b"OK", "OK", True)
    assert r.dbsize() == 20000
    with pytest.raises(redis.ResponseError):
        r.config_set("rdb-save-incremental-fsync", "maybe")


def strace_fsyncs(srv, action) -> int:
    """fdatasync calls the server's threads make while `action` runs."""
    log = srv.dir / "strace.log"
    tracer = subprocess.Popen(
        [STRACE, "-f", "-qq", "-e", "trace=fdatasync,fsync", "-o", str(log), "-p", str(srv.pid)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)  # attached to every thread
        action()
        time.sleep(0.3)
    finally:
        tracer.terminate()
        tracer.wait(10)
    return len(re.findall(r"fdatasync\(", log.read_text()))


@pytest.mark.skipif(STRACE is None, reason="strace is not installed")
def test_shoal_fsyncs_every_4mb_while_saving(server_factory):
    srv = server_factory.start("shoal", "--enable-debug-command", "yes",
                               "--rdbcompression", "no")
    r = client(srv)
    # ~24 MB of RDB: about 6 incremental fsyncs.
    r.execute_command("DEBUG", "POPULATE", "80000", "key", "300")
    r.config_set("rdb-save-incremental-fsync", "yes")
    try:
        on = strace_fsyncs(srv, r.save)
    except PermissionError:
        pytest.skip("cannot trace")
    r.config_set("rdb-save-incremental-fsync", "no")
    off = strace_fsyncs(srv, r.save)
    if on == 0 and off == 0:
        pytest.skip("strace saw nothing (ptrace not permitted here?)")
    assert off == 0
    assert 4 <= on <= 8

    def bgsave():
        r.bgsave()
        assert wait_until(lambda: r.info("persistence")["rdb_bgsave_in_progress"] == 0)
    r.config_set("rdb-save-incremental-fsync", "yes")
    assert 4 <= strace_fsyncs(srv, bgsave) <= 8


# ---------------------------------------------------------------------------
# The dirty counter

DIRTY_CMDS = [
    ["SET", "s", "v"], ["SET", "s", "v", "NX"], ["SET", "s", "w", "XX"], ["SET", "s", "x", "GET"],
    ["SET", "nosuch", "v", "XX"],
    ["SETNX", "s", "y"], ["SETNX", "s2", "y"], ["SETEX", "se", "100", "v"],
    ["PSETEX", "pse", "100000", "v"], ["GETSET", "s", "z"], ["GETDEL", "s2"], ["GETDEL", "nosuch"],
    ["GETEX", "s", "EX", "100"], ["GETEX", "s"], ["GETEX", "s", "PERSIST"], ["GETEX", "s", "PERSIST"],
    ["APPEND", "s", "a"], ["SETRANGE", "s", "1", "q"], ["SETRANGE", "s", "1", ""],
    ["MSET", "k1", "v1", "k2", "v2"], ["MSETNX", "k1", "a", "k3", "b"], ["MSETNX", "k4", "a", "k5", "b"],
    ["DEL", "k1", "k2", "nosuch"], ["UNLINK", "k4", "k5", "nosuch"], ["DEL", "nosuch"],
    ["INCR", "n"], ["INCRBY", "n", "5"], ["DECR", "n"], ["DECRBY", "n", "2"], ["INCRBYFLOAT", "n", "1.5"],
    ["INCR", "s"],  # an error: no change
    ["LPUSH", "l", "a", "b", "c"], ["RPUSH", "l", "d", "e"], ["LPUSHX", "l", "f"], ["LPUSHX", "nol", "f"],
    ["RPUSHX", "l", "g", "h"], ["LPOP", "l"], ["RPOP", "l"], ["LPOP", "l", "2"], ["RPOP", "l", "5"],
    ["LPOP", "l"], ["RPOP", "nol", "3"],
    ["SADD", "st", "a", "b", "c"], ["SADD", "st", "a", "d"], ["SADD", "st", "a"],
    ["SREM", "st", "a", "b", "zz"], ["SREM", "st", "zz"], ["SREM", "st", "c", "d"],
    ["HSET", "h", "f1", "v1", "f2", "v2"], ["HSET", "h", "f1", "v1", "f3", "v3"], ["HSETNX", "h", "f1", "x"],
    ["HSETNX", "h", "f9", "x"], ["HMSET", "h", "f1", "a", "f4", "b"], ["HDEL", "h", "f1", "f2", "nosuch"],
    ["HDEL", "h", "nosuch"], ["HINCRBY", "h", "c", "1"], ["HINCRBYFLOAT", "h", "c", "1.5"],
    ["ZADD", "z", "1", "a", "2", "b"], ["ZADD", "z", "1", "a", "3", "b", "4", "c"], ["ZADD", "z", "CH", "5", "a"],
    ["ZADD", "z", "NX", "9", "a"], ["ZADD", "z", "XX", "9", "nosuch"], ["ZADD", "noz", "XX", "1", "a"],
    ["ZADD", "z", "INCR", "1", "a"], ["ZREM", "z", "a", "nosuch"], ["ZREM", "z", "nosuch"], ["ZINCRBY", "z", "2", "b"],
    ["EXPIRE", "n", "100"], ["EXPIRE", "nosuch", "100"], ["PEXPIRE", "n", "100000"],
    ["EXPIREAT", "n", "9999999999"], ["PEXPIREAT", "n", "9999999999000"], ["EXPIRE", "n", "100", "NX"],
    ["PERSIST", "n"], ["PERSIST", "n"], ["EXPIRE", "h", "0"], ["EXPIRE", "nosuch", "0"],
    ["MULTI"], ["SADD", "tx", "1", "2"], ["DEL", "tx", "nosuch"], ["EXEC"],
    ["SET", "t1", "1"], ["SET", "t2", "1"], ["FLUSHDB"], ["SET", "t3", "1"], ["SET", "t4", "1"],
    ["FLUSHALL"], ["FLUSHALL"],
]


def test_dirty_counter_counts_changes_like_redis(server_factory):
    ref, srv = server_factory.pair()
    # A dedicated connection keeps MULTI state: use one client per server.
    want = deltas_on_one_connection(ref)
    got = deltas_on_one_connection(srv)
    assert got == want
    # A few fixed points, to be sure what is compared means something.
    d = dict(want)
    assert d["SADD st a b c"] == 3 and d["MSET k1 v1 k2 v2"] == 2 and d["DEL k1 k2 nosuch"] == 2
    assert d["SET s v NX"] == 0 and d["EXEC"] == 3


def deltas_on_one_connection(srv):
    r = redis.Redis(port=srv.port, socket_timeout=60, single_connection_client=True)
    out = []
    prev = changes(r)
    queued = False
    for cmd in DIRTY_CMDS:
        try:
            r.execute_command(*cmd)
        except redis.ResponseError:
            pass
        if cmd[0] == "MULTI":
            queued = True
        elif cmd[0] == "EXEC":
            queued = False
        if queued:
            out.append((" ".join(cmd), None))
            continue
        cur = changes(r)
        out.append((" ".join(cmd), cur - prev))
        prev = cur
    return out


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_flushall_with_save_points_saves(server_factory, kind):
    srv = server_factory.start(kind, "--save", "3600 1000")
    r = client(srv)
    r.mset({"a": 1, "b": 2, "c": 3})
    assert changes(r) == 3
    r.flushall()
    assert changes(r) == 0
    assert (srv.dir / "dump.rdb").exists()


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_save_point_fires_on_changes_not_commands(server_factory, kind):
    # `save 1 5`: one SADD of 5 new members is enough (5 changes) for a
    # background save within a couple of seconds.
    srv = server_factory.start(kind, "--save", "1 5")
    r = client(srv)
    before = r.info("persistence")["rdb_last_save_time"]
    time.sleep(1.1)
    r.sadd("s", "a", "b", "c", "d", "e")
    assert wait_until(lambda: r.info("persistence")["rdb_last_save_time"] > before
                      and r.info("persistence")["rdb_bgsave_in_progress"] == 0, 15)
    assert changes(r) == 0


# ---------------------------------------------------------------------------
# LFU counters of loaded keys

LFU = ("--maxmemory-policy", "allkeys-lfu")
KEYS = ["a", "l", "s", "h", "z"]


def write_one_of_each(r):
    r.set("a", "1")
    r.rpush("l", "x")
    r.sadd("s", "m")
    r.hset("h", "f", "v")
    r.zadd("z", {"m": 1})


def freqs(r):
    return [r.object("freq", k) for k in KEYS]


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_lfu_counter_of_new_and_rdb_loaded_keys(server_factory, kind):
    # Saved without an LFU policy (no FREQ opcodes), loaded under one: every
    # key starts at LFU_INIT_VAL, 5, as a new key does.
    srv = server_factory.start(kind)
    r = client(srv)
    write_one_of_each(r)
    assert r.save()
    srv.stop()
    srv.extra_args += list(LFU)
    srv.start()
    r = client(srv)
    assert freqs(r) == [5] * 5
    r.delete(*KEYS)
    write_one_of_each(r)
    assert freqs(r) == [5] * 5


@pytest.mark.parametrize("kind", ["redis", "shoal"])
@pytest.mark.parametrize("preamble", ["no", "yes"])
def test_lfu_counter_of_aof_loaded_keys(server_factory, kind, preamble):
    srv = server_factory.start(kind, "--appendonly", "yes", "--aof-use-rdb-preamble", preamble, *LFU)
    r = client(srv)
    write_one_of_each(r)
    if preamble == "yes":
        r.bgrewriteaof()
        assert wait_until(lambda: r.info("persistence")["aof_rewrite_in_progress"] == 0
                          and r.info("persistence")["aof_rewrite_scheduled"] == 0)
        r.set("b", "2")
    srv.stop()
    srv.start()
    r = client(srv)
    assert freqs(r) == [5] * 5
    if preamble == "yes":
        assert r.object("freq", "b") == 5


# ---------------------------------------------------------------------------
# rdb-key-save-delay, and FLUSHALL during a BGSAVE


def bgsave_running(r):
    return r.info("persistence")["rdb_bgsave_in_progress"] == 1


@pytest.mark.parametrize("kind", ["redis", "shoal"])
@pytest.mark.parametrize("save_points", [False, True])
def test_flushall_ends_a_running_bgsave(server_factory, kind, save_points):
    srv = server_factory.start(kind, "--enable-debug-command", "yes",
                               "--save", "3600 100000" if save_points else "")
    r = client(srv)
    r.execute_command("DEBUG", "POPULATE", "2000", "k")
    r.config_set("rdb-key-save-delay", "5000")  # 2,000 keys: about 10 s
    r.bgsave()
    assert wait_until(lambda: bgsave_running(r), 5)
    started = time.monotonic()
    time.sleep(0.3)
    assert bgsave_running(r), "a paced BGSAVE should still be running"
    assert r.ping()  # served while the save is paced
    r.flushall()
    assert time.monotonic() - started < 5
    assert wait_until(lambda: not bgsave_running(r), 5)
    info = r.info("persistence")
    assert info["rdb_last_bgsave_status"] == "ok"
    # The temp file goes away once the save has wound down (Redis removes
    # it when it reaps the killed child).
    assert wait_until(lambda: not list(srv.dir.glob("temp-*.rdb")), 5), "temp file left behind"
    r.config_set("rdb-key-save-delay", "0")
    if save_points:
        # FLUSHALL saved the empty data set; nothing overwrites it later.
        time.sleep(0.5)
        r.execute_command("DEBUG", "RELOAD", "NOSAVE")
        assert r.dbsize() == 0
    # A later BGSAVE works and covers what is there now.
    r.set("after", "1")
    r.bgsave()
    assert wait_until(lambda: not bgsave_running(r) and r.lastsave() is not None, 10)
    assert wait_until(lambda: r.info("persistence")["rdb_bgsave_in_progress"] == 0, 10)
    r.execute_command("DEBUG", "RELOAD", "NOSAVE")
    assert r.dbsize() == 1


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_bgsave_point_in_time_across_databases(server_factory, kind):
    """FLUSHDB, MOVE, COPY ... DB and SWAPDB during a (paced) BGSAVE: the file holds
    the data as it was when the save started, and the save keeps running
    (shoal's walk is not finished early by them)."""
    srv = server_factory.start(kind, "--enable-debug-command", "yes", "--save", "")
    r = client(srv)
    r.execute_command("DEBUG", "POPULATE", "500", "key")
    r1 = redis.Redis(port=srv.port, db=1, socket_timeout=60)
    r1.execute_command("DEBUG", "POPULATE", "300", "other")
    r.config_set("rdb-key-save-delay", "3000")  # 800 keys: about 2.4 s
    r.bgsave()
    assert wait_until(lambda: bgsave_running(r), 5)
    assert r.move("key:1", 2)
    assert r.copy("key:2", "copied", destination_db=3)
    r.set("fresh", "1")
    r1.flushdb()
    r1.set("post", "1")
    # db0's contents move to db5; changes on either side come after the save.
    r.swapdb(0, 5)
    r5 = redis.Redis(port=srv.port, db=5, socket_timeout=60)
    assert r5.delete("key:3") == 1
    r.set("swapped", "1")
    time.sleep(0.5)  # a walk finished early would be done by now
    assert bgsave_running(r), "the save should still be walking"
    assert wait_until(lambda: not bgsave_running(r), 20)
    assert r.info("persistence")["rdb_last_bgsave_status"] == "ok"
    r.config_set("rdb-key-save-delay", "0")
    r.execute_command("DEBUG", "RELOAD", "NOSAVE")
    keyspace = r.info("keyspace")
    assert keyspace["db0"]["keys"] == 500
    assert keyspace["db1"]["keys"] == 300
    assert "db2" not in keyspace and "db3" not in keyspace and "db5" not in keyspace
    assert r.exists("key:1") == 1 and r.exists("fresh") == 0
    assert r.exists("key:3") == 1 and r.exists("swapped") == 0
    assert r1.exists("post") == 0 and r1.exists("other:0") == 1
