//! Server-side request parsing: multibulk (`*N\r\n$len\r\n...`) and inline commands.
//!
//! The error texts and limits follow Redis 7.0 exactly, since clients and tests
//! match on them. The query buffer keeps its parse position across reads: a
//! partially received command is never re-scanned from its start, and for a large
//! bulk argument the buffer reserves the whole argument once, so big values cost one
//! copy, not a quadratic number.

use std::io::{self, Read};

/// Longest inline command, and longest `*`/`$` header line, Redis accepts.
pub const INLINE_MAX: usize = 64 * 1024;
/// Largest multibulk count (Redis 7.0 refuses anything above INT_MAX).
pub const MULTIBULK_MAX: i64 = i32::MAX as i64;
/// Bulk arguments at least this big get their full size reserved up front.
const BIG_ARG: usize = 32 * 1024;
/// How much a single read asks for.
const READ_CHUNK: usize = 16 * 1024;

/// Limits that depend on configuration and on the client's state.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `proto-max-bulk-len`.
    pub max_bulk_len: u64,
    /// The client has not authenticated yet while a password is required: Redis then
    /// refuses multibulk counts above 10 and bulks above 16 KiB.
    pub unauthenticated: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            unauthenticated: false,
        }
    }
}

/// A protocol violation. The connection must be closed after replying
/// `-ERR Protocol error: <text>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl ProtocolError {
    fn new(text: impl Into<String>) -> Self {
        ProtocolError(text.into())
    }
    /// The error reply line, without the leading `-` and trailing CRLF.
    pub fn reply_text(&self) -> String {
        format!("ERR Protocol error: {}", self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Waiting for the first byte of a command.
    Start,
    /// Inside a multibulk with this many arguments still to read.
    Multibulk { remaining: i64 },
    /// Reading a bulk argument of this length whose data starts at `pos`.
    Bulk { remaining: i64, len: usize },
}

/// A command's arguments, borrowed from the query buffer.
pub type Args<'a> = smallvec::SmallVec<[&'a [u8]; 8]>;

/// Where the arguments of the command just parsed live.
enum ArgSource {
    /// Ranges into the query buffer.
    Buffer,
    /// Owned, unescaped inline arguments.
    Inline,
}

/// A client's query buffer and its parse state.
pub struct QueryBuffer {
    /// Always fully initialized; `filled` bytes are valid.
    data: Vec<u8>,
    filled: usize,
    /// Start of the first byte not yet consumed by a complete command.
    consumed: usize,
    /// Parse cursor (>= consumed).
    pos: usize,
    state: State,
    ranges: Vec<(usize, usize)>,
    inline_args: Vec<Vec<u8>>,
    source: ArgSource,
    last_read_short: bool,
}

impl Default for QueryBuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl QueryBuffer {
    pub fn new() -> Self {
        QueryBuffer {
            data: Vec::new(),
            filled: 0,
            consumed: 0,
            pos: 0,
            state: State::Start,
            ranges: Vec::new(),
            inline_args: Vec::new(),
            source: ArgSource::Buffer,
            last_read_short: false,
        }
    }

    /// Bytes received and not yet consumed by a complete command.
    pub fn pending(&self) -> usize {
        self.filled - self.consumed
    }

    /// Allocated size of the buffer, for CLIENT LIST's `qbuf` fields and memory stats.
    pub fn capacity(&self) -> usize {
        self.data.len()
    }

    /// Appends bytes (for tests and for feeding data that did not come from a socket).
    pub fn extend(&mut self, bytes: &[u8]) {
        self.make_room(bytes.len());
        self.data[self.filled..self.filled + bytes.len()].copy_from_slice(bytes);
        self.filled += bytes.len();
    }

