"""Cross-checks shoal's RDB and DUMP/RESTORE against a real Redis 7.0.15.

Needs `redis-server` and `redis-check-rdb` on PATH and a release build of
shoal (`target/release/shoal-server`, or `$SHOAL_SERVER`, or
`$CARGO_TARGET_DIR/release/shoal-server`); skips with a message otherwise.

    CARGO_TARGET_DIR=/tmp/target-main cargo build --release -p shoal-server
    CARGO_TARGET_DIR=/tmp/target-main python3 -m pytest -q crates/persist/tests
"""

import os
import random
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parents[3]


def shoal_binary():
    cands = []
    if os.environ.get("SHOAL_SERVER"):
        cands.append(Path(os.environ["SHOAL_SERVER"]))
    if os.environ.get("CARGO_TARGET_DIR"):
        cands.append(Path(os.environ["CARGO_TARGET_DIR"]) / "release" / "shoal-server")
    cands.append(ROOT / "target" / "release" / "shoal-server")
    cands.append(Path("/tmp/target-main/release/shoal-server"))
    found = [c for c in cands if c.is_file()]
    # The freshest build wins (a stale target/ may sit next to a shared one).
    return str(max(found, key=lambda c: c.stat().st_mtime)) if found else None


SHOAL = shoal_binary()
REDIS = shutil.which("redis-server")
CHECK_RDB = shutil.which("redis-check-rdb")

pytestmark = pytest.mark.skipif(
    SHOAL is None or REDIS is None,
    reason="needs redis-server on PATH and a release shoal-server (cargo build --release -p shoal-server)",
)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Proc:
    def __init__(self, binary, workdir, extra=()):
        self.port = free_port()
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log = self.dir / "server.log"
        args = [binary, "--port", str(self.port), "--dir", str(self.dir), "--save", ""]
        args += ["--bind", "127.0.0.1", "--logfile", str(self.log)]
        args += list(extra)
        self.p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.c = redis.Redis(port=self.port, decode_responses=False)
        deadline = time.time() + 10
        while True:
            try:
                self.c.ping()
                break
            except redis.ConnectionError:
                if self.p.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"{binary} did not start: {self.log_text()}")
                time.sleep(0.05)

    def log_text(self):
        try:
            return self.log.read_text()
        except OSError:
            return ""

    def stop(self):
        try:
            self.c.shutdown(nosave=True)
        except Exception:
            pass
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


@pytest.fixture
def tmp(tmp_path):
    return tmp_path


def populate(c):
    """One of everything, in every encoding Redis 7.0 writes."""
    rnd = random.Random(7)
    c.set("s:int", 12345)
    c.set("s:negint", -70000)
    c.set("s:bigint", 99999999999999)
    c.set("s:short", "hello")
    c.set("s:empty", "")
    c.set("s:compressible", "ab" * 500)
    c.set("s:random", bytes(rnd.getrandbits(8) for _ in range(3000)))
    c.set("s:ttl", "v", px=3_600_000)
    c.rpush("l:small", "a", 1, -5, 300, 70000, -9000000000, "x" * 100)
    c.rpush("l:big", *[f"element-{i}-" + "y" * (i % 50) for i in range(3000)])
    c.rpush("l:huge", "z" * 20000, "w")
    c.hset("h:small", mapping={"f1": "v1", "n": 12, "neg": -3})
    c.hset("h:big", mapping={f"field{i}": f"value{i}" for i in range(300)})
    c.hset("h:longval", mapping={"f": "v" * 200, "g": "x"})
    c.sadd("set:int", 1, 2, 3, -4, 70000)
    c.sadd("set:int64", 1, 2 ** 40)
    c.sadd("set:bigint", *range(1000))
    c.sadd("set:str", "a", "b", "c")
    c.sadd("set:big", *[f"m{i}" for i in range(500)])
    c.zadd("z:small", {"a": 1, "b": 2.5, "c": -3, "d": float("inf"), "e": float("-inf"), "f": 1e20, "g": 0.1})
    c.zadd("z:big", {f"m{i}": i * 1.5 for i in range(300)})
    c.zadd("z:longmember", {"x" * 100: 1, "y": 2})
    c.expire("z:small", 7200)
    c.xadd("x:s", {"f": "v", "n": 1}, id="1-1")
    c.xadd("x:s", {"f": "w", "n": 2}, id="1-2")
    c.xadd("x:s", {"other": "x"}, id="2-0")
    c.xadd("x:s", {"f": "y", "n": -70000}, id="3-0")
    c.xdel("x:s", "1-2")
    c.xgroup_create("x:s", "g1", id="0")
    c.xgroup_create("x:s", "g2", id="$")
    c.xreadgroup("g1", "alice", {"x:s": ">"}, count=2)
    c.xreadgroup("g1", "bob", {"x:s": ">"}, count=1)
    c.xgroup_createconsumer("x:s", "g1", "carol")
    c.xgroup_create("x:empty", "g", id="$", mkstream=True)
    for i in range(250):
        c.xadd("x:big", {"k": i, "payload": "x" * i})


def populate_db3(port):
    c = redis.Redis(port=port, db=3)
    c.set("db3:key", "in-db-3")
    c.rpush("db3:list", "a", "b")


def read_value(c, k):
    t = c.type(k).decode()
    if t == "string":
        v = c.get(k)
    elif t == "list":
        v = c.lrange(k, 0, -1)
    elif t == "hash":
        v = sorted(c.hgetall(k).items())
    elif t == "set":
        v = sorted(c.smembers(k))
    elif t == "zset":
        v = c.zrange(k, 0, -1, withscores=True)
    elif t == "stream":
        groups = c.xinfo_groups(k)
        pending = [
            [(p["message_id"], p["consumer"], p["times_delivered"]) for p in c.xpending_range(k, g["name"], "-", "+", 100)]
            for g in groups
        ]
        consumers = [[(x["name"], x["pending"]) for x in c.xinfo_consumers(k, g["name"])] for g in groups]
        info = c.xinfo_stream(k)
        meta = [info.get(f) for f in ("length", "last-generated-id", "max-deleted-entry-id", "entries-added")]
        v = (c.xrange(k), [sorted(g.items()) for g in groups], pending, consumers, meta)
    else:
        v = None
    return t, v


