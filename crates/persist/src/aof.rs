//! The append-only file formats of Redis 7's multi-part AOF: the manifest that
//! lists the files of an AOF directory, and the RESP command log the INCR
//! files (and AOF-format BASE files) hold.
//!
//! A manifest is a text file, one file per line, each line key/value pairs
//! split like redis.conf arguments (quotes allowed):
//!
//! ```text
//! file appendonly.aof.3.base.rdb seq 3 type b
//! file appendonly.aof.3.incr.aof seq 3 type i
//! ```
//!
//! `type` is `b` (the base: an RDB or a command log), `h` (history, waiting to
//! be deleted) or `i` (incremental command logs, loaded in order after the
//! base). Lines starting with `#` are comments; unknown keys are ignored.
//! Error texts follow Redis 7.0.

use shoal_util::split::split_args;
use std::fmt::Write as _;

/// Longest manifest line Redis accepts (its read buffer).
const MANIFEST_MAX_LINE: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Base,
    History,
    Incr,
}

impl FileType {
    fn letter(self) -> char {
        match self {
            FileType::Base => 'b',
            FileType::History => 'h',
            FileType::Incr => 'i',
        }
    }
}

/// One file of an AOF directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AofFile {
    pub name: String,
    pub seq: i64,
    pub kind: FileType,
}

/// The parsed manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<AofFile>,
    pub incrs: Vec<AofFile>,
    pub history: Vec<AofFile>,
    /// Highest sequence number used for a base / an incr file.
    pub base_seq: i64,
    pub incr_seq: i64,
}

impl Manifest {
    /// Parses manifest text. Errors are Redis's messages.
    pub fn parse(text: &[u8]) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        let mut lines = 0usize;
        let mut rest = text;
        while !rest.is_empty() {
            let (line, next) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => {
                    if rest.len() >= MANIFEST_MAX_LINE - 1 {
                        return Err("The AOF manifest file contains too long line".into());
                    }
                    return Err("The AOF manifest file is invalid format".into());
                }
            };
            rest = next;
            if line.len() >= MANIFEST_MAX_LINE - 1 {
                return Err("The AOF manifest file contains too long line".into());
            }
            if line.first() == Some(&b'#') {
                continue;
            }
            let invalid = || "Invalid AOF manifest file format".to_string();
            let trimmed = trim(line);
            if trimmed.is_empty() {
                return Err(invalid());
            }
            let args = split_args(trimmed).ok_or_else(invalid)?;
            if args.len() < 6 || !args.len().is_multiple_of(2) {
                return Err(invalid());
            }
            let (mut name, mut seq, mut kind) = (None, None, None);
            for pair in args.chunks(2) {
                match pair[0].to_ascii_lowercase().as_slice() {
                    b"file" => name = Some(String::from_utf8_lossy(&pair[1]).into_owned()),
                    b"seq" => seq = Some(atoi(&pair[1])),
                    b"type" => kind = pair[1].first().copied(),
                    _ => {}
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err(invalid());
            };
            match kind {
                b'b' => {
                    if m.base.is_some() {
                        return Err("Found duplicate base file information".into());
                    }
                    m.base_seq = seq;
                    m.base = Some(AofFile {
                        name,
                        seq,
                        kind: FileType::Base,
                    });
                }
                b'h' => m.history.push(AofFile {
                    name,
                    seq,
                    kind: FileType::History,
                }),
                b'i' => {
                    if seq <= m.incr_seq {
                        return Err("Found a non-monotonic sequence number".into());
                    }
                    m.incr_seq = seq;
                    m.incrs.push(AofFile {
                        name,
                        seq,
                        kind: FileType::Incr,
                    });
                }
                _ => return Err("Unknown AOF file type".into()),
            }
            lines += 1;
        }
        if lines == 0 {
            return Err("Found an empty AOF manifest".into());
        }
        Ok(m)
    }

    /// The manifest text: base, then history, then incr files.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for f in self.base.iter().chain(self.history.iter()).chain(self.incrs.iter()) {
            let _ = writeln!(
                s,
                "file {} seq {} type {}",
                quote_if_needed(&f.name),
                f.seq,
                f.kind.letter()
            );
        }
        s
    }

    /// Whether the manifest lists no base and no incr file.
    pub fn is_empty(&self) -> bool {
        self.base.is_none() && self.incrs.is_empty()
    }

    /// A new base name (`<name>.<seq>.base.rdb` or `.base.aof`); the sequence
    /// is taken.
    pub fn next_base_name(&mut self, appendfilename: &str, rdb: bool) -> (String, i64) {
        self.base_seq += 1;
        let ext = if rdb { "rdb" } else { "aof" };
        (format!("{appendfilename}.{}.base.{ext}", self.base_seq), self.base_seq)
    }

    /// A new incr name (`<name>.<seq>.incr.aof`); the sequence is taken.
    pub fn next_incr_name(&mut self, appendfilename: &str) -> (String, i64) {
        self.incr_seq += 1;
        (format!("{appendfilename}.{}.incr.aof", self.incr_seq), self.incr_seq)
    }

    /// Installs a new base after a rewrite: the old base and every incr file
    /// but the last `keep_incrs` become history.
    pub fn install_base(&mut self, base: AofFile, keep_incrs: usize) {
        if let Some(mut old) = self.base.take() {
            old.kind = FileType::History;
            self.history.push(old);
        }
        self.base = Some(base);
        let drop_n = self.incrs.len().saturating_sub(keep_incrs);
        for mut f in self.incrs.drain(..drop_n) {
            f.kind = FileType::History;
            self.history.push(f);
        }
    }
}

