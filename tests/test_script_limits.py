"""Limits of scripts that both servers must enforce alike: FUNCTION LOAD
stops library code running past 500 ms, and a script reply nested deeper
than the Lua stack allows ends in "reached lua stack limit" at the same depth
(checked on the raw bytes: the nesting is too deep for a recursive parser).
"""

from __future__ import annotations

import socket
import time

import pytest


@pytest.fixture(params=["redis", "shoal"])
def srv(request, server_factory):
    return server_factory.start(request.param)


def test_function_load_timeout(srv):
    with srv.conn(timeout=20) as c:
        t0 = time.monotonic()
        r = c.call("FUNCTION", "LOAD", "#!lua name=inf\nwhile true do end")
        assert r.value == b"ERR Error registering functions: ERR FUNCTION LOAD timeout"
        assert time.monotonic() - t0 < 5
        r = c.call("FUNCTION", "LOAD", "#!lua name=inf2\nlocal function f() return f() end\nf()")
        assert r.value == b"ERR Error registering functions: ERR FUNCTION LOAD timeout"
        assert c.call("FUNCTION", "LIST").value == ()


def raw_eval(port, body):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    cmd = b"*3\r\n$4\r\nEVAL\r\n$%d\r\n%s\r\n$1\r\n0\r\n" % (len(body), body.encode())
    s.sendall(cmd + b"*1\r\n$4\r\nPING\r\n")
    data = b""
    while not data.endswith(b"+PONG\r\n"):
        d = s.recv(1 << 20)
        assert d, "connection closed"
        data += d
    s.close()
    return data[:-len(b"+PONG\r\n")]


@pytest.mark.parametrize("n,error", [(7994, False), (7995, True)])
def test_deep_reply_nesting(srv, n, error):
    data = raw_eval(srv.port, "local t = {} for i=1,%d do t = {t} end return t" % n)
    assert data.count(b"*1\r\n") == n
    if error:
        assert data.endswith(b"*1\r\n-ERR reached lua stack limit\r\n")
    else:
        assert data.endswith(b"*1\r\n*0\r\n")
