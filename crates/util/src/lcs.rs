//! Longest common subsequence for the LCS command (Redis 7.0).
//!
//! Redis fills the classic dynamic-programming table, then walks it back from
//! the end of both strings: on equal bytes it takes the byte and moves
//! diagonally; otherwise it moves up in `a` when that keeps a strictly longer
//! LCS, else left in `b`. The LCS string and the IDX match ranges both come
//! from that walk, so matches are listed from the end of the strings towards
//! the start, and ties resolve the same way as in Redis. MINMATCHLEN filtering
//! and reply shaping are the caller's.
//!
//! The table has `(a.len() + 1) * (b.len() + 1)` 32-bit cells: check
//! [`lcs_table_bytes`] before calling with big inputs. A length-only query
//! (`want_string` and `want_matches` both false) needs just two rows.

/// One IDX match: inclusive byte ranges in `a` and `b`, and its length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LcsMatch {
    pub a: (usize, usize),
    pub b: (usize, usize),
    pub len: usize,
}

/// The answer to one LCS query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LcsResult {
    /// Length of the longest common subsequence.
    pub len: usize,
    /// The subsequence itself (empty unless asked for).
    pub string: Vec<u8>,
    /// IDX matches, in Redis's order (empty unless asked for).
    pub matches: Vec<LcsMatch>,
}

/// Bytes of the DP table [`lcs`] allocates for a full query on inputs of
/// these lengths, or None if that does not even fit in a `usize`.
pub fn lcs_table_bytes(alen: usize, blen: usize) -> Option<usize> {
    (alen.checked_add(1)?).checked_mul(blen.checked_add(1)?)?.checked_mul(4)
}

