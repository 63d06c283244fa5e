//! RDB object encoding: one value to bytes and back.
//!
//! Lengths: `00xxxxxx` (6 bits), `01xxxxxx xxxxxxxx` (14 bits, big endian),
//! `0x80` + u32 BE, `0x81` + u64 BE. `11xxxxxx` marks a special string encoding:
//! 0 = int8, 1 = int16 LE, 2 = int32 LE, 3 = LZF (`compressed len, plain len, data`).
//!
//! What the encoder writes (what Redis 7.0 writes for the same encodings):
//! strings (integer encodings when the text is a canonical int32, LZF when
//! `rdbcompression` and it saves more than 4 bytes), lists as quicklist-2 with
//! listpack nodes, sets as intset or plain, hashes and sorted sets as listpack or
//! plain (`ZSET_2`, binary doubles), streams as `STREAM_LISTPACKS_2`.
//! The decoder also reads what older Redis versions wrote and 7.0 still loads:
//! the plain list, the text-double zset (`ZSET`), ziplist lists, hashes and
//! zsets, and quicklists of ziplists. Not read: zipmap hashes (Redis 2.x) and
//! module types.

use crate::listpack::{self, Item, LpWriter};
use crate::{bad, Error, Options};
use shoal_store::hash::HashValue;
use shoal_store::list::{ListValue, NodeLimit};
use shoal_store::set::SetValue;
use shoal_store::zset::{cmp_entry, ZSetValue};
use shoal_store::Value;
use shoal_util::lzf;
use shoal_util::num::{format_double_into, format_i64, parse_f64, parse_i64};

pub const T_STRING: u8 = 0;
pub const T_LIST: u8 = 1;
pub const T_SET: u8 = 2;
pub const T_ZSET: u8 = 3;
pub const T_HASH: u8 = 4;
pub const T_ZSET_2: u8 = 5;
pub const T_LIST_ZIPLIST: u8 = 10;
pub const T_SET_INTSET: u8 = 11;
pub const T_ZSET_ZIPLIST: u8 = 12;
pub const T_HASH_ZIPLIST: u8 = 13;
pub const T_LIST_QUICKLIST: u8 = 14;
pub const T_HASH_LISTPACK: u8 = 16;
pub const T_ZSET_LISTPACK: u8 = 17;
pub const T_LIST_QUICKLIST_2: u8 = 18;
pub const T_STREAM_LISTPACKS: u8 = 15;
pub const T_STREAM_LISTPACKS_2: u8 = 19;
/// RDB 11 (Redis 7.2): a set in one listpack.
pub const T_SET_LISTPACK: u8 = 20;
/// Redis 7.4 hash field expiry types. Written only for hashes that have field
/// TTLs, so every other file stays readable by Redis 7.0. The `_PRE_GA` forms
/// (7.4 release candidates: absolute TTLs, no minimum prefix) are read only.
pub const T_HASH_METADATA_PRE_GA: u8 = 22;
pub const T_HASH_LISTPACK_EX_PRE_GA: u8 = 23;
/// `u64 LE min expiry, len, len times [len ttl][field][value]` where `ttl` is 0
/// (no TTL) or `expiry - min + 1`.
pub const T_HASH_METADATA: u8 = 24;
/// `u64 LE min expiry`, then one listpack of `field, value, expiry` triplets
/// (absolute Unix ms, 0 = no TTL), fields with TTLs first, earliest first.
pub const T_HASH_LISTPACK_EX: u8 = 25;

/// Quicklist node containers.
const QL_PLAIN: u64 = 1;
const QL_PACKED: u64 = 2;

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

