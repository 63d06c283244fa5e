//! Values and their encodings.
//!
//! A [`Value`] is 24 bytes. Strings that are canonical integers are kept as `i64`
//! (Redis's `int` encoding), strings of up to 22 bytes live inside the value itself,
//! longer ones in a growable heap buffer. Hashes, sets and sorted sets are held
//! directly (16 bytes each); lists and streams are boxed. The encoding Redis would report
//! (`OBJECT ENCODING`) is derived, not stored; see [`Value::encoding_name`].

use crate::bytes::INLINE_CAP;
use crate::hash::HashValue;
use crate::list::ListValue;
use crate::set::SetValue;
use crate::stream::StreamValue;
use crate::zset::ZSetValue;
use shoal_util::num::{format_i64, parse_i64};
use std::ops::Deref;

/// Redis stores strings up to this length as `embstr`.
pub const EMBSTR_MAX: usize = 44;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string that is the canonical text of an integer.
    Int(i64),
    /// A short string stored inline.
    Inline {
        len: u8,
        data: [u8; INLINE_CAP],
    },
    /// A longer string as written (SET, RESTORE, loading): exactly sized, one
    /// allocation, like Redis's embstr it is never edited in place.
    Str(Box<[u8]>),
    /// A longer string edited in place (APPEND, SETRANGE, SETBIT, PFADD): a
    /// growable buffer, so repeated appends stay amortized O(1).
    Raw(Box<Vec<u8>>),
    List(Box<ListValue>),
    /// Hashes, sets and sorted sets are 16 bytes and sit here unboxed: their
    /// small encodings are one allocation each (see `thinbuf`).
    Hash(HashValue),
    Set(SetValue),
    ZSet(ZSetValue),
    Stream(Box<StreamValue>),
}

/// Borrowed bytes of a string value; integers are formatted on the stack.
pub enum StrRef<'a> {
    Bytes(&'a [u8]),
    Int { buf: [u8; 20], len: u8 },
}

impl Deref for StrRef<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            StrRef::Bytes(b) => b,
            StrRef::Int { buf, len } => &buf[..*len as usize],
        }
    }
}

impl Value {
    /// A string value, choosing the most compact encoding.
    pub fn from_bytes(b: &[u8]) -> Value {
        if b.len() <= 20 {
            if let Some(n) = parse_i64(b) {
                return Value::Int(n);
            }
        }
        Value::from_bytes_no_int(b)
    }

    /// A string value that is never turned into an integer (Redis keeps strings
    /// produced by APPEND, SETRANGE, SETBIT and friends as raw bytes).
    pub fn from_bytes_no_int(b: &[u8]) -> Value {
        if b.len() <= INLINE_CAP {
            let mut data = [0u8; INLINE_CAP];
            data[..b.len()].copy_from_slice(b);
            Value::Inline {
                len: b.len() as u8,
                data,
            }
        } else {
            Value::Str(b.into())
        }
    }

    pub fn from_vec(v: Vec<u8>) -> Value {
        if v.len() <= INLINE_CAP {
            Value::from_bytes_no_int(&v)
        } else {
            Value::Str(v.into_boxed_slice())
        }
    }

