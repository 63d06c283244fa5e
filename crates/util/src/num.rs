//! Number text formats exactly as Redis 7.0 reads and writes them.
//!
//! * Integers: [`parse_i64`] is Redis's strict `string2ll` (what every integer
//!   argument and INCR on a stored value go through); [`parse_u64`] is the same
//!   rule over the unsigned range; [`parse_u64_lenient`] is Redis's `string2ull`
//!   (stream IDs), which falls back to `strtoull` and so accepts `" 7"`, `"+7"`, `"007"`.
//!   [`format_i64`] / [`format_i64_buf`] print them.
//! * Doubles: [`parse_f64`] is how Redis reads a double argument (ZADD score,
//!   ZINCRBY, INCRBYFLOAT-like validation, GEO coordinates): the C library's
//!   `strtod` on the whole argument (so hex floats and `inf`/`infinity` are
//!   accepted), rejecting NaN, leading white space, trailing garbage, and
//!   overflow/underflow to infinity/zero. [`parse_f64_loose`] is the laxer
//!   ZRANGEBYSCORE-bound rule. [`format_double`] is Redis 7.0's reply format
//!   (`%.17g`, `inf`/`-inf`).
//! * INCRBYFLOAT / HINCRBYFLOAT: [`incr_by_float`] / [`hincr_by_float`] add in
//!   C `long double` (80-bit x87 on x86-64) and print in Redis's "human" form
//!   (`%.17Lf` with trailing zeros trimmed), via a small C helper (`csrc/`).
//!
//! The C library calls assume the process keeps `LC_NUMERIC` at "C" (Rust
//! never changes it; nothing in shoal may call `setlocale(LC_ALL, "")`).

use std::ffi::{c_char, c_int};

// ---------------------------------------------------------------------------
// Integers
// ---------------------------------------------------------------------------

