"""The append-only file: Redis 7.0's multi-part AOF, both ways.

- shoal writes an AOF directory (base + incr tails, every type, TTLs, several
  databases, rewrites, RDB and command bases) that `redis-check-aof` accepts
  and redis-server loads with the same data; shoal loads the directories
  redis-server writes; many automatic rewrites under a 20-client write load
  lose nothing.
- Crash: `kill -9` during a write load loses no acknowledged write with
  `appendfsync always`, nor with `everysec` (replies wait for the write(2), so
  only a machine crash could lose the last second).
- Start-up with a torn last command (cut off with Redis's warning, or refused
  with aof-load-truncated no), corruption in the middle and bad manifests
  (start-up stops, naming the file; shoal also gives the offset). The
  expectations are checked against redis-server too.
- BGREWRITEAOF and BGSAVE scheduling each other, automatic rewrites, CONFIG SET
  appendonly, manifest sequence numbers, write errors (MISCONF), timestamps,
  INFO field names, the upgrade of an old single-file appendonly.aof, and a
  replica restarting its AOF after a full sync."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import redis

import servers

CHECK_AOF = shutil.which("redis-check-aof")
AOF_ON = ("--appendonly", "yes")
MANIFEST = "appendonly.aof.manifest"


def client(s, db=0):
    return redis.Redis(host="127.0.0.1", port=s.port, db=db, socket_timeout=10)


def raw(s, *commands):
    """Replies' text, exactly as sent (one pipeline: the server runs them back to back)."""
    with s.conn() as k:
        return [r.text() for r in k.pipeline(commands)]


def info(s, section="persistence"):
    return client(s).info(section)


