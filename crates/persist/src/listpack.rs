//! Listpack and intset byte layouts, as stored inside RDB objects.
//!
//! A listpack is `[total bytes: u32 LE][count: u16 LE, 65535 = unknown]`, then
//! entries, then `0xFF`. An entry is an encoding byte (small integers and short
//! string lengths live in it), the data, and a "backlen": the size of encoding
//! plus data in 1 to 5 bytes, 7 bits each, so the list can be walked backwards.
//! Strings that are canonical integers are stored as integers (7-bit, 13-bit,
//! 16/24/32/64-bit signed).
//!
//! An intset is `[width: u32 LE (2, 4 or 8)][count: u32 LE]` then sorted
//! little-endian integers of that width.

use crate::{bad, Error};
use shoal_util::num::{format_i64, parse_i64};

/// Builds a listpack.
pub struct LpWriter {
    buf: Vec<u8>,
    count: usize,
}

impl Default for LpWriter {
    fn default() -> Self {
        Self::new()
    }
}

fn backlen_size(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16383 => 2,
        16384..=2097151 => 3,
        2097152..=268435455 => 4,
        _ => 5,
    }
}

/// Bytes an entry for `b` takes, backlen included.
pub fn entry_size(b: &[u8]) -> usize {
    let body = match int_of(b) {
        Some(v) => int_enc_size(v),
        None => str_hdr_size(b.len()) + b.len(),
    };
    body + backlen_size(body)
}

fn int_of(b: &[u8]) -> Option<i64> {
    if b.len() <= 20 {
        parse_i64(b)
    } else {
        None
    }
}

fn int_enc_size(v: i64) -> usize {
    match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8388608..=8388607 => 4,
        -2147483648..=2147483647 => 5,
        _ => 9,
    }
}

fn str_hdr_size(len: usize) -> usize {
    match len {
        0..=63 => 1,
        64..=4095 => 2,
        _ => 5,
    }
}

impl LpWriter {
    pub fn new() -> Self {
        LpWriter {
            buf: vec![0; 6],
            count: 0,
        }
    }

    /// Bytes the finished listpack would take now.
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// Appends an element (integers in canonical form are stored as integers).
    pub fn push(&mut self, b: &[u8]) {
        match int_of(b) {
            Some(v) => self.push_int(v),
            None => self.push_str(b),
        }
    }

    pub fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        let b = &mut self.buf;
        match v {
            0..=127 => b.push(v as u8),
            -4096..=4095 => {
                let u = (v as u16) & 0x1fff;
                b.push(0xC0 | (u >> 8) as u8);
                b.push(u as u8);
            }
            -32768..=32767 => {
                b.push(0xF1);
                b.extend_from_slice(&(v as i16).to_le_bytes());
            }
            -8388608..=8388607 => {
                b.push(0xF2);
                b.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            -2147483648..=2147483647 => {
                b.push(0xF3);
                b.extend_from_slice(&(v as i32).to_le_bytes());
            }
            _ => {
                b.push(0xF4);
                b.extend_from_slice(&v.to_le_bytes());
            }
        }
        self.finish_entry(start);
    }

    pub fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let len = s.len();
        let b = &mut self.buf;
        match len {
            0..=63 => b.push(0x80 | len as u8),
            64..=4095 => {
                b.push(0xE0 | (len >> 8) as u8);
                b.push(len as u8);
            }
            _ => {
                b.push(0xF0);
                b.extend_from_slice(&(len as u32).to_le_bytes());
            }
        }
        b.extend_from_slice(s);
        self.finish_entry(start);
    }

    fn finish_entry(&mut self, start: usize) {
        let l = self.buf.len() - start;
        let n = backlen_size(l);
        // Most significant group first; every byte but the first has the high bit.
        for i in (0..n).rev() {
            let mut byte = ((l >> (7 * i)) & 127) as u8;
            if i != n - 1 {
                byte |= 128;
            }
            self.buf.push(byte);
        }
        self.count += 1;
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(0xFF);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let n = self.count.min(65535) as u16;
        self.buf[4..6].copy_from_slice(&n.to_le_bytes());
        self.buf
    }
}