/// Parses a signed 64-bit integer with Redis's strict rules (`string2ll`):
/// optional `-`, then either `0` alone or a digit 1-9 followed by digits; no
/// `+`, no white space, no leading zeros, no `-0`, no overflow.
#[inline]
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    // 20 = "-9223372036854775808".len(); anything longer cannot be valid.
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let mag = parse_digits_no_leading_zero(digits)?;
    if neg {
        if mag <= i64::MAX as u64 + 1 {
            Some((mag as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(mag).ok()
    }
}

/// Parses an unsigned 64-bit integer with the same strictness as [`parse_i64`]
/// (digits only, no sign, no leading zeros except `"0"`), over `0..=u64::MAX`.
#[inline]
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    if s == b"0" {
        return Some(0);
    }
    if s.len() > 20 {
        return None;
    }
    parse_digits_no_leading_zero(s)
}

/// Digits `[1-9][0-9]*` into a u64, None on anything else or overflow.
#[inline]
fn parse_digits_no_leading_zero(d: &[u8]) -> Option<u64> {
    match d.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in d {
        let digit = c.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(digit as u64)?;
    }
    Some(v)
}

/// Redis's `string2ull`, used for the two halves of stream IDs (`XADD s 5-1`).
///
/// First tries [`parse_i64`] (a negative result is rejected); otherwise falls
/// back to C `strtoull` rules: leading white space, an optional `+` or `-`
/// (which negates modulo 2^64), decimal digits with leading zeros allowed, no
/// trailing characters, no overflow. The input ends at its first NUL byte, as a
/// C string would. Empty input is rejected.
pub fn parse_u64_lenient(s: &[u8]) -> Option<u64> {
    let s = match s.iter().position(|&c| c == 0) {
        Some(p) => &s[..p],
        None => s,
    };
    if let Some(v) = parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let digits = &s[i..];
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        let digit = c.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(digit as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// C's `isspace` in the "C" locale.
#[inline]
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Writes the decimal text of `v` at the end of `buf` and returns where it starts.
#[inline]
fn write_u64_tail(mut v: u64, buf: &mut [u8; 20]) -> usize {
    let mut pos = buf.len();
    while v >= 100 {
        let pair = (v % 100) as usize * 2;
        v /= 100;
        pos -= 2;
        buf[pos] = DIGIT_PAIRS[pair];
        buf[pos + 1] = DIGIT_PAIRS[pair + 1];
    }
    if v >= 10 {
        let pair = v as usize * 2;
        pos -= 2;
        buf[pos] = DIGIT_PAIRS[pair];
        buf[pos + 1] = DIGIT_PAIRS[pair + 1];
    } else {
        pos -= 1;
        buf[pos] = b'0' + v as u8;
    }
    pos
}

/// Formats `v` into the front of `buf` and returns the length (at most 20).
#[inline]
pub fn format_i64_buf(v: i64, buf: &mut [u8; 20]) -> usize {
    let mut tmp = [0u8; 20];
    let start = write_u64_tail(v.unsigned_abs(), &mut tmp);
    let digits = &tmp[start..];
    if v < 0 {
        buf[0] = b'-';
        buf[1..=digits.len()].copy_from_slice(digits);
        digits.len() + 1
    } else {
        buf[..digits.len()].copy_from_slice(digits);
        digits.len()
    }
}

/// Appends the decimal text of `v` to `out` (no intermediate allocation).
#[inline]
pub fn format_i64(v: i64, out: &mut Vec<u8>) {
    let mut tmp = [0u8; 20];
    let start = write_u64_tail(v.unsigned_abs(), &mut tmp);
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&tmp[start..]);
}

/// Appends the decimal text of `v` to `out`.
#[inline]
pub fn format_u64(v: u64, out: &mut Vec<u8>) {
    let mut tmp = [0u8; 20];
    let start = write_u64_tail(v, &mut tmp);
    out.extend_from_slice(&tmp[start..]);
}

/// Length of the decimal text of `v` (STRLEN of an int-encoded string).
#[inline]
pub fn i64_text_len(v: i64) -> usize {
    let mut n = v.unsigned_abs();
    let mut len = 1 + (v < 0) as usize;
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len
}

// ---------------------------------------------------------------------------
// Doubles
// ---------------------------------------------------------------------------

mod ffi {
    use super::*;
    extern "C" {
        pub fn shoal_parse_double(s: *const c_char, len: usize, out: *mut f64) -> c_int;
        pub fn shoal_parse_double_loose(s: *const c_char, out: *mut f64) -> c_int;
        pub fn shoal_ld_classify(s: *const c_char, len: usize) -> c_int;
        pub fn shoal_timeout_ms(s: *const c_char, len: usize, out: *mut i64) -> c_int;
        pub fn shoal_ld_add(
            a: *const c_char,
            alen: usize,
            b: *const c_char,
            blen: usize,
            out: *mut c_char,
            cap: usize,
        ) -> c_int;
        #[cfg(test)]
        pub fn shoal_test_fmt_g17(v: f64, out: *mut c_char, cap: usize) -> c_int;
    }
}

/// A NUL-terminated copy of a byte string, on the stack when short.
struct CStrBuf {
    stack: [u8; 64],
    heap: Vec<u8>,
    len: usize,
}

impl CStrBuf {
    #[inline]
    fn new(s: &[u8]) -> CStrBuf {
        let mut b = CStrBuf {
            stack: [0; 64],
            heap: Vec::new(),
            len: s.len(),
        };
        if s.len() < b.stack.len() {
            b.stack[..s.len()].copy_from_slice(s);
        } else {
            b.heap.reserve_exact(s.len() + 1);
            b.heap.extend_from_slice(s);
            b.heap.push(0);
        }
        b
    }

    #[inline]
    fn as_ptr(&self) -> *const c_char {
        if self.len < self.stack.len() {
            self.stack.as_ptr() as *const c_char
        } else {
            self.heap.as_ptr() as *const c_char
        }
    }
}

/// Parses a double argument the way Redis 7.0 does (`string2d`, used by ZADD,
/// ZINCRBY, GEOADD, ...): C `strtod` must consume the whole input, which must be
/// non-empty and not start with white space; NaN is rejected, and so is a
/// finite literal that overflows to infinity or underflows to zero (subnormal
/// results are accepted). `inf`, `+inf`, `-Infinity` (any case), hex floats
/// (`0x1p3`), `.5`, `5.`, `1e5` are all accepted.
#[inline]
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    // Fast path: short canonical integers are exact in f64.
    if s.len() <= 15 {
        if let Some(v) = parse_i64(s) {
            return Some(v as f64);
        }
    }
    if s.is_empty() {
        return None;
    }
    let c = CStrBuf::new(s);
    let mut out = 0.0;
    // SAFETY: `c` is NUL-terminated at index s.len() and outlives the call;
    // `out` is a valid f64 location.
    let ok = unsafe { ffi::shoal_parse_double(c.as_ptr(), s.len(), &mut out) };
    (ok == 1).then_some(out)
}

/// Parses a double the laxer way Redis reads ZRANGEBYSCORE / ZCOUNT bounds
/// (after the optional `(` is removed): the text up to the first NUL byte must
/// be entirely consumed by `strtod` and must not be NaN. So leading white
/// space is accepted, the empty string is 0, and `1e400` is infinity.
pub fn parse_f64_loose(s: &[u8]) -> Option<f64> {
    let s = match s.iter().position(|&c| c == 0) {
        Some(p) => &s[..p],
        None => s,
    };
    let c = CStrBuf::new(s);
    let mut out = 0.0;
    // SAFETY: `c` is NUL-terminated and outlives the call.
    let ok = unsafe { ffi::shoal_parse_double_loose(c.as_ptr(), &mut out) };
    (ok == 1).then_some(out)
}

/// Formats a double the way Redis 7.0 writes it in replies (ZSCORE, ZINCRBY,
/// ZRANGE WITHSCORES, RESP3 doubles): `printf("%.17g")`, with `inf` / `-inf`
/// for infinities. `-0.0` prints as `"-0"` (a listpack-encoded zset never holds
/// -0 though: Redis stores it there as the integer 0, so ZSCORE says `0`).
pub fn format_double(v: f64) -> String {
    let mut out = Vec::with_capacity(24);
    format_double_into(v, &mut out);
    // Only ASCII digits, '-', '+', '.', 'e', "inf" and "nan" are written.
    String::from_utf8(out).unwrap_or_default()
}

/// [`format_double`] appending to a byte buffer, without allocating.
pub fn format_double_into(v: f64, out: &mut Vec<u8>) {
    if v.is_nan() {
        out.extend_from_slice(b"nan");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"inf" } else { b"-inf" });
        return;
    }
    if v == 0.0 {
        out.extend_from_slice(if v.is_sign_negative() { b"-0" } else { b"0" });
        return;
    }
    // Integers below 1e17 print in full, without exponent, under %.17g.
    if v.fract() == 0.0 && v.abs() < 1e17 {
        format_i64(v as i64, out);
        return;
    }
    // 17 significant digits, correctly rounded with ties to even (as glibc's
    // printf does): Rust prints "d.dddddddddddddddde<exp>".
    let mut sci = StackBuf { buf: [0; 40], len: 0 };
    let _ = std::fmt::Write::write_fmt(&mut sci, format_args!("{:.16e}", v.abs()));
    let sci = &sci.buf[..sci.len];
    let e_at = sci.iter().position(|&c| c == b'e').unwrap_or(sci.len());
    let exp: i32 = std::str::from_utf8(&sci[e_at + 1..])
        .ok()
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    let mut digits = [0u8; 17];
    let mut n = 0;
    for &c in &sci[..e_at] {
        if c.is_ascii_digit() && n < 17 {
            digits[n] = c;
            n += 1;
        }
    }
    // %g drops trailing zeros (no '#' flag).
    while n > 1 && digits[n - 1] == b'0' {
        n -= 1;
    }
    let digits = &digits[..n];
    if v < 0.0 {
        out.push(b'-');
    }
    if !(-4..17).contains(&exp) {
        out.push(digits[0]);
        if n > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        if exp.abs() < 10 {
            out.push(b'0');
        }
        format_i64(exp.abs() as i64, out);
    } else if exp < 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-exp - 1) as usize));
        out.extend_from_slice(digits);
    } else {
        let int_len = exp as usize + 1;
        if n > int_len {
            out.extend_from_slice(&digits[..int_len]);
            out.push(b'.');
            out.extend_from_slice(&digits[int_len..]);
        } else {
            out.extend_from_slice(digits);
            out.extend(std::iter::repeat_n(b'0', int_len - n));
        }
    }
}

