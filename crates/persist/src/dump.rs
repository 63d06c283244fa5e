//! DUMP / RESTORE payloads: the RDB object (type byte first), then the RDB
//! version as 2 bytes little endian, then the CRC64 of everything before it as
//! 8 bytes little endian.

use crate::object::{decode_object, object_bytes};
use crate::{Error, Options, RDB_VERSION};
use shoal_store::Value;
use shoal_util::crc64::crc64;

/// The DUMP payload of a value.
pub fn dump(v: &Value, opts: &Options) -> Vec<u8> {
    let mut out = object_bytes(v, opts);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Checks the footer; returns the object bytes. `None` means RESTORE must answer
/// "ERR DUMP payload version or checksum are wrong".
pub fn verify(payload: &[u8]) -> Option<&[u8]> {
    if payload.len() < 10 {
        return None;
    }
    let n = payload.len();
    let version = u16::from_le_bytes([payload[n - 10], payload[n - 9]]);
    if version > RDB_VERSION {
        return None;
    }
    let crc = u64::from_le_bytes(payload[n - 8..].try_into().unwrap());
    // Redis skips the check when the payload carries a zero checksum.
    if crc != 0 && crc64(0, &payload[..n - 8]) != crc {
        return None;
    }
    Some(&payload[..n - 10])
}

/// Why a RESTORE payload was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum RestoreError {
    /// Bad version or checksum.
    Footer,
    /// The object itself could not be decoded.
    Data(Error),
}

/// Verifies and decodes a payload.
pub fn restore(payload: &[u8], opts: &Options) -> Result<Value, RestoreError> {
    let obj = verify(payload).ok_or(RestoreError::Footer)?;
    decode_object(obj, opts).map_err(RestoreError::Data)
}

#[cfg(test)]
mod tests;
