"""The effects stream: what a command propagates to replicas and the AOF.

Commands that are not deterministic (relative TTLs, generated stream IDs,
random pops, float formatting, approximate trimming, blocking commands served
later, consumer-group deliveries) must propagate their deterministic effect,
exactly as Redis 7.0 rewrites them.

Each test connects a fake replica (a raw socket: ``REPLCONF``, ``PSYNC ? -1``,
the RDB skipped, then the RESP command stream) to the reference redis-server
and to shoal-server, runs the same commands on both, and compares what each
propagated, step by step. Absolute times are compared relative to when the
command was sent (``T+100s``), so a relative TTL must be propagated as the
right absolute time. After each step a marker (``SET __sync__ n``) is sent and
the stream is read up to it, so every step's effects are exactly delimited.

The last tests check the data end to end: a real redis-server replica of
shoal and a shoal replica of redis-server end with their master's data, and
shoal's AOF replayed by shoal and by redis-server gives back the same data.
"""

from __future__ import annotations

import re
import socket
import time

import pytest

import resp

NOW_WINDOW_MS = 10 * 24 * 3600 * 1000


class FakeReplica:
    """A replica that only records the stream its master sends."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self._send(b"REPLCONF", b"listening-port", b"1")
        assert self._line().startswith(b"+OK")
        self._send(b"REPLCONF", b"capa", b"eof", b"capa", b"psync2")
        assert self._line().startswith(b"+OK")
        self._send(b"PSYNC", b"?", b"-1")
        line = self._line(skip_empty=True)
        assert line.startswith(b"+FULLRESYNC"), line
        line = self._line(skip_empty=True)
        assert line.startswith(b"$"), line
        if line.startswith(b"$EOF:"):
            mark = line[5:]
            while mark not in self.buf:
                self._fill()
            self.buf = self.buf[self.buf.index(mark) + len(mark):]
        else:
            n = int(line[1:])
            while len(self.buf) < n:
                self._fill()
            self.buf = self.buf[n:]
        # A diskless master starts streaming on the first ACK.
        self._send(b"REPLCONF", b"ACK", b"0")

    def _send(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)

    def _fill(self):
        data = self.sock.recv(1 << 16)
        if not data:
            raise EOFError("master closed the replication link")
        self.buf += data

    def _line(self, skip_empty=False) -> bytes:
        while True:
            # Masters send bare newlines as keepalives before the payload.
            if self.buf.startswith(b"\n"):
                self.buf = self.buf[1:]
                if skip_empty:
                    continue
                return b""
            if b"\r\n" in self.buf:
                i = self.buf.index(b"\r\n")
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                if skip_empty and line == b"":
                    continue
                return line
            self._fill()

    def read_command(self, timeout: float = 10.0) -> list[bytes]:
        self.sock.settimeout(timeout)
        line = self._line(skip_empty=True)
        assert line.startswith(b"*"), line
        argv = []
        for _ in range(int(line[1:])):
            head = self._line()
            assert head.startswith(b"$"), head
            n = int(head[1:])
            while len(self.buf) < n + 2:
                self._fill()
            argv.append(self.buf[:n])
            self.buf = self.buf[n + 2:]
        return argv

    def close(self):
        self.sock.close()


def now_ms() -> int:
    return int(time.time() * 1000)


def normalize_arg(a: bytes, t0: int) -> str:
    """Absolute times near `t0` become `T+<seconds>`, in numbers and stream IDs
    (whose sequence part then depends on timing too, and is dropped)."""
    s = a.decode("utf-8", "backslashreplace")
    m = re.fullmatch(r"(\d{13})(-\d+)?", s)
    if m and abs(int(m.group(1)) - t0) < NOW_WINDOW_MS:
        rel = round((int(m.group(1)) - t0) / 1000)
        return f"T{rel:+d}s" + ("-seq" if m.group(2) else "")
    return s


def canon(reply: resp.Reply, t0: int):
    """A reply as plain values, with times normalized as in the stream."""
    def walk(x):
        if isinstance(x, bytes):
            return normalize_arg(x, t0)
        if isinstance(x, list):
            return [walk(y) for y in x]
        if isinstance(x, dict):
            return {walk(k) if isinstance(k, bytes) else k: walk(v) for k, v in x.items()}
        return x
    return (reply.kind, walk(reply.to_py()))


def normalize(effects, t0):
    return [[normalize_arg(a, t0) for a in cmd] for cmd in effects]


class Node:
    """A server with a client and a fake replica on its stream."""

    def __init__(self, server):
        self.server = server
        self.conn = server.conn()
        # Markers go on their own connection (the test's may be in MULTI).
        self.mark_conn = server.conn()
        # Real Redis: a disk-based full sync starts streaming at once.
        self.conn.call("CONFIG", "SET", "repl-diskless-sync", "no")
        self.repl = FakeReplica(server.port)
        self.marker = 0
        self.others: list[resp.Connection] = []

    def call(self, *args):
        return self.conn.call(*args)

    def effects(self):
        """Everything propagated since the last call, up to a fresh marker."""
        self.marker += 1
        mark = str(self.marker).encode()
        assert not self.mark_conn.call("SET", "__sync__", mark).is_error
        out = []
        while True:
            cmd = self.repl.read_command()
            if cmd[0].lower() == b"set" and cmd[1:] == [b"__sync__", mark]:
                break
            if cmd[0].upper() in (b"PING", b"REPLCONF", b"SELECT"):
                continue
            out.append(cmd)
        return out

    def step(self, args):
        t0 = now_ms()
        reply = self.call(*args)
        return canon(reply, t0), normalize(self.effects(), t0)

    def blocked_step(self, blocking, waker):
        """Parks `blocking` on a second connection, runs `waker`, reads both."""
        other = self.server.conn()
        self.others.append(other)
        other.send(*blocking)
        deadline = time.monotonic() + 10
        while True:
            info = self.call("INFO", "clients").value.decode()
            if re.search(r"blocked_clients:[1-9]", info):
                break
            assert time.monotonic() < deadline, "client never blocked"
            time.sleep(0.01)
        t0 = now_ms()
        woke = self.call(*waker)
        reply = other.read_reply()
        return (canon(woke, t0), canon(reply, t0)), normalize(self.effects(), t0)

    def close(self):
        self.repl.close()
        self.conn.close()
        self.mark_conn.close()
        for o in self.others:
            o.close()


@pytest.fixture
def nodes(server_factory):
    redis, shoal = server_factory.pair()
    pair = Node(redis), Node(shoal)
    for n in pair:
        n.effects()
    yield pair
    for n in pair:
        n.close()


def compare(nodes, steps):
    """Runs `steps` on both servers; every step's reply and effects must match."""
    ref, sut = nodes
    for st in steps:
        unordered = st[0] == "@unordered"
        if unordered:
            st = st[1:]
        label = " ".join(map(str, st))
        try:
            if st[0] == "@block":
                r1, e1 = ref.blocked_step(st[1], st[2])
                r2, e2 = sut.blocked_step(st[1], st[2])
            else:
                r1, e1 = ref.step(st)
                r2, e2 = sut.step(st)
        except Exception as e:
            raise AssertionError(f"step {label}: {e!r}") from e
        if unordered:
            # The order of a whole set's members is an encoding detail.
            r1, r2 = sorted(r1[1]), sorted(r2[1])
        assert r2 == r1, f"reply of {label}"
        assert e2 == e1, f"effects of {label}"