    /// One `read` call into the buffer. Returns the number of bytes read (0 = EOF).
    pub fn read_from<R: Read>(&mut self, reader: &mut R) -> io::Result<usize> {
        let mut want = READ_CHUNK;
        if let State::Bulk { len, .. } = self.state {
            // Read the rest of a big argument in as few calls as possible.
            if len >= BIG_ARG {
                let have = self.filled - self.pos;
                want = want.max((len + 2).saturating_sub(have));
            }
        }
        self.make_room(want);
        let n = reader.read(&mut self.data[self.filled..self.filled + want])?;
        self.filled += n;
        self.last_read_short = n < want;
        Ok(n)
    }

    /// Whether the last `read_from` got less than it asked for. On a stream
    /// socket that means the kernel's receive queue was empty when it returned,
    /// so with edge-triggered polling any later data raises a new event and
    /// another read now would only return `WouldBlock` (a wasted syscall).
    pub fn last_read_was_short(&self) -> bool {
        self.last_read_short
    }

    /// Ensures `extra` free bytes after `filled`, compacting consumed bytes first.
    fn make_room(&mut self, extra: usize) {
        if self.consumed > 0 && self.data.len() - self.filled < extra {
            self.compact();
        }
        if self.data.len() - self.filled < extra {
            let target = (self.filled + extra).max(self.data.len() * 2).max(1024);
            self.data.resize(target, 0);
        }
    }

    /// Drops consumed bytes, moving the partial command (if any) to the front.
    pub fn compact(&mut self) {
        if self.consumed == 0 {
            return;
        }
        let shift = self.consumed;
        self.data.copy_within(shift..self.filled, 0);
        self.filled -= shift;
        self.pos -= shift;
        if self.state == State::Start {
            // The ranges belong to a command that was already consumed.
            self.ranges.clear();
        }
        for r in &mut self.ranges {
            r.0 -= shift;
            r.1 -= shift;
        }
        self.consumed = 0;
        // Give back memory after a big command once the buffer is idle.
        if self.filled == 0 && self.data.len() > 4 * READ_CHUNK {
            self.data = vec![0; READ_CHUNK];
        }
    }

    /// Parses the next complete command. `Ok(true)` means one is ready: read it with
    /// [`QueryBuffer::args`]. `Ok(false)` means more bytes are needed.
    pub fn parse_next(&mut self, limits: &Limits) -> Result<bool, ProtocolError> {
        loop {
            match self.state {
                State::Start => {
                    if self.pos >= self.filled {
                        return Ok(false);
                    }
                    if self.data[self.pos] == b'*' {
                        let Some((value, next)) = self.header_line(self.pos + 1, "mbulk")? else {
                            return Ok(false);
                        };
                        let count = parse_len(value).filter(|&n| n <= MULTIBULK_MAX);
                        let Some(count) = count else {
                            return Err(ProtocolError::new("invalid multibulk length"));
                        };
                        if count > 10 && limits.unauthenticated {
                            return Err(ProtocolError::new("unauthenticated multibulk length"));
                        }
                        self.pos = next;
                        if count <= 0 {
                            // `*0` and `*-1` are skipped silently.
                            self.consumed = self.pos;
                            continue;
                        }
                        self.ranges.clear();
                        self.ranges.reserve(count.min(1024) as usize);
                        self.source = ArgSource::Buffer;
                        self.state = State::Multibulk { remaining: count };
                    } else {
                        match self.parse_inline()? {
                            None => return Ok(false),
                            Some(true) => return Ok(true),
                            Some(false) => continue, // empty line
                        }
                    }
                }
                State::Multibulk { remaining } => {
                    if self.pos >= self.filled {
                        return Ok(false);
                    }
                    if self.data[self.pos] != b'$' {
                        return Err(ProtocolError::new(format!(
                            "expected '$', got '{}'",
                            self.data[self.pos] as char
                        )));
                    }
                    let Some((value, next)) = self.header_line(self.pos + 1, "bulk")? else {
                        return Ok(false);
                    };
                    let len = match parse_len(value) {
                        Some(n) if n >= 0 && (n as u64) <= limits.max_bulk_len => n as usize,
                        _ => return Err(ProtocolError::new("invalid bulk length")),
                    };
                    if len > 16384 && limits.unauthenticated {
                        return Err(ProtocolError::new("unauthenticated bulk length"));
                    }
                    self.pos = next;
                    self.state = State::Bulk { remaining, len };
                    if len >= BIG_ARG {
                        // Reserve the whole argument now so it is received without
                        // repeated reallocation.
                        let need = self.pos + len + 2;
                        if self.data.len() < need {
                            self.compact();
                            let need = self.pos + len + 2;
                            if self.data.len() < need {
                                self.data.resize(need, 0);
                            }
                        }
                    }
                }
                State::Bulk { remaining, len } => {
                    if self.filled - self.pos < len + 2 {
                        return Ok(false);
                    }
                    // Like Redis, the two bytes after the data are skipped unchecked.
                    self.ranges.push((self.pos, self.pos + len));
                    self.pos += len + 2;
                    if remaining == 1 {
                        self.state = State::Start;
                        self.consumed = self.pos;
                        return Ok(true);
                    }
                    self.state = State::Multibulk {
                        remaining: remaining - 1,
                    };
                }
            }
        }
    }

