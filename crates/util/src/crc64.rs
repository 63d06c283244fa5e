//! Redis's CRC-64: the Jones polynomial (0xad93d23594c935a9), reflected input
//! and output, no final xor. It guards RDB files and DUMP payloads.
//!
//! `crc64(0, b"123456789") == 0xe9c6d914c4b8d9ca`. Computed slice-by-16 from
//! tables built at compile time; [`crc64`] can be chained over pieces.

/// The Jones polynomial bit-reversed, for the reflected algorithm.
const POLY_REFLECTED: u64 = 0x95ac_9329_ac4b_c9b5;

const fn make_tables() -> [[u64; 256]; 16] {
    let mut t = [[0u64; 256]; 16];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY_REFLECTED
            } else {
                crc >> 1
            };
            bit += 1;
        }
        t[0][i] = crc;
        i += 1;
    }
    let mut k = 1;
    while k < 16 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

/// `TABLES[k][b]`: the CRC of byte `b` followed by `k` zero bytes.
static TABLES: [[u64; 256]; 16] = make_tables();

/// Continues the CRC-64 `crc` over `data` (start with 0).
pub fn crc64(crc: u64, data: &[u8]) -> u64 {
    let t = &TABLES;
    let mut crc = crc;
    let mut chunks = data.chunks_exact(16);
    for c in &mut chunks {
        let a = crc ^ u64::from_le_bytes(c[..8].try_into().unwrap());
        let b = u64::from_le_bytes(c[8..].try_into().unwrap());
        crc = t[15][(a & 0xff) as usize]
            ^ t[14][((a >> 8) & 0xff) as usize]
            ^ t[13][((a >> 16) & 0xff) as usize]
            ^ t[12][((a >> 24) & 0xff) as usize]
            ^ t[11][((a >> 32) & 0xff) as usize]
            ^ t[10][((a >> 40) & 0xff) as usize]
            ^ t[9][((a >> 48) & 0xff) as usize]
            ^ t[8][(a >> 56) as usize]
            ^ t[7][(b & 0xff) as usize]
            ^ t[6][((b >> 8) & 0xff) as usize]
            ^ t[5][((b >> 16) & 0xff) as usize]
            ^ t[4][((b >> 24) & 0xff) as usize]
            ^ t[3][((b >> 32) & 0xff) as usize]
            ^ t[2][((b >> 40) & 0xff) as usize]
            ^ t[1][((b >> 48) & 0xff) as usize]
            ^ t[0][(b >> 56) as usize];
    }
    for &b in chunks.remainder() {
        crc = t[0][((crc ^ b as u64) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-at-a-time reference.
    fn slow(mut crc: u64, data: &[u8]) -> u64 {
        for &b in data {
            crc ^= b as u64;
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ POLY_REFLECTED
                } else {
                    crc >> 1
                };
            }
        }
        crc
    }

    #[test]
    fn check_values() {
        assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        assert_eq!(crc64(0, b""), 0);
        let lorem = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.";
        assert_eq!(crc64(0, lorem), slow(0, lorem));
    }

    #[test]
    fn matches_bitwise_and_chains() {
        let mut rng = crate::rand::FastRng::new(3);
        let data: Vec<u8> = (0..5000).map(|_| rng.next_u64() as u8).collect();
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 100, 4999, 5000] {
            assert_eq!(crc64(0, &data[..len]), slow(0, &data[..len]), "len {len}");
        }
        for split in [0, 1, 3, 8, 13, 2500, 5000] {
            let (a, b) = data.split_at(split);
            assert_eq!(crc64(crc64(0, a), b), crc64(0, &data));
        }
    }

    #[test]
    fn dump_payload_crc() {
        // DUMP of the string "bar" from redis-server 7.0.15: type 0, len 3,
        // "bar", RDB version 10 (LE), then crc64 of all that (LE).
        let payload = b"\x00\x03bar\x0a\x00";
        let crc = crc64(0, payload);
        assert_eq!(crc.to_le_bytes(), *b"\xe6\xbe\x49\x60\xee\x66\xfd\x17");
    }
}
