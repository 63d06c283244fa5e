//! LZF compression in the format Redis uses for compressed strings in RDB files
//! and DUMP payloads.
//!
//! The stream is a sequence of items, each starting with a control byte `c`:
//! * `c < 32`: a literal run; the next `c + 1` bytes are copied out.
//! * otherwise a back reference: `len = c >> 5` (7 means "7 plus the next
//!   byte"), then one more byte `lo`; copy `len + 2` bytes starting
//!   `((c & 0x1f) << 8 | lo) + 1` bytes back in the output (the copy may
//!   overlap what it produces, which repeats a pattern).
//!
//! Any valid stream decodes the same everywhere, so our compressor's output
//! need not equal liblzf's byte for byte; Redis loads it either way.

/// Longest literal run one control byte can describe.
const MAX_LIT: usize = 32;
/// Farthest back a reference can reach.
const MAX_OFF: usize = 1 << 13;
/// Longest match one reference can describe: (7 + 255) + 2.
const MAX_REF: usize = 264;
/// Largest hash table: 2^14 entries.
const MAX_HASH_LOG: u32 = 14;

/// Hash of the 3 bytes at the start of `p`, in `0..1 << log`.
#[inline]
fn hash3(p: &[u8], log: u32) -> usize {
    let v = (p[0] as u32) << 16 | (p[1] as u32) << 8 | p[2] as u32;
    (v.wrapping_mul(0x9E37_79B1) >> (32 - log)) as usize
}

/// Output under construction with a hard size limit.
struct Out {
    buf: Vec<u8>,
    cap: usize,
}

impl Out {
    #[inline]
    fn room(&self, n: usize) -> bool {
        self.buf.len() + n <= self.cap
    }
}

/// Writes the pending literals `lit` as runs of at most 32 bytes.
#[inline]
fn flush_literals(out: &mut Out, lit: &[u8]) -> Option<()> {
    for run in lit.chunks(MAX_LIT) {
        if !out.room(run.len() + 1) {
            return None;
        }
        out.buf.push((run.len() - 1) as u8);
        out.buf.extend_from_slice(run);
    }
    Some(())
}

/// Compresses `input`. Returns None when the result would be longer than
/// `out_cap` bytes (Redis passes `len - 4`, keeping a string only if it
/// shrinks by more than 4 bytes) or when `input` is empty.
pub fn lzf_compress(input: &[u8], out_cap: usize) -> Option<Vec<u8>> {
    if input.is_empty() {
        return None;
    }
    let n = input.len();
    let mut out = Out {
        buf: Vec::with_capacity(out_cap.min(n + n / 32 + 1)),
        cap: out_cap,
    };
    // Last position (plus one; 0 = empty) where each 3-byte hash was seen.
    // Sized to the input so that short strings do not pay for a big table.
    let log = (usize::BITS - n.leading_zeros()).clamp(6, MAX_HASH_LOG);
    let mut table = vec![0u32; 1 << log];
    let mut lit_start = 0usize;
    let mut ip = 0usize;
    while ip + 2 < n {
        let h = hash3(&input[ip..], log);
        let cand = table[h] as usize;
        table[h] = (ip + 1) as u32;
        if cand != 0 {
            let r = cand - 1;
            let dist = ip - r;
            if dist <= MAX_OFF && input[r..r + 3] == input[ip..ip + 3] {
                let max = (n - ip).min(MAX_REF);
                let mut len = 3;
                while len < max && input[r + len] == input[ip + len] {
                    len += 1;
                }
                flush_literals(&mut out, &input[lit_start..ip])?;
                if !out.room(3) {
                    return None;
                }
                let off = dist - 1;
                let l = len - 2;
                if l < 7 {
                    out.buf.push(((l as u8) << 5) | (off >> 8) as u8);
                } else {
                    out.buf.push((7 << 5) | (off >> 8) as u8);
                    out.buf.push((l - 7) as u8);
                }
                out.buf.push(off as u8);
                // Index the positions the match covered, then skip past it.
                let end = ip + len;
                let mut p = ip + 1;
                while p < end && p + 2 < n {
                    table[hash3(&input[p..], log)] = (p + 1) as u32;
                    p += 1;
                }
                ip = end;
                lit_start = ip;
                continue;
            }
        }
        ip += 1;
    }
    flush_literals(&mut out, &input[lit_start..])?;
    Some(out.buf)
}