def test_expire_family(nodes):
    compare(nodes, [
        ("SET", "k", "v"),
        ("EXPIRE", "k", "100"),
        ("EXPIRE", "k", "100", "NX"),
        ("EXPIRE", "k", "200", "gt"),
        ("EXPIRE", "k", "50", "LT"),
        ("EXPIRE", "k", "500", "LT"),
        ("PEXPIRE", "k", "100000"),
        ("EXPIREAT", "k", "9999999999"),
        ("PEXPIREAT", "k", "9999999999000", "XX"),
        ("EXPIRE", "missing", "10"),
        ("PERSIST", "k"),
        ("PERSIST", "k"),
        ("EXPIRE", "k", "-1"),
        ("EXISTS", "k"),
        ("SET", "k", "v"),
        ("EXPIREAT", "k", "1"),
        ("SET", "k", "v"),
        ("PEXPIREAT", "k", "1"),
        ("SET", "k", "v"),
        ("CONFIG", "SET", "lazyfree-lazy-expire", "yes"),
        ("PEXPIRE", "k", "-5"),
        ("CONFIG", "SET", "lazyfree-lazy-expire", "no"),
    ])


def test_set_family(nodes):
    compare(nodes, [
        ("SET", "k", "v"),
        ("SET", "k", "v", "EX", "100"),
        ("SET", "k", "v2", "PX", "100000", "GET"),
        ("SET", "k", "v3", "GET"),
        ("SET", "k", "v4", "get", "XX", "GET", "KEEPTTL"),
        ("SET", "k", "v", "NX"),
        ("SET", "k", "v", "NX", "EX", "10"),
        ("SET", "nx", "v", "NX", "EXAT", "9999999999"),
        ("SET", "k", "v", "XX", "PXAT", "9999999999000"),
        ("SET", "k", "v", "KEEPTTL"),
        ("SET", "missing", "v", "XX", "EX", "10"),
        ("SET", "k", "v", "EXAT", "1"),
        ("EXISTS", "k"),
        ("SETEX", "k", "100", "v"),
        ("PSETEX", "k", "100000", "v"),
        ("SETNX", "k", "v"),
        ("SETNX", "new", "v"),
        ("MSETNX", "k", "v", "z", "z"),
        ("GETDEL", "k"),
        ("GETDEL", "k"),
        ("SET", "k", "1"),
        ("CONFIG", "SET", "lazyfree-lazy-user-del", "yes"),
        ("GETDEL", "k"),
        ("CONFIG", "SET", "lazyfree-lazy-user-del", "no"),
    ])


