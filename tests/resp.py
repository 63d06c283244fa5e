"""A tiny raw RESP2/RESP3 client for exact reply comparison.

Commands are always sent as multibulk arrays.  Replies are parsed into
:class:`Reply` values that keep the exact wire type (a simple string is not a
bulk string, a RESP2 null bulk is not a RESP2 null array, a RESP3 double keeps
its text), so two servers can be compared without any conversion in between.

Only the standard library is used.  Nothing here normalises anything: that is
done explicitly (and documented) in ``tests/diff/known_differences.py``.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Iterable, Sequence

CRLF = b"\r\n"

# Reply kinds.  The names are used in reports, so keep them short and stable.
SIMPLE = "simple"        # +OK
ERROR = "error"          # -ERR ...           (also RESP3 blob error '!')
BLOB_ERROR = "blob-error"  # !<len>\r\n...     (RESP3)
INTEGER = "integer"      # :1
BULK = "bulk"            # $3\r\nfoo
NULL_BULK = "null-bulk"  # $-1               (RESP2)
NULL_ARRAY = "null-array"  # *-1             (RESP2)
NULL = "null"            # _                 (RESP3)
ARRAY = "array"          # *N
MAP = "map"              # %N                (RESP3)
SET = "set"              # ~N                (RESP3)
DOUBLE = "double"        # ,3.14             (RESP3)
BIGNUM = "bignum"        # (123...           (RESP3)
BOOLEAN = "boolean"      # #t / #f           (RESP3)
VERBATIM = "verbatim"    # =N\r\ntxt:...     (RESP3)
PUSH = "push"            # >N                (RESP3)
ATTRIBUTE = "attribute"  # |N ... followed by the real reply (RESP3)

AGGREGATES = (ARRAY, SET, PUSH)
NULLS = (NULL_BULK, NULL_ARRAY, NULL)
ERRORS = (ERROR, BLOB_ERROR)


class ProtocolError(Exception):
    """The server sent bytes that are not valid RESP."""


class ConnectionClosed(Exception):
    """The peer closed the connection (EOF or reset)."""

    def __init__(self, msg="connection closed by server", partial=b""):
        super().__init__(msg)
        self.partial = partial


class ReplyTimeout(Exception):
    """No complete reply arrived within the timeout."""

    def __init__(self, msg="timed out waiting for a reply", partial=b""):
        super().__init__(msg)
        self.partial = partial


@dataclass(frozen=True)
class Reply:
    """One parsed reply.

    ``value`` depends on ``kind``:
      simple, error, blob-error, bulk, double, bignum: bytes (exact wire text)
      integer: int;  boolean: bool;  nulls: None
      array, set, push: tuple of Reply
      map: tuple of (Reply, Reply) pairs in wire order
      verbatim: (format bytes, text bytes)
      attribute: (tuple of (Reply, Reply) pairs, Reply the attributed reply)
    """

    kind: str
    value: object

    # --- convenience -------------------------------------------------
    @property
    def is_error(self) -> bool:
        return self.kind in ERRORS

    @property
    def is_null(self) -> bool:
        return self.kind in NULLS

    def text(self) -> str:
        """Human-friendly string of a scalar (for messages, not comparison)."""
        if isinstance(self.value, bytes):
            return self.value.decode("utf-8", "backslashreplace")
        return str(self.value)

    def to_py(self):
        """Loose Python conversion for assertions in non-differential tests."""
        k, v = self.kind, self.value
        if k in NULLS:
            return None
        if k in (SIMPLE, BULK, ERROR, BLOB_ERROR, DOUBLE, BIGNUM):
            return v
        if k in (INTEGER, BOOLEAN):
            return v
        if k in AGGREGATES:
            return [x.to_py() for x in v]
        if k == MAP:
            return {_hashable(a.to_py()): b.to_py() for a, b in v}
        if k == VERBATIM:
            return v[1]
        if k == ATTRIBUTE:
            return v[1].to_py()
        raise AssertionError(k)

    def __repr__(self) -> str:  # pragma: no cover - used in reports
        return format_reply(self)


def _hashable(x):
    if isinstance(x, list):
        return tuple(_hashable(i) for i in x)
    if isinstance(x, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in x.items()))
    return x


def _quote(b: bytes) -> str:
    out = ['"']
    for c in b:
        ch = chr(c)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif 32 <= c < 127:
            out.append(ch)
        else:
            out.append("\\x%02x" % c)
    out.append('"')
    return "".join(out)


def format_reply(r: Reply, indent: int = 0, limit: int = 60) -> str:
    """redis-cli-like rendering that still shows the exact wire type."""
    pad = "  " * indent
    k, v = r.kind, r.value
    if k == SIMPLE:
        return f"+{_quote(v)[1:-1]}"
    if k == ERROR:
        return f"-{_quote(v)[1:-1]}"
    if k == BLOB_ERROR:
        return f"!{_quote(v)}"
    if k == INTEGER:
        return f"(integer) {v}"
    if k == BULK:
        return _quote(v)
    if k == NULL_BULK:
        return "(nil bulk $-1)"
    if k == NULL_ARRAY:
        return "(nil array *-1)"
    if k == NULL:
        return "(null _)"
    if k == DOUBLE:
        return f"(double) {v.decode()}"
    if k == BIGNUM:
        return f"(big number) {v.decode()}"
    if k == BOOLEAN:
        return "(true)" if v else "(false)"
    if k == VERBATIM:
        return f"(verbatim {v[0].decode()}) {_quote(v[1])}"
    if k in AGGREGATES or k == MAP:
        items = list(v)
        if not items:
            return f"({k}, empty)"
        lines = [f"({k}, {len(items)})"]
        shown = items[:limit]
        for i, item in enumerate(shown, 1):
            if k == MAP:
                a, b = item
                lines.append(f"{pad}  {i}# {format_reply(a, indent + 1)} => "
                             f"{format_reply(b, indent + 1)}")
            else:
                lines.append(f"{pad}  {i}) {format_reply(item, indent + 1)}")
        if len(items) > limit:
            lines.append(f"{pad}  ... {len(items) - limit} more")
        return "\n".join(lines)
    if k == ATTRIBUTE:
        attrs, inner = v
        a = format_reply(Reply(MAP, attrs), indent + 1)
        return f"(attribute {a})\n{pad}{format_reply(inner, indent)}"
    return f"<{k} {v!r}>"


# ---------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------

def to_bytes(arg) -> bytes:
    if isinstance(arg, bytes):
        return arg
    if isinstance(arg, bytearray):
        return bytes(arg)
    if isinstance(arg, str):
        return arg.encode("utf-8", "surrogateescape")
    if isinstance(arg, (int, float)):
        return repr(arg).encode() if isinstance(arg, float) else str(arg).encode()
    raise TypeError(f"cannot encode {type(arg)} as a RESP argument")


def encode_command(args: Sequence) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        b = to_bytes(a)
        parts.append(b"$%d\r\n" % len(b))
        parts.append(b)
        parts.append(CRLF)
    return b"".join(parts)


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------

class _Incomplete(Exception):
    pass


class Parser:
    """Incremental, strict RESP2/RESP3 parser.

    ``feed(data)`` appends bytes; ``next()`` returns a complete Reply or raises
    _Incomplete.  Any deviation from the grammar raises ProtocolError.
    """

    def __init__(self):
        self.buf = bytearray()
        self.pos = 0
        # Absolute buffer length needed before a new parse attempt can make
        # progress (set when a large blob is incomplete; keeps parsing linear).
        self.need = 0

    def feed(self, data: bytes):
        if self.pos > 65536 and self.pos > len(self.buf) // 2:
            del self.buf[: self.pos]
            self.need = max(0, self.need - self.pos)
            self.pos = 0
        self.buf += data

    def ready(self) -> bool:
        return len(self.buf) >= self.need

    @property
    def pending(self) -> bytes:
        return bytes(self.buf[self.pos:])

    def next(self) -> Reply:
        save = self.pos
        if not self.ready():
            raise _Incomplete
        try:
            r = self._parse()
            self.need = 0
            return r
        except _Incomplete:
            self.pos = save
            raise

    def _line(self) -> bytes:
        i = self.buf.find(CRLF, self.pos)
        if i < 0:
            # A bare \n would be a protocol violation; we can only tell once
            # the line is complete, so wait for more data.
            raise _Incomplete
        line = bytes(self.buf[self.pos:i])
        self.pos = i + 2
        if b"\n" in line or b"\r" in line:
            raise ProtocolError(f"bare CR/LF inside line {line!r}")
        return line

    def _int(self, s: bytes, what: str) -> int:
        if not s or not (s.isdigit() or (s[:1] in b"-+" and s[1:].isdigit())):
            raise ProtocolError(f"invalid {what} {s!r}")
        return int(s)

    def _blob(self, n: int) -> bytes:
        if len(self.buf) - self.pos < n + 2:
            self.need = self.pos + n + 2
            raise _Incomplete
        data = bytes(self.buf[self.pos:self.pos + n])
        if self.buf[self.pos + n:self.pos + n + 2] != CRLF:
            raise ProtocolError(
                f"blob of length {n} not followed by CRLF: "
                f"{bytes(self.buf[self.pos + n:self.pos + n + 2])!r}")
        self.pos += n + 2
        return data

    def _parse(self) -> Reply:
        if self.pos >= len(self.buf):
            raise _Incomplete
        t = chr(self.buf[self.pos])
        # Need the whole header line before consuming the type byte.
        if self.buf.find(CRLF, self.pos) < 0:
            raise _Incomplete
        self.pos += 1
        line = self._line()
        if t == "+":
            return Reply(SIMPLE, line)
        if t == "-":
            return Reply(ERROR, line)
        if t == ":":
            return Reply(INTEGER, self._int(line, "integer"))
        if t == "$":
            n = self._int(line, "bulk length")
            if n == -1:
                return Reply(NULL_BULK, None)
            if n < 0:
                raise ProtocolError(f"negative bulk length {n}")
            return Reply(BULK, self._blob(n))
        if t == "!":
            n = self._int(line, "blob error length")
            if n < 0:
                raise ProtocolError(f"negative blob error length {n}")
            return Reply(BLOB_ERROR, self._blob(n))
        if t == "=":
            n = self._int(line, "verbatim length")
            if n < 4:
                raise ProtocolError(f"verbatim length {n} < 4")
            data = self._blob(n)
            if data[3:4] != b":":
                raise ProtocolError(f"verbatim without format: {data[:8]!r}")
            return Reply(VERBATIM, (data[:3], data[4:]))
        if t in "*~>":
            n = self._int(line, "aggregate length")
            if n == -1 and t == "*":
                return Reply(NULL_ARRAY, None)
            if n < 0:
                raise ProtocolError(f"negative aggregate length {n}")
            items = tuple(self._parse() for _ in range(n))
            return Reply({"*": ARRAY, "~": SET, ">": PUSH}[t], items)
        if t in "%|":
            n = self._int(line, "map length")
            if n < 0:
                raise ProtocolError(f"negative map length {n}")
            pairs = tuple((self._parse(), self._parse()) for _ in range(n))
            if t == "%":
                return Reply(MAP, pairs)
            return Reply(ATTRIBUTE, (pairs, self._parse()))
        if t == "_":
            if line:
                raise ProtocolError(f"null with payload {line!r}")
            return Reply(NULL, None)
        if t == ",":
            if not line:
                raise ProtocolError("empty double")
            return Reply(DOUBLE, line)
        if t == "(":
            self._int(line, "big number")
            return Reply(BIGNUM, line)
        if t == "#":
            if line not in (b"t", b"f"):
                raise ProtocolError(f"invalid boolean {line!r}")
            return Reply(BOOLEAN, line == b"t")
        raise ProtocolError(f"unknown reply type byte {t!r}")


# ---------------------------------------------------------------------------
# Connection
# ---------------------------------------------------------------------------

class Connection:
    """A blocking connection that speaks RESP exactly."""

    def __init__(self, host="127.0.0.1", port=6379, timeout=10.0,
                 connect_timeout=5.0, rcvbuf: int | None = None):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(connect_timeout)
        self.sock.connect((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.parser = Parser()
        self.closed = False

    # -- context manager ---------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass

    # -- sending -------------------------------------------------------------
    def send_raw(self, data: bytes):
        self.sock.sendall(data)

    def send(self, *args):
        self.send_raw(encode_command(args))

    # -- receiving -------------------------------------------------------------
    def _recv_some(self, deadline: float) -> bytes:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ReplyTimeout(partial=self.parser.pending)
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(1 << 20)
        except socket.timeout:
            raise ReplyTimeout(partial=self.parser.pending) from None
        except (ConnectionResetError, BrokenPipeError) as e:
            raise ConnectionClosed(f"connection reset: {e}",
                                   partial=self.parser.pending) from None
        if not data:
            raise ConnectionClosed(partial=self.parser.pending)
        return data

    def read_reply(self, timeout: float | None = None) -> Reply:
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            try:
                return self.parser.next()
            except _Incomplete:
                pass
            self.parser.feed(self._recv_some(deadline))

    def has_pending_reply(self) -> bool:
        save_pos, save_need = self.parser.pos, self.parser.need
        try:
            self.parser.next()
            return True
        except _Incomplete:
            return False
        finally:
            self.parser.pos, self.parser.need = save_pos, save_need

    def call(self, *args, timeout: float | None = None) -> Reply:
        self.send(*args)
        return self.read_reply(timeout)

    def pipeline(self, commands: Iterable[Sequence], timeout=None) -> list:
        cmds = list(commands)
        self.send_raw(b"".join(encode_command(c) for c in cmds))
        return [self.read_reply(timeout) for _ in cmds]

    def read_until_close(self, timeout: float = 5.0, idle: float | None = None):
        """Read raw bytes until EOF.

        Returns (data, closed): closed is False if the timeout (or ``idle``
        seconds without any data) passed with the connection still open.
        """
        deadline = time.monotonic() + timeout
        chunks = [self.parser.pending]
        self.parser = Parser()
        while True:
            now = time.monotonic()
            wait = deadline - now
            if idle is not None:
                wait = min(wait, idle)
            if wait <= 0:
                return b"".join(chunks), False
            self.sock.settimeout(wait)
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                return b"".join(chunks), False
            except (ConnectionResetError, BrokenPipeError):
                return b"".join(chunks), True
            if not data:
                return b"".join(chunks), True
            chunks.append(data)

    def wait_closed(self, timeout: float = 5.0) -> bool:
        _, closed = self.read_until_close(timeout)
        return closed


def wait_for_ping(host: str, port: int, timeout: float = 20.0, proc=None) -> None:
    """Wait until the server at host:port answers PING with +PONG.

    ``proc`` (a Popen) makes the wait fail fast if the process died.  A NOAUTH
    or LOADING error also counts as "up": the server is listening and parsing.
    """
    deadline = time.monotonic() + timeout
    last = None
    delay = 0.005
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} "
                               f"before answering PING")
        try:
            with Connection(host, port, timeout=2.0, connect_timeout=1.0) as c:
                r = c.call("PING")
                if r == Reply(SIMPLE, b"PONG") or (
                        r.is_error and r.value.split(b" ")[0] in
                        (b"NOAUTH", b"LOADING")):
                    return
                last = r
        except (OSError, ConnectionClosed, ReplyTimeout, ProtocolError) as e:
            last = e
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
    raise TimeoutError(f"{host}:{port} did not answer PING within {timeout}s "
                       f"(last: {last!r})")


# ---------------------------------------------------------------------------
# Argument splitting (redis-cli style quoting), shared by case files and tests
# ---------------------------------------------------------------------------

class QuoteError(ValueError):
    pass


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "a": "\a",
            "\\": "\\", '"': '"'}


def split_args(line: str) -> list[bytes]:
    """Split a line into arguments.

    Whitespace separates arguments.  "double quotes" allow the escapes
    \\n \\r \\t \\b \\a \\\\ \\" and \\xHH (any byte); 'single quotes' allow only
    \\'.  A closing quote must be followed by whitespace or the end of line.
    Unquoted text is taken literally.  Non-ASCII characters are UTF-8.
    """
    args: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i].isspace():
            i += 1
        if i >= n:
            return args
        cur = bytearray()
        if line[i] == '"':
            i += 1
            while True:
                if i >= n:
                    raise QuoteError(f"unbalanced double quote in: {line}")
                c = line[i]
                if c == "\\" and i + 1 < n:
                    nx = line[i + 1]
                    if nx == "x" and i + 3 < n and _ishex(line[i + 2:i + 4]):
                        cur.append(int(line[i + 2:i + 4], 16))
                        i += 4
                        continue
                    if nx in _ESCAPES:
                        cur += _ESCAPES[nx].encode()
                        i += 2
                        continue
                    cur += nx.encode()
                    i += 2
                    continue
                if c == '"':
                    i += 1
                    if i < n and not line[i].isspace():
                        raise QuoteError(f"closing quote must be followed by a "
                                         f"space in: {line}")
                    break
                cur += c.encode()
                i += 1
        elif line[i] == "'":
            i += 1
            while True:
                if i >= n:
                    raise QuoteError(f"unbalanced single quote in: {line}")
                c = line[i]
                if c == "\\" and i + 1 < n and line[i + 1] == "'":
                    cur += b"'"
                    i += 2
                    continue
                if c == "'":
                    i += 1
                    if i < n and not line[i].isspace():
                        raise QuoteError(f"closing quote must be followed by a "
                                         f"space in: {line}")
                    break
                cur += c.encode()
                i += 1
        else:
            while i < n and not line[i].isspace():
                cur += line[i].encode()
                i += 1
        args.append(bytes(cur))


def _ishex(s: str) -> bool:
    return len(s) == 2 and all(c in "0123456789abcdefABCDEF" for c in s)


def quote_arg(b: bytes) -> str:
    """Inverse of split_args for one argument (for printing reproducers)."""
    if b and all(33 <= c < 127 and c not in b'"\'\\' for c in b):
        return b.decode()
    return _quote(b)


def format_command(args: Sequence) -> str:
    return " ".join(quote_arg(to_bytes(a)) for a in args)
