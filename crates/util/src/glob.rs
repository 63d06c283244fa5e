//! Glob-style matching with the exact semantics of Redis 7.0's KEYS, SCAN
//! MATCH, PSUBSCRIBE, CONFIG GET (case-insensitive) and friends.
//!
//! Pattern language:
//! * `*` any run of bytes, `?` any single byte;
//! * `[abc]`, `[^abc]` (only `^` negates), `[a-z]`; a reversed range `[z-a]`
//!   means `[a-z]`; range ends compare as *signed* C chars, so bytes >= 0x80
//!   sort below ASCII; `\x` inside brackets is the literal `x`, compared
//!   case-sensitively even in nocase mode; an unterminated `[...` runs to the
//!   end of the pattern; `[a-]` is the range `]`..`a` (the `]` is taken as the
//!   range end);
//! * `\x` outside brackets is the literal `x`; a trailing lone `\` is literal.
//!
//! Quirks kept from Redis: an empty text matches only the empty pattern (so
//! `*` does not match `""`), and a pattern with more than 1000 `*` groups
//! that are not at its very end never matches (Redis's recursion limit).
//! KEYS and SCAN skip matching altogether when the pattern is exactly `*`,
//! which is how an empty key still shows up there: callers should do the same.
//!
//! Matching is iterative with a single backtrack point (the last `*`), which
//! gives the same answers as Redis's recursive matcher in O(pattern * text)
//! worst case and no recursion.

/// Redis gives up (no match) when a match needs more nested `*` than this.
const MAX_STAR_GROUPS: usize = 1000;

/// C `tolower` in the "C" locale.
#[inline]
fn lower(c: u8) -> u8 {
    c.to_ascii_lowercase()
}

/// Compares one byte of the text against the single-byte token at `p[pi]`
/// (anything but `*`). Returns whether it matched and where the next token starts.
#[inline]
fn match_token(p: &[u8], pi: usize, c: u8, nocase: bool) -> (bool, usize) {
    match p[pi] {
        b'?' => (true, pi + 1),
        b'[' => match_class(p, pi + 1, c, nocase),
        b'\\' if pi + 1 < p.len() => (eq(p[pi + 1], c, nocase), pi + 2),
        lit => (eq(lit, c, nocase), pi + 1),
    }
}

#[inline]
fn eq(a: u8, b: u8, nocase: bool) -> bool {
    if nocase {
        lower(a) == lower(b)
    } else {
        a == b
    }
}

/// Matches `c` against the bracket expression whose body starts at `p[j]`
/// (just after `[`). Returns (matched, index after the expression).
fn match_class(p: &[u8], mut j: usize, c: u8, nocase: bool) -> (bool, usize) {
    let len = p.len();
    let negate = j < len && p[j] == b'^';
    if negate {
        j += 1;
    }
    let mut matched = false;
    loop {
        if j + 1 < len && p[j] == b'\\' {
            // Escaped byte: literal and case-sensitive.
            j += 1;
            if p[j] == c {
                matched = true;
            }
        } else if j < len && p[j] == b']' {
            break;
        } else if j >= len {
            // Unterminated: the expression ends with the pattern.
            j = len - 1;
            break;
        } else if j + 2 < len && p[j + 1] == b'-' {
            // Range; the ends compare as signed chars, as in C.
            let (mut lo, mut hi) = (p[j] as i8, p[j + 2] as i8);
            if lo > hi {
                std::mem::swap(&mut lo, &mut hi);
            }
            let mut ch = c as i8;
            if nocase {
                lo = lower(lo as u8) as i8;
                hi = lower(hi as u8) as i8;
                ch = lower(ch as u8) as i8;
            }
            if lo <= ch && ch <= hi {
                matched = true;
            }
            j += 2;
        } else if eq(p[j], c, nocase) {
            matched = true;
        }
        j += 1;
    }
    (matched != negate, j + 1)
}

