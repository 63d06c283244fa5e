"""Real clients against the server: Debian's redis-cli and redis-benchmark,
and redis-py.  Every test runs against redis-server too (parametrized), so
the expectations are what Redis 7.0.15 users see.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import redis

import resp

REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
REDIS_BENCHMARK = shutil.which("redis-benchmark") or "/usr/bin/redis-benchmark"


def cli(server, *args, input: bytes | None = None, timeout=30) -> subprocess.CompletedProcess:
    p = subprocess.run([REDIS_CLI, "-h", "127.0.0.1", "-p", str(server.port), *args],
                       input=input if input is not None else b"",
                       capture_output=True, timeout=timeout)
    return p


def out(p) -> str:
    return p.stdout.decode(errors="replace")


@pytest.fixture
def flushed(any_server):
    with any_server.conn() as c:
        assert c.call("FLUSHALL") == resp.Reply(resp.SIMPLE, b"OK")
    return any_server


# --- redis-cli ---------------------------------------------------------------

def test_cli_ping(flushed):
    p = cli(flushed, "ping")
    assert (p.returncode, out(p)) == (0, "PONG\n"), p.stderr


def test_cli_set_get(flushed):
    assert out(cli(flushed, "set", "greeting", "hello world")) == "OK\n"
    assert out(cli(flushed, "get", "greeting")) == "hello world\n"
    assert out(cli(flushed, "get", "nosuch")) == "\n"          # nil prints empty when not a tty
    assert out(cli(flushed, "incr", "counter")) == "1\n"
    assert out(cli(flushed, "incrby", "counter", "41")) == "42\n"
    p = cli(flushed, "incr", "greeting")
    assert out(p).rstrip("\n") == "ERR value is not an integer or out of range"


def test_cli_raw_and_no_raw(flushed):
    cli(flushed, "set", "bin", "line1\nline2")
    assert out(cli(flushed, "--raw", "get", "bin")) == "line1\nline2\n"
    assert out(cli(flushed, "--no-raw", "get", "bin")) == '"line1\\nline2"\n'
    assert out(cli(flushed, "--no-raw", "get", "nosuch")) == "(nil)\n"
    assert out(cli(flushed, "--no-raw", "dbsize")) == "(integer) 1\n"
    cli(flushed, "mset", "a", "1", "b", "2")
    assert out(cli(flushed, "--no-raw", "mget", "a", "b", "nosuch")) == \
        '1) "1"\n2) "2"\n3) (nil)\n'


def test_cli_select_db(flushed):
    assert out(cli(flushed, "-n", "2", "set", "indb2", "yes")) == "OK\n"
    assert out(cli(flushed, "-n", "2", "get", "indb2")) == "yes\n"
    assert out(cli(flushed, "get", "indb2")) == "\n"
    assert out(cli(flushed, "-n", "2", "dbsize")) == "1\n"
    p = cli(flushed, "-n", "99", "ping")
    assert p.returncode != 0 or "out of range" in out(p) + p.stderr.decode()


def test_cli_scan_pattern(flushed):
    with flushed.conn() as c:
        for i in range(300):
            c.send("SET", f"user:{i}", i)
        for i in range(50):
            c.send("SET", f"other:{i}", i)
        for _ in range(350):
            c.read_reply()
    p = cli(flushed, "--scan", "--pattern", "user:*")
    keys = out(p).split()
    assert p.returncode == 0, p.stderr
    assert sorted(set(keys)) == sorted(f"user:{i}" for i in range(300))
    p = cli(flushed, "--scan", "--quoted-pattern", '"other:1*"')
    assert sorted(set(out(p).split())) == sorted(f"other:{i}" for i in range(50)
                                                 if str(i).startswith("1"))


def test_cli_info(flushed):
    p = cli(flushed, "info")
    text = out(p)
    assert p.returncode == 0, p.stderr
    for section in ("# Server", "# Clients", "# Memory", "# Stats", "# Keyspace"):
        assert section in text, f"INFO lacks {section}"
    for field in ("redis_version:", "tcp_port:", "connected_clients:", "used_memory:",
                  "total_commands_processed:"):
        assert field in text, f"INFO lacks {field}"
    assert f"tcp_port:{flushed.port}" in text
    p = cli(flushed, "info", "keyspace")
    assert out(p).startswith("# Keyspace")


def test_cli_latency(flushed):
    # Not on a tty, --latency prints one "min max avg samples" line after -i s.
    p = cli(flushed, "--latency", "-i", "0.5", timeout=20)
    assert p.returncode == 0, p.stderr
    fields = out(p).split()
    assert len(fields) == 4, out(p)
    mn, mx, avg, samples = int(fields[0]), int(fields[1]), float(fields[2]), int(fields[3])
    assert 0 <= mn <= avg <= mx + 1e-9 and samples > 0


def test_cli_pipe_mass_insertion(flushed):
    n = 5000
    proto = b"".join(resp.encode_command(["SET", f"mass:{i:06d}", f"value-{i}"])
                     for i in range(n))
    p = cli(flushed, "--pipe", input=proto, timeout=60)
    text = out(p)
    assert p.returncode == 0, (text, p.stderr)
    assert f"errors: 0, replies: {n}" in text, text
    assert out(cli(flushed, "dbsize")) == f"{n}\n"
    assert out(cli(flushed, "get", "mass:004999")) == "value-4999\n"


def test_cli_pipe_reports_errors(flushed):
    proto = (resp.encode_command(["SET", "x", "1"])
             + resp.encode_command(["INCR", "x", "extra"])
             + resp.encode_command(["NOSUCHCOMMAND"]))
    p = cli(flushed, "--pipe", input=proto, timeout=30)
    assert "errors: 2, replies: 3" in out(p), out(p)


# --- redis-benchmark ----------------------------------------------------------

def test_redis_benchmark_completes(flushed):
    p = subprocess.run([REDIS_BENCHMARK, "-h", "127.0.0.1", "-p", str(flushed.port),
                        "-t", "set,get", "-n", "2000", "-q"],
                       capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    text = out(p).replace("\r", "\n")  # progress lines end in CR
    assert p.returncode == 0, (text, p.stderr)
    for cmd in ("SET", "GET"):
        m = re.search(rf"^{cmd}: ([0-9.]+) requests per second", text, re.M)
        assert m and float(m.group(1)) > 0, text


# --- redis-py -------------------------------------------------------------------

def test_redis_py_basics(flushed):
    r = redis.Redis(host="127.0.0.1", port=flushed.port, socket_timeout=10)
    try:
        assert r.ping() is True
        assert r.set("k", "v") is True
        assert r.get("k") == b"v"
        assert r.set("k", "w", nx=True) is None
        assert r.set("k", "w", xx=True, get=True) == b"v"
        assert r.incr("n") == 1 and r.incrby("n", 9) == 10
        assert r.incrbyfloat("f", 1.5) == 1.5
        assert r.mset({"a": 1, "b": 2}) is True
        assert r.mget("a", "b", "nosuch") == [b"1", b"2", None]
        assert r.expire("a", 100) is True and 99 <= r.ttl("a") <= 100
        assert r.persist("a") is True and r.ttl("a") == -1
        assert r.exists("a", "b", "nosuch") == 2
        assert r.type("a") == b"string"
        assert r.delete("a", "b") == 2
        assert r.append("k", "xyz") == 4 and r.strlen("k") == 4
        assert r.getrange("k", 1, 2) == b"xy"
        assert r.setbit("bits", 7, 1) == 0 and r.getbit("bits", 7) == 1
        assert r.bitcount("bits") == 1
        assert sorted(r.keys("*")) == sorted([b"k", b"n", b"f", b"bits"])
        assert r.dbsize() == 4
        with pytest.raises(redis.ResponseError, match="not an integer"):
            r.incr("k")
        assert r.client_setname("pyclient") is True
        assert r.client_getname() == "pyclient" or r.client_getname() == b"pyclient"
        assert r.echo("hi") == b"hi"
        assert r.config_get("maxmemory") == {"maxmemory": "0"}
    finally:
        r.close()


def test_redis_py_pipeline(flushed):
    r = redis.Redis(host="127.0.0.1", port=flushed.port, socket_timeout=10)
    try:
        pipe = r.pipeline(transaction=False)
        for i in range(100):
            pipe.set(f"p:{i}", i)
        pipe.get("p:42").incr("p:42").get("nosuch").incr("p:nan")
        res = pipe.execute(raise_on_error=False)
        assert res[:100] == [True] * 100
        assert res[100:] == [b"42", 43, None, 1]
    finally:
        r.close()


def test_redis_py_resp3(flushed):
    r = redis.Redis(host="127.0.0.1", port=flushed.port, protocol=3, socket_timeout=10)
    try:
        assert r.ping() is True
        assert r.set("k", "v") is True
        assert r.get("k") == b"v"
        assert r.get("nosuch") is None
        assert r.incrbyfloat("f", 0.5) == 0.5
        assert r.config_get("maxmemory") == {b"maxmemory": b"0"} or \
            r.config_get("maxmemory") == {"maxmemory": "0"}
        info = r.execute_command("HELLO", "3")
        assert info[b"proto"] == 3 and info[b"server"] == b"redis"
    finally:
        r.close()


def test_redis_py_decode_and_binary(flushed):
    r = redis.Redis(host="127.0.0.1", port=flushed.port, decode_responses=True)
    rb = redis.Redis(host="127.0.0.1", port=flushed.port)
    try:
        r.set("unicode", "héllo ✓")
        assert r.get("unicode") == "héllo ✓"
        blob = bytes(range(256))
        rb.set(b"bin\x00key", blob)
        assert rb.get(b"bin\x00key") == blob
        assert rb.strlen(b"bin\x00key") == 256
    finally:
        r.close()
        rb.close()


# --- shutdown through a real client -------------------------------------------

def test_cli_shutdown(kind, server_factory):
    srv = server_factory.start(kind)
    p = cli(srv, "shutdown", "nosave")
    # redis-cli reports nothing (or a lost connection) and exits 0 or 1
    assert "error" not in out(p).lower() or "connect" in out(p).lower(), out(p)
    try:
        rc = srv.proc.wait(15)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{srv.name} still running 15 s after SHUTDOWN NOSAVE")
    assert rc == 0, f"exit code {rc}"
