//! Redis's argument splitter (sdssplitargs): inline commands, redis.conf lines,
//! AOF manifest lines and ACL rules are all split by the same rules.

/// White space as C's `isspace` sees it.
pub fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits a line into arguments:
/// * arguments are separated by white space;
/// * `"..."` understands `\n \r \t \b \a`, `\xHH` (two hex digits) and `\c`
///   for any other `c`; `'...'` only understands `\'`;
/// * a quote may start in the middle of an argument (`a"b c"` is `ab c`), but a
///   closing quote must be followed by white space or the end of the line.
///
/// Returns None when a quote is not closed or is followed by something else.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(out);
        }
        let mut cur = Vec::new();
        let mut in_double = false;
        let mut in_single = false;
        loop {
            if in_double {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 3 < n && line[i + 1] == b'x' {
                    if let (Some(h), Some(l)) = (hex_val(line[i + 2]), hex_val(line[i + 3])) {
                        cur.push(h * 16 + l);
                        i += 4;
                        continue;
                    }
                }
                if c == b'\\' && i + 1 < n {
                    cur.push(match line[i + 1] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                    i += 2;
                } else if c == b'"' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                    i += 1;
                }
            } else if in_single {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    cur.push(b'\'');
                    i += 2;
                } else if c == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                    i += 1;
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    // A NUL ends an argument (C strings end there) and is consumed.
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        i += 1;
                        break;
                    }
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    c => cur.push(c),
                }
                i += 1;
            }
        }
        out.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::split_args;

    fn split(s: &[u8]) -> Option<Vec<Vec<u8>>> {
        split_args(s)
    }

    #[test]
    fn plain_quoted_and_escapes() {
        assert_eq!(
            split(b"  set  k v ").unwrap(),
            vec![b"set".to_vec(), b"k".to_vec(), b"v".to_vec()]
        );
        assert_eq!(
            split(br#"a"b c" 'x\'y'"#).unwrap(),
            vec![b"ab c".to_vec(), b"x'y".to_vec()]
        );
        assert_eq!(split(br#""\x41\n\q""#).unwrap(), vec![b"A\nq".to_vec()]);
        assert_eq!(split(b"a\x0bb").unwrap(), vec![b"a\x0bb".to_vec()]);
        assert_eq!(split(b"\x0b a").unwrap(), vec![b"a".to_vec()]);
        assert_eq!(split(b"a\0b").unwrap(), vec![b"a".to_vec(), b"b".to_vec()]);
        assert!(split(br#""open"#).is_none());
        assert!(split(br#""a"b"#).is_none());
        assert!(split(b"'a'b").is_none());
        assert_eq!(split(b"").unwrap(), Vec::<Vec<u8>>::new());
    }
}