/// True when `text` matches the glob `pattern` (see the module docs).
/// `nocase` folds ASCII letters, as CONFIG GET does.
pub fn glob_match(pattern: &[u8], text: &[u8], nocase: bool) -> bool {
    let p = pattern;
    if text.is_empty() {
        return p.is_empty();
    }
    let (mut pi, mut ti) = (0usize, 0usize);
    // Backtrack point: pattern index just after the last `*` group, and the
    // text index where that star's match currently ends.
    let mut backtrack: Option<(usize, usize)> = None;
    let mut star_groups = 0usize;
    loop {
        if ti == text.len() {
            while pi < p.len() && p[pi] == b'*' {
                pi += 1;
            }
            return pi == p.len();
        }
        if pi < p.len() {
            if p[pi] == b'*' {
                while pi < p.len() && p[pi] == b'*' {
                    pi += 1;
                }
                if pi == p.len() {
                    return true;
                }
                star_groups += 1;
                if star_groups > MAX_STAR_GROUPS {
                    return false;
                }
                backtrack = Some((pi, ti));
                continue;
            }
            let (ok, next) = match_token(p, pi, text[ti], nocase);
            if ok {
                pi = next;
                ti += 1;
                continue;
            }
        }
        // Mismatch (or pattern exhausted with text left): let the last star
        // swallow one more byte. Earlier stars never need to be revisited.
        match backtrack {
            Some((spi, sti)) => {
                backtrack = Some((spi, sti + 1));
                pi = spi;
                ti = sti + 1;
            }
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        glob_match(p.as_bytes(), t.as_bytes(), false)
    }

    #[test]
    fn basics() {
        // Each verified against redis-server 7.0.15 with KEYS (and `*` vs ""
        // with SCAN MATCH, since KEYS * is a shortcut).
        let cases: &[(&str, &str, bool)] = &[
            ("*", "anything", true),
            ("*", "", false),
            ("", "", true),
            ("", "a", false),
            ("**", "", false),
            ("h?llo", "hello", true),
            ("h?llo", "hllo", false),
            ("h*llo", "hllo", true),
            ("h*llo", "heeeello", true),
            ("h[ae]llo", "hallo", true),
            ("h[ae]llo", "hillo", false),
            ("h[^e]llo", "hallo", true),
            ("h[^e]llo", "hello", false),
            ("h[a-b]llo", "hbllo", true),
            ("h[b-a]llo", "hallo", true),
            ("h[a-b]llo", "hcllo", false),
            ("h\\*llo", "h*llo", true),
            ("h\\*llo", "hello", false),
            ("a\\", "a\\", true),
            ("a*", "a", true),
            ("a*b*", "ab", true),
            ("*a*b", "xaxxb", true),
            ("*a*b", "xaxxbx", false),
            ("[", "[", false),
            ("[^", "x", true),
            ("x[^", "xy", true),
            ("[]", "]", false),
            ("[^]", "]", true),
            ("[]a]", "]", false),
            ("[]a]", "a]", false),
            ("[abc", "b", true),
            ("[abc", "d", false),
            ("[a-]", "]", true),
            ("[a-]", "^", true),
            ("[a-]", "-", false),
            ("[a-]b", "b", true),
            ("[\\]]", "]", true),
            ("[\\", "\\", true),
            ("?*", "a", true),
        ];
        for (p, t, want) in cases {
            assert_eq!(m(p, t), *want, "pattern {p:?} text {t:?}");
        }
    }

    #[test]
    fn nocase() {
        assert!(glob_match(b"MAXMEM*", b"maxmemory", true));
        assert!(glob_match(b"[M]axmemory", b"maxmemory", true));
        assert!(glob_match(b"[K-N]axmemory", b"maxmemory", true));
        // An escape inside brackets compares case-sensitively.
        assert!(!glob_match(b"[\\M]axmemory", b"maxmemory", true));
        assert!(glob_match(b"\\Maxmemory", b"maxmemory", true));
        assert!(!glob_match(b"MAXMEM*", b"maxmemory", false));
    }

    #[test]
    fn high_bytes_compare_signed_in_ranges() {
        // 'a' (97) .. 0xe9 (-23 as a C char) swaps to -23..=97.
        assert!(!glob_match(b"[a-\xe9]", b"\xe0", false));
        assert!(glob_match(b"[a-\xe9]", b"\xf0", false));
        assert!(glob_match(b"[a-\xe9]", b"A", false));
        assert!(glob_match(b"[\xe0-\xf0]", b"\xe9", false));
    }

    #[test]
    fn star_group_limit() {
        // Verified against redis-server 7.0.15 with KEYS on a 1500-byte key of 'a's.
        let key = vec![b'a'; 1500];
        let rep = |s: &str, n: usize| s.repeat(n).into_bytes();
        for (n, want) in [(999, true), (1000, true), (1001, false)] {
            let mut p = rep("*a", n);
            p.push(b'*');
            assert_eq!(glob_match(&p, &key, false), want, "*a x{n} *");
            assert_eq!(glob_match(&rep("*a", n), &key, false), want);
            let mut p = rep("a*", n);
            p.push(b'a');
            assert_eq!(glob_match(&p, &key, false), want);
        }
        // A trailing star group does not count.
        assert!(glob_match(&rep("a*", 1001), &key, false));
        assert!(!glob_match(&rep("a*", 1002), &key, false));
    }

    #[test]
    fn no_exponential_blowup() {
        let text = vec![b'a'; 10_000];
        let mut p = b"a*".repeat(30);
        p.push(b'b');
        let start = std::time::Instant::now();
        assert!(!glob_match(&p, &text, false));
        assert!(start.elapsed().as_secs() < 2);
    }

    /// Reference: a plain recursive matcher over the same tokenization,
    /// exponential but obviously right on tiny inputs.
    fn reference(p: &[u8], pi: usize, t: &[u8], nocase: bool) -> bool {
        if pi == p.len() {
            return t.is_empty();
        }
        if p[pi] == b'*' {
            return (0..=t.len()).any(|k| reference(p, pi + 1, &t[k..], nocase));
        }
        if t.is_empty() {
            return false;
        }
        let (ok, next) = match_token(p, pi, t[0], nocase);
        ok && reference(p, next, &t[1..], nocase)
    }

    #[test]
    fn agrees_with_backtracking_reference() {
        let mut rng = crate::rand::FastRng::new(5);
        let palpha = b"ab*?[]^-\\";
        let talpha = b"ab]-";
        for _ in 0..100_000 {
            let plen = rng.below(8) as usize;
            let tlen = 1 + rng.below(7) as usize;
            let p: Vec<u8> = (0..plen)
                .map(|_| palpha[rng.below(palpha.len() as u64) as usize])
                .collect();
            let t: Vec<u8> = (0..tlen)
                .map(|_| talpha[rng.below(talpha.len() as u64) as usize])
                .collect();
            assert_eq!(
                glob_match(&p, &t, false),
                reference(&p, 0, &t, false),
                "pattern {:?} text {:?}",
                String::from_utf8_lossy(&p),
                String::from_utf8_lossy(&t)
            );
        }
    }
}
