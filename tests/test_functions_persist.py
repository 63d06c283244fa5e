"""Function libraries survive DEBUG RELOAD and a restart (they are written to
the RDB as RDB_OPCODE_FUNCTION2 records), an RDB written by the real
redis-server 7.0.15 with libraries loads into shoal (and shoal's loads into
Redis), and FUNCTION DUMP payloads move between the two servers.
"""

from __future__ import annotations

import shutil

import pytest

LIB = ("#!lua name=persisted\n"
       "redis.register_function('pf_echo', function(keys, args) return args[1] end)\n"
       "redis.register_function{function_name='pf_get', callback=function(keys) "
       "return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}\n")
LIB2 = ("#!lua name=second\n"
        "redis.register_function('pf_incr', function(keys) return redis.call('incr', keys[1]) end)\n")
DEBUG = ("--enable-debug-command", "yes")


def ok(r):
    assert not r.is_error, r
    return r


def load_libs(srv):
    with srv.conn() as c:
        assert ok(c.call("FUNCTION", "LOAD", LIB)).value == b"persisted"
        assert ok(c.call("FUNCTION", "LOAD", LIB2)).value == b"second"
        ok(c.call("SET", "k", "v"))


def check_libs(srv):
    with srv.conn() as c:
        assert c.call("FCALL", "pf_echo", "0", "hi").value == b"hi"
        assert c.call("FCALL_RO", "pf_get", "1", "k").value == b"v"
        assert c.call("FCALL", "pf_incr", "1", "n").value == 1
        listing = c.call("FUNCTION", "LIST", "WITHCODE")
        codes = set()
        for lib in listing.value:
            items = lib.value
            d = {items[i].value: items[i + 1] for i in range(0, len(items), 2)}
            codes.add(d[b"library_code"].value)
        assert codes == {LIB.encode(), LIB2.encode()}


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_functions_survive_debug_reload(server_factory, kind):
    srv = server_factory.start(kind, *DEBUG)
    load_libs(srv)
    with srv.conn() as c:
        ok(c.call("DEBUG", "RELOAD"))
    check_libs(srv)


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_functions_survive_restart(server_factory, kind):
    srv = server_factory.start(kind)
    load_libs(srv)
    with srv.conn() as c:
        ok(c.call("SAVE"))
    srv.stop()
    srv.start()
    check_libs(srv)


@pytest.mark.parametrize("kind", ["redis", "shoal"])
@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_functions_survive_aof_rewrite(server_factory, kind, preamble):
    """A rewritten AOF keeps the libraries, as an RDB base or as FUNCTION LOAD
    commands (aof-use-rdb-preamble no)."""
    import time
    srv = server_factory.start(kind, "--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
    load_libs(srv)
    def rewriting(c):
        info = c.call("INFO", "persistence").value
        return b"aof_rewrite_in_progress:1" in info or b"aof_rewrite_scheduled:1" in info

    with srv.conn() as c:
        deadline = time.time() + 20
        # The rewrite that creates the first base may still be running.
        while rewriting(c) and time.time() < deadline:
            time.sleep(0.05)
        ok(c.call("BGREWRITEAOF"))
        while rewriting(c) and time.time() < deadline:
            time.sleep(0.05)
    srv.stop()
    srv.start()
    with srv.conn() as c:
        # Both servers may answer -LOADING while they replay the AOF.
        while b"loading:1" in c.call("INFO", "persistence").value and time.time() < deadline + 20:
            time.sleep(0.05)
    check_libs(srv)


@pytest.mark.parametrize("writer,reader", [("redis", "shoal"), ("shoal", "redis")])
def test_rdb_with_functions_between_servers(server_factory, writer, reader):
    w = server_factory.start(writer)
    load_libs(w)
    with w.conn() as c:
        ok(c.call("SAVE"))
    w.stop()
    r = server_factory.start(reader)
    r.stop()
    shutil.copy(w.dir / "dump.rdb", r.dir / "dump.rdb")
    r.start()
    check_libs(r)


def test_function_dump_restore_between_servers(server_factory):
    redis, shoal = server_factory.pair()
    load_libs(redis)
    with redis.conn() as c:
        payload = ok(c.call("FUNCTION", "DUMP")).value
    with shoal.conn() as c:
        assert ok(c.call("FUNCTION", "RESTORE", payload)).value == b"OK"
        assert c.call("FUNCTION", "RESTORE", payload).value.startswith(b"ERR Library ")
        ok(c.call("SET", "k", "v"))
        shoal_payload = ok(c.call("FUNCTION", "DUMP")).value
    check_libs(shoal)
    with redis.conn() as c:
        ok(c.call("FUNCTION", "FLUSH"))
        assert ok(c.call("FUNCTION", "RESTORE", shoal_payload)).value == b"OK"
    check_libs(redis)


def test_function_dump_single_library_is_byte_identical(server_factory):
    # Uncompressed strings: this checks the payload framing (opcode, string,
    # RDB version, CRC64), not the LZF compressor.
    redis, shoal = server_factory.pair("--rdbcompression", "no")
    payloads = []
    for srv in (redis, shoal):
        with srv.conn() as c:
            ok(c.call("FUNCTION", "LOAD", LIB))
            payloads.append(ok(c.call("FUNCTION", "DUMP")).value)
    assert payloads[0] == payloads[1]


def wait_until(pred, what, timeout=20.0):
    import time
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.mark.parametrize("master_kind,replica_kind", [("redis", "shoal"), ("shoal", "redis")])
def test_functions_reach_replicas(server_factory, master_kind, replica_kind):
    """Libraries loaded before the sync travel in the RDB; later FUNCTION
    LOAD / DELETE travel in the command stream."""
    master = server_factory.start(master_kind)
    replica = server_factory.start(replica_kind)
    with master.conn() as m, replica.conn() as r:
        ok(m.call("FUNCTION", "LOAD", LIB))
        ok(m.call("SET", "k", "v"))
        ok(r.call("REPLICAOF", "127.0.0.1", str(master.port)))
        wait_until(lambda: b"master_link_status:up" in r.call("INFO", "replication").value,
                   "replica never synced")
        wait_until(lambda: r.call("GET", "k").value == b"v", "replica never loaded the data")
        assert r.call("FCALL_RO", "pf_get", "1", "k").value == b"v"
        ok(m.call("FUNCTION", "LOAD", LIB2))
        ok(m.call("FCALL", "pf_incr", "1", "n"))
        wait_until(lambda: r.call("GET", "n").value == b"1", "FCALL effects never arrived")
        libs = {x.value[1].value for x in r.call("FUNCTION", "LIST").value}
        assert libs == {b"persisted", b"second"}
        ok(m.call("FUNCTION", "DELETE", "persisted"))
        ok(m.call("SET", "done", "1"))
        wait_until(lambda: r.call("GET", "done").value == b"1", "replica never caught up")
        libs = {x.value[1].value for x in r.call("FUNCTION", "LIST").value}
        assert libs == {b"second"}
