//! DEBUG DIGEST and DEBUG DIGEST-VALUE: a SHA-1 based fingerprint of the
//! dataset that equals the one Redis 7.0 prints for the same logical data, so a
//! replica (or a shoal node next to a redis-server) can be proven equal.
//!
//! The scheme, built from two operations on a 20-byte accumulator:
//!
//! - *xor in* `data`: `acc ^= SHA1(data)`. Order does not matter, so it is used
//!   for unordered things (set members, hash fields, keys of a database).
//! - *mix in* `data`: `acc = SHA1(acc ^ SHA1(data))`. Order matters, so it is
//!   used for sequences (list items, stream entries, the parts of one element).
//!
//! A key's digest starts at zero; the key name is mixed in, then the type
//! number as 4 big-endian bytes (string 0, list 1, set 2, zset 3, hash 4,
//! stream 6), then the value:
//!
//! - string: its bytes (an integer-encoded string as its decimal text);
//! - list: every item mixed in, head to tail;
//! - set: every member xored in;
//! - hash: per field a fresh zero digest with the field then the value mixed
//!   in; that 20-byte element digest is then xored in (so its SHA-1 is);
//! - sorted set: per member a fresh zero digest with the member then the score
//!   (`printf("%.17g")` text, `inf`/`-inf`) mixed in, then xored in likewise;
//! - stream: per entry, in ID order, the ID as `<ms>.<seq>` (a dot, not the
//!   dash of replies) mixed in, then each field and value in turn. Only the
//!   entries count: consumer groups, the last ID and the other metadata are
//!   not part of the digest.
//!
//! A key with a TTL (whatever its value) gets the 10 bytes `!!expire!!` xored
//! in last. The dataset digest starts at zero; for every non-empty database, in
//! index order, the index (4 big-endian bytes) is mixed in and then every
//! 20-byte key digest is xored in (its SHA-1, as with every xor in). Nothing
//! depends on encodings or on iteration order, and keys that are logically
//! expired but not yet removed still count (DEBUG looks at the table as it is,
//! like Redis).
//!
//! DEBUG DIGEST-VALUE gives each named key's digest without the key name (just
//! type, value and TTL marker), or 40 zeros for a missing key.

use shoal_store::{Db, Entry, Value};
use shoal_util::sha1::Sha1;

/// A 20-byte digest or accumulator.
pub type Digest = [u8; 20];

/// Type numbers as Redis numbers its object types.
const TYPE_STRING: u32 = 0;
const TYPE_LIST: u32 = 1;
const TYPE_SET: u32 = 2;
const TYPE_ZSET: u32 = 3;
const TYPE_HASH: u32 = 4;
const TYPE_STREAM: u32 = 6;

/// Stream entries read per batch, so a huge stream is not copied out at once.
const STREAM_BATCH: usize = 256;

fn sha1(data: &[u8]) -> Digest {
    let mut h = Sha1::new();
    h.update(data);
    h.finish()
}

/// `acc ^= SHA1(data)`.
fn xor_in(acc: &mut Digest, data: &[u8]) {
    for (a, b) in acc.iter_mut().zip(sha1(data)) {
        *a ^= b;
    }
}

/// `acc = SHA1(acc ^ SHA1(data))`.
fn mix_in(acc: &mut Digest, data: &[u8]) {
    xor_in(acc, data);
    *acc = sha1(acc);
}

/// The digest of one unordered element made of ordered parts (a hash field
/// and its value, a sorted set member and its score).
fn pair_digest(first: &[u8], second: &[u8]) -> Digest {
    let mut d = [0u8; 20];
    mix_in(&mut d, first);
    mix_in(&mut d, second);
    d
}

