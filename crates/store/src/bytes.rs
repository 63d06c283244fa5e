//! Short byte strings without a heap allocation.

use std::fmt;
use std::ops::Deref;

/// Longest string kept inline.
pub const INLINE_CAP: usize = 22;

/// A byte string stored inline up to [`INLINE_CAP`] bytes, on the heap otherwise.
/// 24 bytes in size, the same as a `Vec<u8>` header.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum SmallBytes {
    Inline { len: u8, data: [u8; INLINE_CAP] },
    Heap(Box<[u8]>),
}

impl SmallBytes {
    pub fn new(b: &[u8]) -> Self {
        if b.len() <= INLINE_CAP {
            let mut data = [0u8; INLINE_CAP];
            data[..b.len()].copy_from_slice(b);
            SmallBytes::Inline {
                len: b.len() as u8,
                data,
            }
        } else {
            SmallBytes::Heap(b.into())
        }
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match self {
            SmallBytes::Inline { len, data } => &data[..*len as usize],
            SmallBytes::Heap(b) => b,
        }
    }

    /// Heap bytes owned beyond the struct itself.
    pub fn heap_size(&self) -> usize {
        match self {
            SmallBytes::Inline { .. } => 0,
            SmallBytes::Heap(b) => b.len(),
        }
    }
}

impl Deref for SmallBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl fmt::Debug for SmallBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_heap() {
        assert_eq!(std::mem::size_of::<SmallBytes>(), 24);
        let a = SmallBytes::new(b"key:000000000001");
        assert!(matches!(a, SmallBytes::Inline { .. }));
        assert_eq!(&*a, b"key:000000000001");
        let long = vec![7u8; 100];
        let b = SmallBytes::new(&long);
        assert!(matches!(b, SmallBytes::Heap(_)));
        assert_eq!(&*b, &long[..]);
        assert_eq!(&*SmallBytes::new(b""), b"");
    }
}