    /// The Redis type name, as TYPE answers.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) | Value::Inline { .. } | Value::Str(_) | Value::Raw(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    pub fn is_string(&self) -> bool {
        matches!(
            self,
            Value::Int(_) | Value::Inline { .. } | Value::Str(_) | Value::Raw(_)
        )
    }

    /// The bytes of a string value (None for other types).
    #[inline]
    pub fn str_bytes(&self) -> Option<StrRef<'_>> {
        match self {
            Value::Int(n) => {
                let mut tmp = Vec::with_capacity(20);
                format_i64(*n, &mut tmp);
                let mut buf = [0u8; 20];
                buf[..tmp.len()].copy_from_slice(&tmp);
                Some(StrRef::Int {
                    buf,
                    len: tmp.len() as u8,
                })
            }
            Value::Inline { len, data } => Some(StrRef::Bytes(&data[..*len as usize])),
            Value::Str(b) => Some(StrRef::Bytes(b)),
            Value::Raw(v) => Some(StrRef::Bytes(v)),
            _ => None,
        }
    }

    /// Length of a string value in bytes.
    pub fn str_len(&self) -> usize {
        match self {
            Value::Int(n) => decimal_len(*n),
            Value::Inline { len, .. } => *len as usize,
            Value::Str(b) => b.len(),
            Value::Raw(v) => v.len(),
            _ => 0,
        }
    }

    /// Turns a string value into a growable buffer for in-place edits and returns it.
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if !matches!(self, Value::Raw(_)) {
            let bytes = match std::mem::replace(self, Value::Int(0)) {
                // The exact allocation becomes the buffer without a copy.
                Value::Str(b) => b.into_vec(),
                other => other.str_bytes().map(|b| b.to_vec()).unwrap_or_default(),
            };
            *self = Value::Raw(Box::new(bytes));
        }
        match self {
            Value::Raw(v) => v,
            _ => unreachable!(),
        }
    }

    /// Shrinks a raw string back to the inline form when it got short.
    pub fn compact(&mut self) {
        if let Value::Raw(v) = self {
            if v.len() <= INLINE_CAP {
                *self = Value::from_bytes_no_int(v);
            }
        }
    }

    /// The name `OBJECT ENCODING` reports. `raw_flag` is set on strings that Redis
    /// would have converted to `raw` by an in-place edit.
    pub fn encoding_name(&self, raw_flag: bool) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::List(l) => l.encoding_name(),
            Value::Hash(h) => h.encoding_name(),
            Value::Set(s) => s.encoding_name(),
            Value::ZSet(z) => z.encoding_name(),
            Value::Stream(_) => "stream",
            _ if raw_flag || self.str_len() > EMBSTR_MAX => "raw",
            _ => "embstr",
        }
    }

    /// Heap memory owned by the value beyond its 24 bytes.
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Int(_) | Value::Inline { .. } => 0,
            Value::Str(b) => b.len(),
            Value::Raw(v) => std::mem::size_of::<Vec<u8>>() + v.capacity(),
            Value::List(l) => l.heap_size(),
            Value::Hash(h) => h.heap_size(),
            Value::Set(s) => s.heap_size(),
            Value::ZSet(z) => z.heap_size(),
            Value::Stream(s) => s.heap_size(),
        }
    }

    /// Whether freeing this value could take long enough to do it off-thread.
    pub fn is_big(&self) -> bool {
        self.heap_size() > 64 * 1024
    }
}

fn decimal_len(n: i64) -> usize {
    let mut v = n.unsigned_abs();
    let mut len = if n < 0 { 2 } else { 1 };
    while v >= 10 {
        v /= 10;
        len += 1;
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_is_24_bytes() {
        assert_eq!(std::mem::size_of::<Value>(), 24);
        assert_eq!(std::mem::size_of::<HashValue>(), 16);
        assert_eq!(std::mem::size_of::<SetValue>(), 16);
        assert_eq!(std::mem::size_of::<ZSetValue>(), 16);
        assert_eq!(std::mem::size_of::<Option<Value>>(), 24);
    }

    #[test]
    fn encodings() {
        assert_eq!(Value::from_bytes(b"123"), Value::Int(123));
        assert!(matches!(Value::from_bytes(b"0123"), Value::Inline { .. }));
        assert_eq!(Value::from_bytes(b"-9223372036854775808"), Value::Int(i64::MIN));
        assert_eq!(Value::Int(-45).str_len(), 3);
        assert_eq!(&*Value::Int(-45).str_bytes().unwrap(), b"-45");
        let long = Value::from_bytes(&[b'x'; 45]);
        assert_eq!(long.encoding_name(false), "raw");
        assert_eq!(Value::from_bytes(&[b'x'; 44]).encoding_name(false), "embstr");
        assert_eq!(Value::from_bytes(b"abc").encoding_name(true), "raw");
    }

    #[test]
    fn make_raw_keeps_bytes() {
        let mut v = Value::Int(42);
        v.make_raw().extend_from_slice(b"x");
        assert_eq!(&*v.str_bytes().unwrap(), b"42x");
        v.compact();
        assert!(matches!(v, Value::Inline { .. }));
    }
}
