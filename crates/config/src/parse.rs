//! Low-level text handling shared by the loader, CONFIG GET/SET and REWRITE:
//! the argument splitter for config lines, the quoting used when arguments are
//! written back, number and memory-size parsing with Redis's acceptance rules,
//! and a small glob matcher for CONFIG GET patterns.
//!
//! Everything here was written from observed behaviour of redis-server 7.0.15
//! (see the tests for the cases that were probed).

/// Error returned by [`split_args`] when a quote is not closed, or a closing
/// quote is directly followed by something other than a space.
#[derive(Debug, PartialEq, Eq)]
pub struct Unbalanced;

/// Splits one config line into arguments (Redis's rules, see
/// [`shoal_util::split::split_args`]).
pub fn split_args(line: &[u8]) -> Result<Vec<Vec<u8>>, Unbalanced> {
    shoal_util::split::split_args(line).ok_or(Unbalanced)
}

pub use shoal_util::quote::repr;
use shoal_util::split::is_space;

/// Strict integer: optional `-`, digits, no `+`, no spaces, no leading zeros,
/// no `-0`, must fit an i64.
pub fn parse_strict_i64(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let (neg, digits) = if b[0] == b'-' { (true, &b[1..]) } else { (false, b) };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits[0] == b'0' && (digits.len() > 1 || neg) {
        return None;
    }
    s.parse::<i64>().ok()
}