/// A fixed-size `fmt::Write` target on the stack.
struct StackBuf {
    buf: [u8; 40],
    len: usize,
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// INCRBYFLOAT / HINCRBYFLOAT
// ---------------------------------------------------------------------------

/// Why an INCRBYFLOAT / HINCRBYFLOAT could not be applied. [`message`](Self::message)
/// is the exact Redis error text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncrFloatError {
    /// INCRBYFLOAT: the stored string is not a valid float.
    InvalidValue,
    /// The increment argument is not a valid float.
    InvalidIncrement,
    /// HINCRBYFLOAT: the stored hash field is not a valid float.
    InvalidHashValue,
    /// HINCRBYFLOAT: the increment itself is `inf` / `-inf`.
    IncrementNotFinite,
    /// The sum is NaN or infinite (nothing is stored).
    NanOrInfinity,
}

impl IncrFloatError {
    /// The error line Redis replies with (without the leading `-`).
    pub fn message(self) -> &'static str {
        match self {
            IncrFloatError::InvalidValue | IncrFloatError::InvalidIncrement => "ERR value is not a valid float",
            IncrFloatError::InvalidHashValue => "ERR hash value is not a float",
            IncrFloatError::IncrementNotFinite => "ERR value is NaN or Infinity",
            IncrFloatError::NanOrInfinity => "ERR increment would produce NaN or Infinity",
        }
    }
}