    /// Reads a `*N` or `$N` header's number, starting after the type byte.
    /// Returns the digits and the position after the CRLF, or None if incomplete.
    fn header_line(&self, from: usize, what: &str) -> Result<Option<(&[u8], usize)>, ProtocolError> {
        let window = &self.data[from.min(self.filled)..self.filled];
        match memchr(b'\r', window) {
            None => {
                if self.filled - self.pos > INLINE_MAX {
                    return Err(ProtocolError::new(format!("too big {what} count string")));
                }
                Ok(None)
            }
            Some(i) => {
                // The '\n' must have arrived too.
                if i + 1 >= window.len() {
                    return Ok(None);
                }
                Ok(Some((&window[..i], from + i + 2)))
            }
        }
    }

    /// Parses an inline command. Some(true) = command ready, Some(false) = empty
    /// line consumed, None = incomplete.
    fn parse_inline(&mut self) -> Result<Option<bool>, ProtocolError> {
        let window = &self.data[self.pos..self.filled];
        let Some(nl) = memchr(b'\n', window) else {
            if window.len() > INLINE_MAX {
                return Err(ProtocolError::new("too big inline request"));
            }
            return Ok(None);
        };
        let mut line = &window[..nl];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        let args = split_args(line).ok_or_else(|| ProtocolError::new("unbalanced quotes in request"))?;
        self.pos += nl + 1;
        self.consumed = self.pos;
        if args.is_empty() {
            return Ok(Some(false));
        }
        self.inline_args = args;
        self.source = ArgSource::Inline;
        Ok(Some(true))
    }

    /// The arguments of the command `parse_next` just returned (no heap allocation
    /// for up to 8 arguments).
    pub fn args(&self) -> Args<'_> {
        match self.source {
            ArgSource::Buffer => self.ranges.iter().map(|&(a, b)| &self.data[a..b]).collect(),
            ArgSource::Inline => self.inline_args.iter().map(|v| v.as_slice()).collect(),
        }
    }
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

