"""Malformed and hostile input: every test runs against redis-server AND
shoal-server (parametrized), so each expectation is proven on Redis 7.0.15.

For each input the test checks what the client sees (exact reply bytes, and
whether the server closes the connection), and afterwards that the server
still serves another client (PING, SET/GET).
"""

from __future__ import annotations

import random
import socket
import time

import pytest

import resp

SETTLE = 0.3  # seconds without data after which an open connection is "quiet"


def healthy(server):
    """The server answers PING and SET/GET for a new client."""
    assert server.alive(), f"{server.name} exited:\n{server.log_tail()}"
    with server.conn(timeout=5) as c:
        assert c.call("PING") == resp.Reply(resp.SIMPLE, b"PONG")
        assert c.call("SET", "health:key", "v1") == resp.Reply(resp.SIMPLE, b"OK")
        assert c.call("GET", "health:key") == resp.Reply(resp.BULK, b"v1")


def exchange(server, data: bytes, expect: bytes, closed: bool, timeout=5.0):
    """Send data on a new connection; return (received bytes, closed?).

    If the connection is expected to stay open, read until len(expect) bytes
    arrived and then SETTLE seconds of silence (to catch extra bytes)."""
    c = server.conn(timeout=timeout)
    try:
        try:
            c.send_raw(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close before reading everything
        if closed:
            return c.read_until_close(timeout)
        got = b""
        deadline = time.monotonic() + timeout
        while len(got) < len(expect):
            left = deadline - time.monotonic()
            if left <= 0:
                return got, False
            c.sock.settimeout(left)
            try:
                chunk = c.sock.recv(65536)
            except socket.timeout:
                return got, False
            except ConnectionResetError:
                return got, True
            if not chunk:
                return got, True
            got += chunk
        more, was_closed = c.read_until_close(SETTLE + 0.2, idle=SETTLE)
        return got + more, was_closed
    finally:
        c.close()


# (id, bytes sent, exact bytes expected, connection closed by the server?)
PROTOCOL_CASES = [
    # lengths
    ("multibulk-negative-ignored", b"*-5\r\n*1\r\n$4\r\nPING\r\n", b"+PONG\r\n", False),
    ("multibulk-minus-one-ignored", b"*-1\r\n*1\r\n$4\r\nPING\r\n", b"+PONG\r\n", False),
    ("multibulk-zero-ignored", b"*0\r\n*1\r\n$4\r\nPING\r\n", b"+PONG\r\n", False),
    ("bulk-negative", b"*1\r\n$-2\r\n", b"-ERR Protocol error: invalid bulk length\r\n", True),
    ("bulk-minus-one", b"*1\r\n$-1\r\n", b"-ERR Protocol error: invalid bulk length\r\n", True),
    ("multibulk-1048577-waits", b"*1048577\r\n", b"", False),
    ("multibulk-over-int-max", b"*2147483648\r\n",
     b"-ERR Protocol error: invalid multibulk length\r\n", True),
    ("bulk-2147483648", b"*1\r\n$2147483648\r\n",
     b"-ERR Protocol error: invalid bulk length\r\n", True),
    ("bulk-over-proto-max-bulk-len", b"*1\r\n$536870913\r\n",
     b"-ERR Protocol error: invalid bulk length\r\n", True),
    ("declared-1gb-bulk", b"*1\r\n$1000000000\r\nsome data",
     b"-ERR Protocol error: invalid bulk length\r\n", True),
    # malformed numbers
    ("multibulk-not-a-number", b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n", True),
    ("multibulk-trailing-space", b"*1 \r\n$4\r\nPING\r\n",
     b"-ERR Protocol error: invalid multibulk length\r\n", True),
    ("multibulk-leading-zero", b"*01\r\n$4\r\nPING\r\n",
     b"-ERR Protocol error: invalid multibulk length\r\n", True),
    ("multibulk-plus-sign", b"*+1\r\n$4\r\nPING\r\n",
     b"-ERR Protocol error: invalid multibulk length\r\n", True),
    ("bulk-not-a-number", b"*1\r\n$abc\r\n", b"-ERR Protocol error: invalid bulk length\r\n", True),
    ("bulk-leading-zero", b"*1\r\n$04\r\nPING\r\n", b"-ERR Protocol error: invalid bulk length\r\n", True),
    # wrong types inside a multibulk
    ("simple-string-in-multibulk", b"*1\r\n+PING\r\n",
     b"-ERR Protocol error: expected '$', got '+'\r\n", True),
    ("integer-in-multibulk", b"*1\r\n:4\r\n", b"-ERR Protocol error: expected '$', got ':'\r\n", True),
    # missing CRLF
    ("header-lf-only", b"*1\n$4\r\nPING\r\n", b"-ERR Protocol error: invalid multibulk length\r\n", True),
    ("inline-lf-only", b"PING\n", b"+PONG\r\n", False),
    ("blank-lines-ignored", b"\r\n\n\n*1\r\n$4\r\nPING\r\n", b"+PONG\r\n", False),
    # truncated frames: the server waits for the rest, says nothing
    ("truncated-bulk", b"*1\r\n$4\r\nPI", b"", False),
    ("truncated-header", b"*1\r\n$4", b"", False),
    ("truncated-multibulk", b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n", b"", False),
    ("declared-512mb-bulk-waits", b"*1\r\n$536870912\r\n" + b"x" * 1000, b"", False),
    # inline oddities
    ("inline-unbalanced-quotes", b'SET "foo bar\r\n',
     b"-ERR Protocol error: unbalanced quotes in request\r\n", True),
    ("inline-too-big", b"a" * 70000, b"-ERR Protocol error: too big inline request\r\n", True),
    ("inline-64k-no-newline-waits", b"a" * 65536, b"", False),
    ("inline-dollar-word", b"$4\r\nPING\r\n",
     b"-ERR unknown command '$4', with args beginning with: \r\n+PONG\r\n", False),
    ("empty-bulk-command", b"*1\r\n$0\r\n\r\n",
     b"-ERR unknown command '', with args beginning with: \r\n", False),
]


@pytest.mark.parametrize("case", PROTOCOL_CASES, ids=[c[0] for c in PROTOCOL_CASES])
def test_protocol_input(any_server, case):
    name, data, expect, closed = case
    got, was_closed = exchange(any_server, data, expect, closed)
    assert (got, was_closed) == (expect, closed), (
        f"{name}: sent {data[:80]!r}{'...' if len(data) > 80 else ''}\n"
        f"  expected {expect!r} and connection {'closed' if closed else 'open'}\n"
        f"  got      {got[:300]!r} and connection {'closed' if was_closed else 'open'}")
    healthy(any_server)


def test_bulk_payload_without_crlf(any_server):
    """Redis does not check the two bytes after a bulk payload: it skips them.
    ("PINGxx" is read as PING; "abcde" with $3 is "abc" then "de" skipped.)"""
    got, closed = exchange(any_server, b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n",
                           b"+PONG\r\n+PONG\r\n", False)
    assert (got, closed) == (b"+PONG\r\n+PONG\r\n", False)
    got, closed = exchange(any_server, b"*2\r\n$4\r\nECHO\r\n$3\r\nabcde\r\n",
                           b"$3\r\nabc\r\n", False)
    assert (got, closed) == (b"$3\r\nabc\r\n", False)
    healthy(any_server)


def test_declared_huge_bulk_then_disconnect(any_server):
    """A client declares the largest allowed bulk (512 MB), sends a little and
    disconnects: nothing is answered, memory is not committed, the server
    goes on."""
    before = any_server.rss_kb()
    for _ in range(3):
        c = any_server.conn()
        c.send_raw(b"*2\r\n$3\r\nGET\r\n$536870912\r\n" + b"y" * 4096)
        c.close()
    healthy(any_server)
    grown_mb = (any_server.rss_kb() - before) / 1024
    assert grown_mb < 64, f"RSS grew by {grown_mb:.0f} MB after declared huge bulks"


def test_data_then_close_is_noticed(any_server):
    """Clients that send part of a command (or a whole one) and close at once:
    the data and the FIN can arrive together, and the server must still see
    the end of the stream and drop each connection."""
    import socket
    import time

    def clients():
        """Connected clients besides the one asking."""
        with any_server.conn(timeout=5) as c:
            return c.call("CLIENT", "LIST").value.count(b"\n") - 1

    base = clients()
    for payload in (b"*2\r\n$3\r\nGET\r\n$1", b"PING\r\n", b"*3\r\n$3\r\nSET\r\n"):
        for _ in range(5):
            s = socket.create_connection(("127.0.0.1", any_server.port))
            s.sendall(payload)
            s.close()
    deadline = time.monotonic() + 5
    while clients() > base and time.monotonic() < deadline:
        time.sleep(0.05)
    assert clients() == base, "connections closed by their peers are still open"
    healthy(any_server)


def test_binary_garbage_fuzz(any_server):
    """Seeded random garbage: the server may answer errors or close, but the
    answer is valid RESP and the server keeps serving others."""
    rng = random.Random(1234)
    for i in range(40):
        n = rng.choice([1, 2, 5, 17, 100, 1000, 5000])
        prefix = rng.choice([b"", b"*", b"*2\r\n", b"*1\r\n$", b"$", b"+", b"\x00",
                             b"*3\r\n$3\r\nSET\r\n"])
        data = prefix + bytes(rng.randrange(256) for _ in range(n))
        c = any_server.conn(timeout=5)
        try:
            try:
                c.send_raw(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            out, _ = c.read_until_close(1.0, idle=0.1)
        finally:
            c.close()
        p = resp.Parser()
        p.feed(out)
        while True:
            try:
                r = p.next()
            except resp._Incomplete:
                break
            assert r.kind in (resp.ERROR, resp.SIMPLE, resp.BULK, resp.INTEGER,
                              resp.NULL_BULK, resp.ARRAY), r
        assert not p.pending, f"garbage #{i}: reply is not complete RESP: {out[:200]!r}"
        assert any_server.alive(), f"server died on garbage #{i}: {data[:100]!r}"
    healthy(any_server)


def test_many_idle_connections(any_server):
    """2,000 idle connections are accepted and all still answer afterwards."""
    n = 2000
    socks = []
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", any_server.port), timeout=10)
            socks.append(s)
        healthy(any_server)
        for s in socks:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
        for i, s in enumerate(socks):
            buf = b""
            while len(buf) < 7:
                chunk = s.recv(64)
                assert chunk, f"connection {i} was closed"
                buf += chunk
            assert buf == b"+PONG\r\n", f"connection {i}: {buf!r}"
    finally:
        for s in socks:
            s.close()
    healthy(any_server)


def _client_count(server) -> int:
    with server.conn(timeout=5) as c:
        r = c.call("CLIENT", "LIST")
    assert not r.is_error, r
    text = r.value if r.kind == resp.BULK else r.value[1]
    return len([l for l in text.split(b"\n") if l.strip()])


def _wait(cond, timeout, what):
    deadline = time.monotonic() + timeout
    delay = 0.01
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_query_buffer_limit(kind, server_factory):
    """A command that would grow the query buffer past client-query-buffer-limit
    gets the connection closed without a reply."""
    srv = server_factory.start(kind)
    with srv.conn() as c:
        assert c.call("CONFIG", "SET", "client-query-buffer-limit", "1mb") == \
            resp.Reply(resp.SIMPLE, b"OK")
    got, closed = exchange(srv, b"*1\r\n$2000000\r\n" + b"x" * 1500000, b"", True)
    assert (got, closed) == (b"", True)
    healthy(srv)
    # below the limit the same kind of partial command just waits
    got, closed = exchange(srv, b"*1\r\n$200000\r\n" + b"x" * 150000, b"", False)
    assert (got, closed) == (b"", False)
    healthy(srv)


def test_slow_reader_hits_output_buffer_limit(kind, server_factory):
    """A client that does not read its replies is disconnected once its output
    buffer passes the normal-class hard limit set with CONFIG SET."""
    srv = server_factory.start(kind)
    value = b"v" * 100_000
    n_gets = 300  # 30 MB of replies, far more than socket buffers hold
    with srv.conn() as c:
        assert c.call("CONFIG", "SET", "client-output-buffer-limit",
                      "normal 1mb 0 0") == resp.Reply(resp.SIMPLE, b"OK")
        assert c.call("SET", "big", value) == resp.Reply(resp.SIMPLE, b"OK")
    baseline = _client_count(srv)
    slow = resp.Connection("127.0.0.1", srv.port, rcvbuf=4096, timeout=30)
    try:
        _wait(lambda: _client_count(srv) == baseline + 1, 10, "the slow client to register")
        try:
            slow.send_raw(resp.encode_command(["GET", "big"]) * n_gets)
        except (BrokenPipeError, ConnectionResetError):
            pass
        _wait(lambda: _client_count(srv) == baseline, 20,
              "the server to drop the slow reader")
        data, closed = slow.read_until_close(30)
    finally:
        slow.close()
    assert closed
    full = n_gets * (len(value) + len(b"$100000\r\n\r\n"))
    assert len(data) < full, "the slow reader got every reply: it was never cut off"
    healthy(srv)


def test_maxclients(kind, server_factory):
    """With maxclients N, client N+1 gets the exact error and is closed."""
    limit = 8
    srv = server_factory.start(kind, "--maxclients", str(limit))
    conns = []
    try:
        for i in range(limit):
            # A readiness probe may still be counted for a moment: retry.
            def try_one():
                c = srv.conn(timeout=5)
                r = c.call("PING")
                if r == resp.Reply(resp.SIMPLE, b"PONG"):
                    conns.append(c)
                    return True
                c.close()
                return False
            _wait(try_one, 10, f"client {i + 1} of {limit} to be accepted")
        extra = srv.conn(timeout=5)
        got, closed = extra.read_until_close(5)
        extra.close()
        assert (got, closed) == (b"-ERR max number of clients reached\r\n", True)
        conns.pop().close()

        def slot_free():
            c = srv.conn(timeout=5)
            try:
                c.send("PING")
                return c.read_reply() == resp.Reply(resp.SIMPLE, b"PONG")
            except (resp.ConnectionClosed, OSError):
                return False
            finally:
                c.close()
        _wait(slot_free, 10, "a slot to free up after one client left")
    finally:
        for c in conns:
            c.close()
    healthy(srv)


# With requirepass, Redis limits what an unauthenticated client may declare.
UNAUTH_CASES = [
    ("unauth-multibulk-11", b"*11\r\n",
     b"-ERR Protocol error: unauthenticated multibulk length\r\n", True),
    ("unauth-multibulk-10-waits", b"*10\r\n", b"", False),
    ("unauth-bulk-16385", b"*2\r\n$4\r\nAUTH\r\n$16385\r\n",
     b"-ERR Protocol error: unauthenticated bulk length\r\n", True),
    ("unauth-bulk-16384-waits", b"*2\r\n$4\r\nAUTH\r\n$16384\r\n", b"", False),
    ("unauth-noauth-error", b"*1\r\n$4\r\nPING\r\n", b"-NOAUTH Authentication required.\r\n", False),
    ("authenticated-no-limit", b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*11\r\n", b"+OK\r\n", False),
    ("authenticated-big-bulk", b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*2\r\n$4\r\nECHO\r\n$16385\r\n",
     b"+OK\r\n", False),
]


@pytest.fixture(scope="module", params=["redis", "shoal"])
def auth_server(request, module_factory):
    return module_factory.start(request.param, "--requirepass", "pw")


@pytest.mark.parametrize("case", UNAUTH_CASES, ids=[c[0] for c in UNAUTH_CASES])
def test_unauthenticated_limits(auth_server, case):
    name, data, expect, closed = case
    got, was_closed = exchange(auth_server, data, expect, closed)
    assert (got, was_closed) == (expect, closed), (
        f"{name}: sent {data!r}\n  expected {expect!r} "
        f"{'closed' if closed else 'open'}\n  got {got[:300]!r} "
        f"{'closed' if was_closed else 'open'}")
    with auth_server.conn(timeout=5) as c:
        assert c.call("AUTH", "pw") == resp.Reply(resp.SIMPLE, b"OK")
        assert c.call("PING") == resp.Reply(resp.SIMPLE, b"PONG")