pub fn write_len(out: &mut Vec<u8>, n: u64) {
    if n < 64 {
        out.push(n as u8);
    } else if n < 16384 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Writes an integer in the smallest special string encoding, if it has one.
fn write_int_enc(out: &mut Vec<u8>, v: i64) -> bool {
    if let Ok(v) = i8::try_from(v) {
        out.push(0xC0);
        out.push(v as u8);
    } else if let Ok(v) = i16::try_from(v) {
        out.push(0xC1);
        out.extend_from_slice(&v.to_le_bytes());
    } else if let Ok(v) = i32::try_from(v) {
        out.push(0xC2);
        out.extend_from_slice(&v.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// Writes a string: integer encoded when it is a short canonical integer, LZF
/// compressed when allowed and worth it, raw otherwise.
pub fn write_string(out: &mut Vec<u8>, b: &[u8], compress: bool) {
    if b.len() <= 11 {
        if let Some(v) = parse_i64(b) {
            if write_int_enc(out, v) {
                return;
            }
        }
    }
    if compress && b.len() > 20 {
        if let Some(c) = lzf::lzf_compress(b, b.len() - 4) {
            out.push(0xC3);
            write_len(out, c.len() as u64);
            write_len(out, b.len() as u64);
            out.extend_from_slice(&c);
            return;
        }
    }
    write_len(out, b.len() as u64);
    out.extend_from_slice(b);
}

pub fn write_i64_string(out: &mut Vec<u8>, v: i64) {
    if !write_int_enc(out, v) {
        let mut t = Vec::with_capacity(20);
        format_i64(v, &mut t);
        write_len(out, t.len() as u64);
        out.extend_from_slice(&t);
    }
}

/// The RDB type byte `encode_object` writes for a value.
pub fn type_byte(v: &Value) -> u8 {
    match v {
        Value::Int(_) | Value::Inline { .. } | Value::Str(_) | Value::Raw(_) => T_STRING,
        Value::List(_) => T_LIST_QUICKLIST_2,
        Value::Set(s) if s.encoding_name() == "intset" => T_SET_INTSET,
        Value::Set(_) => T_SET,
        Value::Hash(h) if h.has_field_ttls() && h.is_listpack() => T_HASH_LISTPACK_EX,
        Value::Hash(h) if h.has_field_ttls() => T_HASH_METADATA,
        Value::Hash(h) if h.is_listpack() => T_HASH_LISTPACK,
        Value::Hash(_) => T_HASH,
        Value::ZSet(z) if z.is_compact() => T_ZSET_LISTPACK,
        Value::ZSet(_) => T_ZSET_2,
        Value::Stream(_) => T_STREAM_LISTPACKS_2,
    }
}

/// Text of a score as Redis stores it in a sorted set listpack: integral values
/// within +-2^52 as integers, others as `%.17g`.
fn score_text(s: f64, out: &mut Vec<u8>) {
    if s == 0.0 {
        out.push(b'0');
    } else if s > -4503599627370495.0 && s < 4503599627370496.0 && s == (s as i64) as f64 {
        format_i64(s as i64, out);
    } else {
        format_double_into(s, out);
    }
}

/// Writes the type byte and the object.
pub fn encode_object(out: &mut Vec<u8>, v: &Value, opts: &Options) {
    out.push(type_byte(v));
    encode_value(out, v, opts);
}

/// Writes the object body (without the type byte).
pub fn encode_value(out: &mut Vec<u8>, v: &Value, opts: &Options) {
    let c = opts.compress;
    match v {
        Value::Int(n) => write_i64_string(out, *n),
        Value::Inline { .. } | Value::Str(_) | Value::Raw(_) => write_string(out, &v.str_bytes().unwrap(), c),
        Value::List(l) => encode_list(out, l, opts),
        Value::Set(s) => {
            if s.encoding_name() == "intset" {
                let mut vals: Vec<i64> = s.iter().map(|m| parse_i64(&m).unwrap_or(0)).collect();
                vals.sort_unstable();
                write_string(out, &listpack::intset_encode(&vals), c);
            } else {
                write_len(out, s.len() as u64);
                for m in s.iter() {
                    write_string(out, &m, c);
                }
            }
        }
        Value::Hash(h) if h.has_field_ttls() => encode_hash_with_ttls(out, h, c),
        Value::Hash(h) => {
            if h.is_listpack() {
                let mut w = LpWriter::new();
                for (f, v) in h.iter() {
                    w.push(f);
                    w.push(v);
                }
                write_string(out, &w.finish(), c);
            } else {
                write_len(out, h.len() as u64);
                for (f, v) in h.iter() {
                    write_string(out, f, c);
                    write_string(out, v, c);
                }
            }
        }
        Value::ZSet(z) => {
            if z.is_compact() {
                let mut w = LpWriter::new();
                let mut t = Vec::with_capacity(32);
                for (m, s) in z.iter() {
                    w.push(m);
                    t.clear();
                    score_text(s, &mut t);
                    w.push(&t);
                }
                write_string(out, &w.finish(), c);
            } else {
                // Highest score first, as Redis writes it.
                write_len(out, z.len() as u64);
                let n = z.len();
                if n > 0 {
                    for (m, s) in z.iter_from(n - 1, true) {
                        write_string(out, m, c);
                        out.extend_from_slice(&s.to_le_bytes());
                    }
                }
            }
        }
        Value::Stream(s) => crate::stream::encode_stream(out, s, opts),
    }
}

/// A hash with field TTLs, as [`T_HASH_LISTPACK_EX`] or [`T_HASH_METADATA`].
fn encode_hash_with_ttls(out: &mut Vec<u8>, h: &HashValue, compress: bool) {
    let min = h.min_field_expire().unwrap_or(0);
    out.extend_from_slice(&(min as u64).to_le_bytes());
    if h.is_listpack() {
        let mut w = LpWriter::new();
        for (f, at) in h.field_ttls() {
            w.push(f);
            w.push(h.get(f).unwrap_or_default());
            w.push_int(at);
        }
        for (f, v) in h.iter() {
            if h.field_expire(f).is_none() {
                w.push(f);
                w.push(v);
                w.push_int(0);
            }
        }
        write_string(out, &w.finish(), compress);
    } else {
        write_len(out, h.len() as u64);
        for (f, v) in h.iter() {
            let rel = h.field_expire(f).map_or(0, |at| (at - min) as u64 + 1);
            write_len(out, rel);
            write_string(out, f, compress);
            write_string(out, v, compress);
        }
    }
}

/// Reads [`T_HASH_METADATA`] / [`T_HASH_LISTPACK_EX`] and their pre-GA forms.
fn decode_hash_with_ttls(r: &mut Reader, t: u8, opts: &Options) -> Result<Value, Error> {
    let min = if t == T_HASH_METADATA || t == T_HASH_LISTPACK_EX {
        r.u64_le()? as i64
    } else {
        0
    };
    let mut h = HashValue::new();
    let mut ttls: Vec<(Vec<u8>, i64)> = Vec::new();
    if t == T_HASH_METADATA || t == T_HASH_METADATA_PRE_GA {
        let n = r.count()?;
        let mut lim = opts.hash;
        if n > lim.max_entries {
            lim.max_entries = 0;
        }
        for _ in 0..n {
            let ttl = r.length()?;
            let f = r.string()?;
            let v = r.string()?;
            if !h.insert(&f, &v, lim) {
                return bad("Duplicate hash fields detected");
            }
            if ttl != 0 {
                let at = if t == T_HASH_METADATA {
                    (ttl - 1).checked_add(min as u64)
                } else {
                    Some(ttl)
                };
                match at {
                    Some(at) if at <= i64::MAX as u64 => ttls.push((f, at as i64)),
                    _ => return bad("Hash field TTL out of range"),
                }
            }
        }
    } else {
        let blob = r.string()?;
        let items = listpack::parse(&blob)?;
        if items.len() % 3 != 0 {
            return bad("Hash listpack integrity check failed.");
        }
        for p in items.chunks_exact(3) {
            let f = p[0].to_vec();
            if !h.insert(&f, &p[1].to_vec(), opts.hash) {
                return bad("Duplicate hash fields detected");
            }
            match p[2].as_int() {
                Some(0) => {}
                Some(at) if at > 0 => ttls.push((f, at)),
                _ => return bad("Hash listpack integrity check failed."),
            }
        }
    }
    if h.is_empty() {
        return empty();
    }
    for (f, at) in ttls {
        h.set_field_expire(&f, at);
    }
    Ok(Value::Hash(h))
}

/// Node size rule for quicklist nodes: (max bytes, max entries).
fn node_caps(fill: i64) -> (usize, usize) {
    match fill {
        -1 => (4096, usize::MAX),
        -2 | 0 => (8192, usize::MAX),
        -3 => (16384, usize::MAX),
        -4 => (32768, usize::MAX),
        n if n <= -5 => (65536, usize::MAX),
        n => (8192, n as usize),
    }
}

fn encode_list(out: &mut Vec<u8>, l: &ListValue, opts: &Options) {
    let (max_bytes, max_count) = node_caps(opts.list_max_listpack_size);
    let mut nodes: Vec<Vec<u8>> = Vec::new();
    let mut cur = LpWriter::new();
    for item in l.iter() {
        let sz = listpack::entry_size(item);
        if cur.count() > 0 && (cur.count() >= max_count || cur.bytes() + sz > max_bytes) {
            nodes.push(std::mem::take(&mut cur).finish());
        }
        cur.push(item);
    }
    if cur.count() > 0 {
        nodes.push(cur.finish());
    }
    write_len(out, nodes.len() as u64);
    for n in nodes {
        write_len(out, QL_PACKED);
        write_string(out, &n, opts.compress);
    }
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

/// A cursor over RDB bytes.
pub struct Reader<'a> {
    pub buf: &'a [u8],
    pub pos: usize,
}

fn short<T>() -> Result<T, Error> {
    bad("Unexpected EOF reading RDB file")
}

/// A decoded length, or a special string encoding.
enum Len {
    Plain(u64),
    Special(u8),
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn u8(&mut self) -> Result<u8, Error> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| Error("Unexpected EOF reading RDB file".into()))?;
        self.pos += 1;
        Ok(b)
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if n > self.remaining() {
            return short();
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn u64_le(&mut self) -> Result<u64, Error> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().unwrap()))
    }

    pub fn u32_le(&mut self) -> Result<u32, Error> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes(b.try_into().unwrap()))
    }

    fn len_or_special(&mut self) -> Result<Len, Error> {
        let b = self.u8()?;
        Ok(match b >> 6 {
            0 => Len::Plain((b & 0x3f) as u64),
            1 => Len::Plain((((b & 0x3f) as u64) << 8) | self.u8()? as u64),
            2 => match b {
                0x80 => Len::Plain(u32::from_be_bytes(self.take(4)?.try_into().unwrap()) as u64),
                0x81 => Len::Plain(u64::from_be_bytes(self.take(8)?.try_into().unwrap())),
                _ => return bad(format!("Unknown length encoding {b} in rdbLoadLen()")),
            },
            _ => Len::Special(b & 0x3f),
        })
    }

    pub fn length(&mut self) -> Result<u64, Error> {
        match self.len_or_special()? {
            Len::Plain(n) => Ok(n),
            Len::Special(_) => bad("Unexpected special encoding for a length"),
        }
    }

    /// A length that also has to be a plausible count of things still in the buffer.
    pub fn count(&mut self) -> Result<usize, Error> {
        let n = self.length()?;
        if n > self.remaining() as u64 {
            return short();
        }
        Ok(n as usize)
    }

    /// A string, decoded from any of its encodings.
    pub fn string(&mut self) -> Result<Vec<u8>, Error> {
        match self.len_or_special()? {
            Len::Plain(n) => {
                if n > self.remaining() as u64 {
                    return short();
                }
                Ok(self.take(n as usize)?.to_vec())
            }
            Len::Special(e) => {
                let v = match e {
                    0 => self.u8()? as i8 as i64,
                    1 => i16::from_le_bytes(self.take(2)?.try_into().unwrap()) as i64,
                    2 => i32::from_le_bytes(self.take(4)?.try_into().unwrap()) as i64,
                    3 => {
                        let clen = self.length()?;
                        let ulen = self.length()?;
                        if clen > self.remaining() as u64 || ulen > (1 << 40) {
                            return short();
                        }
                        let data = self.take(clen as usize)?;
                        return lzf::lzf_decompress(data, ulen as usize)
                            .ok_or_else(|| Error("Invalid LZF compressed string".into()));
                    }
                    _ => return bad(format!("Unknown RDB string encoding type {e}")),
                };
                let mut out = Vec::with_capacity(20);
                format_i64(v, &mut out);
                Ok(out)
            }
        }
    }

    /// A string as a value (canonical integers become `Value::Int`).
    pub fn string_value(&mut self) -> Result<Value, Error> {
        // Integer encodings become the integer directly, without formatting
        // it as text and parsing it back.
        let at = self.pos;
        if let Len::Special(e @ 0..=2) = self.len_or_special()? {
            let v = match e {
                0 => self.u8()? as i8 as i64,
                1 => i16::from_le_bytes(self.take(2)?.try_into().unwrap()) as i64,
                _ => i32::from_le_bytes(self.take(4)?.try_into().unwrap()) as i64,
            };
            return Ok(Value::Int(v));
        }
        self.pos = at;
        let b = self.string()?;
        Ok(Value::from_vec_auto(b))
    }

    pub fn binary_double(&mut self) -> Result<f64, Error> {
        Ok(f64::from_bits(self.u64_le()?))
    }

    /// The old text double: a length byte (253 nan, 254 +inf, 255 -inf), then text.
    pub fn text_double(&mut self) -> Result<f64, Error> {
        let n = self.u8()?;
        match n {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            _ => {
                let t = self.take(n as usize)?;
                parse_f64(t).ok_or_else(|| Error("Invalid double".into()))
            }
        }
    }
}