impl std::fmt::Display for IncrFloatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for IncrFloatError {}

/// Longest number text Redis accepts as a `long double` is this minus one.
pub const MAX_LONG_DOUBLE_CHARS: usize = 5120;

/// True when Redis would accept `s` as a `long double` (INCRBYFLOAT operand):
/// shorter than 5120 bytes, no leading white space, fully consumed by
/// `strtold`, not NaN, no overflow or underflow to zero. `inf` is accepted.
pub fn parse_long_double_ok(s: &[u8]) -> bool {
    ld_classify(s) != LdClass::Invalid
}

#[derive(PartialEq, Eq)]
enum LdClass {
    Invalid,
    Finite,
    Infinite,
}

fn ld_classify(s: &[u8]) -> LdClass {
    if s.is_empty() || s.len() >= MAX_LONG_DOUBLE_CHARS {
        return LdClass::Invalid;
    }
    let c = CStrBuf::new(s);
    // SAFETY: `c` is NUL-terminated at index s.len() and outlives the call.
    match unsafe { ffi::shoal_ld_classify(c.as_ptr(), s.len()) } {
        1 => LdClass::Finite,
        2 => LdClass::Infinite,
        _ => LdClass::Invalid,
    }
}

/// Adds `b` to `a` in long double and returns the human-form text, or the
/// failure code (-1 a invalid, -2 b invalid, -3 sum not finite).
fn ld_add(a: &[u8], b: &[u8]) -> Result<Vec<u8>, i32> {
    if a.is_empty() || a.len() >= MAX_LONG_DOUBLE_CHARS {
        return Err(-1);
    }
    if b.is_empty() || b.len() >= MAX_LONG_DOUBLE_CHARS {
        return Err(-2);
    }
    let ca = CStrBuf::new(a);
    let cb = CStrBuf::new(b);
    // Largest finite long double is ~1.19e4932: 4933 integer digits, '-', '.',
    // 17 decimals and the NUL fit easily.
    let mut out = [0u8; 5200];
    // SAFETY: both inputs are NUL-terminated at their lengths; `out` has
    // `out.len()` writable bytes.
    let n = unsafe {
        ffi::shoal_ld_add(
            ca.as_ptr(),
            a.len(),
            cb.as_ptr(),
            b.len(),
            out.as_mut_ptr() as *mut c_char,
            out.len(),
        )
    };
    if n < 0 {
        return Err(n);
    }
    Ok(trim_human(&out[..n as usize]).to_vec())
}

/// Turns `%.17Lf` output into Redis's human form: trailing zeros after the
/// point removed, then a bare trailing point, and `-0` becomes `0`.
fn trim_human(mut s: &[u8]) -> &[u8] {
    if s.contains(&b'.') {
        while let [rest @ .., b'0'] = s {
            s = rest;
        }
        if let [rest @ .., b'.'] = s {
            s = rest;
        }
    }
    if s == b"-0" {
        s = b"0";
    }
    s
}

