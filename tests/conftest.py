"""Shared pytest fixtures: reference redis-server and shoal-server processes.

Fixtures
  server_factory   start(kind, *args) -> Server; everything it started is
                   stopped (process group killed) when the test ends.
  redis_server     module-scoped reference redis-server
  shoal_server     module-scoped shoal-server
  any_server       module-scoped, parametrized over ["redis", "shoal"]: a test
                   using it runs against both, so its expectation is proven on
                   Redis too.

On failure the tail of every live server's log is attached to the report.
See tests/servers.py for the SHOAL_SERVER / REDIS_SERVER variables.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for p in (HERE, HERE / "diff"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import servers  # noqa: E402

KINDS = ["redis", "shoal"]


def pytest_report_header(config):
    return [f"reference server: {servers.redis_binary()}",
            f"server under test: {servers.shoal_binary()}"]


class Factory:
    def __init__(self):
        self.started: list[servers.Server] = []

    def start(self, kind: str, *args, config_text=None, **kw) -> servers.Server:
        s = servers.Server(kind, args, config_text=config_text, **kw)
        self.started.append(s)
        try:
            s.start()
        except servers.ServerStartError as e:
            pytest.fail(str(e), pytrace=False)
        return s

    def pair(self, *args, **kw):
        return self.start("redis", *args, **kw), self.start("shoal", *args, **kw)

    def cleanup(self):
        for s in self.started:
            s.cleanup()
        self.started.clear()


@pytest.fixture
def server_factory():
    f = Factory()
    yield f
    f.cleanup()


@pytest.fixture(scope="module")
def module_factory():
    f = Factory()
    yield f
    f.cleanup()


@pytest.fixture(scope="module")
def redis_server(module_factory):
    return module_factory.start("redis")


@pytest.fixture(scope="module")
def shoal_server(module_factory):
    return module_factory.start("shoal")


@pytest.fixture(scope="module", params=KINDS)
def any_server(request, module_factory):
    s = module_factory.start(request.param)
    yield s
    # A test that broke the server should be visible right here.
    assert s.alive(), f"{s.name} died during this module; log:\n{s.log_tail()}"


@pytest.fixture(params=KINDS)
def kind(request):
    """Just the server kind, for tests that start their own configured server."""
    return request.param


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and call.when in ("setup", "call"):
        for s in list(servers.LIVE):
            state = "alive" if s.alive() else f"EXITED rc={s.proc.returncode}"
            rep.sections.append((f"server log: {s.name} [{state}] {s.log_path}",
                                 s.log_tail(30)))


def pytest_sessionfinish(session, exitstatus):
    servers.stop_all()