trait FromVecAuto {
    fn from_vec_auto(b: Vec<u8>) -> Value;
}

impl FromVecAuto for Value {
    fn from_vec_auto(b: Vec<u8>) -> Value {
        if b.len() <= 20 {
            if let Some(n) = parse_i64(&b) {
                return Value::Int(n);
            }
        }
        Value::from_vec(b)
    }
}

/// Decoding failed because the value would be empty (Redis skips such keys
/// when loading a file and refuses them in RESTORE).
pub const EMPTY_KEY: &str = "empty key";

fn empty<T>() -> Result<T, Error> {
    bad(EMPTY_KEY)
}

/// Reads one object of RDB type `t`.
pub fn decode_value(r: &mut Reader, t: u8, opts: &Options) -> Result<Value, Error> {
    let c = opts;
    Ok(match t {
        T_STRING => r.string_value()?,
        T_LIST => {
            let n = r.count()?;
            let mut l = ListValue::new();
            for _ in 0..n {
                l.push_back(&r.string()?, NodeLimit(c.list_max_listpack_size));
            }
            if l.is_empty() {
                return empty();
            }
            Value::List(Box::new(l))
        }
        T_LIST_QUICKLIST_2 => {
            let nodes = r.count()?;
            let mut l = ListValue::new();
            let lim = NodeLimit(c.list_max_listpack_size);
            for _ in 0..nodes {
                let container = r.length()?;
                let blob = r.string()?;
                match container {
                    QL_PLAIN => l.push_back(&blob, lim),
                    QL_PACKED => {
                        for it in listpack::parse(&blob)? {
                            l.push_back(&it.to_vec(), lim);
                        }
                    }
                    _ => return bad("Quicklist integrity check failed."),
                }
            }
            if l.is_empty() {
                return empty();
            }
            Value::List(Box::new(l))
        }
        T_LIST_ZIPLIST | T_LIST_QUICKLIST => {
            // One ziplist, or a quicklist (v1) of ziplist nodes.
            let nodes = if t == T_LIST_ZIPLIST { 1 } else { r.count()? };
            let mut l = ListValue::new();
            let lim = NodeLimit(c.list_max_listpack_size);
            for _ in 0..nodes {
                let blob = r.string()?;
                for it in listpack::parse_ziplist(&blob)? {
                    l.push_back(&it.to_vec(), lim);
                }
            }
            if l.is_empty() {
                return empty();
            }
            Value::List(Box::new(l))
        }
        T_SET => {
            let n = r.count()?;
            let mut s = SetValue::new();
            for _ in 0..n {
                let m = r.string()?;
                if !s.add(&m, c.set) {
                    return bad("Duplicate set members detected");
                }
            }
            if s.is_empty() {
                return empty();
            }
            Value::Set(s)
        }
        T_SET_INTSET => {
            let blob = r.string()?;
            let vals = listpack::intset_decode(&blob)?;
            if vals.is_empty() {
                return empty();
            }
            let mut s = SetValue::new();
            let mut t = Vec::with_capacity(20);
            for v in vals {
                t.clear();
                format_i64(v, &mut t);
                s.add(&t, c.set);
            }
            Value::Set(s)
        }
        T_SET_LISTPACK => {
            // RDB 11 (Redis 7.2): a small set of strings as one listpack.
            let blob = r.string()?;
            let mut s = SetValue::new();
            for m in listpack::parse(&blob)? {
                if !s.add(&m.to_vec(), c.set) {
                    return bad("Duplicate set members detected");
                }
            }
            if s.is_empty() {
                return empty();
            }
            Value::Set(s)
        }
        T_ZSET | T_ZSET_2 => {
            let n = r.count()?;
            let mut entries: Vec<(Vec<u8>, f64)> = Vec::with_capacity(n);
            for _ in 0..n {
                let m = r.string()?;
                let s = if t == T_ZSET_2 {
                    r.binary_double()?
                } else {
                    r.text_double()?
                };
                if s.is_nan() {
                    return bad("Zset with NAN score detected");
                }
                entries.push((m, s));
            }
            zset_from(entries, c)?
        }
        T_ZSET_LISTPACK | T_ZSET_ZIPLIST => {
            let blob = r.string()?;
            let items = if t == T_ZSET_LISTPACK {
                listpack::parse(&blob)?
            } else {
                listpack::parse_ziplist(&blob)?
            };
            if items.len() % 2 != 0 {
                return bad("Zset listpack integrity check failed.");
            }
            let mut entries = Vec::with_capacity(items.len() / 2);
            for p in items.chunks_exact(2) {
                let s = match p[1] {
                    Item::Int(v) => v as f64,
                    Item::Str(s) => {
                        parse_f64(s).ok_or_else(|| Error("Zset listpack integrity check failed.".into()))?
                    }
                };
                if s.is_nan() {
                    return bad("Zset with NAN score detected");
                }
                entries.push((p[0].to_vec(), s));
            }
            zset_from(entries, c)?
        }
        T_HASH => {
            let n = r.count()?;
            let mut h = HashValue::new();
            let mut lim = c.hash;
            if n > lim.max_entries {
                // Straight to the table form, like Redis for big hashes.
                lim.max_entries = 0;
            }
            for _ in 0..n {
                let f = r.string()?;
                let v = r.string()?;
                if !h.insert(&f, &v, lim) {
                    return bad("Duplicate hash fields detected");
                }
            }
            if h.is_empty() {
                return empty();
            }
            Value::Hash(h)
        }
        T_HASH_LISTPACK | T_HASH_ZIPLIST => {
            let blob = r.string()?;
            let items = if t == T_HASH_LISTPACK {
                listpack::parse(&blob)?
            } else {
                listpack::parse_ziplist(&blob)?
            };
            if items.len() % 2 != 0 {
                return bad("Hash listpack integrity check failed.");
            }
            let mut h = HashValue::new();
            for p in items.chunks_exact(2) {
                if !h.insert(&p[0].to_vec(), &p[1].to_vec(), c.hash) {
                    return bad("Duplicate hash fields detected");
                }
            }
            if h.is_empty() {
                return empty();
            }
            Value::Hash(h)
        }
        T_HASH_METADATA | T_HASH_LISTPACK_EX | T_HASH_METADATA_PRE_GA | T_HASH_LISTPACK_EX_PRE_GA => {
            decode_hash_with_ttls(r, t, opts)?
        }
        T_STREAM_LISTPACKS | T_STREAM_LISTPACKS_2 => crate::stream::decode_stream(r, t, opts)?,
        _ => return bad(format!("Unknown RDB encoding type {t}")),
    })
}

