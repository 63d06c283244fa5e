"""stop-writes-on-bgsave-error: after a failed background save, writes (and
PING) get Redis's MISCONF error while save points are configured; reads go
on, and a successful save lifts it. Run against both servers."""

from __future__ import annotations

import os
import shutil
import tempfile
import time

import pytest
import redis


@pytest.mark.parametrize("kind", ["redis", "shoal"])
def test_failed_bgsave_stops_writes(server_factory, kind):
    srv = server_factory.start(kind, "--save", "3600 1", "--enable-protected-configs", "yes")
    r = redis.Redis(port=srv.port)
    r.set("k", "v")
    gone = tempfile.mkdtemp(prefix="shoal-gone-")
    r.config_set("dir", gone)
    shutil.rmtree(gone)
    try:
        r.bgsave()
    except redis.ResponseError:
        pass
    deadline = time.time() + 10
    while r.info("persistence")["rdb_last_bgsave_status"] != "err" and time.time() < deadline:
        time.sleep(0.05)
    assert r.info("persistence")["rdb_last_bgsave_status"] == "err"
    with pytest.raises(redis.ResponseError, match="MISCONF Redis is configured to save RDB snapshots"):
        r.set("k", "w")
    assert r.get("k") == b"v"
    r.config_set("stop-writes-on-bgsave-error", "no")
    assert r.set("k", "w")
    r.config_set("stop-writes-on-bgsave-error", "yes")
    r.config_set("dir", str(srv.dir))
    r.save()
    assert r.set("k", "x")
    assert os.path.exists(srv.dir / "dump.rdb")
