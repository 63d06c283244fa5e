"""Differential harness: run the same script against two servers, compare.

Case file format (tests/diff/cases/*.txt)
-----------------------------------------
One command per line, split like redis-cli does: whitespace separates
arguments, "double quotes" support \\n \\r \\t \\b \\a \\\\ \\" \\xHH, 'single
quotes' support \\'.  Blank lines and lines starting with '#' are comments.

Header comments (anywhere, conventionally at the top):
  # resp3              every connection starts with HELLO 3 (its reply is compared)
  # args: --a b ...    extra command-line arguments for BOTH servers

A line may start with a connection selector ``@N`` (N >= 1, default 1); each
connection number is a separate client connection to each server, opened on
first use and re-opened after it was closed.

Directives (after the optional @N):
  @read                read one more reply (MONITOR feed, pushes) and compare
  @close               close the connection
  @inline TEXT         send TEXT + CRLF as an inline command, read one reply
  @scanall [ARGS]      SCAN 0 ARGS ... until cursor 0, compare the key sets
  @until MS EXP CMD..  repeat CMD (every 10 ms, at most MS ms) on each server
                       until it replies EXP (an integer, "nil", or text matched
                       against a simple/bulk string); compare the final replies
  @capture NAME CMD..  run CMD, compare, and keep each server's own reply as
                       ${NAME} for later arguments on that server (e.g. ids)
  @send CMD..          send CMD without reading its reply (a blocking command,
                       or commands pipelined behind one); read it later with
                       @read on the same connection
  @blocked N           poll INFO clients on this connection (every 10 ms, at
                       most 5 s) until blocked_clients is N; compare the last
                       value seen.  Use it after "@2 @send BLPOP ..." so the
                       next command runs only once the server has blocked the
                       client (no sleeps, no races)

Replies are compared exactly unless known_differences.py has a rule for the
command.  Some rules look at the reference and test server again after the
command ("probes", e.g. OBJECT ENCODING of the key to decide whether reply
order is defined, or SMISMEMBER to check a random pick): a probe runs on the
same connection of BOTH servers, so their state and statistics stay alike,
and only when the connection is in normal reply mode.

Special outcomes besides replies: <closed> (the server closed the
connection), <no-reply> (the command is defined to send none, e.g. after
CLIENT REPLY OFF), <timeout> (no reply in time), <protocol-error>.
QUIT and SHUTDOWN also record whether the server then closed the connection.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import known_differences as kd
import resp
from resp import Reply

READ_TIMEOUT = 10.0
CLOSE_WAIT = 3.0

CLOSED = "<closed>"
NOREPLY = "<no-reply>"
TIMEOUT = "<timeout>"
PROTOCOL_ERROR = "<protocol-error>"
SPECIAL = (CLOSED, NOREPLY, TIMEOUT, PROTOCOL_ERROR)

# rule name -> number of comparisons that used it, over the whole test session
RULES_USED: dict = {}

_CONN_RE = re.compile(r"^@(\d+)$")
DIRECTIVES = {"@read", "@close", "@inline", "@scanall", "@until", "@capture",
              "@send", "@blocked"}


class CaseSyntaxError(Exception):
    pass


@dataclass
class Step:
    args: list                 # command arguments (bytes); for directives, its args
    conn: int = 1
    directive: Optional[str] = None   # None for a plain command
    lineno: int = 0
    source: str = ""           # original line text
    extra: dict = field(default_factory=dict)

    def describe(self) -> str:
        prefix = f"@{self.conn} " if self.conn != 1 else ""
        if self.directive == "@inline":
            return f"{prefix}@inline {self.extra['text']}"
        parts = ([self.directive] if self.directive else []) + \
            ([resp.format_command(self.args)] if self.args else [])
        return prefix + " ".join(parts)

    def command_args(self) -> list:
        """The command whose rule applies to this step's replies."""
        if self.directive in ("@until", "@capture"):
            return self.extra["cmd"]
        if self.directive == "@scanall":
            return [b"@SCANALL"]
        if self.directive == "@read":
            return [b"@READ"]
        if self.directive == "@blocked":
            return [b"@BLOCKED"]
        if self.directive == "@inline":
            try:
                return resp.split_args(self.extra["text"]) or [b""]
            except resp.QuoteError:
                return self.extra["text"].encode().split()[:1] or [b""]
        return self.args