/// Parses a signed decimal length the way Redis's string2ll does (strict).
fn parse_len(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first()? {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 19 || (digits[0] == b'0' && digits.len() > 1) {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((d - b'0') as i64)?;
    }
    Some(if neg { -v } else { v })
}

/// Inline commands are split with Redis's quoting rules.
pub use shoal_util::split::split_args;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> (Vec<Vec<Vec<u8>>>, Option<ProtocolError>) {
        let mut q = QueryBuffer::new();
        q.extend(input);
        let mut out = Vec::new();
        loop {
            match q.parse_next(&Limits::default()) {
                Ok(true) => out.push(q.args().iter().map(|a| a.to_vec()).collect()),
                Ok(false) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    fn strs(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn multibulk_and_pipelining() {
        let (cmds, err) = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n*1\r\n$4\r\nPING\r\n");
        assert!(err.is_none());
        assert_eq!(cmds, vec![strs(&["GET", "a"]), strs(&["PING"])]);
    }

    #[test]
    fn byte_by_byte_delivery() {
        let input = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nhello\r\nPING\r\n";
        let mut q = QueryBuffer::new();
        let mut got = Vec::new();
        for &b in input.iter() {
            q.extend(&[b]);
            while q.parse_next(&Limits::default()).unwrap() {
                got.push(q.args().iter().map(|a| a.to_vec()).collect::<Vec<_>>());
            }
            q.compact();
        }
        assert_eq!(got, vec![strs(&["SET", "key", "hello"]), strs(&["PING"])]);
    }

    #[test]
    fn empty_multibulks_and_lines_are_skipped() {
        let (cmds, err) = parse_all(b"\r\n\r\n*0\r\n*-1\r\nping\r\n");
        assert!(err.is_none());
        assert_eq!(cmds, vec![strs(&["ping"])]);
    }

    #[test]
    fn protocol_errors_match_redis() {
        let cases: &[(&[u8], &str)] = &[
            (b"*abc\r\n", "invalid multibulk length"),
            (b"*2147483648\r\n", "invalid multibulk length"),
            (b"*1\r\n$-1\r\n", "invalid bulk length"),
            (b"*1\r\n$536870913\r\n", "invalid bulk length"),
            (b"*1\r\n+4\r\n", "expected '$', got '+'"),
            (b"set a \"b\r\n", "unbalanced quotes in request"),
        ];
        for (input, text) in cases {
            let (_, err) = parse_all(input);
            assert_eq!(
                err,
                Some(ProtocolError(text.to_string())),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn header_and_inline_size_limits() {
        let mut big = vec![b'*'];
        big.extend(std::iter::repeat_n(b'1', INLINE_MAX + 1));
        assert_eq!(
            parse_all(&big).1,
            Some(ProtocolError("too big mbulk count string".into()))
        );
        let long_inline = vec![b'a'; INLINE_MAX + 1];
        assert_eq!(
            parse_all(&long_inline).1,
            Some(ProtocolError("too big inline request".into()))
        );
    }

    #[test]
    fn unauthenticated_limits() {
        let limits = Limits {
            unauthenticated: true,
            ..Limits::default()
        };
        let mut q = QueryBuffer::new();
        q.extend(b"*11\r\n");
        assert_eq!(
            q.parse_next(&limits),
            Err(ProtocolError("unauthenticated multibulk length".into()))
        );
        let mut q = QueryBuffer::new();
        q.extend(b"*1\r\n$16385\r\n");
        assert_eq!(
            q.parse_next(&limits),
            Err(ProtocolError("unauthenticated bulk length".into()))
        );
    }

    #[test]
    fn inline_quoting() {
        assert_eq!(
            split_args(b"set \"a b\" 'c\\'d' \"\\x41\\n\"").unwrap(),
            strs(&["set", "a b", "c'd", "A\n"])
        );
        assert!(split_args(b"\"abc\"def").is_none());
        assert!(split_args(b"'abc").is_none());
        assert_eq!(split_args(b"   ").unwrap().len(), 0);
    }

    #[test]
    fn big_argument_is_received_in_place() {
        let payload = vec![b'x'; 1 << 20];
        let mut frame = format!("*2\r\n$4\r\nECHO\r\n${}\r\n", payload.len()).into_bytes();
        frame.extend_from_slice(&payload);
        frame.extend_from_slice(b"\r\n");
        let mut reader = std::io::Cursor::new(frame);
        let mut q = QueryBuffer::new();
        let mut reads = 0;
        loop {
            let n = q.read_from(&mut reader).unwrap();
            assert!(n > 0);
            reads += 1;
            if q.parse_next(&Limits::default()).unwrap() {
                break;
            }
        }
        assert_eq!(q.args()[1].len(), payload.len());
        assert!(reads <= 3, "took {reads} reads");
    }
}