def wait_rewrite_done(s, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        i = info(s)
        if not i["aof_rewrite_in_progress"] and not i["aof_rewrite_scheduled"]:
            return i
        time.sleep(0.02)
    raise AssertionError("AOF rewrite did not finish")


def aof_dir(s) -> Path:
    return s.dir / "appendonlydir"


def manifest(s) -> list[str]:
    return (aof_dir(s) / MANIFEST).read_text().splitlines()


def last_incr(s) -> Path:
    lines = [ln.split() for ln in manifest(s)]
    incrs = [ln[1] for ln in lines if ln[-1] == "i"]
    return aof_dir(s) / incrs[-1]


def restart(s, *extra):
    """Stops (SIGTERM) and starts the server again in the same directory."""
    s.stop()
    if extra:
        s.extra_args = list(s.extra_args) + list(extra)
    s.start()


def new_server(factory, kind, *args, files_from: Path | None = None):
    """A server object whose directory may be seeded before it starts."""
    s = servers.Server(kind, args)
    factory.started.append(s)
    if files_from is not None:
        shutil.copytree(files_from, s.dir / "appendonlydir")
    return s


# ---------------------------------------------------------------- data


def populate(s):
    for db in (0, 1, 5):
        c = client(s, db)
        c.set("str", "v" * 10)
        c.set("int", 12345)
        c.set("big", "x" * 5000)
        c.set("ttl", "t", px=600_000)
        c.rpush("list", *[str(i) for i in range(300)])
        c.rpush("small", "a", "b", "c")
        c.sadd("intset", *range(20))
        c.sadd("set", *[f"m{i}" for i in range(300)])
        c.zadd("zs", {"a": 1.5, "b": 2, "c": -3.25})
        c.zadd("bigzs", {f"m{i}": i / 3 for i in range(300)})
        c.hset("h", mapping={"f1": "v1", "f2": "2"})
        c.hset("bigh", mapping={f"f{i}": "v" * i for i in range(200)})
        c.expire("h", 1000)
        c.xadd("st", {"a": "1"}, id="1-1")
        c.xadd("st", {"b": "2"}, id="2-1")
        c.xgroup_create("st", "g1", id="0")
        c.xreadgroup("g1", "alice", {"st": ">"}, count=1)
        c.pfadd("hll", "a", "b", "c")
        c.setbit("bits", 100, 1)
        c.set(f"only{db}", db)


def tail_writes(s):
    for db in (0, 5):
        c = client(s, db)
        c.incr("int")
        c.incrbyfloat("float", 1.5)
        c.lpush("list", "new")
        c.rpop("small")
        c.delete("str")
        c.srem("set", "m1")
        c.spop("intset")
        c.zincrby("zs", 2, "a")
        c.hdel("bigh", "f3")
        c.hincrby("h", "f2", 5)
        c.xack("st", "g1", "1-1")
        c.xadd("st", {"c": "3"}, id="3-1")
        c.set("volatile", "x", ex=1000)
        c.expire("big", 5000)
        c.persist("ttl")
        p = c.pipeline(transaction=True)
        p.incr("cnt").incr("cnt").sadd("set", "added")
        p.execute()
        c.setrange("str2", 3, "abc")
        c.append("str2", "zz")
        c.lset("list", 5, "changed")
        c.linsert("list", "BEFORE", "changed", "ins")


def dataset(s):
    """Every key of every database, as comparable values."""
    out = {}
    for db in range(16):
        c = client(s, db)
        for k in sorted(c.scan_iter(count=1000)):
            t = c.type(k).decode()
            if t == "string":
                v = c.get(k)
            elif t == "list":
                v = c.lrange(k, 0, -1)
            elif t == "set":
                v = sorted(c.smembers(k))
            elif t == "zset":
                v = c.zrange(k, 0, -1, withscores=True)
            elif t == "hash":
                v = sorted(c.hgetall(k).items())
            elif t == "stream":
                xs = c.xinfo_stream(k)
                v = (c.xrange(k),
                     [xs.get(f) for f in ("last-generated-id", "entries-added", "max-deleted-entry-id")],
                     # entries-read/lag: Redis itself does not keep them across
                     # an AOF tail (XCLAIM ... LASTID carries no read counter).
                     [sorted((f, x) for f, x in g.items() if f not in ("entries-read", "lag"))
                      for g in c.xinfo_groups(k)],
                     [sorted((f, x) for f, x in p.items() if f != "time_since_delivered")
                      for p in c.xpending_range(k, "g1", "-", "+", 100)]
                     if c.xinfo_groups(k) else None)
            else:
                v = None
            exp = c.execute_command("PEXPIRETIME", k)
            out[(db, k)] = (t, v, exp)
    return out


# ---------------------------------------------------------------- cross-compat


@pytest.mark.skipif(CHECK_AOF is None, reason="needs redis-check-aof")
@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_shoal_aof_loads_in_redis(server_factory, preamble):
    s = server_factory.start("shoal", *AOF_ON, "--aof-use-rdb-preamble", preamble)
    populate(s)
    assert raw(s, ["BGREWRITEAOF"]) == ["Background append only file rewriting started"]
    wait_rewrite_done(s)
    tail_writes(s)
    want = dataset(s)
    assert len(want) > 40
    s.stop()
    names = manifest(s)
    assert names[0].endswith("type b") and names[-1].endswith("type i"), names
    assert (".2.base.rdb" if preamble == "yes" else ".2.base.aof") in names[0]
    check = subprocess.run([CHECK_AOF, str(aof_dir(s) / MANIFEST)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "is valid" in check.stdout
    r = new_server(server_factory, "redis", *AOF_ON, files_from=aof_dir(s))
    r.start()
    assert dataset(r) == want


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_redis_aof_loads_in_shoal(server_factory, preamble):
    r = server_factory.start("redis", *AOF_ON, "--aof-use-rdb-preamble", preamble)
    populate(r)
    client(r).bgrewriteaof()
    wait_rewrite_done(r)
    tail_writes(r)
    want = dataset(r)
    r.stop()
    s = new_server(server_factory, "shoal", *AOF_ON, files_from=aof_dir(r))
    s.start()
    assert dataset(s) == want
    # shoal appends to Redis's last incr file; Redis loads the result again.
    client(s, 5).set("after", "shoal")
    want = dataset(s)
    s.stop()
    r2 = new_server(server_factory, "redis", *AOF_ON, files_from=aof_dir(s))
    r2.start()
    assert dataset(r2) == want


def test_restart_keeps_data_without_rewrite(server_factory):
    s = server_factory.start("shoal", *AOF_ON)
    populate(s)
    tail_writes(s)
    want = dataset(s)
    restart(s)
    assert dataset(s) == want
    assert info(s)["aof_enabled"] == 1


# ---------------------------------------------------------------- crash


def write_load(s, stop_after: float):
    """INCRs from a thread; returns (thread, state) where state['acked'] counts replies."""
    state = {"acked": 0, "error": None}

    def run():
        # No retries: a command is counted only once its reply arrived.
        from redis.backoff import NoBackoff
        from redis.retry import Retry
        c = redis.Redis(host="127.0.0.1", port=s.port, socket_timeout=10, retry=Retry(NoBackoff(), 0))
        deadline = time.time() + stop_after
        try:
            while time.time() < deadline:
                c.incr("counter")
                state["acked"] += 1
        except (redis.ConnectionError, redis.TimeoutError, ConnectionResetError) as e:
            state["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, state


@pytest.mark.parametrize("fsync", ["always", "everysec"])
def test_kill9_loses_no_acknowledged_write(server_factory, fsync):
    s = server_factory.start("shoal", *AOF_ON, "--appendfsync", fsync)
    t, state = write_load(s, stop_after=5.0)
    time.sleep(1.0)
    os.kill(s.pid, signal.SIGKILL)
    t.join(10)
    s.stop()
    acked = state["acked"]
    assert acked > 50, state
    s.start()
    got = int(client(s).get("counter") or 0)
    # The one command in flight when the process died may or may not be in.
    assert acked <= got <= acked + 1, (acked, got)


def test_everysec_fsyncs_in_background(server_factory):
    s = server_factory.start("shoal", *AOF_ON, "--appendfsync", "everysec")
    c = client(s)
    for i in range(200):
        c.set(f"k{i}", i)
    time.sleep(1.3)
    i = info(s)
    assert i["aof_pending_bio_fsync"] == 0
    assert i["aof_last_write_status"] == "ok"
    assert last_incr(s).stat().st_size > 200 * 20


# ---------------------------------------------------------------- damaged files


def refuses_to_start(s):
    """The server exits with an error (Redis may answer LOADING first: wait for the exit)."""
    try:
        s.start()
    except servers.ServerStartError:
        pass
    assert s.proc.wait(10) != 0


def seed_incr(server_factory, kind, n=10):
    s = server_factory.start(kind, *AOF_ON)
    c = client(s)
    for i in range(n):
        c.set(f"k{i}", f"v{i}")
    s.stop()
    return s


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_truncated_tail_is_cut_with_warning(server_factory, kind):
    s = seed_incr(server_factory, kind)
    f = last_incr(s)
    size = f.stat().st_size
    with open(f, "r+b") as fh:
        fh.truncate(size - 3)
    s.start()
    assert client(s).dbsize() == 9
    log = s.log()
    assert f"!!! Warning: short read while loading the AOF file {f.name}!!!" in log
    assert f"AOF {f.name} loaded anyway because aof-load-truncated is enabled" in log
    # The torn command is gone from the file, and writes go on after it.
    assert f.stat().st_size < size - 3
    client(s).set("after", "1")
    restart(s)
    assert client(s).dbsize() == 10


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_truncated_tail_refused_when_configured(server_factory, kind):
    s = seed_incr(server_factory, kind)
    f = last_incr(s)
    with open(f, "r+b") as fh:
        fh.truncate(f.stat().st_size - 3)
    s.extra_args += ["--aof-load-truncated", "no"]
    refuses_to_start(s)
    assert f"Unexpected end of file reading the append only file {f.name}" in s.log()


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_incomplete_transaction_is_reverted(server_factory, kind):
    s = server_factory.start(kind, *AOF_ON)
    c = client(s)
    c.set("a", "1")
    c.pipeline(transaction=True).incr("x").incr("y").execute()
    s.stop()
    f = last_incr(s)
    data = f.read_bytes()
    f.write_bytes(data[:data.rindex(b"*1\r\n$4\r\nEXEC")])
    s.start()
    c = client(s)
    assert (c.get("a"), c.get("x"), c.get("y")) == (b"1", None, None)
    assert f"Revert incomplete MULTI/EXEC transaction in AOF file {f.name}" in s.log()


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_corruption_in_the_middle_stops_startup(server_factory, kind):
    s = seed_incr(server_factory, kind)
    f = last_incr(s)
    data = bytearray(f.read_bytes())
    at = data.index(b"k4") - 4  # the '$' before the key
    assert data[at:at + 1] == b"$"
    data[at] = ord("x")
    f.write_bytes(bytes(data))
    refuses_to_start(s)
    log = s.log()
    assert f"Bad file format reading the append only file {f.name}" in log
    if kind == "shoal":
        assert "offset" in log.split("Bad file format")[1]


@pytest.mark.parametrize("kind", ["redis", "shoal"])
@pytest.mark.parametrize("text,error", [
    ("", "Found an empty AOF manifest"),
    ("file a seq 1\n", "Invalid AOF manifest file format"),
    ("file a.base seq 1 type b\n", "Unable to obtain the AOF file a.base length. stat: No such file or directory"),
])
def test_bad_manifest_stops_startup(server_factory, kind, text, error):
    s = servers.Server(kind, AOF_ON)
    server_factory.started.append(s)
    (s.dir / "appendonlydir").mkdir()
    (s.dir / "appendonlydir" / MANIFEST).write_text(text)
    refuses_to_start(s)
    assert error in s.log()


# ---------------------------------------------------------------- rewrite


def test_bgrewriteaof_replaces_base_and_drops_history(server_factory):
    s = server_factory.start("shoal", *AOF_ON)
    c = client(s)
    for i in range(1000):
        c.set(f"k{i}", i)
    before = manifest(s)
    assert before == ["file appendonly.aof.1.base.rdb seq 1 type b",
                      "file appendonly.aof.1.incr.aof seq 1 type i"]
    assert raw(s, ["BGREWRITEAOF"]) == ["Background append only file rewriting started"]
    i = wait_rewrite_done(s)
    assert manifest(s) == ["file appendonly.aof.2.base.rdb seq 2 type b",
                           "file appendonly.aof.2.incr.aof seq 2 type i"]
    assert sorted(p.name for p in aof_dir(s).iterdir()) == [
        "appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof", MANIFEST]
    assert i["aof_rewrites"] == 1 and i["aof_last_bgrewrite_status"] == "ok"
    assert i["aof_base_size"] == i["aof_current_size"] > 1000
    c.set("tail", "1")
    restart(s)
    assert client(s).dbsize() == 1001


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_rewrite_during_writes_keeps_point_in_time(server_factory, preamble):
    s = server_factory.start("shoal", *AOF_ON, "--aof-use-rdb-preamble", preamble)
    c = client(s)
    p = c.pipeline(transaction=False)
    for i in range(20000):
        p.set(f"key:{i}", "x" * 50)
    p.execute()
    c.execute_command("BGREWRITEAOF")
    # Writes racing with the rewrite land in the new incr file exactly once.
    for i in range(300):
        c.incr("counter")
        c.append(f"key:{i * 37}", "y")
    wait_rewrite_done(s)
    want = {k: c.get(k) for k in ("counter", "key:0", "key:37", "key:11063")}
    restart(s)
    c = client(s)
    assert {k: c.get(k) for k in want} == want
    assert c.dbsize() == 20001


def test_bgrewriteaof_and_bgsave_schedule_each_other(server_factory):
    s = server_factory.start("shoal", *AOF_ON)
    c = client(s)
    p = c.pipeline(transaction=False)
    for i in range(20000):
        p.set(f"key:{i}", "x" * 100)
    p.execute()
    # One pipeline: the server runs these back to back, while the rewrite runs.
    got = raw(s, ["BGREWRITEAOF"], ["BGREWRITEAOF"], ["BGSAVE"], ["BGSAVE", "SCHEDULE"])
    assert got[0] == "Background append only file rewriting started"
    assert got[1] == "ERR Background append only file rewriting already in progress"
    assert got[2].startswith("ERR Another child process is active (AOF?): can't BGSAVE right now.")
    assert got[3] == "Background saving scheduled"
    wait_rewrite_done(s)
    deadline = time.time() + 10
    while info(s)["rdb_saves"] == 0 and time.time() < deadline:
        time.sleep(0.05)
    assert (s.dir / "dump.rdb").exists()
    # And the other way round: a rewrite asked for during a BGSAVE is scheduled.
    got = raw(s, ["BGSAVE"], ["BGREWRITEAOF"])
    assert got == ["Background saving started", "Background append only file rewriting scheduled"]
    i = wait_rewrite_done(s)
    assert i["aof_rewrites"] == 2


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_rewrite_inside_multi_is_scheduled(server_factory, kind):
    s = server_factory.start(kind, *AOF_ON)
    with s.conn() as k:
        got = k.pipeline([["MULTI"], ["INCR", "x"], ["BGREWRITEAOF"], ["INCR", "x"], ["EXEC"]])
    # Inside EXEC the rewrite waits: the snapshot must not see half a transaction.
    assert got[-1].to_py() == [1, b"Background append only file rewriting scheduled", 2]
    i = wait_rewrite_done(s)
    assert i["aof_rewrites"] == 1
    client(s).incr("x")
    restart(s)
    assert client(s).get("x") == b"3"


def test_auto_rewrite_on_growth(server_factory):
    s = server_factory.start("shoal", *AOF_ON, "--auto-aof-rewrite-min-size", "64kb",
                             "--auto-aof-rewrite-percentage", "100")
    c = client(s)
    for _ in range(60):
        c.set("same", "v" * 2000)
    deadline = time.time() + 5
    while info(s)["aof_rewrites"] == 0 and time.time() < deadline:
        time.sleep(0.05)
    i = wait_rewrite_done(s)
    assert i["aof_rewrites"] >= 1
    assert "Starting automatic rewriting of AOF on" in s.log()
    assert i["aof_current_size"] < 64 * 1024


def test_config_set_appendonly_at_runtime(server_factory):
    s = server_factory.start("shoal")
    c = client(s)
    for i in range(100):
        c.set(f"k{i}", i)
    assert info(s)["aof_enabled"] == 0
    c.config_set("appendonly", "yes")
    i = wait_rewrite_done(s)
    assert i["aof_enabled"] == 1
    assert manifest(s) == ["file appendonly.aof.1.base.rdb seq 1 type b",
                           "file appendonly.aof.1.incr.aof seq 1 type i"]
    c.set("later", "1")
    restart(s, *AOF_ON)
    assert client(s).dbsize() == 101
    client(s).config_set("appendonly", "no")
    assert info(s)["aof_enabled"] == 0


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_manifest_sequence_across_off_and_on(server_factory, kind):
    s = server_factory.start(kind)
    c = client(s)
    c.set("a", "1")
    c.execute_command("BGREWRITEAOF")
    wait_rewrite_done(s)
    assert manifest(s) == ["file appendonly.aof.1.base.rdb seq 1 type b"]
    c.config_set("appendonly", "yes")
    wait_rewrite_done(s)
    assert manifest(s) == ["file appendonly.aof.2.base.rdb seq 2 type b",
                           "file appendonly.aof.1.incr.aof seq 1 type i"]
    c.config_set("appendonly", "no")
    c.config_set("appendonly", "yes")
    wait_rewrite_done(s)
    assert manifest(s) == ["file appendonly.aof.3.base.rdb seq 3 type b",
                           "file appendonly.aof.2.incr.aof seq 2 type i"]
    assert sorted(p.name for p in aof_dir(s).iterdir()) == [
        "appendonly.aof.2.incr.aof", "appendonly.aof.3.base.rdb", MANIFEST]
    c.set("b", "2")
    restart(s, *AOF_ON)
    assert client(s).mget("a", "b") == [b"1", b"2"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_write_errors_refuse_writes(server_factory, kind):
    s = server_factory.start(kind, *AOF_ON)
    c = client(s)
    c.set("a", "1")
    # The next incr file is /dev/full: every write to it fails with ENOSPC.
    os.symlink("/dev/full", aof_dir(s) / "appendonly.aof.2.incr.aof")
    c.execute_command("BGREWRITEAOF")
    wait_rewrite_done(s)
    c.set("b", "2")  # accepted: the failure is only seen when writing it out
    deadline = time.time() + 5
    while info(s)["aof_last_write_status"] != "err" and time.time() < deadline:
        time.sleep(0.05)
    with pytest.raises(redis.ResponseError, match="Errors writing to the AOF file: No space left on device"):
        c.set("c", "3")
    assert c.get("a") == b"1"
    assert info(s)["aof_last_write_status"] == "err"


@pytest.mark.skipif(CHECK_AOF is None, reason="needs redis-check-aof")
def test_timestamp_annotations(server_factory):
    s = server_factory.start("shoal", *AOF_ON, "--aof-timestamp-enabled", "yes")
    c = client(s)
    c.set("a", "1")
    time.sleep(1.05)
    c.set("b", "2")
    s.stop()
    text = last_incr(s).read_bytes()
    assert text.startswith(b"#TS:") and text.count(b"#TS:") == 2
    check = subprocess.run([CHECK_AOF, str(aof_dir(s) / MANIFEST)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stdout
    r = new_server(server_factory, "redis", *AOF_ON, files_from=aof_dir(s))
    r.start()
    assert client(r).mget("a", "b") == [b"1", b"2"]
    s.start()
    assert client(s).mget("a", "b") == [b"1", b"2"]


@pytest.mark.parametrize("master_kind", ["redis", "shoal"])
def test_replica_restarts_its_aof_after_full_sync(server_factory, master_kind):
    m = server_factory.start(master_kind, "--repl-diskless-sync-delay", "0")
    for i in range(100):
        client(m).set(f"m{i}", i)
    s = server_factory.start("shoal", *AOF_ON)
    client(s).set("old", "1")
    client(s).replicaof("127.0.0.1", m.port)
    deadline = time.time() + 10
    while client(s).info("replication").get("master_link_status") != "up" and time.time() < deadline:
        time.sleep(0.05)
    wait_rewrite_done(s)
    client(m).set("after", "sync")
    while client(s).get("after") is None and time.time() < deadline:
        time.sleep(0.02)
    want = dataset(s)
    assert (0, b"old") not in want and len(want) == 101
    s.stop()
    s.start()
    assert dataset(s) == want


BENCH = shutil.which("redis-benchmark")


@pytest.mark.skipif(BENCH is None, reason="needs redis-benchmark")
@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_auto_rewrites_under_load_keep_the_data(server_factory, preamble):
    """Many automatic rewrites while 20 clients write; Redis loads the result."""
    args = (*AOF_ON, "--aof-use-rdb-preamble", preamble, "--auto-aof-rewrite-min-size", "128kb",
            "--auto-aof-rewrite-percentage", "50")
    s = server_factory.start("shoal", *args)
    subprocess.run([BENCH, "-p", str(s.port), "-t", "set,lpush,incr,sadd,hset,zadd,spop,lpop",
                    "-r", "20000", "-n", "40000", "-P", "8", "-c", "20", "-q"],
                   capture_output=True, timeout=60, check=True)
    wait_rewrite_done(s)
    assert info(s)["aof_rewrites"] >= 2
    want = bulk_dataset(s)
    s.stop()
    r = new_server(server_factory, "redis", *AOF_ON, files_from=aof_dir(s))
    r.start()
    assert bulk_dataset(r) == want
    s.start()
    assert bulk_dataset(s) == want


def bulk_dataset(s):
    """Database 0 in a few pipelined round trips (many keys, no TTLs)."""
    c = client(s)
    keys = sorted(c.scan_iter(count=5000))
    p = c.pipeline(transaction=False)
    for k in keys:
        p.type(k)
    types = p.execute()
    p = c.pipeline(transaction=False)
    for k, t in zip(keys, types):
        {b"string": lambda: p.get(k), b"list": lambda: p.lrange(k, 0, -1),
         b"set": lambda: p.smembers(k), b"zset": lambda: p.zrange(k, 0, -1, withscores=True),
         b"hash": lambda: p.hgetall(k)}[t]()
    values = [sorted(v) if isinstance(v, set) else v for v in p.execute()]
    return dict(zip(keys, zip(types, values)))


def test_info_fields_match_redis_names(server_factory):
    r = server_factory.start("redis", *AOF_ON)
    s = server_factory.start("shoal", *AOF_ON)
    names = lambda srv: [k for k in info(srv) if k.startswith("aof_")]  # noqa: E731
    assert names(s) == names(r)


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_appendonly_without_aof_ignores_dump_rdb(server_factory, kind):
    """Redis 7.0.15 starts empty (and writes an empty base) rather than load dump.rdb."""
    seed = server_factory.start("shoal")
    client(seed).set("in_rdb", "1")
    client(seed).save()
    s = servers.Server(kind, AOF_ON)
    server_factory.started.append(s)
    shutil.copy(seed.dir / "dump.rdb", s.dir / "dump.rdb")
    s.start()
    assert client(s).dbsize() == 0
    assert manifest(s) == ["file appendonly.aof.1.base.rdb seq 1 type b",
                           "file appendonly.aof.1.incr.aof seq 1 type i"]


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_legacy_file_with_rdb_preamble(server_factory, kind):
    """Redis 4-6's single file: an RDB image, then commands."""
    seed = server_factory.start("shoal")
    client(seed).set("from_rdb", "1")
    client(seed).save()
    rdb = (seed.dir / "dump.rdb").read_bytes()
    s = servers.Server(kind, AOF_ON)
    server_factory.started.append(s)
    (s.dir / "appendonly.aof").write_bytes(rdb + b"*3\r\n$3\r\nSET\r\n$9\r\nfrom_tail\r\n$1\r\n2\r\n")
    s.start()
    assert client(s).mget("from_rdb", "from_tail") == [b"1", b"2"]


def test_legacy_single_file_is_migrated(server_factory):
    s = servers.Server("shoal", AOF_ON)
    server_factory.started.append(s)
    (s.dir / "appendonly.aof").write_bytes(b"*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$1\r\n7\r\n")
    s.start()
    assert client(s).get("q") == b"7"
    assert not (s.dir / "appendonly.aof").exists()
    assert manifest(s) == ["file appendonly.aof seq 1 type b",
                           "file appendonly.aof.1.incr.aof seq 1 type i"]
    assert "Successfully migrated an old-style AOF file (appendonly.aof)" in s.log()
    client(s).set("z", "1")
    restart(s)
    assert client(s).dbsize() == 2