def snapshot(port, db=0):
    c = redis.Redis(port=port, db=db)
    out = {}
    for k in c.keys("*"):
        t, v = read_value(c, k)
        ttl = c.pttl(k)
        out[k] = (t, v, ttl > 0)
    return out


def assert_same(a, b):
    assert sorted(a) == sorted(b)
    for k in a:
        assert a[k] == b[k], k


def test_dump_restore_both_directions(tmp):
    r = Proc(REDIS, tmp / "redis")
    s = Proc(SHOAL, tmp / "shoal")
    try:
        populate(r.c)
        for k in r.c.keys("*"):
            payload = r.c.dump(k)
            ttl = max(r.c.pttl(k), 0)
            assert s.c.restore(k, ttl, payload), k
            assert read_value(s.c, k) == read_value(r.c, k), k
            assert s.c.object("encoding", k) == r.c.object("encoding", k), k
            back = s.c.dump(k)
            r.c.restore(b"back:" + k, 0, back)
            assert read_value(r.c, b"back:" + k) == read_value(r.c, k), k
        assert s.c.pttl("s:ttl") > 3_500_000
    finally:
        r.stop()
        s.stop()


def test_restore_errors_change_nothing(tmp):
    s = Proc(SHOAL, tmp / "shoal")
    try:
        s.c.set("k", "orig")
        good = s.c.dump("k")
        bad = bytearray(good)
        bad[-1] ^= 0xFF
        with pytest.raises(redis.ResponseError, match="DUMP payload version or checksum are wrong"):
            s.c.restore("k", 0, bytes(bad), replace=True)
        with pytest.raises(redis.ResponseError, match="BUSYKEY Target key name already exists."):
            s.c.restore("k", 0, good)
        with pytest.raises(redis.ResponseError, match="Invalid TTL value, must be >= 0"):
            s.c.restore("k2", -1, good)
        # A valid footer around a broken object.
        obj = b"\x12\x01\x02\x05abcde"
        import struct

        body = obj + b"\x0a\x00"
        crc = crc64(body)
        with pytest.raises(redis.ResponseError, match="Bad data format"):
            s.c.restore("k", 0, body + struct.pack("<Q", crc), replace=True)
        assert s.c.get("k") == b"orig"
        assert s.c.exists("k2") == 0
        # Past absolute TTL: OK, and the key is not created.
        assert s.c.restore("k3", 1, good, absttl=True)
        assert s.c.exists("k3") == 0
        assert s.c.restore("k4", 0, good, idletime=100)
        assert s.c.object("idletime", "k4") >= 100
    finally:
        s.stop()


def crc64(data):
    poly = 0x95AC9329AC4BC9B5
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc


def test_shoal_loads_redis_rdb(tmp):
    r = Proc(REDIS, tmp / "redis", ["--list-compress-depth", "1"])
    try:
        populate(r.c)
        populate_db3(r.port)
        want0, want3 = snapshot(r.port), snapshot(r.port, 3)
        r.c.save()
    finally:
        r.stop()
    d = tmp / "shoal"
    d.mkdir()
    shutil.copy(tmp / "redis" / "dump.rdb", d / "dump.rdb")
    s = Proc(SHOAL, d)
    try:
        assert_same(snapshot(s.port), want0)
        assert_same(snapshot(s.port, 3), want3)
        assert "DB loaded from disk" in s.log_text()
    finally:
        s.stop()


def test_redis_loads_shoal_rdb(tmp):
    s = Proc(SHOAL, tmp / "shoal")
    try:
        populate(s.c)
        populate_db3(s.port)
        want0, want3 = snapshot(s.port), snapshot(s.port, 3)
        before = s.c.lastsave()
        time.sleep(1.1)
        assert s.c.save()
        assert s.c.lastsave() > before
        ls = s.c.lastsave()
        s.c.flushall()
        assert s.c.lastsave() == ls
    finally:
        s.stop()
    rdb = tmp / "shoal" / "dump.rdb"
    assert rdb.exists()
    if CHECK_RDB:
        out = subprocess.run([CHECK_RDB, str(rdb)], capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "RDB looks OK" in out.stdout
    d = tmp / "redis"
    d.mkdir()
    shutil.copy(rdb, d / "dump.rdb")
    r = Proc(REDIS, d)
    try:
        assert_same(snapshot(r.port), want0)
        assert_same(snapshot(r.port, 3), want3)
    finally:
        r.stop()
    # And shoal reloads its own file.
    s = Proc(SHOAL, tmp / "shoal")
    try:
        assert_same(snapshot(s.port), want0)
    finally:
        s.stop()


def test_corrupt_rdb_stops_startup(tmp):
    d = tmp / "shoal"
    d.mkdir()
    s = Proc(SHOAL, d)
    try:
        s.c.set("a", "b" * 100)
        s.c.save()
    finally:
        s.stop()
    data = bytearray((d / "dump.rdb").read_bytes())
    data[len(data) // 2] ^= 0x55
    (d / "dump.rdb").write_bytes(bytes(data))
    p = subprocess.run(
        [SHOAL, "--port", str(free_port()), "--dir", str(d), "--save", ""],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert p.returncode != 0
    assert "Fatal error loading the DB" in p.stdout + p.stderr
