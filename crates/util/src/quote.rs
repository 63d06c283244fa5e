//! Redis's quoted form of a byte string (its `sdscatrepr`): MONITOR lines and
//! CONFIG REWRITE arguments use it.

/// Quotes bytes inside double quotes, with `\\ \" \n \r \t \a \b` escaped and
/// other non-printable bytes as `\xhh`.
pub fn repr(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('"');
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x07 => s.push_str("\\a"),
            0x08 => s.push_str("\\b"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::repr;

    #[test]
    fn quotes() {
        assert_eq!(repr(b"a b\"c\\n"), r#""a b\"c\\n""#);
        assert_eq!(repr(b"\x01\xff\n\x07"), r#""\x01\xff\n\a""#);
        assert_eq!(repr(b""), r#""""#);
    }
}