/// One listpack element.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Item<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Item<'_> {
    /// The element as bytes (integers in decimal).
    pub fn to_vec(&self) -> Vec<u8> {
        match self {
            Item::Int(v) => {
                let mut out = Vec::with_capacity(20);
                format_i64(*v, &mut out);
                out
            }
            Item::Str(s) => s.to_vec(),
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Item::Int(v) => Some(*v),
            Item::Str(s) => int_of(s),
        }
    }
}

fn corrupt<T>() -> Result<T, Error> {
    bad("corrupt listpack")
}

/// Every element of a listpack, validating its structure as it goes.
pub fn parse(lp: &[u8]) -> Result<Vec<Item<'_>>, Error> {
    if lp.len() < 7 {
        return corrupt();
    }
    let total = u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as usize;
    let declared = u16::from_le_bytes([lp[4], lp[5]]) as usize;
    if total != lp.len() || lp[total - 1] != 0xFF {
        return corrupt();
    }
    let end = total - 1;
    let mut out = Vec::new();
    let mut p = 6;
    let need = |p: usize, n: usize| -> Result<(), Error> {
        if p + n > end {
            corrupt()
        } else {
            Ok(())
        }
    };
    while p < end {
        let start = p;
        let e = lp[p];
        let item = if e & 0x80 == 0 {
            p += 1;
            Item::Int(e as i64)
        } else if e & 0xC0 == 0x80 {
            let len = (e & 0x3f) as usize;
            need(p + 1, len)?;
            p += 1 + len;
            Item::Str(&lp[p - len..p])
        } else if e & 0xE0 == 0xC0 {
            need(p, 2)?;
            let u = (((e & 0x1f) as u16) << 8) | lp[p + 1] as u16;
            p += 2;
            // 13-bit two's complement.
            let v = if u >= 1 << 12 { u as i64 - (1 << 13) } else { u as i64 };
            Item::Int(v)
        } else if e & 0xF0 == 0xE0 {
            need(p, 2)?;
            let len = (((e & 0x0f) as usize) << 8) | lp[p + 1] as usize;
            need(p + 2, len)?;
            p += 2 + len;
            Item::Str(&lp[p - len..p])
        } else {
            match e {
                0xF0 => {
                    need(p, 5)?;
                    let len = u32::from_le_bytes([lp[p + 1], lp[p + 2], lp[p + 3], lp[p + 4]]) as usize;
                    need(p + 5, len)?;
                    p += 5 + len;
                    Item::Str(&lp[p - len..p])
                }
                0xF1 => {
                    need(p, 3)?;
                    let v = i16::from_le_bytes([lp[p + 1], lp[p + 2]]) as i64;
                    p += 3;
                    Item::Int(v)
                }
                0xF2 => {
                    need(p, 4)?;
                    let v = i32::from_le_bytes([0, lp[p + 1], lp[p + 2], lp[p + 3]]) >> 8;
                    p += 4;
                    Item::Int(v as i64)
                }
                0xF3 => {
                    need(p, 5)?;
                    let v = i32::from_le_bytes([lp[p + 1], lp[p + 2], lp[p + 3], lp[p + 4]]) as i64;
                    p += 5;
                    Item::Int(v)
                }
                0xF4 => {
                    need(p, 9)?;
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&lp[p + 1..p + 9]);
                    p += 9;
                    Item::Int(i64::from_le_bytes(b))
                }
                _ => return corrupt(),
            }
        };
        let l = p - start;
        let n = backlen_size(l);
        need(p, n)?;
        // Check the backlen really encodes l.
        let mut v = 0usize;
        for (i, &byte) in lp[p..p + n].iter().enumerate() {
            let more = i != 0;
            if more != (byte & 128 != 0) {
                return corrupt();
            }
            v = (v << 7) | (byte & 127) as usize;
        }
        if v != l {
            return corrupt();
        }
        p += n;
        out.push(item);
    }
    if declared != 65535 && declared != out.len() {
        return corrupt();
    }
    Ok(out)
}