fn trim(s: &[u8]) -> &[u8] {
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = s.iter().position(|b| !ws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !ws(b)).map_or(start, |i| i + 1);
    &s[start..end]
}

/// C `atoi`-like: optional sign and leading digits; anything else stops it.
pub fn atoi(s: &[u8]) -> i64 {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t') {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut v: i64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v.saturating_mul(10).saturating_add((s[i] - b'0') as i64);
        i += 1;
    }
    if neg {
        -v
    } else {
        v
    }
}

fn needs_quoting(s: &str) -> bool {
    s.is_empty()
        || s.bytes()
            .any(|b| b == b'\\' || b == b'"' || b == b'\'' || !(0x21..0x7f).contains(&b))
}

/// A file name as written in the manifest: bare, or double-quoted with
/// escapes when it holds spaces, quotes or non-printable bytes.
fn quote_if_needed(s: &str) -> String {
    if !needs_quoting(s) {
        return s.to_string();
    }
    let mut out = String::from("\"");
    for b in s.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
    out
}

/// Why reading a command log stopped early.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogError {
    /// The data ends inside a command (a torn write).
    Truncated,
    /// Bytes that are not a command, at this offset.
    Format(usize),
}

/// Reads RESP commands (`*<argc>` then `$<len>` bulk strings) from a command
/// log, as Redis's loader does: lines starting with `#` (annotations) are
/// skipped, counts are read like C's `atoi`, the two bytes after a bulk are
/// not checked.
pub struct CommandReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> CommandReader<'a> {
    pub fn new(data: &'a [u8], start: usize) -> Self {
        CommandReader { data, pos: start }
    }

    /// Offset of the first byte not consumed (just after the last command).
    pub fn offset(&self) -> usize {
        self.pos
    }

    fn line(&mut self) -> Result<&'a [u8], LogError> {
        let rest = &self.data[self.pos..];
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                self.pos += i + 1;
                Ok(&rest[..i])
            }
            None => Err(LogError::Truncated),
        }
    }

    /// The next command, None at a clean end. On error the offset stays at the
    /// start of the bad command.
    pub fn next_command(&mut self) -> Result<Option<Vec<Vec<u8>>>, LogError> {
        loop {
            if self.pos >= self.data.len() {
                return Ok(None);
            }
            let start = self.pos;
            let line = self.line().inspect_err(|_| self.pos = start)?;
            if line.first() == Some(&b'#') {
                continue;
            }
            if line.first() != Some(&b'*') {
                self.pos = start;
                return Err(LogError::Format(start));
            }
            let argc = atoi(&line[1..]);
            if argc < 1 {
                self.pos = start;
                return Err(LogError::Format(start));
            }
            let mut argv = Vec::with_capacity(argc.min(1024) as usize);
            for _ in 0..argc {
                let at = self.pos;
                let l = match self.line() {
                    Ok(l) => l,
                    Err(e) => {
                        self.pos = start;
                        return Err(e);
                    }
                };
                if l.first() != Some(&b'$') {
                    self.pos = start;
                    return Err(LogError::Format(at));
                }
                let len = atoi(&l[1..]);
                if len < 0 {
                    self.pos = start;
                    return Err(LogError::Format(at));
                }
                let len = len as usize;
                if self.data.len() - self.pos < len.saturating_add(2) {
                    self.pos = start;
                    return Err(LogError::Truncated);
                }
                argv.push(self.data[self.pos..self.pos + len].to_vec());
                self.pos += len + 2;
            }
            return Ok(Some(argv));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trip() {
        let text = "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n";
        let m = Manifest::parse(text.as_bytes()).unwrap();
        assert_eq!(m.base.as_ref().unwrap().name, "appendonly.aof.1.base.rdb");
        assert_eq!(m.incrs.len(), 1);
        assert_eq!(m.to_text(), text);
    }

    #[test]
    fn manifest_rules() {
        assert_eq!(Manifest::parse(b"").unwrap_err(), "Found an empty AOF manifest");
        assert_eq!(Manifest::parse(b"# only\n").unwrap_err(), "Found an empty AOF manifest");
        assert_eq!(
            Manifest::parse(b"file a seq 1\n").unwrap_err(),
            "Invalid AOF manifest file format"
        );
        assert_eq!(
            Manifest::parse(b"file a seq 1 type b\nfile b seq 2 type b\n").unwrap_err(),
            "Found duplicate base file information"
        );
        assert_eq!(
            Manifest::parse(b"file a seq 2 type i\nfile b seq 2 type i\n").unwrap_err(),
            "Found a non-monotonic sequence number"
        );
        assert_eq!(
            Manifest::parse(b"file a seq 1 type x\n").unwrap_err(),
            "Unknown AOF file type"
        );
        assert_eq!(
            Manifest::parse(b"file a seq 1 type b").unwrap_err(),
            "The AOF manifest file is invalid format"
        );
        let m = Manifest::parse(b"file \"a b\\x41\" seq 1 type b extra x\n").unwrap();
        assert_eq!(m.base.unwrap().name, "a bA");
    }

    #[test]
    fn quoted_names_round_trip() {
        let m = Manifest {
            base: Some(AofFile {
                name: "my file\".aof".into(),
                seq: 1,
                kind: FileType::Base,
            }),
            base_seq: 1,
            ..Default::default()
        };
        let text = m.to_text();
        assert_eq!(text, "file \"my file\\\".aof\" seq 1 type b\n");
        assert_eq!(Manifest::parse(text.as_bytes()).unwrap(), m);
    }

    #[test]
    fn rewrite_bookkeeping() {
        let mut m = Manifest::parse(b"file a.1.base.rdb seq 1 type b\nfile a.1.incr.aof seq 1 type i\n").unwrap();
        let (incr, _) = m.next_incr_name("a");
        m.incrs.push(AofFile {
            name: incr,
            seq: 2,
            kind: FileType::Incr,
        });
        let (base, seq) = m.next_base_name("a", true);
        m.install_base(
            AofFile {
                name: base,
                seq,
                kind: FileType::Base,
            },
            1,
        );
        assert_eq!(
            m.to_text(),
            "file a.2.base.rdb seq 2 type b\nfile a.1.base.rdb seq 1 type h\nfile a.1.incr.aof seq 1 type h\nfile a.2.incr.aof seq 2 type i\n"
        );
    }

    #[test]
    fn command_log() {
        let data = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n#TS:123\r\n*3\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n";
        let mut r = CommandReader::new(data, 0);
        assert_eq!(
            r.next_command().unwrap().unwrap(),
            vec![b"SELECT".to_vec(), b"0".to_vec()]
        );
        assert_eq!(r.next_command().unwrap().unwrap()[2], b"v".to_vec());
        assert_eq!(r.next_command().unwrap(), None);
        for cut in 1..data.len() {
            let mut r = CommandReader::new(&data[..cut], 0);
            let mut last = Ok(None);
            for _ in 0..3 {
                last = r.next_command();
                if !matches!(last, Ok(Some(_))) {
                    break;
                }
            }
            // Every prefix either ends cleanly at a command boundary or is torn.
            assert!(
                matches!(last, Ok(None) | Err(LogError::Truncated)),
                "cut {cut}: {last:?}"
            );
        }
        let mut r = CommandReader::new(b"*1\r\n$4\r\nPING\r\nxyz\r\n", 0);
        r.next_command().unwrap();
        assert_eq!(r.next_command(), Err(LogError::Format(14)));
        assert_eq!(r.offset(), 14);
    }
}
