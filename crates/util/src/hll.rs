//! HyperLogLog values as Redis 7.0 stores them: PFADD, PFCOUNT, PFMERGE, PFDEBUG.
//!
//! An HLL is a plain string. Layout (all facts of the public format):
//!
//! ```text
//! "HYLL" | encoding (0 dense, 1 sparse) | 3 unused bytes | 8 bytes cached cardinality (LE)
//! dense:  16384 registers of 6 bits, packed LSB first (12288 bytes)
//! sparse: run-length opcodes
//!     00xxxxxx           ZERO:  x+1 (1..64) registers at 0
//!     01xxxxxx yyyyyyyy  XZERO: (x<<8|y)+1 (1..16384) registers at 0
//!     1vvvvvxx           VAL:   x+1 (1..4) registers at v+1 (1..32)
//! ```
//!
//! The top bit of the last cardinality byte set means "cache stale". An element
//! is hashed with MurmurHash64A (seed `0xadc83b19`): the low 14 bits choose the
//! register, the run of zero bits above them (plus one, at most 51) is its
//! candidate value. Cardinality is Ertl's improved raw estimator, computed in
//! `f64` like Redis, so answers are identical.
//!
//! Redis's sparse strings keep their exact bytes (GET shows them), so updates
//! split and merge opcodes in the same way: the opcode holding the register is
//! replaced by up to three, then up to five opcodes from the one before it are
//! scanned for adjacent equal VALs to join. A sparse value that would grow beyond
//! `hll-sparse-max-bytes`, or needs a value above 32, becomes dense.
//!
//! Corrupted bytes behave as in Redis, which reads a 0 past the end of a string
//! (its terminator); this module does the same through [`at`], and updates
//! keep that terminator as a real byte (see "updates" below). Known deviation:
//! when an update of a sparse string ending in an XZERO missing its second
//! byte overwrites the terminator, Redis keeps that byte after the command and
//! later commands read it; shoal drops it and reads 0 again. Only strings
//! written by SET/APPEND can get there.

/// Header size in bytes.
pub const HDR: usize = 16;
/// Number of registers (2^14).
pub const REGISTERS: usize = 1 << P;
/// Size of a dense HLL string.
pub const DENSE_SIZE: usize = HDR + (REGISTERS * BITS).div_ceil(8);
/// Encoding byte of a dense HLL.
pub const DENSE: u8 = 0;
/// Encoding byte of a sparse HLL.
pub const SPARSE: u8 = 1;

const P: usize = 14;
const Q: usize = 64 - P;
const BITS: usize = 6;
const REG_MAX: u8 = (1 << BITS) - 1;
const ZERO_MAX: usize = 64;
const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// The stored bytes are not a consistent HLL ("INVALIDOBJ Corrupted HLL object detected").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// Whether `b` passes Redis's HLL type check (magic, known encoding, dense size).
/// Strings that fail are "not a valid HyperLogLog string value".
pub fn is_hll(b: &[u8]) -> bool {
    b.len() >= HDR && &b[..4] == b"HYLL" && b[4] <= SPARSE && (b[4] != DENSE || b.len() == DENSE_SIZE)
}

/// An empty HLL as PFADD creates it: sparse, one XZERO opcode, cache 0 and valid.
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR + 2);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.resize(HDR, 0);
    v.extend_from_slice(&xzero(REGISTERS));
    v
}