/// Adds an entry's type, value and TTL marker to `acc` (the key name is not
/// included: the caller mixes it in first when it wants it).
pub fn mix_value(acc: &mut Digest, entry: &Entry) {
    let value = &entry.value;
    let type_num = match value {
        Value::Int(_) | Value::Inline { .. } | Value::Str(_) | Value::Raw(_) => TYPE_STRING,
        Value::List(_) => TYPE_LIST,
        Value::Set(_) => TYPE_SET,
        Value::ZSet(_) => TYPE_ZSET,
        Value::Hash(_) => TYPE_HASH,
        Value::Stream(_) => TYPE_STREAM,
    };
    mix_in(acc, &type_num.to_be_bytes());
    match value {
        Value::Int(_) | Value::Inline { .. } | Value::Str(_) | Value::Raw(_) => {
            if let Some(bytes) = value.str_bytes() {
                mix_in(acc, &bytes);
            }
        }
        Value::List(list) => {
            for item in list.iter() {
                mix_in(acc, item);
            }
        }
        Value::Set(set) => {
            for member in set.iter() {
                xor_in(acc, &member);
            }
        }
        Value::ZSet(zset) => {
            let mut score_text = Vec::with_capacity(32);
            for (member, score) in zset.iter() {
                score_text.clear();
                shoal_util::num::format_double_into(score, &mut score_text);
                xor_in(acc, &pair_digest(member, &score_text));
            }
        }
        Value::Hash(hash) => {
            for (field, val) in hash.iter() {
                xor_in(acc, &pair_digest(field, val));
            }
        }
        Value::Stream(stream) => {
            let log = &stream.log;
            let mut from = shoal_store::stream::StreamId::MIN;
            let mut id_text = Vec::with_capacity(41);
            loop {
                let batch = log.range(from, shoal_store::stream::StreamId::MAX, STREAM_BATCH, false);
                let Some(&(last, _)) = batch.last() else {
                    break;
                };
                for (id, fields) in &batch {
                    id_text.clear();
                    shoal_util::num::format_u64(id.ms, &mut id_text);
                    id_text.push(b'.');
                    shoal_util::num::format_u64(id.seq, &mut id_text);
                    mix_in(acc, &id_text);
                    for part in fields {
                        mix_in(acc, part);
                    }
                }
                match last.incr() {
                    Some(next) if batch.len() == STREAM_BATCH => from = next,
                    _ => break,
                }
            }
        }
    }
    if entry.has_expire() {
        xor_in(acc, b"!!expire!!");
    }
}

/// One key's contribution to the dataset digest: key name, then value.
pub fn key_digest(entry: &Entry) -> Digest {
    let mut d = [0u8; 20];
    mix_in(&mut d, entry.key());
    mix_value(&mut d, entry);
    d
}

/// DEBUG DIGEST-VALUE's digest of one value (zeros for a missing key).
pub fn value_digest(entry: Option<&Entry>) -> Digest {
    let mut d = [0u8; 20];
    if let Some(e) = entry {
        mix_value(&mut d, e);
    }
    d
}

/// DEBUG DIGEST's digest of every database (zeros when all are empty).
pub fn dataset_digest(dbs: &[Db]) -> Digest {
    let mut total = [0u8; 20];
    for (index, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        mix_in(&mut total, &(index as u32).to_be_bytes());
        for entry in db.iter() {
            xor_in(&mut total, &key_digest(entry));
        }
    }
    total
}

/// Lowercase hex, as DEBUG prints digests.
pub fn to_hex(d: &Digest) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(40);
    for &b in d {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// Finds a key whether or not its TTL has passed, without side effects: DEBUG
/// reads the table as it is (an expired key that is still stored counts).
pub fn find_raw<'a>(db: &'a Db, key: &[u8]) -> Option<&'a Entry> {
    // No stored expiry time is <= i64::MIN (that value means "no TTL"), so
    // this lookup never treats an entry as expired.
    db.peek(key, i64::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shoal_store::db::NO_EXPIRE;

    #[test]
    fn empty_dataset_is_zero() {
        let dbs = vec![Db::new(), Db::new()];
        assert_eq!(to_hex(&dataset_digest(&dbs)), "0".repeat(40));
        assert_eq!(to_hex(&value_digest(None)), "0".repeat(40));
    }

    #[test]
    fn mix_is_ordered_xor_is_not() {
        let mut a = [0u8; 20];
        mix_in(&mut a, b"x");
        mix_in(&mut a, b"y");
        let mut b = [0u8; 20];
        mix_in(&mut b, b"y");
        mix_in(&mut b, b"x");
        assert_ne!(a, b);
        let mut c = [0u8; 20];
        xor_in(&mut c, b"x");
        xor_in(&mut c, b"y");
        let mut d = [0u8; 20];
        xor_in(&mut d, b"y");
        xor_in(&mut d, b"x");
        assert_eq!(c, d);
    }

    #[test]
    fn int_string_digests_as_text() {
        let mut db = Db::new();
        db.insert_entry(b"a", Value::Int(12345), NO_EXPIRE);
        db.insert_entry(b"b", Value::from_bytes_no_int(b"12345"), NO_EXPIRE);
        let a = value_digest(find_raw(&db, b"a"));
        let b = value_digest(find_raw(&db, b"b"));
        assert_eq!(a, b);
        assert_ne!(a, [0u8; 20]);
    }

    #[test]
    fn ttl_changes_the_digest() {
        let mut db = Db::new();
        db.insert_entry(b"a", Value::from_bytes(b"v"), NO_EXPIRE);
        db.insert_entry(b"b", Value::from_bytes(b"v"), 4_000_000_000_000);
        let a = value_digest(find_raw(&db, b"a"));
        let mut b = value_digest(find_raw(&db, b"b"));
        assert_ne!(a, b);
        xor_in(&mut b, b"!!expire!!");
        assert_eq!(a, b);
    }

    #[test]
    fn hex_is_lowercase() {
        let mut d = [0u8; 20];
        d[0] = 0xAB;
        d[19] = 0x0F;
        assert_eq!(to_hex(&d), format!("ab{}0f", "0".repeat(36)));
    }
}