def test_getex(nodes):
    compare(nodes, [
        ("SET", "k", "v"),
        ("GETEX", "k"),
        ("GETEX", "k", "PERSIST"),
        ("GETEX", "k", "EX", "100"),
        ("GETEX", "k", "PERSIST"),
        ("GETEX", "k", "PX", "100000"),
        ("GETEX", "k", "EXAT", "9999999999"),
        ("GETEX", "k", "PXAT", "9999999999000"),
        ("GETEX", "missing", "EX", "10"),
        ("GETEX", "k", "PXAT", "1"),
        ("EXISTS", "k"),
        ("SET", "k", "v"),
        ("CONFIG", "SET", "lazyfree-lazy-expire", "yes"),
        ("GETEX", "k", "EXAT", "1"),
        ("CONFIG", "SET", "lazyfree-lazy-expire", "no"),
    ])


def test_float_increments(nodes):
    compare(nodes, [
        ("SET", "f", "1"),
        ("EXPIRE", "f", "1000"),
        ("INCRBYFLOAT", "f", "1.5"),
        ("INCRBYFLOAT", "f", "1e3"),
        ("INCRBYFLOAT", "f", "0.1"),
        ("INCRBYFLOAT", "new", "3.0e-1"),
        ("HSET", "h", "f", "1"),
        ("HINCRBYFLOAT", "h", "f", "2.5"),
        ("HINCRBYFLOAT", "h", "g", "1e2"),
        ("HINCRBYFLOAT", "h", "f", "-0.0001"),
    ])


def test_spop(nodes):
    ref, sut = nodes
    compare(nodes, [
        ("SADD", "one", "a"),
        ("SPOP", "one"),
        ("SPOP", "missing"),
        ("SPOP", "missing", "3"),
        ("SADD", "s", "a", "b", "c"),
        ("SPOP", "s", "0"),
        ("@unordered", "SPOP", "s", "3"),
        ("SADD", "s", "a", "b", "c"),
        ("@unordered", "SPOP", "s", "10"),
        ("SADD", "s", "1", "2", "3"),
        ("CONFIG", "SET", "lazyfree-lazy-server-del", "yes"),
        ("@unordered", "SPOP", "s", "5"),
        ("CONFIG", "SET", "lazyfree-lazy-server-del", "no"),
    ])
    # Partial pops are random: each server's SREMs must name what it popped.
    members = [str(i).encode() for i in range(40)]
    for n in nodes:
        n.call("SADD", "big", *members)
        n.effects()
        for count in (None, "2", "25"):
            args = ("SPOP", "big") if count is None else ("SPOP", "big", count)
            (_, reply), effects = n.step(args)
            popped = [reply.encode()] if count is None else [x.encode() for x in reply]
            srems = [e for e in effects if e[0] == "SREM"]
            assert all(e[1] == "big" and len(e) == 3 for e in srems), effects
            assert sorted(e[2].encode() for e in srems) == sorted(popped), (n.server.kind, effects)
            if len(srems) > 1:
                assert effects[0] == ["MULTI"] and effects[-1] == ["EXEC"], effects
        assert n.call("SCARD", "big").value == 12


