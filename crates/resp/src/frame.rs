//! Client-side RESP2/RESP3 value parsing, for tools, tests and replication links.

/// One RESP value.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    Simple(Vec<u8>),
    Error(Vec<u8>),
    Integer(i64),
    Bulk(Vec<u8>),
    Null,
    Array(Vec<Frame>),
    Map(Vec<(Frame, Frame)>),
    Set(Vec<Frame>),
    Push(Vec<Frame>),
    Double(Vec<u8>),
    Boolean(bool),
    BigNumber(Vec<u8>),
    Verbatim(Vec<u8>, Vec<u8>),
}

/// Parse failure: the bytes are not valid RESP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameError(pub String);

impl Frame {
    /// Parses one frame from the front of `buf`. `Ok(None)` means incomplete;
    /// `Ok(Some((frame, used)))` gives the bytes consumed.
    pub fn parse(buf: &[u8]) -> Result<Option<(Frame, usize)>, FrameError> {
        let mut pos = 0;
        match parse_at(buf, &mut pos, 0)? {
            Some(f) => Ok(Some((f, pos))),
            None => Ok(None),
        }
    }

    /// Encodes the frame as a RESP3 reply (RESP2 for the RESP2 types).
    pub fn encode(&self, out: &mut Vec<u8>) {
        fn line(out: &mut Vec<u8>, p: u8, s: &[u8]) {
            out.push(p);
            out.extend_from_slice(s);
            out.extend_from_slice(b"\r\n");
        }
        match self {
            Frame::Simple(s) => line(out, b'+', s),
            Frame::Error(s) => line(out, b'-', s),
            Frame::Integer(i) => line(out, b':', i.to_string().as_bytes()),
            Frame::Bulk(b) => {
                line(out, b'$', b.len().to_string().as_bytes());
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Null => out.extend_from_slice(b"_\r\n"),
            Frame::Array(items) | Frame::Set(items) | Frame::Push(items) => {
                let p = match self {
                    Frame::Array(_) => b'*',
                    Frame::Set(_) => b'~',
                    _ => b'>',
                };
                line(out, p, items.len().to_string().as_bytes());
                for i in items {
                    i.encode(out);
                }
            }
            Frame::Map(pairs) => {
                line(out, b'%', pairs.len().to_string().as_bytes());
                for (k, v) in pairs {
                    k.encode(out);
                    v.encode(out);
                }
            }
            Frame::Double(d) => line(out, b',', d),
            Frame::Boolean(b) => out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
            Frame::BigNumber(n) => line(out, b'(', n),
            Frame::Verbatim(f, t) => {
                line(out, b'=', (t.len() + 4).to_string().as_bytes());
                out.extend_from_slice(f);
                out.push(b':');
                out.extend_from_slice(t);
                out.extend_from_slice(b"\r\n");
            }
        }
    }
}

const MAX_DEPTH: usize = 64;

fn read_line<'a>(buf: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let start = *pos;
    let rel = buf[start..].windows(2).position(|w| w == b"\r\n")?;
    *pos = start + rel + 2;
    Some(&buf[start..start + rel])
}

fn int_of(s: &[u8]) -> Result<i64, FrameError> {
    std::str::from_utf8(s)
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| FrameError(format!("bad integer {:?}", String::from_utf8_lossy(s))))
}

fn parse_at(buf: &[u8], pos: &mut usize, depth: usize) -> Result<Option<Frame>, FrameError> {
    if depth > MAX_DEPTH {
        return Err(FrameError("nesting too deep".into()));
    }
    if *pos >= buf.len() {
        return Ok(None);
    }
    let kind = buf[*pos];
    *pos += 1;
    let Some(line) = read_line(buf, pos) else {
        return Ok(None);
    };
    let frame = match kind {
        b'+' => Frame::Simple(line.to_vec()),
        b'-' => Frame::Error(line.to_vec()),
        b':' => Frame::Integer(int_of(line)?),
        b',' => Frame::Double(line.to_vec()),
        b'(' => Frame::BigNumber(line.to_vec()),
        b'_' => Frame::Null,
        b'#' => Frame::Boolean(line == b"t"),
        b'$' | b'=' | b'!' => {
            let n = int_of(line)?;
            if n < 0 {
                return Ok(Some(Frame::Null));
            }
            let n = n as usize;
            if buf.len() < *pos + n + 2 {
                return Ok(None);
            }
            let data = buf[*pos..*pos + n].to_vec();
            *pos += n + 2;
            match kind {
                b'$' => Frame::Bulk(data),
                b'!' => Frame::Error(data),
                _ if data.len() >= 4 => Frame::Verbatim(data[..3].to_vec(), data[4..].to_vec()),
                _ => return Err(FrameError("short verbatim string".into())),
            }
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = int_of(line)?;
            if n < 0 {
                return Ok(Some(Frame::Null));
            }
            let count = if kind == b'%' || kind == b'|' { 2 * n } else { n } as usize;
            let mut items = Vec::with_capacity(count.min(1024));
            for _ in 0..count {
                match parse_at(buf, pos, depth + 1)? {
                    Some(f) => items.push(f),
                    None => return Ok(None),
                }
            }
            match kind {
                b'*' => Frame::Array(items),
                b'~' => Frame::Set(items),
                b'>' => Frame::Push(items),
                b'|' => {
                    // An attribute precedes the real reply: skip it.
                    return parse_at(buf, pos, depth + 1);
                }
                _ => {
                    let mut pairs = Vec::with_capacity(items.len() / 2);
                    let mut it = items.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        pairs.push((k, v));
                    }
                    Frame::Map(pairs)
                }
            }
        }
        other => return Err(FrameError(format!("unknown type byte {:?}", other as char))),
    };
    Ok(Some(frame))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_resp3() {
        let f = Frame::Map(vec![(
            Frame::Bulk(b"a".to_vec()),
            Frame::Array(vec![
                Frame::Integer(-3),
                Frame::Null,
                Frame::Double(b"1.5".to_vec()),
                Frame::Boolean(false),
            ]),
        )]);
        let mut out = Vec::new();
        f.encode(&mut out);
        assert_eq!(Frame::parse(&out).unwrap(), Some((f, out.len())));
        assert_eq!(Frame::parse(&out[..out.len() - 1]).unwrap(), None);
    }

    #[test]
    fn resp2_nulls() {
        assert_eq!(Frame::parse(b"$-1\r\n").unwrap(), Some((Frame::Null, 5)));
        assert_eq!(Frame::parse(b"*-1\r\n").unwrap(), Some((Frame::Null, 5)));
    }
}
