"""Scripts and functions running past busy-reply-threshold: other clients get
-BUSY (the EVAL or the FUNCTION variant), commands flagged allow_busy still
run, SCRIPT KILL / FUNCTION KILL stop a script that has not written (and
refuse with -UNKILLABLE once it has), FUNCTION STATS shows the running
function, SHUTDOWN NOSAVE ends the server. Every test runs against both
redis-server 7.0.15 and shoal-server with the same expectations.
"""

from __future__ import annotations

import time

import pytest

BUSY_EVAL = b"BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
BUSY_FUNC = b"BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
UNKILLABLE = (b"UNKILLABLE Sorry the script already executed write commands against the dataset. "
              b"You can either wait the script termination or kill the server in a hard way "
              b"using the SHUTDOWN NOSAVE command.")
SPIN = "local i = 0 while true do i = i + 1 end"
LIB = ("#!lua name=busy\n"
       "redis.register_function{function_name='spinro', callback=function() while true do end end, "
       "flags={'no-writes'}}\n")

KINDS = ["redis", "shoal"]


@pytest.fixture(params=KINDS)
def srv(request, server_factory):
    return server_factory.start(request.param, "--busy-reply-threshold", "100")


def wait_busy(c, expect):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        r = c.call("PING")
        if r.is_error:
            assert r.value == expect
            return
        time.sleep(0.02)
    pytest.fail("the script never became busy")


def test_eval_busy_and_script_kill(srv):
    with srv.conn(timeout=20) as runner, srv.conn() as other:
        runner.send("EVAL", SPIN, "0")
        wait_busy(other, BUSY_EVAL)
        assert other.call("GET", "k").value == BUSY_EVAL
        assert other.call("FUNCTION", "KILL").value == BUSY_EVAL
        assert other.call("FUNCTION", "STATS").value == BUSY_EVAL
        assert other.call("MULTI").value == b"OK"       # allow_busy
        assert other.call("DISCARD").value == b"OK"
        assert other.call("SHUTDOWN").value == BUSY_EVAL  # only NOSAVE while busy
        # a connection opened while the script runs is served too
        with srv.conn() as late:
            assert late.call("SET", "a", "b").value == BUSY_EVAL
            assert late.call("SCRIPT", "KILL").value == b"OK"
        r = runner.read_reply()
        assert r.is_error
        assert r.value.startswith(b"ERR Script killed by user with SCRIPT KILL... script: ")
        assert r.value.endswith(b", on @user_script:1.")
        assert other.call("PING").value == b"PONG"
        assert other.call("SCRIPT", "KILL").value == b"NOTBUSY No scripts in execution right now."


def test_script_that_wrote_is_unkillable_until_shutdown_nosave(srv):
    with srv.conn(timeout=20) as runner, srv.conn() as other:
        runner.send("EVAL", "redis.call('set', 'w', '1') " + SPIN, "0")
        wait_busy(other, BUSY_EVAL)
        assert other.call("SCRIPT", "KILL").value == UNKILLABLE
        other.send("SHUTDOWN", "NOSAVE")
        _, closed = other.read_until_close(timeout=10)
        assert closed
        _, closed = runner.read_until_close(timeout=10)
        assert closed
    deadline = time.monotonic() + 10
    while srv.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not srv.alive()


def test_function_busy_stats_and_kill(srv):
    with srv.conn(timeout=20) as runner, srv.conn() as other:
        assert other.call("FUNCTION", "LOAD", LIB).value == b"busy"
        runner.send("FCALL", "spinro", "0")
        wait_busy(other, BUSY_FUNC)
        assert other.call("SCRIPT", "KILL").value == BUSY_FUNC
        stats = other.call("FUNCTION", "STATS")
        running = stats.value[1].value
        assert [x.value for x in running[:4]] == [b"name", b"spinro", b"command",
                                                   running[3].value]
        assert [x.value for x in running[3].value] == [b"FCALL", b"spinro", b"0"]
        assert running[4].value == b"duration_ms" and running[5].value >= 100
        assert other.call("FUNCTION", "KILL").value == b"OK"
        r = runner.read_reply()
        assert r.value == b"ERR Script killed by user with SCRIPT KILL... script: spinro, on @user_function:2."
        assert other.call("FCALL", "spinro", "x").value == b"ERR Bad number of keys provided"


def test_short_scripts_are_never_busy(srv):
    with srv.conn() as c:
        assert c.call("EVAL", "local s = 0 for i = 1, 200000 do s = s + i end return s", "0").value == 20000100000
        assert c.call("SCRIPT", "KILL").value == b"NOTBUSY No scripts in execution right now."
        assert c.call("FUNCTION", "KILL").value == b"NOTBUSY No scripts in execution right now."