/// Builds an intset blob from ascending distinct integers.
pub fn intset_encode(values: &[i64]) -> Vec<u8> {
    let width: u32 = if values.iter().all(|&v| i16::try_from(v).is_ok()) {
        2
    } else if values.iter().all(|&v| i32::try_from(v).is_ok()) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + values.len() * width as usize);
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&(values.len() as u32).to_le_bytes());
    for &v in values {
        out.extend_from_slice(&v.to_le_bytes()[..width as usize]);
    }
    out
}

/// The integers of an intset blob (checked: width, length, strictly ascending).
pub fn intset_decode(b: &[u8]) -> Result<Vec<i64>, Error> {
    if b.len() < 8 {
        return bad("corrupt intset");
    }
    let width = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let n = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize;
    if !matches!(width, 2 | 4 | 8) || b.len() != 8 + n * width {
        return bad("corrupt intset");
    }
    let mut out = Vec::with_capacity(n);
    for c in b[8..].chunks_exact(width) {
        let v = match width {
            2 => i16::from_le_bytes([c[0], c[1]]) as i64,
            4 => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64,
            _ => i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
        };
        if out.last().is_some_and(|&p| p >= v) {
            return bad("corrupt intset");
        }
        out.push(v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_all_encodings() {
        let big = vec![b'z'; 70000];
        let mid = vec![b'm'; 300];
        let items: Vec<Vec<u8>> = vec![
            b"0".to_vec(),
            b"127".to_vec(),
            b"128".to_vec(),
            b"-1".to_vec(),
            b"-4096".to_vec(),
            b"4095".to_vec(),
            b"-32768".to_vec(),
            b"8388607".to_vec(),
            b"-8388608".to_vec(),
            b"2147483647".to_vec(),
            b"-9223372036854775808".to_vec(),
            b"".to_vec(),
            b"hello".to_vec(),
            b"01".to_vec(),
            mid.clone(),
            big.clone(),
        ];
        let mut w = LpWriter::new();
        for i in &items {
            w.push(i);
        }
        let lp = w.finish();
        let got: Vec<Vec<u8>> = parse(&lp).unwrap().iter().map(|i| i.to_vec()).collect();
        assert_eq!(got, items);
    }

    #[test]
    fn matches_redis_bytes() {
        // RPUSH l a 1 -5 300 (Redis 7.0.15 listpack node bytes).
        let mut w = LpWriter::new();
        for i in [&b"a"[..], b"1", b"-5", b"300"] {
            w.push(i);
        }
        let lp = w.finish();
        assert_eq!(
            lp,
            [0x12, 0, 0, 0, 4, 0, 0x81, b'a', 2, 1, 1, 0xDF, 0xFB, 2, 0xC1, 0x2C, 2, 0xFF]
        );
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse(&[7, 0, 0, 0, 1, 0, 0xFF]).is_err());
        assert!(parse(&[8, 0, 0, 0, 1, 0, 0x85, 0xFF]).is_err());
        assert!(intset_decode(&[3, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(intset_decode(&[2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 5, 0]).is_err());
    }

    #[test]
    fn intset_widths() {
        for vals in [vec![1i64, 2, 3], vec![-70000, 5], vec![i64::MIN, 0, i64::MAX]] {
            assert_eq!(intset_decode(&intset_encode(&vals)).unwrap(), vals);
        }
    }
}

/// Every element of a ziplist (the pre-7.0 compact encoding, still found in
/// RDB files written by Redis 6 and older, which Redis 7.0 loads).
///
/// `[total bytes: u32 LE][tail offset: u32 LE][count: u16 LE]` then entries
/// `[prevlen: 1 byte, or 0xFE + u32 LE][encoding][data]`, then `0xFF`.
pub fn parse_ziplist(zl: &[u8]) -> Result<Vec<Item<'_>>, Error> {
    let corrupt = || Error("corrupt ziplist".into());
    if zl.len() < 11 || u32::from_le_bytes([zl[0], zl[1], zl[2], zl[3]]) as usize != zl.len() {
        return Err(corrupt());
    }
    let end = zl.len() - 1;
    if zl[end] != 0xFF {
        return Err(corrupt());
    }
    let mut p = 10;
    let mut out = Vec::new();
    let get = |from: usize, n: usize| -> Result<&[u8], Error> {
        if from + n > end {
            Err(corrupt())
        } else {
            Ok(&zl[from..from + n])
        }
    };
    while p < end {
        p += if zl[p] == 0xFE { 5 } else { 1 };
        let e = *get(p, 1)?.first().ok_or_else(corrupt)?;
        let item = match e >> 6 {
            0 => {
                let len = (e & 0x3f) as usize;
                let s = get(p + 1, len)?;
                p += 1 + len;
                Item::Str(s)
            }
            1 => {
                let b = get(p, 2)?;
                let len = (((b[0] & 0x3f) as usize) << 8) | b[1] as usize;
                let s = get(p + 2, len)?;
                p += 2 + len;
                Item::Str(s)
            }
            2 => {
                let b = get(p + 1, 4)?;
                let len = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
                let s = get(p + 5, len)?;
                p += 5 + len;
                Item::Str(s)
            }
            _ => {
                let (v, n) = match e {
                    0xC0 => (i16::from_le_bytes(get(p + 1, 2)?.try_into().unwrap()) as i64, 2),
                    0xD0 => (i32::from_le_bytes(get(p + 1, 4)?.try_into().unwrap()) as i64, 4),
                    0xE0 => (i64::from_le_bytes(get(p + 1, 8)?.try_into().unwrap()), 8),
                    0xF0 => {
                        let b = get(p + 1, 3)?;
                        ((i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as i64, 3)
                    }
                    0xFE => (get(p + 1, 1)?[0] as i8 as i64, 1),
                    0xF1..=0xFD => ((e & 0x0f) as i64 - 1, 0),
                    _ => return Err(corrupt()),
                };
                p += 1 + n;
                Item::Int(v)
            }
        };
        out.push(item);
    }
    let declared = u16::from_le_bytes([zl[8], zl[9]]) as usize;
    if declared != 65535 && declared != out.len() {
        return Err(corrupt());
    }
    Ok(out)
}

#[cfg(test)]
mod ziplist_tests {
    use super::*;

    /// Builds a ziplist by hand from the documented layout.
    fn zl(entries: &[&[u8]]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        for e in entries {
            let start = body.len();
            if prev < 254 {
                body.push(prev as u8);
            } else {
                body.push(0xFE);
                body.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            body.extend_from_slice(e);
            prev = body.len() - start;
        }
        let mut out = Vec::new();
        out.extend_from_slice(&((10 + body.len() + 1) as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        out.extend_from_slice(&body);
        out.push(0xFF);
        out
    }

    #[test]
    fn every_ziplist_encoding() {
        let long = vec![b'q'; 300];
        let mut long_enc = vec![0x40 | (300 >> 8) as u8, (300 & 0xff) as u8];
        long_enc.extend_from_slice(&long);
        let b = zl(&[
            b"\x03abc",
            &long_enc,
            b"\xF1",
            b"\xFD",
            b"\xFE\x9c",
            b"\xC0\x39\x30",
            b"\xF0\xff\xff\x7f",
            b"\xD0\x00\x00\x00\x80",
            b"\xE0\x01\x00\x00\x00\x00\x00\x00\x00",
        ]);
        let got: Vec<Vec<u8>> = parse_ziplist(&b).unwrap().iter().map(|i| i.to_vec()).collect();
        let want: Vec<Vec<u8>> = vec![
            b"abc".to_vec(),
            long,
            b"0".to_vec(),
            b"12".to_vec(),
            b"-100".to_vec(),
            b"12345".to_vec(),
            b"8388607".to_vec(),
            b"-2147483648".to_vec(),
            b"1".to_vec(),
        ];
        assert_eq!(got, want);
        let mut bad = b.clone();
        bad[0] = 1;
        assert!(parse_ziplist(&bad).is_err());
    }
}
