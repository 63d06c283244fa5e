//! Pure, I/O-free algorithms whose results must match Redis 7.0 byte for byte.
//!
//! Nothing here knows about keys, clients or the event loop; each module takes
//! bytes and returns bytes or numbers, and is tested against answers recorded
//! from a real redis-server 7.0.15.
//!
//! | module | what it owns |
//! |---|---|
//! | [`num`] | integer and double text formats: strict parsing (`string2ll`-style), reply formatting of doubles (`%.17g`), INCRBYFLOAT in C `long double` |
//! | [`glob`] | KEYS / SCAN MATCH / PSUBSCRIBE / CONFIG GET pattern matching |
//! | [`hll`] | HyperLogLog strings: sparse/dense encodings, PFADD/PFMERGE updates, the cardinality estimator |
//! | [`crc16`] | CRC16 (XMODEM) and cluster hash slots with `{hash tags}` |
//! | [`crc64`] | Redis's CRC-64 (Jones) for RDB files and DUMP payloads |
//! | [`geo`] | geohash scores and strings, Haversine distances, GEOSEARCH cell selection |
//! | [`lzf`] | LZF compression as used for RDB strings |
//! | [`bits`] | BITCOUNT, BITPOS, BITOP, BITFIELD, SETBIT/GETBIT semantics |
//! | [`lcs`] | the LCS command's dynamic programming and match order |
//! | [`rand`] | a small seeded PRNG for sampling |
//! | [`sha1`] | SHA-1 for script digests |
//! | [`sha256`] | SHA-256 for ACL password hashes |
//! | [`split`] | Redis's argument splitter (inline commands, config, AOF manifest, ACL rules) |
//!
//! The only C in the crate is `csrc/longdouble.c` (built by `build.rs`): Redis
//! does INCRBYFLOAT in 80-bit `long double` and parses doubles with `strtod`,
//! and neither can be reproduced exactly in Rust alone.

pub mod bits;
pub mod crc16;
pub mod crc64;
pub mod geo;
pub mod glob;
pub mod hll;
pub mod lcs;
pub mod lfu;
pub mod lzf;
pub mod num;
pub mod quote;
pub mod rand;
pub mod sha1;
pub mod sha256;
pub mod split;
