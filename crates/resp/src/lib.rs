//! RESP, the Redis serialization protocol, without any I/O.
//!
//! - [`request`]: the server side reader. A [`request::QueryBuffer`] owns the bytes a
//!   client sent and yields complete commands (multibulk or inline) with Redis 7.0's
//!   protocol-error texts and limits. Parsing state survives partial reads, so a huge
//!   argument or a command with a million arguments is parsed in linear time.
//! - [`reply`]: the server side writer. [`reply::Reply`] appends RESP2 or RESP3
//!   frames to an output buffer, choosing the encoding a RESP2 client expects for
//!   RESP3-only types (maps, sets, doubles, booleans, nulls).
//! - [`frame`]: the client side reader, a complete RESP3 value parser for tools,
//!   tests and (later) replication links.

pub mod frame;
pub mod reply;
pub mod request;

pub use frame::Frame;
pub use reply::{Protocol, Reply};
pub use request::{Limits, ProtocolError, QueryBuffer};
