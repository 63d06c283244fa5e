"""Start and stop redis-server / shoal-server processes for tests.

Each server runs on a free loopback port in its own temporary directory, with
``--save '' --appendonly no`` unless told otherwise, in its own process group
(so teardown kills it and anything it spawned).  Its stdout/stderr go to a
log file that tests print when they fail.

Binaries:
  REDIS_SERVER  reference server   (default: redis-server on PATH, /usr/bin)
  SHOAL_SERVER  server under test  (default: <repo>/target/release/shoal-server)
Setting SHOAL_SERVER=/usr/bin/redis-server runs the whole suite redis-vs-redis,
which is how the harness itself is validated.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import resp

REPO = Path(__file__).resolve().parent.parent

# Every server this module started and has not yet stopped (for teardown and
# for attaching logs to failure reports).
LIVE: list["Server"] = []


def redis_binary() -> str:
    env = os.environ.get("REDIS_SERVER")
    if env:
        return env
    return shutil.which("redis-server") or "/usr/bin/redis-server"


def shoal_binary() -> str:
    env = os.environ.get("SHOAL_SERVER")
    if env:
        return env
    return str(REPO / "target" / "release" / "shoal-server")


def binary_for(kind: str) -> str:
    return {"redis": redis_binary, "shoal": shoal_binary}[kind]()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


BASE_ARGS = ["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"]


class ServerStartError(RuntimeError):
    pass


class Server:
    """One running server process."""

    def __init__(self, kind: str, args=(), binary: str | None = None,
                 config_text: str | None = None, start_timeout: float = 20.0):
        self.kind = kind
        self.binary = binary or binary_for(kind)
        self.extra_args = list(args)
        self.config_text = config_text
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.dir = Path(tempfile.mkdtemp(prefix=f"shoaltest-{kind}-"))
        self.log_path = self.dir / "server.log"
        self._log_file = None

    @property
    def name(self) -> str:
        return f"{self.kind} ({os.path.basename(self.binary)}) :{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def start(self) -> "Server":
        if not os.path.exists(self.binary):
            raise ServerStartError(
                f"{self.kind} binary not found: {self.binary}. "
                + ("Build it with `cargo build --release -p shoal-server` or "
                   "set SHOAL_SERVER." if self.kind == "shoal" else
                   "Install Debian's redis-server or set REDIS_SERVER."))
        last_err = None
        for _attempt in range(5):  # retry only on port races
            self.port = free_port()
            argv = [self.binary]
            if self.config_text is not None:
                conf = self.dir / "test.conf"
                conf.write_text(self.config_text)
                argv.append(str(conf))
            argv += ["--port", str(self.port), "--dir", str(self.dir)]
            argv += BASE_ARGS + self.extra_args
            self.argv = argv
            self._log_file = open(self.log_path, "ab")
            self._log_file.write(("=== start: %s\n" % " ".join(
                repr(a) if a == "" or " " in a else a for a in argv)).encode())
            self._log_file.flush()
            self.proc = subprocess.Popen(
                argv, cwd=self.dir, stdin=subprocess.DEVNULL,
                stdout=self._log_file, stderr=subprocess.STDOUT,
                start_new_session=True)
            LIVE.append(self)
            try:
                resp.wait_for_ping("127.0.0.1", self.port,
                                   timeout=self.start_timeout, proc=self.proc)
                return self
            except (RuntimeError, TimeoutError) as e:
                last_err = e
                log = self.log()
                self.stop()
                if "already in use" in log.lower() or "eaddrinuse" in log.lower():
                    continue
                raise ServerStartError(
                    f"{self.kind} server failed to start: {e}\n"
                    f"--- log {self.log_path} ---\n{log[-4000:]}") from None
        raise ServerStartError(f"{self.kind}: could not get a free port: {last_err}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop the process group: SIGTERM, then SIGKILL after ``timeout``."""
        p = self.proc
        if p is None:
            return None
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(5)
        else:
            # The leader is gone; make sure no child of the group survives.
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._log_file:
            self._log_file.close()
            self._log_file = None
        if self in LIVE:
            LIVE.remove(self)
        return p.returncode

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def rss_kb(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def conn(self, **kw) -> resp.Connection:
        return resp.Connection("127.0.0.1", self.port, **kw)

    def ping_ok(self) -> bool:
        try:
            with self.conn(timeout=5) as c:
                return c.call("PING") == resp.Reply(resp.SIMPLE, b"PONG")
        except (OSError, resp.ConnectionClosed, resp.ReplyTimeout):
            return False

    def __repr__(self):
        return f"<Server {self.name}>"


def stop_all():
    for s in list(LIVE):
        try:
            s.cleanup()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