/// The byte at `i`, or 0 past the end (the terminator Redis strings carry).
#[inline]
fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// MurmurHash64A, as used for HLL elements (little-endian blocks).
pub fn murmur64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut blocks = data.chunks_exact(8);
    for blk in &mut blocks {
        let mut k = u64::from_le_bytes(blk.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element lands in and its candidate value (1..=51).
pub fn position(elem: &[u8]) -> (usize, u8) {
    let h = murmur64a(elem, 0xadc8_3b19);
    let index = (h as usize) & (REGISTERS - 1);
    let rest = (h >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

// ---- header ----

/// The cached cardinality, if the cache is valid.
pub fn cached(b: &[u8]) -> Option<u64> {
    if b[15] & 0x80 != 0 {
        return None;
    }
    Some(u64::from_le_bytes(b[8..16].try_into().expect("8 bytes")))
}

/// Stores a freshly computed cardinality in the header.
pub fn set_cached(b: &mut [u8], card: u64) {
    b[8..16].copy_from_slice(&card.to_le_bytes());
}

/// Marks the cached cardinality stale (the value bytes are kept).
pub fn invalidate(b: &mut [u8]) {
    b[15] |= 0x80;
}

// ---- dense registers ----

#[inline]
fn dense_get(regs: &[u8], i: usize) -> u8 {
    let bit = i * BITS;
    let (byte, shift) = (bit / 8, bit % 8);
    let lo = (regs[byte] as u16) >> shift;
    let hi = (at(regs, byte + 1) as u16) << (8 - shift);
    ((lo | hi) as u8) & REG_MAX
}

#[inline]
fn dense_put(regs: &mut [u8], i: usize, v: u8) {
    let bit = i * BITS;
    let (byte, shift) = (bit / 8, bit % 8);
    let v = v as u16 & REG_MAX as u16;
    let word = (v << shift) as u8;
    let mask = ((REG_MAX as u16) << shift) as u8;
    regs[byte] = (regs[byte] & !mask) | word;
    if shift > 8 - BITS {
        let hi_mask = ((REG_MAX as u16) << shift >> 8) as u8;
        regs[byte + 1] = (regs[byte + 1] & !hi_mask) | ((v << shift) >> 8) as u8;
    }
}

/// Raises a dense register to `count`; true if it changed.
fn dense_set(b: &mut [u8], index: usize, count: u8) -> bool {
    let regs = &mut b[HDR..];
    if count > dense_get(regs, index) {
        dense_put(regs, index, count);
        true
    } else {
        false
    }
}

/// Register `i` of a dense HLL string.
pub fn dense_register(b: &[u8], i: usize) -> u8 {
    dense_get(&b[HDR..], i)
}

// ---- sparse opcodes ----

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// ZERO or XZERO (`long` = XZERO, two bytes) covering `len` registers.
    Zero {
        len: usize,
        long: bool,
    },
    Val {
        value: u8,
        len: usize,
    },
}

impl Op {
    fn len(self) -> usize {
        match self {
            Op::Zero { len, .. } | Op::Val { len, .. } => len,
        }
    }
    fn size(self) -> usize {
        match self {
            Op::Zero { long: true, .. } => 2,
            _ => 1,
        }
    }
}

#[inline]
fn op_at(b: &[u8], p: usize) -> Op {
    let c = b[p];
    if c & 0x80 != 0 {
        Op::Val {
            value: ((c >> 2) & 0x1f) + 1,
            len: (c & 3) as usize + 1,
        }
    } else if c & 0x40 != 0 {
        Op::Zero {
            len: ((((c & 0x3f) as usize) << 8) | at(b, p + 1) as usize) + 1,
            long: true,
        }
    } else {
        Op::Zero {
            len: (c & 0x3f) as usize + 1,
            long: false,
        }
    }
}

fn xzero(len: usize) -> [u8; 2] {
    let l = len - 1;
    [0x40 | (l >> 8) as u8, l as u8]
}

fn val(value: u8, len: usize) -> u8 {
    0x80 | ((value - 1) << 2) | (len - 1) as u8
}

/// Appends the opcode for a run of `len` zero registers (ZERO up to 64, else XZERO).
fn push_zeros(seq: &mut Vec<u8>, len: usize) {
    if len > ZERO_MAX {
        seq.extend_from_slice(&xzero(len));
    } else {
        seq.push((len - 1) as u8);
    }
}

/// Iterates the opcodes of a sparse string: (position, opcode).
fn ops(b: &[u8]) -> impl Iterator<Item = (usize, Op)> + '_ {
    ops_to(b, b.len())
}

/// Iterates the opcodes that start before `end`; an XZERO at `end - 1` reads
/// its second byte from `b[end]` (0 when absent).
fn ops_to(b: &[u8], end: usize) -> impl Iterator<Item = (usize, Op)> + '_ {
    let mut p = HDR;
    std::iter::from_fn(move || {
        if p >= end {
            return None;
        }
        let op = op_at(b, p);
        let at = p;
        p += op.size();
        Some((at, op))
    })
}

// ---- updates ----
//
// Updates work on the string with its NUL terminator appended (a "terminated"
// buffer: the string is `b[..b.len() - 1]`), because Redis's sparse update
// uses the byte after the string. An XZERO cut short at the end reads its
// second byte there, and splitting such an opcode counts two bytes for it, so
// the last byte of the new opcodes lands on the terminator: the string comes
// out one byte short and the byte after it is no longer 0, which the next
// update of the same command (or the conversion to dense) reads.

/// Runs `f` on `b` as a terminated buffer (a 0 appended, dropped afterwards).
fn terminated<R>(b: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    b.push(0);
    let r = f(b);
    b.pop();
    r
}

/// Raises register `index` of a sparse HLL (terminated buffer) to `count`,
/// promoting to dense when needed. Ok(true) when a register changed. A
/// line-by-line port of Redis's `hllSparseSet`.
fn sparse_set(b: &mut Vec<u8>, index: usize, count: u8, max_bytes: u64) -> Result<bool, Corrupt> {
    if count > VAL_MAX_VALUE {
        return promote_and_set(b, index, count);
    }
    let mut end = b.len() - 1;
    // Find the opcode covering `index`, and the one before it.
    let mut p = HDR;
    let mut first = 0usize;
    let mut span = 0usize;
    let mut prev = None;
    while p < end {
        let op = op_at(b, p);
        span = op.len();
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += op.size();
        first += span;
    }
    if span == 0 || p >= end {
        return Err(Corrupt);
    }
    let op = op_at(b, p);
    let next = Some(p + op.size()).filter(|&n| n < end);
    match op {
        Op::Val { value, .. } if value >= count => return Ok(false),
        Op::Val { len: 1, .. } | Op::Zero { len: 1, long: false } => {
            b[p] = val(count, 1);
        }
        _ => {
            let last = first + span - 1;
            let mut seq = Vec::with_capacity(5);
            let before = index - first;
            let after = last - index;
            match op {
                Op::Zero { .. } => {
                    if before > 0 {
                        push_zeros(&mut seq, before);
                    }
                    seq.push(val(count, 1));
                    if after > 0 {
                        push_zeros(&mut seq, after);
                    }
                }
                Op::Val { value, .. } => {
                    if before > 0 {
                        seq.push(val(value, before));
                    }
                    seq.push(val(count, 1));
                    if after > 0 {
                        seq.push(val(value, after));
                    }
                }
            }
            let old = op.size();
            if seq.len() > old && (end + seq.len() - old) as u64 > max_bytes {
                return promote_and_set(b, index, count);
            }
            // Room for the worst case, as Redis's sdsMakeRoomFor(3).
            b.resize(b.len().max(end + 6), 0);
            let new_end = end + seq.len() - old;
            if let Some(next) = next {
                if seq.len() != old {
                    let dst = next + seq.len() - old;
                    b.copy_within(next..end, dst);
                }
            }
            b[new_end] = 0;
            b[p..p + seq.len()].copy_from_slice(&seq);
            end = new_end;
            b.truncate(end + 1);
        }
    }
    merge_adjacent(b, prev.unwrap_or(HDR));
    // A sparse update marks the cache stale at once (it matters when a later
    // element of the same PFADD turns out corrupt).
    invalidate(b);
    Ok(true)
}

/// Joins adjacent VAL opcodes of equal value, scanning at most five opcodes
/// from `p` (terminated buffer).
fn merge_adjacent(b: &mut Vec<u8>, mut p: usize) {
    let mut end = b.len() - 1;
    let mut budget = 5;
    while p < end && budget > 0 {
        budget -= 1;
        match op_at(b, p) {
            Op::Zero { long, .. } => {
                p += if long { 2 } else { 1 };
                continue;
            }
            Op::Val { value, len } => {
                if p + 1 < end {
                    if let Op::Val { value: v2, len: l2 } = op_at(b, p + 1) {
                        if v2 == value && len + l2 <= VAL_MAX_LEN {
                            b[p + 1] = val(value, len + l2);
                            // The terminator moves down too, then is reset.
                            b.remove(p);
                            end -= 1;
                            b[end] = 0;
                            continue;
                        }
                    }
                }
                p += 1;
            }
        }
    }
}

fn promote_and_set(b: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    to_dense_t(b)?;
    dense_set(b, index, count);
    Ok(true)
}

/// Converts a sparse HLL to dense in place (header and cache kept). No-op when
/// already dense.
pub fn to_dense(b: &mut Vec<u8>) -> Result<(), Corrupt> {
    terminated(b, to_dense_t)
}

/// [`to_dense`] of a terminated buffer.
fn to_dense_t(b: &mut Vec<u8>) -> Result<(), Corrupt> {
    if b[4] == DENSE {
        return Ok(());
    }
    let mut dense = vec![0u8; DENSE_SIZE + 1];
    dense[..HDR].copy_from_slice(&b[..HDR]);
    dense[4] = DENSE;
    let mut idx = 0usize;
    for (_, op) in ops_to(b, b.len() - 1) {
        match op {
            Op::Zero { len, .. } => idx += len,
            Op::Val { value, len } => {
                if idx + len > REGISTERS {
                    return Err(Corrupt);
                }
                for i in idx..idx + len {
                    dense_put(&mut dense[HDR..], i, value);
                }
                idx += len;
            }
        }
    }
    if idx != REGISTERS {
        return Err(Corrupt);
    }
    *b = dense;
    Ok(())
}

/// Adds one element. Ok(true) when a register changed (the caller invalidates the cache).
pub fn add(b: &mut Vec<u8>, elem: &[u8], sparse_max_bytes: u64) -> Result<bool, Corrupt> {
    add_all(b, [elem], sparse_max_bytes)
}

/// Adds elements in order (PFADD), stopping at the first corrupt spot (the
/// registers set before it stay set). Ok(true) when a register changed.
pub fn add_all<'a>(
    b: &mut Vec<u8>,
    elems: impl IntoIterator<Item = &'a [u8]>,
    sparse_max_bytes: u64,
) -> Result<bool, Corrupt> {
    terminated(b, |b| {
        let mut changed = false;
        for elem in elems {
            let (index, count) = position(elem);
            changed |= set_register_t(b, index, count, sparse_max_bytes)?;
        }
        Ok(changed)
    })
}

