//! The keyspace: databases, keys, values and their expiry. No I/O, no protocol.
//!
//! - [`bytes`]: [`bytes::SmallBytes`], byte strings stored inline when short.
//! - [`entry`]: [`entry::Entry`], a key, its value and TTL in one allocation.
//! - [`value`]: [`value::Value`], the value of a key, in compact encodings.
//! - [`db`]: [`db::Db`], one numbered database: one hash table per cluster hash slot,
//!   so no resize ever touches more than one slot's keys, slot-level counting and
//!   listing is direct, and SCAN walks slots in order.
//! - [`list`], [`hash`], [`set`], [`zset`], [`stream`]: collection values in compact encodings.
//!   The small encodings of hashes, sets and sorted sets each live in one exactly
//!   sized allocation (`thinbuf::ThinBuf`) held by the `Value` without a box.
//! - [`keyspace`]: [`keyspace::Keyspace`], all databases plus keyspace-wide stats.
//! - [`lazyfree`]: a background thread that drops big values off the engine thread.
//!
//! The engine thread owns all of this; nothing here is shared or locked.

pub mod bytes;
pub mod db;
pub mod entry;
pub mod hash;
pub mod keyspace;
pub mod lazyfree;
pub mod list;
pub mod set;
pub mod stream;
mod thinbuf;
pub mod value;
mod varint;
pub mod zset;

pub use bytes::SmallBytes;
pub use db::Db;
pub use entry::{Entry, EntryBox, NO_EXPIRE};
pub use keyspace::Keyspace;
pub use value::{StrRef, Value};

/// Number of cluster hash slots; every key belongs to exactly one.
pub const SLOTS: usize = 16384;