def test_list_pops_and_blocking(nodes):
    compare(nodes, [
        ("RPUSH", "l", "a", "b", "c", "d", "e", "f", "g", "h"),
        ("BLPOP", "l", "0"),
        ("BRPOP", "nothing", "l", "0"),
        ("BLMOVE", "l", "l2", "LEFT", "RIGHT", "0"),
        ("BLMOVE", "l", "l2", "right", "left", "0"),
        ("BRPOPLPUSH", "l", "l2", "0"),
        ("BLMPOP", "0", "2", "nothing", "l", "LEFT", "COUNT", "2"),
        ("BLMPOP", "0", "1", "l2", "RIGHT"),
        ("LMPOP", "1", "l2", "LEFT", "COUNT", "10"),
        ("LMPOP", "1", "l2", "LEFT"),
        ("LPOP", "missing"),
        ("LMOVE", "missing", "l2", "LEFT", "LEFT"),
        ("RPOPLPUSH", "missing", "l2"),
        ("BLPOP", "missing", "0.01"),
        ("BLMOVE", "missing", "x", "LEFT", "LEFT", "0.01"),
        ("BLMPOP", "0.01", "1", "missing", "LEFT"),
        ("MULTI",),
        ("BLPOP", "missing", "0"),
        ("BRPOPLPUSH", "missing", "x", "0"),
        ("EXEC",),
        ("@block", ("BLPOP", "w", "0"), ("RPUSH", "w", "a", "b")),
        ("@block", ("BRPOP", "w2", "0"), ("RPUSH", "w2", "a", "b")),
        ("@block", ("BLMOVE", "w3", "d", "RIGHT", "LEFT", "0"), ("LPUSH", "w3", "x")),
        ("@block", ("BRPOPLPUSH", "w4", "d", "0"), ("LPUSH", "w4", "x")),
        ("@block", ("BLMPOP", "0", "1", "w5", "LEFT", "COUNT", "5"), ("RPUSH", "w5", "a", "b", "c")),
    ])


def test_zset_pops_and_blocking(nodes):
    compare(nodes, [
        ("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f"),
        ("BZPOPMIN", "z", "0"),
        ("BZPOPMAX", "nothing", "z", "0"),
        ("BZMPOP", "0", "1", "z", "MIN", "COUNT", "2"),
        ("ZMPOP", "1", "z", "MAX", "COUNT", "10"),
        ("ZMPOP", "1", "z", "MAX"),
        ("ZPOPMIN", "missing"),
        ("BZPOPMIN", "missing", "0.01"),
        ("BZMPOP", "0.01", "1", "missing", "MAX"),
        ("@block", ("BZPOPMIN", "wz", "0"), ("ZADD", "wz", "1", "a", "2", "b")),
        ("@block", ("BZPOPMAX", "wz2", "0"), ("ZADD", "wz2", "1", "a", "2", "b")),
        ("@block", ("BZMPOP", "0", "1", "wz3", "MAX", "COUNT", "5"), ("ZADD", "wz3", "1", "a", "2", "b")),
    ])


def test_xadd_ids_and_trimming(nodes):
    compare(nodes, [
        ("CONFIG", "SET", "stream-node-max-entries", "4"),
        ("XADD", "s", "1-1", "f", "v"),
        ("XADD", "s", "*", "f", "v"),
        ("XADD", "s", "99999999999999-*", "f", "v"),
        ("XADD", "s", "99999999999999-*", "f", "v"),
        ("DEL", "s"),
        ("XADD", "s", "5-*", "f", "v"),
        ("XADD", "s", "MAXLEN", "~", "2", "*", "f", "v"),
        ("XADD", "s", "MAXLEN", "=", "20", "*", "f", "v"),
        ("XADD", "s", "MAXLEN", "20", "*", "f", "v"),
        ("XADD", "s", "MINID", "~", "0", "*", "f", "v"),
        ("XADD", "s", "MAXLEN", "~", "2", "LIMIT", "5", "*", "f", "v"),
        ("XADD", "s", "MAXLEN", "~", "2", "*", "f", "v"),
        ("XADD", "s", "MAXLEN", "~", "2", "*", "f", "v"),
        ("XADD", "s", "MAXLEN", "~", "2", "*", "f", "v"),
        ("XLEN", "s"),
        ("XADD", "s", "NOMKSTREAM", "MAXLEN", "~", "1", "*", "f", "v"),
        ("XADD", "nokey", "NOMKSTREAM", "*", "f", "v"),
        ("DEL", "t"),
        ("XADD", "t", "1-1", "a", "1"),
        ("XADD", "t", "2-1", "a", "1"),
        ("XADD", "t", "3-1", "a", "1"),
        ("XADD", "t", "4-1", "a", "1"),
        ("XADD", "t", "5-1", "a", "1"),
        ("XADD", "t", "6-1", "a", "1"),
        ("XADD", "t", "7-1", "a", "1"),
        ("XADD", "t", "8-1", "a", "1"),
        ("XADD", "t", "9-1", "a", "1"),
        ("XDEL", "t", "5-1"),
        ("XTRIM", "t", "MAXLEN", "~", "100"),
        ("XTRIM", "t", "MINID", "~", "6-0"),
        ("XTRIM", "t", "MAXLEN", "~", "1"),
        ("XTRIM", "t", "MAXLEN", "1"),
        ("XTRIM", "t", "MINID", "~", "99-1"),
        ("XTRIM", "missing", "MAXLEN", "~", "1"),
    ])


