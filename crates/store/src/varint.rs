//! LEB128 varints: the length prefix of the compact encodings (list nodes,
//! small hashes and sorted sets, stream nodes). One copy for all of them.

/// Bytes `v` takes as a varint.
#[inline]
pub fn varint_len(v: u64) -> usize {
    let mut v = v;
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Appends `v` as a varint.
#[inline]
pub fn put_varint(out: &mut Vec<u8>, v: u64) {
    let mut v = v;
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// `v` as a varint on the stack: the bytes and how many of them are used.
#[inline]
pub fn varint_bytes(v: u64) -> ([u8; 10], usize) {
    let (mut out, mut n, mut v) = ([0u8; 10], 0, v);
    while v >= 0x80 {
        out[n] = (v as u8 & 0x7f) | 0x80;
        v >>= 7;
        n += 1;
    }
    out[n] = v as u8;
    (out, n + 1)
}

/// Reads the varint at `*pos` and advances `*pos` past it.
#[inline]
pub fn get_varint(buf: &[u8], pos: &mut usize) -> u64 {
    let (mut v, mut shift) = (0u64, 0);
    loop {
        let b = buf[*pos];
        *pos += 1;
        v |= ((b & 0x7f) as u64) << shift;
        if b & 0x80 == 0 {
            return v;
        }
        shift += 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for v in [0u64, 1, 127, 128, 300, 16383, 16384, u32::MAX as u64, u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(b.len(), varint_len(v));
            let (arr, n) = varint_bytes(v);
            assert_eq!(&arr[..n], &b[..]);
            let mut pos = 0;
            assert_eq!(get_varint(&b, &mut pos), v);
            assert_eq!(pos, b.len());
        }
    }
}