/// LCS length with two rows of the table.
fn lcs_len_only(a: &[u8], b: &[u8]) -> usize {
    let (a, b) = if b.len() > a.len() { (b, a) } else { (a, b) };
    let mut prev = vec![0u32; b.len() + 1];
    let mut cur = vec![0u32; b.len() + 1];
    for &ca in a {
        for (j, &cb) in b.iter().enumerate() {
            cur[j + 1] = if ca == cb { prev[j] + 1 } else { prev[j + 1].max(cur[j]) };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()] as usize
}

/// Computes the LCS of `a` and `b`; see the module docs for the order of
/// `matches`. Ranges are inclusive byte indexes, as LCS IDX prints them.
pub fn lcs(a: &[u8], b: &[u8], want_string: bool, want_matches: bool) -> LcsResult {
    if !want_string && !want_matches {
        return LcsResult {
            len: lcs_len_only(a, b),
            ..LcsResult::default()
        };
    }
    let (alen, blen) = (a.len(), b.len());
    let w = blen + 1;
    // dp[i * w + j] = LCS length of a[..i] and b[..j].
    let mut dp = vec![0u32; (alen + 1) * w];
    for i in 1..=alen {
        let (above, row) = dp[(i - 1) * w..(i + 1) * w].split_at_mut(w);
        let ca = a[i - 1];
        for j in 1..=blen {
            row[j] = if ca == b[j - 1] {
                above[j - 1] + 1
            } else {
                above[j].max(row[j - 1])
            };
        }
    }
    let len = dp[alen * w + blen] as usize;
    let mut string = if want_string { vec![0u8; len] } else { Vec::new() };
    let mut matches = Vec::new();
    // Current range being grown backwards: (a_start, a_end, b_start, b_end).
    let mut range: Option<(usize, usize, usize, usize)> = None;
    let (mut i, mut j, mut idx) = (alen, blen, len);
    while i > 0 && j > 0 {
        let mut emit = None;
        if a[i - 1] == b[j - 1] {
            if want_string {
                string[idx - 1] = a[i - 1];
            }
            range = match range {
                None => Some((i - 1, i - 1, j - 1, j - 1)),
                Some((as_, ae, bs, be)) if as_ == i && bs == j => Some((i - 1, ae, j - 1, be)),
                Some(r) => {
                    // Not contiguous (cannot happen after a diagonal step):
                    // Redis emits the old range and drops this byte's.
                    emit = Some(r);
                    None
                }
            };
            if let Some(r @ (as_, _, bs, _)) = range {
                if as_ == 0 || bs == 0 {
                    emit = Some(r);
                    range = None;
                }
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if dp[(i - 1) * w + j] > dp[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            emit = range.take();
        }
        if let (Some((as_, ae, bs, be)), true) = (emit, want_matches) {
            matches.push(LcsMatch {
                a: (as_, ae),
                b: (bs, be),
                len: ae - as_ + 1,
            });
        }
    }
    LcsResult { len, string, matches }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(a: (usize, usize), b: (usize, usize)) -> LcsMatch {
        LcsMatch {
            a,
            b,
            len: a.1 - a.0 + 1,
        }
    }

    #[test]
    fn redis_doc_example() {
        // Verified against redis-server 7.0.15: LCS k1 k2 / IDX.
        let r = lcs(b"ohmytext", b"mynewtext", true, true);
        assert_eq!(r.len, 6);
        assert_eq!(r.string, b"mytext");
        assert_eq!(r.matches, vec![m((4, 7), (5, 8)), m((2, 3), (0, 1))]);
    }

    #[test]
    fn ties_resolve_like_redis() {
        // (a, b, LCS string, IDX matches) from redis-server 7.0.15.
        type Case<'a> = (&'a [u8], &'a [u8], &'a [u8], Vec<LcsMatch>);
        let cases: Vec<Case> = vec![
            (
                b"abcabc",
                b"cbacba",
                b"cbc",
                vec![m((5, 5), (3, 3)), m((4, 4), (1, 1)), m((2, 2), (0, 0))],
            ),
            (b"aaaa", b"aa", b"aa", vec![m((2, 3), (0, 1))]),
            (b"abab", b"baba", b"bab", vec![m((1, 3), (0, 2))]),
            (
                b"xaybzc",
                b"abc",
                b"abc",
                vec![m((5, 5), (2, 2)), m((3, 3), (1, 1)), m((1, 1), (0, 0))],
            ),
            (
                b"abcdef",
                b"acf",
                b"acf",
                vec![m((5, 5), (2, 2)), m((2, 2), (1, 1)), m((0, 0), (0, 0))],
            ),
            (b"banana", b"atana", b"aana", vec![m((3, 5), (2, 4)), m((1, 1), (0, 0))]),
        ];
        for (a, b, string, matches) in cases {
            let r = lcs(a, b, true, true);
            assert_eq!(r.len, string.len());
            assert_eq!(r.string, string);
            assert_eq!(r.matches, matches);
        }
    }

    #[test]
    fn edge_cases() {
        let r = lcs(b"", b"abc", true, true);
        assert_eq!((r.len, r.string.len(), r.matches.len()), (0, 0, 0));
        let r = lcs(b"abc", b"xyz", true, true);
        assert_eq!((r.len, r.string.len(), r.matches.len()), (0, 0, 0));
        let r = lcs(b"abc", b"abc", true, true);
        assert_eq!(r.string, b"abc");
        assert_eq!(r.matches, vec![m((0, 2), (0, 2))]);
    }

    #[test]
    fn len_only_agrees_with_full() {
        let mut rng = crate::rand::FastRng::new(8);
        for _ in 0..500 {
            let gen = |rng: &mut crate::rand::FastRng| -> Vec<u8> {
                let n = rng.below(40) as usize;
                (0..n).map(|_| b"abcd"[rng.below(4) as usize]).collect()
            };
            let (a, b) = (gen(&mut rng), gen(&mut rng));
            let full = lcs(&a, &b, true, true);
            assert_eq!(lcs(&a, &b, false, false).len, full.len);
            assert_eq!(full.string.len(), full.len);
            let total: usize = full.matches.iter().map(|m| m.len).sum();
            assert_eq!(total, full.len);
            for mm in &full.matches {
                assert_eq!(a[mm.a.0..=mm.a.1], b[mm.b.0..=mm.b.1]);
            }
        }
    }

    #[test]
    fn table_size() {
        assert_eq!(lcs_table_bytes(0, 0), Some(4));
        assert_eq!(lcs_table_bytes(9, 9), Some(400));
        assert_eq!(lcs_table_bytes(usize::MAX, 1), None);
    }
}