/// INCRBYFLOAT: `current + increment` computed in C `long double`, printed in
/// Redis's human form (`10.5` + `0.1` = `10.6`). `current` is the stored string
/// (pass `b"0"` when the key does not exist). The stored value is validated
/// before the increment; both follow [`parse_long_double_ok`].
pub fn incr_by_float(current: &[u8], increment: &[u8]) -> Result<Vec<u8>, IncrFloatError> {
    ld_add(current, increment).map_err(|code| match code {
        -1 => IncrFloatError::InvalidValue,
        -2 => IncrFloatError::InvalidIncrement,
        _ => IncrFloatError::NanOrInfinity,
    })
}

/// HINCRBYFLOAT: like [`incr_by_float`] but in Redis's order and wording for
/// hashes: the increment is checked first (invalid, then infinite), then the
/// stored field (`None` when the field does not exist, counted as 0).
pub fn hincr_by_float(current: Option<&[u8]>, increment: &[u8]) -> Result<Vec<u8>, IncrFloatError> {
    match ld_classify(increment) {
        LdClass::Invalid => return Err(IncrFloatError::InvalidIncrement),
        LdClass::Infinite => return Err(IncrFloatError::IncrementNotFinite),
        LdClass::Finite => {}
    }
    ld_add(current.unwrap_or(b"0"), increment).map_err(|code| match code {
        -1 => IncrFloatError::InvalidHashValue,
        -2 => IncrFloatError::InvalidIncrement,
        _ => IncrFloatError::NanOrInfinity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_i64_table() {
        // Verified against redis-server 7.0.15 with SET k <v>; INCR k.
        let cases: &[(&[u8], Option<i64>)] = &[
            (b"0", Some(0)),
            (b"1", Some(1)),
            (b"-1", Some(-1)),
            (b"-0", None),
            (b"007", None),
            (b"00", None),
            (b"+5", None),
            (b" 5", None),
            (b"5 ", None),
            (b"-", None),
            (b"", None),
            (b"1a", None),
            (b"9223372036854775807", Some(i64::MAX)),
            (b"9223372036854775808", None),
            (b"-9223372036854775808", Some(i64::MIN)),
            (b"-9223372036854775809", None),
            (b"99999999999999999999", None),
            (b"123456789012345678901", None),
            (b"1\0", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_i64(s), *want, "{:?}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn parse_i64_roundtrips_format() {
        let mut rng = crate::rand::FastRng::new(7);
        let mut vals = vec![0, 1, -1, 9, 10, 99, 100, -100, i64::MAX, i64::MIN, i64::MIN + 1];
        for _ in 0..10_000 {
            let v = rng.next_u64() as i64;
            vals.push(v >> (rng.below(64) as u32));
        }
        for v in vals {
            let mut out = Vec::new();
            format_i64(v, &mut out);
            assert_eq!(out, v.to_string().as_bytes());
            let mut buf = [0u8; 20];
            let n = format_i64_buf(v, &mut buf);
            assert_eq!(&buf[..n], out.as_slice());
            assert_eq!(i64_text_len(v), n);
            assert_eq!(parse_i64(&out), Some(v));
        }
        let mut out = Vec::new();
        format_u64(u64::MAX, &mut out);
        assert_eq!(out, b"18446744073709551615");
    }

    #[test]
    fn parse_u64_table() {
        let cases: &[(&[u8], Option<u64>)] = &[
            (b"0", Some(0)),
            (b"18446744073709551615", Some(u64::MAX)),
            (b"18446744073709551616", None),
            (b"-1", None),
            (b"-0", None),
            (b"+1", None),
            (b"01", None),
            (b"", None),
            (b" 1", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_u64(s), *want, "{:?}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn parse_u64_lenient_table() {
        // Verified against redis-server 7.0.15 with XADD s <ms>-<seq> f v.
        let cases: &[(&[u8], Option<u64>)] = &[
            (b"05", Some(5)),
            (b"+6", Some(6)),
            (b" 7", Some(7)),
            (b"\t3", Some(3)),
            (b"   +5", Some(5)),
            (b"000", Some(0)),
            (b"-0", Some(0)),
            (b" -1", Some(u64::MAX)),
            (b"-18446744073709551615", Some(1)),
            (b"18446744073709551615", Some(u64::MAX)),
            (b"-1", None),
            (b"0x10", None),
            (b"1a", None),
            (b"", None),
            (b" ", None),
            (b"+", None),
            (b"18446744073709551616", None),
            (b"99999999999999999999", None),
            (b"5\0abc", Some(5)),
        ];
        for (s, want) in cases {
            assert_eq!(parse_u64_lenient(s), *want, "{:?}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn parse_f64_table() {
        // Verified against redis-server 7.0.15 with ZADD z <v> m (accept/reject).
        let ok: &[(&str, f64)] = &[
            ("1", 1.0),
            ("1.1", 1.1),
            ("-0", -0.0),
            ("1e5", 1e5),
            ("1E5", 1e5),
            ("0x10", 16.0),
            ("0X1p3", 8.0),
            ("inf", f64::INFINITY),
            ("+inf", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
            ("INF", f64::INFINITY),
            ("Infinity", f64::INFINITY),
            ("-infinity", f64::NEG_INFINITY),
            ("+5", 5.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("1.5e+3", 1500.0),
            ("4e-320", 4e-320),
            ("5e-324", 5e-324),
            ("123456789012345678", 123456789012345678.0),
            ("9007199254740993", 9007199254740992.0),
        ];
        for (s, want) in ok {
            let got = parse_f64(s.as_bytes()).unwrap_or_else(|| panic!("{s} rejected"));
            assert_eq!(got.to_bits(), want.to_bits(), "{s}");
        }
        let bad = [
            "nan", "NaN", " 1", "1 ", "", "1e400", "-1e400", "1e-400", "1e", "e5", "1_0", "1,5", "--1", "+-1", "0x",
            "0xg", "infinit", "infx", "nan(1)", "1\0", "\t1",
        ];
        for s in bad {
            assert_eq!(parse_f64(s.as_bytes()), None, "{s:?}");
        }
        // Long inputs go through the heap buffer.
        let long = format!("{}1", "0".repeat(100));
        assert_eq!(parse_f64(long.as_bytes()), Some(1.0));
    }

    #[test]
    fn parse_f64_loose_table() {
        // Verified against redis-server 7.0.15 with ZRANGEBYSCORE z <v> +inf.
        let ok: &[(&[u8], f64)] = &[
            (b" 1", 1.0),
            (b"", 0.0),
            (b"1e400", f64::INFINITY),
            (b"-1e400", f64::NEG_INFINITY),
            (b"1e-400", 0.0),
            (b"1\0x", 1.0),
            (b"0x1", 1.0),
            (b"+inf", f64::INFINITY),
        ];
        for (s, want) in ok {
            assert_eq!(parse_f64_loose(s), Some(*want), "{:?}", String::from_utf8_lossy(s));
        }
        for s in [&b"1 "[..], b"nan", b"abc"] {
            assert_eq!(parse_f64_loose(s), None);
        }
    }

    fn c_g17(v: f64) -> String {
        let mut buf = [0u8; 64];
        // SAFETY: buf has 64 writable bytes.
        let n = unsafe { ffi::shoal_test_fmt_g17(v, buf.as_mut_ptr() as *mut c_char, buf.len()) };
        String::from_utf8(buf[..n as usize].to_vec()).unwrap()
    }

    #[test]
    fn format_double_table() {
        // Verified against redis-server 7.0.15: ZADD (skiplist encoding) + ZSCORE.
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (1.1, "1.1000000000000001"),
            (0.1, "0.10000000000000001"),
            (-0.0, "-0"),
            (0.0, "0"),
            (1e5, "100000"),
            (1e-5, "1.0000000000000001e-05"),
            (16.0, "16"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (0.5, "0.5"),
            (4e-320, "3.999955468730732e-320"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (3.0000000000000004, "3.0000000000000004"),
            (1e16, "10000000000000000"),
            (1e17, "1e+17"),
            (0.0001, "0.0001"),
            (1e308, "1e+308"),
            (2.2250738585072014e-308, "2.2250738585072014e-308"),
            (5e-324, "4.9406564584124654e-324"),
            (1.0 + 1.0 / 131072.0, "1.0000076293945312"),
            (-1.5, "-1.5"),
        ];
        for (v, want) in cases {
            assert_eq!(format_double(*v), *want, "{v:e}");
            let mut out = b"x".to_vec();
            format_double_into(*v, &mut out);
            assert_eq!(&out[1..], want.as_bytes());
        }
    }

    #[test]
    fn format_double_matches_printf() {
        let mut rng = crate::rand::FastRng::new(42);
        let mut vals: Vec<f64> = vec![
            1e-4,
            1e-4 - 1e-20,
            1e-5,
            99999999999999999.0,
            1e17,
            123.456,
            -0.001,
            f64::MAX,
            f64::MIN_POSITIVE,
            1.5,
            2.5,
            0.125,
        ];
        // Exact ties at the 17th significant digit: 1 + k/2^17.
        for k in 1..2000u32 {
            vals.push(1.0 + k as f64 / 131072.0);
            vals.push(k as f64 / 1024.0);
        }
        for _ in 0..200_000 {
            vals.push(f64::from_bits(rng.next_u64()));
            let v = rng.below(1_000_000) as f64 / 1000.0;
            vals.push(v);
            vals.push(-v * 1e-7);
        }
        for v in vals {
            if v.is_nan() {
                continue;
            }
            assert_eq!(format_double(v), c_g17(v), "{:?}", v);
        }
    }

    #[test]
    fn incr_by_float_table() {
        // Verified against redis-server 7.0.15: SET k <cur>; INCRBYFLOAT k <inc>
        // (cur "0" stands for a missing key).
        use IncrFloatError::*;
        let cases: &[(&str, &str, Result<&str, IncrFloatError>)] = &[
            ("10.5", "0.1", Ok("10.6")),
            ("0", "0.1", Ok("0.1")),
            ("0", "1e-20", Ok("0")),
            ("0", "-1e-20", Ok("0")),
            ("1e5", "1", Ok("100001")),
            (" 1", "1", Err(InvalidValue)),
            ("1 ", "1", Err(InvalidValue)),
            ("0x10", "1", Ok("17")),
            ("inf", "1", Err(NanOrInfinity)),
            ("1", "inf", Err(NanOrInfinity)),
            ("1", "-inf", Err(NanOrInfinity)),
            ("-inf", "inf", Err(NanOrInfinity)),
            ("1", "nan", Err(InvalidIncrement)),
            ("nan", "1", Err(InvalidValue)),
            ("1", "0x1p-2", Ok("1.25")),
            ("5", "-5", Ok("0")),
            ("-0", "0", Ok("0")),
            ("0", "-0", Ok("0")),
            ("1", "1e5000", Err(InvalidIncrement)),
            ("1", "1e-5000", Err(InvalidIncrement)),
            ("1", "3.0000000000000000001", Ok("4")),
            ("0", "1.23456789012345678901234567890", Ok("1.23456789012345679")),
            (
                "0",
                "123456789012345678901234567890",
                Ok("123456789012345678899921813504"),
            ),
            ("0", "1e30", Ok("1000000000000000000024696061952")),
            ("0", "-1e-3", Ok("-0.001")),
            ("abc", "1", Err(InvalidValue)),
            ("1", "abc", Err(InvalidIncrement)),
            ("abc", "abc", Err(InvalidValue)),
            ("", "1", Err(InvalidValue)),
            ("0", "", Err(InvalidIncrement)),
            ("1", "1e", Err(InvalidIncrement)),
            ("0", "3e-4951", Ok("0")),
            ("0", "1e-4950", Ok("0")),
            ("1", ".5", Ok("1.5")),
            ("1", "5.", Ok("6")),
            ("1", "+.5", Ok("1.5")),
            ("7", "-7.0000000000000000001", Ok("0")),
            ("1.5", "1\0", Err(InvalidIncrement)),
        ];
        for (cur, inc, want) in cases {
            let got = incr_by_float(cur.as_bytes(), inc.as_bytes());
            let got = got.as_ref().map(|v| std::str::from_utf8(v).unwrap());
            assert_eq!(got, want.as_ref().map(|s| *s), "{cur:?} + {inc:?}");
        }
        // 1 + 1e4932 prints in full (4933 digits).
        let big = incr_by_float(b"1", b"1e4932").unwrap();
        assert_eq!(big.len(), 4933);
        assert!(big.starts_with(b"100000000000000000000601894938796389132383777425453311477378"));
    }

    #[test]
    fn incr_by_float_length_limit() {
        // Redis accepts at most 5119 characters for either operand.
        let zeros = |n| "0".repeat(n).into_bytes();
        assert_eq!(incr_by_float(b"0", &zeros(5119)).unwrap(), b"0");
        assert_eq!(incr_by_float(b"0", &zeros(5120)), Err(IncrFloatError::InvalidIncrement));
        assert_eq!(incr_by_float(&zeros(5119), b"1").unwrap(), b"1");
        assert_eq!(incr_by_float(&zeros(5120), b"1"), Err(IncrFloatError::InvalidValue));
        assert!(parse_long_double_ok(&zeros(5119)));
        assert!(!parse_long_double_ok(&zeros(5120)));
        assert!(parse_long_double_ok(b"inf"));
        assert!(!parse_long_double_ok(b"nan"));
        assert!(!parse_long_double_ok(b""));
    }

    #[test]
    fn hincr_by_float_table() {
        // Verified against redis-server 7.0.15 with HSET/HINCRBYFLOAT.
        use IncrFloatError::*;
        assert_eq!(hincr_by_float(None, b"inf"), Err(IncrementNotFinite));
        assert_eq!(hincr_by_float(None, b"abc"), Err(InvalidIncrement));
        assert_eq!(hincr_by_float(Some(b"abc"), b"abc"), Err(InvalidIncrement));
        assert_eq!(hincr_by_float(Some(b"abc"), b"1"), Err(InvalidHashValue));
        assert_eq!(hincr_by_float(Some(b"abc"), b"inf"), Err(IncrementNotFinite));
        assert_eq!(hincr_by_float(Some(b"inf"), b"1"), Err(NanOrInfinity));
        assert_eq!(hincr_by_float(Some(b"10.5"), b"0.1").unwrap(), b"10.6");
        assert_eq!(
            hincr_by_float(Some(b"1e5"), b"0.1").unwrap(),
            b"100000.10000000000000142"
        );
        assert_eq!(hincr_by_float(None, b"2.5").unwrap(), b"2.5");
        assert_eq!(InvalidHashValue.message(), "ERR hash value is not a float");
        assert_eq!(IncrementNotFinite.message(), "ERR value is NaN or Infinity");
        assert_eq!(NanOrInfinity.message(), "ERR increment would produce NaN or Infinity");
        assert_eq!(InvalidValue.message(), "ERR value is not a valid float");
    }
}

/// Why a blocking timeout was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutError {
    /// "ERR timeout is not a float or out of range"
    NotAFloat,
    /// "ERR timeout is negative" (also for milliseconds beyond i64, as Redis)
    Negative,
}

/// A blocking command's timeout (seconds, a long double in Redis) as whole
/// milliseconds, converted exactly as Redis 7.0 does: `-0.001` rounds to 0,
/// `1e-400` is 0, `1e16` overflows and counts as negative.
pub fn parse_timeout_ms(s: &[u8]) -> Result<i64, TimeoutError> {
    if s.is_empty() {
        return Err(TimeoutError::NotAFloat);
    }
    let c = CStrBuf::new(s);
    let mut out: i64 = 0;
    // SAFETY: `c` is NUL-terminated at index s.len() and outlives the call.
    match unsafe { ffi::shoal_timeout_ms(c.as_ptr(), s.len(), &mut out) } {
        1 => Ok(out),
        2 => Err(TimeoutError::Negative),
        _ => Err(TimeoutError::NotAFloat),
    }
}

#[cfg(test)]
mod timeout_tests {
    use super::*;

    #[test]
    fn timeouts_convert_like_redis() {
        assert_eq!(parse_timeout_ms(b"1.5"), Ok(1500));
        assert_eq!(parse_timeout_ms(b"0"), Ok(0));
        assert_eq!(parse_timeout_ms(b"-0.001"), Ok(0));
        assert_eq!(parse_timeout_ms(b"-0.5"), Err(TimeoutError::Negative));
        assert_eq!(parse_timeout_ms(b"1e-400"), Ok(0));
        assert_eq!(parse_timeout_ms(b"9223372036854775"), Ok(9223372036854775000));
        assert_eq!(parse_timeout_ms(b"9223372036854776"), Err(TimeoutError::Negative));
        assert_eq!(parse_timeout_ms(b"inf"), Err(TimeoutError::Negative));
        assert_eq!(parse_timeout_ms(b"0x10"), Ok(16000));
        assert_eq!(parse_timeout_ms(b"nan"), Err(TimeoutError::NotAFloat));
        assert_eq!(parse_timeout_ms(b"abc"), Err(TimeoutError::NotAFloat));
    }
}