fn zset_from(mut entries: Vec<(Vec<u8>, f64)>, opts: &Options) -> Result<Value, Error> {
    if entries.is_empty() {
        return empty();
    }
    entries.sort_by(|a, b| cmp_entry(a.1, &a.0, b.1, &b.0));
    {
        let mut names: Vec<&[u8]> = entries.iter().map(|e| e.0.as_slice()).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return bad("Duplicate zset fields detected");
        }
    }
    let z = ZSetValue::from_sorted(entries.iter().map(|(m, s)| (m.as_slice(), *s)), opts.zset);
    Ok(Value::ZSet(z))
}

/// Encodes a value as RDB object bytes (type byte first).
pub fn object_bytes(v: &Value, opts: &Options) -> Vec<u8> {
    let mut out = Vec::new();
    encode_object(&mut out, v, opts);
    out
}

/// Decodes one object (type byte first) that must use all of `buf`.
pub fn decode_object(buf: &[u8], opts: &Options) -> Result<Value, Error> {
    let mut r = Reader::new(buf);
    let t = r.u8()?;
    let v = decode_value(&mut r, t, opts)?;
    if r.remaining() != 0 {
        return bad("trailing bytes after object");
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shoal_store::stream::{Group, StreamId, StreamValue};

    fn round_trip(v: &Value, opts: &Options) -> Value {
        let b = object_bytes(v, opts);
        decode_object(&b, opts).unwrap()
    }

    #[test]
    fn integer_encoded_strings_decode_to_integers() {
        let opts = Options::default();
        for n in [
            0i64,
            -1,
            127,
            -128,
            128,
            -32768,
            40000,
            i32::MIN as i64,
            i32::MAX as i64,
            1 << 40,
        ] {
            assert_eq!(round_trip(&Value::Int(n), &opts), Value::Int(n), "{n}");
            // The same through the text form.
            let text = Value::from_bytes(n.to_string().as_bytes());
            assert_eq!(round_trip(&text, &opts), Value::Int(n), "{n}");
        }
    }

    #[test]
    fn every_type_and_encoding_round_trips() {
        let opts = Options::default();
        let mut values = vec![
            Value::Int(0),
            Value::Int(i64::MIN),
            Value::Int(-129),
            Value::Int(1 << 40),
            Value::from_bytes(b""),
            Value::from_bytes(b"short"),
            Value::from_bytes(b"007"),
            Value::from_bytes(&[b'c'; 5000]),
            Value::from_bytes(&(0..=255u8).cycle().take(3000).collect::<Vec<_>>()),
        ];
        let lim = NodeLimit(-2);
        let mut l = ListValue::new();
        for i in 0..5000 {
            l.push_back(format!("item-{i}").as_bytes(), lim);
        }
        l.push_back(&[b'x'; 20000], lim);
        values.push(Value::List(Box::new(l)));
        for n in [3usize, 200] {
            let mut h = HashValue::new();
            for i in 0..n {
                h.insert(format!("f{i}").as_bytes(), format!("{i}").as_bytes(), opts.hash);
            }
            values.push(Value::Hash(h));
        }
        for members in [vec!["1", "-5", "99999999999"], vec!["a", "b", "7"]] {
            let mut s = SetValue::new();
            for m in members {
                s.add(m.as_bytes(), opts.set);
            }
            values.push(Value::Set(s));
        }
        let mut big = SetValue::new();
        for i in 0..1000 {
            big.add(format!("m{i}").as_bytes(), opts.set);
        }
        values.push(Value::Set(big));
        for n in [5usize, 300] {
            let mut z = ZSetValue::new_for(3, opts.zset);
            for i in 0..n {
                let score = match i % 5 {
                    0 => i as f64,
                    1 => -(i as f64) / 3.0,
                    2 => f64::INFINITY,
                    3 => 1e300,
                    _ => f64::NEG_INFINITY,
                };
                z.set(format!("m{i}").as_bytes(), score, opts.zset);
            }
            values.push(Value::ZSet(z));
        }
        let mut st = StreamValue::default();
        for i in 1..=300u64 {
            let v = i.to_string();
            let fields: Vec<&[u8]> = if i % 7 == 0 {
                vec![b"other", v.as_bytes()]
            } else {
                vec![b"a", v.as_bytes(), b"b", b"text"]
            };
            st.log.append(StreamId::new(i, i % 3), &fields, opts.stream);
        }
        let mut g = Group::new(StreamId::new(10, 1), 10);
        g.deliver(StreamId::new(5, 2), b"alice", 1_700_000_000_000, true);
        g.deliver(StreamId::new(7, 1), b"bob", 1_700_000_000_500, true);
        g.consumer_or_create(b"idle", 5);
        st.groups.insert(b"grp".to_vec(), g);
        st.groups.insert(b"empty".to_vec(), Group::new(StreamId::MIN, -1));
        values.push(Value::Stream(Box::new(st)));
        values.push(Value::Stream(Box::default()));
        for compress in [true, false] {
            let opts = Options { compress, ..opts };
            for v in &values {
                let back = round_trip(v, &opts);
                assert_eq!(back.type_name(), v.type_name());
                assert_eq!(back.encoding_name(false), v.encoding_name(false));
                assert_eq!(&back, v, "{}", v.type_name());
            }
        }
    }

    #[test]
    fn hashes_with_field_ttls_round_trip() {
        let opts = Options::default();
        for n in [3usize, 200] {
            let mut h = HashValue::new();
            for i in 0..n {
                h.insert(format!("f{i}").as_bytes(), format!("{i}").as_bytes(), opts.hash);
            }
            h.set_field_expire(b"f1", 1_900_000_000_123);
            h.set_field_expire(b"f2", 1_800_000_000_000);
            let v = Value::Hash(h);
            let b = object_bytes(&v, &opts);
            assert_eq!(b[0], if n == 3 { T_HASH_LISTPACK_EX } else { T_HASH_METADATA });
            assert_eq!(&b[1..9], &1_800_000_000_000u64.to_le_bytes());
            let back = round_trip(&v, &opts);
            assert_eq!(back.encoding_name(false), v.encoding_name(false));
            // Same fields, values and TTLs (a listpack comes back in the
            // order it is written: fields with TTLs first).
            let (Value::Hash(a), Value::Hash(b2)) = (&back, &v) else {
                panic!("not hashes")
            };
            let mut x: Vec<_> = a
                .iter()
                .map(|(f, v)| (f.to_vec(), v.to_vec(), a.field_expire(f)))
                .collect();
            let mut y: Vec<_> = b2
                .iter()
                .map(|(f, v)| (f.to_vec(), v.to_vec(), b2.field_expire(f)))
                .collect();
            x.sort();
            y.sort();
            assert_eq!(x, y);
            for cut in 0..b.len() {
                assert!(decode_object(&b[..cut], &opts).is_err());
            }
        }
        // Without field TTLs a hash keeps the Redis 7.0 types.
        let mut h = HashValue::new();
        h.insert(b"a", b"1", opts.hash);
        h.set_field_expire(b"a", 5);
        h.persist_field(b"a");
        assert_eq!(object_bytes(&Value::Hash(h), &opts)[0], T_HASH_LISTPACK);
    }

    #[test]
    fn strings_use_int_and_lzf_encodings() {
        let opts = Options::default();
        assert_eq!(object_bytes(&Value::Int(-1), &opts), [0, 0xC0, 0xFF]);
        assert_eq!(object_bytes(&Value::Int(300), &opts), [0, 0xC1, 0x2C, 0x01]);
        assert_eq!(object_bytes(&Value::Int(1 << 20), &opts), [0, 0xC2, 0, 0, 0x10, 0]);
        // Too big for the 32-bit form: written as text.
        assert_eq!(object_bytes(&Value::Int(1 << 40), &opts)[1], 13);
        let b = object_bytes(&Value::from_bytes(&[b'a'; 100]), &opts);
        assert_eq!(b[1], 0xC3);
        let plain = object_bytes(
            &Value::from_bytes(&[b'a'; 100]),
            &Options {
                compress: false,
                ..opts
            },
        );
        assert_eq!(plain[1..3], [0x40, 100]);
    }

    #[test]
    fn truncated_objects_fail_cleanly() {
        let opts = Options::default();
        let mut h = HashValue::new();
        h.insert(b"f", b"v", opts.hash);
        let b = object_bytes(&Value::Hash(h), &opts);
        for cut in 0..b.len() {
            assert!(decode_object(&b[..cut], &opts).is_err());
        }
    }
}
