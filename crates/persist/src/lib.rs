//! Persistence formats: RDB (version 10, what Redis 7.0 writes) and the
//! DUMP/RESTORE payload built on the same object encoding.
//!
//! - [`listpack`]: the listpack and intset byte layouts used inside RDB objects.
//! - [`object`]: one value to RDB object bytes ([`object::encode_object`]) and back
//!   ([`object::decode_object`]), for every type and encoding Redis 7.0 writes.
//! - [`dump`]: DUMP payloads (object + 2-byte RDB version + CRC64) and their checks.
//! - [`rdb`]: whole RDB files: header, AUX fields, SELECTDB/RESIZEDB, expiry and
//!   LRU/LFU opcodes, EOF and checksum.
//! - [`aof`]: Redis 7's multi-part AOF manifest and the RESP command log of
//!   its INCR (and AOF-format BASE) files.
//!
//! This crate does no I/O of its own beyond the `Write` it is handed and knows
//! nothing of clients or the protocol; the server decides when and where to save.
//! The formats were learned from public descriptions and checked against a real
//! Redis 7.0.15 (its DUMP output, `redis-check-rdb`, and loading each other's
//! files).

pub mod aof;
pub mod dump;
pub mod listpack;
pub mod object;
pub mod rdb;
pub mod stream;

/// The RDB version Redis 7.0 writes.
pub const RDB_VERSION: u16 = 10;

/// Why a payload or file could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

pub(crate) fn bad<T>(msg: impl Into<String>) -> Result<T, Error> {
    Err(Error(msg.into()))
}

/// Thresholds that decide the encodings of loaded values (from config), and how
/// objects are written.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub hash: shoal_store::hash::HashLimits,
    pub set: shoal_store::set::SetLimits,
    pub zset: shoal_store::zset::ZSetLimits,
    /// `list-max-listpack-size`.
    pub list_max_listpack_size: i64,
    pub stream: shoal_store::stream::NodeLimits,
    /// `rdbcompression`: LZF-compress strings when it saves space.
    pub compress: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            hash: shoal_store::hash::HashLimits {
                max_entries: 128,
                max_value: 64,
            },
            set: shoal_store::set::SetLimits {
                max_intset: 512,
                max_listpack: 128,
                max_value: 64,
            },
            zset: shoal_store::zset::ZSetLimits {
                max_listpack: 128,
                max_value: 64,
            },
            list_max_listpack_size: -2,
            stream: shoal_store::stream::NodeLimits::default(),
            compress: true,
        }
    }
}