@dataclass
class Case:
    name: str
    steps: list
    resp3: bool = False
    server_args: list = field(default_factory=list)


def parse_line(line: str, lineno: int = 0) -> Optional[Step]:
    s = line.strip()
    if not s or s.startswith("#"):
        return None
    conn = 1
    m = re.match(r"^@(\d+)\s+", s)
    if m:
        conn = int(m.group(1))
        if conn < 1:
            raise CaseSyntaxError(f"line {lineno}: connection numbers start at 1")
        s = s[m.end():]
    if s.startswith("@inline"):
        text = s[len("@inline"):]
        if text[:1] not in (" ", ""):
            raise CaseSyntaxError(f"line {lineno}: unknown directive {s.split()[0]}")
        return Step([], conn, "@inline", lineno, line.rstrip("\n"),
                     {"text": text[1:]})
    try:
        toks = resp.split_args(s)
    except resp.QuoteError as e:
        raise CaseSyntaxError(f"line {lineno}: {e}") from None
    if not toks:
        return None
    first = toks[0].decode(errors="replace")
    if first.startswith("@") and not _CONN_RE.match(first):
        d = first.lower()
        if d not in DIRECTIVES:
            raise CaseSyntaxError(f"line {lineno}: unknown directive {first}")
        rest = toks[1:]
        extra = {}
        if d in ("@read", "@close") and rest:
            raise CaseSyntaxError(f"line {lineno}: {d} takes no arguments "
                                  f"(use '@N {d}' for another connection)")
        if d == "@until":
            if len(rest) < 3 or not rest[0].isdigit():
                raise CaseSyntaxError(f"line {lineno}: @until MS EXPECTED CMD...")
            extra = {"ms": int(rest[0]), "expect": rest[1], "cmd": rest[2:]}
        if d == "@capture":
            if len(rest) < 2:
                raise CaseSyntaxError(f"line {lineno}: @capture NAME CMD...")
            extra = {"name": rest[0].decode(), "cmd": rest[1:]}
        if d == "@send" and not rest:
            raise CaseSyntaxError(f"line {lineno}: @send CMD...")
        if d == "@blocked":
            if len(rest) != 1 or not rest[0].isdigit():
                raise CaseSyntaxError(f"line {lineno}: @blocked N")
            extra = {"n": int(rest[0])}
        return Step(rest, conn, d, lineno, line.rstrip("\n"), extra)
    return Step(toks, conn, None, lineno, line.rstrip("\n"))


def parse_case_text(text: str, name: str = "<text>") -> Case:
    case = Case(name, [])
    for i, line in enumerate(text.splitlines(), 1):
        st = line.strip()
        if st.startswith("#"):
            body = st[1:].strip()
            if body.lower() == "resp3":
                case.resp3 = True
            elif body.lower().startswith("args:"):
                try:
                    case.server_args += [a.decode() for a in
                                         resp.split_args(body[5:])]
                except resp.QuoteError as e:
                    raise CaseSyntaxError(f"{name}:{i}: {e}") from None
            continue
        try:
            step = parse_line(line, i)
        except CaseSyntaxError as e:
            raise CaseSyntaxError(f"{name}: {e}") from None
        if step:
            case.steps.append(step)
    return case


def parse_case_file(path: Path) -> Case:
    return parse_case_text(Path(path).read_text(), Path(path).name)


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------

def special(kind: str, detail: bytes = b"") -> Reply:
    return Reply(kind, detail or None)


@dataclass
class ConnState:
    conn: resp.Connection
    reply_mode: str = "on"        # on | off | skip-next
    silent_used: bool = False     # a no-reply command ran on this connection