/// Decompresses an LZF stream that must expand to exactly `expected_len`
/// bytes. Returns None on any malformed input (truncated item, reference
/// before the start, output longer or shorter than expected).
pub fn lzf_decompress(input: &[u8], expected_len: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(expected_len);
    let mut ip = 0usize;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let lit = input.get(ip..ip + run)?;
            if out.len() + run > expected_len {
                return None;
            }
            out.extend_from_slice(lit);
            ip += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(ip)? as usize;
                ip += 1;
            }
            len += 2;
            let back = ((ctrl & 0x1f) << 8 | *input.get(ip)? as usize) + 1;
            ip += 1;
            if back > out.len() || out.len() + len > expected_len {
                return None;
            }
            let start = out.len() - back;
            if back >= len {
                out.extend_from_within(start..start + len);
            } else {
                // Overlapping copy: each byte may be one just written.
                for i in 0..len {
                    let b = out[start + i];
                    out.push(b);
                }
            }
        }
    }
    (out.len() == expected_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(data: &[u8]) {
        let cap = data.len() + data.len() / 16 + 64;
        let c = lzf_compress(data, cap).expect("fits in a generous buffer");
        assert!(c.len() <= cap);
        assert_eq!(lzf_decompress(&c, data.len()).as_deref(), Some(data));
    }

    #[test]
    fn roundtrips() {
        let mut rng = crate::rand::FastRng::new(11);
        roundtrip(b"a");
        roundtrip(b"ab");
        roundtrip(b"abc");
        roundtrip(&[b'x'; 1000]);
        roundtrip(&b"hello world, hello world, hello world!".repeat(50));
        for len in [1usize, 2, 3, 31, 32, 33, 64, 263, 264, 265, 8192, 8193, 20_000, 100_000] {
            let random: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            roundtrip(&random);
            let small_alphabet: Vec<u8> = (0..len).map(|_| b"ab"[rng.below(2) as usize]).collect();
            roundtrip(&small_alphabet);
            let words: Vec<u8> = (0..len)
                .map(|i| b"the quick brown fox "[(i * 7 + i / 13) % 20])
                .collect();
            roundtrip(&words);
        }
    }

    #[test]
    fn compresses_repetitive_data() {
        let data = vec![b'a'; 10_000];
        let c = lzf_compress(&data, data.len() - 4).unwrap();
        assert!(c.len() < 200, "{}", c.len());
    }

    #[test]
    fn refuses_when_it_does_not_fit() {
        let mut rng = crate::rand::FastRng::new(1);
        let random: Vec<u8> = (0..1000).map(|_| rng.next_u64() as u8).collect();
        assert_eq!(lzf_compress(&random, random.len() - 4), None);
        assert_eq!(lzf_compress(b"", 100), None);
        assert_eq!(lzf_compress(b"abc", 3), None);
        assert!(lzf_compress(b"abc", 4).is_some());
    }

    #[test]
    fn decodes_hand_made_stream() {
        // "abc" literal, then a back reference of 7 (field 5) at distance 3
        // (offset field 2): an overlapping copy repeating "abc"; then an
        // extended reference (field 7 + 3 = 10 => 12 bytes) at distance 1
        // (offset field 0), repeating the last 'a'.
        let stream = [2, b'a', b'b', b'c', (5 << 5), 2, (7 << 5), 3, 0];
        let want = b"abcabcabcaaaaaaaaaaaaa";
        assert_eq!(lzf_decompress(&stream, want.len()).as_deref(), Some(&want[..]));
        // Wrong expected length, either way.
        assert_eq!(lzf_decompress(&stream, want.len() - 1), None);
        assert_eq!(lzf_decompress(&stream, want.len() + 1), None);
    }

    #[test]
    fn decodes_redis_dump_payload() {
        // DUMP of SET k <"abcdefghij" x 10> and SET k <"a" x 300> from
        // redis-server 7.0.15 hold these LZF bodies (after the 0xc3 marker and
        // the two lengths).
        let body = b"\x0aabcdefghija\xe0\x4e\x09\x01ij";
        let want = b"abcdefghij".repeat(10);
        assert_eq!(lzf_decompress(body, want.len()), Some(want));
        let body = b"\x01aa\xe0\xff\x00\xe0\x17\x00\x01aa";
        assert_eq!(lzf_decompress(body, 300), Some(vec![b'a'; 300]));
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(lzf_decompress(&[5, b'a'], 6), None); // truncated literal
        assert_eq!(lzf_decompress(&[0, b'a', 0x20], 4), None); // truncated reference
        assert_eq!(lzf_decompress(&[0, b'a', 0x20, 1], 4), None); // reaches before start
        assert_eq!(lzf_decompress(&[0xe0], 10), None); // truncated extended length
        assert_eq!(lzf_decompress(&[], 0), Some(vec![]));
    }
}