/// Raises register `index` to `count` in either encoding.
pub fn set_register(b: &mut Vec<u8>, index: usize, count: u8, sparse_max_bytes: u64) -> Result<bool, Corrupt> {
    terminated(b, |b| set_register_t(b, index, count, sparse_max_bytes))
}

/// [`set_register`] of a terminated buffer.
fn set_register_t(b: &mut Vec<u8>, index: usize, count: u8, sparse_max_bytes: u64) -> Result<bool, Corrupt> {
    if b[4] == DENSE {
        Ok(dense_set(b, index, count))
    } else {
        sparse_set(b, index, count, sparse_max_bytes)
    }
}

// ---- merge and count ----

/// Folds an HLL's registers into `max` (one byte per register, element-wise max).
pub fn merge_into(max: &mut [u8], b: &[u8]) -> Result<(), Corrupt> {
    if b[4] == DENSE {
        let regs = &b[HDR..];
        for (i, m) in max.iter_mut().enumerate().take(REGISTERS) {
            *m = (*m).max(dense_get(regs, i));
        }
        return Ok(());
    }
    let mut i = 0usize;
    for (_, op) in ops(b) {
        match op {
            Op::Zero { len, .. } => i += len,
            Op::Val { value, len } => {
                if i + len > REGISTERS {
                    return Err(Corrupt);
                }
                for m in &mut max[i..i + len] {
                    *m = (*m).max(value);
                }
                i += len;
            }
        }
    }
    if i != REGISTERS {
        return Err(Corrupt);
    }
    Ok(())
}