class Side:
    """One server and the connections the script opened to it."""

    def __init__(self, server, resp3: bool):
        self.server = server
        self.resp3 = resp3
        self.conns: dict[int, ConnState] = {}
        self.vars: dict[str, bytes] = {}

    def close_all(self):
        for st in self.conns.values():
            st.conn.close()
        self.conns.clear()

    def _open(self, n: int) -> tuple[ConnState, Optional[Reply]]:
        c = self.server.conn(timeout=READ_TIMEOUT)
        st = ConnState(c)
        self.conns[n] = st
        hello = None
        if self.resp3:
            hello = self._call(st, [b"HELLO", b"3"])
        return st, hello

    def get(self, n: int):
        st = self.conns.get(n)
        if st is not None and not st.conn.closed:
            return st, None
        return self._open(n)

    def subst(self, args):
        out = []
        for a in args:
            if b"${" in a:
                for k, v in self.vars.items():
                    a = a.replace(b"${" + k.encode() + b"}", v)
            out.append(a)
        return out

    def _read(self, st: ConnState, timeout=READ_TIMEOUT) -> Reply:
        try:
            return st.conn.read_reply(timeout)
        except resp.ConnectionClosed as e:
            st.conn.close()
            return special(CLOSED, e.partial)
        except resp.ReplyTimeout as e:
            st.conn.close()  # desynchronised: start over on next use
            return special(TIMEOUT, e.partial)
        except resp.ProtocolError as e:
            st.conn.close()
            return special(PROTOCOL_ERROR, str(e).encode())

    def _send(self, st: ConnState, data: bytes) -> Optional[Reply]:
        try:
            st.conn.send_raw(data)
            return None
        except OSError:
            st.conn.close()
            return special(CLOSED)

    def _call(self, st: ConnState, args) -> Reply:
        r = self._send(st, resp.encode_command(args))
        return r if r is not None else self._read(st)

    def run(self, step: Step) -> list:
        """Execute one step.  The outcome is a list of (rule_args, Reply):
        rule_args is None for the step's own command, or the command that a
        reply belongs to (the HELLO 3 that opened a RESP3 connection)."""
        if step.directive == "@close":
            st = self.conns.get(step.conn)
            if st:
                st.conn.close()
            return []
        st, hello = self.get(step.conn)
        pre = [([b"HELLO", b"3"], hello)] if hello is not None else []
        return pre + [(None, r) for r in self._run_body(st, step)]

    def probe(self, n: int, args) -> Optional[Reply]:
        """Run a side-effect-free command on connection n for a comparison
        rule; None when that connection cannot answer normally right now."""
        st = self.conns.get(n)
        if st is None or st.conn.closed or st.reply_mode != "on":
            return None
        r = self._call(st, args)
        return None if r.kind in SPECIAL else r

    def _run_body(self, st: ConnState, step: Step) -> list:
        d = step.directive
        if d == "@read":
            return [self._read(st)]
        if d == "@send":
            r = self._send(st, resp.encode_command(self.subst(step.args)))
            return [r] if r is not None else []
        if d == "@blocked":
            return [self._blocked(st, step.extra["n"])]
        if d == "@inline":
            r = self._send(st, step.extra["text"].encode("utf-8", "surrogateescape") + b"\r\n")
            return [r if r is not None else self._read(st)]
        if d == "@scanall":
            return [self._scanall(st, self.subst(step.args))]
        if d == "@until":
            return [self._until(st, step)]
        if d == "@capture":
            r = self._call(st, self.subst(step.extra["cmd"]))
            if r.kind == resp.INTEGER:
                self.vars[step.extra["name"]] = str(r.value).encode()
            elif isinstance(r.value, bytes):
                self.vars[step.extra["name"]] = r.value
            return [r]
        return self._command(st, self.subst(step.args))

    def _command(self, st: ConnState, args) -> list:
        name = args[0].upper() if args else b""
        sub = args[1].upper() if len(args) > 1 else b""
        expect_reply = True
        if st.reply_mode == "off":
            expect_reply = False
        elif st.reply_mode == "skip-next":
            expect_reply = False
            st.reply_mode = "on"
        if name == b"CLIENT" and sub == b"REPLY" and len(args) == 3:
            mode = args[2].upper()
            if mode == b"ON":
                st.reply_mode = "on"
                expect_reply = True
            elif mode == b"OFF":
                st.reply_mode = "off"
                expect_reply = False
            elif mode == b"SKIP":
                if st.reply_mode != "off":
                    st.reply_mode = "skip-next"
                expect_reply = False
        r = self._send(st, resp.encode_command(args))
        if r is not None:
            return [r]
        if not expect_reply:
            st.silent_used = True
            if name in (b"QUIT", b"SHUTDOWN"):
                return [special(NOREPLY), self._closed_after(st)]
            return [special(NOREPLY)]
        reply = self._read(st)
        out = [reply]
        if name == b"QUIT" or (name == b"SHUTDOWN" and reply.kind != CLOSED
                               and not reply.is_error):
            out.append(self._closed_after(st))
        return out

    def _closed_after(self, st: ConnState) -> Reply:
        if st.conn.closed:
            return special(CLOSED)
        data, closed = st.conn.read_until_close(CLOSE_WAIT)
        st.conn.close()
        if closed and not data:
            return special(CLOSED)
        if closed:
            return special(CLOSED, b"after extra bytes: " + data[:200])
        return special("<still-open>", data[:200] or None)

    def _scanall(self, st: ConnState, args) -> Reply:
        cursor = b"0"
        keys = set()
        for _ in range(100000):
            r = self._call(st, [b"SCAN", cursor] + list(args))
            if r.is_error or r.kind != resp.ARRAY or len(r.value) != 2:
                return r
            cur, items = r.value
            if cur.kind != resp.BULK or items.kind != resp.ARRAY:
                return r
            keys.update(items.value)
            cursor = cur.value
            if cursor == b"0":
                return Reply(resp.ARRAY, tuple(sorted(keys, key=lambda x: (x.kind, repr(x.value)))))
        return special(TIMEOUT, b"SCAN did not finish in 100000 calls")

    def _blocked(self, st: ConnState, n: int, ms: int = 5000) -> Reply:
        deadline = time.monotonic() + ms / 1000.0
        while True:
            r = self._call(st, [b"INFO", b"clients"])
            if r.kind in SPECIAL or r.is_error:
                return r
            text = r.value[1] if r.kind == resp.VERBATIM else r.value
            m = re.search(rb"^blocked_clients:(\d+)", text or b"", re.M)
            if not m:
                return Reply(resp.BULK, b"<no blocked_clients in INFO clients>")
            got = Reply(resp.INTEGER, int(m.group(1)))
            if got.value == n or time.monotonic() >= deadline:
                return got
            time.sleep(0.01)

    def _until(self, st: ConnState, step: Step) -> Reply:
        exp = step.extra["expect"]
        deadline = time.monotonic() + step.extra["ms"] / 1000.0
        args = self.subst(step.extra["cmd"])
        while True:
            r = self._call(st, args)
            if r.kind in SPECIAL or matches_expect(r, exp):
                return r
            if time.monotonic() >= deadline:
                return r
            time.sleep(0.01)