/// Loose integer in the style of C's `strtoll` with a check that the whole
/// text was used: leading white space, an optional sign, then digits (none
/// at all reads as 0 only when the text is empty). Saturates on overflow.
pub fn parse_loose_i64(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.is_empty() {
        return Some(0);
    }
    let mut i = 0;
    while i < b.len() && is_space(b[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut v: i128 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        v = (v * 10 + (b[i] - b'0') as i128).min(i64::MAX as i128 + 1);
        i += 1;
    }
    if i == start || i != b.len() {
        return None;
    }
    let v = if neg { -v } else { v };
    Some(v.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
}

/// Memory size: digits (none reads as 0) then an optional unit among
/// `b k kb m mb g gb` in any case; `k`=1000, `kb`=1024 and so on. A leading
/// sign or space is refused. Like redis-server, an oversized number saturates
/// and the unit multiplication wraps.
pub fn parse_memory(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let split = b.iter().position(|c| !c.is_ascii_digit()).unwrap_or(b.len());
    let (digits, unit) = b.split_at(split);
    let mul: u64 = match unit.to_ascii_lowercase().as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    let mut n: u64 = 0;
    for d in digits {
        n = n.saturating_mul(10).saturating_add((d - b'0') as u64);
    }
    Some(n.wrapping_mul(mul))
}

/// The most readable exact form of a byte count, as CONFIG REWRITE writes it.
pub fn memory_human(v: u64) -> String {
    const K: u64 = 1024;
    if v == 0 {
        "0".to_string()
    } else if v.trailing_zeros() >= 30 {
        format!("{}gb", v / (K * K * K))
    } else if v.trailing_zeros() >= 20 {
        format!("{}mb", v / (K * K))
    } else if v.trailing_zeros() >= 10 {
        format!("{}kb", v / K)
    } else {
        v.to_string()
    }
}

/// Whether a CONFIG GET argument is a pattern (otherwise it is looked up as
/// an exact name, which also reaches hidden directives).
pub fn has_glob(p: &[u8]) -> bool {
    p.iter().any(|c| matches!(c, b'*' | b'?' | b'['))
}

/// CONFIG GET's pattern matching: Redis's glob, shared with KEYS and SCAN.
pub use shoal_util::glob::glob_match;

/// The text of an OS error as C's `strerror` gives it, without Rust's
/// " (os error N)" suffix.
pub fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Result<Vec<String>, Unbalanced> {
        split_args(s.as_bytes()).map(|v| {
            v.into_iter()
                .map(|a| String::from_utf8_lossy(&a).into_owned())
                .collect()
        })
    }

    #[test]
    fn splits_plain_and_quoted() {
        assert_eq!(split("port  6379 ").unwrap(), ["port", "6379"]);
        assert_eq!(split("\tfoo\tbar").unwrap(), ["foo", "bar"]);
        assert_eq!(split(r#"a "b c" 'd e'"#).unwrap(), ["a", "b c", "d e"]);
        assert_eq!(split(r#"x "" ''"#).unwrap(), ["x", "", ""]);
        assert_eq!(split(r#"x a"b c""#).unwrap(), ["x", "ab c"]);
        assert_eq!(split(r#"x a'b c'"#).unwrap(), ["x", "ab c"]);
        assert_eq!(split(r"x abc\x41").unwrap(), ["x", r"abc\x41"]);
    }

    #[test]
    fn double_quote_escapes() {
        assert_eq!(split(r#""a\"b""#).unwrap(), ["a\"b"]);
        assert_eq!(split(r#""\x41\x4a\x4""#).unwrap(), ["AJx4"]);
        assert_eq!(split(r#""\xZZ""#).unwrap(), ["xZZ"]);
        assert_eq!(split(r#""\x4g""#).unwrap(), ["x4g"]);
        assert_eq!(split(r#""\n\r\t\b\a\q\\""#).unwrap(), ["\n\r\t\x08\x07q\\"]);
        assert_eq!(split_args(br#""\xfF""#).unwrap(), vec![vec![0xffu8]]);
    }

    #[test]
    fn single_quote_escapes() {
        assert_eq!(split(r"'a\'b'").unwrap(), ["a'b"]);
        assert_eq!(split(r"'a\nb'").unwrap(), [r"a\nb"]);
        assert_eq!(split(r"'a\\b'").unwrap(), [r"a\\b"]);
        assert_eq!(split(r"'\x41'").unwrap(), [r"\x41"]);
    }

    #[test]
    fn unbalanced() {
        for s in [
            r#"bind "127.0.0.1"#,
            r#"bind "127.0.0.1"x"#,
            r#"x "a"b"#,
            r#"x 'a'b"#,
            r#"x "\""#,
            r#"x "a\"#,
        ] {
            assert_eq!(split(s), Err(Unbalanced), "{s}");
        }
    }

    #[test]
    fn strict_ints() {
        assert_eq!(parse_strict_i64("5"), Some(5));
        assert_eq!(parse_strict_i64("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_strict_i64("0"), Some(0));
        for bad in [
            "+5",
            " 5",
            "5 ",
            "05",
            "-0",
            "0x10",
            "1e3",
            "",
            "5.0",
            "-",
            "18446744073709551615",
        ] {
            assert_eq!(parse_strict_i64(bad), None, "{bad}");
        }
    }

    #[test]
    fn loose_ints() {
        assert_eq!(parse_loose_i64("01"), Some(1));
        assert_eq!(parse_loose_i64("+1"), Some(1));
        assert_eq!(parse_loose_i64("-0"), Some(0));
        assert_eq!(parse_loose_i64(""), Some(0));
        assert_eq!(parse_loose_i64("9999999999999999999"), Some(i64::MAX));
        assert_eq!(parse_loose_i64("1.5"), None);
        assert_eq!(parse_loose_i64("+"), None);
    }

    #[test]
    fn memory_values() {
        let cases = [
            ("1K", 1000),
            ("1KB", 1024),
            ("1Kb", 1024),
            ("1b", 1),
            ("", 0),
            ("05", 5),
            ("kb", 0),
            ("1G", 1_000_000_000),
            ("1gB", 1 << 30),
            ("5M", 5_000_000),
            ("20000000000gb", 3028092406290448384),
            ("99999999999999999999999", u64::MAX),
        ];
        for (s, v) in cases {
            assert_eq!(parse_memory(s), Some(v), "{s}");
        }
        for bad in [
            "1.5mb", "5 ", " 5", "+5", "-1", "-0", "1kk", "1 kb", "1tb", "-", "1e3", "1\tk",
        ] {
            assert_eq!(parse_memory(bad), None, "{bad}");
        }
    }

    #[test]
    fn human_memory() {
        assert_eq!(memory_human(0), "0");
        assert_eq!(memory_human(1536), "1536");
        assert_eq!(memory_human(2048), "2kb");
        assert_eq!(memory_human(200 << 20), "200mb");
        assert_eq!(memory_human(1 << 30), "1gb");
        assert_eq!(memory_human(1_000_000), "1000000");
    }

    #[test]
    fn globs() {
        assert!(glob_match(b"*", b"port", true));
        assert!(glob_match(b"P*RT", b"port", true));
        assert!(glob_match(b"hash-max-*", b"hash-max-ziplist-value", true));
        assert!(glob_match(b"[p]ort", b"port", true));
        assert!(glob_match(b"[^x]ort", b"port", true));
        assert!(!glob_match(b"[^p]ort", b"port", true));
        assert!(glob_match(b"[a-z]ort", b"port", true));
        assert!(glob_match(b"?ort", b"port", true));
        assert!(!glob_match(b"?ort", b"ort", true));
        assert!(glob_match(b"*z", b"dynamic-hz", true));
        assert!(!glob_match(b"*-delay", b"port", true));
        assert!(glob_match(b"p\\ort", b"port", true));
        assert!(!glob_match(b"Port", b"port", false));
    }

    #[test]
    fn strerror_strips_suffix() {
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(strerror(&e), "No such file or directory");
    }
}