/// Writes merged registers into a destination HLL (PFMERGE): made dense first
/// when `dense`, then every non-zero register raised in index order, and the
/// cache invalidated.
pub fn store_merged(dest: &mut Vec<u8>, max: &[u8], dense: bool, sparse_max_bytes: u64) -> Result<(), Corrupt> {
    terminated(dest, |dest| {
        if dense {
            to_dense_t(dest)?;
        }
        for (i, &m) in max.iter().enumerate() {
            if m != 0 {
                // Redis ignores a failure here; the value stays as far as it got.
                let _ = set_register_t(dest, i, m, sparse_max_bytes);
            }
        }
        invalidate(dest);
        Ok(())
    })
}

/// Histogram of register values of an HLL string.
fn histogram(b: &[u8]) -> Result<[u64; 64], Corrupt> {
    let mut h = [0u64; 64];
    if b[4] == DENSE {
        let regs = &b[HDR..];
        for i in 0..REGISTERS {
            h[dense_get(regs, i) as usize] += 1;
        }
        return Ok(h);
    }
    let mut idx = 0usize;
    for (_, op) in ops(b) {
        match op {
            Op::Zero { len, .. } => h[0] += len as u64,
            Op::Val { value, len } => h[value as usize] += len as u64,
        }
        idx += op.len();
    }
    if idx != REGISTERS {
        return Err(Corrupt);
    }
    Ok(h)
}