def matches_expect(r: Reply, exp: bytes) -> bool:
    if exp.lower() == b"nil":
        return r.is_null
    if re.fullmatch(rb"-?\d+", exp):
        return r.kind == resp.INTEGER and r.value == int(exp)
    return isinstance(r.value, bytes) and r.value == exp


@dataclass
class Mismatch:
    step: Step
    index: int
    ref: list
    got: list
    why: str
    rule: Optional[kd.Rule]

    def format(self, case_name: str = "", ref_name="redis", got_name="shoal") -> str:
        where = f"{case_name}:{self.step.lineno}" if self.step.lineno else \
            f"step #{self.index}"
        lines = [f"{where}: {self.step.describe()}",
                 f"  why: {self.why}"]
        if self.rule:
            lines.append(f"  rule: {self.rule.compare} ({self.rule.reason})")
        lines.append(f"  {ref_name}: " + _fmt_outcome(self.ref))
        lines.append(f"  {got_name}: " + _fmt_outcome(self.got))
        return "\n".join(lines)


def _fmt_outcome(out: list) -> str:
    if not out:
        return "(nothing)"
    parts = []
    for _, r in out:
        if r.kind in SPECIAL or r.kind == "<still-open>":
            v = r.value or b""
            shown = repr(v[:300]) + (f"... ({len(v)} bytes)" if len(v) > 300 else "")
            parts.append(r.kind + (f" {shown}" if v else ""))
        else:
            parts.append(resp.format_reply(r).replace("\n", "\n    "))
    return " then ".join(parts)