def test_stream_edge_cases(nodes):
    compare(nodes, [
        ("CONFIG", "SET", "stream-node-max-entries", "2"),
        ("XADD", "e", "1-1", "f", "v"),
        ("XADD", "e", "2-1", "f", "v"),
        ("XADD", "e", "3-1", "f", "v"),
        ("XADD", "e", "MAXLEN", "~", "0", "4-1", "f", "v"),
        ("XADD", "e", "MAXLEN", "~", "0", "5-1", "f", "v"),
        ("XLEN", "e"),
        ("XADD", "e", "6-1", "f", "v"),
        ("XADD", "e", "7-1", "f", "v"),
        ("XTRIM", "e", "MINID", "~", "99-0"),
        ("XTRIM", "e", "MINID", "~", "99-0"),
        ("XINFO", "STREAM", "e"),
        ("XADD", "a", "1-1", "f", "v"),
        ("XADD", "b", "1-1", "f", "v"),
        ("XADD", "b", "2-1", "f", "v"),
        ("XGROUP", "CREATE", "a", "g", "0"),
        ("XGROUP", "CREATE", "b", "g", "0"),
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "a", "b", ">", ">"),
        ("XREADGROUP", "GROUP", "g", "n", "NOACK", "STREAMS", "a", "b", ">", ">"),
        ("XADD", "a", "5-1", "f", "v"),
        ("XADD", "b", "5-1", "f", "v"),
        ("XREADGROUP", "GROUP", "g", "n", "NOACK", "COUNT", "1", "STREAMS", "a", "b", ">", ">"),
        ("XREADGROUP", "GROUP", "g", "c", "COUNT", "0", "STREAMS", "a", "b", "0", ">"),
        ("XDEL", "b", "1-1"),
        ("XAUTOCLAIM", "b", "g", "z", "0", "0", "COUNT", "1"),
        ("XAUTOCLAIM", "b", "g", "z", "0", "0", "COUNT", "5", "JUSTID"),
        ("XCLAIM", "a", "g", "y", "0", "1-1", "IDLE", "5000"),
        ("XPENDING", "a", "g"),
        ("MULTI",),
        ("XREADGROUP", "GROUP", "g", "q", "BLOCK", "0", "STREAMS", "a", ">"),
        ("EXEC",),
    ])


