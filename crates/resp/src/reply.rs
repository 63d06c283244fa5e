//! Server-side reply writer for RESP2 and RESP3.
//!
//! Command code writes through [`Reply`] and never thinks about the protocol
//! version: a map becomes a flat array for RESP2 clients, a double a bulk string, a
//! boolean an integer, a null `$-1` or `*-1`, exactly as Redis 7.0 does.

/// The protocol a client negotiated with HELLO.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Protocol {
    #[default]
    Resp2,
    Resp3,
}

/// An output buffer plus the protocol to encode in.
#[derive(Debug, Default)]
pub struct Reply {
    pub buf: Vec<u8>,
    pub proto: Protocol,
    /// Error replies written since the last [`Reply::take_errors`]: their codes
    /// (first word, e.g. `ERR`, `WRONGTYPE`), for INFO errorstats.
    errors: Vec<String>,
}

impl Reply {
    pub fn new(proto: Protocol) -> Self {
        Reply {
            buf: Vec::new(),
            proto,
            errors: Vec::new(),
        }
    }

    pub fn is_resp3(&self) -> bool {
        self.proto == Protocol::Resp3
    }

    #[inline]
    fn line(&mut self, prefix: u8, n: i64) {
        self.buf.push(prefix);
        let tmp = itoa_buf(n);
        self.buf.extend_from_slice(tmp.as_slice());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `+OK`.
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// A status reply (`+text`). Newlines are replaced by spaces, as Redis does.
    pub fn simple(&mut self, text: &str) {
        self.buf.push(b'+');
        self.buf
            .extend(text.bytes().map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error reply. `text` is the whole message after the `-`, starting with its
    /// code (`ERR syntax error`, `WRONGTYPE Operation ...`).
    pub fn error(&mut self, text: &str) {
        self.buf.push(b'-');
        self.buf
            .extend(text.bytes().map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }));
        self.buf.extend_from_slice(b"\r\n");
        let code = text.split(' ').next().unwrap_or("ERR");
        self.errors.push(code.to_string());
    }

    /// Error codes of the errors written since the last call.
    pub fn take_errors(&mut self) -> Vec<String> {
        std::mem::take(&mut self.errors)
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    #[inline]
    pub fn int(&mut self, n: i64) {
        self.line(b':', n);
    }

    #[inline]
    pub fn bulk(&mut self, data: &[u8]) {
        let n = data.len();
        // One capacity check for the whole element; lengths under 10 (most
        // small values) skip the integer formatting.
        self.buf.reserve(n + 24);
        if n < 10 {
            self.buf.extend_from_slice(&[b'$', b'0' + n as u8, b'\r', b'\n']);
        } else {
            self.line(b'$', n as i64);
        }
        self.buf.extend_from_slice(data);
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn bulk_str(&mut self, s: &str) {
        self.bulk(s.as_bytes());
    }

    /// An integer sent as a bulk string (as Redis does for INCRBYFLOAT-like replies).
    pub fn bulk_int(&mut self, n: i64) {
        let tmp = itoa_buf(n);
        self.bulk(tmp.as_slice());
    }

    /// The null bulk string: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        match self.proto {
            Protocol::Resp2 => self.buf.extend_from_slice(b"$-1\r\n"),
            Protocol::Resp3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    /// The null array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        match self.proto {
            Protocol::Resp2 => self.buf.extend_from_slice(b"*-1\r\n"),
            Protocol::Resp3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    #[inline]
    pub fn array(&mut self, len: usize) {
        self.line(b'*', len as i64);
    }

    /// A map of `len` pairs (RESP2: an array of 2*len items).
    pub fn map(&mut self, len: usize) {
        match self.proto {
            Protocol::Resp2 => self.line(b'*', 2 * len as i64),
            Protocol::Resp3 => self.line(b'%', len as i64),
        }
    }

    /// A set (RESP2: an array).
    pub fn set(&mut self, len: usize) {
        match self.proto {
            Protocol::Resp2 => self.line(b'*', len as i64),
            Protocol::Resp3 => self.line(b'~', len as i64),
        }
    }

    /// An out-of-band push message (RESP2: an array).
    pub fn push(&mut self, len: usize) {
        match self.proto {
            Protocol::Resp2 => self.line(b'*', len as i64),
            Protocol::Resp3 => self.line(b'>', len as i64),
        }
    }

    /// A double, already formatted the Redis way (RESP2: bulk string).
    pub fn double_text(&mut self, text: &str) {
        match self.proto {
            Protocol::Resp2 => self.bulk(text.as_bytes()),
            Protocol::Resp3 => {
                self.buf.push(b',');
                self.buf.extend_from_slice(text.as_bytes());
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// A boolean (RESP2: integer 1 or 0).
    pub fn boolean(&mut self, v: bool) {
        match self.proto {
            Protocol::Resp2 => self.int(v as i64),
            Protocol::Resp3 => self.buf.extend_from_slice(if v { b"#t\r\n" } else { b"#f\r\n" }),
        }
    }

    /// A verbatim string with a three-letter format such as `txt` (RESP2: bulk).
    pub fn verbatim(&mut self, format: &str, text: &[u8]) {
        match self.proto {
            Protocol::Resp2 => self.bulk(text),
            Protocol::Resp3 => {
                self.line(b'=', (text.len() + 4) as i64);
                self.buf.extend_from_slice(format.as_bytes());
                self.buf.push(b':');
                self.buf.extend_from_slice(text);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// Appends bytes that are already valid RESP.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Current length, for callers that need to undo or patch a partial reply.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// A small stack buffer holding an integer's decimal text.
pub struct ItoaBuf {
    bytes: [u8; 20],
    start: u8,
}

impl ItoaBuf {
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[self.start as usize..]
    }
}

/// Formats an integer without allocating.
pub fn itoa_buf(n: i64) -> ItoaBuf {
    let mut bytes = [0u8; 20];
    let mut i = 20;
    let neg = n < 0;
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        bytes[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        bytes[i] = b'-';
    }
    ItoaBuf { bytes, start: i as u8 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resp2_and_resp3_encodings() {
        let mut r2 = Reply::new(Protocol::Resp2);
        let mut r3 = Reply::new(Protocol::Resp3);
        for r in [&mut r2, &mut r3] {
            r.map(1);
            r.bulk(b"k");
            r.double_text("1.5");
            r.null();
            r.boolean(true);
            r.int(i64::MIN);
        }
        assert_eq!(
            r2.buf,
            b"*2\r\n$1\r\nk\r\n$3\r\n1.5\r\n$-1\r\n:1\r\n:-9223372036854775808\r\n"
        );
        assert_eq!(r3.buf, b"%1\r\n$1\r\nk\r\n,1.5\r\n_\r\n#t\r\n:-9223372036854775808\r\n");
    }

    #[test]
    fn errors_are_recorded_by_code() {
        let mut r = Reply::new(Protocol::Resp2);
        r.error("WRONGTYPE Operation against a key holding the wrong kind of value");
        r.error("ERR bad\r\nthing");
        assert_eq!(r.take_errors(), vec!["WRONGTYPE", "ERR"]);
        assert!(r.buf.ends_with(b"-ERR bad  thing\r\n"));
    }
}