def compare_outcomes(step: Step, ref: list, got: list, probe=None):
    """Compare two outcomes (lists of Replies).  The first reply of a step
    that opened a RESP3 connection is that connection's HELLO 3.
    probe(side, args) runs a command for a rule on "ref" or "got"."""
    if len(ref) != len(got):
        return f"{len(got)} replies/events, expected {len(ref)}", None
    rule_used = None
    for i, ((a_args, a), (_, b)) in enumerate(zip(ref, got)):
        if a.kind.startswith("<") or b.kind.startswith("<"):
            # connection-level events: the kind must match; partial bytes of
            # a <closed> are compared too (e.g. an error sent before closing)
            if a != b:
                return "connection behaviour differs", None
            continue
        args = a_args or step.command_args()
        why, rule = kd.compare(a, b, args, probe if a_args is None else None)
        rule_used = rule_used or rule
        if why:
            return why, rule
    return None, rule_used


class DiffRun:
    """Runs steps on a reference and a test server and collects mismatches."""

    def __init__(self, ref_server, got_server, resp3=False, max_mismatches=20):
        self.ref = Side(ref_server, resp3)
        self.got = Side(got_server, resp3)
        self.mismatches: list[Mismatch] = []
        self.max_mismatches = max_mismatches
        self.rules_used: dict[str, int] = {}
        self.crashed: Optional[str] = None
        self.last_index = -1

    def close(self):
        self.ref.close_all()
        self.got.close_all()

    def step(self, index: int, step: Step) -> Optional[Mismatch]:
        a = self.ref.run(step)
        b = self.got.run(step)

        def probe(side, args):
            return (self.ref if side == "ref" else self.got).probe(step.conn, args)
        why, rule = compare_outcomes(step, a, b,
                                     probe if step.directive is None else None)
        if rule is not None:
            key = " ".join(rule.command)
            self.rules_used[key] = self.rules_used.get(key, 0) + 1
            RULES_USED[key] = RULES_USED.get(key, 0) + 1
        if why:
            m = Mismatch(step, index, a, b, why, rule)
            self.mismatches.append(m)
            return m
        return None

    def run(self, steps, stop_on_first=False) -> list:
        for i, st in enumerate(steps):
            self.last_index = i
            m = self.step(i, st)
            if not _is_shutdown(steps[: i + 1]):
                for side, label in ((self.ref, "reference"),
                                    (self.got, "server under test")):
                    if not side.server.alive():
                        self.crashed = (
                            f"{label} {side.server.name} exited "
                            f"(rc={side.server.proc.returncode}) after "
                            f"{'line ' + str(st.lineno) if st.lineno else 'step #' + str(i)}: "
                            f"{st.describe()}")
                        return self.mismatches
            if m and (stop_on_first or len(self.mismatches) >= self.max_mismatches):
                break
        self._check_stray()
        return self.mismatches

    def _check_stray(self):
        """A connection that used a no-reply command must have nothing unread."""
        for n, st in list(self.got.conns.items()):
            if st.silent_used and not st.conn.closed:
                data, closed = st.conn.read_until_close(0.3, idle=0.2)
                ref_st = self.ref.conns.get(n)
                ref_data = b""
                if ref_st and not ref_st.conn.closed:
                    ref_data, _ = ref_st.conn.read_until_close(0.3, idle=0.2)
                if data != ref_data:
                    fake = Step([b"(end of script)"], n, None, 0, "(end of script)")
                    self.mismatches.append(Mismatch(
                        fake, -1, [(None, Reply(resp.BULK, ref_data))], [(None, Reply(resp.BULK, data))],
                        "unread bytes left on a connection after no-reply commands",
                        None))


def _is_shutdown(steps) -> bool:
    return any(s.args[:1] and s.args[0].upper() == b"SHUTDOWN" and s.directive is None
               for s in steps)


def run_case(case: Case, ref_server, got_server, **kw) -> DiffRun:
    run = DiffRun(ref_server, got_server, resp3=case.resp3, **kw)
    try:
        run.run(case.steps)
    finally:
        run.close()
    return run