/// Cardinality of an HLL string (ignores the cache).
pub fn count(b: &[u8]) -> Result<u64, Corrupt> {
    Ok(estimate(&histogram(b)?))
}

/// Cardinality of registers held one per byte (PFCOUNT of several keys).
pub fn count_registers(regs: &[u8]) -> u64 {
    let mut h = [0u64; 64];
    for &r in regs {
        h[(r & 63) as usize] += 1;
    }
    estimate(&h)
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if z == before {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if z == before {
            return z / 3.0;
        }
    }
}

/// Ertl's improved raw estimator over a register histogram.
pub fn estimate(h: &[u64; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - h[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    let e = (ALPHA_INF * m * m / z).round();
    // llroundl: out of range (or NaN) gives the "invalid" value i64::MIN.
    if e.is_finite() && e >= i64::MIN as f64 && e < i64::MAX as f64 {
        e as i64 as u64
    } else {
        i64::MIN as u64
    }
}

/// PFDEBUG DECODE text of a sparse HLL: `z:N` ZERO, `Z:N` XZERO, `v:V,N` VAL.
pub fn decode_sparse(b: &[u8]) -> String {
    let mut s = String::new();
    for (_, op) in ops(b) {
        if !s.is_empty() {
            s.push(' ');
        }
        match op {
            Op::Zero { len, long: false } => s.push_str(&format!("z:{len}")),
            Op::Zero { len, long: true } => s.push_str(&format!("Z:{len}")),
            Op::Val { value, len } => s.push_str(&format!("v:{value},{len}")),
        }
    }
    s
}

/// A quick consistency check for PFSELFTEST: register packing round trips, and
/// sparse and dense HLLs fed the same elements agree register by register.
pub fn self_test() -> Result<(), String> {
    let mut dense = vec![0u8; DENSE_SIZE];
    for round in 0..4u32 {
        let expect = |i: usize| ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(round) % 64) as u8;
        for i in 0..REGISTERS {
            dense_put(&mut dense[HDR..], i, expect(i));
        }
        for i in 0..REGISTERS {
            if dense_get(&dense[HDR..], i) != expect(i) {
                return Err(format!("TESTFAILED Register error at {i}"));
            }
        }
    }
    let mut sparse = new_sparse();
    let mut dense = new_sparse();
    to_dense(&mut dense).map_err(|_| "TESTFAILED dense conversion".to_string())?;
    for n in 0..3000u32 {
        let elem = n.to_le_bytes();
        add(&mut sparse, &elem, u64::MAX).map_err(|_| "TESTFAILED sparse add".to_string())?;
        add(&mut dense, &elem, u64::MAX).map_err(|_| "TESTFAILED dense add".to_string())?;
        if n % 250 == 0 && count(&sparse) != count(&dense) {
            return Err(format!("TESTFAILED sparse and dense counts differ after {n} elements"));
        }
    }
    to_dense(&mut sparse).map_err(|_| "TESTFAILED sparse to dense".to_string())?;
    if sparse[HDR..] != dense[HDR..] {
        return Err("TESTFAILED sparse and dense registers differ".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Vectors recorded from redis-server 7.0.15 (`GET` of the key after the
    //! commands named; big values by SHA-1).
    use super::*;
    use crate::sha1::sha1_hex;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn pfadd(b: &mut Vec<u8>, elems: impl IntoIterator<Item = String>) -> bool {
        let mut updated = false;
        for e in elems {
            updated |= add(b, e.as_bytes(), 3000).unwrap();
        }
        if updated {
            invalidate(b);
        }
        updated
    }

    fn elems(r: std::ops::RangeInclusive<u32>) -> impl Iterator<Item = String> {
        r.map(|i| format!("elem:{i}"))
    }

    /// PFCOUNT of one key: cache or recompute and store.
    fn pfcount(b: &mut [u8]) -> u64 {
        cached(b).unwrap_or_else(|| {
            let c = count(b).unwrap();
            set_cached(b, c);
            c
        })
    }

    // PFADD s100 elem:1 .. elem:100
    const S100: &str = "48594c4c01000000000000000000008044768440448408844042801580420a8c405584415c8040d1843c843a8440728040708c41b484198c40b48042e088405080405884099440fb800980413b8441d684409c8040af88410480415c84421c8c2f802080409c8c008c4104844160804110803c80338017841a800d880a8c188441158008882e80328040a7a0405f8440578011803b8840f380405c8011842e8440648c40df800a80416b80413780417380406e8038844075841e80407a804047901b84419d8040af8440de8442bd8040598440ba800e8040958c4043800a8840ea80028040a884408d8018843190404980419f844186804060802084404d80088440d3882c8840c2803d803288409f8040d0908040be";

    #[test]
    fn empty_and_small_sparse() {
        let mut b = new_sparse();
        assert_eq!(b, hex("48594c4c0100000000000000000000007fff"));
        assert!(!pfadd(&mut b, Vec::new()));
        // PFADD h a b c d e f g
        assert!(pfadd(&mut b, "abcdefg".chars().map(String::from)));
        assert_eq!(
            b,
            hex("48594c4c010000000000000000000080466d80560c80443c84388050b184498c80426d80425a")
        );
        assert_eq!(
            decode_sparse(&b),
            "Z:1646 v:1,1 Z:5645 v:1,1 Z:1085 v:2,1 z:57 v:1,1 Z:4274 v:2,1 Z:2445 v:1,1 Z:622 v:1,1 Z:603"
        );
        assert_eq!(pfcount(&mut b), 7);
    }

    #[test]
    fn sparse_bytes_and_cache() {
        let mut b = new_sparse();
        pfadd(&mut b, elems(1..=100));
        assert_eq!(b, hex(S100));
        assert_eq!(pfcount(&mut b), 100);
        let mut with_cache = hex(S100);
        with_cache[8] = 100;
        with_cache[15] = 0;
        assert_eq!(b, with_cache);
        // Adding elements already counted changes nothing and keeps the cache.
        assert!(!pfadd(&mut b, elems(1..=100)));
        assert_eq!(cached(&b), Some(100));
    }

    #[test]
    fn promotion_at_sparse_max_bytes() {
        let mut b = new_sparse();
        for i in 1..=1661 {
            pfadd(&mut b, elems(i..=i));
            assert_eq!(b[4], SPARSE, "promoted early at {i}");
        }
        assert_eq!(b.len(), 2999);
        assert_eq!(sha1_hex(&b), "2c770580d84e564a67fc56cfc3cd94f9eb430632");
        pfadd(&mut b, elems(1662..=1662));
        assert_eq!(b[4], DENSE);
        assert_eq!(sha1_hex(&b), "a3995ca648d3e16acddfc5becc6ad63293ba83e8");
    }

    #[test]
    fn dense_bytes_count_and_merge() {
        let mut d = new_sparse();
        pfadd(&mut d, elems(1..=5000));
        assert_eq!(d.len(), DENSE_SIZE);
        assert_eq!(sha1_hex(&d), "9dd8a046ab26ea30889899666322106741dddf19");
        assert_eq!(pfcount(&mut d), 4973);
        assert_eq!(sha1_hex(&d), "76cca1a64f987f29569d26d755774a10185b4b3b");

        // PFMERGE m s100 missing: stays sparse, same registers, cache stale.
        let s100 = hex(S100);
        let mut max = vec![0u8; REGISTERS];
        merge_into(&mut max, &s100).unwrap();
        let mut m = new_sparse();
        store_merged(&mut m, &max, false, 3000).unwrap();
        assert_eq!(m, s100);

        // PFMERGE m2 s100 d: dense because one input is.
        let mut d = new_sparse();
        pfadd(&mut d, elems(1..=5000));
        merge_into(&mut max, &d).unwrap();
        let mut m2 = new_sparse();
        store_merged(&mut m2, &max, true, 3000).unwrap();
        assert_eq!(sha1_hex(&m2), "9dd8a046ab26ea30889899666322106741dddf19");
        assert_eq!(count_registers(&max), 4973);
    }

    #[test]
    fn estimates_match_redis_up_to_100000() {
        // PFADD est elem:i; PFCOUNT est for i in 1..=100000, as a rolling hash
        // (h = h*31 + count) and checkpoints.
        let checkpoints: &[(u32, u64)] = &[
            (5000, 4973),
            (10000, 9920),
            (15000, 14746),
            (20000, 19600),
            (25000, 24447),
            (30000, 29602),
            (35000, 34604),
            (40000, 39698),
            (45000, 44534),
            (50000, 49603),
            (55000, 54778),
            (60000, 60139),
            (65000, 64883),
            (70000, 69974),
            (75000, 74675),
            (80000, 79701),
            (85000, 84687),
            (90000, 89789),
            (95000, 95257),
            (100000, 99904),
        ];
        let mut regs = vec![0u8; REGISTERS];
        let mut histo = [0u64; 64];
        histo[0] = REGISTERS as u64;
        let mut roll = 0u64;
        let mut dense = new_sparse();
        to_dense(&mut dense).unwrap();
        for i in 1..=100_000u32 {
            let e = format!("elem:{i}");
            let (idx, c) = position(e.as_bytes());
            add(&mut dense, e.as_bytes(), 3000).unwrap();
            if c > regs[idx] {
                histo[regs[idx] as usize] -= 1;
                histo[c as usize] += 1;
                regs[idx] = c;
            }
            let est = estimate(&histo);
            if i <= 20 {
                assert_eq!(est, i as u64);
            }
            if let Some(&(_, want)) = checkpoints.iter().find(|&&(n, _)| n == i) {
                assert_eq!(est, want, "at {i}");
                assert_eq!(count(&dense).unwrap(), want, "dense at {i}");
                assert_eq!(count_registers(&regs), want, "raw at {i}");
            }
            roll = roll.wrapping_mul(31).wrapping_add(est);
        }
        assert_eq!(roll, 7828707257897027012);
    }

    #[test]
    fn validation_and_corruption() {
        assert!(!is_hll(b"HYLL"));
        assert!(!is_hll(b"HYLL\x02\0\0\0\0\0\0\0\0\0\0\0"));
        assert!(is_hll(b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0"));
        assert!(!is_hll(b"HYLL\x00\0\0\0\0\0\0\0\0\0\0\0"));
        assert!(is_hll(
            &vec![0u8; DENSE_SIZE]
                .iter()
                .enumerate()
                .map(|(i, &z)| if i < 4 { b"HYLL"[i] } else { z })
                .collect::<Vec<_>>()
        ));
        // Sparse opcodes not covering exactly 16384 registers.
        let mut short = new_sparse();
        short[17] = 0xfe;
        assert_eq!(count(&short), Err(Corrupt));
        assert_eq!(to_dense(&mut short.clone()), Err(Corrupt));
        assert_eq!(merge_into(&mut vec![0; REGISTERS], &short), Err(Corrupt));
        assert_eq!(set_register(&mut short, 16383, 1, 3000), Err(Corrupt));
        // A VAL past the last register is corrupt even when the runs before it
        // add up to exactly 16384.
        let mut past_end = new_sparse();
        past_end.push(val(1, 1));
        assert_eq!(to_dense(&mut past_end.clone()), Err(Corrupt));
        assert_eq!(merge_into(&mut vec![0; REGISTERS], &past_end), Err(Corrupt));
        assert_eq!(count(&past_end), Err(Corrupt));
        assert!(self_test().is_ok());
    }

    #[test]
    fn truncated_xzero_writes_into_the_terminator() {
        // A sparse HLL ending in an XZERO without its second byte: Redis reads
        // the NUL terminator there, and splitting it leaves the last new byte
        // on the terminator, which the next element of the same PFADD reads.
        let mut b = b"HYLL\x01".to_vec();
        b.resize(HDR, 0);
        b.push(0x7f);
        let elems: [&[u8]; 3] = [b"2", b"10", b"14"];
        assert!(add_all(&mut b, elems, 3000).unwrap());
        let mut want = b"HYLL\x01".to_vec();
        want.resize(HDR - 1, 0);
        want.extend_from_slice(b"\x80F\x01\x80v\x07\x8c@\xb8\x80B");
        assert_eq!(b, want);
    }
}