def test_consumer_groups(nodes):
    compare(nodes, [
        ("XADD", "s", "1-1", "f", "v"),
        ("XADD", "s", "2-1", "f", "v"),
        ("XADD", "s", "3-1", "f", "v"),
        ("XGROUP", "CREATE", "s", "g", "0"),
        ("XREADGROUP", "GROUP", "g", "c1", "COUNT", "2", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", "0"),
        ("XADD", "s", "4-1", "f", "v"),
        ("XADD", "s", "5-1", "f", "v"),
        ("XREADGROUP", "GROUP", "g", "c2", "NOACK", "COUNT", "1", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g", "c2", "NOACK", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g", "c3", "NOACK", "STREAMS", "s", ">"),
        ("XCLAIM", "s", "g", "c9", "0", "1-1", "2-1"),
        ("XCLAIM", "s", "g", "c9", "0", "1-1", "JUSTID"),
        ("XCLAIM", "s", "g", "c9", "1000000", "1-1"),
        ("XDEL", "s", "2-1"),
        ("XCLAIM", "s", "g", "c8", "0", "2-1", "3-1"),
        ("XCLAIM", "s", "g", "c6", "0", "1-1", "LASTID", "9-9"),
        ("XCLAIM", "s", "g", "c6", "0", "3-1", "FORCE", "RETRYCOUNT", "7", "TIME", "12345"),
        ("XCLAIM", "s", "g", "c6", "0", "5-1", "FORCE"),
        ("XADD", "s", "6-1", "f", "v"),
        ("XCLAIM", "s", "g", "c6", "3600000", "6-1", "FORCE", "JUSTID"),
        ("XCLAIM", "s", "g", "c6", "3600000", "6-1", "FORCE", "JUSTID"),
        ("XCLAIM", "s", "g", "c6", "0", "77-1", "LASTID", "10-0"),
        ("XCLAIM", "s", "g", "c6", "0", "LASTID", "11-0"),
        ("XDEL", "s", "3-1"),
        ("XAUTOCLAIM", "s", "g", "c7", "0", "0-0"),
        ("XAUTOCLAIM", "s", "g", "c5", "0", "0-0", "COUNT", "1", "JUSTID"),
        ("XAUTOCLAIM", "s", "g", "c5", "100000", "0-0"),
        ("XGROUP", "CREATECONSUMER", "s", "g", "newc"),
        ("XADD", "s", "12-1", "f", "v"),
        ("XREADGROUP", "GROUP", "g", "newc2", "STREAMS", "s", ">"),
        ("XREADGROUP", "GROUP", "g", "newc3", "NOACK", "STREAMS", "s", ">"),
        ("XACK", "s", "g", "1-1"),
        ("XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "0"),
        ("XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "s", ">"),
        ("XINFO", "GROUPS", "s"),
        ("XGROUP", "SETID", "s", "g", "$"),
        ("@block", ("XREADGROUP", "GROUP", "g", "cb", "BLOCK", "0", "STREAMS", "s", ">"),
         ("XADD", "s", "13-1", "f", "v")),
        ("@block", ("XREADGROUP", "GROUP", "g", "cn", "NOACK", "BLOCK", "0", "STREAMS", "s", ">"),
         ("XADD", "s", "14-1", "f", "v")),
        ("XREAD", "STREAMS", "s", "0"),
    ])


def test_writes_that_change_nothing_propagate_nothing(nodes):
    compare(nodes, [
        ("SET", "k", "v"),
        ("GETSET", "k", "v2"),
        ("GETSET", "nk", "v"),
        ("DEL", "missing", "missing2"),
        ("UNLINK", "missing"),
        ("HSETNX", "h", "f", "v"),
        ("HSETNX", "h", "f", "v"),
        ("HSET", "h", "f", "v"),
        ("HDEL", "h", "nof"),
        ("SADD", "s", "a"),
        ("SADD", "s", "a"),
        ("SREM", "s", "x"),
        ("SMOVE", "s", "s2", "zz"),
        ("SMOVE", "s", "s", "a"),
        ("SMOVE", "missing", "s", "a"),
        ("ZADD", "z", "1", "a"),
        ("ZADD", "z", "1", "a"),
        ("ZADD", "z", "NX", "2", "a"),
        ("ZADD", "z", "XX", "CH", "2", "a"),
        ("ZADD", "nz", "XX", "2", "a"),
        ("ZINCRBY", "z", "0", "a"),
        ("ZINCRBY", "z", "0.1", "a"),
        ("ZREM", "z", "nope"),
        ("RPUSH", "l", "a", "b", "c"),
        ("LREM", "l", "0", "x"),
        ("LREM", "l", "0", "a"),
        ("RPUSHX", "nol", "a"),
        ("LPUSHX", "l", "a"),
        ("LTRIM", "nol", "0", "1"),
        ("LTRIM", "l", "0", "-1"),
        ("LTRIM", "l", "1", "-1"),
        ("SETRANGE", "k", "0", ""),
        ("SETRANGE", "k", "1", "x"),
        ("APPEND", "k", ""),
        ("XADD", "st", "1-1", "f", "v"),
        ("XACK", "st", "g", "1-1"),
        ("XDEL", "st", "9-9"),
        ("XDEL", "nost", "9-9"),
        ("RENAME", "k", "k"),
        ("RENAMENX", "k", "nk"),
        ("COPY", "k", "k3"),
        ("COPY", "k", "k3"),
        ("COPY", "missing", "k4"),
        ("MOVE", "missing", "1"),
        ("LINSERT", "l", "BEFORE", "nopivot", "x"),
        ("LINSERT", "nol", "BEFORE", "b", "x"),
        ("LINSERT", "l", "BEFORE", "b", "x"),
        ("ZREMRANGEBYSCORE", "z", "100", "200"),
        ("ZREMRANGEBYRANK", "nz", "0", "-1"),
        ("ZREMRANGEBYLEX", "z", "[x", "[y"),
        ("SINTERSTORE", "dst", "missing"),
        ("SUNIONSTORE", "dst", "s"),
        ("SDIFFSTORE", "dst", "s", "s"),
        ("SDIFFSTORE", "dst2", "s", "s"),
        ("EXPIRE", "k", "100"),
        ("PERSIST", "k"),
        ("PERSIST", "k"),
    ])


def test_effects_inside_transactions_and_scripts(nodes):
    compare(nodes, [
        ("SADD", "one", "a"),
        ("RPUSH", "l", "a", "b"),
        ("MULTI",),
        ("SET", "k", "v", "EX", "100"),
        ("INCRBYFLOAT", "f", "1.5"),
        ("SPOP", "one"),
        ("BLPOP", "l", "0"),
        ("BLPOP", "empty", "0"),
        ("EXPIRE", "k", "50"),
        ("EXEC",),
        ("MULTI",),
        ("GETEX", "k"),
        ("EXPIRE", "missing", "10"),
        ("EXEC",),
        ("EVAL", "redis.call('set', KEYS[1], 'v', 'px', 100000); "
                 "return redis.call('incrbyfloat', KEYS[2], '0.25')", "2", "k", "f"),
        ("EVAL", "return redis.call('hincrbyfloat', KEYS[1], 'x', '2.5')", "1", "h"),
        ("EVAL", "return redis.call('get', KEYS[1])", "1", "k"),
    ])


def test_restore_pfcount_sort(nodes):
    ref, sut = nodes
    payload = ref.call("DUMP", "__sync__").value
    compare(nodes, [
        ("RESTORE", "r0", "0", payload),
        ("RESTORE", "r1", "100000", payload),
        ("RESTORE", "r1", "100000", payload, "REPLACE", "IDLETIME", "10"),
        ("RESTORE", "r1", "9999999999000", payload, "REPLACE", "ABSTTL"),
        ("RESTORE", "r1", "1", payload, "REPLACE", "ABSTTL"),
        ("RESTORE", "r2", "1", payload, "ABSTTL"),
        ("PFADD", "hll", "a", "b", "c"),
        ("PFCOUNT", "hll"),
        ("PFCOUNT", "hll"),
        ("PFADD", "hll", "d"),
        ("PFADD", "hll", "d"),
        ("PFCOUNT", "hll", "hll"),
        ("PFCOUNT", "hll"),
        ("SADD", "set", "3", "1", "2", "b", "a", "10"),
        ("SORT", "set", "BY", "nosort", "STORE", "d"),
        ("LRANGE", "d", "0", "-1"),
        ("SORT", "set", "ALPHA", "STORE", "d2"),
        ("RPUSH", "list", "3", "1", "2"),
        ("SORT", "list", "BY", "nosort", "STORE", "d3"),
    ])


# Commands whose effects are rewritten, for the end-to-end data checks.
SCRIPT = [
    ("SET", "s1", "v", "EX", "1000"),
    ("SETEX", "s2", "1000", "v"),
    ("SET", "f", "0.1"),
    ("INCRBYFLOAT", "f", "0.2"),
    ("HINCRBYFLOAT", "h", "x", "1.1"),
    ("SET", "e", "v"),
    ("EXPIRE", "e", "500"),
    ("SADD", "set", *[str(i) for i in range(50)]),
    ("SPOP", "set"),
    ("SPOP", "set", "7"),
    ("RPUSH", "l", "a", "b", "c", "d"),
    ("BLPOP", "l", "0"),
    ("BLMOVE", "l", "l2", "LEFT", "RIGHT", "0"),
    ("ZADD", "z", "1", "a", "2", "b", "3", "c"),
    ("BZPOPMAX", "z", "0"),
    ("XADD", "st", "*", "f", "v"),
    ("XADD", "st", "MAXLEN", "~", "1", "*", "f", "v"),
    *[("XADD", "st", "MAXLEN", "~", "3", "LIMIT", "4", "*", "f", "v") for _ in range(12)],
    ("XADD", "st", "MINID", "~", "0", "*", "f", "v"),
    ("XTRIM", "st", "MAXLEN", "~", "2"),
    ("XGROUP", "CREATE", "st", "g", "0"),
    ("XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "st", ">"),
    ("XREADGROUP", "GROUP", "g", "c2", "NOACK", "COUNT", "1", "STREAMS", "st", ">"),
    ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "st", ">"),
    ("XCLAIM", "st", "g", "c3", "0", "0-1"),
    ("XAUTOCLAIM", "st", "g", "c4", "0", "0", "COUNT", "1"),
    ("XCLAIM", "st", "g", "c5", "0", "0-1", "LASTID", "99999999999999-0"),
    ("RESTORE", "rk", "100000", "@payload"),
    ("SET", "ng", "v", "GET", "NX"),
    ("GETSET", "ng", "w"),
    ("GETDEL", "ng"),
    ("LMPOP", "1", "l2", "RIGHT", "COUNT", "3"),
    ("ZADD", "z2", "1", "a", "2", "b"),
    ("ZMPOP", "1", "z2", "MIN", "COUNT", "5"),
    ("SORT", "set", "BY", "nosort", "STORE", "sorted"),
    ("PFADD", "hll", "a", "b"),
    ("PFCOUNT", "hll"),
    ("GETEX", "s1", "PERSIST"),
]


def run_script(c):
    c.call("SET", "src", "restored")
    payload = c.call("DUMP", "src").value
    for cmd in SCRIPT:
        cmd = tuple(payload if a == "@payload" else a for a in cmd)
        assert not c.call(*cmd).is_error, cmd


def snapshot(c):
    """Every key's type, content (streams: entries, groups, PELs with their
    delivery times and counts) and absolute expiry time."""
    # A server just started may still be loading its AOF (-LOADING).
    deadline = time.monotonic() + 20
    while c.call("PING").is_error:
        assert time.monotonic() < deadline, "still loading"
        time.sleep(0.02)
    keys = sorted(k.value for k in c.call("KEYS", "*").value)
    out = {}
    for k in keys:
        t = c.call("TYPE", k).value
        if t == b"string":
            v = c.call("GET", k).value
        elif t == b"hash":
            v = sorted(x.value for x in c.call("HGETALL", k).value)
        elif t == b"set":
            v = sorted(x.value for x in c.call("SMEMBERS", k).value)
        elif t == b"list":
            v = [x.value for x in c.call("LRANGE", k, "0", "-1").value]
        elif t == b"zset":
            v = [x.value for x in c.call("ZRANGE", k, "0", "-1", "WITHSCORES").value]
        else:
            v = [c.call("XRANGE", k, "-", "+").to_py(),
                 c.call("XINFO", "STREAM", k, "FULL").to_py()]
            # Consumers' seen-times are local clocks, not replicated data.
            for g in v[1][v[1].index(b"groups") + 1]:
                for cons in g[g.index(b"consumers") + 1]:
                    cons[cons.index(b"seen-time") + 1] = 0
        out[k] = (t, v, c.call("PEXPIRETIME", k).value)
    assert len(out) >= 13 and out[b"st"][0] == b"stream", out.keys()
    return out


@pytest.mark.parametrize("master_kind,replica_kind", [("shoal", "redis"), ("redis", "shoal")])
def test_replica_gets_the_same_data(server_factory, master_kind, replica_kind):
    """A real redis-server replica of shoal ends with shoal's data, and a
    shoal replica of redis-server applies everything Redis propagates (the
    rewritten forms: XCLAIM ... LASTID, XADD ... MAXLEN = n LIMIT m, ...)."""
    master = server_factory.start(master_kind, "--stream-node-max-entries", "4")
    replica = server_factory.start(replica_kind)
    m, r = master.conn(), replica.conn()
    r.call("REPLICAOF", "127.0.0.1", str(master.port))
    deadline = time.monotonic() + 20
    while b"master_link_status:up" not in r.call("INFO", "replication").value:
        assert time.monotonic() < deadline, "replica never synced"
        time.sleep(0.05)
    run_script(m)
    m.call("SET", "__done__", "1")
    deadline = time.monotonic() + 20
    while r.call("GET", "__done__").value != b"1":
        assert time.monotonic() < deadline, "replica never caught up"
        time.sleep(0.05)
    assert snapshot(r) == snapshot(m)


def test_aof_replay_gets_the_same_data(server_factory):
    """shoal's AOF (the same effects) replayed by shoal and by redis-server."""
    s = server_factory.start("shoal", "--appendonly", "yes", "--stream-node-max-entries", "4")
    c = s.conn()
    run_script(c)
    want = snapshot(c)
    c.close()
    s.stop()
    s.start()
    c = s.conn()
    assert snapshot(c) == want
    c.close()
    s.stop()
    r = server_factory.start("redis", "--appendonly", "yes", "--dir", str(s.dir))
    assert snapshot(r.conn()) == want
